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

/// mimalloc's `mi_option_purge_delay`: its index in `mi_option_e` (mimalloc
/// v3's `mimalloc.h`; libmimalloc-sys exports no constant for it). Checked
/// against the option's documented default in the tests below.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Commands that load a dataset and summarize it (no sample buffers to
/// recycle) give freed memory back at once instead of after mimalloc's
/// purge delay (1 s): `stats` on a 226 MB file peaked at 322 MB (1.46× the
/// file) instead of 333–361 MB, and was no slower (2026-11-30).
#[allow(unsafe_code)] // one FFI call into the allocator's options; see SAFETY
fn purge_freed_memory_at_once() {
    // SAFETY: `mi_option_set` stores one integer in mimalloc's option table.
    // It is not thread safe; this runs on the main thread before the command
    // starts any other thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

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
    if matches!(
        args.cmd,
        cli::Cmd::Stats(_) | cli::Cmd::Validate(_) | cli::Cmd::Index(_) | cli::Cmd::Grid(_)
    ) {
        purge_freed_memory_at_once();
    }
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ndsampler: error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes as one readable line (the CLI contract): each cause
/// once (an error whose text already holds its source's text, as many
/// `thiserror` messages do, is not followed by that source again), echoed input
/// cut to a readable length (see [`coco_model::text::shorten_words`]).
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string().replace(['\n', '\r'], " ");
        if parts.last().is_some_and(|prev| prev.contains(text.trim())) {
            continue;
        }
        parts.push(text);
    }
    let line = parts.join(": ");
    coco_model::text::shorten_words(&line, 200, 2000).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)] // reads the allocator's options; see SAFETY
    fn the_purge_delay_option_index_is_mimalloc_s() {
        // mimalloc v3's default purge delay (1000 ms) and the next options'
        // defaults (use_numa_nodes 0; os_tag 100) pin the index
        // SAFETY: `mi_option_get` reads one integer of the option table.
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        assert_eq!(get(MI_OPTION_PURGE_DELAY), 1000);
        assert_eq!(get(MI_OPTION_PURGE_DELAY + 3), 100);
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "reading x.json: {}", self.0)
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone (os error 2)");
        let e = anyhow::Error::new(Outer(io)).context("loading dataset x.json");
        assert_eq!(
            one_line(&e),
            "loading dataset x.json: reading x.json: gone (os error 2)"
        );
    }

    #[test]
    fn echoed_input_is_cut() {
        let e = anyhow::anyhow!(
            "file {} does not exist\nsecond line",
            "f".repeat(50_000_000)
        );
        let line = one_line(&e);
        assert!(line.len() < 2100, "{}", line.len());
        assert!(
            line.contains("(50000000 chars) does not exist second line"),
            "{line}"
        );
    }
}
