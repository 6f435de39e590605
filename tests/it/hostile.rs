//! Hostile inputs: mutated datasets and targets thrown at the loader, `validate`,
//! `stats`, the target parser and `load_sample`. Every input must give a result
//! or an error — never a panic, an abort or an allocation past the sampler's
//! stated limit.
//!
//! Mutations start from the real kwcoco fixtures (`tests/fixtures`): text-level
//! (truncation, byte flips, Python's non-finite tokens, deep nesting, huge
//! strings) and value-level (a random field replaced by a value of the wrong
//! type, a huge, negative or non-finite number, a huge string, a deep list).
//!
//! A bounded campaign runs with the tests (`NDSAMPLER_FUZZ_CASES`, default 48 per
//! property); `cargo xtask fuzz --minutes N` runs it for longer and prints the
//! outcome table of docs/limits.md (each case appends
//! its outcome to the file named by `NDSAMPLER_FUZZ_REPORT`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ndsampler::coco_model::CocoDataset;
use ndsampler::sampler::{CocoSampler, SamplerConfig, Target};
use proptest::prelude::*;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

fn cases() -> u32 {
    std::env::var("NDSAMPLER_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // The seeds are the inputs; shrinking a seed finds nothing simpler.
        max_shrink_iters: 0,
        ..ProptestConfig::default()
    }
}

fn fixture(name: &str) -> (String, PathBuf) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(dir.join("data.kwcoco.json"))
        .unwrap_or_else(|e| panic!("fixture {name} is missing: {e}"));
    (text, dir)
}

/// Appends one outcome to the campaign report, when one is asked for.
fn report(class: &str, outcome: &str) {
    if let Some(path) = std::env::var_os("NDSAMPLER_FUZZ_REPORT") {
        let line = format!("{}\n", json!({"class": class, "outcome": outcome}));
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Values of the wrong type, size or sign for any field.
fn hostile_value(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..16) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(0),
        4 => json!(1e308),
        5 => json!(-1e308),
        6 => json!(i64::MAX),
        7 => json!(i64::MIN),
        8 => json!(u64::MAX),
        9 => json!(0.5),
        10 => json!(""),
        11 => Value::String("x".repeat(rng.random_range(1000..70_000))),
        12 => json!([]),
        13 => json!({}),
        14 => json!("\u{0}NaN"),
        _ => {
            let mut v = json!(1);
            for _ in 0..rng.random_range(2..60) {
                v = json!([v]);
            }
            v
        }
    }
}

/// Replaces, removes or adds one field somewhere in `v`.
fn mutate_value(v: &mut Value, rng: &mut ChaCha8Rng, depth: usize) {
    let descend = depth < 6 && rng.random_bool(0.75);
    match v {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = keys.choose(rng).cloned().unwrap_or_default();
            if descend {
                if let Some(child) = map.get_mut(&key) {
                    mutate_value(child, rng, depth + 1);
                }
            } else if rng.random_bool(0.2) {
                map.remove(&key);
            } else {
                map.insert(key, hostile_value(rng));
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.random_range(0..items.len());
            if descend {
                mutate_value(&mut items[i], rng, depth + 1);
            } else if rng.random_bool(0.2) {
                items.remove(i);
            } else {
                items[i] = hostile_value(rng);
            }
        }
        other => *other = hostile_value(rng),
    }
}

