//! Sliding-window sample grids over images (2D) and videos (3D), with every window
//! flagged positive, negative or ignored from the annotations it overlaps.
//!
//! A grid is the deterministic alternative to random positives/negatives: it
//! visits every part of every image once (up to the overlap), which is what
//! evaluation and dense training want. It follows the reference's
//! `new_image_sample_grid` / `new_video_sample_grid` (ndsampler 0.8.1, built on
//! `kwarray.SlidingWindow` with `keepbound=True`), with these rules:
//!
//! * **Windows** along one axis of length `n` with window `d` and overlap `f`
//!   start at `0, s, 2s, …` with stride `s = max(1, round(d·(1 − f)))` while
//!   they fit, and a last window is snapped to the far edge (`[n − d, n)`) when
//!   the strided ones stop short, so the axis is covered, every window has exactly
//!   `d` pixels and none is repeated ([`sliding_spans`]). When `d ≥ n` there is one
//!   window `[0, d)`, reaching past the edge (the sampler pads it).
//! * **2D grids** cover each image in image space; **video grids** cover each
//!   video in *video* space (the video's width/height, else its first frame's),
//!   with time windows of `T` frames over the frames ordered by `frame_index`,
//!   strided the same way. Annotation boxes are warped into video space by
//!   `warp_img_to_vid` (the axis-aligned box of the warped corners).
//! * `full` adds the whole image (or the whole video) as one extra window, unless
//!   the sliding windows already contain exactly that window.
//! * A window is **positive** when an annotation of a class of interest overlaps it
//!   on one of its frames (touching counts, as in the sampler; with
//!   `visible_thresh > 0` the annotation must have visibility strictly greater
//!   than it), **ignored** when it overlaps no annotation of interest but one of an
//!   `ignore` class, and **negative** otherwise. See [`ClassFilter`] for which
//!   classes are of interest.
//! * The positive/negative/ignored lists index **the returned `targets` list**
//!   exactly (the reference's were off by one).
//!
//! ```
//! use coco_model::CocoDataset;
//! use sampler::grid::{GridConfig, sample_grid};
//!
//! let ds = CocoDataset::from_json_str(r#"{
//!     "categories": [{"id": 1, "name": "cat"}],
//!     "images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 60}],
//!     "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [70, 10, 5, 5]}]
//! }"#, ".")?;
//! let grid = sample_grid(&ds, &GridConfig::new([40, 40]))?;
//! // rows [0,40), [20,60); columns [0,40), [40,80), [60,100)
//! assert_eq!(grid.targets.len(), 6);
//! assert_eq!(grid.targets[1].space_slice, Some([[Some(0), Some(40)], [Some(40), Some(80)]]));
//! assert_eq!(grid.positives, vec![1, 2]);
//! assert_eq!(grid.negatives, vec![0, 3, 4, 5]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{HashMap, HashSet};

use coco_model::{CocoDataset, ImageId, VideoId};
use region_index::{Aabb, Hit, RegionIndex};
use serde::Serialize;

use crate::error::RegionError;
use crate::frames::{annotation_rows, image_size, video_size};
use crate::target::{Span, Target};

/// Stride of a sliding window of `window` pixels (or frames) with fractional
/// `overlap` in `[0, 1)`: `max(1, round(window · (1 − overlap)))`.
///
/// ```
/// use sampler::grid::stride_for;
/// assert_eq!(stride_for(100, 0.0), 100);
/// assert_eq!(stride_for(100, 0.25), 75);
/// assert_eq!(stride_for(3, 0.9), 1);
/// ```
pub fn stride_for(window: i64, overlap: f64) -> i64 {
    ((window as f64) * (1.0 - overlap)).round().max(1.0) as i64
}

