//! Options that change what the tools do, each checked by an effect that is
//! absent without it: `bench --chunk-cache-mb`, `bench --locality` (the load
//! order written by `--write-targets`), the `demo` command, and the COG cache
//! settings `--compress`, `--zstd-level`, `--jpeg-quality`, `--no-overviews`
//! (those with the `gdal` feature).

use std::path::Path;
use std::process::{Command, Output};

fn ndsampler(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .args(args)
        .output()
        .expect("run ndsampler")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn toydata(key: &str, out: &Path) -> String {
    ok(
        &ndsampler(&["toydata", key, "--out", out.to_str().unwrap()]),
        key,
    );
    out.join("data.kwcoco.json").to_str().unwrap().to_string()
}

fn bench_record(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.push("--json");
    let stdout = ok(&ndsampler(&all), "bench");
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn chunk_cache_mb_sets_the_decoded_chunk_budget() {
    let dir = tempfile::tempdir().unwrap();
    let dset = toydata("shapes2-gsize96", &dir.path().join("d"));
    let run = |mb: &str| {
        bench_record(&[
            &dset,
            "--window",
            "16,16",
            "--count",
            "30",
            "--backend",
            "raw",
            "--no-stages",
            "--chunk-cache-mb",
            mb,
        ])
    };
    // With a budget, the two decoded images serve the later windows.
    let kept = run("64");
    assert!(
        kept["cache"]["chunk_hits"].as_u64().unwrap() >= 20,
        "{kept}"
    );
    // Budget 0: nothing is kept, every window decodes again.
    let none = run("0");
    assert_eq!(none["cache"]["chunk_hits"], 0, "{none}");
    assert!(
        none["cache"]["chunk_misses"].as_u64().unwrap() >= 30,
        "{none}"
    );
}

fn tile_of(t: &serde_json::Value, tile: i64) -> (i64, i64, i64) {
    let ss = &t["space_slice"];
    (
        t["image_id"].as_i64().unwrap(),
        ss[0][0].as_i64().unwrap().div_euclid(tile),
        ss[1][0].as_i64().unwrap().div_euclid(tile),
    )
}

#[test]
fn locality_groups_the_load_order_by_tile() {
    let dir = tempfile::tempdir().unwrap();
    let dset = toydata("shapes1-gsize64", &dir.path().join("d"));
    // Windows alternating between the four 32×32 tiles of the image.
    let corners = [(0, 0), (32, 32), (0, 32), (32, 0)];
    let targets: Vec<serde_json::Value> = (0..12)
        .map(|i| {
            let (y, x) = corners[i % 4];
            let (y, x) = (y + i as i64 / 4, x + 2 * (i as i64 / 4));
            serde_json::json!({"image_id": 1, "space_slice": [[y, y + 8], [x, x + 8]]})
        })
        .collect();
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, serde_json::to_string(&targets).unwrap()).unwrap();
    let order_with = |extra: &[&str]| -> Vec<serde_json::Value> {
        let out = dir.path().join("order.json");
        let mut args = vec![
            dset.as_str(),
            "--targets",
            plan.to_str().unwrap(),
            "--count",
            "0",
            "--no-stages",
            "--tile",
            "32",
            "--write-targets",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        bench_record(&args);
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
    };
    // Without --locality the plan's order is kept.
    assert_eq!(order_with(&[]), targets);
    let grouped = order_with(&["--locality"]);
    assert_eq!(grouped.len(), 12);
    let mut sorted: Vec<String> = grouped.iter().map(|t| t.to_string()).collect();
    let mut want: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want, "a permutation of the plan");
    // Each tile's three windows are adjacent, in plan order.
    let tiles: Vec<_> = grouped.iter().map(|t| tile_of(t, 32)).collect();
    for k in (0..12).step_by(3) {
        assert!(
            tiles[k] == tiles[k + 1] && tiles[k] == tiles[k + 2],
            "{tiles:?}"
        );
        let pos = |t: &serde_json::Value| targets.iter().position(|u| u == t).unwrap();
        assert!(
            pos(&grouped[k]) < pos(&grouped[k + 1]) && pos(&grouped[k + 1]) < pos(&grouped[k + 2])
        );
    }
    // A shuffle window of 1 keeps the plan's order.
    assert_eq!(
        order_with(&["--locality", "--locality-window", "1"]),
        targets
    );
}

fn png_size(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

#[test]
fn demo_generates_samples_and_writes_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let args = [
        "demo",
        "--out",
        out.to_str().unwrap(),
        "--count",
        "12",
        "--window",
        "32",
        "--threads",
        "2",
    ];
    let first = ndsampler(&args);
    let stdout = ok(&first, "demo");
    assert!(stdout.contains("dataset: 8 images"), "{stdout}");
    assert!(
        stdout.contains("sampling 12 random 32x32 windows"),
        "{stdout}"
    );
    assert!(stdout.contains("raw (decoded once"), "{stdout}");
    assert!(stdout.contains("npy (memory-mapped cache)"), "{stdout}");
    assert!(stdout.contains("(2 threads, batches of 32)"), "{stdout}");
    // The toy datasets, the npy cache, and two pictures.
    assert!(out.join("shapes8/data.kwcoco.json").is_file());
    assert!(out.join("vidshapes2/data.kwcoco.json").is_file());
    let npy: Vec<_> = std::fs::read_dir(out.join("cache/_frame_cache/npy"))
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.ends_with(".npy").then_some(n)
        })
        .collect();
    // One file per image the random windows touched (not necessarily all 8).
    assert!(!npy.is_empty() && npy.len() <= 8, "{npy:?}");
    assert!(npy.iter().all(|n| n.starts_with("img_0000")), "{npy:?}");
    // The annotation picture holds the 48 px context on each side.
    let (w, h) = png_size(&out.join("sample.png"));
    assert!(w > 96 && h > 96, "{w}×{h}");
    let (vw, vh) = png_size(&out.join("video.png"));
    assert!(vw > 0 && vh > 0);
    // A second run reuses the generated datasets.
    let second = ndsampler(&args);
    ok(&second, "demo again");
    assert!(
        !String::from_utf8_lossy(&second.stderr).contains("demo: "),
        "regenerated: {}",
        String::from_utf8_lossy(&second.stderr)
    );
}

