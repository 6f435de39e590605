//! Assets as real kwcoco data has them, against ndsampler 0.8.1's answers
//! (`tests/fixtures/python-assets`, made by its `gen.py`): quantized assets
//! (dequantized on read, also under a warp), a GeoTIFF's own nodata value
//! (NaN with `nodata: "float"`), and an image whose record has no size.

use std::path::PathBuf;

use ndarray::ArrayD;
use sampler::{CocoSampler, Target};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/python-assets")
}

fn samples() -> serde_json::Map<String, serde_json::Value> {
    let path = root().join("expected/cases.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} is missing: {e}", path.display()));
    let js: serde_json::Value = serde_json::from_str(&text).expect("cases.json is JSON");
    js["samples"].as_object().expect("a `samples` map").clone()
}

fn expected(name: &str) -> ArrayD<f64> {
    let p = root().join("expected").join(format!("{name}.npy"));
    let w = frame_backends::Window::read_npy(&p);
    match w {
        Ok(w) => w.to_f64().into_dyn(),
        // 4-D (video) answers.
        Err(_) => {
            let f = std::fs::File::open(&p).unwrap();
            if let Ok(a) = <ArrayD<f32> as ndarray_npy::ReadNpyExt>::read_npy(&f) {
                return a.mapv(f64::from);
            }
            let f = std::fs::File::open(&p).unwrap();
            if let Ok(a) = <ArrayD<u16> as ndarray_npy::ReadNpyExt>::read_npy(&f) {
                return a.mapv(f64::from);
            }
            let f = std::fs::File::open(&p).unwrap();
            <ArrayD<u8> as ndarray_npy::ReadNpyExt>::read_npy(f)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .mapv(f64::from)
        }
    }
}

fn load(name: &str) -> (sampler::Sample, ArrayD<f64>, String) {
    let cases = samples();
    let case = &cases[name];
    let s = CocoSampler::open(root().join("data.kwcoco.json")).unwrap();
    let t: Target = serde_json::from_value(case["target"].clone())
        .unwrap_or_else(|e| panic!("{name}: target {}: {e}", case["target"]));
    let sample = s.load_sample(&t).unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = expected(name);
    assert_eq!(sample.im.shape(), want.shape(), "{name}");
    let dtype = case["dtype"].as_str().unwrap().to_string();
    assert_eq!(sample.im.dtype().name(), dtype, "{name}");
    (sample, want, dtype)
}

/// Same values, NaN where the reference has NaN, on channels `chans`.
fn assert_same(name: &str, got: &ArrayD<f64>, want: &ArrayD<f64>, chans: &[usize]) {
    let c = want.shape().len() - 1;
    for (idx, &w) in want.indexed_iter() {
        if !chans.contains(&idx[c]) {
            continue;
        }
        let g = got[&idx];
        assert!(
            g == w || (g.is_nan() && w.is_nan()),
            "{name} at {:?}: got {g}, reference {w}",
            idx
        );
    }
}

#[test]
fn sample_cases_cover_the_fixture() {
    let names: Vec<String> = samples().keys().cloned().collect();
    for n in [
        "quantized_all",
        "quantized_nearest",
        "nodata_float",
        "nodata_kept",
        "nosize",
    ] {
        assert!(names.iter().any(|k| k == n), "{n} missing from {names:?}");
    }
}

#[test]
fn quantized_assets_read_dequantized() {
    // q1|q2 at image resolution: exact (float32 arithmetic as numpy's), NaN
    // for the nodata code and outside the frame.
    // The window (rows -2..10, columns 3..19 of a 12×16 frame) leaves the
    // frame: the reference's bilinear crop bleeds NaN one pixel into the data
    // (next to NaN and along the window's last row and column; docs/DESIGN.md
    // §7), which is not copied here. Everywhere else: identical.
    let (sample, want, _) = load("quantized_all");
    let got = sample.im.to_f64();
    let (h, w) = (want.shape()[1], want.shape()[2]);
    let mut bled = 0;
    for (idx, &r) in want.indexed_iter() {
        let (y, x, c) = (idx[1], idx[2], idx[3]);
        if c > 1 {
            continue;
        }
        let g = got[&idx];
        let ours_nan = |yy: usize, xx: usize| yy >= h || xx >= w || got[[0, yy, xx, c]].is_nan();
        let next_to_nan = ours_nan(y + 1, x)
            || ours_nan(y, x + 1)
            || (y > 0 && ours_nan(y - 1, x))
            || (x > 0 && ours_nan(y, x - 1));
        if r.is_nan() && !g.is_nan() && next_to_nan {
            bled += 1;
            continue;
        }
        assert!(
            g == r || (g.is_nan() && r.is_nan()),
            "quantized_all at {idx:?}: got {g}, reference {r}"
        );
    }
    assert!(bled > 0 && bled < 50, "{bled} bled pixels");
    assert!(want.iter().any(|v| v.is_nan()) && want.iter().any(|v| *v > 0.5));
    // h at half resolution, dequantized before its bilinear warp: the same
    // values (up to the resampling's rounding) wherever both are finite, and
    // NaN around the nodata code in both.
    let mut both = 0;
    for (idx, &w) in want.indexed_iter() {
        if idx[3] != 2 {
            continue;
        }
        let g = got[&idx];
        if w.is_finite() && g.is_finite() {
            both += 1;
            assert!(
                (g - w).abs() < 1e-3,
                "h at {:?}: got {g}, reference {w}",
                idx
            );
        }
    }
    assert!(both > 50, "only {both} finite pixels compared");
    // Nearest: the half-resolution codes repeated, exactly.
    let (sample, want, _) = load("quantized_nearest");
    assert_same("quantized_nearest", &sample.im.to_f64(), &want, &[0, 1]);
}

