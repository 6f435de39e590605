//! Sample plans: the list of targets an epoch visits, reproducibly.
//!
//! Sample `i` of epoch `e` is a pure function of `(seed, e, i)`: it does not
//! depend on the number of worker threads or on timing. Plans shard for
//! distributed training exactly as torch's `DistributedSampler`: the epoch's
//! order is evened out to a multiple of the world size (padded by repeating
//! its first positions, or its tail dropped — [`Tail`]), and rank `r` of `w`
//! takes positions `r, r + w, r + 2w, …` of it, so every rank gets the same
//! number of samples (ranks with different batch counts hang DDP).
//!
//! A [`PlanState`] (seed, epoch, rank, samples consumed) rebuilds the rest of
//! an epoch after a restart ([`EpochPlan::resume`]).
//!
//! [`BalancedPlan`] balances classes per epoch: detectron2's repeat-factor
//! rule, per-class weights or inverse class frequency over labelled items
//! (images or positives), plus a positive/negative ratio drawn from a
//! negative pool; each epoch is a [`TargetList`] (already shuffled) that
//! shards as above.

use std::collections::BTreeMap;
use std::path::Path;

use coco_model::{CocoDataset, ImageId};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::error::{Error, Result, TrainingError};
pub use crate::rng::rng_for;
use crate::target::Target;

/// Where an epoch's targets come from.
pub trait PlanSource: Send + Sync {
    /// Number of samples in every epoch (fixed for the plan's lifetime).
    fn len(&self) -> usize;
    /// True when the plan has no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Target of position `i` (`i < len()`) in epoch `epoch`.
    fn target(&self, seed: u64, epoch: u64, i: usize) -> Target;
}

/// A fixed list of targets (positives, negatives, a grid, or a JSON plan),
/// visited in order or in a per-epoch seeded shuffle.
#[derive(Debug, Clone, Default)]
pub struct TargetList {
    /// The targets.
    pub targets: Vec<Target>,
    /// Shuffle the order every epoch (seeded by `(seed, epoch)`).
    pub shuffle: bool,
}

impl TargetList {
    /// A plan over `targets`, in order.
    pub fn new(targets: Vec<Target>) -> Self {
        TargetList {
            targets,
            shuffle: false,
        }
    }

    /// Shuffle the order every epoch.
    pub fn shuffled(mut self) -> Self {
        self.shuffle = true;
        self
    }

    /// The permutation of epoch `epoch` (identity without shuffling).
    pub fn order(&self, seed: u64, epoch: u64) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.targets.len()).collect();
        if self.shuffle {
            idx.shuffle(&mut rng_for(seed, epoch, 1));
        }
        idx
    }

    /// Read a plan written by [`TargetList::write_json`] or by `ndsampler grid`
    /// (a JSON list of targets, or an object with a `targets` list).
    pub fn read_json(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::PlanJson {
                path: path.to_path_buf(),
                source: e,
            })?;
        let list = match value {
            serde_json::Value::Object(mut m) => {
                m.remove("targets").ok_or_else(|| Error::BadPlan {
                    path: path.to_path_buf(),
                    msg: "object has no `targets` list".into(),
                })?
            }
            v => v,
        };
        let targets: Vec<Target> = serde_json::from_value(list).map_err(|e| Error::PlanJson {
            path: path.to_path_buf(),
            source: e,
        })?;
        Ok(TargetList::new(targets))
    }

    /// Write the targets as a pretty JSON list (one target per line).
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let mut out = String::from("[\n");
        for (i, t) in self.targets.iter().enumerate() {
            out.push_str(&serde_json::to_string(t)?);
            out.push_str(if i + 1 < self.targets.len() {
                ",\n"
            } else {
                "\n"
            });
        }
        out.push_str("]\n");
        std::fs::write(path, out).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })
    }
}

impl PlanSource for TargetList {
    fn len(&self) -> usize {
        self.targets.len()
    }

    fn target(&self, seed: u64, epoch: u64, i: usize) -> Target {
        if self.shuffle {
            // A per-epoch permutation; recomputed per call would be O(n), so the
            // loader asks for `order()` once per epoch instead (see `EpochPlan`).
            self.targets[self.order(seed, epoch)[i]].clone()
        } else {
            self.targets[i].clone()
        }
    }
}

