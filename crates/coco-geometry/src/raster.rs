//! Rasterization rules ([`FillRule`]) and the kwimage-compatible one.
//!
//! [`FillRule::Centers`] is the project's rule (pixel `(x, y)` covers
//! `[x, x+1) × [y, y+1)` and is set when its centre is inside, even-odd; see
//! [`crate::Polygon::to_mask`]). [`FillRule::Cv2Points`] rasterizes the way
//! kwimage's default does (`Polygon.fill(pixels_are='points')`, hence
//! `to_mask()` and `draw_on`): OpenCV `fillPoly` with 8-connected lines and no
//! sub-pixel shift.
//!
//! Convention of `Cv2Points`: a vertex `(x, y)` names the **centre** of pixel `(x, y)`
//! (kwcoco's own polygons come from `findContours` and use it). Vertices are
//! truncated towards zero to integers (numpy `astype(int32)`) and clamped to
//! ±32768 (kwimage's workaround of an OpenCV overflow). A pixel is set when it
//! lies on the 8-connected Bresenham line of an edge, or its centre lies
//! between a left and a right edge crossing of its row (the left crossing
//! rounded up, the right one rounded down, in 16.16 fixed point), pairing the
//! crossings even-odd over all rings of one polygon, so holes are cut out and
//! their boundary pixels stay set.
//!
//! The arithmetic (fixed point, truncating divisions, line clipping at the
//! image border) follows OpenCV 4.x/5.x `CollectPolyEdges` /
//! `FillEdgeCollection` / `LineIterator`, so masks agree pixel for pixel with
//! kwimage's on integer polygons.

use super::Mask;

/// How polygon vertices relate to pixels when rasterizing.
///
/// ```
/// use coco_geometry::{FillRule, Polygon};
/// let sq = Polygon::new(vec![[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]]);
/// // pixel corners: the 2×2 pixels whose centres are inside
/// assert_eq!(sq.to_mask_with(5, 5, FillRule::Centers).unwrap().count(), 4);
/// // pixel centres (kwimage / cv2): the boundary pixels too
/// assert_eq!(sq.to_mask_with(5, 5, FillRule::Cv2Points).unwrap().count(), 9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum FillRule {
    /// Vertices are pixel-corner coordinates; a pixel is set when its centre
    /// `(x + 0.5, y + 0.5)` is inside (even-odd). Area-faithful: a polygon
    /// traced by [`Mask::to_multi_polygon`] gives its mask back exactly.
    #[default]
    Centers,
    /// Vertices name pixel centres (kwcoco's own polygons, from cv2
    /// `findContours`); rasterized as kwimage's `to_mask()` does (cv2
    /// `fillPoly`, `LINE_8`, vertices truncated to integers): boundary pixels
    /// are set.
    Cv2Points,
}

const SHIFT: u32 = 16;
const ONE: i64 = 1 << SHIFT;
/// kwimage clips coordinates to this (`WORKAROUND_OPENCV_5473`).
const MAX_COORD: f64 = 32768.0;

/// Reusable buffers of the rasterizers: pass one to the `fill_into_scratch`
/// methods ([`crate::MultiPolygon::fill_into_scratch`],
/// [`crate::Segmentation::fill_into_scratch`]) to rasterize many shapes
/// without allocating per shape.
#[derive(Debug, Default, Clone)]
pub struct FillScratch {
    /// `Centers`: one crossing list per row.
    pub(crate) rows: Vec<Vec<f64>>,
    /// `Cv2Points`: edges and one row's crossings.
    edges: Vec<Edge>,
    xs: Vec<i64>,
}

/// One non-horizontal edge: rows `y0 .. y1`, x in 16.16 fixed point at `y0`.
#[derive(Clone, Copy, Debug)]
struct Edge {
    y0: i64,
    y1: i64,
    x: i64,
    dx: i64,
}

/// Truncate a coordinate like `np.clip(c, -32768, 32768).astype(np.int32)`.
fn to_int(v: f64) -> i64 {
    v.clamp(-MAX_COORD, MAX_COORD).trunc() as i64
}

