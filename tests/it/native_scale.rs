//! Native-resolution sampling (`use_native_scale`, `realign_native`) held to
//! the reference's answers in `tests/fixtures/native-scale` (made by its
//! `make_expected.py` with ndsampler 0.8.1 on the vidshapes2-msi bundle, whose
//! bands are stored at scales 1, 6, 3, 1 and 3), through the real CLI:
//!
//! - jagged parts: same count per frame, same bands, shapes and dtypes, the
//!   reference's `align` and `grid_to_part` warps; pixels identical where the
//!   part is a pure crop of its asset (an integer translation), else mean
//!   absolute difference within 2% of the value range; a missing band is one
//!   NaN pixel;
//! - realigned samples: same shape and dtype, pixels as above, and the
//!   frame transforms (`params.warps`, image = video space here) equal to the
//!   reference's `frame_sample_from_grid_warps`;
//! - annotations: the same ids per frame, boxes within 0.5 px.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/native-scale")
}

fn dataset() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vidshapes2-msi/data.kwcoco.json")
}

fn npy(path: &Path) -> (String, ArrayD<f64>) {
    macro_rules! attempt {
        ($t:ty, $name:literal) => {
            if let Ok(a) = ArrayD::<$t>::read_npy(File::open(path).unwrap()) {
                return ($name.to_string(), a.mapv(|v| v as f64));
            }
        };
    }
    attempt!(u8, "uint8");
    attempt!(u16, "uint16");
    attempt!(f32, "float32");
    attempt!(f64, "float64");
    panic!("cannot read {}", path.display());
}

fn json(path: &Path) -> Value {
    serde_json::from_reader(File::open(path).unwrap()).unwrap()
}

fn matrix(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
        .collect()
}

fn assert_matrix(got: &Value, want: &Value, what: &str) {
    let (g, w) = (matrix(got), matrix(want));
    assert_eq!(g.len(), w.len(), "{what}");
    for (a, b) in g.iter().zip(&w) {
        assert!((a - b).abs() < 1e-9, "{what}: {g:?} vs {w:?}");
    }
}

/// Pixels: exact when `exact`, else mean |diff| within 2% of the reference's
/// value range; NaN exactly where the reference has NaN.
fn assert_pixels(got: &ArrayD<f64>, want: &ArrayD<f64>, exact: bool, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let mut sum = 0.0;
    let mut n = 0usize;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (a, b) in got.iter().zip(want.iter()) {
        assert_eq!(
            a.is_nan(),
            b.is_nan(),
            "{what}: NaN where the reference has {b}"
        );
        if b.is_nan() {
            continue;
        }
        if exact {
            assert_eq!(a, b, "{what}: pixels differ on a pure crop");
        }
        sum += (a - b).abs();
        n += 1;
        lo = lo.min(*b);
        hi = hi.max(*b);
    }
    if n > 0 && !exact {
        let mad = sum / n as f64;
        let range = (hi - lo).max(1.0);
        assert!(
            mad <= 0.02 * range,
            "{what}: mean |diff| {mad} over range {range}"
        );
    }
}

fn assert_annots(got: &Value, want: &Value, what: &str) {
    let (g, w) = (got.as_array().unwrap(), want.as_array().unwrap());
    let ids = |v: &[Value]| {
        v.iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(g), ids(w), "{what}: annotation ids");
    for (a, b) in g.iter().zip(w) {
        assert_eq!(a["category_id"], b["category_id"], "{what}");
        for (x, y) in matrix(&Value::Array(vec![a["bbox"].clone()]))
            .iter()
            .zip(matrix(&Value::Array(vec![b["bbox"].clone()])))
        {
            assert!(
                (x - y).abs() <= 0.5,
                "{what}: box {} vs {}",
                a["bbox"],
                b["bbox"]
            );
        }
    }
}

/// Whether a transform is an integer translation (a pure crop: no resampling).
fn is_crop(m: &Value) -> bool {
    let v = matrix(m);
    let int = |x: f64| (x - x.round()).abs() < 1e-9;
    v[0] == 1.0 && v[1] == 0.0 && int(v[2]) && v[3] == 0.0 && v[4] == 1.0 && int(v[5])
}

