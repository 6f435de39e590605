//! [`FrameReader`]: the object the sampler holds. It owns the backend choice, an
//! LRU of open file handles, and the shared decoded-chunk cache, and answers
//! crop reads ([`FrameReader::read_window`]) and warped reads
//! ([`FrameReader::read_warped`]) of an [`ImageSource`].

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lru::LruCache;
use parking_lot::Mutex;

use crate::cache::{self, CacheOutcome};
use crate::dtype::{DType, Pixel};
use crate::error::{Error, Result};
use crate::raster::RasterInfo;
use crate::raster::npy::{NpyRaster, write_npy_cache};
use crate::raster::{ChunkCache, Raster};
use crate::resample::{self, Interpolation, axis_taps, taps_span};
use crate::source::{AssetSource, Channels, ImageSource, default_band_names};
use crate::values::ValueRules;
use crate::window::{PixelBox, Window, WindowMut};
use crate::with_window;
use coco_geometry::Affine;

pub use crate::cog_options::{CogCompression, CogOptions, DEFAULT_ZSTD_LEVEL};
pub use crate::raster::open_raw;

/// Where pixels come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// Decode the dataset's files directly (tiles of tiled TIFFs, otherwise the
    /// whole image once, kept in the chunk cache).
    Raw,
    /// Convert each file once to a memory-mapped `.npy` under `workdir`.
    Npy {
        /// Cache root.
        workdir: PathBuf,
    },
    /// Convert each file once to a Cloud Optimized GeoTIFF under `workdir`
    /// (feature `gdal`); inputs that already are tiled TIFFs are used in place.
    Cog {
        /// Cache root.
        workdir: PathBuf,
        /// COG settings.
        options: CogOptions,
    },
}

impl Backend {
    /// The backend's name (`raw`, `npy`, `cog`).
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Raw => "raw",
            Backend::Npy { .. } => "npy",
            Backend::Cog { .. } => "cog",
        }
    }
}

/// Default of [`ReaderOptions::max_read_bytes`]: 4 GiB.
pub const DEFAULT_MAX_READ_BYTES: usize = 4 << 30;

/// Largest factor by which a read may shrink the source along an axis (after
/// picking an overview): beyond it one output pixel would average more than a
/// million source pixels per axis, and the filter tables alone would not fit.
pub const MAX_DOWNSCALE: f64 = (1u64 << 20) as f64;

/// Largest source coordinate (in pixels, either sign) a read may reach: far
/// beyond any image, small enough that every coordinate is an exact integer in
/// `f64` and no sum of two overflows `i64`.
const MAX_COORD: f64 = (1u64 << 52) as f64;

/// Tuning of a [`FrameReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Byte budget of the decoded-chunk cache shared by all threads (default 512 MiB).
    pub chunk_cache_bytes: usize,
    /// Open file handles kept (default 256).
    pub max_open: usize,
    /// Most bytes one read may allocate for its output, for the source region
    /// it decodes and resamples, and for building a cache file from a whole
    /// source (default [`DEFAULT_MAX_READ_BYTES`]). Checked before allocating;
    /// a request over it is [`Error::TooLarge`] naming the request and the limit.
    pub max_read_bytes: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            chunk_cache_bytes: 512 << 20,
            max_open: 256,
            max_read_bytes: DEFAULT_MAX_READ_BYTES,
        }
    }
}

/// Options of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Resampling method where resampling happens (default linear).
    pub interpolation: Interpolation,
    /// Antialias when downscaling (default true; ignored for nearest).
    pub antialias: bool,
    /// Output dtype (default: the source's, see [`FrameReader::read_warped`]).
    pub dtype: Option<DType>,
    /// `nodata: "float"`: integer data comes back as f32 with NaN padding.
    pub nodata_float: bool,
    /// The output dtype when `dtype` is not given, in place of the sources'
    /// own (the frames of one sample promoted to one dtype); unlike `dtype`
    /// it keeps each source's padding: 0 for integer data.
    pub promote_to: Option<DType>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            interpolation: Interpolation::Linear,
            antialias: true,
            dtype: None,
            nodata_float: false,
            promote_to: None,
        }
    }
}

impl ReadOptions {
    /// Whether a resampling by `scale` along an axis is antialiased: a
    /// linear or cubic downscale with `antialias` on (area needs no blur,
    /// nearest never blurs).
    pub fn blurs(&self, scale: f64) -> bool {
        self.antialias
            && scale < 1.0
            && matches!(
                self.interpolation,
                Interpolation::Linear | Interpolation::Cubic
            )
    }

    /// Whether padding (off the image, off an asset) is NaN in an output of
    /// `out` read from a source of `src`: where the data is float (a float
    /// file or a dequantized asset, `nodata: "float"`, or a float `dtype`
    /// asked for). Integer data is padded with 0 even in a float output that
    /// is float for a missing band's NaN or a promotion, as the reference
    /// pads each file's integer data before it joins the bands.
    pub fn pads_with_nan(&self, src: DType, out: DType) -> bool {
        out.is_float()
            && (src.is_float() || self.nodata_float || self.dtype.is_some_and(DType::is_float))
    }
}

/// A window of padding: NaN or 0 as [`ReadOptions::pads_with_nan`] says.
fn padding(dtype: DType, shape: (usize, usize, usize), nan: bool) -> Window {
    match dtype {
        DType::F32 if !nan => Window::F32(ndarray::Array3::zeros(shape)),
        DType::F64 if !nan => Window::F64(ndarray::Array3::zeros(shape)),
        _ => Window::filled(dtype, shape),
    }
}

/// Cache-building counters of a reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// Cache files built by this reader.
    pub built: u64,
    /// Invalid cache files found and rebuilt.
    pub rebuilt: u64,
    /// Decoded-chunk cache hits.
    pub chunk_hits: u64,
    /// Decoded-chunk cache misses (decodes).
    pub chunk_misses: u64,
}

struct Group {
    raster: Arc<dyn Raster>,
    to_image: Affine,
    bands: Vec<usize>,
    out_idx: Vec<usize>,
}

