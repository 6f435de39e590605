//! `ndsampler bench`: window throughput of a backend and thread count, with a
//! per-stage breakdown, cache hit rates and (with `--baseline`) the memory-copy
//! ceiling measured in the same run (docs/DESIGN.md §6).
//!
//! What is timed:
//! - **setup** (reported, not in the throughput): dataset load, sampler build
//!   (annotation index), cache build (`npy`/`cog` files made before timing),
//!   warm-up (one window per image, so raw PNG/JPEG decodes land in the chunk
//!   cache and npy/cog handles are open).
//! - **run**: `load_sample_with` over the plan's targets, in one loop in the
//!   calling thread (`--threads 1`) or through the ordered bounded [`Loader`]
//!   (`--threads N`). windows/s and MB/s (pixel bytes returned) come from it.
//! - **stages** (single-threaded passes over the same targets after the run,
//!   through the sampler's public API only), in µs per window:
//!   `plan` (making the targets), `resolve` (target → window, no pixels, no
//!   annotations), `index_query` (the region index's overlap query alone),
//!   `annot_transform` (annotations to sample space, geometry already parsed:
//!   annotation pass − resolve − index query, those two passes best of three),
//!   `pixel_read` (pixels through the sampler: pixel pass −
//!   resolve), `reader_read` (the same windows straight from the `FrameReader`,
//!   for single-file images), `total` (the full load, single-threaded).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use coco_model::{CocoDataset, ImageId};
use frame_backends::{Channels, ImageSource, PixelBox, ReadOptions, ReaderOptions};
use rand::{Rng, SeedableRng};
use region_index::Aabb;
use sampler::loader::{Loader, LoaderConfig};
use sampler::locality::LocalityOrder;
use sampler::plan::{EpochPlan, RandomWindows, TargetList};
use sampler::{CocoSampler, SampleOptions, SamplerConfig, Target, WithAnnots};
use serde_json::json;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
    /// Window size `H,W` (or one number for a square window).
    #[arg(long, default_value = "256,256", value_name = "H,W", value_parser = super::parse_window)]
    pub window: [i64; 2],
    /// Number of windows to load (at most 1,000,000).
    #[arg(long, default_value_t = 500, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(..=1_000_000))]
    pub count: usize,
    #[command(flatten)]
    pub backend: super::BackendArg,
    /// Loader threads (1: a plain loop in the calling thread); more than 4 per
    /// core are clamped to that (with a warning).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Also return each window's overlapping annotations (all geometry).
    #[arg(long)]
    pub annots: bool,
    /// Seed of the random windows.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON line instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Also measure the memory-copy ceiling (random windows copied out of an
    /// in-RAM image of the same size and dtype) and print the fraction reached.
    #[arg(long)]
    pub baseline: bool,
    /// Load these targets (a JSON plan, as written by `ndsampler grid`) instead
    /// of random windows; `--count` then caps how many are used (0: all).
    #[arg(long)]
    pub targets: Option<PathBuf>,
    /// Decoded-chunk cache budget in MiB (default: the reader's, 512).
    #[arg(long)]
    pub chunk_cache_mb: Option<usize>,
    /// Skip the per-stage passes (only the throughput run).
    #[arg(long)]
    pub no_stages: bool,
    /// Reorder the plan so windows reading the same tiles come together (within
    /// a bounded shuffle window; helps the tiled `cog` backend).
    #[arg(long)]
    pub locality: bool,
    /// Shuffle window of `--locality` (no target moves this many places or more).
    #[arg(long, default_value_t = 64)]
    pub locality_window: usize,
    /// Tile edge assumed by `--locality` (the COG cache's tile size).
    #[arg(long, default_value_t = 256)]
    pub tile: i64,
    /// Before timing, read every image once in full (touches every page of the
    /// npy memory maps, fills the chunk cache with decoded tiles): steady-state
    /// numbers rather than a first pass.
    #[arg(long)]
    pub warm_full: bool,
    /// Write the plan's targets (in load order) to this JSON file, e.g. to feed
    /// the same windows to another tool with `--targets`.
    #[arg(long)]
    pub write_targets: Option<PathBuf>,
    /// Load stacked batches of N windows (`CocoSampler::load_stacked`, what the
    /// Python package's stacked batches do: each window copied into one
    /// `(N, H, W, C)` array, its buffer recycled) on `--threads` rayon
    /// threads (one: on the calling thread, no pool), instead of one sample
    /// at a time (0: off).
    #[arg(long, default_value_t = 0)]
    pub stacked: usize,
}

