//! Hostile inputs (issue 12): files that are not regular files, files that
//! disagree with the dataset, tampered caches, extreme windows and transforms,
//! and (feature `gdal`) datasets that try to make GDAL read other files or open
//! network connections. Each must give a clear error (or correct pixels), never a
//! hang, a panic, silently wrong pixels or a request leaving the process.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::*;
use frame_backends::{
    Affine, AssetSource, Backend, CacheOutcome, Channels, Error, FrameReader, ImageSource,
    PixelBox, ReadOptions, ReaderOptions, Window,
};
use proptest::prelude::*;

const H: usize = 30;
const W: usize = 40;

fn read_all(reader: &FrameReader, src: &ImageSource) -> frame_backends::Result<Window> {
    reader.read_window(
        src,
        PixelBox::new(0, 4, 0, 4)?,
        &Channels::All,
        &ReadOptions::default(),
    )
}

/// Run `f` on another thread; a hang (the bug this guards against) fails the
/// test instead of blocking the suite forever.
fn without_hang<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{what}: the read blocked"))
}

#[test]
fn fifo_device_or_directory_in_place_of_an_image_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let fifo_png = dir.path().join("fifo.png");
    let fifo_tif = dir.path().join("fifo.tif");
    for f in [&fifo_png, &fifo_tif] {
        let ok = std::process::Command::new("mkfifo")
            .arg(f)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo {}", f.display());
    }
    let folder = dir.path().join("folder.png");
    std::fs::create_dir(&folder).unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (fifo_png, "a FIFO"),
        (fifo_tif, "a FIFO"),
        (folder, "a directory"),
        (PathBuf::from("/dev/zero"), "a character device"),
    ];
    for backend in backends_in(
        &dir.path().join("work"),
        frame_backends::CogOptions {
            tile_size: 128,
            ..Default::default()
        },
    ) {
        for (path, kind) in &cases {
            let (p, b) = (path.clone(), backend.clone());
            let r = without_hang(
                &format!("{} {}", backend.name(), path.display()),
                move || {
                    let reader = FrameReader::new(b).unwrap();
                    read_all(&reader, &ImageSource::single(&p, W, H)).map(|_| ())
                },
            );
            let e = r.unwrap_err();
            assert!(
                matches!(e, Error::NotAFile { .. }),
                "{}: {e:?}",
                backend.name()
            );
            let msg = e.to_string();
            assert!(
                msg.contains(kind) && msg.contains(&*path.to_string_lossy()),
                "{msg}"
            );
        }
    }
}

#[test]
fn a_cache_file_replaced_by_a_fifo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.png");
    write_rgb_png(&p, H, W);
    let backend = Backend::Npy {
        workdir: dir.path().join("work"),
    };
    let cache = FrameReader::new(backend.clone())
        .unwrap()
        .cache_path_of(&p)
        .unwrap()
        .unwrap();
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let ok = std::process::Command::new("mkfifo")
        .arg(&cache)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let r = without_hang("npy cache FIFO", move || {
        FrameReader::new(backend).unwrap().prepare(&p)
    });
    // The FIFO is never read: it fails validation and is replaced.
    assert_eq!(r.unwrap(), CacheOutcome::Rebuilt);
    assert!(cache.is_file());
}

/// PNG and TIFF files smaller and larger than the declared size, on every
/// backend: an error naming the file and both sizes.
#[test]
fn a_size_mismatch_is_an_error_naming_the_file_and_both_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("small.png");
    write_rgb_png(&png, H, W);
    let tif = dir.path().join("small.tif");
    write_u16_tiff(&tif, H, W, 1, Some(16), false);
    for backend in backends_in(
        &dir.path().join("work"),
        frame_backends::CogOptions {
            tile_size: 128,
            ..Default::default()
        },
    ) {
        let reader = FrameReader::new(backend.clone()).unwrap();
        for path in [&png, &tif] {
            for (dw, dh) in [(W + 10, H), (W, H + 1), (W - 1, H - 1)] {
                let e = read_all(&reader, &ImageSource::single(path, dw, dh)).unwrap_err();
                assert!(matches!(e, Error::Mismatch { .. }), "{e:?}");
                let msg = e.to_string();
                assert!(
                    msg.contains(&*path.to_string_lossy())
                        && msg.contains(&format!("{dw}×{dh}"))
                        && msg.contains(&format!("{W}×{H}")),
                    "{}: {msg}",
                    backend.name()
                );
            }
            // The right size, or an unknown one, reads.
            read_all(&reader, &ImageSource::single(path, W, H)).unwrap();
            read_all(&reader, &ImageSource::single(path, 0, 0)).unwrap();
        }
        // Declared on an asset of a multi-asset image too.
        let mut a = AssetSource::new(&png, &["r", "g", "b"]);
        a.width = W * 2;
        let src = ImageSource {
            width: W,
            height: H,
            assets: vec![a],
        };
        let e = read_all(&reader, &src).unwrap_err().to_string();
        assert!(e.contains(&format!("{}×?", W * 2)), "{e}");
    }
}

