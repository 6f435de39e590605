//! Subcommands of the `ndsampler` binary; one module each.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Every subcommand prints through these two macros, which shadow the standard
/// ones for the modules below (textual scope): a failed write to stdout is
/// handled once, in [`stdout_failed`], instead of panicking as `println!` does.
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::cli::stdout_failed(e);
        }
    }};
}

/// See [`println!`] above.
macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            $crate::cli::stdout_failed(e);
        }
    }};
}

/// Exit status of a Unix tool killed by `SIGPIPE` (128 + 13), which is what a
/// shell shows for `cat big | head`.
pub const BROKEN_PIPE_STATUS: i32 = 141;

/// A write to stdout failed. A closed reader (`ndsampler validate big.json | head`)
/// ends the process quietly with [`BROKEN_PIPE_STATUS`], as Unix tools do; any
/// other error is reported as one line with exit status 2.
pub fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(BROKEN_PIPE_STATUS);
    }
    eprintln!("ndsampler: error: writing to stdout: {e}");
    std::process::exit(2);
}

mod bench;
mod cache;
mod demo;
mod draw;
mod export_wds;
mod grid;
mod index;
mod progress;
mod sample;
mod stats;
mod toydata;
mod validate;

#[derive(Parser, Debug)]
#[command(
    name = "ndsampler",
    version,
    about = "Fast windows of large images and videos with their kwcoco annotations"
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Generate a toy dataset, sample windows from it, print throughput, write a picture.
    Demo(demo::DemoArgs),
    /// Load one sample (window + annotations) and write `im.npy` and `sample.json`.
    Sample(sample::SampleArgs),
    /// Draw a sample's window with its annotations into a PNG.
    Draw(draw::DrawArgs),
    /// Write a sliding-window grid of targets (a sample plan) as JSON.
    Grid(grid::GridArgs),
    /// Write a plan's samples as WebDataset tar shards (`<key>.npy` + `<key>.json`).
    ExportWds(export_wds::ExportWdsArgs),
    /// Build the npy or COG caches of every image of a dataset (and its snapshot).
    Cache(cache::CacheArgs),
    /// Write the memory-mappable snapshot of a dataset (what sampling commands open instead of the JSON).
    Index(index::IndexArgs),
    /// Measure window throughput for backends and thread counts.
    Bench(bench::BenchArgs),
    /// Print dataset statistics.
    Stats(stats::StatsArgs),
    /// Validate a dataset; non-zero exit when it has errors.
    Validate(validate::ValidateArgs),
    /// Generate a deterministic toy dataset (`shapes8`, `vidshapes2-msi`, `big2-gsize4096`, …).
    Toydata(toydata::ToydataArgs),
}

/// The dataset argument shared by most subcommands: a kwcoco/COCO JSON file or a bundle directory.
#[derive(Args, Debug, Clone)]
pub struct DatasetArg {
    /// kwcoco / COCO JSON file (or `.zip`), or a bundle directory (its manifest found as kwcoco finds it: `data.kwcoco.json`, `data.json`, `*.kwcoco.json`, …).
    pub dataset: PathBuf,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.cmd {
        Cmd::Demo(a) => demo::run(a),
        Cmd::Sample(a) => sample::run(a),
        Cmd::Draw(a) => draw::run(a),
        Cmd::Grid(a) => grid::run(a),
        Cmd::ExportWds(a) => export_wds::run(a),
        Cmd::Cache(a) => cache::run(a),
        Cmd::Index(a) => index::run(a),
        Cmd::Bench(a) => bench::run(a),
        Cmd::Stats(a) => stats::run(a),
        Cmd::Validate(a) => validate::run(a),
        Cmd::Toydata(a) => toydata::run(a),
    }
}

/// The pixel backend named by `--backend`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Read the dataset's files directly.
    #[value(alias = "raw")]
    None,
    /// Memory-mapped `.npy` cache files.
    Npy,
    /// Cloud Optimized GeoTIFF cache files (feature `gdal`).
    Cog,
}

