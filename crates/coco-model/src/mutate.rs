//! Adding records and editing them in place, with the index kept current.
//!
//! * `add_*` allocate a fresh id the way kwcoco does (`max(counter, max id + 1)`,
//!   ids of removed records are not reused) and ignore the record's `id`.
//! * `insert_*` keep the record's `id`.
//! * `ensure_*` return the id of the record with that name, adding it if needed.
//!
//! Both fail with [`Error::Duplicate`] when the id or a unique name
//! (category, keypoint category, video, image, track name; image `file_name`)
//! is taken, and with [`Error::NotFound`] when a reference (an annotation's
//! image or category, an image's video) does not exist.
//!
//! `*_mut` return a guard that derefs to the record; when it is dropped, the
//! index is updated if a field it depends on (id, name, parent ids,
//! `frame_index`, …) changed.

use std::ops::{Deref, DerefMut};

use crate::dataset::CocoDataset;
use crate::error::{Error, Result};
use crate::ids::{AnnotId, CategoryId, ImageId, KeypointCategoryId, TrackId, VideoId};
use crate::record::{Annotation, Category, Image, KeypointCategory, Track, Video};

/// Which table a counter is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tbl {
    Categories,
    KeypointCategories,
    Videos,
    Images,
    Tracks,
    Annotations,
}

fn dup(table: &'static str, what: String) -> Error {
    Error::Duplicate { table, what }
}

fn missing(table: &'static str, what: String) -> Error {
    Error::NotFound { table, what }
}

impl CocoDataset {
    fn counter(&mut self, t: Tbl) -> &mut i64 {
        match t {
            Tbl::Categories => &mut self.next_ids.categories,
            Tbl::KeypointCategories => &mut self.next_ids.keypoint_categories,
            Tbl::Videos => &mut self.next_ids.videos,
            Tbl::Images => &mut self.next_ids.images,
            Tbl::Tracks => &mut self.next_ids.tracks,
            Tbl::Annotations => &mut self.next_ids.annotations,
        }
    }

    fn max_id(&self, t: Tbl) -> Option<i64> {
        match t {
            Tbl::Categories => self.categories.iter().map(|r| r.id.0).max(),
            Tbl::KeypointCategories => self.keypoint_categories.iter().map(|r| r.id.0).max(),
            Tbl::Videos => self.videos.iter().map(|r| r.id.0).max(),
            Tbl::Images => self.images.iter().map(|r| r.id.0).max(),
            Tbl::Tracks => self
                .tracks
                .iter()
                .filter_map(|r| match r.id {
                    TrackId::Int(v) => Some(v),
                    TrackId::Str(_) => None,
                })
                .max(),
            Tbl::Annotations => self.annotations.iter().map(|r| r.id.0).max(),
        }
    }

    /// Initialises the counter of table `t` past its largest id (kwcoco starts at 1).
    pub(crate) fn prime_counter(&mut self, t: Tbl) {
        if *self.counter(t) == 0 {
            let start = self.max_id(t).map_or(1, |m| m.saturating_add(1)).max(1);
            *self.counter(t) = start;
        }
    }

    /// The id the next `add_*` of table `t` will use, advancing the counter.
    pub(crate) fn next_id(&mut self, t: Tbl) -> i64 {
        self.prime_counter(t);
        let c = self.counter(t);
        let id = *c;
        *c = c.saturating_add(1);
        id
    }

    /// Keeps the counter past an explicitly inserted id.
    pub(crate) fn bump_counter(&mut self, t: Tbl, id: i64) {
        let c = self.counter(t);
        if *c != 0 && *c <= id {
            *c = id.saturating_add(1);
        }
    }

    // ---- categories ----------------------------------------------------

    /// Adds a category with a fresh id.
    pub fn add_category(&mut self, mut cat: Category) -> Result<CategoryId> {
        self.check_category_name(&cat.name)?;
        cat.id = CategoryId(self.next_id(Tbl::Categories));
        self.insert_category(cat)
    }

    fn check_category_name(&self, name: &str) -> Result<()> {
        if self.index.cat_by_name.contains_key(name) {
            return Err(dup("categories", format!("name {name:?}")));
        }
        Ok(())
    }

