//! Dataset keys: `shapes8`, `vidshapes2-frames5-msi`, `big2-gsize8192-annots500`, …
//!
//! Grammar (tokens separated by `-`, parsed strictly: an unknown or repeated
//! token is an error that lists what is accepted):
//!
//! ```text
//! key        = shapes | vidshapes | big
//! shapes     = "shapes" [N]    *("-" ("gsize" SIZE | "seed" K))
//! vidshapes  = "vidshapes" [N] *("-" vidtoken)
//! vidtoken   = "frames" F | "tracks" T | "gsize" SIZE | "speed" FLOAT | "msi" | "aux"
//!            | "multisensor" | "randgsize" | "timestamps" | "seed" K
//! big        = "big" [N]       *("-" ("gsize" SIZE | "annots" K | "seed" K))
//! SIZE       = S | W "x" H
//! ```
//!
//! Defaults follow kwcoco 0.9.1 where it has one: `shapes` = 5 images of 600²,
//! `vidshapes` = 1 video, 2 frames, 2 tracks, 600², speed 0.01; `big` = 1 image of
//! 4096² with 1000 annotations.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Largest accepted image side, in pixels.
pub const MAX_SIDE: u32 = 65_536;
/// Largest accepted number of images, videos, frames or tracks.
pub const MAX_COUNT: u32 = 100_000;
/// Largest accepted number of annotations per `big` image.
pub const MAX_ANNOTS: u32 = 1_000_000;
/// Largest image (in pixels) of the generators that render whole images in
/// memory (`shapes`, `vidshapes`, with `randgsize`'s 4/3 growth); `big` renders
/// in strips and takes any `gsize` up to [`MAX_SIDE`].
pub const MAX_IN_MEMORY_PIXELS: u64 = 1 << 26;

fn check_in_memory(key: &str, w: u32, h: u32, growth: f64) -> Result<()> {
    let px = (f64::from(w) * growth).ceil() * (f64::from(h) * growth).ceil();
    if px > MAX_IN_MEMORY_PIXELS as f64 {
        return Err(Error::key(
            key,
            format!(
                "images of {w}x{h} are too large for an in-memory generator (at most {MAX_IN_MEMORY_PIXELS} pixels); use `big{{N}}-gsize{{S}}` for large images"
            ),
        ));
    }
    Ok(())
}

/// A parsed dataset key.
///
/// ```
/// use toydata::DatasetKey;
/// let key: DatasetKey = "vidshapes2-tracks3-frames5-msi".parse().unwrap();
/// assert_eq!(key.to_string(), "vidshapes2-frames5-tracks3-msi");
/// assert!("vidshapes2-bogus".parse::<DatasetKey>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum DatasetKey {
    /// Loose images with non-overlapping shapes (`shapes{N}`).
    Shapes(ShapesSpec),
    /// Videos with moving tracks (`vidshapes{N}-…`).
    VidShapes(VidShapesSpec),
    /// Large textured images with many small annotations (`big{N}-gsize{S}`).
    Big(BigSpec),
}

/// Parameters of `shapes{N}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapesSpec {
    /// Number of images.
    pub num_images: u32,
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// `seed{K}` token, if given.
    pub seed: Option<u64>,
}

/// Extra channels of a `vidshapes` dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtraChannels {
    /// Only the main RGB image.
    None,
    /// `msi`: no main image; bands B1, B8, B8a, B10, B11 as uint16 TIFF assets.
    Msi,
    /// `aux`: the main RGB image plus `disparity` and `flowx|flowy` assets.
    Aux,
}

/// Parameters of `vidshapes{N}-…`.
#[derive(Clone, Debug, PartialEq)]
pub struct VidShapesSpec {
    /// Number of videos.
    pub num_videos: u32,
    /// Frames per video.
    pub num_frames: u32,
    /// Tracks per video.
    pub num_tracks: u32,
    /// Video (and, without `randgsize`, image) width.
    pub width: u32,
    /// Video (and, without `randgsize`, image) height.
    pub height: u32,
    /// Maximum speed of a track, in video widths per frame.
    pub speed: f64,
    /// `msi` or `aux`.
    pub extra: ExtraChannels,
    /// `multisensor`: each frame comes from one of several sensors.
    pub multisensor: bool,
    /// `randgsize`: each frame has its own size, with `warp_img_to_vid`.
    pub random_size: bool,
    /// `timestamps`: images carry an ISO 8601 `timestamp`.
    pub timestamps: bool,
    /// `seed{K}` token, if given.
    pub seed: Option<u64>,
}

