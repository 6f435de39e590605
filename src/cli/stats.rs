//! `ndsampler stats`.

use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
}

pub fn run(_args: StatsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ndsampler stats` is not available yet")
}
