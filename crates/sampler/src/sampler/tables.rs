//! Where a [`CocoSampler`](super::CocoSampler) reads records from: a dataset in
//! memory (with an eager index of every box and every image's frame facts),
//! or a mapped [`Snapshot`] (images decoded on use and kept in a bounded
//! cache, box rows and annotations read from the mapped columns, the full
//! dataset loaded from the JSON only when a caller asks for it).
//!
//! What a snapshot sampler keeps per process is bounded whatever it samples
//! (so that N worker processes mapping one snapshot share nearly all their
//! memory): at most [`crate::SamplerConfig::image_cache_entries`] decoded
//! images, and the geometry cache's budget.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use lru::LruCache;
use parking_lot::Mutex;

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
    /// The snapshot record it was read from (its geometry is read through
    /// it without reading the columns again).
    pub snap: Option<SnapAnnot>,
}

/// Images of a snapshot with at most this many boxes are queried by a scan
/// of their rows in the mapped columns (nothing kept per process); larger ones
/// get an R-tree on their first query, kept with the image's cache entry.
const SCAN_MAX_BOXES: usize = 256;

/// Default of [`crate::SamplerConfig::image_cache_entries`]: about 5 MB of
/// decoded image records per process.
pub const DEFAULT_IMAGE_CACHE_ENTRIES: usize = 4096;

/// Shards of the decoded-image cache (threads rarely wait for each other).
const IMAGE_CACHE_SHARDS: usize = 8;

/// A snapshot image's box rows, in table order: annotation id, index box, and
/// the record's position when it is the first with its id.
type BoxRows = Vec<(AnnotId, Aabb, Option<usize>)>;

/// The boxes of one image, as the sampler queries them: the same answers, in
/// the same (table) order, as [`RegionIndex`] gives.
pub(super) enum ImageBoxes<'a> {
    /// An index holding the image's boxes (the dataset's).
    Index(&'a RegionIndex<ImageId, AnnotId>),
    /// A snapshot image's own R-tree (images with many boxes).
    Tree(Arc<RegionIndex<ImageId, AnnotId>>),
    /// The image's boxes read from a snapshot, in table order, with each
    /// record's position when it is the one a lookup by id finds.
    Scan(BoxRows),
}

impl ImageBoxes<'_> {
    fn tree(&self) -> Option<&RegionIndex<ImageId, AnnotId>> {
        match self {
            ImageBoxes::Index(ix) => Some(ix),
            ImageBoxes::Tree(ix) => Some(ix),
            ImageBoxes::Scan(_) => None,
        }
    }

    /// The box of `aid` on image `gid`.
    pub fn get(&self, gid: &ImageId, aid: &AnnotId) -> Option<Aabb> {
        match self {
            ImageBoxes::Scan(rows) => rows.iter().find(|r| r.0 == *aid).map(|r| r.1),
            _ => self.tree().and_then(|ix| ix.get(gid, aid)),
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
            ImageBoxes::Tree(ix) => ix.overlapping_visible(gid, query, visible_thresh),
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
            ImageBoxes::Scan(rows) => rows.iter().find(|r| r.0 == aid).and_then(|r| r.2),
            _ => None,
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

/// One image of a snapshot, decoded on use.
pub(super) struct ImageEntry {
    image: Image,
    frame: FrameInfo,
    /// The image's boxes, for images with more than [`SCAN_MAX_BOXES`] (built
    /// on their first query).
    index: OnceLock<Arc<RegionIndex<ImageId, AnnotId>>>,
}

/// A record of the tables: borrowed from the dataset in memory, or held with
/// the snapshot image it was decoded into (which the cache may drop
/// meanwhile).
pub(super) enum Rec<'a, T> {
    /// In the dataset.
    Borrowed(&'a T),
    /// In a decoded snapshot image.
    Decoded(Arc<ImageEntry>),
}

impl Deref for Rec<'_, Image> {
    type Target = Image;
    fn deref(&self) -> &Image {
        match self {
            Rec::Borrowed(r) => r,
            Rec::Decoded(e) => &e.image,
        }
    }
}

impl Deref for Rec<'_, FrameInfo> {
    type Target = FrameInfo;
    fn deref(&self) -> &FrameInfo {
        match self {
            Rec::Borrowed(r) => r,
            Rec::Decoded(e) => &e.frame,
        }
    }
}

/// Decoded snapshot images by position, least recently used dropped first.
struct ImageCache {
    shards: Box<[ImageShard]>,
}

type ImageShard = Mutex<LruCache<usize, Arc<ImageEntry>>>;

impl ImageCache {
    /// A cache of at most `entries` images (rounded up to a multiple of the
    /// shard count; 0 keeps none).
    fn new(entries: usize) -> Self {
        let per_shard = entries.div_ceil(IMAGE_CACHE_SHARDS);
        ImageCache {
            shards: match NonZeroUsize::new(per_shard) {
                Some(n) => (0..IMAGE_CACHE_SHARDS)
                    .map(|_| Mutex::new(LruCache::new(n)))
                    .collect(),
                None => Box::new([]),
            },
        }
    }

    fn shard(&self, pos: usize) -> Option<&ImageShard> {
        self.shards.get(pos % self.shards.len().max(1))
    }

