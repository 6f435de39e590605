//! npy and COG caches: pixel-identical to the raw path, built exactly once under
//! concurrency (threads and processes), corrupt files detected and rebuilt.

use std::path::{Path, PathBuf};

use crate::common::*;
use frame_backends::{
    Affine, Backend, CacheOutcome, Channels, FrameReader, ImageSource, PixelBox, ReadOptions,
    Window,
};

const H: usize = 300;
const W: usize = 420;

fn source(dir: &Path) -> PathBuf {
    let p = dir.join("src.png");
    write_rgb_png(&p, H, W);
    p
}

fn cache_backends(work: &Path) -> Vec<Backend> {
    let mut v = vec![Backend::Npy {
        workdir: work.to_path_buf(),
    }];
    if cfg!(feature = "gdal") {
        v.push(Backend::Cog {
            workdir: work.to_path_buf(),
            options: frame_backends::CogOptions {
                tile_size: 128,
                ..Default::default()
            },
        });
    }
    v
}

fn read(reader: &FrameReader, p: &Path, b: PixelBox) -> Window {
    reader
        .read_window(
            &ImageSource::single(p, W, H),
            b,
            &Channels::All,
            &ReadOptions::default(),
        )
        .unwrap()
}

#[test]
fn caches_are_pixel_identical_to_raw() {
    let dir = tempfile::tempdir().unwrap();
    let p = source(dir.path());
    let raw = FrameReader::new(Backend::Raw).unwrap();
    for backend in cache_backends(&dir.path().join("work")) {
        let reader = FrameReader::new(backend.clone()).unwrap();
        for b in [
            PixelBox::new(0, 300, 0, 420).unwrap(),
            PixelBox::new(37, 101, 250, 314).unwrap(),
            PixelBox::new(-20, 44, 400, 464).unwrap(),
            PixelBox::new(500, 510, 0, 10).unwrap(),
        ] {
            assert_eq!(
                read(&reader, &p, b),
                read(&raw, &p, b),
                "{} {b:?}",
                backend.name()
            );
        }
        // Warped reads agree too (the COG may use an overview for the 1/4 read,
        // so compare with a tolerance there).
        let src = ImageSource::single(&p, W, H);
        let m = Affine::scale(0.25, 0.25);
        let o = ReadOptions::default();
        let a = reader
            .read_warped(&src, 75, 105, &m, &Channels::All, &o)
            .unwrap()
            .to_f64();
        let r = raw
            .read_warped(&src, 75, 105, &m, &Channels::All, &o)
            .unwrap()
            .to_f64();
        let mad = (&a - &r).mapv(f64::abs).mean().unwrap();
        assert!(mad < 6.0, "{}: mean abs diff {mad}", backend.name());
        let m = Affine::scale(1.5, 1.5).then(&Affine::translate(-3.0, -8.0));
        let a = reader
            .read_warped(&src, 40, 40, &m, &Channels::All, &o)
            .unwrap();
        assert_eq!(
            a,
            raw.read_warped(&src, 40, 40, &m, &Channels::All, &o)
                .unwrap()
        );
        let path = reader.cache_path_of(&p).unwrap().unwrap();
        assert!(path.exists(), "{}", path.display());
        assert_eq!(reader.stats().built, 1);
    }
}

#[cfg(feature = "gdal")]
#[test]
fn cog_cache_is_tiled_zstd_with_overviews() {
    use frame_backends::Raster;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let p = source(dir.path());
    let backend = Backend::Cog {
        workdir: dir.path().join("work"),
        options: frame_backends::CogOptions {
            tile_size: 128,
            ..Default::default()
        },
    };
    let reader = FrameReader::new(backend).unwrap();
    let r: Arc<dyn Raster> = reader.open_asset(&p).unwrap();
    let info = r.info();
    assert!(info.levels.len() >= 2, "overviews: {:?}", info.levels);
    assert!(info.levels[1].1 < info.width);
    let cache = reader.cache_path_of(&p).unwrap().unwrap();
    let mut dec = tiff::decoder::Decoder::new(std::fs::File::open(&cache).unwrap()).unwrap();
    let comp: u16 = dec.get_tag_unsigned(tiff::tags::Tag::Compression).unwrap();
    assert_eq!(comp, 50000, "ZSTD");
    let tw: u32 = dec.get_tag_unsigned(tiff::tags::Tag::TileWidth).unwrap();
    assert_eq!(tw, 128);
    // An overview-level read returns the overview's own pixels.
    let ov = r
        .read_region(
            1,
            PixelBox::full(info.levels[1].0, info.levels[1].1),
            &[0, 1, 2],
        )
        .unwrap();
    assert_eq!(ov.shape(), (info.levels[1].0, info.levels[1].1, 3));
    // A tiled input is used in place.
    let tiled = dir.path().join("tiled.tif");
    write_u16_tiff(&tiled, 64, 64, 1, Some(16), false);
    assert_eq!(reader.prepare(&tiled).unwrap(), CacheOutcome::InPlace);
}

