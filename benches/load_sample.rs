//! `load_sample` on a large image with ~1k annotations through the npy cache:
//! how much the sampler adds on top of the pixel read, against the memory-copy
//! ceiling measured in the same run.
//!
//! Cases (random 256² windows fully inside the image, npy backend, one thread):
//! - `copy_ceiling`: copy the window out of an in-RAM image of the same size and
//!   dtype (the baseline);
//! - `reader_read_window`: the same window straight from the `FrameReader`;
//! - `load_sample_pixels`: `load_sample` without annotations;
//! - `load_sample_annots`: `load_sample` with every overlapping annotation;
//! - `skip_pixels_resolve`: `load_sample(skip_pixels)` without annotations
//!   (target resolution: the sampler's own per-window cost);
//! - `skip_pixels_annots`: `load_sample(skip_pixels)` with annotations (index
//!   query + transforms).
//!
//! After criterion's report a summary prints each case's mean µs/window (own
//! timing loop) and the ratios: sampler overhead = (pixels − reader) / pixels
//! and resolve / pixels (goal < 5 %), and reached fraction of the copy ceiling.
//!
//! Env: `NDSAMPLER_BENCH_GSIZE` (default 4096) sets the image size.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::Criterion;
use frame_backends::{Backend, Channels, ImageSource, PixelBox, ReadOptions};
use rand::{Rng, SeedableRng};
use sampler::plan::{EpochPlan, RandomWindows};
use sampler::{CocoSampler, SampleOptions, SamplerConfig, Target, WithAnnots};

const WIN: i64 = 256;

struct Fixture {
    _dir: tempfile::TempDir,
    sampler: CocoSampler,
    targets: Vec<Target>,
    source: ImageSource,
    boxes: Vec<PixelBox>,
    image: Vec<u8>,
    dims: (usize, usize, usize),
}

fn fixture() -> Fixture {
    let gsize: usize = std::env::var("NDSAMPLER_BENCH_GSIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4096);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("big");
    let t0 = Instant::now();
    let key = format!("big1-gsize{gsize}-annots1000");
    toydata::generate(&key, None, &data).expect("toydata");
    eprintln!("generated {key} in {:.1} s", t0.elapsed().as_secs_f64());
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
    let (h, w) = (
        img.height.expect("height") as usize,
        img.width.expect("width") as usize,
    );
    let path = dset.resolve_path(img.file_name.as_deref().expect("file_name"));
    let t0 = Instant::now();
    sampler.reader().open_asset(&path).expect("npy cache");
    eprintln!("built the npy cache in {:.1} s", t0.elapsed().as_secs_f64());
    let plan = RandomWindows {
        frames: vec![(img.id.0, h as i64, w as i64)],
        window: [WIN, WIN],
        count: 512,
    };
    let targets = EpochPlan::new(&plan, 0, 0, 0, 1).expect("plan").targets;
    let boxes = targets
        .iter()
        .map(|t| {
            let [[y0, y1], [x0, x1]] = t.space_slice.expect("slice");
            PixelBox::new(y0.unwrap(), y1.unwrap(), x0.unwrap(), x1.unwrap()).unwrap()
        })
        .collect();
    let probe = sampler.load_sample(&targets[0]).expect("probe");
    let c = probe.im.shape()[2];
    let elem = probe.im.dtype().size();
    let image = (0..h * w * c * elem).map(|i| (i % 251) as u8).collect();
    Fixture {
        _dir: dir,
        sampler,
        targets,
        source: ImageSource::single(path, w, h),
        boxes,
        image,
        dims: (h, w, c * elem),
    }
}

fn copy_window(image: &[u8], dims: (usize, usize, usize), y0: usize, x0: usize) -> Vec<u8> {
    let (_, w, px) = dims;
    let (row, wrow) = (w * px, WIN as usize * px);
    let mut out = Vec::with_capacity(WIN as usize * wrow);
    for y in y0..y0 + WIN as usize {
        let s = y * row + x0 * px;
        out.extend_from_slice(&image[s..s + wrow]);
    }
    out
}

type Case<'a> = Box<dyn FnMut(usize) + 'a>;

fn cases(f: &Fixture) -> Vec<(&'static str, Case<'_>)> {
    let none = SampleOptions {
        with_annots: Some(WithAnnots::NONE),
        ..SampleOptions::default()
    };
    let all = SampleOptions {
        with_annots: Some(WithAnnots::default()),
        ..SampleOptions::default()
    };
    let skip_none = SampleOptions {
        skip_pixels: true,
        ..none.clone()
    };
    let skip_all = SampleOptions {
        skip_pixels: true,
        ..all.clone()
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let (h, w, _) = f.dims;
    let offsets: Vec<(usize, usize)> = (0..512)
        .map(|_| {
            (
                rng.random_range(0..=h - WIN as usize),
                rng.random_range(0..=w - WIN as usize),
            )
        })
        .collect();
    let n = f.targets.len();
    let load = move |o: SampleOptions| -> Case<'_> {
        Box::new(move |i| {
            black_box(f.sampler.load_sample_with(&f.targets[i % n], &o).unwrap());
        })
    };
    vec![
        (
            "copy_ceiling",
            Box::new(move |i| {
                let (y, x) = offsets[i % offsets.len()];
                black_box(copy_window(&f.image, f.dims, y, x));
            }),
        ),
        (
            "reader_read_window",
            Box::new(move |i| {
                black_box(
                    f.sampler
                        .reader()
                        .read_window(
                            &f.source,
                            f.boxes[i % n],
                            &Channels::All,
                            &ReadOptions::default(),
                        )
                        .unwrap(),
                );
            }),
        ),
        ("load_sample_pixels", load(none)),
        ("load_sample_annots", load(all)),
        ("skip_pixels_resolve", load(skip_none)),
        ("skip_pixels_annots", load(skip_all)),
    ]
}

fn bench(c: &mut Criterion, f: &Fixture) {
    let mut g = c.benchmark_group("load_sample_npy_256");
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

/// Mean µs per call over `reps` passes of the 512 windows, best of 3.
fn summary(f: &Fixture) {
    let mut means = Vec::new();
    for (name, mut case) in cases(f) {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t0 = Instant::now();
            for i in 0..1024 {
                case(i);
            }
            best = best.min(t0.elapsed().as_secs_f64() * 1e6 / 1024.0);
        }
        means.push((name, best));
    }
    let get = |k: &str| {
        means
            .iter()
            .find(|(n, _)| *n == k)
            .map_or(f64::NAN, |m| m.1)
    };
    println!("\nsummary (µs per 256² window, best of 3 × 1024):");
    for (name, us) in &means {
        println!("  {name:<22}{us:>9.2} µs  ({:>8.0} windows/s)", 1e6 / us);
    }
    let pixels = get("load_sample_pixels");
    let reader = get("reader_read_window");
    println!(
        "  sampler overhead on the pixel path (pixels − reader) / pixels: {:.1} %",
        100.0 * (pixels - reader) / pixels
    );
    println!(
        "  resolve-only (skip_pixels, no annots) / pixels:                {:.1} %  (goal < 5 %)",
        100.0 * get("skip_pixels_resolve") / pixels
    );
    println!(
        "  annotations (skip_pixels) / load_sample with annotations:     {:.1} %",
        100.0 * get("skip_pixels_annots") / get("load_sample_annots")
    );
    println!(
        "  load_sample_pixels reaches {:.1} % of the copy ceiling; reader {:.1} %",
        100.0 * get("copy_ceiling") / pixels,
        100.0 * get("copy_ceiling") / reader
    );
}

fn benches() {
    let f = fixture();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &f);
    summary(&f);
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
