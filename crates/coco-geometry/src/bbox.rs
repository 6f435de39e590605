//! Axis-aligned boxes in COCO `[x, y, w, h]` form.

use super::{Affine, GeometryError, NumberStyle, Result, kind, read_num};
use serde_json::Value;

/// An axis-aligned box `[x, y, w, h]` (COCO); `x, y` is the top-left corner.
///
/// Boxes may extend past an image. A box with `w <= 0` or `h <= 0` is empty.
///
/// ```
/// use coco_geometry::{Affine, BBox};
/// let b = BBox::new(1.0, 2.0, 3.0, 4.0);
/// assert_eq!(b.ltrb(), [1.0, 2.0, 4.0, 6.0]);
/// assert_eq!(b.warp(&Affine::scale(2.0, 0.5)), BBox::new(2.0, 1.0, 6.0, 2.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct BBox {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl BBox {
    /// From `x, y, w, h`.
    pub const fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        BBox { x, y, w, h }
    }

    /// From `[x, y, w, h]`.
    pub fn from_xywh(v: [f64; 4]) -> Self {
        BBox::new(v[0], v[1], v[2], v[3])
    }

    /// From left, top, right, bottom.
    pub fn from_ltrb(l: f64, t: f64, r: f64, b: f64) -> Self {
        BBox::new(l, t, r - l, b - t)
    }

    /// `[x, y, w, h]`.
    pub fn xywh(&self) -> [f64; 4] {
        [self.x, self.y, self.w, self.h]
    }

    /// `[left, top, right, bottom]`.
    pub fn ltrb(&self) -> [f64; 4] {
        [self.x, self.y, self.x + self.w, self.y + self.h]
    }

    /// Right edge.
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    /// Bottom edge.
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// Centre `[cx, cy]`.
    pub fn center(&self) -> [f64; 2] {
        [self.x + self.w / 2.0, self.y + self.h / 2.0]
    }

    /// `w * h`, or 0 for an empty box.
    pub fn area(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            self.w * self.h
        }
    }

    /// No interior (`w <= 0`, `h <= 0`, or NaN).
    pub fn is_empty(&self) -> bool {
        !(self.w > 0.0 && self.h > 0.0)
    }

    /// The four corners, clockwise on screen from the top-left.
    pub fn corners(&self) -> [[f64; 2]; 4] {
        let [l, t, r, b] = self.ltrb();
        [[l, t], [r, t], [r, b], [l, b]]
    }

    /// The overlap of two boxes, `None` when they do not overlap with a
    /// positive area.
    pub fn intersection(&self, o: &BBox) -> Option<BBox> {
        let l = self.x.max(o.x);
        let t = self.y.max(o.y);
        let r = self.right().min(o.right());
        let b = self.bottom().min(o.bottom());
        (r > l && b > t).then(|| BBox::from_ltrb(l, t, r, b))
    }

    /// Area of the overlap (0 when disjoint).
    pub fn intersection_area(&self, o: &BBox) -> f64 {
        self.intersection(o).map_or(0.0, |b| b.area())
    }

    /// Closed-set overlap test: boxes that only touch count (the sampler's
    /// "inclusive touching" rule).
    pub fn touches(&self, o: &BBox) -> bool {
        self.x <= o.right() && o.x <= self.right() && self.y <= o.bottom() && o.y <= self.bottom()
    }

    /// Smallest box holding both.
    pub fn union_hull(&self, o: &BBox) -> BBox {
        BBox::from_ltrb(
            self.x.min(o.x),
            self.y.min(o.y),
            self.right().max(o.right()),
            self.bottom().max(o.bottom()),
        )
    }

    /// Smallest box holding all points (`None` for no points).
    pub fn from_points<'a>(pts: impl IntoIterator<Item = &'a [f64; 2]>) -> Option<BBox> {
        let mut it = pts.into_iter();
        let first = it.next()?;
        let (mut l, mut t, mut r, mut b) = (first[0], first[1], first[0], first[1]);
        for p in it {
            l = l.min(p[0]);
            t = t.min(p[1]);
            r = r.max(p[0]);
            b = b.max(p[1]);
        }
        Some(BBox::from_ltrb(l, t, r, b))
    }

    /// The axis-aligned box of the four warped corners.
    pub fn warp(&self, a: &Affine) -> BBox {
        if a.is_axis_aligned() {
            let [l, t, r, b] = self.ltrb();
            let p = a.apply([l, t]);
            let q = a.apply([r, b]);
            return BBox::from_ltrb(
                p[0].min(q[0]),
                p[1].min(q[1]),
                p[0].max(q[0]),
                p[1].max(q[1]),
            );
        }
        let c = self.corners().map(|p| a.apply(p));
        BBox::from_points(&c).unwrap_or(*self)
    }

    /// Move by `(dx, dy)`.
    pub fn translate(&self, dx: f64, dy: f64) -> BBox {
        BBox::new(self.x + dx, self.y + dy, self.w, self.h)
    }

    /// Scale about the origin (positive factors).
    pub fn scale(&self, sx: f64, sy: f64) -> BBox {
        BBox::new(self.x * sx, self.y * sy, self.w * sx, self.h * sy)
    }

    /// Clip to a window; an empty box (`w` or `h` 0) at the nearest window
    /// edge when they do not overlap.
    pub fn clip(&self, window: &BBox) -> BBox {
        // max/min rather than clamp: no panic on an inverted or NaN window
        let (wl, wt, wr, wb) = (window.x, window.y, window.right(), window.bottom());
        let l = self.x.max(wl).min(wr);
        let t = self.y.max(wt).min(wb);
        let r = self.right().max(wl).min(wr).max(l);
        let b = self.bottom().max(wt).min(wb).max(t);
        BBox::from_ltrb(l, t, r, b)
    }

    /// Grow outward to integer coordinates: floor the top-left, ceil the
    /// bottom-right.
    pub fn quantize_outward(&self) -> BBox {
        BBox::from_ltrb(
            self.x.floor(),
            self.y.floor(),
            self.right().ceil(),
            self.bottom().ceil(),
        )
    }

    /// Whether `(x, y)` lies in the half-open box `[l, r) × [t, b)`.
    pub fn contains_point(&self, p: [f64; 2]) -> bool {
        p[0] >= self.x && p[0] < self.right() && p[1] >= self.y && p[1] < self.bottom()
    }

    /// Parse `[x, y, w, h]`; also reports whether all four were integers.
    pub fn from_json(v: &Value) -> Result<(BBox, NumberStyle)> {
        let a = v.as_array().filter(|a| a.len() == 4).ok_or_else(|| {
            GeometryError::invalid("bbox", format!("expected [x, y, w, h], got {}", kind(v)))
        })?;
        let mut out = [0.0; 4];
        let mut ints = true;
        for (o, x) in out.iter_mut().zip(a) {
            let (val, is_int) = read_num(x, "bbox")?;
            *o = val;
            ints &= is_int;
        }
        Ok((BBox::from_xywh(out), NumberStyle::from_all_ints(ints)))
    }

    /// Write `[x, y, w, h]`.
    pub fn to_json(&self, style: NumberStyle) -> Value {
        Value::Array(self.xywh().iter().map(|&x| style.value(x)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intersection_and_area() {
        let a = BBox::new(0.0, 0.0, 4.0, 4.0);
        let b = BBox::new(2.0, 1.0, 4.0, 4.0);
        assert_eq!(a.intersection(&b), Some(BBox::new(2.0, 1.0, 2.0, 3.0)));
        assert_eq!(a.intersection_area(&b), 6.0);
        let c = BBox::new(4.0, 0.0, 1.0, 1.0);
        assert_eq!(a.intersection(&c), None);
        assert!(a.touches(&c));
        assert!(!a.touches(&BBox::new(4.1, 0.0, 1.0, 1.0)));
        assert_eq!(a.union_hull(&c), BBox::new(0.0, 0.0, 5.0, 4.0));
    }

    #[test]
    fn warp_rotated_box_is_hull_of_corners() {
        let b = BBox::new(0.0, 0.0, 2.0, 2.0);
        let r = b.warp(&Affine::rotate(std::f64::consts::FRAC_PI_4));
        let s = 2f64.sqrt();
        assert!((r.x + s).abs() < 1e-12 && r.y.abs() < 1e-12);
        assert!((r.w - 2.0 * s).abs() < 1e-12 && (r.h - 2.0 * s).abs() < 1e-12);
        // a flip keeps w, h positive
        let f = b.warp(&Affine::scale(-1.0, 1.0));
        assert_eq!(f, BBox::new(-2.0, 0.0, 2.0, 2.0));
    }

    #[test]
    fn clip_and_quantize() {
        let w = BBox::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(
            BBox::new(-2.0, 8.0, 5.0, 5.0).clip(&w),
            BBox::new(0.0, 8.0, 3.0, 2.0)
        );
        assert!(BBox::new(20.0, 20.0, 1.0, 1.0).clip(&w).is_empty());
        // hostile windows do not panic
        let _ = BBox::new(0.0, 0.0, 1.0, 1.0).clip(&BBox::new(5.0, 5.0, -10.0, f64::NAN));
        assert_eq!(
            BBox::new(0.5, 1.2, 2.0, 2.0).quantize_outward(),
            BBox::new(0.0, 1.0, 3.0, 3.0)
        );
    }

    #[test]
    fn json_round_trip_keeps_ints() {
        let v = json!([127, 324, 31, 31]);
        let (b, s) = BBox::from_json(&v).unwrap();
        assert_eq!(s, NumberStyle::Int);
        assert_eq!(b.to_json(s), v);
        let v = json!([123.5, 224.6, 179.0, 44.7]);
        let (b, s) = BBox::from_json(&v).unwrap();
        assert_eq!(b.to_json(s), v);
        assert!(BBox::from_json(&json!([1, 2, 3])).is_err());
    }
}
