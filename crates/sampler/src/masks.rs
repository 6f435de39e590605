//! Masks and heatmaps of a sample's annotations, in the window's pixels.
//!
//! A [`Sample`]'s annotations are already in sample space (after pad, scale
//! and warp), so rasterizing them at the window's size aligns them with
//! `im` pixel for pixel. On request, per frame:
//! - [`class_mask`]: one `i32` category id per pixel (`background` where no
//!   annotation is, `ignore_value` for ignored categories and, optionally,
//!   the padding outside the image);
//! - [`instance_masks`]: `N × H × W` 0/1 masks, one per annotation, also
//!   bit-packed as numpy's `packbits(axis=-1)` ([`InstanceMasks::packed`]);
//! - [`keypoint_heatmaps`]: one Gaussian heatmap channel per keypoint class.
//!
//! 2D samples give `(H, W)` class masks and `(K, H, W)` heatmaps; 3D samples
//! (videos) add a leading time axis: `(T, H, W)` and `(T, K, H, W)`.
//! Polygons are rasterized with a [`FillRule`]: [`FillRule::Centers`] (the
//! project's convention: pixel `(x, y)` covers `[x, x+1) × [y, y+1)` and is
//! set when its centre is inside) or [`FillRule::Cv2Points`] (kwimage's
//! default `to_mask()`, vertices at pixel centres, boundary included: the
//! rule for kwcoco's own polygons). RLE segmentations decode the same under
//! both.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use sampler::{CocoSampler, SamplerConfig, Target};
//! use sampler::masks::MaskOptions;
//!
//! let dir = tempfile::tempdir()?;
//! image::GrayImage::new(32, 32).save(dir.path().join("a.png"))?;
//! let json = r#"{"categories": [{"id": 5, "name": "cat"}],
//!   "images": [{"id": 1, "file_name": "a.png", "width": 32, "height": 32}],
//!   "annotations": [{"id": 7, "image_id": 1, "category_id": 5, "bbox": [4, 4, 8, 8],
//!                    "segmentation": [[4, 4, 12, 4, 12, 12, 4, 12]]}]}"#;
//! let dset = coco_model::CocoDataset::from_json_str(json, dir.path())?;
//! let sampler = CocoSampler::new(Arc::new(dset), SamplerConfig::default())?;
//! let target: Target = serde_json::from_str(r#"{"image_id": 1, "space_slice": [[0, 16], [0, 16]]}"#)?;
//! let sample = sampler.load_sample(&target)?;
//! let cls = sample.class_mask(&MaskOptions::default())?;
//! assert_eq!(cls.shape(), &[16, 16]);
//! assert_eq!(cls.iter().filter(|&&v| v == 5).count(), 64);
//! # Ok(()) }
//! ```

use coco_model::geometry::{BBox, FillRule, FillScratch, Mask, Polygon, Segmentation};
use ndarray::{Array3, ArrayD, IxDyn};

use crate::error::{Result, TrainingError};
use crate::sampler::{Sample, SampleAnnot, SampleFrame};

/// In which order overlapping annotations are painted into a class mask
/// (the last one painted wins a pixel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PaintOrder {
    /// Ascending annotation id (independent of the spatial index's order).
    #[default]
    Id,
    /// Largest area first, so small objects stay visible on top of large
    /// ones (ties by id).
    AreaDescending,
}

/// Options of [`class_mask`] and [`instance_masks`].
#[derive(Clone, Debug, PartialEq)]
pub struct MaskOptions {
    /// How polygon vertices relate to pixels (default [`FillRule::Centers`]).
    pub fill: FillRule,
    /// Class-mask value where no annotation is (default 0).
    pub background: i32,
    /// Class-mask value of ignored pixels (default -1).
    pub ignore_value: i32,
    /// Class-mask pixels outside the sampled image or video (padding, fill
    /// frames) get `ignore_value` (default false: they are background or
    /// whatever annotation covers them), whatever `padkw` filled them with.
    pub ignore_padding: bool,
    /// Annotations of these categories are painted with `ignore_value`
    /// (class masks) and left out of instance masks.
    pub ignore_category_ids: Vec<i64>,
    /// Painting order of overlapping annotations.
    pub order: PaintOrder,
    /// Rasterize an annotation without segmentation as its box (default
    /// true); when false it is skipped.
    pub boxes_without_segmentation: bool,
    /// Largest output in bytes (class mask, or all instance masks
    /// together), checked before anything is allocated (default
    /// [`crate::DEFAULT_MAX_SAMPLE_BYTES`], as for a sample's pixels).
    pub max_bytes: u64,
}

