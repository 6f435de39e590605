//! [`CocoDataset`]: the tables, their index and the read accessors.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;

use crate::ids::{AnnotId, CategoryId, ImageId, KeypointCategoryId, TrackId, VideoId};
use crate::index::Index;
use crate::record::{Annotation, Category, Image, KeypointCategory, Track, Video};

/// A top-level key of a dataset file, in the order it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TopKey {
    Info,
    Licenses,
    Categories,
    KeypointCategories,
    Videos,
    Images,
    Annotations,
    Tracks,
    Extra(String),
}

impl TopKey {
    /// kwcoco's order of the tables, used for a new dataset and for tables
    /// added to a file that did not have them.
    pub(crate) const CANONICAL: [TopKey; 8] = [
        TopKey::Info,
        TopKey::Licenses,
        TopKey::Categories,
        TopKey::KeypointCategories,
        TopKey::Videos,
        TopKey::Images,
        TopKey::Annotations,
        TopKey::Tracks,
    ];

    pub(crate) fn name(&self) -> &str {
        match self {
            TopKey::Info => "info",
            TopKey::Licenses => "licenses",
            TopKey::Categories => "categories",
            TopKey::KeypointCategories => "keypoint_categories",
            TopKey::Videos => "videos",
            TopKey::Images => "images",
            TopKey::Annotations => "annotations",
            TopKey::Tracks => "tracks",
            TopKey::Extra(s) => s,
        }
    }

    pub(crate) fn from_name(s: &str) -> TopKey {
        match s {
            "info" => TopKey::Info,
            "licenses" => TopKey::Licenses,
            "categories" => TopKey::Categories,
            "keypoint_categories" => TopKey::KeypointCategories,
            "videos" => TopKey::Videos,
            "images" => TopKey::Images,
            "annotations" => TopKey::Annotations,
            "tracks" => TopKey::Tracks,
            other => TopKey::Extra(other.to_owned()),
        }
    }
}

/// Per-table next-id counters, as kwcoco allocates them: a new id is
/// `max(counter, max id in the table + 1)`, and the counter then moves past it,
/// so ids of removed records are not reused.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NextIds {
    pub categories: i64,
    pub keypoint_categories: i64,
    pub videos: i64,
    pub images: i64,
    pub tracks: i64,
    pub annotations: i64,
}

/// A kwcoco / MS-COCO dataset: its tables (in file order), an index over
/// them, and the bundle directory that relative file names are resolved against.
///
/// See the [crate docs](crate) for a tour.
#[derive(Debug, Clone)]
pub struct CocoDataset {
    pub(crate) info: Value,
    pub(crate) licenses: Vec<Value>,
    pub(crate) categories: Vec<Category>,
    pub(crate) keypoint_categories: Vec<KeypointCategory>,
    pub(crate) videos: Vec<Video>,
    pub(crate) images: Vec<Image>,
    pub(crate) tracks: Vec<Track>,
    pub(crate) annotations: Vec<Annotation>,
    pub(crate) extra: IndexMap<String, Value>,
    pub(crate) table_order: Vec<TopKey>,
    pub(crate) bundle_dir: PathBuf,
    pub(crate) fpath: Option<PathBuf>,
    pub(crate) index: Index,
    pub(crate) next_ids: NextIds,
}

impl Default for CocoDataset {
    fn default() -> Self {
        Self::new()
    }
}

impl CocoDataset {
    /// An empty dataset (all kwcoco tables, bundle directory `.`).
    pub fn new() -> Self {
        CocoDataset {
            info: Value::Array(Vec::new()),
            licenses: Vec::new(),
            categories: Vec::new(),
            keypoint_categories: Vec::new(),
            videos: Vec::new(),
            images: Vec::new(),
            tracks: Vec::new(),
            annotations: Vec::new(),
            extra: IndexMap::new(),
            table_order: TopKey::CANONICAL.to_vec(),
            bundle_dir: PathBuf::from("."),
            fpath: None,
            index: Index::default(),
            next_ids: NextIds::default(),
        }
    }

    /// Rebuilds the whole index (after loading or bulk edits).
    pub(crate) fn reindex(&mut self) {
        self.index = Index::build(
            &self.categories,
            &self.keypoint_categories,
            &self.videos,
            &self.images,
            &self.tracks,
            &self.annotations,
        );
    }

    // ---- paths ---------------------------------------------------------

    /// The bundle directory: relative file names are relative to it.
    pub fn bundle_dir(&self) -> &Path {
        &self.bundle_dir
    }

    /// Sets the bundle directory without touching file names (see
    /// [`CocoDataset::reroot`] to keep files pointing at the same place).
    pub fn set_bundle_dir(&mut self, dir: impl Into<PathBuf>) {
        self.bundle_dir = dir.into();
    }

