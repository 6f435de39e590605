//! `ndsampler grid DATASET --window H,W [--overlap F] [--video T[,H,W]] [--full]
//! [--classes-of-interest a,b] [--ignore-classes c] --out targets.json`.
//!
//! Writes `{"targets": [...], "positives": [...], "negatives": [...], "ignored": [...]}`
//! (one target per line; a sample plan `TargetList::read_json` reads) and prints
//! the counts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use sampler::grid::{ClassSpec, GridConfig, SampleGrid, TimeWindow, sample_grid};

#[derive(Args, Debug)]
pub struct GridArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
    /// Window size `H,W` in pixels, or one number for a square window (in video
    /// space with `--video`).
    #[arg(long, value_name = "H,W", value_parser = super::parse_window)]
    pub window: Option<[i64; 2]>,
    /// Overlap of neighbouring windows, in [0, 1).
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub overlap: f64,
    /// Video grid: `T` frames per time window (space from `--window`), or `T,H,W`.
    #[arg(long, value_name = "T,H,W")]
    pub video: Option<String>,
    /// Overlap of consecutive time windows, in [0, 1) (default: `--overlap`).
    #[arg(long, value_name = "F")]
    pub time_overlap: Option<f64>,
    /// Also add the whole image (or video) as one window.
    #[arg(long)]
    pub full: bool,
    /// Only these classes make a window positive (comma-separated names).
    #[arg(long, value_name = "A,B")]
    pub classes_of_interest: Option<String>,
    /// Windows holding only these classes are neither positive nor negative
    /// (comma-separated names; a class named `ignore` always is).
    #[arg(long, value_name = "C,D")]
    pub ignore_classes: Option<String>,
    /// Count an annotation only when more than this fraction of it is in the window.
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub visible_thresh: f64,
    /// Output JSON file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Parses `a,b,…` into exactly `N` positive integers.
fn dims<const N: usize>(flag: &str, text: &str, form: &str) -> anyhow::Result<[i64; N]> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() != N {
        bail!("--{flag} {text:?}: expected {form}");
    }
    let mut out = [0i64; N];
    for (o, p) in out.iter_mut().zip(&parts) {
        *o = match p.parse::<i64>() {
            Ok(v) if v >= 1 => v,
            _ => bail!("--{flag} {text:?}: expected {form} with positive integers"),
        };
    }
    Ok(out)
}

fn names(text: &Option<String>) -> Option<Vec<String>> {
    text.as_ref().map(|t| {
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

fn config(args: &GridArgs) -> anyhow::Result<GridConfig> {
    let window = args.window;
    let (window, video) = match args.video.as_deref() {
        None => (window, None),
        Some(v) if !v.contains(',') => (window, Some(dims::<1>("video", v, "T or T,H,W")?[0])),
        Some(v) => {
            let [t, h, w] = dims::<3>("video", v, "T or T,H,W")?;
            if window.is_some_and(|d| d != [h, w]) {
                bail!("--video {v:?} and --window disagree on the window size");
            }
            (Some([h, w]), Some(t))
        }
    };
    let Some(window) = window else {
        bail!("give the window size with --window H,W (or --video T,H,W)");
    };
    let mut cfg = GridConfig::new(window)
        .with_overlap(args.overlap)
        .with_full(args.full)
        .with_visible_thresh(args.visible_thresh)
        .with_classes(ClassSpec {
            of_interest: names(&args.classes_of_interest),
            ignore: names(&args.ignore_classes).unwrap_or_default(),
        });
    match video {
        Some(frames) => {
            cfg.video = Some(TimeWindow {
                frames,
                overlap: args.time_overlap,
            })
        }
        None if args.time_overlap.is_some() => bail!("--time-overlap needs --video"),
        None => {}
    }
    Ok(cfg)
}

/// The grid as pretty JSON: one target per line, then the index lists.
fn to_json(grid: &SampleGrid) -> anyhow::Result<String> {
    let mut s = String::from("{\n\"targets\": [\n");
    for (i, t) in grid.targets.iter().enumerate() {
        s.push_str(&serde_json::to_string(t)?);
        s.push_str(if i + 1 < grid.targets.len() {
            ",\n"
        } else {
            "\n"
        });
    }
    s.push_str("],\n");
    for (key, list, last) in [
        ("positives", &grid.positives, false),
        ("negatives", &grid.negatives, false),
        ("ignored", &grid.ignored, true),
    ] {
        let _ = writeln!(
            s,
            "\"{key}\": {}{}",
            serde_json::to_string(list)?,
            if last { "" } else { "," }
        );
    }
    s.push_str("}\n");
    Ok(s)
}

fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("grid"),
        std::process::id()
    ));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}", path.display())
    })
}

pub fn run(args: GridArgs) -> anyhow::Result<ExitCode> {
    let cfg = config(&args)?;
    let ds = super::stats::load_with_spinner(&args.dataset.dataset)?;
    let grid = sample_grid(&ds, &cfg).context("cannot build the grid")?;
    write_atomic(&args.out, &to_json(&grid)?)?;
    println!("windows: {}", grid.targets.len());
    println!("positives: {}", grid.positives.len());
    println!("negatives: {}", grid.negatives.len());
    println!("ignored: {}", grid.ignored.len());
    println!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