/// The frames random windows are drawn from: images with a known size.
fn frames_of(dset: &CocoDataset) -> Vec<(i64, i64, i64)> {
    dset.images()
        .iter()
        .filter_map(|img| Some((img.id.0, img.height? as i64, img.width? as i64)))
        .collect()
}

/// The image's single file, when it has exactly one and no warp (what the
/// direct reader pass can read without the sampler's source model).
fn single_source(dset: &CocoDataset, gid: i64) -> Option<ImageSource> {
    let img = dset.image(ImageId(gid))?;
    let srcs = img.channel_sources();
    match srcs.as_slice() {
        [s] if s.warp_to_img.is_none() => Some(ImageSource::single(
            dset.resolve_path(s.file_name),
            img.width? as usize,
            img.height? as usize,
        )),
        _ => None,
    }
}

/// `[[y0, y1], [x0, x1]]` of a target with a fully given space slice.
fn slice_of(t: &Target) -> Option<(i64, [i64; 4])> {
    let [[y0, y1], [x0, x1]] = t.space_slice?;
    Some((t.image_id?.0, [y0?, y1?, x0?, x1?]))
}

fn per_window_us(secs: f64, n: usize) -> f64 {
    if n == 0 { 0.0 } else { secs * 1e6 / n as f64 }
}

