//! Loading + indexing a large synthetic kwcoco file, against Python kwcoco.
//!
//! The dataset (default 100k images, 1M annotations, each a box and a small
//! polygon) is generated into the system temp directory on first run (never
//! committed); `COCO_BENCH_ANNOTS` changes the size (images = annotations / 10).
//!
//! Measured in the same run:
//! * criterion: `CocoDataset::load` (parse + index) in this process;
//! * baseline: `kwcoco.CocoDataset(path)` in the reference venv
//!   (`/tmp/ndsampler-reference`, see `shared/tools/python-reference/setup.sh`),
//!   timed and with peak RSS from `/usr/bin/time -v`; the speed ratio is printed;
//! * peak memory: this bench re-runs itself as a child that only loads the file,
//!   under `/usr/bin/time -v`; the ratio peak RSS / file size is printed.

// `criterion_main!` defines an undocumented `pub fn main`.
#![allow(missing_docs)]

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use coco_model::CocoDataset;
use criterion::{Criterion, criterion_group};

/// A tiny deterministic generator (no extra dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Writes the synthetic dataset in kwcoco's pretty layout.
pub fn write_synthetic(path: &Path, n_annots: usize) -> std::io::Result<()> {
    let n_images = (n_annots / 10).max(1);
    let tmp = path.with_extension("partial");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let mut rng = Lcg(42);
    writeln!(w, "{{\n\"info\": [],\n\"licenses\": [],\n\"categories\": [")?;
    let cats = [
        "background",
        "cat",
        "dog",
        "car",
        "tree",
        "person",
        "bike",
        "boat",
    ];
    for (i, c) in cats.iter().enumerate() {
        let sep = if i + 1 < cats.len() { "," } else { "" };
        writeln!(
            w,
            "{{\"id\": {}, \"name\": \"{c}\", \"supercategory\": \"thing\"}}{sep}",
            i + 1
        )?;
    }
    writeln!(w, "],\n\"videos\": [],\n\"images\": [")?;
    for g in 1..=n_images {
        let sep = if g < n_images { "," } else { "" };
        writeln!(
            w,
            "{{\"id\": {g}, \"file_name\": \"images/img_{g:07}.png\", \"width\": 640, \"height\": 480, \"channels\": \"r|g|b\"}}{sep}"
        )?;
    }
    writeln!(w, "],\n\"annotations\": [")?;
    for a in 1..=n_annots {
        let gid = (a - 1) / 10 + 1;
        let cid = 1 + (rng.next() * cats.len() as f64) as usize % cats.len();
        let x = round1(rng.next() * 600.0);
        let y = round1(rng.next() * 440.0);
        let bw = round1(4.0 + rng.next() * 60.0);
        let bh = round1(4.0 + rng.next() * 60.0);
        let sep = if a < n_annots { "," } else { "" };
        write!(
            w,
            "{{\"id\": {a}, \"image_id\": {gid}, \"category_id\": {cid}, \"bbox\": [{x}, {y}, {bw}, {bh}], \"area\": {}, \"segmentation\": [[",
            round1(bw * bh * 0.7)
        )?;
        let (cx, cy) = (x + bw / 2.0, y + bh / 2.0);
        for k in 0..6 {
            let t = k as f64 / 6.0 * std::f64::consts::TAU;
            let px = round1(cx + bw / 2.0 * t.cos());
            let py = round1(cy + bh / 2.0 * t.sin());
            if k > 0 {
                write!(w, ", ")?;
            }
            write!(w, "{px}, {py}")?;
        }
        writeln!(w, "]], \"iscrowd\": 0}}{sep}")?;
    }
    writeln!(w, "]\n}}")?;
    w.flush()?;
    drop(w);
    std::fs::rename(tmp, path)
}

fn n_annots() -> usize {
    std::env::var("COCO_BENCH_ANNOTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn dataset_path() -> PathBuf {
    let n = n_annots();
    let dir = std::env::temp_dir().join("coco-model-bench");
    let _ = std::fs::create_dir_all(&dir);
    let p = dir.join(format!("synthetic_{n}.kwcoco.json"));
    if !p.is_file() {
        eprintln!("generating {} ({} annotations)…", p.display(), n);
        if let Err(e) = write_synthetic(&p, n) {
            panic!("cannot write the synthetic dataset {}: {e}", p.display());
        }
    }
    p
}

/// Wall time (s) and peak RSS (KiB) of a command, from `/usr/bin/time -v`.
fn time_v(cmd: &str, args: &[&str]) -> Option<(f64, u64)> {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(cmd)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("{cmd} failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let mut wall = None;
    let mut rss = None;
    for line in err.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Maximum resident set size (kbytes): ") {
            rss = v.trim().parse().ok();
        }
        if let Some(v) = line.strip_prefix("Elapsed (wall clock) time (h:mm:ss or m:ss): ") {
            let mut secs = 0.0;
            for part in v.trim().split(':') {
                secs = secs * 60.0 + part.parse::<f64>().unwrap_or(0.0);
            }
            wall = Some(secs);
        }
    }
    Some((wall?, rss?))
}

