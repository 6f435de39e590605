//! `ndsampler sample`: one window with its annotations, written as `im.npy` +
//! `sample.json` (docs/DESIGN.md §6).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use sampler::{CocoSampler, SampleOptions, WithAnnots};

#[derive(Args, Debug)]
pub struct SampleArgs {
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
    /// Annotation geometry to return: `boxes+segmentation+keypoints` (any subset), or `none`.
    #[arg(long, value_parser = parse_with_annots)]
    pub with_annots: Option<WithAnnots>,
    /// Only these annotation ids (comma-separated); skips the spatial lookup.
    #[arg(long, value_delimiter = ',')]
    pub annot_ids: Option<Vec<i64>>,
    /// Clip boxes and polygons to the window.
    #[arg(long)]
    pub clip: bool,
    /// Output directory (created): `im.npy` and `sample.json` (with
    /// `use_native_scale`, also `part_<frame>_<part>.npy`).
    #[arg(long)]
    pub out: PathBuf,
}

/// Build a sampler from the common dataset/backend arguments: on the
/// dataset's snapshot under the workdir (`ndsampler index`) when one matches
/// the JSON's content, else on the JSON.
pub fn open_sampler(
    dataset: &super::DatasetArg,
    backend: &super::BackendArg,
) -> Result<CocoSampler> {
    let path = &dataset.dataset;
    let bundle = super::index::bundle_dir(path)?;
    let config = backend.sampler_config(&bundle);
    CocoSampler::open_with(path, config)
        .with_context(|| format!("loading dataset {}", path.display()))
}

/// `--with-annots`: `boxes+segmentation+keypoints` (any subset) or `none`.
fn parse_with_annots(s: &str) -> Result<WithAnnots, String> {
    WithAnnots::parse(s).map_err(|e| e.to_string())
}

pub fn run(args: SampleArgs) -> Result<ExitCode> {
    let target = super::parse_target(&args.target)?;
    let sampler = open_sampler(&args.dataset, &args.backend)?;
    let opts = SampleOptions {
        visible_thresh: args.visible_thresh,
        with_annots: args.with_annots,
        annot_ids: args.annot_ids.clone(),
        clip: args.clip,
        skip_pixels: false,
    };
    let sample = sampler.load_sample_with(&target, &opts)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    sample.im.write_npy(&args.out.join("im.npy"))?;
    // Native-resolution parts (`use_native_scale`): one file per frame and part.
    for (t, parts) in sample.native.iter().flatten().enumerate() {
        for (k, part) in parts.iter().enumerate() {
            part.im
                .write_npy(&args.out.join(format!("part_{t}_{k}.npy")))?;
        }
    }
    let json = serde_json::to_string_pretty(&sample.to_json())?;
    let path = args.out.join("sample.json");
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
    let nannots: usize = sample.frames.iter().map(|f| f.annots.len()).sum();
    eprintln!(
        "sample: shape {:?} {} with {} annotation(s) → {}",
        sample.im.shape(),
        sample.im.dtype().name(),
        nannots,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
