//! Plans, the locality order and the loader, held to oracles written from
//! their documented contracts (not from the code):
//!
//! - `LocalityOrder`: inside each chunk of `window` targets, the keyed targets
//!   come first, grouped by tile key, each group in plan order, the groups in
//!   raster order of their key rotated by some offset; unkeyed targets follow
//!   in plan order.
//! - `EpochPlan::new`: rank `r` of `w` takes positions `r, r + w, …` of the
//!   epoch padded as torch's `DistributedSampler` (equal lengths), target
//!   `k` is the source's target at `positions[k]`; bad ranks are errors.
//! - `Loader` with a real `CocoSampler`: batches arrive in plan order whatever
//!   the thread count, and each sample equals a plain sequential `load_sample`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use coco_model::{ImageId, VideoId};
use proptest::prelude::*;
use sampler::loader::{Loader, LoaderConfig};
use sampler::locality::{LocalityOrder, TileKey, tile_key};
use sampler::plan::{EpochPlan, PlanSource, TargetList};
use sampler::{CocoSampler, Target};

fn win(gid: i64, y: i64, x: i64) -> Target {
    Target {
        image_id: Some(ImageId(gid)),
        space_slice: Some([[Some(y), Some(y + 16)], [Some(x), Some(x + 16)]]),
        ..Target::default()
    }
}

/// Key by hand: image and tile of the top-left corner (floor division).
fn key_by_hand(gid: i64, y: i64, x: i64, tile: i64) -> TileKey {
    (gid, y.div_euclid(tile), x.div_euclid(tile))
}

/// Checks `order` against the chunk contract; returns the rotation offset of
/// each chunk with more than one group.
fn check_chunks(
    keys: &[Option<TileKey>],
    order: &[usize],
    window: usize,
) -> Result<Vec<usize>, String> {
    if order.len() != keys.len() {
        return Err(format!("length {} != {}", order.len(), keys.len()));
    }
    let mut rotations = Vec::new();
    for start in (0..keys.len()).step_by(window) {
        let end = (start + window).min(keys.len());
        let chunk = &order[start..end];
        let mut sorted = chunk.to_vec();
        sorted.sort_unstable();
        if sorted != (start..end).collect::<Vec<_>>() {
            return Err(format!("chunk {start}..{end} holds {chunk:?}"));
        }
        // Expected groups: BTreeMap of key → members in plan order.
        let mut groups: BTreeMap<TileKey, Vec<usize>> = BTreeMap::new();
        let mut loose = Vec::new();
        for (i, key) in keys.iter().enumerate().take(end).skip(start) {
            match key {
                Some(k) => groups.entry(*k).or_default().push(i),
                None => loose.push(i),
            }
        }
        let sorted_groups: Vec<Vec<usize>> = groups.into_values().collect();
        let n_keyed: usize = sorted_groups.iter().map(Vec::len).sum();
        if chunk[n_keyed..] != loose[..] {
            return Err(format!(
                "chunk {start}: unkeyed tail {:?} != {loose:?}",
                &chunk[n_keyed..]
            ));
        }
        let g = sorted_groups.len();
        let found = (0..g.max(1)).find(|&r| {
            let mut rot = sorted_groups.clone();
            rot.rotate_left(r);
            rot.concat() == chunk[..n_keyed]
        });
        match found {
            Some(r) => {
                if g > 1 {
                    rotations.push(r)
                }
            }
            None => {
                return Err(format!(
                    "chunk {start}: {chunk:?} is no rotation of {sorted_groups:?}"
                ));
            }
        }
    }
    Ok(rotations)
}

#[test]
fn tile_keys_match_floor_division() {
    for (y, x) in [(0, 0), (255, 256), (-1, 0), (-257, 513), (1000, 3)] {
        assert_eq!(
            tile_key(&win(7, y, x), [256, 256]),
            Some(key_by_hand(7, y, x, 256)),
            "({y}, {x})"
        );
    }
}

