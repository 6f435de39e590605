//! The sampler's error type: every failure names the target key or the record.

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the sampler.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A target key has a bad or inconsistent value.
    #[error("target key `{key}` {msg}")]
    BadTarget {
        /// The offending key of the target (docs/DESIGN.md §4).
        key: &'static str,
        /// What is wrong with it.
        msg: String,
    },
    /// A target names a record that is not in the dataset.
    #[error("target key `{key}`: no {table} with id {id} in the dataset")]
    UnknownId {
        /// Target key (`image_id`, `video_id`, `annot_id`, …).
        key: &'static str,
        /// Table searched.
        table: &'static str,
        /// The id given.
        id: i64,
    },
    /// A sample's pixels would exceed `SamplerConfig::max_sample_bytes`
    /// (checked before anything is allocated).
    #[error(
        "sample of shape {shape:?} needs {} which exceeds the limit of {limit} bytes \
         (SamplerConfig::max_sample_bytes; the CLI's --max-sample-mb)",
        bytes.map_or_else(|| "more than 2^64 bytes".to_string(), |b| format!("{b} bytes"))
    )]
    TooLarge {
        /// Output shape: `[H, W, C]`, or `[T, H, W, C]` for videos.
        shape: Vec<usize>,
        /// Bytes the pixels would take (`None`: beyond 2^64).
        bytes: Option<u64>,
        /// The configured limit.
        limit: u64,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A plan file is not valid JSON of the expected form.
    #[error("plan {path}: {source}")]
    PlanJson {
        /// The plan file.
        path: std::path::PathBuf,
        /// The JSON error (with line and column).
        source: serde_json::Error,
    },
    /// A plan file has the wrong structure.
    #[error("plan {path}: {msg}")]
    BadPlan {
        /// The plan file.
        path: std::path::PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A dataset record is malformed where the sampler needs it.
    #[error("{what}: {msg}")]
    Record {
        /// The record and field (`warp_img_to_vid of image 3`).
        what: String,
        /// What is wrong.
        msg: String,
    },
    /// Pixels of a frame could not be read.
    #[error("reading image {image_id}: {source}")]
    Read {
        /// The frame's image id.
        image_id: i64,
        /// The backend's error.
        source: Box<frame_backends::Error>,
    },
    /// The dataset could not be loaded.
    #[error(transparent)]
    Dataset(Box<coco_model::Error>),
    /// The spatial index refused the annotation boxes.
    #[error("annotation index: {0}")]
    Index(#[from] region_index::Error),
    /// The pixel backend could not be set up.
    #[error(transparent)]
    Backend(Box<frame_backends::Error>),
    /// Regions or grids could not be built.
    #[error(transparent)]
    Regions(Box<RegionError>),
    /// A snapshot could not be read or written.
    #[error(transparent)]
    Snapshot(Box<crate::snapshot::SnapshotError>),
    /// The target is not valid JSON of the expected form.
    #[error("target: {0}")]
    TargetJson(#[from] serde_json::Error),
    /// Masks, heatmaps, stitching or balanced plans could not be made.
    #[error(transparent)]
    Training(Box<TrainingError>),
}

impl From<TrainingError> for Error {
    fn from(e: TrainingError) -> Self {
        Error::Training(Box::new(e))
    }
}

/// Errors of the training helpers ([`crate::masks`], [`crate::stitch`],
/// the balanced plans of [`crate::plan`]). Messages name the option, window
/// or annotation at fault.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    /// An option cannot work (fix the named field).
    #[error("invalid {option}: {msg}")]
    BadOption {
        /// The option at fault (`sigma`, `window`, `weights`, …).
        option: &'static str,
        /// What is wrong with it.
        msg: String,
    },
    /// An annotation's geometry could not be rasterized.
    #[error("annotation {annot_id}: {source}")]
    Geometry {
        /// The annotation.
        annot_id: i64,
        /// The geometry layer's error.
        source: coco_model::geometry::GeometryError,
    },
}

// Lower-layer errors are boxed so `Result<Sample>` stays small on the hot path.
impl From<coco_model::Error> for Error {
    fn from(e: coco_model::Error) -> Self {
        Error::Dataset(Box::new(e))
    }
}

impl From<frame_backends::Error> for Error {
    fn from(e: frame_backends::Error) -> Self {
        Error::Backend(Box::new(e))
    }
}

impl From<RegionError> for Error {
    fn from(e: RegionError) -> Self {
        Error::Regions(Box::new(e))
    }
}

/// Errors of positive/negative regions and sample grids. Messages name the
/// setting, category, image or video at fault.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    /// A setting cannot work (fix the named field).
    #[error("invalid {field}: {msg}")]
    BadConfig {
        /// The setting at fault (`window`, `overlap`, `ratio`, …).
        field: &'static str,
        /// What is wrong with it.
        msg: String,
    },
    /// A class name is not a category of the dataset.
    #[error("{field}: no category named {name:?} in the dataset")]
    UnknownClass {
        /// Where the name was given.
        field: &'static str,
        /// The name.
        name: String,
    },
    /// An image or a video has no width/height, and none could be read from
    /// the image's file header.
    #[error("{what} has no width/height in the dataset{why}")]
    MissingSize {
        /// The record (`image 3`, `video 2 (nor its first frame)`).
        what: String,
        /// Why the file could not tell (`"; reading a.png: …"`), or empty.
        why: String,
    },
    /// A frame's `warp_img_to_vid` could not be read.
    #[error("warp_img_to_vid of image {image_id}: {msg}")]
    BadWarp {
        /// The frame.
        image_id: i64,
        /// What is wrong.
        msg: String,
    },
    /// The spatial index refused a box, or negative mining failed.
    #[error("regions: {0}")]
    Index(#[from] region_index::Error),
    /// A sampler's snapshot could not be read.
    #[error("regions: {0}")]
    Snapshot(Box<crate::snapshot::SnapshotError>),
}

impl From<crate::snapshot::SnapshotError> for RegionError {
    fn from(e: crate::snapshot::SnapshotError) -> Self {
        RegionError::Snapshot(Box::new(e))
    }
}
