//! `CocoSampler`: resolve a [`Target`] against a dataset, read its window from
//! every frame, and gather the annotations that fall in it — one code path for
//! 2D images and 3D videos (docs/DESIGN.md §3–§5).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use coco_model::geometry::{Affine, BBox, Keypoints, Segmentation, TransformSpec};
use coco_model::{AnnotId, CocoDataset, Image, ImageId};
use frame_backends::{
    Backend, Channels, DType, FrameReader, ImageSource, Interpolation, ReadOptions, ReaderOptions,
    Window,
};
use region_index::{Aabb, RegionIndex};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::pixels::Pixels;
use crate::target::{ChannelCode, MAX_COORD, Nodata, Target};

mod native;
mod resolve;
mod tables;

pub use tables::DEFAULT_IMAGE_CACHE_ENTRIES;
use tables::{Memory, SnapTables, Tables};

pub use native::NativePart;

/// Which annotation geometry a sample carries (`with_annots`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WithAnnots {
    /// Boxes (always computed; listed for the reference's vocabulary).
    pub boxes: bool,
    /// Polygons / RLE in sample space.
    pub segmentation: bool,
    /// Keypoints in sample space.
    pub keypoints: bool,
}

impl Default for WithAnnots {
    fn default() -> Self {
        WithAnnots {
            boxes: true,
            segmentation: true,
            keypoints: true,
        }
    }
}

impl WithAnnots {
    /// No annotations at all.
    pub const NONE: WithAnnots = WithAnnots {
        boxes: false,
        segmentation: false,
        keypoints: false,
    };

    /// Parse `"boxes+segmentation+keypoints"` (any subset, `+`-separated),
    /// `"all"`/`"true"`, or `"none"`/`"false"`.
    pub fn parse(s: &str) -> Result<WithAnnots> {
        let s = s.trim();
        match s {
            "all" | "true" | "" => return Ok(WithAnnots::default()),
            "none" | "false" => return Ok(WithAnnots::NONE),
            _ => {}
        }
        let mut w = WithAnnots::NONE;
        for part in s.split('+') {
            match part.trim() {
                "boxes" => w.boxes = true,
                "segmentation" => w.segmentation = true,
                "keypoints" => w.keypoints = true,
                other => {
                    return Err(Error::BadTarget {
                        key: "with_annots",
                        msg: format!(
                            "unknown part {other:?} (expected boxes, segmentation, keypoints)"
                        ),
                    });
                }
            }
        }
        Ok(w)
    }

    /// Whether any annotation is wanted.
    pub fn any(&self) -> bool {
        self.boxes || self.segmentation || self.keypoints
    }
}

/// Per-call options that are not part of the target.
#[derive(Debug, Clone, Default)]
pub struct SampleOptions {
    /// Keep annotations with visibility strictly greater than this (0: all that overlap).
    pub visible_thresh: Option<f64>,
    /// Which geometry to return (default: all; [`WithAnnots::NONE`] skips the lookup).
    pub with_annots: Option<WithAnnots>,
    /// Only these annotations (no spatial lookup).
    pub annot_ids: Option<Vec<i64>>,
    /// Clip boxes and polygons to the padded window.
    pub clip: bool,
    /// Skip reading pixels (annotations only).
    pub skip_pixels: bool,
}

/// The geometry of one sample, resolved from its target.
#[derive(Debug, Clone, Serialize)]
pub struct SampleParams {
    /// `[-x0, -y0]`: top-left of the padded window in the sampled space, negated.
    pub offset: [i64; 2],
    /// `[x0, y0, x1, y1]` of the padded window in the sampled space.
    pub sample_ltrb: [i64; 4],
    /// `[[y0, y1], [x0, x1]]` of the padded window.
    pub st_dims: [[i64; 2]; 2],
    /// `[height, width]` of the sampled space (image or video).
    pub data_dims: [i64; 2],
    /// The padded time span `[t0, t1]` in frame positions (3D only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_span: Option<[i64; 2]>,
    /// Output zoom `[sx, sy]`.
    pub scale: [f64; 2],
    /// Atomic band names of the output's last axis.
    pub channels: Vec<String>,
    /// Per frame: the 3×3 image → sample transform (`None` for fill frames).
    pub warps: Vec<Option<[[f64; 3]; 3]>>,
}

/// One annotation of a sample, in sample space.
#[derive(Debug, Clone, Serialize)]
pub struct SampleAnnot {
    /// Annotation id.
    pub id: i64,
    /// Category id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<i64>,
    /// `[x, y, w, h]` in sample space: the axis-aligned box of the warped corners.
    pub bbox: [f64; 4],
    /// Intersection of the (image-space) box with the window over the box's area.
    pub visibility: f64,
    /// Polygons / RLE in sample space (serialized in the dataset's JSON form).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_segmentation"
    )]
    pub segmentation: Option<Segmentation>,
    /// Keypoints in sample space (serialized in the dataset's JSON form).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_keypoints"
    )]
    pub keypoints: Option<Keypoints>,
    /// The keypoint category name of each keypoint (the reference's
    /// `kp_classes[class_idxs]`; see
    /// [`coco_model::CocoDataset::keypoint_names`]), `null` where unknown.
    /// Present exactly when `keypoints` is.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_names")]
    pub keypoint_names: Option<Arc<[Option<String>]>>,
}

// Geometry stays typed in a sample; JSON is built only when a sample is written.
fn ser_segmentation<S: serde::Serializer>(
    v: &Option<Segmentation>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    v.as_ref().map(Segmentation::to_json).serialize(s)
}

fn ser_names<S: serde::Serializer>(
    v: &Option<Arc<[Option<String>]>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    v.as_deref().serialize(s)
}

fn ser_keypoints<S: serde::Serializer>(
    v: &Option<Keypoints>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    v.as_ref().map(Keypoints::to_json).serialize(s)
}

/// One frame of a sample.
#[derive(Debug, Clone, Serialize)]
pub struct SampleFrame {
    /// The frame's image id (`None` for fill frames past a video's ends).
    pub image_id: Option<i64>,
    /// Annotations overlapping the padded window.
    pub annots: Vec<SampleAnnot>,
}

