//! Positive and negative regions of a dataset: the table of annotation boxes
//! (positives), mined background windows (negatives), a per-epoch preselection
//! of both, and a covering subset of positive windows.
//!
//! This is the counterpart of the reference's `CocoRegions` (ndsampler 0.8.1):
//!
//! * **Positives** ([`Regions::positives`]): one row per annotation with a usable
//!   box (finite, non-negative size), in dataset order. [`Regions::positive`]
//!   turns row `i` into a centre-mode [`Target`] on the annotation (`annot_id`,
//!   `image_id`, `category_id`, `cx`, `cy`, `width`, `height`).
//! * **Negatives** ([`Regions::negatives`]): random windows mined with
//!   [`region_index`] that overlap no annotation by `thresh` or more of their area.
//!   Their sizes are absolute, given anchors, or anchors **learned from the data**
//!   ([`Regions::anchors`]: the positives' sizes relative to their image, as the
//!   reference's `neg_anchors`, at most [`MAX_ANCHORS`] of them).
//! * **Preselection** ([`Regions::preselect`]): the positives (all, or a covering
//!   subset) plus a pool of negatives sized by a count or a ratio to the
//!   positives, a pure function of `(seed, epoch)`.
//! * **Coverage** ([`Regions::covering_positives`]): a seeded subset of positives
//!   whose windows of a given size, centred on them, contain every positive's
//!   centre (greedy set cover; the reference's non-max suppression could leave
//!   positives uncovered).
//!
//! ```
//! use coco_model::{AnnotId, CategoryId, CocoDataset, ImageId};
//! use sampler::regions::{NegativeOptions, Regions};
//!
//! let ds = CocoDataset::from_json_str(r#"{
//!     "categories": [{"id": 0, "name": "background"}, {"id": 1, "name": "cat"}],
//!     "images": [{"id": 1, "file_name": "a.png", "width": 200, "height": 200}],
//!     "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40]}]
//! }"#, ".")?;
//! let regions = Regions::new(&ds)?;
//! let pos = regions.positive(0).unwrap();
//! assert_eq!((pos.annot_id, pos.cx, pos.cy, pos.height), (Some(coco_model::AnnotId(5)), Some(25.0), Some(40.0), Some(40.0)));
//!
//! let negs = regions.negatives(&NegativeOptions::absolute([32, 32]).with_thresh(0.0), 4, 7)?;
//! assert_eq!(negs.len(), 4);
//! assert!(negs.iter().all(|t| t.category_id == Some(coco_model::CategoryId(0)))); // the background class
//! assert_eq!(negs, regions.negatives(&NegativeOptions::absolute([32, 32]).with_thresh(0.0), 4, 7)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BinaryHeap, HashMap, HashSet};

use coco_model::{AnnotId, CategoryId, CocoDataset, ImageId};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use region_index::{FrameExtent, MiningMode, NegativeConfig, RegionIndex, WindowSizes};

pub use crate::error::RegionError;
use crate::frames::{annotation_rows, image_size};
use crate::rng::rng_for;
use crate::target::{Target, WindowDims, centered_span};

/// Most anchors [`Regions::anchors`] keeps (a seeded sample when there are more
/// positives), as the reference.
pub const MAX_ANCHORS: usize = 1000;

/// RNG stream of the negative pool of [`Regions::preselect`].
const STREAM_NEGATIVES: u64 = 0x4E45_4741;
/// RNG stream of the covering selection of [`Regions::preselect`].
const STREAM_COVER: u64 = 0x434F_5645;

/// One positive: an annotation with a usable box.
#[derive(Debug, Clone, PartialEq)]
pub struct Positive {
    /// The annotation.
    pub annot_id: i64,
    /// Its image.
    pub image_id: i64,
    /// Its category.
    pub category_id: Option<i64>,
    /// Centre x of the box (image space).
    pub cx: f64,
    /// Centre y of the box.
    pub cy: f64,
    /// Box width.
    pub width: f64,
    /// Box height.
    pub height: f64,
}

