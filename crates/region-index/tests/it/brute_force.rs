//! Property tests: every query of the index equals a linear scan over the same boxes, also
//! after random inserts and removals, and mined negatives always satisfy their contract.

use proptest::prelude::*;
use region_index::{Aabb, FrameExtent, MiningMode, NegativeConfig, RegionIndex};

/// Coordinates on a coarse grid so that touching edges, identical and degenerate boxes are
/// common, plus some fine-grained ones.
fn coord() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-4i32..24).prop_map(|v| f64::from(v) * 5.0),
        -20.0f64..120.0,
    ]
}

fn size() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        (1i32..8).prop_map(|v| f64::from(v) * 5.0),
        0.0f64..60.0,
    ]
}

fn aabb() -> impl Strategy<Value = Aabb> {
    (coord(), coord(), size(), size()).prop_map(|(x, y, w, h)| Aabb::from_xywh(x, y, w, h))
}

/// Rows over three frames with unique ids per frame (the row index), in row order.
fn rows() -> impl Strategy<Value = Vec<(u8, u32, Aabb)>> {
    prop::collection::vec((0u8..3, aabb()), 0..120).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (f, b))| (f, i as u32, b))
            .collect()
    })
}

/// The boxes of `frame` in the model, in insertion order.
fn model_frame(model: &[(u8, u32, Aabb)], frame: u8) -> impl Iterator<Item = &(u8, u32, Aabb)> {
    model.iter().filter(move |r| r.0 == frame)
}

