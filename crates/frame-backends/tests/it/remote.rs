//! Remote sources (feature `remote`) against servers on 127.0.0.1 that the
//! tests start and stop themselves: an in-process HTTP server honouring
//! `Range` with fault injection (`common::range_server`, no Python), and an
//! S3 server (`moto`, `python -m moto.server`) from the Python environment
//! of `NDSAMPLER_REFERENCE_PYTHON` (set by `cargo xtask test`, which
//! installs `moto[s3]`, flask and flask-cors there), else `target/py-reference/bin/python`.
//! A missing prerequisite fails the S3 test with a message saying how to get
//! it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use frame_backends::{
    Backend, Channels, FrameReader, PixelBox, ReadOptions, ReaderOptions, Window, probe_size,
};
use rand::{Rng, SeedableRng};

use crate::common::range_server::RangeServer;
use crate::common::{write_rgb_png, write_u16_tiff};

/// Windows of a plan over an `h × w` image: random ones (some leaving the
/// image) plus the corners and the whole image.
fn plan(h: i64, w: i64, n: usize, seed: u64) -> Vec<PixelBox> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![
        PixelBox::new(0, h, 0, w).unwrap(),
        PixelBox::new(-10, 20, -10, 20).unwrap(),
        PixelBox::new(h - 20, h + 10, w - 20, w + 10).unwrap(),
    ];
    for _ in 0..n {
        let (wh, ww) = (rng.random_range(1..=100), rng.random_range(1..=100));
        let y0 = rng.random_range(-20..h);
        let x0 = rng.random_range(-20..w);
        out.push(PixelBox::new(y0, y0 + wh, x0, x0 + ww).unwrap());
    }
    out
}

/// Tiles of `tile × tile` a window touches in an `h × w` image.
fn tiles_touched(b: &PixelBox, h: i64, w: i64, tile: i64) -> u64 {
    let (y0, y1) = (b.y0.max(0), b.y1.min(h));
    let (x0, x1) = (b.x0.max(0), b.x1.min(w));
    if y0 >= y1 || x0 >= x1 {
        return 0;
    }
    (((y1 - 1) / tile - y0 / tile + 1) * ((x1 - 1) / tile - x0 / tile + 1)) as u64
}

/// A reader without a decoded-chunk cache: every window fetches its tiles.
fn uncached() -> FrameReader {
    FrameReader::with_options(
        Backend::Raw,
        ReaderOptions {
            chunk_cache_bytes: 0,
            ..Default::default()
        },
    )
    .unwrap()
}

