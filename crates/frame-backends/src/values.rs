//! Value rules applied to an asset's pixels before any resampling, as the
//! reference applies them to the array it loads: a file's own nodata value
//! becoming NaN (`nodata: "float"`), and kwcoco's `quantization` undone.
//!
//! Reference: `delayed_image.lazy_loaders._gdal_read` (GDAL band nodata →
//! NaN when `nodata_method` is `"float"`, the array promoted with
//! `np.result_type(dtype, float32)`), and `delayed_image.helpers.dequantize`,
//! which `kwcoco.CocoImage.imdelay` applies to every asset with a
//! `quantization` (always, not on request) and whose optimizer moves before
//! any warp.

use std::sync::Arc;

use crate::dtype::{DType, Pixel};
use crate::error::{Error, Result};
use crate::raster::{Raster, RasterInfo};
use crate::window::{PixelBox, Window};

/// kwcoco's `quantization` record of an asset: the file holds integer codes
/// of float data. Reading dequantizes every pixel:
/// `(code − quant_min) · (orig_max − orig_min) / (quant_max − quant_min) + orig_min`
/// computed in `orig_dtype` (scale 0 when `quant_max == quant_min`), and a
/// code equal to `nodata` becomes NaN (when `nodata` fits the file's dtype).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantization {
    /// The dtype of the dequantized values (`float32`, the default, or `float64`).
    pub orig_dtype: DType,
    /// Value of `quant_min` (default 0).
    pub orig_min: f64,
    /// Value of `quant_max` (default 1).
    pub orig_max: f64,
    /// Smallest code (default 0).
    pub quant_min: f64,
    /// Largest code (required).
    pub quant_max: f64,
    /// The code of missing data, if any.
    pub nodata: Option<f64>,
}

impl Quantization {
    /// Parse kwcoco's JSON record (`{"orig_dtype": "float32", "orig_min": 0,
    /// "orig_max": 1, "quant_min": 0, "quant_max": 255, "nodata": 0}`), with the
    /// reference's defaults for absent keys. Errors name the key.
    ///
    /// ```
    /// use frame_backends::Quantization;
    /// let q = Quantization::from_json(&serde_json::json!({"quant_max": 255, "nodata": 0})).unwrap();
    /// assert_eq!((q.orig_max, q.quant_max, q.nodata), (1.0, 255.0, Some(0.0)));
    /// assert!(Quantization::from_json(&serde_json::json!({"orig_min": 0})).unwrap_err().to_string().contains("quant_max"));
    /// ```
    pub fn from_json(v: &serde_json::Value) -> Result<Quantization> {
        let obj = v
            .as_object()
            .ok_or_else(|| Error::invalid(format!("quantization {v}: not an object")))?;
        let num = |key: &str, default: Option<f64>| -> Result<f64> {
            match obj.get(key) {
                None => default
                    .ok_or_else(|| Error::invalid(format!("quantization: `{key}` is required"))),
                Some(x) => x.as_f64().filter(|f| f.is_finite()).ok_or_else(|| {
                    Error::invalid(format!("quantization `{key}`: {x} is not a finite number"))
                }),
            }
        };
        let orig_dtype = match obj.get("orig_dtype") {
            None => DType::F32,
            Some(serde_json::Value::String(s)) => match DType::parse(s) {
                Some(d) if d.is_float() => d,
                _ => {
                    return Err(Error::invalid(format!(
                        "quantization `orig_dtype`: {s:?} is not float32 or float64"
                    )));
                }
            },
            Some(x) => {
                return Err(Error::invalid(format!(
                    "quantization `orig_dtype`: {x} is not a dtype name"
                )));
            }
        };
        let nodata = match obj.get("nodata") {
            None | Some(serde_json::Value::Null) => None,
            Some(x) => Some(x.as_f64().ok_or_else(|| {
                Error::invalid(format!("quantization `nodata`: {x} is not a number"))
            })?),
        };
        Ok(Quantization {
            orig_dtype,
            orig_min: num("orig_min", Some(0.0))?,
            orig_max: num("orig_max", Some(1.0))?,
            quant_min: num("quant_min", Some(0.0))?,
            quant_max: num("quant_max", None)?,
            nodata,
        })
    }

    /// `(orig_max − orig_min) / (quant_max − quant_min)`, 0 for an empty range.
    fn scale(&self) -> f64 {
        let q = self.quant_max - self.quant_min;
        if q == 0.0 {
            0.0
        } else {
            (self.orig_max - self.orig_min) / q
        }
    }
}