/// Half-open windows `[lo, lo + window)` covering `[0, len)`: starts at
/// `0, stride, 2·stride, …` while the window fits, then one window snapped to the
/// far edge if the axis is not yet covered. One window `[0, window)` (past the
/// edge) when `window >= len`; none when `len <= 0` or `window <= 0` or
/// `stride <= 0`.
///
/// ```
/// use sampler::grid::sliding_spans;
/// assert_eq!(sliding_spans(10, 4, 4), vec![[0, 4], [4, 8], [6, 10]]);
/// assert_eq!(sliding_spans(8, 4, 4), vec![[0, 4], [4, 8]]);
/// assert_eq!(sliding_spans(3, 5, 5), vec![[0, 5]]);
/// ```
pub fn sliding_spans(len: i64, window: i64, stride: i64) -> Vec<Span> {
    if len <= 0 || window <= 0 || stride <= 0 {
        return Vec::new();
    }
    if window >= len {
        return vec![[0, window]];
    }
    let mut out = Vec::with_capacity(((len - window) / stride + 2) as usize);
    let mut lo = 0;
    while lo + window <= len {
        out.push([lo, lo + window]);
        lo += stride;
    }
    let last = out.last().map_or(0, |s| s[1]);
    if last < len {
        out.push([len - window, len]);
    }
    out
}

/// Time windows of a video grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeWindow {
    /// Frames per window (`T`), at least 1.
    pub frames: i64,
    /// Overlap of consecutive time windows in `[0, 1)`; `None`: the spatial overlap
    /// (the reference's single overlap for every axis).
    pub overlap: Option<f64>,
}

/// Settings of [`sample_grid`].
#[derive(Debug, Clone, PartialEq)]
pub struct GridConfig {
    /// Spatial window `[h, w]` in pixels (each at least 1).
    pub window: [i64; 2],
    /// Overlap of neighbouring windows in `[0, 1)` (default 0).
    pub overlap: f64,
    /// `Some`: a video grid (one per video, in video space) with these time windows;
    /// `None`: a 2D grid over every image.
    pub video: Option<TimeWindow>,
    /// Add the whole image (or video) as one extra window.
    pub full: bool,
    /// Which classes make a window positive or ignored.
    pub classes: ClassSpec,
    /// Annotations count only when their visibility in the window (intersection
    /// over own box area) is strictly greater than this; `0` (default): any
    /// overlap, touching included.
    pub visible_thresh: f64,
}

impl GridConfig {
    /// A 2D grid of `[h, w]` windows without overlap.
    pub fn new(window: [i64; 2]) -> Self {
        GridConfig {
            window,
            overlap: 0.0,
            video: None,
            full: false,
            classes: ClassSpec::default(),
            visible_thresh: 0.0,
        }
    }

    /// Sets [`GridConfig::overlap`].
    pub fn with_overlap(mut self, overlap: f64) -> Self {
        self.overlap = overlap;
        self
    }

    /// Makes it a video grid with time windows of `frames` frames.
    pub fn with_video(mut self, frames: i64) -> Self {
        self.video = Some(TimeWindow {
            frames,
            overlap: None,
        });
        self
    }

    /// Sets [`GridConfig::full`].
    pub fn with_full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }

    /// Sets [`GridConfig::classes`].
    pub fn with_classes(mut self, classes: ClassSpec) -> Self {
        self.classes = classes;
        self
    }

    /// Sets [`GridConfig::visible_thresh`].
    pub fn with_visible_thresh(mut self, thresh: f64) -> Self {
        self.visible_thresh = thresh;
        self
    }

    fn validate(&self) -> Result<(), RegionError> {
        let bad = |field: &'static str, msg: String| Err(RegionError::BadConfig { field, msg });
        if self.window.iter().any(|&d| d < 1) {
            return bad(
                "window",
                format!("[h, w] must both be at least 1, got {:?}", self.window),
            );
        }
        check_overlap("overlap", self.overlap)?;
        if let Some(tw) = &self.video {
            if tw.frames < 1 {
                return bad(
                    "video",
                    format!("time window must be at least 1 frame, got {}", tw.frames),
                );
            }
            if let Some(o) = tw.overlap {
                check_overlap("time overlap", o)?;
            }
        }
        if !(self.visible_thresh.is_finite() && (0.0..1.0).contains(&self.visible_thresh)) {
            return bad(
                "visible_thresh",
                format!("must lie in [0, 1), got {}", self.visible_thresh),
            );
        }
        Ok(())
    }
}

fn check_overlap(field: &'static str, overlap: f64) -> Result<(), RegionError> {
    if overlap.is_finite() && (0.0..1.0).contains(&overlap) {
        Ok(())
    } else {
        Err(RegionError::BadConfig {
            field,
            msg: format!("must lie in [0, 1), got {overlap}"),
        })
    }
}