/// Cohen–Sutherland clipping of a segment to `[0, w) × [0, h)` with OpenCV's
/// `clipLine` arithmetic (intersections in f64, truncated). Returns false
/// when the segment misses the image.
fn clip_line(w: i64, h: i64, p: &mut [i64; 2], q: &mut [i64; 2]) -> bool {
    if w <= 0 || h <= 0 {
        return false;
    }
    let (right, bottom) = (w - 1, h - 1);
    let code = |p: &[i64; 2]| {
        i32::from(p[0] < 0)
            + i32::from(p[0] > right) * 2
            + i32::from(p[1] < 0) * 4
            + i32::from(p[1] > bottom) * 8
    };
    let (mut c1, mut c2) = (code(p), code(q));
    if (c1 & c2) == 0 && (c1 | c2) != 0 {
        if c1 & 12 != 0 {
            let a = if c1 < 8 { 0 } else { bottom };
            p[0] += ((a - p[1]) as f64 * (q[0] - p[0]) as f64 / (q[1] - p[1]) as f64) as i64;
            p[1] = a;
            c1 = i32::from(p[0] < 0) + i32::from(p[0] > right) * 2;
        }
        if c2 & 12 != 0 {
            let a = if c2 < 8 { 0 } else { bottom };
            q[0] += ((a - q[1]) as f64 * (q[0] - p[0]) as f64 / (q[1] - p[1]) as f64) as i64;
            q[1] = a;
            c2 = i32::from(q[0] < 0) + i32::from(q[0] > right) * 2;
        }
        if (c1 & c2) == 0 && (c1 | c2) != 0 {
            if c1 != 0 {
                let a = if c1 == 1 { 0 } else { right };
                p[1] += ((a - p[0]) as f64 * (q[1] - p[1]) as f64 / (q[0] - p[0]) as f64) as i64;
                p[0] = a;
                c1 = 0;
            }
            if c2 != 0 {
                let a = if c2 == 1 { 0 } else { right };
                q[1] += ((a - q[0]) as f64 * (q[1] - p[1]) as f64 / (q[0] - p[0]) as f64) as i64;
                q[0] = a;
                c2 = 0;
            }
        }
    }
    (c1 | c2) == 0
}

/// 8-connected line from `p` to `q` (inclusive), drawn left to right,
/// clipped to the mask first as OpenCV's `LineIterator` does.
fn draw_line(mask: &mut Mask, mut p: [i64; 2], mut q: [i64; 2]) {
    let (w, h) = (mask.width() as i64, mask.height() as i64);
    let outside = |a: &[i64; 2]| a[0] < 0 || a[0] >= w || a[1] < 0 || a[1] >= h;
    if (outside(&p) || outside(&q)) && !clip_line(w, h, &mut p, &mut q) {
        return;
    }
    let (mut dx, mut dy) = (q[0] - p[0], q[1] - p[1]);
    let mut start = p;
    if dx < 0 {
        dx = -dx;
        dy = -dy;
        start = q;
    }
    let step_y = if dy < 0 { -1 } else { 1 };
    dy = dy.abs();
    // major axis: x unless the line is steeper than 45°
    let vert = dy > dx;
    let (dmaj, dmin) = if vert { (dy, dx) } else { (dx, dy) };
    let mut err = dmaj - 2 * dmin;
    let [mut x, mut y] = start;
    for _ in 0..=dmaj {
        if (0..w).contains(&x) && (0..h).contains(&y) {
            mask.set(x as usize, y as usize, true);
        }
        let minor = err < 0;
        err += -2 * dmin + if minor { 2 * dmaj } else { 0 };
        if vert {
            y += step_y;
            if minor {
                x += 1;
            }
        } else {
            x += 1;
            if minor {
                y += step_y;
            }
        }
    }
}