fn read(reader: &FrameReader, path: &Path, hw: (usize, usize), b: PixelBox) -> Window {
    let src = frame_backends::ImageSource::single(path, hw.1, hw.0);
    reader
        .read_window(&src, b, &Channels::All, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{} {b:?}: {e}", path.display()))
}

struct Case {
    name: &'static str,
    file: &'static str,
    tile: Option<usize>,
    planar: bool,
}

const CASES: [Case; 4] = [
    Case {
        name: "tiled chunky u16 TIFF (fast path)",
        file: "/data/tiled.tif",
        tile: Some(64),
        planar: false,
    },
    Case {
        name: "tiled planar u16 TIFF (decoder path)",
        file: "/data/planar.tif",
        tile: Some(64),
        planar: true,
    },
    Case {
        name: "striped u16 TIFF",
        file: "/data/striped.tif",
        tile: None,
        planar: false,
    },
    Case {
        name: "PNG (fetched whole)",
        file: "/data/rgb.png",
        tile: None,
        planar: false,
    },
];

const H: usize = 300;
const W: usize = 420;

/// Write the case's file locally and serve it.
fn serve_case(dir: &Path, server: &RangeServer, c: &Case) -> PathBuf {
    let local = dir.join(c.file.trim_start_matches("/data/"));
    if c.file.ends_with(".png") {
        write_rgb_png(&local, H, W);
    } else {
        write_u16_tiff(&local, H, W, 3, c.tile, c.planar);
    }
    server.put(c.file, std::fs::read(&local).unwrap());
    local
}

#[test]
fn remote_windows_equal_local_reads_with_bounded_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = RangeServer::start();
    let local_reader = FrameReader::new(Backend::Raw).unwrap();
    for c in &CASES {
        let local = serve_case(dir.path(), &server, c);
        let url = PathBuf::from(server.url(c.file));
        let remote = uncached();
        for (k, b) in plan(H as i64, W as i64, 40, 7).into_iter().enumerate() {
            let before = server.requests();
            let got = read(&remote, &url, (H, W), b);
            let sent = server.requests() - before;
            assert_eq!(
                got,
                read(&local_reader, &local, (H, W), b),
                "{}: {b:?}",
                c.name
            );
            if let Some(t) = c.tile {
                // One request per tile at most (per band plane when planar),
                // plus the header block(s) on the first window.
                let planes = if c.planar { 3 } else { 1 };
                let bound = tiles_touched(&b, H as i64, W as i64, t as i64) * planes
                    + if k == 0 { 3 } else { 0 };
                assert!(
                    sent <= bound,
                    "{}: {b:?}: {sent} requests > {bound}",
                    c.name
                );
            }
            if c.file.ends_with(".png") && k > 0 {
                assert_eq!(sent, 0, "{}: the whole file is fetched once", c.name);
            }
        }
    }
    assert!(
        server.log().iter().all(|l| l.status < 300),
        "{:?}",
        server.log()
    );
}

#[test]
fn adjacent_tiles_of_a_window_are_one_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = RangeServer::start();
    serve_case(dir.path(), &server, &CASES[0]);
    let url = PathBuf::from(server.url(CASES[0].file));
    let reader = uncached();
    read(&reader, &url, (H, W), PixelBox::new(0, 1, 0, 1).unwrap());
    // Rows 64..128 × columns 0..256: 4 tiles stored one after the other.
    let before = server.requests();
    let bytes_before = server.bytes();
    read(
        &reader,
        &url,
        (H, W),
        PixelBox::new(64, 128, 0, 256).unwrap(),
    );
    assert_eq!(server.requests() - before, 1, "{:?}", server.log());
    assert_eq!(server.bytes() - bytes_before, 4 * 64 * 64 * 3 * 2);
    // Two tile rows: two runs of stored tiles, fetched concurrently.
    let before = server.requests();
    read(
        &reader,
        &url,
        (H, W),
        PixelBox::new(100, 140, 0, 100).unwrap(),
    );
    assert_eq!(server.requests() - before, 2, "{:?}", server.log());
}

#[test]
fn header_is_fetched_once_per_file_per_process() {
    let dir = tempfile::tempdir().unwrap();
    let server = RangeServer::start();
    serve_case(dir.path(), &server, &CASES[0]);
    let url = PathBuf::from(server.url(CASES[0].file));
    let b = PixelBox::new(10, 20, 10, 20).unwrap();
    let first = uncached();
    read(&first, &url, (H, W), b);
    let after_first = server.requests();
    assert!(after_first >= 2, "header + tile: {:?}", server.log());
    // Another reader, the size probe and the cache key need no header request.
    let second = uncached();
    assert_eq!(probe_size(&url).unwrap(), (H, W));
    read(&second, &url, (H, W), b);
    let tile_only = server.requests() - after_first;
    assert_eq!(tile_only, 1, "one tile, no header: {:?}", server.log());
    let at_zero = server
        .log()
        .iter()
        .filter(|l| l.range.is_some_and(|r| r.0 == 0))
        .count();
    assert_eq!(at_zero, 1, "{:?}", server.log());
}

