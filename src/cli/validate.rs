//! `ndsampler validate DATASET`: print every problem; exit 1 when there are errors.

use std::process::ExitCode;

use clap::Args;
use coco_model::ValidateOptions;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
    /// Do not check that the referenced image files exist.
    #[arg(long)]
    pub no_files: bool,
    /// Do not parse segmentations, keypoints, warps and channel codes.
    #[arg(long)]
    pub no_geometry: bool,
    /// Treat warnings as errors (non-zero exit when there is any finding).
    #[arg(long)]
    pub strict: bool,
    /// Print the findings as one JSON object (`{"diagnostics": [...]}`).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let ds = super::stats::load_with_spinner(&args.dataset.dataset)?;
    let report = ds.validate_with(ValidateOptions {
        check_files: !args.no_files,
        check_geometry: !args.no_geometry,
    });
    let n_err = report.errors().count();
    let n_warn = report.warnings().count();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for d in &report.diagnostics {
            println!("{d}");
        }
        let verdict = if n_err == 0 && (!args.strict || n_warn == 0) {
            "valid"
        } else {
            "INVALID"
        };
        println!("{verdict}: {n_err} error(s), {n_warn} warning(s)");
    }
    let failed = n_err > 0 || (args.strict && n_warn > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
