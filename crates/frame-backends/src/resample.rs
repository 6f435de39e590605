//! Resampling a source block into an output grid through an affine transform.
//!
//! Conventions (those of OpenCV / kwimage `warpAffine` with pixel-edge
//! coordinates): pixel `k` covers `[k, k+1)` and its centre is `k + 0.5`; an
//! output pixel `(i, j)` takes the source value at `M⁻¹ (j + 0.5, i + 0.5)`. For a
//! pure scale `s` this is `src = (dst + 0.5) / s − 0.5` in centre-index terms.
//!
//! Methods:
//! - axis-aligned transforms (scale + translation, the common case) use a
//!   separable two-pass filter with per-output weight tables;
//! - other affine transforms sample each output pixel directly.
//!
//! Kernels: nearest (the pixel containing the point), linear (triangle), cubic
//! (Keys, a = −0.75 as OpenCV), area (exact overlap of the output pixel's
//! footprint with source pixels). Antialiasing when downscaling by `s < 1`
//! follows kwimage (`_gauss_params`): for linear and cubic the source is blurred
//! with a Gaussian of σ = 1/(2s) and kernel size ⌊1 + 2/s⌋ before interpolating
//! (in the separable path the blur is folded into the weight tables; in the
//! general path it runs on the source block with σ per source axis); area needs
//! none (a 2× area downscale is exactly the 2×2 mean, like kwimage). Nearest
//! never antialiases.

use ndarray::Array3;

use crate::error::{Error, Result};
use coco_geometry::Affine;

/// Interpolation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Interpolation {
    /// The source pixel containing the sample point.
    Nearest,
    /// Bilinear (default).
    #[default]
    Linear,
    /// Bicubic (Keys, a = −0.75).
    Cubic,
    /// Area averaging over the output pixel's footprint.
    Area,
}

impl Interpolation {
    /// Parse `nearest`, `linear`/`bilinear`, `cubic`/`bicubic`, `area`.
    ///
    /// ```
    /// use frame_backends::Interpolation;
    /// assert_eq!(Interpolation::parse("bilinear"), Some(Interpolation::Linear));
    /// assert_eq!(Interpolation::parse("lanczos"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Interpolation> {
        Some(match s.to_ascii_lowercase().as_str() {
            "nearest" | "nn" => Interpolation::Nearest,
            "linear" | "bilinear" => Interpolation::Linear,
            "cubic" | "bicubic" => Interpolation::Cubic,
            "area" => Interpolation::Area,
            _ => return None,
        })
    }

    /// Radius of the kernel in source pixels at scale 1.
    pub(crate) fn radius(self) -> f64 {
        match self {
            Interpolation::Nearest => 0.5,
            Interpolation::Linear | Interpolation::Area => 1.0,
            Interpolation::Cubic => 2.0,
        }
    }
}

/// `x.floor()` as an integer without libm's `floor` (this target has no
/// SSE4.1 `roundsd`, and the call was a tenth of a rotated read's time);
/// exact for `|x| < 2^62`, which the reader's coordinate limits guarantee.
#[inline]
fn floor_i64(x: f64) -> i64 {
    let t = x as i64;
    if (t as f64) > x { t - 1 } else { t }
}

#[inline]
fn cubic(d: f64) -> f64 {
    const A: f64 = -0.75;
    let d = d.abs();
    if d < 1.0 {
        ((A + 2.0) * d - (A + 3.0)) * d * d + 1.0
    } else if d < 2.0 {
        ((A * d - 5.0 * A) * d + 8.0 * A) * d - 4.0 * A
    } else {
        0.0
    }
}

/// One output sample of a separable pass: the first source index and weights.
#[derive(Debug, Clone)]
pub(crate) struct Taps {
    pub start: i64,
    pub weights: Vec<f32>,
}