#[test]
fn a_server_failing_every_third_request_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    let server = RangeServer::start();
    server.fail_every(3);
    let local_reader = FrameReader::new(Backend::Raw).unwrap();
    for c in &CASES {
        let local = serve_case(dir.path(), &server, c);
        let url = PathBuf::from(server.url(c.file));
        let remote = uncached();
        for b in plan(H as i64, W as i64, 15, 11) {
            let got = read(&remote, &url, (H, W), b);
            assert_eq!(
                got,
                read(&local_reader, &local, (H, W), b),
                "{}: {b:?}",
                c.name
            );
        }
    }
    let failed = server.log().iter().filter(|l| l.status == 503).count();
    assert!(failed >= 5, "the server failed {failed} requests");
}

#[test]
fn forbidden_and_missing_objects_are_one_clear_error() {
    let server = RangeServer::start();
    server.force_status("/data/secret.tif", 403);
    let reader = FrameReader::new(Backend::Raw).unwrap();
    let b = PixelBox::new(0, 10, 0, 10).unwrap();
    for (path, code, words) in [
        ("/data/secret.tif", 403, "access denied"),
        ("/data/missing.tif", 404, "not found"),
        ("/data/missing.png", 404, "not found"),
    ] {
        let url = server.url(path);
        let src = frame_backends::ImageSource::single(Path::new(&url), 10, 10);
        let before = server.requests();
        let e = reader
            .read_window(&src, b, &Channels::All, &ReadOptions::default())
            .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, frame_backends::Error::Remote { .. }), "{e:?}");
        assert!(msg.contains(&url), "names the URL: {msg}");
        assert!(
            msg.contains(&code.to_string()) && msg.contains(words),
            "{msg}"
        );
        assert_eq!(server.requests() - before, 1, "no retry of a {code}: {msg}");
    }
}

#[test]
fn npy_cache_of_a_remote_file_is_keyed_by_url_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let server = RangeServer::start();
    let local = serve_case(dir.path(), &server, &CASES[3]);
    let url = PathBuf::from(server.url(CASES[3].file));
    let work = dir.path().join("work");
    let reader = FrameReader::new(Backend::Npy {
        workdir: work.clone(),
    })
    .unwrap();
    let cache = reader.cache_path_of(&url).unwrap().unwrap();
    assert!(cache.starts_with(&work), "{}", cache.display());
    let b = PixelBox::new(-5, 50, 30, 90).unwrap();
    let got = read(&reader, &url, (H, W), b);
    assert!(cache.is_file(), "{}", cache.display());
    let local_reader = FrameReader::new(Backend::Raw).unwrap();
    assert_eq!(got, read(&local_reader, &local, (H, W), b));
    // Another object at another URL gets another cache file.
    server.put("/data/other.png", std::fs::read(&local).unwrap());
    let other = PathBuf::from(server.url("/data/other.png"));
    assert_ne!(reader.cache_path_of(&other).unwrap().unwrap(), cache);
}

// ---- S3 (moto) ----------------------------------------------------------------

/// The Python with moto's S3 server: `NDSAMPLER_REFERENCE_PYTHON`, else the
/// workspace's `target/py-reference`; missing is a failure saying what to do.
fn python() -> PathBuf {
    let p = match std::env::var_os("NDSAMPLER_REFERENCE_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-reference/bin/python"),
    };
    assert!(
        p.exists(),
        "no Python for the S3 test server: NDSAMPLER_REFERENCE_PYTHON is unset and {} is missing; \
         run `cargo xtask test` (it creates the environment and installs moto) or point \
         NDSAMPLER_REFERENCE_PYTHON at a python with `pip install 'moto[s3]' flask flask-cors`",
        p.display()
    );
    let ok = std::process::Command::new(&p)
        .args(["-c", "import moto.server"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{} cannot import moto.server: `{} -m pip install 'moto[s3]' flask flask-cors` (cargo xtask test does it)",
        p.display(),
        p.display()
    );
    p
}

/// `python -m moto.server` on a free port of 127.0.0.1, killed on drop.
struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Moto {
    let python = python();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start python -m moto.server");
    let moto = Moto { child, port };
    let t0 = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(60),
            "moto.server did not listen on 127.0.0.1:{port} within 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    moto
}

