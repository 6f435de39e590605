//! Seeded random streams: every random choice of the crate is a pure function
//! of `(seed, epoch, stream)`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A deterministic RNG for `(seed, epoch, stream)`; `stream` separates uses.
pub fn rng_for(seed: u64, epoch: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream);
    rng
}
