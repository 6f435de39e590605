//! `ndsampler export-wds DATASET --plan PLAN --out DIR [--shard-size N]`:
//! a plan's samples as WebDataset tar shards.
//!
//! Shard `k` is `DIR/PREFIX-{k:06}.tar`; sample `i` of the plan (in plan
//! order) is two members, `{i:09}.npy` (the pixels, as `ndsampler sample`'s
//! `im.npy`) and `{i:09}.json` (`sample.json`: the resolved target, window
//! parameters and annotations, plus `"__key__"` and `"plan_index"`), which
//! is the layout WebDataset, Ray Data's `read_webdataset` and DALI read.
//! Members have fixed metadata (mode 0644, mtime 0, uid/gid 0), so the same
//! plan gives byte-identical shards. A shard is written to a temporary name
//! and renamed when complete: a crash never leaves a truncated `.tar`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use rayon::prelude::*;
use sampler::plan::TargetList;
use sampler::{SampleOptions, WithAnnots};

#[derive(Args, Debug)]
pub struct ExportWdsArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
    /// The sample plan: a JSON list of targets, or `ndsampler grid`'s output.
    #[arg(long)]
    pub plan: PathBuf,
    /// Output directory (created).
    #[arg(long)]
    pub out: PathBuf,
    /// Samples per shard.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub shard_size: u64,
    /// Shard file name prefix.
    #[arg(long, default_value = "shard")]
    pub prefix: String,
    /// Annotation geometry to include: `boxes+segmentation+keypoints` (any subset), or `none`.
    #[arg(long, default_value = "boxes+segmentation+keypoints", value_parser = parse_with_annots)]
    pub with_annots: WithAnnots,
    /// Loader threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    #[command(flatten)]
    pub backend: super::BackendArg,
}

fn parse_with_annots(s: &str) -> Result<WithAnnots, String> {
    WithAnnots::parse(s).map_err(|e| e.to_string())
}

/// Appends one member with fixed metadata.
fn append<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, name, data)
}

pub fn run(args: ExportWdsArgs) -> Result<ExitCode> {
    if args.prefix.is_empty() || args.prefix.contains(['/', '.']) {
        bail!(
            "--prefix {:?} must be a plain name (no '/' or '.')",
            args.prefix
        );
    }
    let plan = TargetList::read_json(&args.plan)?;
    let targets = plan.targets;
    let sampler = super::sample::open_sampler(&args.dataset, &args.backend)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let opts = SampleOptions {
        with_annots: Some(args.with_annots),
        ..SampleOptions::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(super::clamp_threads(args.threads))
        .build()?;
    let shard_size = usize::try_from(args.shard_size).unwrap_or(usize::MAX);
    let mut shards = 0usize;
    for (k, chunk) in targets.chunks(shard_size).enumerate() {
        let first = k * shard_size;
        let members: Vec<(Vec<u8>, Vec<u8>)> = pool.install(|| {
            chunk
                .par_iter()
                .enumerate()
                .map(|(j, t)| -> Result<(Vec<u8>, Vec<u8>)> {
                    let i = first + j;
                    let s = sampler
                        .load_sample_with(t, &opts)
                        .with_context(|| format!("plan target {i}"))?;
                    let mut meta = s.to_json();
                    meta["__key__"] = serde_json::json!(format!("{i:09}"));
                    meta["plan_index"] = serde_json::json!(i);
                    Ok((s.im.npy_bytes(), serde_json::to_vec(&meta)?))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let name = format!("{}-{k:06}.tar", args.prefix);
        write_shard(&args.out, &name, first, &members)?;
        shards += 1;
    }
    println!(
        "wrote {} samples in {shards} shard{} to {}",
        targets.len(),
        if shards == 1 { "" } else { "s" },
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes one shard under a temporary name, then renames it into place.
fn write_shard(dir: &Path, name: &str, first: usize, members: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.partial"));
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut tar = tar::Builder::new(BufWriter::new(file));
    for (j, (npy, json)) in members.iter().enumerate() {
        let key = format!("{:09}", first + j);
        append(&mut tar, &format!("{key}.npy"), npy)
            .and_then(|()| append(&mut tar, &format!("{key}.json"), json))
            .with_context(|| format!("writing {}", tmp.display()))?;
    }
    let mut w = tar
        .into_inner()
        .with_context(|| format!("finishing {}", tmp.display()))?;
    w.flush()
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(w);
    std::fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
