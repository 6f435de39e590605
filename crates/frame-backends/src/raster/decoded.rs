//! Formats without random access (PNG, JPEG, and any other format of the `image`
//! crate): the whole image is decoded once into the shared [`ChunkCache`] as a
//! single chunk, and windows are copied out of it.

use std::path::Path;
use std::sync::Arc;

use image::{ColorType, DynamicImage, ImageDecoder, ImageReader};
use ndarray::Array3;

use super::chunk_cache::ChunkCache;
use super::{ChunkGrid, Raster, RasterInfo, check_request, read_chunked};
use crate::dtype::{DType, Pixel};
use crate::error::{Error, Result};
use crate::window::{PixelBox, Window};

/// An image decoded whole on first use.
pub(crate) struct DecodedRaster {
    id: u64,
    info: RasterInfo,
    cache: Arc<ChunkCache>,
}

fn ierr(path: &Path, e: image::ImageError) -> Error {
    match e {
        image::ImageError::IoError(io) => Error::io(path, io),
        image::ImageError::Unsupported(u) => Error::unsupported(path, u),
        other => Error::decode(path, other),
    }
}

trait BufReadSeek: std::io::BufRead + std::io::Seek {}
impl<T: std::io::BufRead + std::io::Seek> BufReadSeek for T {}

/// An `image` reader of `path`, opened only if it is a regular file; for a
/// URL (feature `remote`), of its whole content, fetched once per process.
fn reader(path: &Path) -> Result<ImageReader<Box<dyn BufReadSeek>>> {
    #[cfg(feature = "remote")]
    let inner: Box<dyn BufReadSeek> = if crate::is_url(path) {
        Box::new(std::io::Cursor::new(crate::remote::open(path)?.whole()?))
    } else {
        Box::new(std::io::BufReader::new(crate::file::open_regular(path)?))
    };
    #[cfg(not(feature = "remote"))]
    let inner: Box<dyn BufReadSeek> =
        Box::new(std::io::BufReader::new(crate::file::open_regular(path)?));
    let mut r = ImageReader::new(inner);
    if let Ok(format) = image::ImageFormat::from_path(path) {
        r.set_format(format);
    }
    Ok(r)
}

fn layout(ct: ColorType, path: &Path) -> Result<(DType, usize)> {
    Ok(match ct {
        ColorType::L8 => (DType::U8, 1),
        ColorType::La8 => (DType::U8, 2),
        ColorType::Rgb8 => (DType::U8, 3),
        ColorType::Rgba8 => (DType::U8, 4),
        ColorType::L16 => (DType::U16, 1),
        ColorType::La16 => (DType::U16, 2),
        ColorType::Rgb16 => (DType::U16, 3),
        ColorType::Rgba16 => (DType::U16, 4),
        ColorType::Rgb32F => (DType::F32, 3),
        ColorType::Rgba32F => (DType::F32, 4),
        other => return Err(Error::unsupported(path, format!("color type {other:?}"))),
    })
}

impl DecodedRaster {
    /// Read the header of `path` (format guessed from its bytes).
    pub fn open(path: &Path, cache: Arc<ChunkCache>) -> Result<DecodedRaster> {
        let dec = reader(path)?
            .with_guessed_format()
            .map_err(|e| Error::io(path, e))?
            .into_decoder()
            .map_err(|e| ierr(path, e))?;
        let (w, h) = dec.dimensions();
        let (dtype, bands) = layout(dec.color_type(), path)?;
        let (height, width) = (h as usize, w as usize);
        Ok(DecodedRaster {
            id: crate::next_raster_id(),
            info: RasterInfo {
                path: path.to_path_buf(),
                height,
                width,
                bands,
                dtype,
                nodata: None,
                levels: vec![(height, width)],
            },
            cache,
        })
    }

    /// Read the header of a remote image (feature `remote`): the whole file
    /// is fetched (once per process) and kept with it.
    #[cfg(feature = "remote")]
    pub fn open_url(path: &Path, cache: Arc<ChunkCache>) -> Result<DecodedRaster> {
        Self::open(path, cache)
    }

    fn decode(&self) -> Result<Window> {
        let path = &self.info.path;
        let img = reader(path)?
            .with_guessed_format()
            .map_err(|e| Error::io(path, e))?
            .decode()
            .map_err(|e| ierr(path, e))?;
        let shape = (self.info.height, self.info.width, self.info.bands);
        fn arr<T: Pixel>(v: Vec<T>, shape: (usize, usize, usize), path: &Path) -> Result<Window> {
            Array3::from_shape_vec(shape, v)
                .map(T::wrap)
                .map_err(|e| Error::decode(path, e))
        }
        match img {
            DynamicImage::ImageLuma8(b) => arr(b.into_raw(), shape, path),
            DynamicImage::ImageLumaA8(b) => arr(b.into_raw(), shape, path),
            DynamicImage::ImageRgb8(b) => arr(b.into_raw(), shape, path),
            DynamicImage::ImageRgba8(b) => arr(b.into_raw(), shape, path),
            DynamicImage::ImageLuma16(b) => arr(b.into_raw(), shape, path),
            DynamicImage::ImageLumaA16(b) => arr(b.into_raw(), shape, path),
            DynamicImage::ImageRgb16(b) => arr(b.into_raw(), shape, path),
            DynamicImage::ImageRgba16(b) => arr(b.into_raw(), shape, path),
            DynamicImage::ImageRgb32F(b) => arr(b.into_raw(), shape, path),
            DynamicImage::ImageRgba32F(b) => arr(b.into_raw(), shape, path),
            other => Err(Error::unsupported(
                path,
                format!("color type {:?}", other.color()),
            )),
        }
    }
}

impl Raster for DecodedRaster {
    fn info(&self) -> &RasterInfo {
        &self.info
    }

    fn read_region(&self, level: usize, region: PixelBox, bands: &[usize]) -> Result<Window> {
        let (h, w) = check_request(&self.info, level, bands)?;
        let grid = ChunkGrid {
            height: h,
            width: w,
            chunk_h: h.max(1),
            chunk_w: w.max(1),
        };
        read_chunked(grid, self.info.dtype, region, bands, |_, _| {
            self.cache.get_or_decode((self.id, 0, 0), || self.decode())
        })
    }
}
