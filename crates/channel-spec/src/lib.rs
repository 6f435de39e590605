//! # channel-spec
//!
//! kwcoco channel specifications (kwcoco 0.9.1 / delayed_image
//! `channel_spec.py`: `FusedChannelSpec` and `ChannelSpec`). A standalone L0
//! crate: the one channel-code grammar of the workspace, used by the data
//! model (re-exported as `coco_model::channels`) and by the pixel readers
//! (`frame_backends::Channels::from_code`).
//!
//! A channel code names the bands of an image:
//! - `|` joins channels that are stored / processed together ("early fused"),
//!   in order: `r|g|b`;
//! - `,` separates independent streams ("late fused"): `rgb,disparity`;
//! - `name:N` is the `N` numbered channels `name.0 … name.N-1`;
//!   `name.a:b` is `name.a … name.b-1` (`name:a:b` too, and an optional
//!   third `:step`), like Python slices; the end must be given;
//! - `rgb`, `rgba`, `dxdy`, `fxfy` are aliases of `r|g|b`, `r|g|b|a`,
//!   `dx|dy`, `fx|fy`.
//!
//! Normalizing expands every code into atomic channel names. The special
//! code `<all>` of a sampling target is handled by the caller (it means
//! "every channel the image has") and is rejected here.
//!
//! ```
//! use channel_spec::{ChannelSpec, FusedChannelSpec};
//! let spec: ChannelSpec = "b1|b2|b3,m.0:4|x1|x2,x.3|x.4|x.5".parse().unwrap();
//! assert_eq!(spec.numel(), 12);
//! let fused = spec.fuse();
//! assert_eq!(fused.concise().to_string(), "b1|b2|b3|m:4|x1|x2|x.3:6");
//! assert_eq!(FusedChannelSpec::parse("rgb").unwrap().to_names(), ["r", "g", "b"]);
//! ```

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

/// The most channels one code may expand to (guards `name:1000000000`).
pub const MAX_CHANNELS_PER_CODE: usize = 1 << 20;

/// Errors of malformed channel codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// `a||b`, a trailing `|`, …
    #[error("channel spec {spec:?}: empty channel name at position {position}")]
    EmptyName {
        /// The whole fused spec.
        spec: String,
        /// 0-based index of the empty code.
        position: usize,
    },
    /// `a,,b`, a trailing `,`, …
    #[error("channel spec {spec:?}: empty stream at position {position}")]
    EmptyStream {
        /// The whole spec.
        spec: String,
        /// 0-based index of the empty stream.
        position: usize,
    },
    /// A malformed `name:N` / `name.a:b` code.
    #[error("channel code {code:?}: {reason}")]
    BadSlice {
        /// The code.
        code: String,
        /// What is wrong.
        reason: String,
    },
    /// A code that expands to more than [`MAX_CHANNELS_PER_CODE`] channels.
    #[error("channel code {code:?} expands to {count} channels (limit {MAX_CHANNELS_PER_CODE})")]
    TooMany {
        /// The code.
        code: String,
        /// How many channels it names.
        count: u128,
    },
    /// `<all>` (or another `<...>` placeholder) given where a concrete spec is needed.
    #[error("channel spec {0:?} is a placeholder; resolve it against the image's channels first")]
    Placeholder(String),
}

fn alias(code: &str) -> Option<&'static [&'static str]> {
    match code {
        "rgb" => Some(&["r", "g", "b"]),
        "rgba" => Some(&["r", "g", "b", "a"]),
        "dxdy" => Some(&["dx", "dy"]),
        "fxfy" => Some(&["fx", "fy"]),
        _ => None,
    }
}

/// A numbered slice `root.start … root.stop-1` (with `step`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slice<'a> {
    root: &'a str,
    start: i64,
    stop: i64,
    step: i64,
}

impl Slice<'_> {
    fn len(&self) -> u128 {
        // Python's len(range(start, stop, step))
        let (a, b, s) = (self.start as i128, self.stop as i128, self.step as i128);
        let n = if s > 0 {
            if b > a { (b - a + s - 1) / s } else { 0 }
        } else if a > b {
            (a - b + (-s) - 1) / (-s)
        } else {
            0
        };
        n as u128
    }
}

