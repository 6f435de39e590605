//! A byte-budgeted LRU of decoded chunks (tiles, strips, whole small images),
//! shared by every thread and every raster of a reader.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use lru::LruCache;
use parking_lot::Mutex;

use crate::error::Result;
use crate::window::Window;

/// Identifies a decoded chunk: the raster's unique id, its level, the chunk index.
pub(crate) type ChunkKey = (u64, u32, u64);

const SHARDS: usize = 16;

struct Shard {
    lru: LruCache<ChunkKey, Arc<Window>>,
    bytes: usize,
}

/// Counters of a [`ChunkCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkCacheStats {
    /// Lookups served from the cache.
    pub hits: u64,
    /// Lookups that had to decode.
    pub misses: u64,
}

/// Decoded chunks kept in memory up to a byte budget, least recently used evicted
/// first. Sharded by key so threads rarely contend; the budget is global (one
/// decoded whole image may use all of it), and eviction starts in the inserting
/// shard and moves on to the next ones, so the order is LRU per shard. A chunk
/// larger than the whole budget is decoded and returned but not kept.
pub struct ChunkCache {
    shards: Vec<Mutex<Shard>>,
    budget: usize,
    total: AtomicUsize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for ChunkCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkCache")
            .field("budget", &self.budget)
            .field("stats", &self.stats())
            .finish()
    }
}

