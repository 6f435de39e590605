//! [`Affine`]: a 3×3 homogeneous 2-D affine transform in pixel-edge coordinates
//! (pixel `(x, y)` covers `[x, x+1) × [y, y+1)`), as kwcoco's `warp_*` fields.

use crate::error::{Error, Result};

/// A 2-D affine transform `[[a, b, tx], [c, d, ty], [0, 0, 1]]` mapping `(x, y)`
/// column vectors.
///
/// ```
/// use frame_backends::Affine;
/// let a = Affine::scale(2.0, 2.0).then(&Affine::translate(-3.0, 1.0));
/// assert_eq!(a.apply(1.0, 1.0), (-1.0, 3.0));
/// let back = a.inverse().unwrap();
/// let (x, y) = back.apply(-1.0, 3.0);
/// assert!((x - 1.0).abs() < 1e-12 && (y - 1.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [[f64; 3]; 3]);

impl Default for Affine {
    fn default() -> Self {
        Affine::IDENTITY
    }
}

const EPS: f64 = 1e-9;

impl Affine {
    /// The identity.
    pub const IDENTITY: Affine = Affine([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);

    /// A translation by `(tx, ty)`.
    pub fn translate(tx: f64, ty: f64) -> Affine {
        Affine([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])
    }

    /// A scale about the origin.
    pub fn scale(sx: f64, sy: f64) -> Affine {
        Affine([[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]])
    }

    /// From the 6 numbers `[a, b, tx, c, d, ty]`.
    pub fn from_rows6(m: [f64; 6]) -> Affine {
        Affine([[m[0], m[1], m[2]], [m[3], m[4], m[5]], [0.0, 0.0, 1.0]])
    }

    /// `self · other`: apply `other` first, then `self`.
    pub fn compose(&self, other: &Affine) -> Affine {
        let (a, b) = (&self.0, &other.0);
        let mut m = [[0.0; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
            }
        }
        Affine(m)
    }

    /// Apply `self` first, then `next` (`next · self`).
    pub fn then(&self, next: &Affine) -> Affine {
        next.compose(self)
    }

    /// Map a point.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.0;
        (
            m[0][0] * x + m[0][1] * y + m[0][2],
            m[1][0] * x + m[1][1] * y + m[1][2],
        )
    }

    /// The inverse; an error when the transform is singular or not affine.
    pub fn inverse(&self) -> Result<Affine> {
        let m = &self.0;
        if m[2][0].abs() > EPS || m[2][1].abs() > EPS || (m[2][2] - 1.0).abs() > EPS {
            return Err(Error::invalid(format!("transform {m:?} is not affine")));
        }
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        if !det.is_finite() || det.abs() < 1e-12 {
            return Err(Error::invalid(format!("transform {m:?} is singular")));
        }
        let (a, b, c, d) = (m[1][1] / det, -m[0][1] / det, -m[1][0] / det, m[0][0] / det);
        let tx = -(a * m[0][2] + b * m[1][2]);
        let ty = -(c * m[0][2] + d * m[1][2]);
        Ok(Affine([[a, b, tx], [c, d, ty], [0.0, 0.0, 1.0]]))
    }

    /// `Some((tx, ty))` when the transform is a translation by whole pixels.
    pub fn integer_translation(&self) -> Option<(i64, i64)> {
        let m = &self.0;
        let lin_id = (m[0][0] - 1.0).abs() < EPS
            && m[0][1].abs() < EPS
            && m[1][0].abs() < EPS
            && (m[1][1] - 1.0).abs() < EPS;
        let (tx, ty) = (m[0][2], m[1][2]);
        (lin_id && (tx - tx.round()).abs() < EPS && (ty - ty.round()).abs() < EPS)
            .then(|| (tx.round() as i64, ty.round() as i64))
    }

    /// `Some((sx, tx, sy, ty))` when the transform is `x' = sx·x + tx`,
    /// `y' = sy·y + ty` with positive scales (no rotation, shear or flip).
    pub fn axis_aligned(&self) -> Option<(f64, f64, f64, f64)> {
        let m = &self.0;
        (m[0][1].abs() < EPS && m[1][0].abs() < EPS && m[0][0] > 0.0 && m[1][1] > 0.0)
            .then(|| (m[0][0], m[0][2], m[1][1], m[1][2]))
    }

    /// How much a unit step along source x and y grows in the output (the column
    /// norms of the linear part): below 1 means downscaling along that axis.
    pub fn axis_scales(&self) -> (f64, f64) {
        let m = &self.0;
        (m[0][0].hypot(m[1][0]), m[0][1].hypot(m[1][1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn detects_special_forms() {
        assert_eq!(
            Affine::translate(3.0, -2.0).integer_translation(),
            Some((3, -2))
        );
        assert_eq!(Affine::translate(3.5, -2.0).integer_translation(), None);
        assert_eq!(
            Affine::scale(2.0, 3.0).axis_aligned(),
            Some((2.0, 0.0, 3.0, 0.0))
        );
        let rot = Affine::from_rows6([0.0, -1.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(rot.axis_aligned(), None);
        assert!(Affine::scale(0.0, 1.0).inverse().is_err());
    }

    proptest! {
        #[test]
        fn inverse_roundtrips(a in 0.1f64..5.0, b in -2.0f64..2.0, c in -2.0f64..2.0, d in 0.1f64..5.0,
                              tx in -100.0f64..100.0, ty in -100.0f64..100.0, x in -50.0f64..50.0, y in -50.0f64..50.0) {
            let m = Affine::from_rows6([a, b, tx, c, d, ty]);
            prop_assume!((a * d - b * c).abs() > 0.05);
            let inv = m.inverse().unwrap();
            let (px, py) = m.apply(x, y);
            let (qx, qy) = inv.apply(px, py);
            prop_assert!((qx - x).abs() < 1e-6 && (qy - y).abs() < 1e-6);
            let id = m.compose(&inv);
            prop_assert!(id.integer_translation() == Some((0, 0)));
        }
    }
}