/// Port of delayed_image `_parse_concise_slice_syntax` (only called when the
/// code contains `:`).
fn parse_slice(code: &str) -> Result<Slice<'_>, ChannelError> {
    let bad = |reason: &str| ChannelError::BadSlice {
        code: code.to_string(),
        reason: reason.to_string(),
    };
    let (root, suffix) = if let Some((root, suffix)) = code.split_once('.') {
        if !suffix.contains(':') {
            return Err(bad("a slice after '.' needs ':' (e.g. name.0:4)"));
        }
        (root, suffix)
    } else {
        code.split_once(':').ok_or_else(|| bad("no ':'"))?
    };
    let args: Vec<&str> = suffix.split(':').collect();
    let int = |s: &str, what: &str| -> Result<Option<i64>, ChannelError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<i64>()
            .map(Some)
            .map_err(|_| bad(&format!("{what} {s:?} is not an integer")))
    };
    let (start, stop, step) = match args.as_slice() {
        [stop] => (Some(0), int(stop, "stop")?, Some(1)),
        [start, stop] => (int(start, "start")?, int(stop, "stop")?, Some(1)),
        [start, stop, step] => (int(start, "start")?, int(stop, "stop")?, int(step, "step")?),
        _ => return Err(bad("too many ':'")),
    };
    let stop = stop.ok_or_else(|| bad("the end of the slice must be given"))?;
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(bad("the step must not be 0"));
    }
    if root.is_empty() {
        return Err(bad("empty channel name before the slice"));
    }
    if root.contains('.') || root.contains(':') {
        return Err(bad("invalid slice syntax"));
    }
    let s = Slice {
        root,
        start: start.unwrap_or(0),
        stop,
        step,
    };
    let count = s.len();
    if count > MAX_CHANNELS_PER_CODE as u128 {
        return Err(ChannelError::TooMany {
            code: code.to_string(),
            count,
        });
    }
    Ok(s)
}

/// Number of atomic channels of one (validated) code.
fn code_size(code: &str) -> usize {
    if let Some(a) = alias(code) {
        a.len()
    } else if code.contains(':') {
        parse_slice(code).map_or(0, |s| s.len() as usize)
    } else {
        1
    }
}

fn expand_code(code: &str, out: &mut Vec<String>) {
    if let Some(a) = alias(code) {
        out.extend(a.iter().map(|s| s.to_string()));
    } else if code.contains(':') {
        if let Ok(s) = parse_slice(code) {
            let mut i = s.start;
            while (s.step > 0 && i < s.stop) || (s.step < 0 && i > s.stop) {
                out.push(format!("{}.{}", s.root, i));
                match i.checked_add(s.step) {
                    Some(next) => i = next,
                    None => break,
                }
            }
        }
    } else {
        out.push(code.to_string());
    }
}

/// One early-fused stream: an ordered list of channel codes (`r|g|b`).
///
/// The codes are kept as written; [`FusedChannelSpec::normalize`] expands
/// them into one atomic name per channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FusedChannelSpec {
    codes: Vec<String>,
    normalized: bool,
}

impl FusedChannelSpec {
    /// Parse `a|b|c` (no `,`). The empty string is the empty spec.
    pub fn parse(spec: &str) -> Result<Self, ChannelError> {
        if spec.is_empty() {
            return Ok(FusedChannelSpec::default());
        }
        if spec.starts_with('<') && spec.ends_with('>') {
            return Err(ChannelError::Placeholder(spec.to_string()));
        }
        let mut codes = Vec::new();
        let mut normalized = true;
        for (position, code) in spec.split('|').enumerate() {
            if code.is_empty() {
                return Err(ChannelError::EmptyName {
                    spec: spec.to_string(),
                    position,
                });
            }
            if code.contains(',') {
                return Err(ChannelError::BadSlice {
                    code: code.to_string(),
                    reason: "',' separates streams; use ChannelSpec for several streams".into(),
                });
            }
            if code.contains(':') {
                parse_slice(code)?;
                normalized = false;
            } else if alias(code).is_some() {
                normalized = false;
            }
            codes.push(code.to_string());
        }
        Ok(FusedChannelSpec { codes, normalized })
    }