    /// Adds a category keeping its id.
    pub fn insert_category(&mut self, cat: Category) -> Result<CategoryId> {
        if self.index.cat_pos.contains(cat.id) {
            return Err(dup("categories", format!("id {}", cat.id)));
        }
        self.check_category_name(&cat.name)?;
        let id = cat.id;
        self.bump_counter(Tbl::Categories, id.0);
        self.index.cat_pos.insert_first(id, self.categories.len());
        self.index.cat_by_name.insert(cat.name.clone(), id);
        self.categories.push(cat);
        Ok(id)
    }

    /// The id of the category named `name`, added (with a fresh id) if missing.
    pub fn ensure_category(&mut self, name: &str) -> Result<CategoryId> {
        match self.index.cat_by_name.get(name) {
            Some(id) => Ok(*id),
            None => self.add_category(Category::new(name)),
        }
    }

    // ---- keypoint categories ------------------------------------------

    /// Adds a keypoint category with a fresh id.
    pub fn add_keypoint_category(
        &mut self,
        mut kc: KeypointCategory,
    ) -> Result<KeypointCategoryId> {
        if self.index.kpcat_by_name.contains_key(&kc.name) {
            return Err(dup("keypoint_categories", format!("name {:?}", kc.name)));
        }
        kc.id = KeypointCategoryId(self.next_id(Tbl::KeypointCategories));
        self.insert_keypoint_category(kc)
    }

    /// Adds a keypoint category keeping its id.
    pub fn insert_keypoint_category(&mut self, kc: KeypointCategory) -> Result<KeypointCategoryId> {
        if self.index.kpcat_pos.contains(kc.id) {
            return Err(dup("keypoint_categories", format!("id {}", kc.id)));
        }
        if self.index.kpcat_by_name.contains_key(&kc.name) {
            return Err(dup("keypoint_categories", format!("name {:?}", kc.name)));
        }
        let id = kc.id;
        self.bump_counter(Tbl::KeypointCategories, id.0);
        self.index
            .kpcat_pos
            .insert_first(id, self.keypoint_categories.len());
        self.index.kpcat_by_name.insert(kc.name.clone(), id);
        self.keypoint_categories.push(kc);
        Ok(id)
    }

    /// The id of the keypoint category named `name`, added if missing.
    pub fn ensure_keypoint_category(&mut self, name: &str) -> Result<KeypointCategoryId> {
        match self.index.kpcat_by_name.get(name) {
            Some(id) => Ok(*id),
            None => self.add_keypoint_category(KeypointCategory::new(name)),
        }
    }

    // ---- videos --------------------------------------------------------

    /// Adds a video with a fresh id.
    pub fn add_video(&mut self, mut video: Video) -> Result<VideoId> {
        self.check_video_name(video.name.as_deref())?;
        video.id = VideoId(self.next_id(Tbl::Videos));
        self.insert_video(video)
    }

    fn check_video_name(&self, name: Option<&str>) -> Result<()> {
        if let Some(n) = name
            && self.index.vid_by_name.contains_key(n)
        {
            return Err(dup("videos", format!("name {n:?}")));
        }
        Ok(())
    }

    /// Adds a video keeping its id.
    pub fn insert_video(&mut self, video: Video) -> Result<VideoId> {
        if self.index.vid_pos.contains(video.id) {
            return Err(dup("videos", format!("id {}", video.id)));
        }
        self.check_video_name(video.name.as_deref())?;
        let id = video.id;
        self.bump_counter(Tbl::Videos, id.0);
        self.index.vid_pos.insert_first(id, self.videos.len());
        if let Some(n) = &video.name {
            self.index.vid_by_name.insert(n.clone(), id);
        }
        self.videos.push(video);
        Ok(id)
    }

    /// The id of the video named `name`, added if missing.
    pub fn ensure_video(&mut self, name: &str) -> Result<VideoId> {
        match self.index.vid_by_name.get(name) {
            Some(id) => Ok(*id),
            None => self.add_video(Video::new(name)),
        }
    }

    // ---- images --------------------------------------------------------

