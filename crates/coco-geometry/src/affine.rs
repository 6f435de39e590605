//! 2D affine transforms as 3×3 matrices (kwimage `Affine`).

use super::{GeometryError, Result};
use std::ops::Mul;

/// A 2D affine transform stored as a row-major 3×3 matrix
/// `[[a, b, tx], [c, d, ty], [0, 0, 1]]`, acting on column vectors:
/// `x' = a·x + b·y + tx`, `y' = c·x + d·y + ty`.
///
/// Composition follows matrix multiplication, as kwimage's `@`:
/// `(a * b).apply(p) == a.apply(b.apply(p))`, i.e. **`b` is applied first**.
/// [`Affine::then`] reads in application order: `a.then(&b) == b * a`.
///
/// ```
/// use coco_geometry::Affine;
/// let s = Affine::scale(2.0, 2.0);
/// let t = Affine::translate(1.0, 0.0);
/// // scale first, then translate
/// assert_eq!(s.then(&t).apply([1.0, 1.0]), [3.0, 2.0]);
/// assert_eq!((t * s).apply([1.0, 1.0]), [3.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    /// Row-major matrix; the last row is always `[0, 0, 1]`.
    pub m: [[f64; 3]; 3],
}

/// Tolerance of the special-form checks ([`Affine::integer_translation`],
/// [`Affine::scale_translation`]).
const NEAR: f64 = 1e-9;
/// Magnitudes below 2^53 convert between `f64` and `i64` exactly.
const I64_EXACT: f64 = 9_007_199_254_740_992.0;

impl Default for Affine {
    fn default() -> Self {
        Affine::IDENTITY
    }
}

/// The parameters of kwimage `Affine.affine` / `Affine.decompose`.
///
/// The matrix they describe is `O · T · R · E · S · O⁻¹` where `S` scales by
/// `scale`, `E` shears x by `shearx` (`x' = x + shearx·y`), `R` rotates
/// counter-clockwise by `theta` radians (in a y-up frame), `T` translates by
/// `offset` and `O` translates by `about`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AffineParams {
    /// `[sx, sy]`.
    pub scale: [f64; 2],
    /// `[tx, ty]`.
    pub offset: [f64; 2],
    /// Rotation in radians.
    pub theta: f64,
    /// Shear factor parallel to the x axis.
    pub shearx: f64,
    /// The origin `[x0, y0]` the scale / shear / rotation are about.
    pub about: [f64; 2],
}

impl Default for AffineParams {
    fn default() -> Self {
        AffineParams {
            scale: [1.0, 1.0],
            offset: [0.0, 0.0],
            theta: 0.0,
            shearx: 0.0,
            about: [0.0, 0.0],
        }
    }
}

impl Affine {
    /// The identity transform.
    pub const IDENTITY: Affine = Affine {
        m: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    };

    /// The identity transform.
    pub fn identity() -> Self {
        Self::IDENTITY
    }

    /// From the six free entries `[[a, b, tx], [c, d, ty]]`.
    pub fn from_rows(r0: [f64; 3], r1: [f64; 3]) -> Self {
        Affine {
            m: [r0, r1, [0.0, 0.0, 1.0]],
        }
    }

    /// From a full 3×3 matrix; the last row must be `[0, 0, 1]`.
    pub fn from_matrix(m: [[f64; 3]; 3]) -> Result<Self> {
        if m[2] != [0.0, 0.0, 1.0] {
            return Err(GeometryError::invalid(
                "affine matrix",
                format!(
                    "last row must be [0, 0, 1] (a projective matrix is not supported), got {:?}",
                    m[2]
                ),
            ));
        }
        if m.iter().flatten().any(|v| !v.is_finite()) {
            return Err(GeometryError::invalid(
                "affine matrix",
                "entries must be finite",
            ));
        }
        Ok(Affine { m })
    }

    /// Translation by `(tx, ty)`.
    pub fn translate(tx: f64, ty: f64) -> Self {
        Self::from_rows([1.0, 0.0, tx], [0.0, 1.0, ty])
    }

