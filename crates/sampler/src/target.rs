//! Targets: what a caller asks for (docs/DESIGN.md §4), in the JSON form shared by the
//! library and the CLI, and the exact slice arithmetic of docs/DESIGN.md §3.

use coco_model::{AnnotId, CategoryId, ImageId, VideoId};
use frame_backends::{Channels, DType, Interpolation};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A request for one sample: which frames, which window, which bands.
///
/// Every key is optional; [`crate::CocoSampler::resolve`] fills in what can be
/// inferred (an annotation's image and box, a video's frames, …). Keys accept the
/// reference's aliases (`gid`, `vidid`, `gids`, `aid`). Unknown keys are an error
/// so a typo never silently samples the wrong window.
///
/// ```
/// use sampler::Target;
/// let t: Target = serde_json::from_str(r#"{"gid": 1, "cx": 10, "cy": 20, "width": 8, "height": 6, "pad": 2}"#).unwrap();
/// assert_eq!(t.image_id, Some(coco_model::ImageId(1)));
/// assert_eq!(t.pad.unwrap().space(), [[2, 2], [2, 2]]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// 2D sample from this image (`gid`).
    #[serde(alias = "gid", default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<ImageId>,
    /// 3D sample from this video's frames ordered by `frame_index` (`vidid`).
    #[serde(alias = "vidid", default, skip_serializing_if = "Option::is_none")]
    pub video_id: Option<VideoId>,
    /// 3D sample from these frames (`gids`); the video is inferred.
    #[serde(alias = "gids", default, skip_serializing_if = "Option::is_none")]
    pub image_ids: Option<Vec<ImageId>>,
    /// Centre the window on this annotation (`aid`).
    #[serde(alias = "aid", default, skip_serializing_if = "Option::is_none")]
    pub annot_id: Option<AnnotId>,
    /// Category of the centred annotation (filled in on resolution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<CategoryId>,
    /// Centre x (column) in the sampled space.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::cx"
    )]
    pub cx: Option<f64>,
    /// Centre y (row) in the sampled space.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::cy"
    )]
    pub cy: Option<f64>,
    /// Width of the object of interest (centre mode).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::width"
    )]
    pub width: Option<f64>,
    /// Height of the object of interest (centre mode).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::height"
    )]
    pub height: Option<f64>,
    /// Window size in centre mode: `[h, w]`, `"extent"` (default) or `"square"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_dims: Option<WindowDims>,
    /// `[[y0, y1], [x0, x1]]`, half-open; a `null` bound means the data edge.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::space_slice"
    )]
    pub space_slice: Option<[[Option<i64>; 2]; 2]>,
    /// `[t0, t1]`: positions in the video's frame list, half-open. Positions past
    /// either end give fill frames (0 / NaN, no annotations) where the reference
    /// raises an error.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::time_slice"
    )]
    pub time_slice: Option<[Option<i64>; 2]>,
    /// The reference's n-d `slices`: `[[y0, y1], [x0, x1]]` (the same as
    /// `space_slice`) or `[[t0, t1], [y0, y1], [x0, x1]]` (`time_slice` then
    /// `space_slice`). Moved into those keys on resolution; giving both is an error.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::slices"
    )]
    pub slices: Option<Vec<[Option<i64>; 2]>>,
    /// Context added around the window (docs/DESIGN.md §3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<Pad>,
    /// How the part of the window outside the image is filled (the reference's
    /// `padkw`, numpy.pad's keywords): `{"mode": "constant"}` (default: 0, or
    /// NaN for float data, or `constant_values`), `"edge"`, `"reflect"`,
    /// `"symmetric"`, `"wrap"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padkw: Option<PadKw>,
    /// kwcoco channel code (`"r|g|b"`, `"B1|B8"`, `"<all>"`); default: the image's own bands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<ChannelCode>,
    /// Extra output zoom: a float or `[sx, sy]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<Scale>,
    /// Native resolution (the reference's `use_native_scale`): each run of
    /// requested bands stored in one asset comes back at that asset's own
    /// resolution instead of resampled to the sampled space's grid, as
    /// [`crate::Sample::native`] (a jagged list per frame, each part with its
    /// warps; `im` is then empty). Annotations stay in the window's space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_native_scale: Option<bool>,
    /// With `use_native_scale`: `"largest"` resamples every part to the
    /// largest part's grid and concatenates them into `im` (the reference's
    /// `realign_native`); annotations and `params.warps` follow that grid.
    /// `false` or absent: the jagged parts.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "realign_key")]
    pub realign_native: Option<RealignNative>,
    /// `nearest`, `linear` (default), `cubic` or `area` (also `nn`, `bilinear`,
    /// `bicubic`, any case); written back by its canonical name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "interpolation_key"
    )]
    pub interpolation: Option<Interpolation>,
    /// Antialias when downscaling (default true unless `nearest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub antialias: Option<bool>,
    /// Output dtype: `uint8`, `uint16`, `int16`, `float32`, `float64` (also `u8`,
    /// `float`, `double`, …); written back by its canonical name.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "dtype_key")]
    pub dtype: Option<DType>,
    /// `"float"`: integer data becomes float32 with NaN padding, and pixels
    /// equal to a file's own nodata value (GeoTIFF `GDAL_NODATA`) NaN
    /// (docs/DESIGN.md §11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodata: Option<Nodata>,
    /// Keep only annotations whose visibility is strictly greater than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_thresh: Option<f64>,
    /// Which annotation geometry to return (`"boxes+segmentation+keypoints"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_annots: Option<String>,
    /// Skip the spatial lookup: only these annotations (those on each frame) are returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annot_ids: Option<Vec<AnnotId>>,
    /// A random affine applied while reading (zoom, rotation, flips,
    /// translation), drawn from `(seed, epoch, index)`: the window's pixels
    /// come from the image through the augmented warp (context, not
    /// padding) and its annotations follow the same matrix. See
    /// [`Augment`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<Augment>,
}