#[test]
fn more_or_fewer_bands_than_declared_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("rgb.png");
    write_rgb_png(&png, H, W);
    for backend in backends_in(
        &dir.path().join("work"),
        frame_backends::CogOptions {
            tile_size: 128,
            ..Default::default()
        },
    ) {
        let reader = FrameReader::new(backend.clone()).unwrap();
        for names in [&["r", "g"][..], &["r", "g", "b", "nir"][..]] {
            let src = ImageSource {
                width: W,
                height: H,
                assets: vec![AssetSource::new(&png, names)],
            };
            // Even when only a declared band is asked for.
            let e = reader
                .read_window(
                    &src,
                    PixelBox::new(0, 2, 0, 2).unwrap(),
                    &Channels::from_code("r").unwrap(),
                    &ReadOptions::default(),
                )
                .unwrap_err();
            assert!(matches!(e, Error::Mismatch { .. }), "{e:?}");
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("{} bands ({})", names.len(), names.join("|")))
                    && msg.contains("3 bands")
                    && msg.contains("rgb.png"),
                "{}: {msg}",
                backend.name()
            );
        }
    }
}

/// Flip bytes in the middle of a file (the header stays valid).
fn tamper(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(path, bytes).unwrap();
}

fn cache_backends(work: &Path) -> Vec<Backend> {
    backends(work.parent().unwrap())
        .into_iter()
        .filter(|b| !matches!(b, Backend::Raw))
        .collect()
}

#[test]
fn a_tampered_cache_entry_is_detected_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("src.png");
    write_rgb_png(&p, 200, 300);
    let src = ImageSource::single(&p, 300, 200);
    let whole = PixelBox::new(0, 200, 0, 300).unwrap();
    let raw = FrameReader::new(Backend::Raw).unwrap();
    let want = raw
        .read_window(&src, whole, &Channels::All, &ReadOptions::default())
        .unwrap();
    for backend in cache_backends(&dir.path().join("work")) {
        let name = backend.name();
        let reader = FrameReader::new(backend.clone()).unwrap();
        assert_eq!(reader.prepare(&p).unwrap(), CacheOutcome::Built, "{name}");
        let cache = reader.cache_path_of(&p).unwrap().unwrap();
        let sidecar = frame_backends::cache::checksum_path(&cache);
        assert!(sidecar.is_file(), "{name}: {}", sidecar.display());
        tamper(&cache);
        // As in a new process (this one verified the file when it built it,
        // possibly within the same timestamp tick as the tampering).
        frame_backends::cache::forget_verified(&cache);
        let fresh = FrameReader::new(backend.clone()).unwrap();
        let got = fresh
            .read_window(&src, whole, &Channels::All, &ReadOptions::default())
            .unwrap();
        assert_eq!(got, want, "{name}: tampered pixels served");
        assert_eq!(fresh.stats().rebuilt, 1, "{name}");

        // `verify` (cache --verify) re-hashes even what this process verified.
        let fresh = FrameReader::new(backend.clone()).unwrap();
        assert_eq!(fresh.verify(&p).unwrap(), CacheOutcome::Existing, "{name}");
        tamper(&cache);
        assert_eq!(fresh.verify(&p).unwrap(), CacheOutcome::Rebuilt, "{name}");
        assert_eq!(fresh.verify(&p).unwrap(), CacheOutcome::Existing, "{name}");
        // A missing sidecar counts as a mismatch.
        std::fs::remove_file(&sidecar).unwrap();
        assert_eq!(fresh.verify(&p).unwrap(), CacheOutcome::Rebuilt, "{name}");
        assert!(sidecar.is_file());
        let got = FrameReader::new(backend)
            .unwrap()
            .read_window(&src, whole, &Channels::All, &ReadOptions::default())
            .unwrap();
        assert_eq!(got, want, "{name}");
    }
}

