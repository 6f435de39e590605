//! The memory-mapped snapshot: a sampler opened on it gives the same samples
//! (pixels, boxes, segmentations, keypoints, regions) as one over the JSON on
//! every fixture; a stale snapshot is never used; a damaged one is an error
//! or ignored, never a panic.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use coco_model::CocoDataset;
use proptest::prelude::*;
use sampler::regions::NegativeOptions;
use sampler::snapshot::{self, Snapshot, SnapshotError, SnapshotStatus};
use sampler::{CocoSampler, Regions, SampleOptions, SamplerConfig, Target, WithAnnots};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
}

fn fixtures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = [
        "shapes4/data.kwcoco.json",
        "vidshapes2-msi/data.kwcoco.json",
        "forms/data.kwcoco.json",
        "python-assets/data.kwcoco.json",
    ]
    .iter()
    .map(|r| fixture(r))
    .collect();
    for shared in [
        "/work/shared/fixtures/shapes4/data.kwcoco.json",
        "/work/shared/fixtures/vidshapes2-msi/data.kwcoco.json",
    ] {
        if Path::new(shared).is_file() {
            out.push(shared.into());
        }
    }
    out
}

fn target(v: serde_json::Value) -> Target {
    serde_json::from_value(v).unwrap()
}

/// Targets touching every image, annotation and video of `ds`, in several forms.
fn targets(ds: &CocoDataset) -> Vec<(Target, SampleOptions)> {
    use serde_json::json;
    let mut out = Vec::new();
    let plain = SampleOptions::default;
    for img in ds.images() {
        let g = img.id.0;
        out.push((target(json!({"image_id": g})), plain()));
        out.push((
            target(json!({"image_id": g, "space_slice": [[-5, 40], [3, 70]], "pad": 2})),
            SampleOptions {
                visible_thresh: Some(0.3),
                ..plain()
            },
        ));
        let ids: Vec<i64> = ds.annots_of_image(img.id).iter().map(|a| a.0).collect();
        out.push((
            target(json!({"image_id": g})),
            SampleOptions {
                annot_ids: Some(ids.into_iter().step_by(2).collect()),
                ..plain()
            },
        ));
        out.push((
            target(json!({"image_id": g, "space_slice": [[10, 50], [10, 50]]})),
            SampleOptions {
                clip: true,
                with_annots: Some(WithAnnots::parse("boxes+keypoints").unwrap()),
                ..plain()
            },
        ));
    }
    for a in ds.annotations() {
        out.push((
            target(json!({"annot_id": a.id.0, "pad": 4})),
            SampleOptions::default(),
        ));
    }
    for v in ds.videos() {
        out.push((target(json!({"video_id": v.id.0})), plain()));
        out.push((
            target(json!({"video_id": v.id.0, "time_slice": [-1, 2], "space_slice": [[0, 32], [8, 40]]})),
            plain(),
        ));
    }
    out
}

/// A sample as comparable text: its JSON and its pixels' npy bytes, or the error.
fn outcome(s: &CocoSampler, t: &Target, o: &SampleOptions) -> String {
    match s.load_sample_with(t, o) {
        Ok(sample) => format!(
            "{}\n{:?}",
            sample.to_json(),
            xxhash_rust_free_hash(&sample.im.npy_bytes())
        ),
        Err(e) => format!("error: {e}"),
    }
}

/// FNV-1a: a short fingerprint of the pixels without another dependency.
fn xxhash_rust_free_hash(b: &[u8]) -> (usize, u64) {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &x in b {
        h = (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3);
    }
    (b.len(), h)
}

/// `json` copied into a fresh bundle directory (the fixture's own files
/// stay where they are: the copy's file names are made absolute).
struct Copy {
    _dir: tempfile::TempDir,
    json: PathBuf,
    work: PathBuf,
}