/// Whether `v` is a value of `dtype` (the reference's
/// `_scalar_is_representable_in_dtype`): an integer in range for integer
/// types, anything within ±max (or not finite) for floats.
fn representable(v: f64, dtype: DType) -> bool {
    let (lo, hi) = match dtype {
        DType::U8 => (0.0, u8::MAX as f64),
        DType::U16 => (0.0, u16::MAX as f64),
        DType::I16 => (i16::MIN as f64, i16::MAX as f64),
        DType::F32 => return !v.is_finite() || v.abs() <= f32::MAX as f64,
        DType::F64 => return true,
    };
    v.fract() == 0.0 && (lo..=hi).contains(&v)
}

/// An asset's raster with its value rules applied (see the module docs): the
/// window comes back as float, NaN where the file says nodata, where a code is
/// the quantization's nodata, and outside the raster.
pub(crate) struct ValueRules {
    inner: Arc<dyn Raster>,
    info: RasterInfo,
    /// The file's nodata value to turn into NaN.
    file_nodata: Option<f64>,
    quant: Option<Quantization>,
}

impl ValueRules {
    /// `raster` with the rules that apply: its own nodata when `nodata_float`
    /// (and the file has one), and `quant`. `raster` itself when none does.
    pub(crate) fn wrap(
        raster: Arc<dyn Raster>,
        nodata_float: bool,
        quant: Option<Quantization>,
    ) -> Arc<dyn Raster> {
        let file_nodata = raster.info().nodata.filter(|_| nodata_float);
        if file_nodata.is_none() && quant.is_none() {
            return raster;
        }
        let mut info = raster.info().clone();
        info.dtype = match quant {
            Some(q) => q.orig_dtype,
            // np.result_type(dtype, float32)
            None => info.dtype.to_float(),
        };
        Arc::new(ValueRules {
            inner: raster,
            info,
            file_nodata,
            quant,
        })
    }
}

impl Raster for ValueRules {
    fn info(&self) -> &RasterInfo {
        &self.info
    }