/// The `augment` key: [`crate::augment::RandomAffine`]'s ranges and the
/// sample's `(seed, epoch, index)`, e.g. `{"seed": 0, "epoch": 3, "index": 17,
/// "scale": [0.8, 1.25], "rotation_deg": 30, "hflip": 0.5}`. Every range
/// defaults to none (`scale` `[1, 1]`, the rest 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augment {
    /// Seed of the run.
    #[serde(default)]
    pub seed: u64,
    /// Epoch.
    #[serde(default)]
    pub epoch: u64,
    /// The sample's index in its epoch.
    #[serde(default)]
    pub index: u64,
    /// Zoom drawn log-uniformly in `[lo, hi]`.
    #[serde(default = "unit_range")]
    pub scale: [f64; 2],
    /// Rotation drawn uniformly in `[-r, r]` degrees.
    #[serde(default)]
    pub rotation_deg: f64,
    /// Probability of a left–right flip.
    #[serde(default)]
    pub hflip: f64,
    /// Probability of a top–bottom flip.
    #[serde(default)]
    pub vflip: f64,
    /// Translation drawn in `[-t, t]` times the output size, `[ty, tx]`.
    #[serde(default)]
    pub translate: [f64; 2],
}

fn unit_range() -> [f64; 2] {
    [1.0, 1.0]
}

impl Augment {
    /// The ranges as a [`crate::augment::RandomAffine`].
    pub fn ranges(&self) -> crate::augment::RandomAffine {
        crate::augment::RandomAffine {
            scale: self.scale,
            rotation_deg: self.rotation_deg,
            hflip: self.hflip,
            vflip: self.vflip,
            translate: self.translate,
        }
    }

    /// The output-space matrix of this sample's draw for an `out_h × out_w`
    /// window (errors name the bad range).
    pub fn matrix(&self, out_h: usize, out_w: usize) -> Result<coco_model::geometry::Affine> {
        let d = self
            .ranges()
            .draw(self.seed, self.epoch, self.index)
            .map_err(|e| Error::BadTarget {
                key: "augment",
                msg: e.to_string(),
            })?;
        Ok(d.matrix(out_h, out_w))
    }
}

/// The largest magnitude of any coordinate, size, padding or time position a
/// target may give (2^40 ≈ 1.1·10^12 pixels or frames). Larger values are
/// refused when the target is parsed, naming the key, so that no sum of a
/// target's numbers can overflow; what a sample may allocate is limited
/// separately by `SamplerConfig::max_sample_bytes`.
pub const MAX_COORD: i64 = 1 << 40;

