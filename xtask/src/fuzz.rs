//! `cargo xtask fuzz --minutes N`: the hostile-input campaign of
//! `tests/it/hostile.rs`, run for longer than the bounded one of
//! `cargo xtask test`, with the outcome table of docs/limits.md printed at the
//! end.
//!
//! Each round runs the three properties with `NDSAMPLER_FUZZ_CASES` cases and
//! fresh random seeds (proptest draws them per run); a failing round stops the
//! campaign with proptest's minimal failing seed on screen.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Cases per property per round.
const CASES_PER_ROUND: u32 = 2000;

/// Runs rounds until `minutes` have passed, then prints the outcome table.
pub fn run(minutes: u64) -> Result<()> {
    let report = Path::new("target").join("fuzz-report.jsonl");
    std::fs::create_dir_all("target").context("creating target/")?;
    let _ = std::fs::remove_file(&report);
    let deadline = Instant::now() + Duration::from_secs(minutes.saturating_mul(60));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut rounds = 0;
    loop {
        let status = Command::new(&cargo)
            .args([
                "test",
                "--release",
                "-p",
                "ndsampler",
                "--test",
                "it",
                "hostile",
                "--",
            ])
            .args(["--test-threads", "2"])
            .env("NDSAMPLER_FUZZ_CASES", CASES_PER_ROUND.to_string())
            .env("NDSAMPLER_FUZZ_REPORT", &report)
            .status()
            .context("running cargo test")?;
        if !status.success() {
            bail!(
                "round {} found a failing input (see proptest's output above)",
                rounds + 1
            );
        }
        rounds += 1;
        if Instant::now() >= deadline {
            break;
        }
    }
    print_table(&report, rounds)
}

/// Sums the report's outcomes per class into a markdown table.
fn print_table(report: &Path, rounds: u32) -> Result<()> {
    let text =
        std::fs::read_to_string(report).with_context(|| format!("reading {}", report.display()))?;
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("bad report line {line:?}"))?;
        let field = |k: &str| v[k].as_str().unwrap_or("?").to_string();
        *counts
            .entry((field("class"), field("outcome")))
            .or_default() += 1;
    }
    let total: u64 = counts.values().sum();
    println!("\n{rounds} round(s), {total} inputs, no panic, abort or limit exceeded:\n");
    println!("| class | outcome | inputs |");
    println!("|---|---|---:|");
    for ((class, outcome), n) in &counts {
        println!("| {class} | {outcome} | {n} |");
    }
    Ok(())
}
