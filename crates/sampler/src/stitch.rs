//! Stitching window predictions back into a full image (sliding-window
//! inference), like kwarray's `Stitcher` and MONAI's
//! `sliding_window_inference`.
//!
//! A [`Stitcher`] holds a weighted sum `(H, W, C)` and a weight map `(H, W)`;
//! every window's prediction `(h, w, C)` is added at its position, weighted
//! per pixel by the [`Blend`] (uniform, or a Gaussian that trusts window
//! centres more than their borders). Windows may extend past the image: the
//! part outside is dropped. [`Stitcher::finalize`] divides the sum by the
//! weights (NaN where no window contributed).
//!
//! ```
//! use ndarray::Array3;
//! use sampler::stitch::{Blend, Stitcher};
//! let mut st = Stitcher::new(4, 6, 1, Blend::Mean).unwrap();
//! st.add(0, 0, Array3::from_elem((4, 4, 1), 1.0f32).view()).unwrap();
//! st.add(0, 2, Array3::from_elem((4, 4, 1), 3.0f32).view()).unwrap();
//! let out = st.finalize();
//! assert_eq!(out[[0, 0, 0]], 1.0); // one window
//! assert_eq!(out[[0, 3, 0]], 2.0); // the overlap: the mean
//! assert_eq!(out[[0, 5, 0]], 3.0);
//! ```

use std::collections::HashMap;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};

use crate::error::{Result, TrainingError};
use crate::sampler::Sample;

/// How overlapping windows are weighted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Blend {
    /// Every pixel of a window weighs 1: overlaps are averaged.
    Mean,
    /// A separable Gaussian centred on the window with standard deviation
    /// `sigma_scale × window size` per axis, scaled to a peak of 1 and
    /// clamped below at `max(smallest value, 1e-3)` (MONAI's
    /// `compute_importance_map`, whose default `sigma_scale` is 0.125).
    Gaussian {
        /// Standard deviation as a fraction of the window size (finite, > 0).
        sigma_scale: f64,
    },
}

impl Blend {
    /// MONAI's default Gaussian (`sigma_scale = 0.125`).
    pub const GAUSSIAN: Blend = Blend::Gaussian { sigma_scale: 0.125 };

    /// The `(h, w)` weight map of a window of this blend.
    pub fn window_weights(&self, h: usize, w: usize) -> Array2<f32> {
        match *self {
            Blend::Mean => Array2::ones((h, w)),
            Blend::Gaussian { sigma_scale } => {
                let axis = |n: usize| -> Vec<f64> {
                    let sigma = sigma_scale * n as f64;
                    let c = n as f64 / 2.0;
                    (0..n)
                        .map(|i| {
                            let d = i as f64 + 0.5 - c;
                            (-(d * d) / (2.0 * sigma * sigma)).exp()
                        })
                        .collect()
                };
                let (gy, gx) = (axis(h), axis(w));
                let peak =
                    gy.iter().cloned().fold(0.0, f64::max) * gx.iter().cloned().fold(0.0, f64::max);
                let mut m = Array2::from_shape_fn((h, w), |(y, x)| gy[y] * gx[x] / peak);
                let floor = m
                    .iter()
                    .cloned()
                    .filter(|&v| v > 0.0)
                    .fold(f64::INFINITY, f64::min)
                    .max(1e-3);
                m.mapv_inplace(|v| v.max(floor));
                m.mapv(|v| v as f32)
            }
        }
    }
}

/// Accumulates window predictions into a full `(H, W, C)` image.
#[derive(Debug, Clone)]
pub struct Stitcher {
    h: usize,
    w: usize,
    c: usize,
    blend: Blend,
    sum: Array3<f32>,
    weight: Array2<f32>,
    window_weights: HashMap<(usize, usize), Array2<f32>>,
}