/// Copy random `h × w × c` windows of `elem`-byte pixels out of an in-RAM image
/// of `[ih, iw, c, elem]`, on `threads` threads: the memory-copy ceiling.
fn copy_ceiling(
    [ih, iw, c, elem]: [usize; 4],
    win: [usize; 2],
    count: usize,
    threads: usize,
    seed: u64,
) -> (f64, usize) {
    let row = iw * c * elem;
    let image: Vec<u8> = (0..ih * row).map(|i| (i * 31 % 251) as u8).collect();
    let [wh, ww] = [win[0].min(ih), win[1].min(iw)];
    let wrow = ww * c * elem;
    let threads = threads.max(1);
    let per = count.div_ceil(threads);
    let t0 = Instant::now();
    let checksum: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let image = &image;
                s.spawn(move || {
                    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ ((k as u64) << 32));
                    let mut sum = 0usize;
                    let n = per.min(count.saturating_sub(k * per));
                    for _ in 0..n {
                        let y0 = rng.random_range(0..=ih - wh);
                        let x0 = rng.random_range(0..=iw - ww);
                        let mut out: Vec<u8> = Vec::with_capacity(wh * wrow);
                        for y in y0..y0 + wh {
                            let start = y * row + x0 * c * elem;
                            out.extend_from_slice(&image[start..start + wrow]);
                        }
                        sum = sum.wrapping_add(out[out.len() / 2] as usize);
                        drop(std::hint::black_box(out));
                    }
                    sum
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(checksum);
    (secs, wh * wrow)
}

/// What [`setup`] made, and how long each step took.
struct Setup {
    dset: Arc<CocoDataset>,
    sampler: Arc<CocoSampler>,
    backend_name: &'static str,
    load_s: f64,
    index_s: f64,
    cache_build_s: f64,
    built: u64,
}

/// Load the dataset, build the sampler and (before timing) the npy/cog caches,
/// keeping the file handles open.
fn setup(args: &BenchArgs) -> Result<Setup> {
    let t0 = Instant::now();
    let dset = Arc::new(super::load_dataset(&args.dataset.dataset)?);
    let load_s = t0.elapsed().as_secs_f64();
    let backend = args.backend.backend(dset.bundle_dir());
    let backend_name = backend.name();
    let mut reader_opts = ReaderOptions::default();
    if let Some(mb) = args.chunk_cache_mb {
        reader_opts.chunk_cache_bytes = mb << 20;
    }
    let t0 = Instant::now();
    // records from the dataset's snapshot under the workdir when one is valid
    let sampler = Arc::new(
        CocoSampler::open_with(
            &args.dataset.dataset,
            SamplerConfig {
                backend,
                reader: reader_opts,
                ..args.backend.sampler_config(dset.bundle_dir())
            },
        )
        .context("building the sampler")?,
    );
    let index_s = t0.elapsed().as_secs_f64();

    let t0 = Instant::now();
    for img in dset.images() {
        for src in img.channel_sources() {
            let path = dset.resolve_path(src.file_name);
            sampler
                .reader()
                .open_asset(&path)
                .with_context(|| format!("preparing {} of image {}", path.display(), img.id.0))?;
        }
    }
    let cache_build_s = t0.elapsed().as_secs_f64();
    let built = sampler.reader().stats().built;
    Ok(Setup {
        dset,
        sampler,
        backend_name,
        load_s,
        index_s,
        cache_build_s,
        built,
    })
}

/// The targets of the run: a JSON plan (`--targets`) or seeded random windows,
/// reordered for tile locality with `--locality`.
fn plan_targets(args: &BenchArgs, dset: &CocoDataset) -> Result<Vec<Target>> {
    let targets: Vec<Target> = match &args.targets {
        Some(path) => {
            let mut list = TargetList::read_json(path)?.targets;
            if args.count > 0 {
                list.truncate(args.count);
            }
            list
        }
        None => {
            let plan = RandomWindows {
                frames: frames_of(dset),
                window: args.window,
                count: args.count,
            };
            if plan.frames.is_empty() {
                bail!(
                    "{}: no image with a width and height to draw windows from",
                    args.dataset.dataset.display()
                );
            }
            EpochPlan::new(&plan, args.seed, 0, 0, 1)?.targets
        }
    };
    Ok(if args.locality {
        LocalityOrder {
            tile: [args.tile, args.tile],
            window: args.locality_window,
            seed: args.seed,
        }
        .apply(targets)
    } else {
        targets
    })
}

/// Sample options that skip pixels and/or choose the annotation geometry.
fn options(skip_pixels: bool, with_annots: WithAnnots) -> SampleOptions {
    SampleOptions {
        skip_pixels,
        with_annots: Some(with_annots),
        ..SampleOptions::default()
    }
}

/// Warm-up, not timed as part of the run: one window per image (decodes of raw
/// PNG/JPEG land in the chunk cache; handles are open), and with `--warm-full`
/// every image read once in full.
fn warm_up(args: &BenchArgs, s: &Setup, targets: &[Target], opts: &SampleOptions) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for t in targets {
        if seen.insert(t.image_id) {
            s.sampler.load_sample_with(t, opts).with_context(|| {
                format!(
                    "warm-up sample {}",
                    serde_json::to_string(t).unwrap_or_default()
                )
            })?;
        }
    }
    if args.warm_full {
        for (gid, h, w) in frames_of(&s.dset) {
            let full = Target {
                image_id: Some(ImageId(gid)),
                space_slice: Some([[Some(0), Some(h)], [Some(0), Some(w)]]),
                ..Target::default()
            };
            std::hint::black_box(
                s.sampler
                    .load_sample_with(&full, &options(false, WithAnnots::NONE))
                    .with_context(|| format!("warm-up read of image {gid}"))?,
            );
        }
    }
    Ok(())
}

