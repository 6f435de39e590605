//! `ndsampler bench`.

use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
}

pub fn run(_args: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ndsampler bench` is not available yet")
}