    /// From atomic channel names (taken as they are).
    pub fn from_names<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        let codes: Vec<String> = names.into_iter().map(Into::into).collect();
        let normalized = codes.iter().all(|c| !c.contains(':') && alias(c).is_none());
        FusedChannelSpec { codes, normalized }
    }

    /// kwcoco's generic names for `n` unnamed channels: `u0|u1|…`.
    pub fn from_count(n: usize) -> Self {
        FusedChannelSpec::from_names((0..n).map(|i| format!("u{i}")))
    }

    /// The codes as written.
    pub fn codes(&self) -> &[String] {
        &self.codes
    }

    /// The spec text: the codes joined by `|`.
    pub fn spec(&self) -> String {
        self.codes.join("|")
    }

    /// No channels.
    pub fn is_empty(&self) -> bool {
        self.numel() == 0
    }

    /// Expand aliases and slices into one atomic name per channel.
    pub fn normalize(&self) -> FusedChannelSpec {
        if self.normalized {
            return self.clone();
        }
        FusedChannelSpec {
            codes: self.to_names(),
            normalized: true,
        }
    }

    /// The atomic channel names, in order.
    pub fn to_names(&self) -> Vec<String> {
        if self.normalized {
            return self.codes.clone();
        }
        let mut out = Vec::with_capacity(self.numel());
        for c in &self.codes {
            expand_code(c, &mut out);
        }
        out
    }

    /// Number of channels of each code.
    pub fn sizes(&self) -> Vec<usize> {
        self.codes.iter().map(|c| code_size(c)).collect()
    }

    /// Total number of channels.
    pub fn numel(&self) -> usize {
        if self.normalized {
            self.codes.len()
        } else {
            self.codes.iter().map(|c| code_size(c)).sum()
        }
    }

    /// Whether an atomic channel is in this spec.
    pub fn contains(&self, name: &str) -> bool {
        self.to_names().iter().any(|n| n == name)
    }

    /// Position of an atomic channel in the normalized list.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.to_names().iter().position(|n| n == name)
    }

    /// Shorten runs of numbered channels back into slice codes
    /// (delayed_image `FusedChannelSpec.concise`): `a.0|a.1|a.2` → `a:3`,
    /// `a.8|a.9` → `a.8:10`, aliases expanded.
    pub fn concise(&self) -> FusedChannelSpec {
        fn fmt_run(root: &str, start: i64, stop: i64) -> String {
            if start + 1 == stop {
                format!("{root}.{start}")
            } else if start == 0 {
                format!("{root}:{stop}")
            } else {
                format!("{root}.{start}:{stop}")
            }
        }
        let names = self.to_names();
        let mut out: Vec<String> = Vec::with_capacity(names.len());
        let mut run: Option<(&str, i64, i64)> = None;
        for part in &names {
            let numbered = part.split_once('.').and_then(|(root, idx)| {
                let ok = !root.is_empty()
                    && !root.contains(':')
                    && !idx.is_empty()
                    && idx.bytes().all(|b| b.is_ascii_digit())
                    && (idx.len() == 1 || !idx.starts_with('0'));
                if ok {
                    idx.parse::<i64>().ok().map(|i| (root, i))
                } else {
                    None
                }
            });
            match (numbered, run) {
                (Some((root, i)), Some((r, start, stop))) if r == root && i == stop => {
                    run = Some((r, start, stop + 1));
                }
                (Some((root, i)), _) => {
                    if let Some((r, a, b)) = run.take() {
                        out.push(fmt_run(r, a, b));
                    }
                    run = Some((root, i, i + 1));
                }
                (None, _) => {
                    if let Some((r, a, b)) = run.take() {
                        out.push(fmt_run(r, a, b));
                    }
                    out.push(part.clone());
                }
            }
        }
        if let Some((r, a, b)) = run {
            out.push(fmt_run(r, a, b));
        }
        let normalized = out.iter().all(|c| !c.contains(':') && alias(c).is_none());
        FusedChannelSpec {
            codes: out,
            normalized,
        }
    }

    /// Channels of `self` that are also in `other`, in `self`'s order.
    pub fn intersection(&self, other: &FusedChannelSpec) -> FusedChannelSpec {
        let keep: HashSet<String> = other.to_names().into_iter().collect();
        FusedChannelSpec::from_names(self.to_names().into_iter().filter(|n| keep.contains(n)))
    }

    /// Channels of `self` not in `other` (duplicates removed), in order.
    pub fn difference(&self, other: &FusedChannelSpec) -> FusedChannelSpec {
        let drop: HashSet<String> = other.to_names().into_iter().collect();
        let mut seen = HashSet::new();
        FusedChannelSpec::from_names(
            self.to_names()
                .into_iter()
                .filter(|n| !drop.contains(n) && seen.insert(n.clone())),
        )
    }

    /// Ordered-set union: `self`'s channels, then `other`'s new ones.
    pub fn union(&self, other: &FusedChannelSpec) -> FusedChannelSpec {
        let mut seen = HashSet::new();
        FusedChannelSpec::from_names(
            self.to_names()
                .into_iter()
                .chain(other.to_names())
                .filter(|n| seen.insert(n.clone())),
        )
    }

    /// Every channel of `self` is in `other`.
    pub fn is_subset(&self, other: &FusedChannelSpec) -> bool {
        let o: HashSet<String> = other.to_names().into_iter().collect();
        self.to_names().iter().all(|n| o.contains(n))
    }

    /// Every channel of `other` is in `self`.
    pub fn is_superset(&self, other: &FusedChannelSpec) -> bool {
        other.is_subset(self)
    }
}