/// The timed run: every target loaded in the calling thread (`--threads 1`) or
/// through the [`Loader`]. Returns seconds, pixel bytes, annotations and,
/// for the loader, where the time went: the samples' own load time summed
/// over workers (and its fraction of `threads ×` wall time), the first
/// batch's latency (thread start), the consumer's time blocked on the next
/// batch and its time handling (dropping) batches.
fn timed_run(
    args: &BenchArgs,
    sampler: &Arc<CocoSampler>,
    targets: &[Target],
    opts: &SampleOptions,
) -> Result<(f64, usize, usize, Option<serde_json::Value>)> {
    let mut nbytes = 0usize;
    let mut nannots = 0usize;
    let mut detail = None;
    let t0 = Instant::now();
    if args.stacked > 0 {
        // one thread: every batch on this thread, as the Python package does
        let pool = (args.threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(args.threads)
                    .build()
            })
            .transpose()
            .context("starting the batch threads")?;
        let mut storage = None;
        for chunk in targets.chunks(args.stacked) {
            let reuse = storage.take();
            let b = match &pool {
                None => sampler.load_stacked_sequential(chunk, opts, reuse),
                Some(pool) => pool.install(|| sampler.load_stacked(chunk, opts, reuse)),
            }
            .context("loading a stacked batch")?;
            nbytes += b.im.nbytes();
            nannots += b.num_annots();
            storage = Some(sampler::batch::PixelStorage::from_pixels(b.im));
        }
    } else if args.threads == 1 {
        for t in targets {
            let s = sampler.load_sample_with(t, opts).with_context(|| {
                format!("sample {}", serde_json::to_string(t).unwrap_or_default())
            })?;
            nbytes += s.im.nbytes();
            nannots += s.frames.iter().map(|f| f.annots.len()).sum::<usize>();
        }
    } else {
        let s2 = Arc::clone(sampler);
        let opts2 = opts.clone();
        let busy = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let busy2 = Arc::clone(&busy);
        let mut loader = Loader::new(
            targets.to_vec(),
            LoaderConfig {
                threads: args.threads,
                prefetch: 2 * args.threads,
                batch_size: 16,
            },
            move |_, t: &Target| {
                let t0 = Instant::now();
                let r = s2.load_sample_with(t, &opts2);
                busy2.fetch_add(
                    t0.elapsed().as_nanos() as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                r
            },
        );
        let (mut wait, mut work, mut first) = (0.0, 0.0, None);
        loop {
            let w0 = Instant::now();
            let Some(batch) = loader.next() else { break };
            wait += w0.elapsed().as_secs_f64();
            first.get_or_insert_with(|| t0.elapsed().as_secs_f64());
            let c0 = Instant::now();
            for s in batch.context("loading a batch")? {
                nbytes += s.im.nbytes();
                nannots += s.frames.iter().map(|f| f.annots.len()).sum::<usize>();
            }
            work += c0.elapsed().as_secs_f64();
        }
        drop(loader);
        let wall = t0.elapsed().as_secs_f64();
        let busy_s = busy.load(std::sync::atomic::Ordering::Relaxed) as f64 * 1e-9;
        detail = Some(json!({
            "wall_s": wall,
            "sample_busy_s": busy_s,
            "busy_fraction": busy_s / (wall * args.threads as f64),
            "first_batch_s": first,
            "consumer_wait_s": wait,
            "consumer_drop_s": work,
        }));
    }
    Ok((t0.elapsed().as_secs_f64(), nbytes, nannots, detail))
}

/// Per-stage µs/window from single-threaded passes over the same targets.
fn stages(
    s: &Setup,
    targets: &[Target],
    opts: &SampleOptions,
    plan_s: f64,
) -> Result<serde_json::Value> {
    let n = targets.len();
    let time_pass = |o: &SampleOptions| -> Result<f64> {
        let t0 = Instant::now();
        for t in targets {
            std::hint::black_box(s.sampler.load_sample_with(t, o)?);
        }
        Ok(t0.elapsed().as_secs_f64())
    };
    // The two pixel-free passes are cheap: best of three each (noise), after
    // one annotation pass that parses every geometry the windows touch not
    // parsed by the run, so the stage is the steady-state transform.
    let best_of_3 = |o: &SampleOptions| -> Result<f64> {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            best = best.min(time_pass(o)?);
        }
        Ok(best)
    };
    time_pass(&options(true, WithAnnots::default()))?;
    let resolve_s = best_of_3(&options(true, WithAnnots::NONE))?;
    let annots_s = best_of_3(&options(true, WithAnnots::default()))?;
    let pixels_s = time_pass(&options(false, WithAnnots::NONE))?;
    let total_s = time_pass(opts)?;
    let query_us = index_query_us(&s.sampler, targets);
    let reader_us = reader_read_us(s, targets)?;
    let resolve_us = per_window_us(resolve_s, n);
    Ok(json!({
        "plan_us": per_window_us(plan_s, n),
        "resolve_us": resolve_us,
        "index_query_us": query_us,
        "annot_transform_us": (per_window_us(annots_s, n) - resolve_us - query_us).max(0.0),
        "pixel_read_us": (per_window_us(pixels_s, n) - resolve_us).max(0.0),
        "reader_read_us": reader_us,
        "total_us": per_window_us(total_s, n),
    }))
}

