//! Pictures of samples: the window's pixels with its annotations drawn over
//! them (boxes, polygons, keypoints, class names), so a person can look.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ndsampler::sampler::{CocoSampler, Target};
//! let sampler = CocoSampler::open("data.kwcoco.json")?;
//! let sample = sampler.load_sample(&serde_json::from_str::<Target>(r#"{"annot_id": 1, "pad": 32}"#)?)?;
//! ndsampler::render::render_sample(&sample, sampler.dataset()).save("sample.png")?;
//! # Ok(()) }
//! ```

use coco_model::CocoDataset;

use image::{Rgb, RgbImage};
use ndarray::{ArrayD, Axis, Ix3};
use sampler::Sample;

/// Windows smaller than this (longest side) are enlarged by an integer factor.
const MIN_SIDE: usize = 256;
/// Gap between frames of a video sample.
const GAP: u32 = 4;

/// A distinct colour per category id.
pub fn category_color(id: Option<i64>) -> Rgb<u8> {
    const PALETTE: [[u8; 3]; 10] = [
        [255, 64, 64],
        [64, 200, 64],
        [64, 128, 255],
        [255, 200, 0],
        [255, 64, 255],
        [0, 220, 220],
        [255, 128, 0],
        [160, 96, 255],
        [128, 255, 128],
        [255, 160, 160],
    ];
    let i = id.unwrap_or(0).rem_euclid(PALETTE.len() as i64) as usize;
    Rgb(PALETTE[i])
}

/// Per-band display range: 2nd–98th percentile of the finite values (u8 data is shown as is).
fn display_range(values: &ArrayD<f64>, band: usize, is_u8: bool) -> (f64, f64) {
    if is_u8 {
        return (0.0, 255.0);
    }
    let last = values.ndim() - 1;
    let mut v: Vec<f64> = values
        .index_axis(Axis(last), band)
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return (0.0, 1.0);
    }
    v.sort_by(f64::total_cmp);
    let lo = v[v.len() * 2 / 100];
    let hi = v[(v.len() * 98 / 100).min(v.len() - 1)];
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

/// One frame `(H, W, C)` as RGB, enlarged by `k`.
fn frame_rgb(frame: ndarray::ArrayView3<f64>, ranges: &[(f64, f64)], k: u32) -> RgbImage {
    let (h, w, c) = frame.dim();
    let bands: [usize; 3] = match c {
        0 => [0, 0, 0],
        1 | 2 => [0, 0, 0],
        _ => [0, 1, 2],
    };
    RgbImage::from_fn(w as u32 * k, h as u32 * k, |x, y| {
        let (xx, yy) = ((x / k) as usize, (y / k) as usize);
        let mut px = [0u8; 3];
        if c > 0 {
            for (o, &b) in px.iter_mut().zip(&bands) {
                let (lo, hi) = ranges[b];
                let v = frame[[yy, xx, b]];
                *o = if v.is_finite() {
                    ((v - lo) / (hi - lo) * 255.0).clamp(0.0, 255.0) as u8
                } else {
                    0
                };
            }
        }
        Rgb(px)
    })
}

fn draw_text(img: &mut RgbImage, x: i32, y: i32, text: &str, color: Rgb<u8>) {
    use font8x8::UnicodeFonts;
    let (w, h) = (text.chars().count() as u32 * 8 + 2, 10);
    let y = y.max(0);
    draw::filled_rect(img, x, y, w, h, Rgb([0, 0, 0]));
    for (i, ch) in text.chars().enumerate() {
        let glyph = font8x8::BASIC_FONTS.get(ch).unwrap_or([0; 8]);
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) != 0 {
                    let px = x + 1 + i as i32 * 8 + col;
                    let py = y + 1 + row as i32;
                    draw::put(img, px, py, color);
                }
            }
        }
    }
}

fn draw_ring(img: &mut RgbImage, ring: &[[f64; 2]], k: f64, dx: f64, color: Rgb<u8>) {
    for i in 0..ring.len() {
        let a = ring[i];
        let b = ring[(i + 1) % ring.len()];
        draw::line(
            img,
            (a[0] * k + dx, a[1] * k),
            (b[0] * k + dx, b[1] * k),
            color,
        );
    }
}