/// Random windows of a fixed size over a set of frames (image ids with their
/// sizes): window `i` of epoch `e` comes from its own RNG stream.
#[derive(Debug, Clone)]
pub struct RandomWindows {
    /// `(image_id, height, width)` of the frames to draw from.
    pub frames: Vec<(i64, i64, i64)>,
    /// Window `[h, w]`.
    pub window: [i64; 2],
    /// Samples per epoch.
    pub count: usize,
}

impl PlanSource for RandomWindows {
    fn len(&self) -> usize {
        if self.frames.is_empty() {
            0
        } else {
            self.count
        }
    }

    fn target(&self, seed: u64, epoch: u64, i: usize) -> Target {
        let mut rng = rng_for(seed, epoch, 2 + i as u64);
        let (gid, h, w) = self.frames[rng.random_range(0..self.frames.len())];
        let [wh, ww] = self.window;
        let y0 = rng.random_range(0..=(h - wh).max(0));
        let x0 = rng.random_range(0..=(w - ww).max(0));
        Target {
            image_id: Some(ImageId(gid)),
            space_slice: Some([[Some(y0), Some(y0 + wh)], [Some(x0), Some(x0 + ww)]]),
            ..Target::default()
        }
    }
}

/// One epoch of a plan, materialized and sharded: what a loader iterates.
#[derive(Debug, Clone)]
pub struct EpochPlan {
    /// The targets of this shard, in yield order.
    pub targets: Vec<Target>,
    /// Position of each target in the whole (unsharded) epoch.
    pub positions: Vec<usize>,
}

/// What a shard does with an epoch whose length is not a multiple of the
/// world size (torch `DistributedSampler`'s `drop_last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tail {
    /// Repeat the epoch's first positions until every rank has
    /// `ceil(n / w)` (`drop_last=False`, torch's default).
    #[default]
    Pad,
    /// Drop the last `n % w` positions: every rank has `floor(n / w)`
    /// (`drop_last=True`).
    Drop,
}

/// One rank's part of an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This process's rank, `< world_size`.
    pub rank: usize,
    /// Number of ranks (at least 1).
    pub world_size: usize,
    /// Padding or dropping to even the shards out.
    pub tail: Tail,
}

impl Shard {
    /// The whole epoch (rank 0 of 1).
    pub const WHOLE: Shard = Shard {
        rank: 0,
        world_size: 1,
        tail: Tail::Pad,
    };

    /// Rank `rank` of `world_size`, padded (torch's default).
    ///
    /// Errors: [`Error::BadTarget`] (key `rank`) unless `rank < world_size`.
    pub fn new(rank: usize, world_size: usize) -> Result<Self> {
        Self::with_tail(rank, world_size, Tail::Pad)
    }

    /// Rank `rank` of `world_size` with the given [`Tail`].
    pub fn with_tail(rank: usize, world_size: usize, tail: Tail) -> Result<Self> {
        if world_size == 0 || rank >= world_size {
            return Err(Error::BadTarget {
                key: "rank",
                msg: format!("rank {rank} must be < world_size {world_size} (and world_size > 0)"),
            });
        }
        Ok(Shard {
            rank,
            world_size,
            tail,
        })
    }

    /// Samples per rank for an epoch of `n` (torch's `num_samples`).
    pub fn per_rank(&self, n: usize) -> usize {
        match self.tail {
            Tail::Pad => n.div_ceil(self.world_size),
            Tail::Drop => n / self.world_size,
        }
    }

    /// This rank's positions in an epoch of `n`, in yield order: indices
    /// into the epoch's order, padded (`i mod n`) or cut as torch does.
    ///
    /// ```
    /// use sampler::plan::{Shard, Tail};
    /// // 10 over 3 ranks, padded: 4 each; positions 0 and 1 repeat at the end
    /// assert_eq!(Shard::new(2, 3).unwrap().positions(10), vec![2, 5, 8, 1]);
    /// assert_eq!(Shard::with_tail(2, 3, Tail::Drop).unwrap().positions(10), vec![2, 5, 8]);
    /// ```
    pub fn positions(&self, n: usize) -> Vec<usize> {
        if n == 0 {
            return Vec::new();
        }
        let total = self.per_rank(n) * self.world_size;
        (self.rank..total)
            .step_by(self.world_size)
            .map(|i| i % n)
            .collect()
    }
}

