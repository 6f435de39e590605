//! Augmentation applied while reading (the target key `augment`): pixels
//! come from the image through the augmented warp, annotations follow the
//! same matrix, and the draw is a pure function of `(seed, epoch, index)`.

use std::path::{Path, PathBuf};

use coco_model::geometry::{Affine, BBox};
use ndarray::{ArrayD, IxDyn};
use sampler::{CocoSampler, Target};
use serde_json::json;

fn shapes4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/shapes4/data.kwcoco.json")
}

fn target(v: serde_json::Value) -> Target {
    serde_json::from_value(v).unwrap()
}

fn matrix(w: &[[f64; 3]; 3]) -> Affine {
    Affine::from_rows(w[0], w[1])
}

/// Bilinear sample of `img` (H, W, C) at edge coordinates `(u, v)`; `None`
/// when a tap leaves the image.
fn bilinear(img: &ArrayD<f64>, u: f64, v: f64, c: usize) -> Option<f64> {
    let (cx, cy) = (u - 0.5, v - 0.5);
    let (fx, fy) = (cx.floor(), cy.floor());
    let (ax, ay) = (cx - fx, cy - fy);
    let (h, w) = (img.shape()[0] as i64, img.shape()[1] as i64);
    let mut acc = 0.0;
    for (yy, wy) in [(fy as i64, 1.0 - ay), (fy as i64 + 1, ay)] {
        for (xx, wx) in [(fx as i64, 1.0 - ax), (fx as i64 + 1, ax)] {
            if wy * wx == 0.0 {
                continue;
            }
            if yy < 0 || xx < 0 || yy >= h || xx >= w {
                return None;
            }
            acc += wy * wx * img[IxDyn(&[yy as usize, xx as usize, c])];
        }
    }
    Some(acc)
}

#[test]
fn no_ranges_is_the_plain_sample() {
    let s = CocoSampler::open(shapes4()).unwrap();
    let plain = s
        .load_sample(&target(
            json!({"image_id": 1, "space_slice": [[40, 104], [60, 124]]}),
        ))
        .unwrap();
    let aug = s
        .load_sample(&target(
            json!({"image_id": 1, "space_slice": [[40, 104], [60, 124]],
            "augment": {"seed": 3, "index": 9}}),
        ))
        .unwrap();
    assert_eq!(aug.im, plain.im);
    let ids = |x: &sampler::Sample| x.frames[0].annots.iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(&aug), ids(&plain));
}

#[test]
fn a_flip_mirrors_pixels_and_boxes() {
    let s = CocoSampler::open(shapes4()).unwrap();
    let base = json!({"image_id": 2, "space_slice": [[100, 164], [90, 170]]});
    let plain = s.load_sample(&target(base.clone())).unwrap();
    let mut t = base.clone();
    t["augment"] = json!({"hflip": 1.0});
    let flipped = s.load_sample(&target(t)).unwrap();
    let (p, f) = (plain.im.to_f64(), flipped.im.to_f64());
    let (h, w, c) = (p.shape()[0], p.shape()[1], p.shape()[2]);
    for y in 0..h {
        for x in 0..w {
            for k in 0..c {
                assert_eq!(
                    f[IxDyn(&[y, w - 1 - x, k])],
                    p[IxDyn(&[y, x, k])],
                    "({y}, {x}, {k})"
                );
            }
        }
    }
    for (a, b) in plain.frames[0].annots.iter().zip(&flipped.frames[0].annots) {
        assert_eq!(a.id, b.id);
        let [x, y, bw, bh] = a.bbox;
        let want = [w as f64 - x - bw, y, bw, bh];
        for (u, v) in b.bbox.iter().zip(want) {
            assert!(
                (u - v).abs() < 1e-6,
                "annot {}: {:?} vs {want:?}",
                a.id,
                b.bbox
            );
        }
    }
}