impl Default for MaskOptions {
    fn default() -> Self {
        MaskOptions {
            fill: FillRule::Centers,
            background: 0,
            ignore_value: -1,
            ignore_padding: false,
            ignore_category_ids: Vec::new(),
            order: PaintOrder::Id,
            boxes_without_segmentation: true,
            max_bytes: crate::DEFAULT_MAX_SAMPLE_BYTES,
        }
    }
}

/// Options of [`keypoint_heatmaps`].
#[derive(Clone, Debug, PartialEq)]
pub struct HeatmapOptions {
    /// Standard deviation of each keypoint's Gaussian, in output pixels
    /// (finite, > 0).
    pub sigma: f64,
    /// One channel per keypoint category id, in this order; keypoints of
    /// other (or no) categories are left out. `None`: one channel for all
    /// keypoints.
    pub keypoint_category_ids: Option<Vec<i64>>,
    /// The Gaussian is cut at `truncate × sigma` from its centre (default 3).
    pub truncate: f64,
    /// Largest output in bytes, checked before allocating (default
    /// [`crate::DEFAULT_MAX_SAMPLE_BYTES`]).
    pub max_bytes: u64,
}

impl HeatmapOptions {
    /// One channel for every keypoint, Gaussians of `sigma` pixels.
    pub fn new(sigma: f64) -> Self {
        HeatmapOptions {
            sigma,
            keypoint_category_ids: None,
            truncate: 3.0,
            max_bytes: crate::DEFAULT_MAX_SAMPLE_BYTES,
        }
    }
}

/// The instance masks of a sample: one `H × W` 0/1 mask per annotation.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceMasks {
    /// `(N, H, W)`, 0 or 1.
    pub masks: Array3<u8>,
    /// Annotation id of each mask.
    pub ids: Vec<i64>,
    /// Category id of each mask.
    pub category_ids: Vec<Option<i64>>,
    /// Frame index (position in [`Sample::frames`]) of each mask.
    pub frames: Vec<usize>,
}

impl InstanceMasks {
    /// Number of masks.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no masks.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Bit-packed along the last axis as numpy's `np.packbits(m, axis=-1)`:
    /// `(N, H, ceil(W / 8))`, the first pixel of a byte in its high bit.
    pub fn packed(&self) -> Array3<u8> {
        pack_bits(&self.masks)
    }
}

/// `np.packbits(m, axis=-1)` of a 3-D 0/1 array (any non-zero is a one).
pub fn pack_bits(m: &Array3<u8>) -> Array3<u8> {
    let (n, h, w) = m.dim();
    let wb = w.div_ceil(8);
    let mut out = vec![0u8; n * h * wb];
    if w > 0 {
        let src = m.as_standard_layout();
        let src = src.as_slice().unwrap_or(&[]);
        for (row, dst) in src.chunks_exact(w).zip(out.chunks_exact_mut(wb)) {
            // eight pixels per byte, the first in the high bit
            for (byte, px) in dst.iter_mut().zip(row.chunks(8)) {
                let mut b = 0u8;
                for (j, &v) in px.iter().enumerate() {
                    b |= u8::from(v != 0) << (7 - j);
                }
                *byte = b;
            }
        }
    }
    Array3::from_shape_vec((n, h, wb), out).expect("n·h·wb bytes for an (n, h, wb) array")
}

/// `np.unpackbits(p, axis=-1)[..., :width]`: the inverse of [`pack_bits`].
///
/// Errors: [`TrainingError::BadOption`] (`width`) when `width` does not fit
/// the packed rows.
pub fn unpack_bits(p: &Array3<u8>, width: usize) -> Result<Array3<u8>> {
    let (n, h, wb) = p.dim();
    if width.div_ceil(8) != wb {
        return Err(TrainingError::BadOption {
            option: "width",
            msg: format!("{width} columns do not pack into {wb} bytes per row"),
        }
        .into());
    }
    Ok(Array3::from_shape_fn((n, h, width), |(i, y, x)| {
        (p[[i, y, x / 8]] >> (7 - x % 8)) & 1
    }))
}

