//! Generation throughput against its floor: encoding and writing the very same
//! pixels (the generated PNGs, decoded once) with the same encoder settings —
//! the cost of compression and I/O alone. The printed ratio is generation time
//! / baseline time (1.0 would mean synthesis is free).

// `criterion_main!` defines an undocumented `pub fn main`.
#![allow(missing_docs)]

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// A decoded RGB image.
struct Decoded {
    w: u32,
    h: u32,
    rgb: Vec<u8>,
}

/// Every PNG under `dir`, decoded.
fn decode_pngs(dir: &Path) -> Vec<Decoded> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "png") {
                let dec = png::Decoder::new(std::io::BufReader::new(File::open(&p).unwrap()));
                let mut r = dec.read_info().unwrap();
                let mut rgb = vec![0; r.output_buffer_size().unwrap()];
                let info = r.next_frame(&mut rgb).unwrap();
                rgb.truncate(info.buffer_size());
                out.push(Decoded {
                    w: info.width,
                    h: info.height,
                    rgb,
                });
            }
        }
    }
    out
}

/// Baseline: PNG-encode the same pixels with the generator's settings.
fn baseline_png(dir: &Path, images: &[Decoded]) {
    for (i, im) in images.iter().enumerate() {
        let path = dir.join(format!("base_{i}.png"));
        let out = BufWriter::new(File::create(path).unwrap());
        let mut enc = png::Encoder::new(out, im.w, im.h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        enc.set_filter(png::Filter::Adaptive);
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(&im.rgb).unwrap();
        wr.finish().unwrap();
    }
}

fn median(mut f: impl FnMut(), reps: usize) -> Duration {
    let mut t: Vec<Duration> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[reps / 2]
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        "shapes8-gsize256",
        "vidshapes2-frames4-tracks3-gsize256",
        "big1-gsize2048-annots1000",
    ];
    for key in cases {
        let out = dir.path().join(key);
        let base_dir = dir.path().join(format!("{key}-baseline"));
        std::fs::create_dir_all(&base_dir).unwrap();
        toydata::generate(key, Some(1), &out).unwrap();
        let images = decode_pngs(&out);
        let n = images.len();
        let gen_t = median(|| drop(toydata::generate(key, Some(1), &out).unwrap()), 5);
        let base_t = median(|| baseline_png(&base_dir, &images), 5);
        println!(
            "{key}: generate {:.1} ms, baseline (PNG-encode the same {n} images) {:.1} ms, ratio {:.2}",
            gen_t.as_secs_f64() * 1e3,
            base_t.as_secs_f64() * 1e3,
            gen_t.as_secs_f64() / base_t.as_secs_f64()
        );
        let mut g = c.benchmark_group(key);
        g.sample_size(10);
        g.bench_function("generate", |b| {
            b.iter(|| toydata::generate(key, Some(1), &out).unwrap())
        });
        g.bench_function("baseline_png_encode", |b| {
            b.iter(|| baseline_png(&base_dir, &images))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