/// What [`CocoSampler::load_sample`] returns.
#[derive(Debug, Clone)]
pub struct Sample {
    /// `(H, W, C)` for 2D, `(T, H, W, C)` for 3D.
    pub im: Pixels,
    /// The resolved target (every inferred key filled in).
    pub target: Target,
    /// Window geometry.
    pub params: SampleParams,
    /// Per-frame annotations.
    pub frames: Vec<SampleFrame>,
    /// Native-resolution parts per frame (`use_native_scale` without
    /// `realign_native`; fill frames past a video's ends have none): `im` is
    /// then empty (shape `[0]`). See [`NativePart`].
    pub native: Option<Vec<Vec<NativePart>>>,
}

impl Sample {
    /// `{"target": …, "params": …, "frames": […]}` (docs/DESIGN.md §6 `sample.json`).
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::json!({
            "target": self.target,
            "params": self.params,
            "frames": self.frames,
            "shape": self.im.shape(),
            "dtype": self.im.dtype().name(),
        });
        if let (Some(native), Some(obj)) = (&self.native, v.as_object_mut()) {
            obj.insert("native".into(), native_json(native));
        }
        v
    }
}

/// `[[{"channels", "shape", "dtype", "align", "grid_to_part",
/// "part_from_image"}, …], …]`: each frame's native parts without pixels.
pub fn native_json(native: &[Vec<NativePart>]) -> Value {
    Value::Array(
        native
            .iter()
            .map(|parts| {
                Value::Array(
                    parts
                        .iter()
                        .map(|p| {
                            serde_json::json!({
                                "channels": p.channels,
                                "shape": p.im.shape(),
                                "dtype": p.im.dtype().name(),
                                "align": p.align,
                                "grid_to_part": p.grid_to_part,
                                "part_from_image": p.part_from_image,
                            })
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

/// Per-image facts the sampler precomputes.
#[derive(Debug, Clone)]
struct FrameInfo {
    source: Option<ImageSource>,
    /// image → video (identity for images without a video).
    vid_from_img: Affine,
    img_from_vid: Affine,
}

/// Everything [`CocoSampler::load_sample_with`] decided once for all frames
/// of a sample.
#[derive(Clone)]
struct FramePlan<'a> {
    /// Sampled space (video space, or image space of a lone image) → output.
    sample_from_vid: Affine,
    out_h: usize,
    out_w: usize,
    /// The padded window in the sampled space.
    window_vid: BBox,
    /// The sampled space is each frame's own image space (an image target,
    /// whatever video its image belongs to): `warp_img_to_vid` is not applied.
    image_space: bool,
    read_opts: ReadOptions,
    /// A `padkw` fill other than the default.
    padkw: Option<crate::target::PadKw>,
    channels: Channels,
    annots: AnnotRequest,
    opts: &'a SampleOptions,
}

impl FramePlan<'_> {
    /// Image → sampled space of a frame: its `warp_img_to_vid` on a video
    /// target, the identity on an image target.
    fn space_from_img(&self, info: &FrameInfo) -> Affine {
        if self.image_space {
            Affine::identity()
        } else {
            info.vid_from_img
        }
    }

    /// The inverse of [`FramePlan::space_from_img`].
    fn img_from_space(&self, info: &FrameInfo) -> Affine {
        if self.image_space {
            Affine::identity()
        } else {
            info.img_from_vid
        }
    }

    /// Real frames as read; fill frames (`None`) take the dtype and band count
    /// of the real ones (else the target's dtype, float32 by default, and `nb`).
    fn fill_frames(&self, windows: Vec<Option<Window>>, nb: usize) -> Vec<Window> {
        // (a realigned native frame may differ from the plan's size: fill
        // frames follow the real ones)
        let proto = windows
            .iter()
            .flatten()
            .next()
            .map(|w| (w.dtype(), w.shape()));
        let (dt, shape) = proto.unwrap_or((
            self.read_opts.dtype.unwrap_or(DType::F32),
            (self.out_h, self.out_w, nb),
        ));
        windows
            .into_iter()
            .map(|w| w.unwrap_or_else(|| Window::filled(dt, shape)))
            .collect()
    }
}

/// One frame of a sample as [`CocoSampler::load_frame`] makes it.
struct LoadedFrame {
    /// Pixels (`None` when skipped or for a fill frame).
    window: Option<Window>,
    /// Sample-from-image matrix (`None` for a fill frame).
    warp: Option<[[f64; 3]; 3]>,
    frame: SampleFrame,
}

impl LoadedFrame {
    /// A fill frame (past a video's ends): no pixels, warp or annotations.
    fn fill() -> LoadedFrame {
        LoadedFrame {
            window: None,
            warp: None,
            frame: SampleFrame {
                image_id: None,
                annots: Vec::new(),
            },
        }
    }
}

/// Which annotations a sample carries: per-call options over the target's own.
#[derive(Clone)]
struct AnnotRequest {
    with: WithAnnots,
    visible_thresh: f64,
    /// Only these annotations (no spatial lookup).
    filter: Option<HashSet<i64>>,
}

impl AnnotRequest {
    fn new(t: &Target, opts: &SampleOptions) -> Result<AnnotRequest> {
        let with = match opts.with_annots {
            Some(w) => w,
            None => match t.with_annots.as_deref() {
                Some(s) => WithAnnots::parse(s)?,
                None => WithAnnots::default(),
            },
        };
        let filter = match (&opts.annot_ids, &t.annot_ids) {
            (Some(ids), _) => Some(ids.iter().copied().collect()),
            (None, Some(ids)) => Some(ids.iter().map(|a| a.0).collect()),
            (None, None) => None,
        };
        Ok(AnnotRequest {
            with,
            visible_thresh: opts.visible_thresh.or(t.visible_thresh).unwrap_or(0.0),
            filter,
        })
    }
}

/// Output pixels along one axis: `extent × scale`, rounded; an error when the
/// product is not a finite size below [`MAX_COORD`].
fn scaled_extent(extent: f64, scale: f64) -> Result<usize> {
    let n = (extent * scale).round().max(0.0);
    if n.is_nan() || n > MAX_COORD as f64 {
        return Err(Error::BadTarget {
            key: "scale",
            msg: format!(
                "{scale} times a window of {extent} pixels is beyond the {MAX_COORD}-pixel limit"
            ),
        });
    }
    Ok(n as usize)
}

/// The reader options a target asks for (linear, antialiased unless nearest).
fn read_options(t: &Target) -> ReadOptions {
    let interpolation = t.interpolation.unwrap_or_default();
    ReadOptions {
        interpolation,
        antialias: t
            .antialias
            .unwrap_or(interpolation != Interpolation::Nearest),
        dtype: t.dtype,
        nodata_float: t.nodata == Some(Nodata::Float),
        promote_to: None,
    }
}

/// A target resolved into frames and a padded window.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The target with inferred keys filled in.
    pub target: Target,
    /// Whether the output has a time axis.
    pub is_video: bool,
    /// Output frames: image ids, `None` for fill frames.
    pub frames: Vec<Option<ImageId>>,
    /// `[[y0, y1], [x0, x1]]` of the padded window in the sampled space.
    pub padded: [[i64; 2]; 2],
    /// `[height, width]` of the sampled space.
    pub data_dims: [i64; 2],
    /// Padded time span in frame positions (3D).
    pub time_span: Option<[i64; 2]>,
}

/// Configuration of a [`CocoSampler`].
#[derive(Debug, Clone)]
pub struct SamplerConfig {
    /// Where pixels come from (raw files, npy cache, COG cache).
    pub backend: Backend,
    /// Reader tuning (chunk cache budget, open handles).
    pub reader: ReaderOptions,
    /// Most bytes one sample's pixels may take ([`DEFAULT_MAX_SAMPLE_BYTES`] by
    /// default). Checked before anything is allocated: a larger request is
    /// [`Error::TooLarge`], naming the limit and the request.
    pub max_sample_bytes: u64,
    /// Most bytes of parsed annotation geometry kept between samples
    /// ([`crate::DEFAULT_GEOMETRY_CACHE_BYTES`] by default; 0 parses on every
    /// call). See [`CocoSampler::geometry_cache_stats`].
    pub geometry_cache_bytes: usize,
    /// Most images of a snapshot kept decoded between samples
    /// ([`DEFAULT_IMAGE_CACHE_ENTRIES`] by default, least recently used
    /// dropped first; 0 decodes on every call). Bounds what a worker process
    /// keeps of its own beside the mapped snapshot it shares.
    pub image_cache_entries: usize,
}

/// Default of [`SamplerConfig::max_sample_bytes`]: 4 GiB of pixels per sample.
pub const DEFAULT_MAX_SAMPLE_BYTES: u64 = 4 << 30;

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            backend: Backend::Raw,
            reader: ReaderOptions::default(),
            max_sample_bytes: DEFAULT_MAX_SAMPLE_BYTES,
            geometry_cache_bytes: crate::geometry_cache::DEFAULT_GEOMETRY_CACHE_BYTES,
            image_cache_entries: DEFAULT_IMAGE_CACHE_ENTRIES,
        }
    }
}

/// Random access to windows of a kwcoco dataset's images and videos with their
/// annotations.
///
/// ```no_run
/// use sampler::{CocoSampler, Target};
/// let sampler = CocoSampler::open("data.kwcoco.json")?;
/// let target: Target = serde_json::from_str(r#"{"annot_id": 5, "pad": 16}"#)?;
/// let sample = sampler.load_sample(&target)?;
/// println!("{:?} with {} annotations", sample.im.shape(), sample.frames[0].annots.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CocoSampler {
    tables: Tables,
    reader: FrameReader,
    max_sample_bytes: u64,
    geometry: crate::geometry_cache::GeometryCache,
}