/// `[H, W]` of the sample's window: the padded window times the output
/// scale (the shape of `im`'s spatial axes, also with `skip_pixels`).
pub fn window_shape(sample: &Sample) -> [usize; 2] {
    let [[y0, y1], [x0, x1]] = sample.params.st_dims;
    let [sx, sy] = sample.params.scale;
    let ext = |d: i64, s: f64| ((d as f64) * s).round().max(0.0) as usize;
    [ext(y1 - y0, sy), ext(x1 - x0, sx)]
}

/// Refuse an output of `dims` elements of `elem` bytes beyond `limit`.
fn check_bytes(what: &'static str, dims: &[usize], elem: usize, limit: u64) -> Result<()> {
    let bytes = dims
        .iter()
        .try_fold(elem as u64, |acc, &d| acc.checked_mul(d as u64));
    match bytes {
        Some(b) if b <= limit => Ok(()),
        _ => Err(TrainingError::BadOption {
            option: "max_bytes",
            msg: format!(
                "{what} of shape {dims:?} needs {} which exceeds the limit of {limit} bytes",
                bytes.map_or_else(
                    || "more than 2^64 bytes".to_string(),
                    |b| format!("{b} bytes")
                )
            ),
        }
        .into()),
    }
}

fn is_video(sample: &Sample) -> bool {
    sample.params.time_span.is_some()
}

/// The annotations of a frame to rasterize, in painting order, with their
/// geometry (segmentation, else the box when allowed).
fn painted<'a>(
    frame: &'a SampleFrame,
    opts: &MaskOptions,
) -> Vec<(&'a SampleAnnot, Option<Segmentation>)> {
    let mut list: Vec<(&SampleAnnot, Option<Segmentation>)> = frame
        .annots
        .iter()
        .filter_map(|a| match &a.segmentation {
            Some(_) => Some((a, None)),
            None if opts.boxes_without_segmentation => {
                let [x, y, w, h] = a.bbox;
                let poly = Polygon::from_bbox(&BBox::new(x, y, w, h));
                Some((a, Some(Segmentation::from_multi_polygon(poly.into()))))
            }
            None => None,
        })
        .collect();
    match opts.order {
        PaintOrder::Id => list.sort_by_key(|(a, _)| a.id),
        PaintOrder::AreaDescending => list.sort_by(|(a, sa), (b, sb)| {
            let area = |x: &SampleAnnot, s: &Option<Segmentation>| {
                s.as_ref()
                    .or(x.segmentation.as_ref())
                    .map_or(0.0, |g| g.area())
            };
            area(b, sb).total_cmp(&area(a, sa)).then(a.id.cmp(&b.id))
        }),
    }
    list
}

/// Rows `[r0, r1)` and columns `[c0, c1)` an annotation's pixels can occupy
/// (its box, with a pixel of margin for the fill rules' rounding), clamped
/// to the window; the whole window for an RLE or a non-finite box.
fn span(seg: &Segmentation, h: usize, w: usize) -> [(usize, usize); 2] {
    let clamp = |lo: f64, hi: f64, n: usize| {
        let a = (lo.floor() - 1.0).clamp(0.0, n as f64) as usize;
        let b = (hi.ceil() + 2.0).clamp(0.0, n as f64) as usize;
        (a, b.max(a))
    };
    match seg.bbox() {
        Some(b) if !seg.is_rle() && b.ltrb().iter().all(|v| v.is_finite()) => {
            let [l, t, r, bt] = b.ltrb();
            [clamp(t, bt, h), clamp(l, r, w)]
        }
        _ => [(0, h), (0, w)],
    }
}

/// Rasterize one annotation into `mask` (cleared by the caller).
fn rasterize(
    a: &SampleAnnot,
    seg: &Segmentation,
    rule: FillRule,
    mask: &mut Mask,
    bufs: &mut FillScratch,
) -> Result<()> {
    seg.fill_into_scratch(mask, rule, bufs)
        .map_err(|source| TrainingError::Geometry {
            annot_id: a.id,
            source,
        })?;
    Ok(())
}

fn category_value(a: &SampleAnnot, opts: &MaskOptions) -> Result<i32> {
    match a.category_id {
        Some(c) if opts.ignore_category_ids.contains(&c) => Ok(opts.ignore_value),
        Some(c) => i32::try_from(c).map_err(|_| {
            TrainingError::BadOption {
                option: "category_id",
                msg: format!(
                    "annotation {}: category id {c} does not fit a 32-bit class mask",
                    a.id
                ),
            }
            .into()
        }),
        None => Ok(opts.ignore_value),
    }
}