impl Stitcher {
    /// An empty `height × width` image of `channels` channels.
    ///
    /// Errors: [`TrainingError::BadOption`] for a zero channel count, a size
    /// beyond 2^31 pixels × channels, or a Gaussian `sigma_scale` that is not
    /// finite and positive.
    pub fn new(height: usize, width: usize, channels: usize, blend: Blend) -> Result<Self> {
        if channels == 0 {
            return Err(bad("channels", "at least one channel is needed"));
        }
        let n = height
            .checked_mul(width)
            .and_then(|n| n.checked_mul(channels))
            .filter(|&n| n <= 1 << 31);
        if n.is_none() {
            return Err(bad(
                "shape",
                format!("{height}×{width}×{channels} is beyond the 2^31-value limit"),
            ));
        }
        if let Blend::Gaussian { sigma_scale } = blend
            && !(sigma_scale.is_finite() && sigma_scale > 0.0)
        {
            return Err(bad(
                "sigma_scale",
                format!("{sigma_scale} must be finite and > 0"),
            ));
        }
        Ok(Stitcher {
            h: height,
            w: width,
            c: channels,
            blend,
            sum: Array3::zeros((height, width, channels)),
            weight: Array2::zeros((height, width)),
            window_weights: HashMap::new(),
        })
    }

    /// `[H, W, C]` of the stitched image.
    pub fn shape(&self) -> [usize; 3] {
        [self.h, self.w, self.c]
    }

    /// Add a window's prediction `(h, w, C)` whose top-left pixel is at row
    /// `y0`, column `x0` of the image (either may be negative, and the window
    /// may end past the image: that part is dropped), weighted by the blend.
    ///
    /// Errors: [`TrainingError::BadOption`] when the channel count differs.
    pub fn add(&mut self, y0: i64, x0: i64, pred: ArrayView3<'_, f32>) -> Result<()> {
        let (h, w, _) = pred.dim();
        // the window's weights are computed once per window size and kept
        let weights = self
            .window_weights
            .remove(&(h, w))
            .unwrap_or_else(|| self.blend.window_weights(h, w));
        let added = self.add_weighted(y0, x0, pred, weights.view());
        self.window_weights.insert((h, w), weights);
        added
    }

    /// [`Stitcher::add`] with an explicit `(h, w)` weight map (for example a
    /// validity mask of the window); non-finite predictions are skipped with
    /// their weight.
    ///
    /// Errors: [`TrainingError::BadOption`] when the channel count or the
    /// weight map's shape differs, or a weight is negative or not finite.
    pub fn add_weighted(
        &mut self,
        y0: i64,
        x0: i64,
        pred: ArrayView3<'_, f32>,
        weights: ArrayView2<'_, f32>,
    ) -> Result<()> {
        let (h, w, c) = pred.dim();
        if c != self.c {
            return Err(bad(
                "prediction",
                format!("{c} channels, the stitcher has {}", self.c),
            ));
        }
        if weights.dim() != (h, w) {
            return Err(bad(
                "weights",
                format!("shape {:?} for a {h}×{w} window", weights.dim()),
            ));
        }
        if weights.iter().any(|&v| !(v.is_finite() && v >= 0.0)) {
            return Err(bad("weights", "every weight must be finite and ≥ 0"));
        }
        // the window's rows/columns that land inside the image
        let span = |o: i64, n: usize, lim: usize| -> (usize, usize) {
            let lo = (-o).clamp(0, n as i64) as usize;
            let hi = (lim as i64 - o).clamp(0, n as i64) as usize;
            (lo, hi.max(lo))
        };
        let (r0, r1) = span(y0, h, self.h);
        let (c0, c1) = span(x0, w, self.w);
        for r in r0..r1 {
            let y = (y0 + r as i64) as usize;
            for q in c0..c1 {
                let x = (x0 + q as i64) as usize;
                let wt = weights[[r, q]];
                if wt == 0.0 {
                    continue;
                }
                let px = pred.slice(ndarray::s![r, q, ..]);
                if px.iter().any(|v| !v.is_finite()) {
                    continue;
                }
                let mut dst = self.sum.slice_mut(ndarray::s![y, x, ..]);
                dst.zip_mut_with(&px, |d, &v| *d += wt * v);
                self.weight[[y, x]] += wt;
            }
        }
        Ok(())
    }

