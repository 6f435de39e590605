//! TIFF layouts written by Python tools (`tests/fixtures/python-assets`, made by
//! its `gen.py` with tifffile and kwimage): every file reads as the array the
//! reference reads from it, through every backend.

use std::path::PathBuf;

use frame_backends::{Channels, DType, FrameReader, ImageSource, PixelBox, ReadOptions};
use ndarray::Array3;

use crate::common::backends;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/python-assets")
}

fn cases() -> Vec<(String, Vec<usize>, String)> {
    let path = root().join("expected/cases.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} is missing: {e}", path.display()));
    let js: serde_json::Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let layouts = js["layouts"].as_object().expect("a `layouts` map");
    assert!(
        layouts.len() >= 8,
        "fixture lists {} layouts",
        layouts.len()
    );
    layouts
        .iter()
        .map(|(name, c)| {
            let shape = c["shape"]
                .as_array()
                .expect("shape")
                .iter()
                .map(|v| v.as_u64().expect("dim") as usize)
                .collect();
            (
                name.clone(),
                shape,
                c["dtype"].as_str().expect("dtype").to_string(),
            )
        })
        .collect()
}

fn expected(name: &str) -> frame_backends::Window {
    let p = root().join("expected").join(format!("{name}.npy"));
    frame_backends::Window::read_npy(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_layout_reads_as_the_reference_array() {
    let dir = tempfile::tempdir().unwrap();
    for backend in backends(dir.path()) {
        let reader = FrameReader::new(backend.clone()).unwrap();
        for (name, shape, dtype) in cases() {
            let path = root().join("_assets").join(&name);
            let (h, w, c) = (shape[0], shape[1], shape[2]);
            // Size unknown to the dataset (0): the header's, with bands named from their count.
            let src = ImageSource::single(&path, 0, 0);
            let want = expected(&name);
            assert_eq!(want.shape(), (h, w, c), "{name}");
            assert_eq!(want.dtype(), DType::parse(&dtype).unwrap(), "{name}");
            let full = PixelBox::full(h, w);
            let got = reader
                .read_window(&src, full, &Channels::All, &ReadOptions::default())
                .unwrap_or_else(|e| panic!("{} {name}: {e}", backend.name()));
            assert_eq!(got, want, "{} {name}", backend.name());
            // A window that leaves the array: the inside is the same pixels.
            let b = PixelBox::new(-2, h as i64 - 1, 1, w as i64 + 3).unwrap();
            let got = reader
                .read_window(&src, b, &Channels::All, &ReadOptions::default())
                .unwrap();
            // Rows -2..h-1, columns 1..w+3: the array is at (2, -1) in the window.
            let inner = PixelBox::new(2, h as i64 + 1, 0, w as i64 - 1).unwrap();
            assert_eq!(
                got.crop(inner),
                want.crop(PixelBox::new(0, h as i64 - 1, 1, w as i64).unwrap()),
                "{} {name} crop",
                backend.name()
            );
            let pad = got.to_f64();
            let fill = if want.dtype().is_float() {
                f64::NAN
            } else {
                0.0
            };
            for ((y, x, _), &v) in pad.indexed_iter() {
                if y < 2 || x + 1 >= w {
                    assert!(
                        v == fill || (v.is_nan() && fill.is_nan()),
                        "{name} padding at {y},{x}: {v}"
                    );
                }
            }
        }
    }
}

#[test]
fn declared_size_and_bands_are_checked_against_the_array() {
    // The (9, 7, 2) array is 9 pages of 7×2 pixels: declared as the array it holds
    // (7 wide, 9 high, 2 bands) it reads; declared as its first page it is refused.
    let path = root().join("_assets/shaped_hw2.tif");
    let reader = FrameReader::new(frame_backends::Backend::Raw).unwrap();
    let mut ok = ImageSource::single(&path, 7, 9);
    ok.assets[0].channels = vec!["a".into(), "b".into()];
    let got = reader
        .read_window(
            &ok,
            PixelBox::full(9, 7),
            &Channels::from_code("b").unwrap(),
            &ReadOptions::default(),
        )
        .unwrap();
    let want: Array3<u16> = expected("shaped_hw2.tif")
        .into_array::<u16>()
        .unwrap()
        .slice(ndarray::s![.., .., 1..2])
        .to_owned();
    assert_eq!(got.as_array::<u16>().unwrap(), &want);
    let page = ImageSource::single(&path, 2, 7);
    let e = reader
        .read_window(
            &page,
            PixelBox::full(7, 2),
            &Channels::All,
            &ReadOptions::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("shaped_hw2.tif") && e.contains("7×9"), "{e}");
}

/// A copy of `shaped_hw2.tif` with its shape description edited (same length).
fn edited(dir: &std::path::Path, from: &str, to: &str) -> PathBuf {
    assert_eq!(from.len(), to.len());
    let bytes = std::fs::read(root().join("_assets/shaped_hw2.tif")).unwrap();
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from} not in the fixture"));
    let mut out = bytes.clone();
    out[at..at + to.len()].copy_from_slice(to.as_bytes());
    let path = dir.join(format!(
        "edited_{}.tif",
        to.replace([' ', ',', '[', ']'], "")
    ));
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn descriptions_that_do_not_fit_the_pages_are_clear_errors_or_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let reader = FrameReader::new(frame_backends::Backend::Raw).unwrap();
    let read = |p: &std::path::Path| {
        reader.read_window(
            &ImageSource::single(p, 0, 0),
            PixelBox::full(4, 4),
            &Channels::All,
            &ReadOptions::default(),
        )
    };
    // More pages announced than the file has: an error naming the file and the shape.
    let p = edited(dir.path(), "[9, 7, 2]", "[9, 7, 4]");
    let e = read(&p).unwrap_err().to_string();
    assert!(
        e.contains("edited_974.tif") && e.contains("[9, 7, 4]") && e.contains("18 pages"),
        "{e}"
    );
    // A shape that is no whole number of pages: the file reads as its pages do.
    let p = edited(dir.path(), "[9, 7, 2]", "[9, 9, 2]");
    assert_eq!(read(&p).unwrap().shape(), (4, 4, 1));
    // Fewer pages than the file has: the array the shape describes.
    let p = edited(dir.path(), "[9, 7, 2]", "[5, 7, 2]");
    let got = reader
        .read_window(
            &ImageSource::single(&p, 0, 0),
            PixelBox::full(5, 7),
            &Channels::All,
            &ReadOptions::default(),
        )
        .unwrap();
    let want = expected("shaped_hw2.tif").crop(PixelBox::full(5, 7));
    assert_eq!(got, want);
    assert_eq!(frame_backends::probe_size(&p).unwrap(), (5, 7));
    // [4, 7, 2] is band-first for the reference (skimage moves a leading 3 or 4 last).
    let p = edited(dir.path(), "[9, 7, 2]", "[4, 7, 2]");
    assert_eq!(frame_backends::probe_size(&p).unwrap(), (7, 2));
}
