//! Asset-level readers: one opened file (or cache file) that can hand out any
//! rectangle of its pixels, at full resolution or from an overview level.
//!
//! Every implementation is `Send + Sync`; decoded chunks (tiles, strips, whole
//! images of formats without random access) go through the shared, byte-budgeted
//! [`ChunkCache`] so overlapping windows never decode the same chunk twice while
//! it stays in budget.

use std::path::Path;
use std::sync::Arc;

use ndarray::Array3;

use crate::dtype::{DType, Pixel};
use crate::error::{Error, Result};
use crate::window::{PixelBox, Window, WindowMut};
use crate::with_window;

pub(crate) mod chunk_cache;
pub(crate) mod decoded;
#[cfg(feature = "gdal")]
pub(crate) mod gdal_raster;
pub(crate) mod npy;
pub(crate) mod tiff;

pub use chunk_cache::{ChunkCache, ChunkCacheStats};

/// What a [`Raster`] holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RasterInfo {
    /// The file read.
    pub path: std::path::PathBuf,
    /// Rows at full resolution.
    pub height: usize,
    /// Columns at full resolution.
    pub width: usize,
    /// Bands (samples per pixel).
    pub bands: usize,
    /// Sample type.
    pub dtype: DType,
    /// The file's own nodata value (GeoTIFF `GDAL_NODATA` tag, GDAL's band
    /// nodata), if it declares one.
    pub nodata: Option<f64>,
    /// `(height, width)` of each resolution level, level 0 being full resolution and
    /// the next ones the overviews, from finer to coarser.
    pub levels: Vec<(usize, usize)>,
}

/// An opened image file able to read any window of its pixels.
pub trait Raster: Send + Sync {
    /// Dimensions, bands, dtype and overview levels.
    fn info(&self) -> &RasterInfo;

    /// Read `region` (in the pixel grid of `level`) for the bands `bands` (indices
    /// into the file's bands, in output order). The result has exactly the region's
    /// size; the part outside the raster holds the padding value of the raster's
    /// dtype (0 or NaN).
    fn read_region(&self, level: usize, region: PixelBox, bands: &[usize]) -> Result<Window>;

    /// [`Raster::read_region`] written into `out` (exactly the region's size
    /// by `bands.len()`, of the raster's dtype) instead of a new window. The
    /// default reads and copies; rasters that can write in place override it.
    fn read_region_into(
        &self,
        level: usize,
        region: PixelBox,
        bands: &[usize],
        out: &mut WindowMut<'_>,
    ) -> Result<()> {
        out.assign(&self.read_region(level, region, bands)?)
    }
}

/// A raster seen with another [`RasterInfo::nodata`]: a cache file (npy, COG)
/// carries the nodata value of the file it was built from.
struct WithNodata {
    inner: Arc<dyn Raster>,
    info: RasterInfo,
}

impl Raster for WithNodata {
    fn info(&self) -> &RasterInfo {
        &self.info
    }
    fn read_region(&self, level: usize, region: PixelBox, bands: &[usize]) -> Result<Window> {
        self.inner.read_region(level, region, bands)
    }
    fn read_region_into(
        &self,
        level: usize,
        region: PixelBox,
        bands: &[usize],
        out: &mut WindowMut<'_>,
    ) -> Result<()> {
        self.inner.read_region_into(level, region, bands, out)
    }
}

/// `raster` reporting `nodata` (itself when it already does).
pub(crate) fn with_nodata(raster: Arc<dyn Raster>, nodata: Option<f64>) -> Arc<dyn Raster> {
    let same = match (raster.info().nodata, nodata) {
        (Some(a), Some(b)) => a.to_bits() == b.to_bits(),
        (a, b) => a.is_none() && b.is_none(),
    };
    if same {
        return raster;
    }
    let mut info = raster.info().clone();
    info.nodata = nodata;
    Arc::new(WithNodata {
        inner: raster,
        info,
    })
}

/// Check a band list against a raster and a level index against its levels.
pub(crate) fn check_request(
    info: &RasterInfo,
    level: usize,
    bands: &[usize],
) -> Result<(usize, usize)> {
    if let Some(&b) = bands.iter().find(|&&b| b >= info.bands) {
        return Err(Error::invalid(format!(
            "{}: band index {b} out of range ({} bands)",
            info.path.display(),
            info.bands
        )));
    }
    info.levels.get(level).copied().ok_or_else(|| {
        Error::invalid(format!(
            "{}: no overview level {level}",
            info.path.display()
        ))
    })
}

