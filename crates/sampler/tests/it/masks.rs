//! Masks and heatmaps of samples against kwimage's rasterization
//! (`tests/fixtures/masks-shapes4`, written by its `make_expected.py` with
//! kwimage 0.12.0), and their properties.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use coco_model::CocoDataset;
use coco_model::geometry::{FillRule, Polygon};
use ndarray::{Array2, Array3};
use ndarray_npy::ReadNpyExt;
use proptest::prelude::*;
use sampler::masks::{
    HeatmapOptions, MaskOptions, PaintOrder, class_mask, instance_masks, keypoint_heatmaps,
    pack_bits, unpack_bits, window_shape,
};
use sampler::{CocoSampler, Sample, SampleOptions, SamplerConfig, Target};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn shapes4() -> CocoSampler {
    let ds = CocoDataset::load(fixtures().join("shapes4/data.kwcoco.json")).unwrap();
    CocoSampler::new(Arc::new(ds), SamplerConfig::default()).unwrap()
}

fn cases() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("masks-shapes4/cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn npy2(name: &str) -> Array2<u8> {
    let f = std::fs::File::open(fixtures().join("masks-shapes4/expected").join(name)).unwrap();
    Array2::<u8>::read_npy(f).unwrap()
}

fn npy3(name: &str) -> Array3<u8> {
    let f = std::fs::File::open(fixtures().join("masks-shapes4/expected").join(name)).unwrap();
    Array3::<u8>::read_npy(f).unwrap()
}

/// Pixels of `want` next to (8-neighbourhood) a pixel of another value.
fn boundary(want: &Array2<u8>) -> Array2<bool> {
    let (h, w) = want.dim();
    Array2::from_shape_fn((h, w), |(y, x)| {
        let v = want[[y, x]];
        (-1i64..=1).any(|dy| {
            (-1i64..=1).any(|dx| {
                let (yy, xx) = (y as i64 + dy, x as i64 + dx);
                (0..h as i64).contains(&yy)
                    && (0..w as i64).contains(&xx)
                    && want[[yy as usize, xx as usize]] != v
            })
        })
    })
}

fn load(s: &CocoSampler, target: &serde_json::Value) -> Sample {
    let t: Target = serde_json::from_value(target.clone()).unwrap();
    s.load_sample(&t).unwrap()
}

