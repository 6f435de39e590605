//! Sample grids checked against brute force on the shared fixtures and on random
//! datasets.

use std::path::Path;

use coco_model::CocoDataset;
use proptest::prelude::*;
use sampler::Target;
use sampler::grid::{ClassSpec, GridConfig, SampleGrid, sample_grid};

fn fixture(name: &str) -> CocoDataset {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
        .join("data.kwcoco.json");
    CocoDataset::load(&p).unwrap()
}

/// `[[y0, y1], [x0, x1]]` of a grid target.
fn slice(t: &Target) -> [[i64; 2]; 2] {
    let [ys, xs] = t.space_slice.expect("grid targets have a space_slice");
    [
        [ys[0].unwrap(), ys[1].unwrap()],
        [xs[0].unwrap(), xs[1].unwrap()],
    ]
}

/// Whether a closed box `[x, y, w, h]` meets the closed window (touching counts).
fn touches(b: [f64; 4], [[y0, y1], [x0, x1]]: [[i64; 2]; 2]) -> bool {
    let [x, y, w, h] = b;
    x <= x1 as f64 && x + w >= x0 as f64 && y <= y1 as f64 && y + h >= y0 as f64
}

/// Brute-force label of a 2D window: 0 negative, 1 positive, 2 ignored.
fn brute_label(ds: &CocoDataset, gid: i64, win: [[i64; 2]; 2]) -> u8 {
    let mut ignored = false;
    for ann in ds.annotations().iter().filter(|a| a.image_id.0 == gid) {
        let Some(b) = ann.bbox else { continue };
        if !touches(b, win) {
            continue;
        }
        let name = ann
            .category_id
            .and_then(|c| ds.category(c))
            .map(|c| c.name.to_lowercase());
        match name.as_deref() {
            Some("ignore") => ignored = true,
            Some("background") => {}
            _ => return 1,
        }
    }
    if ignored { 2 } else { 0 }
}

/// The lists partition `0..len` and each window's label matches brute force.
fn check_labels(grid: &SampleGrid, label_of: impl Fn(&Target) -> u8) {
    let n = grid.targets.len();
    let mut seen = vec![0u8; n];
    for (list, want) in [
        (&grid.positives, 1),
        (&grid.negatives, 0),
        (&grid.ignored, 2),
    ] {
        assert!(list.windows(2).all(|w| w[0] < w[1]), "lists are increasing");
        for &i in list {
            assert!(i < n, "index {i} out of range {n}");
            seen[i] += 1;
            assert_eq!(
                label_of(&grid.targets[i]),
                want,
                "window {i} {:?}",
                grid.targets[i]
            );
        }
    }
    assert!(
        seen.iter().all(|&c| c == 1),
        "every window has exactly one label"
    );
}

/// Every pixel of an `h × w` image lies in some window; windows lie inside the
/// image or start at 0 with the window size when the window is larger.
fn check_cover(wins: &[[[i64; 2]; 2]], [h, w]: [i64; 2], [wh, ww]: [i64; 2]) {
    let mut hit = vec![false; (h * w) as usize];
    for &[[y0, y1], [x0, x1]] in wins {
        for (lo, hi, d, n) in [(y0, y1, wh, h), (x0, x1, ww, w)] {
            assert_eq!(hi - lo, d, "every window has the window size");
            if d >= n {
                assert_eq!(lo, 0, "a window larger than the image starts at 0");
            } else {
                assert!(lo >= 0 && hi <= n, "[{lo}, {hi}) leaves [0, {n})");
            }
        }
        for y in y0.max(0)..y1.min(h) {
            for x in x0.max(0)..x1.min(w) {
                hit[(y * w + x) as usize] = true;
            }
        }
    }
    assert!(hit.iter().all(|&b| b), "some pixel is not covered");
    let mut uniq = wins.to_vec();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), wins.len(), "duplicate windows");
}

#[test]
fn shapes4_grid_matches_brute_force() {
    let ds = fixture("shapes4");
    for (window, overlap, full) in [
        ([128, 128], 0.0, false),
        ([100, 150], 0.3, true),
        ([512, 64], 0.5, false),
    ] {
        let cfg = GridConfig::new(window)
            .with_overlap(overlap)
            .with_full(full);
        let grid = sample_grid(&ds, &cfg).unwrap();
        check_labels(&grid, |t| brute_label(&ds, t.image_id.unwrap().0, slice(t)));
        assert!(!grid.positives.is_empty() && !grid.negatives.is_empty() || window[0] >= 400);
        for img in ds.images() {
            let wins: Vec<_> = grid
                .targets
                .iter()
                .filter(|t| t.image_id == Some(img.id))
                .map(slice)
                .filter(|s| !(full && *s == [[0, 400], [0, 400]]))
                .collect();
            check_cover(&wins, [400, 400], window);
        }
    }
}

/// The reference appended the target before recording `len(targets)`, so every
/// index pointed one window too far. Here `positives[k]` is the window itself.
#[test]
fn indexes_point_at_their_own_window() {
    let ds = fixture("shapes4");
    let grid = sample_grid(&ds, &GridConfig::new([64, 64])).unwrap();
    // a window whose neighbour is of the other kind exists, so an off-by-one
    // list would fail the brute-force check
    let flips = (1..grid.targets.len())
        .filter(|&i| grid.label(i) != grid.label(i - 1))
        .count();
    assert!(flips > 0);
    for &i in &grid.positives {
        assert_eq!(
            brute_label(
                &ds,
                grid.targets[i].image_id.unwrap().0,
                slice(&grid.targets[i])
            ),
            1
        );
    }
    for &i in &grid.negatives {
        assert_eq!(
            brute_label(
                &ds,
                grid.targets[i].image_id.unwrap().0,
                slice(&grid.targets[i])
            ),
            0
        );
    }
    assert!(grid.positives.contains(&0) || grid.negatives.contains(&0));
    let last = grid.targets.len() - 1;
    assert!(grid.positives.contains(&last) || grid.negatives.contains(&last));
}

