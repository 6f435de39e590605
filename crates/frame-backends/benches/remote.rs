//! Remote reads (feature `remote`) against the in-process range server of the
//! tests with an injected latency per request: windows/s with concurrent
//! requests (the default in-flight bound) against the same plan with one
//! request at a time, and requests and bytes per window against the ideal
//! (tiles touched × tile bytes, one request per run of adjacent tiles).
//!
//! `cargo bench -p frame-backends --features remote --bench remote`
//! (`-- LATENCY_MS WINDOWS` to change the defaults, 20 ms and 60 windows).
//! Every window misses the decoded-chunk cache (budget 0): this measures the
//! network path alone.

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
    server.put("/big.tif", std::fs::read(&local).expect("read"));
    server.latency_ms(latency);
    let url = PathBuf::from(server.url("/big.tif"));
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
}