/// The box of `ann` in the sampler's index: its `bbox`, else its
/// segmentation's box; `None` when missing or not finite.
pub(crate) fn index_box(ann: &coco_model::Annotation) -> Option<[f64; 4]> {
    let bbox = ann.bbox.or_else(|| {
        let text = ann.segmentation_json()?;
        Segmentation::from_json_str(&text)
            .ok()?
            .bbox()
            .map(|b| b.xywh())
    })?;
    bbox.iter().all(|v| v.is_finite()).then_some(bbox)
}

/// The in-memory tables of `dset`: every image's frame facts and the index
/// of every annotation box. Fails as [`CocoSampler::new`] fails.
fn memory_tables(dset: Arc<CocoDataset>) -> Result<Memory> {
    let mut frames = HashMap::with_capacity(dset.images().len());
    for img in dset.images() {
        frames.insert(img.id, CocoSampler::frame_info(&dset, img)?);
    }
    let rows = dset.annotations().iter().filter_map(|ann| {
        let [x, y, w, h] = index_box(ann)?;
        Some((ann.image_id, ann.id, Aabb::from_xywh(x, y, w, h)))
    });
    let mut index = RegionIndex::from_rows(rows)?;
    for img in dset.images() {
        index.add_frame(img.id);
    }
    Ok(Memory {
        dset,
        index,
        frames,
    })
}

/// Fails when [`CocoSampler::new`] would refuse `dset` (bad warps, invalid or
/// duplicate boxes): the snapshot writer's check.
pub(crate) fn check_dataset(dset: &CocoDataset) -> Result<()> {
    for img in dset.images() {
        CocoSampler::frame_info(dset, img)?;
    }
    let rows = dset.annotations().iter().filter_map(|ann| {
        let [x, y, w, h] = index_box(ann)?;
        Some((ann.image_id, ann.id, Aabb::from_xywh(x, y, w, h)))
    });
    RegionIndex::from_rows(rows)?;
    Ok(())
}

/// Where [`CocoSampler::open`] and [`CocoSampler::open_with`] look for a
/// snapshot: the backend's cache directory, else `BUNDLE/_cache` (the CLI's
/// default `--workdir`).
fn workdir_of(backend: &Backend, bundle: &std::path::Path) -> std::path::PathBuf {
    match backend {
        Backend::Npy { workdir } | Backend::Cog { workdir, .. } => workdir.clone(),
        Backend::Raw => default_workdir(bundle),
    }
}