/// Render a sample: frames side by side, annotations drawn in their category colour.
pub fn render_sample(sample: &Sample, dset: &CocoDataset) -> RgbImage {
    let values = sample.im.to_f64();
    let is_u8 = sample.im.dtype() == frame_backends::DType::U8;
    let frames: Vec<ndarray::ArrayView3<f64>> = if values.ndim() == 4 {
        values
            .axis_iter(Axis(0))
            .map(|f| {
                f.into_dimensionality::<Ix3>()
                    .expect("4D sample frames are 3D")
            })
            .collect()
    } else {
        vec![
            values
                .view()
                .into_dimensionality::<Ix3>()
                .expect("2D samples are 3D arrays"),
        ]
    };
    let nb = values.shape().last().copied().unwrap_or(0);
    let ranges: Vec<(f64, f64)> = (0..nb).map(|b| display_range(&values, b, is_u8)).collect();
    let (h, w) = frames
        .first()
        .map(|f| (f.dim().0, f.dim().1))
        .unwrap_or((1, 1));
    let k = MIN_SIDE.div_ceil(h.max(w).max(1)).clamp(1, 16) as u32;
    let fw = w as u32 * k;
    let n = frames.len().max(1) as u32;
    let mut canvas = RgbImage::new(n * fw + (n - 1) * GAP, (h as u32 * k).max(1));
    for (i, frame) in frames.iter().enumerate() {
        let rgb = frame_rgb(*frame, &ranges, k);
        image::imageops::replace(&mut canvas, &rgb, i as i64 * (fw + GAP) as i64, 0);
    }
    let kf = k as f64;
    for (i, frame) in sample.frames.iter().enumerate() {
        let dx = i as f64 * (fw + GAP) as f64;
        for ann in &frame.annots {
            let color = category_color(ann.category_id);
            let [x, y, bw, bh] = ann.bbox;
            let (x0, y0) = ((x * kf + dx) as i32, (y * kf) as i32);
            let (rw, rh) = ((bw * kf).max(1.0) as u32, (bh * kf).max(1.0) as u32);
            draw::hollow_rect(&mut canvas, x0, y0, rw, rh, color);
            if let Some(seg) = ann.segmentation.as_ref()
                && let Ok(mp) = seg.to_multi_polygon()
            {
                for poly in &mp.polygons {
                    draw_ring(&mut canvas, &poly.exterior, kf, dx, color);
                    for hole in &poly.interiors {
                        draw_ring(&mut canvas, hole, kf, dx, color);
                    }
                }
            }
            if let Some(kp) = ann.keypoints.as_ref() {
                for p in &kp.points {
                    let c = ((p.xy[0] * kf + dx) as i32, (p.xy[1] * kf) as i32);
                    draw::hollow_circle(&mut canvas, c, 3, Rgb([255, 255, 255]));
                    draw::hollow_circle(&mut canvas, c, 2, color);
                }
            }
            let name = ann
                .category_id
                .and_then(|c| dset.category(coco_model::CategoryId(c)))
                .map(|c| c.name.clone())
                .unwrap_or_else(|| format!("#{}", ann.id));
            let x_left = (x0 as f64).max(dx) as i32;
            draw_text(&mut canvas, x_left, y0 - 10, &name, color);
        }
    }
    canvas
}

/// The few raster primitives the pictures need, clipped to the canvas.
///
/// Hand-written instead of `imageproc`: that crate pulls `nalgebra`, `simba` and
/// `wide` (about 130 MB of build output and a minute of a cold 2-core build) for
/// four primitives; the disk footprint of a cold `cargo xtask test` is what made CI fail.
mod draw {
    use image::{Rgb, RgbImage};

