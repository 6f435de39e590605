//! # sampler
//!
//! `CocoSampler`: random access to windows of a kwcoco dataset's images and
//! videos, with the annotations that fall in each window expressed in the
//! window's coordinates — the core of `ndsampler` (docs/DESIGN.md §3–§5). One code path
//! serves 2D images (image space) and 3D videos (video space, frames by
//! `frame_index`): every option (pad, channels, scale, dtype, annotations) works
//! in both.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use sampler::{CocoSampler, SamplerConfig, Target};
//!
//! // A 64×48 gray image with one annotation (a dataset is usually loaded from disk).
//! let dir = tempfile::tempdir()?;
//! image::GrayImage::from_fn(64, 48, |x, y| image::Luma([(x + y) as u8])).save(dir.path().join("a.png"))?;
//! let json = r#"{"categories": [{"id": 1, "name": "cat"}],
//!   "images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48}],
//!   "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [10, 10, 8, 6]}]}"#;
//! let dset = coco_model::CocoDataset::from_json_str(json, dir.path())?;
//! let sampler = CocoSampler::new(Arc::new(dset), SamplerConfig::default())?;
//!
//! // Centre on the annotation with 4 px of context on every side.
//! let target: Target = serde_json::from_str(r#"{"annot_id": 7, "pad": 4}"#)?;
//! let sample = sampler.load_sample(&target)?;
//! assert_eq!(sample.im.shape(), &[14, 16, 1]);
//! let ann = &sample.frames[0].annots[0];
//! assert_eq!((ann.id, ann.bbox), (7, [4.0, 4.0, 8.0, 6.0]));
//! # Ok(()) }
//! ```
//!
//! ## Tour
//! - [`Target`] (JSON form of docs/DESIGN.md §4) → [`CocoSampler::resolve`] →
//!   [`CocoSampler::load_sample`] → [`Sample`] (`im`, resolved `target`,
//!   `params`, per-frame annotations). Out-of-range numbers fail when the
//!   target is parsed ([`target::MAX_COORD`]); a sample larger than
//!   [`SamplerConfig::max_sample_bytes`] fails before anything is allocated.
//! - [`image_source`]: the adapter from a kwcoco image record to
//!   `frame-backends`' plain `ImageSource` (paths, band names, asset warps).
//! - [`regions`]: positives, negatives mined through `region-index`, per-epoch
//!   preselection, covering positives; [`grid`]: sliding-window grids over images
//!   and videos with exact positive/negative indexes.
//! - [`plan`]: reproducible, shardable sample plans; [`loader`]: the ordered,
//!   bounded parallel batch loader.
//! - [`augment`]: random affine augmentation drawn from `(seed, epoch, index)`
//!   (the matrices; not yet applied by the sampler).
//! - [`masks`]: class masks, instance masks and keypoint heatmaps of a
//!   sample's annotations, aligned with its pixels.
//! - [`stitch`]: a [`stitch::Stitcher`] accumulating window predictions into
//!   a full image with mean or Gaussian overlap weighting.
//! - [`snapshot`]: a memory-mapped snapshot of the records the sampler needs,
//!   keyed by the JSON's content hash: [`CocoSampler::open`] uses a valid one
//!   (milliseconds instead of seconds for a million annotations, one copy of
//!   the tables shared by every worker process); [`Regions::from_sampler`]
//!   mines from its columns.
//!
//! ## Feature flags
//! - `gdal`: the COG cache backend of `frame-backends`.

pub mod augment;
pub mod batch;
mod coco_source;
pub mod error;
mod frames;
pub mod geometry_cache;
pub mod grid;
pub mod loader;
pub mod locality;
pub mod masks;
mod padding;
pub mod pixels;
pub mod plan;
pub mod regions;
mod rng;
mod sampler;
pub mod snapshot;
pub mod stitch;
pub mod target;

pub use coco_source::image_source;
pub use error::{Error, RegionError, Result, TrainingError};
pub use geometry_cache::{DEFAULT_GEOMETRY_CACHE_BYTES, GeometryCacheStats};
pub use grid::{GridConfig, SampleGrid, sample_grid};
pub use pixels::Pixels;
pub use regions::{NegativeOptions, PreselectConfig, Regions};
pub use sampler::{
    CocoSampler, DEFAULT_IMAGE_CACHE_ENTRIES, DEFAULT_MAX_SAMPLE_BYTES, NativePart, Resolved,
    Sample, SampleAnnot, SampleFrame, SampleOptions, SampleParams, SamplerConfig, WithAnnots,
    default_workdir, load_dataset, native_json,
};
pub use target::{
    ChannelCode, Nodata, Pad, PadKw, PadMode, RealignNative, Scale, Target, WindowDims,
};