/// The default work directory of a dataset whose bundle directory is
/// `bundle`: `BUNDLE/_cache` (caches and the snapshot; the CLI's default
/// `--workdir`). The one place that name is decided.
///
/// ```
/// assert_eq!(sampler::default_workdir("/data/b".as_ref()), std::path::Path::new("/data/b/_cache"));
/// ```
pub fn default_workdir(bundle: &std::path::Path) -> std::path::PathBuf {
    bundle.join("_cache")
}

fn parse_warp(json: Option<&str>, what: &str, id: i64) -> Result<Affine> {
    match json {
        None => Ok(Affine::identity()),
        Some(text) => {
            let spec = TransformSpec::from_json_str(text).map_err(|e| Error::Record {
                what: format!("{what} of image {id}"),
                msg: e.to_string(),
            })?;
            Ok(*spec.affine())
        }
    }
}

/// Load a dataset: a JSON file, a `.zip` or a bundle directory
/// ([`CocoDataset::load`]), or (feature `remote`) a JSON file at an `s3://`,
/// `gs://`, `az://` or `http(s)://` URL, whose parent becomes the bundle
/// directory (relative file names are then URLs next to it). Without the
/// feature a URL is an error saying so.
pub fn load_dataset(path: &std::path::Path) -> Result<CocoDataset> {
    if frame_backends::is_url(path) {
        #[cfg(feature = "remote")]
        {
            let bytes = frame_backends::remote::read_all(path)?;
            let text = path.to_string_lossy();
            let parent = text.rsplit_once('/').map_or(&*text, |(p, _)| p);
            return Ok(CocoDataset::from_reader(
                &bytes[..],
                Some(path),
                std::path::PathBuf::from(parent),
            )?);
        }
        #[cfg(not(feature = "remote"))]
        return Err(frame_backends::Error::Remote {
            url: frame_backends::display_url(&path.to_string_lossy()),
            msg: "URLs need the `remote` cargo feature (of sampler, or ndsampler), which this build lacks".into(),
        }
        .into());
    }
    Ok(CocoDataset::load(path)?)
}