fn copy_of(json: &Path) -> Copy {
    let dir = tempfile::tempdir().unwrap();
    let mut ds = CocoDataset::load(json).unwrap();
    ds.reroot(dir.path(), true);
    let out = dir.path().join("data.kwcoco.json");
    ds.dump(&out, coco_model::DumpStyle::Pretty).unwrap();
    let work = dir.path().join("work");
    Copy {
        json: out,
        work,
        _dir: dir,
    }
}

#[test]
fn samples_from_the_snapshot_equal_samples_from_the_json() {
    for json in fixtures() {
        let work = tempfile::tempdir().unwrap();
        let (path, status) = snapshot::ensure(&json, work.path()).unwrap();
        assert_eq!(status, SnapshotStatus::Built, "{}", json.display());
        let ds = CocoDataset::load(&json).unwrap();
        let mem = CocoSampler::new(Arc::new(ds.clone()), SamplerConfig::default()).unwrap();
        let snap = CocoSampler::open_in(&json, work.path()).unwrap();
        assert_eq!(snap.snapshot_path(), Some(path.as_path()));
        assert!(mem.snapshot_path().is_none());
        // decoded images: none kept, one kept (evicted on every other image),
        // and the default
        let bounded = |entries| {
            let s = snapshot::Snapshot::open_for(&path, &json).unwrap();
            let config = SamplerConfig {
                image_cache_entries: entries,
                ..SamplerConfig::default()
            };
            CocoSampler::from_snapshot(s, &json, config).unwrap()
        };
        let (none, one) = (bounded(0), bounded(1));
        let mut n_ok = 0;
        for (t, o) in targets(&ds) {
            let want = outcome(&mem, &t, &o);
            n_ok += usize::from(!want.starts_with("error"));
            assert_eq!(outcome(&snap, &t, &o), want, "{}: {t:?}", json.display());
            assert_eq!(outcome(&none, &t, &o), want, "{}: {t:?}", json.display());
            assert_eq!(outcome(&one, &t, &o), want, "{}: {t:?}", json.display());
        }
        assert!(n_ok > 0, "{}: every target failed", json.display());
        // the bound holds (one entry per cache shard at most) and the cache is used
        assert_eq!(none.images_kept(), 0);
        assert!(
            (1..=8).contains(&one.images_kept()),
            "{}",
            one.images_kept()
        );
        assert!(snap.images_kept() >= one.images_kept());
        assert_eq!(mem.images_kept(), 0);
        // unknown ids fail the same way
        for t in [
            serde_json::json!({"image_id": 987_654}),
            serde_json::json!({"annot_id": 987_654}),
            serde_json::json!({"video_id": 987_654}),
        ] {
            let t = target(t);
            let o = SampleOptions::default();
            assert_eq!(outcome(&snap, &t, &o), outcome(&mem, &t, &o));
        }
        // the full index built from the columns equals the eager one
        let (a, b) = (mem.region_index(), snap.region_index());
        assert_eq!(a.len(), b.len());
        for img in ds.images() {
            assert_eq!(a.frame_boxes(&img.id), b.frame_boxes(&img.id));
        }
        // the dataset view loads the JSON lazily
        assert_eq!(
            snap.dataset().annotations().len(),
            ds.annotations().len(),
            "{}",
            json.display()
        );
        // regions: positives, anchors and seeded negatives, from the columns
        // (before the dataset view is loaded) and from the dataset
        let fresh = CocoSampler::open_in(&json, work.path()).unwrap();
        let (ra, rb, rc) = (
            Regions::new(mem.dataset()).unwrap(),
            Regions::from_sampler(&fresh).unwrap(),
            Regions::from_sampler(&mem).unwrap(),
        );
        assert_eq!(ra.positives(), rb.positives(), "{}", json.display());
        assert_eq!(ra.positives(), rc.positives());
        assert_eq!(ra.anchors(), rb.anchors());
        assert_eq!(ra.background_id(), rb.background_id());
        for img in ds.images() {
            assert_eq!(
                ra.index().frame_boxes(&img.id.0),
                rb.index().frame_boxes(&img.id.0)
            );
        }
        for neg in [
            NegativeOptions::absolute([16, 16]).with_thresh(0.0),
            NegativeOptions::default(),
        ] {
            assert_eq!(
                ra.negatives(&neg, 8, 3).unwrap(),
                rb.negatives(&neg, 8, 3).unwrap()
            );
        }
    }
}

