//! Annotation geometry of a rendered object: polygons traced from its mask (with
//! `coco-model`'s tracer) and keypoints placed by its shape template.

use coco_model::geometry::{Mask, MultiPolygon, NumberStyle, PolygonForm, Segmentation};
use serde_json::{Value, json};

use crate::shape::{MASK_THRESHOLD, Raster, Shape, keypoint_category_id};

/// The object's mask traced into polygons (pixel-corner vertices, holes
/// included) in image coordinates.
pub(crate) fn trace(raster: &Raster) -> MultiPolygon {
    if raster.w == 0 || raster.h == 0 {
        return MultiPolygon::default();
    }
    match Mask::from_fn(raster.h, raster.w, |x, y| raster.at(x, y) > MASK_THRESHOLD) {
        Ok(mask) => mask
            .to_multi_polygon()
            .translate(raster.x0 as f64, raster.y0 as f64),
        // from_fn only fails on sizes that overflow, which a raster cannot have
        Err(_) => MultiPolygon::default(),
    }
}

/// kwcoco JSON of a traced segmentation: `[{"exterior": …, "interiors": …}, …]`.
pub(crate) fn segmentation_json(shape: MultiPolygon, style: NumberStyle) -> Value {
    Segmentation::Polygons {
        shape,
        form: PolygonForm::Kwcoco {
            multi: true,
            interiors_key: true,
        },
        style,
    }
    .to_json()
}

/// kwcoco keypoints (`[{"xy": [x, y], "keypoint_category_id": k}, …]`) of a shape
/// stretched over `bbox`.
pub(crate) fn keypoints_json(shape: Shape, bbox: [f64; 4]) -> Value {
    let [x, y, w, h] = bbox;
    Value::Array(
        shape
            .keypoints()
            .iter()
            .map(|&(name, u, v)| {
                json!({
                    "xy": [x + u * w, y + v * h],
                    "keypoint_category_id": keypoint_category_id(name).unwrap_or(0),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traced_polygons_cover_exactly_the_mask_and_keep_holes() {
        let r = Raster::new(Shape::Superstar, [5.0, 7.0, 60.0, 60.0]);
        let mp = trace(&r);
        assert_eq!(mp.area() as usize, r.area());
        let holes: usize = mp.polygons.iter().map(|p| p.interiors.len()).sum();
        assert_eq!(holes, 2, "two eye holes");
        let b = mp.bbox().unwrap().xywh();
        assert!(b[0] >= 5.0 && b[1] >= 7.0 && b[0] + b[2] <= 65.0 && b[1] + b[3] <= 67.0);
        let js = segmentation_json(mp, NumberStyle::Int);
        assert!(js[0]["exterior"][0][0].is_i64());
        assert_eq!(js[0]["interiors"].as_array().unwrap().len(), 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Any box (fractional, partly negative): the traced polygons cover
        /// exactly the mask pixels and stay inside the box.
        #[test]
        fn traced_polygons_stay_in_fractional_boxes(
            x in -50.0f64..50.0,
            y in -50.0f64..50.0,
            w in 0.5f64..40.0,
            h in 0.5f64..40.0,
            s in 0usize..3,
        ) {
            let shape = Shape::ALL[s];
            let r = Raster::new(shape, [x, y, w, h]);
            let mp = trace(&r);
            proptest::prop_assert_eq!(mp.area() as usize, r.area());
            if let Some(b) = mp.bbox() {
                let [bx, by, bw, bh] = b.xywh();
                proptest::prop_assert!(bx >= x && by >= y);
                proptest::prop_assert!(bx + bw <= x + w + 1e-9 && by + bh <= y + h + 1e-9);
            }
        }
    }

    #[test]
    fn keypoints_are_inside_the_box() {
        let kp = keypoints_json(Shape::Eff, [10.0, 20.0, 30.0, 40.0]);
        let kp = kp.as_array().unwrap();
        assert_eq!(kp.len(), 3);
        for k in kp {
            let x = k["xy"][0].as_f64().unwrap();
            let y = k["xy"][1].as_f64().unwrap();
            assert!((10.0..=40.0).contains(&x) && (20.0..=60.0).contains(&y));
        }
        assert_eq!(kp[0]["keypoint_category_id"], 3);
    }
}
