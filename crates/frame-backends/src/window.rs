//! [`Window`], the dtype-dynamic `(H, W, C)` pixel array every read returns, and
//! [`PixelBox`], a half-open rectangle of pixels.

use ndarray::{Array3, ArrayView3, ArrayViewMut3, s};

pub use crate::dtype::Window;
use crate::dtype::{DType, Pixel};
use crate::error::{Error, Result};

/// Run `$body` with `$a` bound to the typed array inside a [`Window`].
#[macro_export]
#[doc(hidden)]
macro_rules! with_window {
    ($w:expr, $a:ident => $body:expr) => {
        match $w {
            $crate::Window::U8($a) => $body,
            $crate::Window::U16($a) => $body,
            $crate::Window::I16($a) => $body,
            $crate::Window::F32($a) => $body,
            $crate::Window::F64($a) => $body,
        }
    };
}

impl<T: Pixel> From<Array3<T>> for Window {
    fn from(a: Array3<T>) -> Self {
        T::wrap(a)
    }
}

impl Window {
    /// A window of `shape = (H, W, C)` filled with the padding value of `dtype`
    /// (0 for integers, NaN for floats).
    pub fn filled(dtype: DType, shape: (usize, usize, usize)) -> Window {
        fn f<T: Pixel>(shape: (usize, usize, usize)) -> Window {
            T::wrap(Array3::from_elem(shape, T::FILL))
        }
        match dtype {
            DType::U8 => f::<u8>(shape),
            DType::U16 => f::<u16>(shape),
            DType::I16 => f::<i16>(shape),
            DType::F32 => f::<f32>(shape),
            DType::F64 => f::<f64>(shape),
        }
    }

    /// `(H, W, C)`.
    pub fn shape(&self) -> (usize, usize, usize) {
        with_window!(self, a => a.dim())
    }

    /// The sample type.
    pub fn dtype(&self) -> DType {
        match self {
            Window::U8(_) => DType::U8,
            Window::U16(_) => DType::U16,
            Window::I16(_) => DType::I16,
            Window::F32(_) => DType::F32,
            Window::F64(_) => DType::F64,
        }
    }

    /// Bytes of pixel data.
    pub fn nbytes(&self) -> usize {
        let (h, w, c) = self.shape();
        h * w * c * self.dtype().size()
    }

    /// A copy as f32 (values converted, NaN kept).
    pub fn to_f32(&self) -> Array3<f32> {
        with_window!(self, a => a.mapv(|v| v.to_f32()))
    }

    /// A copy as f64.
    pub fn to_f64(&self) -> Array3<f64> {
        with_window!(self, a => a.mapv(|v| v.to_f64()))
    }

    /// Borrow the typed array when the window holds `T`.
    pub fn as_array<T: Pixel>(&self) -> Option<&Array3<T>> {
        T::unwrap_ref(self)
    }

    /// Take the typed array out, or get the window back when it holds another type.
    pub fn into_array<T: Pixel>(self) -> Result<Array3<T>, Window> {
        T::unwrap(self)
    }

    /// Convert to `dtype`: floats are cast, integers rounded and saturated (NaN → 0).
    /// Returns `self` unchanged when it already has that type.
    pub fn convert(self, dtype: DType) -> Window {
        if self.dtype() == dtype {
            return self;
        }
        fn conv<S: Pixel>(a: &Array3<S>, dtype: DType) -> Window {
            match dtype {
                DType::U8 => Window::U8(a.mapv(|v| u8::from_f64(v.to_f64()))),
                DType::U16 => Window::U16(a.mapv(|v| u16::from_f64(v.to_f64()))),
                DType::I16 => Window::I16(a.mapv(|v| i16::from_f64(v.to_f64()))),
                DType::F32 => Window::F32(a.mapv(|v| v.to_f32())),
                DType::F64 => Window::F64(a.mapv(|v| v.to_f64())),
            }
        }
        with_window!(&self, a => conv(a, dtype))
    }

    /// Select channels by index (in the given order), copying.
    pub fn select_channels(&self, idx: &[usize]) -> Result<Window> {
        let c = self.shape().2;
        if let Some(&bad) = idx.iter().find(|&&i| i >= c) {
            return Err(Error::invalid(format!(
                "channel index {bad} out of range for {c} channels"
            )));
        }
        Ok(with_window!(self, a => Window::from(a.select(ndarray::Axis(2), idx))))
    }

