//! # coco-geometry
//!
//! Geometry of kwcoco / MS-COCO annotations (the kwimage 0.12 subset that
//! ndsampler needs): affine transforms, transform specs, boxes, polygons,
//! binary masks and COCO run-length encodings, keypoints, and the
//! `segmentation` union. A standalone L0 crate: the data model (`coco-model`,
//! which re-exports it as `coco_model::geometry`), the pixel readers
//! (`frame-backends`) and the sampler all share its one [`Affine`].
//!
//! Every JSON-facing type parses from a [`serde_json::Value`] (and, for the
//! per-annotation lazily parsed fields, from a `&str` of JSON) and writes back
//! the *same form* it came from: a flat MS-COCO polygon stays flat, a kwcoco
//! `{"exterior", "interiors"}` dict stays a dict, a compressed RLE stays
//! compressed, and integer coordinates stay integers (see [`NumberStyle`]).
//!
//! Coordinates follow the project convention (`docs/DESIGN.md` §3): `x` is the
//! column, `y` the row, and pixel `(x, y)` covers `[x, x+1) × [y, y+1)`.
//!
//! Pixel conventions of masks and polygons:
//! - [`Mask::to_multi_polygon`] traces outlines along **pixel corners**, so a
//!   traced polygon covers exactly its pixels (area == pixel count);
//! - rasterizing ([`Polygon::to_mask`], [`Segmentation::to_mask`]) sets the
//!   pixels whose **centres** are inside (even-odd rule), so tracing then
//!   rasterizing gives back the same mask;
//! - polygons written by kwcoco's own tools come from cv2 `findContours`,
//!   whose vertices are the centres of the boundary pixels: rasterized here
//!   they give the interior only (about half a pixel less on every side
//!   than cv2's `fillPoly`, which also sets the boundary pixels).
//!
//! Modules: [`affine`] (3×3 transforms), [`transform`] (kwcoco warp specs),
//! [`bbox`], [`polygon`], [`mask`] (masks, tracing), [`raster`] (fill rules,
//! kwimage/cv2-compatible rasterizing), [`rle`] (COCO RLE),
//! [`keypoints`], [`segmentation`], [`nonfinite`] (Python's bare `NaN` /
//! `Infinity` JSON tokens, shared with the dataset loader).
//!
//! # Feature flags
//! None.
//!
//! ```
//! use coco_geometry::{Affine, Segmentation};
//! let seg = Segmentation::from_json_str(r#"[[0, 0, 4, 0, 4, 2, 0, 2]]"#).unwrap();
//! assert_eq!(seg.area(), 8.0);
//! let moved = seg.warp(&Affine::translate(10.0, 1.0)).unwrap();
//! assert_eq!(moved.to_json().to_string(), "[[10,1,14,1,14,3,10,3]]");
//! ```

pub mod affine;
pub mod bbox;
mod contour;
mod fastparse;
pub mod keypoints;
pub mod mask;
pub mod nonfinite;
pub mod polygon;
pub mod raster;
pub mod rle;
pub mod segmentation;
pub mod transform;

pub use affine::{Affine, AffineParams};
pub use bbox::BBox;
pub use keypoints::{Keypoint, Keypoints, KeypointsForm};
pub use mask::Mask;
pub use polygon::{MultiPolygon, Polygon};
pub use raster::{FillRule, FillScratch};
pub use rle::Rle;
pub use segmentation::{PolygonForm, Segmentation};
pub use transform::{TransformForm, TransformSpec};

use serde_json::Value;

/// Largest mask (in pixels) that decoding or rasterizing will allocate.
///
/// Sizes come from untrusted JSON (`"size": [h, w]`); anything larger is
/// refused with [`GeometryError::TooLarge`] instead of exhausting memory.
pub const MAX_MASK_PIXELS: usize = 1 << 30;