/// The region index's overlap query alone, over the padded window of each 2D
/// target, in µs per window.
fn index_query_us(sampler: &CocoSampler, targets: &[Target]) -> f64 {
    let resolved: Vec<_> = targets
        .iter()
        .filter_map(|t| sampler.resolve(t).ok())
        .filter(|r| !r.is_video)
        .collect();
    let t0 = Instant::now();
    for r in &resolved {
        let [[y0, y1], [x0, x1]] = r.padded;
        let q = Aabb::new(x0 as f64, y0 as f64, x1 as f64, y1 as f64);
        for g in r.frames.iter().flatten() {
            std::hint::black_box(sampler.region_index().overlapping_visible(g, &q, 0.0));
        }
    }
    per_window_us(t0.elapsed().as_secs_f64(), resolved.len())
}

/// The same windows straight from the frame reader (single-file images, no
/// pad/scale/channels), with the bands the sampler reads, in its order; µs per
/// window, `None` when no target qualifies.
fn reader_read_us(s: &Setup, targets: &[Target]) -> Result<Option<f64>> {
    let mut sources: HashMap<i64, Option<(ImageSource, Channels)>> = HashMap::new();
    let mut direct: Vec<(i64, PixelBox)> = Vec::new();
    for t in targets {
        if t.pad.is_some() || t.scale.is_some() || t.channels.is_some() {
            continue;
        }
        let Some((gid, [y0, y1, x0, x1])) = slice_of(t) else {
            continue;
        };
        let entry = sources.entry(gid).or_insert_with(|| {
            let src = single_source(&s.dset, gid)?;
            let probe = s
                .sampler
                .load_sample_with(t, &options(true, WithAnnots::NONE))
                .ok()?;
            Some((src, Channels::Names(probe.params.channels)))
        });
        if entry.is_some()
            && let Ok(b) = PixelBox::new(y0, y1, x0, x1)
        {
            direct.push((gid, b));
        }
    }
    let t0 = Instant::now();
    for (gid, win) in &direct {
        if let Some(Some((src, channels))) = sources.get(gid) {
            std::hint::black_box(s.sampler.reader().read_window(
                src,
                *win,
                channels,
                &ReadOptions::default(),
            )?);
        }
    }
    let reader_s = t0.elapsed().as_secs_f64();
    Ok((!direct.is_empty()).then(|| per_window_us(reader_s, direct.len())))
}

/// The memory-copy ceiling for the first target's image size and pixel layout,
/// and the fraction `wps` reaches of it.
fn baseline(
    args: &BenchArgs,
    sampler: &CocoSampler,
    targets: &[Target],
    wps: f64,
) -> Result<serde_json::Value> {
    let probe = sampler.load_sample_with(&targets[0], &options(false, WithAnnots::NONE))?;
    let shape = probe.im.shape();
    let c = *shape.last().unwrap_or(&1);
    let elem = probe.im.dtype().size();
    let [ih, iw] = probe.params.data_dims;
    let (win_h, win_w) = match shape.len() {
        3 => (shape[0], shape[1]),
        4 => (shape[1], shape[2]),
        _ => (args.window[0] as usize, args.window[1] as usize),
    };
    let copies = targets.len().max(2000);
    // Best of three passes: the ceiling should not suffer from noise.
    let (secs, bytes) = (0..3)
        .map(|k| {
            copy_ceiling(
                [ih.max(1) as usize, iw.max(1) as usize, c.max(1), elem],
                [win_h, win_w],
                copies,
                args.threads,
                args.seed + k,
            )
        })
        .fold((f64::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a });
    let bwps = copies as f64 / secs;
    Ok(json!({
        "windows_per_sec": bwps,
        "mb_per_sec": (copies * bytes) as f64 / secs / 1e6,
        "image": [ih, iw, c],
        "dtype": probe.im.dtype().name(),
        "fraction": wps / bwps,
    }))
}

