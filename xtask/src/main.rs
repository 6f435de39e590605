//! Project chores.
//!
//! * `cargo xtask test` — installs the system packages the `gdal` feature needs
//!   (with `apt-get` when run as root, otherwise prints the exact command and
//!   fails), creates the Python reference environment under
//!   `target/py-reference` when it is missing (see [`PY_PACKAGES`]), then runs
//!   the whole test suite with all features, the Python cross-checks included
//!   (`NDSAMPLER_REFERENCE_PYTHON` points them at that environment, which
//!   also gets moto, the S3 server of the `remote` tests); then
//!   builds the Python package (`crates/ndsampler-py`, maturin) into that
//!   environment (with maturin, pytest and `ray[data]`) and runs its pytest
//!   suite.
//! * `cargo xtask py-reference` — only create that environment.
//! * `cargo xtask mutants -- FILE [ARGS…]` — `cargo mutants --workspace
//!   --test-workspace=false --file FILE ARGS…` (mutation testing of one file;
//!   slow, not part of CI). `--workspace` is needed because the root package is
//!   the `ndsampler` CLI: without it cargo-mutants looks only there and finds no
//!   mutants in `crates/…`. Each mutant runs only the tests of the package that
//!   owns FILE (cargo-mutants' default since 24.11, made explicit here; pass
//!   `--test-workspace=true` to run every package's tests, many times slower).
//!   Suggested on a shared machine: `CARGO_TARGET_DIR=target/mutants nice -n 10
//!   cargo xtask mutants -- FILE -j 1 -o target/mutants/NAME` (the copies
//!   cargo-mutants makes leave `target/` out; `rm -rf target/mutants` after).
//! * `cargo xtask lint` — `cargo fmt --check` and clippy with `-D warnings`.
//! * `cargo xtask fuzz --minutes N` — the hostile-input campaign for N minutes,
//!   then its outcome table (not part of `test`: the bounded campaign is).
//! * `cargo xtask toydata KEY --out DIR [--seed S]` — writes a synthetic dataset
//!   (runs `ndsampler toydata` from a release build: xtask itself depends on no
//!   workspace crate, so `cargo xtask test` does not build them twice with
//!   different feature sets before the tests build them again).

mod fuzz;

