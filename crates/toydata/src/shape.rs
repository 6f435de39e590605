//! The toy object categories and their shape templates.
//!
//! Each shape is an analytic region of the unit square (u to the right, v down):
//! a point test that is rasterized into any box by 4×4 supersampling, so the same
//! object can be drawn at any size and any sub-pixel position with the same
//! arithmetic on every machine.
//!
//! * `star` (supercategory `vector`): an eight-pointed star, a square and a diamond.
//! * `superstar` (`raster`): a five-pointed star with two round eye holes, keypoints
//!   `left_eye` and `right_eye` (each the other's reflection).
//! * `eff` (`raster`): the letter F, keypoints `top_tip`, `mid_tip`, `bot_tip`.

/// A toy object category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// The letter F.
    Eff,
    /// An eight-pointed star.
    Star,
    /// A five-pointed star with two eye holes.
    Superstar,
}

/// A keypoint category: `(name, id, reflection)` as in kwcoco's demo data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeypointCategory {
    /// Name, e.g. `left_eye`.
    pub name: &'static str,
    /// Keypoint category id.
    pub id: u64,
    /// Name of the keypoint this one becomes under a left/right flip.
    pub reflection: Option<&'static str>,
}

/// Keypoint categories, sorted by name (the order kwcoco writes them in).
pub const KEYPOINT_CATEGORIES: [KeypointCategory; 5] = [
    KeypointCategory {
        name: "bot_tip",
        id: 5,
        reflection: None,
    },
    KeypointCategory {
        name: "left_eye",
        id: 1,
        reflection: Some("right_eye"),
    },
    KeypointCategory {
        name: "mid_tip",
        id: 4,
        reflection: None,
    },
    KeypointCategory {
        name: "right_eye",
        id: 2,
        reflection: Some("left_eye"),
    },
    KeypointCategory {
        name: "top_tip",
        id: 3,
        reflection: None,
    },
];

/// Id of a keypoint category by name.
pub fn keypoint_category_id(name: &str) -> Option<u64> {
    KEYPOINT_CATEGORIES
        .iter()
        .find(|k| k.name == name)
        .map(|k| k.id)
}

/// Normalized vertices of the five-pointed star (outer radius 2× the inner one),
/// scaled to touch all four sides of the unit square.
const STAR5: [[f64; 2]; 10] = [
    [0.500000, 0.000000],
    [0.654508, 0.329180],
    [1.000000, 0.381966],
    [0.750000, 0.638197],
    [0.809017, 1.000000],
    [0.500000, 0.829180],
    [0.190983, 1.000000],
    [0.250000, 0.638197],
    [0.000000, 0.381966],
    [0.345492, 0.329180],
];
const EYE_V: f64 = 0.53;
const EYE_DU: f64 = 0.085;
const EYE_R: f64 = 0.055;

impl Shape {
    /// All shapes, in name order.
    pub const ALL: [Shape; 3] = [Shape::Eff, Shape::Star, Shape::Superstar];

    /// Category name.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Eff => "eff",
            Shape::Star => "star",
            Shape::Superstar => "superstar",
        }
    }

    /// Supercategory name (`vector` or `raster`, as in kwcoco).
    pub fn supercategory(self) -> &'static str {
        match self {
            Shape::Star => "vector",
            Shape::Eff | Shape::Superstar => "raster",
        }
    }

    /// Category id in `shapes` datasets (kwcoco's ids: star 3, superstar 6, eff 7).
    pub fn shapes_category_id(self) -> u64 {
        match self {
            Shape::Star => 3,
            Shape::Superstar => 6,
            Shape::Eff => 7,
        }
    }

    /// Keypoints as `(name, u, v)` in the unit square of the shape's box.
    pub fn keypoints(self) -> &'static [(&'static str, f64, f64)] {
        match self {
            Shape::Star => &[],
            Shape::Superstar => &[
                ("left_eye", 0.5 - EYE_DU, EYE_V),
                ("right_eye", 0.5 + EYE_DU, EYE_V),
            ],
            Shape::Eff => &[
                ("top_tip", 0.97, 0.1),
                ("mid_tip", 0.72, 0.51),
                ("bot_tip", 0.16, 0.98),
            ],
        }
    }

    /// Names of the keypoints of this category, in template order.
    pub fn keypoint_names(self) -> Vec<&'static str> {
        self.keypoints().iter().map(|k| k.0).collect()
    }

    /// Is the point `(u, v)` of the unit square inside the shape?
    pub fn contains(self, u: f64, v: f64) -> bool {
        match self {
            Shape::Star => {
                let (du, dv) = ((u - 0.5).abs(), (v - 0.5).abs());
                du + dv <= 0.5 || (du <= 0.3 && dv <= 0.3)
            }
            Shape::Superstar => {
                if !point_in_polygon(&STAR5, u, v) {
                    return false;
                }
                let in_eye = |cu: f64| {
                    let (a, b) = (u - cu, v - EYE_V);
                    a * a + b * b <= EYE_R * EYE_R
                };
                !(in_eye(0.5 - EYE_DU) || in_eye(0.5 + EYE_DU))
            }
            Shape::Eff => {
                let stem = (0.0..=0.32).contains(&u) && (0.0..=1.0).contains(&v);
                let top = (0.0..=1.0).contains(&u) && (0.0..=0.2).contains(&v);
                let mid = (0.0..=0.74).contains(&u) && (0.42..=0.6).contains(&v);
                stem || top || mid
            }
        }
    }
}