/// Copy the block `src[sy.., sx..]` of `h × w` pixels, bands `bands`, into
/// `dst[dy.., dx..]`. Both arrays are in standard (row-major, contiguous) layout.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn copy_block<T: Pixel>(
    src: &[T],
    src_w: usize,
    src_c: usize,
    (sy, sx): (usize, usize),
    dst: &mut [T],
    dst_w: usize,
    (dy, dx): (usize, usize),
    (h, w): (usize, usize),
    bands: &[usize],
) {
    let dst_c = bands.len();
    let identity = dst_c == src_c && bands.iter().enumerate().all(|(i, &b)| i == b);
    for r in 0..h {
        let s0 = ((sy + r) * src_w + sx) * src_c;
        let d0 = ((dy + r) * dst_w + dx) * dst_c;
        if identity {
            dst[d0..d0 + w * dst_c].copy_from_slice(&src[s0..s0 + w * src_c]);
        } else if dst_c == 1 {
            let b = bands[0];
            let srow = &src[s0..s0 + w * src_c];
            for (d, px) in dst[d0..d0 + w].iter_mut().zip(srow.chunks_exact(src_c)) {
                *d = px[b];
            }
        } else {
            let srow = &src[s0..s0 + w * src_c];
            let drow = &mut dst[d0..d0 + w * dst_c];
            for (dpx, spx) in drow.chunks_exact_mut(dst_c).zip(srow.chunks_exact(src_c)) {
                for (d, &b) in dpx.iter_mut().zip(bands) {
                    *d = spx[b];
                }
            }
        }
    }
}

/// A grid of chunks (tiles or strips) of one resolution level.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkGrid {
    pub height: usize,
    pub width: usize,
    pub chunk_h: usize,
    pub chunk_w: usize,
}

impl ChunkGrid {
    pub fn across(&self) -> usize {
        self.width.div_ceil(self.chunk_w)
    }
}

/// Assemble `region` of a chunked level: for every chunk the region touches, fetch
/// the decoded chunk (`(data_h, data_w, C)` with all `C` bands) and copy its overlap.
pub(crate) fn read_chunked(
    grid: ChunkGrid,
    dtype: DType,
    region: PixelBox,
    bands: &[usize],
    mut chunk: impl FnMut(usize, usize) -> Result<Arc<Window>>,
) -> Result<Window> {
    region.checked_bytes(bands.len(), dtype.size())?;
    let mut out = Window::filled(dtype, (region.height(), region.width(), bands.len()));
    let inside = region.intersect(&PixelBox::full(grid.height, grid.width));
    if inside.is_empty() {
        return Ok(out);
    }
    let cy0 = inside.y0 as usize / grid.chunk_h;
    let cy1 = (inside.y1 as usize - 1) / grid.chunk_h;
    let cx0 = inside.x0 as usize / grid.chunk_w;
    let cx1 = (inside.x1 as usize - 1) / grid.chunk_w;
    for cy in cy0..=cy1 {
        for cx in cx0..=cx1 {
            let c = chunk(cy, cx)?;
            let (ch, cw, cc) = c.shape();
            let cbox = PixelBox {
                y0: (cy * grid.chunk_h) as i64,
                x0: (cx * grid.chunk_w) as i64,
                y1: (cy * grid.chunk_h + ch) as i64,
                x1: (cx * grid.chunk_w + cw) as i64,
            };
            let ov = inside.intersect(&cbox);
            if ov.is_empty() {
                continue;
            }
            copy_window_block(&c, cc, cbox, &mut out, region, ov, bands)?;
        }
    }
    Ok(out)
}

/// Copy the overlap `ov` (absolute coordinates) from a chunk whose top-left is at
/// `cbox` into `out` whose top-left is at `region`.
fn copy_window_block(
    c: &Window,
    cc: usize,
    cbox: PixelBox,
    out: &mut Window,
    region: PixelBox,
    ov: PixelBox,
    bands: &[usize],
) -> Result<()> {
    fn go<T: Pixel>(
        src: &Array3<T>,
        cc: usize,
        cbox: PixelBox,
        out: &mut Window,
        region: PixelBox,
        ov: PixelBox,
        bands: &[usize],
    ) -> Result<()> {
        let dst_w = region.width();
        let dst = T::unwrap_mut(out)
            .ok_or_else(|| Error::invalid("chunk dtype differs from raster dtype"))?;
        let (Some(s), Some(d)) = (src.as_slice(), dst.as_slice_mut()) else {
            return Err(Error::invalid("non-contiguous chunk"));
        };
        copy_block(
            s,
            src.dim().1,
            cc,
            ((ov.y0 - cbox.y0) as usize, (ov.x0 - cbox.x0) as usize),
            d,
            dst_w,
            ((ov.y0 - region.y0) as usize, (ov.x0 - region.x0) as usize),
            (ov.height(), ov.width()),
            bands,
        );
        Ok(())
    }
    with_window!(c, a => go(a, cc, cbox, out, region, ov, bands))
}

