//! Random affine augmentation drawn per sample from `(seed, epoch, index)`.
//!
//! A [`RandomAffine`] describes the ranges (zoom, rotation, flips,
//! translation jitter); [`RandomAffine::draw`] picks one [`AffineDraw`] for
//! sample `index` of epoch `epoch`, the same in every process and whatever
//! the number of workers; [`AffineDraw::matrix`] is that draw as an
//! output-space affine about the window's centre (`out_from_window`: the
//! un-augmented window's pixels → the augmented window's pixels).
//!
//! Composed into a sample's warp (`sample_from_img.then(&out_from_window)`),
//! pixels are read from the image itself (context, not padding) and the
//! annotations follow the same matrix; [`source_box`] is the region of the
//! un-augmented window that the augmented output sees (where to look up
//! annotations). The sampler does not apply it yet (see the crate README /
//! issue 25): this module is the deterministic, tested half.
//!
//! ```
//! use sampler::augment::RandomAffine;
//! let aug = RandomAffine { rotation_deg: 30.0, hflip: 0.5, ..RandomAffine::default() };
//! let d = aug.draw(7, 0, 12).unwrap();
//! assert_eq!(d, aug.draw(7, 0, 12).unwrap()); // a pure function of (seed, epoch, index)
//! let m = d.matrix(64, 64);
//! // the window's centre stays put (no translation jitter asked)
//! let c = m.apply([32.0, 32.0]);
//! assert!((c[0] - 32.0).abs() < 1e-9 && (c[1] - 32.0).abs() < 1e-9);
//! ```

use coco_model::geometry::{Affine, BBox};
use rand::Rng;

use crate::error::{Result, TrainingError};

/// Stream of the augmentation draws (apart from the plans' streams).
const STREAM_AUGMENT: u64 = 0x4155_4741;

/// Ranges of a random affine augmentation. The default is the identity.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomAffine {
    /// Zoom factor drawn log-uniformly in `[lo, hi]` (`> 0`; `[1, 1]`: none).
    /// Above 1 the content looks larger.
    pub scale: [f64; 2],
    /// Rotation drawn uniformly in `[-r, r]` degrees.
    pub rotation_deg: f64,
    /// Probability of a horizontal flip (mirror left–right).
    pub hflip: f64,
    /// Probability of a vertical flip.
    pub vflip: f64,
    /// Translation drawn uniformly in `[-t, t]` times the output size, per
    /// axis `[ty, tx]`.
    pub translate: [f64; 2],
}

impl Default for RandomAffine {
    fn default() -> Self {
        RandomAffine {
            scale: [1.0, 1.0],
            rotation_deg: 0.0,
            hflip: 0.0,
            vflip: 0.0,
            translate: [0.0, 0.0],
        }
    }
}

/// One draw of a [`RandomAffine`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AffineDraw {
    /// Zoom factor.
    pub scale: f64,
    /// Rotation in radians (positive turns clockwise on screen, y down).
    pub theta: f64,
    /// Mirrored left–right.
    pub hflip: bool,
    /// Mirrored top–bottom.
    pub vflip: bool,
    /// Translation `[ty, tx]` as fractions of the output size.
    pub translate: [f64; 2],
}

fn bad(option: &'static str, msg: String) -> crate::Error {
    TrainingError::BadOption { option, msg }.into()
}

impl RandomAffine {
    /// Check the ranges.
    ///
    /// Errors: [`TrainingError::BadOption`] naming the field: a scale range
    /// not `0 < lo <= hi` and finite, a rotation or translation not finite
    /// and `>= 0`, a probability outside `[0, 1]`.
    pub fn validate(&self) -> Result<()> {
        let [lo, hi] = self.scale;
        if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) {
            return Err(bad(
                "scale",
                format!("{:?} must satisfy 0 < lo <= hi", self.scale),
            ));
        }
        if !(self.rotation_deg.is_finite() && self.rotation_deg >= 0.0) {
            return Err(bad(
                "rotation_deg",
                format!("{} must be finite and >= 0", self.rotation_deg),
            ));
        }
        for (name, p) in [("hflip", self.hflip), ("vflip", self.vflip)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(bad(name, format!("probability {p} is not in [0, 1]")));
            }
        }
        if self.translate.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(bad(
                "translate",
                format!("{:?} must be finite and >= 0", self.translate),
            ));
        }
        Ok(())
    }

    /// The draw of sample `index` in epoch `epoch`: a pure function of
    /// `(seed, epoch, index)`.
    ///
    /// Errors: as [`RandomAffine::validate`].
    pub fn draw(&self, seed: u64, epoch: u64, index: u64) -> Result<AffineDraw> {
        self.validate()?;
        let mut rng = crate::rng::rng_for(
            seed,
            epoch,
            STREAM_AUGMENT ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03),
        );
        // always draw every value (fixed stream layout whatever the ranges)
        let (u_scale, u_rot, u_h, u_v, u_ty, u_tx): (f64, f64, f64, f64, f64, f64) = (
            rng.random(),
            rng.random(),
            rng.random(),
            rng.random(),
            rng.random(),
            rng.random(),
        );
        let [lo, hi] = self.scale;
        let scale = (lo.ln() + u_scale * (hi.ln() - lo.ln())).exp();
        let theta = (2.0 * u_rot - 1.0) * self.rotation_deg.to_radians();
        Ok(AffineDraw {
            scale,
            theta,
            hflip: u_h < self.hflip,
            vflip: u_v < self.vflip,
            translate: [
                (2.0 * u_ty - 1.0) * self.translate[0],
                (2.0 * u_tx - 1.0) * self.translate[1],
            ],
        })
    }
}

