//! Subcommands of the `ndsampler` binary; one module each.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod bench;
mod cache;
mod demo;
mod draw;
mod grid;
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
    /// Build the npy or COG caches of every image of a dataset.
    Cache(cache::CacheArgs),
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
    /// kwcoco / COCO JSON file (or `.zip`), or a bundle directory holding `data.kwcoco.json`.
    pub dataset: PathBuf,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.cmd {
        Cmd::Demo(a) => demo::run(a),
        Cmd::Sample(a) => sample::run(a),
        Cmd::Draw(a) => draw::run(a),
        Cmd::Grid(a) => grid::run(a),
        Cmd::Cache(a) => cache::run(a),
        Cmd::Bench(a) => bench::run(a),
        Cmd::Stats(a) => stats::run(a),
        Cmd::Validate(a) => validate::run(a),
        Cmd::Toydata(a) => toydata::run(a),
    }
}