/// Class and instance masks of windows of shapes4 (kwcoco polygons, whose
/// vertices are pixel centres) agree with kwimage's `to_mask()` painted in id
/// order: exactly off the boundaries, ≥ 99.9% on them.
#[test]
fn class_and_instance_masks_match_kwimage() {
    let s = shapes4();
    let opts = MaskOptions {
        fill: FillRule::Cv2Points,
        ..MaskOptions::default()
    };
    for case in cases()["windows"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let sample = load(&s, &case["target"]);
        let want = npy2(&format!("{name}_class.npy"));
        let got = class_mask(&sample, &opts).unwrap();
        assert_eq!(got.shape(), want.shape(), "{name}");
        let got = got.into_dimensionality::<ndarray::Ix2>().unwrap();
        let edge = boundary(&want);
        let (mut n_edge, mut bad_edge) = (0usize, 0usize);
        for ((yx, &wv), &g) in want.indexed_iter().zip(got.iter()) {
            if edge[yx] {
                n_edge += 1;
                bad_edge += usize::from(i32::from(wv) != g);
            } else {
                assert_eq!(i32::from(wv), g, "{name}: interior pixel {yx:?}");
            }
        }
        assert!(n_edge > 0, "{name}: no boundary pixels (fixture empty?)");
        let agree = 1.0 - bad_edge as f64 / n_edge as f64;
        assert!(
            agree >= 0.999,
            "{name}: boundary agreement {agree} ({bad_edge} of {n_edge})"
        );

        let inst = instance_masks(&sample, &opts).unwrap();
        let want_ids: Vec<i64> = case["instance_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        // kwimage's list keeps only masks with a pixel in the window
        let keep: Vec<usize> = (0..inst.len())
            .filter(|&i| {
                inst.masks
                    .index_axis(ndarray::Axis(0), i)
                    .iter()
                    .any(|&v| v != 0)
            })
            .collect();
        let got_ids: Vec<i64> = keep.iter().map(|&i| inst.ids[i]).collect();
        assert_eq!(got_ids, want_ids, "{name}");
        let want_inst =
            unpack_bits(&npy3(&format!("{name}_instances_packed.npy")), want.dim().1).unwrap();
        for (k, &i) in keep.iter().enumerate() {
            let g = inst.masks.index_axis(ndarray::Axis(0), i);
            let wv = want_inst.index_axis(ndarray::Axis(0), k);
            let diff = g.iter().zip(wv.iter()).filter(|(a, b)| a != b).count();
            let area = wv.iter().filter(|&&v| v != 0).count().max(1);
            assert!(
                diff * 1000 <= area,
                "{name}: instance {} differs in {diff} of {area}",
                inst.ids[i]
            );
        }
    }
}

/// Random polygons (integer and float vertices, holes, leaving the canvas)
/// rasterized with `FillRule::Cv2Points` are kwimage's masks exactly.
#[test]
fn cv2_rule_matches_kwimage_on_random_polygons() {
    let c = cases();
    let rp = &c["random_polygons"];
    let [h, w] = [0, 1].map(|i| rp["shape"][i].as_u64().unwrap() as usize);
    let want = unpack_bits(&npy3("random_polygons_packed.npy"), w).unwrap();
    let ring = |v: &serde_json::Value| -> Vec<[f64; 2]> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
            .collect()
    };
    let polys = rp["polygons"].as_array().unwrap();
    assert_eq!(polys.len(), want.dim().0);
    for (i, p) in polys.iter().enumerate() {
        let poly = Polygon {
            exterior: ring(&p["exterior"]),
            interiors: p["interiors"]
                .as_array()
                .unwrap()
                .iter()
                .map(ring)
                .collect(),
        };
        let got = poly.to_mask_with(h, w, FillRule::Cv2Points).unwrap();
        let wv = want.index_axis(ndarray::Axis(0), i);
        let diff: Vec<(usize, usize)> = wv
            .indexed_iter()
            .filter(|&((y, x), &v)| got.get(x, y) != (v != 0))
            .map(|(yx, _)| yx)
            .collect();
        assert!(
            diff.is_empty(),
            "polygon {i}: {} pixels differ: {diff:?}",
            diff.len()
        );
    }
}

fn sample_of(json: &str, target: serde_json::Value, opts: &SampleOptions) -> Sample {
    let dir = tempfile::tempdir().unwrap();
    image::GrayImage::new(40, 30)
        .save(dir.path().join("a.png"))
        .unwrap();
    let ds = CocoDataset::from_json_str(json, dir.path()).unwrap();
    let s = CocoSampler::new(Arc::new(ds), SamplerConfig::default()).unwrap();
    let t: Target = serde_json::from_value(target).unwrap();
    s.load_sample_with(&t, opts).unwrap()
}

const TWO_BOXES: &str = r#"{"categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 9, "name": "dontcare"}],
  "images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30}],
  "annotations": [
    {"id": 3, "image_id": 1, "category_id": 2, "bbox": [2, 2, 4, 4], "segmentation": [[2, 2, 6, 2, 6, 6, 2, 6]]},
    {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]]},
    {"id": 5, "image_id": 1, "category_id": 9, "bbox": [20, 20, 5, 5]},
    {"id": 6, "image_id": 1, "category_id": 1, "bbox": [30, 0, 4, 4],
     "keypoints": [{"xy": [31.5, 1.5], "keypoint_category_id": 1}, {"xy": [36.0, 2.0], "keypoint_category_id": 2, "visible": 0}]}
  ],
  "keypoint_categories": [{"id": 1, "name": "p"}, {"id": 2, "name": "q"}]}"#;

