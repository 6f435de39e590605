//! `ndsampler demo`: the main job end to end — generate a toy dataset, sample
//! windows from it with every backend, print throughput, write pictures.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use coco_model::CocoDataset;
use frame_backends::Backend;
use sampler::loader::{Loader, LoaderConfig};
use sampler::plan::{EpochPlan, RandomWindows};
use sampler::{CocoSampler, SampleOptions, SamplerConfig, Target};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output directory for the toy datasets, caches and pictures.
    #[arg(long, default_value = "demo-out")]
    pub out: PathBuf,
    /// Windows sampled per backend.
    #[arg(long, default_value_t = 2000)]
    pub count: usize,
    /// Window size `H,W` in pixels (or one number for a square window).
    #[arg(long, default_value = "128", value_name = "H,W", value_parser = super::parse_window)]
    pub window: [i64; 2],
    /// Worker threads of the parallel loader pass.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

fn ensure(key: &str, dir: &std::path::Path) -> Result<CocoDataset> {
    let path = dir.join(toydata::DATASET_FILE);
    if !path.exists() {
        let s = super::progress::generate_toydata(key, Some(0), dir, false)
            .with_context(|| format!("generating {key} into {}", dir.display()))?;
        eprintln!("demo: {s}");
    }
    super::load_dataset(&path)
}

fn throughput(sampler: &CocoSampler, plan: &EpochPlan) -> Result<(f64, usize)> {
    let t0 = Instant::now();
    let mut annots = 0;
    for t in &plan.targets {
        let s = sampler.load_sample_with(t, &SampleOptions::default())?;
        annots += s.frames.iter().map(|f| f.annots.len()).sum::<usize>();
    }
    Ok((plan.len() as f64 / t0.elapsed().as_secs_f64(), annots))
}

pub fn run(mut args: DemoArgs) -> Result<ExitCode> {
    args.threads = super::clamp_threads(args.threads).max(1);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let images = Arc::new(ensure("shapes8-gsize1024", &args.out.join("shapes8"))?);
    let videos = ensure("vidshapes2-frames5", &args.out.join("vidshapes2"))?;
    println!(
        "dataset: {} images, {} annotations, {} categories",
        images.images().len(),
        images.annotations().len(),
        images.categories().len()
    );

    let frames: Vec<(i64, i64, i64)> = images
        .images()
        .iter()
        .filter_map(|im| Some((im.id.0, im.height? as i64, im.width? as i64)))
        .collect();
    let source = RandomWindows {
        frames,
        window: args.window,
        count: args.count,
    };
    let plan = EpochPlan::new(&source, 0, 0, 0, 1)?;
    println!(
        "sampling {} random {w}x{h} windows with their annotations, one thread:",
        plan.len(),
        h = args.window[0],
        w = args.window[1]
    );
    let backends = [
        (
            "raw (decoded once, served from the chunk cache)",
            Backend::Raw,
        ),
        (
            "npy (memory-mapped cache)",
            Backend::Npy {
                workdir: args.out.join("cache"),
            },
        ),
    ];
    let mut last = None;
    for (name, backend) in backends {
        let sampler = CocoSampler::new(
            Arc::clone(&images),
            SamplerConfig {
                backend,
                ..SamplerConfig::default()
            },
        )?;
        // Warm-up pass builds caches / decodes files; the timed pass is what training sees.
        throughput(&sampler, &plan)?;
        let (rate, annots) = throughput(&sampler, &plan)?;
        println!(
            "  {name:<50} {rate:>10.0} windows/s  ({:.1} annotations/window)",
            annots as f64 / plan.len() as f64
        );
        last = Some(sampler);
    }
    let sampler = Arc::new(last.context("no backend ran")?);

    // The parallel loader: ordered batches from worker threads.
    let s2 = Arc::clone(&sampler);
    let t0 = Instant::now();
    let loader = Loader::new(
        plan.targets.clone(),
        LoaderConfig {
            threads: args.threads,
            prefetch: 2 * args.threads.max(1),
            batch_size: 32,
        },
        move |_, t: &Target| s2.load_sample(t),
    );
    let mut n = 0;
    for batch in loader {
        n += batch?.len();
    }
    println!(
        "  {:<50} {:>10.0} windows/s  ({} threads, batches of 32)",
        "npy through the parallel loader",
        n as f64 / t0.elapsed().as_secs_f64(),
        args.threads
    );

    // Pictures a person can look at.
    let aid = images
        .annotations()
        .first()
        .map(|a| a.id.0)
        .context("the toy dataset has no annotation")?;
    let target: Target = serde_json::from_value(serde_json::json!({"annot_id": aid, "pad": 48}))?;
    let sample = sampler.load_sample(&target)?;
    let pic = args.out.join("sample.png");
    ndsampler::render::render_sample(&sample, sampler.dataset())
        .save(&pic)
        .with_context(|| format!("writing {}", pic.display()))?;
    let vsampler = CocoSampler::new(Arc::new(videos), SamplerConfig::default())?;
    let vid = vsampler
        .dataset()
        .videos()
        .first()
        .map(|v| v.id.0)
        .context("the toy video dataset has no video")?;
    let vt: Target =
        serde_json::from_value(serde_json::json!({"video_id": vid, "time_slice": [0, 3]}))?;
    let vsample = vsampler.load_sample(&vt)?;
    let vpic = args.out.join("video.png");
    ndsampler::render::render_sample(&vsample, vsampler.dataset())
        .save(&vpic)
        .with_context(|| format!("writing {}", vpic.display()))?;
    println!(
        "pictures: {} (annotation {aid} with 48 px of context), {} (3 frames of video {vid})",
        pic.display(),
        vpic.display()
    );
    Ok(ExitCode::SUCCESS)
}
