//! Reading and writing the non-standard `NaN`, `Infinity` and `-Infinity` tokens.
//!
//! Python's `json` module (and so kwcoco) writes non-finite floats as bare
//! `NaN` / `Infinity` / `-Infinity` tokens, which strict JSON parsers reject.
//! Before parsing, a byte pre-pass ([`NonFiniteReader`], [`replace_non_finite`])
//! rewrites each such token found *outside strings* into a sentinel string
//! (`"\u0000NaN"`, `"\u0000Infinity"`, `"\u0000-Infinity"`).
//!
//! So that no genuine string can pass for a sentinel, the pre-pass also
//! *escapes* every genuine string that begins with a NUL character (written
//! `"\u0000…` in JSON): it gets one more leading NUL (`"\u0000\u0000…`). In
//! pre-passed text a string that begins with NUL is therefore either exactly a
//! sentinel (a bare token of the input) or an escaped genuine string, never
//! ambiguous:
//!
//! - typed float fields read the sentinels as `f64` values ([`sentinel_to_f64`])
//!   and reject every other string, an escaped `"\u0000NaN"` included;
//! - typed string fields reject the sentinels (a bare `NaN` where a string is
//!   expected is a type error) and undo the escape ([`decode_str`]);
//! - untyped values ([`serde_json::Value`] in a record's `extra`, raw geometry
//!   text) keep both forms as they are; [`decode_str`] reads such a string;
//! - every writer of this workspace turns the sentinels back into the bare
//!   tokens and undoes the escape ([`restore_tokens`], [`sentinel_token`],
//!   [`unescape`]), so a file round-trips unchanged.
//!
//! The pre-pass must run exactly once on any text (running it on its own output
//! would escape the sentinels into genuine strings).
//!
//! Line numbers of parse errors are unaffected by the rewrite; columns on a line
//! that holds such a token may be shifted by the added characters.

use std::io::{self, Read};

/// The sentinel string value standing for `NaN` (a NUL byte then the token).
pub const NAN_SENTINEL: &str = "\u{0}NaN";
/// The sentinel string value standing for `Infinity`.
pub const INF_SENTINEL: &str = "\u{0}Infinity";
/// The sentinel string value standing for `-Infinity`.
pub const NEG_INF_SENTINEL: &str = "\u{0}-Infinity";

/// JSON text of the sentinels as written by the pre-pass.
const NAN_JSON: &[u8] = b"\"\\u0000NaN\"";
const INF_JSON: &[u8] = b"\"\\u0000Infinity\"";
const NEG_INF_JSON: &[u8] = b"\"\\u0000-Infinity\"";
/// JSON text of a NUL character, the first character of every reserved string.
const NUL_JSON: &[u8] = b"\\u0000";

/// A string read from pre-passed text (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decoded<'a> {
    /// A genuine string (the escape undone).
    Str(&'a str),
    /// A bare non-finite token of the input.
    NonFinite(f64),
}

/// Reads a string of pre-passed text: a sentinel is the non-finite number it
/// stands for, any other string is genuine (with the escape of a leading NUL
/// undone, see [`unescape`]).
///
/// ```
/// use coco_geometry::nonfinite::{decode_str, replace_non_finite, Decoded};
/// let text = replace_non_finite(r#"[NaN, "\u0000NaN", "x"]"#);
/// let v: Vec<String> = serde_json::from_str(&text).unwrap();
/// assert!(matches!(decode_str(&v[0]), Decoded::NonFinite(x) if x.is_nan()));
/// assert_eq!(decode_str(&v[1]), Decoded::Str("\u{0}NaN")); // a genuine string stays one
/// assert_eq!(decode_str(&v[2]), Decoded::Str("x"));
/// ```
pub fn decode_str(s: &str) -> Decoded<'_> {
    match sentinel_to_f64(s) {
        Some(x) => Decoded::NonFinite(x),
        None => Decoded::Str(unescape(s)),
    }
}

