//! The CLI on a dataset served over HTTP (feature `remote`): the dataset
//! JSON at a URL, its relative file names resolved next to it, windows equal
//! to those of the same bundle on disk; `bench` reports requests per window;
//! a missing dataset URL is one clear error.

#[path = "../../crates/frame-backends/tests/it/common/range_server.rs"]
mod range_server;

use std::path::Path;
use std::process::Command;

use range_server::RangeServer;

fn ndsampler(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
        .args(args)
        .output()
        .expect("run ndsampler")
}

/// A bundle of one 3-band 200×150 PNG and a one-box dataset.
fn bundle(dir: &Path) {
    image::RgbImage::from_fn(200, 150, |x, y| {
        image::Rgb([x as u8, y as u8, (x * 3 + y * 5) as u8])
    })
    .save(dir.join("img.png"))
    .unwrap();
    let ds = r#"{"categories": [{"id": 1, "name": "a"}],
        "images": [{"id": 1, "file_name": "img.png", "width": 200, "height": 150}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40]}]}"#;
    std::fs::write(dir.join("data.kwcoco.json"), ds).unwrap();
}

#[test]
fn sample_and_bench_a_dataset_at_a_url() {
    let dir = tempfile::tempdir().unwrap();
    bundle(dir.path());
    let server = RangeServer::start();
    for f in ["img.png", "data.kwcoco.json"] {
        server.put(
            &format!("/b/{f}"),
            std::fs::read(dir.path().join(f)).unwrap(),
        );
    }
    let url = server.url("/b/data.kwcoco.json");
    let target = r#"{"gid": 1, "space_slice": [[-5, 60], [150, 230]]}"#;
    let (out_local, out_remote) = (dir.path().join("local"), dir.path().join("remote"));
    let local = dir.path().join("data.kwcoco.json");
    for (ds, out) in [
        (local.to_str().unwrap(), &out_local),
        (url.as_str(), &out_remote),
    ] {
        let o = ndsampler(&[
            "sample",
            ds,
            "--target",
            target,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{ds}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert_eq!(
        std::fs::read(out_local.join("im.npy")).unwrap(),
        std::fs::read(out_remote.join("im.npy")).unwrap()
    );
    let annots = |p: &Path| -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p.join("sample.json")).unwrap()).unwrap();
        v["frames"].clone()
    };
    assert_eq!(annots(&out_local), annots(&out_remote));

    let o = ndsampler(&[
        "bench",
        &url,
        "--window",
        "32",
        "--count",
        "20",
        "--backend",
        "none",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let line = String::from_utf8_lossy(&o.stdout);
    let rec: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert!(
        rec["remote"]["requests_per_window"].is_number(),
        "bench reports remote requests: {rec}"
    );

    let missing = server.url("/b/nope.kwcoco.json");
    let o = ndsampler(&["stats", &missing]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&missing) && err.contains("404"), "{err}");
}