#[test]
fn threads_build_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = source(dir.path());
    for backend in cache_backends(&dir.path().join("work")) {
        let readers: Vec<FrameReader> = (0..4)
            .map(|_| FrameReader::new(backend.clone()).unwrap())
            .collect();
        std::thread::scope(|s| {
            for r in &readers {
                let p = &p;
                s.spawn(move || {
                    let w = read(r, p, PixelBox::new(0, 10, 0, 10).unwrap());
                    assert_eq!(w.shape(), (10, 10, 3));
                });
            }
        });
        let built: u64 = readers.iter().map(|r| r.stats().built).sum();
        assert_eq!(built, 1, "{}", backend.name());
        let dir = readers[0]
            .cache_path_of(&p)
            .unwrap()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".lock"))
            .collect();
        assert_eq!(
            names.len(),
            2,
            "one cache file and its checksum, no temporaries: {names:?}"
        );
        assert!(names.iter().any(|n| n.ends_with(".xxh3")), "{names:?}");
    }
}

/// Run by `processes_build_once` in child processes.
#[test]
fn child_build() {
    let (Ok(src), Ok(work), Ok(kind)) = (
        std::env::var("FB_CHILD_SRC"),
        std::env::var("FB_CHILD_WORK"),
        std::env::var("FB_CHILD_KIND"),
    ) else {
        return;
    };
    let backend = cache_backends(Path::new(&work))
        .into_iter()
        .find(|b| b.name() == kind)
        .unwrap();
    let reader = FrameReader::new(backend).unwrap();
    let outcome = reader.prepare(Path::new(&src)).unwrap();
    println!("OUTCOME={outcome:?}");
}

#[test]
fn processes_build_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = source(dir.path());
    let work = dir.path().join("work");
    let exe = std::env::current_exe().unwrap();
    for backend in cache_backends(&work) {
        let children: Vec<_> = (0..3)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "caches::child_build",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("FB_CHILD_SRC", &p)
                    .env("FB_CHILD_WORK", &work)
                    .env("FB_CHILD_KIND", backend.name())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<String> = children
            .into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                assert!(o.status.success());
                String::from_utf8_lossy(&o.stdout).into_owned()
            })
            .collect();
        let built = outs.iter().filter(|o| o.contains("OUTCOME=Built")).count();
        let existing = outs
            .iter()
            .filter(|o| o.contains("OUTCOME=Existing"))
            .count();
        assert_eq!((built, existing), (1, 2), "{}: {outs:?}", backend.name());
        let reader = FrameReader::new(backend).unwrap();
        assert_eq!(reader.prepare(&p).unwrap(), CacheOutcome::Existing);
    }
}

#[test]
fn corrupt_cache_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let p = source(dir.path());
    let raw = FrameReader::new(Backend::Raw).unwrap();
    let b = PixelBox::new(250, 300, 380, 420).unwrap();
    for backend in cache_backends(&dir.path().join("work")) {
        let reader = FrameReader::new(backend.clone()).unwrap();
        reader.prepare(&p).unwrap();
        let cache = reader.cache_path_of(&p).unwrap().unwrap();
        let len = std::fs::metadata(&cache).unwrap().len();
        // Truncated.
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&cache)
            .unwrap();
        f.set_len(len - 1000).unwrap();
        drop(f);
        let fresh = FrameReader::new(backend.clone()).unwrap();
        assert_eq!(read(&fresh, &p, b), read(&raw, &p, b), "{}", backend.name());
        assert_eq!(fresh.stats().rebuilt, 1, "{}", backend.name());
        assert_eq!(std::fs::metadata(&cache).unwrap().len(), len);
    }
    // An npy of the wrong shape.
    let backend = Backend::Npy {
        workdir: dir.path().join("work"),
    };
    let reader = FrameReader::new(backend.clone()).unwrap();
    let cache = reader.cache_path_of(&p).unwrap().unwrap();
    Window::filled(frame_backends::DType::U8, (3, 4, 3))
        .write_npy(&cache)
        .unwrap();
    assert_eq!(reader.prepare(&p).unwrap(), CacheOutcome::Rebuilt);
    assert_eq!(read(&reader, &p, b), read(&raw, &p, b));
}

