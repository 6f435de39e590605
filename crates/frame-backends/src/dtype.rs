//! Pixel sample types: the [`DType`] tag, the [`Pixel`] trait the generic code uses,
//! and [`Window`], the array that holds any of them (its methods are in `window.rs`).

use ndarray::Array3;

/// The sample type of a window or a raster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// Unsigned 8-bit.
    U8,
    /// Unsigned 16-bit.
    U16,
    /// Signed 16-bit.
    I16,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
}

impl DType {
    /// The numpy name (`"uint8"`, `"uint16"`, `"int16"`, `"float32"`, `"float64"`).
    pub fn name(self) -> &'static str {
        match self {
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::I16 => "int16",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Parse a numpy-style name (`uint8`/`u8`, `uint16`/`u16`, `int16`/`i16`,
    /// `float32`/`f32`/`float`, `float64`/`f64`/`double`).
    ///
    /// ```
    /// use frame_backends::DType;
    /// assert_eq!(DType::parse("uint16"), Some(DType::U16));
    /// assert_eq!(DType::parse("float"), Some(DType::F32));
    /// assert_eq!(DType::parse("complex"), None);
    /// ```
    pub fn parse(s: &str) -> Option<DType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "uint8" | "u8" => DType::U8,
            "uint16" | "u16" => DType::U16,
            "int16" | "i16" => DType::I16,
            "float32" | "f32" | "float" | "single" => DType::F32,
            "float64" | "f64" | "double" => DType::F64,
            _ => return None,
        })
    }

    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            DType::U8 => 1,
            DType::U16 | DType::I16 => 2,
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }

    /// Whether the type is floating point (its padding is NaN rather than 0).
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// The float type able to hold this type with NaN padding: `F64` for `F64`,
    /// `F32` otherwise (the rule of docs/DESIGN.md §3 `nodata: "float"`).
    pub fn to_float(self) -> DType {
        if self == DType::F64 {
            DType::F64
        } else {
            DType::F32
        }
    }

    /// The common type of two types, as numpy promotes them when the
    /// reference concatenates bands of different files: themselves when
    /// equal; `F64` if either is; else `F32` if either is; `u8` with `u16`
    /// is `u16`, `u8` with `i16` is `i16`; `u16` with `i16` (numpy's `int32`,
    /// which this crate has no type for) is `F32`, which holds both exactly.
    ///
    /// ```
    /// use frame_backends::DType;
    /// assert_eq!(DType::U8.promote(DType::U16), DType::U16);
    /// assert_eq!(DType::U16.promote(DType::I16), DType::F32);
    /// assert_eq!(DType::F32.promote(DType::F64), DType::F64);
    /// ```
    pub fn promote(self, other: DType) -> DType {
        use DType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (F64, _) | (_, F64) => F64,
            (F32, _) | (_, F32) => F32,
            (U8, U16) | (U16, U8) => U16,
            (U8, I16) | (I16, U8) => I16,
            _ => F32,
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A block of pixels, `(H, W, C)` in row-major order, of one of the supported
/// sample types.
///
/// ```
/// use frame_backends::{DType, Window};
/// let w = Window::filled(DType::U16, (2, 3, 1));
/// assert_eq!(w.shape(), (2, 3, 1));
/// let f = w.convert(DType::F32);
/// assert_eq!(f.dtype(), DType::F32);
/// assert_eq!(f.to_f32()[[1, 2, 0]], 0.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// Unsigned 8-bit samples.
    U8(Array3<u8>),
    /// Unsigned 16-bit samples.
    U16(Array3<u16>),
    /// Signed 16-bit samples.
    I16(Array3<i16>),
    /// 32-bit float samples.
    F32(Array3<f32>),
    /// 64-bit float samples.
    F64(Array3<f64>),
}

