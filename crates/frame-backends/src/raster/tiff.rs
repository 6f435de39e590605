//! TIFF / GeoTIFF / COG reader (pure Rust, `tiff` crate): tiled or striped,
//! chunky or planar, 8/16-bit integers and 16/32/64-bit floats, any compression
//! the `tiff` crate decodes (none, LZW, DEFLATE, ZSTD, PackBits, JPEG) with
//! predictors. A window decodes only the tiles (or strips) it touches, through the
//! shared [`ChunkCache`]; reduced-resolution IFDs (COG overviews) become levels.

use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::Array3;
use parking_lot::Mutex;
use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;

use super::chunk_cache::ChunkCache;
use super::{ChunkGrid, Raster, RasterInfo, check_request, read_chunked};
use crate::dtype::{DType, Pixel};
use crate::error::{Error, Result};
use crate::window::{PixelBox, Window};

trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

type Dec = Decoder<Box<dyn ReadSeek>>;

/// Where the TIFF bytes come from.
#[cfg_attr(not(feature = "gdal"), allow(dead_code))]
enum Bytes {
    /// A user's input file, read through buffered file reads (decoders) or
    /// positioned reads of the shared handle (fast path).
    File(PathBuf, std::fs::File),
    /// A cache file this crate wrote, memory-mapped.
    Map(Arc<memmap2::Mmap>),
    /// A remote object (feature `remote`): header through cached blocks,
    /// chunks as ranged GETs fetched ahead per window.
    #[cfg(feature = "remote")]
    Remote(Arc<crate::remote::RemoteFile>),
}

struct MapBytes(Arc<memmap2::Mmap>);
impl AsRef<[u8]> for MapBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0[..]
    }
}

#[cfg_attr(not(feature = "gdal"), allow(dead_code))]
struct Level {
    /// Chunk offsets and byte counts when the fast path applies (see [`FastChunks`]).
    fast: Option<FastChunks>,
    /// Offsets and byte counts of every chunk, kept for remote files (whose
    /// chunks are fetched ahead of decoding).
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    spans: Option<Arc<(Vec<u64>, Vec<u64>)>>,
    ifd: usize,
    grid: ChunkGrid,
    planar: bool,
    tiled: bool,
}

/// An opened TIFF file.
pub(crate) struct TiffRaster {
    id: u64,
    info: RasterInfo,
    levels: Vec<Level>,
    bytes: Bytes,
    /// Idle decoders, one pool per level (a decoder is positioned on its IFD).
    pools: Vec<Mutex<Vec<Dec>>>,
    cache: Arc<ChunkCache>,
    /// Set when the file is a tifffile "shaped" multi-page series (see [`Series`]).
    series: Option<Series>,
}

/// A multi-page array written by Python's `tifffile` (what `kwimage.imwrite`
/// does without GDAL): the first page's `ImageDescription` is the JSON
/// `{"shape": [...]}` of the whole array, and the array's samples are the
/// pages' samples one page after the other. An `(H, W, 2)` array becomes `H`
/// pages of `W × 2` gray pixels; a `(C, H, W)` one `C` pages of `H × W`.
///
/// It is read as the reference reads it: `skimage.io.imread` (the array
/// `tifffile` returns for the first series), with skimage's rule that a 3-D
/// array whose last axis is not 3 or 4 long but whose first is moves that axis
/// last, then `kwarray.atleast_nd(·, 3)` (a 2-D array gets one band). Other
/// ranks are refused, as the reference fails on them.
#[derive(Debug, Clone, PartialEq)]
struct Series {
    /// The array's shape from the description.
    shape: Vec<usize>,
    /// Pages holding it (page 0 on).
    pages: usize,
    /// `(rows, columns, samples)` of every page.
    page: (usize, usize, usize),
    /// Whether axis 0 is the band axis (skimage's move).
    bands_first: bool,
}

/// Largest number of pages read for a [`Series`].
const MAX_SERIES_PAGES: usize = 1 << 20;

/// The series a first page announces: `None` unless the description is a
/// tifffile shape that spans two pages or more of the first page's layout.
fn announced_series(d: &IfdDesc) -> Option<(Vec<usize>, usize)> {
    let text = d.description.as_deref()?.trim();
    if !text.starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let shape: Vec<usize> = v
        .get("shape")?
        .as_array()?
        .iter()
        .map(|x| x.as_u64().and_then(|n| usize::try_from(n).ok()))
        .collect::<Option<_>>()?;
    let total = shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b))?;
    let page = d.height.checked_mul(d.width)?.checked_mul(d.bands)?;
    if page == 0 || total % page != 0 || total / page < 2 {
        return None;
    }
    Some((shape, total / page))
}

/// `(H, W, C)` and whether the bands come first, for an array `shape` read the
/// reference's way (see [`Series`]).
fn series_hwc(shape: &[usize], path: &Path) -> Result<((usize, usize, usize), bool)> {
    match *shape {
        [h, w] => Ok(((h, w, 1), false)),
        [a, b, c] if !matches!(c, 3 | 4) && matches!(a, 3 | 4) => Ok(((b, c, a), true)),
        [a, b, c] => Ok(((a, b, c), false)),
        _ => Err(Error::layout(
            path,
            format!(
                "a tifffile array of shape {shape:?}: only 2-D and 3-D arrays are images (kwimage refuses it too)"
            ),
        )),
    }
}