/// Undoes the pre-pass escape of a genuine string that begins with NUL
/// (`"\0\0…"` → `"\0…"`); other strings are returned as they are.
pub fn unescape(s: &str) -> &str {
    if s.starts_with("\u{0}\u{0}") {
        &s[1..]
    } else {
        s
    }
}

/// The untyped-value form of a genuine string: one more leading NUL when it
/// begins with NUL (the inverse of [`unescape`]), so that it cannot pass for a
/// sentinel once placed in a [`serde_json::Value`] of pre-passed data.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with('\u{0}') {
        std::borrow::Cow::Owned(format!("\u{0}{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The `f64` a sentinel string stands for, if it is one.
///
/// ```
/// use coco_geometry::nonfinite::{sentinel_to_f64, NAN_SENTINEL};
/// assert!(sentinel_to_f64(NAN_SENTINEL).unwrap().is_nan());
/// assert_eq!(sentinel_to_f64("NaN"), None);
/// ```
pub fn sentinel_to_f64(s: &str) -> Option<f64> {
    match s {
        NAN_SENTINEL => Some(f64::NAN),
        INF_SENTINEL => Some(f64::INFINITY),
        NEG_INF_SENTINEL => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// The sentinel string of a non-finite value (`NaN` for any finite input,
/// which callers never pass).
///
/// ```
/// use coco_geometry::nonfinite::{sentinel, INF_SENTINEL};
/// assert_eq!(sentinel(f64::INFINITY), INF_SENTINEL);
/// ```
pub fn sentinel(x: f64) -> &'static str {
    if x == f64::INFINITY {
        INF_SENTINEL
    } else if x == f64::NEG_INFINITY {
        NEG_INF_SENTINEL
    } else {
        NAN_SENTINEL
    }
}

/// The bare token for a sentinel string (`NaN`, `Infinity`, `-Infinity`), if it is one.
pub fn sentinel_token(s: &str) -> Option<&'static str> {
    match s {
        NAN_SENTINEL => Some("NaN"),
        INF_SENTINEL => Some("Infinity"),
        NEG_INF_SENTINEL => Some("-Infinity"),
        _ => None,
    }
}

/// Turns pre-passed JSON text back into the input form (used when writing raw
/// JSON fragments such as `segmentation`): the sentinel strings become bare
/// tokens again and escaped strings lose their extra leading NUL. Strings are
/// tracked, so a `\"\u0000NaN` inside a longer string is left alone.
pub fn restore_tokens(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("\"\\u0000") {
        return std::borrow::Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            let step = if c == b'\\' { 2 } else { 1 };
            let end = (i + step).min(b.len());
            out.extend_from_slice(&b[i..end]);
            in_str = c != b'"';
            i = end;
            continue;
        }
        if c == b'"' {
            let rest = &b[i..];
            let token = [
                (NAN_JSON, "NaN"),
                (INF_JSON, "Infinity"),
                (NEG_INF_JSON, "-Infinity"),
            ]
            .into_iter()
            .find(|(json, _)| rest.starts_with(json));
            if let Some((json, tok)) = token {
                out.extend_from_slice(tok.as_bytes());
                i += json.len();
                continue;
            }
            in_str = true;
            out.push(c);
            i += 1;
            if rest[1..].starts_with(NUL_JSON) && rest[1 + NUL_JSON.len()..].starts_with(NUL_JSON) {
                // an escaped genuine string: drop the extra NUL
                i += NUL_JSON.len();
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    // only ASCII sequences were removed or replaced by ASCII
    match String::from_utf8(out) {
        Ok(s) => std::borrow::Cow::Owned(s),
        Err(_) => std::borrow::Cow::Borrowed(text),
    }
}

/// Scanner state carried across chunk boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside any string.
    Normal,
    /// Inside a string.
    InString,
    /// Just after the opening quote of a string, with this many bytes of a
    /// leading `\u0000` matched (a genuine string beginning with NUL is escaped).
    StrStart(usize),
    /// Inside a string, just after a backslash.
    Escape,
    /// A `-` outside a string was held back (it may start `-Infinity`).
    Minus,
    /// Matching a token: which token, whether a `-` precedes it, bytes matched so far.
    Token {
        nan: bool,
        neg: bool,
        matched: usize,
    },
}

/// The byte rewriter shared by the streaming and the in-memory pre-pass.
#[derive(Debug)]
struct Rewriter {
    state: State,
}

impl Rewriter {
    fn new() -> Self {
        Rewriter {
            state: State::Normal,
        }
    }

    fn token_text(nan: bool) -> &'static [u8] {
        if nan { b"NaN" } else { b"Infinity" }
    }

    /// Rewrites `input` into `out`. Returns `true` when some token was replaced.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        // Fast path for the usual chunk: no `N`, `I` or backslash at all, so no
        // token and no escaped quote: copy it and track the string state by the
        // parity of its quotes (a trailing `-` goes through the slow path, as it
        // may start a `-Infinity` in the next chunk).
        if matches!(self.state, State::Normal | State::InString) {
            // (a trailing `"` too: the string it opens may begin with `\u0000`
            // in the next chunk)
            let cut = if matches!(input.last(), Some(b'-' | b'"')) {
                input.len() - 1
            } else {
                input.len()
            };
            let body = &input[..cut];
            if !body.contains(&b'N') && !body.contains(&b'I') && !body.contains(&b'\\') {
                out.extend_from_slice(body);
                let quotes = body.iter().filter(|&&b| b == b'"').count();
                if quotes % 2 == 1 {
                    self.state = if self.state == State::Normal {
                        State::InString
                    } else {
                        State::Normal
                    };
                }
                return self.feed_slow(&input[cut..], out);
            }
        }
        self.feed_slow(input, out)
    }

    /// The byte-by-byte rewrite.
    fn feed_slow(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        let mut replaced = false;
        let mut i = 0;
        let n = input.len();
        while i < n {
            match self.state {
                State::Normal => {
                    // fast copy of the run of ordinary bytes
                    let start = i;
                    while i < n {
                        let b = input[i];
                        if b == b'"' || b == b'N' || b == b'I' || b == b'-' {
                            break;
                        }
                        i += 1;
                    }
                    out.extend_from_slice(&input[start..i]);
                    if i == n {
                        break;
                    }
                    let b = input[i];
                    i += 1;
                    match b {
                        b'"' => {
                            out.push(b);
                            // most strings do not begin with an escape: skip
                            // the check of a leading `\u0000` for them
                            self.state = match input.get(i) {
                                Some(&c) if c != b'\\' => State::InString,
                                _ => State::StrStart(0),
                            };
                        }
                        b'-' => self.state = State::Minus,
                        b'N' => {
                            self.state = State::Token {
                                nan: true,
                                neg: false,
                                matched: 1,
                            }
                        }
                        _ => {
                            self.state = State::Token {
                                nan: false,
                                neg: false,
                                matched: 1,
                            }
                        }
                    }
                }
                State::InString => {
                    let start = i;
                    while i < n {
                        let b = input[i];
                        if b == b'"' || b == b'\\' {
                            break;
                        }
                        i += 1;
                    }
                    out.extend_from_slice(&input[start..i]);
                    if i == n {
                        break;
                    }
                    let b = input[i];
                    out.push(b);
                    i += 1;
                    self.state = if b == b'"' {
                        State::Normal
                    } else {
                        State::Escape
                    };
                }
                State::StrStart(matched) => {
                    if input[i] == NUL_JSON[matched] {
                        i += 1;
                        if matched + 1 == NUL_JSON.len() {
                            out.extend_from_slice(NUL_JSON);
                            out.extend_from_slice(NUL_JSON);
                            replaced = true;
                            self.state = State::InString;
                        } else {
                            self.state = State::StrStart(matched + 1);
                        }
                    } else {
                        // not a leading NUL: emit what was held back and go on
                        // with the current byte (the escaped byte after a lone
                        // `\`, else an ordinary string byte)
                        out.extend_from_slice(&NUL_JSON[..matched]);
                        self.state = if matched == 1 {
                            State::Escape
                        } else {
                            State::InString
                        };
                    }
                }
                State::Escape => {
                    out.push(input[i]);
                    i += 1;
                    self.state = State::InString;
                }
                State::Minus => {
                    if input[i] == b'I' {
                        i += 1;
                        self.state = State::Token {
                            nan: false,
                            neg: true,
                            matched: 1,
                        };
                    } else {
                        out.push(b'-');
                        self.state = State::Normal;
                    }
                }
                State::Token { nan, neg, matched } => {
                    let text = Self::token_text(nan);
                    if input[i] == text[matched] {
                        i += 1;
                        if matched + 1 == text.len() {
                            out.extend_from_slice(match (nan, neg) {
                                (true, false) => NAN_JSON,
                                (false, false) => INF_JSON,
                                (false, true) => NEG_INF_JSON,
                                // `-NaN` is not produced by Python; keep it as written
                                (true, true) => b"-NaN",
                            });
                            replaced = true;
                            self.state = State::Normal;
                        } else {
                            self.state = State::Token {
                                nan,
                                neg,
                                matched: matched + 1,
                            };
                        }
                    } else {
                        self.flush_partial(out);
                    }
                }
            }
        }
        replaced
    }

    /// Emits the bytes of an unfinished token unchanged (the JSON parser then
    /// reports the error at its position).
    fn flush_partial(&mut self, out: &mut Vec<u8>) {
        if let State::StrStart(matched) = self.state {
            out.extend_from_slice(&NUL_JSON[..matched]);
            self.state = State::InString;
            return;
        }
        match self.state {
            State::Minus => out.push(b'-'),
            State::Token { nan, neg, matched } => {
                if neg {
                    out.push(b'-');
                }
                out.extend_from_slice(&Self::token_text(nan)[..matched]);
            }
            _ => {}
        }
        if matches!(self.state, State::Minus | State::Token { .. }) {
            self.state = State::Normal;
        }
    }
}

/// Rewrites the non-finite tokens of in-memory JSON text (see the module docs).
///
/// Returns the input unchanged (borrowed) when it holds no such token.
///
/// ```
/// use coco_geometry::nonfinite::replace_non_finite;
/// let text = r#"{"a": NaN, "b": "NaN", "c": [-Infinity, -1]}"#;
/// let out = replace_non_finite(text);
/// let v: serde_json::Value = serde_json::from_str(&out).unwrap();
/// assert_eq!(v["b"], "NaN"); // strings are untouched
/// assert_eq!(v["c"][1], -1);
/// ```
pub fn replace_non_finite(text: &str) -> std::borrow::Cow<'_, str> {
    // Quick reject: the tokens need an `N` or `I` byte somewhere, an escape a
    // string beginning with `\u0000`.
    if !text.bytes().any(|b| b == b'N' || b == b'I') && !text.contains("\"\\u0000") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut rw = Rewriter::new();
    let mut out = Vec::with_capacity(text.len() + 64);
    let replaced = rw.feed(text.as_bytes(), &mut out);
    rw.flush_partial(&mut out);
    if !replaced {
        return std::borrow::Cow::Borrowed(text);
    }
    // The rewrite only replaces ASCII tokens outside strings by ASCII text, so
    // the output is valid UTF-8 whenever the input was.
    match String::from_utf8(out) {
        Ok(s) => std::borrow::Cow::Owned(s),
        Err(_) => std::borrow::Cow::Borrowed(text),
    }
}

