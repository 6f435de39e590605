//! `big{N}-gsize{S}-annots{K}`: large RGB images with image-like texture and many
//! small annotations, for benchmarks.
//!
//! The texture is multi-octave value noise (luminance and two colour fields)
//! plus a little sensor-like grain; objects are composited on top. Images are
//! rendered and PNG-encoded in strips of rows, so memory stays at a few strips
//! whatever the image size; rows of a strip are rendered in parallel.

use coco_model::geometry::NumberStyle;
use rayon::prelude::*;
use serde_json::{Value, json};

use super::Ctx;
use super::common::{boxes_overlap, image_categories, image_stem, keypoint_categories};
use crate::annot::{keypoints_json, segmentation_json, trace};
use crate::bundle::Tables;
use crate::encode::PngStripWriter;
use crate::error::Result;
use crate::key::BigSpec;
use crate::render::to_u8;
use crate::rng::{ToyRng, hash_normal};
use crate::shape::{Raster, Shape};
use crate::texture::ValueNoise;

/// Rows per strip.
const STRIP: u32 = 64;
/// Grid cell of the overlap test, in pixels.
const CELL: i64 = 64;

struct Object {
    shape: Shape,
    bbox: [i64; 4],
    color: [f32; 3],
    raster: Raster,
}

/// Random non-overlapping small boxes (sides 8..64 px, at most a quarter of the
/// image), found by rejection against a uniform grid.
fn place_objects(rng: &mut ToyRng, w: u32, h: u32, count: u32) -> Vec<Object> {
    let (wi, hi) = (i64::from(w), i64::from(h));
    let max_side = (wi.min(hi) / 4).clamp(2, 64);
    let min_side = 8.min(max_side);
    let cols = (wi + CELL - 1) / CELL;
    let rows = (hi + CELL - 1) / CELL;
    let mut grid: Vec<Vec<usize>> = vec![Vec::new(); (cols * rows) as usize];
    let mut out: Vec<Object> = Vec::with_capacity(count as usize);
    let attempts = u64::from(count) * 8 + 16;
    for _ in 0..attempts {
        if out.len() >= count as usize {
            break;
        }
        let side = rng.int_range(min_side, max_side + 1);
        let ar = rng.range(0.6, 1.6);
        let bw = ((side as f64 * ar) as i64).clamp(2, max_side.max(2));
        let bh = ((side as f64 / ar) as i64).clamp(2, max_side.max(2));
        if bw > wi || bh > hi {
            continue;
        }
        let x = rng.int_range(0, wi - bw + 1);
        let y = rng.int_range(0, hi - bh + 1);
        let shape = Shape::ALL[rng.below(3) as usize];
        let color = [
            rng.range(0.0, 1.0) as f32,
            rng.range(0.0, 1.0) as f32,
            rng.range(0.0, 1.0) as f32,
        ];
        let bbox = [x, y, bw, bh];
        let (c0, c1) = (x / CELL, (x + bw - 1) / CELL);
        let (r0, r1) = (y / CELL, (y + bh - 1) / CELL);
        let mut free = true;
        'check: for r in r0..=r1 {
            for c in c0..=c1 {
                for &k in &grid[(r * cols + c) as usize] {
                    if boxes_overlap(out[k].bbox, bbox) {
                        free = false;
                        break 'check;
                    }
                }
            }
        }
        if !free {
            continue;
        }
        for r in r0..=r1 {
            for c in c0..=c1 {
                grid[(r * cols + c) as usize].push(out.len());
            }
        }
        let raster = Raster::new(shape, bbox.map(|v| v as f64));
        out.push(Object {
            shape,
            bbox,
            color,
            raster,
        });
    }
    out
}

struct Texture {
    lum: ValueNoise,
    chroma_a: ValueNoise,
    chroma_b: ValueNoise,
    grain_seed: u64,
    fg_seed: u64,
}

impl Texture {
    fn new(ctx: &Ctx, index: u64) -> Self {
        let v = |label: &str| ctx.seeds.value(label, index);
        Texture {
            lum: ValueNoise::new(v("big-lum"), 512, 2, 0.6),
            chroma_a: ValueNoise::new(v("big-chroma-a"), 1024, 32, 0.5),
            chroma_b: ValueNoise::new(v("big-chroma-b"), 1024, 32, 0.5),
            grain_seed: v("big-grain"),
            fg_seed: v("big-fg"),
        }
    }