    /// Set one pixel if it lies on the canvas.
    pub fn put(img: &mut RgbImage, x: i32, y: i32, color: Rgb<u8>) {
        if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
            img.put_pixel(x as u32, y as u32, color);
        }
    }

    /// A one-pixel line between two points (rounded to pixels), by Bresenham's algorithm.
    pub fn line(img: &mut RgbImage, a: (f64, f64), b: (f64, f64), color: Rgb<u8>) {
        // Points far outside the canvas (huge coordinates) are clamped so the walk stays short.
        let lim = 4.0 * (img.width().max(img.height()) as f64 + 1.0);
        let q = |v: f64| v.clamp(-lim, lim).round() as i64;
        let (mut x, mut y, x1, y1) = (q(a.0), q(a.1), q(b.0), q(b.1));
        let (dx, dy) = ((x1 - x).abs(), -(y1 - y).abs());
        let (sx, sy) = (if x < x1 { 1 } else { -1 }, if y < y1 { 1 } else { -1 });
        let mut err = dx + dy;
        loop {
            put(img, x as i32, y as i32, color);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// The outline of the `w × h` rectangle whose top-left pixel is `(x, y)`.
    pub fn hollow_rect(img: &mut RgbImage, x: i32, y: i32, w: u32, h: u32, color: Rgb<u8>) {
        let (x1, y1) = (
            x as f64 + w.max(1) as f64 - 1.0,
            y as f64 + h.max(1) as f64 - 1.0,
        );
        let (x0, y0) = (x as f64, y as f64);
        line(img, (x0, y0), (x1, y0), color);
        line(img, (x1, y0), (x1, y1), color);
        line(img, (x1, y1), (x0, y1), color);
        line(img, (x0, y1), (x0, y0), color);
    }

    /// The `w × h` rectangle whose top-left pixel is `(x, y)`, filled.
    pub fn filled_rect(img: &mut RgbImage, x: i32, y: i32, w: u32, h: u32, color: Rgb<u8>) {
        for yy in y..y.saturating_add(h as i32) {
            for xx in x..x.saturating_add(w as i32) {
                put(img, xx, yy, color);
            }
        }
    }

    /// A circle outline of radius `r` around `c` (midpoint algorithm).
    pub fn hollow_circle(img: &mut RgbImage, c: (i32, i32), r: i32, color: Rgb<u8>) {
        let (mut x, mut y, mut d) = (r, 0, 1 - r);
        while x >= y {
            for (px, py) in [
                (x, y),
                (y, x),
                (-y, x),
                (-x, y),
                (-x, -y),
                (-y, -x),
                (y, -x),
                (x, -y),
            ] {
                put(img, c.0 + px, c.1 + py, color);
            }
            y += 1;
            if d < 0 {
                d += 2 * y + 1;
            } else {
                x -= 1;
                d += 2 * (y - x) + 1;
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const W: Rgb<u8> = Rgb([255, 255, 255]);

        fn lit(img: &RgbImage) -> Vec<(u32, u32)> {
            img.enumerate_pixels()
                .filter(|(_, _, p)| **p == W)
                .map(|(x, y, _)| (x, y))
                .collect()
        }

        #[test]
        fn line_hits_both_ends_and_is_connected() {
            let mut img = RgbImage::new(20, 20);
            line(&mut img, (2.0, 3.0), (15.0, 9.0), W);
            let px = lit(&img);
            assert!(px.contains(&(2, 3)) && px.contains(&(15, 9)));
            // one pixel per column for a shallow line
            assert_eq!(px.len(), 14);
        }

        #[test]
        fn shapes_clip_at_the_canvas_without_panicking() {
            let mut img = RgbImage::new(8, 8);
            line(&mut img, (-1e12, -5.0), (1e12, 3.0), W);
            hollow_rect(&mut img, -3, -3, 20, 20, W);
            filled_rect(&mut img, 6, 6, 10, 10, W);
            hollow_circle(&mut img, (0, 0), 3, W);
            assert!(lit(&img).contains(&(7, 7)));
        }

        #[test]
        fn rect_outline_has_its_perimeter() {
            let mut img = RgbImage::new(10, 10);
            hollow_rect(&mut img, 1, 2, 4, 3, W);
            let px = lit(&img);
            assert_eq!(px.len(), 2 * 4 + 2 * 3 - 4);
            assert!(px.contains(&(1, 2)) && px.contains(&(4, 4)) && !px.contains(&(2, 3)));
        }

        #[test]
        fn circle_points_lie_at_the_radius() {
            let mut img = RgbImage::new(20, 20);
            hollow_circle(&mut img, (10, 10), 5, W);
            let px = lit(&img);
            assert!(px.contains(&(15, 10)) && px.contains(&(10, 5)));
            for (x, y) in px {
                let d = ((x as f64 - 10.0).powi(2) + (y as f64 - 10.0).powi(2)).sqrt();
                assert!((d - 5.0).abs() < 0.8, "({x},{y}) at {d}");
            }
        }
    }
}