impl fmt::Display for FusedChannelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

impl FromStr for FusedChannelSpec {
    type Err = ChannelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FusedChannelSpec::parse(s)
    }
}

/// A full channel spec: one or more streams separated by `,`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ChannelSpec {
    streams: Vec<FusedChannelSpec>,
}

impl ChannelSpec {
    /// Parse `a|b,c|d`. The empty string is the empty spec; `<all>` is a
    /// [`ChannelError::Placeholder`].
    pub fn parse(spec: &str) -> Result<Self, ChannelError> {
        if spec.is_empty() {
            return Ok(ChannelSpec::default());
        }
        if spec.starts_with('<') && spec.ends_with('>') {
            return Err(ChannelError::Placeholder(spec.to_string()));
        }
        let mut streams = Vec::new();
        for (position, s) in spec.split(',').enumerate() {
            if s.is_empty() {
                return Err(ChannelError::EmptyStream {
                    spec: spec.to_string(),
                    position,
                });
            }
            streams.push(FusedChannelSpec::parse(s)?);
        }
        Ok(ChannelSpec { streams })
    }

    /// From streams (empty streams are dropped).
    pub fn from_streams(streams: impl IntoIterator<Item = FusedChannelSpec>) -> Self {
        ChannelSpec {
            streams: streams
                .into_iter()
                .filter(|s| !s.codes.is_empty())
                .collect(),
        }
    }

    /// The streams.
    pub fn streams(&self) -> &[FusedChannelSpec] {
        &self.streams
    }

