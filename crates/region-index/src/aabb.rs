//! Axis-aligned boxes in pixel coordinates and the overlap measures the index answers with.

/// An axis-aligned box in left-top-right-bottom (`ltrb`, kwimage `tlbr`) form.
///
/// `x` is the column and `y` the row, so `(x0, y0)` is the top-left corner and `(x1, y1)` the
/// bottom-right one. Boxes are closed sets: a box whose edge touches another box intersects it
/// (with zero area), which is what the reference's quadtree answers.
///
/// A box is *valid* when every coordinate is finite and `x0 <= x1`, `y0 <= y1`. Zero width or
/// height (degenerate boxes) are valid. The fields are public; [`Aabb::is_valid`] says whether a
/// hand-made value is usable, and the index refuses invalid boxes.
///
/// ```
/// use region_index::Aabb;
/// let a = Aabb::from_xywh(0.0, 0.0, 10.0, 10.0);
/// let b = Aabb::new(5.0, 5.0, 15.0, 15.0);
/// assert_eq!(a.intersection_area(&b), 25.0);
/// assert!((a.iou(&b) - 25.0 / 175.0).abs() < 1e-12);
/// assert_eq!(b.visibility_in(&a), 0.25);
/// // touching edges intersect (inclusive), with zero area
/// assert!(a.intersects(&Aabb::new(10.0, 0.0, 20.0, 10.0)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Aabb {
    /// Left edge (smallest x).
    pub x0: f64,
    /// Top edge (smallest y).
    pub y0: f64,
    /// Right edge (largest x).
    pub x1: f64,
    /// Bottom edge (largest y).
    pub y1: f64,
}

impl Aabb {
    /// A box from its left, top, right and bottom edges (not reordered).
    pub const fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Self {
        Aabb { x0, y0, x1, y1 }
    }

    /// A box from a COCO `[x, y, w, h]` bbox: top-left corner plus width and height.
    pub fn from_xywh(x: f64, y: f64, w: f64, h: f64) -> Self {
        Aabb::new(x, y, x + w, y + h)
    }

    /// A box from its centre and its width and height.
    pub fn from_cxywh(cx: f64, cy: f64, w: f64, h: f64) -> Self {
        Aabb::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
    }

    /// The box as COCO `[x, y, w, h]`.
    pub fn to_xywh(&self) -> [f64; 4] {
        [self.x0, self.y0, self.width(), self.height()]
    }

    /// `x1 - x0`.
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    /// `y1 - y0`.
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }

    /// The centre point `(cx, cy)`.
    pub fn center(&self) -> (f64, f64) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }

    /// Width times height (0 for a degenerate box; never negative).
    pub fn area(&self) -> f64 {
        self.width().max(0.0) * self.height().max(0.0)
    }

    /// Every coordinate is finite and the edges are ordered (`x0 <= x1`, `y0 <= y1`).
    pub fn is_valid(&self) -> bool {
        self.x0.is_finite()
            && self.y0.is_finite()
            && self.x1.is_finite()
            && self.y1.is_finite()
            && self.x0 <= self.x1
            && self.y0 <= self.y1
    }

    /// Whether the closed boxes share at least one point (touching edges count).
    pub fn intersects(&self, other: &Aabb) -> bool {
        self.x0 <= other.x1 && other.x0 <= self.x1 && self.y0 <= other.y1 && other.y0 <= self.y1
    }

    /// Whether `other` lies entirely inside this (closed) box.
    pub fn contains(&self, other: &Aabb) -> bool {
        self.x0 <= other.x0 && other.x1 <= self.x1 && self.y0 <= other.y0 && other.y1 <= self.y1
    }

    /// The common part of two boxes, `None` if they do not intersect. Boxes that only touch give
    /// a degenerate (zero-area) box.
    pub fn intersection(&self, other: &Aabb) -> Option<Aabb> {
        if self.intersects(other) {
            Some(Aabb::new(
                self.x0.max(other.x0),
                self.y0.max(other.y0),
                self.x1.min(other.x1),
                self.y1.min(other.y1),
            ))
        } else {
            None
        }
    }

    /// Area of the common part (0 when disjoint or only touching).
    pub fn intersection_area(&self, other: &Aabb) -> f64 {
        let iw = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let ih = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        iw * ih
    }

    /// Intersection over union. Defined as 0 when the union has no area (two degenerate boxes).
    pub fn iou(&self, other: &Aabb) -> f64 {
        let inter = self.intersection_area(other);
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }

    /// The fraction of this box that lies inside `window`: intersection area over own area
    /// (the reference's "visibility" and "intersection over other's area").
    ///
    /// For a box with positive area this is exactly `intersection_area / area`. A degenerate box
    /// is measured along the extent it has: a vertical segment counts the fraction of its length
    /// inside the window, a point counts 1 when it lies in the closed window. (The reference
    /// divides by `area + 1e-6` and so calls every degenerate box invisible.)
    ///
    /// ```
    /// use region_index::Aabb;
    /// let window = Aabb::new(0.0, 0.0, 10.0, 10.0);
    /// assert_eq!(Aabb::new(5.0, 5.0, 15.0, 5.0).visibility_in(&window), 0.5); // segment, half in
    /// assert_eq!(Aabb::new(3.0, 3.0, 3.0, 3.0).visibility_in(&window), 1.0); // point inside
    /// ```
    pub fn visibility_in(&self, window: &Aabb) -> f64 {
        let w = self.width();
        let h = self.height();
        if w > 0.0 && h > 0.0 {
            return self.intersection_area(window) / (w * h);
        }
        axis_fraction(self.x0, self.x1, window.x0, window.x1)
            * axis_fraction(self.y0, self.y1, window.y0, window.y1)
    }

    /// The box moved by `(dx, dy)`.
    pub fn translate(&self, dx: f64, dy: f64) -> Aabb {
        Aabb::new(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)
    }
}