fn run(case: &Value) {
    let name = case["name"].as_str().unwrap();
    let want_dir = fixture().join("expected").join(name);
    let want = json(&want_dir.join("sample.json"));
    let out = tempfile::tempdir().unwrap();
    let res = Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .arg("sample")
        .arg(dataset())
        .arg("--target")
        .arg(case["target"].to_string())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    let got = json(&out.path().join("sample.json"));
    let want_frames = want["frames"].as_array().unwrap();
    let got_frames = got["frames"].as_array().unwrap();
    assert_eq!(got_frames.len(), want_frames.len(), "{name}: frames");
    for (t, (g, w)) in got_frames.iter().zip(want_frames).enumerate() {
        assert_annots(&g["annots"], &w["annots"], &format!("{name} frame {t}"));
    }
    if case["target"].get("realign_native").is_some() {
        assert!(
            got.get("native").is_none(),
            "{name}: realigned samples are not jagged"
        );
        let (dtype, im) = npy(&out.path().join("im.npy"));
        let (wdtype, wim) = npy(&want_dir.join("im.npy"));
        assert_eq!(dtype, wdtype, "{name}: dtype");
        let warps = got["params"]["warps"].as_array().unwrap();
        let wwarps = want["frame_sample_from_grid_warps"].as_array().unwrap();
        assert_eq!(warps.len(), wwarps.len());
        for (a, b) in warps.iter().zip(wwarps) {
            assert_matrix(a, b, &format!("{name}: frame warp"));
        }
        assert_pixels(&im, &wim, false, name);
        return;
    }
    let native = got["native"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no native parts"));
    assert_eq!(got["shape"], serde_json::json!([0]), "{name}: im is empty");
    assert_eq!(native.len(), want_frames.len());
    for (t, (parts, w)) in native.iter().zip(want_frames).enumerate() {
        let parts = parts.as_array().unwrap();
        let wparts = w["parts"].as_array().unwrap();
        assert_eq!(parts.len(), wparts.len(), "{name} frame {t}: parts");
        for (k, (p, wp)) in parts.iter().zip(wparts).enumerate() {
            let what = format!("{name} frame {t} part {k}");
            let chans: Vec<&str> = p["channels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert_eq!(chans.join("|"), wp["chans"].as_str().unwrap(), "{what}");
            assert_eq!(p["shape"], wp["shape"], "{what}: shape");
            assert_eq!(p["dtype"], wp["dtype"], "{what}: dtype");
            assert_matrix(&p["align"], &wp["align"], &format!("{what}: align"));
            assert_matrix(
                &p["grid_to_part"],
                &wp["grid_to_part"],
                &format!("{what}: grid_to_part"),
            );
            let (_, im) = npy(&out.path().join(format!("part_{t}_{k}.npy")));
            let (_, wim) = npy(&want_dir.join(format!("part_{t}_{k}.npy")));
            assert_pixels(&im, &wim, is_crop(&p["part_from_image"]), &what);
        }
    }
}

#[test]
fn native_scale_matches_the_reference() {
    let cases = json(&fixture().join("expected/cases.json"));
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 8);
    let mut crops = 0;
    for case in cases {
        run(case);
        if case["name"] == "jagged_aligned_crop" {
            crops += 1;
        }
    }
    assert_eq!(crops, 1, "the pure-crop case is among the cases");
}

#[test]
fn native_scale_options_are_checked() {
    let bad = |target: &str, needle: &str| {
        let out = tempfile::tempdir().unwrap();
        let res = Command::new(env!("CARGO_BIN_EXE_ndsampler"))
            .arg("sample")
            .arg(dataset())
            .arg("--target")
            .arg(target)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(
            !res.status.success() && err.contains(needle),
            "{target}: {err}"
        );
    };
    bad(
        r#"{"video_id": 1, "use_native_scale": true, "realign_native": "smallest"}"#,
        "realign_native",
    );
    bad(
        r#"{"video_id": 1, "space_slice": [[-5, 20], [0, 20]], "use_native_scale": true, "padkw": {"mode": "edge"}}"#,
        "padkw",
    );
    // A huge extra scale is refused before anything is allocated.
    bad(
        r#"{"video_id": 1, "space_slice": [[0, 50], [0, 50]], "scale": 1e6, "use_native_scale": true}"#,
        "exceeds the limit",
    );
    // Fill frames past the video's end take the realigned frames' size; a
    // missing band is NaN (float64, as the reference's squashed NaN part).
    let out = tempfile::tempdir().unwrap();
    let res = Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .arg("sample")
        .arg(dataset())
        .arg("--target")
        .arg(r#"{"video_id": 1, "time_slice": [2, 6], "space_slice": [[0, 50], [0, 50]], "channels": "B8|X", "use_native_scale": true, "realign_native": "largest"}"#)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let (dtype, im) = npy(&out.path().join("im.npy"));
    assert_eq!((dtype.as_str(), im.shape()), ("float64", &[4, 9, 9, 2][..]));
    assert!(
        im.iter().skip(1).step_by(2).all(|v| v.is_nan()),
        "band X is NaN"
    );
    let real = im.index_axis(ndarray::Axis(0), 0);
    assert!(
        real.iter().step_by(2).all(|v| !v.is_nan()),
        "B8 of the real frame is read"
    );
    assert!(
        im.index_axis(ndarray::Axis(0), 3)
            .iter()
            .all(|v| v.is_nan()),
        "fill frames are NaN"
    );
}
