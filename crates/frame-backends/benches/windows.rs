//! Random 256×256×3 u8 windows from an 8192² image, one thread and two: the
//! copy-from-RAM ceiling (baseline), the npy cache, the raw striped TIFF, and
//! (feature `gdal`) the COG cache with and without decoded-tile reuse.
//!
//! Prints windows/s and the fraction of the copy ceiling after the criterion runs.
//! Set `FB_BENCH_SIZE` to use another image size (default 8192).

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use frame_backends::{
    Backend, Channels, FrameReader, ImageSource, PixelBox, ReadOptions, ReaderOptions,
};
use ndarray::Array3;
use rand::{Rng, SeedableRng};

const WIN: usize = 256;

fn size() -> usize {
    std::env::var("FB_BENCH_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8192)
}

/// A natural-ish image: smooth gradients plus mild noise (compresses like a photo).
fn make_image(n: usize) -> Array3<u8> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    Array3::from_shape_fn((n, n, 3), |(y, x, c)| {
        let base = ((x / 7 + y / 5 + c * 40) % 256) as i32;
        (base + rng.random_range(-6..=6)).clamp(0, 255) as u8
    })
}

fn write_tiff(path: &Path, img: &Array3<u8>) {
    let (h, w, _) = img.dim();
    let f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut enc = tiff::encoder::TiffEncoder::new(f).unwrap();
    enc.write_image::<tiff::encoder::colortype::RGB8>(w as u32, h as u32, img.as_slice().unwrap())
        .unwrap();
}

fn windows(n: usize, count: usize, seed: u64) -> Vec<PixelBox> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let y = rng.random_range(0..(n - WIN)) as i64;
            let x = rng.random_range(0..(n - WIN)) as i64;
            PixelBox::new(y, y + WIN as i64, x, x + WIN as i64).unwrap()
        })
        .collect()
}

/// Windows/s of `f` over `threads` threads for about `secs` seconds.
fn rate(threads: usize, secs: f64, f: &(dyn Fn(PixelBox) + Sync), n: usize) -> f64 {
    let deadline = Duration::from_secs_f64(secs);
    let total: usize = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                sc.spawn(move || {
                    let ws = windows(n, 4096, 100 + t as u64);
                    let start = Instant::now();
                    let mut done = 0;
                    while start.elapsed() < deadline {
                        for w in ws.iter().take(64) {
                            f(*w);
                        }
                        done += 64;
                    }
                    (done, start.elapsed())
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                let (d, e) = h.join().unwrap();
                (d as f64 / e.as_secs_f64()) as usize
            })
            .sum()
    });
    total as f64
}

/// Seconds to open an existing npy cache entry in a fresh reader: the first
/// time in a process (checksum verified: one read of the file) and again
/// (verified already), median of 5 each.
fn first_open_cost(tif: &Path, work: &Path) -> (f64, f64, u64) {
    let backend = Backend::Npy {
        workdir: work.to_path_buf(),
    };
    let cache = FrameReader::new(backend.clone())
        .unwrap()
        .cache_path_of(tif)
        .unwrap()
        .unwrap();
    let size = std::fs::metadata(&cache).unwrap().len();
    let time = |forget: bool| {
        let mut v: Vec<f64> = (0..5)
            .map(|_| {
                if forget {
                    frame_backends::cache::forget_verified(&cache);
                }
                let start = Instant::now();
                FrameReader::new(backend.clone())
                    .unwrap()
                    .prepare(tif)
                    .unwrap();
                start.elapsed().as_secs_f64()
            })
            .collect();
        v.sort_by(f64::total_cmp);
        v[2]
    };
    (time(true), time(false), size)
}