/// Whether the padded window's column `j` / row `i` lies in the sampled
/// image or video: `valid[0]` per row, `valid[1]` per column.
fn valid_axes(sample: &Sample, h: usize, w: usize) -> [Vec<bool>; 2] {
    let [x0, y0, _, _] = sample.params.sample_ltrb;
    let [dh, dw] = sample.params.data_dims;
    let [sx, sy] = sample.params.scale;
    let axis = |n: usize, lo: i64, d: i64, s: f64| -> Vec<bool> {
        (0..n)
            .map(|k| {
                // centre of output pixel k in the sampled space
                let c = (k as f64 + 0.5) / s + lo as f64;
                c >= 0.0 && c < d as f64
            })
            .collect()
    };
    [axis(h, y0, dh, sy), axis(w, x0, dw, sx)]
}

/// The class mask of one frame into `out` (`H × W`, row-major).
fn class_mask_frame(
    sample: &Sample,
    frame_index: usize,
    opts: &MaskOptions,
    out: &mut [i32],
    scratch: &mut Mask,
    bufs: &mut FillScratch,
) -> Result<()> {
    let (h, w) = (scratch.height(), scratch.width());
    out.fill(opts.background);
    let frame = &sample.frames[frame_index];
    for (a, own) in painted(frame, opts) {
        let Some(seg) = own.as_ref().or(a.segmentation.as_ref()) else {
            continue;
        };
        let value = category_value(a, opts)?;
        if let (FillRule::Centers, Segmentation::Polygons { shape, .. }) = (opts.fill, seg) {
            // runs painted straight into the class mask (no scratch mask)
            for p in &shape.polygons {
                p.center_spans(h, w, bufs, |row, c0, c1| {
                    out[row * w + c0..row * w + c1].fill(value)
                });
            }
            continue;
        }
        rasterize(a, seg, opts.fill, scratch, bufs)?;
        // every set pixel lies in this span; it is cleared as painted
        let [(r0, r1), (c0, c1)] = span(seg, h, w);
        for y in r0..r1 {
            let dst = &mut out[y * w + c0..y * w + c1];
            let src = &mut scratch.row_mut(y)[c0..c1];
            for (d, &s) in dst.iter_mut().zip(src.iter()) {
                *d = if s != 0 { value } else { *d };
            }
            src.fill(0);
        }
    }
    if opts.ignore_padding {
        let fill_frame = sample
            .params
            .warps
            .get(frame_index)
            .is_some_and(Option::is_none);
        let [rows, cols] = valid_axes(sample, h, w);
        for y in 0..h {
            for x in 0..w {
                if fill_frame || !rows[y] || !cols[x] {
                    out[y * w + x] = opts.ignore_value;
                }
            }
        }
    }
    Ok(())
}

/// The class mask of a sample: `(H, W)` for 2D, `(T, H, W)` for videos.
///
/// Each annotation (segmentation, or its box when
/// [`MaskOptions::boxes_without_segmentation`]) is painted with its category
/// id in [`MaskOptions::order`] (an annotation without a category with
/// `ignore_value`); see [`MaskOptions`] for background and ignored pixels.
/// Native-resolution samples (`use_native_scale` without `realign_native`)
/// get masks on the sample's common grid (`st_dims × scale`), not per part.
///
/// Errors: [`TrainingError::Geometry`] when an RLE cannot be decoded,
/// [`TrainingError::BadOption`] when a category id does not fit `i32`.
pub fn class_mask(sample: &Sample, opts: &MaskOptions) -> Result<ArrayD<i32>> {
    Rasterizer::default().class_mask(sample, opts)
}

/// The shape [`class_mask`] gives a sample: `[H, W]`, or `[T, H, W]` for a
/// video.
pub fn class_mask_shape(sample: &Sample) -> Vec<usize> {
    let [h, w] = window_shape(sample);
    if is_video(sample) {
        vec![sample.frames.len(), h, w]
    } else {
        vec![h, w]
    }
}

/// Rasterizing buffers kept from sample to sample (one per worker): with
/// [`Rasterizer::class_mask_into`] and an output buffer reused by the
/// caller, a class mask allocates nothing once the buffers have grown.
#[derive(Debug, Default)]
pub struct Rasterizer {
    scratch: Option<Mask>,
    bufs: FillScratch,
}

