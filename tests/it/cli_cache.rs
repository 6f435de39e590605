//! `ndsampler cache` on the vidshapes2-msi fixture.

use std::path::Path;
use std::process::Command;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vidshapes2-msi")
}

fn cache_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !n.ends_with(".lock"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn cache_npy_builds_every_file_once() {
    let work = tempfile::tempdir().unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_ndsampler"))
            .args([
                "cache",
                fixture().to_str().unwrap(),
                "--backend",
                "npy",
                "--threads",
                "2",
                "--workdir",
            ])
            .arg(work.path())
            .output()
            .unwrap()
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("30 files: 30 built"), "{stdout}");
    let files = cache_files(&work.path().join("_frame_cache/npy"));
    assert_eq!(
        files.len(),
        60,
        "30 entries, each with its checksum: {files:?}"
    );
    assert_eq!(files.iter().filter(|f| f.ends_with(".npy")).count(), 30);
    assert!(
        files
            .iter()
            .all(|f| f.ends_with(".npy") || f.ends_with(".npy.xxh3"))
    );
    // Second run: nothing to build.
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 built, 30 already cached"), "{stdout}");
}

/// Flip bytes in the second half of a file (an npy header stays valid).
fn tamper(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let n = bytes.len();
    for b in &mut bytes[n / 2..n / 2 + 32] {
        *b ^= 0xa5;
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn cache_verify_rebuilds_tampered_entries() {
    let work = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ndsampler"))
            .args(["cache", fixture().to_str().unwrap(), "--backend", "npy"])
            .args(extra)
            .arg("--workdir")
            .arg(work.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    run(&[]);
    let dir = work.path().join("_frame_cache/npy");
    let mut npys: Vec<_> = cache_files(&dir)
        .into_iter()
        .filter(|f| f.ends_with(".npy"))
        .collect();
    npys.sort();
    tamper(&dir.join(&npys[0]));
    let stdout = run(&["--verify"]);
    assert!(stdout.contains("29 verified, 1 rebuilt"), "{stdout}");
    let stdout = run(&["--verify"]);
    assert!(stdout.contains("30 verified, 0 rebuilt"), "{stdout}");
    // A plain run verifies too (first open in the process).
    tamper(&dir.join(&npys[1]));
    let stdout = run(&[]);
    assert!(stdout.contains("1 rebuilt"), "{stdout}");
}

#[test]
fn cache_bad_dataset_fails_with_one_line() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .args([
            "cache",
            "/nonexistent/data.kwcoco.json",
            "--backend",
            "npy",
            "--workdir",
        ])
        .arg(work.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("nonexistent"), "{err}");
}

#[cfg(not(feature = "gdal"))]
#[test]
fn cache_cog_without_gdal_says_so() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .args([
            "cache",
            fixture().to_str().unwrap(),
            "--backend",
            "cog",
            "--workdir",
        ])
        .arg(work.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("gdal"));
}

#[cfg(feature = "gdal")]
#[test]
fn cache_cog_builds_tiled_files() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .args([
            "cache",
            fixture().to_str().unwrap(),
            "--backend",
            "cog",
            "--tile-size",
            "64",
            "--workdir",
        ])
        .arg(work.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("30 files"), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}