/// Where a sharded run of a plan stands (torchdata's
/// `state_dict()` / `load_state_dict()` convention): enough to rebuild the
/// rest of the current epoch in a new process ([`PlanState::resume`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanState {
    /// The plan's seed.
    pub seed: u64,
    /// The current epoch.
    pub epoch: u64,
    /// This process's rank.
    pub rank: usize,
    /// Number of ranks.
    pub world_size: usize,
    /// Samples of this rank's epoch already yielded.
    pub consumed: usize,
}

impl PlanState {
    /// The rest of the epoch of `list` this state stands in (see
    /// [`EpochPlan::resume`]).
    ///
    /// Errors: [`Error::BadTarget`] (key `rank`) for a rank not below the
    /// world size.
    pub fn resume(&self, list: &TargetList) -> Result<EpochPlan> {
        let whole = EpochPlan::from_list(list, self.seed, self.epoch, self.rank, self.world_size)?;
        Ok(whole.resume(self.consumed))
    }
}

impl EpochPlan {
    /// Materialize epoch `epoch` of `source` for shard `rank` of
    /// `world_size`, padded as torch's `DistributedSampler` (see
    /// [`EpochPlan::sharded`]).
    pub fn new(
        source: &dyn PlanSource,
        seed: u64,
        epoch: u64,
        rank: usize,
        world_size: usize,
    ) -> Result<Self> {
        Self::sharded(source, seed, epoch, Shard::new(rank, world_size)?)
    }

    /// Materialize epoch `epoch` of `source` for one [`Shard`]: every rank
    /// gets [`Shard::per_rank`] samples.
    pub fn sharded(source: &dyn PlanSource, seed: u64, epoch: u64, shard: Shard) -> Result<Self> {
        let positions = shard.positions(source.len());
        let targets = positions
            .iter()
            .map(|&i| source.target(seed, epoch, i))
            .collect();
        Ok(EpochPlan { targets, positions })
    }

    /// Same as [`EpochPlan::new`] for a [`TargetList`], computing the epoch's
    /// permutation once.
    pub fn from_list(
        list: &TargetList,
        seed: u64,
        epoch: u64,
        rank: usize,
        world_size: usize,
    ) -> Result<Self> {
        Self::from_list_sharded(list, seed, epoch, Shard::new(rank, world_size)?)
    }

    /// [`EpochPlan::sharded`] for a [`TargetList`].
    pub fn from_list_sharded(
        list: &TargetList,
        seed: u64,
        epoch: u64,
        shard: Shard,
    ) -> Result<Self> {
        let order = list.order(seed, epoch);
        let positions = shard.positions(order.len());
        let targets = positions
            .iter()
            .map(|&i| list.targets[order[i]].clone())
            .collect();
        Ok(EpochPlan { targets, positions })
    }

    /// The rest of this shard after its first `consumed` samples (a job
    /// restarted mid-epoch sees the same remaining samples in the same
    /// order; `consumed` past the end gives an empty plan).
    ///
    /// ```
    /// use sampler::plan::{EpochPlan, TargetList};
    /// use sampler::Target;
    /// let list = TargetList::new(vec![Target::default(); 10]).shuffled();
    /// let whole = EpochPlan::from_list(&list, 3, 1, 0, 2).unwrap();
    /// let rest = whole.resume(2);
    /// assert_eq!(rest.positions, whole.positions[2..]);
    /// ```
    pub fn resume(&self, consumed: usize) -> EpochPlan {
        let k = consumed.min(self.targets.len());
        EpochPlan {
            targets: self.targets[k..].to_vec(),
            positions: self.positions[k..].to_vec(),
        }
    }

    /// Number of samples in this shard.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when the shard is empty.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// One unit of a balanced plan: a target and the categories it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledItem {
    /// What to sample.
    pub target: Target,
    /// Category ids present in it (duplicates are ignored); empty for an
    /// item without annotations.
    pub categories: Vec<i64>,
}