/// Weight tables of one axis for `out = s · src + t` (edge coordinates).
pub(crate) fn axis_taps(
    n_out: usize,
    s: f64,
    t: f64,
    interp: Interpolation,
    antialias: bool,
) -> Vec<Taps> {
    (0..n_out)
        .map(|j| {
            let u = (j as f64 + 0.5 - t) / s; // source edge coordinate of the output centre
            match interp {
                Interpolation::Nearest => Taps {
                    start: u.floor() as i64,
                    weights: vec![1.0],
                },
                Interpolation::Area => {
                    let a = (j as f64 - t) / s;
                    let b = (j as f64 + 1.0 - t) / s;
                    let k0 = a.floor() as i64;
                    let k1 = (b.ceil() as i64).max(k0 + 1);
                    let span = b - a;
                    let weights = (k0..k1)
                        .map(|k| {
                            let lo = (k as f64).max(a);
                            let hi = (k as f64 + 1.0).min(b);
                            ((hi - lo).max(0.0) / span) as f32
                        })
                        .collect();
                    Taps { start: k0, weights }
                }
                Interpolation::Linear | Interpolation::Cubic => {
                    let c = u - 0.5; // centre-index coordinate
                    let fs = 1.0;
                    let radius = interp.radius() / fs;
                    let k0 = (c - radius).floor() as i64 + 1;
                    let k1 = (c + radius).ceil() as i64; // exclusive
                    let mut w: Vec<f64> = (k0..k1)
                        .map(|k| {
                            let d = (k as f64 - c) * fs;
                            match interp {
                                Interpolation::Linear => (1.0 - d.abs()).max(0.0),
                                _ => cubic(d),
                            }
                        })
                        .collect();
                    let sum: f64 = w.iter().sum();
                    if sum.abs() > 1e-12 {
                        w.iter_mut().for_each(|v| *v /= sum);
                    }
                    let mut k0 = k0;
                    if antialias && s < 1.0 {
                        // kwimage: blur with a Gaussian of σ = 1/(2s), kernel size
                        // ⌊1 + 2/s⌋, before interpolating; composed into the taps.
                        let sigma = 0.5 / s;
                        let r = ((1.0 + 2.0 / s).floor() as i64 - 1) / 2;
                        let g: Vec<f64> = (-r..=r)
                            .map(|d| (-((d * d) as f64) / (2.0 * sigma * sigma)).exp())
                            .collect();
                        let gs: f64 = g.iter().sum();
                        let mut conv = vec![0.0; w.len() + g.len() - 1];
                        for (i, &wv) in w.iter().enumerate() {
                            for (m, &gv) in g.iter().enumerate() {
                                conv[i + m] += wv * gv / gs;
                            }
                        }
                        w = conv;
                        k0 -= r;
                    }
                    // Trim zero weights at both ends (exact copies stay single-tap).
                    let first = w.iter().position(|v| v.abs() > 1e-12).unwrap_or(0);
                    let last = w.iter().rposition(|v| v.abs() > 1e-12).map_or(first, |p| p);
                    Taps {
                        start: k0.saturating_add(first as i64),
                        weights: w
                            .get(first..=last)
                            .unwrap_or(&[])
                            .iter()
                            .map(|&v| v as f32)
                            .collect(),
                    }
                }
            }
        })
        .collect()
}

/// The range `[lo, hi)` of source indices the taps touch.
pub(crate) fn taps_span(taps: &[Taps]) -> (i64, i64) {
    let lo = taps.iter().map(|t| t.start).min().unwrap_or(0);
    let hi = taps
        .iter()
        .map(|t| t.start.saturating_add(t.weights.len() as i64))
        .max()
        .unwrap_or(0);
    (lo, hi.max(lo))
}