/// `--backend` / `--workdir`, shared by the sampling subcommands.
#[derive(Args, Debug, Clone)]
pub struct BackendArg {
    /// Pixel backend: `none` (alias `raw`: read the dataset's files), `npy`, `cog` (feature `gdal`).
    #[arg(long, value_enum, default_value = "none")]
    pub backend: BackendKind,
    /// Cache directory for the `npy` and `cog` backends (default: `<bundle>/_cache`).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Most MiB of pixels one sample may take; larger requests fail before
    /// anything is allocated.
    #[arg(long, default_value_t = sampler::DEFAULT_MAX_SAMPLE_BYTES >> 20, value_parser = clap::value_parser!(u64).range(1..=(1 << 24)))]
    pub max_sample_mb: u64,
    /// MiB of parsed annotation geometry kept between samples (0: parse on
    /// every sample).
    #[arg(long, default_value_t = (sampler::DEFAULT_GEOMETRY_CACHE_BYTES >> 20) as u64, value_parser = clap::value_parser!(u64).range(0..=(1 << 20)))]
    pub geometry_cache_mb: u64,
    /// Images of a snapshot kept decoded between samples (0: decode on every
    /// sample); bounds what each process keeps beside the shared snapshot.
    #[arg(long, default_value_t = sampler::DEFAULT_IMAGE_CACHE_ENTRIES)]
    pub image_cache: usize,
}

impl BackendArg {
    /// The sampler configuration: this backend (for a dataset whose bundle
    /// directory is `bundle`) and the sample size limit.
    pub fn sampler_config(&self, bundle: &std::path::Path) -> sampler::SamplerConfig {
        sampler::SamplerConfig {
            backend: self.backend(bundle),
            max_sample_bytes: self.max_sample_mb << 20,
            geometry_cache_bytes: usize::try_from(self.geometry_cache_mb << 20)
                .unwrap_or(usize::MAX),
            image_cache_entries: self.image_cache,
            ..sampler::SamplerConfig::default()
        }
    }

    /// The backend for a dataset whose bundle directory is `bundle`.
    pub fn backend(&self, bundle: &std::path::Path) -> frame_backends::Backend {
        use frame_backends::{Backend, CogOptions};
        let workdir = || {
            self.workdir
                .clone()
                .unwrap_or_else(|| sampler::default_workdir(bundle))
        };
        match self.backend {
            BackendKind::None => Backend::Raw,
            BackendKind::Npy => Backend::Npy { workdir: workdir() },
            BackendKind::Cog => Backend::Cog {
                workdir: workdir(),
                options: CogOptions::default(),
            },
        }
    }
}

/// The `--window` value of every subcommand: `H,W`, or one number `S` for an
/// `S×S` window; sizes are positive integers.
pub fn parse_window(s: &str) -> Result<[i64; 2], String> {
    let bad = || format!("--window {s:?}: expected H,W or S with positive integers");
    let nums: Vec<i64> = s
        .split(',')
        .map(|p| p.trim().parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let hw = match nums.as_slice() {
        [s] => [*s, *s],
        [h, w] => [*h, *w],
        _ => return Err(bad()),
    };
    if hw[0] <= 0 || hw[1] <= 0 {
        return Err(bad());
    }
    Ok(hw)
}

/// A clap error as one line (the CLI contract: one line with the cause on bad input).
pub fn one_line_error(e: &clap::Error) -> String {
    e.to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_string()
}

/// Load a dataset given as a JSON/zip file or a bundle directory, or (feature
/// `remote`) a JSON file at a URL, whose bundle directory is the URL's parent
/// (relative file names become URLs next to it).
pub fn load_dataset(path: &std::path::Path) -> anyhow::Result<coco_model::CocoDataset> {
    use anyhow::Context;
    if frame_backends::is_url(path) {
        return sampler::load_dataset(path).with_context(|| {
            format!(
                "loading dataset {}",
                frame_backends::display_url(&path.to_string_lossy())
            )
        });
    }
    coco_model::CocoDataset::load(path)
        .with_context(|| format!("loading dataset {}", path.display()))
}

/// Largest `--target @FILE` read (64 MiB): a target is a few hundred bytes.
pub const MAX_TARGET_FILE_BYTES: u64 = 64 << 20;

/// Reads a `--target` file: only a regular file (not `/dev/zero`, a FIFO or a
/// directory) of at most [`MAX_TARGET_FILE_BYTES`].
fn read_target_file(path: &str) -> anyhow::Result<String> {
    use anyhow::Context;
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| format!("--target: reading {path}"))?;
    let meta = file
        .metadata()
        .with_context(|| format!("--target: reading {path}"))?;
    if !meta.is_file() {
        anyhow::bail!("--target: {path} is not a regular file");
    }
    if meta.len() > MAX_TARGET_FILE_BYTES {
        anyhow::bail!(
            "--target: {path} has {} bytes, more than the limit of {MAX_TARGET_FILE_BYTES} (64 MiB)",
            meta.len()
        );
    }
    let mut text = String::new();
    // `take` also bounds a file that grows while it is read
    file.take(MAX_TARGET_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("--target: reading {path}"))?;
    if text.len() as u64 > MAX_TARGET_FILE_BYTES {
        anyhow::bail!(
            "--target: {path} is larger than the limit of {MAX_TARGET_FILE_BYTES} bytes (64 MiB)"
        );
    }
    Ok(text)
}