/// Checks a centre-mode number, which may come from the dataset (an
/// annotation's box) rather than the target text, against [`MAX_COORD`].
pub(crate) fn check_centre(key: &'static str, v: f64) -> Result<f64> {
    check_coord::<serde::de::value::Error>(key, v).map_err(|e| Error::BadTarget {
        key,
        msg: e.to_string().replace(&format!("target key `{key}`: "), ""),
    })?;
    Ok(v)
}

/// Checks one number of key `key` against [`MAX_COORD`].
fn check_coord<E: serde::de::Error>(key: &str, v: f64) -> std::result::Result<(), E> {
    if v.is_finite() && v.abs() <= MAX_COORD as f64 {
        Ok(())
    } else {
        Err(E::custom(format!(
            "target key `{key}`: {v} is not a finite number within ±{MAX_COORD}"
        )))
    }
}

/// Parse-time bounds of the numeric keys (see [`MAX_COORD`]).
mod bounded {
    use super::*;

    type Res<T, E> = std::result::Result<T, E>;

    fn number<'de, D: Deserializer<'de>>(d: D, key: &str) -> Res<Option<f64>, D::Error> {
        let v = Option::<f64>::deserialize(d)?;
        if let Some(x) = v {
            check_coord(key, x)?;
        }
        Ok(v)
    }

    pub fn cx<'de, D: Deserializer<'de>>(d: D) -> Res<Option<f64>, D::Error> {
        number(d, "cx")
    }
    pub fn cy<'de, D: Deserializer<'de>>(d: D) -> Res<Option<f64>, D::Error> {
        number(d, "cy")
    }
    pub fn width<'de, D: Deserializer<'de>>(d: D) -> Res<Option<f64>, D::Error> {
        number(d, "width")
    }
    pub fn height<'de, D: Deserializer<'de>>(d: D) -> Res<Option<f64>, D::Error> {
        number(d, "height")
    }

    fn bounds<E: serde::de::Error>(key: &str, v: &[Option<i64>]) -> Res<(), E> {
        v.iter()
            .flatten()
            .try_for_each(|&x| check_coord(key, x as f64))
    }

    /// `[[y0, y1], [x0, x1]]`, `null` bounds meaning the edge.
    type SpaceSlice = [[Option<i64>; 2]; 2];

    pub fn space_slice<'de, D: Deserializer<'de>>(d: D) -> Res<Option<SpaceSlice>, D::Error> {
        let v = Option::<SpaceSlice>::deserialize(d)?;
        if let Some([y, x]) = &v {
            bounds("space_slice", y)?;
            bounds("space_slice", x)?;
        }
        Ok(v)
    }

    /// The n-d `slices`: `[start, stop]` pairs.
    type Slices = Vec<[Option<i64>; 2]>;

    pub fn slices<'de, D: Deserializer<'de>>(d: D) -> Res<Option<Slices>, D::Error> {
        let v = Option::<Slices>::deserialize(d)?;
        if let Some(s) = &v {
            if !(2..=3).contains(&s.len()) {
                return Err(serde::de::Error::custom(format!(
                    "target key `slices`: {} slices (2 for [y, x], 3 for [t, y, x])",
                    s.len()
                )));
            }
            s.iter().try_for_each(|b| bounds("slices", b))?;
        }
        Ok(v)
    }

    pub fn time_slice<'de, D: Deserializer<'de>>(d: D) -> Res<Option<[Option<i64>; 2]>, D::Error> {
        let v = Option::<[Option<i64>; 2]>::deserialize(d)?;
        if let Some(t) = &v {
            bounds("time_slice", t)?;
        }
        Ok(v)
    }
}

/// A kwcoco channel code, parsed (full kwcoco grammar) when the target is read
/// and written back as given.
///
/// ```
/// use sampler::target::ChannelCode;
/// let c: ChannelCode = serde_json::from_str(r#""B1|B8""#).unwrap();
/// assert_eq!(c.channels(), &frame_backends::Channels::Names(vec!["B1".into(), "B8".into()]));
/// assert_eq!(serde_json::to_string(&c).unwrap(), r#""B1|B8""#);
/// assert!(serde_json::from_str::<ChannelCode>(r#""B.0:x""#).unwrap_err().to_string().contains("channels"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelCode {
    code: String,
    channels: Channels,
}