#[test]
fn ensure_reuses_a_valid_snapshot_and_open_finds_it_in_the_default_workdir() {
    let c = copy_of(&fixture("shapes4/data.kwcoco.json"));
    let (p1, s1) = snapshot::ensure(&c.json, &c.work).unwrap();
    let (p2, s2) = snapshot::ensure(&c.json, &c.work).unwrap();
    assert_eq!((s1, s2), (SnapshotStatus::Built, SnapshotStatus::Reused));
    assert_eq!(p1, p2);
    assert!(p1.starts_with(c.work.join("_snapshot")));
    // `open` looks under BUNDLE/_cache
    assert!(
        CocoSampler::open(&c.json)
            .unwrap()
            .snapshot_path()
            .is_none()
    );
    let bundle_cache = c.json.parent().unwrap().join("_cache");
    snapshot::ensure(&c.json, &bundle_cache).unwrap();
    assert!(
        CocoSampler::open(&c.json)
            .unwrap()
            .snapshot_path()
            .is_some()
    );
    // a bundle directory names its manifest
    let dir_sampler = CocoSampler::open(c.json.parent().unwrap()).unwrap();
    assert!(dir_sampler.snapshot_path().is_some());
}

#[test]
fn a_stale_snapshot_is_never_used() {
    let c = copy_of(&fixture("shapes4/data.kwcoco.json"));
    snapshot::ensure(&c.json, &c.work).unwrap();
    let text = std::fs::read_to_string(&c.json).unwrap();
    // the same length, one box moved by a digit: only the content hash tells
    let at = text.find("\"bbox\": [").unwrap() + "\"bbox\": [".len();
    let d = text.as_bytes()[at];
    assert!(d.is_ascii_digit());
    let mut edited = text.clone().into_bytes();
    edited[at] = if d == b'1' { b'2' } else { b'1' };
    assert_eq!(edited.len(), text.len());
    std::fs::write(&c.json, &edited).unwrap();
    let path = snapshot::snapshot_path(&c.work, &c.json);
    assert!(matches!(
        Snapshot::open_for(&path, &c.json),
        Err(SnapshotError::Stale { .. })
    ));
    let s = CocoSampler::open_in(&c.json, &c.work).unwrap();
    assert!(s.snapshot_path().is_none(), "stale snapshot used");
    // and `ensure` rebuilds it
    let (_, status) = snapshot::ensure(&c.json, &c.work).unwrap();
    assert_eq!(status, SnapshotStatus::Rebuilt);
    assert!(
        CocoSampler::open_in(&c.json, &c.work)
            .unwrap()
            .snapshot_path()
            .is_some()
    );
}

/// Whatever a damaged snapshot does, it is a result or an error.
fn exercise(bytes: &[u8], json: &Path, ds: &CocoDataset) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.ndsnap");
    std::fs::write(&p, bytes).unwrap();
    let Ok(snap) = Snapshot::open(&p) else {
        return;
    };
    let _ = snap.verify();
    let Ok(s) = CocoSampler::from_snapshot(snap, json, SamplerConfig::default()) else {
        return;
    };
    for (t, o) in targets(ds).into_iter().take(40) {
        let _ = s.load_sample_with(&t, &o);
    }
    let _ = s.region_index().len();
    if let Ok(r) = Regions::from_sampler(&s) {
        let _ = r.negatives(&NegativeOptions::default(), 4, 1);
    }
}

