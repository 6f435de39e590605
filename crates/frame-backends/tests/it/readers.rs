//! Every reader against known-pixel images at in-bounds, partly-out and fully-out
//! windows, through the raw and npy backends.

use std::path::PathBuf;

use crate::common::*;
use frame_backends::{
    AssetSource, Backend, Channels, DType, FrameReader, ImageSource, PixelBox, ReadOptions, Window,
};

const H: usize = 45;
const W: usize = 70;

fn windows() -> Vec<PixelBox> {
    vec![
        PixelBox::new(3, 20, 5, 37).unwrap(),             // inside
        PixelBox::new(-7, 10, 60, 81).unwrap(),           // partly out (top-right)
        PixelBox::new(40, 52, -3, 4).unwrap(),            // partly out (bottom-left)
        PixelBox::new(100, 110, 0, 8).unwrap(),           // fully out
        PixelBox::new(0, H as i64, 0, W as i64).unwrap(), // whole
        PixelBox::new(5, 5, 3, 9).unwrap(),               // empty
    ]
}

/// Check `win` against `expect(y, x, c)` (None = padding).
fn check(
    win: &Window,
    b: PixelBox,
    bands: &[usize],
    expect: impl Fn(usize, usize, usize) -> f64,
    what: &str,
) {
    assert_eq!(
        win.shape(),
        (b.height(), b.width(), bands.len()),
        "{what} {b:?}"
    );
    let f = win.to_f64();
    for ((y, x, k), &got) in f.indexed_iter() {
        let (iy, ix) = (b.y0 + y as i64, b.x0 + x as i64);
        let inside = iy >= 0 && ix >= 0 && (iy as usize) < H && (ix as usize) < W;
        let want = if inside {
            expect(iy as usize, ix as usize, bands[k])
        } else if win.dtype().is_float() {
            f64::NAN
        } else {
            0.0
        };
        let same = (want.is_nan() && got.is_nan()) || want == got;
        assert!(
            same,
            "{what} {b:?} at ({y},{x},{k}): got {got}, want {want}"
        );
    }
}

fn run_case(
    path: PathBuf,
    names: &[&str],
    dtype: DType,
    expect: impl Fn(usize, usize, usize) -> f64 + Copy,
    tag: &str,
) {
    let dir = path.parent().unwrap().to_path_buf();
    let src = ImageSource {
        width: W,
        height: H,
        assets: vec![AssetSource::new(&path, names)],
    };
    for backend in backends(&dir) {
        let reader = FrameReader::new(backend.clone()).unwrap();
        let what = format!("{tag} via {}", backend.name());
        for b in windows() {
            let w = reader
                .read_window(&src, b, &Channels::All, &ReadOptions::default())
                .unwrap();
            assert_eq!(w.dtype(), dtype, "{what}");
            // `All` of a single-file image is its bands in file order.
            let all: Vec<usize> = (0..names.len()).collect();
            check(&w, b, &all, expect, &what);
            // A reversed subset of bands.
            if names.len() > 1 {
                let ch = Channels::Names(vec![
                    names[names.len() - 1].to_string(),
                    names[0].to_string(),
                ]);
                let w = reader
                    .read_window(&src, b, &ch, &ReadOptions::default())
                    .unwrap();
                check(&w, b, &[names.len() - 1, 0], expect, &what);
            }
            // nodata float: f32 with NaN padding.
            let opts = ReadOptions {
                nodata_float: true,
                ..Default::default()
            };
            let w = reader.read_window(&src, b, &Channels::All, &opts).unwrap();
            assert_eq!(w.dtype(), dtype.to_float());
            check(&w, b, &all, expect, &what);
        }
    }
}

#[test]
fn png_rgb8() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rgb.png");
    write_rgb_png(&p, H, W);
    run_case(
        p,
        &["r", "g", "b"],
        DType::U8,
        |y, x, c| (val(y, x, c) % 256) as f64,
        "png",
    );
}

