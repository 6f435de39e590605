//! Native-resolution sampling (`use_native_scale`, `realign_native`) held to
//! the reference's answers in `tests/fixtures/native-scale` (ndsampler 0.8.1
//! on the vidshapes2-msi bundle, bands stored at scales 1, 6, 3, 1 and 3):
//!
//! - jagged parts: same count per frame, same bands, shapes and dtypes, the
//!   reference's `align` and `grid_to_part` warps; pixels identical where the
//!   part is a pure crop of its asset, else within one code (OpenCV's
//!   fixed-point bilinear rounds a few values the other way); a missing band
//!   is one NaN pixel;
//! - realigned samples: same shape and dtype, pixels within one code, the
//!   frame transforms equal to the reference's `frame_sample_from_grid_warps`;
//! - annotations: the same ids per frame, boxes within 0.5 px;
//! - `part_from_image` (ours alone) maps the window onto the part's grid.

use std::fs::File;
use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use sampler::{CocoSampler, NativePart, Pixels, Sample, Target};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn json(path: &Path) -> Value {
    serde_json::from_reader(File::open(path).unwrap()).unwrap()
}

fn npy(path: &Path) -> (&'static str, ArrayD<f64>) {
    if let Ok(a) = ArrayD::<u16>::read_npy(File::open(path).unwrap()) {
        return ("uint16", a.mapv(f64::from));
    }
    if let Ok(a) = ArrayD::<f64>::read_npy(File::open(path).unwrap()) {
        return ("float64", a);
    }
    panic!("{}: not uint16 or float64", path.display());
}

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not a number: {other}"),
    }
}

fn close_matrix(got: &[[f64; 3]; 3], want: &Value, what: &str) {
    let g: Vec<f64> = got.iter().flatten().copied().collect();
    let w = flat(want);
    assert_eq!(g.len(), w.len(), "{what}");
    for (a, b) in g.iter().zip(&w) {
        assert!((a - b).abs() < 1e-9, "{what}: {g:?} vs {w:?}");
    }
}

/// Within `tol` codes everywhere (`None`: a downscale, whose antialiasing
/// differs: mean |diff| within 2% of the value range, the fixtures' rule),
/// NaN exactly where the reference has NaN.
fn close_pixels(got: &Pixels, want: &ArrayD<f64>, tol: Option<f64>, what: &str) {
    let got = got.to_f64();
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let (mut sum, mut n, mut lo, mut hi) = (0.0, 0usize, f64::INFINITY, f64::NEG_INFINITY);
    for (a, b) in got.iter().zip(want.iter()) {
        assert_eq!(
            a.is_nan(),
            b.is_nan(),
            "{what}: NaN where the reference has {b}"
        );
        if b.is_nan() {
            continue;
        }
        if let Some(tol) = tol {
            assert!((a - b).abs() <= tol, "{what}: {a} vs {b}");
        }
        sum += (a - b).abs();
        n += 1;
        lo = lo.min(*b);
        hi = hi.max(*b);
    }
    if tol.is_none() && n > 0 {
        let mad = sum / n as f64;
        assert!(
            mad <= 0.02 * (hi - lo).max(1.0),
            "{what}: mean |diff| {mad}"
        );
    }
}

fn is_crop(m: &[[f64; 3]; 3]) -> bool {
    let int = |x: f64| (x - x.round()).abs() < 1e-9;
    m[0][0] == 1.0
        && m[0][1] == 0.0
        && m[1][0] == 0.0
        && m[1][1] == 1.0
        && int(m[0][2])
        && int(m[1][2])
}