/// Errors of the geometry layer.
#[derive(Debug, thiserror::Error)]
pub enum GeometryError {
    /// A JSON value does not have the expected shape.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was being parsed (e.g. `"segmentation"`, `"keypoints"`).
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The text is not valid JSON.
    #[error("invalid {what} JSON: {source}")]
    Json {
        /// What was being parsed.
        what: &'static str,
        /// The JSON parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The matrix has no inverse.
    #[error("affine matrix is singular (determinant {det:e}); it cannot be inverted")]
    Singular {
        /// The determinant of the linear part.
        det: f64,
    },
    /// A mask or RLE is larger than [`MAX_MASK_PIXELS`] or overflows.
    #[error("mask of {h}×{w} pixels is too large (limit {limit} pixels)")]
    TooLarge {
        /// Rows.
        h: usize,
        /// Columns.
        w: usize,
        /// The limit.
        limit: usize,
    },
    /// Two masks / RLEs of different sizes were combined.
    #[error("size mismatch: {a:?} vs {b:?}")]
    SizeMismatch {
        /// Size `[h, w]` of the first operand.
        a: [usize; 2],
        /// Size `[h, w]` of the second operand.
        b: [usize; 2],
    },
}

impl GeometryError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        GeometryError::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

/// Result alias of this module.
pub type Result<T, E = GeometryError> = std::result::Result<T, E>;

/// How numbers of a geometry are written back to JSON.
///
/// Parsing records [`NumberStyle::Int`] when every coordinate of the input was
/// a JSON integer. Writing with `Int` emits integral values as JSON integers
/// (and any value that became fractional, e.g. after a warp, as a float), so
/// `[1, 2]` round-trips as `[1, 2]` and `[1.0, 2.0]` as `[1.0, 2.0]`. The style is
/// kept per geometry, not per number: an input mixing integers and floats is
/// written with floats only (the same values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum NumberStyle {
    /// Every value is written as a JSON float.
    #[default]
    Float,
    /// Integral values are written as JSON integers.
    Int,
}

impl NumberStyle {
    /// `Int` when `all_ints` is true.
    pub fn from_all_ints(all_ints: bool) -> Self {
        if all_ints {
            NumberStyle::Int
        } else {
            NumberStyle::Float
        }
    }

    /// Combine two styles: `Int` only when both are `Int`.
    pub fn and(self, other: NumberStyle) -> NumberStyle {
        NumberStyle::from_all_ints(self == NumberStyle::Int && other == NumberStyle::Int)
    }

    /// Write one number in this style. Non-finite values become the
    /// dataset layer's sentinel strings (see [`nonfinite`]), which its writer
    /// turns back into Python's bare `NaN` / `Infinity` tokens.
    pub fn value(self, x: f64) -> Value {
        if self == NumberStyle::Int && x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
            Value::from(x as i64)
        } else {
            match serde_json::Number::from_f64(x) {
                Some(n) => Value::Number(n),
                None => Value::String(nonfinite::sentinel(x).to_string()),
            }
        }
    }

    /// Write an `[x, y]` pair.
    pub fn pair(self, p: [f64; 2]) -> Value {
        Value::Array(vec![self.value(p[0]), self.value(p[1])])
    }
}

/// Read one JSON number: `(value, was_integer)`. The non-finite sentinel
/// strings are read as NaN / ±infinity.
pub(crate) fn read_num(v: &Value, what: &'static str) -> Result<(f64, bool)> {
    match v {
        Value::String(s) if nonfinite::sentinel_to_f64(s).is_some() => {
            Ok((nonfinite::sentinel_to_f64(s).unwrap_or(f64::NAN), false))
        }
        Value::Number(n) => {
            let is_int = n.is_i64() || n.is_u64();
            let x = n
                .as_f64()
                .ok_or_else(|| GeometryError::invalid(what, format!("number {n} is not finite")))?;
            Ok((x, is_int))
        }
        other => Err(GeometryError::invalid(
            what,
            format!("expected a number, got {}", kind(other)),
        )),
    }
}

/// Read an `[x, y]` pair: `(pair, both_integers)`.
pub(crate) fn read_pair(v: &Value, what: &'static str) -> Result<([f64; 2], bool)> {
    match v {
        Value::Array(a) if a.len() == 2 => {
            let (x, ix) = read_num(&a[0], what)?;
            let (y, iy) = read_num(&a[1], what)?;
            Ok(([x, y], ix && iy))
        }
        Value::Array(a) => Err(GeometryError::invalid(
            what,
            format!("expected an [x, y] pair, got a list of {} values", a.len()),
        )),
        other => Err(GeometryError::invalid(
            what,
            format!("expected an [x, y] pair, got {}", kind(other)),
        )),
    }
}