/// Separable resample of `src` (`(H, W, C)`, covering source rows starting at
/// `y0` and columns starting at `x0`) with the given tables.
pub(crate) fn separable(
    src: &Array3<f32>,
    y0: i64,
    x0: i64,
    ty: &[Taps],
    tx: &[Taps],
) -> Result<Array3<f32>> {
    let (sh, sw, c) = src.dim();
    let s = src
        .as_slice()
        .ok_or_else(|| Error::invalid("source block not contiguous"))?;
    let ow = tx.len();
    let oh = ty.len();
    let check = |t: &Taps, origin: i64, n: usize| {
        t.start >= origin
            && usize::try_from(t.start as i128 - origin as i128)
                .ok()
                .and_then(|d| d.checked_add(t.weights.len()))
                .is_some_and(|end| end <= n)
    };
    if !tx.iter().all(|t| check(t, x0, sw)) || !ty.iter().all(|t| check(t, y0, sh)) {
        return Err(Error::invalid("resample taps leave the source block"));
    }
    // Horizontal pass: (sh, ow, c).
    let mut tmp = vec![0f32; sh * ow * c];
    for r in 0..sh {
        let srow = &s[r * sw * c..(r + 1) * sw * c];
        let trow = &mut tmp[r * ow * c..(r + 1) * ow * c];
        for (j, t) in tx.iter().enumerate() {
            let base = (t.start - x0) as usize;
            let out = &mut trow[j * c..(j + 1) * c];
            if t.weights.len() == 1 && t.weights[0] == 1.0 {
                out.copy_from_slice(&srow[base * c..(base + 1) * c]);
                continue;
            }
            for (k, &w) in t.weights.iter().enumerate() {
                let px = &srow[(base + k) * c..(base + k + 1) * c];
                for (o, &v) in out.iter_mut().zip(px) {
                    *o += w * v;
                }
            }
        }
    }
    // Vertical pass: (oh, ow, c).
    let mut out = vec![0f32; oh * ow * c];
    let row = ow * c;
    for (i, t) in ty.iter().enumerate() {
        let base = (t.start - y0) as usize;
        let orow = &mut out[i * row..(i + 1) * row];
        if t.weights.len() == 1 && t.weights[0] == 1.0 {
            orow.copy_from_slice(&tmp[base * row..(base + 1) * row]);
            continue;
        }
        for (k, &w) in t.weights.iter().enumerate() {
            let trow = &tmp[(base + k) * row..(base + k + 1) * row];
            for (o, &v) in orow.iter_mut().zip(trow) {
                *o += w * v;
            }
        }
    }
    Array3::from_shape_vec((oh, ow, c), out).map_err(|e| Error::invalid(e.to_string()))
}

