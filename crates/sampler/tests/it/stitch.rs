//! Sliding-window inference end to end: a dataset's grid windows, loaded by
//! the sampler and "predicted" as their own pixels, stitch back into the
//! image, with either blend.

use std::path::Path;
use std::sync::Arc;

use coco_model::{CocoDataset, ImageId};
use ndarray::{Array3, Axis};
use sampler::stitch::{Blend, Stitcher};
use sampler::{CocoSampler, GridConfig, SamplerConfig, sample_grid};

#[test]
fn grid_windows_stitch_back_into_the_image() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/shapes4/data.kwcoco.json");
    let ds = Arc::new(CocoDataset::load(path).unwrap());
    let s = CocoSampler::new(ds.clone(), SamplerConfig::default()).unwrap();
    let grid = sample_grid(&ds, &GridConfig::new([96, 128]).with_overlap(0.3)).unwrap();
    let full: sampler::Target = serde_json::from_value(serde_json::json!({"image_id": 2})).unwrap();
    let image = s.load_sample(&full).unwrap().im.to_f64().mapv(|v| v as f32);
    let image = image.into_dimensionality::<ndarray::Ix3>().unwrap();
    let (h, w, c) = image.dim();
    for blend in [Blend::Mean, Blend::GAUSSIAN] {
        let mut st = Stitcher::new(h, w, c, blend).unwrap();
        let mut n = 0;
        for t in grid
            .targets
            .iter()
            .filter(|t| t.image_id == Some(ImageId(2)))
        {
            let sample = s.load_sample(t).unwrap();
            let pred: Array3<f32> = sample
                .im
                .to_f64()
                .mapv(|v| v as f32)
                .into_dimensionality()
                .unwrap();
            st.add_sample(&sample, pred.view()).unwrap();
            n += 1;
        }
        assert!(n > 4, "the grid should overlap several windows, got {n}");
        // every pixel is covered by a window, some by several
        assert!(st.weights().iter().all(|&v| v > 0.0));
        assert!(st.weights().iter().any(|&v| v > 1.0 + 1e-3));
        let out = st.finalize();
        let err = out
            .iter()
            .zip(image.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-3, "{blend:?}: max error {err}");
        assert_eq!(out.len_of(Axis(2)), c);
    }
    // a scaled sample is not on the image grid
    let scaled: sampler::Target = serde_json::from_value(
        serde_json::json!({"image_id": 2, "space_slice": [[0, 10], [0, 10]], "scale": 2}),
    )
    .unwrap();
    let sample = s.load_sample(&scaled).unwrap();
    let mut st = Stitcher::new(h, w, c, Blend::Mean).unwrap();
    let e = st
        .add_sample(&sample, Array3::zeros((20, 20, c)).view())
        .unwrap_err();
    assert!(e.to_string().contains("scale"), "{e}");
}