impl LabelledItem {
    /// One item per image (target `{"image_id": …}`, the whole image) with
    /// the categories of its annotations: detectron2's unit.
    pub fn from_images(ds: &CocoDataset) -> Vec<LabelledItem> {
        ds.images()
            .iter()
            .map(|im| {
                let mut categories: Vec<i64> = ds
                    .image_annotations(im.id)
                    .filter_map(|a| a.category_id.map(|c| c.0))
                    .collect();
                categories.sort_unstable();
                categories.dedup();
                LabelledItem {
                    target: Target {
                        image_id: Some(im.id),
                        ..Target::default()
                    },
                    categories,
                }
            })
            .collect()
    }

    /// One item per positive of `regions` (annotation-centred targets), with
    /// its category.
    pub fn from_positives(regions: &crate::Regions) -> Vec<LabelledItem> {
        regions
            .positives()
            .iter()
            .map(|p| LabelledItem {
                target: p.to_target(),
                categories: p.category_id.into_iter().collect(),
            })
            .collect()
    }
}

/// How a [`BalancedPlan`] weighs its items.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassBalance {
    /// Every item once per epoch.
    Uniform,
    /// detectron2's `RepeatFactorTrainingSampler`: with `f(c)` the fraction
    /// of items holding category `c`, `r(c) = max(1, sqrt(threshold / f(c)))`;
    /// an item's factor is the largest `r(c)` of its categories (1 without
    /// categories), and each epoch repeats it `floor(r)` times plus once more
    /// with probability `frac(r)` (stochastic rounding, per epoch).
    RepeatFactor {
        /// detectron2's `REPEAT_THRESHOLD` (e.g. 0.001; finite, ≥ 0).
        threshold: f64,
    },
    /// Draw `epoch_size` items with replacement, with probability
    /// proportional to the largest weight of their categories.
    ClassWeights {
        /// Weight of each category (finite, ≥ 0).
        weights: BTreeMap<i64, f64>,
        /// Weight of unlisted categories and of items without categories.
        default: f64,
    },
    /// [`ClassBalance::ClassWeights`] with `w(c) = 1 / (items holding c)`
    /// (items without categories form a class of their own): every class is
    /// about equally likely.
    InverseFrequency,
}

/// A class-balanced plan: positives weighted per [`ClassBalance`], plus
/// negatives at a ratio per epoch. Epoch `e` is a pure function of
/// `(seed, e)` (ChaCha streams, no hash-map order), the same in any process.
///
/// ```
/// use std::collections::BTreeMap;
/// use sampler::plan::{BalancedPlan, ClassBalance, LabelledItem, EpochPlan, Shard};
/// use sampler::Target;
/// let item = |c: Vec<i64>| LabelledItem { target: Target::default(), categories: c };
/// // category 2 is rare (1 of 4 items): repeated sqrt(0.5 / 0.25) ≈ 1.41 times
/// let items = vec![item(vec![1]), item(vec![1]), item(vec![1]), item(vec![1, 2])];
/// let plan = BalancedPlan::new(items, ClassBalance::RepeatFactor { threshold: 0.5 }).unwrap();
/// assert_eq!(plan.repeat_factors().unwrap()[3], 2f64.sqrt());
/// let epoch = plan.epoch(7, 0);
/// assert!(epoch.targets.len() == 4 || epoch.targets.len() == 5);
/// let shard = EpochPlan::from_list_sharded(&epoch, 7, 0, Shard::new(0, 2).unwrap()).unwrap();
/// assert_eq!(shard.len(), epoch.targets.len().div_ceil(2));
/// ```
#[derive(Debug, Clone)]
pub struct BalancedPlan {
    items: Vec<LabelledItem>,
    balance: ClassBalance,
    /// Per-item weight (`ClassWeights`, `InverseFrequency`) or repeat factor.
    factors: Vec<f64>,
    /// Draws per epoch of the weighted modes (default: the item count).
    epoch_size: usize,
    negatives: Vec<Target>,
    negative_ratio: f64,
}

const STREAM_BALANCE: u64 = 0x4241_4C41;
const STREAM_BALANCE_NEG: u64 = 0x4241_4E45;
const STREAM_BALANCE_SHUFFLE: u64 = 0x4241_5348;

/// What position `i` of a balanced epoch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalancedEntry {
    /// Item `i` of [`BalancedPlan::items`].
    Positive(usize),
    /// Target `i` of the negative pool.
    Negative(usize),
}

fn bad(option: &'static str, msg: impl Into<String>) -> Error {
    TrainingError::BadOption {
        option,
        msg: msg.into(),
    }
    .into()
}