    /// Add the prediction of a 2D sample's window (`(H, W, C)` at the
    /// sample's own size): placed at the sample's padded window in image
    /// space.
    ///
    /// Errors: [`TrainingError::BadOption`] for a video sample, a scaled one
    /// (`scale ≠ 1`: the prediction is not on the image's grid) or a
    /// prediction of another size.
    pub fn add_sample(&mut self, sample: &Sample, pred: ArrayView3<'_, f32>) -> Result<()> {
        if sample.params.time_span.is_some() {
            return Err(bad(
                "sample",
                "a video sample cannot be stitched into one image",
            ));
        }
        if sample.params.scale != [1.0, 1.0] {
            return Err(bad(
                "sample",
                format!(
                    "scale {:?}: only unscaled windows are on the image grid",
                    sample.params.scale
                ),
            ));
        }
        let [x0, y0, x1, y1] = sample.params.sample_ltrb;
        let (h, w, _) = pred.dim();
        if (h as i64, w as i64) != (y1 - y0, x1 - x0) {
            return Err(bad(
                "prediction",
                format!("{h}×{w} for a {}×{} window", y1 - y0, x1 - x0),
            ));
        }
        self.add(y0, x0, pred)
    }

    /// The accumulated weight of each pixel `(H, W)`.
    pub fn weights(&self) -> ArrayView2<'_, f32> {
        self.weight.view()
    }

    /// The weighted sum `(H, W, C)` (not yet divided by the weights).
    pub fn sums(&self) -> ArrayView3<'_, f32> {
        self.sum.view()
    }

    /// The stitched image `(H, W, C)`: the weighted mean of the windows at
    /// each pixel, NaN where no window (or only zero weight) landed.
    pub fn finalize(&self) -> Array3<f32> {
        let mut out = self.sum.clone();
        self.divide(&mut out);
        out
    }

    /// [`Stitcher::finalize`] without copying the sum.
    pub fn into_result(self) -> Array3<f32> {
        let mut out = self.sum;
        divide(&self.weight, &mut out);
        out
    }

    fn divide(&self, out: &mut Array3<f32>) {
        divide(&self.weight, out);
    }
}

fn divide(weight: &Array2<f32>, out: &mut Array3<f32>) {
    for ((y, x, _), v) in out.indexed_iter_mut() {
        let wt = weight[[y, x]];
        *v = if wt > 0.0 { *v / wt } else { f32::NAN };
    }
}

