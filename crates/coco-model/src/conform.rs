//! [`CocoDataset::conform`]: fill in what kwcoco's `conform` infers (image
//! and video sizes, and the annotation keys pycocotools needs).

use std::path::Path;

use serde_json::Value;

use crate::dataset::CocoDataset;
use crate::error::Result;

/// What [`CocoDataset::conform`] does (kwcoco `conform` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConformOptions {
    /// Fill missing image (and asset) `width`/`height` from the files, and a
    /// video's size when all its frames agree (`ensure_imgsize`).
    pub ensure_imgsize: bool,
    /// Add `iscrowd`, `ignore` and `area` where missing (`pycocotools_info`).
    pub pycocotools_info: bool,
}

impl Default for ConformOptions {
    fn default() -> Self {
        ConformOptions {
            ensure_imgsize: true,
            pycocotools_info: true,
        }
    }
}

/// What a [`CocoDataset::conform`] call changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConformReport {
    /// Images (or their assets) whose size was read from a file.
    pub sized_images: usize,
    /// Videos given a size.
    pub sized_videos: usize,
    /// Annotations that gained `iscrowd`, `ignore` or `area`.
    pub annotations: usize,
}

impl CocoDataset {
    /// Makes the dataset conform to the stricter spec kwcoco's `conform`
    /// writes (kwcoco 0.9.1 `MixinCocoSchema.conform`):
    ///
    /// * `ensure_imgsize`: an image or asset without `width`/`height` gets the
    ///   size `size_of` reads from its file (`size_of` receives the resolved
    ///   path and returns `(width, height)`; an error names the image); then
    ///   each video whose frames all have one size gets it.
    /// * `pycocotools_info`: every annotation gets `iscrowd: 0`, `ignore`
    ///   (`weight < 0.5`, weight 1 when absent) and `area` where missing: the
    ///   area of its segmentation's polygons (an RLE traced as kwimage traces
    ///   it), else `w * h` of its box.
    ///
    /// ```
    /// use coco_model::{CocoDataset, ConformOptions};
    /// let mut ds = CocoDataset::from_json_str(r#"{"images": [{"id": 1, "file_name": "a.png"}],
    ///   "annotations": [{"id": 1, "image_id": 1, "bbox": [0, 0, 4, 5], "weight": 0.2}]}"#, ".").unwrap();
    /// let report = ds.conform(ConformOptions::default(), |_| Ok((64, 48))).unwrap();
    /// assert_eq!((ds.images()[0].width, ds.images()[0].height), (Some(64), Some(48)));
    /// assert_eq!(ds.annotations()[0].area, Some(20.0));
    /// assert_eq!(ds.annotations()[0].extra["ignore"], true);
    /// assert_eq!(report.annotations, 1);
    /// ```
    pub fn conform(
        &mut self,
        opts: ConformOptions,
        mut size_of: impl FnMut(&Path) -> std::result::Result<(u32, u32), String>,
    ) -> Result<ConformReport> {
        let mut report = ConformReport::default();
        if opts.ensure_imgsize {
            let bundle = self.bundle_dir.clone();
            let mut read = |name: &str, id: i64| -> Result<(u32, u32)> {
                let path = bundle.join(name);
                size_of(&path).map_err(|message| crate::Error::Field {
                    table: "images",
                    id: id.to_string(),
                    field: "width/height".into(),
                    message: format!("cannot read the size of {}: {message}", path.display()),
                })
            };
            for img in &mut self.images {
                let mut touched = false;
                if (img.width.is_none() || img.height.is_none())
                    && let Some(f) = img.file_name.clone()
                {
                    let (w, h) = read(&f, img.id.0)?;
                    img.width = Some(w);
                    img.height = Some(h);
                    touched = true;
                }
                for a in img.assets.iter_mut().flatten() {
                    if (a.width.is_none() || a.height.is_none())
                        && let Some(f) = a.file_name.clone()
                    {
                        let (w, h) = read(&f, img.id.0)?;
                        a.width = Some(w);
                        a.height = Some(h);
                        touched = true;
                    }
                }
                report.sized_images += usize::from(touched);
            }
            for v in 0..self.videos.len() {
                let id = self.videos[v].id;
                let sizes: Vec<(Option<u32>, Option<u32>)> = self
                    .images_of_video(id)
                    .iter()
                    .filter_map(|g| self.image(*g))
                    .map(|g| (g.width, g.height))
                    .collect();
                if let Some(&(Some(w), Some(h))) = sizes.first()
                    && sizes.iter().all(|s| *s == (Some(w), Some(h)))
                {
                    let video = &mut self.videos[v];
                    if (video.width, video.height) != (Some(w), Some(h)) {
                        video.width = Some(w);
                        video.height = Some(h);
                        report.sized_videos += 1;
                    }
                }
            }
        }
        if opts.pycocotools_info {
            for ann in &mut self.annotations {
                let mut touched = false;
                if ann.iscrowd.is_none() && !ann.extra.contains_key("iscrowd") {
                    ann.iscrowd = Some(0);
                    touched = true;
                }
                if !ann.extra.contains_key("ignore") {
                    let ignore = ann.weight().unwrap_or(1.0) < 0.5;
                    ann.extra.insert("ignore", Value::Bool(ignore));
                    touched = true;
                }
                if ann.area.is_none() {
                    let from_seg = match ann.parse_segmentation() {
                        Ok(Some(crate::geometry::Segmentation::Rle(r))) => {
                            r.decode().ok().map(|m| m.to_multi_polygon_cv2().area())
                        }
                        Ok(Some(seg)) => Some(seg.area()),
                        // kwcoco warns and leaves `area` out
                        Ok(None) | Err(_) => None,
                    };
                    let area = match (ann.segmentation.is_some(), from_seg, ann.bbox) {
                        (true, a, _) => a,
                        (false, _, Some([_, _, w, h])) => Some(w * h),
                        (false, _, None) => None,
                    };
                    if let Some(a) = area {
                        ann.area = Some(a);
                        touched = true;
                    }
                }
                report.annotations += usize::from(touched);
            }
        }
        Ok(report)
    }
}
