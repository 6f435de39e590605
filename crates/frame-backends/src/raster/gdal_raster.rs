//! GDAL as a fallback reader (feature `gdal`): any format GDAL opens. GDAL
//! datasets are not thread-safe, so the raster keeps a pool of datasets and each
//! read takes one for itself (one per concurrently reading thread).

use std::path::Path;
use std::sync::Arc;

use gdal::Dataset;
use gdal::raster::{GdalDataType, GdalType};
use ndarray::Array3;
use parking_lot::Mutex;

use super::chunk_cache::ChunkCache;
use super::{Raster, RasterInfo, check_request};
use crate::dtype::{DType, Pixel};
use crate::error::{Error, Result};
use crate::window::{PixelBox, Window};

/// A file opened through GDAL.
pub(crate) struct GdalRaster {
    info: RasterInfo,
    pool: Mutex<Vec<Dataset>>,
}

pub(crate) fn gerr(path: &Path, source: gdal::errors::GdalError) -> Error {
    Error::Gdal {
        path: path.to_path_buf(),
        source,
    }
}

impl GdalRaster {
    /// Open `path` with GDAL (the chunk cache is unused: GDAL keeps its own block cache).
    pub fn open(path: &Path, _chunks: Arc<ChunkCache>) -> Result<GdalRaster> {
        let ds = Dataset::open(path).map_err(|e| gerr(path, e))?;
        let (w, h) = ds.raster_size();
        let n = ds.raster_count();
        if n == 0 || w == 0 || h == 0 {
            return Err(Error::decode(path, "GDAL dataset without pixels"));
        }
        let band_type = ds.rasterband(1).map_err(|e| gerr(path, e))?.band_type();
        let dtype = match band_type {
            GdalDataType::UInt8 => DType::U8,
            GdalDataType::UInt16 => DType::U16,
            GdalDataType::Int16 => DType::I16,
            GdalDataType::Float32 => DType::F32,
            _ => DType::F64,
        };
        Ok(GdalRaster {
            info: RasterInfo {
                path: path.to_path_buf(),
                height: h,
                width: w,
                bands: n,
                dtype,
                levels: vec![(h, w)],
            },
            pool: Mutex::new(vec![ds]),
        })
    }

    fn read_typed<T: Pixel + GdalType>(
        &self,
        ds: &Dataset,
        region: PixelBox,
        bands: &[usize],
    ) -> Result<Window> {
        let path = &self.info.path;
        let mut out = Array3::from_elem((region.height(), region.width(), bands.len()), T::FILL);
        let ov = region.intersect(&PixelBox::full(self.info.height, self.info.width));
        if !ov.is_empty() {
            let (oh, ow) = (ov.height(), ov.width());
            let mut buf = vec![T::default(); oh * ow];
            for (k, &b) in bands.iter().enumerate() {
                let band = ds.rasterband(b + 1).map_err(|e| gerr(path, e))?;
                band.read_into_slice::<T>(
                    (ov.x0 as isize, ov.y0 as isize),
                    (ow, oh),
                    (ow, oh),
                    &mut buf,
                    None,
                )
                .map_err(|e| gerr(path, e))?;
                let (dy, dx) = ((ov.y0 - region.y0) as usize, (ov.x0 - region.x0) as usize);
                for r in 0..oh {
                    for c in 0..ow {
                        out[[dy + r, dx + c, k]] = buf[r * ow + c];
                    }
                }
            }
        }
        Ok(T::wrap(out))
    }
}

impl Raster for GdalRaster {
    fn info(&self) -> &RasterInfo {
        &self.info
    }

    fn read_region(&self, level: usize, region: PixelBox, bands: &[usize]) -> Result<Window> {
        check_request(&self.info, level, bands)?;
        region.checked_bytes(bands.len(), self.info.dtype.size())?;
        let popped = self.pool.lock().pop();
        let ds = match popped {
            Some(d) => d,
            None => Dataset::open(&self.info.path).map_err(|e| gerr(&self.info.path, e))?,
        };
        let r = match self.info.dtype {
            DType::U8 => self.read_typed::<u8>(&ds, region, bands),
            DType::U16 => self.read_typed::<u16>(&ds, region, bands),
            DType::I16 => self.read_typed::<i16>(&ds, region, bands),
            DType::F32 => self.read_typed::<f32>(&ds, region, bands),
            DType::F64 => self.read_typed::<f64>(&ds, region, bands),
        };
        self.pool.lock().push(ds);
        r
    }
}
