//! Id → table position maps that are dense arrays when ids are dense.
//!
//! kwcoco ids are usually `1..=n`; then a `Vec<u32>` indexed by `id - base`
//! is both faster and ~9× smaller than a hash map. Ids that would make the
//! array too sparse (more than twice the number of records plus a margin) go
//! to a hash map instead.

use std::marker::PhantomData;

use rustc_hash::FxHashMap as FastMap;

const NONE: u32 = u32::MAX;

/// An id → position map; see the [module docs](self).
#[derive(Debug, Clone)]
pub(crate) struct IdPos<K> {
    base: i64,
    dense: Vec<u32>,
    sparse: FastMap<i64, u32>,
    len: usize,
    _k: PhantomData<K>,
}

impl<K> Default for IdPos<K> {
    fn default() -> Self {
        IdPos {
            base: 0,
            dense: Vec::new(),
            sparse: FastMap::default(),
            len: 0,
            _k: PhantomData,
        }
    }
}

/// Positions are stored as `u32`: a table cannot hold 4 billion records in memory.
fn to_u32(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(NONE - 1)
}

impl<K: Copy + Into<i64>> IdPos<K> {
    /// Empties the map and sizes it for these ids (dense when they are).
    pub(crate) fn reset(&mut self, ids: impl Iterator<Item = K> + Clone) {
        self.dense.clear();
        self.sparse.clear();
        self.len = 0;
        let mut n = 0usize;
        let mut lo = i64::MAX;
        let mut hi = i64::MIN;
        for id in ids {
            let v: i64 = id.into();
            lo = lo.min(v);
            hi = hi.max(v);
            n += 1;
        }
        if n == 0 {
            self.base = 0;
            return;
        }
        let span = (hi as i128 - lo as i128 + 1) as u128;
        if span <= (2 * n as u128 + 1024) {
            self.base = lo;
            self.dense = vec![NONE; span as usize];
        } else {
            self.base = 0;
            self.sparse.reserve(n);
        }
    }

    fn slot(&self, v: i64) -> Option<usize> {
        let off = (v as i128) - (self.base as i128);
        if off >= 0 && (off as u128) < self.dense.len() as u128 {
            Some(off as usize)
        } else {
            None
        }
    }

    /// The position of `id`.
    #[inline]
    pub(crate) fn get(&self, id: K) -> Option<usize> {
        let v: i64 = id.into();
        match self.slot(v) {
            Some(s) => {
                let p = self.dense[s];
                (p != NONE).then_some(p as usize)
            }
            None => {
                if self.sparse.is_empty() {
                    None
                } else {
                    self.sparse.get(&v).map(|&p| p as usize)
                }
            }
        }
    }

    /// Whether `id` is present.
    pub(crate) fn contains(&self, id: K) -> bool {
        self.get(id).is_some()
    }

    /// Inserts `id → pos` unless `id` is present; returns whether it was inserted.
    pub(crate) fn insert_first(&mut self, id: K, pos: usize) -> bool {
        let v: i64 = id.into();
        if let Some(s) = self.slot(v) {
            if self.dense[s] != NONE {
                return false;
            }
            self.dense[s] = to_u32(pos);
            self.len += 1;
            return true;
        }
        // appending just past the dense range keeps it dense
        if !self.dense.is_empty() && v as i128 == self.base as i128 + self.dense.len() as i128 {
            self.dense.push(to_u32(pos));
            self.len += 1;
            return true;
        }
        if self.dense.is_empty() && self.sparse.is_empty() {
            self.base = v;
            self.dense.push(to_u32(pos));
            self.len += 1;
            return true;
        }
        match self.sparse.entry(v) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(to_u32(pos));
                self.len += 1;
                true
            }
        }
    }

    /// Number of ids.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behaves_like_a_first_wins_hash_map(
            ids in proptest::collection::vec(-50i64..400, 0..120),
            extra in proptest::collection::vec(prop_oneof![-1000i64..1000, Just(i64::MAX), Just(i64::MIN)], 0..20),
        ) {
            let mut m: IdPos<i64> = IdPos::default();
            m.reset(ids.iter().copied());
            let mut reference = std::collections::HashMap::new();
            for (p, id) in ids.iter().chain(extra.iter()).enumerate() {
                let inserted = m.insert_first(*id, p);
                let fresh = !reference.contains_key(id);
                if fresh {
                    reference.insert(*id, p);
                }
                prop_assert_eq!(inserted, fresh);
            }
            prop_assert_eq!(m.len(), reference.len());
            for probe in -1100i64..1100 {
                prop_assert_eq!(m.get(probe), reference.get(&probe).copied());
            }
            prop_assert_eq!(m.get(i64::MAX), reference.get(&i64::MAX).copied());
            prop_assert_eq!(m.get(i64::MIN), reference.get(&i64::MIN).copied());
        }
    }
}
