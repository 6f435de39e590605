//! The pixels of a sample: `(H, W, C)` for 2D, `(T, H, W, C)` for 3D, of the
//! source dtype (or the one asked for).

use std::path::Path;

use frame_backends::{DType, Window};
use ndarray::{ArrayD, Axis, IxDyn};
use ndarray_npy::WriteNpyExt;

use crate::error::{Error, Result};

/// Pixels of any supported dtype.
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// Unsigned 8-bit.
    U8(ArrayD<u8>),
    /// Unsigned 16-bit.
    U16(ArrayD<u16>),
    /// Signed 16-bit.
    I16(ArrayD<i16>),
    /// 32-bit float.
    F32(ArrayD<f32>),
    /// 64-bit float.
    F64(ArrayD<f64>),
}

macro_rules! each {
    ($s:expr, $a:ident => $body:expr) => {
        match $s {
            Pixels::U8($a) => $body,
            Pixels::U16($a) => $body,
            Pixels::I16($a) => $body,
            Pixels::F32($a) => $body,
            Pixels::F64($a) => $body,
        }
    };
}

impl Pixels {
    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape())
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        match self {
            Pixels::U8(_) => DType::U8,
            Pixels::U16(_) => DType::U16,
            Pixels::I16(_) => DType::I16,
            Pixels::F32(_) => DType::F32,
            Pixels::F64(_) => DType::F64,
        }
    }

    /// Size of the pixel data in bytes.
    pub fn nbytes(&self) -> usize {
        self.shape().iter().product::<usize>() * self.dtype().size()
    }

    /// The values as f64 (for inspection and tests).
    #[allow(clippy::unnecessary_cast)] // the macro casts every dtype, f64 included
    pub fn to_f64(&self) -> ArrayD<f64> {
        each!(self, a => a.mapv(|v| v as f64))
    }

    /// The `.npy` file's bytes, in memory (for archives such as WebDataset
    /// shards).
    pub fn npy_bytes(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(self.nbytes() + 128);
        // writing into a Vec cannot fail (the header of a standard array is
        // always representable)
        let _ = each!(self, a => a.write_npy(&mut buf));
        buf
    }

    /// Writes the pixels as a `.npy` file.
    pub fn write_npy(&self, path: &Path) -> Result<()> {
        let file = std::fs::File::create(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let w = std::io::BufWriter::new(file);
        each!(self, a => a.write_npy(w)).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })
    }

    /// Stack per-frame windows along a new leading time axis (3D), or unwrap the
    /// single window (2D). Frames of different dtypes are promoted to the widest
    /// (float when any frame is float).
    pub fn from_frames(frames: Vec<Window>, is_video: bool) -> Result<Pixels> {
        let dtype = frames
            .iter()
            .map(Window::dtype)
            .reduce(DType::promote)
            .ok_or(Error::BadTarget {
                key: "time_slice",
                msg: "selects no frame".into(),
            })?;
        let frames: Vec<Window> = frames.into_iter().map(|w| w.convert(dtype)).collect();
        macro_rules! stack {
            ($variant:ident, $t:ty) => {{
                let arrays: Vec<ndarray::Array3<$t>> = frames
                    .into_iter()
                    .map(|w| match w {
                        Window::$variant(a) => a,
                        _ => unreachable!("frames were converted to one dtype"),
                    })
                    .collect();
                if is_video {
                    let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
                    let out = ndarray::stack(Axis(0), &views).map_err(|e| Error::BadTarget {
                        key: "space_slice",
                        msg: format!("frames differ in shape: {e}"),
                    })?;
                    Pixels::$variant(out.into_dyn())
                } else {
                    let a = arrays
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| ndarray::Array3::<$t>::zeros((0, 0, 0)));
                    Pixels::$variant(a.into_dyn())
                }
            }};
        }
        Ok(match dtype {
            DType::U8 => stack!(U8, u8),
            DType::U16 => stack!(U16, u16),
            DType::I16 => stack!(I16, i16),
            DType::F32 => stack!(F32, f32),
            DType::F64 => stack!(F64, f64),
        })
    }

    /// An empty (zero-sized) array of `dtype` with `shape`.
    pub fn zeros(dtype: DType, shape: &[usize]) -> Pixels {
        let s = IxDyn(shape);
        match dtype {
            DType::U8 => Pixels::U8(ArrayD::zeros(s)),
            DType::U16 => Pixels::U16(ArrayD::zeros(s)),
            DType::I16 => Pixels::I16(ArrayD::zeros(s)),
            DType::F32 => Pixels::F32(ArrayD::zeros(s)),
            DType::F64 => Pixels::F64(ArrayD::zeros(s)),
        }
    }
}
