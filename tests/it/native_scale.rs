//! Native-resolution sampling through the CLI: `ndsampler sample` writes, for
//! every case of `tests/fixtures/native-scale` (whose answers the `sampler`
//! crate's own tests hold against the reference), exactly what the library
//! loads: `part_<frame>_<part>.npy` and the `native` list of `sample.json`
//! for jagged samples, `im.npy` for realigned ones, the same annotations.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use sampler::{CocoSampler, Pixels, Target};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/native-scale")
}

fn dataset() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vidshapes2-msi/data.kwcoco.json")
}

fn json(path: &Path) -> Value {
    serde_json::from_reader(File::open(path).unwrap()).unwrap()
}

/// A written `.npy` equals `want` (same dtype, shape and bits; NaN = NaN).
fn same_npy(path: &Path, want: &Pixels) {
    let got = match want {
        Pixels::U8(_) => ArrayD::<u8>::read_npy(File::open(path).unwrap())
            .map(Pixels::U8)
            .unwrap(),
        Pixels::U16(_) => ArrayD::<u16>::read_npy(File::open(path).unwrap())
            .map(Pixels::U16)
            .unwrap(),
        Pixels::F64(_) => ArrayD::<f64>::read_npy(File::open(path).unwrap())
            .map(Pixels::F64)
            .unwrap(),
        other => panic!("unexpected dtype {:?}", other.dtype()),
    };
    let (g, w) = (got.to_f64(), want.to_f64());
    assert_eq!(g.shape(), w.shape(), "{}", path.display());
    assert!(
        g.iter()
            .zip(w.iter())
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan())),
        "{}",
        path.display()
    );
}

fn sample_cli(target: &str, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .arg("sample")
        .arg(dataset())
        .arg("--target")
        .arg(target)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn cli_writes_what_the_library_loads() {
    let lib = CocoSampler::open(dataset()).unwrap();
    let cases = json(&fixture().join("expected/cases.json"));
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 8);
    let mut parts_seen = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let out = tempfile::tempdir().unwrap();
        let res = sample_cli(&case["target"].to_string(), out.path());
        assert!(
            res.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&res.stderr)
        );
        let target: Target = serde_json::from_value(case["target"].clone()).unwrap();
        let want = lib.load_sample(&target).unwrap();
        let got = json(&out.path().join("sample.json"));
        assert_eq!(
            got["frames"],
            serde_json::to_value(&want.frames).unwrap(),
            "{name}"
        );
        same_npy(&out.path().join("im.npy"), &want.im);
        match &want.native {
            None => assert!(got.get("native").is_none(), "{name}"),
            Some(native) => {
                assert_eq!(got["native"], sampler::native_json(native), "{name}");
                for (t, parts) in native.iter().enumerate() {
                    for (k, p) in parts.iter().enumerate() {
                        same_npy(&out.path().join(format!("part_{t}_{k}.npy")), &p.im);
                        parts_seen += 1;
                    }
                }
            }
        }
    }
    assert!(parts_seen > 20, "{parts_seen}");
}

#[test]
fn native_scale_options_are_checked() {
    let bad = |target: &str, needle: &str| {
        let out = tempfile::tempdir().unwrap();
        let res = sample_cli(target, out.path());
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
    let res = sample_cli(
        r#"{"video_id": 1, "time_slice": [2, 6], "space_slice": [[0, 50], [0, 50]], "channels": "B8|X", "use_native_scale": true, "realign_native": "largest"}"#,
        out.path(),
    );
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let im = ArrayD::<f64>::read_npy(File::open(out.path().join("im.npy")).unwrap()).unwrap();
    assert_eq!(im.shape(), &[4, 9, 9, 2]);
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
