//! `ndsampler sample` / `draw` / `demo` through the real binary: outputs a person
//! can use, and one-line errors that name the bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
}

fn shapes4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shapes4/data.kwcoco.json")
}

fn msi() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vidshapes2-msi/data.kwcoco.json")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn draw_writes_a_picture_with_the_window_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pics/a.png");
    let o = bin()
        .args(["draw"])
        .arg(shapes4())
        .args([
            "--target",
            r#"{"image_id": 2, "space_slice": [[0, 300], [0, 400]]}"#,
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&out).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (400, 300));
    // Annotations are drawn in category colours: some pixel differs from gray.
    assert!(img.pixels().any(|p| p[0] != p[1] || p[1] != p[2]));

    // A video sample: frames side by side.
    let out = dir.path().join("v.png");
    let o = bin()
        .arg("draw")
        .arg(msi())
        .args([
            "--target",
            r#"{"video_id": 1, "channels": "B1", "space_slice": [[0, 100], [0, 100]]}"#,
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&out).unwrap();
    // 100 px windows are enlarged ×3 to at least 256 px; 3 frames with 4 px gaps.
    assert_eq!((img.width(), img.height()), (3 * 300 + 2 * 4, 300));
}

#[test]
fn sample_writes_npy_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .arg("sample")
        .arg(shapes4())
        .args([
            "--target",
            r#"{"aid": 5, "pad": 3}"#,
            "--with-annots",
            "boxes",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("sample.json")).unwrap()).unwrap();
    assert_eq!(json["shape"], serde_json::json!([74, 37, 3]));
    let annots = json["frames"][0]["annots"].as_array().unwrap();
    assert!(annots.iter().any(|a| a["id"] == 5));
    assert!(annots.iter().all(|a| a.get("segmentation").is_none()));
    let bytes = std::fs::read(dir.path().join("im.npy")).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
}

#[test]
fn bad_input_fails_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &Path, &str); 5] = [
        (r#"{"image_id": 42}"#, &shapes4(), "image_id"),
        (
            r#"{"image_id": 1, "space_slice": [[9, 1], [0, 5]]}"#,
            &shapes4(),
            "space_slice",
        ),
        (r#"{"image_id": 1, "bogus": 1}"#, &shapes4(), "bogus"),
        (
            r#"{"image_id": 1, "channels": "r|"}"#,
            &shapes4(),
            "channels",
        ),
        (
            r#"{"image_id": 1}"#,
            Path::new("/nonexistent/data.kwcoco.json"),
            "/nonexistent/data.kwcoco.json",
        ),
    ];
    for (target, data, needle) in cases {
        let o = bin()
            .arg("sample")
            .arg(data)
            .args(["--target", target, "--out"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!o.status.success(), "{target} should fail");
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains(needle),
            "{target}: {err:?} should mention {needle}"
        );
    }
}
