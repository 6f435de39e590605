//! # frame-backends
//!
//! Window reads for `ndsampler`: give it an image (one or more files, each
//! holding some named bands at some resolution, see [`ImageSource`]) and a
//! window of image space, get back an `(H, W, C)` [`Window`] of the source dtype.
//!
//! - **Raw reads** decode the dataset's files: PNG, JPEG (the `image` crate) and
//!   TIFF / GeoTIFF / COG (the `tiff` crate: 8/16-bit, float, multi-band, tiled or
//!   striped, chunky or planar, none/LZW/DEFLATE/ZSTD/JPEG). Tiled TIFFs decode
//!   only the tiles a window touches; other formats decode once and stay in the
//!   byte-budgeted [`ChunkCache`] shared by all threads. A multi-page TIFF that
//!   `tifffile` wrote from one array (`ImageDescription` `{"shape": [H, W, C]}`,
//!   what `kwimage.imwrite` does without GDAL) reads as that array, the way
//!   kwimage reads it (decoded whole, like a PNG; a shape the pages cannot
//!   hold is [`Error::Layout`]); planar TIFFs read band-last as GDAL reads them.
//! - **Values** are those the reference computes, before any resampling: an
//!   asset's kwcoco [`Quantization`] is always undone (float, NaN for its
//!   nodata code), and with [`ReadOptions::nodata_float`] a file's own nodata
//!   value ([`RasterInfo::nodata`], GeoTIFF `GDAL_NODATA`) becomes NaN.
//! - **Sizes** of files can be read from their headers alone ([`probe_size`],
//!   cached per file version) for datasets that do not record them.
//! - **`npy` cache** ([`Backend::Npy`]): each file converted once to a `.npy` and
//!   memory-mapped; a window copies only its rows.
//! - **`cog` cache** ([`Backend::Cog`], feature `gdal`): each file converted once
//!   to a lossless (ZSTD + predictor by default) tiled Cloud Optimized GeoTIFF with
//!   overviews; reads decode tiles through the shared chunk cache and downscaled
//!   reads use the nearest finer overview.
//! - **Channels** are chosen by kwcoco code across an image's assets
//!   ([`Channels`]); an asset at another resolution is warped into image space by
//!   its `warp_aux_to_img`; a band the image lacks comes back as NaN.
//! - **Warped reads** ([`FrameReader::read_warped`]) fill any output grid through
//!   an affine transform (nearest, linear, cubic, area; antialiased downscaling).
//!
//! Cache files are keyed by the source's canonical path, size and mtime plus the
//! backend options, and built exactly once across threads and processes (see
//! [`cache`]).
//!
//! ## Limits and trust
//! - **Only regular files** are opened for pixels (images, caches, GDAL
//!   inputs): a FIFO, device or directory is [`Error::NotAFile`], never a hang.
//! - **Declared sizes and bands are checked**: an asset whose file is not the
//!   declared `width × height`, or has another band count than its declared
//!   channels, is [`Error::Mismatch`] naming the file and both sides (see
//!   [`AssetSource`]).
//! - **Sizes are checked before allocating**: every size, offset and count from
//!   a request or a file header is checked arithmetic; one read allocates at most
//!   [`ReaderOptions::max_read_bytes`] ([`DEFAULT_MAX_READ_BYTES`]) or fails with
//!   [`Error::TooLarge`]; TIFF chunks over 2 GiB are refused when opened.
//! - **Caches carry checksums**: each cache file has an xxh3-128 sidecar,
//!   verified the first time a process opens the file; a mismatch is logged and
//!   the entry rebuilt ([`FrameReader::verify`] re-checks on demand).
//! - **GDAL** (feature `gdal`) opens only GeoTIFF, PNG and JPEG files by local
//!   path: never VRT or other indirections, never `/vsi…` network paths (URLs
//!   are read by this crate's own `remote` reader, never handed to GDAL).
//! - **Remote objects** (feature `remote`) are fetched whole only up to
//!   [`DEFAULT_MAX_READ_BYTES`], checked against the announced size first;
//!   every response's length is checked against the range asked.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use frame_backends::{Affine, Backend, Channels, FrameReader, ImageSource, Interpolation, PixelBox, ReadOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("gray.png");
//! image::GrayImage::from_fn(100, 80, |x, _| image::Luma([x as u8])).save(&path)?;
//! let src = ImageSource::single(&path, 100, 80);
//! let reader = FrameReader::new(Backend::Raw)?;
//!
//! // A crop that leaves the image on the left: the outside is 0.
//! let w = reader.read_window(&src, PixelBox::new(10, 20, -5, 5)?, &Channels::All, &ReadOptions::default())?;
//! let a = w.as_array::<u8>().unwrap();
//! assert_eq!(a.dim(), (10, 10, 1));
//! assert_eq!((a[[0, 0, 0]], a[[0, 5, 0]], a[[0, 9, 0]]), (0, 0, 4));
//!
//! // The whole image at half size, area-averaged: column pairs (2j, 2j+1) → 2j + 0.5.
//! let opts = ReadOptions { interpolation: Interpolation::Area, dtype: Some(frame_backends::DType::F32), ..Default::default() };
//! let half = reader.read_warped(&src, 40, 50, &Affine::scale(0.5, 0.5), &Channels::All, &opts)?;
//! assert_eq!(half.as_array::<f32>().unwrap()[[3, 7, 0]], 14.5);
//! # Ok(()) }
//! ```
//!
//! This crate knows nothing of kwcoco records: the `sampler` crate builds an
//! [`ImageSource`] from a dataset's image record. Channel codes are parsed
//! with kwcoco's full grammar by [`Channels::from_code`].
//!
//! ## Feature flags
//! - `gdal`: the COG cache backend, and GDAL as a fallback reader for any input
//!   the pure-Rust decoders refuse (needs `libgdal-dev`).
//! - `remote`: paths may be `s3://`, `gs://`, `az://`, `http(s)://` URLs
//!   ([`is_url`]), read through `object_store` (see the `remote` module): a
//!   TIFF/COG window is ranged GETs of the tiles it touches (at most
//!   `NDSAMPLER_REMOTE_CONCURRENCY` in flight in the process), a file's header
//!   is fetched once per process (and kept in a reader's workdir for the
//!   next, checked against the object's ETag), 5xx are retried, a 4xx is one
//!   [`Error::Remote`] naming the URL. Without the feature a URL is that
//!   error too. [`remote_stats`] counts requests and bytes in every build.

