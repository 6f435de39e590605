//! Project chores.
//!
//! * `cargo xtask test` — installs the system packages the `gdal` feature needs
//!   (with `apt-get` when run as root, otherwise prints the exact command and
//!   fails), then runs the whole test suite with all features.
//! * `cargo xtask lint` — `cargo fmt --check` and clippy with `-D warnings`.
//! * `cargo xtask fuzz --minutes N` — the hostile-input campaign for N minutes,
//!   then its outcome table (not part of `test`: the bounded campaign is).
//! * `cargo xtask toydata KEY --out DIR [--seed S]` — writes a synthetic dataset
//!   (runs `ndsampler toydata` from a release build: xtask itself depends on no
//!   workspace crate, so `cargo xtask test` does not build them twice with
//!   different feature sets before the tests build them again).

mod fuzz;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "ndsampler project chores")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install missing system packages, then run every test with all features.
    Test {
        /// Skip the system package check (tests of the `gdal` feature are then skipped).
        #[arg(long)]
        no_gdal: bool,
        /// Extra arguments passed to `cargo test` (e.g. a test name filter).
        #[arg(last = true)]
        rest: Vec<String>,
    },
    /// `cargo fmt --check` and `cargo clippy --workspace --all-targets --all-features -D warnings`.
    Lint,
    /// The hostile-input campaign (tests/it/hostile.rs) for N minutes, then its outcome table.
    Fuzz {
        /// How long to run (whole rounds; at least one).
        #[arg(long, default_value_t = 10)]
        minutes: u64,
    },
    /// Generate a deterministic toy dataset (see the `toydata` crate for keys).
    Toydata {
        /// Dataset key, e.g. `shapes8`, `vidshapes2-frames5`, `vidshapes2-msi`, `big2-gsize4096`.
        key: String,
        /// Output bundle directory.
        #[arg(long)]
        out: PathBuf,
        /// Seed (overrides a `seed{K}` token of the key).
        #[arg(long)]
        seed: Option<u64>,
    },
}

/// Debian packages the `gdal` feature builds against.
const SYSTEM_PACKAGES: &[&str] = &["libgdal-dev", "pkg-config"];

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Test { no_gdal, rest } => {
            let mut args: Vec<String> = vec!["test".into(), "--workspace".into()];
            if !no_gdal {
                ensure_system_packages()?;
                args.push("--all-features".into());
            }
            args.extend(rest);
            cargo(&args)
        }
        Cmd::Fuzz { minutes } => fuzz::run(minutes),
        Cmd::Lint => {
            cargo(&["fmt", "--all", "--", "--check"])?;
            ensure_system_packages()?;
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ])
        }
        Cmd::Toydata { key, out, seed } => {
            let mut args: Vec<std::ffi::OsString> = [
                "run",
                "--quiet",
                "--release",
                "--package",
                "ndsampler",
                "--bin",
                "ndsampler",
                "--",
                "toydata",
            ]
            .map(Into::into)
            .to_vec();
            args.push(key.into());
            args.push("--out".into());
            args.push(out.into());
            if let Some(seed) = seed {
                args.push("--seed".into());
                args.push(seed.to_string().into());
            }
            cargo(&args)
        }
    }
}

fn cargo<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", display_args(args));
    }
    Ok(())
}

fn display_args<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn gdal_present() -> bool {
    Command::new("pkg-config")
        .args(["--exists", "gdal"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn ensure_system_packages() -> Result<()> {
    if gdal_present() {
        return Ok(());
    }
    let install = format!("apt-get install -y {}", SYSTEM_PACKAGES.join(" "));
    if !is_root() {
        bail!(
            "GDAL development files are missing; install them with:\n    sudo apt-get update && sudo {install}\n(or run `cargo xtask test --no-gdal` to test without the gdal feature)"
        );
    }
    eprintln!("xtask: installing {}", SYSTEM_PACKAGES.join(" "));
    let ok = |mut c: Command| c.status().map(|s| s.success()).unwrap_or(false);
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    if !ok(update) {
        bail!("`apt-get update` failed");
    }
    let mut inst = Command::new("apt-get");
    inst.args(["install", "-y", "-qq"])
        .args(SYSTEM_PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive");
    if !ok(inst) {
        bail!("`{install}` failed");
    }
    if !gdal_present() {
        bail!("installed {install} but `pkg-config --exists gdal` still fails");
    }
    Ok(())
}
