//! Entry points: key → bundle directory.

mod big;
mod common;
mod shapes;
mod video;

pub(crate) use video::BOX_PAD_FRACTION;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::bundle::{Tables, write_dataset};
use crate::error::{Error, Result};
use crate::key::DatasetKey;
use crate::progress::{ProgressFn, Reporter};
use crate::rng::Seeds;

/// Outputs with more pixels than this report their progress in
/// [`generate_with_progress`] (smaller ones finish too fast to need it).
pub const PROGRESS_PIXELS: u64 = 8 << 20;

/// What a generation wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Canonical key (with the effective seed).
    pub key: String,
    /// The seed used.
    pub seed: u64,
    /// `…/data.kwcoco.json`.
    pub dataset_path: PathBuf,
    /// Number of videos.
    pub videos: usize,
    /// Number of images (frames).
    pub images: usize,
    /// Number of annotations.
    pub annotations: usize,
    /// Number of image files written (main images and assets).
    pub files: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |count: usize, what: &str| {
            format!("{count} {what}{}", if count == 1 { "" } else { "s" })
        };
        write!(
            f,
            "{}: {}",
            self.dataset_path.display(),
            n(self.images, "image")
        )?;
        if self.videos > 0 {
            write!(f, " in {}", n(self.videos, "video"))?;
        }
        write!(
            f,
            ", {}, {} (key {}, seed {})",
            n(self.annotations, "annotation"),
            n(self.files, "image file"),
            self.key,
            self.seed
        )
    }
}

/// Generate the dataset named by `key` into the bundle directory `out_dir`
/// (created if missing; files of the same names are overwritten, other files
/// are left alone).
///
/// The effective seed is `seed`, else the key's `seed{K}` token, else 0. The
/// same key and seed give byte-identical files on every machine.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let summary = toydata::generate("shapes2-gsize64", None, dir.path()).unwrap();
/// assert_eq!(summary.images, 2);
/// assert!(dir.path().join("data.kwcoco.json").exists());
/// assert!(dir.path().join("images/img_00001.png").exists());
/// ```
pub fn generate(key: &str, seed: Option<u64>, out_dir: &Path) -> Result<Summary> {
    run(key, seed, out_dir, None)
}

/// [`generate`], reporting the progress of large outputs (more than
/// [`PROGRESS_PIXELS`] pixels) to `on_progress` (see [`Progress`](crate::Progress)).
/// Returns the summary (its `Display` is a one-line report).
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// let rows = AtomicU64::new(0);
/// let count = |p: toydata::Progress<'_>| {
///     if let toydata::Progress::Advance(n) = p {
///         rows.fetch_add(n, Ordering::Relaxed);
///     }
/// };
/// let dir = tempfile::tempdir().unwrap();
/// toydata::generate_with_progress("big1-gsize3000", None, dir.path(), &count).unwrap();
/// assert_eq!(rows.load(Ordering::Relaxed), 3000); // one unit per pixel row
/// ```
pub fn generate_with_progress(
    key: &str,
    seed: Option<u64>,
    out_dir: &Path,
    on_progress: ProgressFn<'_>,
) -> Result<Summary> {
    run(key, seed, out_dir, Some(on_progress))
}

/// [`generate`] from a parsed key.
pub fn generate_key(key: &DatasetKey, seed: Option<u64>, out_dir: &Path) -> Result<Summary> {
    run_key(key, seed, out_dir, None)
}

fn run(
    key: &str,
    seed: Option<u64>,
    out_dir: &Path,
    progress: Option<ProgressFn<'_>>,
) -> Result<Summary> {
    let parsed = DatasetKey::parse(key)?;
    run_key(&parsed, seed, out_dir, progress)
}

/// Total pixels written (upper bound), for the progress decision.
fn total_pixels(key: &DatasetKey) -> u64 {
    match key {
        DatasetKey::Shapes(s) => u64::from(s.num_images) * u64::from(s.width) * u64::from(s.height),
        DatasetKey::VidShapes(s) => {
            u64::from(s.num_videos)
                * u64::from(s.num_frames)
                * u64::from(s.width)
                * u64::from(s.height)
                * 2
        }
        DatasetKey::Big(s) => u64::from(s.num_images) * u64::from(s.width) * u64::from(s.height),
    }
}

fn run_key(
    key: &DatasetKey,
    seed: Option<u64>,
    out_dir: &Path,
    progress: Option<ProgressFn<'_>>,
) -> Result<Summary> {
    let seed = seed.or(key.seed()).unwrap_or(0);
    let key = key.clone().with_seed(None);
    let seeds = Seeds::new(&key.canonical_without_seed(), seed);
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let ctx = Ctx {
        seeds,
        out_dir: out_dir.to_path_buf(),
        progress: progress.filter(|_| total_pixels(&key) > PROGRESS_PIXELS),
    };
    let (tables, files): (Tables, usize) = match &key {
        DatasetKey::Shapes(spec) => shapes::generate(spec, &ctx)?,
        DatasetKey::VidShapes(spec) => video::generate(spec, &ctx)?,
        DatasetKey::Big(spec) => big::generate(spec, &ctx)?,
    };
    let videos = tables.len_of("videos");
    let images = tables.len_of("images");
    let annotations = tables.len_of("annotations");
    let dataset_path = write_dataset(out_dir, tables)?;
    Ok(Summary {
        key: key.with_seed(Some(seed)).to_string(),
        seed,
        dataset_path,
        videos,
        images,
        annotations,
        files,
    })
}

/// What every generator needs.
pub(crate) struct Ctx<'a> {
    pub seeds: Seeds,
    pub out_dir: PathBuf,
    /// Where progress goes (`None`: small output or nobody listening).
    pub progress: Option<ProgressFn<'a>>,
}

impl<'a> Ctx<'a> {
    /// Starts reporting a stage of `total` units.
    pub(crate) fn progress(&self, total: u64, stage: &str) -> Reporter<'a> {
        Reporter::start(self.progress, total, stage)
    }
}
