//! Polygons with holes and multi-polygons (kwimage `Polygon`, `MultiPolygon`).
//!
//! The JSON forms (MS-COCO flat lists and kwcoco `exterior`/`interiors`
//! dicts) are read and written by [`crate::Segmentation`]; this
//! module holds the geometry.

use super::raster::FillScratch;
use super::{Affine, BBox, FillRule, Mask, Result, checked_pixels, ring_signed_area2};

/// A polygon: one exterior ring and zero or more interior rings (holes).
///
/// Rings are open (the last vertex is not a repeat of the first). Inside is
/// decided by the even-odd rule over all rings of the polygon.
///
/// ```
/// use coco_geometry::Polygon;
/// let square = Polygon::new(vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]]);
/// let holed = Polygon {
///     interiors: vec![vec![[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0]]],
///     ..square.clone()
/// };
/// assert_eq!(square.area(), 16.0);
/// assert_eq!(holed.area(), 15.0);
/// assert!(!holed.contains_point([1.5, 1.5]));
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Polygon {
    /// Outer boundary.
    pub exterior: Vec<[f64; 2]>,
    /// Holes.
    pub interiors: Vec<Vec<[f64; 2]>>,
}

/// Several polygons (an object in several pieces).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MultiPolygon {
    /// The pieces.
    pub polygons: Vec<Polygon>,
}

impl Polygon {
    /// A polygon without holes.
    pub fn new(exterior: Vec<[f64; 2]>) -> Self {
        Polygon {
            exterior,
            interiors: Vec::new(),
        }
    }

    /// The rectangle of a box.
    pub fn from_bbox(b: &BBox) -> Self {
        Polygon::new(b.corners().to_vec())
    }

    /// All rings: the exterior first.
    pub fn rings(&self) -> impl Iterator<Item = &Vec<[f64; 2]>> {
        std::iter::once(&self.exterior).chain(self.interiors.iter())
    }

    fn rings_mut(&mut self) -> impl Iterator<Item = &mut Vec<[f64; 2]>> {
        std::iter::once(&mut self.exterior).chain(self.interiors.iter_mut())
    }

    /// Number of vertices over all rings.
    pub fn num_vertices(&self) -> usize {
        self.rings().map(Vec::len).sum()
    }

    /// Area of the exterior minus the area of the holes (ring orientation
    /// does not matter).
    pub fn area(&self) -> f64 {
        let ext = ring_signed_area2(&self.exterior).abs();
        let holes: f64 = self
            .interiors
            .iter()
            .map(|r| ring_signed_area2(r).abs())
            .sum();
        ((ext - holes) / 2.0).max(0.0)
    }

    /// Bounding box of the exterior (`None` when it has no vertices).
    pub fn bbox(&self) -> Option<BBox> {
        BBox::from_points(&self.exterior)
    }

    /// Warp every vertex.
    pub fn warp(&self, a: &Affine) -> Polygon {
        // mapped into new rings (no copy warped in place afterwards)
        let flip = a.det() < 0.0;
        let ring = |r: &Vec<[f64; 2]>| {
            let mut out = a.apply_to_vec(r);
            if flip {
                out.reverse();
            }
            out
        };
        Polygon {
            exterior: ring(&self.exterior),
            interiors: self.interiors.iter().map(ring).collect(),
        }
    }

    /// Warp every vertex in place. A reflection (negative determinant)
    /// reverses the rings so their orientation is kept.
    pub fn warp_in_place(&mut self, a: &Affine) {
        let flip = a.det() < 0.0;
        for r in self.rings_mut() {
            a.apply_in_place(r);
            if flip {
                r.reverse();
            }
        }
    }

    /// Move by `(dx, dy)`.
    pub fn translate(&self, dx: f64, dy: f64) -> Polygon {
        self.warp(&Affine::translate(dx, dy))
    }

    /// Scale about the origin.
    pub fn scale(&self, sx: f64, sy: f64) -> Polygon {
        self.warp(&Affine::scale(sx, sy))
    }