    fn check_image(&self, img: &Image) -> Result<()> {
        if let Some(n) = &img.name
            && self.index.img_by_name.contains_key(n)
        {
            return Err(dup("images", format!("name {n:?}")));
        }
        if let Some(f) = &img.file_name
            && self.index.img_by_file_name.contains_key(f)
        {
            return Err(dup("images", format!("file_name {f:?}")));
        }
        if let Some(v) = img.video_id
            && !self.index.vid_pos.contains(v)
        {
            return Err(missing("videos", format!("id {v} (video_id of the image)")));
        }
        Ok(())
    }

    /// Adds an image with a fresh id.
    pub fn add_image(&mut self, mut img: Image) -> Result<ImageId> {
        self.check_image(&img)?;
        img.id = ImageId(self.next_id(Tbl::Images));
        self.insert_image(img)
    }

    /// Adds an image keeping its id.
    pub fn insert_image(&mut self, img: Image) -> Result<ImageId> {
        if self.index.img_pos.contains(img.id) {
            return Err(dup("images", format!("id {}", img.id)));
        }
        self.check_image(&img)?;
        let id = img.id;
        self.bump_counter(Tbl::Images, id.0);
        self.images.push(img);
        self.index.link_image(&self.images, self.images.len() - 1);
        Ok(id)
    }

    /// The id of the image with this `file_name`, added if missing.
    pub fn ensure_image(&mut self, file_name: &str) -> Result<ImageId> {
        match self.index.img_by_file_name.get(file_name) {
            Some(id) => Ok(*id),
            None => self.add_image(Image::new(file_name)),
        }
    }

    // ---- tracks --------------------------------------------------------

    /// Adds a track with a fresh integer id.
    pub fn add_track(&mut self, mut track: Track) -> Result<TrackId> {
        self.check_track_name(track.name.as_deref())?;
        track.id = TrackId::Int(self.next_id(Tbl::Tracks));
        self.insert_track(track)
    }

    fn check_track_name(&self, name: Option<&str>) -> Result<()> {
        if let Some(n) = name
            && self.index.track_by_name.contains_key(n)
        {
            return Err(dup("tracks", format!("name {n:?}")));
        }
        Ok(())
    }

    /// Adds a track keeping its id.
    pub fn insert_track(&mut self, track: Track) -> Result<TrackId> {
        if self.index.track_pos.contains_key(&track.id) {
            return Err(dup("tracks", format!("id {}", track.id)));
        }
        self.check_track_name(track.name.as_deref())?;
        let id = track.id.clone();
        if let TrackId::Int(v) = id {
            self.bump_counter(Tbl::Tracks, v);
        }
        self.index.track_pos.insert(id.clone(), self.tracks.len());
        if let Some(n) = &track.name {
            self.index.track_by_name.insert(n.clone(), id.clone());
        }
        self.tracks.push(track);
        Ok(id)
    }

    /// The id of the track named `name`, added if missing.
    pub fn ensure_track(&mut self, name: &str) -> Result<TrackId> {
        match self.index.track_by_name.get(name) {
            Some(id) => Ok(id.clone()),
            None => self.add_track(Track::new(name)),
        }
    }

    // ---- annotations ---------------------------------------------------

    fn check_annotation(&self, ann: &Annotation) -> Result<()> {
        if !self.index.img_pos.contains(ann.image_id) {
            return Err(missing(
                "images",
                format!("id {} (image_id of the annotation)", ann.image_id),
            ));
        }
        if let Some(c) = ann.category_id
            && !self.index.cat_pos.contains(c)
        {
            return Err(missing(
                "categories",
                format!("id {c} (category_id of the annotation)"),
            ));
        }
        Ok(())
    }

    /// Adds an annotation with a fresh id. Its image (and category, if set)
    /// must exist.
    pub fn add_annotation(&mut self, mut ann: Annotation) -> Result<AnnotId> {
        self.check_annotation(&ann)?;
        ann.id = AnnotId(self.next_id(Tbl::Annotations));
        self.insert_annotation(ann)
    }