fn small_reader(backend: Backend) -> FrameReader {
    FrameReader::with_options(
        backend,
        ReaderOptions {
            max_read_bytes: 1 << 20,
            ..Default::default()
        },
    )
    .unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    sources: Vec<ImageSource>,
    readers: Vec<FrameReader>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("a.png");
    write_rgb_png(&png, H, W);
    let tif = dir.path().join("t.tif");
    write_u16_tiff(&tif, H, W, 2, Some(16), false);
    let strips = dir.path().join("s.tif");
    write_f32_tiff(&strips, H, W);
    let sources = [png, tif, strips]
        .iter()
        .map(|p| ImageSource::single(p, W, H))
        .collect();
    let readers = backends(dir.path()).into_iter().map(small_reader).collect();
    Fixture {
        _dir: dir,
        sources,
        readers,
    }
}

fn extreme_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::MIN + 1),
        Just(i64::MAX - 1),
        Just(0i64),
        Just(1i64 << 53),
        Just(-(1i64 << 53)),
        Just(1i64 << 62),
        Just(-(1i64 << 62)),
        -100i64..100,
        any::<i64>(),
    ]
}

fn extreme_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(1.0),
        Just(-1.0),
        Just(1e308),
        Just(-1e308),
        Just(1e-308),
        Just(f64::MIN_POSITIVE),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(1e-7),
        Just(4.5e15),
        -50.0f64..50.0,
        any::<f64>(),
    ]
}

#[test]
fn the_1e308_window_of_the_issue_is_an_error() {
    let f = fixture();
    for reader in &f.readers {
        for src in &f.sources {
            for b in [
                PixelBox::new(0, 10, i64::MIN, i64::MAX).unwrap(),
                PixelBox::new(i64::MIN, i64::MAX, 0, 1).unwrap(),
                PixelBox::new(0, 1, 0, i64::MAX).unwrap(),
                PixelBox::new(i64::MAX - 1, i64::MAX, i64::MAX - 1, i64::MAX).unwrap(),
            ] {
                let r = reader.read_window(src, b, &Channels::All, &ReadOptions::default());
                if b.height().checked_mul(b.width()).is_none_or(|n| n > 1) {
                    assert!(r.is_err(), "{b:?}");
                }
            }
        }
    }
}

