//! `ndsampler stats DATASET [--json]`: counts, per-category frequencies, box sizes.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use coco_model::CocoDataset;

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
    /// Print the statistics as one JSON object instead of a report.
    #[arg(long)]
    pub json: bool,
}

/// Loads a dataset with a spinner on stderr (hidden when stderr is not a terminal).
pub(crate) fn load_with_spinner(path: &Path) -> anyhow::Result<CocoDataset> {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(format!("loading {}", path.display()));
    pb.enable_steady_tick(Duration::from_millis(120));
    let ds = super::load_dataset(path).context("cannot load the dataset");
    pb.finish_and_clear();
    ds
}

pub fn run(args: StatsArgs) -> anyhow::Result<ExitCode> {
    let ds = load_with_spinner(&args.dataset.dataset)?;
    let stats = ds.stats();
    if args.json {
        println!("{}", serde_json::to_string(&stats)?);
    } else {
        if let Some(p) = ds.fpath() {
            println!("dataset: {}", p.display());
        }
        print!("{stats}");
    }
    // the process ends here: freeing a million records one by one only delays
    // the exit (the OS takes the memory back at once)
    std::mem::forget(ds);
    Ok(ExitCode::SUCCESS)
}
