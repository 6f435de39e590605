//! Binary masks and mask → polygon tracing.

use super::polygon::ring_contains;
use super::{
    BBox, GeometryError, MultiPolygon, Polygon, Result, Rle, checked_pixels, ring_signed_area2,
};

/// A binary `h × w` mask, row-major in memory (`data[y * w + x]`, 0 or 1).
///
/// ```
/// use coco_geometry::Mask;
/// let mut m = Mask::new(4, 5).unwrap();
/// m.set(1, 2, true);
/// m.set(2, 2, true);
/// assert_eq!(m.count(), 2);
/// let polys = m.to_multi_polygon();
/// assert_eq!(polys.area(), 2.0);
/// assert_eq!(polys.to_mask(4, 5).unwrap(), m);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    h: usize,
    w: usize,
    data: Vec<u8>,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Mask {}x{}", self.h, self.w)?;
        if self.h * self.w <= 4096 {
            for y in 0..self.h {
                let row: String = self
                    .row(y)
                    .iter()
                    .map(|&v| if v != 0 { '#' } else { '.' })
                    .collect();
                writeln!(f, "{row}")?;
            }
        }
        Ok(())
    }
}

impl Mask {
    /// An all-zero mask.
    pub fn new(h: usize, w: usize) -> Result<Self> {
        let n = checked_pixels(h, w)?;
        Ok(Mask {
            h,
            w,
            data: vec![0; n],
        })
    }

    /// From row-major values (any non-zero value is set).
    pub fn from_vec(h: usize, w: usize, mut data: Vec<u8>) -> Result<Self> {
        let n = checked_pixels(h, w)?;
        if data.len() != n {
            return Err(GeometryError::invalid(
                "mask",
                format!("{} values for a {h}×{w} mask ({n} expected)", data.len()),
            ));
        }
        for v in &mut data {
            *v = u8::from(*v != 0);
        }
        Ok(Mask { h, w, data })
    }

    /// Set pixel `(x, y)` where `f(x, y)` is true.
    pub fn from_fn(h: usize, w: usize, mut f: impl FnMut(usize, usize) -> bool) -> Result<Self> {
        let mut m = Mask::new(h, w)?;
        for y in 0..h {
            for x in 0..w {
                m.data[y * w + x] = u8::from(f(x, y));
            }
        }
        Ok(m)
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.h
    }

    /// Columns.
    pub fn width(&self) -> usize {
        self.w
    }