/// Classes of interest and ignored classes, by category name (resolved against a
/// dataset by [`ClassFilter::new`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassSpec {
    /// Only annotations of these classes make a window positive. `None`: every
    /// class except `background` and the ignored ones.
    pub of_interest: Option<Vec<String>>,
    /// Annotations of these classes make a window ignored (neither positive nor
    /// negative) unless it also holds an annotation of interest. A category named
    /// `ignore` is always ignored.
    pub ignore: Vec<String>,
}

/// What an annotation's class does to a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Makes the window positive.
    Interest,
    /// Makes the window ignored, unless it is positive.
    Ignore,
    /// No effect (background, classes outside the classes of interest).
    Other,
}

/// Category ids sorted into [`Role`]s for one dataset.
///
/// Without classes of interest, every category is of interest except those named
/// `background` (case-insensitive) and the ignored ones; annotations without a
/// category are then of interest too. With classes of interest, only they are.
/// Categories named `ignore` (case-insensitive) are always ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassFilter {
    interest: Option<HashSet<i64>>,
    ignore: HashSet<i64>,
    other: HashSet<i64>,
}

impl ClassFilter {
    /// Resolves `spec`'s names against `ds`'s categories (a name, or an
    /// `alias` of one, ignoring case: [`CocoDataset::resolve_category`]).
    ///
    /// Errors: [`RegionError::UnknownClass`] for a name that is no category;
    /// [`RegionError::BadConfig`] when a class is both of interest and ignored.
    pub fn new(ds: &CocoDataset, spec: &ClassSpec) -> Result<Self, RegionError> {
        let lookup = |field: &'static str, name: &str| -> Result<i64, RegionError> {
            ds.resolve_category(name)
                .map(|c| c.id.0)
                .ok_or_else(|| RegionError::UnknownClass {
                    field,
                    name: name.to_owned(),
                })
        };
        let mut ignore: HashSet<i64> = spec
            .ignore
            .iter()
            .map(|n| lookup("ignore classes", n))
            .collect::<Result<_, _>>()?;
        let mut other = HashSet::new();
        for c in ds.categories() {
            match c.name.to_lowercase().as_str() {
                "ignore" => {
                    ignore.insert(c.id.0);
                }
                "background" => {
                    other.insert(c.id.0);
                }
                _ => {}
            }
        }
        let interest = match &spec.of_interest {
            None => None,
            Some(names) => {
                let ids: HashSet<i64> = names
                    .iter()
                    .map(|n| lookup("classes of interest", n))
                    .collect::<Result<_, _>>()?;
                if let Some(both) = ids.iter().find(|id| ignore.contains(id)) {
                    let name = ds
                        .category(coco_model::CategoryId(*both))
                        .map_or_else(|| both.to_string(), |c| c.name.clone());
                    return Err(RegionError::BadConfig {
                        field: "classes of interest",
                        msg: format!("class {name:?} is also ignored"),
                    });
                }
                Some(ids)
            }
        };
        Ok(ClassFilter {
            interest,
            ignore,
            other,
        })
    }

    /// The role of an annotation of category `category_id`.
    pub fn role(&self, category_id: Option<i64>) -> Role {
        match category_id {
            Some(c) if self.ignore.contains(&c) => Role::Ignore,
            Some(c) => match &self.interest {
                Some(set) if set.contains(&c) => Role::Interest,
                Some(_) => Role::Other,
                None if self.other.contains(&c) => Role::Other,
                None => Role::Interest,
            },
            None if self.interest.is_none() => Role::Interest,
            None => Role::Other,
        }
    }
}

/// The label of a grid window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowLabel {
    /// Overlaps an annotation of interest.
    Positive,
    /// Overlaps nothing of interest and nothing ignored.
    Negative,
    /// Overlaps an ignored annotation and nothing of interest.
    Ignored,
}