/// Largest decoded chunk (tile or strip) and largest stored chunk this reader
/// accepts: a header declaring more is refused when the file is opened, before
/// anything is allocated (a 2 GiB strip is a 26000² RGB image in one strip).
pub(crate) const MAX_CHUNK_BYTES: usize = 2 << 30;

fn limits() -> Limits {
    let mut l = Limits::default();
    l.ifd_value_size = 256 << 20;
    l.decoding_buffer_size = MAX_CHUNK_BYTES;
    l.intermediate_buffer_size = 1 << 30;
    l
}

fn terr(path: &Path, e: tiff::TiffError) -> Error {
    match e {
        tiff::TiffError::UnsupportedError(u) => Error::unsupported(path, u),
        tiff::TiffError::IoError(io) => Error::io(path, io),
        other => Error::decode(path, other),
    }
}

struct IfdDesc {
    ifd: usize,
    height: usize,
    width: usize,
    bands: usize,
    dtype: Option<DType>,
    reduced: bool,
    mask: bool,
    planar: bool,
    tiled: bool,
    chunk: (usize, usize),
    fast: Option<FastChunks>,
    /// Chunk offsets and byte counts (kept for remote files only).
    spans: Option<Arc<(Vec<u64>, Vec<u64>)>>,
    /// `ImageDescription` (read for the first IFD only).
    description: Option<String>,
    /// `GDAL_NODATA` (tag 42113, ASCII), parsed.
    nodata: Option<f64>,
}

/// Chunks this module decodes itself, without the `tiff` crate's per-chunk
/// machinery: chunky layout, little-endian, uncompressed or ZSTD, no predictor
/// or horizontal differencing on integers, samples of the window's dtype. This is
/// what the COG cache writes; the hot path then costs one `memcpy` of the
/// compressed bytes (none for memory-mapped caches), one ZSTD decode into the
/// final buffer with a per-thread reused context, and the predictor undo.
#[derive(Clone)]
struct FastChunks {
    offsets: Vec<u64>,
    counts: Vec<u64>,
    zstd: bool,
    predictor: bool,
}

#[cfg_attr(not(feature = "gdal"), allow(dead_code))]
impl TiffRaster {
    /// Open a user's TIFF through buffered reads.
    pub fn open_file(path: &Path, cache: Arc<ChunkCache>) -> Result<TiffRaster> {
        let f = crate::file::open_regular(path)?;
        Self::open(path, Bytes::File(path.to_path_buf(), f), cache)
    }

    /// Open a cache TIFF (COG) this crate wrote, memory-mapped.
    pub fn open_mapped(path: &Path, cache: Arc<ChunkCache>) -> Result<TiffRaster> {
        let map = Arc::new(crate::mmap::map_file(path)?);
        Self::open(path, Bytes::Map(map), cache)
    }

    /// Open a remote TIFF (feature `remote`) at a URL; with `header_dir`, its
    /// header is read from there when kept there (no request) and written
    /// there once parsed (see `crate::remote`). A header from the directory
    /// that does not parse, or that turns out to be of an older version of
    /// the object, is dropped and fetched again (once).
    #[cfg(feature = "remote")]
    pub fn open_url(
        path: &Path,
        cache: Arc<ChunkCache>,
        header_dir: Option<&Path>,
    ) -> Result<TiffRaster> {
        let mut again = true;
        loop {
            let f = crate::remote::open_in(path, header_dir)?;
            match Self::open(path, Bytes::Remote(f.clone()), cache.clone()) {
                Ok(r) => {
                    if let Some(dir) = header_dir {
                        f.persist_header(dir)?;
                    }
                    return Ok(r);
                }
                Err(Error::RemoteChanged { .. }) if again => {}
                Err(e) if again && f.unconfirmed() => {
                    log::warn!(
                        "{}: the header kept in the workdir does not parse ({e}); fetching it again",
                        crate::display_url(&path.to_string_lossy())
                    );
                    f.drop_everywhere();
                }
                Err(e) => return Err(e),
            }
            again = false;
        }
    }

    fn reader(&self) -> Result<Box<dyn ReadSeek>> {
        reader_for(&self.bytes)
    }