impl ChunkCache {
    /// A cache holding at most about `budget_bytes` of decoded pixels.
    pub fn new(budget_bytes: usize) -> ChunkCache {
        ChunkCache {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        lru: LruCache::unbounded(),
                        bytes: 0,
                    })
                })
                .collect(),
            budget: budget_bytes,
            total: AtomicUsize::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Hit and miss counts so far.
    pub fn stats(&self) -> ChunkCacheStats {
        ChunkCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Bytes currently held.
    pub fn bytes(&self) -> usize {
        self.shards.iter().map(|s| s.lock().bytes).sum()
    }

    fn shard_index(&self, key: &ChunkKey) -> usize {
        let h = xxhash_rust::xxh3::xxh3_64(
            &[
                key.0.to_le_bytes(),
                (key.1 as u64).to_le_bytes(),
                key.2.to_le_bytes(),
            ]
            .concat(),
        );
        (h as usize) % SHARDS
    }

    /// Whether `key` is held now (without touching its recency or the counters).
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn contains(&self, key: &ChunkKey) -> bool {
        self.shards[self.shard_index(key)].lock().lru.contains(key)
    }

    /// The chunk under `key`, decoding it with `decode` on a miss. The decode runs
    /// without holding any lock (two threads missing the same chunk at the same
    /// instant may both decode it; the cache then keeps one).
    pub(crate) fn get_or_decode(
        &self,
        key: ChunkKey,
        decode: impl FnOnce() -> Result<Window>,
    ) -> Result<Arc<Window>> {
        let home = self.shard_index(&key);
        let shard = &self.shards[home];
        if let Some(w) = shard.lock().lru.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(w.clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let w = Arc::new(decode()?);
        let size = w.nbytes();
        if size <= self.budget {
            {
                let mut s = shard.lock();
                if let Some(old) = s.lru.put(key, w.clone()) {
                    s.bytes -= old.nbytes();
                    self.total.fetch_sub(old.nbytes(), Ordering::Relaxed);
                }
                s.bytes += size;
                self.total.fetch_add(size, Ordering::Relaxed);
            }
            self.evict(home, key);
        }
        Ok(w)
    }

    /// Evict least recently used chunks, from shard `home` on, until the total is
    /// within the budget; never the chunk `keep` that was just inserted.
    fn evict(&self, home: usize, keep: ChunkKey) {
        for i in 0..SHARDS {
            if self.total.load(Ordering::Relaxed) <= self.budget {
                return;
            }
            let mut s = self.shards[(home + i) % SHARDS].lock();
            while self.total.load(Ordering::Relaxed) > self.budget {
                match s.lru.peek_lru() {
                    Some((k, _)) if *k != keep => {}
                    _ => break,
                }
                if let Some((_, old)) = s.lru.pop_lru() {
                    s.bytes -= old.nbytes();
                    self.total.fetch_sub(old.nbytes(), Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn budget_is_respected_and_hits_counted() {
        let c = ChunkCache::new(16 * 1000);
        let mk = || Ok(Window::filled(DType::U8, (10, 10, 1)));
        for i in 0..200u64 {
            c.get_or_decode((1, 0, i), mk).unwrap();
        }
        assert!(c.bytes() <= 16 * 1000, "{}", c.bytes());
        assert_eq!(c.stats().misses, 200);
        // The most recent key is still there.
        let mut decoded = false;
        c.get_or_decode((1, 0, 199), || {
            decoded = true;
            mk()
        })
        .unwrap();
        assert!(!decoded);
        assert_eq!(c.stats().hits, 1);
    }

    #[test]
    fn one_chunk_may_use_the_whole_budget() {
        // A decoded whole image larger than budget / 16 must still be cached.
        let c = ChunkCache::new(16_000);
        let big = || Ok(Window::filled(DType::U8, (100, 100, 1)));
        c.get_or_decode((1, 0, 0), big).unwrap();
        c.get_or_decode((1, 0, 0), big).unwrap();
        assert_eq!(c.stats().hits, 1);
        assert_eq!(c.bytes(), 10_000);
        // A second one evicts the first to stay within the budget.
        c.get_or_decode((2, 0, 0), big).unwrap();
        assert_eq!(c.bytes(), 10_000);
        let mut decoded = false;
        c.get_or_decode((2, 0, 0), || {
            decoded = true;
            big()
        })
        .unwrap();
        assert!(!decoded);
    }

    #[test]
    fn too_large_is_not_kept() {
        let c = ChunkCache::new(1600);
        c.get_or_decode((1, 0, 0), || Ok(Window::filled(DType::U8, (100, 100, 1))))
            .unwrap();
        assert_eq!(c.bytes(), 0);
    }

    /// A chunk whose every pixel encodes its key, so a torn or swapped entry shows.
    fn chunk_of(key: ChunkKey, side: usize) -> Window {
        let v = (key.0 * 1_000_000 + u64::from(key.1) * 1_000 + key.2) as f64;
        Window::from(ndarray::Array3::from_shape_fn(
            (side, side, 1),
            |(y, x, _)| v + (y * side + x) as f64 / 1e4,
        ))
    }

    #[test]
    fn many_threads_get_their_own_chunks_and_every_lookup_counts() {
        use std::sync::atomic::AtomicU64;
        // 8 × 8 × f64 = 512 bytes a chunk; the budget holds 40 of the 96 keys,
        // so threads evict each other's chunks all the time.
        let side = 8;
        let size = side * side * 8;
        let budget = 40 * size;
        let c = ChunkCache::new(budget);
        let decodes = AtomicU64::new(0);
        let (threads, per_thread) = (8u64, 3000u64);
        std::thread::scope(|s| {
            for t in 0..threads {
                let (c, decodes) = (&c, &decodes);
                s.spawn(move || {
                    let mut state = t.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                    for _ in 0..per_thread {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        // Mostly a hot set of 16 keys, sometimes any of 96.
                        let k = if state % 4 == 0 {
                            state % 96
                        } else {
                            state % 16
                        };
                        let key = (1 + k % 3, (k % 2) as u32, k);
                        let w = c
                            .get_or_decode(key, || {
                                decodes.fetch_add(1, Ordering::Relaxed);
                                Ok(chunk_of(key, side))
                            })
                            .unwrap();
                        assert_eq!(*w, chunk_of(key, side), "thread {t} key {key:?}");
                    }
                });
            }
        });
        let st = c.stats();
        assert_eq!(st.hits + st.misses, threads * per_thread, "{st:?}");
        assert_eq!(st.misses, decodes.load(Ordering::Relaxed), "{st:?}");
        assert!(st.hits > st.misses, "the hot set should mostly hit: {st:?}");
        // The byte accounting survived the races: the shards' sums, the global
        // total and the budget agree.
        let held: usize = c
            .shards
            .iter()
            .map(|s| s.lock().lru.iter().map(|(_, w)| w.nbytes()).sum::<usize>())
            .sum();
        assert_eq!(c.bytes(), held);
        assert_eq!(c.total.load(Ordering::Relaxed), held);
        assert!(held <= budget, "{held} > {budget}");
        assert!(held > 0);
    }

    #[test]
    fn a_chunk_decoded_twice_at_once_is_counted_once() {
        // Two lookups of one key that both miss (the decode runs unlocked): here
        // the decode itself looks the key up, so the inner insert lands first
        // and the outer one replaces it. The bytes must count the chunk once.
        let c = ChunkCache::new(1 << 20);
        let key = (7, 0, 3);
        let w = c
            .get_or_decode(key, || {
                c.get_or_decode(key, || Ok(chunk_of(key, 8))).unwrap();
                Ok(chunk_of(key, 8))
            })
            .unwrap();
        assert_eq!(*w, chunk_of(key, 8));
        assert_eq!(c.stats(), ChunkCacheStats { hits: 0, misses: 2 });
        assert_eq!(c.bytes(), 8 * 8 * 8);
        assert_eq!(c.total.load(Ordering::Relaxed), 8 * 8 * 8);
        // The kept copy is served from now on.
        c.get_or_decode(key, || panic!("decoded again")).unwrap();
        assert_eq!(c.stats().hits, 1);
    }

    fn cached(c: &ChunkCache, key: ChunkKey) -> bool {
        c.shards[c.shard_index(&key)].lock().lru.contains(&key)
    }

    #[test]
    fn a_budget_of_exactly_the_chunks_keeps_them_all() {
        let size = 8 * 8 * 8;
        let c = ChunkCache::new(2 * size);
        for k in 0..2 {
            c.get_or_decode((1, 0, k), || Ok(chunk_of((1, 0, k), 8)))
                .unwrap();
        }
        assert_eq!(c.bytes(), 2 * size);
        assert!(cached(&c, (1, 0, 0)) && cached(&c, (1, 0, 1)));
        assert!(format!("{c:?}").contains("budget: 1024"), "{c:?}");
    }

    #[test]
    fn keys_spread_over_shards_and_eviction_starts_at_home() {
        let c = ChunkCache::new(0);
        let keys: Vec<ChunkKey> = (0..64).map(|k| (1, 0, k)).collect();
        let shards: std::collections::HashSet<usize> =
            keys.iter().map(|k| c.shard_index(k)).collect();
        assert!(shards.len() >= 8, "64 keys in {} shards", shards.len());
        // k0 in shard 0 (oldest), k1 and k2 together in another shard.
        let k0 = *keys.iter().find(|k| c.shard_index(k) == 0).unwrap();
        let home = (1..SHARDS)
            .find(|&s| keys.iter().filter(|k| c.shard_index(k) == s).count() >= 2)
            .unwrap();
        let mut at_home = keys.iter().filter(|k| c.shard_index(k) == home);
        let (k1, k2) = (*at_home.next().unwrap(), *at_home.next().unwrap());
        let size = 8 * 8 * 8;
        let c = ChunkCache::new(2 * size);
        for k in [k0, k1, k2] {
            c.get_or_decode(k, || Ok(chunk_of(k, 8))).unwrap();
        }
        // Over budget after k2: the home shard's least recent chunk (k1) goes,
        // not the globally oldest one in shard 0.
        assert!(cached(&c, k0) && cached(&c, k2) && !cached(&c, k1));
        assert_eq!(c.bytes(), 2 * size);
    }

    #[test]
    fn eviction_stops_as_soon_as_the_budget_holds() {
        let c = ChunkCache::new(0);
        let home: Vec<ChunkKey> = (0..256)
            .map(|k| (1, 0, k))
            .filter(|k| c.shard_index(k) == 3)
            .take(3)
            .collect();
        let size = 8 * 8 * 8;
        let c = ChunkCache::new(2 * size);
        for &k in &home {
            c.get_or_decode(k, || Ok(chunk_of(k, 8))).unwrap();
        }
        // One eviction (the oldest) brings three chunks back to the budget.
        assert_eq!(c.bytes(), 2 * size);
        assert!(!cached(&c, home[0]) && cached(&c, home[1]) && cached(&c, home[2]));
    }
}