/// Counts and timings of one bench run.
struct Measured {
    /// Windows loaded.
    n: usize,
    plan_s: f64,
    warm_s: f64,
    run_s: f64,
    /// Pixel bytes returned.
    nbytes: usize,
    /// Annotations returned.
    nannots: usize,
    /// Chunk-cache hits and misses during the run.
    hits: u64,
    misses: u64,
    /// Where a loader run's time went (see `timed_run`).
    loader: Option<serde_json::Value>,
    /// Remote requests and bytes during the run (feature `remote`).
    remote: frame_backends::RemoteStats,
}

/// The bench record (`--json` prints it; the text report reads it).
fn record(
    args: &BenchArgs,
    s: &Setup,
    m: &Measured,
    stages: Option<serde_json::Value>,
    baseline: Option<serde_json::Value>,
) -> serde_json::Value {
    let (hits, misses) = (m.hits, m.misses);
    let hit_rate = (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64);
    let geo = s.sampler.geometry_cache_stats();
    json!({
        "tool": "ndsampler-rs",
        "dataset": args.dataset.dataset.display().to_string(),
        "backend": s.backend_name,
        "threads": args.threads,
        "stacked": args.stacked,
        "loader": m.loader,
        "window": args.window,
        "count": m.n,
        "annots": args.annots,
        "seed": args.seed,
        "warm_full": args.warm_full,
        "locality": args.locality.then_some(args.locality_window),
        "targets": args.targets.as_ref().map(|p| p.display().to_string()),
        "seconds": m.run_s,
        "windows_per_sec": m.n as f64 / m.run_s,
        "mb_per_sec": m.nbytes as f64 / m.run_s / 1e6,
        "annots_per_window": m.nannots as f64 / m.n as f64,
        "setup": {
            "load_s": s.load_s,
            "index_s": s.index_s,
            "cache_build_s": s.cache_build_s,
            "caches_built": s.built,
            "warm_s": m.warm_s,
            "plan_s": m.plan_s,
        },
        "cache": {
            "chunk_hits": hits,
            "chunk_misses": misses,
            "hit_rate": hit_rate,
        },
        "remote": {
            "requests_per_window": m.remote.requests as f64 / m.n as f64,
            "bytes_per_window": m.remote.bytes as f64 / m.n as f64,
        },
        "geometry_cache": {
            "entries": geo.entries,
            "bytes": geo.bytes,
            "budget_bytes": geo.budget_bytes,
            "uncached_parses": geo.uncached_parses,
        },
        "stages": stages,
        "baseline": baseline,
    })
}

pub fn run(mut args: BenchArgs) -> Result<ExitCode> {
    if args.threads == 0 {
        bail!("--threads must be at least 1");
    }
    args.threads = super::clamp_threads(args.threads);
    let s = setup(&args)?;

    let t0 = Instant::now();
    let targets = plan_targets(&args, &s.dset)?;
    let plan_s = t0.elapsed().as_secs_f64();
    if targets.is_empty() {
        bail!("the plan has no targets");
    }
    if let Some(path) = &args.write_targets {
        TargetList::new(targets.clone()).write_json(path)?;
    }
    let n = targets.len();
    let with_annots = if args.annots {
        WithAnnots::default()
    } else {
        WithAnnots::NONE
    };
    let opts = options(false, with_annots);

    let t0 = Instant::now();
    warm_up(&args, &s, &targets, &opts)?;
    let warm_s = t0.elapsed().as_secs_f64();
    let stats0 = s.sampler.reader().stats();
    let remote0 = frame_backends::remote_stats();

    let (run_s, nbytes, nannots, loader) = timed_run(&args, &s.sampler, &targets, &opts)?;
    let stats1 = s.sampler.reader().stats();
    let m = Measured {
        n,
        plan_s,
        warm_s,
        run_s,
        nbytes,
        nannots,
        hits: stats1.chunk_hits - stats0.chunk_hits,
        misses: stats1.chunk_misses - stats0.chunk_misses,
        loader,
        remote: frame_backends::remote_stats().since(remote0),
    };
    let stages = if args.no_stages {
        None
    } else {
        Some(stages(&s, &targets, &opts, plan_s)?)
    };
    let baseline = if args.baseline {
        Some(baseline(&args, &s.sampler, &targets, n as f64 / run_s)?)
    } else {
        None
    };
    let record = record(&args, &s, &m, stages, baseline);
    if args.json {
        println!("{}", serde_json::to_string(&record)?);
    } else {
        print_report(&args, &record);
    }
    Ok(ExitCode::SUCCESS)
}

