//! Sample-grid labelling and covering selection against brute-force baselines
//! on a synthetic dataset (20 images of 2000², 500 boxes each).
//!
//! Run: `cargo bench -p sampler --bench regions -- --warm-up-time 1 --measurement-time 3`.
//! Prints, for each pair, the ratio baseline / ours.

// `criterion_main!` defines an undocumented `pub fn main`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use coco_model::CocoDataset;
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sampler::grid::{GridConfig, sample_grid, sliding_spans, stride_for};
use sampler::regions::Regions;
use sampler::target::centered_span;

const IMAGES: usize = 20;
const SIZE: i64 = 2000;
const BOXES: usize = 500;

fn dataset() -> CocoDataset {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut anns = Vec::new();
    for g in 1..=IMAGES {
        for _ in 0..BOXES {
            let (x, y) = (rng.random_range(0.0..2000.0), rng.random_range(0.0..2000.0));
            let (w, h) = (rng.random_range(4.0..60.0), rng.random_range(4.0..60.0));
            let id = anns.len() + 1;
            anns.push(serde_json::json!({"id": id, "image_id": g, "category_id": 1, "bbox": [x, y, w, h]}));
        }
    }
    let images: Vec<_> = (1..=IMAGES)
        .map(|g| serde_json::json!({"id": g, "file_name": format!("{g}.png"), "width": SIZE, "height": SIZE}))
        .collect();
    let v = serde_json::json!({"categories": [{"id": 1, "name": "a"}], "images": images, "annotations": anns});
    CocoDataset::from_json_str(&v.to_string(), ".").unwrap()
}

/// Baseline: the same grid labelled by scanning every annotation of the image.
fn brute_grid(ds: &CocoDataset, window: i64) -> (usize, usize) {
    let spans = sliding_spans(SIZE, window, stride_for(window, 0.0));
    let (mut pos, mut neg) = (0, 0);
    for img in ds.images() {
        let boxes: Vec<[f64; 4]> = ds
            .image_annotations(img.id)
            .filter_map(|a| a.bbox)
            .collect();
        for &[y0, y1] in &spans {
            for &[x0, x1] in &spans {
                let hit = boxes.iter().any(|&[x, y, w, h]| {
                    x <= x1 as f64 && x + w >= x0 as f64 && y <= y1 as f64 && y + h >= y0 as f64
                });
                if hit { pos += 1 } else { neg += 1 }
            }
        }
    }
    (pos, neg)
}

/// Baseline cover: every positive's window (no reduction), checked the naive way.
fn naive_cover(r: &Regions, window: i64) -> usize {
    let ps = r.positives();
    ps.iter()
        .filter(|p| {
            let [x0, x1] = centered_span(p.cx, window);
            let [y0, y1] = centered_span(p.cy, window);
            ps.iter().any(|q| {
                q.image_id == p.image_id
                    && (x0 as f64) <= q.cx
                    && q.cx < x1 as f64
                    && (y0 as f64) <= q.cy
                    && q.cy < y1 as f64
            })
        })
        .count()
}

fn mean_time(mut f: impl FnMut(), iters: u32) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed() / iters
}

fn bench(c: &mut Criterion) {
    let ds = dataset();
    let regions = Regions::new(&ds).unwrap();
    let cfg = GridConfig::new([64, 64]);
    {
        let g = sample_grid(&ds, &cfg).unwrap();
        assert_eq!(brute_grid(&ds, 64), (g.positives.len(), g.negatives.len()));
    }

    let mut group = c.benchmark_group("regions");
    group.sample_size(10);
    group.bench_function("grid_64px_ours", |b| {
        b.iter(|| black_box(sample_grid(&ds, &cfg).unwrap()))
    });
    group.bench_function("grid_64px_brute_force", |b| {
        b.iter(|| black_box(brute_grid(&ds, 64)))
    });
    group.bench_function("cover_256px_ours", |b| {
        b.iter(|| black_box(regions.covering_positives([256, 256], 0).unwrap()))
    });
    group.bench_function("cover_256px_naive_scan", |b| {
        b.iter(|| black_box(naive_cover(&regions, 256)))
    });
    group.finish();

    let ours = mean_time(
        || {
            black_box(sample_grid(&ds, &cfg).unwrap());
        },
        5,
    );
    let base = mean_time(
        || {
            black_box(brute_grid(&ds, 64));
        },
        5,
    );
    println!(
        "grid 64px over {IMAGES} x {SIZE}² images, {BOXES} boxes each: ours {ours:?}, brute force {base:?}, ratio {:.1}x",
        base.as_secs_f64() / ours.as_secs_f64()
    );
    let ours = mean_time(
        || {
            black_box(regions.covering_positives([256, 256], 0).unwrap());
        },
        5,
    );
    let base = mean_time(
        || {
            black_box(naive_cover(&regions, 256));
        },
        5,
    );
    println!(
        "cover 256px of {} positives: ours {ours:?}, naive scan {base:?}, ratio {:.1}x",
        regions.n_positives(),
        base.as_secs_f64() / ours.as_secs_f64()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
