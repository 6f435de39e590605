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
    check_size(key, false)?;
    run_key(key, seed, out_dir, None)
}

/// Largest output [`generate`] writes without [`GenerateOptions::allow_large`]:
/// 20 GiB, as estimated by [`estimated_bytes`] before anything is written.
pub const MAX_OUTPUT_BYTES: u64 = 20 << 30;

/// Options of [`generate_with`].
#[derive(Clone, Copy, Default)]
pub struct GenerateOptions<'a> {
    /// Generate even when [`estimated_bytes`] exceeds [`MAX_OUTPUT_BYTES`]
    /// (the CLI's `--allow-large`).
    pub allow_large: bool,
    /// Where progress of large outputs goes (see [`generate_with_progress`]).
    pub progress: Option<ProgressFn<'a>>,
}

impl std::fmt::Debug for GenerateOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenerateOptions")
            .field("allow_large", &self.allow_large)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// [`generate`] with options: the size limit can be lifted and progress reported.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let err = toydata::generate_with("big100000-gsize65536", None, dir.path(), Default::default()).unwrap_err();
/// assert!(err.to_string().contains("above the limit of 20 GiB"), "{err}");
/// assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none()); // nothing written
/// ```
pub fn generate_with(
    key: &str,
    seed: Option<u64>,
    out_dir: &Path,
    opts: GenerateOptions<'_>,
) -> Result<Summary> {
    let parsed = DatasetKey::parse(key)?;
    check_size(&parsed, opts.allow_large)?;
    run_key(&parsed, seed, out_dir, opts.progress)
}

/// An upper estimate of the bytes a key writes: every pixel of every image
/// and asset uncompressed (3 bytes each; twice over for videos, whose `msi` /
/// `aux` / `randgsize` variants write more), plus about 300 bytes of JSON per
/// image and per annotation. Saturates instead of overflowing.
///
/// ```
/// let key: toydata::DatasetKey = "shapes8".parse().unwrap();
/// assert!(toydata::estimated_bytes(&key) < toydata::MAX_OUTPUT_BYTES);
/// let key: toydata::DatasetKey = "vidshapes100000-frames100000".parse().unwrap();
/// assert!(toydata::estimated_bytes(&key) > toydata::MAX_OUTPUT_BYTES);
/// ```
pub fn estimated_bytes(key: &DatasetKey) -> u64 {
    const RECORD: u64 = 300;
    let (images, annots) = match key {
        DatasetKey::Shapes(s) => (u64::from(s.num_images), u64::from(s.num_images) * 4),
        DatasetKey::VidShapes(s) => {
            let frames = u64::from(s.num_videos).saturating_mul(u64::from(s.num_frames));
            (frames, frames.saturating_mul(u64::from(s.num_tracks)))
        }
        DatasetKey::Big(s) => (
            u64::from(s.num_images),
            u64::from(s.num_images).saturating_mul(u64::from(s.annots_per_image)),
        ),
    };
    total_pixels(key)
        .saturating_mul(3)
        .saturating_add(images.saturating_add(annots).saturating_mul(RECORD))
}

/// Refuses keys whose [`estimated_bytes`] exceed [`MAX_OUTPUT_BYTES`] unless allowed.
fn check_size(key: &DatasetKey, allow_large: bool) -> Result<()> {
    let estimate = estimated_bytes(key);
    if allow_large || estimate <= MAX_OUTPUT_BYTES {
        return Ok(());
    }
    let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
    Err(Error::key(
        &key.to_string(),
        format!(
            "the output would be about {:.1} GiB, above the limit of {} GiB; pass --allow-large \
             (library: GenerateOptions::allow_large) to generate it anyway",
            gib(estimate),
            MAX_OUTPUT_BYTES >> 30
        ),
    ))
}

fn run(
    key: &str,
    seed: Option<u64>,
    out_dir: &Path,
    progress: Option<ProgressFn<'_>>,
) -> Result<Summary> {
    generate_with(
        key,
        seed,
        out_dir,
        GenerateOptions {
            allow_large: false,
            progress,
        },
    )
}

/// Total pixels written (upper bound, saturating), for the progress decision
/// and [`estimated_bytes`].
fn total_pixels(key: &DatasetKey) -> u64 {
    let area = |w: u32, h: u32| u64::from(w) * u64::from(h);
    match key {
        DatasetKey::Shapes(s) => u64::from(s.num_images).saturating_mul(area(s.width, s.height)),
        DatasetKey::VidShapes(s) => u64::from(s.num_videos)
            .saturating_mul(u64::from(s.num_frames))
            .saturating_mul(area(s.width, s.height))
            .saturating_mul(2),
        DatasetKey::Big(s) => u64::from(s.num_images).saturating_mul(area(s.width, s.height)),
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