impl Positive {
    /// A centre-mode target on the annotation.
    pub fn to_target(&self) -> Target {
        Target {
            annot_id: Some(AnnotId(self.annot_id)),
            image_id: Some(ImageId(self.image_id)),
            category_id: self.category_id.map(CategoryId),
            cx: Some(self.cx),
            cy: Some(self.cy),
            width: Some(self.width),
            height: Some(self.height),
            ..Target::default()
        }
    }
}

/// Window sizes of mined negatives.
#[derive(Debug, Clone, PartialEq)]
pub enum NegativeSize {
    /// The anchors learned from the positives ([`Regions::anchors`]); with no
    /// positives, a quarter of the image on each side.
    Learned,
    /// `[w, h]` fractions in `(0, 1]` of the image's width and height.
    Anchors(Vec<[f64; 2]>),
    /// `[h, w]` pixels.
    Absolute([i64; 2]),
}

/// How negatives are written as targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NegativeForm {
    /// `image_id` + `cx`, `cy`, `width`, `height` (the reference's form); the
    /// window is exactly the mined one (sizes and corners are whole pixels).
    #[default]
    Centre,
    /// `image_id` + `space_slice`.
    Slice,
}

/// Settings of negative mining ([`Regions::negatives`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeOptions {
    /// Window sizes (default [`NegativeSize::Learned`]).
    pub size: NegativeSize,
    /// A window is kept when every annotation overlapping it covers strictly less
    /// than `thresh` of its area; `0`: no annotation may even touch it. Default
    /// `0.3` (the reference's `_preselect_negatives`).
    pub thresh: f64,
    /// What to do when windows are hard to find (default
    /// [`MiningMode::BestEffort`]: return fewer, as the reference's `exact='warn'`).
    pub mode: MiningMode,
    /// Rejected candidates in a row before giving up.
    pub patience: usize,
    /// Target form (default [`NegativeForm::Centre`]).
    pub form: NegativeForm,
}

impl Default for NegativeOptions {
    fn default() -> Self {
        NegativeOptions {
            size: NegativeSize::Learned,
            thresh: 0.3,
            mode: MiningMode::BestEffort,
            patience: region_index::DEFAULT_PATIENCE,
            form: NegativeForm::Centre,
        }
    }
}

impl NegativeOptions {
    /// Windows of exactly `[h, w]` pixels.
    pub fn absolute(dims: [i64; 2]) -> Self {
        NegativeOptions {
            size: NegativeSize::Absolute(dims),
            ..Self::default()
        }
    }

    /// Sets [`NegativeOptions::thresh`].
    pub fn with_thresh(mut self, thresh: f64) -> Self {
        self.thresh = thresh;
        self
    }

    /// Sets [`NegativeOptions::mode`].
    pub fn with_mode(mut self, mode: MiningMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets [`NegativeOptions::form`].
    pub fn with_form(mut self, form: NegativeForm) -> Self {
        self.form = form;
        self
    }
}

/// How many negatives a preselection mines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NegativeCount {
    /// This many.
    Count(usize),
    /// `floor(ratio × selected positives)`.
    Ratio(f64),
}

/// Which positives a preselection keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositiveSelection {
    /// Every positive.
    #[default]
    All,
    /// A seeded covering subset for windows of `[h, w]`
    /// ([`Regions::covering_positives`]); their targets get `window_dims = [h, w]`.
    Covering([i64; 2]),
}

/// Settings of [`Regions::preselect`].
#[derive(Debug, Clone, PartialEq)]
pub struct PreselectConfig {
    /// Which positives (default all).
    pub positives: PositiveSelection,
    /// How many negatives (default a ratio of 1).
    pub negatives: NegativeCount,
    /// How negatives are mined.
    pub negative: NegativeOptions,
}

impl Default for PreselectConfig {
    fn default() -> Self {
        PreselectConfig {
            positives: PositiveSelection::All,
            negatives: NegativeCount::Ratio(1.0),
            negative: NegativeOptions::default(),
        }
    }
}

/// One epoch's selection: positives (rows of the positive table) and mined
/// negatives.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Selected rows of [`Regions::positives`], increasing.
    pub positives: Vec<usize>,
    /// Window of the positive targets (`window_dims`), for covering selections.
    pub positive_window: Option<[i64; 2]>,
    /// The negative pool.
    pub negatives: Vec<Target>,
}