#[test]
fn png_with_default_names() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rgb.png");
    write_rgb_png(&p, H, W);
    let reader = FrameReader::new(Backend::Raw).unwrap();
    let src = ImageSource::single(&p, W, H);
    let b = PixelBox::new(1, 4, 2, 6).unwrap();
    let w = reader
        .read_window(
            &src,
            b,
            &Channels::from_code("b|r").unwrap(),
            &ReadOptions::default(),
        )
        .unwrap();
    check(
        &w,
        b,
        &[2, 0],
        |y, x, c| (val(y, x, c) % 256) as f64,
        "png default names",
    );
}

#[test]
fn tiff_tiled_chunky_u16() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tiled.tif");
    write_u16_tiff(&p, H, W, 3, Some(16), false);
    run_case(
        p,
        &["a", "b", "c"],
        DType::U16,
        |y, x, c| val(y, x, c) as f64,
        "tiled tiff",
    );
}

#[test]
fn tiff_tiled_planar_u16() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("planar.tif");
    write_u16_tiff(&p, H, W, 2, Some(32), true);
    run_case(
        p,
        &["x", "y"],
        DType::U16,
        |y, x, c| val(y, x, c) as f64,
        "planar tiff",
    );
}

#[test]
fn tiff_striped_u16() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("striped.tif");
    write_u16_tiff(&p, H, W, 1, None, false);
    run_case(
        p,
        &["gray"],
        DType::U16,
        |y, x, c| val(y, x, c) as f64,
        "striped tiff",
    );
}

#[test]
fn tiff_f32_and_i16() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.tif");
    write_f32_tiff(&p, H, W);
    run_case(
        p,
        &["f"],
        DType::F32,
        |y, x, _| val(y, x, 0) as f64 / 4.0,
        "f32 tiff",
    );
    let p = dir.path().join("i.tif");
    write_i16_tiff(&p, H, W);
    run_case(
        p,
        &["i"],
        DType::I16,
        |y, x, _| (val(y, x, 0) as f64 - 20000.0).clamp(-32768.0, 32767.0),
        "i16 tiff",
    );
}

#[test]
fn jpeg_matches_its_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("img.jpg");
    image::RgbImage::from_fn(W as u32, H as u32, |x, y| {
        image::Rgb([x as u8 * 3, y as u8 * 5, 90])
    })
    .save(&p)
    .unwrap();
    let decoded = image::open(&p).unwrap().to_rgb8();
    let expect = |y: usize, x: usize, c: usize| decoded.get_pixel(x as u32, y as u32)[c] as f64;
    run_case(p, &["r", "g", "b"], DType::U8, expect, "jpeg");
}

#[test]
fn missing_band_is_nan_and_output_float() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rgb.png");
    write_rgb_png(&p, H, W);
    let reader = FrameReader::new(Backend::Raw).unwrap();
    let src = ImageSource {
        width: W,
        height: H,
        assets: vec![AssetSource::new(&p, &["r", "g", "b"])],
    };
    let b = PixelBox::new(-2, 3, 0, 4).unwrap();
    let w = reader
        .read_window(
            &src,
            b,
            &Channels::from_code("g|nir").unwrap(),
            &ReadOptions::default(),
        )
        .unwrap();
    assert_eq!(w.dtype(), DType::F32);
    let a = w.as_array::<f32>().unwrap();
    assert!(a.index_axis(ndarray::Axis(2), 1).iter().all(|v| v.is_nan()));
    assert_eq!(a[[2, 1, 0]], (val(0, 1, 1) % 256) as f32);
    // integer data is padded with 0 even where the output is float for a
    // missing band (as the reference pads a file before joining the bands)
    assert_eq!(a[[0, 1, 0]], 0.0, "padding of integer data is 0");
    // with nodata "float" the padding is NaN
    let opts = ReadOptions {
        nodata_float: true,
        ..Default::default()
    };
    let w = reader
        .read_window(&src, b, &Channels::from_code("g|nir").unwrap(), &opts)
        .unwrap();
    assert!(w.as_array::<f32>().unwrap()[[0, 1, 0]].is_nan());
    // Forcing an integer dtype turns the missing band into 0.
    let opts = ReadOptions {
        dtype: Some(DType::U8),
        ..Default::default()
    };
    let w = reader
        .read_window(&src, b, &Channels::from_code("g|nir").unwrap(), &opts)
        .unwrap();
    assert_eq!(w.as_array::<u8>().unwrap()[[2, 1, 1]], 0);
}