impl ChannelCode {
    /// Parse a channel code (`"r|g|b"`, `"B1|B8"`, `"B.0:3"`, `"<all>"`).
    ///
    /// Errors: [`Error::BadTarget`] naming the `channels` key for a malformed code.
    pub fn parse(code: &str) -> Result<ChannelCode> {
        let channels = Channels::from_code(code).map_err(|e| Error::BadTarget {
            key: "channels",
            msg: e.to_string(),
        })?;
        Ok(ChannelCode {
            code: code.to_string(),
            channels,
        })
    }

    /// The code as given.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The bands it names ([`Channels::All`] for `"<all>"`).
    pub fn channels(&self) -> &Channels {
        &self.channels
    }
}

impl std::str::FromStr for ChannelCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ChannelCode::parse(s)
    }
}

impl Serialize for ChannelCode {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.code)
    }
}

impl<'de> Deserialize<'de> for ChannelCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        ChannelCode::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// A numpy.pad mode of the `padkw` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PadMode {
    /// A constant: 0 for integer data, NaN for float, or `constant_values`.
    Constant,
    /// The nearest edge pixel repeated (`aaa|abc|ccc`).
    Edge,
    /// Mirrored without repeating the edge (`cb|abc|ba`).
    Reflect,
    /// Mirrored repeating the edge (`ba|abc|cb`).
    Symmetric,
    /// The other side (`bc|abc|ab`).
    Wrap,
}

impl PadMode {
    /// For a row of `lo + n + hi` positions holding data at `[lo, lo + n)`, the
    /// data index each position copies (`None` for a constant), exactly as
    /// `numpy.pad` fills it: reflect and symmetric reflect in rounds (so a
    /// pad wider than the data on one side is not simply periodic), a single
    /// value reflects as an edge.
    ///
    /// ```
    /// use sampler::target::PadMode;
    /// let at = |m: PadMode| m.sources(3, 3, 3).into_iter().map(Option::unwrap).collect::<Vec<_>>();
    /// assert_eq!(at(PadMode::Edge), [0, 0, 0, 0, 1, 2, 2, 2, 2]);
    /// assert_eq!(at(PadMode::Reflect), [1, 2, 1, 0, 1, 2, 1, 0, 1]);
    /// assert_eq!(at(PadMode::Symmetric), [2, 1, 0, 0, 1, 2, 2, 1, 0]);
    /// assert_eq!(at(PadMode::Wrap), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
    /// assert_eq!(PadMode::Constant.sources(1, 1, 0), [None, Some(0)]);
    /// ```
    pub fn sources(self, lo: usize, n: usize, hi: usize) -> Vec<Option<usize>> {
        let total = lo + n + hi;
        let inside = |i: usize| (lo..lo + n).contains(&i).then(|| i - lo);
        if n == 0 {
            return vec![None; total];
        }
        let include_edge = match self {
            PadMode::Constant => return (0..total).map(inside).collect(),
            PadMode::Edge => {
                return (0..total)
                    .map(|i| Some(i.clamp(lo, lo + n - 1) - lo))
                    .collect();
            }
            PadMode::Wrap => {
                return (0..total)
                    .map(|i| Some((i as i64 - lo as i64).rem_euclid(n as i64) as usize))
                    .collect();
            }
            _ if n == 1 => return vec![Some(0); total],
            PadMode::Reflect => false,
            PadMode::Symmetric => true,
        };
        // numpy's `_set_reflect_both`, on indices.
        let mut v: Vec<usize> = (0..total).map(|i| inside(i).unwrap_or(0)).collect();
        let (mut l, mut r) = (lo, hi);
        let edge = usize::from(include_edge);
        while l > 0 || r > 0 {
            let old = total - r - l - usize::from(!include_edge);
            if l > 0 {
                let chunk = old.min(l);
                let stop = l - edge;
                for k in 0..chunk {
                    v[l - 1 - k] = v[stop + 1 + k];
                }
                l -= chunk;
            }
            if r > 0 {
                let chunk = old.min(r);
                // Python index `-r + edge - 2`, counting down.
                let start = total - r + edge - 2;
                let at = total - r;
                for k in 0..chunk {
                    v[at + k] = v[start - k];
                }
                r -= chunk;
            }
        }
        v.into_iter().map(Some).collect()
    }
}

/// The `padkw` key: numpy.pad's `mode` and, for `constant`, `constant_values`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PadKw {
    /// The mode.
    pub mode: PadMode,
    /// The fill of mode `constant` (default: 0, or NaN for float data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constant_values: Option<f64>,
}

