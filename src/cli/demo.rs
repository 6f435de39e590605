//! `ndsampler demo`.

use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct DemoArgs {
}

pub fn run(_args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ndsampler demo` is not available yet")
}
