//! `ndsampler bench` through the real binary on a tiny toy dataset: the
//! `--json` record parses and carries the promised keys (no timing thresholds).

use std::path::Path;
use std::process::Command;

fn ndsampler() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
}

fn toydata(key: &str, out: &Path) {
    let res = ndsampler()
        .args(["toydata", key, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
}

fn bench_json(args: &[&str]) -> serde_json::Value {
    let res = ndsampler().arg("bench").args(args).output().unwrap();
    assert!(
        res.status.success(),
        "bench {args:?} failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    let stdout = String::from_utf8(res.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "--json prints exactly one line: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn json_record_of_random_windows_with_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shapes");
    toydata("shapes2-gsize96", &data);
    let dset = data.join("data.kwcoco.json");
    let work = dir.path().join("work");
    let rec = bench_json(&[
        dset.to_str().unwrap(),
        "--window",
        "32,24",
        "--count",
        "20",
        "--backend",
        "npy",
        "--workdir",
        work.to_str().unwrap(),
        "--annots",
        "--baseline",
        "--json",
    ]);
    assert!(rec["windows_per_sec"].as_f64().unwrap() > 0.0, "{rec}");
    assert!(rec["mb_per_sec"].as_f64().unwrap() > 0.0, "{rec}");
    assert_eq!(rec["backend"], "npy");
    assert_eq!(rec["threads"], 1);
    assert!(rec["loader"].is_null(), "no loader on one thread: {rec}");
    assert_eq!(rec["count"], 20);
    assert_eq!(rec["window"], serde_json::json!([32, 24]));
    assert_eq!(rec["annots"], true);
    // The npy cache was built before timing (one file per image).
    assert_eq!(rec["setup"]["caches_built"], 2);
    for key in [
        "resolve_us",
        "index_query_us",
        "annot_transform_us",
        "pixel_read_us",
        "total_us",
    ] {
        assert!(rec["stages"][key].as_f64().unwrap() >= 0.0, "{key}: {rec}");
    }
    let b = &rec["baseline"];
    assert!(b["windows_per_sec"].as_f64().unwrap() > 0.0, "{rec}");
    assert!(b["fraction"].as_f64().unwrap() > 0.0, "{rec}");
    // The in-RAM image of the baseline has the dataset image's size.
    assert_eq!(b["image"][0], 96);
    assert_eq!(b["image"][1], 96);
    assert!(b["image"][2].as_u64().unwrap() >= 1, "{rec}");
}

#[test]
fn json_record_of_a_target_plan_on_two_threads_with_locality() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shapes");
    toydata("shapes1-gsize64", &data);
    let dset = data.join("data.kwcoco.json");
    let plan = dir.path().join("plan.json");
    let targets: Vec<serde_json::Value> = (0..12)
        .map(|i| {
            serde_json::json!({"image_id": 1, "space_slice": [[i, i + 16], [2 * i, 2 * i + 16]]})
        })
        .collect();
    std::fs::write(&plan, serde_json::to_string(&targets).unwrap()).unwrap();
    let rec = bench_json(&[
        dset.to_str().unwrap(),
        "--targets",
        plan.to_str().unwrap(),
        "--count",
        "0",
        "--threads",
        "2",
        "--locality",
        "--no-stages",
        "--json",
    ]);
    assert!(rec["windows_per_sec"].as_f64().unwrap() > 0.0, "{rec}");
    assert_eq!(rec["count"], 12);
    assert_eq!(rec["threads"], 2);
    assert_eq!(rec["backend"], "raw");
    assert_eq!(rec["locality"], 64);
    assert!(rec["stages"].is_null());
    // Twelve 16×16 windows of one-byte pixels (1 or 3 bands).
    let mb = rec["mb_per_sec"].as_f64().unwrap();
    let secs = rec["seconds"].as_f64().unwrap();
    let bytes = (mb * secs * 1e6).round();
    assert!(
        bytes == 12.0 * 256.0 || bytes == 3.0 * 12.0 * 256.0,
        "{bytes}: {rec}"
    );
    // Where the loader's time went: every part is a duration within the run.
    let l = &rec["loader"];
    let wall = l["wall_s"].as_f64().unwrap();
    assert!(wall > 0.0 && wall <= secs * 1.01 + 1e-3, "{rec}");
    for key in [
        "sample_busy_s",
        "first_batch_s",
        "consumer_wait_s",
        "consumer_drop_s",
    ] {
        let v = l[key].as_f64().unwrap();
        assert!(v > 0.0, "{key}: {rec}");
    }
    assert!(l["first_batch_s"].as_f64().unwrap() <= wall, "{rec}");
    assert!(l["consumer_wait_s"].as_f64().unwrap() <= wall, "{rec}");
    let frac = l["busy_fraction"].as_f64().unwrap();
    let busy = l["sample_busy_s"].as_f64().unwrap();
    assert!((frac - busy / (2.0 * wall)).abs() < 1e-9, "{rec}");
}

#[test]
fn bad_arguments_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shapes");
    toydata("shapes1-gsize32", &data);
    let dset = data.join("data.kwcoco.json");
    for (args, needle) in [
        (vec!["--window", "0,4"], "--window"),
        (vec!["--window", "a,b"], "--window"),
        (vec!["--backend", "zarr"], "zarr"),
        (vec!["--threads", "0"], "--threads"),
    ] {
        let res = ndsampler()
            .arg("bench")
            .arg(&dset)
            .args(&args)
            .output()
            .unwrap();
        assert!(!res.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// `--stacked N` loads the same windows as the one-by-one loop (same bytes,
/// same annotations per window), on one thread or several, with a last
/// partial batch.
#[test]
fn stacked_batches_load_what_the_plain_loop_loads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shapes");
    toydata("shapes2-gsize96", &data);
    let dset = data.join("data.kwcoco.json");
    let run = |extra: &[&str]| {
        let mut args = vec![
            dset.to_str().unwrap(),
            "--window",
            "32,24",
            "--count",
            "23",
            "--annots",
            "--seed",
            "5",
            "--no-stages",
            "--json",
        ];
        args.extend_from_slice(extra);
        let rec = bench_json(&args);
        let bytes = rec["mb_per_sec"].as_f64().unwrap() * rec["seconds"].as_f64().unwrap() * 1e6;
        (bytes, rec["annots_per_window"].as_f64().unwrap(), rec)
    };
    let (plain_bytes, plain_annots, _) = run(&[]);
    assert!(
        (plain_bytes - 23.0 * 32.0 * 24.0 * 3.0).abs() < 1e-3,
        "{plain_bytes}"
    );
    for extra in [
        &["--stacked", "6"][..],
        &["--stacked", "6", "--threads", "2"],
    ] {
        let (bytes, annots, rec) = run(extra);
        assert_eq!(rec["stacked"], 6);
        assert!(
            (bytes - plain_bytes).abs() < 1e-3,
            "{extra:?}: {bytes} vs {plain_bytes}"
        );
        assert_eq!(annots, plain_annots, "{extra:?}");
    }
    assert!(plain_annots > 0.0);
}