#[test]
fn locality_changes_an_interleaved_plan_and_the_rotation_varies_with_the_seed() {
    // Four tiles interleaved: the plan's order has no adjacent same-tile pair.
    let plan: Vec<Target> = (0..16).map(|i| win(1, 300 * (i % 4) as i64, 0)).collect();
    let keys: Vec<_> = plan.iter().map(|t| tile_key(t, [256, 256])).collect();
    let mut rotations = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let lo = LocalityOrder {
            tile: [256, 256],
            window: 16,
            seed,
        };
        let order = lo.order(&plan);
        let r = check_chunks(&keys, &order, 16).unwrap();
        rotations.extend(r);
        // Every tile's four windows come together: 4 groups × 3 adjacent pairs.
        assert_eq!(sampler::locality::adjacent_same_tile(&keys, &order), 12);
        let applied = lo.apply(plan.clone());
        let expect: Vec<Target> = order.iter().map(|&i| plan[i].clone()).collect();
        assert_eq!(applied, expect);
    }
    assert!(
        rotations.len() > 1,
        "the seed never changed the rotation: {rotations:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn locality_order_follows_the_chunk_contract(
        cells in proptest::collection::vec((0i64..3, -300i64..1000, 0i64..1000, any::<bool>()), 0..200),
        window in 1usize..40,
        seed in 0u64..1000,
    ) {
        let plan: Vec<Target> = cells
            .iter()
            .map(|&(g, y, x, keyed)| if keyed { win(g, y, x) } else { Target { video_id: Some(VideoId(g)), ..Target::default() } })
            .collect();
        let keys: Vec<Option<TileKey>> = cells
            .iter()
            .map(|&(g, y, x, keyed)| keyed.then(|| key_by_hand(g, y, x, 256)))
            .collect();
        let lo = LocalityOrder { tile: [256, 256], window, seed };
        let order = lo.order(&plan);
        if let Err(e) = check_chunks(&keys, &order, window) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// A source whose target `i` of `(seed, epoch)` encodes all three.
struct Encoded(usize);

impl PlanSource for Encoded {
    fn len(&self) -> usize {
        self.0
    }
    fn target(&self, seed: u64, epoch: u64, i: usize) -> Target {
        Target {
            image_id: Some(ImageId(i as i64)),
            cx: Some(seed as f64),
            cy: Some(epoch as f64),
            ..Target::default()
        }
    }
}

/// torch `DistributedSampler` (drop_last=False): rank `r` of `w` takes
/// positions `r, r + w, …` of the epoch padded to `w * ceil(n / w)` by
/// repeating its first positions.
#[test]
fn epoch_plan_new_shards_by_stride_padded_like_torch() {
    for n in [0usize, 1, 5, 12, 13] {
        for world in 1..5 {
            let mut seen = Vec::new();
            for rank in 0..world {
                let e = EpochPlan::new(&Encoded(n), 7, 3, rank, world).unwrap();
                let total = n.div_ceil(world) * world;
                let want: Vec<usize> = if n == 0 {
                    Vec::new()
                } else {
                    (0..total)
                        .filter(|i| i % world == rank)
                        .map(|i| i % n)
                        .collect()
                };
                assert_eq!(e.positions, want, "n {n} rank {rank}/{world}");
                assert_eq!(e.len(), n.div_ceil(world));
                assert_eq!(e.is_empty(), want.is_empty());
                for (t, &p) in e.targets.iter().zip(&want) {
                    assert_eq!(t.image_id, Some(ImageId(p as i64)));
                    assert_eq!((t.cx, t.cy), (Some(7.0), Some(3.0)));
                }
                seen.extend(e.positions);
            }
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
    }
}

/// torch's own answer for 10 samples over 3 ranks, no shuffle:
/// `DistributedSampler(range(10), 3, r, shuffle=False)` gives
/// [0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]; with drop_last [0, 3, 6],
/// [1, 4, 7], [2, 5, 8].
#[test]
fn shards_match_torch_distributed_sampler() {
    use sampler::plan::{Shard, Tail};
    let padded: Vec<Vec<usize>> = (0..3)
        .map(|r| {
            EpochPlan::sharded(&Encoded(10), 0, 0, Shard::new(r, 3).unwrap())
                .unwrap()
                .positions
        })
        .collect();
    assert_eq!(
        padded,
        [vec![0, 3, 6, 9], vec![1, 4, 7, 0], vec![2, 5, 8, 1]]
    );
    let dropped: Vec<Vec<usize>> = (0..3)
        .map(|r| {
            let s = Shard::with_tail(r, 3, Tail::Drop).unwrap();
            EpochPlan::sharded(&Encoded(10), 0, 0, s).unwrap().positions
        })
        .collect();
    assert_eq!(dropped, [vec![0, 3, 6], vec![1, 4, 7], vec![2, 5, 8]]);
}

#[test]
fn epoch_plan_rejects_bad_ranks() {
    let list = TargetList::new(vec![win(1, 0, 0); 3]);
    for (rank, world) in [(0, 0), (1, 1), (2, 2), (5, 3)] {
        let e = EpochPlan::new(&Encoded(3), 0, 0, rank, world).unwrap_err();
        assert!(e.to_string().contains("rank"), "{e}");
        assert!(EpochPlan::from_list(&list, 0, 0, rank, world).is_err());
    }
    assert!(EpochPlan::new(&Encoded(3), 0, 0, 2, 3).is_ok());
}

#[test]
fn shuffled_list_shards_agree_with_the_epoch_order() {
    let list = TargetList::new((0..11).map(|i| win(1, i, 0)).collect()).shuffled();
    let order = list.order(5, 2);
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..11).collect::<Vec<_>>());
    for rank in 0..3 {
        let a = EpochPlan::from_list(&list, 5, 2, rank, 3).unwrap();
        let b = EpochPlan::new(&list, 5, 2, rank, 3).unwrap();
        assert_eq!(a.positions, b.positions);
        assert_eq!(a.targets, b.targets);
        for (t, &p) in a.targets.iter().zip(&a.positions) {
            assert_eq!(*t, list.targets[order[p]]);
        }
    }
}

