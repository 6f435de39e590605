//! Positives, mined negatives, per-epoch preselection and covering selection,
//! checked against brute force.

use std::collections::HashSet;
use std::path::Path;

use coco_model::CocoDataset;
use proptest::prelude::*;
use region_index::MiningMode;
use sampler::Target;
use sampler::regions::{
    NegativeCount, NegativeForm, NegativeOptions, NegativeSize, PositiveSelection, PreselectConfig,
    Regions,
};
use sampler::target::centered_span;

fn fixture(name: &str) -> CocoDataset {
    CocoDataset::load(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(name)
            .join("data.kwcoco.json"),
    )
    .unwrap()
}

/// The window a target samples (centre mode with extent dims, or its slice).
fn window(t: &Target) -> [[i64; 2]; 2] {
    if let Some([ys, xs]) = t.space_slice {
        return [
            [ys[0].unwrap(), ys[1].unwrap()],
            [xs[0].unwrap(), xs[1].unwrap()],
        ];
    }
    let (w, h) = (
        t.width.unwrap().ceil() as i64,
        t.height.unwrap().ceil() as i64,
    );
    [
        centered_span(t.cy.unwrap(), h),
        centered_span(t.cx.unwrap(), w),
    ]
}

/// Largest fraction of the window's area covered by one annotation of its image,
/// and whether any annotation touches it.
fn worst_overlap(ds: &CocoDataset, t: &Target) -> (f64, bool) {
    let [[y0, y1], [x0, x1]] = window(t);
    let area = ((y1 - y0) * (x1 - x0)) as f64;
    let mut worst = 0.0f64;
    let mut touch = false;
    for ann in ds.image_annotations(t.image_id.unwrap()) {
        let Some([x, y, w, h]) = ann.bbox else {
            continue;
        };
        let ix = (x + w).min(x1 as f64) - x.max(x0 as f64);
        let iy = (y + h).min(y1 as f64) - y.max(y0 as f64);
        if ix >= 0.0 && iy >= 0.0 {
            touch = true;
            worst = worst.max(ix * iy / area);
        }
    }
    (worst, touch)
}

#[test]
fn shapes4_positive_table() {
    let ds = fixture("shapes4");
    let r = Regions::new(&ds).unwrap();
    assert_eq!(r.n_positives(), ds.annotations().len());
    assert_eq!(r.background_id(), Some(0));
    for (i, ann) in ds.annotations().iter().enumerate() {
        let t = r.positive(i).unwrap();
        let [x, y, w, h] = ann.bbox.unwrap();
        assert_eq!(t.annot_id, Some(ann.id));
        assert_eq!(t.image_id, Some(ann.image_id));
        assert_eq!(t.category_id, ann.category_id);
        assert_eq!((t.cx, t.cy), (Some(x + w / 2.0), Some(y + h / 2.0)));
        assert_eq!((t.width, t.height), (Some(w), Some(h)));
        assert!(ds.annotation(t.annot_id.unwrap()).is_some());
    }
    // learned anchors: relative sizes of the boxes on 400x400 images
    assert_eq!(r.anchors().len(), ds.annotations().len());
    for a in r.anchors() {
        assert!(a[0] > 0.0 && a[0] <= 1.0 && a[1] > 0.0 && a[1] <= 1.0);
    }
}