    /// Even-odd point-in-polygon over all rings (points exactly on an edge
    /// may fall either way).
    pub fn contains_point(&self, p: [f64; 2]) -> bool {
        self.rings()
            .fold(false, |inside, r| inside ^ ring_contains(r, p))
    }

    /// Clip every ring to a box (Sutherland–Hodgman per ring). Rings that
    /// vanish are dropped; an empty exterior gives an empty polygon.
    ///
    /// For non-convex rings the result can contain zero-width slivers along
    /// the box edges; the area and the even-odd inside test stay correct.
    pub fn clip_to_box(&self, b: &BBox) -> Polygon {
        let exterior = clip_ring(&self.exterior, b);
        if exterior.len() < 3 {
            return Polygon::default();
        }
        let interiors = self
            .interiors
            .iter()
            .map(|r| clip_ring(r, b))
            .filter(|r| r.len() >= 3)
            .collect();
        Polygon {
            exterior,
            interiors,
        }
    }

    /// Rasterize into a new `h × w` mask (even-odd rule at pixel centres:
    /// pixel `(x, y)` is set when `(x + 0.5, y + 0.5)` is inside).
    pub fn to_mask(&self, h: usize, w: usize) -> Result<Mask> {
        let mut m = Mask::new(h, w)?;
        self.fill_into(&mut m);
        Ok(m)
    }

    /// Set (OR) this polygon's pixels in `mask` (even-odd at pixel centres).
    pub fn fill_into(&self, mask: &mut Mask) {
        self.fill_with(mask, &mut Vec::new());
    }

    /// Rasterize into a new `h × w` mask with the given [`FillRule`].
    pub fn to_mask_with(&self, h: usize, w: usize, rule: FillRule) -> Result<Mask> {
        let mut m = Mask::new(h, w)?;
        self.fill_into_with(&mut m, rule);
        Ok(m)
    }

    /// Set (OR) this polygon's pixels in `mask` with the given [`FillRule`].
    pub fn fill_into_with(&self, mask: &mut Mask, rule: FillRule) {
        self.fill_into_scratch(mask, rule, &mut FillScratch::default());
    }

    /// [`Polygon::fill_into_with`] reusing `scratch`'s buffers.
    pub fn fill_into_scratch(&self, mask: &mut Mask, rule: FillRule, scratch: &mut FillScratch) {
        match rule {
            FillRule::Centers => self.fill_with(mask, &mut scratch.rows),
            FillRule::Cv2Points => {
                let rings: Vec<&[[f64; 2]]> = self.rings().map(Vec::as_slice).collect();
                super::raster::fill_rings_cv2(&rings, mask, scratch);
            }
        }
    }

    /// The runs of pixels [`FillRule::Centers`] sets on an `h × w` grid:
    /// `f(row, c0, c1)` for columns `c0..c1` (rows increasing, the runs of a
    /// row disjoint), without a mask: for painting values straight into
    /// another buffer.
    pub fn center_spans(
        &self,
        h: usize,
        w: usize,
        scratch: &mut FillScratch,
        f: impl FnMut(usize, usize, usize),
    ) {
        let rings: Vec<&[[f64; 2]]> = self.rings().map(Vec::as_slice).collect();
        ring_spans(&rings, h, w, &mut scratch.rows, f);
    }

    /// [`Polygon::fill_into`] with a reusable scratch buffer.
    fn fill_with(&self, mask: &mut Mask, scratch: &mut Vec<Vec<f64>>) {
        let rings: Vec<&[[f64; 2]]> = self.rings().map(Vec::as_slice).collect();
        fill_rings(&rings, mask, scratch);
    }
}

impl MultiPolygon {
    /// From pieces.
    pub fn new(polygons: Vec<Polygon>) -> Self {
        MultiPolygon { polygons }
    }

