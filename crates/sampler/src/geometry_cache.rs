//! Each annotation's geometry parsed once per sampler: the segmentation (an
//! RLE already traced into the polygons the sample returns), the keypoints
//! and their names. Windows then only warp it. Memory is bounded: entries are
//! kept until [`GeometryCacheStats::budget_bytes`] is reached, after which
//! geometry is parsed per call (and counted), so a huge dataset never grows
//! the sampler beyond the budget.

use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::RwLock;
use rustc_hash::FxHashMap;

use coco_model::geometry::{Keypoints, Segmentation};
use coco_model::{Annotation, CocoDataset};

use crate::error::{Error, Result};

/// Default of [`crate::SamplerConfig::geometry_cache_bytes`]: 256 MiB.
pub const DEFAULT_GEOMETRY_CACHE_BYTES: usize = 256 << 20;

/// One annotation's parsed geometry.
#[derive(Debug)]
pub(crate) struct AnnotGeometry {
    /// Polygons in image space (an RLE traced as kwimage traces it).
    pub segmentation: Option<Segmentation>,
    /// Keypoints in image space (`None` also for an empty list).
    pub keypoints: Option<Keypoints>,
    /// The keypoint category name of each keypoint.
    pub keypoint_names: Option<Arc<[Option<String>]>>,
}

impl AnnotGeometry {
    pub(crate) fn parse(dset: &CocoDataset, ann: &Annotation) -> Result<Self> {
        Self::parse_texts(
            dset,
            ann.id.0,
            ann.category_id,
            ann.segmentation_json().as_deref(),
            ann.keypoints_json().as_deref(),
        )
    }

    /// Parses an annotation's geometry from its JSON texts; `names` holds the
    /// categories and keypoint categories that name the keypoints.
    pub(crate) fn parse_texts(
        names: &CocoDataset,
        id: i64,
        category_id: Option<coco_model::CategoryId>,
        segmentation: Option<&str>,
        keypoints: Option<&str>,
    ) -> Result<Self> {
        let record = |field: &str, e: String| Error::Record {
            what: format!("{field} of annotation {id}"),
            msg: e,
        };
        let segmentation = match segmentation {
            Some(text) => {
                // An RLE becomes the polygons kwimage traces from it (cv2
                // border following through pixel centres), as the reference's
                // `MultiPolygon.coerce` returns.
                let seg = Segmentation::from_json_str(text)
                    .and_then(|s| match s {
                        Segmentation::Rle(r) => Ok(Segmentation::from_multi_polygon(
                            r.decode()?.to_multi_polygon_cv2(),
                        )),
                        polygons => Ok(polygons),
                    })
                    .map_err(|e| record("segmentation", e.to_string()))?;
                Some(seg)
            }
            None => None,
        };
        let keypoints = match keypoints {
            Some(text) => {
                let kp = Keypoints::from_json_str(text)
                    .map_err(|e| record("keypoints", e.to_string()))?;
                // An empty keypoint list is no keypoints (as the reference).
                (!kp.is_empty()).then_some(kp)
            }
            None => None,
        };
        let keypoint_names = keypoints
            .as_ref()
            .map(|kp| Arc::from(names.keypoint_names(category_id, kp)));
        Ok(AnnotGeometry {
            segmentation,
            keypoints,
            keypoint_names,
        })
    }

    /// Approximate heap bytes.
    fn bytes(&self) -> usize {
        let seg = self.segmentation.as_ref().map_or(0, |s| match s {
            Segmentation::Polygons { shape, .. } => shape
                .polygons
                .iter()
                .map(|p| {
                    48 + 16 * (p.exterior.len() + p.interiors.iter().map(Vec::len).sum::<usize>())
                })
                .sum(),
            Segmentation::Rle(r) => 4 * r.counts().len(),
        });
        let kps = self.keypoints.as_ref().map_or(0, |k| 64 * k.len());
        let names = self.keypoint_names.as_ref().map_or(0, |n| {
            n.iter()
                .map(|s| 24 + s.as_ref().map_or(0, String::len))
                .sum()
        });
        64 + seg + kps + names
    }
}

/// How the geometry cache is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeometryCacheStats {
    /// Annotations whose geometry is kept.
    pub entries: usize,
    /// Approximate bytes they take.
    pub bytes: usize,
    /// The most bytes kept.
    pub budget_bytes: usize,
    /// Parses that were not kept because the budget was full.
    pub uncached_parses: u64,
}

