//! `ndsampler cache`: build the npy or COG cache of every file of a dataset, in
//! parallel, with a progress bar.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use frame_backends::{Backend, CacheOutcome, CogCompression, CogOptions, FrameReader};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

/// Which cache to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CacheBackend {
    /// Memory-mapped `.npy` files (fastest reads, uncompressed).
    Npy,
    /// Cloud Optimized GeoTIFFs (compressed, tiled, overviews; needs the `gdal` feature).
    Cog,
}

/// Compression of the COG cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CogCompress {
    /// ZSTD + predictor (lossless, default).
    Zstd,
    /// DEFLATE + predictor (lossless).
    Deflate,
    /// JPEG (lossy; 8-bit 1- or 3-band data only).
    Jpeg,
}

#[derive(Args, Debug)]
pub struct CacheArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
    /// Cache backend.
    #[arg(long, value_enum)]
    pub backend: CacheBackend,
    /// Cache root directory (files go under `DIR/_frame_cache/BACKEND/`).
    #[arg(long)]
    pub workdir: PathBuf,
    /// Worker threads (0 = one per core); more than 4 per core are clamped to
    /// 4 per core, with a warning.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// COG compression.
    #[arg(long, value_enum, default_value = "zstd")]
    pub compress: CogCompress,
    /// ZSTD level (1–22) for `--compress zstd`; higher levels give smaller files that
    /// decode no faster (see `frame_backends::DEFAULT_ZSTD_LEVEL`).
    #[arg(long, default_value_t = frame_backends::DEFAULT_ZSTD_LEVEL, value_parser = clap::value_parser!(u8).range(1..=22))]
    pub zstd_level: u8,
    /// COG tile size (multiple of 16).
    #[arg(long, default_value_t = 256)]
    pub tile_size: usize,
    /// JPEG quality for `--compress jpeg`.
    #[arg(long, default_value_t = 90)]
    pub jpeg_quality: u8,
    /// Build COGs without overviews.
    #[arg(long)]
    pub no_overviews: bool,
    /// Re-verify every existing entry against its checksum (even one this
    /// process checked already), rebuild those that do not match, and report
    /// the counts.
    #[arg(long)]
    pub verify: bool,
}

pub fn run(args: CacheArgs) -> anyhow::Result<ExitCode> {
    let path = &args.dataset.dataset;
    let ds = super::load_dataset(path)?;
    let mut files: Vec<PathBuf> = ds.referenced_files().into_iter().map(|(_, p)| p).collect();
    files.sort();
    files.dedup();
    let backend = match args.backend {
        CacheBackend::Npy => Backend::Npy {
            workdir: args.workdir.clone(),
        },
        CacheBackend::Cog => Backend::Cog {
            workdir: args.workdir.clone(),
            options: CogOptions {
                compression: match args.compress {
                    CogCompress::Zstd => CogCompression::Zstd {
                        level: args.zstd_level,
                    },
                    CogCompress::Deflate => CogCompression::Deflate,
                    CogCompress::Jpeg => CogCompression::Jpeg {
                        quality: args.jpeg_quality,
                    },
                },
                tile_size: args.tile_size,
                overviews: !args.no_overviews,
            },
        },
    };
    let reader = FrameReader::new(backend)?;
    // the dataset's snapshot next to the cache (reused when still valid)
    let (snap, status) = sampler::snapshot::ensure(path, &args.workdir)
        .with_context(|| format!("indexing {}", path.display()))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(super::clamp_threads(args.threads))
        .build()?;
    let pb = ProgressBar::new(files.len() as u64);
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} caching [{bar:30}] {pos}/{len} files {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let results: Vec<(PathBuf, frame_backends::Result<CacheOutcome>)> = pool.install(|| {
        files
            .par_iter()
            .map(|f| {
                let r = if args.verify {
                    reader.verify(f)
                } else {
                    reader.prepare(f)
                };
                pb.inc(1);
                (f.clone(), r)
            })
            .collect()
    });
    pb.finish_and_clear();
    let count = |o: CacheOutcome| {
        results
            .iter()
            .filter(|(_, r)| matches!(r, Ok(x) if *x == o))
            .count()
    };
    let failed: Vec<_> = results
        .iter()
        .filter_map(|(f, r)| r.as_ref().err().map(|e| (f, e)))
        .collect();
    for (f, e) in &failed {
        eprintln!("ndsampler: error: {}: {e}", f.display());
    }
    if args.verify {
        println!(
            "{} files: {} verified, {} rebuilt (checksum mismatch or corrupt), {} built (missing), {} used in place, {} failed; cache under {}",
            files.len(),
            count(CacheOutcome::Existing),
            count(CacheOutcome::Rebuilt),
            count(CacheOutcome::Built),
            count(CacheOutcome::InPlace),
            failed.len(),
            args.workdir.display()
        );
    } else {
        println!(
            "{} files: {} built, {} already cached (checksum verified), {} rebuilt (corrupt), {} used in place, {} failed; cache under {}",
            files.len(),
            count(CacheOutcome::Built),
            count(CacheOutcome::Existing),
            count(CacheOutcome::Rebuilt),
            count(CacheOutcome::InPlace),
            failed.len(),
            args.workdir.display()
        );
    }
    println!(
        "snapshot {}: {}",
        super::index::status_word(status),
        snap.display()
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