    /// The spec text: streams joined by `,`.
    pub fn spec(&self) -> String {
        self.streams
            .iter()
            .map(FusedChannelSpec::spec)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// All streams early-fused into one, in order.
    pub fn fuse(&self) -> FusedChannelSpec {
        match self.streams.as_slice() {
            [one] => one.clone(),
            many => {
                let codes: Vec<String> =
                    many.iter().flat_map(|s| s.codes.iter().cloned()).collect();
                let normalized = many.iter().all(|s| s.normalized);
                FusedChannelSpec { codes, normalized }
            }
        }
    }

    /// Every stream normalized.
    pub fn normalize(&self) -> ChannelSpec {
        ChannelSpec::from_streams(self.streams.iter().map(FusedChannelSpec::normalize))
    }

    /// Every stream made concise.
    pub fn concise(&self) -> ChannelSpec {
        ChannelSpec::from_streams(self.streams.iter().map(FusedChannelSpec::concise))
    }

    /// Total number of channels over all streams.
    pub fn numel(&self) -> usize {
        self.streams.iter().map(FusedChannelSpec::numel).sum()
    }

    /// Channels per stream.
    pub fn sizes(&self) -> Vec<usize> {
        self.streams.iter().map(FusedChannelSpec::numel).collect()
    }

    /// No channels.
    pub fn is_empty(&self) -> bool {
        self.numel() == 0
    }

    /// Whether an atomic channel appears in any stream.
    pub fn contains(&self, name: &str) -> bool {
        self.streams.iter().any(|s| s.contains(name))
    }

    /// The set of atomic channel names (sorted, unique).
    pub fn unique(&self) -> Vec<String> {
        let mut v: Vec<String> = self.streams.iter().flat_map(|s| s.to_names()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Each stream intersected with all of `other`'s channels; streams that
    /// become empty are dropped (kwcoco semantics, not symmetric).
    pub fn intersection(&self, other: &ChannelSpec) -> ChannelSpec {
        let o = other.fuse();
        ChannelSpec::from_streams(self.streams.iter().map(|s| s.intersection(&o)))
    }

    /// Each stream minus all of `other`'s channels; empty streams dropped.
    pub fn difference(&self, other: &ChannelSpec) -> ChannelSpec {
        let o = other.fuse();
        ChannelSpec::from_streams(self.streams.iter().map(|s| s.difference(&o)))
    }

    /// `other`'s streams appended after `self`'s (normalized; duplicates kept,
    /// as kwcoco).
    pub fn union(&self, other: &ChannelSpec) -> ChannelSpec {
        ChannelSpec::from_streams(
            self.streams
                .iter()
                .chain(other.streams.iter())
                .map(FusedChannelSpec::normalize),
        )
    }
}

impl fmt::Display for ChannelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

impl FromStr for ChannelSpec {
    type Err = ChannelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelSpec::parse(s)
    }
}

impl From<FusedChannelSpec> for ChannelSpec {
    fn from(f: FusedChannelSpec) -> Self {
        ChannelSpec::from_streams([f])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> FusedChannelSpec {
        FusedChannelSpec::parse(s).unwrap()
    }

    #[test]
    fn slice_syntax_matches_reference() {
        // delayed_image _parse_concise_slice_syntax doctest values
        let cases = [
            ("B:10", ("B", 0, 10, 1)),
            ("B.0:10:3", ("B", 0, 10, 3)),
            ("B.:10:3", ("B", 0, 10, 3)),
            ("B::10:3", ("B", 0, 10, 3)),
            ("B:10:3", ("B", 10, 3, 1)),
            ("B:3:10:3", ("B", 3, 10, 3)),
            ("B.:10", ("B", 0, 10, 1)),
            ("B.:3:", ("B", 0, 3, 1)),
            ("B.:3:2", ("B", 0, 3, 2)),
            ("B::2:3", ("B", 0, 2, 3)),
        ];
        for (code, (root, start, stop, step)) in cases {
            let s = parse_slice(code).unwrap();
            assert_eq!(
                (s.root, s.start, s.stop, s.step),
                (root, start, stop, step),
                "{code}"
            );
        }
        for bad in [
            "B:",
            "B:0.10",
            "B.::",
            "B.1:x",
            "B:1:2:3:4",
            ":3",
            "B:1:5:0",
        ] {
            assert!(FusedChannelSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn normalize_and_sizes() {
        let s = f("b1|Z:3|b2|b3|rgb");
        assert_eq!(s.sizes(), vec![1, 3, 1, 1, 3]);
        assert_eq!(s.numel(), 9);
        assert_eq!(s.normalize().spec(), "b1|Z.0|Z.1|Z.2|b2|b3|r|g|b");
        assert_eq!(
            f("B:1:11").normalize().spec(),
            "B.1|B.2|B.3|B.4|B.5|B.6|B.7|B.8|B.9|B.10"
        );
        assert_eq!(f("a:0").numel(), 0);
        assert_eq!(f("a.0").numel(), 1);
        assert_eq!(f("B.0:10:3").to_names(), ["B.0", "B.3", "B.6", "B.9"]);
        assert_eq!(f("B.5:0:-2").to_names(), ["B.5", "B.3", "B.1"]);
        // no overflow at the ends of i64
        assert_eq!(
            f("a.9223372036854775806:9223372036854775807:5")
                .to_names()
                .len(),
            1
        );
        assert_eq!(
            f("a.-9223372036854775807:-9223372036854775808:-5").numel(),
            1
        );
    }

    #[test]
    fn concise_matches_reference() {
        let s = f("b|a|a.0|a.1|a.2|a.5|c|a.8|a.9|b.0:3|c.0");
        let short = s.concise();
        assert_eq!(short.spec(), "b|a|a:3|a.5|c|a.8:10|b:3|c.0");
        assert_eq!(
            short.normalize().spec(),
            "b|a|a.0|a.1|a.2|a.5|c|a.8|a.9|b.0|b.1|b.2|c.0"
        );
        assert_eq!(short.normalize().concise(), short);
        let c = ChannelSpec::parse("b1|b2,b3|rgb|B.0,B.1|B.2").unwrap();
        assert_eq!(c.concise().spec(), "b1|b2,b3|r|g|b|B.0,B.1:3");
    }

    #[test]
    fn set_operations_match_reference() {
        let s = f("rgb|disparity|flowx|flowy");
        assert_eq!(s.intersection(&f("r|b|XX")), f("r|b"));
        assert_eq!(s.union(&f("r|b|XX")), f("r|g|b|disparity|flowx|flowy|XX"));
        assert_eq!(f("a.0:3").difference(&f("a.0")).numel(), 2);
        assert!(f("r|g").is_subset(&s) && s.is_superset(&f("flowx")));

        let c = ChannelSpec::parse("rgb|disparity,flowx|r|flowy").unwrap();
        assert_eq!(
            c.difference(&"rgb".parse().unwrap()).spec(),
            "disparity,flowx|flowy"
        );
        assert_eq!(
            c.difference(&"flowx".parse().unwrap()).spec(),
            "r|g|b|disparity,r|flowy"
        );
        let c2 = ChannelSpec::parse("r|g|b|disparity,flowx|r|flowy").unwrap();
        let i = c2.intersection(&"r|g|b".parse().unwrap());
        assert_eq!((i.spec().as_str(), i.numel()), ("r|g|b,r", 4));
        let u = c.union(&"rgb".parse().unwrap());
        assert_eq!(
            (u.spec().as_str(), u.numel()),
            ("r|g|b|disparity,flowx|r|flowy,r|g|b", 10)
        );
    }

    #[test]
    fn streams_and_errors() {
        let c = ChannelSpec::parse("b1|b2,b3|rgb,B:3").unwrap();
        assert_eq!(c.sizes(), vec![2, 4, 3]);
        assert_eq!(c.normalize().spec(), "b1|b2,b3|r|g|b,B.0|B.1|B.2");
        assert_eq!(c.fuse().spec(), "b1|b2|b3|rgb|B:3");
        assert!(c.contains("B.2") && !c.contains("B.3"));
        assert_eq!(ChannelSpec::parse("").unwrap().numel(), 0);
        assert!(matches!(
            ChannelSpec::parse("a,,b"),
            Err(ChannelError::EmptyStream { position: 1, .. })
        ));
        assert!(matches!(
            ChannelSpec::parse("a||b"),
            Err(ChannelError::EmptyName { position: 1, .. })
        ));
        assert!(matches!(
            ChannelSpec::parse("<all>"),
            Err(ChannelError::Placeholder(_))
        ));
        assert!(matches!(
            ChannelSpec::parse("x:99999999999"),
            Err(ChannelError::TooMany { .. })
        ));
        let e = ChannelSpec::parse("r|B:x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "channel code \"B:x\": stop \"x\" is not an integer"
        );
        assert_eq!(FusedChannelSpec::from_count(3).spec(), "u0|u1|u2");
        assert_eq!(f("r|g|b").index_of("b"), Some(2));
    }
}