    /// The sub-window `rows × cols` (clamped to the window), copying.
    pub fn crop(&self, b: PixelBox) -> Window {
        let (h, w, _) = self.shape();
        let y0 = b.y0.clamp(0, h as i64) as usize;
        let y1 = b.y1.clamp(y0 as i64, h as i64) as usize;
        let x0 = b.x0.clamp(0, w as i64) as usize;
        let x1 = b.x1.clamp(x0 as i64, w as i64) as usize;
        with_window!(self, a => Window::from(a.slice(s![y0..y1, x0..x1, ..]).to_owned()))
    }

    /// Write the window as a `.npy` file of its own dtype.
    pub fn write_npy(&self, path: &std::path::Path) -> Result<()> {
        with_window!(self, a => ndarray_npy::write_npy(path, a))
            .map_err(|e| Error::decode(path, format!("writing npy: {e}")))
    }

    /// Read an `(H, W, C)` `.npy` file of one of the supported dtypes (a regular
    /// file only; the header's shape is checked against the data's length before
    /// the array is allocated).
    pub fn read_npy(path: &std::path::Path) -> Result<Window> {
        use std::io::Read;
        let mut f = crate::file::open_regular(path)?;
        let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
        let len = usize::try_from(len)
            .map_err(|_| Error::unsupported(path, "npy file larger than memory"))?;
        // 8-byte aligned storage, so the parsed data can be viewed in place.
        let mut words = vec![0u64; len.div_ceil(8)];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        f.read_exact(&mut bytes[..len])
            .map_err(|e| Error::io(path, e))?;
        Ok(match view_npy_any(&bytes[..len], path)? {
            WindowView::U8(a) => Window::from(a.as_standard_layout().into_owned()),
            WindowView::U16(a) => Window::from(a.as_standard_layout().into_owned()),
            WindowView::I16(a) => Window::from(a.as_standard_layout().into_owned()),
            WindowView::F32(a) => Window::from(a.as_standard_layout().into_owned()),
            WindowView::F64(a) => Window::from(a.as_standard_layout().into_owned()),
        })
    }
}