/// Text-level damage: truncation, a flipped byte, an inserted token.
fn mutate_text(text: &str, rng: &mut ChaCha8Rng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let at = rng.random_range(0..bytes.len());
    match rng.random_range(0..5) {
        0 => bytes.truncate(at),
        1 => bytes[at] ^= 1 << rng.random_range(0..8),
        2 => {
            let token: &[u8] = [
                &b"NaN"[..],
                b"-Infinity",
                b"1e400",
                b"\"\\u0000NaN\"",
                b",",
                b"\"",
            ]
            .choose(rng)
            .copied()
            .unwrap_or(b"NaN");
            bytes.splice(at..at, token.iter().copied());
        }
        3 => {
            let n = rng.random_range(100..5000);
            let deep = "[".repeat(n);
            bytes.splice(at..at, deep.bytes());
        }
        _ => {
            bytes.splice(at..at, vec![b'7'; rng.random_range(20..400)]);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Targets the sampler may meet for this dataset.
fn targets_for(ds: &CocoDataset) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(img) = ds.images().first() {
        out.push(json!({"image_id": img.id, "space_slice": [[0, 32], [0, 32]]}));
    }
    if let Some(ann) = ds.annotations().first() {
        out.push(json!({"annot_id": ann.id, "pad": 2}));
    }
    if let Some(vid) = ds.videos().first() {
        out.push(json!({"video_id": vid.id, "space_slice": [[0, 16], [0, 16]]}));
    }
    out
}

/// Loads, validates, summarises and samples a (possibly broken) dataset.
fn exercise(text: &str, root: &Path, class: &str) {
    let ds = match CocoDataset::from_json_str(text, root) {
        Ok(ds) => ds,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            report(class, "load error");
            return;
        }
    };
    let _ = ds.validate();
    let _ = ds.stats().to_string();
    let targets = targets_for(&ds);
    let sampler = match CocoSampler::new(Arc::new(ds), SamplerConfig::default()) {
        Ok(s) => s,
        Err(_) => {
            report(class, "sampler error");
            return;
        }
    };
    let mut sampled = false;
    for t in targets {
        if let Ok(target) = serde_json::from_value::<Target>(t)
            && sampler.load_sample(&target).is_ok()
        {
            sampled = true;
        }
    }
    report(class, if sampled { "sampled" } else { "sample error" });
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn damaged_text_never_panics(seed in any::<u64>(), which in 0usize..2) {
        let (text, root) = fixture(["shapes4", "vidshapes2-msi"][which]);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let bad = mutate_text(&text, &mut rng);
        exercise(&bad, &root, "dataset text damage");
    }

    #[test]
    fn hostile_field_values_never_panic(seed in any::<u64>(), which in 0usize..2, edits in 1usize..4) {
        let (text, root) = fixture(["shapes4", "vidshapes2-msi"][which]);
        let mut v: Value = serde_json::from_str(&text).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..edits {
            mutate_value(&mut v, &mut rng, 0);
        }
        exercise(&v.to_string(), &root, "dataset field values");
    }
}

/// The sample size limit of the target cases (small, so the campaign stays fast).
const TARGET_LIMIT: u64 = 64 << 20;

/// One sampler over the shapes fixture, shared by the target cases.
fn shapes_sampler() -> &'static CocoSampler {
    static S: OnceLock<CocoSampler> = OnceLock::new();
    S.get_or_init(|| {
        let (text, root) = fixture("shapes4");
        let ds = CocoDataset::from_json_str(&text, &root).unwrap();
        let config = SamplerConfig {
            max_sample_bytes: TARGET_LIMIT,
            ..SamplerConfig::default()
        };
        CocoSampler::new(Arc::new(ds), config).unwrap()
    })
}

const TARGET_KEYS: &[&str] = &[
    "image_id",
    "gid",
    "video_id",
    "image_ids",
    "annot_id",
    "cx",
    "cy",
    "width",
    "height",
    "window_dims",
    "space_slice",
    "time_slice",
    "pad",
    "channels",
    "scale",
    "interpolation",
    "antialias",
    "dtype",
    "nodata",
];

/// A plausible value for a target key, or a hostile one.
fn target_value(key: &str, rng: &mut ChaCha8Rng) -> Value {
    if rng.random_bool(0.15) {
        return hostile_value(rng);
    }
    let big = [1e9, 1e18, 9.3e18, 1e308, -1e9][rng.random_range(0..5)];
    match key {
        "image_id" | "gid" | "annot_id" => json!(rng.random_range(-1..6)),
        "cx" | "cy" | "width" | "height" => {
            if rng.random_bool(0.3) {
                json!(big)
            } else {
                json!(rng.random_range(-50.0..450.0))
            }
        }
        "space_slice" => {
            let mut b = |v: f64| {
                if rng.random_bool(0.2) {
                    json!(v)
                } else {
                    json!(rng.random_range(-100..500))
                }
            };
            json!([[b(-big), b(big)], [b(-big), b(big)]])
        }
        "pad" => json!(if rng.random_bool(0.3) {
            big
        } else {
            rng.random_range(0..40) as f64
        }),
        "scale" => json!([1e-9, 0.25, 2.0, 1e4, 1e308, 0.0, -1.0][rng.random_range(0..7)]),
        "channels" => json!(
            ["r|g|b", "<all>", "r:1000000", "B.0:", "gray", "x|<all>"][rng.random_range(0..6)]
        ),
        "interpolation" => {
            json!(["nearest", "linear", "cubic", "area", "lanczos"][rng.random_range(0..5)])
        }
        "dtype" => json!(["uint8", "float32", "float64", "int64", "bogus"][rng.random_range(0..5)]),
        "nodata" => json!(["float", "zero", "nope"][rng.random_range(0..3)]),
        "window_dims" => [
            json!("extent"),
            json!("square"),
            json!([64, 64]),
            json!([1e9, 1e9]),
        ][rng.random_range(0..4)]
        .clone(),
        _ => hostile_value(rng),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn hostile_targets_never_panic(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut t = serde_json::Map::new();
        t.insert("image_id".into(), json!(rng.random_range(1..5)));
        for _ in 0..rng.random_range(1..5) {
            let key = TARGET_KEYS[rng.random_range(0..TARGET_KEYS.len())];
            t.insert(key.into(), target_value(key, &mut rng));
        }
        let target = match serde_json::from_value::<Target>(Value::Object(t)) {
            Ok(target) => target,
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                report("targets", "parse error");
                return Ok(());
            }
        };
        match shapes_sampler().load_sample(&target) {
            Ok(sample) => {
                prop_assert!(sample.im.nbytes() as u64 <= TARGET_LIMIT);
                report("targets", "sampled");
            }
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                report("targets", "sample error");
            }
        }
    }
}
