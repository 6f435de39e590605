//! The reference sampler's answers on `vidshapes2-msi`: multi-resolution assets
//! aligned into image space (video space == image space in this fixture).

use std::path::{Path, PathBuf};

use frame_backends::{
    Affine, AssetSource, Backend, Channels, FrameReader, ImageSource, PixelBox, ReadOptions,
};
use ndarray::Array4;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vidshapes2-msi")
}

/// Build the `ImageSource` of image `gid` straight from the kwcoco JSON.
fn image(gid: u64) -> Option<ImageSource> {
    let path = root().join("data.kwcoco.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} is missing: {e}", path.display()));
    let js: serde_json::Value = serde_json::from_str(&text).ok()?;
    let img = js["images"]
        .as_array()?
        .iter()
        .find(|i| i["id"].as_u64() == Some(gid))?;
    let assets = img["auxiliary"]
        .as_array()?
        .iter()
        .map(|a| {
            let s = a["warp_aux_to_img"]["scale"].as_f64().unwrap_or(1.0);
            AssetSource {
                path: root().join(a["file_name"].as_str().unwrap()),
                channels: a["channels"]
                    .as_str()
                    .unwrap()
                    .split('|')
                    .map(String::from)
                    .collect(),
                width: a["width"].as_u64().unwrap() as usize,
                height: a["height"].as_u64().unwrap() as usize,
                to_image: Affine::scale(s, s),
            }
        })
        .collect();
    Some(ImageSource {
        width: img["width"].as_u64()? as usize,
        height: img["height"].as_u64()? as usize,
        assets,
    })
}

fn expected(case: &str) -> Array4<u16> {
    ndarray_npy::read_npy(root().join("expected").join(case).join("im.npy")).unwrap()
}

/// Compare per channel: identical when `exact`, else mean abs diff within 2% of the range.
fn compare(got: &ndarray::Array3<f64>, want: ndarray::ArrayView3<u16>, exact: &[bool], what: &str) {
    assert_eq!(got.dim(), want.dim(), "{what}");
    for (c, &ex) in exact.iter().enumerate() {
        let g = got.index_axis(ndarray::Axis(2), c);
        let w = want.index_axis(ndarray::Axis(2), c);
        let (lo, hi) = w.iter().fold((f64::MAX, f64::MIN), |(l, h), &v| {
            (l.min(v as f64), h.max(v as f64))
        });
        let mad = g
            .iter()
            .zip(w.iter())
            .map(|(a, &b)| (a - b as f64).abs())
            .sum::<f64>()
            / g.len() as f64;
        if ex {
            assert_eq!(mad, 0.0, "{what} channel {c} should be identical");
        } else {
            let range = (hi - lo).max(1.0);
            assert!(
                mad <= 0.02 * range,
                "{what} channel {c}: mean abs diff {mad} > 2% of {range}"
            );
        }
    }
}

fn backends(dir: &Path) -> Vec<Backend> {
    let mut v = vec![
        Backend::Raw,
        Backend::Npy {
            workdir: dir.to_path_buf(),
        },
    ];
    if cfg!(feature = "gdal") {
        v.push(Backend::Cog {
            workdir: dir.to_path_buf(),
            options: Default::default(),
        });
    }
    v
}

#[test]
fn upsampled_band_aligns() {
    let Some(_) = image(1) else {
        return eprintln!("fixture missing; skipped");
    };
    let want = expected("upsampled_band");
    let dir = tempfile::tempdir().unwrap();
    for backend in backends(dir.path()) {
        let reader = FrameReader::new(backend).unwrap();
        for (t, gid) in [1, 2, 3].into_iter().enumerate() {
            let src = image(gid).unwrap();
            let b = PixelBox::from_slices([120, 184], [60, 124]).unwrap();
            let w = reader
                .read_window(
                    &src,
                    b,
                    &Channels::from_code("B1|B8").unwrap(),
                    &ReadOptions::default(),
                )
                .unwrap();
            assert_eq!(w.dtype(), frame_backends::DType::U16);
            compare(
                &w.to_f64(),
                want.index_axis(ndarray::Axis(0), t),
                &[true, false],
                "upsampled_band",
            );
        }
    }
}

#[test]
fn all_channels_sorted() {
    let Some(_) = image(1) else { return };
    let want = expected("all_channels");
    let reader = FrameReader::new(Backend::Raw).unwrap();
    for (t, gid) in [1, 2, 3].into_iter().enumerate() {
        let src = image(gid).unwrap();
        let b = PixelBox::from_slices([0, 96], [0, 96]).unwrap();
        let w = reader
            .read_window(&src, b, &Channels::All, &ReadOptions::default())
            .unwrap();
        // Sorted names: B1, B10, B11, B8, B8a; B1 and B10 are at image resolution.
        compare(
            &w.to_f64(),
            want.index_axis(ndarray::Axis(0), t),
            &[true, true, false, false, false],
            "all_channels",
        );
    }
}

#[test]
fn scale_half_downsamples() {
    let Some(_) = image(1) else { return };
    let want = expected("scale_half");
    let reader = FrameReader::new(Backend::Raw).unwrap();
    for (t, gid) in [1, 2, 3].into_iter().enumerate() {
        let src = image(gid).unwrap();
        // Window [100, 200)² at scale 0.5: out = 0.5 · (img − 100).
        let m = Affine::translate(-100.0, -100.0).then(&Affine::scale(0.5, 0.5));
        let w = reader
            .read_warped(
                &src,
                50,
                50,
                &m,
                &Channels::from_code("B1").unwrap(),
                &ReadOptions::default(),
            )
            .unwrap();
        compare(
            &w.to_f64(),
            want.index_axis(ndarray::Axis(0), t),
            &[false],
            "scale_half",
        );
    }
}
