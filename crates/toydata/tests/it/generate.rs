//! Generated bundles: determinism, geometry invariants, file consistency, and the
//! structure of kwcoco's own demo data (the fixtures written by kwcoco 0.9.1).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;

fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn load(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(toydata::DATASET_FILE)).unwrap()).unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn png_size(path: &Path) -> (u32, u32) {
    let dec = png::Decoder::new(std::io::BufReader::new(File::open(path).unwrap()));
    let r = dec.read_info().unwrap();
    (r.info().width, r.info().height)
}

fn tiff_size(path: &Path) -> (u32, u32) {
    let mut dec = tiff::decoder::Decoder::new(File::open(path).unwrap()).unwrap();
    dec.dimensions().unwrap()
}

const KEYS: [&str; 6] = [
    "shapes3-gsize64x48",
    "vidshapes2-frames3-tracks3-gsize48",
    "vidshapes1-frames2-tracks2-gsize60-msi",
    "vidshapes1-frames3-tracks2-gsize40-aux-multisensor-randgsize-timestamps",
    "vidshapes1-frames4-tracks2-gsize36-msi-multisensor",
    "big1-gsize96-annots30",
];

#[test]
fn same_key_and_seed_give_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for (i, key) in KEYS.iter().enumerate() {
        let a = dir.path().join(format!("{i}a"));
        let b = dir.path().join(format!("{i}b"));
        let c = dir.path().join(format!("{i}c"));
        toydata::generate(key, Some(3), &a).unwrap();
        toydata::generate(key, Some(3), &b).unwrap();
        toydata::generate(key, Some(4), &c).unwrap();
        let (fa, fb, fc) = (files_under(&a), files_under(&b), files_under(&c));
        assert!(fa.len() >= 2, "{key}");
        assert_eq!(fa, fb, "{key}: two generations differ");
        assert_ne!(fa, fc, "{key}: the seed has no effect");
    }
}

#[test]
fn token_order_does_not_change_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    toydata::generate("vidshapes1-tracks2-frames2-gsize32-aux", None, &a).unwrap();
    toydata::generate("vidshapes1-gsize32-aux-frames2-tracks2-seed0", None, &b).unwrap();
    assert_eq!(files_under(&a), files_under(&b));
}