    /// The file this dataset was loaded from, if any.
    pub fn fpath(&self) -> Option<&Path> {
        self.fpath.as_deref()
    }

    /// Resolves a file name of the dataset: absolute names are kept, relative
    /// ones are joined to the bundle directory.
    ///
    /// ```
    /// let ds = coco_model::CocoDataset::from_json_str("{}", "/data/bundle").unwrap();
    /// assert_eq!(ds.resolve_path("a/b.png"), std::path::Path::new("/data/bundle/a/b.png"));
    /// assert_eq!(ds.resolve_path("/abs.png"), std::path::Path::new("/abs.png"));
    /// ```
    ///
    /// A file name that is a URL (`s3://…`, `https://…`, see
    /// [`crate::paths::is_url`]) is kept as it is; a relative name under a
    /// bundle directory that is a URL is joined to it with `/`.
    ///
    /// ```
    /// let ds = coco_model::CocoDataset::from_json_str("{}", "s3://bucket/bundle").unwrap();
    /// assert_eq!(ds.resolve_path("a/b.tif"), std::path::Path::new("s3://bucket/bundle/a/b.tif"));
    /// assert_eq!(ds.resolve_path("https://h/x.png"), std::path::Path::new("https://h/x.png"));
    /// ```
    pub fn resolve_path(&self, file_name: &str) -> PathBuf {
        let p = Path::new(file_name);
        if p.is_absolute() || crate::paths::is_url(file_name) {
            p.to_path_buf()
        } else if let Some(base) = self.bundle_dir.to_str().filter(|b| crate::paths::is_url(b)) {
            PathBuf::from(format!(
                "{}/{}",
                base.trim_end_matches('/'),
                file_name.trim_start_matches("./")
            ))
        } else {
            self.bundle_dir.join(p)
        }
    }

    // ---- tables --------------------------------------------------------

    /// The `info` value (kwcoco writes a list, MS-COCO an object).
    pub fn info(&self) -> &Value {
        &self.info
    }

    /// Mutable `info`.
    pub fn info_mut(&mut self) -> &mut Value {
        &mut self.info
    }

    /// The `licenses` list.
    pub fn licenses(&self) -> &[Value] {
        &self.licenses
    }

    /// Mutable `licenses`.
    pub fn licenses_mut(&mut self) -> &mut Vec<Value> {
        &mut self.licenses
    }

    /// Unknown top-level keys, in file order.
    pub fn extra(&self) -> &IndexMap<String, Value> {
        &self.extra
    }

    /// Mutable unknown top-level keys (new keys are written after the tables).
    pub fn extra_mut(&mut self) -> &mut IndexMap<String, Value> {
        &mut self.extra
    }

    /// Categories in table order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// Keypoint categories in table order.
    pub fn keypoint_categories(&self) -> &[KeypointCategory] {
        &self.keypoint_categories
    }

    /// Videos in table order.
    pub fn videos(&self) -> &[Video] {
        &self.videos
    }

    /// Images in table order.
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    /// Tracks in table order.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Annotations in table order.
    pub fn annotations(&self) -> &[Annotation] {
        &self.annotations
    }

    // ---- lookups by id -------------------------------------------------

    /// The image with this id.
    pub fn image(&self, id: ImageId) -> Option<&Image> {
        self.index.img_pos.get(id).map(|p| &self.images[p])
    }

    /// The annotation with this id.
    pub fn annotation(&self, id: AnnotId) -> Option<&Annotation> {
        self.index.ann_pos.get(id).map(|p| &self.annotations[p])
    }

    /// The position of the annotation with this id in
    /// [`CocoDataset::annotations`] (stable until the table changes): lets a
    /// reader keep per-annotation data in a plain vector.
    pub fn annotation_position(&self, id: AnnotId) -> Option<usize> {
        self.index.ann_pos.get(id)
    }

    /// The category with this id.
    pub fn category(&self, id: CategoryId) -> Option<&Category> {
        self.index.cat_pos.get(id).map(|p| &self.categories[p])
    }

    /// The keypoint category with this id.
    pub fn keypoint_category(&self, id: KeypointCategoryId) -> Option<&KeypointCategory> {
        self.index
            .kpcat_pos
            .get(id)
            .map(|p| &self.keypoint_categories[p])
    }

    /// The video with this id.
    pub fn video(&self, id: VideoId) -> Option<&Video> {
        self.index.vid_pos.get(id).map(|p| &self.videos[p])
    }

    /// The track with this id.
    pub fn track(&self, id: &TrackId) -> Option<&Track> {
        self.index.track_pos.get(id).map(|&p| &self.tracks[p])
    }

    // ---- index queries -------------------------------------------------

    /// Annotations on an image, in table order (empty for an unknown image).
    pub fn annots_of_image(&self, id: ImageId) -> &[AnnotId] {
        self.index
            .annots_of_image
            .get(&id)
            .map_or(&[], Vec::as_slice)
    }

