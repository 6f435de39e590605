//! Remote reads (feature `remote`) against the in-process range server of the
//! tests with an injected latency per request: windows/s with concurrent
//! requests (the default in-flight bound) against the same plan with one
//! request at a time, and requests and bytes per window against the ideal
//! (tiles touched × tile bytes, one request per run of adjacent tiles).
//!
//! `cargo bench -p frame-backends --features remote,gdal --bench remote`
//! (`-- LATENCY_MS WINDOWS` to change the defaults, 20 ms and 60 windows).
//! Every window misses the decoded-chunk cache (budget 0): this measures the
//! network path alone.
//!
//! With the `gdal` feature, GDAL reads the same windows of the same served
//! file in the same run, through `/vsis3/bench/big.tif` pointed at the same
//! server (path-style, unsigned), the gdal crate used directly: this
//! process's GDAL configuration allows `/vsis3/` for `.tif` (the crate's own
//! GDAL path, `raster/gdal_raster.rs`, still refuses network files). GDAL's
//! `/vsicurl/` region cache is off for the file (`CPL_VSIL_CURL_NON_CACHED`)
//! and its block cache is flushed before each window, so that, as ours,
//! every window goes to the network; four ways: the dataset opened once or
//! once per window (a per-chip open, as torchgeo does), each with
//! `VSI_CACHE` off and on.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::range_server::RangeServer;
use frame_backends::{
    Backend, Channels, FrameReader, ImageSource, PixelBox, ReadOptions, ReaderOptions,
};
use rand::{Rng, SeedableRng};

const H: usize = 2048;
const W: usize = 2048;
const BANDS: usize = 3;
const TILE: usize = 128;
const WIN: i64 = 256;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let latency: u64 = args.first().and_then(|v| v.parse().ok()).unwrap_or(20);
    let count: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(60);

    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("big.tif");
    common::write_u16_tiff(&local, H, W, BANDS, Some(TILE), false);
    let server = RangeServer::start();
    server.put("/bench/big.tif", std::fs::read(&local).expect("read"));
    server.latency_ms(latency);
    let url = PathBuf::from(server.url("/bench/big.tif"));
    let src = ImageSource::single(&url, W, H);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let plan: Vec<PixelBox> = (0..count)
        .map(|_| {
            let y = rng.random_range(0..H as i64 - WIN);
            let x = rng.random_range(0..W as i64 - WIN);
            PixelBox::new(y, y + WIN, x, x + WIN).expect("box")
        })
        .collect();
    let tile_bytes = (TILE * TILE * BANDS * 2) as f64;
    let t = TILE as i64;
    let tiles: f64 = plan
        .iter()
        .map(|b| (((b.y1 - 1) / t - b.y0 / t + 1) * ((b.x1 - 1) / t - b.x0 / t + 1)) as f64)
        .sum::<f64>()
        / count as f64;
    let tile_rows: f64 = plan
        .iter()
        .map(|b| ((b.y1 - 1) / t - b.y0 / t + 1) as f64)
        .sum::<f64>()
        / count as f64;

    println!(
        "remote bench: {H}×{W}×{BANDS} u16, {TILE}² tiles ({:.0} KiB each), {WIN}² windows, \
         {count} windows, {latency} ms per request",
        tile_bytes / 1024.0
    );
    println!(
        "  ideal        {tiles:.2} tiles ({:.0} bytes), {tile_rows:.2} requests (runs of adjacent tiles) per window",
        tiles * tile_bytes
    );
    // Open once (header) outside the timings.
    let mut results = Vec::new();
    for (label, in_flight) in [
        ("sequential (1 in flight)", 1),
        ("concurrent (8 in flight)", 8),
    ] {
        frame_backends::remote::set_max_in_flight(in_flight);
        let reader = FrameReader::with_options(
            Backend::Raw,
            ReaderOptions {
                chunk_cache_bytes: 0,
                ..Default::default()
            },
        )
        .expect("reader");
        reader
            .read_window(
                &src,
                PixelBox::new(0, 1, 0, 1).expect("box"),
                &Channels::All,
                &ReadOptions::default(),
            )
            .expect("first read");
        let (r0, b0) = (server.requests(), server.bytes());
        let t0 = Instant::now();
        for b in &plan {
            let w = reader
                .read_window(&src, *b, &Channels::All, &ReadOptions::default())
                .expect("window");
            std::hint::black_box(w);
        }
        let s = t0.elapsed().as_secs_f64();
        let reqs = (server.requests() - r0) as f64 / count as f64;
        let bytes = (server.bytes() - b0) as f64 / count as f64;
        println!(
            "  {label:<26} {:>7.1} windows/s   {reqs:.2} requests/window   {bytes:.0} bytes/window ({:.3}× ideal)",
            count as f64 / s,
            bytes / (tiles * tile_bytes)
        );
        results.push(count as f64 / s);
    }
    println!("  concurrent / sequential: {:.2}×", results[1] / results[0]);

    // A new reader per window (the per-chip open of a loader): the header
    // from the process's table; then as a new process per window would see
    // it (the table forgotten): the header fetched again, or read from the
    // workdir where the first open kept it.
    frame_backends::remote::set_max_in_flight(8);
    let headers = dir.path().join("headers");
    let mut reopened = 0.0;
    for (label, forget, keep) in [
        ("reader opened per window", false, None),
        ("+ file forgotten, no workdir", true, None),
        ("+ file forgotten, workdir", true, Some(headers)),
    ] {
        let (r0, b0) = (server.requests(), server.bytes());
        let t0 = Instant::now();
        for b in &plan {
            if forget {
                frame_backends::remote::forget(&url);
            }
            let reader = FrameReader::with_options(
                Backend::Raw,
                ReaderOptions {
                    chunk_cache_bytes: 0,
                    ..Default::default()
                },
            )
            .expect("reader")
            .with_remote_header_dir(keep.clone());
            let w = reader
                .read_window(&src, *b, &Channels::All, &ReadOptions::default())
                .expect("window");
            std::hint::black_box(w);
        }
        let rate = count as f64 / t0.elapsed().as_secs_f64();
        if forget && keep.is_none() {
            reopened = rate;
        }
        println!(
            "  {label:<26} {rate:>7.1} windows/s   {:.2} requests/window   {:.0} bytes/window",
            (server.requests() - r0) as f64 / count as f64,
            (server.bytes() - b0) as f64 / count as f64,
        );
    }

    #[cfg(feature = "gdal")]
    gdal_side::run(&server, &plan, (results[1], reopened), tiles * tile_bytes);
    #[cfg(not(feature = "gdal"))]
    let _ = reopened;
}