/// A target given on the command line: inline JSON, or `@FILE` / a path to a
/// JSON file (a regular file of at most [`MAX_TARGET_FILE_BYTES`]).
pub fn parse_target(arg: &str) -> anyhow::Result<sampler::Target> {
    use anyhow::Context;
    let text = if let Some(path) = arg.strip_prefix('@') {
        read_target_file(path)?
    } else if !arg.trim_start().starts_with('{') && std::path::Path::new(arg).is_file() {
        read_target_file(arg)?
    } else {
        arg.to_string()
    };
    serde_json::from_str(&text).with_context(|| format!("--target: invalid target {arg}"))
}

/// `--threads` clamped to 4 per available core (0 stays 0: one per core); a
/// clamped request is logged.
pub fn clamp_threads(requested: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let max = cores.saturating_mul(4);
    if requested > max {
        eprintln!(
            "ndsampler: warning: --threads {requested} clamped to {max} (4 per core, {cores} cores)"
        );
        return max;
    }
    requested
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_forms() {
        assert_eq!(parse_window("256"), Ok([256, 256]));
        assert_eq!(parse_window("256,128"), Ok([256, 128]));
        assert_eq!(parse_window(" 3 , 4 "), Ok([3, 4]));
        for bad in ["0,4", "a,b", "12x4", "1,2,3", "-5", ""] {
            let e = parse_window(bad).unwrap_err();
            assert!(e.contains("--window"), "{bad}: {e}");
        }
    }

    #[test]
    fn every_subcommand_takes_both_window_forms() {
        for cmd in ["bench", "grid", "demo"] {
            for w in ["256", "256,256"] {
                let args = match cmd {
                    "demo" => vec!["ndsampler", cmd, "--window", w],
                    _ => vec!["ndsampler", cmd, "data.json", "--window", w, "--out", "x"],
                };
                let args: Vec<&str> = if cmd == "bench" {
                    args.into_iter()
                        .filter(|a| *a != "--out" && *a != "x")
                        .collect()
                } else {
                    args
                };
                let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
                let got = match cli.cmd {
                    Cmd::Bench(a) => a.window,
                    Cmd::Grid(a) => a.window.unwrap(),
                    Cmd::Demo(a) => a.window,
                    _ => unreachable!(),
                };
                assert_eq!(got, [256, 256], "{args:?}");
            }
        }
    }

    #[test]
    fn clap_errors_are_one_line() {
        let e =
            Cli::try_parse_from(["ndsampler", "bench", "d.json", "--backend", "zarr"]).unwrap_err();
        let line = one_line_error(&e);
        assert!(line.contains("zarr") && line.contains("npy"), "{line}");
        assert!(!line.contains('\n'));
        let e = Cli::try_parse_from([
            "ndsampler",
            "grid",
            "d.json",
            "--window",
            "12x4",
            "--out",
            "o",
        ])
        .unwrap_err();
        assert!(one_line_error(&e).contains("--window"));
    }
}
