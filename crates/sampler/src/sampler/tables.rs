//! Where a [`CocoSampler`](super::CocoSampler) reads records from: a dataset in
//! memory (with an eager index of every box and every image's frame facts),
//! or a mapped [`Snapshot`] (records decoded per image / annotation on first
//! use, the full dataset loaded from the JSON only when a caller asks for it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use coco_model::{AnnotId, CategoryId, CocoDataset, Image, ImageId, Video, VideoId};
use region_index::{Aabb, Hit, RegionIndex};

use super::FrameInfo;
use crate::error::{Error, Result};
use crate::geometry_cache::{AnnotGeometry, GeometryCache};
use crate::snapshot::{SnapAnnot, Snapshot, SnapshotError};

/// What the sampler needs of one annotation.
#[derive(Debug, Clone, Copy)]
pub(super) struct AnnRef {
    /// Table position (the geometry cache's slot).
    pub pos: Option<usize>,
    pub id: AnnotId,
    pub image_id: ImageId,
    pub category_id: Option<CategoryId>,
    pub bbox: Option<[f64; 4]>,
}

/// Images of a snapshot with at most this many boxes are queried by a scan
/// of their rows in the mapped columns (nothing kept per process); larger ones
/// get an R-tree on their first query, kept for the sampler's lifetime.
const SCAN_MAX_BOXES: usize = 256;

/// A snapshot image's box rows, in table order: annotation id, index box, and
/// the record's position when it is the first with its id.
type BoxRows = Arc<[(AnnotId, Aabb, Option<usize>)]>;

/// The boxes of one image, as the sampler queries them: the same answers, in
/// the same (table) order, as [`RegionIndex`] gives.
pub(super) enum ImageBoxes<'a> {
    /// An index holding the image's boxes.
    Index(&'a RegionIndex<ImageId, AnnotId>),
    /// The image's boxes read from a snapshot, in table order, with each
    /// record's position when it is the one a lookup by id finds.
    Scan(BoxRows),
}

impl ImageBoxes<'_> {
    /// The box of `aid` on image `gid`.
    pub fn get(&self, gid: &ImageId, aid: &AnnotId) -> Option<Aabb> {
        match self {
            ImageBoxes::Index(ix) => ix.get(gid, aid),
            ImageBoxes::Scan(rows) => rows.iter().find(|r| r.0 == *aid).map(|r| r.1),
        }
    }

    /// [`RegionIndex::overlapping_visible`]: boxes touching `query`, with
    /// visibility strictly above `visible_thresh` when it is positive.
    pub fn overlapping_visible(
        &self,
        gid: &ImageId,
        query: &Aabb,
        visible_thresh: f64,
    ) -> Vec<Hit<AnnotId>> {
        match self {
            ImageBoxes::Index(ix) => ix.overlapping_visible(gid, query, visible_thresh),
            ImageBoxes::Scan(rows) => {
                if !query.is_valid() {
                    return Vec::new();
                }
                rows.iter()
                    .filter(|r| r.1.intersects(query))
                    .map(|&(id, bbox, _)| Hit {
                        id,
                        bbox,
                        visibility: bbox.visibility_in(query),
                    })
                    .filter(|h| !(visible_thresh > 0.0 && h.visibility <= visible_thresh))
                    .collect()
            }
        }
    }
}

impl ImageBoxes<'_> {
    /// The table position of `aid`'s record when this image knows it (a
    /// snapshot image, the record being the first with its id).
    fn position_hint(&self, aid: AnnotId) -> Option<usize> {
        match self {
            ImageBoxes::Index(_) => None,
            ImageBoxes::Scan(rows) => rows.iter().find(|r| r.0 == aid).and_then(|r| r.2),
        }
    }
}

/// The records of a sampler.
pub(super) enum Tables {
    Memory(Memory),
    Snapshot(Box<SnapTables>),
}

/// A dataset in memory, indexed eagerly.
pub(super) struct Memory {
    pub dset: Arc<CocoDataset>,
    pub index: RegionIndex<ImageId, AnnotId>,
    pub frames: HashMap<ImageId, FrameInfo>,
}

/// One image of a snapshot, decoded on first use.
struct ImageEntry {
    image: Image,
    frame: FrameInfo,
    /// The image's boxes, for images with more than [`SCAN_MAX_BOXES`] (built
    /// on their first query).
    index: OnceLock<RegionIndex<ImageId, AnnotId>>,
    /// The image's box rows, for the others (read on their first query).
    rows: OnceLock<BoxRows>,
}