/// A sample grid: the windows as targets, and which of them are positive,
/// negative or ignored. Serializes as `{"targets": [...], "positives": [...],
/// "negatives": [...], "ignored": [...]}`, a form
/// [`TargetList::read_json`](crate::plan::TargetList::read_json) reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SampleGrid {
    /// One target per window: `image_id` + `space_slice` (2D), or `video_id` +
    /// `time_slice` + `space_slice` (video grids, time positions into the video's
    /// frames ordered by `frame_index`).
    pub targets: Vec<Target>,
    /// Indexes into `targets` of the positive windows, increasing.
    pub positives: Vec<usize>,
    /// Indexes into `targets` of the negative windows, increasing.
    pub negatives: Vec<usize>,
    /// Indexes into `targets` of the ignored windows, increasing.
    pub ignored: Vec<usize>,
}

impl SampleGrid {
    /// The label of window `i` (`None` when out of range).
    pub fn label(&self, i: usize) -> Option<WindowLabel> {
        if i >= self.targets.len() {
            None
        } else if self.positives.binary_search(&i).is_ok() {
            Some(WindowLabel::Positive)
        } else if self.negatives.binary_search(&i).is_ok() {
            Some(WindowLabel::Negative)
        } else {
            Some(WindowLabel::Ignored)
        }
    }

    /// The positive windows' targets.
    pub fn positive_targets(&self) -> impl Iterator<Item = &Target> + '_ {
        self.positives.iter().map(|&i| &self.targets[i])
    }

    /// The negative windows' targets.
    pub fn negative_targets(&self) -> impl Iterator<Item = &Target> + '_ {
        self.negatives.iter().map(|&i| &self.targets[i])
    }

    /// All windows as a sample plan (in grid order).
    pub fn to_plan(&self) -> crate::plan::TargetList {
        crate::plan::TargetList::new(self.targets.clone())
    }

    fn push(&mut self, target: Target, label: WindowLabel) {
        let i = self.targets.len();
        self.targets.push(target);
        match label {
            WindowLabel::Positive => self.positives.push(i),
            WindowLabel::Negative => self.negatives.push(i),
            WindowLabel::Ignored => self.ignored.push(i),
        }
    }
}

/// A half-open integer window as a continuous box.
fn window_box([y0, y1]: Span, [x0, x1]: Span) -> Aabb {
    Aabb::new(x0 as f64, y0 as f64, x1 as f64, y1 as f64)
}

fn space_slice([y0, y1]: Span, [x0, x1]: Span) -> [[Option<i64>; 2]; 2] {
    [[Some(y0), Some(y1)], [Some(x0), Some(x1)]]
}

/// Labels windows from an index of annotation boxes.
struct Labeler<'a> {
    index: RegionIndex<i64, i64>,
    cats: HashMap<i64, Option<i64>>,
    filter: &'a ClassFilter,
    visible_thresh: f64,
    hits: Vec<Hit<i64>>,
}

impl Labeler<'_> {
    fn label(&mut self, frames: &[i64], window: &Aabb) -> WindowLabel {
        let mut ignored = false;
        for f in frames {
            self.index
                .overlapping_visible_into(f, window, self.visible_thresh, &mut self.hits);
            for hit in &self.hits {
                let cat = self.cats.get(&hit.id).copied().flatten();
                match self.filter.role(cat) {
                    Role::Interest => return WindowLabel::Positive,
                    Role::Ignore => ignored = true,
                    Role::Other => {}
                }
            }
        }
        if ignored {
            WindowLabel::Ignored
        } else {
            WindowLabel::Negative
        }
    }
}

/// Builds the sample grid of a dataset (see the [module docs](self)).
///
/// 2D grids visit the images in dataset order, windows row by row; video grids
/// visit the videos in dataset order, then time windows, then rows, then columns.
/// Videos without frames have no windows.
///
/// Errors: [`RegionError::BadConfig`] for a bad setting,
/// [`RegionError::UnknownClass`] for an unknown class name,
/// [`RegionError::MissingSize`] for an image (or a video and its first frame)
/// without width/height whose file header cannot give them either (sizes
/// missing from the dataset are read from the file, once per process),
/// [`RegionError::BadWarp`] for a malformed
/// `warp_img_to_vid`.
pub fn sample_grid(ds: &CocoDataset, cfg: &GridConfig) -> Result<SampleGrid, RegionError> {
    cfg.validate()?;
    let filter = ClassFilter::new(ds, &cfg.classes)?;
    match cfg.video {
        None => image_grid(ds, cfg, &filter),
        Some(tw) => video_grid(ds, cfg, tw, &filter),
    }
}