    /// Render row `y` (RGB bytes) with the objects of `objs` that cross it.
    fn row(&self, y: u32, width: u32, objs: &[&Object], out: &mut [u8]) {
        let w = width as usize;
        let mut scratch = Vec::new();
        let mut lum = vec![0f32; w];
        let mut ca = vec![0f32; w];
        let mut cb = vec![0f32; w];
        self.lum.row(y, &mut lum, &mut scratch);
        self.chroma_a.row(y, &mut ca, &mut scratch);
        self.chroma_b.row(y, &mut cb, &mut scratch);
        let mut rgb = vec![0f32; w * 3];
        let row_index = u64::from(y) * u64::from(width);
        for x in 0..w {
            // stretch the noise's narrow distribution around 0.5 to a full range
            let l = (0.5 + 1.8 * (lum[x] - 0.5)).clamp(0.0, 1.0);
            let a = ca[x] - 0.5;
            let b = cb[x] - 0.5;
            let grain = 0.015 * hash_normal(self.grain_seed, row_index + x as u64);
            rgb[x * 3] = l + 0.5 * a + grain;
            rgb[x * 3 + 1] = l + 0.25 * b + grain;
            rgb[x * 3 + 2] = l - 0.4 * a - 0.3 * b + grain;
        }
        let yi = i64::from(y);
        for o in objs {
            let r = &o.raster;
            if yi < r.y0 || yi >= r.y0 + r.h as i64 {
                continue;
            }
            let rr = (yi - r.y0) as usize;
            for c in 0..r.w {
                let al = r.at(c, rr);
                if al <= 0.0 {
                    continue;
                }
                let x = (r.x0 + c as i64) as usize;
                let p = (row_index + x as u64) * 3;
                for k in 0..3 {
                    let fg = o.color[k] + 0.06 * hash_normal(self.fg_seed, p + k as u64);
                    let bg = rgb[x * 3 + k];
                    rgb[x * 3 + k] = al * fg + (1.0 - al) * bg;
                }
            }
        }
        for (o, v) in out.iter_mut().zip(&rgb) {
            *o = to_u8(*v);
        }
    }
}

fn render_image(
    ctx: &Ctx,
    index: u64,
    w: u32,
    h: u32,
    objects: &[Object],
    progress: &crate::progress::Reporter<'_>,
) -> Result<String> {
    let file_name = format!("images/{}.png", image_stem(index));
    let path = ctx.out_dir.join(&file_name);
    let tex = Texture::new(ctx, index);
    // objects by strip
    let nstrips = h.div_ceil(STRIP) as usize;
    let mut by_strip: Vec<Vec<&Object>> = vec![Vec::new(); nstrips];
    for o in objects {
        let r = &o.raster;
        if r.h == 0 {
            continue;
        }
        let s0 = (r.y0 / i64::from(STRIP)) as usize;
        let s1 = ((r.y0 + r.h as i64 - 1) / i64::from(STRIP)) as usize;
        for list in &mut by_strip[s0..=s1.min(nstrips - 1)] {
            list.push(o);
        }
    }
    let mut writer = PngStripWriter::create(&path, w, h)?;
    let row_bytes = w as usize * 3;
    let mut buf = vec![0u8; row_bytes * STRIP as usize];
    for (s, objs) in by_strip.iter().enumerate() {
        let y0 = s as u32 * STRIP;
        let rows = STRIP.min(h - y0) as usize;
        buf[..rows * row_bytes]
            .par_chunks_mut(row_bytes)
            .enumerate()
            .for_each(|(r, out)| tex.row(y0 + r as u32, w, objs, out));
        writer.write_rows(&buf[..rows * row_bytes])?;
        progress.inc(rows as u64);
    }
    writer.finish()?;
    Ok(file_name)
}

pub(crate) fn generate(spec: &BigSpec, ctx: &Ctx) -> Result<(Tables, usize)> {
    let (w, h) = (spec.width, spec.height);
    let progress = ctx.progress(u64::from(spec.num_images) * u64::from(h), "big");
    let mut images = Vec::new();
    let mut annotations: Vec<Value> = Vec::new();
    for gid in 1..=u64::from(spec.num_images) {
        let mut rng = ctx.seeds.rng("big-image", gid);
        let objects = place_objects(&mut rng, w, h, spec.annots_per_image);
        let file_name = render_image(ctx, gid, w, h, &objects, &progress)?;
        let anns: Vec<Value> = objects
            .par_iter()
            .map(|o| {
                let fbox = o.bbox.map(|v| v as f64);
                json!({
                    "segmentation": segmentation_json(trace(&o.raster), NumberStyle::Int),
                    "keypoints": keypoints_json(o.shape, fbox),
                    "bbox": o.bbox,
                    "area": o.raster.area() as f64,
                    "id": 0,
                    "image_id": gid,
                    "category_id": o.shape.shapes_category_id(),
                })
            })
            .collect();
        for (mut a, o) in anns.into_iter().zip(&objects) {
            if o.raster.area() == 0 {
                continue;
            }
            a["id"] = json!(annotations.len() + 1);
            annotations.push(a);
        }
        images.push(json!({
            "width": w,
            "height": h,
            "channels": "rgb",
            "id": gid,
            "file_name": file_name,
        }));
    }
    progress.finish();
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
    fn objects_fit_and_do_not_overlap() {
        let mut rng = Seeds::new("big", 0).rng("t", 0);
        let objs = place_objects(&mut rng, 300, 200, 120);
        assert!(objs.len() > 40, "{}", objs.len());
        for (i, o) in objs.iter().enumerate() {
            let [x, y, bw, bh] = o.bbox;
            assert!(x >= 0 && y >= 0 && x + bw <= 300 && y + bh <= 200);
            for p in &objs[..i] {
                assert!(!boxes_overlap(p.bbox, o.bbox));
            }
        }
        let mut rng = Seeds::new("big", 0).rng("t", 1);
        assert!(place_objects(&mut rng, 1, 1, 10).is_empty());
    }
}
