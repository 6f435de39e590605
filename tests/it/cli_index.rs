//! `ndsampler index` writes the snapshot, `cache` reuses it, and `sample`
//! reads records from it (and ignores it once the JSON changes).

use std::path::Path;
use std::process::{Command, Output};

fn ndsampler(args: &[&str], rust_log: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .args(args)
        .env("RUST_LOG", rust_log)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> (String, String) {
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{o} {e}");
    (o, e)
}

/// The shapes4 fixture copied into a temporary bundle.
fn bundle() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shapes4");
    let dst = dir.path().join("shapes4");
    std::fs::create_dir_all(dst.join("images")).unwrap();
    std::fs::copy(src.join("data.kwcoco.json"), dst.join("data.kwcoco.json")).unwrap();
    for e in std::fs::read_dir(src.join("images")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dst.join("images").join(p.file_name().unwrap())).unwrap();
    }
    (dir, dst)
}

#[test]
fn index_then_cache_reuses_and_sample_reads_the_snapshot() {
    let (dir, ds) = bundle();
    let ds_s = ds.to_str().unwrap();
    let work = dir.path().join("work");
    let work_s = work.to_str().unwrap();
    let (o, _) = ok(&ndsampler(&["index", ds_s, "--workdir", work_s], "warn"));
    assert!(
        o.starts_with("snapshot built: ") && o.contains("52 annotations"),
        "{o}"
    );
    let snaps: Vec<_> = std::fs::read_dir(work.join("_snapshot"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    assert!(snaps[0].ends_with(".ndsnap"));

    let (o, _) = ok(&ndsampler(
        &["cache", ds_s, "--backend", "npy", "--workdir", work_s],
        "warn",
    ));
    assert!(o.contains("snapshot reused"), "{o}");

    let sample = |out: &str| {
        let out_dir = dir.path().join(out);
        let o = ndsampler(
            &[
                "sample",
                ds_s,
                "--backend",
                "npy",
                "--workdir",
                work_s,
                "--target",
                r#"{"annot_id": 3, "pad": 8}"#,
                "--out",
                out_dir.to_str().unwrap(),
            ],
            "sampler=info",
        );
        let (_, e) = ok(&o);
        let json = std::fs::read_to_string(out_dir.join("sample.json")).unwrap();
        let npy = std::fs::read(out_dir.join("im.npy")).unwrap();
        (e, json, npy)
    };
    let (e, json_snap, npy_snap) = sample("a");
    assert!(e.contains("records from snapshot"), "{e}");
    // the same sample from the JSON (no snapshot under that workdir)
    let other = dir.path().join("other");
    let out_dir = dir.path().join("b");
    let (_, e2) = ok(&ndsampler(
        &[
            "sample",
            ds_s,
            "--backend",
            "npy",
            "--workdir",
            other.to_str().unwrap(),
            "--target",
            r#"{"annot_id": 3, "pad": 8}"#,
            "--out",
            out_dir.to_str().unwrap(),
        ],
        "sampler=info",
    ));
    assert!(!e2.contains("records from snapshot"), "{e2}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("sample.json")).unwrap(),
        json_snap
    );
    assert_eq!(std::fs::read(out_dir.join("im.npy")).unwrap(), npy_snap);

    // edit the JSON: the snapshot is stale and not used; `index` rebuilds it
    let p = ds.join("data.kwcoco.json");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replacen("\"id\": 3,", "\"id\": 3 ,", 1)).unwrap();
    let (e, _, _) = sample("c");
    assert!(!e.contains("records from snapshot"), "{e}");
    let (o, _) = ok(&ndsampler(&["index", ds_s, "--workdir", work_s], "warn"));
    assert!(o.starts_with("snapshot rebuilt"), "{o}");
    let (e, _, _) = sample("d");
    assert!(e.contains("records from snapshot"), "{e}");
}

#[test]
fn index_defaults_to_the_bundle_cache_and_fails_cleanly() {
    let (_dir, ds) = bundle();
    let (o, _) = ok(&ndsampler(&["index", ds.to_str().unwrap()], "warn"));
    assert!(o.contains("_cache/_snapshot/"), "{o}");
    let out = ndsampler(&["index", "/nonexistent/data.json"], "warn");
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("/nonexistent/data.json"), "{e}");
}