    fn open(path: &Path, bytes: Bytes, cache: Arc<ChunkCache>) -> Result<TiffRaster> {
        let mut dec = Decoder::new(reader_for(&bytes)?)
            .map_err(|e| terr(path, e))?
            .with_limits(limits());
        let file_len = match &bytes {
            Bytes::File(_, f) => f.metadata().map_err(|e| Error::io(path, e))?.len(),
            Bytes::Map(m) => m.len() as u64,
            #[cfg(feature = "remote")]
            Bytes::Remote(f) => f.size(),
        };
        let keep_spans = !matches!(bytes, Bytes::File(..) | Bytes::Map(..));
        let mut descs: Vec<IfdDesc> = Vec::new();
        let mut announced = None;
        let mut limit = 64usize;
        for ifd in 0..MAX_SERIES_PAGES {
            let d = describe(&mut dec, ifd, path, file_len, keep_spans)?;
            if ifd == 0 {
                announced = announced_series(&d);
                if let Some((_, pages)) = &announced {
                    limit = limit.max(*pages);
                }
            }
            descs.push(d);
            if descs.len() >= limit || !dec.more_images() {
                break;
            }
            dec.next_image().map_err(|e| terr(path, e))?;
        }
        if let Some((shape, pages)) = announced {
            return Self::open_series(path, bytes, cache, &descs, shape, pages);
        }
        let main = descs
            .iter()
            .position(|d| !d.reduced && !d.mask)
            .ok_or_else(|| Error::decode(path, "no full-resolution image in the TIFF"))?;
        let m = &descs[main];
        let dtype = m.dtype.ok_or_else(|| {
            Error::unsupported(
                path,
                "sample type (supported: uint8, uint16, int16, float16/32/64)",
            )
        })?;
        let mut lv: Vec<&IfdDesc> = vec![m];
        let mut overviews: Vec<&IfdDesc> = descs
            .iter()
            .filter(|d| {
                d.reduced
                    && !d.mask
                    && d.bands == m.bands
                    && d.dtype == m.dtype
                    && d.width < m.width
            })
            .collect();
        overviews.sort_by_key(|d| std::cmp::Reverse(d.width));
        lv.extend(overviews);
        let levels: Vec<Level> = lv
            .iter()
            .map(|d| Level {
                fast: d.fast.clone(),
                spans: d.spans.clone(),
                ifd: d.ifd,
                grid: ChunkGrid {
                    height: d.height,
                    width: d.width,
                    chunk_h: d.chunk.0,
                    chunk_w: d.chunk.1,
                },
                planar: d.planar,
                tiled: d.tiled,
            })
            .collect();
        let info = RasterInfo {
            path: path.to_path_buf(),
            height: m.height,
            width: m.width,
            bands: m.bands,
            dtype,
            nodata: m.nodata,
            levels: lv.iter().map(|d| (d.height, d.width)).collect(),
        };
        let pools = levels.iter().map(|_| Mutex::new(Vec::new())).collect();
        Ok(TiffRaster {
            id: crate::next_raster_id(),
            info,
            levels,
            bytes,
            pools,
            cache,
            series: None,
        })
    }

    /// Open a tifffile shaped series (see [`Series`]) announced by the first
    /// page: every page it spans must have the first page's layout.
    fn open_series(
        path: &Path,
        bytes: Bytes,
        cache: Arc<ChunkCache>,
        descs: &[IfdDesc],
        shape: Vec<usize>,
        pages: usize,
    ) -> Result<TiffRaster> {
        let first = &descs[0];
        let dtype = first.dtype.ok_or_else(|| {
            Error::unsupported(
                path,
                "sample type (supported: uint8, uint16, int16, float16/32/64)",
            )
        })?;
        if descs.len() < pages {
            return Err(Error::layout(
                path,
                format!(
                    "the ImageDescription announces an array of shape {shape:?} ({pages} pages) but the file has {} pages",
                    descs.len()
                ),
            ));
        }
        let layout = |d: &IfdDesc| (d.height, d.width, d.bands, d.dtype, d.planar, d.reduced);
        if let Some(bad) = descs[..pages]
            .iter()
            .find(|d| layout(d) != layout(first) || d.planar)
        {
            return Err(Error::layout(
                path,
                format!(
                    "page {} of the tifffile array of shape {shape:?} is {}×{}×{} (planar: {}) unlike page 0 ({}×{}×{})",
                    bad.ifd,
                    bad.height,
                    bad.width,
                    bad.bands,
                    bad.planar,
                    first.height,
                    first.width,
                    first.bands
                ),
            ));
        }
        let ((height, width, bands), bands_first) = series_hwc(&shape, path)?;
        let total = crate::window::checked_bytes(&[height, width, bands, dtype.size()]);
        if total.is_none_or(|n| n > MAX_CHUNK_BYTES) {
            return Err(Error::unsupported(
                path,
                format!("a tifffile array of shape {shape:?} larger than {MAX_CHUNK_BYTES} bytes"),
            ));
        }
        let level = Level {
            fast: None,
            spans: None,
            ifd: 0,
            grid: ChunkGrid {
                height,
                width,
                chunk_h: height.max(1),
                chunk_w: width.max(1),
            },
            planar: false,
            tiled: false,
        };
        Ok(TiffRaster {
            id: crate::next_raster_id(),
            info: RasterInfo {
                path: path.to_path_buf(),
                height,
                width,
                bands,
                dtype,
                nodata: first.nodata,
                levels: vec![(height, width)],
            },
            levels: vec![level],
            bytes,
            pools: vec![Mutex::new(Vec::new())],
            cache,
            series: Some(Series {
                shape,
                pages,
                page: (first.height, first.width, first.bands),
                bands_first,
            }),
        })
    }