#[test]
fn shapes4_negatives_respect_thresh() {
    let ds = fixture("shapes4");
    let r = Regions::new(&ds).unwrap();
    for (thresh, size) in [
        (0.0, NegativeSize::Absolute([40, 30])),
        (0.3, NegativeSize::Absolute([64, 64])),
        (0.3, NegativeSize::Learned),
        (0.1, NegativeSize::Anchors(vec![[0.1, 0.2], [0.25, 0.25]])),
    ] {
        let opts = NegativeOptions {
            size: size.clone(),
            thresh,
            mode: MiningMode::Exact,
            ..NegativeOptions::default()
        };
        for form in [NegativeForm::Centre, NegativeForm::Slice] {
            let negs = r.negatives(&opts.clone().with_form(form), 30, 11).unwrap();
            assert_eq!(negs.len(), 30);
            for t in &negs {
                let [[y0, y1], [x0, x1]] = window(t);
                assert!(y0 >= 0 && x0 >= 0 && y1 <= 400 && x1 <= 400, "{t:?}");
                if let NegativeSize::Absolute([h, w]) = size {
                    assert_eq!((y1 - y0, x1 - x0), (h, w));
                }
                assert_eq!(t.category_id, Some(coco_model::CategoryId(0)));
                let (worst, touch) = worst_overlap(&ds, t);
                if thresh == 0.0 {
                    assert!(!touch, "{t:?} touches an annotation");
                } else {
                    assert!(worst < thresh, "{t:?} overlaps {worst}");
                }
            }
            // same seed, same windows; another seed, other windows
            assert_eq!(
                negs,
                r.negatives(&opts.clone().with_form(form), 30, 11).unwrap()
            );
            assert_ne!(
                negs,
                r.negatives(&opts.clone().with_form(form), 30, 12).unwrap()
            );
        }
    }
}

#[test]
fn impossible_negatives() {
    let ds = fixture("shapes4");
    let r = Regions::new(&ds).unwrap();
    let opts = NegativeOptions {
        size: NegativeSize::Absolute([400, 400]),
        thresh: 0.0,
        mode: MiningMode::Exact,
        patience: 50,
        form: NegativeForm::Slice,
    };
    let e = r.negatives(&opts, 3, 0).unwrap_err();
    assert!(e.to_string().contains("found only 0 of 3"), "{e}");
    let best = opts.with_mode(MiningMode::BestEffort);
    assert!(r.negatives(&best, 3, 0).unwrap().is_empty());
}

#[test]
fn preselect_is_a_function_of_seed_and_epoch() {
    let ds = fixture("vidshapes2-msi");
    let r = Regions::new(&ds).unwrap();
    let cfg = PreselectConfig {
        positives: PositiveSelection::All,
        negatives: NegativeCount::Ratio(0.5),
        negative: NegativeOptions::absolute([32, 32]).with_thresh(0.0),
    };
    let a = r.preselect(&cfg, 5, 0).unwrap();
    assert_eq!(a.positives.len(), ds.annotations().len());
    assert_eq!(a.negatives.len(), ds.annotations().len() / 2);
    assert_eq!(a, r.preselect(&cfg, 5, 0).unwrap());
    let b = r.preselect(&cfg, 5, 1).unwrap();
    assert_ne!(a.negatives, b.negatives);
    assert_eq!(b, r.preselect(&cfg, 5, 1).unwrap());
    assert_ne!(a.negatives, r.preselect(&cfg, 6, 0).unwrap().negatives);
    let counted = PreselectConfig {
        negatives: NegativeCount::Count(7),
        ..cfg.clone()
    };
    let c = r.preselect(&counted, 5, 0).unwrap();
    assert_eq!(c.negatives.len(), 7);
    let ts = c.targets(&r);
    assert_eq!(ts.len(), c.len());
    assert!(ts[..c.positives.len()].iter().all(|t| t.annot_id.is_some()));
    assert!(ts[c.positives.len()..].iter().all(|t| t.annot_id.is_none()));

    // covering positives carry their window
    let cover = PreselectConfig {
        positives: PositiveSelection::Covering([600, 600]),
        ..cfg
    };
    let s = r.preselect(&cover, 1, 0).unwrap();
    assert!(s.positives.len() < ds.annotations().len());
    let t = s.target(&r, 0).unwrap();
    assert_eq!(t.window_dims, Some(sampler::WindowDims::Dims([600, 600])));
}

