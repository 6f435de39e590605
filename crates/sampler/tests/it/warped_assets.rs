//! `load_sample` through warps that are not scales: an asset rotated and
//! sheared into its image (`warp_aux_to_img` as a matrix) and a frame rotated
//! into its video (`warp_img_to_vid`), on a copy of the vidshapes2-msi fixture.
//! Held to a brute-force oracle written here: each output pixel is the
//! bilinear value of the asset's own pixels (read unwarped from the original
//! fixture) at the point the inverse warps send its centre to; annotation
//! boxes are the bounds of the warped box corners.

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use sampler::{CocoSampler, Target};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vidshapes2-msi")
}

type M = [[f64; 3]; 2];

fn apply(m: &M, x: f64, y: f64) -> (f64, f64) {
    (
        m[0][0] * x + m[0][1] * y + m[0][2],
        m[1][0] * x + m[1][1] * y + m[1][2],
    )
}

fn invert(m: &M) -> M {
    let [[a, b, c], [d, e, f]] = *m;
    let det = a * e - b * d;
    [
        [e / det, -b / det, (b * f - c * e) / det],
        [-d / det, a / det, (c * d - a * f) / det],
    ]
}

fn compose(outer: &M, inner: &M) -> M {
    let mut r = [[0.0; 3]; 2];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = outer[i][0] * inner[0][j] + outer[i][1] * inner[1][j];
        }
        row[2] += outer[i][2];
    }
    r
}

fn rot_shear(deg: f64, shear: f64, tx: f64, ty: f64) -> M {
    let (s, c) = deg.to_radians().sin_cos();
    // R · Sh with Sh = [[1, shear], [0, 1]], then a translation.
    [[c, c * shear - s, tx], [s, s * shear + c, ty]]
}

fn matrix_json(m: &M) -> serde_json::Value {
    serde_json::json!({"type": "affine", "matrix": [m[0], m[1], [0.0, 0.0, 1.0]]})
}

/// A copy of the fixture (assets linked) with image 1's `B1` asset warped by
/// `aux` and the frame warped into its video by `vid`.
fn warped_copy(dir: &Path, aux: &M, vid: &M) -> PathBuf {
    for e in std::fs::read_dir(fixture()).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "data.kwcoco.json" {
            std::os::unix::fs::symlink(e.path(), dir.join(e.file_name())).unwrap();
        }
    }
    let text = std::fs::read_to_string(fixture().join("data.kwcoco.json")).unwrap();
    let mut js: serde_json::Value = serde_json::from_str(&text).unwrap();
    let img = js["images"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|g| g["id"] == 1)
        .unwrap();
    img["warp_img_to_vid"] = matrix_json(vid);
    let assets = img["auxiliary"].as_array_mut().unwrap();
    let b1 = assets.iter_mut().find(|a| a["channels"] == "B1").unwrap();
    assert_eq!(
        (b1["width"].as_u64(), b1["height"].as_u64()),
        (Some(300), Some(300))
    );
    b1["warp_aux_to_img"] = matrix_json(aux);
    let path = dir.join("data.kwcoco.json");
    std::fs::write(&path, serde_json::to_string(&js).unwrap()).unwrap();
    path
}

/// The B1 asset's pixels as stored (its warp is the identity in the fixture).
fn asset_pixels() -> ArrayD<f64> {
    let s = CocoSampler::open(fixture().join("data.kwcoco.json")).unwrap();
    let t: Target = serde_json::from_value(serde_json::json!(
        {"image_id": 1, "channels": "B1", "space_slice": [[0, 300], [0, 300]]}
    ))
    .unwrap();
    s.load_sample(&t).unwrap().im.to_f64()
}

fn bilinear(a: &ArrayD<f64>, u: f64, v: f64) -> Option<f64> {
    let (cx, cy) = (u - 0.5, v - 0.5);
    let (fx, fy) = (cx.floor(), cy.floor());
    let (ax, ay) = (cx - fx, cy - fy);
    let mut acc = 0.0;
    for (yy, wy) in [(fy as i64, 1.0 - ay), (fy as i64 + 1, ay)] {
        for (xx, wx) in [(fx as i64, 1.0 - ax), (fx as i64 + 1, ax)] {
            if wy * wx == 0.0 {
                continue;
            }
            if yy < 0 || xx < 0 || yy >= 300 || xx >= 300 {
                return None;
            }
            acc += wy * wx * a[IxDyn(&[yy as usize, xx as usize, 0])];
        }
    }
    Some(acc)
}

