//! `ndsampler cache`.

use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct CacheArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
}

pub fn run(_args: CacheArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ndsampler cache` is not available yet")
}
