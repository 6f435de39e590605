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