#[test]
fn rotated_windows_read_the_image_and_carry_their_annotations() {
    let s = CocoSampler::open(shapes4()).unwrap();
    let whole = s
        .load_sample(&target(json!({"image_id": 3})))
        .unwrap()
        .im
        .to_f64();
    let base = json!({"image_id": 3, "space_slice": [[120, 200], [140, 236]], "nodata": "float"});
    let plain = s.load_sample(&target(base.clone())).unwrap();
    let mut checked = 0;
    for index in 0..6u64 {
        let mut t = base.clone();
        t["augment"] = json!({"seed": 11, "epoch": 2, "index": index, "rotation_deg": 40,
                              "translate": [0.1, 0.1], "vflip": 0.5});
        let t = target(t);
        let a = s.load_sample(&t).unwrap();
        // the same draw in any call
        assert_eq!(s.load_sample(&t).unwrap().im, a.im);
        let im = a.im.to_f64();
        assert_eq!(im.shape(), plain.im.shape());
        // pixels: the image itself through the composed warp (no padding:
        // the rotated window stays inside the 400x400 image)
        let warp = matrix(a.params.warps[0].as_ref().unwrap());
        let inv = warp.inverse().unwrap();
        let (h, w) = (im.shape()[0], im.shape()[1]);
        for y in 0..h {
            for x in 0..w {
                let [u, v] = inv.apply([x as f64 + 0.5, y as f64 + 0.5]);
                for c in 0..3 {
                    let got = im[IxDyn(&[y, x, c])];
                    assert!(!got.is_nan(), "index {index}: padding at ({y}, {x})");
                    if let Some(want) = bilinear(&whole, u, v, c) {
                        assert!((got - want).abs() <= 1e-3, "({y}, {x}): {got} vs {want}");
                        checked += 1;
                    }
                }
            }
        }
        // annotations: each plain one's box corners through the drawn matrix
        let plain_warp = matrix(plain.params.warps[0].as_ref().unwrap());
        let drawn = plain_warp.inverse().unwrap().then(&warp);
        for b in &a.frames[0].annots {
            if let Some(p) = plain.frames[0].annots.iter().find(|p| p.id == b.id) {
                let [x, y, bw, bh] = p.bbox;
                let want = BBox::from_ltrb(x, y, x + bw, y + bh).warp(&drawn).xywh();
                for (u, v) in b.bbox.iter().zip(want) {
                    assert!(
                        (u - v).abs() < 1e-6,
                        "annot {}: {:?} vs {want:?}",
                        b.id,
                        b.bbox
                    );
                }
            }
        }
    }
    assert!(checked > 50_000, "{checked}");
}

#[test]
fn zooming_out_takes_context_from_the_image_and_bad_ranges_name_the_key() {
    let s = CocoSampler::open(shapes4()).unwrap();
    let t = target(
        json!({"image_id": 1, "space_slice": [[150, 214], [150, 214]], "nodata": "float",
        "augment": {"scale": [0.5, 0.5]}}),
    );
    let a = s.load_sample(&t).unwrap();
    let im = a.im.to_f64();
    assert_eq!(im.shape(), &[64, 64, 3]);
    assert!(
        im.iter().all(|v| !v.is_nan()),
        "zoomed out inside the image: no padding"
    );
    // the zoomed-out window sees twice the extent: annotations of the larger region
    let plain_big = s
        .load_sample(&target(
            json!({"image_id": 1, "space_slice": [[118, 246], [118, 246]]}),
        ))
        .unwrap();
    let ids = |x: &sampler::Sample| {
        let mut v: Vec<i64> = x.frames[0].annots.iter().map(|a| a.id).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&a), ids(&plain_big));
    for bad in [
        json!({"scale": [0.0, 1.0]}),
        json!({"hflip": 2.0}),
        json!({"rotation": 3}),
    ] {
        let text = json!({"image_id": 1, "augment": bad}).to_string();
        let e = match serde_json::from_str::<Target>(&text) {
            Err(e) => e.to_string(),
            Ok(t) => s
                .load_sample(&t)
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string()),
        };
        assert!(
            e.contains("scale") || e.contains("hflip") || e.contains("rotation"),
            "{text}: {e}"
        );
    }
}