/// The text report of a bench record.
fn print_report(args: &BenchArgs, r: &serde_json::Value) {
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
    let n = r["count"].as_u64().unwrap_or(0);
    println!(
        "{} windows of {}×{} from {} ({} backend, {} thread{}){}",
        n,
        args.window[0],
        args.window[1],
        args.dataset.dataset.display(),
        r["backend"].as_str().unwrap_or(""),
        args.threads,
        if args.threads == 1 { "" } else { "s" },
        if args.annots {
            format!(", {:.1} annotations/window", f(&r["annots_per_window"]))
        } else {
            String::new()
        }
    );
    let (wps, mbps, run_s) = (
        f(&r["windows_per_sec"]),
        f(&r["mb_per_sec"]),
        f(&r["seconds"]),
    );
    println!("  throughput   {wps:>10.1} windows/s  {mbps:>9.1} MB/s  ({run_s:.3} s)");
    let setup = &r["setup"];
    println!(
        "  setup        load {:.3} s, index {:.3} s, cache build {:.3} s ({} built), warm-up {:.3} s",
        f(&setup["load_s"]),
        f(&setup["index_s"]),
        f(&setup["cache_build_s"]),
        setup["caches_built"],
        f(&setup["warm_s"])
    );
    let cache = &r["cache"];
    match cache["hit_rate"].as_f64() {
        Some(rate) => println!(
            "  chunk cache  {} hits, {} misses ({:.1}% hits)",
            cache["chunk_hits"],
            cache["chunk_misses"],
            100.0 * rate
        ),
        None => println!("  chunk cache  not used (memory-mapped reads)"),
    }
    if f(&r["remote"]["requests_per_window"]) > 0.0 {
        println!(
            "  remote       {:.2} requests, {:.0} bytes per window",
            f(&r["remote"]["requests_per_window"]),
            f(&r["remote"]["bytes_per_window"])
        );
    }
    let g = &r["geometry_cache"];
    if args.annots {
        println!(
            "  geometry     {} annotations parsed and kept, {:.1} MB of {:.0} MB ({} parses over budget)",
            g["entries"],
            f(&g["bytes"]) / 1e6,
            f(&g["budget_bytes"]) / 1e6,
            g["uncached_parses"]
        );
    }
    print_stages(&r["stages"]);
    let b = &r["baseline"];
    if !b.is_null() {
        println!(
            "  baseline     {:>10.1} windows/s  {:>9.1} MB/s  memory copy; reached {:.1}%",
            f(&b["windows_per_sec"]),
            f(&b["mb_per_sec"]),
            100.0 * f(&b["fraction"])
        );
    }
}

/// The per-stage lines of the text report (nothing when stages were skipped).
fn print_stages(s: &serde_json::Value) {
    if s.is_null() {
        return;
    }
    println!("  stages (µs/window, one thread):");
    for (k, label) in [
        ("plan_us", "plan"),
        ("resolve_us", "resolve target"),
        ("index_query_us", "index query"),
        ("annot_transform_us", "annotation transform"),
        ("pixel_read_us", "pixel read (sampler)"),
        ("reader_read_us", "pixel read (reader)"),
        ("total_us", "total load_sample"),
    ] {
        match s[k].as_f64() {
            Some(v) => println!("    {label:<22}{v:>10.2}"),
            None => println!("    {label:<22}{:>10}", "n/a"),
        }
    }
}
