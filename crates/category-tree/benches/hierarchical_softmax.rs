//! Hierarchical log-softmax over a (4096 × C) batch, C ≈ 1000 classes in a
//! depth-5 tree, against a flat log-softmax over the same array (baseline).

use std::hint::black_box;
use std::time::{Duration, Instant};

use category_tree::{CategoryTree, TreeBuilder, log_softmax};
use criterion::{Criterion, Throughput};
use ndarray::{Array2, Axis};

const ROWS: usize = 4096;

/// 6 roots, then 4, 3, 3, 3 children per node: 966 classes, 5 levels.
fn tree() -> CategoryTree {
    let branching = [4usize, 3, 3, 3];
    let mut b = TreeBuilder::new();
    let mut level: Vec<String> = (0..6).map(|i| format!("r{i}")).collect();
    for name in &level {
        b.ensure_node(name);
    }
    for (depth, &k) in branching.iter().enumerate() {
        let mut next = Vec::new();
        for parent in &level {
            for j in 0..k {
                let child = format!("{parent}.{j}");
                b.add_edge(parent, &child);
                next.push(child);
            }
        }
        let _ = depth;
        level = next;
    }
    b.build().expect("valid tree")
}

fn energy(c: usize) -> Array2<f32> {
    // deterministic pseudo-random energies in [-4, 4)
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    Array2::from_shape_fn((ROWS, c), |_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0
    })
}

fn bench(c: &mut Criterion, tree: &CategoryTree, x: &Array2<f32>) {
    let mut g = c.benchmark_group("log_softmax_4096x966");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("flat (baseline)", |b| {
        b.iter(|| log_softmax(black_box(x), Axis(1)).expect("shape"))
    });
    g.bench_function("conditional", |b| {
        b.iter(|| {
            tree.conditional_log_softmax(black_box(x), Axis(1))
                .expect("shape")
        })
    });
    g.bench_function("source (hierarchical)", |b| {
        b.iter(|| {
            tree.source_log_softmax(black_box(x), Axis(1))
                .expect("shape")
        })
    });
    g.bench_function("sink", |b| {
        b.iter(|| tree.sink_log_softmax(black_box(x), Axis(1)).expect("shape"))
    });
    g.finish();
}

/// Median seconds per call over a short fixed budget.
fn time(mut f: impl FnMut()) -> f64 {
    f();
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < 5 || (start.elapsed() < Duration::from_secs(2) && samples.len() < 50) {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let tree = tree();
    let x = energy(tree.len());
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &tree, &x);
    c.final_summary();

    let flat = time(|| {
        black_box(log_softmax(&x, Axis(1)).expect("shape"));
    });
    let source = time(|| {
        black_box(tree.source_log_softmax(&x, Axis(1)).expect("shape"));
    });
    let sink = time(|| {
        black_box(tree.sink_log_softmax(&x, Axis(1)).expect("shape"));
    });
    let rows = ROWS as f64;
    println!(
        "classes={} depth={} groups={}",
        tree.len(),
        tree.max_depth(),
        tree.idx_groups().len()
    );
    println!("flat log-softmax (baseline): {:>12.0} rows/s", rows / flat);
    println!(
        "source hierarchical:         {:>12.0} rows/s  ({:.2}x baseline time)",
        rows / source,
        source / flat
    );
    println!(
        "sink hierarchical:           {:>12.0} rows/s  ({:.2}x baseline time)",
        rows / sink,
        sink / flat
    );
}