/// A mapped snapshot and what was decoded of it so far.
pub(super) struct SnapTables {
    snap: Snapshot,
    /// Categories, keypoint categories and videos; its bundle directory
    /// resolves file names.
    meta: CocoDataset,
    video_pos: HashMap<i64, usize>,
    images: Vec<OnceLock<Arc<ImageEntry>>>,
    /// The dataset file, loaded when [`Tables::dataset`] is asked.
    source: PathBuf,
    full: OnceLock<Arc<CocoDataset>>,
    full_index: OnceLock<RegionIndex<ImageId, AnnotId>>,
}

impl From<SnapshotError> for Error {
    fn from(e: SnapshotError) -> Self {
        Error::Snapshot(Box::new(e))
    }
}

impl SnapTables {
    /// Opens the tables of `snap`, whose source is the dataset file `source`.
    pub fn new(snap: Snapshot, source: &Path) -> Result<Self> {
        let bundle = source.parent().unwrap_or(Path::new("."));
        let bundle = std::path::absolute(if bundle.as_os_str().is_empty() {
            Path::new(".")
        } else {
            bundle
        })
        .unwrap_or_else(|_| bundle.to_path_buf());
        let meta = CocoDataset::from_json_str(snap.meta_json()?, bundle).map_err(|e| {
            SnapshotError::Corrupt {
                path: snap.path().to_path_buf(),
                msg: format!("meta: {e}"),
            }
        })?;
        if meta.videos().len() != snap.n_videos() {
            return Err(SnapshotError::Corrupt {
                path: snap.path().to_path_buf(),
                msg: format!(
                    "{} videos in the meta, {} in the header",
                    meta.videos().len(),
                    snap.n_videos()
                ),
            }
            .into());
        }
        let video_pos = Snapshot::video_positions(meta.videos());
        let images = (0..snap.n_images()).map(|_| OnceLock::new()).collect();
        Ok(SnapTables {
            snap,
            meta,
            video_pos,
            images,
            source: source.to_path_buf(),
            full: OnceLock::new(),
            full_index: OnceLock::new(),
        })
    }

    fn entry(&self, pos: usize) -> Result<&ImageEntry> {
        let slot = self.images.get(pos).ok_or_else(|| SnapshotError::Corrupt {
            path: self.snap.path().to_path_buf(),
            msg: format!("image position {pos} out of range"),
        })?;
        if let Some(e) = slot.get() {
            return Ok(e);
        }
        let text = self.snap.image_record(pos)?;
        let image: Image =
            coco_model::record::record_from_json(text).map_err(|e| SnapshotError::Corrupt {
                path: self.snap.path().to_path_buf(),
                msg: format!("image record {pos}: {e}"),
            })?;
        let frame = super::CocoSampler::frame_info(&self.meta, &image)?;
        let _ = slot.set(Arc::new(ImageEntry {
            image,
            frame,
            index: OnceLock::new(),
            rows: OnceLock::new(),
        }));
        // set above, or by another thread first
        slot.get().map(|e| &**e).ok_or_else(|| {
            Error::from(SnapshotError::Corrupt {
                path: self.snap.path().to_path_buf(),
                msg: format!("image {pos} could not be decoded"),
            })
        })
    }

    fn image_entry(&self, gid: ImageId) -> Result<Option<&ImageEntry>> {
        match self.snap.image_position(gid.0)? {
            Some(p) => self.entry(p).map(Some),
            None => Ok(None),
        }
    }

    fn ann_ref(a: &SnapAnnot) -> AnnRef {
        AnnRef {
            pos: Some(a.pos),
            id: AnnotId(a.id),
            image_id: ImageId(a.image_id),
            category_id: a.category_id.map(CategoryId),
            bbox: a.bbox,
        }
    }

    /// The index rows of the annotations at `positions`, in table order (as
    /// the in-memory index inserts them), with the position of each record
    /// that is the first with its id.
    fn rows(&self, positions: &[usize]) -> Result<Vec<(AnnotId, Aabb, Option<usize>)>> {
        let mut rows = Vec::with_capacity(positions.len());
        for &p in positions {
            let a = self.snap.annotation(p)?;
            if let Some([x, y, w, h]) = a.index_box {
                let first = a.is_first_of_id().then_some(p);
                rows.push((AnnotId(a.id), Aabb::from_xywh(x, y, w, h), first));
            }
        }
        Ok(rows)
    }