#[test]
fn changed_source_gets_a_new_cache() {
    let dir = tempfile::tempdir().unwrap();
    let p = source(dir.path());
    let backend = Backend::Npy {
        workdir: dir.path().join("work"),
    };
    let reader = FrameReader::new(backend.clone()).unwrap();
    let before = reader.cache_path_of(&p).unwrap().unwrap();
    reader.prepare(&p).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    image::RgbImage::from_pixel(W as u32, H as u32, image::Rgb([9, 9, 9]))
        .save(&p)
        .unwrap();
    let after = reader.cache_path_of(&p).unwrap().unwrap();
    assert_ne!(before, after);
    let fresh = FrameReader::new(backend).unwrap();
    let w = read(&fresh, &p, PixelBox::new(0, 2, 0, 2).unwrap());
    assert!(w.as_array::<u8>().unwrap().iter().all(|&v| v == 9));
}

/// `read_warped_into` writes what `read_warped` returns, on every backend and
/// for crops inside, across and outside the image, sub-pixel shifts,
/// scales, band subsets and a missing band; a slot of another dtype or band
/// count is refused naming both.
#[test]
fn read_warped_into_a_slot_equals_read_warped() {
    use frame_backends::{DType, WindowMut};
    let dir = tempfile::tempdir().unwrap();
    let p = source(dir.path());
    let src = ImageSource::single(&p, W, H);
    let mut backends = cache_backends(&dir.path().join("work"));
    backends.push(Backend::Raw);
    let names = |v: &[&str]| Channels::Names(v.iter().map(|s| s.to_string()).collect());
    let cases: Vec<(Affine, Channels, usize, usize)> = vec![
        (Affine::translate(-10.0, -20.0), Channels::All, 16, 24),
        (Affine::translate(5.0, -7.0), Channels::All, 16, 24),
        (
            Affine::translate(-(W as f64) + 3.0, 0.0),
            names(&["b", "r"]),
            9,
            8,
        ),
        (Affine::translate(1000.0, 1000.0), Channels::All, 4, 4),
        (Affine::translate(-3.5, -2.25), names(&["g"]), 10, 10),
        (Affine::scale(0.5, 0.5), Channels::All, 12, 12),
        (Affine::translate(-2.0, -2.0), names(&["r", "X"]), 5, 6),
    ];
    for backend in backends {
        let reader = FrameReader::new(backend.clone()).unwrap();
        for (k, (t, ch, h, w)) in cases.iter().enumerate() {
            let opts = ReadOptions::default();
            let want = reader.read_warped(&src, *h, *w, t, ch, &opts).unwrap();
            let (_, _, c) = want.shape();
            let mut got = Window::filled(want.dtype(), (*h, *w, c));
            // start from garbage so every pixel must be written
            if let Window::U8(a) = &mut got {
                a.fill(77);
            }
            {
                let mut slot = match &mut got {
                    Window::U8(a) => WindowMut::U8(a.view_mut()),
                    Window::F32(a) => WindowMut::F32(a.view_mut()),
                    other => panic!("unexpected dtype {:?}", other.dtype()),
                };
                reader
                    .read_warped_into(&src, t, ch, &opts, &mut slot)
                    .unwrap();
            }
            let same = |a: &Window, b: &Window| {
                a.dtype() == b.dtype()
                    && a.to_f64().shape() == b.to_f64().shape()
                    && a.to_f64()
                        .iter()
                        .zip(b.to_f64().iter())
                        .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
            };
            assert!(
                same(&got, &want),
                "{} case {k}: {got:?} vs {want:?}",
                backend.name()
            );
        }
        // A slot of another dtype or band count is refused.
        let mut wrong = ndarray::Array3::<f32>::zeros((4, 4, 3));
        let e = reader
            .read_warped_into(
                &src,
                &Affine::identity(),
                &Channels::All,
                &ReadOptions::default(),
                &mut WindowMut::F32(wrong.view_mut()),
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("uint8") && e.contains("float32"), "{e}");
        let mut narrow = ndarray::Array3::<u8>::zeros((4, 4, 2));
        let e = reader
            .read_warped_into(
                &src,
                &Affine::identity(),
                &Channels::All,
                &ReadOptions {
                    dtype: Some(DType::U8),
                    ..Default::default()
                },
                &mut WindowMut::U8(narrow.view_mut()),
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("3 band") && e.contains("2"), "{e}");
    }
}
