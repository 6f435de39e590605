//! Property tests of `CocoSampler::load_sample` (docs/DESIGN.md §3–§5) on a dataset
//! with known pixels and random boxes, built in the test.

use std::sync::{Arc, OnceLock};

use coco_model::CocoDataset;
use proptest::prelude::*;
use sampler::{CocoSampler, Pixels, SamplerConfig, Target};

const W: u32 = 120;
const H: u32 = 90;

fn pixel(x: u32, y: u32, c: u32) -> u8 {
    ((x * 7 + y * 13 + c * 50) % 251) as u8
}

struct Fixture {
    _dir: tempfile::TempDir,
    sampler: CocoSampler,
    boxes: Vec<(i64, [f64; 4])>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let img = image::RgbImage::from_fn(W, H, |x, y| {
            image::Rgb([pixel(x, y, 0), pixel(x, y, 1), pixel(x, y, 2)])
        });
        img.save(dir.path().join("a.png")).unwrap();
        // Boxes on a grid, some leaving the image, one degenerate.
        let mut boxes = Vec::new();
        let mut anns = Vec::new();
        let mut id = 1;
        for i in 0..6 {
            for j in 0..5 {
                let b = [
                    i as f64 * 23.0 - 10.0,
                    j as f64 * 21.0 - 5.0,
                    17.5,
                    12.25 + i as f64,
                ];
                boxes.push((id, b));
                anns.push(
                    serde_json::json!({"id": id, "image_id": 1, "category_id": 1, "bbox": b,
                    "segmentation": [[b[0], b[1], b[0] + b[2], b[1], b[0] + b[2], b[1] + b[3]]],
                    "keypoints": [b[0] + 1.0, b[1] + 1.0, 2]}),
                );
                id += 1;
            }
        }
        let text = serde_json::json!({
            "categories": [{"id": 1, "name": "thing"}],
            "images": [{"id": 1, "file_name": "a.png", "width": W, "height": H}],
            "annotations": anns,
        })
        .to_string();
        let dset = CocoDataset::from_json_str(&text, dir.path()).unwrap();
        let sampler = CocoSampler::new(Arc::new(dset), SamplerConfig::default()).unwrap();
        Fixture {
            _dir: dir,
            sampler,
            boxes,
        }
    })
}

fn u8_array(p: &Pixels) -> &ndarray::ArrayD<u8> {
    match p {
        Pixels::U8(a) => a,
        other => panic!("expected uint8 pixels, got {:?}", other.dtype()),
    }
}