fn fixture_sampler() -> CocoSampler {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/shapes4/data.kwcoco.json");
    CocoSampler::open(path).unwrap()
}

#[test]
fn loader_runs_a_real_sampler_in_plan_order_per_shard() {
    let sampler = Arc::new(fixture_sampler());
    // 30 distinct windows over the 4 images (some leaving the image).
    let windows: Vec<Target> = (0..30)
        .map(|i| win(1 + (i % 4), 7 * i - 20, 11 * i % 500))
        .collect();
    let list = TargetList::new(windows).shuffled();
    let world = 3;
    let mut all_positions = Vec::new();
    for rank in 0..world {
        let epoch = EpochPlan::from_list(&list, 42, 1, rank, world).unwrap();
        // The oracle: each target loaded on this thread, one after another.
        let expect: Vec<_> = epoch
            .targets
            .iter()
            .map(|t| sampler.load_sample(t).unwrap())
            .collect();
        for threads in [1, 3] {
            let s = Arc::clone(&sampler);
            let items: Vec<(usize, Target)> = epoch
                .positions
                .iter()
                .copied()
                .zip(epoch.targets.iter().cloned())
                .collect();
            let loader = Loader::new(
                items,
                LoaderConfig {
                    threads,
                    prefetch: 2,
                    batch_size: 3,
                },
                move |k, (pos, t): &(usize, Target)| {
                    s.load_sample(t).map(|sample| (k, *pos, sample))
                },
            );
            assert_eq!(loader.num_samples(), epoch.len());
            assert_eq!(loader.num_batches(), epoch.len().div_ceil(3));
            let got: Vec<_> = loader.flat_map(|b| b.unwrap()).collect();
            assert_eq!(got.len(), expect.len(), "rank {rank}, {threads} threads");
            for (j, ((k, pos, sample), want)) in got.iter().zip(&expect).enumerate() {
                assert_eq!(*k, j, "loader position");
                assert_eq!(*pos, epoch.positions[j]);
                assert_eq!(sample.im, want.im, "rank {rank} sample {j} pixels");
                assert_eq!(sample.target, want.target);
                assert_eq!(sample.frames[0].annots.len(), want.frames[0].annots.len());
            }
        }
        all_positions.extend(epoch.positions);
    }
    all_positions.sort_unstable();
    assert_eq!(all_positions, (0..30).collect::<Vec<_>>());
}