/// Parse raw JSON text (as in a file): Python's bare `NaN` / `Infinity` /
/// `-Infinity` tokens are accepted (read as the sentinel strings) and every
/// string stays a string (see [`nonfinite`]).
pub(crate) fn parse_text(s: &str, what: &'static str) -> Result<Value> {
    parse_prepassed(&nonfinite::replace_non_finite(s), what)
}

/// Parse JSON text that already went through the [`nonfinite`] pre-pass.
pub(crate) fn parse_prepassed(s: &str, what: &'static str) -> Result<Value> {
    serde_json::from_str(s).map_err(|source| GeometryError::Json { what, source })
}

/// A short name of a JSON value's kind, for error messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Check `h * w` against [`MAX_MASK_PIXELS`].
pub(crate) fn checked_pixels(h: usize, w: usize) -> Result<usize> {
    match h.checked_mul(w) {
        Some(n) if n <= MAX_MASK_PIXELS => Ok(n),
        _ => Err(GeometryError::TooLarge {
            h,
            w,
            limit: MAX_MASK_PIXELS,
        }),
    }
}

/// Twice the signed (shoelace) area of a closed ring. Positive for rings
/// that turn clockwise on screen (y down), e.g. `(0,0)→(1,0)→(1,1)→(0,1)`.
pub(crate) fn ring_signed_area2(ring: &[[f64; 2]]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    let mut s = 0.0;
    let mut prev = ring[n - 1];
    for &p in ring {
        s += prev[0] * p[1] - p[0] * prev[1];
        prev = p;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_style_writes_ints_only_when_integral() {
        assert_eq!(NumberStyle::Int.value(3.0).to_string(), "3");
        assert_eq!(NumberStyle::Int.value(3.5).to_string(), "3.5");
        assert_eq!(NumberStyle::Float.value(3.0).to_string(), "3.0");
        assert_eq!(
            NumberStyle::Int.value(f64::NAN),
            Value::String(nonfinite::NAN_SENTINEL.into())
        );
    }

    #[test]
    fn read_num_reports_kind() {
        let e = read_num(&Value::String("a".into()), "bbox").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid bbox: expected a number, got a string"
        );
        assert_eq!(read_num(&serde_json::json!(2), "x").unwrap(), (2.0, true));
        assert_eq!(
            read_num(&serde_json::json!(2.0), "x").unwrap(),
            (2.0, false)
        );
    }

    #[test]
    fn non_finite_tokens_and_sentinels() {
        let v = parse_text(r#"[1, NaN, -Infinity, "NaN", Infinity]"#, "x").unwrap();
        assert_eq!(v[1], Value::String(nonfinite::NAN_SENTINEL.into()));
        assert_eq!(v[3], Value::String("NaN".into()));
        assert!(read_num(&v[1], "x").unwrap().0.is_nan());
        assert_eq!(read_num(&v[2], "x").unwrap().0, f64::NEG_INFINITY);
        assert_eq!(read_num(&v[4], "x").unwrap().0, f64::INFINITY);
        assert!(read_num(&v[3], "x").is_err());
        assert!(parse_text("[1, 2", "x").is_err());
        assert!(parse_text("[Nope]", "x").is_err());
    }

    #[test]
    fn checked_pixels_refuses_overflow() {
        assert!(checked_pixels(usize::MAX, 2).is_err());
        assert!(checked_pixels(1 << 16, 1 << 15).is_err());
        assert_eq!(checked_pixels(3, 4).unwrap(), 12);
    }

    #[test]
    fn shoelace_sign() {
        let cw = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        assert_eq!(ring_signed_area2(&cw), 2.0);
        let mut ccw = cw;
        ccw.reverse();
        assert_eq!(ring_signed_area2(&ccw), -2.0);
    }
}
