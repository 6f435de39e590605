//! `ndsampler grid` run as a user would.

use std::path::PathBuf;
use std::process::{Command, Output};

fn ndsampler(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .args(args)
        .output()
        .expect("run ndsampler")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The number after `key:` in the summary.
fn count(stdout: &str, key: &str) -> usize {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {stdout}"))
}

#[test]
fn image_grid_writes_a_plan_with_exact_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("targets.json");
    let ds = fixture("shapes4");
    let o = ndsampler(&[
        "grid",
        ds.to_str().unwrap(),
        "--window",
        "128,128",
        "--overlap",
        "0.25",
        "--full",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);

    // the file is a sample plan
    let plan = sampler::plan::TargetList::read_json(&out).unwrap();
    // per image: starts 0, 96, 192, 272 on both axes (4 x 4) plus the full window
    assert_eq!(plan.targets.len(), 4 * (16 + 1));
    assert_eq!(count(&stdout, "windows"), plan.targets.len());

    // and the index lists agree with the library and with the summary
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let list = |k: &str| -> Vec<usize> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    };
    let dset = coco_model::CocoDataset::load(&ds).unwrap();
    let cfg = sampler::grid::GridConfig::new([128, 128])
        .with_overlap(0.25)
        .with_full(true);
    let grid = sampler::grid::sample_grid(&dset, &cfg).unwrap();
    assert_eq!(plan.targets, grid.targets);
    assert_eq!(list("positives"), grid.positives);
    assert_eq!(list("negatives"), grid.negatives);
    assert_eq!(count(&stdout, "positives"), grid.positives.len());
    assert_eq!(count(&stdout, "negatives"), grid.negatives.len());
    assert!(!grid.positives.is_empty() && !grid.negatives.is_empty());
    // a positive window holds an annotation, a negative one none
    let holds = |i: usize| {
        let t = &plan.targets[i];
        let [[y0, y1], [x0, x1]] = t
            .space_slice
            .unwrap()
            .map(|s| [s[0].unwrap(), s[1].unwrap()]);
        dset.image_annotations(t.image_id.unwrap()).any(|a| {
            let [x, y, w, h] = a.bbox.unwrap();
            x <= x1 as f64 && x + w >= x0 as f64 && y <= y1 as f64 && y + h >= y0 as f64
        })
    };
    assert!(list("positives").into_iter().all(holds));
    assert!(!list("negatives").into_iter().any(holds));
}

#[test]
fn video_grid_and_class_filters() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("grid.json");
    let ds = fixture("vidshapes2-msi").join("data.kwcoco.json");
    let o = ndsampler(&[
        "grid",
        ds.to_str().unwrap(),
        "--video",
        "2,150,150",
        "--classes-of-interest",
        "star",
        "--ignore-classes",
        "eff",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let plan = sampler::plan::TargetList::read_json(&out).unwrap();
    // 2 videos x time windows [0,2), [1,3) x 2 x 2
    assert_eq!(plan.targets.len(), 16);
    assert!(
        plan.targets
            .iter()
            .all(|t| t.video_id.is_some() && t.time_slice.is_some())
    );
    let s = text(&o.stdout);
    assert_eq!(
        count(&s, "positives") + count(&s, "negatives") + count(&s, "ignored"),
        16
    );
    // `--video T` takes its window from --window
    let o = ndsampler(&[
        "grid",
        ds.to_str().unwrap(),
        "--video",
        "2",
        "--window",
        "150,150",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        sampler::plan::TargetList::read_json(&out)
            .unwrap()
            .targets
            .len(),
        16
    );
}

#[test]
fn bad_input_fails_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("grid.json");
    let out = out.to_str().unwrap();
    let ds = fixture("shapes4");
    let ds = ds.to_str().unwrap();
    let missing = dir.path().join("nope.json");
    for (args, needle) in [
        (
            vec!["grid", ds, "--window", "12x4", "--out", out],
            "--window",
        ),
        (
            vec!["grid", ds, "--window", "0,4", "--out", out],
            "--window",
        ),
        (vec!["grid", ds, "--out", out], "--window"),
        (
            vec![
                "grid",
                ds,
                "--window",
                "8,8",
                "--overlap",
                "1.5",
                "--out",
                out,
            ],
            "overlap",
        ),
        (
            vec![
                "grid",
                ds,
                "--window",
                "8,8",
                "--classes-of-interest",
                "unicorn",
                "--out",
                out,
            ],
            "unicorn",
        ),
        (
            vec![
                "grid",
                ds,
                "--window",
                "8,8",
                "--ignore-classes",
                "ghost",
                "--out",
                out,
            ],
            "ghost",
        ),
        (
            vec![
                "grid",
                missing.to_str().unwrap(),
                "--window",
                "8,8",
                "--out",
                out,
            ],
            "nope.json",
        ),
        (
            vec![
                "grid", ds, "--video", "2,8,8", "--window", "9,9", "--out", out,
            ],
            "disagree",
        ),
    ] {
        let o = ndsampler(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = text(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(!std::path::Path::new(out).exists());
}

#[test]
fn one_number_window_is_square() {
    let dir = tempfile::tempdir().unwrap();
    let ds = fixture("shapes4");
    let mut plans = Vec::new();
    for w in ["64", "64,64"] {
        let out = dir.path().join(format!("grid-{w}.json"));
        let o = ndsampler(&[
            "grid",
            ds.to_str().unwrap(),
            "--window",
            w,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "--window {w}: {}", text(&o.stderr));
        plans.push(std::fs::read_to_string(&out).unwrap());
    }
    assert_eq!(plans[0], plans[1]);
}
