//! Tile-locality-aware order: reorder a plan's targets, within a bounded
//! shuffle window, so windows that read the same tiles of a tiled file (the COG
//! cache) come one after another and hit the decoded-tile cache.
//!
//! The plan is cut into consecutive chunks of [`LocalityOrder::window`]
//! targets. Inside a chunk, targets are grouped by their [`TileKey`] (image and
//! tile of the window's top-left corner); groups follow each other in raster
//! order (image, tile row, tile column) rotated by a seeded random offset, so
//! neighbouring tiles — which overlapping windows share — are visited together,
//! and which tile comes first varies from chunk to chunk. Inside a group the
//! plan's order is kept. Targets without a key (videos, windows given by
//! centre without an image) keep their relative order among the groups.
//!
//! Guarantees: the result is a permutation of the plan; no target moves by
//! `window` positions or more; the order depends only on the targets, the
//! window, the tile size and the seed.
//!
//! ```
//! use sampler::locality::LocalityOrder;
//! use sampler::Target;
//! let t = |gid: i64, y: i64, x: i64| Target {
//!     image_id: Some(coco_model::ImageId(gid)),
//!     space_slice: Some([[Some(y), Some(y + 64)], [Some(x), Some(x + 64)]]),
//!     ..Target::default()
//! };
//! let plan = vec![t(1, 0, 0), t(1, 900, 900), t(1, 10, 20), t(1, 910, 905)];
//! let order = LocalityOrder { tile: [256, 256], window: 4, seed: 0 }.order(&plan);
//! let out: Vec<_> = order.iter().map(|&i| plan[i].clone()).collect();
//! // The two windows of tile (0, 0) and the two of tile (3, 3) are now adjacent.
//! assert!(order == vec![0, 2, 1, 3] || order == vec![1, 3, 0, 2]);
//! # let _ = out;
//! ```

use std::collections::BTreeMap;

use rand::Rng;

use crate::rng::rng_for;
use crate::target::{Target, WindowDims};

/// `(image id, tile row, tile column)` of a window's top-left corner.
pub type TileKey = (i64, i64, i64);

/// Settings of the tile-locality order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalityOrder {
    /// Tile `[height, width]` in image pixels (256 × 256: the COG cache's default).
    pub tile: [i64; 2],
    /// Shuffle window: targets are reordered within consecutive chunks of this
    /// many, so none moves by this much or more (≥ 1; 1 keeps the plan's order).
    pub window: usize,
    /// Seed of the per-chunk rotation.
    pub seed: u64,
}

impl Default for LocalityOrder {
    fn default() -> Self {
        LocalityOrder {
            tile: [256, 256],
            window: 64,
            seed: 0,
        }
    }
}

/// The tile of `target`'s top-left corner: from its space slice (a `null`
/// lower bound is 0), or from its centre and size (`cx - w/2`, `cy - h/2`).
/// `None` for targets without an `image_id` (videos) or without a position,
/// and for a tile size that is not positive.
pub fn tile_key(target: &Target, tile: [i64; 2]) -> Option<TileKey> {
    if tile[0] <= 0 || tile[1] <= 0 {
        return None;
    }
    let gid = target.image_id?.0;
    let (y0, x0) = if let Some([[y0, _], [x0, _]]) = target.space_slice {
        (y0.unwrap_or(0), x0.unwrap_or(0))
    } else {
        let (cx, cy) = (target.cx?, target.cy?);
        let (h, w) = match target.window_dims {
            Some(WindowDims::Dims([h, w])) => (h as f64, w as f64),
            _ => (
                target.height.unwrap_or(0.0).ceil(),
                target.width.unwrap_or(0.0).ceil(),
            ),
        };
        let (y, x) = ((cy - h / 2.0).floor(), (cx - w / 2.0).floor());
        if !(y.is_finite() && x.is_finite()) {
            return None;
        }
        (y as i64, x as i64)
    };
    Some((gid, y0.div_euclid(tile[0]), x0.div_euclid(tile[1])))
}

impl LocalityOrder {
    /// The new order of `targets`: position `k` of the result holds the index
    /// of the target to visit `k`-th.
    pub fn order(&self, targets: &[Target]) -> Vec<usize> {
        let keys: Vec<Option<TileKey>> = targets.iter().map(|t| tile_key(t, self.tile)).collect();
        self.order_keys(&keys)
    }

    /// [`LocalityOrder::order`] from precomputed keys (`None`: no key).
    pub fn order_keys(&self, keys: &[Option<TileKey>]) -> Vec<usize> {
        let window = self.window.max(1);
        let mut out = Vec::with_capacity(keys.len());
        for (c, start) in (0..keys.len()).step_by(window).enumerate() {
            let end = (start + window).min(keys.len());
            // Groups in raster order of their key; unkeyed targets form one group
            // each, placed after the keyed ones in plan order.
            let mut groups: BTreeMap<TileKey, Vec<usize>> = BTreeMap::new();
            let mut loose = Vec::new();
            for (i, key) in keys.iter().enumerate().take(end).skip(start) {
                match key {
                    Some(k) => groups.entry(*k).or_default().push(i),
                    None => loose.push(i),
                }
            }
            let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
            if groups.len() > 1 {
                let mut rng = rng_for(self.seed, c as u64, 0x10CA_11E7);
                let r = rng.random_range(0..groups.len());
                groups.rotate_left(r);
            }
            out.extend(groups.into_iter().flatten());
            out.extend(loose);
        }
        out
    }