/// A [`Read`] adapter applying the non-finite token rewrite on the fly.
///
/// Wrap it in a [`std::io::BufReader`] before handing it to `serde_json`.
#[derive(Debug)]
pub struct NonFiniteReader<R> {
    inner: R,
    rw: Rewriter,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> NonFiniteReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        NonFiniteReader {
            inner,
            rw: Rewriter::new(),
            inbuf: vec![0; 256 * 1024],
            out: Vec::with_capacity(256 * 1024 + 1024),
            pos: 0,
            eof: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.eof {
            let n = loop {
                match self.inner.read(&mut self.inbuf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                self.eof = true;
                self.rw.flush_partial(&mut self.out);
            } else {
                self.rw.feed(&self.inbuf[..n], &mut self.out);
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for NonFiniteReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        let avail = &self.out[self.pos..];
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(text: &str, chunk: usize) -> String {
        struct Chunky<'a>(&'a [u8], usize);
        impl Read for Chunky<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = NonFiniteReader::new(Chunky(text.as_bytes(), chunk));
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn rewrites_tokens_outside_strings_only() {
        let text = r#"{"NaN": NaN, "x": "a\"NaN", "y": [Infinity, -Infinity, -2, "-Infinity"]}"#;
        let out = replace_non_finite(text);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["NaN"], NAN_SENTINEL);
        assert_eq!(v["x"], "a\"NaN");
        assert_eq!(v["y"][0], INF_SENTINEL);
        assert_eq!(v["y"][1], NEG_INF_SENTINEL);
        assert_eq!(v["y"][2], -2);
        assert_eq!(v["y"][3], "-Infinity");
        assert_eq!(restore_tokens(&out), text);
        for chunk in [1, 2, 3, 5, 7, 1000] {
            assert_eq!(stream(text, chunk), out, "chunk {chunk}");
        }
        // chunks taking the fast path (no N/I/backslash) must keep the string state
        let text = r#"["a-", "b", -1, "c\"", -Infinity, "x", NaN]"#;
        let out = replace_non_finite(text);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[1], "b");
        assert_eq!(v[4], NEG_INF_SENTINEL);
        assert_eq!(v[6], NAN_SENTINEL);
        for chunk in 1..text.len() {
            assert_eq!(stream(text, chunk), out, "chunk {chunk}");
        }
    }

    #[test]
    fn partial_tokens_are_kept_for_the_parser_to_reject() {
        for text in ["[Na]", "[Inf", "[-I, 1]", "[-"] {
            assert_eq!(replace_non_finite(text), text);
            assert_eq!(stream(text, 1), text);
        }
    }

    #[test]
    fn genuine_strings_beginning_with_nul_are_escaped() {
        let text =
            r#"{"\u0000NaN": ["\u0000NaN", NaN, "\u0000", "a\u0000NaN", "\u0001", "\\u0000NaN"]}"#;
        let out = replace_non_finite(text);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let key = v.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(decode_str(&key), Decoded::Str("\u{0}NaN"));
        let items: Vec<&str> = v[&key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(decode_str(items[0]), Decoded::Str("\u{0}NaN"));
        assert_eq!(sentinel_to_f64(items[0]), None);
        assert!(matches!(decode_str(items[1]), Decoded::NonFinite(x) if x.is_nan()));
        assert_eq!(decode_str(items[2]), Decoded::Str("\u{0}"));
        assert_eq!(items[3], "a\u{0}NaN");
        assert_eq!(items[4], "\u{1}");
        assert_eq!(items[5], "\\u0000NaN");
        assert_eq!(restore_tokens(&out), text);
        for chunk in 1..text.len() {
            assert_eq!(stream(text, chunk), out, "chunk {chunk}");
        }
        // no token, only an escape: still rewritten
        assert_eq!(replace_non_finite(r#"["\u0000x"]"#), r#"["\u0000\u0000x"]"#);
        assert_eq!(escape("\u{0}x"), "\u{0}\u{0}x");
        assert_eq!(unescape(&escape("\u{0}x")), "\u{0}x");
        // an unterminated leading escape is kept for the parser to reject
        for text in [r#"["\u00"#, r#"["\"#, r#"["\u0000"#] {
            assert!(serde_json::from_str::<serde_json::Value>(&replace_non_finite(text)).is_err());
            assert_eq!(stream(text, 1), replace_non_finite(text));
        }
    }

    #[test]
    fn geometry_text_reads_tokens_as_numbers_and_strings_as_strings() {
        use crate::{Keypoints, Segmentation, TransformSpec};
        assert!(Segmentation::from_json_str("[[NaN, 0, 4, 0, 4, 4]]").is_ok());
        assert!(Segmentation::from_json_str(r#"[["\u0000NaN", 0, 4, 0, 4, 4]]"#).is_err());
        assert!(Keypoints::from_json_str("[1, Infinity, 2]").is_ok());
        assert!(Keypoints::from_json_str(r#"[1, "\u0000Infinity", 2]"#).is_err());
        let spec = TransformSpec::from_json_str(r#"{"type": "affine", "scale": "\u0000NaN"}"#);
        assert!(spec.is_err());
        // pre-passed text (a loaded record's raw field) keeps its sentinels
        let pre = replace_non_finite("[[NaN, 0, 4, 0, 4, 4]]");
        assert!(Segmentation::from_prepassed_json_str(&pre).is_ok());
    }

    #[test]
    fn restore_tokens_tracks_strings() {
        // an escaped quote followed by sentinel-like text inside a string is not a token
        let text = r#"["a\"\u0000NaN", "b\"\u0000\u0000"]"#;
        assert_eq!(restore_tokens(text), text);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// One element: a genuine string (any characters, often a leading NUL
        /// and sentinel-like text) or a bare token.
        fn element() -> impl Strategy<Value = Result<String, &'static str>> {
            prop_oneof![
                "\\PC{0,6}".prop_map(Ok),
                "(\u{0}){1,3}(NaN|Infinity|-Infinity|\"|\\\\|[a-z]{0,2})".prop_map(Ok),
                prop_oneof![Just("NaN"), Just("Infinity"), Just("-Infinity")].prop_map(Err),
            ]
        }

        proptest! {
            /// After the pre-pass (in memory, or streamed in any chunking) every
            /// genuine string reads back as itself and every token as its number,
            /// and restoring gives back the input text.
            #[test]
            fn strings_stay_strings_and_tokens_are_numbers(
                items in prop::collection::vec(element(), 0..8),
                chunk in 1usize..17,
                as_keys in any::<bool>(),
            ) {
                let json = |e: &Result<String, &str>| match e {
                    Ok(s) => serde_json::to_string(s).unwrap(),
                    Err(tok) => (*tok).to_owned(),
                };
                let text = if as_keys {
                    // genuine strings as keys, every element as a value
                    let pairs: Vec<String> = items.iter().enumerate()
                        .map(|(i, e)| format!("{}: {}", serde_json::to_string(&format!("\u{0}{i}")).unwrap(), json(e)))
                        .collect();
                    format!("{{{}}}", pairs.join(", "))
                } else {
                    format!("[{}]", items.iter().map(json).collect::<Vec<_>>().join(", "))
                };
                let out = replace_non_finite(&text).into_owned();
                prop_assert_eq!(&stream(&text, chunk), &out);
                prop_assert_eq!(restore_tokens(&out), text.as_str());
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                let values: Vec<&serde_json::Value> = match &v {
                    serde_json::Value::Array(a) => a.iter().collect(),
                    serde_json::Value::Object(m) => {
                        for (i, k) in m.keys().enumerate() {
                            prop_assert_eq!(decode_str(k), Decoded::Str(&format!("\u{0}{i}")));
                        }
                        m.values().collect()
                    }
                    _ => unreachable!(),
                };
                prop_assert_eq!(values.len(), items.len());
                for (got, want) in values.iter().zip(&items) {
                    let got = decode_str(got.as_str().unwrap());
                    match want {
                        Ok(s) => prop_assert_eq!(got, Decoded::Str(s)),
                        Err(tok) => {
                            let Decoded::NonFinite(x) = got else {
                                return Err(TestCaseError::fail(format!("{tok} read as {got:?}")));
                            };
                            prop_assert_eq!(format!("{x}").replace("inf", "Infinity"), *tok);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn sentinels_map_to_floats() {
        assert_eq!(sentinel_to_f64(INF_SENTINEL), Some(f64::INFINITY));
        assert_eq!(sentinel_to_f64(NEG_INF_SENTINEL), Some(f64::NEG_INFINITY));
        assert_eq!(sentinel_token(NEG_INF_SENTINEL), Some("-Infinity"));
        assert_eq!(sentinel_to_f64("x"), None);
    }
}