#[test]
fn paint_order_ignore_categories_and_box_fallback() {
    let s = sample_of(
        TWO_BOXES,
        serde_json::json!({"image_id": 1, "space_slice": [[0, 30], [0, 40]]}),
        &SampleOptions::default(),
    );
    let cls = class_mask(&s, &MaskOptions::default()).unwrap();
    let at = |m: &ndarray::ArrayD<i32>, y: usize, x: usize| m[[y, x]];
    // id order: 1 (the big box) first, then 3 on top
    assert_eq!(at(&cls, 3, 3), 2);
    assert_eq!(at(&cls, 8, 8), 1);
    assert_eq!(cls.iter().filter(|&&v| v == 2).count(), 16);
    assert_eq!(cls.iter().filter(|&&v| v == 1).count(), 100 - 16 + 16);
    // annotation 5 has no segmentation: its box, category 9
    assert_eq!(cls.iter().filter(|&&v| v == 9).count(), 25);
    let opts = MaskOptions {
        ignore_category_ids: vec![9],
        ignore_value: 255,
        order: PaintOrder::AreaDescending,
        ..MaskOptions::default()
    };
    let cls = class_mask(&s, &opts).unwrap();
    assert_eq!(cls.iter().filter(|&&v| v == 255).count(), 25);
    assert_eq!(cls.iter().filter(|&&v| v == 2).count(), 16);
    let no_boxes = MaskOptions {
        boxes_without_segmentation: false,
        ..MaskOptions::default()
    };
    let cls = class_mask(&s, &no_boxes).unwrap();
    assert_eq!(cls.iter().filter(|&&v| v == 9).count(), 0);
    // id order, the other way round: the big box (id 1) painted last wins
    let s2 = sample_of(
        &TWO_BOXES.replace("\"id\": 3, \"image_id\"", "\"id\": 30, \"image_id\""),
        serde_json::json!({"image_id": 1, "space_slice": [[0, 30], [0, 40]]}),
        &SampleOptions::default(),
    );
    let cls = class_mask(&s2, &MaskOptions::default()).unwrap();
    assert_eq!(cls[[3, 3]], 2, "id 30 is painted after id 1");
    let inst = instance_masks(&s, &MaskOptions::default()).unwrap();
    assert_eq!(inst.ids, vec![1, 3, 5, 6]);
    let areas: Vec<usize> = (0..inst.len())
        .map(|i| {
            inst.masks
                .index_axis(ndarray::Axis(0), i)
                .iter()
                .filter(|&&v| v == 1)
                .count()
        })
        .collect();
    assert_eq!(areas, vec![100, 16, 25, 16]);
    let inst = instance_masks(&s, &opts).unwrap();
    assert_eq!(
        inst.ids,
        vec![1, 3, 6],
        "ignored category left out, largest first, ties by id"
    );
}

#[test]
fn padding_is_ignored_when_asked_and_follows_scale() {
    // 10 px of padding above and to the left, output scaled by 2
    let s = sample_of(
        TWO_BOXES,
        serde_json::json!({"image_id": 1, "space_slice": [[-10, 10], [-10, 10]], "scale": 2}),
        &SampleOptions::default(),
    );
    assert_eq!(window_shape(&s), [40, 40]);
    assert_eq!(s.im.shape()[..2], [40, 40]);
    let opts = MaskOptions {
        ignore_padding: true,
        ..MaskOptions::default()
    };
    let cls = class_mask(&s, &opts).unwrap();
    for ((y, x), &v) in cls
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .indexed_iter()
    {
        let pad = y < 20 || x < 20;
        assert_eq!(v == -1, pad, "pixel {y},{x} = {v}");
    }
    // the big box [0, 10)² → output [20, 40)², box 3 on top: 8×8 output pixels
    assert_eq!(cls.iter().filter(|&&v| v == 2).count(), 64);
    assert_eq!(cls.iter().filter(|&&v| v == 1).count(), 400 - 64);
}

