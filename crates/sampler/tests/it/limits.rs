//! Resource limits: out-of-range numbers fail when the target is parsed (naming
//! the key), and samples larger than `max_sample_bytes` fail before anything
//! is allocated (naming the limit and the request).

use std::sync::Arc;

use coco_model::CocoDataset;
use sampler::{CocoSampler, Error, SamplerConfig, Target};

const W: u32 = 64;
const H: u32 = 48;

/// A 64×48 gray image, and a video of two such frames.
fn sampler(max_sample_bytes: u64) -> (tempfile::TempDir, CocoSampler) {
    let dir = tempfile::tempdir().unwrap();
    image::GrayImage::from_fn(W, H, |x, y| image::Luma([(x + y) as u8]))
        .save(dir.path().join("a.png"))
        .unwrap();
    let text = serde_json::json!({
        "categories": [{"id": 1, "name": "thing"}],
        "videos": [{"id": 1, "name": "v", "width": W, "height": H}],
        "images": [
            {"id": 1, "file_name": "a.png", "width": W, "height": H, "video_id": 1, "frame_index": 0},
            {"id": 2, "file_name": "a.png", "width": W, "height": H, "video_id": 1, "frame_index": 1}
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 4, 8, 8]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1e300, 1, 1e300, 1]}
        ]
    })
    .to_string();
    let dset = CocoDataset::from_json_str(&text, dir.path()).unwrap();
    let config = SamplerConfig {
        max_sample_bytes,
        ..SamplerConfig::default()
    };
    let s = CocoSampler::new(Arc::new(dset), config).unwrap();
    (dir, s)
}

fn parse_err(json: &str) -> String {
    serde_json::from_str::<Target>(json)
        .map(|t| format!("parsed: {t:?}"))
        .unwrap_or_else(|e| e.to_string())
}