#[test]
fn loader_reports_a_bad_target_in_its_batch_and_goes_on() {
    let sampler = Arc::new(fixture_sampler());
    let mut items: Vec<Target> = (0..6).map(|i| win(1, 4 * i, 0)).collect();
    items[4] = win(999, 0, 0); // no such image: batch 1 (items 3..6) fails
    let s = Arc::clone(&sampler);
    let loader = Loader::new(
        items.clone(),
        LoaderConfig {
            threads: 2,
            prefetch: 2,
            batch_size: 3,
        },
        move |_, t: &Target| s.load_sample(t),
    );
    let batches: Vec<_> = loader.collect();
    assert_eq!(batches.len(), 2);
    let first = batches[0].as_ref().unwrap();
    for (got, t) in first.iter().zip(&items) {
        assert_eq!(got.im, sampler.load_sample(t).unwrap().im);
    }
    let err = batches[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("999"), "{err}");
}

#[test]
fn rng_streams_follow_the_documented_derivation() {
    // Pinned so saved experiments stay reproducible across versions: the
    // stream of (seed, epoch, stream) is ChaCha8 seeded with `seed`, on stream
    // `epoch · 0x9E3779B97F4A7C15 XOR stream`.
    use rand::{RngCore, SeedableRng};
    for (seed, epoch, stream) in [(0u64, 0u64, 0u64), (1, 2, 3), (7, 5, 1), (9, 1 << 40, 77)] {
        let mut want = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        want.set_stream(epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream);
        let mut got = sampler::plan::rng_for(seed, epoch, stream);
        for _ in 0..4 {
            assert_eq!(
                got.next_u64(),
                want.next_u64(),
                "({seed}, {epoch}, {stream})"
            );
        }
    }
}

#[test]
fn default_is_empty_follows_len() {
    assert!(Encoded(0).is_empty());
    assert!(!Encoded(3).is_empty());
    assert!(!TargetList::new(vec![win(1, 0, 0)]).is_empty());
}

#[test]
fn random_windows_cover_the_whole_frame() {
    use sampler::plan::RandomWindows;
    let p = RandomWindows {
        frames: vec![(1, 100, 80), (2, 40, 300)],
        window: [32, 16],
        count: 2000,
    };
    assert_eq!(p.len(), 2000);
    let empty = RandomWindows {
        frames: vec![],
        ..p.clone()
    };
    assert_eq!(empty.len(), 0);
    // (max y0, max x0) reached per frame: the ranges 0..=h-wh and 0..=w-ww
    // are covered, not a smaller part of them.
    let mut reach = std::collections::HashMap::new();
    for i in 0..2000 {
        let t = p.target(3, 0, i);
        let [[y0, y1], [x0, x1]] = t.space_slice.unwrap();
        let (y0, y1, x0, x1) = (y0.unwrap(), y1.unwrap(), x0.unwrap(), x1.unwrap());
        assert_eq!((y1 - y0, x1 - x0), (32, 16));
        let (h, w) = if t.image_id == Some(ImageId(1)) {
            (100, 80)
        } else {
            (40, 300)
        };
        assert!(y0 >= 0 && x0 >= 0 && y1 <= h && x1 <= w, "{t:?}");
        let e = reach
            .entry(t.image_id.unwrap().0)
            .or_insert((0, 0, i64::MAX, i64::MAX));
        *e = (e.0.max(y0), e.1.max(x0), e.2.min(y0), e.3.min(x0));
    }
    assert_eq!(reach.len(), 2, "both frames drawn");
    let (y, x, ylo, xlo) = reach[&1];
    assert!(
        y >= 60 && x >= 56 && ylo <= 5 && xlo <= 5,
        "frame 1: {:?}",
        reach[&1]
    );
    let (y, x, ylo, xlo) = reach[&2];
    assert!(
        y >= 6 && x >= 260 && ylo <= 1 && xlo <= 20,
        "frame 2: {:?}",
        reach[&2]
    );
}