#[test]
fn instance_masks_pack_like_numpy() {
    let m = Array3::from_shape_fn((2, 3, 11), |(i, y, x)| u8::from((i + y + x) % 3 == 0));
    let p = pack_bits(&m);
    assert_eq!(p.dim(), (2, 3, 2));
    // first row of the first mask: 1 0 0 1 0 0 1 0 | 0 1 0 → 0b1001_0010, 0b0100_0000
    assert_eq!((p[[0, 0, 0]], p[[0, 0, 1]]), (0b1001_0010, 0b0100_0000));
    assert_eq!(unpack_bits(&p, 11).unwrap(), m);
    assert!(unpack_bits(&p, 17).is_err());
}

#[test]
fn heatmaps_peak_at_keypoints_and_skip_unlabelled() {
    let s = sample_of(
        TWO_BOXES,
        serde_json::json!({"image_id": 1, "space_slice": [[0, 30], [0, 40]]}),
        &SampleOptions::default(),
    );
    let sigma = 2.0;
    let hm = keypoint_heatmaps(&s, &HeatmapOptions::new(sigma)).unwrap();
    assert_eq!(hm.shape(), &[1, 30, 40]);
    // keypoint (31.5, 1.5) is the centre of pixel (31, 1)
    assert!((hm[[0, 1, 31]] - 1.0).abs() < 1e-6);
    let want = (-1.0f64 / (2.0 * sigma * sigma)).exp() as f32;
    assert!((hm[[0, 1, 32]] - want).abs() < 1e-6);
    assert!((hm[[0, 2, 31]] - want).abs() < 1e-6);
    // the unlabelled keypoint (visible 0) at (36, 2) adds nothing: the value
    // there is the first Gaussian's tail only
    let d2 = (36.5f64 - 31.5).powi(2) + (2.5f64 - 1.5).powi(2);
    let tail = if d2.sqrt() <= 3.0 * sigma {
        (-d2 / (2.0 * sigma * sigma)).exp() as f32
    } else {
        0.0
    };
    assert!((hm[[0, 2, 36]] - tail).abs() < 1e-6);
    // per-category channels: category 2's only keypoint is unlabelled
    let opts = HeatmapOptions {
        keypoint_category_ids: Some(vec![2, 1]),
        ..HeatmapOptions::new(sigma)
    };
    let hm2 = keypoint_heatmaps(&s, &opts).unwrap();
    assert_eq!(hm2.shape(), &[2, 30, 40]);
    assert!(
        hm2.index_axis(ndarray::Axis(0), 0)
            .iter()
            .all(|&v| v == 0.0)
    );
    assert_eq!(
        hm2.index_axis(ndarray::Axis(0), 1),
        hm.index_axis(ndarray::Axis(0), 0)
    );
    // a Gaussian well inside the window sums to about 2πσ²
    let total: f64 = hm.iter().map(|&v| v as f64).sum();
    let expect = 2.0 * std::f64::consts::PI * sigma * sigma;
    // the keypoint is 1.5 px from the top edge: about half is cut; just bound it
    assert!(total > 0.3 * expect && total < expect, "{total}");
    for bad in [0.0, -1.0, f64::NAN] {
        assert!(keypoint_heatmaps(&s, &HeatmapOptions::new(bad)).is_err());
    }
}

fn polygon(center: [f64; 2], radii: &[f64]) -> Polygon {
    let n = radii.len();
    Polygon::new(
        radii
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                [center[0] + r * a.cos(), center[1] + r * a.sin()]
            })
            .collect(),
    )
}

fn perimeter(p: &Polygon) -> f64 {
    let r = &p.exterior;
    (0..r.len())
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % r.len()]);
            ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
        })
        .sum()
}

