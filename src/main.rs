//! The `ndsampler` command-line tool (see `docs/DESIGN.md` §6 and the README).

use std::process::ExitCode;

use clap::Parser;

mod cli;

/// Sample buffers are large (a 256²×3 window is 196 KB) and cross threads (made by
/// a loader worker, freed by the consumer); glibc's allocator hands such blocks
/// back to the OS and faults them in again, which made two loader threads slower
/// than one. mimalloc keeps them in per-thread pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Library warnings (a corrupt cache file rebuilt, …) go to stderr; RUST_LOG overrides.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format_timestamp(None)
        .init();
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        // `--help` and `--version` print as clap lays them out.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprintln!("ndsampler: error: {}", cli::one_line_error(&e));
            return ExitCode::from(2);
        }
    };
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            // One line with the cause chain, as the CLI contract asks.
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("ndsampler: error: {msg}");
            ExitCode::from(2)
        }
    }
}