    /// Scale by `(sx, sy)` about the origin.
    pub fn scale(sx: f64, sy: f64) -> Self {
        Self::from_rows([sx, 0.0, 0.0], [0.0, sy, 0.0])
    }

    /// Rotation by `theta` radians about the origin (kwimage `Affine.rotate`:
    /// `[[cos, -sin, 0], [sin, cos, 0]]`).
    pub fn rotate(theta: f64) -> Self {
        let (s, c) = theta.sin_cos();
        Self::from_rows([c, -s, 0.0], [s, c, 0.0])
    }

    /// Shear parallel to the x axis: `x' = x + h·y`.
    pub fn shearx(h: f64) -> Self {
        Self::from_rows([1.0, h, 0.0], [0.0, 1.0, 0.0])
    }

    /// kwimage `Affine.affine(scale, offset, theta, shearx, about)`:
    /// `O · T · R · E · S · O⁻¹` (see [`AffineParams`]), with kwimage's
    /// closed form.
    pub fn from_params(p: &AffineParams) -> Self {
        let [sx, sy] = p.scale;
        let [tx, ty] = p.offset;
        let [x0, y0] = p.about;
        let (sin_t, cos_t) = p.theta.sin_cos();
        let sx_cos = sx * cos_t;
        let sx_sin = sx * sin_t;
        let sy_cos = sy * cos_t;
        let sy_sin = sy * sin_t;
        let a12 = p.shearx * sy_cos - sy_sin;
        let a22 = p.shearx * sy_sin + sy_cos;
        let tx_ = tx + x0 - (x0 * sx_cos) - (y0 * a12);
        let ty_ = ty + y0 - (x0 * sx_sin) - (y0 * a22);
        Self::from_rows([sx_cos, a12, tx_], [sx_sin, a22, ty_])
    }

    /// The 3×3 matrix.
    pub fn matrix(&self) -> [[f64; 3]; 3] {
        self.m
    }

    /// Apply `self` first, then `next` (returns `next * self`).
    pub fn then(&self, next: &Affine) -> Affine {
        *next * *self
    }

    /// Determinant of the linear part.
    pub fn det(&self) -> f64 {
        self.m[0][0] * self.m[1][1] - self.m[0][1] * self.m[1][0]
    }

    /// The inverse transform; an error when the matrix is singular.
    pub fn inverse(&self) -> Result<Affine> {
        let [[a, b, tx], [c, d, ty], _] = self.m;
        let det = a * d - b * c;
        let scale = a.abs().max(b.abs()).max(c.abs()).max(d.abs());
        if !det.is_finite() || det == 0.0 || det.abs() <= f64::EPSILON * scale * scale {
            return Err(GeometryError::Singular { det });
        }
        let ia = d / det;
        let ib = -b / det;
        let ic = -c / det;
        let id = a / det;
        Ok(Self::from_rows(
            [ia, ib, -(ia * tx + ib * ty)],
            [ic, id, -(ic * tx + id * ty)],
        ))
    }