fn labeler<'a>(
    ds: &CocoDataset,
    frames: impl IntoIterator<Item = ImageId>,
    to_video: bool,
    filter: &'a ClassFilter,
    visible_thresh: f64,
) -> Result<Labeler<'a>, RegionError> {
    let (rows, cats) = annotation_rows(ds, frames, to_video)?;
    Ok(Labeler {
        index: RegionIndex::from_rows(rows)?,
        cats,
        filter,
        visible_thresh,
        hits: Vec::new(),
    })
}

fn image_grid(
    ds: &CocoDataset,
    cfg: &GridConfig,
    filter: &ClassFilter,
) -> Result<SampleGrid, RegionError> {
    let sizes: Vec<(i64, [i64; 2])> = ds
        .images()
        .iter()
        .map(|img| Ok((img.id.0, image_size(ds, img)?)))
        .collect::<Result<_, RegionError>>()?;
    let mut labeler = labeler(
        ds,
        ds.images().iter().map(|i| i.id),
        false,
        filter,
        cfg.visible_thresh,
    )?;
    let [wh, ww] = cfg.window;
    let mut grid = SampleGrid::default();
    let per_axis = |n: i64, d: i64| sliding_spans(n, d, stride_for(d, cfg.overlap)).len();
    let total: usize = sizes
        .iter()
        .map(|&(_, [h, w])| per_axis(h, wh) * per_axis(w, ww) + usize::from(cfg.full))
        .sum();
    grid.targets.reserve(total);
    for (gid, [h, w]) in sizes {
        let ys = sliding_spans(h, wh, stride_for(wh, cfg.overlap));
        let xs = sliding_spans(w, ww, stride_for(ww, cfg.overlap));
        let mut windows: Vec<(Span, Span)> = ys
            .iter()
            .flat_map(|&y| xs.iter().map(move |&x| (y, x)))
            .collect();
        let whole = ([0, h], [0, w]);
        if cfg.full && h > 0 && w > 0 && !windows.contains(&whole) {
            windows.push(whole);
        }
        for (y, x) in windows {
            let label = labeler.label(&[gid], &window_box(y, x));
            let target = Target {
                image_id: Some(ImageId(gid)),
                space_slice: Some(space_slice(y, x)),
                ..Target::default()
            };
            grid.push(target, label);
        }
    }
    Ok(grid)
}

