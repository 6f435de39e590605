//! A sampling worker for measuring what N processes share: opens a sampler
//! (on the dataset's snapshot under WORKDIR, or on the JSON with `--json`),
//! samples COUNT random annotation-centred targets (annotations and geometry;
//! `--pixels` also reads pixels), prints its timings and its RSS/PSS
//! (`/proc/self/smaps_rollup`), then waits until stdin closes so that several
//! workers can be measured side by side.
//!
//! ```text
//! cargo run --release -p sampler --example snapshot_worker -- DATA.json WORKDIR COUNT SEED [--json] [--pixels] [--image-cache=N]
//! ```

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use sampler::{CocoSampler, SampleOptions, SamplerConfig, Target};

fn rollup() -> String {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("Rss:") || l.starts_with("Pss:"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, json, workdir, count, seed, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: snapshot_worker DATA.json WORKDIR COUNT SEED [--json] [--pixels] [--image-cache=N]".into(),
        );
    };
    let count: usize = count.parse()?;
    let seed: u64 = seed.parse()?;
    let from_json = rest.iter().any(|a| a == "--json");
    let pixels = rest.iter().any(|a| a == "--pixels");
    let mut config = SamplerConfig::default();
    if let Some(n) = rest.iter().find_map(|a| a.strip_prefix("--image-cache=")) {
        config.image_cache_entries = n.parse()?;
    }
    let t0 = Instant::now();
    let s = if from_json {
        let ds = coco_model::CocoDataset::load(json)?;
        CocoSampler::new(Arc::new(ds), config)?
    } else {
        let path = sampler::snapshot::snapshot_path(workdir.as_ref(), json.as_ref());
        let snap = sampler::snapshot::Snapshot::open_for(&path, json.as_ref())
            .map_err(|e| format!("{e} (run `ndsampler index` first)"))?;
        CocoSampler::from_snapshot(snap, json.as_ref(), config)?
    };
    let open_ms = t0.elapsed().as_secs_f64() * 1e3;
    let n_annots = match s.snapshot_path() {
        Some(p) => sampler::snapshot::Snapshot::open(p)?.n_annotations(),
        None => s.dataset().annotations().len(),
    };
    let opts = SampleOptions {
        skip_pixels: !pixels,
        ..SampleOptions::default()
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut first_ms = 0.0;
    let mut found = 0usize;
    let t1 = Instant::now();
    for i in 0..count {
        // synthetic files number annotations 1..=N
        let aid = rng.random_range(1..=n_annots as i64);
        let t: Target = serde_json::from_value(serde_json::json!({"annot_id": aid, "pad": 32}))?;
        let ts = Instant::now();
        let sample = s.load_sample_with(&t, &opts)?;
        if i == 0 {
            first_ms = ts.elapsed().as_secs_f64() * 1e3;
        }
        found += sample.frames.iter().map(|f| f.annots.len()).sum::<usize>();
    }
    let per_s = count as f64 / t1.elapsed().as_secs_f64();
    println!(
        "open {open_ms:.1} ms, first sample {first_ms:.3} ms, {per_s:.0} samples/s, {found} annotations; {}; geometry cache {:?}, images kept {}",
        rollup(),
        s.geometry_cache_stats(),
        s.images_kept()
    );
    // stay alive (mapped) until the caller closes stdin
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    Ok(())
}