impl PadKw {
    /// Whether this is the default fill (0 / NaN), which needs no work.
    pub fn is_default(&self) -> bool {
        self.mode == PadMode::Constant && self.constant_values.is_none()
    }
}

impl<'de> Deserialize<'de> for PadKw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            mode: Option<serde_json::Value>,
            constant_values: Option<f64>,
        }
        let key = |e: String| serde::de::Error::custom(format!("target key `padkw`: {e}"));
        let raw = Raw::deserialize(d).map_err(|e| key(e.to_string()))?;
        let mode = match raw.mode {
            None => PadMode::Constant,
            Some(m) => serde_json::from_value(m.clone()).map_err(|_| {
                key(format!(
                    "unknown mode {m} (constant, edge, reflect, symmetric, wrap)"
                ))
            })?,
        };
        if raw.constant_values.is_some() && mode != PadMode::Constant {
            return Err(key(format!(
                "constant_values only goes with mode \"constant\", not {mode:?}"
            )));
        }
        if raw
            .constant_values
            .is_some_and(|v| !v.is_finite() && !v.is_nan())
        {
            return Err(key("constant_values must be finite or NaN".into()));
        }
        Ok(PadKw {
            mode,
            constant_values: raw.constant_values,
        })
    }
}

/// The `nodata` key: how to fill where no data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nodata {
    /// `"float"`: integer data becomes float32 with NaN padding.
    Float,
}

impl Serialize for Nodata {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Nodata::Float => s.serialize_str("float"),
        }
    }
}

impl<'de> Deserialize<'de> for Nodata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "float" => Ok(Nodata::Float),
            s => Err(serde::de::Error::custom(format!(
                "target key `nodata` unknown value {s:?} (only \"float\")"
            ))),
        }
    }
}

/// Canonical name of an interpolation method (the inverse of [`Interpolation::parse`]).
pub fn interpolation_name(i: Interpolation) -> &'static str {
    match i {
        Interpolation::Nearest => "nearest",
        Interpolation::Linear => "linear",
        Interpolation::Cubic => "cubic",
        Interpolation::Area => "area",
    }
}

/// Serde form of the `interpolation` key (a method name).
mod interpolation_key {
    use super::*;

    pub fn serialize<S: Serializer>(
        v: &Option<Interpolation>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match v {
            Some(i) => s.serialize_str(interpolation_name(*i)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<Interpolation>, D::Error> {
        let s = String::deserialize(d)?;
        Interpolation::parse(&s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "target key `interpolation` unknown method {s:?} (nearest, linear, cubic, area)"
            ))
        })
    }
}

/// Serde form of the `dtype` key (a numpy dtype name).
mod dtype_key {
    use super::*;

    pub fn serialize<S: Serializer>(
        v: &Option<DType>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(d.name()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<DType>, D::Error> {
        let s = String::deserialize(d)?;
        DType::parse(&s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "target key `dtype` unknown dtype {s:?} (uint8, uint16, int16, float32, float64)"
            ))
        })
    }
}

/// Window size in centre mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WindowDims {
    /// `ceil(height) × ceil(width)` of the target.
    Extent,
    /// The larger of `ceil(height)` and `ceil(width)` on both sides.
    Square,
    /// Explicit `[h, w]`.
    Dims([i64; 2]),
}

impl Serialize for WindowDims {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            WindowDims::Extent => s.serialize_str("extent"),
            WindowDims::Square => s.serialize_str("square"),
            WindowDims::Dims(d) => d.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for WindowDims {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            D([f64; 2]),
        }
        match Raw::deserialize(d)? {
            Raw::S(s) if s == "extent" => Ok(WindowDims::Extent),
            Raw::S(s) if s == "square" => Ok(WindowDims::Square),
            Raw::S(s) => Err(serde::de::Error::custom(format!(
                "window_dims: expected \"extent\", \"square\" or [h, w], got {s:?}"
            ))),
            Raw::D([h, w]) => {
                if !(h.is_finite() && w.is_finite()) || h < 0.0 || w < 0.0 {
                    return Err(serde::de::Error::custom(format!(
                        "window_dims: [h, w] must be non-negative, got [{h}, {w}]"
                    )));
                }
                check_coord("window_dims", h)?;
                check_coord("window_dims", w)?;
                Ok(WindowDims::Dims([h.ceil() as i64, w.ceil() as i64]))
            }
        }
    }
}

