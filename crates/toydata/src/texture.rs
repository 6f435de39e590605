//! Image-like texture: multi-octave value noise.
//!
//! A lattice of hashed values per octave, interpolated with a smoothstep; octaves
//! from coarse (hundreds of pixels) to fine (a few pixels) with decreasing
//! amplitude give the 1/f-like spectrum of natural imagery, so the PNG
//! compression ratio resembles photographs (neither constant nor white noise).
//! Every pixel depends only on its position and the field's seed, so rows can be
//! computed on any thread in any order.

use crate::rng::{hash_uniform, mix64};

/// One octave of value noise.
#[derive(Clone, Debug)]
struct Octave {
    period: u32,
    amp: f32,
    seed: u64,
    /// Smoothstep weight of each pixel offset inside a lattice cell, times `amp`
    /// is applied separately.
    weights: Vec<f32>,
}

/// A multi-octave value-noise field with values in about `[0, 1]`.
#[derive(Clone, Debug)]
pub(crate) struct ValueNoise {
    octaves: Vec<Octave>,
    norm: f32,
}

#[inline]
fn smooth(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

impl ValueNoise {
    /// Octaves with periods `coarsest, coarsest/2, …, finest` (`coarsest` is
    /// rounded up to a power of two) and amplitudes multiplied by `persistence`
    /// at each halving.
    pub(crate) fn new(seed: u64, coarsest: u32, finest: u32, persistence: f32) -> Self {
        let mut octaves = Vec::new();
        let (mut period, mut amp) = (coarsest.max(1).next_power_of_two(), 1.0f32);
        let mut norm = 0.0;
        let mut k = 0u64;
        loop {
            let weights = (0..period)
                .map(|o| smooth((o as f32 + 0.5) / period as f32))
                .collect();
            octaves.push(Octave {
                period,
                amp,
                seed: mix64(seed ^ k.wrapping_mul(0xA076_1D64_78BD_642F)),
                weights,
            });
            norm += amp;
            if period <= finest.max(1) || period == 1 {
                break;
            }
            period /= 2;
            amp *= persistence;
            k += 1;
        }
        ValueNoise {
            octaves,
            norm: 1.0 / norm,
        }
    }

    #[inline]
    fn lattice(seed: u64, i: u32, j: u32) -> f32 {
        hash_uniform(seed, (u64::from(j) << 32) | u64::from(i))
    }

    /// Values of row `y`, columns `0..out.len()`, written into `out`.
    pub(crate) fn row(&self, y: u32, out: &mut [f32], scratch: &mut Vec<f32>) {
        out.fill(0.0);
        let width = out.len() as u32;
        for o in &self.octaves {
            let p = o.period;
            let j0 = y / p;
            let sy = smooth(((y % p) as f32 + 0.5) / p as f32);
            let ncols = (width / p + 2) as usize;
            scratch.clear();
            scratch.extend((0..ncols as u32).map(|i| {
                let a = Self::lattice(o.seed, i, j0);
                let b = Self::lattice(o.seed, i, j0 + 1);
                a + (b - a) * sy
            }));
            // one lattice cell at a time: out[x] += amp * lerp(a, b, w[x % p])
            let pw = p as usize;
            for (cell, chunk) in out.chunks_mut(pw).enumerate() {
                let a = o.amp * scratch[cell];
                let d = o.amp * scratch[cell + 1] - a;
                for (v, w) in chunk.iter_mut().zip(&o.weights) {
                    *v += a + d * w;
                }
            }
        }
        for v in out.iter_mut() {
            *v *= self.norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bounded_smooth_and_deterministic() {
        let n = ValueNoise::new(42, 64, 4, 0.5);
        let mut scratch = Vec::new();
        let mut a = vec![0.0; 300];
        let mut b = vec![0.0; 300];
        n.row(17, &mut a, &mut scratch);
        n.row(17, &mut b, &mut scratch);
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        // neighbours are close (smooth), distant pixels differ (not constant)
        let max_step = a
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        assert!(max_step < 0.2, "{max_step}");
        let range =
            a.iter().cloned().fold(f32::MIN, f32::max) - a.iter().cloned().fold(f32::MAX, f32::min);
        assert!(range > 0.1, "{range}");
        let mut c = vec![0.0; 300];
        ValueNoise::new(43, 64, 4, 0.5).row(17, &mut c, &mut scratch);
        assert_ne!(a, c);
    }
}
