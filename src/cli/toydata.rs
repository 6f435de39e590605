//! `ndsampler toydata KEY --out DIR [--seed S]`: write a deterministic toy dataset.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

#[derive(Args, Debug)]
pub struct ToydataArgs {
    /// Dataset key: `shapes8`, `vidshapes2-frames5-tracks3`, `vidshapes2-msi`,
    /// `vidshapes1-aux-multisensor-randgsize`, `big2-gsize8192-annots1000`, …
    /// (tokens: frames{F}, tracks{T}, gsize{S}|gsize{W}x{H}, speed{F}, msi, aux,
    /// multisensor, randgsize, timestamps, annots{K}, seed{K}).
    pub key: String,
    /// Output bundle directory (receives `data.kwcoco.json` and the images).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed (overrides a `seed{K}` token of the key; default 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Generate even when the estimated output exceeds the 20 GiB limit
    /// (`toydata::MAX_OUTPUT_BYTES`; the estimate counts uncompressed pixels).
    #[arg(long)]
    pub allow_large: bool,
}

pub fn run(args: ToydataArgs) -> anyhow::Result<ExitCode> {
    let summary =
        super::progress::generate_toydata(&args.key, args.seed, &args.out, args.allow_large)
            .with_context(|| format!("generating toy dataset into {}", args.out.display()))?;
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}
