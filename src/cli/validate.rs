//! `ndsampler validate DATASET`: print every problem; exit 1 when there are errors.

use std::process::ExitCode;

use clap::Args;
use coco_model::validate::Problem;
use coco_model::{Diagnostic, Severity, ValidateOptions};

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

/// Errors for files whose size or band count differs from what the dataset
/// declares (sampling would refuse them). Files that are missing or records
/// that do not parse are already reported by the data model's checks.
fn file_header_mismatches(ds: &coco_model::CocoDataset) -> Vec<Diagnostic> {
    let Ok(reader) = frame_backends::FrameReader::new(frame_backends::Backend::Raw) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for img in ds.images() {
        let Ok(src) = sampler::image_source(ds, img) else {
            continue;
        };
        for (i, asset) in src.assets.iter().enumerate() {
            if !asset.path.is_file() {
                continue;
            }
            if let Err(e @ frame_backends::Error::Mismatch { .. }) = reader.check_asset(asset) {
                out.push(Diagnostic {
                    severity: Severity::Error,
                    problem: Problem::BadValue,
                    table: "images",
                    id: Some(img.id.to_string()),
                    field: Some(if img.file_name.is_some() && i == 0 {
                        "file_name".to_string()
                    } else {
                        format!("assets[{}]", i - usize::from(img.file_name.is_some()))
                    }),
                    message: e.to_string(),
                });
            }
        }
    }
    out
}

pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let ds = super::stats::load_with_spinner(&args.dataset.dataset)?;
    let mut report = ds.validate_with(ValidateOptions {
        check_files: !args.no_files,
        check_geometry: !args.no_geometry,
    });
    if !args.no_files {
        report.diagnostics.extend(file_header_mismatches(&ds));
    }
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