fn runner() -> proptest::test_runner::TestRunner {
    proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

/// Any window: a result of exactly its size, or an error; never a panic.
#[test]
fn any_window_reads_or_errors() {
    let f = fixture();
    let s = (extreme_i64(), extreme_i64(), extreme_i64(), extreme_i64());
    runner()
        .run(&s, |(a, b, c, d)| {
            let bx = PixelBox::new(a.min(b), a.max(b), c.min(d), c.max(d)).unwrap();
            for reader in &f.readers {
                for src in &f.sources {
                    let r = reader.read_window(src, bx, &Channels::All, &ReadOptions::default());
                    if let Ok(w) = r {
                        prop_assert_eq!((w.shape().0, w.shape().1), (bx.height(), bx.width()));
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Any transform (non-finite, singular, huge and tiny scales), any
/// interpolation, as the read's transform or as an asset's warp: a result of
/// the asked size or an error; never a panic.
#[test]
fn any_transform_reads_or_errors() {
    use frame_backends::Interpolation::*;
    let f = fixture();
    let s = (
        proptest::array::uniform6(extreme_f64()),
        0usize..24,
        0usize..24,
        0usize..4,
    );
    runner()
        .run(&s, |(m, h, w, interp)| {
            let t = Affine::from_rows([m[0], m[1], m[2]], [m[3], m[4], m[5]]);
            let opts = ReadOptions {
                interpolation: [Nearest, Linear, Cubic, Area][interp],
                ..ReadOptions::default()
            };
            for reader in &f.readers {
                for src in &f.sources {
                    if let Ok(win) = reader.read_warped(src, h, w, &t, &Channels::All, &opts) {
                        prop_assert_eq!((win.shape().0, win.shape().1), (h, w));
                    }
                    let mut s = src.clone();
                    s.assets[0].to_image = t;
                    let b = PixelBox::new(-3, 5, -2, 6).unwrap();
                    if let Ok(win) = reader.read_window(&s, b, &Channels::All, &opts) {
                        prop_assert_eq!((win.shape().0, win.shape().1), (8, 8));
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Rewrite the LONG value of `tag` in the first IFD of a little-endian TIFF.
fn patch_tiff_tag(bytes: &mut [u8], tag: u16, value: u32) {
    let ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes(bytes[ifd..ifd + 2].try_into().unwrap()) as usize;
    for i in 0..n {
        let e = ifd + 2 + 12 * i;
        if u16::from_le_bytes(bytes[e..e + 2].try_into().unwrap()) == tag {
            bytes[e + 2..e + 4].copy_from_slice(&4u16.to_le_bytes());
            bytes[e + 8..e + 12].copy_from_slice(&value.to_le_bytes());
            return;
        }
    }
    panic!("tag {tag} not found");
}

/// A TIFF header declaring a 65535² image of 4 u16 bands in one strip (34 GB)
/// over 8 bytes of data: refused when opened, before anything is allocated.
#[test]
fn a_huge_declared_tiff_is_refused_without_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.tif");
    write_u16_tiff(&p, 1, 1, 4, None, false);
    let mut bytes = std::fs::read(&p).unwrap();
    patch_tiff_tag(&mut bytes, 256, 65535);
    patch_tiff_tag(&mut bytes, 257, 65535);
    patch_tiff_tag(&mut bytes, 278, 65535);
    std::fs::write(&p, bytes).unwrap();
    for backend in backends_in(
        &dir.path().join("work"),
        frame_backends::CogOptions {
            tile_size: 128,
            ..Default::default()
        },
    ) {
        let reader = FrameReader::new(backend.clone()).unwrap();
        let r = read_all(&reader, &ImageSource::single(&p, 0, 0));
        let e = r.unwrap_err().to_string();
        assert!(e.contains("huge.tif"), "{}: {e}", backend.name());
    }
}

#[cfg(feature = "gdal")]
mod gdal_indirections {
    use super::*;
    use std::io::ErrorKind;
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    fn vrt(source: &str, raw: bool) -> String {
        if raw {
            format!(
                r#"<VRTDataset rasterXSize="16" rasterYSize="4">
  <VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">
    <SourceFilename relativeToVRT="0">{source}</SourceFilename>
    <ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>16</LineOffset>
  </VRTRasterBand>
</VRTDataset>"#
            )
        } else {
            format!(
                r#"<VRTDataset rasterXSize="{W}" rasterYSize="{H}">
  <VRTRasterBand dataType="Byte" band="1">
    <SimpleSource>
      <SourceFilename relativeToVRT="0">{source}</SourceFilename>
      <SourceBand>1</SourceBand>
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>"#
            )
        }
    }

    /// A VRT saved as `x.png` pointing at another local file (a PNG, or any file
    /// through a raw band) must not return that file's content as pixels.
    #[test]
    fn a_vrt_disguised_as_png_does_not_read_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret.png");
        write_rgb_png(&secret, H, W);
        let text = dir.path().join("secret.txt");
        std::fs::write(&text, "password=hunter2 ".repeat(8)).unwrap();
        for (i, (target, raw)) in [(&secret, false), (&text, true)].into_iter().enumerate() {
            let x = dir.path().join(format!("x{i}.png"));
            std::fs::write(&x, vrt(&target.to_string_lossy(), raw)).unwrap();
            for backend in backends_in(
                &dir.path().join("work"),
                frame_backends::CogOptions {
                    tile_size: 128,
                    ..Default::default()
                },
            ) {
                let reader = FrameReader::new(backend.clone()).unwrap();
                let r = read_all(&reader, &ImageSource::single(&x, 0, 0));
                assert!(
                    r.is_err(),
                    "{}: {} was read through a VRT: {r:?}",
                    backend.name(),
                    target.display()
                );
            }
        }
    }

    /// A VRT pointing at `/vsicurl/http://127.0.0.1:PORT/…` (and a file name
    /// that is such a URL) must not make any connection.
    #[test]
    fn a_vrt_pointing_at_a_url_makes_no_request() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        // Accept and close at once (a connection fails fast instead of waiting).
        let server = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        h.fetch_add(1, Ordering::SeqCst);
                        drop(conn);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
            // Anything still queued counts too.
            while let Ok((_c, _)) = listener.accept() {
                h.fetch_add(1, Ordering::SeqCst);
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let url = format!("/vsicurl/http://127.0.0.1:{port}/a.tif");
        let x = dir.path().join("remote.png");
        std::fs::write(&x, vrt(&url, false)).unwrap();
        for backend in backends_in(
            &dir.path().join("work"),
            frame_backends::CogOptions {
                tile_size: 128,
                ..Default::default()
            },
        ) {
            let reader = FrameReader::new(backend.clone()).unwrap();
            for path in [x.clone(), PathBuf::from(&url)] {
                let r = read_all(&reader, &ImageSource::single(&path, 0, 0));
                assert!(r.is_err(), "{}: {r:?}", backend.name());
            }
        }
        stop.store(true, Ordering::SeqCst);
        server.join().unwrap();
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "GDAL connected to the test server"
        );
    }
}
