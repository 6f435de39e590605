//! `ndsampler sample --masks …` through the real binary: the mask files next
//! to `im.npy`, aligned with it, and kwimage's masks on the fixture.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{Array2, Array3, ArrayD};
use ndarray_npy::ReadNpyExt;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ndsampler"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read<T: ReadNpyExt>(path: &Path) -> T {
    T::read_npy(std::fs::File::open(path).unwrap()).unwrap()
}

#[test]
fn sample_writes_masks_matching_kwimage() {
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("masks-shapes4/cases.json")).unwrap(),
    )
    .unwrap();
    let case = cases["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "gid3_mid")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .arg("sample")
        .arg(fixtures().join("shapes4/data.kwcoco.json"))
        .args(["--target", &case["target"].to_string()])
        .args([
            "--masks",
            "class,instance-packed,heatmap",
            "--mask-fill",
            "cv2",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let im: ArrayD<u8> = read(&dir.path().join("im.npy"));
    let cls: Array2<i32> = read(&dir.path().join("class_mask.npy"));
    let want: Array2<u8> = read(&fixtures().join("masks-shapes4/expected/gid3_mid_class.npy"));
    assert_eq!(cls.dim(), (im.shape()[0], im.shape()[1]));
    assert_eq!(cls, want.mapv(i32::from));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sample.json")).unwrap())
            .unwrap();
    let masks = &json["masks"];
    assert_eq!(masks["class"], "class_mask.npy");
    let packed: Array3<u8> = read(&dir.path().join("instance_masks_packed.npy"));
    let ids = masks["instances_packed"]["ids"].as_array().unwrap();
    assert_eq!(
        packed.dim(),
        (ids.len(), cls.dim().0, cls.dim().1.div_ceil(8))
    );
    // every instance kwimage found is among them
    for id in case["instance_ids"].as_array().unwrap() {
        assert!(ids.contains(id), "instance {id} missing from {ids:?}");
    }
    let hm: Array3<f32> = read(&dir.path().join("heatmaps.npy"));
    assert_eq!(hm.dim(), (1, cls.dim().0, cls.dim().1));
    assert_eq!(masks["heatmaps"]["sigma"], 2.0);
}

#[test]
fn heatmaps_peak_on_the_keypoints_and_bad_sigma_fails() {
    let dir = tempfile::tempdir().unwrap();
    // annotation 1 of shapes4 has keypoints at (139.6, 338.5) and (145.4, 338.5)
    let target = r#"{"image_id": 1, "space_slice": [[320, 360], [120, 170]]}"#;
    let o = bin()
        .arg("sample")
        .arg(fixtures().join("shapes4/data.kwcoco.json"))
        .args([
            "--target",
            target,
            "--masks",
            "heatmap",
            "--heatmap-sigma",
            "1.5",
        ])
        .args(["--heatmap-categories", "2,1", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let hm: Array3<f32> = read(&dir.path().join("heatmaps.npy"));
    assert_eq!(hm.dim(), (2, 40, 50));
    let argmax = |c: usize| {
        let ch = hm.index_axis(ndarray::Axis(0), c);
        let (mut best, mut at) = (f32::MIN, (0, 0));
        for (yx, &v) in ch.indexed_iter() {
            if v > best {
                (best, at) = (v, yx);
            }
        }
        (best, at)
    };
    // channel 0 is keypoint category 2 (right eye, x 145.4 → column 25),
    // channel 1 category 1 (x 139.6 → column 19); row 338.5 - 320 → 18
    let (v0, at0) = argmax(0);
    let (v1, at1) = argmax(1);
    assert!(v0 > 0.9 && v1 > 0.9, "{v0} {v1}");
    assert_eq!(at0, (18, 25));
    assert_eq!(at1, (18, 19));

    let o = bin()
        .arg("sample")
        .arg(fixtures().join("shapes4/data.kwcoco.json"))
        .args([
            "--target",
            target,
            "--masks",
            "heatmap",
            "--heatmap-sigma",
            "0",
            "--out",
        ])
        .arg(dir.path().join("bad"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("sigma"), "{}", stderr(&o));
}

#[test]
fn masks_beyond_max_sample_mb_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // 16 instances × 400 × 400 bytes = 2.5 MB of masks, 480 kB of pixels
    let o = bin()
        .arg("sample")
        .arg(fixtures().join("shapes4/data.kwcoco.json"))
        .args(["--target", r#"{"image_id": 1}"#, "--masks", "instance"])
        .args(["--max-sample-mb", "1", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("instance masks") && err.contains("1048576"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