/// Parameters of `big{N}-gsize{S}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BigSpec {
    /// Number of images.
    pub num_images: u32,
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Annotations per image (`annots{K}`).
    pub annots_per_image: u32,
    /// `seed{K}` token, if given.
    pub seed: Option<u64>,
}

impl DatasetKey {
    /// Parse a key (see the module docs for the grammar).
    pub fn parse(key: &str) -> Result<Self> {
        let mut parts = key.split('-');
        let head = parts.next().unwrap_or_default();
        let tokens: Vec<&str> = parts.collect();
        let (family, count) = split_word_number(head);
        let count = |default: u32| -> Result<u32> {
            match count {
                None => Ok(default),
                Some(digits) => parse_count(key, head, digits, 1, MAX_COUNT),
            }
        };
        match family {
            "shapes" => {
                let mut spec = ShapesSpec {
                    num_images: count(5)?,
                    width: 600,
                    height: 600,
                    seed: None,
                };
                let mut seen = Seen::new(key);
                for tok in tokens {
                    let (word, value) = split_word_number(tok);
                    seen.once(word, tok)?;
                    match (word, value) {
                        ("gsize", Some(v)) => (spec.width, spec.height) = parse_size(key, tok, v)?,
                        ("seed", Some(v)) => spec.seed = Some(parse_u64(key, tok, v)?),
                        _ => return Err(unknown(key, tok, SHAPES_TOKENS)),
                    }
                }
                check_in_memory(key, spec.width, spec.height, 1.0)?;
                Ok(DatasetKey::Shapes(spec))
            }
            "vidshapes" => {
                let mut spec = VidShapesSpec {
                    num_videos: count(1)?,
                    num_frames: 2,
                    num_tracks: 2,
                    width: 600,
                    height: 600,
                    speed: 0.01,
                    extra: ExtraChannels::None,
                    multisensor: false,
                    random_size: false,
                    timestamps: false,
                    seed: None,
                };
                let mut seen = Seen::new(key);
                for tok in tokens {
                    let (word, value) = split_word_number(tok);
                    seen.once(word, tok)?;
                    match (word, value) {
                        ("frames", Some(v)) => {
                            spec.num_frames = parse_count(key, tok, v, 1, MAX_COUNT)?
                        }
                        ("tracks", Some(v)) => {
                            spec.num_tracks = parse_count(key, tok, v, 0, MAX_COUNT)?
                        }
                        ("gsize", Some(v)) => (spec.width, spec.height) = parse_size(key, tok, v)?,
                        ("speed", Some(v)) => spec.speed = parse_speed(key, tok, v)?,
                        ("seed", Some(v)) => spec.seed = Some(parse_u64(key, tok, v)?),
                        ("msi", None) | ("aux", None) => {
                            if spec.extra != ExtraChannels::None {
                                return Err(Error::key(
                                    key,
                                    "`msi` and `aux` cannot be combined (msi has no main image)",
                                ));
                            }
                            spec.extra = if word == "msi" {
                                ExtraChannels::Msi
                            } else {
                                ExtraChannels::Aux
                            };
                        }
                        ("multisensor", None) => spec.multisensor = true,
                        ("randgsize", None) => spec.random_size = true,
                        ("timestamps", None) => spec.timestamps = true,
                        _ => return Err(unknown(key, tok, VIDSHAPES_TOKENS)),
                    }
                }
                if spec.multisensor && spec.extra == ExtraChannels::None {
                    return Err(Error::key(
                        key,
                        "`multisensor` needs `msi` or `aux` (the sensors differ in their extra bands)",
                    ));
                }
                let growth = if spec.random_size { 4.0 / 3.0 } else { 1.0 };
                check_in_memory(key, spec.width, spec.height, growth)?;
                Ok(DatasetKey::VidShapes(spec))
            }
            "big" => {
                let mut spec = BigSpec {
                    num_images: count(1)?,
                    width: 4096,
                    height: 4096,
                    annots_per_image: 1000,
                    seed: None,
                };
                let mut seen = Seen::new(key);
                for tok in tokens {
                    let (word, value) = split_word_number(tok);
                    seen.once(word, tok)?;
                    match (word, value) {
                        ("gsize", Some(v)) => (spec.width, spec.height) = parse_size(key, tok, v)?,
                        ("annots", Some(v)) => {
                            spec.annots_per_image = parse_count(key, tok, v, 0, MAX_ANNOTS)?
                        }
                        ("seed", Some(v)) => spec.seed = Some(parse_u64(key, tok, v)?),
                        _ => return Err(unknown(key, tok, BIG_TOKENS)),
                    }
                }
                Ok(DatasetKey::Big(spec))
            }
            _ => Err(Error::key(
                key,
                format!(
                    "unknown dataset family {head:?}; expected `shapes{{N}}`, `vidshapes{{N}}-…` or `big{{N}}-gsize{{S}}`"
                ),
            )),
        }
    }

