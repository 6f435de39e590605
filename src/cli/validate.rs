//! `ndsampler validate`.

use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
}

pub fn run(_args: ValidateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ndsampler validate` is not available yet")
}
