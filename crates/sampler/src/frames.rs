//! Frame facts the region and grid builders share: image and video sizes, and
//! the annotation boxes of a set of frames (in image or video space).

use std::collections::HashMap;

use coco_model::geometry::TransformSpec;
use coco_model::{CocoDataset, Image, ImageId};
use region_index::Aabb;

use crate::error::RegionError;

/// `[height, width]` of an image: from the dataset, or, when the record has
/// no `width`/`height`, from the header of its main file (else of its first
/// asset at image resolution: no `warp_aux_to_img` or an identity), read
/// once per process and file ([`frame_backends::probe_size`]). The reference
/// fills the same sizes when a sampler is made (kwcoco's `_ensure_imgsize`
/// on the main file); here they are read on first use.
pub(crate) fn image_size(ds: &CocoDataset, img: &Image) -> Result<[i64; 2], RegionError> {
    if let (Some(h), Some(w)) = (img.height, img.width) {
        return Ok([h as i64, w as i64]);
    }
    let missing = |why: String| RegionError::MissingSize {
        what: format!("image {}", img.id.0),
        why,
    };
    let file = match &img.file_name {
        Some(f) => Some((f.as_str(), None, None)),
        None => img
            .assets()
            .iter()
            .find(|a| a.warp_aux_to_img().is_ok_and(|w| w.is_identity()))
            .and_then(|a| Some((a.file_name.as_deref()?, a.height, a.width))),
    };
    match file {
        None => Err(missing(String::new())),
        Some((_, Some(h), Some(w))) => Ok([h as i64, w as i64]),
        Some((name, _, _)) => {
            let path = ds.resolve_path(name);
            frame_backends::probe_size(&path)
                .map(|(h, w)| [h as i64, w as i64])
                .map_err(|e| missing(format!("; reading its file: {e}")))
        }
    }
}

/// `(frame, annotation, box)` rows of an index, and each annotation's category.
pub(crate) type AnnotationRows = (Vec<(i64, i64, Aabb)>, HashMap<i64, Option<i64>>);

/// `(frame, annotation, box)` rows of the boxes of `frames`, optionally warped by
/// each frame's `warp_img_to_vid`. Annotations without a usable box (missing,
/// non-finite, negative size) are left out. Also returns the category of each
/// annotation.
pub(crate) fn annotation_rows(
    ds: &CocoDataset,
    frames: impl IntoIterator<Item = ImageId>,
    to_video: bool,
) -> Result<AnnotationRows, RegionError> {
    let mut rows = Vec::new();
    let mut cats = HashMap::new();
    for gid in frames {
        let warp = if to_video {
            ds.image(gid)
                .and_then(Image::warp_img_to_vid_json)
                .map(|s| {
                    TransformSpec::from_json_str(s).map_err(|e| RegionError::BadWarp {
                        image_id: gid.0,
                        msg: e.to_string(),
                    })
                })
                .transpose()?
                .map(|t| *t.affine())
                .filter(|a| !a.is_identity())
        } else {
            None
        };
        for ann in ds.image_annotations(gid) {
            let Some(aabb) = ann.bbox.and_then(usable_box) else {
                continue;
            };
            let aabb = match &warp {
                None => aabb,
                Some(a) => {
                    let pts = [
                        [aabb.x0, aabb.y0],
                        [aabb.x1, aabb.y0],
                        [aabb.x1, aabb.y1],
                        [aabb.x0, aabb.y1],
                    ]
                    .map(|p| a.apply(p));
                    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                    for [x, y] in pts {
                        x0 = x0.min(x);
                        y0 = y0.min(y);
                        x1 = x1.max(x);
                        y1 = y1.max(y);
                    }
                    let b = Aabb::new(x0, y0, x1, y1);
                    if !b.is_valid() {
                        continue;
                    }
                    b
                }
            };
            rows.push((gid.0, ann.id.0, aabb));
            cats.insert(ann.id.0, ann.category_id.map(|c| c.0));
        }
    }
    Ok((rows, cats))
}

/// An `[x, y, w, h]` box as an [`Aabb`] when finite with non-negative size.
pub(crate) fn usable_box([x, y, w, h]: [f64; 4]) -> Option<Aabb> {
    let ok = [x, y, w, h].iter().all(|v| v.is_finite()) && w >= 0.0 && h >= 0.0;
    ok.then(|| Aabb::from_xywh(x, y, w, h))
}

/// `[h, w]` of a video's space: its own size, else its first frame's.
pub(crate) fn video_size(
    ds: &CocoDataset,
    vid: coco_model::VideoId,
) -> Result<[i64; 2], RegionError> {
    if let Some(v) = ds.video(vid)
        && let (Some(w), Some(h)) = (v.width, v.height)
    {
        return Ok([h as i64, w as i64]);
    }
    ds.images_of_video(vid)
        .first()
        .and_then(|&g| ds.image(g))
        .and_then(|img| image_size(ds, img).ok())
        .ok_or_else(|| RegionError::MissingSize {
            what: format!("video {} (nor its first frame)", vid.0),
            why: String::new(),
        })
}