impl Rasterizer {
    /// [`class_mask`] with this rasterizer's buffers.
    pub fn class_mask(&mut self, sample: &Sample, opts: &MaskOptions) -> Result<ArrayD<i32>> {
        let shape = class_mask_shape(sample);
        check_bytes("class mask", &shape, 4, opts.max_bytes)?;
        let mut data = vec![opts.background; shape.iter().product()];
        self.class_mask_into(sample, opts, &mut data)?;
        ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|e| {
            TrainingError::BadOption {
                option: "window",
                msg: e.to_string(),
            }
            .into()
        })
    }

    /// Write the class mask of `sample` into `out` (row-major, of
    /// [`class_mask_shape`]'s length; every value is written).
    ///
    /// Errors: as [`class_mask`], and [`TrainingError::BadOption`] (`out`)
    /// for a buffer of another length.
    pub fn class_mask_into(
        &mut self,
        sample: &Sample,
        opts: &MaskOptions,
        out: &mut [i32],
    ) -> Result<()> {
        let [h, w] = window_shape(sample);
        let n: usize = class_mask_shape(sample).iter().product();
        if out.len() != n {
            return Err(TrainingError::BadOption {
                option: "out",
                msg: format!("{} values for a class mask of {n}", out.len()),
            }
            .into());
        }
        if self.scratch.as_ref().is_none_or(|m| m.shape() != [h, w]) {
            self.scratch = Some(new_mask(h, w)?);
        }
        let Some(scratch) = self.scratch.as_mut() else {
            return Ok(());
        };
        if h * w == 0 {
            return Ok(());
        }
        for (i, chunk) in out.chunks_mut(h * w).enumerate() {
            if i < sample.frames.len() {
                class_mask_frame(sample, i, opts, chunk, scratch, &mut self.bufs)?;
            } else {
                chunk.fill(opts.background);
            }
        }
        Ok(())
    }
}

fn new_mask(h: usize, w: usize) -> Result<Mask> {
    Mask::new(h, w).map_err(|source| {
        TrainingError::Geometry {
            annot_id: -1,
            source,
        }
        .into()
    })
}

/// One `H × W` mask per annotation (over every frame), in
/// [`MaskOptions::order`] within each frame. Annotations of
/// [`MaskOptions::ignore_category_ids`] are left out; the mask is not cut at
/// the padding.
///
/// Errors: as [`class_mask`].
pub fn instance_masks(sample: &Sample, opts: &MaskOptions) -> Result<InstanceMasks> {
    let [h, w] = window_shape(sample);
    let count: usize = sample
        .frames
        .iter()
        .flat_map(|f| &f.annots)
        .filter(|a| {
            (a.segmentation.is_some() || opts.boxes_without_segmentation)
                && !a
                    .category_id
                    .is_some_and(|c| opts.ignore_category_ids.contains(&c))
        })
        .count();
    check_bytes("instance masks", &[count, h, w], 1, opts.max_bytes)?;
    let mut scratch = new_mask(h, w)?;
    let mut bufs = FillScratch::default();
    let mut data: Vec<u8> = Vec::with_capacity(count * h * w);
    let (mut ids, mut category_ids, mut frames) = (Vec::new(), Vec::new(), Vec::new());
    for (fi, frame) in sample.frames.iter().enumerate() {
        for (a, own) in painted(frame, opts) {
            if a.category_id
                .is_some_and(|c| opts.ignore_category_ids.contains(&c))
            {
                continue;
            }
            let Some(seg) = own.as_ref().or(a.segmentation.as_ref()) else {
                continue;
            };
            rasterize(a, seg, opts.fill, &mut scratch, &mut bufs)?;
            data.extend_from_slice(scratch.data());
            let [(r0, r1), (c0, c1)] = span(seg, h, w);
            for y in r0..r1 {
                scratch.row_mut(y)[c0..c1].fill(0);
            }
            ids.push(a.id);
            category_ids.push(a.category_id);
            frames.push(fi);
        }
    }
    let masks =
        Array3::from_shape_vec((ids.len(), h, w), data).map_err(|e| TrainingError::BadOption {
            option: "window",
            msg: e.to_string(),
        })?;
    Ok(InstanceMasks {
        masks,
        ids,
        category_ids,
        frames,
    })
}