    fn image_boxes(&self, gid: ImageId) -> Result<Option<ImageBoxes<'_>>> {
        let Some(pos) = self.snap.image_position(gid.0)? else {
            return Ok(None);
        };
        let entry = self.entry(pos)?;
        if let Some(ix) = entry.index.get() {
            return Ok(Some(ImageBoxes::Index(ix)));
        }
        if let Some(rows) = entry.rows.get() {
            return Ok(Some(ImageBoxes::Scan(rows.clone())));
        }
        let mut positions = self.snap.image_annotations(pos)?;
        positions.sort_unstable();
        let rows = self.rows(&positions)?;
        if rows.len() <= SCAN_MAX_BOXES {
            let rows: BoxRows = rows.into();
            let _ = entry.rows.set(rows.clone());
            return Ok(Some(ImageBoxes::Scan(rows)));
        }
        let ix = RegionIndex::from_rows(rows.into_iter().map(|(a, b, _)| (gid, a, b)))?;
        let _ = entry.index.set(ix);
        Ok(entry.index.get().map(ImageBoxes::Index))
    }

    fn build_full_index(&self) -> Result<RegionIndex<ImageId, AnnotId>> {
        let mut rows = Vec::with_capacity(self.snap.n_annotations());
        for p in 0..self.snap.n_annotations() {
            let a = self.snap.annotation(p)?;
            if let Some([x, y, w, h]) = a.index_box {
                rows.push((
                    ImageId(a.image_id),
                    AnnotId(a.id),
                    Aabb::from_xywh(x, y, w, h),
                ));
            }
        }
        let mut ix = RegionIndex::from_rows(rows)?;
        for p in 0..self.snap.n_images() {
            ix.add_frame(ImageId(self.snap.image_id(p)?));
        }
        Ok(ix)
    }

    fn load_full(&self) -> Result<Arc<CocoDataset>> {
        let ds = CocoDataset::load(&self.source)?;
        if ds.images().len() != self.snap.n_images()
            || ds.annotations().len() != self.snap.n_annotations()
        {
            return Err(SnapshotError::Stale {
                path: self.snap.path().to_path_buf(),
                source_path: self.source.clone(),
            }
            .into());
        }
        Ok(Arc::new(ds))
    }
}

impl Tables {
    /// The dataset whose bundle directory resolves file names and whose
    /// categories name keypoints (the full dataset, or a snapshot's meta).
    pub fn names(&self) -> &CocoDataset {
        match self {
            Tables::Memory(m) => &m.dset,
            Tables::Snapshot(s) => &s.meta,
        }
    }

    /// Number of annotations (geometry cache slots).
    pub fn n_annotations(&self) -> usize {
        match self {
            Tables::Memory(m) => m.dset.annotations().len(),
            Tables::Snapshot(s) => s.snap.n_annotations(),
        }
    }

    /// The snapshot and its meta dataset, if the tables are one.
    pub fn snapshot_parts(&self) -> Option<(&Snapshot, &CocoDataset)> {
        match self {
            Tables::Memory(_) => None,
            Tables::Snapshot(s) => Some((&s.snap, &s.meta)),
        }
    }

    /// The snapshot's path, if the tables are one.
    pub fn snapshot_path(&self) -> Option<&Path> {
        match self {
            Tables::Memory(_) => None,
            Tables::Snapshot(s) => Some(s.snap.path()),
        }
    }

    /// The full dataset; loaded from the JSON on first call for a snapshot.
    pub fn try_dataset(&self) -> Result<&Arc<CocoDataset>> {
        match self {
            Tables::Memory(m) => Ok(&m.dset),
            Tables::Snapshot(s) => {
                if let Some(d) = s.full.get() {
                    return Ok(d);
                }
                let d = s.load_full()?;
                let _ = s.full.set(d);
                s.full.get().ok_or_else(|| {
                    Error::from(SnapshotError::Stale {
                        path: s.snap.path().to_path_buf(),
                        source_path: s.source.clone(),
                    })
                })
            }
        }
    }

    /// [`Tables::try_dataset`]; when the JSON cannot be loaded any more (gone
    /// or edited since the sampler was opened), logs the error and returns
    /// the snapshot's categories and videos without images or annotations.
    pub fn dataset(&self) -> &Arc<CocoDataset> {
        match self {
            Tables::Memory(m) => &m.dset,
            Tables::Snapshot(s) => match self.try_dataset() {
                Ok(d) => d,
                Err(e) => {
                    log::error!("{e}; the dataset view holds categories and videos only");
                    s.full.get_or_init(|| Arc::new(s.meta.clone()))
                }
            },
        }
    }

    /// The index of every box (built from the snapshot's columns on first call).
    pub fn region_index(&self) -> &RegionIndex<ImageId, AnnotId> {
        match self {
            Tables::Memory(m) => &m.index,
            Tables::Snapshot(s) => s.full_index.get_or_init(|| {
                s.build_full_index().unwrap_or_else(|e| {
                    log::error!("{e}; the region index is empty");
                    RegionIndex::new()
                })
            }),
        }
    }