    /// Adds an annotation keeping its id.
    pub fn insert_annotation(&mut self, ann: Annotation) -> Result<AnnotId> {
        if self.index.ann_pos.contains(ann.id) {
            return Err(dup("annotations", format!("id {}", ann.id)));
        }
        self.check_annotation(&ann)?;
        let id = ann.id;
        self.bump_counter(Tbl::Annotations, id.0);
        self.index.ann_pos.insert_first(id, self.annotations.len());
        self.index.link_annotation(&ann);
        self.annotations.push(ann);
        Ok(id)
    }

    // ---- in-place edits ------------------------------------------------

    /// Mutable access to an image; the index follows changes when the guard drops.
    pub fn image_mut(&mut self, id: ImageId) -> Option<RecordMut<'_, Image>> {
        let pos = self.index.img_pos.get(id)?;
        let before = image_keys(&self.images[pos]);
        Some(RecordMut {
            ds: self,
            pos,
            before: Keys::Image(before),
            kind: Kind::Image,
            _t: std::marker::PhantomData,
        })
    }

    /// Mutable access to an annotation; the index follows changes when the guard drops.
    pub fn annotation_mut(&mut self, id: AnnotId) -> Option<RecordMut<'_, Annotation>> {
        let pos = self.index.ann_pos.get(id)?;
        let a = &self.annotations[pos];
        let before = Keys::Annot(a.id, a.image_id, a.category_id, a.track_id().cloned());
        Some(RecordMut {
            ds: self,
            pos,
            before,
            kind: Kind::Annotation,
            _t: std::marker::PhantomData,
        })
    }

    /// Mutable access to a category; the index follows changes when the guard drops.
    pub fn category_mut(&mut self, id: CategoryId) -> Option<RecordMut<'_, Category>> {
        let pos = self.index.cat_pos.get(id)?;
        let c = &self.categories[pos];
        let before = Keys::Named(c.id.0.to_string(), Some(c.name.clone()));
        Some(RecordMut {
            ds: self,
            pos,
            before,
            kind: Kind::Category,
            _t: std::marker::PhantomData,
        })
    }

    /// Mutable access to a keypoint category.
    pub fn keypoint_category_mut(
        &mut self,
        id: KeypointCategoryId,
    ) -> Option<RecordMut<'_, KeypointCategory>> {
        let pos = self.index.kpcat_pos.get(id)?;
        let c = &self.keypoint_categories[pos];
        let before = Keys::Named(c.id.0.to_string(), Some(c.name.clone()));
        Some(RecordMut {
            ds: self,
            pos,
            before,
            kind: Kind::KeypointCategory,
            _t: std::marker::PhantomData,
        })
    }

    /// Mutable access to a video.
    pub fn video_mut(&mut self, id: VideoId) -> Option<RecordMut<'_, Video>> {
        let pos = self.index.vid_pos.get(id)?;
        let v = &self.videos[pos];
        let before = Keys::Named(v.id.0.to_string(), v.name.clone());
        Some(RecordMut {
            ds: self,
            pos,
            before,
            kind: Kind::Video,
            _t: std::marker::PhantomData,
        })
    }

    /// Mutable access to a track.
    pub fn track_mut(&mut self, id: &TrackId) -> Option<RecordMut<'_, Track>> {
        let pos = *self.index.track_pos.get(id)?;
        let t = &self.tracks[pos];
        let before = Keys::Named(t.id.to_string(), t.name.clone());
        Some(RecordMut {
            ds: self,
            pos,
            before,
            kind: Kind::Track,
            _t: std::marker::PhantomData,
        })
    }

    /// Applies `f` to every annotation, then rebuilds the annotation index
    /// (bulk edits without a guard per record).
    pub fn modify_annotations(&mut self, mut f: impl FnMut(&mut Annotation)) {
        self.annotations.iter_mut().for_each(&mut f);
        self.index.rebuild_annotations(&self.annotations);
    }

    /// Applies `f` to every image, then rebuilds the image index.
    pub fn modify_images(&mut self, mut f: impl FnMut(&mut Image)) {
        self.images.iter_mut().for_each(&mut f);
        self.index.rebuild_images(&self.images);
    }
}

