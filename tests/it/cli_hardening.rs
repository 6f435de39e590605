//! Issue 12, CLI side: no panic on a closed stdout or on huge names, bounded
//! inputs (`--count`, `--target @FILE`, `--threads`, toydata keys), one
//! readable error line, `NaN` tokens only outside strings, and the `validate`
//! diagnostics for data that `sample` cannot use.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run ndsampler")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn shapes4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shapes4")
}

/// One line on stderr, starting `ndsampler: error:` (or clap's `error:`), no panic.
fn assert_one_error_line(out: &Output) -> String {
    let err = text(&out.stderr);
    assert!(!out.status.success(), "expected a failure, stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.first().is_some_and(|l| l.contains("error:")), "{err}");
    err
}

/// A dataset whose `validate` prints ~20,000 lines and whose `stats` table has
/// 20,000 rows: far more than a pipe buffer.
fn big_output_dataset(dir: &Path) -> PathBuf {
    let cats: Vec<String> = (1..=20_000)
        .map(|i| format!(r#"{{"id": {i}, "name": "category-{i}"}}"#))
        .collect();
    let anns: Vec<String> = (1..=20_000)
        .map(|i| format!(r#"{{"id": {i}, "image_id": 99, "category_id": 1}}"#))
        .collect();
    let body = format!(
        r#"{{"categories": [{}], "images": [], "annotations": [{}]}}"#,
        cats.join(", "),
        anns.join(", ")
    );
    write(dir, "big.json", &body)
}

#[test]
fn printing_to_a_closed_pipe_exits_quietly_with_the_sigpipe_status() {
    let dir = tempfile::tempdir().unwrap();
    let ds = big_output_dataset(dir.path());
    let ds = ds.to_str().unwrap();
    for args in [
        vec!["validate", ds],
        vec!["validate", ds, "--json"],
        vec!["stats", ds],
        vec!["stats", ds, "--json"],
    ] {
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // the reader goes away before (or while) the tool writes, as `| head -0` does
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = text(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
        assert!(err.trim().is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn other_stdout_errors_are_reported_not_swallowed() {
    let Ok(full) = std::fs::File::create("/dev/full") else {
        return; // no /dev/full on this system
    };
    let dir = tempfile::tempdir().unwrap();
    let ds = big_output_dataset(dir.path());
    let out = bin()
        .args(["stats", ds.to_str().unwrap()])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    let err = assert_one_error_line(&out);
    assert!(err.contains("writing to stdout"), "{err}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn stats_prints_a_huge_category_name_cut() {
    let dir = tempfile::tempdir().unwrap();
    let name = "n".repeat(65_536);
    let ds = write(
        dir.path(),
        "d.json",
        &format!(
            r#"{{"categories": [{{"id": 1, "name": "{name}"}}], "images": [], "annotations": []}}"#
        ),
    );
    let out = run(&["stats", ds.to_str().unwrap()]);
    let s = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(s.contains("(65536 chars)"), "{s}");
    assert!(s.lines().all(|l| l.len() < 300), "a line is too long");
}

#[test]
fn each_cause_is_printed_once_on_one_line() {
    let out = run(&["stats", "/nonexistent/dir/x.json"]);
    let err = assert_one_error_line(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

#[test]
fn echoed_input_is_cut_to_a_readable_length() {
    let dir = tempfile::tempdir().unwrap();
    // a 5 MB file name: validate's diagnostic and sample's error stay short
    let long = "f".repeat(5_000_000);
    let ds = write(
        dir.path(),
        "d.json",
        &format!(
            r#"{{"images": [{{"id": 1, "file_name": "{long}.png", "width": 8, "height": 8}}]}}"#
        ),
    );
    let ds = ds.to_str().unwrap();
    let out = run(&["validate", ds]);
    let s = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(s.lines().all(|l| l.len() < 2000), "a line is too long");
    assert!(
        s.contains(" chars) does not exist"),
        "{}",
        &s[..s.len().min(3000)]
    );

    let outdir = dir.path().join("s");
    let out = run(&[
        "sample",
        ds,
        "--target",
        r#"{"image_id": 1}"#,
        "--out",
        outdir.to_str().unwrap(),
    ]);
    let err = assert_one_error_line(&out);
    assert!(err.len() < 3000, "{} bytes", err.len());
    assert!(err.contains(" chars)"), "{err}");

    // a huge inline target
    let target = format!(r#"{{"image_id": 1, "bogus": "{}"}}"#, "t".repeat(100_000));
    let out = run(&[
        "sample",
        ds,
        "--target",
        &target,
        "--out",
        outdir.to_str().unwrap(),
    ]);
    let err = assert_one_error_line(&out);
    assert!(err.len() < 3000, "{} bytes", err.len());
}

#[test]
fn bench_count_is_capped() {
    let ds = shapes4();
    for count in ["1000000000", "1e9", "1000001"] {
        let out = run(&["bench", ds.to_str().unwrap(), "--count", count]);
        let err = assert_one_error_line(&out);
        assert!(err.contains("--count"), "{err}");
        if count != "1e9" {
            assert!(err.contains("1000000"), "the limit is named: {err}");
        }
    }
}

#[test]
fn target_files_must_be_regular_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let outdir = dir.path().join("s");
    let ds = shapes4();
    let sample = |target: &str| {
        run(&[
            "sample",
            ds.to_str().unwrap(),
            "--target",
            target,
            "--out",
            outdir.to_str().unwrap(),
        ])
    };
    let err = assert_one_error_line(&sample("@/dev/zero"));
    assert!(err.contains("/dev/zero is not a regular file"), "{err}");
    let err = assert_one_error_line(&sample(&format!("@{}", dir.path().display())));
    assert!(err.contains("is not a regular file"), "{err}");
    // a sparse file just over the limit (no 64 MiB written)
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len((64 << 20) + 1)
        .unwrap();
    let err = assert_one_error_line(&sample(&format!("@{}", huge.display())));
    assert!(err.contains("more than the limit of 67108864"), "{err}");
    // a small regular file still works
    let t = write(
        dir.path(),
        "t.json",
        r#"{"image_id": 1, "space_slice": [[0, 8], [0, 8]]}"#,
    );
    let out = sample(&format!("@{}", t.display()));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn cache_threads_are_clamped_with_a_warning() {
    let work = tempfile::tempdir().unwrap();
    let mut cmd = bin();
    cmd.args([
        "cache",
        shapes4().to_str().unwrap(),
        "--backend",
        "npy",
        "--threads",
        "100000",
        "--workdir",
    ])
    .arg(work.path());
    let out = cmd.output().unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("--threads 100000 clamped to"), "{err}");
}

#[test]
fn bench_threads_are_clamped_with_a_warning() {
    let out = run(&[
        "bench",
        shapes4().to_str().unwrap(),
        "--window",
        "32",
        "--count",
        "20",
        "--threads",
        "100000",
        "--json",
        "--no-stages",
    ]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("--threads 100000 clamped to"), "{err}");
    let line = text(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim().lines().last().unwrap()).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    assert_eq!(v["threads"].as_u64(), Some(4 * cores), "{line}");
}

#[test]
fn toydata_refuses_huge_outputs_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    for key in [
        "big100000-gsize65536",
        "vidshapes100000-frames100000",
        "shapes100000-gsize8000",
    ] {
        let out_dir = dir.path().join(key);
        let out = run(&["toydata", key, "--out", out_dir.to_str().unwrap()]);
        let err = assert_one_error_line(&out);
        assert!(err.contains("above the limit of 20 GiB"), "{key}: {err}");
        assert!(err.contains("--allow-large"), "{key}: {err}");
        assert!(!out_dir.exists(), "{key}: nothing may be written");
    }
}

#[test]
fn nan_tokens_are_numbers_only_outside_strings() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"images": [{"id": 7, "file_name": NaN, "width": 8, "height": 8}]}"#,
    );
    let out = run(&["validate", bad.to_str().unwrap()]);
    let err = assert_one_error_line(&out);
    assert!(err.contains("images[0] (id 7): field `file_name`"), "{err}");
    assert!(err.contains("bare `NaN`"), "{err}");

    // a genuine "\u0000NaN" string is a string where a string is expected…
    let good = write(
        dir.path(),
        "good.json",
        r#"{"images": [{"id": 7, "file_name": "\u0000NaN", "width": 8, "height": 8}], "annotations": [{"id": 1, "image_id": 7, "score": NaN, "x": "\u0000NaN"}]}"#,
    );
    let out = run(&["validate", good.to_str().unwrap(), "--no-files"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // …and never a number where a number is expected
    let bad = write(
        dir.path(),
        "bad2.json",
        r#"{"images": [{"id": 7, "file_name": "a.png"}], "annotations": [{"id": 1, "image_id": 7, "score": "\u0000NaN"}]}"#,
    );
    let err = assert_one_error_line(&run(&["stats", bad.to_str().unwrap()]));
    assert!(
        err.contains("annotations[0] (id 1): field `score`"),
        "{err}"
    );
    assert!(err.contains("expected a number"), "{err}");
}

#[test]
fn validate_reports_data_that_sample_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let ds = write(
        dir.path(),
        "d.json",
        r#"{"videos": [{"id": 1, "width": 0, "height": 0}],
            "images": [
              {"id": 1, "file_name": "a.png", "width": 8, "height": 8, "video_id": 1, "frame_index": 0,
               "warp_img_to_vid": {"type": "affine", "scale": 0}},
              {"id": 2, "file_name": "b.png", "width": 8, "height": 8, "video_id": 1, "frame_index": 0,
               "warp_img_to_vid": {"type": "affine", "scale": 1e308}},
              {"id": 3, "file_name": "c.png", "width": 0, "height": 0,
               "assets": [{"file_name": "d.tif", "width": 8, "height": 8, "warp_aux_to_img": {"type": "affine", "scale": 0}}]}],
            "categories": [{"id": 1, "name": "c"}],
            "keypoint_categories": [{"id": 1, "name": "k"}],
            "tracks": [{"id": 1}],
            "annotations": [
              {"id": 1, "image_id": 1, "category_id": 1, "track_id": 5},
              {"id": 2, "image_id": 1, "category_id": 1, "keypoints": [{"xy": [1, 1], "keypoint_category_id": 9}]}]}"#,
    );
    let out = run(&["validate", ds.to_str().unwrap(), "--no-files"]);
    let s = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{s}");
    for expected in [
        "error: images id 1 field `warp_img_to_vid`: transform is singular",
        "error: images id 2 field `warp_img_to_vid`: transform is singular",
        "error: images id 3 field `assets[0].warp_aux_to_img`: transform is singular",
        "error: annotations id 2 field `keypoints`: keypoint 0 names keypoint category 9",
        "error: annotations id 1 field `track_id`: track 5",
        "error: images id 1 field `frame_index`: images 1, 2 share frame_index 0 of video 1",
        "error: videos id 1 field `width`: video size 0x0 is empty",
        "error: images id 3 field `width`: image size 0x0 is empty",
    ] {
        assert!(s.contains(expected), "missing {expected:?} in:\n{s}");
    }
}