fn check_all_queries(index: &RegionIndex<u8, u32>, model: &[(u8, u32, Aabb)], q: &Aabb, t: f64) {
    for frame in 0u8..4 {
        let brute: Vec<u32> = model_frame(model, frame)
            .filter(|r| r.2.intersects(q))
            .map(|r| r.1)
            .collect();
        assert_eq!(
            index.overlapping(&frame, q),
            brute,
            "overlapping frame {frame} q {q:?}"
        );

        let brute_vis: Vec<(u32, Aabb, f64)> = model_frame(model, frame)
            .filter(|r| r.2.intersects(q))
            .map(|r| (r.1, r.2, r.2.visibility_in(q)))
            .filter(|&(_, _, v)| t <= 0.0 || v > t)
            .collect();
        let got: Vec<(u32, Aabb, f64)> = index
            .overlapping_visible(&frame, q, t)
            .into_iter()
            .map(|h| (h.id, h.bbox, h.visibility))
            .collect();
        assert_eq!(got, brute_vis, "visible frame {frame} q {q:?} t {t}");

        let brute_iou: Vec<(u32, f64)> = model_frame(model, frame)
            .filter(|r| r.2.intersects(q))
            .map(|r| (r.1, q.iou(&r.2)))
            .collect();
        assert_eq!(index.ious(&frame, q), brute_iou);

        let brute_iooa: Vec<(u32, f64)> = model_frame(model, frame)
            .filter(|r| r.2.intersects(q))
            .map(|r| {
                (
                    r.1,
                    r.2.intersection_area(q) / r.2.area().max(f64::MIN_POSITIVE),
                )
            })
            .collect();
        // for boxes with area the iooa is exactly intersection / own area
        for ((id, got), (bid, want)) in index.iooas(&frame, q).into_iter().zip(brute_iooa) {
            assert_eq!(id, bid);
            let b = index.get(&frame, &id).unwrap();
            if b.area() > 0.0 {
                assert_eq!(got, want);
            } else {
                assert!((0.0..=1.0).contains(&got));
            }
        }

        // a window without area covers "0" of itself: only thresh <= 0 forbids touching it
        let frac = |b: &Aabb| {
            if q.area() > 0.0 {
                q.intersection_area(b) / q.area()
            } else {
                0.0
            }
        };
        let brute_neg = model_frame(model, frame)
            .filter(|r| r.2.intersects(q))
            .all(|r| frac(&r.2) < t);
        assert_eq!(
            index.is_negative(&frame, q, t),
            brute_neg,
            "negative frame {frame} q {q:?} t {t}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn queries_equal_linear_scan(
        rows in rows(),
        queries in prop::collection::vec((aabb(), prop_oneof![Just(0.0), Just(0.5), 0.0f64..1.0]), 1..8),
    ) {
        let index = RegionIndex::from_rows(rows.clone()).unwrap();
        prop_assert_eq!(index.len(), rows.len());
        for (q, t) in &queries {
            check_all_queries(&index, &rows, q, *t);
        }
        let batch: Vec<(u8, Aabb)> = queries.iter().enumerate().map(|(i, (q, _))| ((i % 4) as u8, *q)).collect();
        let got = index.overlapping_visible_batch(&batch, 0.25);
        prop_assert_eq!(got.len(), batch.len());
        for ((f, q), hits) in batch.iter().zip(got) {
            prop_assert_eq!(hits, index.overlapping_visible(f, q, 0.25));
        }
    }

    #[test]
    fn inserts_and_removes_match_a_model(
        rows in rows(),
        ops in prop::collection::vec((any::<bool>(), 0u8..3, 0u32..150, aabb()), 0..80),
        queries in prop::collection::vec(aabb(), 1..5),
    ) {
        let mut index = RegionIndex::from_rows(rows.clone()).unwrap();
        let mut model = rows;
        for (is_insert, frame, id, bbox) in ops {
            let present = model.iter().position(|r| r.0 == frame && r.1 == id);
            if is_insert {
                let res = index.insert(frame, id, bbox);
                prop_assert_eq!(res.is_ok(), present.is_none());
                if present.is_none() {
                    model.push((frame, id, bbox));
                }
            } else {
                let removed = index.remove(&frame, &id);
                prop_assert_eq!(removed, present.map(|p| model[p].2));
                if let Some(p) = present {
                    model.remove(p);
                }
            }
        }
        prop_assert_eq!(index.len(), model.len());
        for q in &queries {
            check_all_queries(&index, &model, q, 0.3);
        }
        for frame in 0u8..3 {
            let boxes: Vec<(u32, Aabb)> = model_frame(&model, frame).map(|r| (r.1, r.2)).collect();
            prop_assert_eq!(index.frame_boxes(&frame), boxes);
        }
    }

    #[test]
    fn negatives_honour_size_domain_and_threshold(
        rows in rows(),
        seed in any::<u64>(),
        w in 1u32..40,
        h in 1u32..40,
        thresh in prop_oneof![Just(0.0), 0.0f64..1.0],
    ) {
        let index = RegionIndex::from_rows(rows.clone()).unwrap();
        let frames = [
            FrameExtent::new(0u8, 100.0, 100.0),
            FrameExtent::new(1, 64.0, 48.0),
            FrameExtent::new(3, 40.0, 40.0),
        ];
        let cfg = NegativeConfig::absolute(f64::from(w), f64::from(h))
            .with_count(20)
            .with_seed(seed)
            .with_thresh(thresh)
            .with_patience(200)
            .with_mode(MiningMode::BestEffort);
        let negs = index.random_negatives(&frames, &cfg).unwrap();
        prop_assert!(negs.len() <= 20);
        for n in &negs {
            prop_assert_eq!(n.window.width(), f64::from(w));
            prop_assert_eq!(n.window.height(), f64::from(h));
            let f = frames.iter().find(|f| f.frame == n.frame).unwrap();
            prop_assert!(Aabb::new(0.0, 0.0, f.width, f.height).contains(&n.window));
            for r in model_frame(&rows, n.frame) {
                if r.2.intersects(&n.window) {
                    prop_assert!(n.window.intersection_area(&r.2) / n.window.area() < thresh);
                }
            }
        }
        prop_assert_eq!(negs, index.random_negatives(&frames, &cfg).unwrap());
    }
}