    /// The `seed{K}` token of the key, if any.
    pub fn seed(&self) -> Option<u64> {
        match self {
            DatasetKey::Shapes(s) => s.seed,
            DatasetKey::VidShapes(s) => s.seed,
            DatasetKey::Big(s) => s.seed,
        }
    }

    /// The same key with its `seed{K}` token replaced.
    pub fn with_seed(mut self, seed: Option<u64>) -> Self {
        match &mut self {
            DatasetKey::Shapes(s) => s.seed = seed,
            DatasetKey::VidShapes(s) => s.seed = seed,
            DatasetKey::Big(s) => s.seed = seed,
        }
        self
    }

    /// Canonical spelling without the seed: equal for equal parameters whatever the
    /// order of the tokens. The random streams are derived from it and the seed.
    pub fn canonical_without_seed(&self) -> String {
        self.clone().with_seed(None).to_string()
    }
}

const SHAPES_TOKENS: &str = "gsize{S}, gsize{W}x{H}, seed{K}";
const VIDSHAPES_TOKENS: &str = "frames{F}, tracks{T}, gsize{S}, gsize{W}x{H}, speed{F}, msi, aux, multisensor, randgsize, timestamps, seed{K}";
const BIG_TOKENS: &str = "gsize{S}, gsize{W}x{H}, annots{K}, seed{K}";

impl fmt::Display for DatasetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = |w: u32, h: u32| {
            if w == h {
                format!("{w}")
            } else {
                format!("{w}x{h}")
            }
        };
        match self {
            DatasetKey::Shapes(s) => {
                write!(f, "shapes{}", s.num_images)?;
                if (s.width, s.height) != (600, 600) {
                    write!(f, "-gsize{}", size(s.width, s.height))?;
                }
                if let Some(seed) = s.seed {
                    write!(f, "-seed{seed}")?;
                }
            }
            DatasetKey::VidShapes(s) => {
                write!(f, "vidshapes{}", s.num_videos)?;
                write!(f, "-frames{}-tracks{}", s.num_frames, s.num_tracks)?;
                if (s.width, s.height) != (600, 600) {
                    write!(f, "-gsize{}", size(s.width, s.height))?;
                }
                if s.speed != 0.01 {
                    write!(f, "-speed{}", s.speed)?;
                }
                match s.extra {
                    ExtraChannels::None => {}
                    ExtraChannels::Msi => f.write_str("-msi")?,
                    ExtraChannels::Aux => f.write_str("-aux")?,
                }
                if s.multisensor {
                    f.write_str("-multisensor")?;
                }
                if s.random_size {
                    f.write_str("-randgsize")?;
                }
                if s.timestamps {
                    f.write_str("-timestamps")?;
                }
                if let Some(seed) = s.seed {
                    write!(f, "-seed{seed}")?;
                }
            }
            DatasetKey::Big(s) => {
                write!(
                    f,
                    "big{}-gsize{}-annots{}",
                    s.num_images,
                    size(s.width, s.height),
                    s.annots_per_image
                )?;
                if let Some(seed) = s.seed {
                    write!(f, "-seed{seed}")?;
                }
            }
        }
        Ok(())
    }
}