    /// `[h, w]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.h, self.w]
    }

    /// Row-major 0/1 values.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Pixel `(x, y)` (`false` outside the mask).
    pub fn get(&self, x: usize, y: usize) -> bool {
        x < self.w && y < self.h && self.data[y * self.w + x] != 0
    }

    /// Set pixel `(x, y)`; ignored outside the mask.
    pub fn set(&mut self, x: usize, y: usize, v: bool) {
        if x < self.w && y < self.h {
            self.data[y * self.w + x] = u8::from(v);
        }
    }

    /// One row.
    pub fn row(&self, y: usize) -> &[u8] {
        &self.data[y * self.w..(y + 1) * self.w]
    }

    /// One row, mutable (write only 0 or 1).
    pub fn row_mut(&mut self, y: usize) -> &mut [u8] {
        &mut self.data[y * self.w..(y + 1) * self.w]
    }

    /// Number of set pixels.
    pub fn count(&self) -> usize {
        self.data.iter().map(|&v| v as usize).sum()
    }

    /// Pixel extent of the set pixels (`None` when empty): a pixel `(x, y)`
    /// counts as the unit square at `(x, y)`.
    pub fn bbox(&self) -> Option<BBox> {
        let (mut l, mut t, mut r, mut b) = (usize::MAX, usize::MAX, 0, 0);
        for y in 0..self.h {
            let row = self.row(y);
            if let Some(first) = row.iter().position(|&v| v != 0) {
                let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
                l = l.min(first);
                r = r.max(last + 1);
                t = t.min(y);
                b = y + 1;
            }
        }
        (l != usize::MAX).then(|| BBox::from_ltrb(l as f64, t as f64, r as f64, b as f64))
    }

    /// Encode as a COCO RLE (compressed form).
    pub fn to_rle(&self) -> Rle {
        Rle::encode(self)
    }

    /// Pixel-wise OR; sizes must match.
    pub fn union(&self, o: &Mask) -> Result<Mask> {
        self.zip(o, |a, b| a | b)
    }

    /// Pixel-wise AND; sizes must match.
    pub fn intersection(&self, o: &Mask) -> Result<Mask> {
        self.zip(o, |a, b| a & b)
    }

    fn zip(&self, o: &Mask, f: impl Fn(u8, u8) -> u8) -> Result<Mask> {
        if self.shape() != o.shape() {
            return Err(GeometryError::SizeMismatch {
                a: self.shape(),
                b: o.shape(),
            });
        }
        let data = self
            .data
            .iter()
            .zip(&o.data)
            .map(|(&a, &b)| f(a, b))
            .collect();
        Ok(Mask {
            h: self.h,
            w: self.w,
            data,
        })
    }

    /// Trace the outlines of the set pixels into polygons with holes.
    ///
    /// Vertices are **pixel corners**: the boundary runs along pixel edges, so
    /// every polygon exactly covers its pixels (area == pixel count) and
    /// rasterizing the result at pixel centres ([`MultiPolygon::to_mask`])
    /// gives back this mask exactly. (kwimage / cv2 `findContours` return the
    /// centres of the boundary pixels instead, which cuts half a pixel off
    /// every side.)
    ///
    /// One [`Polygon`] per 8-connected component of set pixels; its holes are
    /// the 4-connected regions of unset pixels it encloses (the connectivity
    /// pair cv2 uses). Only corner vertices are kept (collinear vertices are
    /// dropped, like `CHAIN_APPROX_SIMPLE`). Exteriors turn clockwise on
    /// screen (positive shoelace area with y down) and holes the other way.
    /// Where two diagonal pixels touch, the ring passes twice through the
    /// shared corner. Polygons come in raster order of their top-left pixel.
    ///
    /// Algorithm: every pixel edge between a set and an unset pixel becomes a
    /// directed unit edge with the set pixel on its right; edges are chained
    /// at shared corners, and at a corner where two diagonal set pixels meet
    /// the chain turns towards the other set pixel, joining them. Rings with
    /// positive area are exteriors; each hole goes to the smallest exterior
    /// holding the set pixel next to it.
    pub fn to_multi_polygon(&self) -> MultiPolygon {
        trace(self)
    }

    /// Trace like kwimage `Mask.to_multi_polygon` / OpenCV
    /// `findContours(RETR_CCOMP, CHAIN_APPROX_SIMPLE)`: vertices are the
    /// **centres of the boundary pixels** (integer pixel indices), outer
    /// borders 8-connected and traced counter-clockwise on screen from their
    /// top-left pixel, holes 4-connected; straight (horizontal, vertical,
    /// diagonal) runs keep their end points only. This is the form of the
    /// polygons in kwcoco's own files; a one-pixel object gives a one-vertex
    /// ring, a one-pixel-wide line a two-vertex ring. Polygons come in the
    /// order their borders are found (raster order), which may differ from
    /// cv2's output order.
    ///
    /// Suzuki & Abe's border following (the algorithm cv2 implements).
    ///
    /// ```
    /// use coco_geometry::Mask;
    /// let m = Mask::from_fn(4, 4, |x, y| (1..3).contains(&x) && (1..3).contains(&y)).unwrap();
    /// let p = m.to_multi_polygon_cv2();
    /// assert_eq!(p.polygons[0].exterior, vec![[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0]]);
    /// ```
    pub fn to_multi_polygon_cv2(&self) -> MultiPolygon {
        super::contour::trace_cv2(&self.data, self.h, self.w)
    }
}

// Directions: 0 = +x, 1 = +y, 2 = -x, 3 = -y (screen coordinates, y down).