fn shapes_snapshot() -> (Vec<u8>, PathBuf, CocoDataset) {
    let json = fixture("shapes4/data.kwcoco.json");
    let work = tempfile::tempdir().unwrap();
    let (p, _) = snapshot::ensure(&json, work.path()).unwrap();
    let ds = CocoDataset::load(&json).unwrap();
    (std::fs::read(p).unwrap(), json, ds)
}

#[test]
fn truncated_snapshots_are_refused_at_every_length() {
    let (bytes, json, _) = shapes_snapshot();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.ndsnap");
    let step = (bytes.len() / 300).max(1);
    for len in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
        std::fs::write(&p, &bytes[..len]).unwrap();
        let e = Snapshot::open(&p).unwrap_err();
        assert!(matches!(e, SnapshotError::Corrupt { .. }), "{len}: {e}");
        assert!(e.to_string().contains("t.ndsnap"), "{e}");
    }
    let _ = json;
}

#[test]
fn a_flipped_body_byte_fails_the_checksum() {
    let (mut bytes, _, _) = shapes_snapshot();
    let n = bytes.len();
    bytes[n - 3] ^= 0x20;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.ndsnap");
    std::fs::write(&p, &bytes).unwrap();
    let e = Snapshot::open(&p).unwrap().verify().unwrap_err();
    assert!(e.to_string().contains("checksum"), "{e}");
}

#[test]
fn a_corrupt_snapshot_falls_back_to_the_json() {
    let c = copy_of(&fixture("shapes4/data.kwcoco.json"));
    let (p, _) = snapshot::ensure(&c.json, &c.work).unwrap();
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&p, &bytes).unwrap();
    let s = CocoSampler::open_in(&c.json, &c.work).unwrap();
    assert!(s.snapshot_path().is_none());
    let (_, status) = snapshot::ensure(&c.json, &c.work).unwrap();
    assert_eq!(status, SnapshotStatus::Rebuilt);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("NDSAMPLER_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn damaged_snapshots_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        thread_local! {
            static BASE: (Vec<u8>, PathBuf, CocoDataset) = shapes_snapshot();
        }
        BASE.with(|(bytes, json, ds)| {
            let mut b = bytes.clone();
            for (i, x) in &flips {
                let k = i.index(b.len());
                b[k] ^= x;
            }
            if let Some(c) = cut {
                b.truncate(c.index(b.len()));
            }
            exercise(&b, json, ds);
        });
    }
}