/// Shards of the cache's map: threads parsing different annotations rarely
/// wait for each other.
const SHARDS: usize = 16;

/// Bytes an entry takes in its shard's map beyond its geometry (key, pointer
/// and the table's slack), counted against the budget.
const ENTRY_OVERHEAD: usize = 32;

/// One shard of the cache: geometry by annotation position.
type Shard = RwLock<FxHashMap<usize, Arc<AnnotGeometry>>>;

/// Parsed geometry by annotation position. Memory grows with the entries
/// kept, not with the dataset: nothing is allocated per annotation up front
/// (a sampler over a million annotations that samples a few thousand keeps a
/// few thousand entries).
pub(crate) struct GeometryCache {
    shards: Box<[Shard]>,
    entries: AtomicUsize,
    bytes: AtomicUsize,
    budget: usize,
    uncached: AtomicU64,
}

impl GeometryCache {
    pub fn new(budget: usize) -> Self {
        GeometryCache {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            entries: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            budget,
            uncached: AtomicU64::new(0),
        }
    }

    /// The geometry of the annotation at table position `pos` (`None`: not
    /// cached), parsed by `parse` once while the budget lasts.
    pub fn get_or_parse(
        &self,
        pos: Option<usize>,
        parse: impl FnOnce() -> Result<AnnotGeometry>,
    ) -> Result<Arc<AnnotGeometry>> {
        let Some(pos) = pos else {
            return Ok(Arc::new(parse()?));
        };
        let shard = &self.shards[pos % SHARDS];
        if let Some(g) = shard.read().get(&pos) {
            return Ok(g.clone());
        }
        let g = Arc::new(parse()?);
        let size = g.bytes() + ENTRY_OVERHEAD;
        // reserve the bytes first, so concurrent inserts never pass the budget
        let reserved = self
            .bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                (b + size <= self.budget).then_some(b + size)
            })
            .is_ok();
        if !reserved {
            self.uncached.fetch_add(1, Ordering::Relaxed);
            return Ok(g);
        }
        match shard.write().entry(pos) {
            Entry::Occupied(kept) => {
                // another thread kept it first: give the reservation back
                self.bytes.fetch_sub(size, Ordering::Relaxed);
                Ok(kept.get().clone())
            }
            Entry::Vacant(slot) => {
                slot.insert(g.clone());
                self.entries.fetch_add(1, Ordering::Relaxed);
                Ok(g)
            }
        }
    }

    pub fn stats(&self) -> GeometryCacheStats {
        GeometryCacheStats {
            entries: self.entries.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            budget_bytes: self.budget,
            uncached_parses: self.uncached.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry() -> AnnotGeometry {
        AnnotGeometry {
            segmentation: None,
            keypoints: None,
            keypoint_names: None,
        }
    }

    #[test]
    fn memory_follows_entries_not_positions() {
        // positions far beyond any table: nothing is allocated per position,
        // each is kept, and a second lookup does not parse
        let cache = GeometryCache::new(1 << 20);
        for pos in [0, 1 << 20, 1 << 40, usize::MAX] {
            cache.get_or_parse(Some(pos), || Ok(geometry())).unwrap();
            let again = cache.get_or_parse(Some(pos), || {
                Err(Error::Record {
                    what: "test".into(),
                    msg: "parsed twice".into(),
                })
            });
            assert!(again.is_ok(), "{pos}");
        }
        let stats = cache.stats();
        assert_eq!(stats.entries, 4);
        assert_eq!(stats.bytes, 4 * (geometry().bytes() + ENTRY_OVERHEAD));
        assert_eq!(stats.uncached_parses, 0);
    }

    #[test]
    fn the_budget_is_never_passed() {
        let one = geometry().bytes() + ENTRY_OVERHEAD;
        let cache = GeometryCache::new(3 * one);
        for pos in 0..10 {
            cache.get_or_parse(Some(pos), || Ok(geometry())).unwrap();
        }
        let stats = cache.stats();
        assert_eq!((stats.entries, stats.bytes), (3, 3 * one));
        assert_eq!(stats.uncached_parses, 7);
        // without a position nothing is kept or counted
        cache.get_or_parse(None, || Ok(geometry())).unwrap();
        assert_eq!(cache.stats(), stats);
    }
}