    /// Decode a whole [`Series`]: its pages one after the other, then the
    /// array arranged as `(H, W, C)`.
    fn decode_series(&self, s: &Series) -> Result<Window> {
        let path = &self.info.path;
        let mut dec = Decoder::new(self.reader()?)
            .map_err(|e| terr(path, e))?
            .with_limits(limits());
        let mut pages = Vec::with_capacity(s.pages);
        for p in 0..s.pages {
            if p > 0 {
                dec.next_image().map_err(|e| terr(path, e))?;
            }
            let (w, h) = dec.dimensions().map_err(|e| terr(path, e))?;
            if (h as usize, w as usize) != (s.page.0, s.page.1) {
                return Err(Error::decode(
                    path,
                    format!("page {p} changed size since the file was opened"),
                ));
            }
            let r = dec.read_image().map_err(|e| terr(path, e))?;
            pages.push(to_window(r, s.page, self.info.dtype, path)?);
        }
        fn go<T: Pixel>(pages: &[Window], s: &Series, info: &RasterInfo) -> Result<Window> {
            let mut flat: Vec<T> = Vec::with_capacity(info.height * info.width * info.bands);
            for p in pages {
                let a = T::unwrap_ref(p)
                    .ok_or_else(|| Error::decode(&info.path, "page dtype differs"))?;
                flat.extend(a.iter().copied());
            }
            let a = if s.bands_first {
                Array3::from_shape_vec((info.bands, info.height, info.width), flat)
                    .map(|a| a.permuted_axes([1, 2, 0]).as_standard_layout().into_owned())
            } else {
                Array3::from_shape_vec((info.height, info.width, info.bands), flat)
            };
            a.map(T::wrap).map_err(|e| Error::decode(&info.path, e))
        }
        match self.info.dtype {
            DType::U8 => go::<u8>(&pages, s, &self.info),
            DType::U16 => go::<u16>(&pages, s, &self.info),
            DType::I16 => go::<i16>(&pages, s, &self.info),
            DType::F32 => go::<f32>(&pages, s, &self.info),
            DType::F64 => go::<f64>(&pages, s, &self.info),
        }
    }

    /// Whether the main image is tiled (a cache can use it in place).
    pub fn is_tiled(&self) -> bool {
        self.series.is_none() && self.levels[0].tiled
    }

    fn with_decoder<R>(&self, level: usize, f: impl FnOnce(&mut Dec) -> Result<R>) -> Result<R> {
        let path = &self.info.path;
        let popped = self.pools[level].lock().pop();
        let mut dec = match popped {
            Some(d) => d,
            None => {
                let mut d = Decoder::new(self.reader()?)
                    .map_err(|e| terr(path, e))?
                    .with_limits(limits());
                d.seek_to_image(self.levels[level].ifd)
                    .map_err(|e| terr(path, e))?;
                d
            }
        };
        let r = f(&mut dec);
        if r.is_ok() {
            self.pools[level].lock().push(dec);
        }
        r
    }

    fn decode_chunk(&self, level: usize, cy: usize, cx: usize) -> Result<Window> {
        let lv = &self.levels[level];
        if let Some(fast) = &lv.fast {
            return self.decode_fast(lv, fast, cy * lv.grid.across() + cx);
        }
        let path = &self.info.path;
        let per_plane = lv.grid.across() * lv.grid.height.div_ceil(lv.grid.chunk_h);
        let idx = cy * lv.grid.across() + cx;
        let bands = self.info.bands;
        let dtype = self.info.dtype;
        // The chunk's size without padding (what `chunk_data_dimensions` says,
        // computed here: the decoder's version panics on a bad index).
        let g = lv.grid;
        let dh = g.chunk_h.min(g.height.saturating_sub(cy * g.chunk_h));
        let dw = g.chunk_w.min(g.width.saturating_sub(cx * g.chunk_w));
        let index = |i: usize| {
            u32::try_from(i).map_err(|_| Error::decode(path, format!("chunk index {i} overflows")))
        };
        self.with_decoder(level, |dec| {
            if !lv.planar {
                let r = dec.read_chunk(index(idx)?).map_err(|e| terr(path, e))?;
                to_window(r, (dh, dw, bands), dtype, path)
            } else {
                let mut out = Window::filled(dtype, (dh, dw, bands));
                for b in 0..bands {
                    let i = b
                        .checked_mul(per_plane)
                        .and_then(|v| v.checked_add(idx))
                        .ok_or_else(|| Error::decode(path, "chunk index overflows"))?;
                    let r = dec.read_chunk(index(i)?).map_err(|e| terr(path, e))?;
                    let plane = to_window(r, (dh, dw, 1), dtype, path)?;
                    interleave(&plane, &mut out, b)?;
                }
                Ok(out)
            }
        })
    }
}

