//! Geometry against the reference fixtures written by kwcoco 0.9.1 /
//! ndsampler 0.8.1 (`tests/fixtures` at the workspace root, see its README).
//!
//! - every `segmentation`, `keypoints`, `bbox` and warp of the datasets parses
//!   and writes back to the same JSON;
//! - the reference sampler's annotations in sample space equal the dataset's
//!   annotations warped by the sample's translation (`params.offset`).

use coco_geometry::{Affine, BBox, Keypoints, Mask, Polygon, Segmentation, TransformSpec};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("fixture {} is missing: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

const DATASETS: [&str; 2] = ["shapes4", "vidshapes2-msi"];

#[test]
fn dataset_geometry_round_trips() {
    let (mut checked, mut keypoints, mut assets) = (0, 0, 0);
    for name in DATASETS {
        let ds = load(&fixtures().join(name).join("data.kwcoco.json"));
        for ann in ds["annotations"].as_array().unwrap() {
            let id = &ann["id"];
            if let Some(seg) = ann.get("segmentation") {
                let text = seg.to_string();
                let s = Segmentation::from_json_str(&text)
                    .unwrap_or_else(|e| panic!("{name} annot {id}: {e}"));
                assert_eq!(s.to_json(), *seg, "{name} annot {id} segmentation");
                // the polygon lies within the annotation's box
                let (bbox, _) = BBox::from_json(&ann["bbox"]).unwrap();
                let pb = s.bbox().unwrap();
                let grown = BBox::new(bbox.x - 1.0, bbox.y - 1.0, bbox.w + 2.0, bbox.h + 2.0);
                assert_eq!(
                    pb.clip(&grown),
                    pb,
                    "{name} annot {id}: polygon {pb:?} outside box {bbox:?}"
                );
                checked += 1;
            }
            if let Some(kp) = ann.get("keypoints") {
                let k = Keypoints::from_json_str(&kp.to_string()).unwrap();
                assert_eq!(k.to_json(), *kp, "{name} annot {id} keypoints");
                keypoints += 1;
            }
            let (b, style) = BBox::from_json(&ann["bbox"]).unwrap();
            assert_eq!(b.to_json(style), ann["bbox"]);
        }
        for img in ds["images"].as_array().unwrap() {
            for key in ["warp_img_to_vid"] {
                if let Some(w) = img.get(key) {
                    let t = TransformSpec::from_json(w).unwrap();
                    assert_eq!(t.to_json(), *w);
                }
            }
            for aux in img
                .get("assets")
                .or_else(|| img.get("auxiliary"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let w = &aux["warp_aux_to_img"];
                let t = TransformSpec::from_json(w).unwrap();
                assert_eq!(t.to_json(), *w);
                // an asset's warp maps its extent onto the image
                let (aw, ah) = (
                    aux["width"].as_f64().unwrap(),
                    aux["height"].as_f64().unwrap(),
                );
                let corner = t.affine().apply([aw, ah]);
                assert_eq!(
                    corner,
                    [
                        img["width"].as_f64().unwrap(),
                        img["height"].as_f64().unwrap()
                    ]
                );
                assets += 1;
            }
        }
    }
    // Counted by hand from the fixture JSON: 52 + 12 annotations, each with a
    // segmentation and keypoints; 30 assets in vidshapes2-msi.
    assert_eq!((checked, keypoints, assets), (64, 64, 30));
}

#[test]
fn reference_sample_annotations_are_translated_geometry() {
    let mut compared = 0;
    for name in DATASETS {
        let dir = fixtures().join(name);
        let ds = load(&dir.join("data.kwcoco.json"));
        let by_id: HashMap<i64, &Value> = ds["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["id"].as_i64().unwrap(), a))
            .collect();
        let cases = load(&dir.join("expected/cases.json"));
        for case in cases.as_array().unwrap() {
            if case["target"].get("scale").is_some() {
                continue; // a zoom resamples: not a pure translation
            }
            let cname = case["name"].as_str().unwrap();
            let sample = load(&dir.join("expected").join(cname).join("sample.json"));
            let off = &sample["params"]["offset"];
            let shift = Affine::translate(off[0].as_f64().unwrap(), off[1].as_f64().unwrap());
            for frame in sample["frames"].as_array().unwrap() {
                for ann in frame["annots"].as_array().unwrap() {
                    let id = ann["id"].as_i64().unwrap();
                    let orig = by_id[&id];
                    if let Some(expect) = ann.get("segmentation") {
                        let got = Segmentation::from_json(&orig["segmentation"])
                            .unwrap()
                            .warp(&shift)
                            .unwrap()
                            .to_json();
                        assert_eq!(&got, expect, "{name}/{cname} annot {id} segmentation");
                        compared += 1;
                    }
                    if let Some(expect) = ann.get("keypoints") {
                        // the reference returns positions only: [[x, y], ...]
                        let got = Keypoints::from_json(&orig["keypoints"])
                            .unwrap()
                            .warp(&shift)
                            .to_xy_json();
                        assert_eq!(&got, expect, "{name}/{cname} annot {id} keypoints");
                    }
                    if let Some(expect) = ann.get("bbox") {
                        let (b, _) = BBox::from_json(&orig["bbox"]).unwrap();
                        let (e, _) = BBox::from_json(expect).unwrap();
                        let w = b.warp(&shift);
                        for (x, y) in w.xywh().iter().zip(e.xywh()) {
                            assert!(
                                (x - y).abs() < 1e-6,
                                "{name}/{cname} annot {id} bbox {w:?} vs {e:?}"
                            );
                        }
                    }
                }
            }
        }
    }
    // The unscaled cases hold 26 (shapes4) + 11 (vidshapes2-msi) segmentations.
    assert_eq!(compared, 37, "segmentations compared with the reference");
}

/// The mask a cv2-style polygon (vertices = boundary pixel centres) outlines:
/// pixels on a ring, or inside the exterior and not strictly inside a hole.
fn cv2_polygon_mask(p: &Polygon, h: usize, w: usize) -> Mask {
    fn on_ring(r: &[[f64; 2]], q: [f64; 2]) -> bool {
        (0..r.len()).any(|i| {
            let (a, b) = (r[i], r[(i + 1) % r.len()]);
            let cross = (b[0] - a[0]) * (q[1] - a[1]) - (b[1] - a[1]) * (q[0] - a[0]);
            cross == 0.0
                && q[0] >= a[0].min(b[0])
                && q[0] <= a[0].max(b[0])
                && q[1] >= a[1].min(b[1])
                && q[1] <= a[1].max(b[1])
        })
    }
    Mask::from_fn(h, w, |x, y| {
        let q = [x as f64, y as f64];
        if p.rings().any(|r| on_ring(r, q)) {
            return true;
        }
        p.contains_point(q)
    })
    .unwrap()
}

#[test]
fn cv2_style_tracing_reproduces_kwcoco_polygons() {
    let mut compared = 0;
    for name in DATASETS {
        let ds = load(&fixtures().join(name).join("data.kwcoco.json"));
        for ann in ds["annotations"].as_array().unwrap() {
            let Some(seg) = ann.get("segmentation") else {
                continue;
            };
            let s = Segmentation::from_json(seg).unwrap();
            let mp = s.to_multi_polygon().unwrap();
            let (b, _) = BBox::from_json(&ann["bbox"]).unwrap();
            // work in a window around the polygon (pixel indices shifted)
            let pb = mp.bbox().unwrap();
            let (ox, oy) = (pb.x.floor() - 3.0, pb.y.floor() - 3.0);
            let (h, w) = ((pb.h + 8.0) as usize, (pb.w + 8.0) as usize);
            let local = mp.translate(-ox, -oy);
            let mut m = Mask::new(h, w).unwrap();
            for p in &local.polygons {
                m = m.union(&cv2_polygon_mask(p, h, w)).unwrap();
            }
            if name == "shapes4" {
                // the object lies in its box (kwcoco's demo boxes may be larger
                // than the drawn pixels, and "area" holds the box area)
                let mb = m.bbox().unwrap().translate(ox, oy);
                assert_eq!(mb.clip(&b), mb, "annot {}", ann["id"]);
            }
            let traced = m.to_multi_polygon_cv2().translate(ox, oy);
            assert_eq!(traced, mp, "{name} annot {}", ann["id"]);
            compared += 1;
        }
    }
    assert!(compared > 40, "compared {compared}");
}