    /// No pieces.
    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }

    /// Sum of the pieces' areas (pieces are assumed not to overlap).
    pub fn area(&self) -> f64 {
        self.polygons.iter().map(Polygon::area).sum()
    }

    /// Bounding box of all exteriors.
    pub fn bbox(&self) -> Option<BBox> {
        BBox::from_points(self.polygons.iter().flat_map(|p| p.exterior.iter()))
    }

    /// Warp every piece.
    pub fn warp(&self, a: &Affine) -> MultiPolygon {
        MultiPolygon {
            polygons: self.polygons.iter().map(|p| p.warp(a)).collect(),
        }
    }

    /// Warp every piece in place.
    pub fn warp_in_place(&mut self, a: &Affine) {
        for p in &mut self.polygons {
            p.warp_in_place(a);
        }
    }

    /// Move by `(dx, dy)`.
    pub fn translate(&self, dx: f64, dy: f64) -> MultiPolygon {
        self.warp(&Affine::translate(dx, dy))
    }

    /// Scale about the origin.
    pub fn scale(&self, sx: f64, sy: f64) -> MultiPolygon {
        self.warp(&Affine::scale(sx, sy))
    }

    /// Inside any piece.
    pub fn contains_point(&self, p: [f64; 2]) -> bool {
        self.polygons.iter().any(|q| q.contains_point(p))
    }

    /// Clip every piece to a box, dropping pieces that vanish.
    pub fn clip_to_box(&self, b: &BBox) -> MultiPolygon {
        MultiPolygon::new(
            self.polygons
                .iter()
                .map(|p| p.clip_to_box(b))
                .filter(|p| !p.exterior.is_empty())
                .collect(),
        )
    }

    /// Rasterize: the union of the pieces, each filled even-odd at pixel
    /// centres.
    pub fn to_mask(&self, h: usize, w: usize) -> Result<Mask> {
        checked_pixels(h, w)?;
        let mut m = Mask::new(h, w)?;
        let mut scratch = Vec::new();
        for p in &self.polygons {
            p.fill_with(&mut m, &mut scratch);
        }
        Ok(m)
    }

    /// Rasterize with the given [`FillRule`]: the union of the pieces, each
    /// filled even-odd with its holes.
    pub fn to_mask_with(&self, h: usize, w: usize, rule: FillRule) -> Result<Mask> {
        let mut m = Mask::new(h, w)?;
        self.fill_into_with(&mut m, rule);
        Ok(m)
    }

    /// Set (OR) the pieces' pixels in `mask` with the given [`FillRule`].
    pub fn fill_into_with(&self, mask: &mut Mask, rule: FillRule) {
        self.fill_into_scratch(mask, rule, &mut FillScratch::default());
    }

    /// [`MultiPolygon::fill_into_with`] reusing `scratch`'s buffers.
    pub fn fill_into_scratch(&self, mask: &mut Mask, rule: FillRule, scratch: &mut FillScratch) {
        for p in &self.polygons {
            p.fill_into_scratch(mask, rule, scratch);
        }
    }
}

impl From<Polygon> for MultiPolygon {
    fn from(p: Polygon) -> Self {
        MultiPolygon::new(vec![p])
    }
}