fn overlaps(b: &[f64; 4], l: f64, t: f64, r: f64, bt: f64) -> bool {
    b[0] <= r && b[0] + b[2] >= l && b[1] <= bt && b[1] + b[3] >= t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn window_shape_pixels_and_annotations(
        y0 in -60i64..120, x0 in -60i64..150, h in 1i64..70, w in 1i64..70,
        pt in 0i64..6, pb in 0i64..6, pl in 0i64..6, pr in 0i64..6,
    ) {
        let f = fixture();
        let target: Target = serde_json::from_value(serde_json::json!({
            "image_id": 1,
            "space_slice": [[y0, y0 + h], [x0, x0 + w]],
            "pad": [[pt, pb], [pl, pr]],
        })).unwrap();
        let s = f.sampler.load_sample(&target).unwrap();
        let (ph, pw) = ((h + pt + pb) as usize, (w + pl + pr) as usize);
        prop_assert_eq!(s.im.shape(), &[ph, pw, 3]);
        let a = u8_array(&s.im);
        let (wy0, wx0) = (y0 - pt, x0 - pl);
        for r in 0..ph {
            for c in 0..pw {
                let (y, x) = (wy0 + r as i64, wx0 + c as i64);
                for ch in 0..3 {
                    let want = if (0..H as i64).contains(&y) && (0..W as i64).contains(&x) {
                        pixel(x as u32, y as u32, ch as u32)
                    } else {
                        0
                    };
                    prop_assert_eq!(a[[r, c, ch]], want, "pixel ({}, {}) band {}", y, x, ch);
                }
            }
        }
        let (l, t, r, b) = (wx0 as f64, wy0 as f64, (wx0 + pw as i64) as f64, (wy0 + ph as i64) as f64);
        let got: Vec<i64> = s.frames[0].annots.iter().map(|a| a.id).collect();
        let want: Vec<i64> = f.boxes.iter().filter(|(_, bx)| overlaps(bx, l, t, r, b)).map(|(i, _)| *i).collect();
        prop_assert_eq!(got, want);
        // Sample-space boxes map back onto the dataset's through the inverse warp.
        for ann in &s.frames[0].annots {
            let orig = f.boxes.iter().find(|(i, _)| *i == ann.id).unwrap().1;
            prop_assert!((ann.bbox[0] + wx0 as f64 - orig[0]).abs() < 1e-9 && (ann.bbox[1] + wy0 as f64 - orig[1]).abs() < 1e-9);
            prop_assert!((ann.bbox[2] - orig[2]).abs() < 1e-9 && (ann.bbox[3] - orig[3]).abs() < 1e-9);
        }
    }

    #[test]
    fn centre_mode_has_exact_size(cx in -50.0f64..170.0, cy in -50.0f64..140.0, h in 1i64..64, w in 1i64..64, pad in 0i64..9) {
        let f = fixture();
        let target: Target = serde_json::from_value(serde_json::json!({
            "image_id": 1, "cx": cx, "cy": cy, "window_dims": [h, w], "pad": pad,
        })).unwrap();
        let s = f.sampler.load_sample(&target).unwrap();
        prop_assert_eq!(s.im.shape(), &[(h + 2 * pad) as usize, (w + 2 * pad) as usize, 3]);
        let [x0, y0, x1, y1] = s.params.sample_ltrb;
        prop_assert_eq!((x1 - x0, y1 - y0), (w + 2 * pad, h + 2 * pad));
        prop_assert_eq!(s.params.offset, [-x0, -y0]);
    }

    #[test]
    fn scaled_boxes_invert(scale in 0.25f64..3.0, y0 in -20i64..60, x0 in -20i64..80) {
        let f = fixture();
        let target: Target = serde_json::from_value(serde_json::json!({
            "image_id": 1, "space_slice": [[y0, y0 + 40], [x0, x0 + 40]], "scale": scale,
        })).unwrap();
        let s = f.sampler.load_sample(&target).unwrap();
        let side = (40.0 * scale).round() as usize;
        prop_assert_eq!(s.im.shape(), &[side, side, 3]);
        let m = s.params.warps[0].unwrap();
        for ann in &s.frames[0].annots {
            let orig = f.boxes.iter().find(|(i, _)| *i == ann.id).unwrap().1;
            // Inverse of [s 0 tx; 0 s ty].
            let back = [
                (ann.bbox[0] - m[0][2]) / m[0][0],
                (ann.bbox[1] - m[1][2]) / m[1][1],
                ann.bbox[2] / m[0][0],
                ann.bbox[3] / m[1][1],
            ];
            for k in 0..4 {
                prop_assert!((back[k] - orig[k]).abs() < 1e-6, "{:?} vs {:?}", back, orig);
            }
        }
    }
}

#[test]
fn errors_name_the_target_key() {
    let f = fixture();
    let cases = [
        (r#"{"image_id": 99}"#, "image_id"),
        (r#"{"annot_id": 999}"#, "annot_id"),
        (r#"{"video_id": 3}"#, "video_id"),
        (
            r#"{"image_id": 1, "space_slice": [[10, 5], [0, 4]]}"#,
            "space_slice",
        ),
        (r#"{"image_id": 1, "channels": "r|"}"#, "channels"),
        (
            r#"{"image_id": 1, "interpolation": "sinc"}"#,
            "interpolation",
        ),
        (r#"{"image_id": 1, "cx": 4}"#, "cx"),
        (r#"{}"#, "image_id"),
    ];
    for (json, key) in cases {
        // A bad channel code or interpolation fails when the target is read;
        // the rest when it is resolved against the dataset.
        let e = match serde_json::from_str::<Target>(json) {
            Ok(t) => f.sampler.load_sample(&t).unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(key), "{json}: error {e:?} should name {key}");
    }
}

#[test]
fn missing_band_is_nan_and_float() {
    let f = fixture();
    let t: Target = serde_json::from_str(
        r#"{"image_id": 1, "channels": "r|nir", "space_slice": [[0, 4], [0, 4]]}"#,
    )
    .unwrap();
    let s = f.sampler.load_sample(&t).unwrap();
    assert_eq!(s.params.channels, vec!["r", "nir"]);
    match &s.im {
        Pixels::F32(a) => {
            assert_eq!(a[[1, 2, 0]], pixel(2, 1, 0) as f32);
            assert!(a[[1, 2, 1]].is_nan());
        }
        other => panic!("expected float32, got {:?}", other.dtype()),
    }
}
