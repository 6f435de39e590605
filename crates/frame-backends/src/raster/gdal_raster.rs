//! GDAL as a fallback reader (feature `gdal`) for the inputs the pure-Rust
//! decoders refuse. GDAL datasets are not thread-safe, so the raster keeps a
//! pool of datasets and each read takes one for itself (one per concurrently
//! reading thread).
//!
//! **What GDAL may open.** Dataset content must not make GDAL read other files
//! or reach the network, so every open goes through [`open_dataset`]:
//! - only regular files, by canonical absolute path (no `/vsi…` virtual file
//!   systems, no `DRIVER:…` connection strings);
//! - only the raster drivers of [`ALLOWED_DRIVERS`] (GeoTIFF — COGs are
//!   GeoTIFFs —, PNG, JPEG): never VRT, whose XML can point at any local file
//!   or at `/vsicurl/` URLs, nor any other driver that redirects;
//! - with [`harden_gdal`]'s process-wide configuration: raw VRT bands off,
//!   `/vsicurl/` restricted to an extension no file has, no sibling-file
//!   listing and no `.aux.xml` side files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gdal::raster::{GdalDataType, GdalType};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
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

/// The GDAL drivers that may open a dataset's file: the formats the project
/// reads (GeoTIFF/COG, PNG, JPEG). Neither VRT nor any other driver able to
/// redirect to other files or URLs.
pub(crate) const ALLOWED_DRIVERS: &[&str] = &["GTiff", "PNG", "JPEG"];

/// Set GDAL's process-wide configuration against indirections and network
/// access (once; before any GDAL use of this crate).
pub(crate) fn harden_gdal() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for (k, v) in [
            // VRTRawRasterBand reads any local file as pixels.
            ("GDAL_VRT_ENABLE_RAWRASTERBAND", "NO"),
            // /vsicurl/ (and the cloud handlers built on it) only open files
            // with these extensions: none has this one.
            (
                "CPL_VSIL_CURL_ALLOWED_EXTENSIONS",
                ".ndsampler-network-disabled",
            ),
            ("GDAL_HTTP_MAX_RETRY", "0"),
            // No directory listing of siblings, no `.aux.xml` side files.
            ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
            ("GDAL_PAM_ENABLED", "NO"),
        ] {
            if let Err(e) = gdal::config::set_config_option(k, v) {
                log::warn!("cannot set GDAL option {k}={v}: {e}");
            }
        }
    });
}

/// Open a dataset's file with GDAL under the rules of the module docs.
pub(crate) fn open_dataset(path: &Path) -> Result<Dataset> {
    harden_gdal();
    let canon: PathBuf = path.canonicalize().map_err(|e| Error::io(path, e))?;
    crate::file::check_regular(&canon)?;
    let text = canon
        .to_str()
        .ok_or_else(|| Error::unsupported(path, "a path GDAL cannot take (not UTF-8)"))?;
    if !text.starts_with('/') || text.starts_with("/vsi") {
        return Err(Error::unsupported(
            path,
            "GDAL virtual file systems (/vsi…) are not opened",
        ));
    }
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_RASTER | GdalOpenFlags::GDAL_OF_READONLY,
        allowed_drivers: Some(ALLOWED_DRIVERS),
        open_options: None,
        sibling_files: None,
    };
    Dataset::open_ex(&canon, options).map_err(|e| gerr(path, e))
}

impl GdalRaster {
    /// Open `path` with GDAL through [`open_dataset`] (the chunk cache is
    /// unused: GDAL keeps its own block cache).
    pub fn open(path: &Path, _chunks: Arc<ChunkCache>) -> Result<GdalRaster> {
        let ds = open_dataset(path)?;
        let (w, h) = ds.raster_size();
        let n = ds.raster_count();
        if n == 0 || w == 0 || h == 0 {
            return Err(Error::decode(path, "GDAL dataset without pixels"));
        }
        let band1 = ds.rasterband(1).map_err(|e| gerr(path, e))?;
        let band_type = band1.band_type();
        // GDAL reads whole blocks: refuse a header declaring huge ones (a
        // 65535² one-strip image) instead of letting GDAL try to allocate them.
        let (bw, bh) = band1.block_size();
        let block = crate::window::checked_bytes(&[bw, bh.min(h), n, 8]);
        if block.is_none_or(|b| b > crate::raster::tiff::MAX_CHUNK_BYTES) {
            return Err(Error::unsupported(
                path,
                format!("GDAL blocks of {bw}×{bh} pixels × {n} bands are too large"),
            ));
        }
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
                // GeoTIFF keeps one nodata value for all bands.
                nodata: band1.no_data_value(),
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
            None => open_dataset(&self.info.path)?,
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
