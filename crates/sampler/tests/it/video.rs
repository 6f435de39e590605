//! 3D samples on the multispectral video fixture: the same options as 2D.

use std::path::Path;

use sampler::{CocoSampler, Pixels, Target};

fn sampler() -> CocoSampler {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/vidshapes2-msi/data.kwcoco.json");
    CocoSampler::open(path).unwrap()
}

fn target(v: serde_json::Value) -> Target {
    serde_json::from_value(v).unwrap()
}

#[test]
fn time_slice_past_the_ends_gives_fill_frames() {
    let s = sampler();
    let t = target(
        serde_json::json!({"video_id": 1, "channels": "B1", "time_slice": [-1, 4], "space_slice": [[0, 8], [0, 8]]}),
    );
    let sample = s.load_sample(&t).unwrap();
    assert_eq!(sample.im.shape(), &[5, 8, 8, 1]);
    let ids: Vec<Option<i64>> = sample.frames.iter().map(|f| f.image_id).collect();
    assert_eq!(ids, vec![None, Some(1), Some(2), Some(3), None]);
    let Pixels::U16(a) = &sample.im else {
        panic!("uint16 expected")
    };
    assert!(a.index_axis(ndarray::Axis(0), 0).iter().all(|&v| v == 0));
    assert!(a.index_axis(ndarray::Axis(0), 2).iter().any(|&v| v != 0));
    assert_eq!(
        sample.target.image_ids,
        Some([1, 2, 3].map(coco_model::ImageId).to_vec())
    );
}

#[test]
fn time_pad_and_centre_mode_work_in_3d() {
    let s = sampler();
    let t = target(
        serde_json::json!({"video_id": 2, "channels": "B1|B8", "cx": 150, "cy": 150, "window_dims": [32, 48], "pad": [1, 2, 3], "nodata": "float"}),
    );
    let sample = s.load_sample(&t).unwrap();
    assert_eq!(sample.im.shape(), &[5, 36, 54, 2]);
    assert!(matches!(sample.im, Pixels::F32(_)));
    assert_eq!(sample.frames.first().unwrap().image_id, None);
    assert_eq!(
        sample.params.sample_ltrb,
        [150 - 24 - 3, 150 - 16 - 2, 150 + 24 + 3, 150 + 16 + 2]
    );
}

#[test]
fn annotation_targets_in_a_video_frame_are_2d() {
    let s = sampler();
    let t = target(serde_json::json!({"annot_id": 4, "channels": "B1"}));
    let sample = s.load_sample(&t).unwrap();
    assert_eq!(sample.im.shape().len(), 3);
    let frame = &sample.frames[0];
    let me = frame.annots.iter().find(|a| a.id == 4).unwrap();
    // The centred annotation fills the window.
    assert!(
        me.bbox[0].abs() < 1.0 && me.bbox[1].abs() < 1.0,
        "{:?}",
        me.bbox
    );
}