/// Open a dataset file directly: TIFFs with the pure-Rust tiled reader, other
/// formats with the `image` crate; with the `gdal` feature, anything those refuse
/// goes to GDAL (local files only). A URL ([`crate::is_url`]) is read remotely
/// with the `remote` feature (TIFFs by ranged GETs of the chunks a window
/// touches, other formats fetched whole once), and is [`Error::Remote`]
/// without it.
pub fn open_raw(path: &Path, chunks: Arc<ChunkCache>) -> Result<Arc<dyn Raster>> {
    open_raw_in(path, chunks, None)
}

/// [`open_raw`], keeping the headers of remote TIFFs in `header_dir` (see
/// `crate::remote`).
pub(crate) fn open_raw_in(
    path: &Path,
    chunks: Arc<ChunkCache>,
    header_dir: Option<&Path>,
) -> Result<Arc<dyn Raster>> {
    if crate::is_url(path) {
        return open_url(path, chunks, header_dir);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let first: Result<Arc<dyn Raster>> = if ext == "tif" || ext == "tiff" {
        tiff::TiffRaster::open_file(path, chunks.clone()).map(|r| Arc::new(r) as Arc<dyn Raster>)
    } else {
        decoded::DecodedRaster::open(path, chunks.clone()).map(|r| Arc::new(r) as Arc<dyn Raster>)
    };
    match first {
        Ok(r) => Ok(r),
        #[cfg(feature = "gdal")]
        Err(e @ (Error::Unsupported { .. } | Error::Decode { .. })) => {
            gdal_raster::GdalRaster::open(path, chunks)
                .map(|r| Arc::new(r) as Arc<dyn Raster>)
                .map_err(|_| e)
        }
        Err(e) => Err(e),
    }
}

/// [`open_raw`] of a URL.
#[cfg_attr(not(feature = "remote"), allow(unused_variables))]
fn open_url(
    path: &Path,
    chunks: Arc<ChunkCache>,
    header_dir: Option<&Path>,
) -> Result<Arc<dyn Raster>> {
    #[cfg(feature = "remote")]
    {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ext == "tif" || ext == "tiff" {
            tiff::TiffRaster::open_url(path, chunks, header_dir)
                .map(|r| Arc::new(r) as Arc<dyn Raster>)
        } else {
            decoded::DecodedRaster::open_url(path, chunks).map(|r| Arc::new(r) as Arc<dyn Raster>)
        }
    }
    #[cfg(not(feature = "remote"))]
    {
        let _ = chunks;
        Err(Error::remote(
            &path.to_string_lossy(),
            "reading URLs needs the `remote` cargo feature (of frame-backends; `ndsampler` forwards it), which this build lacks",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_read_matches_direct_crop() {
        // A 10×13 image of 2 bands in 4×5 chunks.
        let full = Array3::from_shape_fn((10, 13, 2), |(y, x, c)| (y * 100 + x * 2 + c) as u16);
        let grid = ChunkGrid {
            height: 10,
            width: 13,
            chunk_h: 4,
            chunk_w: 5,
        };
        let chunk = |cy: usize, cx: usize| -> Result<Arc<Window>> {
            let b = PixelBox::new(
                (cy * 4) as i64,
                ((cy * 4 + 4).min(10)) as i64,
                (cx * 5) as i64,
                ((cx * 5 + 5).min(13)) as i64,
            )?;
            Ok(Arc::new(Window::from(full.clone()).crop(b)))
        };
        for region in [
            PixelBox::new(0, 10, 0, 13).unwrap(),
            PixelBox::new(-3, 4, 11, 20).unwrap(),
            PixelBox::new(3, 9, 2, 12).unwrap(),
            PixelBox::new(20, 25, 0, 3).unwrap(),
        ] {
            for bands in [vec![0, 1], vec![1], vec![1, 0]] {
                let got = read_chunked(grid, DType::U16, region, &bands, chunk).unwrap();
                let got = got.as_array::<u16>().unwrap();
                for y in 0..region.height() {
                    for x in 0..region.width() {
                        for (k, &b) in bands.iter().enumerate() {
                            let (iy, ix) = (region.y0 + y as i64, region.x0 + x as i64);
                            let want = if (0..10).contains(&iy) && (0..13).contains(&ix) {
                                full[[iy as usize, ix as usize, b]]
                            } else {
                                0
                            };
                            assert_eq!(got[[y, x, k]], want, "{region:?} {bands:?} at {y},{x},{k}");
                        }
                    }
                }
            }
        }
    }
}