/// Every annotation: polygon vertices inside its box, keypoints inside its box,
/// box inside the image padded by `pad` (fraction of each side); area equal
/// to the polygon area where given. Every file exists with the recorded size.
fn check_bundle(dir: &Path, pad: f64) {
    let data = load(dir);
    let images: BTreeMap<u64, &Value> = data["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|im| (im["id"].as_u64().unwrap(), im))
        .collect();
    for im in images.values() {
        let (w, h) = (
            im["width"].as_u64().unwrap() as u32,
            im["height"].as_u64().unwrap() as u32,
        );
        if let Some(f) = im["file_name"].as_str() {
            assert!(!Path::new(f).is_absolute());
            assert_eq!(png_size(&dir.join(f)), (w, h), "{f}");
        }
        for aux in im["auxiliary"].as_array().into_iter().flatten() {
            let f = aux["file_name"].as_str().unwrap();
            let size = (
                aux["width"].as_u64().unwrap() as u32,
                aux["height"].as_u64().unwrap() as u32,
            );
            assert_eq!(tiff_size(&dir.join(f)), size, "{f}");
            let warp = &aux["warp_aux_to_img"];
            if let Some(s) = warp.get("scale") {
                let s = s.as_f64().unwrap();
                assert_eq!(
                    size,
                    (
                        (f64::from(w) / s).ceil() as u32,
                        (f64::from(h) / s).ceil() as u32
                    )
                );
            }
        }
    }
    let eps = 1e-9;
    for ann in data["annotations"].as_array().unwrap() {
        let im = images[&ann["image_id"].as_u64().unwrap()];
        let (iw, ih) = (
            im["width"].as_f64().unwrap(),
            im["height"].as_f64().unwrap(),
        );
        let b: Vec<f64> = ann["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let [x, y, w, h] = [b[0], b[1], b[2], b[3]];
        assert!(w > 0.0 && h > 0.0, "{ann}");
        assert!(x >= -pad * iw - eps && y >= -pad * ih - eps, "{ann}");
        assert!(
            x + w <= iw * (1.0 + pad) + eps && y + h <= ih * (1.0 + pad) + eps,
            "{ann}"
        );
        let inside = |p: &Value| {
            let (px, py) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
            px >= x - eps && px <= x + w + eps && py >= y - eps && py <= y + h + eps
        };
        let seg = ann["segmentation"].as_array().unwrap();
        let mut area2 = 0.0;
        for poly in seg {
            let ext = poly["exterior"].as_array().unwrap();
            assert!(ext.len() >= 4);
            for ring in std::iter::once(ext).chain(
                poly["interiors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_array().unwrap()),
            ) {
                for p in ring {
                    assert!(inside(p), "vertex {p} outside box {b:?}");
                }
                let n = ring.len();
                for i in 0..n {
                    let (p, q) = (&ring[i], &ring[(i + 1) % n]);
                    area2 += p[0].as_f64().unwrap() * q[1].as_f64().unwrap()
                        - q[0].as_f64().unwrap() * p[1].as_f64().unwrap();
                }
            }
        }
        if let Some(area) = ann.get("area") {
            assert_eq!(area.as_f64().unwrap(), area2.abs() / 2.0, "{ann}");
        }
        for kp in ann["keypoints"].as_array().unwrap() {
            assert!(inside(&kp["xy"]), "keypoint {kp} outside box {b:?}");
            assert!((1..=5).contains(&kp["keypoint_category_id"].as_u64().unwrap()));
        }
    }
}

#[test]
fn geometry_and_files_are_consistent() {
    let dir = tempfile::tempdir().unwrap();
    for (i, key) in KEYS.iter().enumerate() {
        let out = dir.path().join(format!("{i}"));
        toydata::generate(key, None, &out).unwrap();
        let pad = if key.starts_with("vid") {
            toydata::BOX_PAD_FRACTION
        } else {
            0.0
        };
        check_bundle(&out, pad);
    }
}

#[test]
fn coco_model_loads_and_validates_every_bundle() {
    let dir = tempfile::tempdir().unwrap();
    for (i, key) in KEYS.iter().enumerate() {
        let out = dir.path().join(format!("{i}"));
        let s = toydata::generate(key, Some(2), &out).unwrap();
        let ds = coco_model::CocoDataset::load(&out).unwrap();
        assert_eq!(ds.images().len(), s.images, "{key}");
        assert_eq!(ds.annotations().len(), s.annotations, "{key}");
        assert_eq!(ds.videos().len(), s.videos, "{key}");
        let report = ds.validate();
        let errors: Vec<String> = report.errors().map(|d| d.to_string()).collect();
        assert!(errors.is_empty(), "{key}: {errors:#?}");
        // the only warnings: kwcoco's demo supercategories (`vector`, `raster`)
        // are not categories themselves, as in kwcoco's own demo data
        for w in report.warnings() {
            assert_eq!(w.field.as_deref(), Some("supercategory"), "{key}: {w}");
        }
        // the loader's writer reproduces our file exactly
        let text = std::fs::read_to_string(&s.dataset_path).unwrap();
        assert_eq!(
            ds.to_json_string(coco_model::DumpStyle::Pretty),
            text,
            "{key}"
        );
    }
}

#[test]
fn shapes_have_holes_and_several_categories() {
    let dir = tempfile::tempdir().unwrap();
    toydata::generate("shapes6-gsize256", None, dir.path()).unwrap();
    let data = load(dir.path());
    let anns = data["annotations"].as_array().unwrap();
    assert!(anns.len() > 10);
    let cats: std::collections::BTreeSet<u64> = anns
        .iter()
        .map(|a| a["category_id"].as_u64().unwrap())
        .collect();
    assert_eq!(cats.into_iter().collect::<Vec<_>>(), vec![3, 6, 7]);
    let holes = anns
        .iter()
        .flat_map(|a| a["segmentation"].as_array().unwrap())
        .filter(|p| !p["interiors"].as_array().unwrap().is_empty())
        .count();
    assert!(holes > 0, "superstars of a decent size have eye holes");
    for (i, a) in anns.iter().enumerate() {
        assert_eq!(a["id"].as_u64().unwrap(), i as u64 + 1);
    }
}

#[test]
fn videos_have_tracks_moving_smoothly() {
    let dir = tempfile::tempdir().unwrap();
    toydata::generate(
        "vidshapes2-frames6-tracks3-gsize100-speed0.02",
        None,
        dir.path(),
    )
    .unwrap();
    let data = load(dir.path());
    assert_eq!(data["tracks"].as_array().unwrap().len(), 6);
    let mut by_track: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for a in data["annotations"].as_array().unwrap() {
        by_track
            .entry(a["track_id"].as_u64().unwrap())
            .or_default()
            .push(a);
    }
    assert_eq!(by_track.len(), 6);
    for anns in by_track.values() {
        assert_eq!(anns.len(), 6);
        let cat = anns[0]["category_id"].clone();
        let mut moved = false;
        for w in anns.windows(2) {
            assert_eq!(w[1]["category_id"], cat, "one category per track");
            let c = |a: &Value| {
                let b = &a["bbox"];
                (
                    b[0].as_f64().unwrap() + b[2].as_f64().unwrap() / 2.0,
                    b[1].as_f64().unwrap() + b[3].as_f64().unwrap() / 2.0,
                )
            };
            let ((x0, y0), (x1, y1)) = (c(w[0]), c(w[1]));
            let step = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
            // 0.02 * 100 px per frame, plus box-size drift and rounding
            assert!(step < 5.0, "jump of {step} px");
            moved |= step > 0.05;
        }
        assert!(moved);
    }
    let frames: Vec<u64> = data["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["frame_index"].as_u64().unwrap())
        .collect();
    assert_eq!(frames, vec![0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
}

#[test]
fn timestamps_increase_within_a_video() {
    let dir = tempfile::tempdir().unwrap();
    toydata::generate(
        "vidshapes2-frames4-tracks1-gsize24-timestamps",
        None,
        dir.path(),
    )
    .unwrap();
    let data = load(dir.path());
    let ts: Vec<(u64, String)> = data["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["video_id"].as_u64().unwrap(),
                i["timestamp"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for w in ts.windows(2) {
        if w[0].0 == w[1].0 {
            assert!(w[0].1 < w[1].1, "{ts:?}");
        }
    }
    assert_eq!(ts[0].1.len(), "2015-01-01T00:00:00".len());
}

#[test]
fn msi_matches_the_structure_of_kwcoco_demo_data() {
    let fixture: Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("vidshapes2-msi/data.kwcoco.json")).unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    toydata::generate("vidshapes2-frames3-gsize300-msi", None, dir.path()).unwrap();
    let ours = load(dir.path());
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(&fixture));
    assert_eq!(ours["categories"], fixture["categories"]);
    assert_eq!(ours["keypoint_categories"], fixture["keypoint_categories"]);
    assert_eq!(ours["videos"], fixture["videos"]);
    assert_eq!(ours["tracks"], fixture["tracks"]);
    let (oi, fi) = (&ours["images"], &fixture["images"]);
    assert_eq!(oi.as_array().unwrap().len(), fi.as_array().unwrap().len());
    for (o, f) in oi.as_array().unwrap().iter().zip(fi.as_array().unwrap()) {
        // same record: everything but nothing random differs
        assert_eq!(o, f);
    }
    let (oa, fa) = (&ours["annotations"], &fixture["annotations"]);
    assert_eq!(oa.as_array().unwrap().len(), fa.as_array().unwrap().len());
    for (o, f) in oa.as_array().unwrap().iter().zip(fa.as_array().unwrap()) {
        assert_eq!(keys(o), keys(f));
        for k in ["id", "image_id", "track_id"] {
            assert_eq!(o[k], f[k]);
        }
    }
}

#[test]
fn shapes_match_the_structure_of_kwcoco_demo_data() {
    let fixture: Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("shapes4/data.kwcoco.json")).unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    toydata::generate("shapes4-gsize400", None, dir.path()).unwrap();
    let ours = load(dir.path());
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(&fixture));
    assert_eq!(ours["keypoint_categories"], fixture["keypoint_categories"]);
    assert_eq!(ours["categories"], fixture["categories"]);
    for (o, f) in ours["images"]
        .as_array()
        .unwrap()
        .iter()
        .zip(fixture["images"].as_array().unwrap())
    {
        assert_eq!(o, f);
    }
    let f0 = &fixture["annotations"][0];
    let o0 = &ours["annotations"][0];
    assert_eq!(keys(o0), keys(f0));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_video_keys_give_consistent_bundles(
        frames in 1u32..4,
        tracks in 0u32..4,
        size in 16u32..64,
        extra in 0usize..3,
        multisensor in any::<bool>(),
        randgsize in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let mut key = format!("vidshapes1-frames{frames}-tracks{tracks}-gsize{size}");
        key.push_str(["", "-msi", "-aux"][extra]);
        if multisensor && extra > 0 {
            key.push_str("-multisensor");
        }
        if randgsize {
            key.push_str("-randgsize");
        }
        let dir = tempfile::tempdir().unwrap();
        let s = toydata::generate(&key, Some(seed), dir.path()).unwrap();
        prop_assert_eq!(s.images, frames as usize);
        prop_assert_eq!(s.annotations, (frames * tracks) as usize);
        check_bundle(dir.path(), toydata::BOX_PAD_FRACTION);
    }
}
