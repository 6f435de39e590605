//! Pixel helpers shared by the generators: noise backgrounds, alpha compositing
//! of object rasters, quantization.

use crate::rng::hash_normal;
use crate::shape::{MASK_THRESHOLD, Raster};

/// `v` in `[0, 1]` to `u8` (truncating, like numpy's `astype` after `* 255`).
#[inline]
pub(crate) fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0) as u8
}

/// `v` in `[0, 1]` to `u16` (truncating).
#[inline]
pub(crate) fn to_u16(v: f32) -> u16 {
    (v.clamp(0.0, 1.0) * 65535.0) as u16
}

/// An interleaved float image.
pub(crate) struct Canvas {
    pub w: usize,
    pub h: usize,
    pub bands: usize,
    pub data: Vec<f32>,
}

impl Canvas {
    /// Gaussian noise `mean[b] + std * N(0, 1)` per pixel and band, clipped to `[0, 1]`.
    pub(crate) fn noise(w: usize, h: usize, mean: &[f32], std: f32, seed: u64) -> Canvas {
        let bands = mean.len();
        let data = (0..w * h * bands)
            .map(|i| (mean[i % bands] + std * hash_normal(seed, i as u64)).clamp(0.0, 1.0))
            .collect();
        Canvas { w, h, bands, data }
    }

    /// Composite an object over the canvas: `alpha * fg + (1 - alpha) * bg`, with
    /// foreground `color[b] + std * N(0, 1)` per pixel (clipped), only where the
    /// raster lies on the canvas.
    pub(crate) fn composite(&mut self, r: &Raster, color: &[f32], std: f32, seed: u64) {
        let bands = self.bands;
        for row in 0..r.h {
            let y = r.y0 + row as i64;
            if y < 0 || y >= self.h as i64 {
                continue;
            }
            for col in 0..r.w {
                let x = r.x0 + col as i64;
                if x < 0 || x >= self.w as i64 {
                    continue;
                }
                let a = r.at(col, row);
                if a <= 0.0 {
                    continue;
                }
                let p = (y as usize * self.w + x as usize) * bands;
                for b in 0..bands {
                    let fg = (color[b % color.len()] + std * hash_normal(seed, (p + b) as u64))
                        .clamp(0.0, 1.0);
                    let bg = self.data[p + b];
                    self.data[p + b] = a * fg + (1.0 - a) * bg;
                }
            }
        }
    }

    /// RGB bytes; a single band is copied to the three channels.
    pub(crate) fn to_rgb8(&self) -> Vec<u8> {
        match self.bands {
            1 => self.data.iter().flat_map(|&v| [to_u8(v); 3]).collect(),
            _ => self.data.iter().map(|&v| to_u8(v)).collect(),
        }
    }
}

/// Paint the mask of `r` with `label` into a `w × h` label map (later objects on top).
pub(crate) fn paint_labels(labels: &mut [u32], w: usize, h: usize, r: &Raster, label: u32) {
    for row in 0..r.h {
        let y = r.y0 + row as i64;
        if y < 0 || y >= h as i64 {
            continue;
        }
        for col in 0..r.w {
            let x = r.x0 + col as i64;
            if x < 0 || x >= w as i64 {
                continue;
            }
            if r.at(col, row) > MASK_THRESHOLD {
                labels[y as usize * w + x as usize] = label;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    #[test]
    fn compositing_changes_only_pixels_under_the_object() {
        let mut c = Canvas::noise(40, 30, &[0.1], 0.0, 1);
        let r = Raster::new(Shape::Star, [10.0, 5.0, 12.0, 12.0]);
        c.composite(&r, &[0.9], 0.0, 2);
        for y in 0..30i64 {
            for x in 0..40i64 {
                let v = c.data[(y * 40 + x) as usize];
                let inside =
                    x >= r.x0 && x < r.x0 + r.w as i64 && y >= r.y0 && y < r.y0 + r.h as i64;
                let a = if inside {
                    r.at((x - r.x0) as usize, (y - r.y0) as usize)
                } else {
                    0.0
                };
                let want = a * 0.9 + (1.0 - a) * 0.1;
                assert!((v - want).abs() < 1e-6);
            }
        }
        // an object hanging off the canvas is clipped, not wrapped
        let off = Raster::new(Shape::Eff, [-6.0, 25.0, 12.0, 12.0]);
        c.composite(&off, &[1.0], 0.0, 3);
        let mut labels = vec![0u32; 40 * 30];
        paint_labels(&mut labels, 40, 30, &off, 7);
        assert!(labels.contains(&7));
        assert!(labels[..40 * 25].iter().all(|&l| l == 0));
    }

    #[test]
    fn quantization_truncates_and_clips() {
        assert_eq!(to_u8(1.0), 255);
        assert_eq!(to_u8(2.0), 255);
        assert_eq!(to_u8(-1.0), 0);
        assert_eq!(to_u8(0.5), 127);
        assert_eq!(to_u16(1.0), 65535);
        let c = Canvas {
            w: 1,
            h: 1,
            bands: 1,
            data: vec![1.0],
        };
        assert_eq!(c.to_rgb8(), vec![255, 255, 255]);
    }
}