/// `(compression tag, tile width, number of IFDs)` of a classic little- or
/// big-endian TIFF, read by hand.
#[cfg(feature = "gdal")]
fn tiff_layout(path: &Path) -> (u16, u32, usize) {
    let b = std::fs::read(path).unwrap();
    let le = &b[0..2] == b"II";
    assert!(le || &b[0..2] == b"MM", "{}: not a TIFF", path.display());
    let u16_at = |o: usize| {
        let a = [b[o], b[o + 1]];
        if le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    };
    let u32_at = |o: usize| {
        let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    assert_eq!(
        u16_at(2),
        42,
        "{}: BigTIFF is not expected here",
        path.display()
    );
    let (mut compression, mut tile, mut ifds) = (0, 0, 0);
    let mut off = u32_at(4) as usize;
    while off != 0 {
        let n = u16_at(off) as usize;
        for e in 0..n {
            let at = off + 2 + 12 * e;
            let (tag, typ) = (u16_at(at), u16_at(at + 2));
            let value = if typ == 3 {
                u32::from(u16_at(at + 8))
            } else {
                u32_at(at + 8)
            };
            if ifds == 0 && tag == 259 {
                compression = value as u16;
            }
            if ifds == 0 && tag == 322 {
                tile = value;
            }
        }
        ifds += 1;
        off = u32_at(off + 2 + 12 * n) as usize;
    }
    (compression, tile, ifds)
}

#[cfg(feature = "gdal")]
fn cog_cache(dataset: &str, work: &Path, extra: &[&str]) -> Vec<std::path::PathBuf> {
    let mut args = vec![
        "cache",
        dataset,
        "--backend",
        "cog",
        "--workdir",
        work.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let stdout = ok(&ndsampler(&args), "cache cog");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    let dir = work.join("_frame_cache/cog");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tif"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[cfg(feature = "gdal")]
fn total_size(files: &[std::path::PathBuf]) -> u64 {
    files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum()
}

#[cfg(feature = "gdal")]
#[test]
fn cog_cache_options_reach_the_files() {
    let dir = tempfile::tempdir().unwrap();
    // 8-bit RGB images of 300 px: big enough for overviews at tile 64, and JPEG-able.
    let dset = toydata("shapes2-gsize300", &dir.path().join("d"));
    let work = |n: &str| dir.path().join(n);
    // TIFF compression codes: 8 deflate, 7 JPEG, 50000 ZSTD.
    for (name, extra, code) in [
        ("zstd", vec!["--compress", "zstd"], 50000u16),
        ("deflate", vec!["--compress", "deflate"], 8),
        ("jpeg", vec!["--compress", "jpeg"], 7),
    ] {
        let mut args = extra.clone();
        args.extend(["--tile-size", "64"]);
        for f in cog_cache(&dset, &work(name), &args) {
            let (c, tile, ifds) = tiff_layout(&f);
            assert_eq!(c, code, "{name}: {}", f.display());
            assert_eq!(tile, 64, "{name}: {}", f.display());
            assert!(ifds > 1, "{name}: {} has no overviews", f.display());
        }
    }
    for f in cog_cache(
        &dset,
        &work("flat"),
        &["--tile-size", "64", "--no-overviews"],
    ) {
        assert_eq!(
            tiff_layout(&f).2,
            1,
            "{}: overviews despite --no-overviews",
            f.display()
        );
    }
    // Levels and qualities change the bytes written.
    let z1 = total_size(&cog_cache(&dset, &work("z1"), &["--zstd-level", "1"]));
    let z19 = total_size(&cog_cache(&dset, &work("z19"), &["--zstd-level", "19"]));
    assert!(
        z19 < z1,
        "zstd level 19 ({z19} B) not smaller than level 1 ({z1} B)"
    );
    let q = |n: &str, quality: &str| {
        total_size(&cog_cache(
            &dset,
            &work(n),
            &["--compress", "jpeg", "--jpeg-quality", quality],
        ))
    };
    let (low, high) = (q("q10", "10"), q("q95", "95"));
    assert!(
        low < high,
        "JPEG quality 10 ({low} B) not smaller than 95 ({high} B)"
    );
}