fn trace(m: &Mask) -> MultiPolygon {
    let (h, w) = (m.h, m.w);
    if h == 0 || w == 0 {
        return MultiPolygon::default();
    }
    let vw = w + 1;
    let nv = vw * (h + 1);
    // low nibble: boundary edges leaving the vertex; high nibble: used ones
    let mut edges = vec![0u8; nv];
    let data = &m.data;
    let mut any = false;
    for y in 0..h {
        let row = &data[y * w..(y + 1) * w];
        let above = (y > 0).then(|| &data[(y - 1) * w..y * w]);
        let below = (y + 1 < h).then(|| &data[(y + 1) * w..(y + 2) * w]);
        let (top_v, bot_v) = (y * vw, (y + 1) * vw);
        for x in 0..w {
            if row[x] == 0 {
                continue;
            }
            any = true;
            if above.is_none_or(|a| a[x] == 0) {
                edges[top_v + x] |= 1 << 0; // top side, going +x
            }
            if x + 1 == w || row[x + 1] == 0 {
                edges[top_v + x + 1] |= 1 << 1; // right side, going +y
            }
            if below.is_none_or(|b| b[x] == 0) {
                edges[bot_v + x + 1] |= 1 << 2; // bottom side, going -x
            }
            if x == 0 || row[x - 1] == 0 {
                edges[bot_v + x] |= 1 << 3; // left side, going -y
            }
        }
    }
    if !any {
        return MultiPolygon::default();
    }

    let mut exteriors: Vec<(Polygon, BBox, f64)> = Vec::new();
    // (ring, centre of a set pixel next to it)
    let mut holes: Vec<(Vec<[f64; 2]>, [f64; 2])> = Vec::new();
    for start in 0..nv {
        loop {
            let free = edges[start] & !(edges[start] >> 4) & 0x0f;
            if free == 0 {
                break;
            }
            let d0 = free.trailing_zeros() as usize;
            edges[start] |= 1 << (d0 + 4);
            let (sx, sy) = (start % vw, start / vw);
            // the set pixel on the right of the first edge
            let seed = match d0 {
                0 => (sx, sy),
                1 => (sx - 1, sy),
                2 => (sx - 1, sy - 1),
                _ => (sx, sy - 1),
            };
            let mut pts: Vec<[f64; 2]> = Vec::new();
            let step = |v: usize, d: usize| -> usize {
                match d {
                    0 => v + 1,
                    1 => v + vw,
                    2 => v - 1,
                    _ => v - vw,
                }
            };
            let mut cur = step(start, d0);
            let mut dir = d0;
            loop {
                let out = edges[cur] & 0x0f;
                let o = if out.count_ones() == 1 {
                    out.trailing_zeros() as usize
                } else {
                    // two diagonal set pixels meet here: turn towards the
                    // other one (keeps 8-connected pixels in one ring)
                    (dir + 3) % 4
                };
                if o != dir {
                    pts.push([(cur % vw) as f64, (cur / vw) as f64]);
                }
                if cur == start && o == d0 {
                    break;
                }
                debug_assert!(edges[cur] & (1 << (o + 4)) == 0, "edge used twice");
                edges[cur] |= 1 << (o + 4);
                cur = step(cur, o);
                dir = o;
            }
            let area2 = ring_signed_area2(&pts);
            if area2 > 0.0 {
                let bbox = BBox::from_points(&pts).unwrap_or_default();
                exteriors.push((Polygon::new(pts), bbox, area2));
            } else {
                holes.push((pts, [seed.0 as f64 + 0.5, seed.1 as f64 + 0.5]));
            }
        }
    }
    // A hole belongs to the smallest exterior holding the set pixel next to
    // it: that pixel's own component (any other exterior around it also
    // encloses the whole component, so it is larger).
    for (ring, p) in holes {
        let owner = exteriors
            .iter()
            .enumerate()
            .filter(|(_, (poly, b, _))| b.contains_point(p) && ring_contains(&poly.exterior, p))
            .min_by(|a, b| a.1.2.total_cmp(&b.1.2))
            .map(|(i, _)| i);
        if let Some(i) = owner {
            exteriors[i].0.interiors.push(ring);
        }
    }
    MultiPolygon::new(exteriors.into_iter().map(|(p, _, _)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: &[&str]) -> Mask {
        let h = rows.len();
        let w = rows[0].len();
        Mask::from_fn(h, w, |x, y| rows[y].as_bytes()[x] == b'#').unwrap()
    }

    #[test]
    fn single_pixel_is_unit_square() {
        let m = mask(&["...", ".#.", "..."]);
        let p = m.to_multi_polygon();
        assert_eq!(p.polygons.len(), 1);
        assert_eq!(
            p.polygons[0].exterior,
            vec![[2.0, 1.0], [2.0, 2.0], [1.0, 2.0], [1.0, 1.0]]
        );
        assert_eq!(p.area(), 1.0);
    }

    #[test]
    fn ring_with_hole() {
        let m = mask(&["#####", "#...#", "#.#.#", "#...#", "#####"]);
        let p = m.to_multi_polygon();
        // the centre pixel is a separate 8-connected component
        assert_eq!(p.polygons.len(), 2);
        assert_eq!(p.polygons[0].interiors.len(), 1);
        assert_eq!(p.polygons[0].exterior.len(), 4);
        assert_eq!(p.polygons[0].area(), 16.0);
        assert_eq!(p.area(), m.count() as f64);
        assert_eq!(p.to_mask(5, 5).unwrap(), m);
    }

    #[test]
    fn nested_components_own_their_holes() {
        let m = mask(&[
            "#########",
            "#.......#",
            "#.#####.#",
            "#.#...#.#",
            "#.#.#.#.#",
            "#.#...#.#",
            "#.#####.#",
            "#.......#",
            "#########",
        ]);
        let p = m.to_multi_polygon();
        assert_eq!(p.polygons.len(), 3);
        let areas: Vec<f64> = p.polygons.iter().map(Polygon::area).collect();
        assert_eq!(areas, vec![32.0, 16.0, 1.0]);
        assert_eq!(p.polygons[0].interiors.len(), 1);
        assert_eq!(p.polygons[1].interiors.len(), 1);
        assert_eq!(p.polygons[2].interiors.len(), 0);
        assert_eq!(p.to_mask(9, 9).unwrap(), m);
    }

    #[test]
    fn diagonal_pixels_join_into_one_polygon() {
        let m = mask(&["#..", ".#.", "..#"]);
        let p = m.to_multi_polygon();
        assert_eq!(p.polygons.len(), 1);
        assert_eq!(p.area(), 3.0);
        assert_eq!(p.to_mask(3, 3).unwrap(), m);
    }

    #[test]
    fn diagonal_gap_hole_stays_hole() {
        // the unset centre is enclosed by 8-connected set pixels (cv2 makes it a hole)
        let m = mask(&[".#.", "#.#", ".#."]);
        let p = m.to_multi_polygon();
        assert_eq!(p.polygons.len(), 1);
        assert_eq!(p.polygons[0].interiors.len(), 1);
        assert_eq!(p.area(), 4.0);
        assert_eq!(p.to_mask(3, 3).unwrap(), m);
    }

    #[test]
    fn empty_and_full() {
        assert!(Mask::new(3, 3).unwrap().to_multi_polygon().is_empty());
        let full = Mask::from_fn(2, 3, |_, _| true).unwrap();
        let p = full.to_multi_polygon();
        assert_eq!(p.bbox(), Some(BBox::new(0.0, 0.0, 3.0, 2.0)));
        assert_eq!(full.bbox(), Some(BBox::new(0.0, 0.0, 3.0, 2.0)));
    }

    #[test]
    fn from_vec_checks_length() {
        assert!(Mask::from_vec(2, 2, vec![1, 0, 1]).is_err());
        let m = Mask::from_vec(1, 3, vec![0, 7, 0]).unwrap();
        assert_eq!(m.data(), &[0, 1, 0]);
    }
}