impl Selection {
    /// Positives plus negatives.
    pub fn len(&self) -> usize {
        self.positives.len() + self.negatives.len()
    }

    /// True when nothing was selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `i`: positives first, then negatives (the reference's `get_item`).
    pub fn target(&self, regions: &Regions, i: usize) -> Option<Target> {
        if let Some(&row) = self.positives.get(i) {
            let mut t = regions.positive(row)?;
            t.window_dims = self.positive_window.map(WindowDims::Dims);
            Some(t)
        } else {
            self.negatives.get(i - self.positives.len()).cloned()
        }
    }

    /// Every target: positives, then negatives.
    pub fn targets(&self, regions: &Regions) -> Vec<Target> {
        (0..self.len())
            .filter_map(|i| self.target(regions, i))
            .collect()
    }
}

/// The positive table, the annotation index and the image extents of a dataset
/// (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Regions {
    positives: Vec<Positive>,
    index: RegionIndex<i64, i64>,
    extents: Vec<FrameExtent<i64>>,
    image_dims: HashMap<i64, [i64; 2]>,
    background: Option<i64>,
    anchors: Vec<[f64; 2]>,
}

impl Regions {
    /// Builds the positive table and the index of annotation boxes (image space).
    ///
    /// Annotations without a usable box are not positives and are not indexed.
    /// Images without width/height take them from their file header (read once
    /// per process); those whose file cannot tell either cannot hold negatives
    /// (their positives stay).
    /// The background class is the category named `background`
    /// (case-insensitive), if any.
    pub fn new(ds: &CocoDataset) -> Result<Self, RegionError> {
        let (rows, _) = annotation_rows(ds, ds.images().iter().map(|i| i.id), false)?;
        // The table follows the annotations table (rows follow the images).
        let usable: HashSet<i64> = rows.iter().map(|r| r.1).collect();
        let index = RegionIndex::from_rows(rows)?;
        let mut positives = Vec::with_capacity(usable.len());
        for ann in ds.annotations() {
            if !usable.contains(&ann.id.0) {
                continue;
            }
            let Some([x, y, w, h]) = ann.bbox else {
                continue;
            };
            positives.push(Positive {
                annot_id: ann.id.0,
                image_id: ann.image_id.0,
                category_id: ann.category_id.map(|c| c.0),
                cx: x + w / 2.0,
                cy: y + h / 2.0,
                width: w,
                height: h,
            });
        }
        let mut extents = Vec::new();
        let mut image_dims = HashMap::new();
        for img in ds.images() {
            if let Ok([h, w]) = image_size(ds, img) {
                extents.push(FrameExtent::new(img.id.0, w as f64, h as f64));
                image_dims.insert(img.id.0, [h, w]);
            }
        }
        Ok(Self::assemble(
            positives,
            index,
            extents,
            image_dims,
            ds.categories(),
        ))
    }