fn main() {
    let n = size();
    let dir = tempfile::tempdir().unwrap();
    eprintln!("generating a {n}×{n}×3 u8 image…");
    let img = make_image(n);
    let tif = dir.path().join("big.tif");
    write_tiff(&tif, &img);
    let src = ImageSource::single(&tif, n, n);
    let opts = ReadOptions::default();
    let all = Channels::All;

    // The ceiling: allocate the window and memcpy its rows out of RAM.
    let flat = img.as_slice().unwrap();
    let copy = |b: PixelBox| {
        let (y0, x0) = (b.y0 as usize, b.x0 as usize);
        let mut out = Vec::with_capacity(WIN * WIN * 3);
        for y in y0..y0 + WIN {
            let s = (y * n + x0) * 3;
            out.extend_from_slice(&flat[s..s + WIN * 3]);
        }
        std::hint::black_box(Array3::from_shape_vec((WIN, WIN, 3), out).unwrap());
    };
    let npy = FrameReader::new(Backend::Npy {
        workdir: dir.path().join("work"),
    })
    .unwrap();
    eprintln!("building the npy cache…");
    npy.prepare(&tif).unwrap();
    let first_open = first_open_cost(&tif, &dir.path().join("work"));
    let npy_read = |b: PixelBox| {
        std::hint::black_box(npy.read_window(&src, b, &all, &opts).unwrap());
    };
    let raw = FrameReader::with_options(
        Backend::Raw,
        ReaderOptions {
            chunk_cache_bytes: 1 << 30,
            max_open: 16,
            ..Default::default()
        },
    )
    .unwrap();
    let raw_read = |b: PixelBox| {
        std::hint::black_box(raw.read_window(&src, b, &all, &opts).unwrap());
    };
    #[cfg(feature = "gdal")]
    let (cog_cold, cog_warm) = {
        let work = dir.path().join("work");
        let backend = Backend::Cog {
            workdir: work,
            options: Default::default(),
        };
        eprintln!("building the COG cache (ZSTD, 256² tiles, overviews)…");
        let cold = FrameReader::with_options(
            backend.clone(),
            ReaderOptions {
                chunk_cache_bytes: 0,
                max_open: 16,
                ..Default::default()
            },
        )
        .unwrap();
        cold.prepare(&tif).unwrap();
        let warm = FrameReader::with_options(
            backend,
            ReaderOptions {
                chunk_cache_bytes: 1 << 30,
                max_open: 16,
                ..Default::default()
            },
        )
        .unwrap();
        (cold, warm)
    };

    let mut c = Criterion::default().configure_from_args();
    {
        let mut g = c.benchmark_group("window_256x256x3_u8");
        g.throughput(Throughput::Elements(1));
        let ws = windows(n, 4096, 1);
        let mut i = 0;
        let mut next = || {
            i = (i + 1) % ws.len();
            ws[i]
        };
        g.bench_function("copy_from_ram_baseline", |b| b.iter(|| copy(next())));
        g.bench_function("npy", |b| b.iter(|| npy_read(next())));
        g.bench_function("raw_striped_tiff_warm", |b| b.iter(|| raw_read(next())));
        #[cfg(feature = "gdal")]
        {
            g.bench_function("cog_zstd_no_tile_reuse", |b| {
                b.iter(|| {
                    std::hint::black_box(cog_cold.read_window(&src, next(), &all, &opts).unwrap())
                })
            });
            g.bench_function("cog_zstd_tile_cache", |b| {
                b.iter(|| {
                    std::hint::black_box(cog_warm.read_window(&src, next(), &all, &opts).unwrap())
                })
            });
        }
        g.finish();
    }
    c.final_summary();

    // Summary with the ceiling ratio (and 2-thread scaling).
    let secs = 1.5;
    let ceiling1 = rate(1, secs, &copy, n);
    let ceiling2 = rate(2, secs, &copy, n);
    println!("\nwindows/s (random 256×256×3 u8 from {n}², fraction of the copy-from-RAM ceiling):");
    println!(
        "{:<28} {:>10} {:>8} {:>10} {:>8}",
        "backend", "1 thread", "ratio", "2 threads", "ratio"
    );
    let row = |name: &str, f: &(dyn Fn(PixelBox) + Sync)| {
        let (a, b) = (rate(1, secs, f, n), rate(2, secs, f, n));
        println!(
            "{name:<28} {a:>10.0} {:>8.3} {b:>10.0} {:>8.3}",
            a / ceiling1,
            b / ceiling2
        );
    };
    let (verified, memo, size) = first_open;
    println!(
        "npy cache entry of {:.0} MB, opened by a fresh reader: {:.1} ms the first time in a process (checksum verified), {:.1} ms once verified ({:.2}×)",
        size as f64 / 1e6,
        verified * 1e3,
        memo * 1e3,
        verified / memo
    );
    row("copy_from_ram (ceiling)", &copy);
    row("npy", &npy_read);
    row("raw_striped_tiff_warm", &raw_read);
    #[cfg(feature = "gdal")]
    {
        row("cog_zstd_no_tile_reuse", &|b| {
            std::hint::black_box(cog_cold.read_window(&src, b, &all, &opts).unwrap());
        });
        row("cog_zstd_tile_cache", &|b| {
            std::hint::black_box(cog_warm.read_window(&src, b, &all, &opts).unwrap());
        });
    }
}