impl TiffRaster {
    /// Decode a whole (padded) tile of a [`FastChunks`] level.
    fn decode_fast(&self, lv: &Level, fast: &FastChunks, idx: usize) -> Result<Window> {
        let path = &self.info.path;
        let (th, tw, c) = (lv.grid.chunk_h, lv.grid.chunk_w, self.info.bands);
        let (Some(&off), Some(&len)) = (fast.offsets.get(idx), fast.counts.get(idx)) else {
            return Err(Error::decode(path, format!("tile {idx} has no offset")));
        };
        let n = th
            .checked_mul(tw)
            .and_then(|v| v.checked_mul(c))
            .ok_or_else(|| Error::decode(path, "tile size overflows"))?;
        fn go<T: Pixel>(
            raster: &TiffRaster,
            fast: &FastChunks,
            (off, len): (u64, u64),
            shape: (usize, usize, usize),
            n: usize,
        ) -> Result<Window> {
            let path = &raster.info.path;
            let mut out: Vec<T> = vec![T::default(); n];
            let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
            let with_src = |f: &mut dyn FnMut(&[u8]) -> Result<()>| -> Result<()> {
                match &raster.bytes {
                    Bytes::Map(m) => {
                        let (a, b) = (off as usize, (off + len) as usize);
                        let src = m
                            .get(a..b)
                            .ok_or_else(|| Error::decode(path, "tile past the end of the file"))?;
                        f(src)
                    }
                    Bytes::File(_, file) => {
                        use std::os::unix::fs::FileExt;
                        let mut buf = vec![0u8; len as usize];
                        file.read_exact_at(&mut buf, off)
                            .map_err(|e| Error::io(path, e))?;
                        f(&buf)
                    }
                    #[cfg(feature = "remote")]
                    Bytes::Remote(file) => f(&file.read_range(off, len)?),
                }
            };
            with_src(&mut |src: &[u8]| {
                if fast.zstd {
                    let got = ZSTD.with(|d| -> Result<usize> {
                        let mut d = d.borrow_mut();
                        if d.is_none() {
                            *d = Some(
                                zstd::bulk::Decompressor::new()
                                    .map_err(|e| Error::decode(path, e))?,
                            );
                        }
                        let dec = d
                            .as_mut()
                            .ok_or_else(|| Error::decode(path, "zstd context"))?;
                        dec.decompress_to_buffer(src, &mut *dst)
                            .map_err(|e| Error::decode(path, format!("zstd: {e}")))
                    })?;
                    if got != dst.len() {
                        return Err(Error::decode(
                            path,
                            format!("tile decompressed to {got} bytes, expected {}", dst.len()),
                        ));
                    }
                } else {
                    if src.len() < dst.len() {
                        return Err(Error::decode(path, "uncompressed tile too short"));
                    }
                    dst.copy_from_slice(&src[..dst.len()]);
                }
                Ok(())
            })?;
            if fast.predictor {
                undo_horizontal::<T>(&mut out, shape.1, shape.2);
            }
            ndarray::Array3::from_shape_vec(shape, out)
                .map(T::wrap)
                .map_err(|e| Error::decode(path, e))
        }
        let shape = (th, tw, c);
        match self.info.dtype {
            DType::U8 => go::<u8>(self, fast, (off, len), shape, n),
            DType::U16 => go::<u16>(self, fast, (off, len), shape, n),
            DType::I16 => go::<i16>(self, fast, (off, len), shape, n),
            DType::F32 => go::<f32>(self, fast, (off, len), shape, n),
            DType::F64 => go::<f64>(self, fast, (off, len), shape, n),
        }
    }
}

#[cfg(feature = "remote")]
impl TiffRaster {
    /// For a remote file, fetch (concurrently, coalesced) the stored bytes of
    /// every chunk `region` touches that the chunk cache lacks, and keep them
    /// pinned while the returned guard lives: decoding then reads memory.
    fn prefetch(&self, level: usize, region: PixelBox) -> Result<Option<crate::remote::Pinned>> {
        let Bytes::Remote(file) = &self.bytes else {
            return Ok(None);
        };
        let lv = &self.levels[level];
        let Some(spans) = &lv.spans else {
            return Ok(None);
        };
        let g = lv.grid;
        let inside = region.intersect(&PixelBox::full(g.height, g.width));
        if inside.is_empty() {
            return Ok(None);
        }
        let per_plane = g.across() * g.height.div_ceil(g.chunk_h);
        let planes = if lv.planar { self.info.bands } else { 1 };
        let (cy0, cy1) = (
            inside.y0 as usize / g.chunk_h,
            (inside.y1 as usize - 1) / g.chunk_h,
        );
        let (cx0, cx1) = (
            inside.x0 as usize / g.chunk_w,
            (inside.x1 as usize - 1) / g.chunk_w,
        );
        let mut ranges = Vec::new();
        for cy in cy0..=cy1 {
            for cx in cx0..=cx1 {
                let idx = cy * g.across() + cx;
                if self.cache.contains(&(self.id, level as u32, idx as u64)) {
                    continue;
                }
                for p in 0..planes {
                    let i = p * per_plane + idx;
                    if let (Some(&o), Some(&n)) = (spans.0.get(i), spans.1.get(i))
                        && n > 0
                    {
                        ranges.push(o..o.saturating_add(n));
                    }
                }
            }
        }
        if ranges.is_empty() {
            return Ok(None);
        }
        file.pin(&ranges).map(Some)
    }
}