type ImageKeys = (
    ImageId,
    Option<String>,
    Option<String>,
    Option<VideoId>,
    Option<i64>,
);

fn image_keys(i: &Image) -> ImageKeys {
    (
        i.id,
        i.name.clone(),
        i.file_name.clone(),
        i.video_id,
        i.frame_index,
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Image,
    Annotation,
    Category,
    KeypointCategory,
    Video,
    Track,
}

#[derive(Debug)]
enum Keys {
    Image(ImageKeys),
    Annot(AnnotId, ImageId, Option<CategoryId>, Option<TrackId>),
    Named(String, Option<String>),
}

/// A mutable borrow of one record; see the [module docs](self).
pub struct RecordMut<'a, T> {
    ds: &'a mut CocoDataset,
    pos: usize,
    before: Keys,
    kind: Kind,
    _t: std::marker::PhantomData<fn() -> T>,
}

/// A record type a [`RecordMut`] can borrow: one of the dataset's tables.
///
/// Sealed: implemented for [`Image`], [`Annotation`], [`Category`],
/// [`KeypointCategory`], [`Video`] and [`Track`] only.
pub trait Located: sealed::Table {}

mod sealed {
    use crate::dataset::CocoDataset;

    /// Where a record of this type lives in the dataset's tables.
    pub trait Table: Sized {
        fn at(ds: &CocoDataset, pos: usize) -> &Self;
        fn at_mut(ds: &mut CocoDataset, pos: usize) -> &mut Self;
    }
}

macro_rules! located {
    ($t:ty, $field:ident) => {
        impl Located for $t {}
        impl sealed::Table for $t {
            fn at(ds: &CocoDataset, pos: usize) -> &Self {
                &ds.$field[pos]
            }
            fn at_mut(ds: &mut CocoDataset, pos: usize) -> &mut Self {
                &mut ds.$field[pos]
            }
        }
    };
}
located!(Image, images);
located!(Annotation, annotations);
located!(Category, categories);
located!(KeypointCategory, keypoint_categories);
located!(Video, videos);
located!(Track, tracks);

impl<T: Located> Deref for RecordMut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        <T as sealed::Table>::at(self.ds, self.pos)
    }
}

impl<T: Located> DerefMut for RecordMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        <T as sealed::Table>::at_mut(self.ds, self.pos)
    }
}

impl<T> Drop for RecordMut<'_, T> {
    fn drop(&mut self) {
        let ds = &mut *self.ds;
        let p = self.pos;
        match (self.kind, &self.before) {
            (Kind::Image, Keys::Image(k)) if image_keys(&ds.images[p]) != *k => {
                ds.index.rebuild_images(&ds.images);
            }
            (Kind::Annotation, Keys::Annot(id, img, cat, tr))
                if {
                    let a = &ds.annotations[p];
                    a.id != *id
                        || a.image_id != *img
                        || a.category_id != *cat
                        || a.track_id() != tr.as_ref()
                } =>
            {
                ds.index.rebuild_annotations(&ds.annotations);
            }
            (Kind::Category, Keys::Named(id, name))
                if {
                    let c = &ds.categories[p];
                    c.id.0.to_string() != *id || Some(&c.name) != name.as_ref()
                } =>
            {
                ds.index.rebuild_categories(&ds.categories);
            }
            (Kind::KeypointCategory, Keys::Named(id, name))
                if {
                    let c = &ds.keypoint_categories[p];
                    c.id.0.to_string() != *id || Some(&c.name) != name.as_ref()
                } =>
            {
                ds.index
                    .rebuild_keypoint_categories(&ds.keypoint_categories);
            }
            (Kind::Video, Keys::Named(id, name))
                if {
                    let v = &ds.videos[p];
                    v.id.0.to_string() != *id || v.name != *name
                } =>
            {
                ds.index.rebuild_videos(&ds.videos);
            }
            (Kind::Track, Keys::Named(id, name))
                if {
                    let t = &ds.tracks[p];
                    t.id.to_string() != *id || t.name != *name
                } =>
            {
                ds.index.rebuild_tracks(&ds.tracks);
            }
            _ => {}
        }
    }
}