use std::path::{Path, PathBuf};
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
    /// Create the Python reference environment (`target/py-reference`) if missing.
    PyReference,
    /// Mutation-test one file with its package's tests: `cargo mutants --workspace
    /// --test-workspace=false --file FILE ARGS…`.
    Mutants {
        /// The file, then extra `cargo mutants` arguments (e.g. `--timeout 300 -j 1`).
        #[arg(last = true, required = true)]
        args: Vec<String>,
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

/// The Python packages of the reference (kept in step with
/// `../shared/tools/python-reference/setup.sh`, without its `--gdal` variant).
const PY_PACKAGES: &[&str] = &[
    "ndsampler==0.8.1",
    "kwcoco==0.9.1",
    "kwimage==0.12.0",
    "kwarray==0.7.2",
    "delayed_image==0.4.7",
    "opencv-python-headless",
    "pyqtree",
];

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
            let filtered = !rest.is_empty();
            args.extend(rest);
            let python = ensure_py_reference()?;
            ensure_moto(&python)?;
            cargo_with_env(&args, &[("NDSAMPLER_REFERENCE_PYTHON", python.as_os_str())])?;
            if filtered {
                // a name filter selects Rust tests; the Python suite is not filtered
                return Ok(());
            }
            python_package_tests(&python, !no_gdal)
        }
        Cmd::PyReference => {
            let python = ensure_py_reference()?;
            println!("{}", python.display());
            Ok(())
        }
        Cmd::Mutants { args } => {
            let have = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["mutants", "--version"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if !have {
                bail!("cargo-mutants is missing; install it with `cargo install cargo-mutants`");
            }
            let (file, rest) = args
                .split_first()
                .context("usage: cargo xtask mutants -- FILE [ARGS…]")?;
            let mut all: Vec<String> = vec![
                "mutants".into(),
                "--workspace".into(),
                "--file".into(),
                file.clone(),
            ];
            if !rest.iter().any(|a| a.starts_with("--test-workspace")) {
                all.push("--test-workspace=false".into());
            }
            all.extend(rest.iter().cloned());
            cargo(&all)
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

/// What `python -m moto.server` needs to serve S3.
const MOTO_PACKAGES: &[&str] = &["moto[s3]>=5,<6", "flask", "flask-cors"];

/// Install moto's S3 server (what the `remote` feature's tests start on
/// 127.0.0.1 with `python -m moto.server`) into the reference environment
/// when it cannot import it: `moto[s3]` plus the server's flask and
/// flask-cors, rather than `moto[server]`, which pulls every AWS service's
/// dependencies (measured in a fresh venv: 102 MB and 1.4 min against
/// 267 MB and 3.3 min).
fn ensure_moto(python: &Path) -> Result<()> {
    let have = Command::new(python)
        .args(["-c", "import moto.server"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if have {
        return Ok(());
    }
    eprintln!(
        "xtask: installing moto's S3 server (tests of the `remote` feature) for {}",
        python.display()
    );
    let ok = Command::new(python)
        .args(["-m", "pip", "install", "-q"])
        .args(MOTO_PACKAGES)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        bail!(
            "`pip install {}` for {} failed",
            MOTO_PACKAGES.join(" "),
            python.display()
        );
    }
    Ok(())
}

/// Build the Python package (`crates/ndsampler-py`) into the reference
/// environment with maturin (dev profile: it shares the test build's
/// compiled crates) and run its pytest suite. maturin, pytest and
/// `ray[data]` are installed into the environment when missing (PyPI).
fn python_package_tests(python: &Path, gdal: bool) -> Result<()> {
    let venv = python
        .parent()
        .and_then(Path::parent)
        .context("the reference python is not inside a venv")?
        .to_path_buf();
    let bin = venv.join("bin");
    // `ray[data]` (ray, pyarrow; pandas is already there) is for
    // tests/test_ray.py: about 30 s and 430 MB more (docs/python.md).
    if ["maturin", "pytest", "ray"]
        .iter()
        .any(|b| !bin.join(b).exists())
    {
        eprintln!(
            "xtask: installing maturin, pytest and ray[data] into {}",
            venv.display()
        );
        let ok = Command::new(bin.join("pip"))
            .args([
                "install",
                "-q",
                "maturin>=1.9,<2",
                "pytest",
                "ray[data]>=2.60,<3",
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            bail!(
                "`pip install maturin pytest ray[data]` into {} failed",
                venv.display()
            );
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf();
    let pkg = root.join("crates/ndsampler-py");
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))?;
    let mut develop = Command::new(bin.join("maturin"));
    develop
        .args(["develop", "--quiet", "--profile", "dev"])
        .current_dir(&pkg)
        .env("VIRTUAL_ENV", &venv)
        .env("PATH", &path);
    // `remote` too: the Python package's s3/gs/http datasets are tested
    // against moto (tests/test_remote.py); its extra build is about 1.6 min
    // on a target the Rust tests warmed (measured 2026-12-08)
    develop.args(["--features", if gdal { "gdal,remote" } else { "remote" }]);
    eprintln!("xtask: maturin develop (crates/ndsampler-py)");
    if !develop.status().map(|s| s.success()).unwrap_or(false) {
        bail!("`maturin develop` of crates/ndsampler-py failed");
    }
    eprintln!("xtask: pytest crates/ndsampler-py/tests");
    let ok = Command::new(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])
        .current_dir(&pkg)
        .env("PATH", &path)
        .env("NDSAMPLER_BIN", target_dir().join("debug/ndsampler"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        bail!("the Python package's tests failed");
    }
    Ok(())
}

fn cargo<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Result<()> {
    cargo_with_env(args, &[])
}

fn cargo_with_env<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
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

/// The workspace's target directory (`CARGO_TARGET_DIR` when set).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("xtask lives in the workspace")
                .join("target")
        })
}

/// Create `target/py-reference` (a venv with [`PY_PACKAGES`]) unless a
/// complete one is there; returns its python. A marker file written last
/// tells a complete environment from an interrupted install, which is redone.
/// Measured on 2 shared cores: about 8 minutes and 680 MB (mostly opencv,
/// numpy, scipy wheels), once.
fn ensure_py_reference() -> Result<PathBuf> {
    let venv = target_dir().join("py-reference");
    let python = venv.join("bin/python");
    let marker = venv.join(".ndsampler-complete");
    if marker.is_file() && python.exists() {
        return Ok(python);
    }
    eprintln!(
        "xtask: creating the Python reference environment in {} (a few minutes, once)",
        venv.display()
    );
    if venv.exists() {
        std::fs::remove_dir_all(&venv)
            .with_context(|| format!("removing the incomplete {}", venv.display()))?;
    }
    let ok = |c: &mut Command| c.status().map(|s| s.success()).unwrap_or(false);
    if !ok(Command::new("python3").arg("-m").arg("venv").arg(&venv)) {
        bail!(
            "`python3 -m venv {}` failed (on Debian: apt-get install python3-venv)",
            venv.display()
        );
    }
    if !ok(Command::new(venv.join("bin/pip"))
        .args(["install", "-q"])
        .args(PY_PACKAGES))
    {
        bail!("`pip install {}` failed", PY_PACKAGES.join(" "));
    }
    if !ok(Command::new(&python).args(["-c", "import ndsampler, kwcoco, kwimage"])) {
        bail!("the reference packages do not import in {}", venv.display());
    }
    std::fs::write(&marker, PY_PACKAGES.join("\n"))?;
    Ok(python)
}