thread_local! {
    /// One reusable ZSTD decompression context per thread.
    static ZSTD: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { std::cell::RefCell::new(None) };
}

/// Undo TIFF horizontal differencing (predictor 2) on integer samples in place:
/// each sample adds the same band of the pixel to its left, row by row
/// (wrapping, on the 8- or 16-bit pattern; signed and unsigned agree).
fn undo_horizontal<T: Pixel>(data: &mut [T], width: usize, bands: usize) {
    let row = width * bands;
    if row == 0 {
        return;
    }
    match std::mem::size_of::<T>() {
        1 => undo_rows::<u8>(bytemuck::cast_slice_mut(data), row, bands),
        2 => undo_rows::<u16>(bytemuck::cast_slice_mut(data), row, bands),
        _ => {}
    }
}

trait WrapAdd: Copy + Default {
    fn wadd(self, o: Self) -> Self;
}
impl WrapAdd for u8 {
    #[inline(always)]
    fn wadd(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
}
impl WrapAdd for u16 {
    #[inline(always)]
    fn wadd(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
}

/// Running sums per band along each row, with the band count known at compile
/// time for the common cases (no bounds checks, independent chains per band).
fn undo_rows<U: WrapAdd>(d: &mut [U], row: usize, bands: usize) {
    fn fixed<U: WrapAdd, const B: usize>(d: &mut [U], row: usize) {
        for r in d.chunks_exact_mut(row) {
            let mut prev = [U::default(); B];
            for px in r.chunks_exact_mut(B) {
                for b in 0..B {
                    prev[b] = px[b].wadd(prev[b]);
                    px[b] = prev[b];
                }
            }
        }
    }
    match bands {
        1 => fixed::<U, 1>(d, row),
        2 => fixed::<U, 2>(d, row),
        3 => fixed::<U, 3>(d, row),
        4 => fixed::<U, 4>(d, row),
        _ => {
            for r in d.chunks_exact_mut(row) {
                for i in bands..row {
                    r[i] = r[i].wadd(r[i - bands]);
                }
            }
        }
    }
}

fn reader_for(bytes: &Bytes) -> Result<Box<dyn ReadSeek>> {
    Ok(match bytes {
        Bytes::File(p, _) => {
            let f = crate::file::open_regular(p)?;
            Box::new(BufReader::with_capacity(64 << 10, f))
        }
        Bytes::Map(m) => Box::new(Cursor::new(MapBytes(m.clone()))),
        #[cfg(feature = "remote")]
        Bytes::Remote(f) => Box::new(crate::remote::RemoteReader::new(f.clone())),
    })
}

fn describe(
    dec: &mut Dec,
    ifd: usize,
    path: &Path,
    file_len: u64,
    keep_spans: bool,
) -> Result<IfdDesc> {
    let e = |e| terr(path, e);
    let (w, h) = dec.dimensions().map_err(e)?;
    let subfile: u32 = dec
        .find_tag_unsigned(Tag::NewSubfileType)
        .map_err(e)?
        .unwrap_or(0);
    let planar: u16 = dec
        .find_tag_unsigned(Tag::PlanarConfiguration)
        .map_err(e)?
        .unwrap_or(1);
    let fmt: Vec<u16> = dec
        .find_tag_unsigned_vec(Tag::SampleFormat)
        .map_err(e)?
        .unwrap_or_default();
    let fmt = fmt.first().copied().unwrap_or(1);
    let (bits, bands) = match dec.colortype().map_err(e)? {
        ColorType::Gray(b) => (b, 1),
        ColorType::GrayA(b) => (b, 2),
        ColorType::RGB(b) | ColorType::YCbCr(b) | ColorType::Lab(b) => (b, 3),
        ColorType::RGBA(b) | ColorType::CMYK(b) => (b, 4),
        ColorType::CMYKA(b) => (b, 5),
        ColorType::Multiband {
            bit_depth,
            num_samples,
        } => (bit_depth, num_samples as usize),
        ColorType::Palette(_) => return Err(Error::unsupported(path, "palette TIFF")),
        other => {
            return Err(Error::unsupported(
                path,
                format!("TIFF color type {other:?}"),
            ));
        }
    };
    let dtype = match (fmt, bits) {
        (1, 8) => Some(DType::U8),
        (1, 16) => Some(DType::U16),
        (2, 16) => Some(DType::I16),
        (3, 16) | (3, 32) => Some(DType::F32),
        (3, 64) => Some(DType::F64),
        _ => None,
    };
    let tiled = matches!(dec.get_chunk_type(), tiff::decoder::ChunkType::Tile);
    let description = if ifd == 0 {
        match dec.find_tag(Tag::ImageDescription) {
            Ok(Some(v)) => v.into_string().ok(),
            _ => None,
        }
    } else {
        None
    };
    let nodata = match dec.find_tag(Tag::GdalNodata) {
        Ok(Some(v)) => v.into_string().ok().and_then(|s| parse_nodata(&s)),
        _ => None,
    };
    // Every chunk must lie inside the file: catches truncated files (COGs keep
    // their IFDs at the start, so a cut-off file still parses).
    let (off_tag, len_tag) = if tiled {
        (Tag::TileOffsets, Tag::TileByteCounts)
    } else {
        (Tag::StripOffsets, Tag::StripByteCounts)
    };
    let offs: Vec<u64> = dec
        .find_tag_unsigned_vec(off_tag)
        .map_err(e)?
        .unwrap_or_default();
    let lens: Vec<u64> = dec
        .find_tag_unsigned_vec(len_tag)
        .map_err(e)?
        .unwrap_or_default();
    let end = offs
        .iter()
        .zip(&lens)
        .filter_map(|(o, l)| o.checked_add(*l))
        .max()
        .unwrap_or(0);
    if offs
        .iter()
        .zip(&lens)
        .any(|(o, l)| o.checked_add(*l).is_none())
        || end > file_len
    {
        return Err(Error::decode(
            path,
            format!("IFD {ifd}: chunk data ends at byte {end}, past the file's {file_len} bytes"),
        ));
    }
    let (cw, ch) = dec.chunk_dimensions();
    if cw == 0 || ch == 0 || w == 0 || h == 0 {
        return Err(Error::decode(
            path,
            format!("IFD {ifd}: zero image or chunk size"),
        ));
    }
    // Tiles decode whole (padded); strips have at most the image's rows.
    let rows = if tiled { ch } else { ch.min(h) };
    let decoded = crate::window::checked_bytes(&[
        cw as usize,
        rows as usize,
        bands,
        (bits as usize).div_ceil(8),
    ]);
    let stored = lens.iter().copied().max().unwrap_or(0);
    if decoded.is_none_or(|n| n > MAX_CHUNK_BYTES) || stored > MAX_CHUNK_BYTES as u64 {
        return Err(Error::unsupported(
            path,
            format!(
                "IFD {ifd}: {cw}×{rows} chunks of {bands} {bits}-bit samples ({stored} bytes stored): larger than {MAX_CHUNK_BYTES} bytes"
            ),
        ));
    }
    let compression: u16 = dec
        .find_tag_unsigned(Tag::Compression)
        .map_err(e)?
        .unwrap_or(1);
    let predictor: u16 = dec
        .find_tag_unsigned(Tag::Predictor)
        .map_err(e)?
        .unwrap_or(1);
    let little = matches!(dec.byte_order(), tiff::tags::ByteOrder::LittleEndian)
        && cfg!(target_endian = "little");
    let fast_ok = tiled
        && little
        && !(planar == 2 && bands > 1)
        && matches!(compression, 1 | 50000)
        && (predictor == 1
            || (predictor == 2 && matches!(dtype, Some(DType::U8 | DType::U16 | DType::I16))))
        && dtype.is_some_and(|d| d.size() * 8 == bits as usize);
    let spans = keep_spans.then(|| Arc::new((offs.clone(), lens.clone())));
    let fast = fast_ok.then_some(FastChunks {
        offsets: offs,
        counts: lens,
        zstd: compression == 50000,
        predictor: predictor == 2,
    });
    Ok(IfdDesc {
        fast,
        spans,
        ifd,
        height: h as usize,
        width: w as usize,
        bands,
        dtype,
        reduced: subfile & 1 != 0,
        mask: subfile & 4 != 0,
        planar: planar == 2 && bands > 1,
        tiled,
        chunk: (ch as usize, cw as usize),
        description,
        nodata,
    })
}

/// The value of a `GDAL_NODATA` tag: ASCII text of a number (`"-9999"`,
/// `"nan"`, `"inf"`), as GDAL parses it; anything else is no nodata.
fn parse_nodata(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    match t.to_ascii_lowercase().as_str() {
        "nan" | "-nan" => Some(f64::NAN),
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok(),
    }
}

fn shaped<T: Pixel>(v: Vec<T>, shape: (usize, usize, usize), path: &Path) -> Result<Window> {
    let n = shape.0 * shape.1 * shape.2;
    if v.len() < n {
        return Err(Error::decode(
            path,
            format!("chunk holds {} samples, expected {n}", v.len()),
        ));
    }
    let mut v = v;
    v.truncate(n);
    Array3::from_shape_vec(shape, v)
        .map(T::wrap)
        .map_err(|e| Error::decode(path, e))
}

fn to_window(
    r: DecodingResult,
    shape: (usize, usize, usize),
    dtype: DType,
    path: &Path,
) -> Result<Window> {
    let w = match r {
        DecodingResult::U8(v) => shaped(v, shape, path)?,
        DecodingResult::U16(v) => shaped(v, shape, path)?,
        DecodingResult::I16(v) => shaped(v, shape, path)?,
        DecodingResult::F32(v) => shaped(v, shape, path)?,
        DecodingResult::F64(v) => shaped(v, shape, path)?,
        DecodingResult::F16(v) => shaped(
            v.into_iter().map(f32::from).collect::<Vec<f32>>(),
            shape,
            path,
        )?,
        _ => return Err(Error::unsupported(path, "sample type")),
    };
    if w.dtype() != dtype {
        return Err(Error::decode(
            path,
            format!("chunk decoded as {} but the header says {dtype}", w.dtype()),
        ));
    }
    Ok(w)
}

fn interleave(plane: &Window, out: &mut Window, band: usize) -> Result<()> {
    fn go<T: Pixel>(p: &Array3<T>, out: &mut Window, band: usize) -> Result<()> {
        let o = T::unwrap_mut(out).ok_or_else(|| Error::invalid("plane dtype mismatch"))?;
        o.index_axis_mut(ndarray::Axis(2), band)
            .assign(&p.index_axis(ndarray::Axis(2), 0));
        Ok(())
    }
    crate::with_window!(plane, a => go(a, out, band))
}

impl Raster for TiffRaster {
    fn info(&self) -> &RasterInfo {
        &self.info
    }

