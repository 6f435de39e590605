//! `ndsampler stats` and `ndsampler validate` run as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ndsampler(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .args(args)
        .output()
        .expect("run ndsampler")
}

fn fixture(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    assert!(p.is_dir(), "fixture {} is missing", p.display());
    p
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn stats_reports_counts_of_a_bundle() {
    let dir = fixture("shapes4");
    let out = ndsampler(&["stats", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["images:", "4"]),
        "{s}"
    );
    assert!(
        s.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["annotations:", "52"]),
        "{s}"
    );
    // per-category table: every category with its count; counts add up
    let total: usize = s
        .lines()
        .skip_while(|l| !l.starts_with("per category"))
        .skip(2)
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<usize>().ok())
        .sum();
    assert_eq!(total, 52);
}

#[test]
fn stats_json_is_machine_readable() {
    let dir = fixture("vidshapes2-msi");
    let file = dir.join("data.kwcoco.json");
    let out = ndsampler(&["stats", file.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["videos"], 2);
    assert_eq!(v["images"], 6);
    assert_eq!(v["assets"], 30);
    assert_eq!(v["annotations"], 12);
    assert_eq!(v["frames_per_video"]["mean"], 3.0);
}

#[test]
fn validate_accepts_the_fixtures() {
    for name in ["shapes4", "vidshapes2-msi"] {
        let dir = fixture(name);
        let out = ndsampler(&["validate", dir.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{name}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains("valid: 0 error(s)"),
            "{}",
            text(&out.stdout)
        );
    }
}

#[test]
fn validate_names_record_and_field_and_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(
        tmp.path(),
        "bad.json",
        r#"{"categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "a"}],
            "videos": [{"id": 1, "name": "v"}],
            "images": [{"id": 1, "file_name": "missing.png", "width": 4, "height": 4, "video_id": 1}],
            "annotations": [{"id": 5, "image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]},
                            {"id": 6, "image_id": 1, "category_id": 3, "segmentation": {"size": "x"}}]}"#,
    );
    let out = ndsampler(&["validate", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let s = text(&out.stdout);
    for needle in [
        "error: annotations id 5 field `image_id`: image 9 does not exist",
        "error: annotations id 6 field `category_id`: category 3 does not exist",
        "error: annotations id 6 field `segmentation`",
        "error: categories id 1 field `name`",
        "error: images id 1 field `frame_index`",
        "error: images id 1 field `file_name`: file",
        "INVALID: ",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in\n{s}");
    }
    // --json gives the same findings, structured
    let out = ndsampler(&["validate", p.to_str().unwrap(), "--json", "--no-files"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(diags.iter().any(|d| d["problem"] == "dangling_reference"
        && d["id"] == "5"
        && d["field"] == "image_id"));
    assert!(!diags.iter().any(|d| d["problem"] == "missing_file"));
}

#[test]
fn bad_input_gives_one_line_naming_file_and_position() {
    let tmp = tempfile::tempdir().unwrap();
    let truncated = write(
        tmp.path(),
        "truncated.json",
        "{\"images\": [\n{\"id\": 1, \"file_name\": \"a.png\"},\n{\"id\": 2, ",
    );
    let wrong = write(
        tmp.path(),
        "wrong.json",
        "{\"images\": [{\"id\": 1}],\n\"annotations\": [\n{\"id\": 4, \"image_id\": 1, \"bbox\": [0, 0, \"w\", 1]}]}",
    );
    let no_id = write(
        tmp.path(),
        "noid.json",
        "{\"categories\": [{\"name\": \"cat\"}]}",
    );
    for (path, needles) in [
        (&truncated, vec!["truncated.json:3:", "EOF"]),
        (
            &wrong,
            vec!["wrong.json:3:", "annotations[0] (id 4)", "field `bbox`"],
        ),
        (
            &no_id,
            vec!["noid.json:1:", "categories[0]", "missing field `id`"],
        ),
    ] {
        for cmd in ["stats", "validate"] {
            let out = ndsampler(&[cmd, path.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(2), "{cmd} {}", path.display());
            let err = text(&out.stderr);
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
            for n in &needles {
                assert!(err.contains(n), "{n:?} not in {err}");
            }
        }
    }
    let out = ndsampler(&["stats", tmp.path().join("nope.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nope.json"));
    // a directory without data.kwcoco.json
    let out = ndsampler(&["validate", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("data.kwcoco.json"));
}

#[test]
fn validate_reports_files_that_disagree_with_their_declared_size_or_bands() {
    let dir = tempfile::tempdir().unwrap();
    image::GrayImage::new(8, 6)
        .save(dir.path().join("small.png"))
        .unwrap();
    image::RgbImage::new(8, 6)
        .save(dir.path().join("rgb.png"))
        .unwrap();
    image::GrayImage::new(8, 6)
        .save(dir.path().join("ok.png"))
        .unwrap();
    image::GrayImage::new(8, 6)
        .save(dir.path().join("ok2.png"))
        .unwrap();
    let json = write(
        dir.path(),
        "data.kwcoco.json",
        r#"{"images": [
            {"id": 1, "file_name": "small.png", "width": 16, "height": 6},
            {"id": 2, "file_name": "ok.png", "width": 8, "height": 6,
             "auxiliary": [{"file_name": "rgb.png", "channels": "r|g", "width": 8, "height": 6}]},
            {"id": 3, "file_name": "ok2.png", "width": 8, "height": 6}]}"#,
    );
    let out = ndsampler(&["validate", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let s = text(&out.stdout);
    let lines: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("small.png") || l.contains("rgb.png"))
        .collect();
    assert_eq!(lines.len(), 2, "{s}");
    assert!(
        lines[0].contains("16×6") && lines[0].contains("8×6") && lines[0].contains("file_name"),
        "{s}"
    );
    assert!(
        lines[1].contains("2 bands")
            && lines[1].contains("3 bands")
            && lines[1].contains("assets[0]"),
        "{s}"
    );
    assert!(!s.contains("ok.png") && !s.contains("ok2.png"), "{s}");
    assert!(s.contains("INVALID: 2 error(s), 0 warning(s)"), "{s}");
    // --no-files skips the header checks.
    let out = ndsampler(&["validate", "--no-files", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}