    /// Apply to one point.
    #[inline]
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let [[a, b, tx], [c, d, ty], _] = self.m;
        [a * p[0] + b * p[1] + tx, c * p[0] + d * p[1] + ty]
    }

    /// Apply in place to many points (fast paths for identity, translation and
    /// axis-aligned scale + translation).
    pub fn apply_in_place(&self, pts: &mut [[f64; 2]]) {
        let [[a, b, tx], [c, d, ty], _] = self.m;
        if b == 0.0 && c == 0.0 {
            if a == 1.0 && d == 1.0 {
                if tx == 0.0 && ty == 0.0 {
                    return;
                }
                for p in pts {
                    p[0] += tx;
                    p[1] += ty;
                }
            } else {
                for p in pts {
                    p[0] = a * p[0] + tx;
                    p[1] = d * p[1] + ty;
                }
            }
        } else {
            for p in pts {
                *p = self.apply(*p);
            }
        }
    }

    /// `pts` transformed into a new vector: exactly what [`Affine::apply_in_place`]
    /// gives on a copy (the same fast paths), without copying first.
    ///
    /// ```
    /// use coco_geometry::Affine;
    /// let a = Affine::translate(1.0, 2.0);
    /// let pts = [[0.0, 0.0], [3.0, 4.0]];
    /// let mut copy = pts.to_vec();
    /// a.apply_in_place(&mut copy);
    /// assert_eq!(a.apply_to_vec(&pts), copy);
    /// ```
    pub fn apply_to_vec(&self, pts: &[[f64; 2]]) -> Vec<[f64; 2]> {
        let [[a, b, tx], [c, d, ty], _] = self.m;
        if b == 0.0 && c == 0.0 {
            if a == 1.0 && d == 1.0 {
                if tx == 0.0 && ty == 0.0 {
                    return pts.to_vec();
                }
                pts.iter().map(|p| [p[0] + tx, p[1] + ty]).collect()
            } else {
                pts.iter().map(|p| [a * p[0] + tx, d * p[1] + ty]).collect()
            }
        } else {
            pts.iter().map(|&p| self.apply(p)).collect()
        }
    }

    /// Every entry is finite (no NaN or infinity): the transform can be applied.
    ///
    /// ```
    /// use coco_geometry::Affine;
    /// assert!(Affine::scale(2.0, 3.0).is_finite());
    /// assert!(!Affine::scale(f64::INFINITY, 1.0).is_finite());
    /// ```
    pub fn is_finite(&self) -> bool {
        self.m.iter().flatten().all(|v| v.is_finite())
    }

    /// Exactly the identity.
    pub fn is_identity(&self) -> bool {
        self.m == Self::IDENTITY.m
    }

    /// Within `tol` of the identity, entry by entry.
    pub fn is_close_identity(&self, tol: f64) -> bool {
        self.m
            .iter()
            .flatten()
            .zip(Self::IDENTITY.m.iter().flatten())
            .all(|(x, y)| (x - y).abs() <= tol)
    }

    /// Only scale and translation (no rotation or shear): boxes stay boxes.
    pub fn is_axis_aligned(&self) -> bool {
        self.m[0][1] == 0.0 && self.m[1][0] == 0.0
    }

    /// `Some((tx, ty))` when the transform is a translation by whole pixels
    /// (within 1e-9), so a window can be copied without resampling.
    ///
    /// ```
    /// use coco_geometry::Affine;
    /// assert_eq!(Affine::translate(3.0, -2.0).integer_translation(), Some((3, -2)));
    /// assert_eq!(Affine::translate(3.5, 0.0).integer_translation(), None);
    /// ```
    pub fn integer_translation(&self) -> Option<(i64, i64)> {
        let [[a, b, tx], [c, d, ty], _] = self.m;
        let linear_identity =
            (a - 1.0).abs() < NEAR && b.abs() < NEAR && c.abs() < NEAR && (d - 1.0).abs() < NEAR;
        let whole = |t: f64| (t - t.round()).abs() < NEAR && t.abs() < I64_EXACT;
        (linear_identity && whole(tx) && whole(ty)).then(|| (tx.round() as i64, ty.round() as i64))
    }

    /// `Some((sx, tx, sy, ty))` when the transform is `x' = sx·x + tx`,
    /// `y' = sy·y + ty` with positive scales (no rotation, shear or flip, within
    /// 1e-9): a separable resampling suffices.
    ///
    /// ```
    /// use coco_geometry::Affine;
    /// assert_eq!(Affine::scale(2.0, 3.0).scale_translation(), Some((2.0, 0.0, 3.0, 0.0)));
    /// assert_eq!(Affine::scale(-1.0, 1.0).scale_translation(), None);
    /// assert_eq!(Affine::rotate(0.5).scale_translation(), None);
    /// ```
    pub fn scale_translation(&self) -> Option<(f64, f64, f64, f64)> {
        let [[a, b, tx], [c, d, ty], _] = self.m;
        (b.abs() < NEAR && c.abs() < NEAR && a > 0.0 && d > 0.0).then_some((a, tx, d, ty))
    }

    /// How much a unit step along source x and along source y grows in the
    /// output (the column norms of the linear part): below 1 means
    /// downscaling along that axis.
    ///
    /// ```
    /// use coco_geometry::Affine;
    /// assert_eq!(Affine::scale(0.5, 4.0).axis_scales(), (0.5, 4.0));
    /// ```
    pub fn axis_scales(&self) -> (f64, f64) {
        let [[a, b, _], [c, d, _], _] = self.m;
        (a.hypot(c), b.hypot(d))
    }

    /// kwimage `Affine.decompose`: the `scale`, `offset`, `theta` and `shearx`
    /// that [`Affine::from_params`] maps back to this matrix (`about` is 0).
    pub fn decompose(&self) -> AffineParams {
        let [[a11, a12, a13], [a21, a22, a23], _] = self.m;
        let sx = (a11 * a11 + a21 * a21).sqrt();
        let theta = a21.atan2(a11);
        let (sin_t, cos_t) = theta.sin_cos();
        let msy = a12 * cos_t + a22 * sin_t;
        let sy = if cos_t.abs() < sin_t.abs() {
            (msy * cos_t - a12) / sin_t
        } else {
            (a22 - msy * sin_t) / cos_t
        };
        let shearx = msy / sy;
        AffineParams {
            scale: [sx, sy],
            offset: [a13, a23],
            theta,
            shearx,
            about: [0.0, 0.0],
        }
    }
}

