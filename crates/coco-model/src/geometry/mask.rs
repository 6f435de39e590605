//! Binary masks and mask → polygon tracing.

use super::{
    BBox, GeometryError, MultiPolygon, Polygon, Result, Rle, checked_pixels, ring_signed_area2,
};

/// A binary `h × w` mask, row-major in memory (`data[y * w + x]`, 0 or 1).
///
/// ```
/// use coco_model::geometry::Mask;
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
    /// the chain turns towards the other set pixel, joining them.
    pub fn to_multi_polygon(&self) -> MultiPolygon {
        trace(self)
    }
}

// Directions: 0 = +x, 1 = +y, 2 = -x, 3 = -y (screen coordinates, y down).
const DX: [isize; 4] = [1, 0, -1, 0];
const DY: [isize; 4] = [0, 1, 0, -1];

fn trace(m: &Mask) -> MultiPolygon {
    let (h, w) = (m.h, m.w);
    if h == 0 || w == 0 {
        return MultiPolygon::default();
    }
    let vw = w + 1;
    let nv = vw * (h + 1);
    // low nibble: boundary edges leaving the vertex; high nibble: used ones
    let mut edges = vec![0u8; nv];
    let px = |x: isize, y: isize| -> bool {
        x >= 0
            && y >= 0
            && (x as usize) < w
            && (y as usize) < h
            && m.data[y as usize * w + x as usize] != 0
    };
    let mut any = false;
    for y in 0..h {
        for x in 0..w {
            if m.data[y * w + x] == 0 {
                continue;
            }
            any = true;
            let (xi, yi) = (x as isize, y as isize);
            if !px(xi, yi - 1) {
                edges[y * vw + x] |= 1 << 0; // top side, going +x
            }
            if !px(xi + 1, yi) {
                edges[y * vw + x + 1] |= 1 << 1; // right side, going +y
            }
            if !px(xi, yi + 1) {
                edges[(y + 1) * vw + x + 1] |= 1 << 2; // bottom side, going -x
            }
            if !px(xi - 1, yi) {
                edges[(y + 1) * vw + x] |= 1 << 3; // left side, going -y
            }
        }
    }
    if !any {
        return MultiPolygon::default();
    }
    let labels = label_components(m);

    struct Ring {
        pts: Vec<[f64; 2]>,
        label: u32,
        exterior: bool,
    }
    let mut rings: Vec<Ring> = Vec::new();
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
            let label = labels[seed.1 * w + seed.0];
            let mut pts: Vec<[f64; 2]> = Vec::new();
            let mut cur = (start as isize + DX[d0] + DY[d0] * vw as isize) as usize;
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
                cur = (cur as isize + DX[o] + DY[o] * vw as isize) as usize;
                dir = o;
            }
            let exterior = ring_signed_area2(&pts) > 0.0;
            rings.push(Ring {
                pts,
                label,
                exterior,
            });
        }
    }
    let mut index_of_label = std::collections::HashMap::new();
    let mut polys: Vec<Polygon> = Vec::new();
    for r in rings.iter().filter(|r| r.exterior) {
        index_of_label.insert(r.label, polys.len());
        polys.push(Polygon::new(r.pts.clone()));
    }
    for r in rings.into_iter().filter(|r| !r.exterior) {
        if let Some(&i) = index_of_label.get(&r.label) {
            polys[i].interiors.push(r.pts);
        }
    }
    MultiPolygon::new(polys)
}

/// 8-connected component labels (0 = unset, 1.. = component).
fn label_components(m: &Mask) -> Vec<u32> {
    let (h, w) = (m.h, m.w);
    let mut labels = vec![0u32; h * w];
    let mut next = 0u32;
    let mut stack: Vec<usize> = Vec::new();
    for i in 0..h * w {
        if m.data[i] == 0 || labels[i] != 0 {
            continue;
        }
        next += 1;
        labels[i] = next;
        stack.push(i);
        while let Some(j) = stack.pop() {
            let (x, y) = ((j % w) as isize, (j / w) as isize);
            for dy in -1..=1isize {
                for dx in -1..=1isize {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx as usize >= w || ny as usize >= h {
                        continue;
                    }
                    let k = ny as usize * w + nx as usize;
                    if m.data[k] != 0 && labels[k] == 0 {
                        labels[k] = next;
                        stack.push(k);
                    }
                }
            }
        }
    }
    labels
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