/// Every positive's centre lies in the window `[h, w]` centred (as the sampler
/// centres it) on one of the selected positives of its image.
fn check_cover(r: &Regions, sel: &[usize], [h, w]: [i64; 2]) {
    let ps = r.positives();
    for p in ps {
        let covered = sel.iter().map(|&i| &ps[i]).any(|q| {
            let [y0, y1] = centered_span(q.cy, h);
            let [x0, x1] = centered_span(q.cx, w);
            q.image_id == p.image_id
                && (y0 as f64) <= p.cy
                && p.cy < y1 as f64
                && (x0 as f64) <= p.cx
                && p.cx < x1 as f64
        });
        assert!(covered, "positive {} not covered", p.annot_id);
    }
    assert!(sel.windows(2).all(|s| s[0] < s[1]));
}

#[test]
fn shapes4_cover() {
    let ds = fixture("shapes4");
    let r = Regions::new(&ds).unwrap();
    for window in [[2, 2], [50, 80], [200, 200], [800, 800]] {
        let sel = r.covering_positives(window, 0).unwrap();
        check_cover(&r, &sel, window);
        assert_eq!(sel, r.covering_positives(window, 0).unwrap());
    }
    // a window larger than twice the image covers each image with one positive
    assert_eq!(
        r.covering_positives([800, 800], 3).unwrap().len(),
        ds.images().len()
    );
    // the seed changes which positives are picked
    let picks: HashSet<Vec<usize>> = (0..8)
        .map(|s| r.covering_positives([200, 200], s).unwrap())
        .collect();
    assert!(picks.len() > 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_covers_cover(
        boxes in prop::collection::vec((0.0f64..300.0, 0.0f64..300.0, 0.0f64..40.0, 0.0f64..40.0, 1i64..4), 1..60),
        h in 2i64..120,
        w in 2i64..120,
        seed in any::<u64>(),
    ) {
        let anns: Vec<_> = boxes.iter().enumerate().map(|(i, (x, y, bw, bh, g))| {
            serde_json::json!({"id": i + 1, "image_id": g, "category_id": 1, "bbox": [x, y, bw, bh]})
        }).collect();
        let v = serde_json::json!({
            "categories": [{"id": 1, "name": "a"}],
            "images": (1..4).map(|g| serde_json::json!({"id": g, "file_name": "x", "width": 340, "height": 340})).collect::<Vec<_>>(),
            "annotations": anns,
        });
        let ds = CocoDataset::from_json_str(&v.to_string(), ".").unwrap();
        let r = Regions::new(&ds).unwrap();
        let sel = r.covering_positives([h, w], seed).unwrap();
        check_cover(&r, &sel, [h, w]);
        prop_assert_eq!(&sel, &r.covering_positives([h, w], seed).unwrap());
    }

    #[test]
    fn random_negatives_avoid_boxes(
        boxes in prop::collection::vec((0.0f64..200.0, 0.0f64..200.0, 1.0f64..60.0, 1.0f64..60.0), 0..12),
        thresh in prop::sample::select(vec![0.0, 0.2, 0.5]),
        seed in any::<u64>(),
    ) {
        let anns: Vec<_> = boxes.iter().enumerate().map(|(i, (x, y, bw, bh))| {
            serde_json::json!({"id": i + 1, "image_id": 1, "category_id": 1, "bbox": [x, y, bw, bh]})
        }).collect();
        let v = serde_json::json!({
            "categories": [{"id": 1, "name": "a"}],
            "images": [{"id": 1, "file_name": "x", "width": 256, "height": 256}],
            "annotations": anns,
        });
        let ds = CocoDataset::from_json_str(&v.to_string(), ".").unwrap();
        let r = Regions::new(&ds).unwrap();
        let opts = NegativeOptions::absolute([16, 24]).with_thresh(thresh).with_mode(MiningMode::BestEffort);
        let negs = r.negatives(&opts, 10, seed).unwrap();
        for t in &negs {
            let (worst, touch) = worst_overlap(&ds, t);
            if thresh == 0.0 {
                prop_assert!(!touch);
            } else {
                prop_assert!(worst < thresh);
            }
        }
        prop_assert_eq!(&negs, &r.negatives(&opts, 10, seed).unwrap());
    }
}