/// One plain HTTP/1.1 request (moto accepts unsigned requests): the status.
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = String::new();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    resp.push_str(&String::from_utf8_lossy(&buf));
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn s3_windows_equal_local_reads() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let bucket = format!("ndsampler-{}", moto.port);
    assert_eq!(http(moto.port, "PUT", &format!("/{bucket}"), b""), 200);
    let mut locals = Vec::new();
    for c in &CASES[..3] {
        let local = dir.path().join(c.file.trim_start_matches("/data/"));
        write_u16_tiff(&local, H, W, 3, c.tile, c.planar);
        let key = format!("/{bucket}/images{}", c.file);
        assert_eq!(
            http(moto.port, "PUT", &key, &std::fs::read(&local).unwrap()),
            200
        );
        locals.push((local, format!("s3://{bucket}/images{}", c.file)));
    }
    frame_backends::remote::set_store_options(
        &format!("s3://{bucket}"),
        [
            ("aws_endpoint", format!("http://127.0.0.1:{}", moto.port)),
            ("aws_allow_http", "true".into()),
            ("aws_access_key_id", "testing".into()),
            ("aws_secret_access_key", "testing".into()),
            ("aws_region", "us-east-1".into()),
        ],
    );
    let local_reader = FrameReader::new(Backend::Raw).unwrap();
    let remote = Arc::new(uncached());
    let stats0 = frame_backends::remote_stats();
    for (local, url) in &locals {
        let url = PathBuf::from(url);
        assert_eq!(probe_size(&url).unwrap(), (H, W));
        for b in plan(H as i64, W as i64, 20, 3) {
            let got = read(&remote, &url, (H, W), b);
            assert_eq!(
                got,
                read(&local_reader, local, (H, W), b),
                "{}: {b:?}",
                url.display()
            );
        }
    }
    let stats = frame_backends::remote_stats();
    assert!(stats.requests > stats0.requests && stats.bytes > stats0.bytes);
    // A missing key is one clear error naming the URL.
    let missing = format!("s3://{bucket}/images/nope.tif");
    let src = frame_backends::ImageSource::single(Path::new(&missing), 10, 10);
    let e = remote
        .read_window(
            &src,
            PixelBox::new(0, 5, 0, 5).unwrap(),
            &Channels::All,
            &ReadOptions::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains(&missing) && e.contains("not found"), "{e}");
}

#[test]
fn every_backend_reads_remote_files_like_local_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = RangeServer::start();
    let local_reader = FrameReader::new(Backend::Raw).unwrap();
    let work = dir.path().join("work");
    for backend in crate::common::backends_in(&work, frame_backends::CogOptions::default()) {
        let reader = FrameReader::new(backend.clone()).unwrap();
        for c in &CASES {
            let local = serve_case(dir.path(), &server, c);
            let url = PathBuf::from(server.url(c.file));
            for b in plan(H as i64, W as i64, 5, 13) {
                let got = read(&reader, &url, (H, W), b);
                let want = read(&local_reader, &local, (H, W), b);
                assert_eq!(got, want, "{} {}: {b:?}", backend.name(), c.name);
            }
            // Caches of remote sources live in the workdir, never next to the URL.
            if let Some(cache) = reader.cache_path_of(&url).unwrap() {
                assert!(cache.starts_with(&work), "{}", cache.display());
            }
        }
    }
}

// ---- headers kept in a workdir, in-flight bound ----------------------------

/// A reader without a chunk cache keeping remote headers in `dir`.
fn uncached_in(dir: &Path) -> FrameReader {
    uncached().with_remote_header_dir(Some(dir.to_path_buf()))
}

/// The persisted header files under `dir`.
fn header_files(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "hdr"))
            .collect(),
        Err(_) => vec![],
    }
}

