//! `ndsampler index`: write (or check and reuse) the memory-mappable snapshot
//! of a dataset, which the sampling commands open instead of parsing the JSON;
//! `--time-open` times opening a sampler on it against opening on the JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use sampler::snapshot::{self, Snapshot, SnapshotStatus};
use sampler::{CocoSampler, SamplerConfig, Target};

#[derive(Args, Debug)]
pub struct IndexArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
    /// Directory the snapshot goes under (`DIR/_snapshot/`); default: the
    /// sampling commands' default workdir, `BUNDLE/_cache`.
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Also time N opens of a sampler on the snapshot and on the JSON (median
    /// of each) and the first annotation sample after each open; a benchmark,
    /// printed.
    #[arg(long, value_name = "N")]
    pub time_open: Option<usize>,
}

/// The absolute bundle directory of a dataset path (a file's directory, or
/// the directory given), as `CocoDataset::load` takes it.
pub fn bundle_dir(path: &Path) -> Result<PathBuf> {
    let file = snapshot::source_file(path)?;
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()))
}

/// One word for what [`snapshot::ensure`] did.
pub fn status_word(s: SnapshotStatus) -> &'static str {
    match s {
        SnapshotStatus::Built => "built",
        SnapshotStatus::Reused => "reused (checksum verified)",
        SnapshotStatus::Rebuilt => "rebuilt (stale, corrupt or of another format version)",
    }
}

pub fn run(args: IndexArgs) -> Result<ExitCode> {
    let path = &args.dataset.dataset;
    let workdir = match &args.workdir {
        Some(w) => w.clone(),
        None => sampler::default_workdir(&bundle_dir(path)?),
    };
    let t0 = Instant::now();
    let (snap_path, status) =
        snapshot::ensure(path, &workdir).with_context(|| format!("indexing {}", path.display()))?;
    let secs = t0.elapsed().as_secs_f64();
    let snap = Snapshot::open(&snap_path)?;
    println!(
        "snapshot {}: {} ({} images, {} annotations, {} videos, {:.1} MB) in {secs:.2} s",
        status_word(status),
        snap_path.display(),
        snap.n_images(),
        snap.n_annotations(),
        snap.n_videos(),
        snap.file_len() as f64 / 1e6,
    );
    if let Some(n) = args.time_open {
        let first = (snap.n_annotations() > 0)
            .then(|| snap.annotation(0))
            .transpose()?
            .map(|a| a.id);
        drop(snap);
        time_open(path, &workdir, n.max(1), first)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Seconds to open, and to sample annotation `first` (annotations only: no
/// pixels) right after.
fn timed(open: impl Fn() -> Result<CocoSampler>, first: Option<i64>) -> Result<(f64, f64)> {
    let t0 = Instant::now();
    let s = open()?;
    let open_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    if let Some(aid) = first {
        let t: Target = serde_json::from_value(serde_json::json!({"annot_id": aid, "pad": 16}))?;
        std::hint::black_box(s.load_target_annots(&t)?);
    }
    Ok((open_s, t0.elapsed().as_secs_f64()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time_open(path: &Path, workdir: &Path, n: usize, first: Option<i64>) -> Result<()> {
    let on_snapshot = || {
        let s = CocoSampler::open_in(path, workdir)?;
        anyhow::ensure!(s.snapshot_path().is_some(), "the snapshot was not used");
        Ok(s)
    };
    let on_json = || {
        let ds = coco_model::CocoDataset::load(path)?;
        Ok(CocoSampler::new(Arc::new(ds), SamplerConfig::default())?)
    };
    let mut rows = Vec::new();
    for (name, f) in [
        ("snapshot", &on_snapshot as &dyn Fn() -> Result<CocoSampler>),
        ("json", &on_json),
    ] {
        let mut opens = Vec::new();
        let mut firsts = Vec::new();
        for _ in 0..n {
            let (o, s) = timed(f, first)?;
            opens.push(o);
            firsts.push(s);
        }
        rows.push((name, median(opens), median(firsts)));
    }
    println!("open (median of {n})   open ms   first annotation sample ms");
    for (name, o, s) in &rows {
        println!("{name:<20} {:>9.2} {:>12.3}", o * 1e3, s * 1e3);
    }
    if let [(_, so, _), (_, jo, _)] = rows.as_slice() {
        println!("snapshot opens {:.0}x faster than the JSON", jo / so);
    }
    Ok(())
}