/// Context padding as given (docs/DESIGN.md §3): an int (space only), `[ph, pw]`,
/// `[pt, ph, pw]`, or per-dimension `[lo, hi]` pairs.
#[derive(Debug, Clone, PartialEq)]
pub enum Pad {
    /// The same padding on every side of both spatial dimensions.
    Int(i64),
    /// Per-dimension symmetric padding: `[ph, pw]` or `[pt, ph, pw]`.
    PerDim(Vec<i64>),
    /// Per-dimension `[lo, hi]` pairs: `[[top, bottom], [left, right]]` (or with time first).
    Pairs(Vec<[i64; 2]>),
}

impl Pad {
    /// Normalized `[[t_lo, t_hi], [y_lo, y_hi], [x_lo, x_hi]]`.
    pub fn normalized(&self) -> [[i64; 2]; 3] {
        match self {
            Pad::Int(p) => [[0, 0], [*p, *p], [*p, *p]],
            Pad::PerDim(v) => match v.as_slice() {
                [h, w] => [[0, 0], [*h, *h], [*w, *w]],
                [t, h, w] => [[*t, *t], [*h, *h], [*w, *w]],
                _ => [[0, 0], [0, 0], [0, 0]],
            },
            Pad::Pairs(v) => match v.as_slice() {
                [h, w] => [[0, 0], *h, *w],
                [t, h, w] => [*t, *h, *w],
                _ => [[0, 0], [0, 0], [0, 0]],
            },
        }
    }

    /// The spatial part `[[top, bottom], [left, right]]`.
    pub fn space(&self) -> [[i64; 2]; 2] {
        let n = self.normalized();
        [n[1], n[2]]
    }
}

impl Serialize for Pad {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Pad::Int(p) => s.serialize_i64(*p),
            Pad::PerDim(v) => v.serialize(s),
            Pad::Pairs(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Pad {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            I(i64),
            V(Vec<i64>),
            P(Vec<[i64; 2]>),
        }
        let bad = |what: String| serde::de::Error::custom(format!("pad: {what}"));
        let pad = match Raw::deserialize(d).map_err(|_| {
            bad("expected an int, [ph, pw], [pt, ph, pw] or [[lo, hi], ...] pairs".into())
        })? {
            Raw::I(p) => Pad::Int(p),
            Raw::V(v) if v.len() == 2 || v.len() == 3 => Pad::PerDim(v),
            Raw::V(v) => return Err(bad(format!("expected 2 or 3 values, got {}", v.len()))),
            Raw::P(v) if v.len() == 2 || v.len() == 3 => Pad::Pairs(v),
            Raw::P(v) => return Err(bad(format!("expected 2 or 3 pairs, got {}", v.len()))),
        };
        if pad.normalized().iter().flatten().any(|&p| p < 0) {
            return Err(bad("padding must be non-negative".into()));
        }
        if let Some(&p) = pad.normalized().iter().flatten().find(|&&p| p > MAX_COORD) {
            return Err(bad(format!("{p} is beyond the {MAX_COORD}-pixel limit")));
        }
        Ok(pad)
    }
}

/// How native-resolution parts are brought back onto one grid
/// ([`Target::realign_native`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealignNative {
    /// Every part resampled to the grid of the part with the most pixels (the
    /// first such part on ties).
    Largest,
}

/// `realign_native`: `"largest"`, or `false`/`null` for none (the reference's
/// default); written back as `"largest"`.
mod realign_key {
    use super::RealignNative;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<RealignNative>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(RealignNative::Largest) => s.serialize_str("largest"),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RealignNative>, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null | serde_json::Value::Bool(false) => Ok(None),
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("largest") => {
                Ok(Some(RealignNative::Largest))
            }
            other => Err(serde::de::Error::custom(format!(
                "realign_native must be \"largest\" or false, not {other}"
            ))),
        }
    }
}

/// Output zoom: one factor or `[sx, sy]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Same factor on both axes.
    Uniform(f64),
    /// `[sx, sy]`.
    Xy([f64; 2]),
}

impl Scale {
    /// `[sx, sy]`.
    pub fn xy(&self) -> [f64; 2] {
        match *self {
            Scale::Uniform(s) => [s, s],
            Scale::Xy(v) => v,
        }
    }
}