proptest! {
    /// `FillRule::Centers` sets about the polygon's area: only pixels the
    /// boundary crosses can be wrong, so the error is bounded by the number
    /// of pixels an edge can touch. `Cv2Points` adds the boundary, so it
    /// never sets fewer pixels.
    #[test]
    fn mask_area_tracks_polygon_area(
        cx in 20.0f64..44.0, cy in 20.0f64..44.0,
        radii in proptest::collection::vec(2.0f64..18.0, 3..12),
    ) {
        let p = polygon([cx, cy], &radii);
        let m = p.to_mask_with(64, 64, FillRule::Centers).unwrap();
        let err = (m.count() as f64 - p.area()).abs();
        let bound = 2.0 * radii.len() as f64 + 1.5 * perimeter(&p);
        prop_assert!(err <= bound, "count {} area {} bound {}", m.count(), p.area(), bound);
        let cv = p.to_mask_with(64, 64, FillRule::Cv2Points).unwrap();
        prop_assert!(cv.count() + 2 * radii.len() + 2 >= m.count());
    }

    /// Axis-aligned rectangles on integer coordinates rasterize to exactly
    /// their area under `Centers`, and to `(w + 1) × (h + 1)` under
    /// `Cv2Points` (both boundary rows and columns included).
    #[test]
    fn integer_rectangles_are_exact(x in 0i32..30, y in 0i32..30, w in 1i32..30, h in 1i32..30) {
        let (x, y, w, h) = (x as f64, y as f64, w as f64, h as f64);
        let p = Polygon::new(vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h]]);
        let m = p.to_mask_with(64, 64, FillRule::Centers).unwrap();
        prop_assert_eq!(m.count() as f64, w * h);
        let cv = p.to_mask_with(64, 64, FillRule::Cv2Points).unwrap();
        prop_assert_eq!(cv.count() as f64, (w + 1.0) * (h + 1.0));
    }
}

/// A rasterizer reused across samples of different sizes, writing into a
/// reused buffer, gives what a fresh `class_mask` gives.
#[test]
fn reused_rasterizer_matches_fresh_masks() {
    let s = shapes4();
    let mut r = sampler::masks::Rasterizer::default();
    let mut buf: Vec<i32> = Vec::new();
    let opts = MaskOptions {
        fill: FillRule::Cv2Points,
        ignore_padding: true,
        ..MaskOptions::default()
    };
    for case in cases()["windows"].as_array().unwrap() {
        let sample = load(&s, &case["target"]);
        let want = class_mask(&sample, &opts).unwrap();
        let n: usize = sampler::masks::class_mask_shape(&sample).iter().product();
        buf.resize(n, 12345);
        r.class_mask_into(&sample, &opts, &mut buf).unwrap();
        assert_eq!(buf.as_slice(), want.as_slice().unwrap());
        assert_eq!(r.class_mask(&sample, &opts).unwrap(), want);
        assert!(r.class_mask_into(&sample, &opts, &mut buf[1..]).is_err());
    }
}

