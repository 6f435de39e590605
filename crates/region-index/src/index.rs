//! The per-frame R-tree index and its overlap, visibility and IoU queries.

// Fx, not SipHash: an id lookup per annotation of every window (SipHash was 11%
// of the annotation stage); the keys are dataset ids, as in coco-model's index.
use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::fmt::Debug;
use std::hash::Hash;
use std::ops::ControlFlow;

use rstar::{AABB, RStarInsertionStrategy, RTree, RTreeObject, RTreeParams};

use crate::{Aabb, Error};

/// Node sizes of the per-frame trees. Wider nodes than rstar's default (6) make the small,
/// bulk-loaded trees of a typical frame shallower, which is what window queries want.
#[derive(Debug, Clone, Copy)]
struct TreeParams;

impl RTreeParams for TreeParams {
    const MIN_SIZE: usize = 4;
    const MAX_SIZE: usize = 12;
    const REINSERTION_COUNT: usize = 3;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// One indexed box: its envelope, its insertion sequence number within the frame, its id.
#[derive(Debug, Clone)]
struct Entry<I> {
    env: AABB<[f64; 2]>,
    seq: u64,
    id: I,
}

impl<I> Entry<I> {
    fn bbox(&self) -> Aabb {
        let lo = self.env.lower();
        let hi = self.env.upper();
        Aabb::new(lo[0], lo[1], hi[0], hi[1])
    }
}

impl<I> RTreeObject for Entry<I> {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

/// Sequence numbers are unique within a frame, so they alone identify an entry (used by
/// `RTree::remove`).
impl<I> PartialEq for Entry<I> {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}

fn envelope_of(b: &Aabb) -> AABB<[f64; 2]> {
    AABB::from_corners([b.x0, b.y0], [b.x1, b.y1])
}

/// The boxes of one frame.
#[derive(Debug, Clone)]
struct FrameTree<I> {
    tree: RTree<Entry<I>, TreeParams>,
    /// id → (sequence number, box): duplicate detection, `get`, `remove`.
    ids: HashMap<I, (u64, Aabb)>,
    next_seq: u64,
}

impl<I> Default for FrameTree<I> {
    fn default() -> Self {
        FrameTree {
            tree: RTree::new_with_params(),
            ids: HashMap::default(),
            next_seq: 0,
        }
    }
}

/// An indexed box found by a query, with the fraction of it inside the query box.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<I> {
    /// The box's id.
    pub id: I,
    /// The box as indexed (not clipped to the query).
    pub bbox: Aabb,
    /// Intersection area over the box's own area (see [`Aabb::visibility_in`]); 0 for a box
    /// that only touches the query.
    pub visibility: f64,
}

/// Per-frame R-trees of axis-aligned boxes with ids: the spatial half of a detection dataset.
///
/// A *frame* (`F`, e.g. an image id) owns a set of boxes, each with an *id* (`I`, e.g. an
/// annotation id) unique within that frame. Queries name a frame and a query box and answer
/// the boxes that overlap it, **touching counts** (closed boxes, as the reference's quadtree).
/// A frame that has no boxes, or that the index has never heard of, answers empty.
///
/// **Order:** every query answers in *insertion order*: the order of the rows given to
/// [`RegionIndex::from_rows`] for that frame, then later [`RegionIndex::insert`]s. This is
/// deterministic and independent of the tree's shape.
///
/// **Query boxes** must be valid ([`Aabb::is_valid`]); an invalid query (NaN, inverted)
/// answers empty. Indexed boxes may lie partly or wholly outside the image and may be
/// degenerate; any number of identical boxes is fine.
///
/// ```
/// use region_index::{Aabb, RegionIndex};
/// let idx = RegionIndex::from_rows([
///     (1_u64, 10_u64, Aabb::from_xywh(0.0, 0.0, 10.0, 10.0)),
///     (1, 11, Aabb::from_xywh(20.0, 0.0, 10.0, 10.0)),
///     (2, 12, Aabb::from_xywh(0.0, 0.0, 5.0, 5.0)),
/// ])?;
/// let window = Aabb::new(5.0, 0.0, 20.0, 10.0); // touches box 11 on its left edge
/// assert_eq!(idx.overlapping(&1, &window), vec![10, 11]);
/// let visible = idx.overlapping_visible(&1, &window, 0.1);
/// assert_eq!(visible.len(), 1);
/// assert_eq!((visible[0].id, visible[0].visibility), (10, 0.5));
/// assert!(idx.overlapping(&3, &window).is_empty()); // unknown frame: empty
/// # Ok::<(), region_index::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RegionIndex<F, I> {
    frames: HashMap<F, FrameTree<I>>,
    len: usize,
}

