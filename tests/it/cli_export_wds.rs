//! `ndsampler export-wds`: a plan's samples as WebDataset tar shards, held
//! to the library's own samples member by member; shards are reproducible
//! byte for byte; bad inputs are one clear error.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use sampler::plan::TargetList;
use sampler::{CocoSampler, SampleOptions, SamplerConfig};

fn shapes4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shapes4/data.kwcoco.json")
}

fn ndsampler(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .args(args)
        .output()
        .unwrap()
}

/// `(name, bytes)` of every member of a tar file, in order.
fn members(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut ar = tar::Archive::new(std::fs::File::open(path).unwrap());
    ar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

#[test]
fn shards_hold_the_plan_samples_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("grid.json");
    let out = ndsampler(&[
        "grid".as_ref(),
        shapes4().as_os_str(),
        "--window".as_ref(),
        "96,128".as_ref(),
        "--out".as_ref(),
        plan.as_os_str(),
    ]);
    assert!(out.status.success());
    let export = |to: &Path| {
        let out = ndsampler(&[
            "export-wds".as_ref(),
            shapes4().as_os_str(),
            "--plan".as_ref(),
            plan.as_os_str(),
            "--out".as_ref(),
            to.as_os_str(),
            "--shard-size".as_ref(),
            "30".as_ref(),
            "--threads".as_ref(),
            "2".as_ref(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let a = dir.path().join("a");
    export(&a);
    let targets = TargetList::read_json(&plan).unwrap().targets;
    assert_eq!(targets.len(), 80);
    let mut shards: Vec<PathBuf> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    shards.sort();
    let names: Vec<String> = shards
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    );

    let ds = coco_model::CocoDataset::load(shapes4()).unwrap();
    let s = CocoSampler::new(Arc::new(ds), SamplerConfig::default()).unwrap();
    let mut i = 0usize;
    for shard in &shards {
        let m = members(shard);
        assert!(m.len() <= 60 && m.len().is_multiple_of(2));
        for pair in m.chunks(2) {
            let key = format!("{i:09}");
            assert_eq!(pair[0].0, format!("{key}.npy"));
            assert_eq!(pair[1].0, format!("{key}.json"));
            let want = s
                .load_sample_with(&targets[i], &SampleOptions::default())
                .unwrap();
            assert_eq!(pair[0].1, want.im.npy_bytes(), "sample {i}: pixels");
            let meta: serde_json::Value = serde_json::from_slice(&pair[1].1).unwrap();
            assert_eq!(meta["__key__"], key.as_str());
            assert_eq!(meta["plan_index"], i);
            assert_eq!(
                meta["frames"],
                want.to_json()["frames"],
                "sample {i}: annotations"
            );
            assert_eq!(meta["target"], want.to_json()["target"]);
            i += 1;
        }
    }
    assert_eq!(i, 80);
    // the same plan gives the same bytes (fixed member metadata, plan order)
    let b = dir.path().join("b");
    export(&b);
    for n in &names {
        assert_eq!(
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
            "{n}"
        );
    }
    // no partial files are left behind
    assert!(std::fs::read_dir(&a).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".partial")
    }));
}

#[test]
fn bad_plans_and_prefixes_are_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let out_dir = dir.path().join("o");
    let dataset = shapes4();
    // the stderr of a failing export of `plan_text` with `extra` arguments
    let failing = |plan_text: &str, extra: &[&str]| -> String {
        std::fs::write(&plan, plan_text).unwrap();
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "export-wds".as_ref(),
            dataset.as_os_str(),
            "--plan".as_ref(),
            plan.as_os_str(),
            "--out".as_ref(),
            out_dir.as_os_str(),
        ];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        let out = ndsampler(&args);
        assert!(!out.status.success(), "{plan_text} {extra:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = failing(r#"[{"image_id": 1, "oops": 2}]"#, &[]);
    assert!(err.contains("plan.json") && err.contains("oops"), "{err}");
    let err = failing(r#"[{"image_id": 99}]"#, &[]);
    assert!(err.contains("plan target 0") && err.contains("99"), "{err}");
    let err = failing(r#"[{"image_id": 1}]"#, &["--prefix", "a/b"]);
    assert!(err.contains("--prefix"), "{err}");
}