#[test]
fn geotiff_nodata_is_nan_with_nodata_float() {
    let (sample, want, dtype) = load("nodata_float");
    assert_eq!(dtype, "float32");
    assert_same("nodata_float", &sample.im.to_f64(), &want, &[0]);
    assert_eq!(want.iter().filter(|v| v.is_nan()).count(), 6);
    // Without it the codes stay (0 is a value like any other).
    let (sample, want, _) = load("nodata_kept");
    assert_same("nodata_kept", &sample.im.to_f64(), &want, &[0]);
}

#[test]
fn image_without_size_reads_its_header() {
    let (sample, want, _) = load("nosize");
    assert_same("nosize", &sample.im.to_f64(), &want, &[0, 1, 2]);
    // Region mining sees it too (its size from the header), and centre mode
    // on its annotation resolves against that size.
    let ds = coco_model::CocoDataset::load(root().join("data.kwcoco.json")).unwrap();
    let regions = sampler::Regions::new(&ds).unwrap();
    assert_eq!(regions.image_dims(3), Some([12, 16]));
    let s = CocoSampler::open(root().join("data.kwcoco.json")).unwrap();
    let t: Target = serde_json::from_value(
        serde_json::json!({"annot_id": 1, "space_slice": [[null, null], [8, null]]}),
    )
    .unwrap();
    let sample = s.load_sample(&t).unwrap();
    assert_eq!(sample.im.shape(), &[12, 8, 3]);
}

#[test]
fn bad_quantization_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("data.kwcoco.json")).unwrap();
    let text = text.replace(r#""quant_max": 255"#, r#""quant_max": "lots""#);
    let path = dir.path().join("data.kwcoco.json");
    std::fs::write(&path, text).unwrap();
    let e = match CocoSampler::open(&path) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a bad quantization was accepted"),
    };
    assert!(
        e.contains("quant_half.tif") && e.contains("quant_max"),
        "{e}"
    );
}

#[test]
fn padkw_modes_fill_like_numpy_pad() {
    // Windows of the 12×16 image leaving it on every side, pads wider than the
    // image (symmetric, wrap), `pad` context (edge) and a constant value.
    for name in [
        "pad_reflect",
        "pad_edge",
        "pad_symmetric",
        "pad_wrap",
        "pad_constant7",
    ] {
        let (sample, want, _) = load(name);
        assert_same(name, &sample.im.to_f64(), &want, &[0, 1, 2]);
    }
    // The reference's `slices` key is space_slice for an image target.
    let (sample, want, _) = load("slices_2d");
    assert_same("slices_2d", &sample.im.to_f64(), &want, &[0, 1, 2]);
}

