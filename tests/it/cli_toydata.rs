//! `ndsampler toydata` through the real binary: output layout, determinism,
//! `--seed` overriding the key's seed token, and one-line errors on bad keys.

use std::path::Path;
use std::process::Command;

fn ndsampler() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
}

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn writes_a_bundle_and_prints_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    let res = ndsampler()
        .args(["toydata", "vidshapes1-frames2-tracks2-gsize40-msi", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains("data.kwcoco.json"), "{stdout}");
    assert!(stdout.contains("2 images"), "{stdout}");
    let data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("data.kwcoco.json")).unwrap()).unwrap();
    assert_eq!(data["videos"].as_array().unwrap().len(), 1);
    assert_eq!(data["images"].as_array().unwrap().len(), 2);
    assert_eq!(data["annotations"].as_array().unwrap().len(), 4);
    for img in data["images"].as_array().unwrap() {
        assert!(img["file_name"].is_null());
        for aux in img["auxiliary"].as_array().unwrap() {
            let rel = aux["file_name"].as_str().unwrap();
            assert!(!Path::new(rel).is_absolute());
            assert!(out.join(rel).is_file(), "{rel}");
        }
    }
}

#[test]
fn same_key_and_seed_give_identical_bytes_and_seed_flag_overrides_token() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, key: &str, seed: Option<&str>| {
        let out = dir.path().join(name);
        let mut cmd = ndsampler();
        cmd.args(["toydata", key, "--out"]).arg(&out);
        if let Some(s) = seed {
            cmd.args(["--seed", s]);
        }
        let res = cmd.output().unwrap();
        assert!(
            res.status.success(),
            "{}",
            String::from_utf8_lossy(&res.stderr)
        );
        files_under(&out)
    };
    let a = run("a", "shapes2-gsize48", Some("5"));
    let b = run("b", "shapes2-gsize48-seed5", None);
    let c = run("c", "shapes2-gsize48-seed9", Some("5"));
    let d = run("d", "shapes2-gsize48", Some("6"));
    assert_eq!(a.len(), 3, "json + 2 images");
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_ne!(a, d);
}

#[test]
fn bad_keys_fail_with_one_line_naming_the_token() {
    let dir = tempfile::tempdir().unwrap();
    for (key, want) in [
        ("vidshapes2-bogus", "bogus"),
        ("shapes0", "out of range"),
        ("circles3", "unknown dataset family"),
    ] {
        let res = ndsampler()
            .args(["toydata", key, "--out"])
            .arg(dir.path().join("x"))
            .output()
            .unwrap();
        assert!(!res.status.success(), "{key} should fail");
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(want), "{key}: {err}");
    }
}