/// Requests of the log from `from` on that read the start of the file (the
/// header block; tiles start at byte 8 or later).
fn header_gets(server: &RangeServer, from: usize) -> usize {
    server.log()[from..]
        .iter()
        .filter(|l| l.method == "GET" && l.range.is_some_and(|r| r.0 == 0))
        .count()
}

/// Windows of a plan read through `reader` equal the local file's.
fn check_plan(reader: &FrameReader, url: &Path, local: &Path, seed: u64) {
    let local_reader = FrameReader::new(Backend::Raw).unwrap();
    for b in plan(H as i64, W as i64, 12, seed) {
        assert_eq!(
            read(reader, url, (H, W), b),
            read(&local_reader, local, (H, W), b),
            "{}: {b:?}",
            url.display()
        );
    }
}

#[test]
fn a_header_kept_in_the_workdir_spares_a_later_process_every_header_request() {
    let dir = tempfile::tempdir().unwrap();
    let headers = dir.path().join("headers");
    let server = RangeServer::start();
    let local = serve_case(dir.path(), &server, &CASES[0]);
    let url = PathBuf::from(server.url(CASES[0].file));
    let b = PixelBox::new(10, 20, 10, 20).unwrap();
    // First process: fetches the header and keeps it.
    check_plan(&uncached_in(&headers), &url, &local, 21);
    assert_eq!(header_files(&headers).len(), 1, "one header file per URL");
    assert_eq!(header_gets(&server, 0), 1);
    // Control: forgetting the file without a header directory refetches it.
    frame_backends::remote::forget(&url);
    let n = server.log().len();
    read(&uncached(), &url, (H, W), b);
    assert_eq!(header_gets(&server, n), 1, "{:?}", &server.log()[n..]);
    // A later process (the table forgotten) with the directory: no header
    // request, one request for the window's one tile, the same pixels.
    frame_backends::remote::forget(&url);
    let n = server.log().len();
    let reader = uncached_in(&headers);
    read(&reader, &url, (H, W), b);
    assert_eq!(server.log().len() - n, 1, "{:?}", &server.log()[n..]);
    assert_eq!(header_gets(&server, n), 0);
    check_plan(&reader, &url, &local, 22);
    assert_eq!(header_gets(&server, n), 0, "{:?}", &server.log()[n..]);
    // The cache key of a header read from the workdir (opened, no tile read
    // yet) is confirmed by one HEAD, no GET.
    frame_backends::remote::forget(&url);
    let n = server.log().len();
    uncached_in(&headers).prepare(&url).unwrap();
    assert_eq!(server.log().len(), n, "{:?}", &server.log()[n..]);
    let v = frame_backends::remote::object_version(&url).unwrap();
    assert_eq!(Some(v.tag), server.etag(CASES[0].file));
    let sent: Vec<_> = server.log()[n..].iter().map(|l| l.method.clone()).collect();
    assert_eq!(sent, ["HEAD"]);
    // ... and when the object changed meanwhile, the key is the new version's.
    frame_backends::remote::forget(&url);
    uncached_in(&headers).prepare(&url).unwrap();
    let mut data = std::fs::read(&local).unwrap();
    data.push(0);
    server.put(CASES[0].file, data);
    let v = frame_backends::remote::object_version(&url).unwrap();
    assert_eq!(Some(v.tag), server.etag(CASES[0].file));
    assert_eq!(v.size, std::fs::metadata(&local).unwrap().len() + 1);
}

/// `data` with the bytes of its first stored tile (they start at byte 8)
/// inverted: the same size and layout, other pixels, another ETag.
fn with_first_tile_inverted(mut data: Vec<u8>, tile_bytes: usize) -> Vec<u8> {
    for v in &mut data[8..8 + tile_bytes] {
        *v = !*v;
    }
    data
}

