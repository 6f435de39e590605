//! Annotation forms found in the wild (`tests/fixtures/forms`: GeoJSON
//! `Polygon`/`MultiPolygon`, kwimage's row-major array RLE, MS-COCO flat
//! keypoints named by their category's (or its supercategory's) `keypoints`
//! list, kwcoco keypoint dicts and kwimage's `x`/`y` columns), held through
//! the real CLI to the reference sampler's answers (`expected.json`, written
//! by `make_expected.py` with ndsampler 0.8.1 / kwimage 0.12): the same
//! annotation ids, boxes within 0.5 px, the same polygons (every ring, vertex
//! for vertex, holes included) and keypoints (positions and names) in window
//! coordinates.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/forms")
}

fn sample(target: &Value) -> Value {
    let out = tempfile::tempdir().unwrap();
    let res = Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .arg("sample")
        .arg(fixture().join("data.kwcoco.json"))
        .arg("--target")
        .arg(target.to_string())
        .arg("--with-annots")
        .arg("boxes+segmentation+keypoints")
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "ndsampler sample {target}: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out.path().join("sample.json")).unwrap()).unwrap()
}

fn pts(v: &Value) -> Vec<[f64; 2]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
        .collect()
}

/// A ring of `[x, y]` points.
type Ring = Vec<[f64; 2]>;

/// Our segmentation (any form) as a list of (exterior, interiors).
fn our_polygons(seg: &Value) -> Vec<(Ring, Vec<Ring>)> {
    let parsed = coco_model::geometry::Segmentation::from_json(seg).unwrap();
    parsed
        .to_multi_polygon()
        .unwrap()
        .polygons
        .into_iter()
        .map(|p| (p.exterior, p.interiors))
        .collect()
}

/// A ring equal to another up to the starting vertex.
fn same_ring(a: &[[f64; 2]], b: &[[f64; 2]]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.is_empty() {
        return true;
    }
    let near =
        |p: [f64; 2], q: [f64; 2]| (p[0] - q[0]).abs() <= 1e-6 && (p[1] - q[1]).abs() <= 1e-6;
    (0..a.len()).any(|s| (0..a.len()).all(|i| near(a[(i + s) % a.len()], b[i])))
}

#[test]
fn every_annotation_form_matches_the_reference() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap())
            .unwrap();
    let cases = expected.as_array().unwrap();
    assert_eq!(cases.len(), 3);
    let mut polygons_checked = 0;
    let mut keypoints_checked = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let ours = sample(&case["target"]);
        let shape: Vec<u64> = ours["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let want_shape: Vec<u64> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(shape, want_shape, "{name}: shape");
        let annots = ours["frames"][0]["annots"].as_array().unwrap();
        let ids: Vec<i64> = annots.iter().map(|a| a["id"].as_i64().unwrap()).collect();
        let want_ids: Vec<i64> = case["annots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, want_ids, "{name}: annotation ids");
        for (a, want) in annots.iter().zip(case["annots"].as_array().unwrap()) {
            let id = a["id"].as_i64().unwrap();
            let what = format!("{name}: annotation {id}");
            for (g, w) in a["bbox"]
                .as_array()
                .unwrap()
                .iter()
                .zip(want["bbox"].as_array().unwrap())
            {
                assert!(
                    (g.as_f64().unwrap() - w.as_f64().unwrap()).abs() <= 0.5,
                    "{what}: bbox {} vs {}",
                    a["bbox"],
                    want["bbox"]
                );
            }
            if let Some(want_polys) = want.get("polygons") {
                let got = our_polygons(&a["segmentation"]);
                let want_polys = want_polys.as_array().unwrap();
                assert_eq!(
                    got.len(),
                    want_polys.len(),
                    "{what}: polygon count: {got:?}"
                );
                for ((ext, ints), w) in got.iter().zip(want_polys) {
                    assert!(
                        same_ring(ext, &pts(&w["exterior"])),
                        "{what}: exterior {ext:?} vs {}",
                        w["exterior"]
                    );
                    let w_ints = w["interiors"].as_array().unwrap();
                    assert_eq!(ints.len(), w_ints.len(), "{what}: holes");
                    for (r, wr) in ints.iter().zip(w_ints) {
                        assert!(same_ring(r, &pts(wr)), "{what}: hole {r:?} vs {wr}");
                    }
                    polygons_checked += 1;
                }
            } else {
                assert!(
                    a.get("segmentation").is_none(),
                    "{what}: unexpected segmentation"
                );
            }
            if let Some(want_kps) = want.get("keypoints") {
                let kp = coco_model::geometry::Keypoints::from_json(&a["keypoints"]).unwrap();
                let names = a["keypoint_names"].as_array().unwrap();
                let want_kps = want_kps.as_array().unwrap();
                assert_eq!(kp.points.len(), want_kps.len(), "{what}: keypoint count");
                assert_eq!(names.len(), want_kps.len(), "{what}: names");
                for ((p, n), w) in kp.points.iter().zip(names).zip(want_kps) {
                    let wxy = [w["xy"][0].as_f64().unwrap(), w["xy"][1].as_f64().unwrap()];
                    assert!(
                        (p.xy[0] - wxy[0]).abs() <= 1e-6 && (p.xy[1] - wxy[1]).abs() <= 1e-6,
                        "{what}: keypoint {:?} vs {wxy:?}",
                        p.xy
                    );
                    assert_eq!(n, &w["name"], "{what}: keypoint name");
                    keypoints_checked += 1;
                }
            }
        }
    }
    // the fixture exercises what it claims to
    assert_eq!(polygons_checked, 11);
    assert_eq!(keypoints_checked, 20);
}

/// The data model keeps each form on a JSON round trip, both as the stored
/// record and through the parsed geometry.
#[test]
fn forms_survive_a_round_trip_through_the_data_model() {
    let path = fixture().join("data.kwcoco.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let ds = coco_model::CocoDataset::from_json_str(&text, fixture()).unwrap();
    let back: Value =
        serde_json::from_str(&ds.to_json_string(coco_model::DumpStyle::Compact)).unwrap();
    let orig: Value = serde_json::from_str(&text).unwrap();
    for (b, o) in back["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .zip(orig["annotations"].as_array().unwrap())
    {
        assert_eq!(b["segmentation"], o["segmentation"]);
        assert_eq!(b["keypoints"], o["keypoints"]);
    }
    for ann in ds.annotations() {
        if let Some(seg) = ann.parse_segmentation().unwrap() {
            let orig_seg = orig["annotations"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["id"] == ann.id.0)
                .unwrap()["segmentation"]
                .clone();
            assert_eq!(seg.to_json(), orig_seg, "annotation {}", ann.id.0);
        }
        if let Some(kp) = ann.parse_keypoints().unwrap() {
            let orig_kp = orig["annotations"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["id"] == ann.id.0)
                .unwrap()["keypoints"]
                .clone();
            let a = kp.to_json();
            let same = a == orig_kp
                || Keypoints::from_json(&a).unwrap() == Keypoints::from_json(&orig_kp).unwrap();
            assert!(same, "annotation {}: {a} vs {orig_kp}", ann.id.0);
        }
    }
}

use coco_model::geometry::Keypoints;