impl FromStr for DatasetKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DatasetKey::parse(s)
    }
}

/// Split `frames12` into `("frames", Some("12"))` and `msi` into `("msi", None)`:
/// the word is the leading run of ASCII letters.
fn split_word_number(tok: &str) -> (&str, Option<&str>) {
    let end = tok
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(tok.len());
    let (word, rest) = tok.split_at(end);
    (word, if rest.is_empty() { None } else { Some(rest) })
}

fn parse_u64(key: &str, tok: &str, digits: &str) -> Result<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::key(
            key,
            format!("token {tok:?}: {digits:?} is not a non-negative integer"),
        ));
    }
    digits
        .parse::<u64>()
        .map_err(|_| Error::key(key, format!("token {tok:?}: {digits:?} is too large")))
}

fn parse_count(key: &str, tok: &str, digits: &str, min: u32, max: u32) -> Result<u32> {
    let v = parse_u64(key, tok, digits)?;
    if v < u64::from(min) || v > u64::from(max) {
        return Err(Error::key(
            key,
            format!("token {tok:?}: {v} is out of range {min}..={max}"),
        ));
    }
    Ok(v as u32)
}

fn parse_size(key: &str, tok: &str, value: &str) -> Result<(u32, u32)> {
    match value.split_once('x') {
        Some((w, h)) => Ok((
            parse_count(key, tok, w, 1, MAX_SIDE)?,
            parse_count(key, tok, h, 1, MAX_SIDE)?,
        )),
        None => {
            let s = parse_count(key, tok, value, 1, MAX_SIDE)?;
            Ok((s, s))
        }
    }
}

fn parse_speed(key: &str, tok: &str, value: &str) -> Result<f64> {
    let ok_chars = value.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let v: f64 = if ok_chars {
        value.parse().map_err(|_| {
            Error::key(
                key,
                format!("token {tok:?}: {value:?} is not a decimal number"),
            )
        })?
    } else {
        return Err(Error::key(
            key,
            format!("token {tok:?}: {value:?} is not a decimal number like 0.02"),
        ));
    };
    if !(v.is_finite() && v <= 1.0) {
        return Err(Error::key(
            key,
            format!("token {tok:?}: speed must be in 0..=1 (video sizes per frame)"),
        ));
    }
    Ok(v)
}

fn unknown(key: &str, tok: &str, accepted: &str) -> Error {
    let what = if tok.is_empty() {
        "empty token (double or trailing `-`)".to_string()
    } else {
        format!("unknown token {tok:?}")
    };
    Error::key(key, format!("{what}; accepted tokens: {accepted}"))
}

/// Rejects a token word given twice.
struct Seen<'a> {
    key: &'a str,
    words: Vec<&'a str>,
}