impl Serialize for Scale {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Scale::Uniform(v) => s.serialize_f64(*v),
            Scale::Xy(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Scale {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            F(f64),
            V([f64; 2]),
        }
        let s = match Raw::deserialize(d)
            .map_err(|_| serde::de::Error::custom("scale: expected a number or [sx, sy]"))?
        {
            Raw::F(f) => Scale::Uniform(f),
            Raw::V(v) => Scale::Xy(v),
        };
        if s.xy().iter().any(|v| !v.is_finite() || *v <= 0.0) {
            return Err(serde::de::Error::custom(
                "scale: factors must be finite and > 0",
            ));
        }
        Ok(s)
    }
}

/// A half-open integer interval `[lo, hi)`.
pub type Span = [i64; 2];

/// Centre mode (docs/DESIGN.md §3): `lo = floor(c - d/2)`, `hi = floor(c + d/2)`, then
/// `hi` is nudged so that `hi - lo == d` exactly (floating-point guard).
///
/// ```
/// assert_eq!(sampler::target::centered_span(174.9999999999999, 100), [124, 224]);
/// assert_eq!(sampler::target::centered_span(183.5, 31), [168, 199]);
/// ```
pub fn centered_span(c: f64, d: i64) -> Span {
    let half = d as f64 / 2.0;
    let lo = (c - half).floor() as i64;
    let hi = (c + half).floor() as i64;
    if hi - lo == d { [lo, hi] } else { [lo, lo + d] }
}

/// Window dims `[h, w]` for centre mode from the target's size.
pub fn window_dims_for(
    dims: WindowDims,
    width: Option<f64>,
    height: Option<f64>,
) -> Result<[i64; 2]> {
    let need = |v: Option<f64>, key: &'static str| -> Result<i64> {
        match v {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(check_centre(key, v)?.ceil() as i64),
            Some(v) => Err(Error::BadTarget {
                key,
                msg: format!("must be a finite non-negative number, got {v}"),
            }),
            None => Err(Error::BadTarget {
                key,
                msg: "is required in centre mode unless window_dims is [h, w]".into(),
            }),
        }
    };
    Ok(match dims {
        WindowDims::Dims(d) => d,
        WindowDims::Extent => [need(height, "height")?, need(width, "width")?],
        WindowDims::Square => {
            let m = need(height, "height")?.max(need(width, "width")?);
            [m, m]
        }
    })
}

/// Resolve a possibly open `[lo, hi]` pair against `[0, len]`, checking order.
pub fn close_span(span: [Option<i64>; 2], len: i64, key: &'static str) -> Result<Span> {
    let lo = span[0].unwrap_or(0);
    let hi = span[1].unwrap_or(len);
    if lo > hi {
        return Err(Error::BadTarget {
            key,
            msg: format!("start {lo} is greater than stop {hi}"),
        });
    }
    Ok([lo, hi])
}

#[cfg(test)]
mod tests {

