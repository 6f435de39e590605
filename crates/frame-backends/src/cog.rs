//! The COG cache (feature `gdal`): each source converted once, with GDAL's COG
//! driver, to a tiled Cloud Optimized GeoTIFF — lossless by default (ZSTD with a
//! predictor), tile size configurable (256 by default), overviews built with
//! `AVERAGE`. Reading does not go through GDAL: the pure-Rust tiled reader decodes
//! tiles of the memory-mapped file into the shared chunk cache, from any thread.
//! Sources that already are tiled TIFFs (with overviews, or small) are used in place.

use std::path::Path;
use std::sync::Arc;

use gdal::raster::{Buffer, GdalType, RasterCreationOptions};
use gdal::{Dataset, DriverManager};

use crate::cache::{self, CacheOutcome};
use crate::cog_options::{CogCompression, CogOptions};
use crate::dtype::{DType, Pixel};
use crate::error::{Error, Result};
use crate::raster::gdal_raster::gerr;
use crate::raster::open_raw_in;
use crate::raster::tiff::TiffRaster;
use crate::raster::{ChunkCache, Raster};
use crate::window::{PixelBox, Window};

/// Open (building if needed) the COG cache of `source`; `budget` checks that
/// decoding the whole source (`[height, width, bands, sample bytes]`) is allowed.
/// The headers of remote sources are kept in `header_dir` (see `crate::remote`).
pub(crate) fn open_cog(
    workdir: &Path,
    options: &CogOptions,
    source: &Path,
    chunks: Arc<ChunkCache>,
    header_dir: Option<&Path>,
    budget: impl Fn(&[usize]) -> Result<()>,
) -> Result<(Arc<dyn Raster>, CacheOutcome)> {
    let ext = source
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if (ext == "tif" || ext == "tiff")
        && let Ok(r) = open_tiff(source, chunks.clone(), header_dir)
    {
        let i = r.info();
        if r.is_tiled()
            && (i.levels.len() > 1 || i.width.max(i.height) <= 2 * options.tile_size.max(256))
        {
            return Ok((Arc::new(r), CacheOutcome::InPlace));
        }
    }
    let cpath = cache::cache_path(workdir, "cog", &options.key(), source, "tif")?;
    let src = open_raw_in(source, Arc::new(ChunkCache::new(0)), header_dir)?;
    let want = src.info().clone();
    budget(&[want.height, want.width, want.bands, want.dtype.size()])?;
    let validate = |p: &Path| {
        let r = TiffRaster::open_mapped(p, chunks.clone())?;
        let i = r.info();
        if (i.height, i.width, i.bands, i.dtype)
            != (want.height, want.width, want.bands, want.dtype)
            || !r.is_tiled()
        {
            return Err(Error::decode(
                p,
                format!(
                    "{}×{}×{} {} (tiled: {}) does not match the source's {}×{}×{} {}",
                    i.height,
                    i.width,
                    i.bands,
                    i.dtype,
                    r.is_tiled(),
                    want.height,
                    want.width,
                    want.bands,
                    want.dtype
                ),
            ));
        }
        Ok(r)
    };
    let (r, outcome) = cache::ensure(&cpath, validate, |_, tmp| write_cog(&*src, options, tmp))?;
    Ok((
        crate::raster::with_nodata(Arc::new(r), want.nodata),
        outcome,
    ))
}

/// A source TIFF, local or (feature `remote`) at a URL: a remote tiled TIFF
/// with overviews is used in place, read by ranged GETs.
#[cfg_attr(not(feature = "remote"), allow(unused_variables))]
fn open_tiff(
    source: &Path,
    chunks: Arc<ChunkCache>,
    header_dir: Option<&Path>,
) -> Result<TiffRaster> {
    #[cfg(feature = "remote")]
    if crate::is_url(source) {
        return TiffRaster::open_url(source, chunks, header_dir);
    }
    TiffRaster::open_file(source, chunks)
}