fn bad(option: &'static str, msg: impl Into<String>) -> crate::Error {
    TrainingError::BadOption {
        option,
        msg: msg.into(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Window origins of a sliding grid covering `n` with windows of `k` and
    /// stride `s`, the last one flush with the end (may start before 0 when
    /// `k > n`).
    fn origins(n: usize, k: usize, s: usize) -> Vec<i64> {
        let mut v: Vec<i64> = (0..)
            .map(|i| (i * s) as i64)
            .take_while(|&o| o + (k as i64) < n as i64)
            .collect();
        v.push(n as i64 - k as i64);
        v.dedup();
        v
    }

    #[test]
    fn gaussian_weights_peak_at_the_centre_and_are_symmetric() {
        let m = Blend::GAUSSIAN.window_weights(8, 6);
        let max = m.iter().cloned().fold(0.0f32, f32::max);
        assert!((max - 1.0).abs() < 1e-6);
        assert!((m[[3, 2]] - max).abs() < 1e-6 && (m[[4, 3]] - max).abs() < 1e-6);
        for y in 0..8 {
            for x in 0..6 {
                assert!((m[[y, x]] - m[[7 - y, 5 - x]]).abs() < 1e-6);
                assert!(m[[y, x]] >= 1e-3);
            }
        }
        assert!(m[[0, 0]] < m[[2, 2]]);
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(Stitcher::new(4, 4, 0, Blend::Mean).is_err());
        assert!(Stitcher::new(1 << 20, 1 << 20, 1, Blend::Mean).is_err());
        assert!(Stitcher::new(4, 4, 1, Blend::Gaussian { sigma_scale: 0.0 }).is_err());
        let mut st = Stitcher::new(4, 4, 2, Blend::Mean).unwrap();
        let p = Array3::<f32>::zeros((2, 2, 3));
        assert!(st.add(0, 0, p.view()).is_err());
        let p = Array3::<f32>::zeros((2, 2, 2));
        assert!(
            st.add_weighted(0, 0, p.view(), Array2::zeros((3, 2)).view())
                .is_err()
        );
        assert!(
            st.add_weighted(0, 0, p.view(), Array2::from_elem((2, 2), -1.0).view())
                .is_err()
        );
    }

    #[test]
    fn uncovered_pixels_are_nan_and_nan_predictions_skipped() {
        let mut st = Stitcher::new(3, 3, 1, Blend::Mean).unwrap();
        let mut p = Array3::from_elem((2, 2, 1), 5.0f32);
        p[[0, 0, 0]] = f32::NAN;
        st.add(1, 1, p.view()).unwrap();
        let out = st.finalize();
        assert!(out[[0, 0, 0]].is_nan() && out[[1, 1, 0]].is_nan());
        assert_eq!(out[[2, 2, 0]], 5.0);
        assert_eq!(st.weights()[[1, 1]], 0.0);
    }

    proptest! {
        /// A constant field stitched from any overlapping grid (windows may
        /// stick out of the image) comes back constant, for both blends.
        #[test]
        fn constant_field_comes_back_constant(
            h in 1usize..40, w in 1usize..40, kh in 1usize..16, kw in 1usize..16,
            sh in 1usize..16, sw in 1usize..16, c in 1usize..4, value in -100.0f32..100.0,
            gaussian in any::<bool>(),
        ) {
            let blend = if gaussian { Blend::GAUSSIAN } else { Blend::Mean };
            let mut st = Stitcher::new(h, w, c, blend).unwrap();
            let p = Array3::from_elem((kh, kw, c), value);
            for &y in &origins(h, kh, sh.min(kh)) {
                for &x in &origins(w, kw, sw.min(kw)) {
                    st.add(y, x, p.view()).unwrap();
                }
            }
            let out = st.finalize();
            for &v in out.iter() {
                prop_assert!((v - value).abs() <= 1e-4 * value.abs().max(1.0), "{} vs {}", v, value);
            }
        }

        /// The weight of each pixel is the sum of the window weights of the
        /// windows covering it (brute force), windows partly outside clipped.
        #[test]
        fn weights_sum_over_covering_windows(
            h in 1usize..24, w in 1usize..24, kh in 1usize..10, kw in 1usize..10,
            windows in proptest::collection::vec((-12i64..30, -12i64..30), 1..8),
            gaussian in any::<bool>(),
        ) {
            let blend = if gaussian { Blend::GAUSSIAN } else { Blend::Mean };
            let mut st = Stitcher::new(h, w, 1, blend).unwrap();
            let p = Array3::from_elem((kh, kw, 1), 1.0f32);
            for &(y, x) in &windows {
                st.add(y, x, p.view()).unwrap();
            }
            let ww = blend.window_weights(kh, kw);
            for yy in 0..h {
                for xx in 0..w {
                    let mut want = 0.0f32;
                    for &(y, x) in &windows {
                        let (r, q) = (yy as i64 - y, xx as i64 - x);
                        if (0..kh as i64).contains(&r) && (0..kw as i64).contains(&q) {
                            want += ww[[r as usize, q as usize]];
                        }
                    }
                    prop_assert!((st.weights()[[yy, xx]] - want).abs() < 1e-4);
                }
            }
        }

        /// A window partly outside gives the same image as adding only its
        /// inside part with the matching part of its weights.
        #[test]
        fn partly_outside_windows_equal_their_inside_part(
            h in 1usize..20, w in 1usize..20, kh in 1usize..12, kw in 1usize..12,
            y in -12i64..20, x in -12i64..20, seed in 0u32..1000,
        ) {
            let p = Array3::from_shape_fn((kh, kw, 2), |(a, b, ch)| ((a * 31 + b * 7 + ch * 3) as u32 ^ seed) as f32 % 17.0);
            let mut a = Stitcher::new(h, w, 2, Blend::GAUSSIAN).unwrap();
            a.add(y, x, p.view()).unwrap();
            let ww = Blend::GAUSSIAN.window_weights(kh, kw);
            let mut b = Stitcher::new(h, w, 2, Blend::GAUSSIAN).unwrap();
            let r0 = (-y).clamp(0, kh as i64) as usize;
            let r1 = (h as i64 - y).clamp(0, kh as i64) as usize;
            let c0 = (-x).clamp(0, kw as i64) as usize;
            let c1 = (w as i64 - x).clamp(0, kw as i64) as usize;
            if r0 < r1 && c0 < c1 {
                let sub = p.slice(ndarray::s![r0..r1, c0..c1, ..]);
                let subw = ww.slice(ndarray::s![r0..r1, c0..c1]);
                b.add_weighted(y + r0 as i64, x + c0 as i64, sub, subw).unwrap();
            }
            prop_assert_eq!(a.weights(), b.weights());
            prop_assert_eq!(a.sums(), b.sums());
        }
    }
}