#[test]
fn a_changed_object_is_never_read_through_its_kept_header() {
    for ignore_if_match in [false, true] {
        for relayout in [false, true] {
            let what = format!("ignore If-Match {ignore_if_match}, new layout {relayout}");
            let dir = tempfile::tempdir().unwrap();
            let headers = dir.path().join("headers");
            let server = RangeServer::start();
            server.ignore_if_match(ignore_if_match);
            serve_case(dir.path(), &server, &CASES[0]);
            let url = PathBuf::from(server.url(CASES[0].file));
            read(
                &uncached_in(&headers),
                &url,
                (H, W),
                PixelBox::new(0, 5, 0, 5).unwrap(),
            );
            assert_eq!(header_files(&headers).len(), 1);
            // The object changes: other pixels, and (relayout) 32² tiles, so
            // the old tile offsets point at the wrong bytes.
            let v2 = dir.path().join("v2.tif");
            let tile = if relayout { 32 } else { 64 };
            write_u16_tiff(&v2, H, W, 3, Some(tile), false);
            let data = with_first_tile_inverted(std::fs::read(&v2).unwrap(), tile * tile * 6);
            std::fs::write(&v2, &data).unwrap();
            let old_etag = server.etag(CASES[0].file);
            server.put(CASES[0].file, data);
            assert_ne!(server.etag(CASES[0].file), old_etag);
            // A later process reads the new pixels, after one fresh header.
            frame_backends::remote::forget(&url);
            let n = server.log().len();
            let reader = uncached_in(&headers);
            check_plan(&reader, &url, &v2, 23);
            assert_eq!(
                header_gets(&server, n),
                1,
                "{what}: {:?}",
                &server.log()[n..]
            );
            let refused = server.log()[n..].iter().filter(|l| l.status == 412).count();
            assert_eq!(
                refused > 0,
                !ignore_if_match,
                "{what}: {:?}",
                &server.log()[n..]
            );
            // The kept header is the new one now.
            frame_backends::remote::forget(&url);
            let n = server.log().len();
            check_plan(&uncached_in(&headers), &url, &v2, 24);
            assert_eq!(
                header_gets(&server, n),
                0,
                "{what}: {:?}",
                &server.log()[n..]
            );
            assert_eq!(header_files(&headers).len(), 1);
        }
    }
}

#[test]
fn an_object_changing_under_an_open_reader_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let server = RangeServer::start();
    serve_case(dir.path(), &server, &CASES[0]);
    let url = PathBuf::from(server.url(CASES[0].file));
    let reader = uncached();
    read(&reader, &url, (H, W), PixelBox::new(0, 5, 0, 5).unwrap());
    let v2 = dir.path().join("v2.tif");
    write_u16_tiff(&v2, H, W, 3, Some(32), false);
    let data = with_first_tile_inverted(std::fs::read(&v2).unwrap(), 32 * 32 * 6);
    std::fs::write(&v2, &data).unwrap();
    server.put(CASES[0].file, data);
    // The same reader, its handle open on the old header.
    check_plan(&reader, &url, &v2, 25);
}