    /// The regions from their parts: the background class and the anchor
    /// boxes are derived here, the same way for either table source.
    fn assemble(
        positives: Vec<Positive>,
        index: RegionIndex<i64, i64>,
        extents: Vec<FrameExtent<i64>>,
        image_dims: HashMap<i64, [i64; 2]>,
        categories: &[coco_model::Category],
    ) -> Regions {
        let background = categories
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case("background"))
            .map(|c| c.id.0);
        let anchors = learn_anchors(&positives, &image_dims);
        Regions {
            positives,
            index,
            extents,
            image_dims,
            background,
            anchors,
        }
    }
    /// [`Regions::new`] over a sampler's records: from its snapshot's columns
    /// when it was opened on one (boxes, categories and image sizes, without
    /// loading the JSON), else from its dataset. The same regions either way.
    pub fn from_sampler(sampler: &crate::CocoSampler) -> Result<Self, RegionError> {
        match sampler.snapshot_parts() {
            None => Self::new(sampler.dataset()),
            Some((snap, meta)) => Self::from_snapshot(snap, meta),
        }
    }

    /// [`Regions::new`] from a snapshot's columns; `meta` holds its categories
    /// and resolves file names (for images without a size).
    fn from_snapshot(
        snap: &crate::snapshot::Snapshot,
        meta: &CocoDataset,
    ) -> Result<Self, RegionError> {
        use crate::frames::usable_box;
        let mut rows = Vec::new();
        let mut extents = Vec::new();
        let mut image_dims = HashMap::new();
        for pos in 0..snap.n_images() {
            let gid = snap.image_id(pos)?;
            for p in snap.image_annotations(pos)? {
                let a = snap.annotation(p)?;
                // the first record of a repeated id only, as the dataset's index
                if snap.annotation_position(a.id)? != Some(p) {
                    continue;
                }
                if let Some(b) = a.bbox.and_then(usable_box) {
                    rows.push((gid, a.id, b));
                }
            }
            let img: coco_model::Image =
                coco_model::record::record_from_json(snap.image_record(pos)?).map_err(|e| {
                    crate::snapshot::SnapshotError::Corrupt {
                        path: snap.path().to_path_buf(),
                        msg: format!("image record {pos}: {e}"),
                    }
                })?;
            if let Ok([h, w]) = image_size(meta, &img) {
                extents.push(FrameExtent::new(gid, w as f64, h as f64));
                image_dims.insert(gid, [h, w]);
            }
        }
        let usable: HashSet<i64> = rows.iter().map(|r| r.1).collect();
        let index = RegionIndex::from_rows(rows)?;
        let mut positives = Vec::with_capacity(usable.len());
        for p in 0..snap.n_annotations() {
            let a = snap.annotation(p)?;
            if !usable.contains(&a.id) {
                continue;
            }
            let Some([x, y, w, h]) = a.bbox else {
                continue;
            };
            positives.push(Positive {
                annot_id: a.id,
                image_id: a.image_id,
                category_id: a.category_id,
                cx: x + w / 2.0,
                cy: y + h / 2.0,
                width: w,
                height: h,
            });
        }
        Ok(Self::assemble(
            positives,
            index,
            extents,
            image_dims,
            meta.categories(),
        ))
    }

    /// The positive table, in annotation order.
    pub fn positives(&self) -> &[Positive] {
        &self.positives
    }

    /// Number of positives.
    pub fn n_positives(&self) -> usize {
        self.positives.len()
    }

    /// Positive `i` as a centre-mode target on its annotation.
    pub fn positive(&self, i: usize) -> Option<Target> {
        self.positives.get(i).map(Positive::to_target)
    }

    /// A uniformly random positive (`None` when there are none).
    pub fn random_positive<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<Target> {
        if self.positives.is_empty() {
            return None;
        }
        self.positive(rng.random_range(0..self.positives.len()))
    }

    /// The index of annotation boxes, by image id and annotation id.
    pub fn index(&self) -> &RegionIndex<i64, i64> {
        &self.index
    }

    /// The background category, if the dataset has one.
    pub fn background_id(&self) -> Option<i64> {
        self.background
    }

    /// Learned negative anchors: each positive's `[width / image width, height /
    /// image height]`, clamped to `(0, 1]`, for positives on images with a size and
    /// a box of positive area; a seeded (seed 0) sample of [`MAX_ANCHORS`] when
    /// there are more. Drawing one uniformly draws from the positives' size
    /// distribution.
    pub fn anchors(&self) -> &[[f64; 2]] {
        &self.anchors
    }

    /// Mines `count` negatives with the random stream `seed` (see
    /// [`NegativeOptions`]). Windows lie inside their image and overlap no
    /// annotation by `thresh` or more of their area. Fewer come back when they are
    /// hard to find in `BestEffort`/`SinglePass` mode.
    pub fn negatives(
        &self,
        opts: &NegativeOptions,
        count: usize,
        seed: u64,
    ) -> Result<Vec<Target>, RegionError> {
        let sizes = match &opts.size {
            NegativeSize::Absolute([h, w]) => {
                if *h < 1 || *w < 1 {
                    return Err(RegionError::BadConfig {
                        field: "negative window",
                        msg: format!("[h, w] must both be at least 1, got [{h}, {w}]"),
                    });
                }
                WindowSizes::Absolute(vec![[*w as f64, *h as f64]])
            }
            NegativeSize::Anchors(a) => WindowSizes::Relative(a.clone()),
            NegativeSize::Learned if self.anchors.is_empty() => {
                WindowSizes::Relative(vec![[0.25, 0.25]])
            }
            NegativeSize::Learned => WindowSizes::Relative(self.anchors.clone()),
        };
        let config = NegativeConfig {
            sizes,
            count,
            thresh: opts.thresh,
            seed,
            mode: opts.mode,
            patience: opts.patience,
            pixel_aligned: true,
        };
        let found = self.index.random_negatives(&self.extents, &config)?;
        Ok(found
            .into_iter()
            .map(|n| {
                let b = n.window;
                // pixel-aligned windows: exact integers
                let (x0, y0) = (b.x0.round() as i64, b.y0.round() as i64);
                let (x1, y1) = (b.x1.round() as i64, b.y1.round() as i64);
                let mut t = Target {
                    image_id: Some(ImageId(n.frame)),
                    category_id: self.background.map(CategoryId),
                    ..Target::default()
                };
                match opts.form {
                    NegativeForm::Centre => {
                        t.cx = Some((x0 + x1) as f64 / 2.0);
                        t.cy = Some((y0 + y1) as f64 / 2.0);
                        t.width = Some((x1 - x0) as f64);
                        t.height = Some((y1 - y0) as f64);
                    }
                    NegativeForm::Slice => {
                        t.space_slice = Some([[Some(y0), Some(y1)], [Some(x0), Some(x1)]]);
                    }
                }
                t
            })
            .collect())
    }

    /// A seeded subset of positives (rows, increasing) such that windows of `[h,
    /// w]` centred on them (as the sampler centres `window_dims = [h, w]`) contain
    /// the centre of every positive: greedy set cover per image, ties broken by a
    /// random priority from `seed`, so different seeds pick different covers.
    ///
    /// Errors: [`RegionError::BadConfig`] when `h` or `w` is below 2 (a window of
    /// 1 pixel may miss its own centre).
    pub fn covering_positives(
        &self,
        window: [i64; 2],
        seed: u64,
    ) -> Result<Vec<usize>, RegionError> {
        let [wh, ww] = window;
        if wh < 2 || ww < 2 {
            return Err(RegionError::BadConfig {
                field: "cover window",
                msg: format!("[h, w] must both be at least 2, got {window:?}"),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut by_image: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut order = Vec::new();
        for (i, p) in self.positives.iter().enumerate() {
            by_image
                .entry(p.image_id)
                .or_insert_with(|| {
                    order.push(p.image_id);
                    Vec::new()
                })
                .push(i);
        }
        let mut selected = Vec::new();
        for gid in order {
            let rows = &by_image[&gid];
            selected.extend(self.cover_image(rows, window, &mut rng));
        }
        selected.sort_unstable();
        Ok(selected)
    }

    /// Greedy set cover of one image's positives.
    fn cover_image(&self, rows: &[usize], [wh, ww]: [i64; 2], rng: &mut ChaCha8Rng) -> Vec<usize> {
        let n = rows.len();
        // centres sorted by x, to find the centres of a window by binary search
        let mut by_x: Vec<usize> = (0..n).collect();
        let cx = |k: usize| self.positives[rows[k]].cx;
        let cy = |k: usize| self.positives[rows[k]].cy;
        by_x.sort_by(|&a, &b| cx(a).total_cmp(&cx(b)));
        let xs: Vec<f64> = by_x.iter().map(|&k| cx(k)).collect();
        let covers: Vec<Vec<usize>> = (0..n)
            .map(|k| {
                let [x0, x1] = centered_span(cx(k), ww);
                let [y0, y1] = centered_span(cy(k), wh);
                let lo = xs.partition_point(|&x| x < x0 as f64);
                let hi = xs.partition_point(|&x| x < x1 as f64);
                by_x[lo..hi]
                    .iter()
                    .copied()
                    .filter(|&j| (y0 as f64) <= cy(j) && cy(j) < y1 as f64)
                    .collect()
            })
            .collect();
        let mut priority: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
        // make priorities distinct so the order is total and deterministic
        for (k, p) in priority.iter_mut().enumerate() {
            *p = (*p & !0xFFFF_FFFF) | k as u64;
        }
        let mut covered = vec![false; n];
        let mut left = n;
        let mut heap: BinaryHeap<(usize, u64, usize)> = covers
            .iter()
            .enumerate()
            .map(|(k, c)| (c.len(), priority[k], k))
            .collect();
        let mut chosen = Vec::new();
        while left > 0 {
            let Some((gain, prio, k)) = heap.pop() else {
                break;
            };
            let fresh = covers[k].iter().filter(|&&j| !covered[j]).count();
            if fresh == 0 {
                continue;
            }
            if fresh < gain {
                heap.push((fresh, prio, k));
                continue;
            }
            for &j in &covers[k] {
                if !covered[j] {
                    covered[j] = true;
                    left -= 1;
                }
            }
            chosen.push(rows[k]);
        }
        // Every centre lies in its own window (window >= 2), so the cover is complete.
        debug_assert_eq!(left, 0);
        chosen
    }

    /// One epoch's selection, a pure function of `(seed, epoch)`: the positives
    /// (all, or a covering subset drawn from the epoch's stream) and a negative pool
    /// mined from the epoch's stream, sized by `cfg.negatives`.
    pub fn preselect(
        &self,
        cfg: &PreselectConfig,
        seed: u64,
        epoch: u64,
    ) -> Result<Selection, RegionError> {
        let (positives, positive_window) = match cfg.positives {
            PositiveSelection::All => ((0..self.positives.len()).collect(), None),
            PositiveSelection::Covering(window) => {
                let s = rng_for(seed, epoch, STREAM_COVER).next_u64();
                (self.covering_positives(window, s)?, Some(window))
            }
        };
        let n_neg = match cfg.negatives {
            NegativeCount::Count(n) => n,
            NegativeCount::Ratio(r) if r.is_finite() && r >= 0.0 => {
                (r * positives.len() as f64).floor() as usize
            }
            NegativeCount::Ratio(r) => {
                return Err(RegionError::BadConfig {
                    field: "negative ratio",
                    msg: format!("must be finite and non-negative, got {r}"),
                });
            }
        };
        let neg_seed = rng_for(seed, epoch, STREAM_NEGATIVES).next_u64();
        let negatives = self.negatives(&cfg.negative, n_neg, neg_seed)?;
        Ok(Selection {
            positives,
            positive_window,
            negatives,
        })
    }

    /// Epoch `epoch`'s selection as a sample plan shuffled by `(seed, epoch)`:
    /// feed it to [`EpochPlan::from_list`](crate::plan::EpochPlan::from_list).
    pub fn epoch_plan(
        &self,
        cfg: &PreselectConfig,
        seed: u64,
        epoch: u64,
    ) -> Result<crate::plan::TargetList, RegionError> {
        let sel = self.preselect(cfg, seed, epoch)?;
        Ok(crate::plan::TargetList::new(sel.targets(self)).shuffled())
    }

    /// Size `[h, w]` of an image that can hold negatives.
    pub fn image_dims(&self, image_id: i64) -> Option<[i64; 2]> {
        self.image_dims.get(&image_id).copied()
    }
}

fn learn_anchors(positives: &[Positive], dims: &HashMap<i64, [i64; 2]>) -> Vec<[f64; 2]> {
    let mut anchors: Vec<[f64; 2]> = positives
        .iter()
        .filter_map(|p| {
            let [h, w] = *dims.get(&p.image_id)?;
            (h > 0 && w > 0 && p.width > 0.0 && p.height > 0.0).then(|| {
                [
                    (p.width / w as f64).min(1.0),
                    (p.height / h as f64).min(1.0),
                ]
            })
        })
        .collect();
    if anchors.len() > MAX_ANCHORS {
        anchors.shuffle(&mut ChaCha8Rng::seed_from_u64(0));
        anchors.truncate(MAX_ANCHORS);
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds() -> CocoDataset {
        CocoDataset::from_json_str(
            r#"{
            "categories": [{"id": 1, "name": "cat"}],
            "images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 50},
                       {"id": 2, "file_name": "b.png"}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 10]},
                {"id": 2, "image_id": 1, "category_id": 1},
                {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 5]},
                {"id": 4, "image_id": 2, "bbox": [1, 2, 3, 4]}
            ]}"#,
            ".",
        )
        .unwrap()
    }

    #[test]
    fn positive_table() {
        let r = Regions::new(&ds()).unwrap();
        let ids: Vec<i64> = r.positives().iter().map(|p| p.annot_id).collect();
        assert_eq!(ids, vec![1, 4]);
        let t = r.positive(0).unwrap();
        assert_eq!(t.cx, Some(20.0));
        assert_eq!(t.cy, Some(15.0));
        assert_eq!(t.width, Some(20.0));
        assert_eq!(t.category_id, Some(CategoryId(1)));
        assert_eq!(r.positive(1).unwrap().category_id, None);
        assert!(r.positive(2).is_none());
        // only image 1 has a size: one anchor
        assert_eq!(r.anchors(), &[[0.2, 0.2]]);
        assert_eq!(r.background_id(), None);
        assert_eq!(r.image_dims(1), Some([50, 100]));
        assert_eq!(r.image_dims(2), None);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let a = r.random_positive(&mut rng).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(Some(a), r.random_positive(&mut rng));
    }

    #[test]
    fn negatives_forms() {
        let r = Regions::new(&ds()).unwrap();
        let opts = NegativeOptions::absolute([10, 20]).with_thresh(0.0);
        let c = r.negatives(&opts, 5, 1).unwrap();
        let s = r
            .negatives(&opts.clone().with_form(NegativeForm::Slice), 5, 1)
            .unwrap();
        assert_eq!(c.len(), 5);
        for (c, s) in c.iter().zip(&s) {
            assert_eq!(c.image_id, Some(ImageId(1)));
            let [ys, xs] = s.space_slice.unwrap();
            let (y0, y1, x0, x1) = (
                ys[0].unwrap(),
                ys[1].unwrap(),
                xs[0].unwrap(),
                xs[1].unwrap(),
            );
            assert_eq!((y1 - y0, x1 - x0), (10, 20));
            // the centre form samples exactly the same window
            assert_eq!(centered_span(c.cx.unwrap(), 20), [x0, x1]);
            assert_eq!(centered_span(c.cy.unwrap(), 10), [y0, y1]);
        }
        assert!(
            r.negatives(&NegativeOptions::absolute([0, 3]), 1, 0)
                .is_err()
        );
    }

    #[test]
    fn preselect_counts() {
        let r = Regions::new(&ds()).unwrap();
        let cfg = PreselectConfig {
            negatives: NegativeCount::Ratio(1.5),
            negative: NegativeOptions::absolute([8, 8]),
            ..PreselectConfig::default()
        };
        let sel = r.preselect(&cfg, 0, 0).unwrap();
        assert_eq!(sel.positives, vec![0, 1]);
        assert_eq!(sel.negatives.len(), 3);
        assert_eq!(sel.len(), 5);
        let ts = sel.targets(&r);
        assert_eq!(ts[0].annot_id, Some(AnnotId(1)));
        assert_eq!(ts[4].annot_id, None);
        assert!(sel.target(&r, 5).is_none());
        let bad = PreselectConfig {
            negatives: NegativeCount::Ratio(-1.0),
            ..cfg.clone()
        };
        assert!(r.preselect(&bad, 0, 0).is_err());
        // the epoch plan holds the selection, shuffled by (seed, epoch)
        let plan = r.epoch_plan(&cfg, 0, 0).unwrap();
        let mut got = plan.targets.clone();
        let mut want = ts.clone();
        let key = |t: &Target| serde_json::to_string(t).unwrap();
        got.sort_by_key(key);
        want.sort_by_key(key);
        assert_eq!(got, want);
        let order = plan.order(0, 0);
        assert_ne!(order, plan.order(0, 1));
    }

    #[test]
    fn cover_rejects_tiny_windows() {
        let r = Regions::new(&ds()).unwrap();
        assert!(r.covering_positives([1, 10], 0).is_err());
        assert_eq!(r.covering_positives([10, 10], 0).unwrap(), vec![0, 1]);
    }
}