impl<'a> Seen<'a> {
    fn new(key: &'a str) -> Self {
        Seen {
            key,
            words: Vec::new(),
        }
    }
    fn once(&mut self, word: &'a str, tok: &str) -> Result<()> {
        if !word.is_empty() && self.words.contains(&word) {
            return Err(Error::key(
                self.key,
                format!("token {tok:?}: `{word}` is given more than once"),
            ));
        }
        self.words.push(word);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vid(key: &str) -> VidShapesSpec {
        match DatasetKey::parse(key).unwrap() {
            DatasetKey::VidShapes(s) => s,
            other => panic!("{key} parsed as {other:?}"),
        }
    }

    #[test]
    fn shapes_defaults_and_tokens() {
        let k = DatasetKey::parse("shapes8").unwrap();
        assert_eq!(
            k,
            DatasetKey::Shapes(ShapesSpec {
                num_images: 8,
                width: 600,
                height: 600,
                seed: None
            })
        );
        let k = DatasetKey::parse("shapes").unwrap();
        assert!(matches!(
            k,
            DatasetKey::Shapes(ShapesSpec { num_images: 5, .. })
        ));
        let k = DatasetKey::parse("shapes2-gsize64x48-seed7").unwrap();
        assert_eq!(
            k,
            DatasetKey::Shapes(ShapesSpec {
                num_images: 2,
                width: 64,
                height: 48,
                seed: Some(7)
            })
        );
    }

    #[test]
    fn vidshapes_tokens() {
        let s = vid("vidshapes");
        assert_eq!((s.num_videos, s.num_frames, s.num_tracks), (1, 2, 2));
        assert_eq!((s.width, s.height, s.speed), (600, 600, 0.01));
        let s = vid(
            "vidshapes3-frames5-tracks4-gsize128-speed0.05-msi-multisensor-randgsize-timestamps-seed9",
        );
        assert_eq!((s.num_videos, s.num_frames, s.num_tracks), (3, 5, 4));
        assert_eq!((s.width, s.height, s.speed), (128, 128, 0.05));
        assert_eq!(s.extra, ExtraChannels::Msi);
        assert!(s.multisensor && s.random_size && s.timestamps);
        assert_eq!(s.seed, Some(9));
        let s = vid("vidshapes-aux-gsize32x16");
        assert_eq!(
            (s.num_videos, s.extra, s.width, s.height),
            (1, ExtraChannels::Aux, 32, 16)
        );
    }

    #[test]
    fn big_tokens() {
        assert!(DatasetKey::parse("vidshapes1-gsize8192").is_ok());
        assert!(DatasetKey::parse("big1-gsize65536").is_ok());
        let k = DatasetKey::parse("big2-gsize8192-annots50").unwrap();
        assert_eq!(
            k,
            DatasetKey::Big(BigSpec {
                num_images: 2,
                width: 8192,
                height: 8192,
                annots_per_image: 50,
                seed: None
            })
        );
    }

    #[test]
    fn rejects_bad_keys_with_reasons() {
        let cases = [
            ("", "unknown dataset family"),
            ("circles3", "unknown dataset family"),
            ("shapes8-frames3", "unknown token \"frames3\""),
            ("shapes0", "out of range"),
            ("shapes-3", "unknown token \"3\""),
            ("vidshapes2-bogus", "unknown token \"bogus\""),
            ("vidshapes2-frames", "unknown token \"frames\""),
            ("vidshapes2-frames0", "out of range"),
            ("vidshapes2-frames3-frames4", "more than once"),
            ("vidshapes2-msi-aux", "cannot be combined"),
            ("vidshapes2-multisensor", "needs `msi` or `aux`"),
            ("vidshapes2-msi3", "unknown token \"msi3\""),
            ("vidshapes2--msi", "empty token"),
            ("vidshapes2-msi-", "empty token"),
            ("vidshapes2-speed-1", "unknown token \"speed\""),
            ("vidshapes2-speed1e3", "not a decimal number"),
            ("vidshapes2-speed2", "speed must be in"),
            ("vidshapes2-gsize0", "out of range"),
            ("vidshapes2-gsize12x", "not a non-negative integer"),
            ("vidshapes2-gsize99999999", "out of range"),
            ("big1-gsize8192-seed99999999999999999999999", "too large"),
            ("big1-tracks2", "unknown token"),
            ("shapes4x", "not a non-negative integer"),
            ("shapes1-gsize65536", "too large for an in-memory generator"),
            ("vidshapes1-gsize8192-randgsize", "use `big{N}-gsize{S}`"),
        ];
        for (key, want) in cases {
            let err = DatasetKey::parse(key).expect_err(key).to_string();
            assert!(err.contains(want), "{key}: {err} (wanted {want:?})");
            assert!(
                err.contains(&format!("{key:?}")),
                "{err} should name the key"
            );
        }
    }

    #[test]
    fn canonical_form_is_order_independent_and_roundtrips() {
        let a = DatasetKey::parse("vidshapes2-tracks3-msi-frames5-seed4").unwrap();
        let b = DatasetKey::parse("vidshapes2-frames5-seed4-msi-tracks3").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), b.to_string());
        assert_eq!(DatasetKey::parse(&a.to_string()).unwrap(), a);
        assert_eq!(a.canonical_without_seed(), "vidshapes2-frames5-tracks3-msi");
        for key in [
            "shapes3-gsize40x30-seed1",
            "big2-gsize100-annots3",
            "vidshapes1-speed0.5-aux-multisensor",
        ] {
            let k = DatasetKey::parse(key).unwrap();
            assert_eq!(DatasetKey::parse(&k.to_string()).unwrap(), k, "{key}");
        }
    }
}
