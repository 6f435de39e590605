//! `ndsampler toydata`.

use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct ToydataArgs {
}

pub fn run(_args: ToydataArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ndsampler toydata` is not available yet")
}