    /// Reorder `targets` (see [`LocalityOrder::order`]).
    pub fn apply(&self, targets: Vec<Target>) -> Vec<Target> {
        let order = self.order(&targets);
        let mut slots: Vec<Option<Target>> = targets.into_iter().map(Some).collect();
        order.into_iter().filter_map(|i| slots[i].take()).collect()
    }
}

/// Number of consecutive pairs of `keys` (in the order `order`) that share a
/// key: a measure of how local an order is.
pub fn adjacent_same_tile(keys: &[Option<TileKey>], order: &[usize]) -> usize {
    order
        .windows(2)
        .filter(|w| matches!((keys[w[0]], keys[w[1]]), (Some(a), Some(b)) if a == b))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn win(gid: i64, y: i64, x: i64) -> Target {
        Target {
            image_id: Some(coco_model::ImageId(gid)),
            space_slice: Some([[Some(y), Some(y + 100)], [Some(x), Some(x + 100)]]),
            ..Target::default()
        }
    }

    #[test]
    fn keys_from_slices_and_centres() {
        assert_eq!(tile_key(&win(3, 255, 256), [256, 256]), Some((3, 0, 1)));
        assert_eq!(tile_key(&win(3, -1, 0), [256, 256]), Some((3, -1, 0)));
        let centred = Target {
            image_id: Some(coco_model::ImageId(2)),
            cx: Some(600.0),
            cy: Some(100.0),
            width: Some(100.0),
            height: Some(100.0),
            ..Target::default()
        };
        assert_eq!(tile_key(&centred, [256, 256]), Some((2, 0, 2)));
        let video = Target {
            video_id: Some(coco_model::VideoId(1)),
            ..Target::default()
        };
        assert_eq!(tile_key(&video, [256, 256]), None);
        assert_eq!(tile_key(&win(1, 0, 0), [0, 256]), None);
    }

    #[test]
    fn groups_same_tiles_within_a_chunk() {
        let plan = vec![
            win(1, 0, 0),
            win(2, 0, 0),
            win(1, 10, 10),
            win(2, 5, 5),
            win(1, 20, 20),
        ];
        let lo = LocalityOrder {
            window: 5,
            ..LocalityOrder::default()
        };
        let order = lo.order(&plan);
        let keys: Vec<_> = plan.iter().map(|t| tile_key(t, lo.tile)).collect();
        assert_eq!(adjacent_same_tile(&keys, &order), 3);
        assert_eq!(adjacent_same_tile(&keys, &[0, 1, 2, 3, 4]), 0);
        // Within a group the plan's order is kept.
        let ones: Vec<usize> = order.iter().copied().filter(|&i| i % 2 == 0).collect();
        assert_eq!(ones, vec![0, 2, 4]);
        let applied = lo.apply(plan.clone());
        assert_eq!(
            applied,
            order.iter().map(|&i| plan[i].clone()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn window_one_keeps_the_plan() {
        let plan: Vec<Target> = (0..10).map(|i| win(i % 2, 0, 0)).collect();
        let lo = LocalityOrder {
            window: 1,
            ..LocalityOrder::default()
        };
        assert_eq!(lo.order(&plan), (0..10).collect::<Vec<_>>());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn is_a_bounded_deterministic_permutation(
            cells in proptest::collection::vec((0i64..3, 0i64..1000, 0i64..1000, any::<bool>()), 0..300),
            window in 1usize..50,
            seed in 0u64..1000,
        ) {
            let plan: Vec<Target> = cells
                .iter()
                .map(|&(g, y, x, keyed)| if keyed { win(g, y, x) } else { Target { video_id: Some(coco_model::VideoId(g)), ..Target::default() } })
                .collect();
            let lo = LocalityOrder { tile: [256, 256], window, seed };
            let order = lo.order(&plan);
            prop_assert_eq!(&order, &lo.order(&plan));
            let mut sorted = order.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, (0..plan.len()).collect::<Vec<_>>());
            for (new, &old) in order.iter().enumerate() {
                prop_assert!(new.abs_diff(old) < window, "target {} moved to {} (window {})", old, new, window);
            }
            let keys: Vec<_> = plan.iter().map(|t| tile_key(t, lo.tile)).collect();
            // Inside each chunk every key's targets become adjacent: at least
            // (members − 1) adjacent pairs per key and chunk. (The full chunk
            // contract is checked in tests/it/plan_loader.rs.)
            let mut grouped = 0;
            for chunk in keys.chunks(window) {
                let mut count: BTreeMap<TileKey, usize> = BTreeMap::new();
                for k in chunk.iter().flatten() {
                    *count.entry(*k).or_default() += 1;
                }
                grouped += count.values().map(|n| n - 1).sum::<usize>();
            }
            prop_assert!(adjacent_same_tile(&keys, &order) >= grouped);
        }
    }
}
