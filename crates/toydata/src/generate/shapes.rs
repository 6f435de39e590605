//! `shapes{N}`: loose gray images with up to 49 non-overlapping objects each.

use coco_model::geometry::NumberStyle;
use rayon::prelude::*;
use serde_json::{Value, json};

use super::Ctx;
use super::common::{anchors, boxes_overlap, image_categories, image_stem, keypoint_categories};
use crate::annot::{keypoints_json, segmentation_json, trace};
use crate::bundle::Tables;
use crate::encode::write_png_rgb;
use crate::error::Result;
use crate::key::ShapesSpec;
use crate::render::Canvas;
use crate::rng::ToyRng;
use crate::shape::{Raster, Shape};

/// Background: gray noise, mean 0.1, std 0.8, clipped (kwcoco's settings).
const BG_MEAN: f32 = 0.1;
const BG_STD: f32 = 0.8;
/// Foreground: mean 0.9, std 0.5, clipped.
const FG_MEAN: f32 = 0.9;
const FG_STD: f32 = 0.5;
/// Objects per image are drawn uniformly from `0..MAX_OBJECTS` (before overlap removal).
const MAX_OBJECTS: u64 = 50;

/// One placed object.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Placed {
    pub shape: Shape,
    /// Integer box `[x, y, w, h]`.
    pub bbox: [i64; 4],
}

/// Random non-overlapping boxes in a `w × h` image, kwcoco style: anchors
/// jittered, centres uniform, boxes scaled into the central 80% of the image,
/// overlapping boxes dropped (earlier ones win).
pub(crate) fn layout(rng: &mut ToyRng, w: u32, h: u32) -> Vec<Placed> {
    let anchors = anchors();
    let num = rng.below(MAX_OBJECTS);
    let (fw, fh) = (f64::from(w), f64::from(h));
    let margin = 0.1 * fw.min(fh);
    let mut kept: Vec<Placed> = Vec::new();
    for _ in 0..num {
        let [aw, ah] = anchors[rng.below(anchors.len() as u64) as usize];
        let bw = (aw * (1.0 + 0.25 * rng.normal(0.0, 1.0))).clamp(0.01, 0.9);
        let bh = (ah * (1.0 + 0.25 * rng.normal(0.0, 1.0))).clamp(0.01, 0.9);
        let cx = rng.range(bw / 2.0, 1.0 - bw / 2.0);
        let cy = rng.range(bh / 2.0, 1.0 - bh / 2.0);
        let shape = Shape::ALL[rng.below(3) as usize];
        let x = ((cx - bw / 2.0) * fw * 0.8 + margin) as i64;
        let y = ((cy - bh / 2.0) * fh * 0.8 + margin) as i64;
        let pw = ((bw * fw * 0.8) as i64).max(1);
        let ph = ((bh * fh * 0.8) as i64).max(1);
        let ar = pw.max(ph) as f64 / pw.min(ph) as f64;
        if pw < 2 || ph < 2 || ar >= 4.0 {
            continue;
        }
        // keep the box inside the image (tiny images round up)
        let x = x.clamp(0, (i64::from(w) - pw).max(0));
        let y = y.clamp(0, (i64::from(h) - ph).max(0));
        if pw > i64::from(w) || ph > i64::from(h) {
            continue;
        }
        let bbox = [x, y, pw, ph];
        if kept.iter().any(|k| boxes_overlap(k.bbox, bbox)) {
            continue;
        }
        kept.push(Placed { shape, bbox });
    }
    kept
}

pub(crate) fn generate(spec: &ShapesSpec, ctx: &Ctx) -> Result<(Tables, usize)> {
    let (w, h) = (spec.width, spec.height);
    let progress = ctx.progress(u64::from(spec.num_images), "shapes");
    let per_image: Vec<Result<(Value, Vec<Value>)>> = (1..=u64::from(spec.num_images))
        .into_par_iter()
        .map(|gid| {
            let mut rng = ctx.seeds.rng("shapes-image", gid);
            let objects = layout(&mut rng, w, h);
            let noise_seed = ctx.seeds.value("shapes-pixels", gid);
            let mut canvas = Canvas::noise(w as usize, h as usize, &[BG_MEAN], BG_STD, noise_seed);
            let mut anns = Vec::with_capacity(objects.len());
            for (k, obj) in objects.iter().enumerate() {
                let fbox = obj.bbox.map(|v| v as f64);
                let raster = Raster::new(obj.shape, fbox);
                let fg_seed = ctx.seeds.value("shapes-fg", (gid << 16) | k as u64);
                canvas.composite(&raster, &[FG_MEAN], FG_STD, fg_seed);
                let area = raster.area();
                if area == 0 {
                    continue;
                }
                anns.push(json!({
                    "segmentation": segmentation_json(trace(&raster), NumberStyle::Int),
                    "keypoints": keypoints_json(obj.shape, fbox),
                    "bbox": obj.bbox,
                    "area": area as f64,
                    "id": 0,
                    "image_id": gid,
                    "category_id": obj.shape.shapes_category_id(),
                }));
            }
            let file_name = format!("images/{}.png", image_stem(gid));
            write_png_rgb(&ctx.out_dir.join(&file_name), w, h, &canvas.to_rgb8())?;
            progress.inc(1);
            let img = json!({
                "width": w,
                "height": h,
                "channels": "rgb",
                "id": gid,
                "file_name": file_name,
            });
            Ok((img, anns))
        })
        .collect();
    progress.finish();
    let mut images = Vec::new();
    let mut annotations = Vec::new();
    for r in per_image {
        let (img, anns) = r?;
        images.push(img);
        for mut a in anns {
            a["id"] = json!(annotations.len() + 1);
            annotations.push(a);
        }
    }
    let files = images.len();
    let mut t = Tables::default();
    t.push("categories", image_categories());
    t.push("keypoint_categories", keypoint_categories());
    t.push("images", images);
    t.push("annotations", annotations);
    Ok((t, files))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seeds;

    #[test]
    fn layout_boxes_are_inside_and_disjoint() {
        for i in 0..50 {
            let mut rng = Seeds::new("shapes", 0).rng("t", i);
            let (w, h) = (200 + 7 * i as u32, 150);
            let objs = layout(&mut rng, w, h);
            for (k, o) in objs.iter().enumerate() {
                let [x, y, bw, bh] = o.bbox;
                assert!(x >= 0 && y >= 0 && x + bw <= i64::from(w) && y + bh <= i64::from(h));
                assert!(bw >= 2 && bh >= 2);
                for p in &objs[..k] {
                    assert!(!boxes_overlap(p.bbox, o.bbox));
                }
            }
        }
    }

    #[test]
    fn layout_on_tiny_images_does_not_panic() {
        for i in 0..20 {
            let mut rng = Seeds::new("tiny", 0).rng("t", i);
            for (w, h) in [(1, 1), (2, 3), (8, 8)] {
                for o in layout(&mut rng, w, h) {
                    assert!(o.bbox[0] + o.bbox[2] <= i64::from(w));
                }
            }
        }
    }
}