impl BalancedPlan {
    /// A plan over `items`, without negatives.
    ///
    /// Errors: [`TrainingError::BadOption`] for a negative or non-finite
    /// threshold or weight, or weighted modes whose weights are all zero.
    pub fn new(items: Vec<LabelledItem>, balance: ClassBalance) -> Result<Self> {
        let factors = item_factors(&items, &balance)?;
        if !matches!(
            balance,
            ClassBalance::Uniform | ClassBalance::RepeatFactor { .. }
        ) && !items.is_empty()
            && factors.iter().all(|&w| w == 0.0)
        {
            return Err(bad("weights", "every item has weight 0"));
        }
        Ok(BalancedPlan {
            epoch_size: items.len(),
            items,
            balance,
            factors,
            negatives: Vec::new(),
            negative_ratio: 0.0,
        })
    }

    /// Add `floor(ratio × positives of the epoch)` negatives per epoch, drawn
    /// from `pool` (without replacement while the pool lasts).
    ///
    /// Errors: [`TrainingError::BadOption`] for a negative or non-finite
    /// ratio, or a positive ratio with an empty pool.
    pub fn with_negatives(mut self, pool: Vec<Target>, ratio: f64) -> Result<Self> {
        if !(ratio.is_finite() && ratio >= 0.0) {
            return Err(bad(
                "negative ratio",
                format!("{ratio} must be finite and ≥ 0"),
            ));
        }
        if ratio > 0.0 && pool.is_empty() {
            return Err(bad("negatives", "a positive ratio needs a non-empty pool"));
        }
        self.negatives = pool;
        self.negative_ratio = ratio;
        Ok(self)
    }

    /// Draws per epoch of [`ClassBalance::ClassWeights`] and
    /// [`ClassBalance::InverseFrequency`] (default: the number of items).
    pub fn with_epoch_size(mut self, n: usize) -> Self {
        self.epoch_size = n;
        self
    }

    /// The items.
    pub fn items(&self) -> &[LabelledItem] {
        &self.items
    }

    /// Each item's repeat factor ([`ClassBalance::RepeatFactor`] only).
    pub fn repeat_factors(&self) -> Option<&[f64]> {
        matches!(self.balance, ClassBalance::RepeatFactor { .. }).then_some(&self.factors[..])
    }

    /// Each item's sampling weight (weighted modes only; not normalized).
    pub fn item_weights(&self) -> Option<&[f64]> {
        matches!(
            self.balance,
            ClassBalance::ClassWeights { .. } | ClassBalance::InverseFrequency
        )
        .then_some(&self.factors[..])
    }

    /// Epoch `epoch`'s entries, shuffled: a pure function of `(seed, epoch)`.
    pub fn entries(&self, seed: u64, epoch: u64) -> Vec<BalancedEntry> {
        let mut rng = crate::rng::rng_for(seed, epoch, STREAM_BALANCE);
        let mut out: Vec<BalancedEntry> = Vec::new();
        match self.balance {
            ClassBalance::Uniform => out.extend((0..self.items.len()).map(BalancedEntry::Positive)),
            ClassBalance::RepeatFactor { .. } => {
                for (i, &r) in self.factors.iter().enumerate() {
                    let whole = r.floor();
                    let extra = rng.random::<f64>() < r - whole;
                    let n = whole as usize + usize::from(extra);
                    out.extend(std::iter::repeat_n(BalancedEntry::Positive(i), n));
                }
            }
            ClassBalance::ClassWeights { .. } | ClassBalance::InverseFrequency => {
                let mut cum = Vec::with_capacity(self.factors.len());
                let mut total = 0.0;
                for &w in &self.factors {
                    total += w;
                    cum.push(total);
                }
                if total > 0.0 {
                    for _ in 0..self.epoch_size {
                        let u = rng.random::<f64>() * total;
                        // first item whose cumulative weight exceeds u (zero weights never)
                        let i = cum.partition_point(|&c| c <= u).min(cum.len() - 1);
                        out.push(BalancedEntry::Positive(i));
                    }
                }
            }
        }
        let n_neg = (self.negative_ratio * out.len() as f64).floor() as usize;
        if n_neg > 0 && !self.negatives.is_empty() {
            let mut nrng = crate::rng::rng_for(seed, epoch, STREAM_BALANCE_NEG);
            let pool = self.negatives.len();
            let mut left = n_neg;
            while left > 0 {
                // whole passes over a shuffled pool: no repeat before all are used
                let mut order: Vec<usize> = (0..pool).collect();
                order.shuffle(&mut nrng);
                let take = left.min(pool);
                out.extend(order[..take].iter().map(|&j| BalancedEntry::Negative(j)));
                left -= take;
            }
        }
        out.shuffle(&mut crate::rng::rng_for(
            seed,
            epoch,
            STREAM_BALANCE_SHUFFLE,
        ));
        out
    }

