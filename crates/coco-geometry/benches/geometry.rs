//! Geometry benchmarks, each next to a baseline measured in the same run:
//!
//! - parsing a kwcoco polygon `segmentation` from text vs. only parsing the
//!   text into a `serde_json::Value`;
//! - warping + writing it back vs. cloning the `Value`;
//! - tracing a 256×256 mask into polygons (pixel-corner and cv2 style) vs.
//!   one counting pass over it;
//! - COCO RLE encode + decode vs. copying the mask;
//! - rasterizing polygons vs. allocating the zeroed mask.
//!
//! Run: `cargo bench -p coco-model --bench geometry -- --warm-up-time 1 --measurement-time 3`

// `criterion_main!` defines an undocumented `pub fn main`.
#![allow(missing_docs)]

use coco_geometry::{Affine, Keypoints, Mask, Rle, Segmentation};
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use std::time::{Duration, Instant};

/// Mean time per call of `f`, over ~`budget`.
fn time_per_call<R>(budget: Duration, mut f: impl FnMut() -> R) -> f64 {
    let mut n = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            black_box(f());
        }
        let dt = t.elapsed();
        if dt >= budget || n >= 1 << 30 {
            return dt.as_secs_f64() / n as f64;
        }
        n *= 2;
    }
}

/// Print implementation time, baseline time and their ratio.
fn report<A, B>(name: &str, baseline: impl FnMut() -> A, imp: impl FnMut() -> B) {
    let budget = Duration::from_millis(300);
    let b = time_per_call(budget, baseline);
    let i = time_per_call(budget, imp);
    println!(
        "RATIO {name}: {:.2} µs vs baseline {:.2} µs = {:.2}x baseline",
        i * 1e6,
        b * 1e6,
        i / b
    );
}

/// A kwcoco polygon with `n` vertices on a circle, integer coordinates.
fn polygon_text(n: usize) -> String {
    let pts: Vec<String> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            format!(
                "[{}, {}]",
                (200.0 + 40.0 * t.cos()).round(),
                (200.0 + 30.0 * t.sin()).round()
            )
        })
        .collect();
    format!(r#"[{{"exterior": [{}], "interiors": []}}]"#, pts.join(", "))
}

/// A 256×256 mask with disks, rings (holes) and noise.
fn shapes_mask() -> Mask {
    let mut seed = 12345u64;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as f64 / (1u64 << 31) as f64
    };
    let disks: Vec<(f64, f64, f64, f64)> = (0..12)
        .map(|_| (rnd() * 256.0, rnd() * 256.0, 8.0 + rnd() * 30.0, rnd()))
        .collect();
    Mask::from_fn(256, 256, |x, y| {
        disks.iter().any(|&(cx, cy, r, ring)| {
            let d = ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt();
            d < r && (ring < 0.5 || d > r * 0.5)
        })
    })
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let text = polygon_text(70);
    c.bench_function("segmentation_parse_70pts", |b| {
        b.iter(|| Segmentation::from_json_str(black_box(&text)).unwrap())
    });
    c.bench_function("baseline_value_parse_70pts", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&text)).unwrap())
    });
    report(
        "segmentation_parse_70pts",
        || serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        || Segmentation::from_json_str(&text).unwrap(),
    );

    let kp_text = r#"[{"xy": [139.59375, 338.53125], "keypoint_category_id": 1}, {"xy": [145.40625, 338.53125], "keypoint_category_id": 2}, {"xy": [142.5, 345.0], "keypoint_category_id": 3}]"#;
    report(
        "keypoints_parse_3pts",
        || serde_json::from_str::<serde_json::Value>(kp_text).unwrap(),
        || Keypoints::from_json_str(kp_text).unwrap(),
    );

    let seg = Segmentation::from_json_str(&text).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let shift = Affine::translate(-152.0, -148.0);
    c.bench_function("segmentation_warp_to_json", |b| {
        b.iter(|| seg.warp(black_box(&shift)).unwrap().to_json())
    });
    report(
        "segmentation_warp_to_json",
        || value.clone(),
        || seg.warp(&shift).unwrap().to_json(),
    );

    let mask = shapes_mask();
    c.bench_function("mask_trace_256", |b| {
        b.iter(|| black_box(&mask).to_multi_polygon())
    });
    report(
        "mask_trace_256",
        || mask.count(),
        || mask.to_multi_polygon(),
    );
    report(
        "mask_trace_cv2_256",
        || mask.count(),
        || mask.to_multi_polygon_cv2(),
    );

    c.bench_function("rle_encode_decode_256", |b| {
        b.iter(|| Rle::encode(black_box(&mask)).decode().unwrap())
    });
    report(
        "rle_encode_decode_256",
        || mask.clone(),
        || Rle::encode(&mask).decode().unwrap(),
    );
    let rle = Rle::encode(&mask);
    report("rle_encode_256", || mask.clone(), || Rle::encode(&mask));
    report("rle_decode_256", || mask.clone(), || rle.decode().unwrap());
    report(
        "rle_string_codec_256",
        || rle.counts().to_vec(),
        || Rle::from_string_counts(256, 256, &rle.to_string_counts()).unwrap(),
    );

    let polys = mask.to_multi_polygon();
    c.bench_function("polygon_rasterize_256", |b| {
        b.iter(|| polys.to_mask(256, 256).unwrap())
    });
    report(
        "polygon_rasterize_256",
        || Mask::new(256, 256).unwrap(),
        || polys.to_mask(256, 256).unwrap(),
    );
}

criterion_group!(geometry, benches);
criterion_main!(geometry);