pub mod cache;
#[cfg(feature = "gdal")]
mod cog;
mod cog_options;
mod dtype;
mod error;
mod file;
mod mmap;
mod probe;
pub mod raster;
mod reader;
#[cfg(feature = "remote")]
pub mod remote;
mod remote_url;
pub mod resample;
mod source;
mod values;
mod window;

pub use cache::CacheOutcome;
/// The one affine type of the workspace (from `coco-geometry`), re-exported
/// because [`AssetSource::to_image`] and [`FrameReader::read_warped`] take it.
pub use coco_geometry::Affine;
pub use dtype::{DType, Pixel};
pub use error::{Error, Result};
pub use probe::probe_size;
pub use raster::{ChunkCache, ChunkCacheStats, Raster, RasterInfo};
pub use reader::{
    Backend, CogCompression, CogOptions, DEFAULT_MAX_READ_BYTES, DEFAULT_ZSTD_LEVEL, FrameReader,
    MAX_DOWNSCALE, ReadOptions, ReaderOptions, ReaderStats, open_raw,
};
pub use remote_url::{RemoteStats, display_url, is_url, is_url_str, remote_stats};
pub use resample::Interpolation;
pub use source::{AssetSource, Channels, ImageSource, default_band_names};
pub use values::Quantization;
pub use window::{PixelBox, Window, WindowMut};

/// A fresh id for an opened raster (keys of the chunk cache).
pub(crate) fn next_raster_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