/// Fraction of the closed interval `[a0, a1]` inside `[b0, b1]`; a zero-length interval counts
/// 1 when its point is inside and 0 otherwise.
fn axis_fraction(a0: f64, a1: f64, b0: f64, b1: f64) -> f64 {
    let len = a1 - a0;
    if len > 0.0 {
        (a1.min(b1) - a0.max(b0)).max(0.0) / len
    } else if b0 <= a0 && a0 <= b1 {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn xywh_round_trip_and_sizes() {
        let b = Aabb::from_xywh(2.0, 3.0, 4.0, 5.0);
        assert_eq!(b, Aabb::new(2.0, 3.0, 6.0, 8.0));
        assert_eq!(b.to_xywh(), [2.0, 3.0, 4.0, 5.0]);
        assert_eq!(b.area(), 20.0);
        assert_eq!(b.center(), (4.0, 5.5));
        assert_eq!(Aabb::from_cxywh(4.0, 5.5, 4.0, 5.0), b);
        assert_eq!(b.translate(-2.0, 1.0), Aabb::new(0.0, 4.0, 4.0, 9.0));
    }

    #[test]
    fn validity() {
        assert!(Aabb::new(0.0, 0.0, 0.0, 0.0).is_valid());
        assert!(!Aabb::new(1.0, 0.0, 0.0, 1.0).is_valid());
        assert!(!Aabb::new(0.0, 0.0, f64::NAN, 1.0).is_valid());
        assert!(!Aabb::new(0.0, 0.0, f64::INFINITY, 1.0).is_valid());
        assert_eq!(Aabb::new(1.0, 0.0, 0.0, 1.0).area(), 0.0);
    }

    #[test]
    fn touching_is_inclusive() {
        let a = Aabb::new(0.0, 0.0, 10.0, 10.0);
        let right = Aabb::new(10.0, 0.0, 20.0, 10.0);
        let corner = Aabb::new(10.0, 10.0, 11.0, 11.0);
        let apart = Aabb::new(10.5, 0.0, 20.0, 10.0);
        assert!(a.intersects(&right));
        assert!(a.intersects(&corner));
        assert!(!a.intersects(&apart));
        assert_eq!(
            a.intersection(&right),
            Some(Aabb::new(10.0, 0.0, 10.0, 10.0))
        );
        assert_eq!(a.intersection(&apart), None);
        assert_eq!(a.intersection_area(&right), 0.0);
        assert_eq!(a.iou(&right), 0.0);
    }

    #[test]
    fn iou_matches_kwimage_example() {
        // kwimage's Boxes.ious doctest (bias=0 variant computed by hand):
        // [0,0,10,10] vs [6,2,20,10]: inter 4*8=32, union 100+112-32=180
        let a = Aabb::new(0.0, 0.0, 10.0, 10.0);
        let b = Aabb::new(6.0, 2.0, 20.0, 10.0);
        assert_relative_eq!(a.iou(&b), 32.0 / 180.0);
        assert_relative_eq!(b.iou(&a), a.iou(&b));
        assert_eq!(a.iou(&a), 1.0);
        let p = Aabb::new(1.0, 1.0, 1.0, 1.0);
        assert_eq!(p.iou(&p), 0.0);
    }

    #[test]
    fn visibility_of_regular_and_degenerate_boxes() {
        let w = Aabb::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(Aabb::new(-10.0, 0.0, 10.0, 10.0).visibility_in(&w), 0.5);
        assert_eq!(Aabb::new(2.0, 2.0, 4.0, 4.0).visibility_in(&w), 1.0);
        assert_eq!(Aabb::new(20.0, 2.0, 24.0, 4.0).visibility_in(&w), 0.0);
        // vertical segment: three quarters inside
        assert_eq!(Aabb::new(5.0, -2.0, 5.0, 6.0).visibility_in(&w), 0.75);
        // segment outside along its zero-width axis
        assert_eq!(Aabb::new(11.0, 0.0, 11.0, 6.0).visibility_in(&w), 0.0);
        // point on the edge counts as inside
        assert_eq!(Aabb::new(10.0, 10.0, 10.0, 10.0).visibility_in(&w), 1.0);
        assert_eq!(Aabb::new(10.1, 10.0, 10.1, 10.0).visibility_in(&w), 0.0);
    }

    #[test]
    fn contains_is_closed() {
        let w = Aabb::new(0.0, 0.0, 10.0, 10.0);
        assert!(w.contains(&w));
        assert!(w.contains(&Aabb::new(0.0, 0.0, 0.0, 10.0)));
        assert!(!w.contains(&Aabb::new(-0.1, 0.0, 1.0, 1.0)));
    }
}