/// Compare `got` (H, W, 1) with the oracle, `out_from_asset` mapping asset
/// edge coordinates to output ones and `out_from_img` image ones; returns
/// the number of pixels compared. An asset reaching beyond its 300×300
/// image is cut at the image's edge (the reference warps each asset onto
/// its image's canvas): pixels well off the image must be padding (NaN),
/// those within a pixel of its edge are not compared.
fn check(
    got: &ArrayD<f64>,
    asset: &ArrayD<f64>,
    out_from_asset: &M,
    out_from_img: &M,
    what: &str,
) -> usize {
    let inv = invert(out_from_asset);
    let img_from_out = invert(out_from_img);
    let (h, w) = (got.shape()[got.ndim() - 3], got.shape()[got.ndim() - 2]);
    let mut n = 0;
    for i in 0..h {
        for j in 0..w {
            let (u, v) = apply(&inv, j as f64 + 0.5, i as f64 + 0.5);
            let idx: Vec<usize> = if got.ndim() == 4 {
                vec![0, i, j, 0]
            } else {
                vec![i, j, 0]
            };
            let (xi, yi) = apply(&img_from_out, j as f64 + 0.5, i as f64 + 0.5);
            let off = |c: f64, m: f64| c < -m || c > 300.0 + m;
            if off(xi, 1.0) || off(yi, 1.0) {
                let g = got[IxDyn(&idx)];
                assert!(g.is_nan(), "{what}: out ({i}, {j}) is off the image: {g}");
                continue;
            }
            if off(xi, -1.0) || off(yi, -1.0) {
                continue;
            }
            if let Some(want) = bilinear(asset, u, v) {
                let g = got[IxDyn(&idx)];
                assert!(
                    (g - want).abs() <= 1e-3 * want.abs().max(1.0),
                    "{what}: out ({i}, {j}) ← asset ({v:.2}, {u:.2}): {g} vs {want}"
                );
                n += 1;
            }
        }
    }
    n
}

#[test]
fn rotated_sheared_asset_in_an_image_window() {
    let dir = tempfile::tempdir().unwrap();
    let aux = rot_shear(25.0, 0.2, 60.0, -30.0);
    let ident = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    let path = warped_copy(dir.path(), &aux, &ident);
    let s = CocoSampler::open(&path).unwrap();
    let (y0, x0) = (50.0, 60.0);
    let t: Target = serde_json::from_value(serde_json::json!(
        {"image_id": 1, "channels": "B1", "space_slice": [[50, 150], [60, 180]], "dtype": "float32"}
    ))
    .unwrap();
    let got = s.load_sample(&t).unwrap().im.to_f64();
    assert_eq!(got.shape(), &[100, 120, 1]);
    let window = [[1.0, 0.0, -x0], [0.0, 1.0, -y0]];
    let out_from_asset = compose(&window, &aux);
    let n = check(
        &got,
        &asset_pixels(),
        &out_from_asset,
        &window,
        "image window",
    );
    assert!(n > 5000, "{n}");
}

#[test]
fn rotated_frame_in_a_video_window_warps_pixels_and_boxes() {
    let dir = tempfile::tempdir().unwrap();
    let aux = rot_shear(-10.0, 0.0, 20.0, 15.0);
    let vid = rot_shear(30.0, 0.1, 80.0, -40.0);
    let path = warped_copy(dir.path(), &aux, &vid);
    let s = CocoSampler::open(&path).unwrap();
    let (y0, x0) = (20.0, 40.0);
    let t: Target = serde_json::from_value(serde_json::json!(
        {"video_id": 1, "channels": "B1", "space_slice": [[20, 140], [40, 200]],
         "time_slice": [0, 1], "dtype": "float32", "antialias": false}
    ))
    .unwrap();
    // The sheared composition shortens one column of the matrix below 1, which
    // the reader treats as a (slight) downscale and blurs; without antialiasing
    // the read is one bilinear warp, what the oracle computes.
    let sample = s.load_sample(&t).unwrap();
    let got = sample.im.to_f64();
    assert_eq!(got.shape(), &[1, 120, 160, 1]);
    let window = [[1.0, 0.0, -x0], [0.0, 1.0, -y0]];
    let out_from_asset = compose(&window, &compose(&vid, &aux));
    let n = check(
        &got,
        &asset_pixels(),
        &out_from_asset,
        &compose(&window, &vid),
        "video window",
    );
    assert!(n > 5000, "{n}");

    // Boxes: the bounds of the four warped corners, window-relative.
    let frame = &sample.frames[0];
    assert_eq!(frame.image_id, Some(1));
    let out_from_img = compose(&window, &vid);
    for (id, b) in [
        (1, [123.5, 224.6, 179.0, 44.7]),
        (4, [235.4, 27.3, 31.0, 52.7]),
    ] {
        let corners = [
            (b[0], b[1]),
            (b[0] + b[2], b[1]),
            (b[0], b[1] + b[3]),
            (b[0] + b[2], b[1] + b[3]),
        ]
        .map(|(x, y)| apply(&out_from_img, x, y));
        let xs = corners.map(|p| p.0);
        let ys = corners.map(|p| p.1);
        let min = |v: [f64; 4]| v.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = |v: [f64; 4]| v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let want = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)];
        let inside = want[0] < 160.0
            && want[1] < 120.0
            && want[0] + want[2] > 0.0
            && want[1] + want[3] > 0.0;
        match frame.annots.iter().find(|a| a.id == id) {
            Some(a) => {
                assert!(
                    inside,
                    "annot {id} outside the window but returned: {:?}",
                    a.bbox
                );
                for (g, w) in a.bbox.iter().zip(want) {
                    assert!((g - w).abs() < 1e-6, "annot {id}: {:?} vs {want:?}", a.bbox);
                }
            }
            None => assert!(!inside, "annot {id} at {want:?} missing"),
        }
    }
}
