//! The target keys `interpolation`, `antialias` and `dtype`, each against an
//! oracle computed here from the unscaled window (a plain copy of the image's
//! pixels): nearest ×2 repeats every pixel in a 2×2 block, linear ×½ without
//! antialiasing is the mean of each 2×2 block, antialiasing blurs more, and a
//! dtype converts the same values.

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use sampler::{CocoSampler, Pixels, Target};

fn sampler() -> CocoSampler {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/shapes4/data.kwcoco.json");
    CocoSampler::open(path).unwrap()
}

fn load(s: &CocoSampler, v: serde_json::Value) -> Pixels {
    let t: Target = serde_json::from_value(v).unwrap();
    s.load_sample(&t).unwrap().im
}

/// The window around annotations of image 1 (shapes with edges), unscaled.
const Y0: i64 = 120;
const X0: i64 = 220;

fn base(s: &CocoSampler, h: i64, w: i64) -> ArrayD<f64> {
    let im = load(
        s,
        serde_json::json!({"image_id": 1, "space_slice": [[Y0, Y0 + h], [X0, X0 + w]]}),
    );
    assert!(matches!(im, Pixels::U8(_)));
    im.to_f64()
}

fn at(a: &ArrayD<f64>, y: usize, x: usize, c: usize) -> f64 {
    a[IxDyn(&[y, x, c])]
}

#[test]
fn nearest_upscale_repeats_each_pixel() {
    let s = sampler();
    let b = base(&s, 20, 30);
    // The window must not be flat, or the check proves little.
    assert!(b.iter().any(|&v| v != b[IxDyn(&[0, 0, 0])]));
    let up = load(
        &s,
        serde_json::json!({"image_id": 1, "space_slice": [[Y0, Y0 + 20], [X0, X0 + 30]],
                           "scale": 2, "interpolation": "nearest"}),
    )
    .to_f64();
    assert_eq!(up.shape(), &[40, 60, 3]);
    for ((y, x, c), &v) in up
        .view()
        .into_dimensionality::<ndarray::Ix3>()
        .unwrap()
        .indexed_iter()
    {
        assert_eq!(v, at(&b, y / 2, x / 2, c), "({y}, {x}, {c})");
    }
    // Linear differs from nearest where the image has edges.
    let lin = load(
        &s,
        serde_json::json!({"image_id": 1, "space_slice": [[Y0, Y0 + 20], [X0, X0 + 30]],
                           "scale": 2, "interpolation": "linear"}),
    )
    .to_f64();
    assert!(lin.iter().zip(up.iter()).any(|(a, b)| a != b));
}

#[test]
fn linear_half_without_antialias_is_the_block_mean() {
    let s = sampler();
    let b = base(&s, 40, 40);
    let window = serde_json::json!([[Y0, Y0 + 40], [X0, X0 + 40]]);
    let plain = load(
        &s,
        serde_json::json!({"image_id": 1, "space_slice": window, "scale": 0.5,
                           "interpolation": "linear", "antialias": false}),
    )
    .to_f64();
    assert_eq!(plain.shape(), &[20, 20, 3]);
    for y in 0..20 {
        for x in 0..20 {
            for c in 0..3 {
                let mean = (at(&b, 2 * y, 2 * x, c)
                    + at(&b, 2 * y + 1, 2 * x, c)
                    + at(&b, 2 * y, 2 * x + 1, c)
                    + at(&b, 2 * y + 1, 2 * x + 1, c))
                    / 4.0;
                let got = at(&plain, y, x, c);
                assert!(
                    (got - mean).abs() <= 0.5 + 1e-9,
                    "({y}, {x}, {c}): {got} vs {mean}"
                );
            }
        }
    }
    let smooth = load(
        &s,
        serde_json::json!({"image_id": 1, "space_slice": window, "scale": 0.5,
                           "interpolation": "linear", "antialias": true}),
    )
    .to_f64();
    let diff = plain
        .iter()
        .zip(smooth.iter())
        .filter(|(a, b)| (*a - *b).abs() > 1.0)
        .count();
    assert!(diff > 0, "antialias changed nothing");
    // Smoothing lowers the total variation along rows.
    let tv = |a: &ArrayD<f64>| -> f64 {
        let a = a.view().into_dimensionality::<ndarray::Ix3>().unwrap();
        let mut t = 0.0;
        for y in 0..20 {
            for x in 1..20 {
                for c in 0..3 {
                    t += (a[[y, x, c]] - a[[y, x - 1, c]]).abs();
                }
            }
        }
        t
    };
    assert!(
        tv(&smooth) < tv(&plain),
        "{} !< {}",
        tv(&smooth),
        tv(&plain)
    );
}

#[test]
fn dtype_converts_the_same_values() {
    let s = sampler();
    let b = base(&s, 16, 24);
    let window = serde_json::json!([[Y0, Y0 + 16], [X0, X0 + 24]]);
    for (name, check) in [
        (
            "uint8",
            (|p: &Pixels| matches!(p, Pixels::U8(_))) as fn(&Pixels) -> bool,
        ),
        ("uint16", |p| matches!(p, Pixels::U16(_))),
        ("int16", |p| matches!(p, Pixels::I16(_))),
        ("float32", |p| matches!(p, Pixels::F32(_))),
        ("float64", |p| matches!(p, Pixels::F64(_))),
    ] {
        let im = load(
            &s,
            serde_json::json!({"image_id": 1, "space_slice": window, "dtype": name}),
        );
        assert!(check(&im), "{name}: got {:?}", im.dtype());
        assert_eq!(im.to_f64(), b, "{name}: values");
    }
    let t: Result<Target, _> = serde_json::from_value(
        serde_json::json!({"image_id": 1, "space_slice": window, "dtype": "complex64"}),
    );
    let err = match t {
        Err(e) => e.to_string(),
        Ok(t) => s.load_sample(&t).unwrap_err().to_string(),
    };
    assert!(err.contains("complex64"), "{err}");
}