/// Reads windows of images through one backend. `Send + Sync`: share it with an
/// `Arc` between threads.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use frame_backends::{Backend, Channels, FrameReader, ImageSource, PixelBox, ReadOptions};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("img.png");
/// image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 7])).save(&path)?;
///
/// let reader = FrameReader::new(Backend::Npy { workdir: dir.path().join("work") })?;
/// let src = ImageSource::single(&path, 64, 48);
/// let win = reader.read_window(&src, PixelBox::new(40, 56, -4, 12)?, &Channels::from_code("g|r")?, &ReadOptions::default())?;
/// let a = win.as_array::<u8>().unwrap();
/// assert_eq!(a.dim(), (16, 16, 2));
/// assert_eq!((a[[0, 4, 0]], a[[0, 4, 1]]), (40, 0)); // g = y, r = x at (y=40, x=0)
/// assert_eq!(a[[15, 15, 0]], 0); // row 55 is past the image: padding
/// # Ok(()) }
/// ```
pub struct FrameReader {
    backend: Backend,
    /// Where the headers of remote TIFFs are kept between processes.
    remote_headers: Option<PathBuf>,
    max_read_bytes: usize,
    chunks: Arc<ChunkCache>,
    open: Mutex<LruCache<PathBuf, Arc<dyn Raster>>>,
    built: AtomicU64,
    rebuilt: AtomicU64,
}

impl std::fmt::Debug for FrameReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReader")
            .field("backend", &self.backend)
            .field("stats", &self.stats())
            .finish()
    }
}

impl FrameReader {
    /// A reader with default [`ReaderOptions`].
    pub fn new(backend: Backend) -> Result<FrameReader> {
        FrameReader::with_options(backend, ReaderOptions::default())
    }