#[cfg(feature = "gdal")]
mod gdal_side {
    use std::time::Instant;

    use frame_backends::PixelBox;
    use gdal::Dataset;

    use super::common::range_server::RangeServer;
    use super::{BANDS, H, W};

    fn set(k: &str, v: &str) {
        gdal::config::set_config_option(k, v).expect("GDAL config option");
    }

    /// Read `b` (all bands, u16) from `ds`, after dropping its cached blocks.
    fn read(ds: &mut Dataset, b: &PixelBox) -> usize {
        ds.flush_cache().expect("flush");
        let (w, h) = ((b.x1 - b.x0) as usize, (b.y1 - b.y0) as usize);
        let mut n = 0;
        for band in 1..=BANDS {
            let buf = ds
                .rasterband(band)
                .expect("band")
                .read_as::<u16>((b.x0 as isize, b.y0 as isize), (w, h), (w, h), None)
                .expect("GDAL read");
            n += std::hint::black_box(buf).data().len();
        }
        n
    }

    /// GDAL's `/vsis3/` on the plan: windows/s, requests and bytes per
    /// window, and the ratio of ours (`ours`: opened once, concurrent; opened
    /// per window with the file forgotten and no workdir) to it.
    pub fn run(server: &RangeServer, plan: &[PixelBox], ours: (f64, f64), ideal: f64) {
        let port = server.base().rsplit(':').next().unwrap_or("").to_string();
        for (k, v) in [
            ("AWS_S3_ENDPOINT", format!("127.0.0.1:{port}").as_str()),
            ("AWS_HTTPS", "NO"),
            ("AWS_VIRTUAL_HOSTING", "FALSE"),
            ("AWS_NO_SIGN_REQUEST", "YES"),
            ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
            ("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".tif"),
            ("CPL_VSIL_CURL_NON_CACHED", "/vsis3/bench/"),
            ("GDAL_PAM_ENABLED", "NO"),
        ] {
            set(k, v);
        }
        // The test file's 3 bands are MinIsBlack: GDAL warns on each open.
        gdal::config::set_error_handler(|class, _, msg| {
            if !(class == gdal::errors::CplErrType::Warning && msg.contains("ExtraSamples")) {
                eprintln!("GDAL: {msg}");
            }
        });
        let path = "/vsis3/bench/big.tif";
        let count = plan.len() as f64;
        println!(
            "  GDAL {} /vsis3/ (same server, plan and file):",
            gdal::version::version_info("RELEASE_NAME")
        );
        for vsi_cache in ["FALSE", "TRUE"] {
            set("VSI_CACHE", vsi_cache);
            for per_window in [false, true] {
                let mut once = (!per_window).then(|| {
                    let mut ds = Dataset::open(path).expect("GDAL open /vsis3/");
                    assert_eq!(ds.raster_size(), (W, H));
                    read(&mut ds, &PixelBox::new(0, 1, 0, 1).expect("box"));
                    ds
                });
                let (r0, b0) = (server.requests(), server.bytes());
                let t0 = Instant::now();
                for b in plan {
                    match once.as_mut() {
                        Some(ds) => read(ds, b),
                        None => read(&mut Dataset::open(path).expect("GDAL open"), b),
                    };
                }
                let rate = count / t0.elapsed().as_secs_f64();
                let bytes = (server.bytes() - b0) as f64 / count;
                let label = format!(
                    "{}, VSI_CACHE={vsi_cache}",
                    if per_window {
                        "open per window"
                    } else {
                        "open once"
                    }
                );
                println!(
                    "    {label:<33} {rate:>7.1} windows/s   {:.2} requests/window   {bytes:.0} bytes/window ({:.3}× ideal)   ours / GDAL: {:.2}×",
                    (server.requests() - r0) as f64 / count,
                    bytes / ideal,
                    if per_window { ours.1 } else { ours.0 } / rate
                );
            }
        }
    }
}