/// CPU time (user + system, seconds) of this process so far, from `/proc/self/stat`
/// (clock ticks of 1/100 s, the Linux default).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the `(comm)` part; utime and stime are fields 14 and 15
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// The Python reference's own timing of `kwcoco.CocoDataset(path)`: wall
/// seconds, CPU seconds, and the process's peak RSS (KiB).
fn python_reference(path: &Path) -> Option<(f64, f64, u64)> {
    let py = Path::new("/tmp/ndsampler-reference/bin/python");
    if !py.is_file() {
        eprintln!(
            "(no Python reference venv at {}: run shared/tools/python-reference/setup.sh)",
            py.display()
        );
        return None;
    }
    let script = "import sys, time, kwcoco\nt=time.perf_counter()\nc=time.process_time()\nds=kwcoco.CocoDataset(sys.argv[1])\nprint(time.perf_counter()-t, time.process_time()-c, len(ds.anns))";
    let p = path.to_string_lossy();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(py)
        .args(["-c", script, &p])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("python failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = stdout.split_whitespace();
    let secs: f64 = words.next()?.parse().ok()?;
    let cpu: f64 = words.next()?.parse().ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    let rss = err.lines().find_map(|l| {
        l.trim()
            .strip_prefix("Maximum resident set size (kbytes): ")
            .and_then(|v| v.trim().parse().ok())
    })?;
    Some((secs, cpu, rss))
}

fn bench_load(c: &mut Criterion) {
    let path = dataset_path();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.bench_function(format!("coco_model_load_{}_annots", n_annots()), |b| {
        b.iter(|| {
            let ds = CocoDataset::load(&path).expect("load");
            assert_eq!(ds.annotations().len(), n_annots());
            ds
        })
    });
    g.finish();

    // same-run comparison against the reference: wall time (noisy on a busy
    // machine) and CPU time (robust to other load), best of 3 for ours
    let mut ours = f64::MAX;
    let mut ours_cpu = f64::MAX;
    for _ in 0..3 {
        let (t, c) = (Instant::now(), cpu_seconds());
        let ds = CocoDataset::load(&path).expect("load");
        ours = ours.min(t.elapsed().as_secs_f64());
        ours_cpu = ours_cpu.min(cpu_seconds() - c);
        drop(ds);
    }
    println!("file: {} ({:.1} MB)", path.display(), size as f64 / 1e6);
    println!("coco-model load+index: {ours:.3} s wall, {ours_cpu:.2} s CPU (best of 3)");
    let exe = std::env::current_exe().ok();
    let p = path.to_string_lossy().into_owned();
    if let Some((wall, rss)) = exe
        .as_ref()
        .and_then(|e| time_v(&e.to_string_lossy(), &["--child-load", &p]))
    {
        println!(
            "coco-model child process: {wall:.2} s wall, peak RSS {:.1} MB = {:.2}x the file size (goal <= 1.5x)",
            rss as f64 / 1024.0,
            rss as f64 * 1024.0 / size as f64
        );
    }
    match python_reference(&path) {
        Some((secs, cpu, rss)) => println!(
            "python kwcoco.CocoDataset: {secs:.3} s wall, {cpu:.2} s CPU, peak RSS {:.1} MB ({:.2}x the file size)\n\
             speed ratio kwcoco / coco-model: {:.1}x wall, {:.1}x CPU (goal >= 10x wall)",
            rss as f64 / 1024.0,
            rss as f64 * 1024.0 / size as f64,
            secs / ours,
            cpu / ours_cpu.max(1e-3)
        ),
        None => println!("python kwcoco baseline unavailable"),
    }
}

criterion_group!(benches, bench_load);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-load") {
        // child mode: load once (for peak-RSS measurement) and exit
        let ds = CocoDataset::load(&args[i + 1]).expect("load");
        println!("{}", ds.annotations().len());
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        // `cargo bench -p coco-model --bench load -- --generate OUT N`
        let n = args
            .get(i + 2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        write_synthetic(Path::new(&args[i + 1]), n).expect("write");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