    /// Epoch `epoch` as a plan (already shuffled; shard it with
    /// [`EpochPlan::from_list_sharded`]).
    pub fn epoch(&self, seed: u64, epoch: u64) -> TargetList {
        let targets = self
            .entries(seed, epoch)
            .into_iter()
            .map(|e| match e {
                BalancedEntry::Positive(i) => self.items[i].target.clone(),
                BalancedEntry::Negative(j) => self.negatives[j].clone(),
            })
            .collect();
        TargetList::new(targets)
    }
}

/// Repeat factors or weights of every item.
fn item_factors(items: &[LabelledItem], balance: &ClassBalance) -> Result<Vec<f64>> {
    // items holding each category (BTreeMap: the same order in every process)
    let mut holding: BTreeMap<Option<i64>, usize> = BTreeMap::new();
    for it in items {
        let mut cats: Vec<i64> = it.categories.clone();
        cats.sort_unstable();
        cats.dedup();
        if cats.is_empty() {
            *holding.entry(None).or_default() += 1;
        }
        for c in cats {
            *holding.entry(Some(c)).or_default() += 1;
        }
    }
    let n = items.len().max(1) as f64;
    let per_item = |f: &dyn Fn(Option<i64>) -> f64| -> Vec<f64> {
        items
            .iter()
            .map(|it| {
                if it.categories.is_empty() {
                    f(None)
                } else {
                    it.categories
                        .iter()
                        .map(|&c| f(Some(c)))
                        .fold(0.0, f64::max)
                }
            })
            .collect()
    };
    match balance {
        ClassBalance::Uniform => Ok(vec![1.0; items.len()]),
        ClassBalance::RepeatFactor { threshold } => {
            let t = *threshold;
            if !(t.is_finite() && t >= 0.0) {
                return Err(bad("threshold", format!("{t} must be finite and ≥ 0")));
            }
            Ok(per_item(&|c| match c {
                None => 1.0,
                Some(c) => {
                    let f = holding.get(&Some(c)).copied().unwrap_or(0) as f64 / n;
                    (t / f).sqrt().max(1.0)
                }
            }))
        }
        ClassBalance::ClassWeights { weights, default } => {
            if let Some((c, w)) = weights
                .iter()
                .map(|(c, w)| (Some(*c), *w))
                .chain(std::iter::once((None, *default)))
                .find(|(_, w)| !(w.is_finite() && *w >= 0.0))
            {
                let what = c.map_or("the default".to_string(), |c| format!("category {c}"));
                return Err(bad(
                    "weights",
                    format!("{what}: {w} must be finite and ≥ 0"),
                ));
            }
            Ok(per_item(&|c| {
                c.and_then(|c| weights.get(&c).copied()).unwrap_or(*default)
            }))
        }
        ClassBalance::InverseFrequency => Ok(per_item(&|c| {
            1.0 / holding.get(&c).copied().unwrap_or(1).max(1) as f64
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list(n: usize) -> TargetList {
        TargetList::new(
            (0..n)
                .map(|i| Target {
                    image_id: Some(ImageId(i as i64)),
                    ..Target::default()
                })
                .collect(),
        )
        .shuffled()
    }

    #[test]
    fn shuffle_depends_on_seed_and_epoch_only() {
        let l = list(50);
        assert_eq!(l.order(1, 0), l.order(1, 0));
        assert_ne!(l.order(1, 0), l.order(1, 1));
        assert_ne!(l.order(1, 0), l.order(2, 0));
        let mut o = l.order(3, 4);
        o.sort_unstable();
        assert_eq!(o, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn random_windows_are_pure_and_inside() {
        let p = RandomWindows {
            frames: vec![(1, 100, 80), (2, 300, 300)],
            window: [32, 16],
            count: 20,
        };
        for i in 0..20 {
            let a = p.target(9, 2, i);
            assert_eq!(a, p.target(9, 2, i));
            let [[y0, y1], [x0, x1]] = a.space_slice.unwrap();
            let (y0, y1, x0, x1) = (y0.unwrap(), y1.unwrap(), x0.unwrap(), x1.unwrap());
            assert_eq!((y1 - y0, x1 - x0), (32, 16));
            let (h, w) = if a.image_id == Some(ImageId(1)) {
                (100, 80)
            } else {
                (300, 300)
            };
            assert!(y0 >= 0 && x0 >= 0 && y1 <= h && x1 <= w);
        }
    }

    #[test]
    fn json_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        let l = list(5);
        l.write_json(&path).unwrap();
        let back = TargetList::read_json(&path).unwrap();
        assert_eq!(back.targets, l.targets);
        std::fs::write(&path, "[{\"gid\": 1, \"oops\": 2}]").unwrap();
        let e = TargetList::read_json(&path).unwrap_err().to_string();
        assert!(e.contains("plan.json") && e.contains("oops"), "{e}");
    }

    #[test]
    fn resumed_plans_continue_where_they_stopped() {
        let l = list(23);
        for consumed in [0, 1, 5, 12, 40] {
            let state = PlanState {
                seed: 4,
                epoch: 2,
                rank: 1,
                world_size: 2,
                consumed,
            };
            // the state survives a JSON round trip (what a checkpoint stores)
            let back: PlanState =
                serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
            assert_eq!(back, state);
            let whole = EpochPlan::from_list(&l, 4, 2, 1, 2).unwrap();
            let rest = back.resume(&l).unwrap();
            let k = consumed.min(whole.len());
            assert_eq!(rest.targets, whole.targets[k..]);
            assert_eq!(rest.positions, whole.positions[k..]);
        }
        let bad = PlanState {
            seed: 0,
            epoch: 0,
            rank: 2,
            world_size: 2,
            consumed: 0,
        };
        assert!(bad.resume(&l).is_err());
    }

    #[test]
    fn bad_rank() {
        assert!(EpochPlan::from_list(&list(3), 0, 0, 2, 2).is_err());
        assert!(EpochPlan::from_list(&list(3), 0, 0, 0, 0).is_err());
    }

    proptest! {
        /// torch `DistributedSampler` semantics: equal lengths on every
        /// rank; padded shards cover the epoch, then repeat it from its first
        /// position up to `w * ceil(n / w)`; dropped shards are disjoint and
        /// leave out exactly the last `n % w`.
        #[test]
        fn shards_are_equal_and_cover_the_epoch(n in 0usize..200, world in 1usize..7, seed in 0u64..1000, epoch in 0u64..5) {
            let l = list(n);
            let order = l.order(seed, epoch);
            for tail in [Tail::Pad, Tail::Drop] {
                let mut positions: Vec<usize> = Vec::new();
                let mut lens = Vec::new();
                for rank in 0..world {
                    let shard = Shard::with_tail(rank, world, tail).unwrap();
                    let e = EpochPlan::from_list_sharded(&l, seed, epoch, shard).unwrap();
                    lens.push(e.len());
                    for (t, &p) in e.targets.iter().zip(&e.positions) {
                        prop_assert_eq!(t, &l.targets[order[p]]);
                    }
                    positions.extend(e.positions);
                }
                prop_assert!(lens.iter().all(|&x| x == lens[0]), "{:?}", lens);
                positions.sort_unstable();
                match tail {
                    Tail::Pad => {
                        prop_assert_eq!(lens[0], n.div_ceil(world));
                        // torch repeats the epoch cyclically when the padding
                        // is longer than the epoch itself
                        let total = lens[0] * world;
                        let mut want: Vec<usize> = (0..total).map(|i| i % n.max(1)).collect();
                        want.sort_unstable();
                        prop_assert_eq!(positions, want);
                    }
                    Tail::Drop => {
                        prop_assert_eq!(lens[0], n / world);
                        prop_assert_eq!(positions, (0..n - n % world).collect::<Vec<_>>());
                    }
                }
            }
        }
    }
}