    proptest! {
        /// Every pad mode keeps the data in place and only copies data
        /// values; reflections move one step at a time (no jumps).
        #[test]
        fn pad_sources_are_data_and_continuous(lo in 0usize..40, n in 1usize..9, hi in 0usize..40, m in 0usize..4) {
            let mode = [PadMode::Edge, PadMode::Reflect, PadMode::Symmetric, PadMode::Wrap][m];
            let s = mode.sources(lo, n, hi);
            prop_assert_eq!(s.len(), lo + n + hi);
            for (i, q) in s.iter().enumerate() {
                let q = q.expect("every position copies data");
                prop_assert!(q < n);
                if (lo..lo + n).contains(&i) {
                    prop_assert_eq!(q, i - lo);
                }
            }
            if matches!(mode, PadMode::Reflect | PadMode::Symmetric | PadMode::Edge) {
                for w in s.windows(2) {
                    let (a, b) = (w[0].unwrap_or(0) as i64, w[1].unwrap_or(0) as i64);
                    prop_assert!((a - b).abs() <= 1, "{:?}", s);
                }
            }
        }
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn aliases_and_unknown_keys() {
        let t: Target =
            serde_json::from_str(r#"{"aid": 5, "window_dims": "square", "pad": [25, 25]}"#)
                .unwrap();
        assert_eq!(t.annot_id, Some(AnnotId(5)));
        assert_eq!(t.window_dims, Some(WindowDims::Square));
        assert_eq!(t.pad.as_ref().unwrap().space(), [[25, 25], [25, 25]]);
        let e = serde_json::from_str::<Target>(r#"{"gid": 1, "cxx": 3}"#).unwrap_err();
        assert!(e.to_string().contains("cxx"), "{e}");
        let e = serde_json::from_str::<Target>(r#"{"gid": 1, "window_dims": "wide"}"#).unwrap_err();
        assert!(e.to_string().contains("window_dims"), "{e}");
    }

    #[test]
    fn bad_values_fail_at_parse_naming_the_key() {
        for (json, key) in [
            (r#"{"gid": 1, "interpolation": "lanczos"}"#, "interpolation"),
            (r#"{"gid": 1, "dtype": "complex"}"#, "dtype"),
            (r#"{"gid": 1, "nodata": "nan"}"#, "nodata"),
            (r#"{"gid": 1, "channels": "B.0:x"}"#, "channels"),
        ] {
            let e = serde_json::from_str::<Target>(json)
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{json}: {e}");
        }
    }

    #[test]
    fn typed_values_round_trip() {
        let json = r#"{"image_id":1,"channels":"r|g,b","interpolation":"nearest","dtype":"float32","nodata":"float","annot_ids":[2,3]}"#;
        let t: Target = serde_json::from_str(json).unwrap();
        assert_eq!(t.image_id, Some(ImageId(1)));
        assert_eq!(t.interpolation, Some(Interpolation::Nearest));
        assert_eq!(t.dtype, Some(DType::F32));
        assert_eq!(t.nodata, Some(Nodata::Float));
        let names = ["r", "g", "b"].map(String::from).to_vec();
        assert_eq!(
            t.channels.as_ref().unwrap().channels(),
            &Channels::Names(names)
        );
        assert_eq!(serde_json::to_string(&t).unwrap(), json);
        // Aliases are read, and written back by their canonical names.
        let t: Target =
            serde_json::from_str(r#"{"interpolation": "Bilinear", "dtype": "float"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"interpolation":"linear","dtype":"float32"}"#
        );
    }

    #[test]
    fn pad_forms() {
        let p = |s: &str| serde_json::from_str::<Pad>(s).unwrap().normalized();
        assert_eq!(p("7"), [[0, 0], [7, 7], [7, 7]]);
        assert_eq!(p("[0, 5, 6]"), [[0, 0], [5, 5], [6, 6]]);
        assert_eq!(p("[[1, 2], [3, 4]]"), [[0, 0], [1, 2], [3, 4]]);
        assert_eq!(p("[[9, 8], [1, 2], [3, 4]]"), [[9, 8], [1, 2], [3, 4]]);
        assert!(serde_json::from_str::<Pad>("[1]").is_err());
        assert!(serde_json::from_str::<Pad>("-1").is_err());
        assert!(serde_json::from_str::<Pad>("\"x\"").is_err());
    }

    #[test]
    fn reference_centre_cases() {
        // Values from the reference sampler's answers (shared/fixtures/shapes4).
        assert_eq!(centered_span(180.0, 64), [148, 212]);
        assert_eq!(centered_span(200.0, 96), [152, 248]);
        assert_eq!(centered_span(2.0, 6), [-1, 5]);
        assert_eq!(centered_span(183.5, 68), [149, 217]);
        assert_eq!(centered_span(250.5, 100), [200, 300]);
        assert_eq!(
            window_dims_for(WindowDims::Square, Some(31.0), Some(68.0)).unwrap(),
            [68, 68]
        );
        assert_eq!(
            window_dims_for(WindowDims::Extent, Some(30.2), Some(68.0)).unwrap(),
            [68, 31]
        );
        assert!(window_dims_for(WindowDims::Extent, None, Some(1.0)).is_err());
    }

    #[test]
    fn open_spans() {
        assert_eq!(
            close_span([None, None], 10, "space_slice").unwrap(),
            [0, 10]
        );
        assert_eq!(
            close_span([Some(-3), None], 10, "space_slice").unwrap(),
            [-3, 10]
        );
        assert!(close_span([Some(5), Some(4)], 10, "space_slice").is_err());
    }

    proptest! {
        #[test]
        fn centred_span_has_exact_size(c in -1e6f64..1e6, d in 0i64..100_000) {
            let [lo, hi] = centered_span(c, d);
            prop_assert_eq!(hi - lo, d);
            // The centre lies within one pixel of the window's middle.
            prop_assert!(((lo + hi) as f64 / 2.0 - c).abs() <= 1.0);
        }
    }
}
