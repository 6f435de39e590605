//! `ndsampler sample`.

use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct SampleArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
}

pub fn run(_args: SampleArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ndsampler sample` is not available yet")
}