/// Video samples: `(T, H, W)` class masks and `(T, K, H, W)` heatmaps, each
/// frame the mask of that frame's annotations (the frames' warps to the
/// video are the identity here, so a 2D sample of the same image agrees);
/// fill frames past the video's end are background, or ignored with
/// `ignore_padding`.
#[test]
fn video_samples_get_a_mask_per_frame() {
    let ds = CocoDataset::load(fixtures().join("vidshapes2-msi/data.kwcoco.json")).unwrap();
    let s = CocoSampler::new(Arc::new(ds), SamplerConfig::default()).unwrap();
    let slice = serde_json::json!([[150, 300], [100, 300]]);
    let video = load(
        &s,
        &serde_json::json!({"video_id": 1, "channels": "B1", "time_slice": [0, 5], "space_slice": slice}),
    );
    assert_eq!(video.frames.len(), 5);
    let opts = MaskOptions::default();
    let cls = class_mask(&video, &opts).unwrap();
    assert_eq!(cls.shape(), &[5, 150, 200]);
    let mut painted = 0;
    for (t, frame) in video.frames.iter().enumerate() {
        let plane = cls.index_axis(ndarray::Axis(0), t);
        match frame.image_id {
            Some(gid) => {
                let single = load(
                    &s,
                    &serde_json::json!({"image_id": gid, "channels": "B1", "space_slice": slice}),
                );
                let want = class_mask(&single, &opts).unwrap();
                assert_eq!(plane, want.view(), "frame {t} (image {gid})");
                painted += plane.iter().filter(|&&v| v != 0).count();
            }
            None => assert!(plane.iter().all(|&v| v == 0), "fill frame {t}"),
        }
    }
    assert!(painted > 0, "no annotation in the window");
    let ignored = class_mask(
        &video,
        &MaskOptions {
            ignore_padding: true,
            ..MaskOptions::default()
        },
    )
    .unwrap();
    for (t, frame) in video.frames.iter().enumerate() {
        let plane = ignored.index_axis(ndarray::Axis(0), t);
        assert_eq!(
            frame.image_id.is_none(),
            plane.iter().all(|&v| v == -1),
            "frame {t}"
        );
    }
    let hm = keypoint_heatmaps(&video, &HeatmapOptions::new(1.5)).unwrap();
    assert_eq!(hm.shape(), &[5, 1, 150, 200]);
    let inst = instance_masks(&video, &opts).unwrap();
    assert_eq!(inst.masks.dim().1, 150);
    assert!(
        inst.frames
            .iter()
            .all(|&f| video.frames[f].image_id.is_some())
    );
}

/// Outputs beyond `max_bytes` are refused before they are allocated, naming
/// the limit.
#[test]
fn outputs_beyond_the_byte_limit_are_refused() {
    let s = sample_of(
        TWO_BOXES,
        serde_json::json!({"image_id": 1, "space_slice": [[0, 30], [0, 40]]}),
        &SampleOptions::default(),
    );
    // 30 × 40 × 4 bytes = 4800
    let tight = MaskOptions {
        max_bytes: 4799,
        ..MaskOptions::default()
    };
    let e = class_mask(&s, &tight).unwrap_err().to_string();
    assert!(e.contains("4800 bytes") && e.contains("4799"), "{e}");
    let fits = MaskOptions {
        max_bytes: 4800,
        ..MaskOptions::default()
    };
    assert!(class_mask(&s, &fits).is_ok());
    // 4 instances × 1200 bytes
    let e = instance_masks(
        &s,
        &MaskOptions {
            max_bytes: 4799,
            ..MaskOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("instance masks"), "{e}");
    assert!(instance_masks(&s, &fits).is_ok());
    let hm = HeatmapOptions {
        max_bytes: 100,
        ..HeatmapOptions::new(1.0)
    };
    assert!(keypoint_heatmaps(&s, &hm).is_err());
}

/// The class mask's fast path (`Centers` polygons painted as runs, no
/// scratch mask) agrees with painting each annotation's own mask in id order.
#[test]
fn centers_fast_path_agrees_with_per_annotation_masks() {
    let s = shapes4();
    for case in cases()["windows"].as_array().unwrap() {
        let mut target = case["target"].clone();
        // a fractional scale too, so the polygons are off the integer grid
        target["scale"] = serde_json::json!(0.73);
        for t in [case["target"].clone(), target] {
            let sample = load(&s, &t);
            let [h, w] = window_shape(&sample);
            let mut want = ndarray::Array2::<i32>::zeros((h, w));
            let mut annots: Vec<_> = sample.frames[0].annots.iter().collect();
            annots.sort_by_key(|a| a.id);
            for a in annots {
                let m = a
                    .segmentation
                    .as_ref()
                    .unwrap()
                    .to_mask_with(h, w, FillRule::Centers)
                    .unwrap();
                for ((y, x), v) in want.indexed_iter_mut() {
                    if m.get(x, y) {
                        *v = a.category_id.unwrap() as i32;
                    }
                }
            }
            let got = class_mask(&sample, &MaskOptions::default()).unwrap();
            assert_eq!(got, want.into_dyn(), "{t}");
        }
    }
}