/// Gaussian blur along rows and columns with the given sigmas (0 = no blur),
/// borders replicated. Each pass runs over whole rows: the interior without
/// bounds checks, the `r` pixels at each end with the replicated edge.
pub(crate) fn gaussian_blur(src: &Array3<f32>, sigma_y: f64, sigma_x: f64) -> Array3<f32> {
    // kwimage's kernel size for σ = 1/(2s): ⌊1 + 2/s⌋ = ⌊1 + 4σ⌋ taps
    // (odd, at least 3), as the separable path's folded taps
    fn kernel(sigma: f64) -> Vec<f32> {
        let r = (((1.0 + 4.0 * sigma).floor() as i64 - 1) / 2).max(1);
        let w: Vec<f64> = (-r..=r)
            .map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp())
            .collect();
        let s: f64 = w.iter().sum();
        w.iter().map(|v| (v / s) as f32).collect()
    }
    /// One pass along an axis of `n` positions `stride` floats apart, for
    /// `lines` lines starting `line_stride` apart, each position `c` floats.
    fn pass(data: &[f32], out: &mut [f32], k: &[f32], geom: (usize, usize, usize, usize)) {
        let (n, stride, lines, line_stride) = geom;
        let r = (k.len() / 2) as i64;
        let last = n as i64 - 1;
        for l in 0..lines {
            let base = l * line_stride;
            for p in 0..n {
                let o = base + p * stride;
                let interior = p as i64 >= r && (p as i64) + r <= last;
                if interior {
                    let start = base + (p - r as usize) * stride;
                    for (i, &kv) in k.iter().enumerate() {
                        let src = &data[start + i * stride..start + i * stride + stride];
                        for (d, &v) in out[o..o + stride].iter_mut().zip(src) {
                            *d += kv * v;
                        }
                    }
                } else {
                    for (i, &kv) in k.iter().enumerate() {
                        let q = (p as i64 + i as i64 - r).clamp(0, last) as usize;
                        let src = &data[base + q * stride..base + q * stride + stride];
                        for (d, &v) in out[o..o + stride].iter_mut().zip(src) {
                            *d += kv * v;
                        }
                    }
                }
            }
        }
    }
    let (h, w, c) = src.dim();
    let mut cur: Vec<f32> = src.iter().copied().collect();
    if w > 0 && h > 0 && c > 0 {
        if sigma_x > 0.0 {
            let k = kernel(sigma_x);
            let mut out = vec![0f32; cur.len()];
            // along a row: positions c apart, rows w·c apart
            pass(&cur, &mut out, &k, (w, c, h, w * c));
            cur = out;
        }
        if sigma_y > 0.0 {
            let k = kernel(sigma_y);
            let mut out = vec![0f32; cur.len()];
            // along a column: positions w·c apart; the "lines" are the columns,
            // each one pixel (c floats) wide, handled as one w·c-wide line
            pass(&cur, &mut out, &k, (h, w * c, 1, 0));
            cur = out;
        }
    }
    Array3::from_shape_vec((h, w, c), cur).unwrap_or_else(|_| src.clone())
}