#[test]
fn tile_keys_of_centred_targets_use_the_top_left_corner() {
    // Corner = (cy − h/2, cx − w/2), by hand: (250, 450) → tiles (3, 7) of 64.
    let dims: Target = serde_json::from_value(serde_json::json!(
        {"image_id": 5, "cx": 600.0, "cy": 300.0, "window_dims": [100, 300]}
    ))
    .unwrap();
    assert_eq!(tile_key(&dims, [64, 64]), Some((5, 3, 7)));
    let sized: Target = serde_json::from_value(serde_json::json!(
        {"image_id": 5, "cx": 600.0, "cy": 300.0, "width": 299.5, "height": 99.2}
    ))
    .unwrap();
    // Sizes round up: 100 × 300 as above.
    assert_eq!(tile_key(&sized, [64, 64]), Some((5, 3, 7)));
    // A corner left of / above the origin floors to a negative tile.
    let neg: Target = serde_json::from_value(serde_json::json!(
        {"image_id": 5, "cx": 10.0, "cy": 20.0, "window_dims": [100, 100]}
    ))
    .unwrap();
    assert_eq!(tile_key(&neg, [64, 64]), Some((5, -1, -1)));
}

#[test]
fn a_centre_that_is_not_finite_has_no_tile() {
    for (cx, cy) in [
        (f64::INFINITY, 10.0),
        (10.0, f64::NAN),
        (f64::NAN, f64::NEG_INFINITY),
    ] {
        let t = Target {
            image_id: Some(ImageId(1)),
            cx: Some(cx),
            cy: Some(cy),
            width: Some(8.0),
            height: Some(8.0),
            ..Target::default()
        };
        assert_eq!(tile_key(&t, [64, 64]), None, "({cx}, {cy})");
    }
}

/// `load_stacked` equals `Batch::stack` of one-by-one loads, on 1 and 3
/// threads, and so does `load_stacked_sequential` (no pool); both fill a
/// recycled buffer in place.
#[test]
fn load_stacked_equals_stacking_sequential_loads_and_reuses_storage() {
    use sampler::SampleOptions;
    use sampler::batch::{Batch, PixelStorage};
    let sampler = fixture_sampler();
    let windows: Vec<Target> = (0..11)
        .map(|i| win(1 + (i % 4), 9 * i - 8, 13 * i % 300))
        .collect();
    let opts = SampleOptions::default();
    let want = Batch::stack(
        windows
            .iter()
            .map(|t| sampler.load_sample_with(t, &opts).unwrap())
            .collect(),
    )
    .unwrap();
    let mut storage: Option<PixelStorage> = None;
    // 0 threads: `load_stacked_sequential` on this thread
    for threads in [1, 3, 0, 3, 0] {
        let reused_ptr = match &storage {
            Some(PixelStorage::U8(v)) => Some(v.as_ptr()),
            _ => None,
        };
        let got = if threads == 0 {
            sampler.load_stacked_sequential(&windows, &opts, storage.take())
        } else {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| sampler.load_stacked(&windows, &opts, storage.take()))
        }
        .unwrap();
        assert_eq!(got.im, want.im, "{threads} threads");
        assert_eq!(got.targets, want.targets);
        assert_eq!(got.params.len(), want.params.len());
        for (g, w) in got.params.iter().zip(&want.params) {
            assert_eq!(g.sample_ltrb, w.sample_ltrb);
        }
        for (g, w) in got.frames.iter().zip(&want.frames) {
            let ids = |f: &[sampler::SampleFrame]| {
                f.iter()
                    .flat_map(|f| f.annots.iter().map(|a| a.id))
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(g), ids(w));
        }
        let Some(sampler::Pixels::U8(a)) = Some(&got.im) else {
            panic!("the fixture is uint8");
        };
        if let Some(p) = reused_ptr {
            assert_eq!(a.as_ptr(), p, "the recycled buffer is filled in place");
        }
        storage = Some(PixelStorage::from_pixels(got.im));
    }
    // A buffer of another dtype is not used (and the answer is still right).
    let other = PixelStorage::F32(vec![0.5; 4]);
    let got = sampler.load_stacked(&windows, &opts, Some(other)).unwrap();
    assert_eq!(got.im, want.im);
    let other = PixelStorage::F32(vec![0.5; 4]);
    let got = sampler
        .load_stacked_sequential(&windows, &opts, Some(other))
        .unwrap();
    assert_eq!(got.im, want.im);
}