/// A sample type a [`Window`] can hold. Implemented for `u8`, `u16`, `i16`, `f32`, `f64`.
pub trait Pixel:
    Copy + Send + Sync + 'static + Default + PartialEq + std::fmt::Debug + bytemuck::Pod
{
    /// The tag of this type.
    const DTYPE: DType;
    /// The padding value: 0 for integers, NaN for floats (docs/DESIGN.md §3).
    const FILL: Self;
    /// The value as f32 (exact for every type but large f64 values).
    fn to_f32(self) -> f32;
    /// The value as f64 (exact).
    fn to_f64(self) -> f64;
    /// Convert from f64: floats cast, integers rounded to nearest and saturated
    /// (NaN becomes 0), like OpenCV's `saturate_cast`.
    fn from_f64(v: f64) -> Self;
    /// Convert from f32 with the same rule as [`Pixel::from_f64`].
    fn from_f32(v: f32) -> Self;
    /// Wrap an array into a [`Window`].
    fn wrap(a: Array3<Self>) -> Window;
    /// Borrow the array of a window of this type.
    fn unwrap_ref(w: &Window) -> Option<&Array3<Self>>;
    /// Borrow mutably the array of a window of this type.
    fn unwrap_mut(w: &mut Window) -> Option<&mut Array3<Self>>;
    /// Take the array out of a window of this type.
    fn unwrap(w: Window) -> Result<Array3<Self>, Window>;
}

macro_rules! int_pixel {
    ($t:ty, $variant:ident) => {
        impl Pixel for $t {
            const DTYPE: DType = DType::$variant;
            const FILL: Self = 0;
            #[inline]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn from_f64(v: f64) -> Self {
                // `as` saturates and maps NaN to 0.
                v.round() as $t
            }
            #[inline]
            fn from_f32(v: f32) -> Self {
                v.round() as $t
            }
            fn wrap(a: Array3<Self>) -> Window {
                Window::$variant(a)
            }
            fn unwrap_ref(w: &Window) -> Option<&Array3<Self>> {
                match w {
                    Window::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn unwrap_mut(w: &mut Window) -> Option<&mut Array3<Self>> {
                match w {
                    Window::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn unwrap(w: Window) -> Result<Array3<Self>, Window> {
                match w {
                    Window::$variant(a) => Ok(a),
                    other => Err(other),
                }
            }
        }
    };
}

macro_rules! float_pixel {
    ($t:ty, $variant:ident) => {
        impl Pixel for $t {
            const DTYPE: DType = DType::$variant;
            const FILL: Self = <$t>::NAN;
            #[inline]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn from_f32(v: f32) -> Self {
                v as $t
            }
            fn wrap(a: Array3<Self>) -> Window {
                Window::$variant(a)
            }
            fn unwrap_ref(w: &Window) -> Option<&Array3<Self>> {
                match w {
                    Window::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn unwrap_mut(w: &mut Window) -> Option<&mut Array3<Self>> {
                match w {
                    Window::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn unwrap(w: Window) -> Result<Array3<Self>, Window> {
                match w {
                    Window::$variant(a) => Ok(a),
                    other => Err(other),
                }
            }
        }
    };
}

int_pixel!(u8, U8);
int_pixel!(u16, U16);
int_pixel!(i16, I16);
float_pixel!(f32, F32);
float_pixel!(f64, F64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_conversion_rounds_and_saturates() {
        assert_eq!(u8::from_f64(254.6), 255);
        assert_eq!(u8::from_f64(300.0), 255);
        assert_eq!(u8::from_f64(-3.0), 0);
        assert_eq!(u8::from_f64(f64::NAN), 0);
        assert_eq!(i16::from_f32(-40000.0), i16::MIN);
        assert_eq!(u16::from_f32(1.49), 1);
    }

    #[test]
    fn promote_and_fill() {
        assert_eq!(DType::U8.promote(DType::U8), DType::U8);
        assert_eq!(DType::U8.promote(DType::U16), DType::U16);
        assert_eq!(DType::I16.promote(DType::U8), DType::I16);
        assert_eq!(DType::U16.promote(DType::I16), DType::F32);
        assert_eq!(DType::F32.promote(DType::U16), DType::F32);
        assert_eq!(DType::F64.promote(DType::U16), DType::F64);
        assert!(f32::FILL.is_nan());
        assert_eq!(u16::FILL, 0);
        assert_eq!(DType::I16.to_float(), DType::F32);
        for d in [DType::U8, DType::U16, DType::I16, DType::F32, DType::F64] {
            assert_eq!(DType::parse(d.name()), Some(d));
        }
    }
}