    fn read_region(&self, level: usize, region: PixelBox, bands: &[usize]) -> Result<Window> {
        check_request(&self.info, level, bands)?;
        let lv = &self.levels[level];
        if let Some(s) = &self.series {
            return read_chunked(lv.grid, self.info.dtype, region, bands, |_, _| {
                self.cache
                    .get_or_decode((self.id, 0, 0), || self.decode_series(s))
            });
        }
        #[cfg(feature = "remote")]
        let _pinned = self.prefetch(level, region)?;
        read_chunked(lv.grid, self.info.dtype, region, bands, |cy, cx| {
            let idx = (cy * lv.grid.across() + cx) as u64;
            self.cache.get_or_decode((self.id, level as u32, idx), || {
                self.decode_chunk(level, cy, cx)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(h: usize, w: usize, bands: usize, description: &str) -> IfdDesc {
        IfdDesc {
            ifd: 0,
            height: h,
            width: w,
            bands,
            dtype: Some(DType::U8),
            reduced: false,
            mask: false,
            planar: false,
            tiled: false,
            chunk: (h, w),
            fast: None,
            spans: None,
            description: Some(description.into()),
            nodata: None,
        }
    }

    #[test]
    fn gdal_nodata_text() {
        assert_eq!(parse_nodata("-9999\0"), Some(-9999.0));
        assert_eq!(parse_nodata(" 0 "), Some(0.0));
        assert!(parse_nodata("nan").is_some_and(f64::is_nan));
        assert_eq!(parse_nodata("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_nodata("none"), None);
    }

    #[test]
    fn tifffile_shapes_are_read_the_reference_way() {
        let p = Path::new("x.tif");
        assert_eq!(series_hwc(&[5, 7, 2], p).unwrap(), ((5, 7, 2), false));
        assert_eq!(series_hwc(&[3, 5, 7], p).unwrap(), ((5, 7, 3), true));
        assert_eq!(series_hwc(&[4, 5, 4], p).unwrap(), ((4, 5, 4), false));
        assert_eq!(series_hwc(&[2, 5, 7], p).unwrap(), ((2, 5, 7), false));
        assert_eq!(series_hwc(&[5, 7], p).unwrap(), ((5, 7, 1), false));
        let e = series_hwc(&[2, 3, 5, 7], p).unwrap_err().to_string();
        assert!(e.contains("x.tif") && e.contains("[2, 3, 5, 7]"), "{e}");
        // 5 pages of 7×2: announced; one page, a non-shape or a misfit: not.
        let d = page(7, 2, 1, r#"{"shape": [5, 7, 2]}"#);
        assert_eq!(announced_series(&d), Some((vec![5, 7, 2], 5)));
        assert_eq!(
            announced_series(&page(7, 2, 1, r#"{"shape": [7, 2]}"#)),
            None
        );
        assert_eq!(
            announced_series(&page(7, 2, 1, r#"{"shape": [5, 7, 3]}"#)),
            None
        );
        assert_eq!(announced_series(&page(7, 2, 1, "ImageJ=1.11a")), None);
        assert_eq!(
            announced_series(&page(7, 2, 1, r#"{"shape": [-5, 7, 2]}"#)),
            None
        );
        let huge = format!(r#"{{"shape": [{}, {}, 2]}}"#, u64::MAX, u64::MAX);
        assert_eq!(announced_series(&page(7, 2, 1, &huge)), None);
    }

    #[test]
    fn predictor_undo_matches_definition() {
        for bands in 1..=5usize {
            let w = 7;
            let orig: Vec<u16> = (0..2 * w * bands)
                .map(|i| (i * 7919 % 65521) as u16)
                .collect();
            // Encode: differences along the row per band.
            let mut enc = orig.clone();
            for r in enc.chunks_exact_mut(w * bands) {
                for i in (bands..w * bands).rev() {
                    r[i] = r[i].wrapping_sub(r[i - bands]);
                }
            }
            undo_horizontal::<u16>(&mut enc, w, bands);
            assert_eq!(enc, orig, "bands {bands}");
        }
    }
}