/// Gaussian keypoint heatmaps: `(K, H, W)` for 2D, `(T, K, H, W)` for videos,
/// `f32` in `[0, 1]`.
///
/// Keypoint `(x, y)` (sample space, pixel `(i, j)` covering
/// `[i, i+1) × [j, j+1)`) adds `exp(-d² / 2σ²)` at each pixel centre within
/// `truncate × σ`, where `d` is the distance to the pixel's centre; a channel
/// holds the maximum over its keypoints (CenterNet / OpenPose style, so a
/// peak stays 1). Keypoints marked not labelled (`visible == 0`) or with
/// non-finite positions are left out.
///
/// Errors: [`TrainingError::BadOption`] for a sigma or truncate that is not
/// finite and positive, or an empty category list.
pub fn keypoint_heatmaps(sample: &Sample, opts: &HeatmapOptions) -> Result<ArrayD<f32>> {
    if !(opts.sigma.is_finite() && opts.sigma > 0.0) {
        return Err(TrainingError::BadOption {
            option: "sigma",
            msg: format!("{} must be finite and > 0", opts.sigma),
        }
        .into());
    }
    if !(opts.truncate.is_finite() && opts.truncate > 0.0) {
        return Err(TrainingError::BadOption {
            option: "truncate",
            msg: format!("{} must be finite and > 0", opts.truncate),
        }
        .into());
    }
    let k = match &opts.keypoint_category_ids {
        Some(ids) if ids.is_empty() => {
            return Err(TrainingError::BadOption {
                option: "keypoint_category_ids",
                msg: "an empty list gives no channels".into(),
            }
            .into());
        }
        Some(ids) => ids.len(),
        None => 1,
    };
    let [h, w] = window_shape(sample);
    let t = if is_video(sample) {
        sample.frames.len()
    } else {
        1
    };
    let plane = h * w;
    check_bytes("heatmaps", &[t, k, h, w], 4, opts.max_bytes)?;
    let mut data = vec![0f32; t * k * plane];
    let radius = opts.truncate * opts.sigma;
    let inv = 1.0 / (2.0 * opts.sigma * opts.sigma);
    for (fi, frame) in sample.frames.iter().enumerate().take(t) {
        for a in &frame.annots {
            let Some(kps) = &a.keypoints else { continue };
            for p in &kps.points {
                if p.visible == Some(0.0) || !(p.xy[0].is_finite() && p.xy[1].is_finite()) {
                    continue;
                }
                let ch = match &opts.keypoint_category_ids {
                    None => 0,
                    Some(ids) => match p.category_id.and_then(|c| ids.iter().position(|&i| i == c))
                    {
                        Some(c) => c,
                        None => continue,
                    },
                };
                let [px, py] = p.xy;
                // pixel centres i + 0.5 within [p - r, p + r]
                let span = |c: f64, n: usize| -> (usize, usize) {
                    let lo = (c - radius - 0.5).ceil().clamp(0.0, n as f64) as usize;
                    let hi = ((c + radius - 0.5).floor() + 1.0).clamp(0.0, n as f64) as usize;
                    (lo, hi.max(lo))
                };
                let (x0, x1) = span(px, w);
                let (y0, y1) = span(py, h);
                let base = (fi * k + ch) * plane;
                for y in y0..y1 {
                    let dy = y as f64 + 0.5 - py;
                    for x in x0..x1 {
                        let dx = x as f64 + 0.5 - px;
                        let d2 = dx * dx + dy * dy;
                        if d2 > radius * radius {
                            continue;
                        }
                        let v = (-d2 * inv).exp() as f32;
                        let cell = &mut data[base + y * w + x];
                        if v > *cell {
                            *cell = v;
                        }
                    }
                }
            }
        }
    }
    let shape: Vec<usize> = if is_video(sample) {
        vec![t, k, h, w]
    } else {
        vec![k, h, w]
    };
    ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|e| {
        TrainingError::BadOption {
            option: "window",
            msg: e.to_string(),
        }
        .into()
    })
}

impl Sample {
    /// [`class_mask`] of this sample.
    pub fn class_mask(&self, opts: &MaskOptions) -> Result<ArrayD<i32>> {
        class_mask(self, opts)
    }

    /// [`instance_masks`] of this sample.
    pub fn instance_masks(&self, opts: &MaskOptions) -> Result<InstanceMasks> {
        instance_masks(self, opts)
    }

    /// [`keypoint_heatmaps`] of this sample.
    pub fn keypoint_heatmaps(&self, opts: &HeatmapOptions) -> Result<ArrayD<f32>> {
        keypoint_heatmaps(self, opts)
    }
}