#[test]
fn edge_cases_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = fixture("shapes4/images");
    let png = std::fs::read_dir(&shapes)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .unwrap();
    let png = png.display().to_string();
    let text = serde_json::json!({
        "categories": [{"id": 1, "name": "a", "keypoints": ["l", "r"]}, {"id": 2, "name": "background"}],
        "keypoint_categories": [{"id": 7, "name": "tip"}],
        "videos": [{"id": 3, "name": "v"}, {"id": 4, "name": "empty", "width": 20, "height": 10}],
        "images": [
            {"id": 10, "file_name": png, "video_id": 3, "frame_index": 1},
            {"id": 11, "file_name": png, "video_id": 3, "frame_index": 0,
             "warp_img_to_vid": {"type": "affine", "scale": 0.5}},
            {"id": 12, "file_name": png},
            {"id": 5, "file_name": png, "width": 600, "height": 600}
        ],
        "annotations": [
            {"id": 1, "image_id": 10, "category_id": 1, "bbox": [1, 2, 30, 40],
             "keypoints": [5, 6, 2, 7, 8, 2]},
            {"id": 2, "image_id": 10, "segmentation": [[10, 10, 40, 10, 40, 30]]},
            {"id": 3, "image_id": 11, "category_id": 1},
            {"id": 4, "image_id": 12, "bbox": [0, 0, 5, 5],
             "keypoints": [{"xy": [1, 2], "keypoint_category_id": 7}]},
            {"id": 6, "image_id": 11, "bbox": [3, 3, 8, 8], "category_id": 2,
             "segmentation": {"size": [600, 600], "counts": [6000, 20, 580, 20, 353380]}},
            {"id": 9, "image_id": 999, "bbox": [0, 0, 1, 1]},
            // polygon forms the snapshot keeps parsed (GeoJSON with a hole and
            // keypoints, kwcoco dict with floats, pairs), and text that is no
            // segmentation (an error on use, from the JSON and the snapshot)
            {"id": 14, "image_id": 10, "category_id": 1, "keypoints": [3, 4, 2, 9, 9, 1],
             "segmentation": {"type": "Polygon", "coordinates": [
                 [[0, 0], [20, 0], [20, 20], [0, 20], [0, 0]], [[5, 5], [8, 5], [8, 8], [5, 5]]]}},
            {"id": 15, "image_id": 10,
             "segmentation": {"exterior": [[1.5, 1], [6, 1], [6, 9.25]], "interiors": []}},
            {"id": 16, "image_id": 12, "segmentation": [[2, 2], [9, 2], [9, 7]]},
            {"id": 17, "image_id": 12, "bbox": [300, 300, 4, 4], "segmentation": {"type": "Bogus"}}
        ]
    });
    let json = dir.path().join("edge.kwcoco.json");
    std::fs::write(&json, serde_json::to_string_pretty(&text).unwrap()).unwrap();
    let empty = dir.path().join("empty.kwcoco.json");
    std::fs::write(
        &empty,
        r#"{"categories": [], "images": [], "annotations": []}"#,
    )
    .unwrap();
    let no_annots = dir.path().join("noann.kwcoco.json");
    std::fs::write(
        &no_annots,
        serde_json::json!({"images": [{"id": 1, "file_name": png}]}).to_string(),
    )
    .unwrap();
    for j in [&json, &empty, &no_annots] {
        let work = dir.path().join("work");
        snapshot::ensure(j, &work).unwrap();
        let ds = CocoDataset::load(j).unwrap();
        let mem = CocoSampler::new(Arc::new(ds.clone()), SamplerConfig::default()).unwrap();
        let snap = CocoSampler::open_in(j, &work).unwrap();
        assert!(snap.snapshot_path().is_some());
        let mut ts = targets(&ds);
        ts.push((
            target(serde_json::json!({"image_ids": [11, 10], "space_slice": [[0, 20], [0, 20]]})),
            SampleOptions::default(),
        ));
        ts.push((
            target(serde_json::json!({"video_id": 4})),
            SampleOptions::default(),
        ));
        let mut seen = String::new();
        for (t, o) in ts {
            let want = outcome(&mem, &t, &o);
            assert_eq!(outcome(&snap, &t, &o), want, "{t:?}");
            seen.push_str(&want);
        }
        if j == &json {
            // the new forms were sampled and written back in their forms
            for part in ["\"coordinates\"", "\"exterior\"", "9.25", "annotation 17"] {
                assert!(seen.contains(part), "{part} not in the samples");
            }
        }
        let (ra, rb) = (
            Regions::new(&ds).unwrap(),
            Regions::from_sampler(&snap).unwrap(),
        );
        assert_eq!(ra.positives(), rb.positives());
        assert_eq!(ra.anchors(), rb.anchors());
        let neg = NegativeOptions::absolute([8, 8]).with_thresh(0.0);
        assert_eq!(
            ra.negatives(&neg, 5, 1).unwrap(),
            rb.negatives(&neg, 5, 1).unwrap()
        );
        let s = Snapshot::open(snap.snapshot_path().unwrap()).unwrap();
        assert_eq!(s.n_images(), ds.images().len());
        assert_eq!(s.n_annotations(), ds.annotations().len());
        assert_eq!(s.n_videos(), ds.videos().len());
    }
}