/// Even–odd point-in-polygon test.
fn point_in_polygon(poly: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = poly.len();
    let mut j = n - 1;
    for i in 0..n {
        let [xi, yi] = poly[i];
        let [xj, yj] = poly[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// An object rasterized on the integer pixel grid: the pixels whose footprint
/// `[x, x+1) × [y, y+1)` lies entirely inside its box, with their coverage.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Raster {
    /// Column of the first raster pixel (may be negative or past the image).
    pub x0: i64,
    /// Row of the first raster pixel.
    pub y0: i64,
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// Coverage in `[0, 1]` (fraction of 16 subsamples inside the shape), row-major.
    pub alpha: Vec<f32>,
}

impl Raster {
    /// Rasterize `shape` stretched over the box `[bx, by, bw, bh]`.
    pub(crate) fn new(shape: Shape, bbox: [f64; 4]) -> Raster {
        let [bx, by, bw, bh] = bbox;
        let x0 = bx.ceil();
        let y0 = by.ceil();
        let x1 = (bx + bw).floor();
        let y1 = (by + bh).floor();
        let w = if x1 > x0 && bw > 0.0 {
            (x1 - x0) as usize
        } else {
            0
        };
        let h = if y1 > y0 && bh > 0.0 {
            (y1 - y0) as usize
        } else {
            0
        };
        let mut alpha = vec![0f32; w * h];
        if w > 0 && h > 0 {
            for (r, row) in alpha.chunks_exact_mut(w).enumerate() {
                let py = y0 + r as f64;
                for (c, a) in row.iter_mut().enumerate() {
                    let px = x0 + c as f64;
                    let mut hits = 0u32;
                    for sy in 0..4 {
                        let v = (py + (f64::from(sy) + 0.5) / 4.0 - by) / bh;
                        for sx in 0..4 {
                            let u = (px + (f64::from(sx) + 0.5) / 4.0 - bx) / bw;
                            hits += u32::from(shape.contains(u, v));
                        }
                    }
                    *a = hits as f32 / 16.0;
                }
            }
        }
        Raster {
            x0: x0 as i64,
            y0: y0 as i64,
            w,
            h,
            alpha,
        }
    }

    /// Coverage at raster pixel `(c, r)`.
    #[inline]
    pub(crate) fn at(&self, c: usize, r: usize) -> f32 {
        self.alpha[r * self.w + c]
    }

    /// Number of pixels of the object mask (coverage > 0.05).
    pub(crate) fn area(&self) -> usize {
        self.alpha.iter().filter(|&&a| a > MASK_THRESHOLD).count()
    }
}

/// Coverage above which a pixel belongs to the object's mask (kwcoco uses 0.05).
pub(crate) const MASK_THRESHOLD: f32 = 0.05;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_fill_a_sensible_part_of_their_box() {
        for shape in Shape::ALL {
            let r = Raster::new(shape, [0.0, 0.0, 64.0, 64.0]);
            assert_eq!((r.w, r.h), (64, 64));
            let frac = r.area() as f64 / (64.0 * 64.0);
            assert!((0.3..0.9).contains(&frac), "{shape:?}: {frac}");
        }
    }

    #[test]
    fn superstar_eyes_are_holes_and_keypoints_sit_in_them() {
        for &(name, u, v) in Shape::Superstar.keypoints() {
            assert!(
                !Shape::Superstar.contains(u, v),
                "{name} should be in a hole"
            );
            // ...surrounded by the body
            assert!(Shape::Superstar.contains(u, v + 2.0 * EYE_R));
        }
        assert!(Shape::Superstar.contains(0.5, 0.55));
        assert!(!Shape::Superstar.contains(0.05, 0.05));
    }

    #[test]
    fn eff_keypoints_lie_on_the_letter() {
        for &(name, u, v) in Shape::Eff.keypoints() {
            assert!(Shape::Eff.contains(u, v), "{name}");
        }
    }

    #[test]
    fn keypoint_reflections_are_symmetric() {
        for k in KEYPOINT_CATEGORIES {
            if let Some(r) = k.reflection {
                let other = KEYPOINT_CATEGORIES.iter().find(|o| o.name == r).unwrap();
                assert_eq!(other.reflection, Some(k.name));
            }
        }
        let names: Vec<_> = KEYPOINT_CATEGORIES.iter().map(|k| k.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn raster_stays_inside_fractional_boxes() {
        let r = Raster::new(Shape::Star, [10.3, -4.6, 20.2, 9.9]);
        assert_eq!((r.x0, r.y0), (11, -4));
        // last column 11 + w - 1 must end (exclusive) at or before 30.5
        assert!((r.x0 + r.w as i64) as f64 <= 10.3 + 20.2);
        assert!((r.y0 + r.h as i64) as f64 <= -4.6 + 9.9);
        let tiny = Raster::new(Shape::Star, [0.2, 0.2, 0.5, 0.5]);
        assert_eq!((tiny.w, tiny.h, tiny.area()), (0, 0, 0));
    }
}