impl<F, I> Default for RegionIndex<F, I> {
    fn default() -> Self {
        RegionIndex {
            frames: HashMap::default(),
            len: 0,
        }
    }
}

impl<F, I> RegionIndex<F, I>
where
    F: Hash + Eq + Clone + Debug,
    I: Hash + Eq + Clone + Debug,
{
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bulk-loads `(frame, id, box)` rows: one R-tree per frame, packed in one pass (much faster
    /// than inserting one by one and giving better trees).
    ///
    /// Fails on the first invalid box ([`Error::InvalidBox`]) or repeated `(frame, id)` pair
    /// ([`Error::DuplicateId`]).
    pub fn from_rows<R>(rows: R) -> Result<Self, Error>
    where
        R: IntoIterator<Item = (F, I, Aabb)>,
    {
        // Pass 1: group rows per frame (frames in order of first appearance), so that pass 2
        // works on one frame's boxes at a time instead of scattering over every frame's maps.
        let mut slot_of: HashMap<F, usize> = HashMap::default();
        let mut groups: Vec<(F, Vec<(I, Aabb)>)> = Vec::new();
        let mut len = 0usize;
        for (frame, id, bbox) in rows {
            check_box(&frame, &id, &bbox)?;
            let slot = match slot_of.get(&frame) {
                Some(&slot) => slot,
                None => {
                    slot_of.insert(frame.clone(), groups.len());
                    groups.push((frame, Vec::new()));
                    groups.len() - 1
                }
            };
            groups[slot].1.push((id, bbox));
            len += 1;
        }
        drop(slot_of);
        // Pass 2: per frame, the id map (rejecting duplicates) and the packed tree.
        let mut frames = HashMap::with_capacity_and_hasher(groups.len(), Default::default());
        for (frame, rows) in groups {
            let mut ids = HashMap::with_capacity_and_hasher(rows.len(), Default::default());
            let mut entries = Vec::with_capacity(rows.len());
            for (seq, (id, bbox)) in (0u64..).zip(rows) {
                match ids.entry(id) {
                    MapEntry::Occupied(o) => {
                        return Err(Error::DuplicateId {
                            frame: format!("{frame:?}"),
                            id: format!("{:?}", o.key()),
                        });
                    }
                    MapEntry::Vacant(v) => {
                        entries.push(Entry {
                            env: envelope_of(&bbox),
                            seq,
                            id: v.key().clone(),
                        });
                        v.insert((seq, bbox));
                    }
                }
            }
            let next_seq = entries.len() as u64;
            let tree = RTree::bulk_load_with_params(entries);
            frames.insert(
                frame,
                FrameTree {
                    tree,
                    ids,
                    next_seq,
                },
            );
        }
        Ok(RegionIndex { frames, len })
    }

    /// Registers a frame without boxes (queries on unknown frames answer empty anyway; this
    /// makes the frame show up in [`RegionIndex::frames`]). Returns `true` if it was new.
    pub fn add_frame(&mut self, frame: F) -> bool {
        match self.frames.entry(frame) {
            MapEntry::Occupied(_) => false,
            MapEntry::Vacant(v) => {
                v.insert(FrameTree::default());
                true
            }
        }
    }

    /// Adds one box. It comes after every box already on the frame in query answers.
    pub fn insert(&mut self, frame: F, id: I, bbox: Aabb) -> Result<(), Error> {
        check_box(&frame, &id, &bbox)?;
        if self
            .frames
            .get(&frame)
            .is_some_and(|ft| ft.ids.contains_key(&id))
        {
            return Err(Error::DuplicateId {
                frame: format!("{frame:?}"),
                id: format!("{id:?}"),
            });
        }
        let ft = self.frames.entry(frame).or_default();
        let seq = ft.next_seq;
        ft.next_seq += 1;
        ft.ids.insert(id.clone(), (seq, bbox));
        ft.tree.insert(Entry {
            env: envelope_of(&bbox),
            seq,
            id,
        });
        self.len += 1;
        Ok(())
    }

    /// Removes one box and returns it, or `None` if the frame has no such id. The frame stays
    /// known (empty frames are valid).
    pub fn remove(&mut self, frame: &F, id: &I) -> Option<Aabb> {
        let ft = self.frames.get_mut(frame)?;
        let (seq, bbox) = ft.ids.remove(id)?;
        let probe = Entry {
            env: envelope_of(&bbox),
            seq,
            id: id.clone(),
        };
        let removed = ft.tree.remove(&probe);
        debug_assert!(removed.is_some(), "id map and tree disagree");
        self.len -= 1;
        Some(bbox)
    }

    /// Total number of boxes over all frames.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No boxes at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of boxes on a frame (0 for an unknown frame).
    pub fn frame_len(&self, frame: &F) -> usize {
        self.frames.get(frame).map_or(0, |ft| ft.ids.len())
    }

    /// Whether the frame has had a box or was registered with [`RegionIndex::add_frame`].
    pub fn contains_frame(&self, frame: &F) -> bool {
        self.frames.contains_key(frame)
    }

    /// The known frames, in no particular order.
    pub fn frames(&self) -> impl Iterator<Item = &F> + '_ {
        self.frames.keys()
    }

    /// The box of an id on a frame.
    pub fn get(&self, frame: &F, id: &I) -> Option<Aabb> {
        self.frames.get(frame)?.ids.get(id).map(|&(_, b)| b)
    }

    /// Every box of a frame, in insertion order.
    pub fn frame_boxes(&self, frame: &F) -> Vec<(I, Aabb)> {
        let Some(ft) = self.frames.get(frame) else {
            return Vec::new();
        };
        let mut all: Vec<(u64, &I, Aabb)> = ft.ids.iter().map(|(i, &(s, b))| (s, i, b)).collect();
        all.sort_unstable_by_key(|t| t.0);
        all.into_iter().map(|(_, i, b)| (i.clone(), b)).collect()
    }

    /// The entries of `frame` overlapping `query` (touching counts), in insertion order.
    fn matches<'a>(&'a self, frame: &F, query: &Aabb, out: &mut Vec<&'a Entry<I>>) {
        out.clear();
        if !query.is_valid() {
            return;
        }
        let Some(ft) = self.frames.get(frame) else {
            return;
        };
        let _ = ft
            .tree
            .locate_in_envelope_intersecting_int(&envelope_of(query), |e| {
                out.push(e);
                ControlFlow::<()>::Continue(())
            });
        out.sort_unstable_by_key(|e| e.seq);
    }

    /// Ids of the boxes on `frame` that overlap `query`, touching included, in insertion order.
    pub fn overlapping(&self, frame: &F, query: &Aabb) -> Vec<I> {
        let mut found = Vec::new();
        self.matches(frame, query, &mut found);
        found.into_iter().map(|e| e.id.clone()).collect()
    }

    /// Boxes on `frame` overlapping `query` with their visibility (intersection area over own
    /// area). With `visible_thresh > 0` only boxes with visibility **strictly greater** than it
    /// are kept; otherwise every overlapping box (touching included) is.
    pub fn overlapping_visible(&self, frame: &F, query: &Aabb, visible_thresh: f64) -> Vec<Hit<I>> {
        let mut out = Vec::new();
        self.overlapping_visible_into(frame, query, visible_thresh, &mut out);
        out
    }

    /// [`RegionIndex::overlapping_visible`] writing into `out` (cleared first), so a loop can
    /// reuse one buffer.
    pub fn overlapping_visible_into(
        &self,
        frame: &F,
        query: &Aabb,
        visible_thresh: f64,
        out: &mut Vec<Hit<I>>,
    ) {
        out.clear();
        let mut found = Vec::with_capacity(32);
        self.matches(frame, query, &mut found);
        out.reserve(found.len());
        for e in found {
            let bbox = e.bbox();
            let visibility = bbox.visibility_in(query);
            if visible_thresh > 0.0 && visibility <= visible_thresh {
                continue;
            }
            out.push(Hit {
                id: e.id.clone(),
                bbox,
                visibility,
            });
        }
    }

    /// Many queries at once: `result[k]` is `overlapping_visible(&queries[k].0, &queries[k].1,
    /// visible_thresh)`.
    pub fn overlapping_visible_batch(
        &self,
        queries: &[(F, Aabb)],
        visible_thresh: f64,
    ) -> Vec<Vec<Hit<I>>> {
        let mut found = Vec::new();
        queries
            .iter()
            .map(|(frame, query)| {
                self.matches(frame, query, &mut found);
                found
                    .iter()
                    .filter_map(|e| {
                        let bbox = e.bbox();
                        let visibility = bbox.visibility_in(query);
                        (visible_thresh <= 0.0 || visibility > visible_thresh).then(|| Hit {
                            id: e.id.clone(),
                            bbox,
                            visibility,
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// Intersection over union of `query` with every box overlapping it (touching included,
    /// with IoU 0), in insertion order.
    pub fn ious(&self, frame: &F, query: &Aabb) -> Vec<(I, f64)> {
        let mut found = Vec::new();
        self.matches(frame, query, &mut found);
        found
            .into_iter()
            .map(|e| (e.id.clone(), query.iou(&e.bbox())))
            .collect()
    }

    /// Intersection over each overlapping box's own area (the reference's `iooas`; the same
    /// number as the visibility), in insertion order.
    pub fn iooas(&self, frame: &F, query: &Aabb) -> Vec<(I, f64)> {
        let mut found = Vec::new();
        self.matches(frame, query, &mut found);
        found
            .into_iter()
            .map(|e| (e.id.clone(), e.bbox().visibility_in(query)))
            .collect()
    }

    /// Whether `window` is a valid negative on `frame`: no box overlapping it (touching
    /// included) covers a fraction `>= thresh` of the **window's** area. With `thresh <= 0`
    /// this means no box may even touch the window. A window without area counts every box as
    /// covering 0 of it. An invalid window is never negative. Stops at the first offending box.
    pub fn is_negative(&self, frame: &F, window: &Aabb, thresh: f64) -> bool {
        if !window.is_valid() {
            return false;
        }
        let Some(ft) = self.frames.get(frame) else {
            return true;
        };
        let area = window.area();
        let flow = ft
            .tree
            .locate_in_envelope_intersecting_int(&envelope_of(window), |e| {
                let frac = if area > 0.0 {
                    window.intersection_area(&e.bbox()) / area
                } else {
                    0.0
                };
                if frac >= thresh {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
        flow.is_continue()
    }
}

fn check_box<F: Debug, I: Debug>(frame: &F, id: &I, bbox: &Aabb) -> Result<(), Error> {
    if bbox.is_valid() {
        Ok(())
    } else {
        Err(Error::InvalidBox {
            frame: format!("{frame:?}"),
            id: format!("{id:?}"),
            bbox: *bbox,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RegionIndex<u32, u32> {
        RegionIndex::from_rows([
            (1, 5, Aabb::from_xywh(0.0, 0.0, 10.0, 10.0)),
            (1, 3, Aabb::from_xywh(5.0, 5.0, 10.0, 10.0)),
            (1, 9, Aabb::from_xywh(100.0, 100.0, 1.0, 1.0)),
            (2, 5, Aabb::from_xywh(0.0, 0.0, 10.0, 10.0)),
        ])
        .unwrap()
    }

    #[test]
    fn answers_in_insertion_order_and_touching_counts() {
        let idx = sample();
        assert_eq!(idx.len(), 4);
        assert_eq!(idx.frame_len(&1), 3);
        let q = Aabb::new(10.0, 10.0, 100.0, 100.0); // touches 5 at a corner and 9 at a corner
        assert_eq!(idx.overlapping(&1, &q), vec![5, 3, 9]);
        assert_eq!(idx.overlapping(&2, &q), vec![5]);
        let q2 = Aabb::new(10.5, 10.5, 99.5, 99.5);
        assert_eq!(idx.overlapping(&1, &q2), vec![3]);
    }

    #[test]
    fn unknown_and_empty_frames_answer_empty() {
        let mut idx = sample();
        let q = Aabb::new(-1e9, -1e9, 1e9, 1e9);
        assert!(idx.overlapping(&7, &q).is_empty());
        assert!(!idx.contains_frame(&7));
        assert!(idx.add_frame(7));
        assert!(!idx.add_frame(7));
        assert!(idx.contains_frame(&7));
        assert!(idx.overlapping_visible(&7, &q, 0.0).is_empty());
        assert!(idx.is_negative(&7, &q, 0.0));
        assert_eq!(idx.frame_len(&7), 0);
    }

    #[test]
    fn invalid_query_answers_empty() {
        let idx = sample();
        assert!(
            idx.overlapping(&1, &Aabb::new(20.0, 0.0, 0.0, 20.0))
                .is_empty()
        );
        assert!(
            idx.overlapping(&1, &Aabb::new(0.0, 0.0, f64::NAN, 20.0))
                .is_empty()
        );
        assert!(!idx.is_negative(&1, &Aabb::new(0.0, 0.0, f64::NAN, 20.0), 1.0));
    }

    #[test]
    fn visibility_filter_is_strict() {
        let idx = sample();
        let q = Aabb::new(0.0, 0.0, 5.0, 10.0); // half of 5, touches 3
        let all = idx.overlapping_visible(&1, &q, 0.0);
        assert_eq!(
            all.iter().map(|h| (h.id, h.visibility)).collect::<Vec<_>>(),
            vec![(5, 0.5), (3, 0.0)]
        );
        assert_eq!(idx.overlapping_visible(&1, &q, 0.5).len(), 0);
        let some = idx.overlapping_visible(&1, &q, 0.49);
        assert_eq!(some.len(), 1);
        assert_eq!(some[0].bbox, Aabb::new(0.0, 0.0, 10.0, 10.0));
    }

    #[test]
    fn insert_remove_and_get() {
        let mut idx = sample();
        idx.insert(1, 4, Aabb::new(1.0, 1.0, 2.0, 2.0)).unwrap();
        let q = Aabb::new(0.0, 0.0, 3.0, 3.0);
        assert_eq!(idx.overlapping(&1, &q), vec![5, 4]);
        assert_eq!(idx.get(&1, &4), Some(Aabb::new(1.0, 1.0, 2.0, 2.0)));
        assert_eq!(
            idx.remove(&1, &5),
            Some(Aabb::from_xywh(0.0, 0.0, 10.0, 10.0))
        );
        assert_eq!(idx.remove(&1, &5), None);
        assert_eq!(idx.remove(&9, &5), None);
        assert_eq!(idx.overlapping(&1, &q), vec![4]);
        assert_eq!(idx.overlapping(&2, &q), vec![5]);
        // re-inserting a removed id puts it last
        idx.insert(1, 5, Aabb::new(0.0, 0.0, 1.0, 1.0)).unwrap();
        assert_eq!(idx.overlapping(&1, &q), vec![4, 5]);
        assert_eq!(idx.len(), 5);
        assert_eq!(
            idx.frame_boxes(&1)
                .into_iter()
                .map(|(i, _)| i)
                .collect::<Vec<_>>(),
            vec![3, 9, 4, 5]
        );
        // insert creates an unknown frame
        idx.insert(8, 1, Aabb::new(0.0, 0.0, 0.0, 0.0)).unwrap();
        assert_eq!(idx.overlapping(&8, &q), vec![1]);
    }

    #[test]
    fn rejects_bad_boxes_and_duplicates() {
        let err = RegionIndex::from_rows([
            (1u32, 1u32, Aabb::new(0.0, 0.0, 1.0, 1.0)),
            (1, 1, Aabb::new(0.0, 0.0, 2.0, 2.0)),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            Error::DuplicateId {
                frame: "1".into(),
                id: "1".into()
            }
        );
        let err =
            RegionIndex::from_rows([(1u32, 7u32, Aabb::new(0.0, 0.0, -1.0, 1.0))]).unwrap_err();
        assert!(err.to_string().contains("id 7 on frame 1"), "{err}");
        let mut idx = sample();
        assert!(matches!(
            idx.insert(1, 3, Aabb::new(0.0, 0.0, 1.0, 1.0)),
            Err(Error::DuplicateId { .. })
        ));
        assert!(matches!(
            idx.insert(1, 30, Aabb::new(0.0, f64::NAN, 1.0, 1.0)),
            Err(Error::InvalidBox { .. })
        ));
        assert_eq!(idx.len(), 4);
    }

    #[test]
    fn ious_iooas_and_batch() {
        let idx = sample();
        let q = Aabb::from_xywh(0.0, 0.0, 10.0, 10.0);
        let ious = idx.ious(&1, &q);
        assert_eq!(ious[0], (5, 1.0));
        assert!((ious[1].1 - 25.0 / 175.0).abs() < 1e-12);
        let iooas = idx.iooas(&1, &q);
        assert_eq!(iooas, vec![(5, 1.0), (3, 0.25)]);
        let batch = idx.overlapping_visible_batch(&[(1, q), (2, q), (3, q)], 0.3);
        assert_eq!(batch.len(), 3);
        assert_eq!(batch[0], idx.overlapping_visible(&1, &q, 0.3));
        assert_eq!(batch[1].len(), 1);
        assert!(batch[2].is_empty());
    }

    #[test]
    fn shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RegionIndex<u64, u64>>();
        let idx = sample();
        let q = Aabb::new(0.0, 0.0, 10.0, 10.0);
        let from_thread = std::thread::scope(|s| s.spawn(|| idx.overlapping(&1, &q)).join());
        assert_eq!(from_thread.ok(), Some(vec![5, 3]));
    }

    #[test]
    fn many_identical_boxes_partly_outside() {
        // the reference's quadtree recursed forever on >10 identical boxes past its bounds
        let b = Aabb::new(-50.0, -50.0, 20.0, 20.0);
        let rows = (0..5000u32).map(|i| (0u32, i, b));
        let mut idx = RegionIndex::from_rows(rows).unwrap();
        for i in 5000..5100u32 {
            idx.insert(0, i, b).unwrap();
        }
        let hits = idx.overlapping(&0, &Aabb::new(0.0, 0.0, 1.0, 1.0));
        assert_eq!(hits, (0..5100).collect::<Vec<_>>());
        for i in (0..5100).step_by(2) {
            assert_eq!(idx.remove(&0, &i), Some(b));
        }
        let hits = idx.overlapping(&0, &Aabb::new(20.0, 20.0, 30.0, 30.0));
        assert_eq!(hits, (1..5100).step_by(2).collect::<Vec<_>>());
        assert!(
            idx.overlapping(&0, &Aabb::new(20.1, 0.0, 30.0, 30.0))
                .is_empty()
        );
    }

    #[test]
    fn negative_test_uses_window_area() {
        let idx = sample();
        // a 10x10 window overlapping box 5 by 1x10 (10%) and box 3 by 6x5 (30%)
        let w = Aabb::new(9.0, 0.0, 19.0, 10.0);
        assert!(!idx.is_negative(&1, &w, 0.3));
        assert!(idx.is_negative(&1, &w, 0.31));
        let w = Aabb::new(-20.0, -20.0, 0.0, 0.0); // touches box 5 at a corner
        assert!(!idx.is_negative(&1, &w, 0.0));
        assert!(idx.is_negative(&1, &w, 1e-9));
    }
}