    fn read_region(&self, level: usize, region: PixelBox, bands: &[usize]) -> Result<Window> {
        let raw = self.inner.read_region(level, region, bands)?;
        let (lh, lw) = self.info.levels.get(level).copied().unwrap_or((0, 0));
        let inside = region.intersect(&PixelBox::full(lh, lw));
        let raw_dtype = raw.dtype();
        // The quantization's nodata is compared with the file's values (after
        // the file's own nodata became NaN, which never equals it).
        let qnodata = self
            .quant
            .and_then(|q| q.nodata)
            .filter(|&v| representable(v, raw_dtype));
        fn go<T: Pixel, O: Pixel>(
            raw: &ndarray::Array3<T>,
            region: PixelBox,
            inside: PixelBox,
            file_nodata: Option<f64>,
            quant: Option<Quantization>,
            qnodata: Option<f64>,
        ) -> Window {
            let scale = quant.map(|q| q.scale());
            let value = |v: T| -> O {
                let f = v.to_f64();
                if file_nodata == Some(f) || qnodata == Some(f) {
                    return O::FILL;
                }
                match (quant, scale) {
                    (Some(q), Some(s)) => {
                        if O::DTYPE == DType::F32 {
                            // numpy float32 arithmetic with weak Python scalars.
                            let d =
                                (v.to_f32() - q.quant_min as f32) * s as f32 + q.orig_min as f32;
                            O::from_f32(d)
                        } else {
                            O::from_f64((f - q.quant_min) * s + q.orig_min)
                        }
                    }
                    _ => O::from_f64(f),
                }
            };
            let (h, w, c) = raw.dim();
            let mut out = ndarray::Array3::<O>::from_elem((h, w, c), O::FILL);
            for ((y, x, k), &v) in raw.indexed_iter() {
                let (yy, xx) = (region.y0 + y as i64, region.x0 + x as i64);
                if yy >= inside.y0 && yy < inside.y1 && xx >= inside.x0 && xx < inside.x1 {
                    out[[y, x, k]] = value(v);
                }
            }
            O::wrap(out)
        }
        // numpy compares a float32 array with a Python float in float32.
        let as_raw = |v: f64| {
            if raw_dtype == DType::F32 {
                v as f32 as f64
            } else {
                v
            }
        };
        let qnodata = qnodata.map(as_raw);
        let (fnd, q) = (self.file_nodata.map(as_raw), self.quant);
        Ok(match self.info.dtype {
            DType::F64 => {
                crate::with_window!(&raw, a => go::<_, f64>(a, region, inside, fnd, q, qnodata))
            }
            _ => crate::with_window!(&raw, a => go::<_, f32>(a, region, inside, fnd, q, qnodata)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_key() {
        let bad = [
            (serde_json::json!([1]), "not an object"),
            (serde_json::json!({}), "quant_max"),
            (serde_json::json!({"quant_max": "x"}), "quant_max"),
            (
                serde_json::json!({"quant_max": 3, "orig_dtype": "uint8"}),
                "orig_dtype",
            ),
            (
                serde_json::json!({"quant_max": 3, "orig_dtype": 4}),
                "orig_dtype",
            ),
            (
                serde_json::json!({"quant_max": 3, "nodata": "none"}),
                "nodata",
            ),
        ];
        for (v, key) in bad {
            let e = Quantization::from_json(&v).unwrap_err().to_string();
            assert!(e.contains(key), "{v}: {e}");
        }
        let q = Quantization::from_json(&serde_json::json!({
            "orig_dtype": "float64", "orig_min": -1, "orig_max": 1, "quant_min": 0, "quant_max": 0
        }))
        .unwrap();
        assert_eq!(q.orig_dtype, DType::F64);
        assert_eq!(q.scale(), 0.0);
    }

    /// A 2×3 raster of one band holding `v`.
    struct Fixed(RasterInfo, Vec<u8>);
    impl Raster for Fixed {
        fn info(&self) -> &RasterInfo {
            &self.0
        }
        fn read_region(&self, _: usize, region: PixelBox, _: &[usize]) -> Result<Window> {
            let a = ndarray::Array3::from_shape_vec((2, 3, 1), self.1.clone()).unwrap();
            let mut out = ndarray::Array3::<u8>::zeros((region.height(), region.width(), 1));
            for y in 0..region.height() {
                for x in 0..region.width() {
                    let (yy, xx) = (region.y0 + y as i64, region.x0 + x as i64);
                    if (0..2).contains(&yy) && (0..3).contains(&xx) {
                        out[[y, x, 0]] = a[[yy as usize, xx as usize, 0]];
                    }
                }
            }
            Ok(Window::U8(out))
        }
    }

    #[test]
    fn rules_apply_per_pixel_with_nan_padding() {
        let info = RasterInfo {
            path: "f.tif".into(),
            height: 2,
            width: 3,
            bands: 1,
            dtype: DType::U8,
            nodata: Some(7.0),
            levels: vec![(2, 3)],
        };
        let raster: Arc<dyn Raster> = Arc::new(Fixed(info, vec![0, 7, 255, 51, 1, 102]));
        let q = Quantization {
            orig_dtype: DType::F32,
            orig_min: 0.0,
            orig_max: 1.0,
            quant_min: 0.0,
            quant_max: 255.0,
            nodata: Some(0.0),
        };
        // No rule: the raster itself.
        assert!(Arc::ptr_eq(
            &ValueRules::wrap(raster.clone(), false, None),
            &raster
        ));
        let both = ValueRules::wrap(raster.clone(), true, Some(q));
        assert_eq!(both.info().dtype, DType::F32);
        let w = both
            .read_region(0, PixelBox::new(0, 3, 0, 3).unwrap(), &[0])
            .unwrap();
        let a = w.as_array::<f32>().unwrap();
        let v: Vec<f32> = a.iter().copied().collect();
        assert!(v[0].is_nan() && v[1].is_nan(), "{v:?}"); // quant nodata, file nodata
        // float32 arithmetic, as numpy's: code · f32(1/255).
        let s = (1.0f64 / 255.0) as f32;
        assert_eq!(&v[2..6], &[255.0 * s, 51.0 * s, s, 102.0 * s]);
        assert!(v[6..].iter().all(|x| x.is_nan()), "padding {v:?}");
        // File nodata only with nodata_float; the codes then stay values.
        let plain = ValueRules::wrap(raster.clone(), true, None);
        let w = plain
            .read_region(0, PixelBox::new(0, 1, 0, 3).unwrap(), &[0])
            .unwrap();
        let v: Vec<f32> = w.as_array::<f32>().unwrap().iter().copied().collect();
        assert_eq!((v[0], v[2]), (0.0, 255.0));
        assert!(v[1].is_nan());
    }

    #[test]
    fn representable_follows_the_reference() {
        assert!(representable(0.0, DType::U8));
        assert!(!representable(-1.0, DType::U8));
        assert!(!representable(256.0, DType::U8));
        assert!(!representable(1.5, DType::I16));
        assert!(representable(-32768.0, DType::I16));
        assert!(representable(f64::NAN, DType::F32));
        assert!(!representable(1e300, DType::F32));
    }
}