#[test]
fn a_corrupt_kept_header_is_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    let headers = dir.path().join("headers");
    let server = RangeServer::start();
    let local = serve_case(dir.path(), &server, &CASES[0]);
    let url = PathBuf::from(server.url(CASES[0].file));
    check_plan(&uncached_in(&headers), &url, &local, 26);
    let [file] = header_files(&headers).try_into().unwrap();
    let good = std::fs::read(&file).unwrap();
    type Corrupt = Box<dyn Fn(&Path)>;
    let corruptions: Vec<(&str, Corrupt)> = vec![
        ("empty", Box::new(|p| std::fs::write(p, b"").unwrap())),
        (
            "truncated",
            Box::new(|p| {
                let d = std::fs::read(p).unwrap();
                std::fs::write(p, &d[..d.len() / 2]).unwrap()
            }),
        ),
        (
            "one byte flipped",
            Box::new(|p| {
                let mut d = std::fs::read(p).unwrap();
                let i = d.len() / 3;
                d[i] ^= 1;
                std::fs::write(p, d).unwrap()
            }),
        ),
        (
            "garbage",
            Box::new(|p| std::fs::write(p, [0xA5u8; 1000]).unwrap()),
        ),
        (
            "too large",
            Box::new(|p| {
                let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
                f.set_len(frame_backends::remote::MAX_PERSISTED + 1)
                    .unwrap();
            }),
        ),
        (
            "a directory",
            Box::new(|p| {
                std::fs::remove_file(p).unwrap();
                std::fs::create_dir(p).unwrap();
            }),
        ),
    ];
    for (what, corrupt) in corruptions {
        std::fs::write(&file, &good).ok();
        corrupt(&file);
        frame_backends::remote::forget(&url);
        let n = server.log().len();
        let reader = uncached_in(&headers);
        if what == "a directory" {
            // Not ours to remove: the header is fetched, and not kept.
            let e = reader.read_window(
                &frame_backends::ImageSource::single(&url, W, H),
                PixelBox::new(0, 5, 0, 5).unwrap(),
                &Channels::All,
                &ReadOptions::default(),
            );
            assert!(e.is_err(), "{what}: keeping the header fails: {e:?}");
            std::fs::remove_dir(&file).unwrap();
            continue;
        }
        check_plan(&reader, &url, &local, 27);
        assert_eq!(
            header_gets(&server, n),
            1,
            "{what}: {:?}",
            &server.log()[n..]
        );
        assert_eq!(std::fs::read(&file).unwrap(), good, "{what}: written again");
    }
}

#[test]
fn requests_in_flight_are_bounded_per_process_across_threads() {
    let dir = tempfile::tempdir().unwrap();
    let server = RangeServer::start();
    serve_case(dir.path(), &server, &CASES[0]);
    let url = PathBuf::from(server.url(CASES[0].file));
    let reader = Arc::new(uncached());
    read(&reader, &url, (H, W), PixelBox::new(0, 1, 0, 1).unwrap());
    server.latency_ms(30);
    const BOUND: usize = 3;
    frame_backends::remote::set_max_in_flight(BOUND);
    // Each window covers 2 tiles in each of 3 tile rows: 3 requests (rows
    // are 5 tiles apart, too far to merge); 6 threads could put 18 in flight.
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let reader = reader.clone();
            let url = url.clone();
            std::thread::spawn(move || {
                for k in 0..4 {
                    let x = ((t + k) % 3) as i64 * 128;
                    read(
                        &reader,
                        &url,
                        (H, W),
                        PixelBox::new(0, 192, x, x + 128).unwrap(),
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    frame_backends::remote::set_max_in_flight(8);
    let most = server.max_concurrent();
    assert!(
        most <= BOUND as u64,
        "{most} requests in flight, bound {BOUND}"
    );
    // Guard on the test itself: the threads did overlap (6 threads, 30 ms a request).
    assert!(most >= 2, "the gauge saw {most}");
}

#[test]
fn cache_backends_keep_remote_headers_in_their_workdir() {
    let dir = tempfile::tempdir().unwrap();
    let server = RangeServer::start();
    let local = serve_case(dir.path(), &server, &CASES[0]);
    let url = PathBuf::from(server.url(CASES[0].file));
    let work = dir.path().join("work");
    let kept = work.join("_frame_cache").join("remote_headers");
    for backend in crate::common::backends_in(&work, frame_backends::CogOptions::default()) {
        let reader = FrameReader::new(backend.clone()).unwrap();
        let want = (backend != Backend::Raw).then_some(kept.as_path());
        assert_eq!(reader.remote_header_dir(), want, "{}", backend.name());
        check_plan(&reader, &url, &local, 28);
        let n = usize::from(backend != Backend::Raw);
        assert_eq!(header_files(&kept).len(), n, "{}", backend.name());
    }
    assert_eq!(
        uncached().with_remote_header_dir(None).remote_header_dir(),
        None
    );
}
