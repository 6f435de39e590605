//! Each annotation's geometry parsed once per sampler: the segmentation (an
//! RLE already traced into the polygons the sample returns), the keypoints
//! and their names. Windows then only warp it. Memory is bounded: entries are
//! kept until [`GeometryCacheStats::budget_bytes`] is reached, after which
//! geometry is parsed per call (and counted), so a huge dataset never grows
//! the sampler beyond the budget.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

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

/// Parsed geometry by annotation position.
pub(crate) struct GeometryCache {
    slots: Vec<OnceLock<Arc<AnnotGeometry>>>,
    entries: AtomicUsize,
    bytes: AtomicUsize,
    budget: usize,
    uncached: AtomicU64,
}

impl GeometryCache {
    pub fn new(n_annotations: usize, budget: usize) -> Self {
        GeometryCache {
            slots: (0..n_annotations).map(|_| OnceLock::new()).collect(),
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
        let slot = pos.and_then(|p| self.slots.get(p));
        if let Some(g) = slot.and_then(OnceLock::get) {
            return Ok(g.clone());
        }
        let g = Arc::new(parse()?);
        let size = g.bytes();
        let Some(slot) = slot else {
            return Ok(g);
        };
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
        match slot.set(g.clone()) {
            Ok(()) => {
                self.entries.fetch_add(1, Ordering::Relaxed);
                Ok(g)
            }
            Err(_) => {
                // another thread kept it first: give the reservation back
                self.bytes.fetch_sub(size, Ordering::Relaxed);
                Ok(slot.get().cloned().unwrap_or(g))
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