/// A borrowed `(H, W, C)` view of a supported dtype.
pub(crate) enum WindowView<'a> {
    U8(ArrayView3<'a, u8>),
    U16(ArrayView3<'a, u16>),
    I16(ArrayView3<'a, i16>),
    F32(ArrayView3<'a, f32>),
    F64(ArrayView3<'a, f64>),
}

/// Parse an in-memory `.npy` file of a supported dtype as a view (checking shape,
/// dtype, length and alignment).
pub(crate) fn view_npy_any<'a>(bytes: &'a [u8], path: &std::path::Path) -> Result<WindowView<'a>> {
    use ndarray_npy::{ViewNpyError, ViewNpyExt};
    // Try each dtype; the header names exactly one. Report the first error that is
    // not a dtype mismatch (truncation, bad header, misalignment).
    let mut first: Option<ViewNpyError> = None;
    let mut note = |e: ViewNpyError| {
        if first.is_none() && !matches!(e, ViewNpyError::WrongDescriptor(_)) {
            first = Some(e);
        }
    };
    match ArrayView3::<u8>::view_npy(bytes) {
        Ok(a) => return Ok(WindowView::U8(a)),
        Err(e) => note(e),
    }
    match ArrayView3::<u16>::view_npy(bytes) {
        Ok(a) => return Ok(WindowView::U16(a)),
        Err(e) => note(e),
    }
    match ArrayView3::<i16>::view_npy(bytes) {
        Ok(a) => return Ok(WindowView::I16(a)),
        Err(e) => note(e),
    }
    match ArrayView3::<f32>::view_npy(bytes) {
        Ok(a) => return Ok(WindowView::F32(a)),
        Err(e) => note(e),
    }
    match ArrayView3::<f64>::view_npy(bytes) {
        Ok(a) => return Ok(WindowView::F64(a)),
        Err(e) => note(e),
    }
    Err(match first {
        Some(e) => Error::decode(path, format!("npy: {e}")),
        None => Error::unsupported(path, "npy dtype (supported: u8, u16, i16, f32, f64)"),
    })
}

/// A mutable `(H, W, C)` view of pixels owned elsewhere (a slot of a batch
/// array), for reads that write in place ([`crate::FrameReader::read_warped_into`]).
#[derive(Debug)]
pub enum WindowMut<'a> {
    /// Unsigned 8-bit.
    U8(ArrayViewMut3<'a, u8>),
    /// Unsigned 16-bit.
    U16(ArrayViewMut3<'a, u16>),
    /// Signed 16-bit.
    I16(ArrayViewMut3<'a, i16>),
    /// 32-bit float.
    F32(ArrayViewMut3<'a, f32>),
    /// 64-bit float.
    F64(ArrayViewMut3<'a, f64>),
}

macro_rules! with_window_mut {
    ($w:expr, $a:ident => $body:expr) => {
        match $w {
            WindowMut::U8($a) => $body,
            WindowMut::U16($a) => $body,
            WindowMut::I16($a) => $body,
            WindowMut::F32($a) => $body,
            WindowMut::F64($a) => $body,
        }
    };
}

impl WindowMut<'_> {
    /// `(H, W, C)`.
    pub fn shape(&self) -> (usize, usize, usize) {
        with_window_mut!(self, a => a.dim())
    }

    /// The sample type.
    pub fn dtype(&self) -> DType {
        match self {
            WindowMut::U8(_) => DType::U8,
            WindowMut::U16(_) => DType::U16,
            WindowMut::I16(_) => DType::I16,
            WindowMut::F32(_) => DType::F32,
            WindowMut::F64(_) => DType::F64,
        }
    }

    /// Copies `w` in: it must have this view's shape and dtype.
    pub fn assign(&mut self, w: &Window) -> Result<()> {
        if w.shape() != self.shape() || w.dtype() != self.dtype() {
            return Err(Error::invalid(format!(
                "a {:?} {} window does not fit a {:?} {} slot",
                w.shape(),
                w.dtype().name(),
                self.shape(),
                self.dtype().name()
            )));
        }
        match (self, w) {
            (WindowMut::U8(d), Window::U8(a)) => d.assign(a),
            (WindowMut::U16(d), Window::U16(a)) => d.assign(a),
            (WindowMut::I16(d), Window::I16(a)) => d.assign(a),
            (WindowMut::F32(d), Window::F32(a)) => d.assign(a),
            (WindowMut::F64(d), Window::F64(a)) => d.assign(a),
            _ => unreachable!("dtypes were compared"),
        }
        Ok(())
    }

    /// Fills with the padding value of the dtype (0, or NaN for floats).
    pub fn fill_pad(&mut self) {
        fn go<T: Pixel>(a: &mut ArrayViewMut3<'_, T>) {
            a.fill(T::FILL);
        }
        with_window_mut!(self, a => go(a))
    }
}

/// A half-open pixel rectangle `[y0, y1) × [x0, x1)`. Bounds may be negative or
/// past the image (that part reads as padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelBox {
    /// First row.
    pub y0: i64,
    /// One past the last row.
    pub y1: i64,
    /// First column.
    pub x0: i64,
    /// One past the last column.
    pub x1: i64,
}

impl PixelBox {
    /// The box `[y0, y1) × [x0, x1)`; errors when `y0 > y1` or `x0 > x1`.
    ///
    /// ```
    /// use frame_backends::PixelBox;
    /// let b = PixelBox::new(-2, 3, 10, 14).unwrap();
    /// assert_eq!((b.height(), b.width()), (5, 4));
    /// assert!(PixelBox::new(3, 2, 0, 1).is_err());
    /// ```
    pub fn new(y0: i64, y1: i64, x0: i64, x1: i64) -> Result<PixelBox> {
        if y0 > y1 || x0 > x1 {
            return Err(Error::invalid(format!(
                "window [{y0},{y1})×[{x0},{x1}) has a start past its stop"
            )));
        }
        Ok(PixelBox { y0, y1, x0, x1 })
    }

    /// From a `space_slice = [[y0, y1], [x0, x1]]`.
    pub fn from_slices(rows: [i64; 2], cols: [i64; 2]) -> Result<PixelBox> {
        PixelBox::new(rows[0], rows[1], cols[0], cols[1])
    }

    /// The whole of an `height × width` image (sizes past `i64::MAX`, which no
    /// file has, saturate).
    pub fn full(height: usize, width: usize) -> PixelBox {
        PixelBox {
            y0: 0,
            y1: i64::try_from(height).unwrap_or(i64::MAX),
            x0: 0,
            x1: i64::try_from(width).unwrap_or(i64::MAX),
        }
    }

    /// Rows (exact for any bounds: `y1 − y0` may exceed `i64::MAX`).
    pub fn height(&self) -> usize {
        span(self.y0, self.y1)
    }

    /// Columns (exact for any bounds).
    pub fn width(&self) -> usize {
        span(self.x0, self.x1)
    }

    /// Whether the box holds no pixel.
    pub fn is_empty(&self) -> bool {
        self.height() == 0 || self.width() == 0
    }

    /// The overlap of two boxes (possibly empty, then with `y0 == y1` or `x0 == x1`).
    pub fn intersect(&self, o: &PixelBox) -> PixelBox {
        let y0 = self.y0.max(o.y0);
        let x0 = self.x0.max(o.x0);
        PixelBox {
            y0,
            x0,
            y1: self.y1.min(o.y1).max(y0),
            x1: self.x1.min(o.x1).max(x0),
        }
    }

    /// The box moved by `(dy, dx)`, or `None` when a bound would overflow `i64`.
    pub fn shift(&self, dy: i64, dx: i64) -> Option<PixelBox> {
        Some(PixelBox {
            y0: self.y0.checked_add(dy)?,
            y1: self.y1.checked_add(dy)?,
            x0: self.x0.checked_add(dx)?,
            x1: self.x1.checked_add(dx)?,
        })
    }

    /// Bytes of the box with `channels` samples of `sample` bytes per pixel,
    /// checked: an error when the product overflows or exceeds what one array
    /// may hold (`isize::MAX` bytes), before anything is allocated.
    pub(crate) fn checked_bytes(&self, channels: usize, sample: usize) -> Result<usize> {
        checked_bytes(&[self.height(), self.width(), channels, sample])
            .ok_or_else(|| Error::invalid(format!("window {self:?} is too large")))
    }
}

/// `b − a` when positive, else 0, exact for any `i64` bounds.
fn span(a: i64, b: i64) -> usize {
    let d = (b as i128 - a as i128).max(0);
    usize::try_from(d).unwrap_or(usize::MAX)
}

/// The product of `dims` when it fits an array: the product of the non-zero
/// ones at most `isize::MAX` (ndarray refuses `[2^63, 0, 3]` although it holds
/// nothing).
pub(crate) fn checked_bytes(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize)?;
    Some(if dims.contains(&0) {
        0
    } else {
        dims.iter().product()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn convert_and_select() {
        let a = Array3::from_shape_fn((2, 2, 3), |(y, x, c)| (y * 100 + x * 10 + c) as u16);
        let w = Window::from(a);
        let s = w.select_channels(&[2, 0]).unwrap();
        assert_eq!(s.as_array::<u16>().unwrap()[[1, 1, 0]], 112);
        assert_eq!(s.as_array::<u16>().unwrap()[[1, 1, 1]], 110);
        assert!(w.select_channels(&[3]).is_err());
        let f = w.clone().convert(DType::F64);
        assert_eq!(f.to_f64()[[1, 0, 2]], 102.0);
        let back = f.convert(DType::U8);
        assert_eq!(back.as_array::<u8>().unwrap()[[1, 0, 2]], 102);
        assert_eq!(w.nbytes(), 24);
    }

    #[test]
    fn npy_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.npy");
        let w = Window::from(Array3::from_shape_fn((3, 4, 2), |(y, x, c)| {
            (y + x + c) as f32 - 0.5
        }));
        w.write_npy(&p).unwrap();
        assert_eq!(Window::read_npy(&p).unwrap(), w);
    }

    proptest! {
        #[test]
        fn intersect_is_inside_both(a in -50i64..50, b in 0i64..40, c in -50i64..50, d in 0i64..40,
                                    e in -50i64..50, f in 0i64..40, g in -50i64..50, h in 0i64..40) {
            let p = PixelBox::new(a, a + b, c, c + d).unwrap();
            let q = PixelBox::new(e, e + f, g, g + h).unwrap();
            let i = p.intersect(&q);
            prop_assert!(i.height() <= p.height().min(q.height()));
            prop_assert!(i.width() <= p.width().min(q.width()));
            if !i.is_empty() {
                prop_assert!(i.y0 >= p.y0 && i.y1 <= p.y1 && i.y0 >= q.y0 && i.y1 <= q.y1);
                prop_assert!(i.x0 >= p.x0 && i.x1 <= p.x1 && i.x0 >= q.x0 && i.x1 <= q.x1);
            }
            prop_assert_eq!(i, q.intersect(&p));
        }
    }
}