impl CocoSampler {
    /// Load a dataset (JSON, `.zip` or bundle directory, or a URL: see
    /// [`load_dataset`]) and sample raw files.
    ///
    /// A valid snapshot of the file under `BUNDLE/_cache` (what `ndsampler
    /// index DATASET` writes by default) is used instead of parsing the JSON;
    /// see [`CocoSampler::open_in`].
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::open_with(path, SamplerConfig::default())
    }

    /// [`CocoSampler::open`] with `config`; the snapshot is looked for under
    /// the backend's cache directory (`BUNDLE/_cache` for raw files).
    pub fn open_with(path: impl AsRef<std::path::Path>, config: SamplerConfig) -> Result<Self> {
        if frame_backends::is_url(path.as_ref()) {
            // no snapshot of a remote dataset: it is fetched and parsed
            let dset = load_dataset(path.as_ref())?;
            return Self::new(Arc::new(dset), config);
        }
        let file = crate::snapshot::source_file(path.as_ref())?;
        let bundle = file.parent().unwrap_or(std::path::Path::new("."));
        let workdir = workdir_of(&config.backend, bundle);
        Self::open_with_snapshot_dir(&file, config, &workdir)
    }

    /// [`CocoSampler::open`] with the snapshot looked for under `workdir`
    /// ([`crate::snapshot::snapshot_path`]). The snapshot is used when its
    /// header names the current content of the JSON (length and xxh3-128);
    /// a stale one is ignored, a corrupt one logged and ignored: both fall
    /// back to loading the JSON.
    pub fn open_in(
        path: impl AsRef<std::path::Path>,
        workdir: impl AsRef<std::path::Path>,
    ) -> Result<Self> {
        let file = crate::snapshot::source_file(path.as_ref())?;
        Self::open_with_snapshot_dir(&file, SamplerConfig::default(), workdir.as_ref())
    }

    fn open_with_snapshot_dir(
        file: &std::path::Path,
        config: SamplerConfig,
        workdir: &std::path::Path,
    ) -> Result<Self> {
        use crate::snapshot::{Snapshot, SnapshotError, snapshot_path};
        let snap_path = snapshot_path(workdir, file);
        if snap_path.exists() {
            match Snapshot::open_for(&snap_path, file) {
                Ok(snap) => match Self::from_snapshot(snap, file, config.clone()) {
                    Ok(s) => {
                        log::info!("records from snapshot {}", snap_path.display());
                        return Ok(s);
                    }
                    Err(e) => log::warn!("{e}; loading the JSON instead"),
                },
                Err(e @ SnapshotError::Stale { .. }) => log::info!("{e}; loading the JSON"),
                Err(e) => log::warn!("{e}; loading the JSON instead"),
            }
        }
        let dset = CocoDataset::load(file)?;
        Self::new(Arc::new(dset), config)
    }

    /// A sampler over an open snapshot whose dataset file is `source` (used
    /// for file paths and by [`CocoSampler::dataset`]). The caller vouches
    /// that the snapshot was made from that file
    /// ([`crate::snapshot::Snapshot::open_for`] checks it).
    pub fn from_snapshot(
        snapshot: crate::snapshot::Snapshot,
        source: &std::path::Path,
        config: SamplerConfig,
    ) -> Result<Self> {
        let tables = Tables::Snapshot(Box::new(SnapTables::new(
            snapshot,
            source,
            config.image_cache_entries,
        )?));
        Self::with_tables(tables, config)
    }

    /// A sampler over `tables` (from a dataset or a snapshot) with `config`.
    fn with_tables(tables: Tables, config: SamplerConfig) -> Result<Self> {
        let reader = FrameReader::with_options(config.backend, config.reader)?;
        let geometry = crate::geometry_cache::GeometryCache::new(config.geometry_cache_bytes);
        Ok(CocoSampler {
            tables,
            reader,
            max_sample_bytes: config.max_sample_bytes,
            geometry,
        })
    }

    /// A sampler over `dset` with `config`.
    pub fn new(dset: Arc<CocoDataset>, config: SamplerConfig) -> Result<Self> {
        Self::with_tables(Tables::Memory(memory_tables(dset)?), config)
    }

    fn frame_info(dset: &CocoDataset, img: &Image) -> Result<FrameInfo> {
        let id = img.id.0;
        let vid_from_img = parse_warp(img.warp_img_to_vid_json(), "warp_img_to_vid", id)?;
        let img_from_vid = vid_from_img.inverse().map_err(|e| Error::Record {
            what: format!("warp_img_to_vid of image {id}"),
            msg: e.to_string(),
        })?;
        // An image without a size reads it from its file when sampled (see
        // `frames::image_size`); one without files either is an error then.
        let source = match crate::coco_source::image_source(dset, img) {
            Ok(s) => Some(s),
            Err(_) if img.width.is_none() || img.height.is_none() => None,
            Err(e) => return Err(e),
        };
        Ok(FrameInfo {
            source,
            vid_from_img,
            img_from_vid,
        })
    }

    /// How the parsed-geometry cache is doing (entries, bytes, budget,
    /// parses not kept because the budget was full).
    pub fn geometry_cache_stats(&self) -> crate::GeometryCacheStats {
        self.geometry.stats()
    }

    /// Images of a snapshot kept decoded (at most
    /// [`SamplerConfig::image_cache_entries`]; 0 for a sampler over a dataset
    /// in memory, whose records are the dataset's).
    pub fn images_kept(&self) -> usize {
        self.tables.images_kept()
    }

    /// The dataset. A sampler opened on a snapshot loads it from the JSON
    /// on the first call (seconds for a large file); when that fails (the
    /// file is gone or was edited since), the error is logged and the view
    /// holds the categories and videos only: see [`CocoSampler::try_dataset`].
    pub fn dataset(&self) -> &Arc<CocoDataset> {
        self.tables.dataset()
    }

    /// The dataset, or why it cannot be loaded (see [`CocoSampler::dataset`]).
    pub fn try_dataset(&self) -> Result<&Arc<CocoDataset>> {
        self.tables.try_dataset()
    }

    /// The snapshot and its meta dataset (categories, videos, bundle
    /// directory), when the sampler reads records from one.
    pub(crate) fn snapshot_parts(&self) -> Option<(&crate::snapshot::Snapshot, &CocoDataset)> {
        self.tables.snapshot_parts()
    }

    /// The snapshot this sampler reads records from, if any.
    pub fn snapshot_path(&self) -> Option<&std::path::Path> {
        self.tables.snapshot_path()
    }

    /// The pixel reader (for cache warm-up and statistics).
    pub fn reader(&self) -> &FrameReader {
        &self.reader
    }

    /// The spatial index of annotation boxes (image space, per image). On a
    /// snapshot it is built from the snapshot's columns on the first call.
    pub fn region_index(&self) -> &RegionIndex<ImageId, AnnotId> {
        self.tables.region_index()
    }

    /// Load the sample a target asks for (pixels and annotations), with the
    /// target's own `visible_thresh` / `with_annots` / `annot_ids` if present.
    pub fn load_sample(&self, target: &Target) -> Result<Sample> {
        self.load_sample_with(target, &SampleOptions::default())
    }

    /// Load a sample with explicit options (they override the target's).
    pub fn load_sample_with(&self, target: &Target, opts: &SampleOptions) -> Result<Sample> {
        self.load_sample_dest(target, opts, None).map(|(s, _)| s)
    }

    /// [`CocoSampler::load_sample_with`], the pixels written into `dest` (one
    /// view per frame, of the sample's frame shape) when given and the target
    /// allows it (no `padkw`, not native-resolution, one view per frame of
    /// the plan's size). Returns the sample and whether its pixels went to
    /// `dest` (its `im` is then empty).
    pub(crate) fn load_sample_dest(
        &self,
        target: &Target,
        opts: &SampleOptions,
        mut dest: Option<&mut [frame_backends::WindowMut<'_>]>,
    ) -> Result<(Sample, bool)> {
        let r = self.resolve(target)?;
        let t = &r.target;
        let [sx, sy] = t.scale.map(|s| s.xy()).unwrap_or([1.0, 1.0]);
        let [[y0, y1], [x0, x1]] = r.padded;
        let (h, w) = ((y1 - y0) as f64, (x1 - x0) as f64);
        let out_h = scaled_extent(h, sy)?;
        let out_w = scaled_extent(w, sx)?;
        let mut read_opts = read_options(t);
        let channels = self.resolve_channels(t.channels.as_ref(), &r.frames)?;
        let native_mode = t.use_native_scale == Some(true);
        // (native-resolution parts are sized and checked part by part)
        if !opts.skip_pixels && !native_mode {
            read_opts.promote_to = self.size_pixels(&r, [out_h, out_w], &channels, &read_opts)?;
        }
        let mut plan = FramePlan {
            sample_from_vid: Affine::translate(-x0 as f64, -y0 as f64).then(&Affine::scale(sx, sy)),
            out_h,
            out_w,
            window_vid: BBox::from_ltrb(x0 as f64, y0 as f64, x1 as f64, y1 as f64),
            image_space: !r.is_video,
            read_opts,
            padkw: t.padkw.filter(|k| !k.is_default()),
            channels,
            annots: AnnotRequest::new(t, opts)?,
            opts,
        };

        if native_mode && plan.padkw.is_some() {
            return Err(Error::BadTarget {
                key: "padkw",
                msg: "only the default constant fill works with use_native_scale".into(),
            });
        }
        if let Some(aug) = &t.augment {
            if native_mode || plan.padkw.is_some() {
                return Err(Error::BadTarget {
                    key: "augment",
                    msg: "works with neither use_native_scale nor a padkw mode".into(),
                });
            }
            // the augmented output reads the image through the composed warp;
            // annotations are looked up in the region of the window it sees
            let m = aug.matrix(plan.out_h, plan.out_w)?;
            let seen = crate::augment::source_box(&m, plan.out_h, plan.out_w).map_err(|e| {
                Error::BadTarget {
                    key: "augment",
                    msg: e.to_string(),
                }
            })?;
            let vid_from_sample = plan
                .sample_from_vid
                .inverse()
                .map_err(|e| Error::BadTarget {
                    key: "scale",
                    msg: e.to_string(),
                })?;
            plan.window_vid = seen.warp(&vid_from_sample);
            plan.sample_from_vid = plan.sample_from_vid.then(&m);
        }
        let grid = Affine::translate(-x0 as f64, -y0 as f64);
        let extra = Affine::scale(sx, sy);
        let window_wh = ((x1 - x0) as usize, (y1 - y0) as usize);
        let annots_only = SampleOptions {
            skip_pixels: true,
            ..opts.clone()
        };
        let mut native_parts: Vec<Vec<NativePart>> = Vec::new();
        let into = !native_mode
            && plan.padkw.is_none()
            && !opts.skip_pixels
            && dest.as_deref().is_some_and(|d| {
                d.len() == r.frames.len()
                    && d.iter().all(|w| {
                        let (h, w, _) = w.shape();
                        (h, w) == (plan.out_h, plan.out_w)
                    })
            });
        if !into {
            dest = None;
        }

        // what native-resolution frames may still take of max_sample_bytes
        let mut budget = self.max_sample_bytes;
        let mut windows = Vec::with_capacity(r.frames.len());
        let mut frames_out = Vec::with_capacity(r.frames.len());
        let mut warps = Vec::with_capacity(r.frames.len());
        for (k, gid) in r.frames.iter().enumerate() {
            let slot = dest.as_deref_mut().and_then(|d| d.get_mut(k));
            let loaded = match gid {
                Some(gid) if slot.is_some() => self.load_frame_dest(*gid, &plan, slot)?,
                None if slot.is_some() => {
                    if let Some(slot) = slot {
                        slot.fill_pad();
                    }
                    LoadedFrame::fill()
                }
                Some(gid) if native_mode && !opts.skip_pixels => match t.realign_native {
                    None => {
                        native_parts.push(self.native_parts(
                            *gid,
                            &plan,
                            &grid,
                            &extra,
                            window_wh,
                            &mut budget,
                        )?);
                        let fp = FramePlan {
                            opts: &annots_only,
                            ..plan.clone()
                        };
                        self.load_frame(*gid, &fp)?
                    }
                    Some(crate::target::RealignNative::Largest) => {
                        let (win, realign) = self.realigned_frame(
                            *gid,
                            &plan,
                            &grid,
                            &extra,
                            window_wh,
                            &mut budget,
                        )?;
                        let (h, w, _) = win.shape();
                        let fp = FramePlan {
                            opts: &annots_only,
                            sample_from_vid: grid.then(&realign).then(&extra),
                            out_h: h,
                            out_w: w,
                            ..plan.clone()
                        };
                        let mut loaded = self.load_frame(*gid, &fp)?;
                        loaded.window = Some(win);
                        loaded
                    }
                },
                Some(gid) => self.load_frame(*gid, &plan)?,
                None if native_mode && t.realign_native.is_none() => {
                    native_parts.push(Vec::new());
                    LoadedFrame::fill()
                }
                None => LoadedFrame::fill(),
            };
            windows.push(loaded.window);
            warps.push(loaded.warp);
            frames_out.push(loaded.frame);
        }

        let channel_names: Vec<String> = match &plan.channels {
            Channels::Names(n) => n.clone(),
            Channels::All => Vec::new(),
        };
        let jagged = native_mode && t.realign_native.is_none() && !opts.skip_pixels;
        let im = if opts.skip_pixels || jagged || into {
            Pixels::zeros(DType::U8, &[0])
        } else {
            let nb = channel_names.len();
            let frames = plan.fill_frames(windows, nb);
            self.check_stacked(&frames, r.is_video)?;
            Pixels::from_frames(frames, r.is_video)?
        };

        let mut target_out = r.target.clone();
        // Per-call annotation options are echoed only if they came with the target.
        target_out.visible_thresh = target.visible_thresh;
        let params = SampleParams {
            offset: [-x0, -y0],
            sample_ltrb: [x0, y0, x1, y1],
            st_dims: [[y0, y1], [x0, x1]],
            data_dims: r.data_dims,
            time_span: r.time_span,
            scale: [sx, sy],
            channels: channel_names,
            warps,
        };
        let sample = Sample {
            im,
            target: target_out,
            params,
            frames: frames_out,
            native: jagged.then_some(native_parts),
        };
        Ok((sample, into))
    }

    /// Sizes a sample's pixels before anything is read or allocated, from
    /// the shape and dtype its read will have (the target's `dtype`, else
    /// what the frames' files and `nodata` give: float where a requested
    /// band is missing): a sample above the configured `max_sample_bytes` is
    /// [`Error::TooLarge`], naming the limit and the request.
    ///
    /// Returns, for a sample of several real frames without a `dtype`, the
    /// frames' dtypes promoted to one, which every frame is read as
    /// ([`ReadOptions::promote_to`]: a frame lacking a band is float, so
    /// every frame is read as float, each keeping its own padding).
    fn size_pixels(
        &self,
        r: &Resolved,
        [out_h, out_w]: [usize; 2],
        channels: &Channels,
        read_opts: &ReadOptions,
    ) -> Result<Option<DType>> {
        let real = r.frames.iter().flatten().count();
        let named = match channels {
            Channels::Names(n) => Some(n.len()),
            Channels::All => None,
        };
        let mut kind = None;
        if (real > 1 && read_opts.dtype.is_none()) || named.is_none() {
            kind = Some(self.frames_kind(&r.frames, channels, read_opts)?);
        }
        let bands = named.or(kind.map(|k| k.1)).unwrap_or(0);
        let shape = if r.is_video {
            vec![r.frames.len(), out_h, out_w, bands]
        } else {
            vec![out_h, out_w, bands]
        };
        let too_large = |bytes: Option<u64>| Error::TooLarge {
            shape: shape.clone(),
            bytes,
            limit: self.max_sample_bytes,
        };
        let elements = shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
            .ok_or_else(|| too_large(None))?;
        let dtype = match (read_opts.dtype, kind) {
            (Some(d), _) | (None, Some((d, _))) => d,
            // one frame: its read gives the dtype; the files are looked at
            // only when the sample could be too large at 8 bytes an element
            (None, None) => {
                if elements
                    .checked_mul(8)
                    .is_some_and(|b| b <= self.max_sample_bytes)
                {
                    return Ok(None);
                }
                let k = self.frames_kind(&r.frames, channels, read_opts)?;
                kind = Some(k);
                k.0
            }
        };
        let bytes = elements
            .checked_mul(dtype.size() as u64)
            .ok_or_else(|| too_large(None))?;
        if bytes > self.max_sample_bytes {
            return Err(too_large(Some(bytes)));
        }
        Ok(kind
            .filter(|_| real > 1 && read_opts.dtype.is_none())
            .map(|k| k.0))
    }

    /// Refuses frames whose stack (all promoted to one dtype, as
    /// [`Pixels::from_frames`] makes it) would exceed `max_sample_bytes`:
    /// frames realigned at native resolution are sized one by one, and one
    /// frame's dtype can widen the others'.
    fn check_stacked(&self, frames: &[Window], is_video: bool) -> Result<()> {
        let Some(dtype) = frames.iter().map(Window::dtype).reduce(DType::promote) else {
            return Ok(());
        };
        let (h, w, c) = frames[0].shape();
        let shape = if is_video {
            vec![frames.len(), h, w, c]
        } else {
            vec![h, w, c]
        };
        let bytes = frames.iter().try_fold(0u64, |acc, f| {
            let (h, w, c) = f.shape();
            [h, w, c, dtype.size()]
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
                .and_then(|b| acc.checked_add(b))
        });
        if bytes.is_none_or(|b| b > self.max_sample_bytes) {
            return Err(Error::TooLarge {
                shape,
                bytes,
                limit: self.max_sample_bytes,
            });
        }
        Ok(())
    }

    /// The dtype (promoted over the real frames) and band count of the
    /// windows the reader makes of `frames` with `channels` and `opts`;
    /// frames without a file are left to the read to report. With no real
    /// frame: the target's dtype (float32 by default) and the named bands.
    fn frames_kind(
        &self,
        frames: &[Option<ImageId>],
        channels: &Channels,
        opts: &ReadOptions,
    ) -> Result<(DType, usize)> {
        let mut out: Option<(DType, usize)> = None;
        for g in frames.iter().flatten() {
            let Some(info) = self.tables.frame(*g)? else {
                continue;
            };
            let Some(src) = info.source.as_ref() else {
                continue;
            };
            let (d, n) = self
                .reader
                .window_kind(src, channels, opts)
                .map_err(|e| Error::Read {
                    image_id: g.0,
                    source: Box::new(e),
                })?;
            out = Some(match out {
                Some((d0, n0)) => (d0.promote(d), n0.max(n)),
                None => (d, n),
            });
        }
        Ok(out.unwrap_or_else(|| {
            let n = match channels {
                Channels::Names(n) => n.len(),
                Channels::All => 0,
            };
            (opts.dtype.unwrap_or(DType::F32), n)
        }))
    }

    /// One real frame of a sample: its pixels (unless skipped), its
    /// sample-from-image warp, and its annotations in sample space.
    fn load_frame(&self, gid: ImageId, plan: &FramePlan<'_>) -> Result<LoadedFrame> {
        self.load_frame_dest(gid, plan, None)
    }

    /// [`CocoSampler::load_frame`], the pixels written into `dest` when given
    /// (the frame's window is then `None`; `plan.padkw` must be `None`).
    fn load_frame_dest(
        &self,
        gid: ImageId,
        plan: &FramePlan<'_>,
        dest: Option<&mut frame_backends::WindowMut<'_>>,
    ) -> Result<LoadedFrame> {
        let info = self.tables.frame(gid)?.ok_or(Error::UnknownId {
            key: "image_id",
            table: "image",
            id: gid.0,
        })?;
        let (out_h, out_w) = (plan.out_h, plan.out_w);
        let sample_from_img = plan.space_from_img(&info).then(&plan.sample_from_vid);
        let win = if plan.opts.skip_pixels {
            None
        } else {
            let source = info.source.as_ref().ok_or_else(|| Error::BadTarget {
                key: "image_id",
                msg: format!("image {} has neither a file_name nor assets", gid.0),
            })?;
            let read_err = |e| Error::Read {
                image_id: gid.0,
                source: Box::new(e),
            };
            if let Some(dest) = dest {
                self.reader
                    .read_warped_into(
                        source,
                        &sample_from_img,
                        &plan.channels,
                        &plan.read_opts,
                        dest,
                    )
                    .map_err(read_err)?;
                return self.frame_annots_of(gid, &info, plan, &sample_from_img, None);
            }
            let win = self
                .reader
                .read_warped(
                    source,
                    out_h,
                    out_w,
                    &sample_from_img,
                    &plan.channels,
                    &plan.read_opts,
                )
                .map_err(read_err)?;
            match plan.padkw {
                None => Some(win),
                Some(kw) => {
                    let img = self.image(gid, "image_id")?;
                    let dims = self.image_dims(&img, "image_id")?;
                    Some(crate::padding::repad(
                        win,
                        &sample_from_img,
                        dims,
                        kw,
                        gid.0,
                    )?)
                }
            }
        };
        self.frame_annots_of(gid, &info, plan, &sample_from_img, win)
    }

    /// A loaded frame: `win` and the annotations the plan asks for.
    fn frame_annots_of(
        &self,
        gid: ImageId,
        info: &FrameInfo,
        plan: &FramePlan<'_>,
        sample_from_img: &Affine,
        win: Option<Window>,
    ) -> Result<LoadedFrame> {
        let (out_h, out_w) = (plan.out_h, plan.out_w);
        let req = &plan.annots;
        let annots = if req.with.any() {
            let window_img = plan
                .window_vid
                .warp(&plan.img_from_space(info))
                .quantize_outward();
            self.frame_annots(
                gid,
                &window_img,
                sample_from_img,
                req.visible_thresh,
                req.with,
                req.filter.as_ref(),
                plan.opts
                    .clip
                    .then_some(&BBox::from_ltrb(0.0, 0.0, out_w as f64, out_h as f64)),
            )?
        } else {
            Vec::new()
        };
        let frame = SampleFrame {
            image_id: Some(gid.0),
            annots,
        };
        Ok(LoadedFrame {
            window: win,
            warp: Some(sample_from_img.matrix()),
            frame,
        })
    }

    /// Turn the target's channel code into the bands to read. No code and
    /// `<all>` both mean every band any frame of the sample has, in declared
    /// order: each frame's own bands in their native order (main file, then
    /// assets), frames in sample order, a band listed once where it is first
    /// seen (a frame without some of them has NaN there, as the reference's
    /// union of a multisensor video's bands). The reference sorts the bands
    /// of video targets by name; here they keep their declared order on
    /// every path (docs/DESIGN.md §7).
    fn resolve_channels(
        &self,
        code: Option<&ChannelCode>,
        frames: &[Option<ImageId>],
    ) -> Result<Channels> {
        match code {
            // Parsed with the full kwcoco grammar when the target was read.
            Some(code) if code.code().trim() != "<all>" => Ok(code.channels().clone()),
            _ => {
                let mut all: Vec<String> = Vec::new();
                let mut seen: HashSet<Vec<String>> = HashSet::new();
                for g in frames.iter().flatten() {
                    let names = self.native_band_names(*g)?;
                    if all.is_empty() {
                        all = names.clone();
                    } else if !seen.contains(&names) {
                        for n in &names {
                            if !all.contains(n) {
                                all.push(n.clone());
                            }
                        }
                    }
                    seen.insert(names);
                }
                Ok(Channels::Names(all))
            }
        }
    }

    /// The bands of an image in native order (main file, then assets), naming
    /// unnamed files' bands from their band count as kwcoco does.
    fn native_band_names(&self, gid: ImageId) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let Some(info) = self.tables.frame(gid)? else {
            return Ok(names);
        };
        let Some(src) = info.source.as_ref() else {
            return Ok(names);
        };
        for a in &src.assets {
            let own;
            let bands = if a.channels.is_empty() {
                let raster = self.reader.open_asset(&a.path).map_err(|e| Error::Read {
                    image_id: gid.0,
                    source: Box::new(e),
                })?;
                own = frame_backends::default_band_names(raster.info().bands);
                &own
            } else {
                &a.channels
            };
            for c in bands {
                if !names.contains(c) {
                    names.push(c.clone());
                }
            }
        }
        Ok(names)
    }

    #[allow(clippy::too_many_arguments)]
    fn frame_annots(
        &self,
        gid: ImageId,
        window_img: &BBox,
        sample_from_img: &Affine,
        visible_thresh: f64,
        with: WithAnnots,
        filter: Option<&HashSet<i64>>,
        clip: Option<&BBox>,
    ) -> Result<Vec<SampleAnnot>> {
        let [l, t, r, b] = window_img.ltrb();
        let query = Aabb::new(l, t, r, b);
        let Some(index) = self.tables.image_boxes(gid)? else {
            return Ok(Vec::new());
        };
        let hits: Vec<(AnnotId, f64)> = match filter {
            Some(ids) => self
                .tables
                .annots_of_image(gid)?
                .into_iter()
                .filter(|a| ids.contains(&a.0))
                .map(|a| {
                    let vis = index
                        .get(&gid, &a)
                        .map(|bx| bx.visibility_in(&query))
                        .unwrap_or(0.0);
                    (a, vis)
                })
                .collect(),
            None => index
                .overlapping_visible(&gid, &query, visible_thresh)
                .into_iter()
                .map(|h| (h.id, h.visibility))
                .collect(),
        };
        let mut out = Vec::with_capacity(hits.len());
        for (aid, visibility) in hits {
            let Some(ann) = self.tables.annotation_on(&index, aid)? else {
                continue;
            };
            let Some(bbox) = index.get(&gid, &aid) else {
                continue;
            };
            let mut sbox =
                BBox::from_ltrb(bbox.x0, bbox.y0, bbox.x1, bbox.y1).warp(sample_from_img);
            if let Some(c) = clip {
                sbox = sbox.clip(c);
            }
            let geom = if with.segmentation || with.keypoints {
                Some(self.tables.geometry(&self.geometry, &ann)?)
            } else {
                None
            };
            let segmentation = match geom.as_ref().and_then(|g| {
                with.segmentation
                    .then_some(g.segmentation.as_ref())
                    .flatten()
            }) {
                Some(seg) => {
                    let what = || format!("segmentation of annotation {}", aid.0);
                    let seg = seg.warp(sample_from_img).map_err(|e| Error::Record {
                        what: what(),
                        msg: e.to_string(),
                    })?;
                    Some(match clip {
                        Some(c) => seg.clip_to_box(c).map_err(|e| Error::Record {
                            what: what(),
                            msg: e.to_string(),
                        })?,
                        None => seg,
                    })
                }
                None => None,
            };
            let (keypoints, keypoint_names) = match geom
                .as_ref()
                .filter(|_| with.keypoints)
                .and_then(|g| g.keypoints.as_ref().map(|k| (k, g.keypoint_names.clone())))
            {
                Some((kp, names)) => (Some(kp.warp(sample_from_img)), names),
                None => (None, None),
            };
            out.push(SampleAnnot {
                id: aid.0,
                category_id: ann.category_id.map(|c| c.0),
                bbox: sbox.xywh(),
                visibility,
                segmentation,
                keypoints,
                keypoint_names,
            });
        }
        Ok(out)
    }

    /// Annotations only (no pixels): the same frames and boxes as
    /// [`CocoSampler::load_sample`], without the read.
    pub fn load_target_annots(&self, target: &Target) -> Result<Sample> {
        self.load_sample_with(
            target,
            &SampleOptions {
                skip_pixels: true,
                ..SampleOptions::default()
            },
        )
    }
}