fn video_grid(
    ds: &CocoDataset,
    cfg: &GridConfig,
    tw: TimeWindow,
    filter: &ClassFilter,
) -> Result<SampleGrid, RegionError> {
    let videos: Vec<(i64, [i64; 2], Vec<i64>)> = ds
        .videos()
        .iter()
        .filter(|v| !ds.images_of_video(v.id).is_empty())
        .map(|v| {
            let frames = ds.images_of_video(v.id).iter().map(|g| g.0).collect();
            Ok((v.id.0, video_size(ds, v.id)?, frames))
        })
        .collect::<Result<_, RegionError>>()?;
    let mut labeler = labeler(
        ds,
        videos
            .iter()
            .flat_map(|(_, _, f)| f.iter().map(|&g| ImageId(g))),
        true,
        filter,
        cfg.visible_thresh,
    )?;
    let [wh, ww] = cfg.window;
    let t_overlap = tw.overlap.unwrap_or(cfg.overlap);
    let mut grid = SampleGrid::default();
    for (vid, [h, w], frames) in videos {
        let n = frames.len() as i64;
        let ts = sliding_spans(n, tw.frames, stride_for(tw.frames, t_overlap));
        let ys = sliding_spans(h, wh, stride_for(wh, cfg.overlap));
        let xs = sliding_spans(w, ww, stride_for(ww, cfg.overlap));
        let mut windows: Vec<(Span, Span, Span)> = Vec::new();
        for &t in &ts {
            for &y in &ys {
                for &x in &xs {
                    windows.push((t, y, x));
                }
            }
        }
        let whole = ([0, n], [0, h], [0, w]);
        if cfg.full && h > 0 && w > 0 && !windows.contains(&whole) {
            windows.push(whole);
        }
        for (t, y, x) in windows {
            let lo = t[0].clamp(0, n) as usize;
            let hi = t[1].clamp(0, n) as usize;
            let label = labeler.label(&frames[lo..hi], &window_box(y, x));
            let target = Target {
                video_id: Some(VideoId(vid)),
                time_slice: Some([Some(t[0]), Some(t[1])]),
                space_slice: Some(space_slice(y, x)),
                ..Target::default()
            };
            grid.push(target, label);
        }
    }
    Ok(grid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spans_basic() {
        assert_eq!(sliding_spans(10, 5, 5), vec![[0, 5], [5, 10]]);
        assert_eq!(sliding_spans(11, 5, 5), vec![[0, 5], [5, 10], [6, 11]]);
        assert_eq!(sliding_spans(10, 10, 10), vec![[0, 10]]);
        assert_eq!(sliding_spans(0, 4, 4), Vec::<Span>::new());
        assert_eq!(sliding_spans(10, 4, 0), Vec::<Span>::new());
        assert_eq!(
            sliding_spans(10, 4, stride_for(4, 0.5)),
            vec![[0, 4], [2, 6], [4, 8], [6, 10]]
        );
    }

    proptest! {
        #[test]
        fn spans_cover_without_duplicates(len in 1i64..500, window in 1i64..200, overlap in 0.0f64..0.95) {
            let stride = stride_for(window, overlap);
            let spans = sliding_spans(len, window, stride);
            prop_assert!(!spans.is_empty());
            // every window has exactly the window size
            for s in &spans {
                prop_assert_eq!(s[1] - s[0], window);
            }
            if window >= len {
                prop_assert_eq!(spans.clone(), vec![[0, window]]);
            } else {
                // inside the axis
                for s in &spans {
                    prop_assert!(s[0] >= 0 && s[1] <= len);
                }
            }
            // strictly increasing starts: no duplicates
            for p in spans.windows(2) {
                prop_assert!(p[0][0] < p[1][0]);
                // consecutive windows leave no gap
                prop_assert!(p[1][0] <= p[0][1]);
                // steps are at most the stride
                prop_assert!(p[1][0] - p[0][0] <= stride);
            }
            prop_assert_eq!(spans[0][0], 0);
            prop_assert!(spans.last().unwrap()[1] >= len);
        }
    }

    fn tiny() -> CocoDataset {
        CocoDataset::from_json_str(
            r#"{
            "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"},
                           {"id": 3, "name": "ignore"}, {"id": 4, "name": "background"}],
            "images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 100}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 5, 5]},
                {"id": 2, "image_id": 1, "category_id": 2, "bbox": [60, 10, 5, 5]},
                {"id": 3, "image_id": 1, "category_id": 3, "bbox": [10, 60, 5, 5]},
                {"id": 4, "image_id": 1, "category_id": 4, "bbox": [60, 60, 5, 5]}
            ]}"#,
            ".",
        )
        .unwrap()
    }

    #[test]
    fn labels_follow_classes() {
        let ds = tiny();
        let g = sample_grid(&ds, &GridConfig::new([50, 50])).unwrap();
        // windows: (0,0) cat, (0,50) dog, (50,0) ignore, (50,50) background
        assert_eq!(g.positives, vec![0, 1]);
        assert_eq!(g.ignored, vec![2]);
        assert_eq!(g.negatives, vec![3]);
        assert_eq!(g.label(2), Some(WindowLabel::Ignored));
        assert_eq!(g.label(4), None);

        let spec = ClassSpec {
            of_interest: Some(vec!["dog".into()]),
            ignore: vec!["cat".into()],
        };
        let g = sample_grid(&ds, &GridConfig::new([50, 50]).with_classes(spec)).unwrap();
        assert_eq!(g.positives, vec![1]);
        assert_eq!(g.ignored, vec![0, 2]);
        assert_eq!(g.negatives, vec![3]);

        let spec = ClassSpec {
            of_interest: Some(vec!["cow".into()]),
            ignore: vec![],
        };
        let e = sample_grid(&ds, &GridConfig::new([50, 50]).with_classes(spec)).unwrap_err();
        assert!(e.to_string().contains("cow"), "{e}");
        let spec = ClassSpec {
            of_interest: Some(vec!["cat".into()]),
            ignore: vec!["cat".into()],
        };
        assert!(sample_grid(&ds, &GridConfig::new([50, 50]).with_classes(spec)).is_err());
    }

    #[test]
    fn touching_and_visibility() {
        let ds = tiny();
        // window [0,10) x [0,10) touches annotation 1 at its corner (10, 10)
        let g = sample_grid(&ds, &GridConfig::new([10, 10])).unwrap();
        assert_eq!(g.label(0), Some(WindowLabel::Positive));
        let g = sample_grid(&ds, &GridConfig::new([10, 10]).with_visible_thresh(0.01)).unwrap();
        assert_eq!(g.label(0), Some(WindowLabel::Negative));
        // window [0,12) x [0,12) holds 4/25 of annotation 1
        let g = sample_grid(&ds, &GridConfig::new([12, 12]).with_visible_thresh(0.1)).unwrap();
        assert_eq!(g.label(0), Some(WindowLabel::Positive));
        let g = sample_grid(&ds, &GridConfig::new([12, 12]).with_visible_thresh(0.2)).unwrap();
        assert_eq!(g.label(0), Some(WindowLabel::Negative));
    }

    #[test]
    fn full_window_added_once() {
        let ds = tiny();
        let g = sample_grid(&ds, &GridConfig::new([50, 50]).with_full(true)).unwrap();
        assert_eq!(g.targets.len(), 5);
        assert_eq!(
            g.targets[4].space_slice,
            Some([[Some(0), Some(100)], [Some(0), Some(100)]])
        );
        assert_eq!(g.label(4), Some(WindowLabel::Positive));
        let g = sample_grid(&ds, &GridConfig::new([100, 100]).with_full(true)).unwrap();
        assert_eq!(g.targets.len(), 1);
    }

    #[test]
    fn bad_configs() {
        let ds = tiny();
        for cfg in [
            GridConfig::new([0, 5]),
            GridConfig::new([5, 5]).with_overlap(1.0),
            GridConfig::new([5, 5]).with_overlap(f64::NAN),
            GridConfig::new([5, 5]).with_video(0),
            GridConfig::new([5, 5]).with_visible_thresh(-0.5),
        ] {
            assert!(matches!(
                sample_grid(&ds, &cfg),
                Err(RegionError::BadConfig { .. })
            ));
        }
        let ds =
            CocoDataset::from_json_str(r#"{"images": [{"id": 7, "file_name": "a.png"}]}"#, ".")
                .unwrap();
        let e = sample_grid(&ds, &GridConfig::new([5, 5])).unwrap_err();
        assert!(e.to_string().contains("image 7"), "{e}");
    }

    #[test]
    fn accessors_follow_the_labels() {
        let ds = tiny();
        let g = sample_grid(&ds, &GridConfig::new([50, 50])).unwrap();
        let pos: Vec<&Target> = g.positive_targets().collect();
        assert_eq!(pos, vec![&g.targets[0], &g.targets[1]]);
        let neg: Vec<&Target> = g.negative_targets().collect();
        assert_eq!(neg, vec![&g.targets[3]]);
        let plan = g.to_plan();
        assert_eq!(plan.targets, g.targets);
        assert!(!plan.shuffle);
    }

    #[test]
    fn annotations_without_category() {
        let ds = CocoDataset::from_json_str(
            r#"{
            "categories": [{"id": 1, "name": "cat"}],
            "images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 10}],
            "annotations": [{"id": 1, "image_id": 1, "bbox": [2, 2, 3, 3]}]
            }"#,
            ".",
        )
        .unwrap();
        // without classes of interest an uncategorized annotation is of interest
        let g = sample_grid(&ds, &GridConfig::new([10, 10])).unwrap();
        assert_eq!((g.positives, g.negatives), (vec![0], vec![1]));
        // with classes of interest it is not (and it is not ignored either)
        let spec = ClassSpec {
            of_interest: Some(vec!["cat".into()]),
            ignore: vec![],
        };
        let g = sample_grid(&ds, &GridConfig::new([10, 10]).with_classes(spec)).unwrap();
        assert_eq!((g.positives, g.negatives), (vec![], vec![0, 1]));
        assert!(g.ignored.is_empty());
    }

    #[test]
    fn empty_images_and_videos_have_no_full_window() {
        let ds = CocoDataset::from_json_str(
            r#"{
            "videos": [{"id": 1, "name": "v", "width": 0, "height": 8},
                       {"id": 2, "name": "u", "width": 8, "height": 0}],
            "images": [
                {"id": 1, "file_name": "a.png", "width": 10, "height": 0},
                {"id": 2, "file_name": "b.png", "width": 0, "height": 10},
                {"id": 3, "file_name": "c.png", "width": 0, "height": 8, "video_id": 1, "frame_index": 0},
                {"id": 4, "file_name": "d.png", "width": 8, "height": 0, "video_id": 2, "frame_index": 0}
            ]}"#,
            ".",
        )
        .unwrap();
        let g = sample_grid(&ds, &GridConfig::new([4, 4]).with_full(true)).unwrap();
        assert!(g.targets.is_empty(), "{:?}", g.targets);
        let cfg = GridConfig::new([4, 4]).with_video(1).with_full(true);
        let g = sample_grid(&ds, &cfg).unwrap();
        assert!(g.targets.is_empty(), "{:?}", g.targets);
    }

    #[test]
    fn one_frame_time_windows_are_valid() {
        let ds = CocoDataset::from_json_str(
            r#"{
            "videos": [{"id": 1, "name": "v", "width": 10, "height": 10}],
            "images": [
                {"id": 1, "file_name": "a.png", "width": 10, "height": 10, "video_id": 1, "frame_index": 0},
                {"id": 2, "file_name": "b.png", "width": 10, "height": 10, "video_id": 1, "frame_index": 1}
            ]}"#,
            ".",
        )
        .unwrap();
        let g = sample_grid(&ds, &GridConfig::new([10, 10]).with_video(1)).unwrap();
        let times: Vec<_> = g.targets.iter().map(|t| t.time_slice).collect();
        assert_eq!(
            times,
            vec![Some([Some(0), Some(1)]), Some([Some(1), Some(2)])]
        );
    }

    #[test]
    fn video_grid_warps_into_video_space() {
        // frames stored at half resolution: image (x, y) is video (2x, 2y)
        let ds = CocoDataset::from_json_str(
            r#"{
            "categories": [{"id": 1, "name": "cat"}],
            "videos": [{"id": 1, "name": "v", "width": 100, "height": 100}],
            "images": [
                {"id": 1, "file_name": "a.png", "width": 50, "height": 50, "video_id": 1, "frame_index": 0,
                 "warp_img_to_vid": {"type": "affine", "scale": 2}},
                {"id": 2, "file_name": "b.png", "width": 50, "height": 50, "video_id": 1, "frame_index": 1,
                 "warp_img_to_vid": {"type": "affine", "scale": 2}},
                {"id": 3, "file_name": "c.png", "width": 50, "height": 50, "video_id": 1, "frame_index": 2,
                 "warp_img_to_vid": {"type": "affine", "scale": 2}}
            ],
            "annotations": [{"id": 1, "image_id": 3, "category_id": 1, "bbox": [30, 5, 5, 5]}]
            }"#,
            ".",
        )
        .unwrap();
        let g = sample_grid(&ds, &GridConfig::new([50, 50]).with_video(2)).unwrap();
        // time [0,2), [1,3); rows [0,50), [50,100); columns [0,50), [50,100)
        assert_eq!(g.targets.len(), 8);
        assert_eq!(g.targets[5].time_slice, Some([Some(1), Some(3)]));
        // the box is at video x 60..70, y 10..20: only time window 2, top right
        assert_eq!(g.positives, vec![5]);
        assert_eq!(
            g.targets[5].space_slice,
            Some([[Some(0), Some(50)], [Some(50), Some(100)]])
        );
        assert_eq!(g.targets[5].video_id, Some(VideoId(1)));
        let g = sample_grid(
            &ds,
            &GridConfig::new([50, 50]).with_video(5).with_full(true),
        )
        .unwrap();
        assert_eq!(g.targets.len(), 5);
        assert_eq!(g.targets[4].time_slice, Some([Some(0), Some(3)]));
        assert_eq!(g.targets[0].time_slice, Some([Some(0), Some(5)]));
        assert_eq!(g.positives, vec![1, 4]);
    }
}