/// The COG driver's creation options for `options`.
fn creation_options(
    options: &CogOptions,
    dtype: DType,
    bands: usize,
) -> Result<RasterCreationOptions> {
    let mut o = RasterCreationOptions::new();
    let set = |o: &mut RasterCreationOptions, k: &str, v: &str| {
        o.set_name_value(k, v)
            .map_err(|e| Error::invalid(format!("COG option {k}={v}: {e}")))
    };
    if options.tile_size < 16 || !options.tile_size.is_multiple_of(16) {
        return Err(Error::invalid(format!(
            "COG tile size {} is not a positive multiple of 16",
            options.tile_size
        )));
    }
    set(&mut o, "BLOCKSIZE", &options.tile_size.to_string())?;
    match options.compression {
        CogCompression::Zstd { level } => {
            set(&mut o, "COMPRESS", "ZSTD")?;
            set(&mut o, "LEVEL", &level.clamp(1, 22).to_string())?;
            set(&mut o, "PREDICTOR", "YES")?;
        }
        CogCompression::Deflate => {
            set(&mut o, "COMPRESS", "DEFLATE")?;
            set(&mut o, "PREDICTOR", "YES")?;
        }
        CogCompression::Jpeg { quality } => {
            if dtype != DType::U8 || !(bands == 1 || bands == 3) {
                return Err(Error::invalid(format!(
                    "JPEG COG needs uint8 data with 1 or 3 bands (got {dtype}, {bands} bands)"
                )));
            }
            set(&mut o, "COMPRESS", "JPEG")?;
            set(&mut o, "QUALITY", &quality.clamp(1, 100).to_string())?;
        }
    }
    set(
        &mut o,
        "OVERVIEWS",
        if options.overviews {
            "IGNORE_EXISTING"
        } else {
            "NONE"
        },
    )?;
    set(&mut o, "RESAMPLING", "AVERAGE")?;
    set(&mut o, "NUM_THREADS", "1")?;
    Ok(o)
}

/// Decode the whole source and write it as a COG at `dest`.
fn write_cog(src: &dyn Raster, options: &CogOptions, dest: &Path) -> Result<()> {
    crate::raster::gdal_raster::harden_gdal();
    let info = src.info();
    let bands: Vec<usize> = (0..info.bands).collect();
    let all = src.read_region(0, PixelBox::full(info.height, info.width), &bands)?;
    let mem = match &all {
        Window::U8(a) => mem_dataset(a, &info.path)?,
        Window::U16(a) => mem_dataset(a, &info.path)?,
        Window::I16(a) => mem_dataset(a, &info.path)?,
        Window::F32(a) => mem_dataset(a, &info.path)?,
        Window::F64(a) => mem_dataset(a, &info.path)?,
    };
    drop(all);
    let driver = DriverManager::get_driver_by_name("COG").map_err(|e| gerr(dest, e))?;
    let opts = creation_options(options, info.dtype, info.bands)?;
    let out = mem
        .create_copy(&driver, dest, &opts)
        .map_err(|e| gerr(dest, e))?;
    drop(out); // flush and close
    Ok(())
}

/// An in-memory GDAL dataset holding `a` (`(H, W, C)`).
fn mem_dataset<T: Pixel + GdalType>(a: &ndarray::Array3<T>, path: &Path) -> Result<Dataset> {
    let (h, w, c) = a.dim();
    let driver = DriverManager::get_driver_by_name("MEM").map_err(|e| gerr(path, e))?;
    let ds = driver
        .create_with_band_type::<T, _>("", w, h, c)
        .map_err(|e| gerr(path, e))?;
    for b in 0..c {
        let plane: Vec<T> = a.index_axis(ndarray::Axis(2), b).iter().copied().collect();
        let mut buf = Buffer::new((w, h), plane);
        let mut band = ds.rasterband(b + 1).map_err(|e| gerr(path, e))?;
        band.write((0, 0), (w, h), &mut buf)
            .map_err(|e| gerr(path, e))?;
    }
    Ok(ds)
}