    /// Annotations of a category, in table order.
    pub fn annots_of_category(&self, id: CategoryId) -> &[AnnotId] {
        self.index
            .annots_of_category
            .get(&id)
            .map_or(&[], Vec::as_slice)
    }

    /// Annotations of a track, in table order.
    pub fn annots_of_track(&self, id: &TrackId) -> &[AnnotId] {
        self.index
            .annots_of_track
            .get(id)
            .map_or(&[], Vec::as_slice)
    }

    /// Frames of a video sorted by `frame_index` (ties by image id).
    pub fn images_of_video(&self, id: VideoId) -> &[ImageId] {
        self.index
            .images_of_video
            .get(&id)
            .map_or(&[], Vec::as_slice)
    }

    /// The annotations on an image, as records.
    pub fn image_annotations(&self, id: ImageId) -> impl Iterator<Item = &Annotation> + '_ {
        self.annots_of_image(id)
            .iter()
            .filter_map(|a| self.annotation(*a))
    }

    /// The category named `name`.
    pub fn category_by_name(&self, name: &str) -> Option<&Category> {
        self.index
            .cat_by_name
            .get(name)
            .and_then(|id| self.category(*id))
    }

    /// The keypoint category named `name`.
    pub fn keypoint_category_by_name(&self, name: &str) -> Option<&KeypointCategory> {
        self.index
            .kpcat_by_name
            .get(name)
            .and_then(|id| self.keypoint_category(*id))
    }

    /// The category a user's name means, as kwcoco's `_alias_to_cat`: the
    /// category of that exact name, else the first (in table order) whose name
    /// or one of whose `alias` names (a string or a list of strings) equals it
    /// ignoring case.
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// let ds = CocoDataset::from_json_str(r#"{"categories": [
    ///   {"id": 1, "name": "background", "alias": ["Void", "clutter"]},
    ///   {"id": 2, "name": "Car", "alias": "automobile"}]}"#, ".").unwrap();
    /// assert_eq!(ds.resolve_category("void").unwrap().id.0, 1);
    /// assert_eq!(ds.resolve_category("AUTOMOBILE").unwrap().id.0, 2);
    /// assert_eq!(ds.resolve_category("car").unwrap().id.0, 2);
    /// assert!(ds.resolve_category("bus").is_none());
    /// ```
    pub fn resolve_category(&self, name: &str) -> Option<&Category> {
        if let Some(c) = self.category_by_name(name) {
            return Some(c);
        }
        let lower = name.to_lowercase();
        self.categories.iter().find(|c| {
            c.name.to_lowercase() == lower
                || alias_names(c.extra.get("alias")).any(|a| a.to_lowercase() == lower)
        })
    }

    /// The keypoint category a name means, as kwcoco's
    /// `_resolve_to_kpcat`: the exact name, else the first whose `alias`
    /// (a string or a list) holds it.
    pub fn resolve_keypoint_category(&self, name: &str) -> Option<&KeypointCategory> {
        if let Some(k) = self.keypoint_category_by_name(name) {
            return Some(k);
        }
        self.keypoint_categories
            .iter()
            .find(|k| alias_names(k.extra.get("alias")).any(|a| a == name))
    }

    /// The video named `name`.
    pub fn video_by_name(&self, name: &str) -> Option<&Video> {
        self.index
            .vid_by_name
            .get(name)
            .and_then(|id| self.video(*id))
    }

    /// The image named `name`.
    pub fn image_by_name(&self, name: &str) -> Option<&Image> {
        self.index
            .img_by_name
            .get(name)
            .and_then(|id| self.image(*id))
    }

    /// The image whose `file_name` is exactly `file_name`.
    pub fn image_by_file_name(&self, file_name: &str) -> Option<&Image> {
        self.index
            .img_by_file_name
            .get(file_name)
            .and_then(|id| self.image(*id))
    }

    /// The track named `name`.
    pub fn track_by_name(&self, name: &str) -> Option<&Track> {
        self.index
            .track_by_name
            .get(name)
            .and_then(|id| self.track(id))
    }

    /// The category of an annotation.
    pub fn annotation_category(&self, ann: &Annotation) -> Option<&Category> {
        ann.category_id.and_then(|c| self.category(c))
    }
}

/// The names of an `alias` value: one string or a list of strings.
fn alias_names(v: Option<&serde_json::Value>) -> impl Iterator<Item = &str> {
    let (one, many) = match v {
        Some(serde_json::Value::String(s)) => (Some(s.as_str()), None),
        Some(serde_json::Value::Array(a)) => (None, Some(a.iter().filter_map(|x| x.as_str()))),
        _ => (None, None),
    };
    one.into_iter().chain(many.into_iter().flatten())
}