#[test]
fn a_dataset_the_sampler_refuses_gets_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bad.json");
    std::fs::write(
        &json,
        r#"{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}],
            "annotations": [{"id": 1, "image_id": 1, "bbox": [0, 0, -3, 2]}]}"#,
    )
    .unwrap();
    let e = snapshot::ensure(&json, dir.path()).unwrap_err().to_string();
    assert_eq!(
        e,
        CocoSampler::open(&json).err().unwrap().to_string(),
        "the same error as the sampler"
    );
    assert!(!snapshot::snapshot_path(dir.path(), &json).exists());
}

#[test]
fn the_file_stamp_shortcut_never_hides_an_edit() {
    let c = copy_of(&fixture("shapes4/data.kwcoco.json"));
    // a file changed in the last seconds gets no stamp (file times are coarse)
    let (p, _) = snapshot::ensure(&c.json, &c.work).unwrap();
    assert_eq!(Snapshot::open(&p).unwrap().source_key().stamp, [0; 4]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    std::fs::remove_file(&p).unwrap();
    let (p, _) = snapshot::ensure(&c.json, &c.work).unwrap();
    let key = Snapshot::open(&p).unwrap().source_key();
    assert_ne!(key.stamp, [0; 4], "a settled file is stamped");
    assert!(Snapshot::open_for(&p, &c.json).is_ok());
    // an in-place edit of the same length moves the ctime: hashed, stale
    let mut bytes = std::fs::read(&c.json).unwrap();
    let at = bytes.iter().position(|b| b.is_ascii_digit()).unwrap();
    bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
    std::fs::write(&c.json, &bytes).unwrap();
    assert!(matches!(
        Snapshot::open_for(&p, &c.json),
        Err(SnapshotError::Stale { .. })
    ));
    // a copy with the same content (new inode) is hashed and accepted
    let text = std::fs::read(&c.json).unwrap();
    let (p, _) = snapshot::ensure(&c.json, &c.work).unwrap();
    let other = c.json.with_file_name("copy.json");
    std::fs::write(&other, &text).unwrap();
    std::fs::rename(&other, &c.json).unwrap();
    assert!(Snapshot::open_for(&p, &c.json).is_ok());
}

#[test]
fn crowded_and_sparse_images_answer_alike() {
    // one image above the scan limit (an R-tree per image), one below (a scan)
    let dir = tempfile::tempdir().unwrap();
    let png = fixture("shapes4/images");
    let png = std::fs::read_dir(&png)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .unwrap();
    let size = image::image_dimensions(&png).unwrap();
    let mut anns = Vec::new();
    for i in 0..700i64 {
        let g = if i % 7 == 0 { 2 } else { 1 };
        let (x, y) = ((i * 37) % 500, (i * 53) % 500);
        anns.push(
            serde_json::json!({"id": i + 1, "image_id": g, "category_id": 1,
            "bbox": [x, y, 5 + i % 40, 3 + i % 30]}),
        );
    }
    let text = serde_json::json!({
        "categories": [{"id": 1, "name": "a"}],
        "images": [
            {"id": 1, "file_name": png, "width": size.0, "height": size.1},
            {"id": 2, "file_name": png, "width": size.0, "height": size.1}
        ],
        "annotations": anns
    });
    let json = dir.path().join("crowd.json");
    std::fs::write(&json, text.to_string()).unwrap();
    let work = dir.path().join("work");
    snapshot::ensure(&json, &work).unwrap();
    let ds = CocoDataset::load(&json).unwrap();
    let mem = CocoSampler::new(Arc::new(ds), SamplerConfig::default()).unwrap();
    let snap = CocoSampler::open_in(&json, &work).unwrap();
    assert!(snap.snapshot_path().is_some());
    // no decoded image kept: the R-tree and the rows are rebuilt per query
    let config = SamplerConfig {
        image_cache_entries: 0,
        ..SamplerConfig::default()
    };
    let path = snap.snapshot_path().unwrap().to_path_buf();
    let uncached =
        CocoSampler::from_snapshot(snapshot::Snapshot::open(&path).unwrap(), &json, config)
            .unwrap();
    let mut found = [0usize; 2];
    for g in [1, 2] {
        for (y, x) in [(0, 0), (100, 200), (300, 50), (-20, 400)] {
            for thresh in [0.0, 0.5] {
                let t = target(serde_json::json!(
                    {"image_id": g, "space_slice": [[y, y + 120], [x, x + 90]]}));
                let o = SampleOptions {
                    visible_thresh: Some(thresh),
                    ..SampleOptions::default()
                };
                let a = outcome(&mem, &t, &o);
                found[g as usize - 1] += a.matches("\"visibility\"").count();
                assert_eq!(outcome(&snap, &t, &o), a, "{t:?}");
                assert_eq!(outcome(&uncached, &t, &o), a, "{t:?}");
            }
        }
    }
    assert!(found[0] > 100 && found[1] > 10, "{found:?}");
}

#[test]
fn lookups_by_id_agree_with_the_dataset_for_dense_and_sparse_ids() {
    // dense ids (a table, one read), sparse ones (binary search), negative
    // ones and a repeated id (the first record wins), each against the
    // dataset's own index
    let dir = tempfile::tempdir().unwrap();
    for (name, ids, dense) in [
        ("dense", vec![3i64, 1, 2, 7, 5, 4, 3], true),
        (
            "sparse",
            vec![1_000_000_007, -5, 12, i64::MAX, i64::MIN + 1, 12],
            false,
        ),
        ("negative", vec![-3, -1, -2, -10, -1], true),
        // seven records: a table when the ids span at most 2 × 7 + 64 = 78
        ("widest-dense", vec![1, 78, 2, 3, 4, 5, 6], true),
        ("narrowest-sparse", vec![1, 79, 2, 3, 4, 5, 6], false),
    ] {
        // the repeated id (last) has no box: the sampler refuses two boxes of
        // one id on a frame
        let anns: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(k, &i)| match k + 1 == ids.len() {
                true => serde_json::json!({"id": i, "image_id": 41}),
                false => serde_json::json!({"id": i, "image_id": 40, "bbox": [0, 0, 2, 2]}),
            })
            .collect();
        let images: Vec<_> = [40i64, -7, 41, 1 << 40]
            .iter()
            .map(|&i| serde_json::json!({"id": i, "file_name": "x.png", "width": 8, "height": 8}))
            .collect();
        let json = dir.path().join(format!("{name}.json"));
        std::fs::write(
            &json,
            serde_json::json!({"images": images, "annotations": anns}).to_string(),
        )
        .unwrap();
        let ds = CocoDataset::load(&json).unwrap();
        let (path, _) = snapshot::ensure(&json, &dir.path().join(name)).unwrap();
        let snap = Snapshot::open(&path).unwrap();
        // the images' ids span 2^40: binary search
        assert_eq!(snap.dense_ids(), (false, dense), "{name}");
        let lo = ids.iter().min().unwrap().saturating_sub(2);
        let hi = ids.iter().max().unwrap().saturating_add(2);
        let probes =
            ids.iter()
                .copied()
                .chain([lo, lo + 1, hi, hi - 1, 0, 6, 13, i64::MIN, i64::MAX]);
        for id in probes {
            assert_eq!(
                snap.annotation_position(id).unwrap(),
                ds.annotation_position(coco_model::AnnotId(id)),
                "{name}: annotation {id}"
            );
        }
        for (p, img) in ds.images().iter().enumerate() {
            assert_eq!(snap.image_position(img.id.0).unwrap(), Some(p), "{name}");
        }
        for id in [39, 42, -8, (1 << 40) + 1, i64::MIN] {
            assert_eq!(snap.image_position(id).unwrap(), None, "{name}: image {id}");
        }
    }
}