#[test]
fn shapes4_classes_of_interest() {
    let ds = fixture("shapes4");
    let spec = ClassSpec {
        of_interest: Some(vec!["star".into()]),
        ignore: vec!["eff".into()],
    };
    let grid = sample_grid(&ds, &GridConfig::new([100, 100]).with_classes(spec)).unwrap();
    let star = ds.category_by_name("star").unwrap().id;
    let eff = ds.category_by_name("eff").unwrap().id;
    check_labels(&grid, |t| {
        let win = slice(t);
        let hits: Vec<_> = ds
            .image_annotations(t.image_id.unwrap())
            .filter(|a| a.bbox.is_some_and(|b| touches(b, win)))
            .collect();
        if hits.iter().any(|a| a.category_id == Some(star)) {
            1
        } else if hits.iter().any(|a| a.category_id == Some(eff)) {
            2
        } else {
            0
        }
    });
    assert!(!grid.ignored.is_empty());
}

#[test]
fn vidshapes_video_grid_matches_brute_force() {
    let ds = fixture("vidshapes2-msi");
    let cfg = GridConfig::new([128, 128]).with_overlap(0.25).with_video(2);
    let grid = sample_grid(&ds, &cfg).unwrap();
    // 2 videos x 2 time windows ([0,2), [1,3)) x 3 x 3 windows
    assert_eq!(grid.targets.len(), 2 * 2 * 9);
    check_labels(&grid, |t| {
        let vid = t.video_id.unwrap();
        let frames = ds.images_of_video(vid);
        let [t0, t1] = t
            .time_slice
            .map(|s| [s[0].unwrap(), s[1].unwrap()])
            .unwrap();
        assert!(0 <= t0 && t0 < t1 && t1 <= frames.len() as i64);
        // the fixture's warp_img_to_vid are identities: video space = image space
        let labels: Vec<u8> = frames[t0 as usize..t1 as usize]
            .iter()
            .map(|g| brute_label(&ds, g.0, slice(t)))
            .collect();
        u8::from(labels.contains(&1))
    });
    for v in ds.videos() {
        let wins: Vec<_> = grid
            .targets
            .iter()
            .filter(|t| t.video_id == Some(v.id) && t.time_slice == Some([Some(0), Some(2)]))
            .map(slice)
            .collect();
        check_cover(&wins, [300, 300], [128, 128]);
    }
    assert!(!grid.positives.is_empty() && !grid.negatives.is_empty());
}

#[test]
fn grid_json_is_a_plan() {
    let ds = fixture("shapes4");
    let grid = sample_grid(&ds, &GridConfig::new([200, 200])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("grid.json");
    std::fs::write(&p, serde_json::to_string(&grid).unwrap()).unwrap();
    let plan = sampler::plan::TargetList::read_json(&p).unwrap();
    assert_eq!(plan.targets, grid.targets);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(
        v["positives"].as_array().unwrap().len(),
        grid.positives.len()
    );
    assert_eq!(
        v["negatives"].as_array().unwrap().len(),
        grid.negatives.len()
    );
}

/// A random dataset: images of random sizes with random boxes of random classes
/// (`a`, `b`, `ignore`, `background`).
fn arb_dataset() -> impl Strategy<Value = CocoDataset> {
    let image = (
        1i64..90,
        1i64..90,
        prop::collection::vec(
            (
                -10.0f64..100.0,
                -10.0f64..100.0,
                0.0f64..30.0,
                0.0f64..30.0,
                1i64..5,
            ),
            0..8,
        ),
    );
    prop::collection::vec(image, 1..4).prop_map(|imgs| {
        let mut images = Vec::new();
        let mut anns = Vec::new();
        for (gi, (h, w, boxes)) in imgs.into_iter().enumerate() {
            let gid = gi + 1;
            images.push(serde_json::json!({"id": gid, "file_name": format!("{gid}.png"), "width": w, "height": h}));
            for (x, y, bw, bh, c) in boxes {
                let aid = anns.len() + 1;
                anns.push(serde_json::json!({"id": aid, "image_id": gid, "category_id": c, "bbox": [x, y, bw, bh]}));
            }
        }
        let v = serde_json::json!({
            "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"},
                           {"id": 3, "name": "ignore"}, {"id": 4, "name": "background"}],
            "images": images,
            "annotations": anns,
        });
        CocoDataset::from_json_str(&v.to_string(), ".").unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_grids_match_brute_force(
        ds in arb_dataset(),
        wh in 1i64..60,
        ww in 1i64..60,
        overlap in 0.0f64..0.9,
        full in any::<bool>(),
    ) {
        let grid = sample_grid(&ds, &GridConfig::new([wh, ww]).with_overlap(overlap).with_full(full)).unwrap();
        check_labels(&grid, |t| brute_label(&ds, t.image_id.unwrap().0, slice(t)));
        for img in ds.images() {
            let (h, w) = (img.height.unwrap() as i64, img.width.unwrap() as i64);
            let wins: Vec<_> = grid
                .targets
                .iter()
                .filter(|t| t.image_id == Some(img.id))
                .map(slice)
                .collect();
            let sliding: Vec<_> = if full && wins.len() > 1 && *wins.last().unwrap() == [[0, h], [0, w]] {
                wins[..wins.len() - 1].to_vec()
            } else {
                wins.clone()
            };
            check_cover(&sliding, [h, w], [wh, ww]);
            prop_assert_eq!(wins.contains(&[[0, h], [0, w]]), full || (wh == h && ww == w));
        }
    }
}
