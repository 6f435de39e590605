//! `ndsampler draw`: a sample's window with its annotations drawn, as a PNG.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use sampler::{SampleOptions, WithAnnots};

#[derive(Args, Debug)]
pub struct DrawArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
    /// The target as JSON (docs/DESIGN.md §4), or `@FILE`.
    #[arg(long)]
    pub target: String,
    #[command(flatten)]
    pub backend: super::BackendArg,
    /// Keep annotations whose visibility is strictly greater than this.
    #[arg(long)]
    pub visible_thresh: Option<f64>,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: DrawArgs) -> Result<ExitCode> {
    let target = super::parse_target(&args.target)?;
    let sampler = super::sample::open_sampler(&args.dataset, &args.backend)?;
    let sample = sampler.load_sample_with(
        &target,
        &SampleOptions {
            visible_thresh: args.visible_thresh,
            with_annots: Some(WithAnnots::default()),
            ..SampleOptions::default()
        },
    )?;
    let img = ndsampler::render::render_sample(&sample, sampler.dataset());
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    img.save(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let n: usize = sample.frames.iter().map(|f| f.annots.len()).sum();
    eprintln!(
        "draw: {}x{} picture of a {:?} window with {n} annotation(s) → {}",
        img.width(),
        img.height(),
        sample.im.shape(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