    /// The annotation with `id`, found through `boxes` (the boxes of its
    /// image) when they know its position.
    pub fn annotation_on(&self, boxes: &ImageBoxes<'_>, id: AnnotId) -> Result<Option<AnnRef>> {
        if let (Tables::Snapshot(s), Some(p)) = (self, boxes.position_hint(id)) {
            return Ok(Some(SnapTables::ann_ref(&s.snap.annotation(p)?)));
        }
        self.annotation(id)
    }

    /// The annotation with `id`.
    pub fn annotation(&self, id: AnnotId) -> Result<Option<AnnRef>> {
        match self {
            Tables::Memory(m) => Ok(m.dset.annotation_position(id).map(|p| {
                let a = &m.dset.annotations()[p];
                AnnRef {
                    pos: Some(p),
                    id: a.id,
                    image_id: a.image_id,
                    category_id: a.category_id,
                    bbox: a.bbox,
                }
            })),
            Tables::Snapshot(s) => match s.snap.annotation_position(id.0)? {
                Some(p) => Ok(Some(SnapTables::ann_ref(&s.snap.annotation(p)?))),
                None => Ok(None),
            },
        }
    }

    /// The record of image `id`.
    pub fn image(&self, id: ImageId) -> Result<Option<&Image>> {
        match self {
            Tables::Memory(m) => Ok(m.dset.image(id)),
            Tables::Snapshot(s) => Ok(s.image_entry(id)?.map(|e| &e.image)),
        }
    }

    /// The precomputed facts of image `id`.
    pub fn frame(&self, id: ImageId) -> Result<Option<&FrameInfo>> {
        match self {
            Tables::Memory(m) => Ok(m.frames.get(&id)),
            Tables::Snapshot(s) => Ok(s.image_entry(id)?.map(|e| &e.frame)),
        }
    }

    /// The record of video `id`.
    pub fn video(&self, id: VideoId) -> Option<&Video> {
        self.names().video(id)
    }

    /// The frames of video `id` in `frame_index` order.
    pub fn images_of_video(&self, id: VideoId) -> Result<Vec<ImageId>> {
        match self {
            Tables::Memory(m) => Ok(m.dset.images_of_video(id).to_vec()),
            Tables::Snapshot(s) => {
                let Some(&vp) = s.video_pos.get(&id.0) else {
                    return Ok(Vec::new());
                };
                s.snap
                    .video_frames(vp)?
                    .into_iter()
                    .map(|p| Ok(ImageId(s.snap.image_id(p)?)))
                    .collect()
            }
        }
    }

    /// The annotations of image `id`, in table order (the first record of a
    /// repeated id only, as the dataset's index).
    pub fn annots_of_image(&self, id: ImageId) -> Result<Vec<AnnotId>> {
        match self {
            Tables::Memory(m) => Ok(m.dset.annots_of_image(id).to_vec()),
            Tables::Snapshot(s) => {
                let Some(pos) = s.snap.image_position(id.0)? else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                for p in s.snap.image_annotations(pos)? {
                    let aid = s.snap.annotation(p)?.id;
                    if s.snap.annotation_position(aid)? == Some(p) {
                        out.push(AnnotId(aid));
                    }
                }
                Ok(out)
            }
        }
    }

    /// The boxes of image `id` (`None`: no such image).
    pub fn image_boxes(&self, id: ImageId) -> Result<Option<ImageBoxes<'_>>> {
        match self {
            Tables::Memory(m) => Ok(Some(ImageBoxes::Index(&m.index))),
            Tables::Snapshot(s) => s.image_boxes(id),
        }
    }

    /// The parsed geometry of `ann`, through the cache.
    pub fn geometry(&self, cache: &GeometryCache, ann: &AnnRef) -> Result<Arc<AnnotGeometry>> {
        match self {
            Tables::Memory(m) => {
                // the position is known: the record is looked up only to parse
                let pos = ann.pos.or_else(|| m.dset.annotation_position(ann.id));
                cache.get_or_parse(pos, || {
                    let rec = pos
                        .and_then(|p| m.dset.annotations().get(p))
                        .filter(|r| r.id == ann.id);
                    match rec {
                        Some(rec) => AnnotGeometry::parse(&m.dset, rec),
                        None => Err(Error::UnknownId {
                            key: "annot_id",
                            table: "annotation",
                            id: ann.id.0,
                        }),
                    }
                })
            }
            Tables::Snapshot(s) => cache.get_or_parse(ann.pos, || {
                let pos = ann.pos.unwrap_or(usize::MAX);
                let a = s.snap.annotation(pos)?;
                AnnotGeometry::parse_texts(
                    &s.meta,
                    a.id,
                    a.category_id.map(CategoryId),
                    s.snap.segmentation_json(&a)?,
                    s.snap.keypoints_json(&a)?,
                )
            }),
        }
    }
}