impl AffineDraw {
    /// The draw as an affine of an `out_h × out_w` window's pixel space:
    /// flips, zoom and rotation about the window's centre, then the
    /// translation.
    pub fn matrix(&self, out_h: usize, out_w: usize) -> Affine {
        let (cx, cy) = (out_w as f64 / 2.0, out_h as f64 / 2.0);
        let fx = if self.hflip { -1.0 } else { 1.0 };
        let fy = if self.vflip { -1.0 } else { 1.0 };
        Affine::translate(-cx, -cy)
            .then(&Affine::scale(fx * self.scale, fy * self.scale))
            .then(&Affine::rotate(self.theta))
            .then(&Affine::translate(
                cx + self.translate[1] * out_w as f64,
                cy + self.translate[0] * out_h as f64,
            ))
    }
}

/// The box, in the un-augmented window's pixel space, that an
/// `out_h × out_w` output warped by `out_from_window` sees: where its pixels
/// and annotations come from.
///
/// Errors: [`TrainingError::BadOption`] for a singular matrix.
pub fn source_box(out_from_window: &Affine, out_h: usize, out_w: usize) -> Result<BBox> {
    let inv = out_from_window
        .inverse()
        .map_err(|e| bad("augmentation", e.to_string()))?;
    let (w, h) = (out_w as f64, out_h as f64);
    let corners = [[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]].map(|p| inv.apply(p));
    BBox::from_points(&corners).ok_or_else(|| bad("augmentation", "no corners".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full() -> RandomAffine {
        RandomAffine {
            scale: [0.5, 2.0],
            rotation_deg: 180.0,
            hflip: 0.5,
            vflip: 0.5,
            translate: [0.2, 0.3],
        }
    }

    #[test]
    fn default_is_the_identity() {
        let d = RandomAffine::default().draw(1, 2, 3).unwrap();
        assert!(d.matrix(40, 30).is_close_identity(1e-12));
        assert_eq!(
            source_box(&d.matrix(40, 30), 40, 30).unwrap(),
            BBox::new(0.0, 0.0, 30.0, 40.0)
        );
    }

    #[test]
    fn draws_depend_on_seed_epoch_and_index_only() {
        let a = full();
        assert_eq!(a.draw(5, 1, 9).unwrap(), a.clone().draw(5, 1, 9).unwrap());
        assert_ne!(a.draw(5, 1, 9).unwrap(), a.draw(5, 1, 10).unwrap());
        assert_ne!(a.draw(5, 1, 9).unwrap(), a.draw(5, 2, 9).unwrap());
        assert_ne!(a.draw(5, 1, 9).unwrap(), a.draw(6, 1, 9).unwrap());
        // flips come at about their probability
        let n = 2000;
        let flips = (0..n).filter(|&i| a.draw(0, 0, i).unwrap().hflip).count();
        assert!((flips as f64 / n as f64 - 0.5).abs() < 0.05, "{flips}");
    }

    #[test]
    fn bad_ranges_name_their_field() {
        for (aug, field) in [
            (
                RandomAffine {
                    scale: [0.0, 1.0],
                    ..RandomAffine::default()
                },
                "scale",
            ),
            (
                RandomAffine {
                    scale: [2.0, 1.0],
                    ..RandomAffine::default()
                },
                "scale",
            ),
            (
                RandomAffine {
                    rotation_deg: f64::NAN,
                    ..RandomAffine::default()
                },
                "rotation_deg",
            ),
            (
                RandomAffine {
                    hflip: 1.5,
                    ..RandomAffine::default()
                },
                "hflip",
            ),
            (
                RandomAffine {
                    translate: [-0.1, 0.0],
                    ..RandomAffine::default()
                },
                "translate",
            ),
        ] {
            let e = aug.draw(0, 0, 0).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
    }

    #[test]
    fn a_horizontal_flip_mirrors_about_the_centre() {
        let d = AffineDraw {
            scale: 1.0,
            theta: 0.0,
            hflip: true,
            vflip: false,
            translate: [0.0, 0.0],
        };
        let m = d.matrix(10, 20);
        assert_eq!(m.apply([0.0, 3.0]), [20.0, 3.0]);
        assert_eq!(m.apply([5.0, 7.0]), [15.0, 7.0]);
        assert!(m.det() < 0.0);
    }

    proptest! {
        /// Round trips: the matrix inverts back to the identity; it moves the
        /// centre by exactly the translation; distances from the centre scale
        /// by the zoom (rotation and flips keep them); the source box holds
        /// the preimage of every output pixel centre.
        #[test]
        fn matrix_round_trips(seed in 0u64..1000, index in 0u64..1000, h in 1usize..300, w in 1usize..300,
                              px in 0.0f64..1.0, py in 0.0f64..1.0) {
            let d = full().draw(seed, 0, index).unwrap();
            let m = d.matrix(h, w);
            let inv = m.inverse().unwrap();
            prop_assert!(m.then(&inv).is_close_identity(1e-9));
            let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
            let c = m.apply([cx, cy]);
            prop_assert!((c[0] - cx - d.translate[1] * w as f64).abs() < 1e-9);
            prop_assert!((c[1] - cy - d.translate[0] * h as f64).abs() < 1e-9);
            let p = [px * w as f64, py * h as f64];
            let q = m.apply(p);
            let dist = |a: [f64; 2], b: [f64; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
            prop_assert!((dist(q, c) - d.scale * dist(p, [cx, cy])).abs() < 1e-6);
            let b = source_box(&m, h, w).unwrap();
            let out = [px * w as f64, py * h as f64];
            let src = inv.apply(out);
            let [l, t, r, bt] = b.ltrb();
            prop_assert!(src[0] >= l - 1e-9 && src[0] <= r + 1e-9 && src[1] >= t - 1e-9 && src[1] <= bt + 1e-9);
        }
    }
}