    /// A reader with explicit tuning. Fails for [`Backend::Cog`] without the
    /// `gdal` feature.
    pub fn with_options(backend: Backend, options: ReaderOptions) -> Result<FrameReader> {
        if matches!(backend, Backend::Cog { .. }) && !cfg!(feature = "gdal") {
            return Err(Error::FeatureDisabled {
                backend: "cog",
                feature: "gdal",
            });
        }
        let cap = NonZeroUsize::new(options.max_open.max(1)).unwrap_or(NonZeroUsize::MIN);
        let remote_headers = match &backend {
            Backend::Raw => None,
            Backend::Npy { workdir } | Backend::Cog { workdir, .. } => {
                Some(workdir.join("_frame_cache").join("remote_headers"))
            }
        };
        Ok(FrameReader {
            backend,
            remote_headers,
            max_read_bytes: options.max_read_bytes,
            chunks: Arc::new(ChunkCache::new(options.chunk_cache_bytes)),
            open: Mutex::new(LruCache::new(cap)),
            built: AtomicU64::new(0),
            rebuilt: AtomicU64::new(0),
        })
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Keep the headers of remote TIFFs (feature `remote`) in `dir`, so that
    /// another process opens them with no request (see `remote` module of
    /// this crate; headers are checked against the object's size and ETag on
    /// its first request). The `npy` and `cog` backends keep them in
    /// `WORKDIR/_frame_cache/remote_headers` unless told otherwise; the raw
    /// backend keeps none unless given a directory. `None` keeps none.
    pub fn with_remote_header_dir(mut self, dir: Option<PathBuf>) -> FrameReader {
        self.remote_headers = dir;
        self
    }

    /// Where this reader keeps the headers of remote TIFFs, if anywhere.
    pub fn remote_header_dir(&self) -> Option<&Path> {
        self.remote_headers.as_deref()
    }

    /// Run a read; when a remote file of `src` turned out to have changed
    /// since its header was read ([`Error::RemoteChanged`]), drop the
    /// handles of `src`'s remote files and run it once more (the files are
    /// reopened with their new headers).
    fn retry_changed<T>(
        &self,
        src: &ImageSource,
        mut read: impl FnMut() -> Result<T>,
    ) -> Result<T> {
        match read() {
            Err(Error::RemoteChanged { .. }) => {
                let mut open = self.open.lock();
                for a in &src.assets {
                    if crate::is_url(&a.path) {
                        open.pop(&a.path);
                    }
                }
                drop(open);
                read()
            }
            r => r,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> ReaderStats {
        let c = self.chunks.stats();
        ReaderStats {
            built: self.built.load(Ordering::Relaxed),
            rebuilt: self.rebuilt.load(Ordering::Relaxed),
            chunk_hits: c.hits,
            chunk_misses: c.misses,
        }
    }

    /// `Ok` when `dims` (multiplied) fit [`ReaderOptions::max_read_bytes`].
    fn budget(&self, what: impl FnOnce() -> String, dims: &[usize]) -> Result<()> {
        match crate::window::checked_bytes(dims) {
            Some(n) if n <= self.max_read_bytes => Ok(()),
            _ => Err(Error::TooLarge {
                what: what(),
                bytes: dims
                    .iter()
                    .map(|&d| d as u128)
                    .fold(1u128, u128::saturating_mul),
                limit: self.max_read_bytes,
            }),
        }
    }

    fn count(&self, o: CacheOutcome) {
        match o {
            CacheOutcome::Built => {
                self.built.fetch_add(1, Ordering::Relaxed);
            }
            CacheOutcome::Rebuilt => {
                self.rebuilt.fetch_add(1, Ordering::Relaxed);
            }
            CacheOutcome::Existing | CacheOutcome::InPlace => {}
        }
    }

    /// Opens an asset's file header (raw, whatever the backend) and checks it
    /// against what the dataset declares for it (size and band count, see the
    /// rule on [`AssetSource`]): what `validate` reports ahead of sampling.
    ///
    /// Errors: [`Error::Mismatch`], or the error opening the file.
    pub fn check_asset(&self, asset: &AssetSource) -> Result<()> {
        let raster = self.open_raw(&asset.path, Arc::new(ChunkCache::new(0)))?;
        check_declared(asset, raster.info())
    }

    /// The handle of a file through this reader's backend (building its cache if
    /// needed), from the LRU of open handles.
    pub fn open_asset(&self, path: &Path) -> Result<Arc<dyn Raster>> {
        if let Some(r) = self.open.lock().get(path) {
            return Ok(r.clone());
        }
        let (r, outcome) = self.open_uncached(path)?;
        self.count(outcome);
        self.open.lock().put(path.to_path_buf(), r.clone());
        Ok(r)
    }

    /// Build (or validate) the cache of one file without keeping it open, for
    /// warm-up. [`CacheOutcome::InPlace`] for the raw backend.
    pub fn prepare(&self, path: &Path) -> Result<CacheOutcome> {
        if matches!(self.backend, Backend::Raw) {
            self.open_raw(path, Arc::new(ChunkCache::new(0)))?;
            return Ok(CacheOutcome::InPlace);
        }
        let (_, outcome) = self.open_uncached(path)?;
        self.count(outcome);
        Ok(outcome)
    }

    /// Verify the cache entry of one file now, even if this process verified it
    /// before (`ndsampler cache --verify`): its checksum and structure are
    /// checked, and a mismatching entry is logged and rebuilt.
    /// [`CacheOutcome::Existing`] when it was valid, [`CacheOutcome::Rebuilt`]
    /// when it was rebuilt, [`CacheOutcome::Built`] when there was none,
    /// [`CacheOutcome::InPlace`] when the source is used in place.
    pub fn verify(&self, path: &Path) -> Result<CacheOutcome> {
        if matches!(self.backend, Backend::Raw) {
            return self.prepare(path);
        }
        if let Some(cache) = self.cache_path_of(path)? {
            // `prepare` then hashes it again, and logs and rebuilds a mismatch.
            cache::forget_verified(&cache);
        }
        self.open.lock().pop(path);
        self.prepare(path)
    }

    /// The cache file this reader uses for `source` (`None` for the raw backend).
    pub fn cache_path_of(&self, source: &Path) -> Result<Option<PathBuf>> {
        match &self.backend {
            Backend::Raw => Ok(None),
            Backend::Npy { workdir } => {
                cache::cache_path(workdir, "npy", "", source, "npy").map(Some)
            }
            Backend::Cog { workdir, options } => {
                cache::cache_path(workdir, "cog", &options.key(), source, "tif").map(Some)
            }
        }
    }

    fn open_uncached(&self, path: &Path) -> Result<(Arc<dyn Raster>, CacheOutcome)> {
        match &self.backend {
            Backend::Raw => Ok((
                self.open_raw(path, self.chunks.clone())?,
                CacheOutcome::InPlace,
            )),
            Backend::Npy { workdir } => {
                let cpath = cache::cache_path(workdir, "npy", "", path, "npy")?;
                let src = self.open_raw(path, Arc::new(ChunkCache::new(0)))?;
                let want = src.info().clone();
                self.budget(
                    || format!("caching all of {}", path.display()),
                    &[want.height, want.width, want.bands, want.dtype.size()],
                )?;
                let validate = |p: &Path| {
                    let r = NpyRaster::open(p)?;
                    let i = r.info();
                    if (i.height, i.width, i.bands, i.dtype)
                        != (want.height, want.width, want.bands, want.dtype)
                    {
                        return Err(Error::decode(
                            p,
                            format!(
                                "shape {}×{}×{} {} does not match the source's {}×{}×{} {}",
                                i.height,
                                i.width,
                                i.bands,
                                i.dtype,
                                want.height,
                                want.width,
                                want.bands,
                                want.dtype
                            ),
                        ));
                    }
                    Ok(r)
                };
                let (r, outcome) =
                    cache::ensure(&cpath, validate, |f, _| write_npy_cache(&*src, f, &cpath))?;
                Ok((
                    crate::raster::with_nodata(Arc::new(r), want.nodata),
                    outcome,
                ))
            }
            #[cfg(feature = "gdal")]
            Backend::Cog { workdir, options } => crate::cog::open_cog(
                workdir,
                options,
                path,
                self.chunks.clone(),
                self.remote_headers.as_deref(),
                |dims| self.budget(|| format!("caching all of {}", path.display()), dims),
            ),
            #[cfg(not(feature = "gdal"))]
            Backend::Cog { .. } => Err(Error::FeatureDisabled {
                backend: "cog",
                feature: "gdal",
            }),
        }
    }

    /// [`open_raw`] with this reader's directory of remote headers.
    fn open_raw(&self, path: &Path, chunks: Arc<ChunkCache>) -> Result<Arc<dyn Raster>> {
        crate::raster::open_raw_in(path, chunks, self.remote_headers.as_deref())
    }

    /// Open an asset (see [`FrameReader::open_asset`]) and check the file
    /// against what the dataset declares for it (see [`check_declared`]).
    fn open_declared(&self, asset: &AssetSource) -> Result<Arc<dyn Raster>> {
        let r = self.open_asset(&asset.path)?;
        check_declared(asset, r.info())?;
        Ok(r)
    }

    /// Resolve `channels` against the image's assets: the output band names and,
    /// per asset used, which file bands go to which output channels, each
    /// asset's raster with its value rules (file nodata with
    /// `opts.nodata_float`, quantization; see [`crate::values`]).
    fn plan(
        &self,
        src: &ImageSource,
        channels: &Channels,
        opts: &ReadOptions,
    ) -> Result<(Vec<String>, Vec<Group>, bool)> {
        let mut names_of: Vec<Option<Vec<String>>> = vec![None; src.assets.len()];
        let mut rasters: Vec<Option<Arc<dyn Raster>>> = vec![None; src.assets.len()];
        for (i, a) in src.assets.iter().enumerate() {
            if a.channels.is_empty() {
                let r = self.open_declared(a)?;
                names_of[i] = Some(default_band_names(r.info().bands));
                rasters[i] = Some(r);
            } else {
                names_of[i] = Some(a.channels.clone());
            }
        }
        let names_of: Vec<Vec<String>> = names_of
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        let wanted: Vec<String> = match channels {
            Channels::Names(n) => n.clone(),
            Channels::All if names_of.len() == 1 => names_of[0].clone(),
            // every band of every asset in declared order (assets in order,
            // each asset's bands in order; a name seen twice is read from
            // the first asset that has it), as kwcoco's default
            Channels::All => {
                let mut all: Vec<String> = Vec::new();
                for n in names_of.iter().flatten() {
                    if !all.contains(n) {
                        all.push(n.clone());
                    }
                }
                all
            }
        };
        if wanted.is_empty() {
            return Err(Error::invalid(
                "no channels requested (and the image has none)",
            ));
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of_asset: Vec<Option<usize>> = vec![None; src.assets.len()];
        let mut missing = false;
        for (k, name) in wanted.iter().enumerate() {
            let found = names_of
                .iter()
                .enumerate()
                .find_map(|(i, ns)| ns.iter().position(|n| n == name).map(|b| (i, b)));
            let Some((ai, band)) = found else {
                missing = true;
                continue;
            };
            let gi = match group_of_asset[ai] {
                Some(g) => g,
                None => {
                    let raster = match rasters[ai].take() {
                        Some(r) => r,
                        None => self.open_declared(&src.assets[ai])?,
                    };
                    let a = &src.assets[ai];
                    let raster = ValueRules::wrap(raster, opts.nodata_float, a.quantization);
                    groups.push(Group {
                        raster,
                        to_image: src.assets[ai].to_image,
                        bands: vec![],
                        out_idx: vec![],
                    });
                    group_of_asset[ai] = Some(groups.len() - 1);
                    groups.len() - 1
                }
            };
            groups[gi].bands.push(band);
            groups[gi].out_idx.push(k);
        }
        Ok((wanted, groups, missing))
    }

    /// Read the window `[y0, y1) × [x0, x1)` of image space. Same as
    /// [`FrameReader::read_warped`] with an integer translation, which takes the
    /// pure-copy path for assets at image resolution.
    pub fn read_window(
        &self,
        src: &ImageSource,
        window: PixelBox,
        channels: &Channels,
        opts: &ReadOptions,
    ) -> Result<Window> {
        let t = Affine::translate(-(window.x0 as f64), -(window.y0 as f64));
        self.read_warped(src, window.height(), window.width(), &t, channels, opts)
    }

    /// Fill an `out_h × out_w` grid whose pixels map to image space through
    /// `out_from_image` (image edge coordinates → output edge coordinates).
    ///
    /// Each asset is read through `out_from_image · warp_aux_to_img`: a pure
    /// integer translation copies pixels (no resampling); anything else resamples
    /// (see [`crate::resample`] for the conventions and antialiasing) from only the
    /// source region the output needs, from the nearest finer overview level when
    /// the file has overviews and the output is downscaled.
    ///
    /// Output dtype: `opts.dtype` if given; otherwise the assets' common dtype
    /// (mixed dtypes promote as numpy's concatenation does: [`DType::promote`]), turned to float (f32 /
    /// f64) when a requested band is missing or `opts.nodata_float` is set.
    /// Padding is 0 in integer outputs and NaN in float outputs; missing bands are
    /// NaN (0 if an integer dtype was forced). Resampled integer data is rounded
    /// and saturated.
    pub fn read_warped(
        &self,
        src: &ImageSource,
        out_h: usize,
        out_w: usize,
        out_from_image: &Affine,
        channels: &Channels,
        opts: &ReadOptions,
    ) -> Result<Window> {
        self.retry_changed(src, || {
            let (names, groups, missing) = self.plan(src, channels, opts)?;
            let out_dtype = Self::out_dtype(&groups, missing, opts);
            self.warped_from_plan(
                (src.height, src.width),
                (names.len(), &groups, missing),
                out_h,
                out_w,
                out_from_image,
                opts,
                out_dtype,
            )
        })
    }

    /// The dtype and band count of the window [`FrameReader::read_warped`]
    /// returns for `src`, `channels` and `opts`, without reading pixels (the
    /// files are opened for their headers): what a caller needs to size an
    /// output before reading, exactly as the read will make it.
    pub fn window_kind(
        &self,
        src: &ImageSource,
        channels: &Channels,
        opts: &ReadOptions,
    ) -> Result<(DType, usize)> {
        self.retry_changed(src, || {
            let (names, groups, missing) = self.plan(src, channels, opts)?;
            Ok((Self::out_dtype(&groups, missing, opts), names.len()))
        })
    }

    /// The dtype [`FrameReader::read_warped`] returns for a plan.
    fn out_dtype(groups: &[Group], missing: bool, opts: &ReadOptions) -> DType {
        let base = groups
            .iter()
            .map(|g| g.raster.info().dtype)
            .reduce(DType::promote)
            .unwrap_or(DType::F32);
        opts.dtype
            .or(opts.promote_to)
            .unwrap_or(if missing || opts.nodata_float {
                base.to_float()
            } else {
                base
            })
    }

    /// [`FrameReader::read_warped`] written into `out` (a slot of a batch
    /// array) instead of a new window: `out`'s shape gives the output size and
    /// must have as many bands as `channels` selects, and its dtype must be
    /// the one `read_warped` would return (else an error saying both). A
    /// window that is a plain crop of one file at full resolution (the common
    /// training window) is copied straight from the file's rows into `out`;
    /// anything else is read as usual and copied in.
    pub fn read_warped_into(
        &self,
        src: &ImageSource,
        out_from_image: &Affine,
        channels: &Channels,
        opts: &ReadOptions,
        out: &mut WindowMut<'_>,
    ) -> Result<()> {
        self.retry_changed(src, || {
            self.read_warped_into_once(src, out_from_image, channels, opts, out)
        })
    }

    /// One attempt of [`FrameReader::read_warped_into`].
    fn read_warped_into_once(
        &self,
        src: &ImageSource,
        out_from_image: &Affine,
        channels: &Channels,
        opts: &ReadOptions,
        out: &mut WindowMut<'_>,
    ) -> Result<()> {
        let (out_h, out_w, out_c) = out.shape();
        let (names, groups, missing) = self.plan(src, channels, opts)?;
        let out_dtype = Self::out_dtype(&groups, missing, opts);
        if out_dtype != out.dtype() || names.len() != out_c {
            return Err(Error::invalid(format!(
                "the window is {} with {} band(s) but its slot is {} with {out_c}",
                out_dtype.name(),
                names.len(),
                out.dtype().name()
            )));
        }
        if !out_from_image.is_finite() {
            return Err(Error::invalid(format!(
                "transform {:?} is not finite",
                out_from_image.matrix()
            )));
        }
        if let [g] = groups.as_slice()
            && !missing
            && g.out_idx.iter().enumerate().all(|(i, &k)| i == k)
            && g.raster.info().dtype == out_dtype
        {
            let m = *out_from_image * g.to_image;
            if m.is_finite()
                && let Some((tx, ty)) = m.integer_translation()
                && !(asset_beyond_image(g.raster.info(), &g.to_image, (src.height, src.width))
                    && sees_beyond_image((src.height, src.width), out_from_image, out_h, out_w))
            {
                let region = crop_region(tx, ty, out_h, out_w)?;
                return g.raster.read_region_into(0, region, &g.bands, out);
            }
        }
        let w = self.warped_from_plan(
            (src.height, src.width),
            (names.len(), &groups, missing),
            out_h,
            out_w,
            out_from_image,
            opts,
            out_dtype,
        )?;
        out.assign(&w)
    }

    /// The body of [`FrameReader::read_warped`] once the channels are planned.
    #[allow(clippy::too_many_arguments)]
    fn warped_from_plan(
        &self,
        image_dims: (usize, usize),
        (n, groups, missing): (usize, &[Group], bool),
        out_h: usize,
        out_w: usize,
        out_from_image: &Affine,
        opts: &ReadOptions,
        out_dtype: DType,
    ) -> Result<Window> {
        self.budget(
            || format!("a {out_h}×{out_w}×{n} {out_dtype} window"),
            &[out_h, out_w, n, out_dtype.size()],
        )?;
        if !out_from_image.is_finite() {
            return Err(Error::invalid(format!(
                "transform {:?} is not finite",
                out_from_image.matrix()
            )));
        }
        let mut out = if groups.len() == 1
            && !missing
            && groups[0].out_idx.iter().enumerate().all(|(i, &k)| i == k)
        {
            let g = &groups[0];
            let m = *out_from_image * g.to_image;
            self.read_group(&*g.raster, &m, out_h, out_w, &g.bands, opts, out_dtype)?
        } else {
            let mut out = Window::filled(out_dtype, (out_h, out_w, n));
            for g in groups {
                let m = *out_from_image * g.to_image;
                let w = self.read_group(&*g.raster, &m, out_h, out_w, &g.bands, opts, out_dtype)?;
                scatter(&w, &mut out, &g.out_idx)?;
            }
            out
        };
        if groups
            .iter()
            .any(|g| asset_beyond_image(g.raster.info(), &g.to_image, image_dims))
        {
            let nan = groups
                .iter()
                .any(|g| opts.pads_with_nan(g.raster.info().dtype, out_dtype));
            cut_to_image(&mut out, image_dims, out_from_image, opts, nan)?;
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn read_group(
        &self,
        raster: &dyn Raster,
        out_from_asset: &Affine,
        out_h: usize,
        out_w: usize,
        bands: &[usize],
        opts: &ReadOptions,
        out_dtype: DType,
    ) -> Result<Window> {
        let info = raster.info();
        let path = &info.path;
        if !out_from_asset.is_finite() {
            return Err(Error::invalid(format!(
                "{}: the transform to the output is not finite",
                path.display()
            )));
        }
        if let Some((tx, ty)) = out_from_asset.integer_translation() {
            let region = crop_region(tx, ty, out_h, out_w)?;
            let w = raster.read_region(0, region, bands)?;
            if w.dtype() == out_dtype {
                return Ok(w);
            }
            let nan = !w.dtype().is_float() && opts.pads_with_nan(w.dtype(), out_dtype);
            let mut w = w.convert(out_dtype);
            if nan {
                nan_outside(&mut w, region, PixelBox::full(info.height, info.width));
            }
            return Ok(w);
        }
        // Pick the coarsest level that is still at least as fine as the output.
        let (sx, sy) = out_from_asset.axis_scales();
        let max_factor = 1.0 / sx.max(sy);
        let mut level = 0;
        for (l, &(lh, lw)) in info.levels.iter().enumerate().skip(1) {
            let f = (info.width as f64 / lw as f64).max(info.height as f64 / lh as f64);
            if f <= max_factor * (1.0 + 1e-6) {
                level = l;
            }
        }
        let (lh, lw) = info.levels[level];
        let pad_nan = opts.pads_with_nan(info.dtype, out_dtype);
        if lh == 0 || lw == 0 {
            return Ok(padding(out_dtype, (out_h, out_w, bands.len()), pad_nan));
        }
        let asset_from_level = Affine::scale(
            info.width as f64 / lw as f64,
            info.height as f64 / lh as f64,
        );
        let out_from_level = *out_from_asset * asset_from_level;
        self.check_resample(&out_from_level, out_h, out_w, path)?;
        let fill = if pad_nan { f32::NAN } else { 0.0 };
        let interp = opts.interpolation;
        let res = if let Some((ax, tx, ay, ty)) = out_from_level.scale_translation() {
            let txs = axis_taps(out_w, ax, tx, interp, opts.antialias);
            let tys = axis_taps(out_h, ay, ty, interp, opts.antialias);
            let (x0, x1) = taps_span(&txs);
            let (y0, y1) = taps_span(&tys);
            let region = PixelBox { y0, y1, x0, x1 };
            let c = bands.len();
            self.budget(
                || format!("the source region {region:?} of {}", path.display()),
                &[region.height(), region.width(), c, 4],
            )?;
            // The horizontal pass's intermediate: source rows × output columns.
            self.budget(
                || format!("resampling {} rows to {out_w} columns", region.height()),
                &[region.height(), out_w, c, 4],
            )?;
            // Antialiased axes: the blur folded into the taps sees the image
            // reflected at its edges (as kwimage blurs the whole image before
            // it warps), and an output pixel whose centre is off the image is
            // padding; on other axes padding is the fill, which the
            // interpolation next to an edge mixes in as the reference's
            // constant-border warp does.
            let ext = (opts.blurs(ay), opts.blurs(ax));
            let Some(s) = read_extended(raster, level, region, bands, (lh, lw), ext)? else {
                return Ok(padding(out_dtype, (out_h, out_w, c), pad_nan));
            };
            let mut res = resample::separable(&s, y0, x0, &tys, &txs)?;
            if !region.intersect(&PixelBox::full(lh, lw)).eq(&region) {
                let keep = |aa: bool, n_out: usize, s: f64, t: f64, n: usize| -> Vec<bool> {
                    (0..n_out)
                        .map(|j| is_image_pixel((j as f64 + 0.5 - t) / s, n, aa, interp))
                        .collect()
                };
                let rows = keep(ext.0, out_h, ay, ty, lh);
                let cols = keep(ext.1, out_w, ax, tx, lw);
                fill_outside(&mut res, |i, j| rows[i] && cols[j], fill);
            }
            res
        } else {
            let pts = source_corners(&out_from_level, out_h, out_w)?;
            let (lsx, lsy) = out_from_level.axis_scales();
            let aa = opts.antialias && interp != Interpolation::Nearest;
            let sig_x = if aa && lsx < 1.0 { 0.5 / lsx } else { 0.0 };
            let sig_y = if aa && lsy < 1.0 { 0.5 / lsy } else { 0.0 };
            let margin = interp.radius().ceil() + 1.0 + 3.0 * sig_x.max(sig_y);
            // Finite and below 2^52 + 2^22 (check_resample), so `as` is exact.
            let fl = |v: f64| v.floor() as i64;
            let bx = (
                fl(pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min) - margin),
                fl(pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max) + margin) + 1,
            );
            let by = (
                fl(pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) - margin),
                fl(pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max) + margin) + 1,
            );
            let m = margin as i64 + 1;
            let bound = PixelBox {
                y0: -m,
                y1: lh as i64 + m,
                x0: -m,
                x1: lw as i64 + m,
            };
            let region = PixelBox {
                y0: by.0,
                y1: by.1,
                x0: bx.0,
                x1: bx.1,
            }
            .intersect(&bound);
            if region.is_empty() {
                return Ok(padding(out_dtype, (out_h, out_w, bands.len()), pad_nan));
            }
            self.budget(
                || format!("the source region {region:?} of {}", path.display()),
                &[region.height(), region.width(), bands.len(), 4],
            )?;
            // The blur sees the image reflected at its edges, the warp the
            // fill off the image (kwimage: blur the whole image, then a
            // constant-border warp).
            let aa = sig_x > 0.0 || sig_y > 0.0;
            let Some(mut s) = read_extended(raster, level, region, bands, (lh, lw), (aa, aa))?
            else {
                return Ok(padding(out_dtype, (out_h, out_w, bands.len()), pad_nan));
            };
            let src_fill = if raster.info().dtype.is_float() {
                f32::NAN
            } else {
                0.0
            };
            let inside = region.intersect(&PixelBox::full(lh, lw));
            if aa {
                s = resample::gaussian_blur(&s, sig_y, sig_x);
            }
            if aa && inside != region {
                fill_outside(
                    &mut s,
                    |i, j| {
                        let (y, x) = (region.y0 + i as i64, region.x0 + j as i64);
                        (inside.y0..inside.y1).contains(&y) && (inside.x0..inside.x1).contains(&x)
                    },
                    src_fill,
                );
            }
            let out_from_region =
                out_from_level * Affine::translate(region.x0 as f64, region.y0 as f64);
            let mut res = resample::general(&s, out_h, out_w, &out_from_region, interp, src_fill)?;
            if inside != region {
                let level_from_out = out_from_level.inverse()?;
                fill_outside(
                    &mut res,
                    |i, j| {
                        let [u, v] = level_from_out.apply([j as f64 + 0.5, i as f64 + 0.5]);
                        is_image_pixel(u, lw, aa, interp) && is_image_pixel(v, lh, aa, interp)
                    },
                    fill,
                );
            }
            res
        };
        Ok(Window::from(res).convert(out_dtype))
    }
}

/// The output grid's four corners mapped back into source (level) space.
fn source_corners(out_from_level: &Affine, out_h: usize, out_w: usize) -> Result<[(f64, f64); 4]> {
    let inv = out_from_level.inverse()?;
    let (h, w) = (out_h as f64, out_w as f64);
    Ok([(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)].map(|(x, y)| {
        let [u, v] = inv.apply([x, y]);
        (u, v)
    }))
}

impl FrameReader {
    /// Refuse a resampling whose source coordinates or filter sizes cannot be
    /// represented (see [`MAX_COORD`], [`MAX_DOWNSCALE`]) or whose filter
    /// tables would exceed the budget, before computing any of them.
    fn check_resample(
        &self,
        out_from_level: &Affine,
        out_h: usize,
        out_w: usize,
        path: &Path,
    ) -> Result<()> {
        for (u, v) in source_corners(out_from_level, out_h, out_w)? {
            let inside = |c: f64| c.abs() <= MAX_COORD; // false for NaN
            if !inside(u) || !inside(v) {
                return Err(Error::invalid(format!(
                    "{}: the output maps to source coordinates ({u}, {v}), beyond ±2^52",
                    path.display()
                )));
            }
        }
        let (sx, sy) = out_from_level.axis_scales();
        let shrink = 1.0 / sx.min(sy);
        if shrink.is_nan() || shrink > MAX_DOWNSCALE {
            return Err(Error::invalid(format!(
                "{}: the transform shrinks the source {shrink}× along an axis (at most 2^20× after picking an overview)",
                path.display()
            )));
        }
        // Filter weights: per output sample at most 3·shrink + 8 taps of 4 bytes.
        let taps = (3.0 * shrink.max(1.0) + 8.0).ceil() as usize;
        self.budget(
            || format!("filter tables for a {out_h}×{out_w} output"),
            &[out_h.max(out_w), taps, 2, 4],
        )?;
        Ok(())
    }
}

/// The rule between a dataset and its files: a declared `width` / `height`
/// (non-zero) must equal the file's, and declared channels must name exactly the
/// file's bands. Anything else is [`Error::Mismatch`] naming the file and both
/// sides: a smaller file would otherwise read as padding, a larger one would be
/// cropped, and extra bands would be dropped, all without a word.
pub(crate) fn check_declared(asset: &AssetSource, info: &RasterInfo) -> Result<()> {
    let known = |v: usize| {
        if v == 0 {
            "?".to_string()
        } else {
            v.to_string()
        }
    };
    if (asset.width != 0 && asset.width != info.width)
        || (asset.height != 0 && asset.height != info.height)
    {
        return Err(Error::Mismatch {
            path: asset.path.clone(),
            declared: format!("{}×{} pixels", known(asset.width), known(asset.height)),
            found: format!("{}×{} pixels", info.width, info.height),
        });
    }
    if !asset.channels.is_empty() && asset.channels.len() != info.bands {
        let mut names = asset.channels.join("|");
        if names.len() > 80 {
            let cut = (0..=77)
                .rev()
                .find(|&i| names.is_char_boundary(i))
                .unwrap_or(0);
            names.truncate(cut);
            names.push('…');
        }
        return Err(Error::Mismatch {
            path: asset.path.clone(),
            declared: format!("{} bands ({names})", asset.channels.len()),
            found: format!("{} bands", info.bands),
        });
    }
    Ok(())
}

/// Whether a `w × h` rectangle (from the origin) mapped by `m` leaves the
/// image `(height, width)` by more than `eps` (0 = unknown size: never).
fn rect_leaves_image(m: &Affine, (w, h): (f64, f64), (ih, iw): (usize, usize), eps: f64) -> bool {
    if ih == 0 || iw == 0 {
        return false;
    }
    [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)]
        .iter()
        .any(|&(x, y)| {
            let [u, v] = m.apply([x, y]);
            u < -eps || v < -eps || u > iw as f64 + eps || v > ih as f64 + eps
        })
}

/// Whether an asset (`info`, placed by `to_image`) reaches beyond its image
/// (`(height, width)`) by more than a hair.
fn asset_beyond_image(info: &RasterInfo, to_image: &Affine, image: (usize, usize)) -> bool {
    let size = (info.width as f64, info.height as f64);
    rect_leaves_image(to_image, size, image, 1e-6)
}

/// Whether some pixel of an `out_h × out_w` output lies off the image
/// (`(height, width)`) seen through `out_from_image` (a hair of float error
/// at an edge is not beyond it).
fn sees_beyond_image(
    image: (usize, usize),
    out_from_image: &Affine,
    out_h: usize,
    out_w: usize,
) -> bool {
    match out_from_image.inverse() {
        Ok(img_from_out) => {
            rect_leaves_image(&img_from_out, (out_w as f64, out_h as f64), image, 1e-9)
        }
        Err(_) => image.0 != 0 && image.1 != 0,
    }
}

/// Sets the output pixels that lie off the image (`(height, width)`, seen
/// through `out_from_image`) to the fill: an asset reaching beyond its
/// image is cut at the image's edge, as the reference warps every asset onto
/// its image's own canvas before cropping. Off the image means what
/// [`is_image_pixel`] says per axis (an axis-aligned transform) or for the
/// pixel's centre (any other).
fn cut_to_image(
    out: &mut Window,
    (h, w): (usize, usize),
    out_from_image: &Affine,
    opts: &ReadOptions,
    nan: bool,
) -> Result<()> {
    let (out_h, out_w, _) = out.shape();
    if !sees_beyond_image((h, w), out_from_image, out_h, out_w) {
        return Ok(());
    }
    let keep: Box<dyn Fn(usize, usize) -> bool> =
        if let Some((ax, tx, ay, ty)) = out_from_image.scale_translation() {
            let axis = |n_out: usize, s: f64, t: f64, n: usize| -> Vec<bool> {
                (0..n_out)
                    .map(|j| {
                        is_image_pixel(
                            (j as f64 + 0.5 - t) / s,
                            n,
                            opts.blurs(s),
                            opts.interpolation,
                        )
                    })
                    .collect()
            };
            let rows = axis(out_h, ay, ty, h);
            let cols = axis(out_w, ax, tx, w);
            Box::new(move |i, j| rows[i] && cols[j])
        } else {
            let inv = out_from_image.inverse()?;
            let (sx, sy) = out_from_image.axis_scales();
            let aa = opts.blurs(sx.min(sy));
            let interp = opts.interpolation;
            Box::new(move |i, j| {
                let [u, v] = inv.apply([j as f64 + 0.5, i as f64 + 0.5]);
                is_image_pixel(u, w, aa, interp) && is_image_pixel(v, h, aa, interp)
            })
        };
    fn go<T: Pixel>(a: &mut ndarray::Array3<T>, keep: &dyn Fn(usize, usize) -> bool, v: T) {
        let (h, w, _) = a.dim();
        for i in 0..h {
            for j in 0..w {
                if !keep(i, j) {
                    a.slice_mut(ndarray::s![i, j, ..]).fill(v);
                }
            }
        }
    }
    // (only windows that see an asset beyond its image get here: rare)
    let (f32_fill, f64_fill) = if nan {
        (f32::NAN, f64::NAN)
    } else {
        (0.0, 0.0)
    };
    match out {
        Window::U8(a) => go(a, &*keep, 0),
        Window::U16(a) => go(a, &*keep, 0),
        Window::I16(a) => go(a, &*keep, 0),
        Window::F32(a) => go(a, &*keep, f32_fill),
        Window::F64(a) => go(a, &*keep, f64_fill),
    }
    Ok(())
}

/// Whether an output pixel whose centre maps to the source edge coordinate
/// `u` (of an axis of `n` pixels) is image rather than padding: after an
/// antialiasing blur (`aa`) or with nearest, when its centre is on the image;
/// otherwise when its interpolation weighs some image pixel (the fill it
/// mixes in at an edge is the source's own, as a constant-border warp's).
/// Padding pixels take the output's fill (NaN for float outputs).
fn is_image_pixel(u: f64, n: usize, aa: bool, interp: Interpolation) -> bool {
    if aa || interp == Interpolation::Nearest {
        return u >= 0.0 && u < n as f64;
    }
    let (c, r) = (u - 0.5, interp.radius());
    c > -r && c < n as f64 - 1.0 + r
}

/// Sets every pixel of `a` for which `keep(row, col)` is false to `fill`.
fn fill_outside(a: &mut ndarray::Array3<f32>, keep: impl Fn(usize, usize) -> bool, fill: f32) {
    let (h, w, c) = a.dim();
    if let Some(s) = a.as_slice_mut() {
        for i in 0..h {
            for j in 0..w {
                if !keep(i, j) {
                    s[(i * w + j) * c..(i * w + j + 1) * c].fill(fill);
                }
            }
        }
    } else {
        for ((i, j, _), v) in a.indexed_iter_mut() {
            if !keep(i, j) {
                *v = fill;
            }
        }
    }
}

/// Index `i` of an axis of `n ≥ 1` pixels reflected about the edge pixels
/// (OpenCV's `BORDER_REFLECT_101`: `… 2 1 | 0 1 2 … n-1 | n-2 …`).
fn reflect101(i: i64, n: usize) -> i64 {
    let n = n as i64;
    if n <= 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let m = i.rem_euclid(period);
    if m >= n { period - m } else { m }
}

/// The block `region` of `level` (`lh × lw` pixels) as f32. Along an axis
/// flagged in `reflect` (`(rows, columns)`) the part off the level is taken
/// from inside it by [`reflect101`] (what kwimage's blur before a downscale
/// sees at an image's edge), so that no blur mixes padding into a pixel of
/// the image; along other axes it is the source's own fill (0 for integer
/// data, NaN for float data: what an integer image's constant-border warp
/// mixes in before any conversion to float). `None` when the block does not
/// meet the level at all.
fn read_extended(
    raster: &dyn Raster,
    level: usize,
    region: PixelBox,
    bands: &[usize],
    (lh, lw): (usize, usize),
    reflect: (bool, bool),
) -> Result<Option<ndarray::Array3<f32>>> {
    let inside = region.intersect(&PixelBox::full(lh, lw));
    if inside.is_empty() {
        return Ok(None);
    }
    if inside == region || !(reflect.0 || reflect.1) {
        return Ok(Some(raster.read_region(level, region, bands)?.to_f32()));
    }
    let fill = if raster.info().dtype.is_float() {
        f32::NAN
    } else {
        0.0
    };
    // each block index → a level index, or None for fill
    let map = |lo: i64, hi: i64, n: usize, refl: bool| -> Vec<Option<i64>> {
        (lo..hi)
            .map(|i| {
                if refl {
                    Some(reflect101(i, n))
                } else {
                    (0..n as i64).contains(&i).then_some(i)
                }
            })
            .collect()
    };
    let rows = map(region.y0, region.y1, lh, reflect.0);
    let cols = map(region.x0, region.x1, lw, reflect.1);
    let span = |v: &[Option<i64>]| {
        let lo = v.iter().flatten().copied().min().unwrap_or(0);
        let hi = v.iter().flatten().copied().max().map_or(lo, |h| h + 1);
        (lo, hi)
    };
    let ((y0, y1), (x0, x1)) = (span(&rows), span(&cols));
    let src = raster
        .read_region(level, PixelBox { y0, y1, x0, x1 }, bands)?
        .to_f32();
    let c = src.dim().2;
    let mut out = ndarray::Array3::<f32>::from_elem((rows.len(), cols.len(), c), fill);
    for (i, r) in rows.iter().enumerate() {
        let Some(r) = r else { continue };
        for (j, q) in cols.iter().enumerate() {
            let Some(q) = q else { continue };
            out.slice_mut(ndarray::s![i, j, ..])
                .assign(&src.slice(ndarray::s![(r - y0) as usize, (q - x0) as usize, ..]));
        }
    }
    Ok(Some(out))
}

/// Set the pixels of a float window (covering `region`) that fall outside
/// `inside` to NaN.
fn nan_outside(w: &mut Window, region: PixelBox, inside: PixelBox) {
    fn go<T: Pixel>(a: &mut ndarray::Array3<T>, region: PixelBox, inside: PixelBox) {
        let ov = region.intersect(&inside);
        let (h, wd, _) = a.dim();
        for y in 0..h {
            let yy = region.y0 + y as i64;
            let row_in = yy >= ov.y0 && yy < ov.y1;
            for x in 0..wd {
                let xx = region.x0 + x as i64;
                if !(row_in && xx >= ov.x0 && xx < ov.x1) {
                    a.slice_mut(ndarray::s![y, x, ..]).fill(T::FILL);
                }
            }
        }
    }
    match w {
        Window::F32(a) => go(a, region, inside),
        Window::F64(a) => go(a, region, inside),
        _ => {}
    }
}

/// Copy the channels of `src` into `dst` at channel indices `out_idx`.
fn scatter(src: &Window, dst: &mut Window, out_idx: &[usize]) -> Result<()> {
    fn go<T: Pixel>(s: &ndarray::Array3<T>, dst: &mut Window, out_idx: &[usize]) -> Result<()> {
        let d = T::unwrap_mut(dst).ok_or_else(|| Error::invalid("scatter dtype mismatch"))?;
        for (k, &o) in out_idx.iter().enumerate() {
            d.index_axis_mut(ndarray::Axis(2), o)
                .assign(&s.index_axis(ndarray::Axis(2), k));
        }
        Ok(())
    }
    with_window!(src, a => go(a, dst, out_idx))
}

/// The source region an `out_h × out_w` output reads through an integer
/// translation by `(tx, ty)` (|tx|, |ty| < 2^53 from `integer_translation`;
/// the ends are checked).
fn crop_region(tx: i64, ty: i64, out_h: usize, out_w: usize) -> Result<PixelBox> {
    let end = |t: i64, n: usize| {
        i64::try_from(n)
            .ok()
            .and_then(|n| n.checked_sub(t))
            .ok_or_else(|| Error::invalid(format!("window end {n} − {t} overflows")))
    };
    Ok(PixelBox {
        y0: -ty,
        y1: end(ty, out_h)?,
        x0: -tx,
        x1: end(tx, out_w)?,
    })
}