fn target(json: &str) -> Target {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

#[test]
fn out_of_range_numbers_fail_at_parse_naming_the_key() {
    for (json, key) in [
        (
            r#"{"image_id": 1, "space_slice": [[0, 9223372036854775807], [0, 5]]}"#,
            "space_slice",
        ),
        (
            r#"{"image_id": 1, "space_slice": [[-1099511627777, 0], [0, 5]]}"#,
            "space_slice",
        ),
        (r#"{"image_id": 1, "pad": 4611686018427387904}"#, "pad"),
        (
            r#"{"image_id": 1, "pad": [[0, 1099511627777], [0, 0]]}"#,
            "pad",
        ),
        (
            r#"{"image_id": 1, "cx": 1, "cy": 1, "width": 1e308, "height": 1}"#,
            "width",
        ),
        (
            r#"{"image_id": 1, "cx": -1e300, "cy": 1, "width": 1, "height": 1}"#,
            "cx",
        ),
        (
            r#"{"image_id": 1, "cx": 1, "cy": 1, "window_dims": [1e13, 2]}"#,
            "window_dims",
        ),
        (
            r#"{"video_id": 1, "time_slice": [0, 2000000000000]}"#,
            "time_slice",
        ),
        (r#"{"image_id": 1, "scale": 0}"#, "scale"),
    ] {
        let e = parse_err(json);
        assert!(e.contains(key) && !e.starts_with("parsed"), "{json}: {e}");
    }
    // The largest accepted magnitude parses.
    let edge = sampler::target::MAX_COORD;
    target(&format!(
        r#"{{"image_id": 1, "space_slice": [[{}, {edge}], [0, 5]]}}"#,
        -edge
    ));
}

#[test]
fn oversized_samples_fail_before_allocating() {
    let (_d, s) = sampler(sampler::DEFAULT_MAX_SAMPLE_BYTES);
    for json in [
        r#"{"image_id": 1, "space_slice": [[0, 1000000000], [0, 1000000000]]}"#,
        r#"{"image_id": 1, "space_slice": [[-1000000000, 1000000000], [0, 5]]}"#,
        r#"{"image_id": 1, "pad": 1000000000}"#,
        r#"{"image_id": 1, "scale": 10000}"#,
        r#"{"video_id": 1, "space_slice": [[0, 100000], [0, 100000]]}"#,
        r#"{"image_id": 1, "space_slice": [[0, 1099511627776], [0, 1099511627776]], "channels": "x:1000"}"#,
    ] {
        match s.load_sample(&target(json)) {
            Err(Error::TooLarge { limit, .. }) => {
                assert_eq!(limit, sampler::DEFAULT_MAX_SAMPLE_BYTES, "{json}")
            }
            other => panic!(
                "{json}: expected TooLarge, got {:?}",
                other.map(|s| s.im.shape().to_vec())
            ),
        }
    }
    let e = s
        .load_sample(&target(r#"{"image_id": 1, "pad": 1000000000}"#))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("4294967296") && e.contains("max_sample_bytes"),
        "{e}"
    );
    // A scale whose output size is not finite is refused too.
    let e = s
        .load_sample(&target(r#"{"image_id": 1, "scale": 1e308}"#))
        .unwrap_err()
        .to_string();
    assert!(e.contains("scale"), "{e}");
}

#[test]
fn the_limit_is_exact_and_counts_dtype_bands_and_frames() {
    // 64×48 gray u8 = 3,072 bytes.
    let (_d, s) = sampler(3072);
    let whole = target(r#"{"image_id": 1}"#);
    assert_eq!(s.load_sample(&whole).unwrap().im.nbytes(), 3072);
    let (_d, s) = sampler(3071);
    assert!(matches!(
        s.load_sample(&whole),
        Err(Error::TooLarge {
            bytes: Some(3072),
            limit: 3071,
            ..
        })
    ));
    // float32 output: four bytes per sample.
    let (_d, s) = sampler(4 * 3072 - 1);
    let float = target(r#"{"image_id": 1, "dtype": "float32"}"#);
    assert!(matches!(s.load_sample(&float), Err(Error::TooLarge { .. })));
    let nodata = target(r#"{"image_id": 1, "nodata": "float"}"#);
    assert!(matches!(
        s.load_sample(&nodata),
        Err(Error::TooLarge { .. })
    ));
    // Two bands (one missing), two frames.
    let (_d, s) = sampler(2 * 3072 - 1);
    let two_bands = target(r#"{"image_id": 1, "channels": "gray|nir"}"#);
    assert!(matches!(
        s.load_sample(&two_bands),
        Err(Error::TooLarge { .. })
    ));
    let video = target(r#"{"video_id": 1}"#);
    match s.load_sample(&video) {
        Err(Error::TooLarge { shape, .. }) => assert_eq!(shape, [2, 48, 64, 1]),
        other => panic!("{:?}", other.map(|s| s.im.shape().to_vec())),
    }
    let (_d, s) = sampler(2 * 3072);
    assert_eq!(s.load_sample(&video).unwrap().im.shape(), [2, 48, 64, 1]);
}

#[test]
fn long_time_slices_fail_before_building_frame_lists() {
    let (_d, s) = sampler(sampler::DEFAULT_MAX_SAMPLE_BYTES);
    let e = s
        .load_sample(&target(
            r#"{"video_id": 1, "time_slice": [0, 10000000], "space_slice": [[0, 1], [0, 1]]}"#,
        ))
        .unwrap_err()
        .to_string();
    assert!(e.contains("time_slice"), "{e}");
    // Fill frames within the limit are fine.
    let ok = s
        .load_sample(&target(
            r#"{"video_id": 1, "time_slice": [0, 1000], "space_slice": [[0, 1], [0, 1]]}"#,
        ))
        .unwrap();
    assert_eq!(ok.im.shape(), [1000, 1, 1, 1]);
}

#[test]
fn huge_boxes_from_the_dataset_are_refused_not_overflowed() {
    let (_d, s) = sampler(sampler::DEFAULT_MAX_SAMPLE_BYTES);
    let e = s
        .load_sample(&target(r#"{"annot_id": 2}"#))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cx") || e.contains("width"), "{e}");
    // The ordinary annotation still samples.
    assert_eq!(
        s.load_sample(&target(r#"{"annot_id": 1}"#))
            .unwrap()
            .im
            .shape(),
        [8, 8, 1]
    );
}
