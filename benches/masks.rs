//! Masks at read time: `load_sample` of 256² npy windows with annotations,
//! with and without rasterizing them (class mask, instance masks, heatmaps),
//! measured in the same run; the summary prints each case's windows/s and its
//! ratio to the plain window with annotations (issue 25's goal: class mask
//! ≥ 0.7× without). `class_mask_reused_buffers` keeps a `Rasterizer` and
//! the output buffer from window to window, as a loader's worker would;
//! `class_mask_only` rasterizes windows loaded beforehand (the mask's own
//! cost).
//!
//! Env: `NDSAMPLER_BENCH_GSIZE` (default 2048) sets the image size.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use coco_model::geometry::FillRule;
use criterion::Criterion;
use frame_backends::Backend;
use sampler::masks::{HeatmapOptions, MaskOptions};
use sampler::plan::{EpochPlan, RandomWindows};
use sampler::{CocoSampler, SampleOptions, SamplerConfig, Target, WithAnnots};

const WIN: i64 = 256;

struct Fixture {
    _dir: tempfile::TempDir,
    sampler: CocoSampler,
    targets: Vec<Target>,
    /// The windows loaded once (with annotations), for rasterizing alone.
    samples: Vec<sampler::Sample>,
}

fn fixture() -> Fixture {
    let gsize: usize = std::env::var("NDSAMPLER_BENCH_GSIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2048);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("big");
    let key = format!("big1-gsize{gsize}-annots1000");
    toydata::generate(&key, None, &data).expect("toydata");
    let dset =
        Arc::new(coco_model::CocoDataset::load(data.join(toydata::DATASET_FILE)).expect("dataset"));
    let sampler = CocoSampler::new(
        Arc::clone(&dset),
        SamplerConfig {
            backend: Backend::Npy {
                workdir: dir.path().join("work"),
            },
            ..SamplerConfig::default()
        },
    )
    .expect("sampler");
    let img = &dset.images()[0];
    let (h, w) = (img.height.expect("height"), img.width.expect("width"));
    let plan = RandomWindows {
        frames: vec![(img.id.0, i64::from(h), i64::from(w))],
        window: [WIN, WIN],
        count: 512,
    };
    let targets = EpochPlan::new(&plan, 0, 0, 0, 1).expect("plan").targets;
    // builds the npy cache before timing
    let samples = targets
        .iter()
        .map(|t| sampler.load_sample(t).expect("sample"))
        .collect();
    Fixture {
        _dir: dir,
        sampler,
        targets,
        samples,
    }
}

type Case<'a> = Box<dyn FnMut(usize) + 'a>;

fn cases(f: &Fixture) -> Vec<(&'static str, Case<'_>)> {
    let n = f.targets.len();
    let all = SampleOptions {
        with_annots: Some(WithAnnots::default()),
        ..SampleOptions::default()
    };
    let none = SampleOptions {
        with_annots: Some(WithAnnots::NONE),
        ..SampleOptions::default()
    };
    let load = move |o: SampleOptions| -> Case<'_> {
        Box::new(move |i| {
            black_box(f.sampler.load_sample_with(&f.targets[i % n], &o).unwrap());
        })
    };
    let centers = MaskOptions::default();
    let cv2 = MaskOptions {
        fill: FillRule::Cv2Points,
        ..MaskOptions::default()
    };
    let with = move |o: SampleOptions, what: u8| -> Case<'_> {
        let (centers, cv2) = (centers.clone(), cv2.clone());
        Box::new(move |i| {
            let s = f.sampler.load_sample_with(&f.targets[i % n], &o).unwrap();
            match what {
                0 => drop(black_box(s.class_mask(&centers).unwrap())),
                1 => drop(black_box(s.class_mask(&cv2).unwrap())),
                2 => drop(black_box(s.instance_masks(&centers).unwrap().packed())),
                _ => drop(black_box(
                    s.keypoint_heatmaps(&HeatmapOptions::new(2.0)).unwrap(),
                )),
            }
            black_box(s);
        })
    };
    let reused = move |o: SampleOptions| -> Case<'_> {
        let mut r = sampler::masks::Rasterizer::default();
        let mut buf: Vec<i32> = Vec::new();
        let opts = MaskOptions::default();
        Box::new(move |i| {
            let s = f.sampler.load_sample_with(&f.targets[i % n], &o).unwrap();
            buf.resize(sampler::masks::class_mask_shape(&s).iter().product(), 0);
            r.class_mask_into(&s, &opts, &mut buf).unwrap();
            black_box(&buf);
            black_box(s);
        })
    };
    let only = MaskOptions::default();
    vec![
        ("window_no_annots", load(none)),
        ("window_annots", load(all.clone())),
        ("class_mask_centers", with(all.clone(), 0)),
        ("class_mask_cv2", with(all.clone(), 1)),
        ("class_mask_reused_buffers", reused(all.clone())),
        (
            "class_mask_only",
            Box::new(move |i| {
                black_box(f.samples[i % n].class_mask(&only).unwrap());
            }),
        ),
        ("instance_masks_packed", with(all.clone(), 2)),
        ("keypoint_heatmaps", with(all, 3)),
    ]
}

fn bench(c: &mut Criterion, f: &Fixture) {
    let mut g = c.benchmark_group("masks_npy_256");
    g.sample_size(20);
    for (name, mut case) in cases(f) {
        let mut i = 0usize;
        g.bench_function(name, |b| {
            b.iter(|| {
                case(i);
                i += 1;
            })
        });
    }
    g.finish();
}

/// Median µs per call over 5 passes of 512 windows (the cases interleaved
/// pass by pass, so load drift hits them alike).
fn summary(f: &Fixture) {
    let mut cs = cases(f);
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); cs.len()];
    for _ in 0..5 {
        for (k, (_, case)) in cs.iter_mut().enumerate() {
            let t0 = Instant::now();
            for i in 0..512 {
                case(i);
            }
            times[k].push(t0.elapsed().as_secs_f64() * 1e6 / 512.0);
        }
    }
    let med: Vec<f64> = times
        .iter_mut()
        .map(|t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect();
    let base = med[1];
    println!(
        "\nsummary (256² npy windows, median of 5 × 512; ratio = windows/s vs window_annots):"
    );
    for ((name, _), us) in cs.iter().zip(&med) {
        println!(
            "  {name:<24}{us:>9.1} µs  {:>7.0} windows/s  ratio {:.2}",
            1e6 / us,
            base / us
        );
    }
}

fn main() {
    let f = fixture();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &f);
    summary(&f);
    c.final_summary();
}
