//! Loads the kwcoco bundles in `tests/fixtures` and writes them back: the
//! output must equal the input as JSON (numbers compared by value, key order
//! and table order preserved).

use std::path::PathBuf;

use coco_model::{CocoDataset, DumpStyle, ImageId, VideoId};
use serde_json::Value;

fn fixtures() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    assert!(p.is_dir(), "fixtures missing at {}", p.display());
    p
}

/// Semantic equality: same structure, same key order, numbers equal by value.
fn same(a: &Value, b: &Value, path: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            if x == y {
                Ok(())
            } else {
                Err(format!("{path}: {x} != {y}"))
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Err(format!("{path}: length {} != {}", x.len(), y.len()));
            }
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                same(u, v, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Object(x), Value::Object(y)) => {
            let kx: Vec<_> = x.keys().collect();
            let ky: Vec<_> = y.keys().collect();
            if kx != ky {
                return Err(format!("{path}: keys {kx:?} != {ky:?}"));
            }
            for (k, u) in x {
                same(u, &y[k], &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a} != {b}")),
    }
}

fn roundtrip(name: &str) -> CocoDataset {
    let dir = fixtures().join(name);
    let text = std::fs::read_to_string(dir.join("data.kwcoco.json")).unwrap();
    let input: Value = serde_json::from_str(&text).unwrap();
    let ds = CocoDataset::load(&dir).unwrap();
    assert_eq!(ds.bundle_dir(), std::path::absolute(&dir).unwrap());
    for style in [DumpStyle::Pretty, DumpStyle::Compact] {
        let out = ds.to_json_string(style);
        let output: Value = serde_json::from_str(&out).unwrap();
        same(&input, &output, "$").unwrap();
    }
    // via a file, atomically written, and read back
    let tmp = tempfile::tempdir().unwrap();
    let out_path = tmp.path().join("out.kwcoco.json");
    ds.dump(&out_path, DumpStyle::Pretty).unwrap();
    let back = CocoDataset::load(&out_path).unwrap();
    assert_eq!(back.annotations(), ds.annotations());
    assert_eq!(back.images(), ds.images());
    // the pretty layout is kwcoco's: one record per line
    let out = std::fs::read_to_string(&out_path).unwrap();
    let n_ann_lines = out
        .lines()
        .filter(|l| l.starts_with("{\"") && l.contains("\"image_id\""))
        .count();
    assert_eq!(n_ann_lines, ds.annotations().len());
    ds
}

#[test]
fn shapes4_roundtrips() {
    let ds = roundtrip("shapes4");
    assert_eq!(ds.images().len(), 4);
    assert_eq!(ds.annotations().len(), 52);
    assert_eq!(ds.categories().len(), 4);
    assert_eq!(ds.keypoint_categories().len(), 5);
    let total: usize = ds
        .images()
        .iter()
        .map(|g| ds.annots_of_image(g.id).len())
        .sum();
    assert_eq!(total, 52);
    let star = ds.category_by_name("star").unwrap();
    assert_eq!(star.supercategory.as_deref(), Some("vector"));
    for aid in ds.annots_of_category(star.id) {
        assert_eq!(ds.annotation(*aid).unwrap().category_id, Some(star.id));
    }
    let img = ds.image_by_file_name("images/img_00001.png").unwrap();
    assert_eq!(img.id, ImageId(1));
    assert_eq!(img.channels.as_deref(), Some("rgb"));
    assert!(ds.resolve_path(img.file_name.as_deref().unwrap()).is_file());
}

#[test]
fn vidshapes_msi_roundtrips() {
    let ds = roundtrip("vidshapes2-msi");
    assert_eq!(ds.videos().len(), 2);
    assert_eq!(
        ds.images_of_video(VideoId(1)),
        &[ImageId(1), ImageId(2), ImageId(3)]
    );
    assert_eq!(ds.tracks().len(), 4);
    let img = ds.image(ImageId(4)).unwrap();
    assert_eq!(img.file_name, None);
    assert!(img.auxiliary_key);
    assert_eq!(img.assets().len(), 5);
    let srcs = img.channel_sources();
    assert_eq!(srcs.len(), 5);
    assert!(srcs.iter().all(|s| !s.is_main));
    assert_eq!(srcs[1].channels, Some("B8"));
    assert_eq!(srcs[1].width, Some(50));
    assert!(srcs[1].warp_to_img.unwrap().get().contains("6.0"));
    for s in &srcs {
        assert!(ds.resolve_path(s.file_name).is_file(), "{}", s.file_name);
    }
    let t = &ds.tracks()[0].id;
    let aids = ds.annots_of_track(t);
    assert_eq!(aids.len(), 3);
    assert!(
        aids.iter()
            .all(|a| ds.annotation(*a).unwrap().track_id() == Some(t))
    );
}
