//! `ndsampler draw`.

use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct DrawArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
}

pub fn run(_args: DrawArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ndsampler draw` is not available yet")
}