/// `load_stacked_sequential` loads in order on the calling thread: with
/// several bad samples, the error is always the first one's.
#[test]
fn load_stacked_sequential_fails_on_the_first_bad_sample() {
    use sampler::SampleOptions;
    let sampler = fixture_sampler();
    let opts = SampleOptions::default();
    let e = sampler
        .load_stacked_sequential(&[] as &[Target], &opts, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no samples"), "{e}");
    let mut ts: Vec<Target> = (0..24).map(|i| win(1, 4 * i, 0)).collect();
    for bad in [3, 11, 17, 23] {
        ts[bad].space_slice = Some([[Some(0), Some(8)], [Some(0), Some(16)]]);
    }
    for _ in 0..5 {
        let e = sampler
            .load_stacked_sequential(&ts, &opts, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("sample 3 ") && e.contains("[8, 16"), "{e}");
    }
    ts[2].image_id = Some(ImageId(999));
    let e = sampler
        .load_stacked_sequential(&ts, &opts, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("999"), "{e}");
}

#[test]
fn load_stacked_refuses_empty_and_mixed_shapes_naming_the_sample() {
    use sampler::SampleOptions;
    let sampler = fixture_sampler();
    let opts = SampleOptions::default();
    let e = sampler
        .load_stacked(&[] as &[Target], &opts, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no samples"), "{e}");
    let mut ts: Vec<Target> = (0..4).map(|i| win(1, 4 * i, 0)).collect();
    ts[2].space_slice = Some([[Some(0), Some(8)], [Some(0), Some(16)]]);
    let e = sampler
        .load_stacked(&ts, &opts, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("sample 2") && e.contains("[8, 16"), "{e}");
    // A bad target's own error comes through.
    ts[2].image_id = Some(ImageId(999));
    let e = sampler
        .load_stacked(&ts, &opts, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("999"), "{e}");
}

/// Video batches (fill frames past a video's end, a band stored at another
/// resolution) are written straight into their slots and equal stacking
/// one-by-one loads; a sample of another dtype fails naming it.
#[test]
fn load_stacked_videos_and_dtype_mismatch() {
    use sampler::SampleOptions;
    use sampler::batch::Batch;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/vidshapes2-msi/data.kwcoco.json");
    let sampler = CocoSampler::open(path).unwrap();
    let t = |vid: i64, t0: i64, y: i64, x: i64, ch: &str| -> Target {
        serde_json::from_value(serde_json::json!({
            "video_id": vid, "time_slice": [t0, t0 + 2],
            "space_slice": [[y, y + 20], [x, x + 24]], "channels": ch,
        }))
        .unwrap()
    };
    let ts = vec![
        t(1, 0, 0, 0, "B1|B10"),
        t(2, 2, 280, 290, "B1|B10"),
        t(1, 1, 50, 60, "B10|B1"),
        t(2, 0, -5, 100, "B1|B10"),
    ];
    let opts = SampleOptions::default();
    let want = Batch::stack(
        ts.iter()
            .map(|x| sampler.load_sample_with(x, &opts).unwrap())
            .collect(),
    )
    .unwrap();
    let got = sampler.load_stacked(&ts, &opts, None).unwrap();
    assert_eq!(got.im.shape(), &[4, 2, 20, 24, 2]);
    assert_eq!(got.im, want.im);
    let seq = sampler.load_stacked_sequential(&ts, &opts, None).unwrap();
    assert_eq!(seq.im, want.im);
    // the second window runs past video 2's end: its last frame is fill
    assert_eq!(got.frames[1][1].image_id, None);
    // a band at another resolution (B8, 6× coarser) goes through the resampler
    let ts8: Vec<Target> = ts
        .iter()
        .map(|x| Target {
            channels: Some(sampler::ChannelCode::parse("B1|B8").unwrap()),
            ..x.clone()
        })
        .collect();
    let want8 = Batch::stack(
        ts8.iter()
            .map(|x| sampler.load_sample_with(x, &opts).unwrap())
            .collect(),
    )
    .unwrap();
    assert_eq!(
        sampler.load_stacked(&ts8, &opts, None).unwrap().im,
        want8.im
    );
    let mut mixed = ts.clone();
    mixed[2].dtype = Some(frame_backends::DType::F32);
    let e = sampler
        .load_stacked(&mixed, &opts, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sample 2") && e.contains("float32") && e.contains("uint16"),
        "{e}"
    );
}