#[test]
fn bad_requests_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let reader = FrameReader::new(Backend::Raw).unwrap();
    let src = ImageSource::single(dir.path().join("nope.png"), 4, 4);
    let b = PixelBox::new(0, 2, 0, 2).unwrap();
    let e = reader
        .read_window(&src, b, &Channels::All, &ReadOptions::default())
        .unwrap_err();
    assert!(e.to_string().contains("nope.png"), "{e}");
    let bad = dir.path().join("bad.tif");
    std::fs::write(&bad, b"II*\0garbage").unwrap();
    let src = ImageSource::single(&bad, 4, 4);
    let e = reader
        .read_window(&src, b, &Channels::All, &ReadOptions::default())
        .unwrap_err();
    assert!(e.to_string().contains("bad.tif"), "{e}");
    if !cfg!(feature = "gdal") {
        let e = FrameReader::new(Backend::Cog {
            workdir: dir.path().into(),
            options: Default::default(),
        })
        .unwrap_err();
        assert!(e.to_string().contains("gdal"), "{e}");
    }
}

#[test]
fn tiles_are_decoded_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tiled.tif");
    write_u16_tiff(&p, 64, 64, 1, Some(16), false);
    let reader = FrameReader::new(Backend::Raw).unwrap();
    let src = ImageSource::single(&p, 64, 64);
    let b = PixelBox::new(8, 40, 8, 40).unwrap(); // touches 3×3 tiles
    reader
        .read_window(&src, b, &Channels::All, &ReadOptions::default())
        .unwrap();
    assert_eq!(reader.stats().chunk_misses, 9);
    reader
        .read_window(
            &src,
            b.shift(4, 4).unwrap(),
            &Channels::All,
            &ReadOptions::default(),
        )
        .unwrap();
    assert_eq!(
        reader.stats().chunk_misses,
        9,
        "overlapping window decodes nothing new"
    );
    assert!(reader.stats().chunk_hits >= 9);
}

/// `ReaderOptions::max_open` (the open-file limit): the reader keeps at most
/// that many handles, closing the least recently used one (its `Arc` is
/// dropped, so reopening the file opens it anew); 0 is taken as 1.
#[test]
fn open_file_limit_closes_least_recently_used_handles() {
    use frame_backends::ReaderOptions;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..3)
        .map(|i| {
            let p = dir.path().join(format!("{i}.png"));
            write_rgb_png(&p, 6, 5);
            p
        })
        .collect();
    let reader_with = |max_open| {
        FrameReader::with_options(
            Backend::Raw,
            ReaderOptions {
                max_open,
                ..ReaderOptions::default()
            },
        )
        .unwrap()
    };
    // a, b, then a again (most recent), then c: with room for 2, b is closed
    for (max_open, b_kept) in [(2, false), (3, true)] {
        let reader = reader_with(max_open);
        let a = reader.open_asset(&paths[0]).unwrap();
        let b = reader.open_asset(&paths[1]).unwrap();
        assert_eq!(Arc::strong_count(&b), 2, "ours and the reader's");
        assert!(Arc::ptr_eq(&a, &reader.open_asset(&paths[0]).unwrap()));
        reader.open_asset(&paths[2]).unwrap();
        assert_eq!(Arc::strong_count(&b) == 2, b_kept, "max_open {max_open}");
        assert_eq!(
            Arc::strong_count(&a),
            2,
            "max_open {max_open}: a was used last"
        );
        assert!(Arc::ptr_eq(&a, &reader.open_asset(&paths[0]).unwrap()));
        let b2 = reader.open_asset(&paths[1]).unwrap();
        assert_eq!(Arc::ptr_eq(&b, &b2), b_kept, "max_open {max_open}");
    }
    // 0 keeps one handle: the last one opened
    let reader = reader_with(0);
    let a = reader.open_asset(&paths[0]).unwrap();
    assert!(Arc::ptr_eq(&a, &reader.open_asset(&paths[0]).unwrap()));
    let b = reader.open_asset(&paths[1]).unwrap();
    assert_eq!(Arc::strong_count(&a), 1);
    assert!(!Arc::ptr_eq(&a, &reader.open_asset(&paths[0]).unwrap()));
    assert_eq!(Arc::strong_count(&b), 1);
}