/// Crossing-number test for one ring.
pub(crate) fn ring_contains(r: &[[f64; 2]], p: [f64; 2]) -> bool {
    let n = r.len();
    if n < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (r[i], r[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Sutherland–Hodgman against the four half-planes of `b`.
fn clip_ring(ring: &[[f64; 2]], b: &BBox) -> Vec<[f64; 2]> {
    let [l, t, r, bt] = b.ltrb();
    let mut cur: Vec<[f64; 2]> = ring.to_vec();
    // (axis, bound, keep_greater)
    for (axis, bound, keep_ge) in [(0, l, true), (0, r, false), (1, t, true), (1, bt, false)] {
        if cur.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| {
            if keep_ge {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        let mut out = Vec::with_capacity(cur.len() + 4);
        let mut prev = *cur.last().expect("non-empty");
        let mut prev_in = inside(&prev);
        for &p in &cur {
            let p_in = inside(&p);
            if p_in != prev_in {
                let s = (bound - prev[axis]) / (p[axis] - prev[axis]);
                let mut q = [
                    prev[0] + s * (p[0] - prev[0]),
                    prev[1] + s * (p[1] - prev[1]),
                ];
                q[axis] = bound;
                out.push(q);
            }
            if p_in {
                out.push(p);
            }
            prev = p;
            prev_in = p_in;
        }
        cur = out;
    }
    cur
}

/// `x.ceil()` without a libm call where the target has no rounding
/// instruction (x86-64 without SSE4.1: the scanline fill called `ceil` per
/// edge and per run, 6 % of a class mask's time). Exact: below 2^52 in
/// magnitude the truncation is exact; larger values and NaN take `ceil`.
#[inline]
fn ceil(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        let t = x as i64 as f64;
        if t < x { t + 1.0 } else { t }
    } else {
        x.ceil()
    }
}

/// Scanline fill of a set of rings with the even-odd rule at pixel centres,
/// OR-ed into `mask`.
///
/// `scratch` holds one crossing list per row; it is left empty for reuse.
pub(crate) fn fill_rings(rings: &[&[[f64; 2]]], mask: &mut Mask, scratch: &mut Vec<Vec<f64>>) {
    let (h, w) = (mask.height(), mask.width());
    ring_spans(rings, h, w, scratch, |row, c0, c1| {
        mask.row_mut(row)[c0..c1].fill(1)
    });
}

/// The horizontal runs of pixels whose centres are inside a set of rings
/// (even-odd) on an `h × w` grid: `f(row, c0, c1)` for columns `c0..c1`,
/// rows in increasing order (runs of one row do not overlap).
///
/// `scratch` holds one crossing list per row; it is left empty for reuse.
pub(crate) fn ring_spans(
    rings: &[&[[f64; 2]]],
    h: usize,
    w: usize,
    scratch: &mut Vec<Vec<f64>>,
    mut f: impl FnMut(usize, usize, usize),
) {
    if h == 0 || w == 0 {
        return;
    }
    // rows whose centre yc = row + 0.5 satisfies lo.y <= yc < hi.y
    let row_range = |lo: f64, hi: f64| -> (usize, usize) {
        let r0 = ceil(lo - 0.5).max(0.0);
        let r1 = ceil(hi - 0.5).min(h as f64);
        if r0 < r1 {
            (r0 as usize, r1 as usize)
        } else {
            (0, 0)
        }
    };
    // first pass: the rows the rings touch
    let (mut y_lo, mut y_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for ring in rings {
        for p in *ring {
            y_lo = y_lo.min(p[1]);
            y_hi = y_hi.max(p[1]);
        }
    }
    let (row0, row1) = row_range(y_lo, y_hi);
    if row0 >= row1 {
        return;
    }
    // crossings[row - row0] = x positions where an edge crosses the row's centre line
    if scratch.len() < row1 - row0 {
        scratch.resize_with(row1 - row0, Vec::new);
    }
    let crossings = &mut scratch[..row1 - row0];
    for &ring in rings {
        let n = ring.len();
        if n < 3 {
            continue;
        }
        let mut prev = ring[n - 1];
        for &p in ring {
            let (a, b) = (prev, p);
            prev = p;
            if a[1] == b[1]
                || !(a[0].is_finite() && a[1].is_finite() && b[0].is_finite() && b[1].is_finite())
            {
                continue;
            }
            let (lo, hi) = if a[1] < b[1] { (a, b) } else { (b, a) };
            let (r0, r1) = row_range(lo[1], hi[1]);
            let (r0, r1) = (r0.max(row0), r1.min(row1));
            let slope = (hi[0] - lo[0]) / (hi[1] - lo[1]);
            for row in r0..r1 {
                let yc = row as f64 + 0.5;
                crossings[row - row0].push(lo[0] + (yc - lo[1]) * slope);
            }
        }
    }
    let wf = w as f64;
    for (i, xs) in crossings.iter_mut().enumerate() {
        if xs.len() < 2 {
            xs.clear();
            continue;
        }
        xs.sort_unstable_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            // pixel centres x + 0.5 in [pair0, pair1)
            let c0 = ceil(pair[0] - 0.5).clamp(0.0, wf) as usize;
            let c1 = ceil(pair[1] - 0.5).clamp(0.0, wf) as usize;
            if c0 < c1 {
                f(row0 + i, c0, c1);
            }
        }
        xs.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, s: f64) -> Vec<[f64; 2]> {
        vec![[x, y], [x + s, y], [x + s, y + s], [x, y + s]]
    }

    #[test]
    fn fast_ceil_is_ceil() {
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            1e-300,
            -1e-300,
            2.999_999_999_999_999_6,
            -7.25,
            4.5e15,
            -4.5e15,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(ceil(x), x.ceil(), "{x}");
        }
        assert!(ceil(f64::NAN).is_nan());
        let mut v = 0.123_456_f64;
        for _ in 0..1000 {
            v = v * -1.7 + 0.3;
            assert_eq!(ceil(v), v.ceil(), "{v}");
        }
    }

    #[test]
    fn rasterize_square_exact() {
        let p = Polygon::new(square(1.0, 1.0, 3.0));
        let m = p.to_mask(6, 6).unwrap();
        assert_eq!(m.count(), 9);
        assert!(m.get(1, 1) && m.get(3, 3) && !m.get(4, 4) && !m.get(0, 0));
    }

    #[test]
    fn rasterize_with_hole_and_out_of_bounds() {
        let p = Polygon {
            exterior: square(-2.0, -2.0, 6.0),
            interiors: vec![square(1.0, 1.0, 1.0)],
        };
        let m = p.to_mask(3, 3).unwrap();
        // 3x3 window fully covered except the hole pixel (1, 1)
        assert_eq!(m.count(), 8);
        assert!(!m.get(1, 1));
    }

    #[test]
    fn non_finite_vertices_do_not_panic() {
        let p = Polygon::new(vec![[0.0, 5.0], [4.0, f64::NAN], [4.0, 8.0], [0.0, 8.0]]);
        let m = p.to_mask(10, 10).unwrap();
        // Whatever a NaN vertex does, no pixel outside the finite vertices'
        // box (columns 0..=4, rows 5..=8) may be set.
        for y in 0..10 {
            for x in 0..10 {
                if m.get(x, y) {
                    assert!((5..=8).contains(&y) && x <= 4, "pixel ({y}, {x}) set");
                }
            }
        }
        let q = Polygon::new(vec![[0.0, 0.0], [f64::INFINITY, 1e300], [-1e300, 3.0]]);
        let _ = q.to_mask(4, 4).unwrap();
        let _ = q.clip_to_box(&BBox::new(0.0, 0.0, 2.0, 2.0));
    }

    #[test]
    fn edges_to_an_infinite_vertex_are_left_out() {
        // a square (1, 1)–(3, 3) with a spike to x = +inf on its right side: the
        // two edges of the spike are skipped, so no row reaches the far column
        let p = Polygon::new(vec![
            [1.0, 1.0],
            [3.0, 1.0],
            [f64::INFINITY, 2.0],
            [3.0, 3.0],
            [1.0, 3.0],
        ]);
        let m = p.to_mask(5, 10).unwrap();
        for y in 0..5 {
            for x in 4..10 {
                assert!(!m.get(x, y), "pixel ({y}, {x}) set");
            }
        }
    }

    #[test]
    fn slanted_edges_rasterize_at_pixel_centres() {
        // vertices off the pixel grid, so no pixel centre lies on an edge: the
        // mask is exactly the centres the crossing-number test puts inside
        let p = Polygon {
            exterior: vec![[0.3, 0.2], [8.7, 1.1], [2.9, 6.6]],
            interiors: vec![vec![[2.2, 1.6], [4.1, 2.3], [2.6, 3.8]]],
        };
        let m = p.to_mask(7, 9).unwrap();
        let mut n = 0;
        for y in 0..7 {
            for x in 0..9 {
                let want = p.contains_point([x as f64 + 0.5, y as f64 + 0.5]);
                assert_eq!(m.get(x, y), want, "pixel ({y}, {x})");
                n += usize::from(want);
            }
        }
        assert!(n > 10, "{n}");
    }

    #[test]
    fn triangle_area_and_bbox() {
        let p = Polygon::new(vec![[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]]);
        assert_eq!(p.area(), 6.0);
        assert_eq!(p.bbox(), Some(BBox::new(0.0, 0.0, 4.0, 3.0)));
        assert!(p.contains_point([1.0, 1.0]));
        assert!(!p.contains_point([3.0, 2.0]));
    }

    #[test]
    fn clip_square_to_box() {
        let p = Polygon::new(square(0.0, 0.0, 4.0));
        let c = p.clip_to_box(&BBox::new(2.0, -1.0, 10.0, 3.0));
        assert_eq!(c.area(), 4.0);
        assert_eq!(c.bbox(), Some(BBox::new(2.0, 0.0, 2.0, 2.0)));
        assert!(
            p.clip_to_box(&BBox::new(10.0, 10.0, 1.0, 1.0))
                .exterior
                .is_empty()
        );
    }

    #[test]
    fn clip_keeps_triangles_and_holes_inside_the_box() {
        let tri = Polygon::new(vec![[1.0, 1.0], [3.0, 1.0], [1.0, 3.0]]);
        let b = BBox::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(tri.clip_to_box(&b).exterior.len(), 3);
        assert_eq!(tri.clip_to_box(&b).area(), 2.0);
        let holed = Polygon {
            exterior: square(0.0, 0.0, 8.0),
            interiors: vec![square(1.0, 1.0, 2.0), square(5.0, 5.0, 2.0)],
        };
        // the box keeps the first hole whole and misses the second
        let c = holed.clip_to_box(&BBox::new(0.0, 0.0, 4.0, 4.0));
        assert_eq!(c.interiors, vec![square(1.0, 1.0, 2.0)]);
        assert_eq!(c.area(), 12.0);
        // slanted edges are cut where they cross the box: (4, 0)–(0, 4) at y = 1
        // and at x = 2
        let big = Polygon::new(vec![[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]]);
        let c = big.clip_to_box(&BBox::new(-1.0, -1.0, 10.0, 2.0));
        assert_eq!(c.area(), 3.5);
        assert!(c.exterior.contains(&[3.0, 1.0]), "{:?}", c.exterior);
        let c = big.clip_to_box(&BBox::new(-1.0, -1.0, 3.0, 6.0));
        assert_eq!(c.area(), 6.0);
        assert!(c.exterior.contains(&[2.0, 2.0]), "{:?}", c.exterior);
        // a box outside the exterior drops the holes too
        let c = holed.clip_to_box(&BBox::new(20.0, 20.0, 4.0, 4.0));
        assert_eq!(c, Polygon::default());
    }

    #[test]
    fn reflection_keeps_orientation() {
        let p = Polygon::new(square(0.0, 0.0, 2.0));
        let before = ring_signed_area2(&p.exterior);
        let f = p.warp(&Affine::scale(-1.0, 1.0));
        assert_eq!(ring_signed_area2(&f.exterior).signum(), before.signum());
        assert_eq!(f.area(), 4.0);
    }

    #[test]
    fn constructors_and_moves() {
        let b = BBox::new(1.0, 2.0, 3.0, 4.0);
        let p = Polygon::from_bbox(&b);
        assert_eq!(p.bbox(), Some(b));
        assert_eq!(p.area(), 12.0);
        assert!(p.interiors.is_empty());
        let holed = Polygon {
            interiors: vec![vec![[2.0, 3.0], [3.0, 3.0], [3.0, 4.0]]],
            ..p.clone()
        };
        assert_eq!(holed.num_vertices(), 7);
        let t = holed.translate(-1.0, 0.5);
        assert_eq!(t.exterior[0], [0.0, 2.5]);
        assert_eq!(t.interiors[0], vec![[1.0, 3.5], [2.0, 3.5], [2.0, 4.5]]);
        let s = holed.scale(2.0, 3.0);
        assert_eq!(s.bbox(), Some(BBox::new(2.0, 6.0, 6.0, 12.0)));
        assert_eq!(s.interiors[0][2], [6.0, 12.0]);
    }

    #[test]
    fn singular_warp_keeps_vertex_order() {
        // determinant 0 is no reflection: the rings are not reversed
        let p = Polygon::new(square(0.0, 0.0, 2.0));
        let f = p.warp(&Affine::scale(0.0, 1.0));
        assert_eq!(
            f.exterior,
            vec![[0.0, 0.0], [0.0, 0.0], [0.0, 2.0], [0.0, 2.0]]
        );
    }

    #[test]
    fn multipolygon_union_of_pieces() {
        let m = MultiPolygon::new(vec![
            Polygon::new(square(0.0, 0.0, 2.0)),
            Polygon::new(square(3.0, 0.0, 1.0)),
        ]);
        assert_eq!(m.area(), 5.0);
        assert!(!m.is_empty() && MultiPolygon::default().is_empty());
        assert_eq!(m.bbox(), Some(BBox::new(0.0, 0.0, 4.0, 2.0)));
        assert_eq!(m.to_mask(4, 5).unwrap().count(), 5);
        assert_eq!(
            m.translate(1.0, 1.0).bbox(),
            Some(BBox::new(1.0, 1.0, 4.0, 2.0))
        );
        assert_eq!(
            m.scale(2.0, 0.5).bbox(),
            Some(BBox::new(0.0, 0.0, 8.0, 1.0))
        );
        // clipping drops the piece that vanishes and clips the other
        let c = m.clip_to_box(&BBox::new(1.0, 0.0, 1.5, 5.0));
        assert_eq!(c.polygons.len(), 1);
        assert_eq!(c.area(), 2.0);
        assert_eq!(c.bbox(), Some(BBox::new(1.0, 0.0, 1.0, 2.0)));
    }
}

#[cfg(test)]
mod warp_props {
    use super::*;
    use proptest::prelude::*;

    fn ring() -> impl Strategy<Value = Vec<[f64; 2]>> {
        proptest::collection::vec(
            prop_oneof![
                [-1e3f64..1e3, -1e3f64..1e3],
                Just([f64::INFINITY, 1.0]),
                Just([0.0, f64::NAN])
            ],
            0..12,
        )
    }

    fn affine() -> impl Strategy<Value = Affine> {
        prop_oneof![
            Just(Affine::identity()),
            (-50f64..50.0, -50f64..50.0).prop_map(|(x, y)| Affine::translate(x, y)),
            (-3f64..3.0, -3f64..3.0, -50f64..50.0)
                .prop_map(|(sx, sy, t)| Affine::scale(sx, sy).then(&Affine::translate(t, -t))),
            (
                -3f64..3.0,
                -3f64..3.0,
                -3f64..3.0,
                -3f64..3.0,
                -9f64..9.0,
                -9f64..9.0
            )
                .prop_map(|(a, b, c, d, tx, ty)| Affine::from_rows([a, b, tx], [c, d, ty])),
        ]
    }

    proptest! {
        /// Warping into new rings gives bit for bit what warping a copy in
        /// place gives (fast paths, reflections, non-finite points included).
        #[test]
        fn warp_equals_warp_in_place(
            ext in ring(),
            holes in proptest::collection::vec(ring(), 0..3),
            a in affine(),
        ) {
            let p = Polygon { exterior: ext, interiors: holes };
            let mut q = p.clone();
            q.warp_in_place(&a);
            let w = p.warp(&a);
            let bits = |p: &Polygon| -> Vec<u64> {
                p.rings().flatten().flat_map(|v| [v[0].to_bits(), v[1].to_bits()]).collect()
            };
            prop_assert_eq!(bits(&w), bits(&q));
            prop_assert_eq!(w.interiors.len(), q.interiors.len());
            let m = MultiPolygon { polygons: vec![p.clone(), p] };
            let mut mq = m.clone();
            mq.warp_in_place(&a);
            prop_assert_eq!(m.warp(&a).polygons.len(), 2);
            prop_assert_eq!(bits(&m.warp(&a).polygons[1]), bits(&mq.polygons[1]));
        }
    }
}