    fn get(&self, pos: usize) -> Option<Arc<ImageEntry>> {
        self.shard(pos)?.lock().get(&pos).cloned()
    }

    fn put(&self, pos: usize, entry: Arc<ImageEntry>) {
        if let Some(s) = self.shard(pos) {
            s.lock().put(pos, entry);
        }
    }

    /// Images kept.
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

/// A mapped snapshot and what was decoded of it so far.
pub(super) struct SnapTables {
    snap: Snapshot,
    /// Categories, keypoint categories and videos; its bundle directory
    /// resolves file names.
    meta: CocoDataset,
    video_pos: HashMap<i64, usize>,
    images: ImageCache,
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
    pub fn new(snap: Snapshot, source: &Path, image_cache_entries: usize) -> Result<Self> {
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
        let images = ImageCache::new(image_cache_entries);
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

    fn entry(&self, pos: usize) -> Result<Arc<ImageEntry>> {
        if let Some(e) = self.images.get(pos) {
            return Ok(e);
        }
        let text = self.snap.image_record(pos)?;
        let image: Image =
            coco_model::record::record_from_json(text).map_err(|e| SnapshotError::Corrupt {
                path: self.snap.path().to_path_buf(),
                msg: format!("image record {pos}: {e}"),
            })?;
        let frame = super::CocoSampler::frame_info(&self.meta, &image)?;
        let entry = Arc::new(ImageEntry {
            image,
            frame,
            index: OnceLock::new(),
        });
        self.images.put(pos, entry.clone());
        Ok(entry)
    }

    fn image_entry(&self, gid: ImageId) -> Result<Option<Arc<ImageEntry>>> {
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
            snap: Some(*a),
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

    /// The boxes of image `gid`: its rows read from the mapped columns
    /// (nothing kept), or its R-tree when it has more than
    /// [`SCAN_MAX_BOXES`] boxes (built once per cache entry).
    fn image_boxes(&self, gid: ImageId) -> Result<Option<ImageBoxes<'_>>> {
        let Some(pos) = self.snap.image_position(gid.0)? else {
            return Ok(None);
        };
        let entry = self.entry(pos)?;
        if let Some(ix) = entry.index.get() {
            return Ok(Some(ImageBoxes::Tree(ix.clone())));
        }
        let mut positions = self.snap.image_annotations(pos)?;
        positions.sort_unstable();
        let rows = self.rows(&positions)?;
        if rows.len() <= SCAN_MAX_BOXES {
            return Ok(Some(ImageBoxes::Scan(rows)));
        }
        let ix = RegionIndex::from_rows(rows.into_iter().map(|(a, b, _)| (gid, a, b)))?;
        let ix = entry.index.get_or_init(|| Arc::new(ix)).clone();
        Ok(Some(ImageBoxes::Tree(ix)))
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

    /// Decoded snapshot images kept (0 for a dataset in memory).
    pub fn images_kept(&self) -> usize {
        match self {
            Tables::Memory(_) => 0,
            Tables::Snapshot(s) => s.images.len(),
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
                    snap: None,
                }
            })),
            Tables::Snapshot(s) => match s.snap.annotation_position(id.0)? {
                Some(p) => Ok(Some(SnapTables::ann_ref(&s.snap.annotation(p)?))),
                None => Ok(None),
            },
        }
    }

    /// The record of image `id`.
    pub fn image(&self, id: ImageId) -> Result<Option<Rec<'_, Image>>> {
        match self {
            Tables::Memory(m) => Ok(m.dset.image(id).map(Rec::Borrowed)),
            Tables::Snapshot(s) => Ok(s.image_entry(id)?.map(Rec::Decoded)),
        }
    }

    /// The precomputed facts of image `id`.
    pub fn frame(&self, id: ImageId) -> Result<Option<Rec<'_, FrameInfo>>> {
        match self {
            Tables::Memory(m) => Ok(m.frames.get(&id).map(Rec::Borrowed)),
            Tables::Snapshot(s) => Ok(s.image_entry(id)?.map(Rec::Decoded)),
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
            Tables::Snapshot(s) => {
                let a = match ann.snap {
                    Some(a) => a,
                    None => s.snap.annotation(ann.pos.unwrap_or(usize::MAX))?,
                };
                if !a.has_keypoints() && (a.has_polygons() || !a.has_segmentation()) {
                    // parsed in the shared map: nothing to keep per process
                    return Ok(Arc::new(AnnotGeometry {
                        segmentation: s.snap.polygons(&a)?,
                        keypoints: None,
                        keypoint_names: None,
                    }));
                }
                // keypoints and RLEs (traced) are parsed once, in the budget
                cache.get_or_parse(ann.pos, || {
                    let mut g = AnnotGeometry::parse_texts(
                        &s.meta,
                        a.id,
                        a.category_id.map(CategoryId),
                        s.snap.segmentation_json(&a)?,
                        s.snap.keypoints_json(&a)?,
                    )?;
                    if a.has_polygons() {
                        g.segmentation = s.snap.polygons(&a)?;
                    }
                    Ok(g)
                })
            }
        }
    }
}