impl Mul for Affine {
    type Output = Affine;
    /// Matrix product: `(a * b).apply(p) == a.apply(b.apply(p))`.
    fn mul(self, o: Affine) -> Affine {
        let a = &self.m;
        let b = &o.m;
        let mut r = [[0.0; 3]; 3];
        for (i, row) in r.iter_mut().enumerate().take(2) {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
            }
        }
        r[2] = [0.0, 0.0, 1.0];
        Affine { m: r }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use std::f64::consts::FRAC_PI_2;

    fn close(a: &Affine, b: &Affine) -> bool {
        a.m.iter()
            .flatten()
            .zip(b.m.iter().flatten())
            .all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn rotate_quarter_turn() {
        let r = Affine::rotate(FRAC_PI_2);
        let p = r.apply([1.0, 0.0]);
        assert_relative_eq!(p[0], 0.0, epsilon = 1e-12);
        assert_relative_eq!(p[1], 1.0, epsilon = 1e-12);
    }

    #[test]
    fn params_match_component_product() {
        // kwimage doctest: F == O @ T @ R @ E @ S @ O.inv()
        let p = AffineParams {
            scale: [2.0, 3.0],
            offset: [5.0, -7.0],
            theta: 0.3,
            shearx: 0.4,
            about: [10.0, 20.0],
        };
        let f = Affine::from_params(&p);
        let o = Affine::translate(10.0, 20.0);
        let alt = o
            * Affine::translate(5.0, -7.0)
            * Affine::rotate(0.3)
            * Affine::shearx(0.4)
            * Affine::scale(2.0, 3.0)
            * o.inverse().unwrap();
        assert!(close(&f, &alt), "{f:?} vs {alt:?}");
    }

    #[test]
    fn scale_about_point_keeps_that_point() {
        let f = Affine::from_params(&AffineParams {
            scale: [4.0, 4.0],
            about: [3.0, 2.0],
            ..Default::default()
        });
        assert_eq!(f.apply([3.0, 2.0]), [3.0, 2.0]);
        assert_eq!(f.apply([4.0, 2.0]), [7.0, 2.0]);
    }

    #[test]
    fn decompose_recovers_params() {
        let p = AffineParams {
            scale: [3.05, 3.07],
            offset: [10.5, 12.1],
            theta: 0.7,
            shearx: 0.25,
            about: [0.0, 0.0],
        };
        let f = Affine::from_params(&p);
        let d = f.decompose();
        assert_relative_eq!(d.scale[0], 3.05, epsilon = 1e-12);
        assert_relative_eq!(d.scale[1], 3.07, epsilon = 1e-12);
        assert_relative_eq!(d.theta, 0.7, epsilon = 1e-12);
        assert_relative_eq!(d.shearx, 0.25, epsilon = 1e-12);
        assert_eq!(d.offset, [10.5, 12.1]);
        assert!(close(&Affine::from_params(&d), &f));
    }

    #[test]
    fn inverse_and_singular() {
        let f = Affine::from_params(&AffineParams {
            scale: [2.0, 0.5],
            offset: [3.0, 4.0],
            theta: 1.0,
            ..Default::default()
        });
        assert!((f * f.inverse().unwrap()).is_close_identity(1e-12));
        let e = Affine::scale(0.0, 1.0).inverse().unwrap_err();
        assert!(matches!(e, GeometryError::Singular { .. }));
    }

    #[test]
    fn composition_order() {
        let s = Affine::scale(2.0, 3.0);
        let t = Affine::translate(1.0, 1.0);
        assert_eq!((t * s).apply([1.0, 1.0]), [3.0, 4.0]);
        assert_eq!((s * t).apply([1.0, 1.0]), [4.0, 6.0]);
        assert_eq!(s.then(&t), t * s);
    }

    #[test]
    fn flags() {
        assert!(Affine::identity().is_identity());
        assert!(!Affine::translate(1.0, 0.0).is_identity());
        assert!((Affine::scale(2.0, 3.0) * Affine::translate(1.0, 1.0)).is_axis_aligned());
        assert!(!Affine::rotate(0.1).is_axis_aligned());
        assert!(Affine::from_matrix([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.1, 0.0, 1.0]]).is_err());
    }