#[test]
fn pad_mode_indices_match_numpy() {
    let path = root().join("expected/pad_indices.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(rows.len() >= 400, "{} rows", rows.len());
    for r in rows {
        let mode: sampler::PadMode = serde_json::from_value(r["mode"].clone()).unwrap();
        let n = r["n"].as_u64().unwrap() as usize;
        let (lo, hi) = (
            r["lo"].as_u64().unwrap() as usize,
            r["hi"].as_u64().unwrap() as usize,
        );
        let want: Vec<Option<usize>> = r["index"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| Some(v.as_u64().unwrap() as usize))
            .collect();
        let got = mode.sources(lo, n, hi);
        assert_eq!(got, want, "{r}");
    }
}

#[test]
fn padkw_and_slices_errors_name_the_key() {
    let s = CocoSampler::open(root().join("data.kwcoco.json")).unwrap();
    let bad = [
        (
            serde_json::json!({"gid": 3, "padkw": {"mode": "mirror"}}),
            "padkw",
        ),
        (
            serde_json::json!({"gid": 3, "padkw": {"mode": "edge", "constant_values": 1}}),
            "padkw",
        ),
        (
            serde_json::json!({"gid": 3, "padkw": {"mode": "edge", "stat_length": 1}}),
            "padkw",
        ),
        (serde_json::json!({"gid": 3, "slices": [[0, 1]]}), "slices"),
    ];
    for (t, key) in bad {
        let e = serde_json::from_value::<Target>(t.clone())
            .unwrap_err()
            .to_string();
        assert!(e.contains(key), "{t}: {e}");
    }
    let run = |t: serde_json::Value| {
        let t: Target = serde_json::from_value(t).unwrap();
        s.load_sample(&t).unwrap_err().to_string()
    };
    let e = run(
        serde_json::json!({"gid": 3, "slices": [[0, 2], [0, 2]], "space_slice": [[0, 2], [0, 2]]}),
    );
    assert!(e.contains("slices"), "{e}");
    // Modes other than constant need image resolution and an overlap.
    let e = run(
        serde_json::json!({"gid": 3, "scale": 2, "space_slice": [[0, 4], [0, 4]], "padkw": {"mode": "edge"}}),
    );
    assert!(e.contains("padkw") && e.contains("image 3"), "{e}");
    let e = run(
        serde_json::json!({"gid": 3, "space_slice": [[100, 104], [0, 4]], "padkw": {"mode": "reflect"}}),
    );
    assert!(e.contains("padkw") && e.contains("overlap"), "{e}");
}

#[test]
fn caches_keep_quantization_and_file_nodata() {
    // The npy cache (and the COG cache with `gdal`) stores raw codes and loses
    // the GDAL_NODATA tag: the reader carries the source's nodata over and
    // dequantizes after the cache, so every backend gives the raw answers.
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![frame_backends::Backend::Npy {
        workdir: dir.path().join("npy"),
    }];
    if cfg!(feature = "gdal") {
        backends.push(frame_backends::Backend::Cog {
            workdir: dir.path().join("cog"),
            options: frame_backends::CogOptions::default(),
        });
    }
    let ds = std::sync::Arc::new(
        coco_model::CocoDataset::load(root().join("data.kwcoco.json")).unwrap(),
    );
    for backend in backends {
        let name = backend.name();
        let config = sampler::SamplerConfig {
            backend,
            ..Default::default()
        };
        let s = CocoSampler::new(ds.clone(), config).unwrap();
        for case in ["nodata_float", "quantized_nearest", "pad_reflect"] {
            let target = &samples()[case]["target"];
            let t: Target = serde_json::from_value(target.clone()).unwrap();
            let got = s
                .load_sample(&t)
                .unwrap_or_else(|e| panic!("{name} {case}: {e}"))
                .im
                .to_f64();
            let (_, want, _) = load(case);
            assert_eq!(got.shape(), want.shape(), "{name} {case}");
            let c = want.shape().len() - 1;
            let chans: Vec<usize> = (0..want.shape()[c]).collect();
            assert_same(&format!("{name} {case}"), &got, &want, &chans);
        }
    }
}

#[test]
fn unreadable_file_of_an_image_without_size_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.kwcoco.json");
    std::fs::write(
        &path,
        r#"{"images": [{"id": 1, "file_name": "gone.png"}, {"id": 2, "file_name": "here.png"}],
            "categories": [{"id": 1, "name": "a"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2]}]}"#,
    )
    .unwrap();
    std::fs::copy(
        root().join("_assets/nosize.png"),
        dir.path().join("here.png"),
    )
    .unwrap();
    let s = CocoSampler::open(&path).unwrap();
    let t: Target = serde_json::from_value(serde_json::json!({"gid": 1})).unwrap();
    let e = s.load_sample(&t).unwrap_err().to_string();
    assert!(e.contains("image 1") && e.contains("gone.png"), "{e}");
    let t: Target = serde_json::from_value(serde_json::json!({"gid": 2})).unwrap();
    assert_eq!(s.load_sample(&t).unwrap().im.shape(), &[12, 16, 3]);
    // Region mining skips the unreadable image and sizes the other from its header.
    let ds = coco_model::CocoDataset::load(&path).unwrap();
    let regions = sampler::Regions::new(&ds).unwrap();
    assert_eq!(
        (regions.image_dims(1), regions.image_dims(2)),
        (None, Some([12, 16]))
    );
}