fn check_annots(s: &Sample, want: &Value, name: &str) {
    let frames = want["frames"].as_array().unwrap();
    assert_eq!(s.frames.len(), frames.len(), "{name}");
    for (t, (f, w)) in s.frames.iter().zip(frames).enumerate() {
        let w = w["annots"].as_array().unwrap();
        let ids: Vec<i64> = f.annots.iter().map(|a| a.id).collect();
        let wids: Vec<i64> = w.iter().map(|a| a["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, wids, "{name} frame {t}");
        for (a, b) in f.annots.iter().zip(w) {
            assert_eq!(a.category_id, b["category_id"].as_i64(), "{name}");
            for (x, y) in a.bbox.iter().zip(flat(&b["bbox"])) {
                assert!(
                    (x - y).abs() <= 0.5,
                    "{name}: {:?} vs {}",
                    a.bbox,
                    b["bbox"]
                );
            }
        }
    }
}

/// The window's corners land on the part grid's corners (up to the rounding
/// of its size), and the size is the window's at the asset's resolution.
fn check_part_from_image(p: &NativePart, window: [[i64; 2]; 2], name: &str) {
    let (h, w) = (p.im.shape()[0] as f64, p.im.shape()[1] as f64);
    if h == 1.0 && w == 1.0 {
        return; // a squashed missing band
    }
    let m = p.part_from_image;
    let at = |x: f64, y: f64| {
        [
            m[0][0] * x + m[0][1] * y + m[0][2],
            m[1][0] * x + m[1][1] * y + m[1][2],
        ]
    };
    let [[y0, y1], [x0, x1]] = window.map(|r| r.map(|v| v as f64));
    let tl = at(x0, y0);
    let br = at(x1, y1);
    assert!(tl[0].abs() < 1e-9 && tl[1].abs() < 1e-9, "{name}: {tl:?}");
    assert!(
        br[0] <= w + 1e-9 && br[0] > w - 1.0,
        "{name}: {br:?} vs {w}"
    );
    assert!(
        br[1] <= h + 1e-9 && br[1] > h - 1.0,
        "{name}: {br:?} vs {h}"
    );
}

#[test]
fn native_scale_matches_the_reference() {
    let s = CocoSampler::open(root().join("vidshapes2-msi/data.kwcoco.json")).unwrap();
    let expected = root().join("native-scale/expected");
    let cases = json(&expected.join("cases.json"));
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 8);
    let (mut jagged, mut realigned, mut crops, mut resampled) = (0, 0, 0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dir = expected.join(name);
        let want = json(&dir.join("sample.json"));
        let target: Target = serde_json::from_value(case["target"].clone()).unwrap();
        let sample = s.load_sample(&target).unwrap();
        check_annots(&sample, &want, name);
        let window = sample.params.st_dims;
        if target.realign_native.is_some() {
            realigned += 1;
            assert!(sample.native.is_none(), "{name}");
            let (dtype, wim) = npy(&dir.join("im.npy"));
            assert_eq!(sample.im.dtype().name(), dtype, "{name}");
            close_pixels(&sample.im, &wim, Some(1.0), name);
            let warps = want["frame_sample_from_grid_warps"].as_array().unwrap();
            assert_eq!(sample.params.warps.len(), warps.len());
            for (g, w) in sample.params.warps.iter().zip(warps) {
                close_matrix(&g.unwrap(), w, &format!("{name}: frame warp"));
            }
            continue;
        }
        jagged += 1;
        assert_eq!(sample.im.shape(), &[0], "{name}: im is empty");
        let native = sample.native.as_ref().unwrap();
        let frames = want["frames"].as_array().unwrap();
        assert_eq!(native.len(), frames.len(), "{name}");
        for (t, (parts, wf)) in native.iter().zip(frames).enumerate() {
            let wparts = wf["parts"].as_array().unwrap();
            assert_eq!(parts.len(), wparts.len(), "{name} frame {t}");
            for (k, (p, wp)) in parts.iter().zip(wparts).enumerate() {
                let what = format!("{name} frame {t} part {k}");
                assert_eq!(
                    p.channels.join("|"),
                    wp["chans"].as_str().unwrap(),
                    "{what}"
                );
                let shape: Vec<usize> = flat(&wp["shape"]).iter().map(|&v| v as usize).collect();
                assert_eq!(p.im.shape(), shape.as_slice(), "{what}");
                assert_eq!(p.im.dtype().name(), wp["dtype"].as_str().unwrap(), "{what}");
                close_matrix(&p.align, &wp["align"], &format!("{what}: align"));
                close_matrix(
                    &p.grid_to_part,
                    &wp["grid_to_part"],
                    &format!("{what}: grid"),
                );
                let (_, wim) = npy(&dir.join(format!("part_{t}_{k}.npy")));
                let exact = is_crop(&p.part_from_image);
                if exact {
                    crops += 1;
                } else {
                    resampled += 1;
                }
                let tol = match (exact, target.scale.is_some()) {
                    (true, _) => Some(0.0),
                    (false, false) => Some(1.0),
                    (false, true) => None,
                };
                close_pixels(&p.im, &wim, tol, &what);
                if target.scale.is_none() {
                    check_part_from_image(p, window, &what);
                }
            }
        }
    }
    assert!(jagged >= 6 && realigned >= 2, "{jagged} {realigned}");
    assert!(
        crops > 0 && resampled > 0,
        "both kinds of parts: {crops} {resampled}"
    );
}

#[test]
fn native_scale_in_image_space_and_bad_options() {
    let s = CocoSampler::open(root().join("vidshapes2-msi/data.kwcoco.json")).unwrap();
    // A lone image (the reference only has it for videos): the window is in
    // image space; B8 (6× coarser) gives ceil(30 / 6) × ceil(24 / 6).
    let t: Target = serde_json::from_value(serde_json::json!({
        "image_id": 2, "space_slice": [[6, 36], [12, 36]], "channels": "B8|B1",
        "use_native_scale": true,
    }))
    .unwrap();
    let sample = s.load_sample(&t).unwrap();
    let parts = &sample.native.as_ref().unwrap()[0];
    assert_eq!(parts[0].im.shape(), &[5, 4, 1]);
    assert_eq!(parts[1].im.shape(), &[30, 24, 1]);
    // B1 is stored at image resolution: a pure crop of the plain read.
    let plain: Target = serde_json::from_value(serde_json::json!({
        "image_id": 2, "space_slice": [[6, 36], [12, 36]], "channels": "B1",
    }))
    .unwrap();
    assert_eq!(parts[1].im, s.load_sample(&plain).unwrap().im);
    // `realign_native: false` is the reference's "no realign".
    let t: Target =
        serde_json::from_value(serde_json::json!({"video_id": 1, "realign_native": false}))
            .unwrap();
    assert_eq!(t.realign_native, None);
    let e = serde_json::from_value::<Target>(
        serde_json::json!({"video_id": 1, "realign_native": "smallest"}),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("realign_native") || e.contains("largest"), "{e}");
}

#[test]
fn native_scale_of_all_bands_and_of_plain_images() {
    // `<all>` over several assets: every band in declared order, each run
    // of one asset a part (single-band assets here: one part per band).
    let s = CocoSampler::open(root().join("vidshapes2-msi/data.kwcoco.json")).unwrap();
    let t: Target = serde_json::from_value(serde_json::json!({
        "image_id": 1, "space_slice": [[0, 12], [0, 12]], "channels": "<all>",
        "use_native_scale": true,
    }))
    .unwrap();
    let parts = &s.load_sample(&t).unwrap().native.unwrap()[0];
    let names: Vec<String> = parts.iter().map(|p| p.channels.join("|")).collect();
    assert_eq!(names, ["B1", "B8", "B8a", "B10", "B11"]);
    let shapes: Vec<&[usize]> = parts.iter().map(|p| p.im.shape()).collect();
    assert_eq!(
        shapes,
        [
            &[12, 12, 1][..],
            &[2, 2, 1],
            &[4, 4, 1],
            &[12, 12, 1],
            &[4, 4, 1]
        ]
    );
    // A plain RGB image (one file, no declared channels): one part of its
    // own bands, equal to the plain window.
    let s = CocoSampler::open(root().join("shapes4/data.kwcoco.json")).unwrap();
    for ch in [None, Some("r|g|b"), Some("b|r")] {
        let mut v = serde_json::json!({"image_id": 1, "space_slice": [[5, 25], [-3, 17]]});
        if let Some(ch) = ch {
            v["channels"] = ch.into();
        }
        let plain: Target = serde_json::from_value(v.clone()).unwrap();
        v["use_native_scale"] = true.into();
        let native: Target = serde_json::from_value(v).unwrap();
        let parts = &s.load_sample(&native).unwrap().native.unwrap()[0];
        assert_eq!(parts.len(), 1, "{ch:?}");
        assert_eq!(parts[0].channels.join("|"), ch.unwrap_or("r|g|b"), "{ch:?}");
        assert_eq!(parts[0].im, s.load_sample(&plain).unwrap().im, "{ch:?}");
        assert!(is_crop(&parts[0].part_from_image));
    }
}