/// Fill one polygon given by its rings (exterior and holes together, even-odd),
/// OR-ing into `mask`. Rings with a non-finite vertex are skipped.
pub(crate) fn fill_rings_cv2(rings: &[&[[f64; 2]]], mask: &mut Mask, scratch: &mut FillScratch) {
    let (w, h) = (mask.width() as i64, mask.height() as i64);
    if w == 0 || h == 0 {
        return;
    }
    let FillScratch { edges, xs, .. } = scratch;
    edges.clear();
    for ring in rings {
        if ring.is_empty() || ring.iter().any(|p| !(p[0].is_finite() && p[1].is_finite())) {
            continue;
        }
        let pts: Vec<[i64; 2]> = ring.iter().map(|p| [to_int(p[0]), to_int(p[1])]).collect();
        let mut prev = pts[pts.len() - 1];
        for &cur in &pts {
            let (mut t0, mut t1) = (prev, cur);
            draw_line(mask, t0, t1);
            // the edge's end points: the clipped line's when it leaves the image
            let (mut c0, mut c1) = (prev, cur);
            let outside = |a: &[i64; 2]| a[0] < 0 || a[0] >= w || a[1] < 0 || a[1] >= h;
            if outside(&t0) || outside(&t1) {
                clip_line(w, h, &mut t0, &mut t1);
                if t0[1] != t1[1] {
                    c0[1] = t0[1];
                    c1[1] = t1[1];
                }
            }
            c0[0] = t0[0];
            c1[0] = t1[0];
            let (p0, p1) = (prev, cur);
            prev = cur;
            if p0[1] == p1[1] || c0[1] == c1[1] {
                continue;
            }
            let dx = ((c1[0] - c0[0]) * ONE) / (c1[1] - c0[1]);
            let e = if p0[1] < p1[1] {
                Edge {
                    y0: p0[1],
                    y1: p1[1],
                    x: c0[0] * ONE + (p0[1] - c0[1]) * dx,
                    dx,
                }
            } else {
                Edge {
                    y0: p1[1],
                    y1: p0[1],
                    x: c1[0] * ONE + (p1[1] - c1[1]) * dx,
                    dx,
                }
            };
            edges.push(e);
        }
    }
    if edges.len() < 2 {
        return;
    }
    let y_lo = edges.iter().map(|e| e.y0).min().unwrap_or(0).max(0);
    let y_hi = edges.iter().map(|e| e.y1).max().unwrap_or(0).min(h);
    for y in y_lo..y_hi {
        xs.clear();
        xs.extend(
            edges
                .iter()
                .filter(|e| e.y0 <= y && y < e.y1)
                .map(|e| e.x + (y - e.y0) * e.dx),
        );
        xs.sort_unstable();
        let row = mask.row_mut(y as usize);
        for pair in xs.chunks_exact(2) {
            let x1 = (pair[0] + ONE - 1) >> SHIFT;
            let x2 = pair[1] >> SHIFT;
            if x1 < w && x2 >= 0 && x1 <= x2 {
                row[x1.max(0) as usize..=x2.min(w - 1) as usize].fill(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(ring: &[[f64; 2]], h: usize, w: usize) -> Mask {
        let mut m = Mask::new(h, w).unwrap();
        fill_rings_cv2(&[ring], &mut m, &mut FillScratch::default());
        m
    }

    #[test]
    fn square_includes_its_boundary_pixels() {
        // vertices are pixel centres: pixels 1..=3 in both axes
        let m = fill(&[[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]], 5, 5);
        assert_eq!(m.count(), 9);
        assert!(m.get(1, 1) && m.get(3, 3) && !m.get(4, 4) && !m.get(0, 0));
    }

    #[test]
    fn degenerate_rings_draw_their_lines() {
        assert_eq!(fill(&[[2.0, 2.0]], 4, 4).count(), 1);
        let line = fill(&[[0.0, 1.0], [3.0, 1.0]], 4, 4);
        assert_eq!(line.count(), 4);
        assert!((0..4).all(|x| line.get(x, 1)));
    }

    #[test]
    fn bresenham_diagonal_and_steep() {
        let mut m = Mask::new(6, 6).unwrap();
        draw_line(&mut m, [0, 0], [5, 5]);
        assert_eq!(m.count(), 6);
        assert!((0..6).all(|i| m.get(i, i)));
        let mut m = Mask::new(6, 6).unwrap();
        draw_line(&mut m, [1, 5], [2, 0]);
        assert_eq!(m.count(), 6, "{m:?}");
        for y in 0..6 {
            assert_eq!(m.row(y).iter().filter(|&&v| v != 0).count(), 1);
        }
    }

    #[test]
    fn hole_cut_out_with_its_outline_kept() {
        let ext = [[0.0, 0.0], [8.0, 0.0], [8.0, 8.0], [0.0, 8.0]];
        let hole = [[2.0, 2.0], [6.0, 2.0], [6.0, 6.0], [2.0, 6.0]];
        let mut m = Mask::new(9, 9).unwrap();
        fill_rings_cv2(&[&ext, &hole], &mut m, &mut FillScratch::default());
        // the hole's interior 3×3 (pixels 3..=5) is clear, its outline set
        assert_eq!(m.count(), 81 - 9);
        assert!(!m.get(4, 4) && m.get(2, 2) && m.get(6, 4));
    }

    #[test]
    fn out_of_bounds_polygons_are_clipped() {
        let m = fill(
            &[[-5.0, -5.0], [20.0, -5.0], [20.0, 20.0], [-5.0, 20.0]],
            4,
            6,
        );
        assert_eq!(m.count(), 24);
        let none = fill(&[[10.0, 10.0], [20.0, 10.0], [20.0, 20.0]], 4, 6);
        assert_eq!(none.count(), 0);
        let nan = fill(&[[f64::NAN, 0.0], [2.0, 0.0], [2.0, 2.0]], 4, 6);
        assert_eq!(nan.count(), 0);
    }
}
