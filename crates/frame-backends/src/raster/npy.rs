//! The `npy` cache: a whole asset stored once as an `(H, W, C)` `.npy` file of its
//! own dtype, memory-mapped; a window read copies only the window's rows.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
use ndarray_npy::WriteNpyExt;

use super::{Raster, RasterInfo, check_request, copy_block};
use crate::dtype::{DType, Pixel};
use crate::error::{Error, Result};
use crate::window::{PixelBox, Window, WindowView, view_npy_any};
use crate::with_window;

/// A memory-mapped `.npy` cache file.
pub(crate) struct NpyRaster {
    info: RasterInfo,
    map: Arc<Mmap>,
    /// Byte offset of the pixel data (after the header).
    data_offset: usize,
}

impl NpyRaster {
    /// Map and validate `path`: a 3-D C-order array of a supported dtype whose
    /// length matches its header exactly.
    pub fn open(path: &Path) -> Result<NpyRaster> {
        let map = Arc::new(crate::mmap::map_file(path)?);
        let (shape, dtype) = match view_npy_any(&map, path)? {
            WindowView::U8(a) => (a.dim(), DType::U8),
            WindowView::U16(a) => (a.dim(), DType::U16),
            WindowView::I16(a) => (a.dim(), DType::I16),
            WindowView::F32(a) => (a.dim(), DType::F32),
            WindowView::F64(a) => (a.dim(), DType::F64),
        };
        let nbytes = shape.0 * shape.1 * shape.2 * dtype.size();
        let data_offset = map.len() - nbytes;
        Ok(NpyRaster {
            info: RasterInfo {
                path: path.to_path_buf(),
                height: shape.0,
                width: shape.1,
                bands: shape.2,
                dtype,
                levels: vec![(shape.0, shape.1)],
            },
            map,
            data_offset,
        })
    }

    fn read_typed<T: Pixel>(&self, region: PixelBox, bands: &[usize]) -> Result<Window> {
        let info = &self.info;
        region.checked_bytes(bands.len(), info.dtype.size())?;
        let data: &[T] = bytemuck::try_cast_slice(&self.map[self.data_offset..])
            .map_err(|e| Error::decode(&info.path, format!("npy data: {e}")))?;
        let mut out =
            ndarray::Array3::from_elem((region.height(), region.width(), bands.len()), T::FILL);
        let ov = region.intersect(&PixelBox::full(info.height, info.width));
        if !ov.is_empty() {
            let w = region.width();
            let dst = out
                .as_slice_mut()
                .ok_or_else(|| Error::invalid("output not contiguous"))?;
            copy_block(
                data,
                info.width,
                info.bands,
                (ov.y0 as usize, ov.x0 as usize),
                dst,
                w,
                ((ov.y0 - region.y0) as usize, (ov.x0 - region.x0) as usize),
                (ov.height(), ov.width()),
                bands,
            );
        }
        Ok(T::wrap(out))
    }
}

impl Raster for NpyRaster {
    fn info(&self) -> &RasterInfo {
        &self.info
    }

    fn read_region(&self, level: usize, region: PixelBox, bands: &[usize]) -> Result<Window> {
        check_request(&self.info, level, bands)?;
        match self.info.dtype {
            DType::U8 => self.read_typed::<u8>(region, bands),
            DType::U16 => self.read_typed::<u16>(region, bands),
            DType::I16 => self.read_typed::<i16>(region, bands),
            DType::F32 => self.read_typed::<f32>(region, bands),
            DType::F64 => self.read_typed::<f64>(region, bands),
        }
    }
}

/// Write the whole of `src` (full resolution, all bands) as `.npy` into `out`.
pub(crate) fn write_npy_cache(
    src: &dyn Raster,
    out: &mut std::fs::File,
    path: &Path,
) -> Result<()> {
    let info = src.info();
    let bands: Vec<usize> = (0..info.bands).collect();
    let all = src.read_region(0, PixelBox::full(info.height, info.width), &bands)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, out);
    with_window!(&all, a => a.write_npy(&mut w))
        .map_err(|e| Error::decode(path, format!("writing npy: {e}")))?;
    w.flush().map_err(|e| Error::io(path, e))?;
    Ok(())
}