    #[test]
    fn apply_in_place_fast_paths_agree() {
        for f in [
            Affine::identity(),
            Affine::translate(1.5, -2.0),
            Affine::scale(2.0, 0.5) * Affine::translate(1.0, 1.0),
            Affine::rotate(0.4),
        ] {
            let mut pts = [[1.0, 2.0], [-3.0, 0.5]];
            f.apply_in_place(&mut pts);
            assert_eq!(pts, [f.apply([1.0, 2.0]), f.apply([-3.0, 0.5])]);
        }
    }

    #[test]
    fn detects_special_forms() {
        assert_eq!(
            Affine::translate(3.0, -2.0).integer_translation(),
            Some((3, -2))
        );
        assert_eq!(Affine::translate(3.5, -2.0).integer_translation(), None);
        assert_eq!(Affine::translate(1e300, 0.0).integer_translation(), None);
        assert_eq!(Affine::scale(2.0, 1.0).integer_translation(), None);
        assert_eq!(
            Affine::scale(2.0, 3.0).scale_translation(),
            Some((2.0, 0.0, 3.0, 0.0))
        );
        assert_eq!(Affine::rotate(FRAC_PI_2).scale_translation(), None);
        assert_eq!(Affine::scale(1.0, -1.0).scale_translation(), None);
        let (sx, sy) = (Affine::rotate(0.3) * Affine::scale(2.0, 0.5)).axis_scales();
        assert_relative_eq!(sx, 2.0, epsilon = 1e-12);
        assert_relative_eq!(sy, 0.5, epsilon = 1e-12);
    }

    proptest::proptest! {
        #[test]
        fn inverse_roundtrips(a in 0.1f64..5.0, b in -2.0f64..2.0, c in -2.0f64..2.0, d in 0.1f64..5.0,
                              tx in -100.0f64..100.0, ty in -100.0f64..100.0, x in -50.0f64..50.0, y in -50.0f64..50.0) {
            proptest::prop_assume!((a * d - b * c).abs() > 0.05);
            let m = Affine::from_rows([a, b, tx], [c, d, ty]);
            let inv = m.inverse().unwrap();
            let q = inv.apply(m.apply([x, y]));
            proptest::prop_assert!((q[0] - x).abs() < 1e-6 && (q[1] - y).abs() < 1e-6);
            proptest::prop_assert_eq!((m * inv).integer_translation(), Some((0, 0)));
        }
    }
}
