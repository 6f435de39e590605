//! `ndsampler grid`.

use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct GridArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
}

pub fn run(_args: GridArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ndsampler grid` is not available yet")
}