/// General affine resample: `out_from_src` maps the source block's edge
/// coordinates (block-local) to output edge coordinates. Taps outside the block
/// read `fill`.
///
/// Each row walks the source along the inverse map's column step (no matrix
/// product per pixel); a pixel whose taps all lie inside the block reads them
/// straight from the block's rows (every channel at once), the others go
/// through the bounds-checked reader.
pub(crate) fn general(
    src: &Array3<f32>,
    out_h: usize,
    out_w: usize,
    out_from_src: &Affine,
    interp: Interpolation,
    fill: f32,
) -> Result<Array3<f32>> {
    let inv = out_from_src.inverse()?;
    let (sh, sw, c) = src.dim();
    let s = src
        .as_slice()
        .ok_or_else(|| Error::invalid("source block not contiguous"))?;
    let mut out = vec![fill; out_h * out_w * c];
    let m = inv.matrix();
    let (du, dv) = (m[0][0], m[1][0]);
    let (sh_i, sw_i) = (sh as i64, sw as i64);
    let get = |y: i64, x: i64, ch: usize| -> f32 {
        if y < 0 || x < 0 || y >= sh_i || x >= sw_i {
            fill
        } else {
            s[(y as usize * sw + x as usize) * c + ch]
        }
    };
    // taps of one axis at fraction `a` (cubic: 4 taps from -1, linear: 2 from 0)
    let cubic_w = |a: f64| [cubic(-1.0 - a), cubic(-a), cubic(1.0 - a), cubic(2.0 - a)];
    for i in 0..out_h {
        let [u0, v0] = inv.apply([0.5, i as f64 + 0.5]);
        let orow = &mut out[i * out_w * c..(i + 1) * out_w * c];
        for j in 0..out_w {
            let (u, v) = (u0 + j as f64 * du, v0 + j as f64 * dv);
            let px = &mut orow[j * c..(j + 1) * c];
            match interp {
                Interpolation::Nearest => {
                    let (x, y) = (floor_i64(u), floor_i64(v));
                    for (ch, o) in px.iter_mut().enumerate() {
                        *o = get(y, x, ch);
                    }
                }
                Interpolation::Linear | Interpolation::Area => {
                    let (cx, cy) = (u - 0.5, v - 0.5);
                    let (x0, y0) = (floor_i64(cx), floor_i64(cy));
                    let (ax, ay) = ((cx - x0 as f64) as f32, (cy - y0 as f64) as f32);
                    if x0 >= 0 && y0 >= 0 && x0 + 1 < sw_i && y0 + 1 < sh_i {
                        let r0 = (y0 as usize * sw + x0 as usize) * c;
                        let r1 = r0 + sw * c;
                        // taps of weight 0 are not read (a NaN there stays out)
                        if ax == 0.0 && ay == 0.0 {
                            px.copy_from_slice(&s[r0..r0 + c]);
                        } else if ax == 0.0 {
                            for (ch, o) in px.iter_mut().enumerate() {
                                *o = (1.0 - ay) * s[r0 + ch] + ay * s[r1 + ch];
                            }
                        } else if ay == 0.0 {
                            for (ch, o) in px.iter_mut().enumerate() {
                                *o = (1.0 - ax) * s[r0 + ch] + ax * s[r0 + c + ch];
                            }
                        } else {
                            let (w00, w01) = ((1.0 - ay) * (1.0 - ax), (1.0 - ay) * ax);
                            let (w10, w11) = (ay * (1.0 - ax), ay * ax);
                            // two adjacent pixels of each row as one slice
                            // (no bounds check per channel)
                            let (top, bottom) = (&s[r0..r0 + 2 * c], &s[r1..r1 + 2 * c]);
                            let (p00, p01) = top.split_at(c);
                            let (p10, p11) = bottom.split_at(c);
                            for ((((o, &a), &b), &d), &e) in
                                px.iter_mut().zip(p00).zip(p01).zip(p10).zip(p11)
                            {
                                *o = w00 * a + w01 * b + w10 * d + w11 * e;
                            }
                        }
                    } else {
                        let taps = [(y0, 1.0 - ay), (y0 + 1, ay)];
                        let xtaps = [(x0, 1.0 - ax), (x0 + 1, ax)];
                        for (ch, o) in px.iter_mut().enumerate() {
                            let mut acc = 0f32;
                            for &(yy, wy) in &taps {
                                for &(xx, wx) in &xtaps {
                                    if wy * wx != 0.0 {
                                        acc += wy * wx * get(yy, xx, ch);
                                    }
                                }
                            }
                            *o = acc;
                        }
                    }
                }
                Interpolation::Cubic => {
                    let (cx, cy) = (u - 0.5, v - 0.5);
                    let (fx, fy) = (floor_i64(cx), floor_i64(cy));
                    let (wx, wy) = (cubic_w(cx - fx as f64), cubic_w(cy - fy as f64));
                    let (x0, y0) = (fx - 1, fy - 1);
                    for (ch, o) in px.iter_mut().enumerate() {
                        let mut acc = 0f64;
                        for (ky, &wyv) in wy.iter().enumerate() {
                            if wyv == 0.0 {
                                continue;
                            }
                            for (kx, &wxv) in wx.iter().enumerate() {
                                if wxv == 0.0 {
                                    continue;
                                }
                                acc += wyv * wxv * get(y0 + ky as i64, x0 + kx as i64, ch) as f64;
                            }
                        }
                        *o = acc as f32;
                    }
                }
            }
        }
    }
    Array3::from_shape_vec((out_h, out_w, c), out).map_err(|e| Error::invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The blur against a direct oracle: each output pixel is the sum over
    /// the (2r+1)² neighbourhood of the normalised 1-D Gaussians' product
    /// (r = ceil(3σ), at least 1), coordinates clamped to the image; a sigma
    /// of 0 leaves that axis alone.
    #[test]
    fn gaussian_blur_matches_a_direct_oracle() {
        let (h, w, c) = (7usize, 9usize, 2usize);
        let src = Array3::from_shape_fn((h, w, c), |(y, x, ch)| {
            ((y * 31 + x * 17 + ch * 7) % 13) as f32 + 0.5 * ch as f32
        });
        let kernel = |sigma: f64| -> (i64, Vec<f64>) {
            if sigma <= 0.0 {
                return (0, vec![1.0]);
            }
            // kwimage's kernel size ⌊1 + 4σ⌋ (σ = 1/(2s): ⌊1 + 2/s⌋), at least 3
            let r = (((1.0 + 4.0 * sigma).floor() as i64 - 1) / 2).max(1);
            let g: Vec<f64> = (-r..=r)
                .map(|d| (-((d * d) as f64) / (2.0 * sigma * sigma)).exp())
                .collect();
            let s: f64 = g.iter().sum();
            (r, g.into_iter().map(|v| v / s).collect())
        };
        for (sy, sx) in [(0.8, 0.5), (0.0, 1.2), (0.6, 0.0), (0.0, 0.0)] {
            let got = gaussian_blur(&src, sy, sx);
            let ((ry, ky), (rx, kx)) = (kernel(sy), kernel(sx));
            for y in 0..h {
                for x in 0..w {
                    for ch in 0..c {
                        let mut want = 0f64;
                        for (i, a) in ky.iter().enumerate() {
                            for (j, b) in kx.iter().enumerate() {
                                let yy = (y as i64 + i as i64 - ry).clamp(0, h as i64 - 1);
                                let xx = (x as i64 + j as i64 - rx).clamp(0, w as i64 - 1);
                                want += a * b * f64::from(src[[yy as usize, xx as usize, ch]]);
                            }
                        }
                        let g = f64::from(got[[y, x, ch]]);
                        assert!(
                            (g - want).abs() < 1e-4,
                            "sigma ({sy}, {sx}) at ({y}, {x}, {ch}): {g} vs {want}"
                        );
                    }
                }
            }
        }
    }

    /// `general` (any affine) against a direct oracle of its definition:
    /// output pixel centres mapped back into the source, nearest or the 4×4
    /// cubic taps (weights from the pinned kernel), taps outside the source
    /// reading the fill; a rotation about the centre touches every border,
    /// row 0 and column 0 included.
    #[test]
    fn general_warp_matches_a_direct_oracle() {
        let (h, w) = (8usize, 10usize);
        let src = Array3::from_shape_fn((h, w, 1), |(y, x, _)| ((y * 7 + x * 3) % 11) as f32);
        let a = Affine::from_params(&coco_geometry::AffineParams {
            scale: [1.1, 0.9],
            offset: [0.3, -0.2],
            theta: 0.35,
            shearx: 0.0,
            about: [5.0, 4.0],
        });
        let inv = a.inverse().unwrap();
        let fill = -7.0f32;
        let get = |y: i64, x: i64| -> f64 {
            if (0..h as i64).contains(&y) && (0..w as i64).contains(&x) {
                f64::from(src[[y as usize, x as usize, 0]])
            } else {
                f64::from(fill)
            }
        };
        for interp in [Interpolation::Nearest, Interpolation::Cubic] {
            let got = general(&src, h, w, &a, interp, fill).unwrap();
            let mut saw_border = false;
            for i in 0..h {
                for j in 0..w {
                    let [u, v] = inv.apply([j as f64 + 0.5, i as f64 + 0.5]);
                    let want = match interp {
                        Interpolation::Nearest => get(v.floor() as i64, u.floor() as i64),
                        _ => {
                            let (cx, cy) = (u - 0.5, v - 0.5);
                            let (x0, y0) = (cx.floor() as i64, cy.floor() as i64);
                            let (ax, ay) = (cx - cx.floor(), cy - cy.floor());
                            let mut acc = 0.0;
                            for ky in -1..=2i64 {
                                for kx in -1..=2i64 {
                                    acc += cubic(ky as f64 - ay)
                                        * cubic(kx as f64 - ax)
                                        * get(y0 + ky, x0 + kx);
                                }
                            }
                            acc
                        }
                    };
                    let (vy, vx) = (v.floor() as i64, u.floor() as i64);
                    saw_border |= vy == 0 || vx == 0;
                    let g = f64::from(got[[i, j, 0]]);
                    assert!(
                        (g - want).abs() < 1e-3,
                        "{interp:?} at ({i}, {j}): {g} vs {want}"
                    );
                }
            }
            assert!(saw_border, "the warp must read row 0 or column 0");
        }
    }

    /// Weighted taps on a multi-band block: each band is blended on its own
    /// (2-tap halves horizontally, a 1-tap copy and a 3-tap mix vertically).
    #[test]
    fn separable_blends_every_band_on_its_own() {
        let (h, w, c) = (4usize, 5usize, 3usize);
        let src = Array3::from_shape_fn((h, w, c), |(y, x, ch)| (y * 100 + x * 10 + ch) as f32);
        let tx: Vec<Taps> = (0..4)
            .map(|j| Taps {
                start: j,
                weights: vec![0.5, 0.5],
            })
            .collect();
        let ty = vec![
            Taps {
                start: 1,
                weights: vec![1.0],
            },
            Taps {
                start: 0,
                weights: vec![0.25, 0.5, 0.25],
            },
        ];
        let got = separable(&src, 0, 0, &ty, &tx).unwrap();
        assert_eq!(got.dim(), (2, 4, 3));
        // a 1-tap horizontal copy of column 3, every band
        let copy = vec![Taps {
            start: 3,
            weights: vec![1.0],
        }];
        let col = separable(&src, 0, 0, &ty[..1], &copy).unwrap();
        for ch in 0..c {
            assert_eq!(col[[0, 0, ch]], src[[1, 3, ch]], "band {ch}");
        }
        for j in 0..4 {
            for ch in 0..c {
                let row = |y: usize| (src[[y, j, ch]] + src[[y, j + 1, ch]]) / 2.0;
                assert_eq!(got[[0, j, ch]], row(1), "({j}, {ch})");
                let mix = 0.25 * row(0) + 0.5 * row(1) + 0.25 * row(2);
                assert!((got[[1, j, ch]] - mix).abs() < 1e-4, "({j}, {ch})");
            }
        }
    }

    /// OpenCV's bicubic kernel (Keys, a = -0.75): the published weights at
    /// offset 0.5 are [-0.09375, 0.59375, 0.59375, -0.09375]; the others are
    /// the kernel worked by hand (0.25: 1 - 1.9375/16; 1.25: 3 - 2.484375 ·
    /// 1.25). Both ends of each piece are 0 or 1, and any four taps sum to 1.
    #[test]
    fn cubic_kernel_is_opencvs() {
        for (d, w) in [
            (0.0, 1.0),
            (0.25, 0.878_906_25),
            (0.5, 0.593_75),
            (0.75, 0.261_718_75),
            (1.0, 0.0),
            (1.25, -0.105_468_75),
            (1.5, -0.093_75),
            (1.75, -0.035_156_25),
            (2.0, 0.0),
            (2.5, 0.0),
            (-0.5, 0.593_75),
            (-1.5, -0.093_75),
        ] {
            assert!(
                (cubic(d) - w).abs() < 1e-12,
                "cubic({d}) = {} want {w}",
                cubic(d)
            );
        }
        for k in 0..100 {
            let f = k as f64 / 100.0;
            let sum = cubic(f + 1.0) + cubic(f) + cubic(1.0 - f) + cubic(2.0 - f);
            assert!((sum - 1.0).abs() < 1e-12, "taps at {f} sum to {sum}");
        }
    }

    fn ramp(h: usize, w: usize) -> Array3<f32> {
        Array3::from_shape_fn((h, w, 2), |(y, x, c)| (y * 10 + x) as f32 + c as f32 * 0.5)
    }

    #[test]
    fn identity_taps_copy_exactly() {
        for interp in [
            Interpolation::Nearest,
            Interpolation::Linear,
            Interpolation::Cubic,
            Interpolation::Area,
        ] {
            let t = axis_taps(5, 1.0, -3.0, interp, true);
            for (j, tp) in t.iter().enumerate() {
                assert_eq!(tp.start, j as i64 + 3, "{interp:?}");
                assert_eq!(tp.weights, vec![1.0], "{interp:?}");
            }
        }
    }

    #[test]
    fn area_half_is_two_by_two_mean() {
        let src = ramp(8, 8);
        let t = axis_taps(4, 0.5, 0.0, Interpolation::Area, true);
        let out = separable(&src, 0, 0, &t, &t).unwrap();
        for i in 0..4 {
            for j in 0..4 {
                let m = (src[[2 * i, 2 * j, 1]]
                    + src[[2 * i + 1, 2 * j, 1]]
                    + src[[2 * i, 2 * j + 1, 1]]
                    + src[[2 * i + 1, 2 * j + 1, 1]])
                    / 4.0;
                assert!((out[[i, j, 1]] - m).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn linear_upscale_uses_pixel_centres() {
        // Scale 2: output pixel 1 has centre 1.5 → source edge 0.75 → centre-index 0.25.
        let t = axis_taps(4, 2.0, 0.0, Interpolation::Linear, true);
        assert_eq!(t[1].start, 0);
        assert!((t[1].weights[0] - 0.75).abs() < 1e-6 && (t[1].weights[1] - 0.25).abs() < 1e-6);
    }

    #[test]
    fn general_matches_separable_on_scale() {
        let src = ramp(12, 12);
        let m = Affine::scale(1.5, 1.5).then(&Affine::translate(-2.0, -1.0));
        let tx = axis_taps(10, 1.5, -2.0, Interpolation::Linear, false);
        let ty = axis_taps(10, 1.5, -1.0, Interpolation::Linear, false);
        let (lo_x, _) = taps_span(&tx);
        let (lo_y, _) = taps_span(&ty);
        assert!(lo_x >= 0 && lo_y >= 0);
        let a = separable(&src, 0, 0, &ty, &tx).unwrap();
        let b = general(&src, 10, 10, &m, Interpolation::Linear, 0.0).unwrap();
        for ((i, j, c), v) in a.indexed_iter() {
            assert!(
                (v - b[[i, j, c]]).abs() < 1e-3,
                "{i},{j},{c}: {v} vs {}",
                b[[i, j, c]]
            );
        }
    }

    proptest! {
        #[test]
        fn weights_sum_to_one(n in 1usize..20, s in 0.1f64..4.0, t in -20.0f64..20.0, k in 0usize..4, aa in any::<bool>()) {
            let interp = [Interpolation::Nearest, Interpolation::Linear, Interpolation::Cubic, Interpolation::Area][k];
            for tp in axis_taps(n, s, t, interp, aa) {
                let sum: f32 = tp.weights.iter().sum();
                prop_assert!((sum - 1.0).abs() < 1e-4, "{sum}");
            }
        }

        #[test]
        fn constant_image_stays_constant(s in 0.2f64..3.0, t in -3.0f64..3.0, k in 0usize..4) {
            let interp = [Interpolation::Nearest, Interpolation::Linear, Interpolation::Cubic, Interpolation::Area][k];
            let tx = axis_taps(6, s, t, interp, true);
            let (lo, hi) = taps_span(&tx);
            let src = Array3::from_elem(((hi - lo) as usize, (hi - lo) as usize, 1), 7.0f32);
            let out = separable(&src, lo, lo, &tx, &tx).unwrap();
            prop_assert!(out.iter().all(|v| (v - 7.0).abs() < 1e-3));
        }
    }
}
