//! Lookup tables over a dataset's records: id → position, parent → children,
//! name → id. Every list is in table order, except the frames of a video which
//! are sorted by `frame_index` (ties by image id; frames without
//! `frame_index` last).
//!
//! Records with a duplicate id or name are kept in their tables, but the index
//! points at the first one (`validate` reports the duplicates).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::idpos::IdPos;
use rustc_hash::FxHashMap as FastMap;

use crate::ids::{AnnotId, CategoryId, ImageId, KeypointCategoryId, TrackId, VideoId};
use crate::record::{Annotation, Category, Image, KeypointCategory, Track, Video};

/// The index; see the [module docs](self).
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    pub img_pos: IdPos<ImageId>,
    pub ann_pos: IdPos<AnnotId>,
    pub cat_pos: IdPos<CategoryId>,
    pub kpcat_pos: IdPos<KeypointCategoryId>,
    pub vid_pos: IdPos<VideoId>,
    pub track_pos: FastMap<TrackId, usize>,
    pub annots_of_image: FastMap<ImageId, Vec<AnnotId>>,
    pub annots_of_category: FastMap<CategoryId, Vec<AnnotId>>,
    pub annots_of_track: FastMap<TrackId, Vec<AnnotId>>,
    pub images_of_video: FastMap<VideoId, Vec<ImageId>>,
    pub cat_by_name: FastMap<String, CategoryId>,
    pub kpcat_by_name: FastMap<String, KeypointCategoryId>,
    pub vid_by_name: FastMap<String, VideoId>,
    pub img_by_name: FastMap<String, ImageId>,
    pub img_by_file_name: FastMap<String, ImageId>,
    pub track_by_name: FastMap<String, TrackId>,
}

fn first<K: std::hash::Hash + Eq, V, S: std::hash::BuildHasher>(
    map: &mut HashMap<K, V, S>,
    k: K,
    v: V,
) {
    if let Entry::Vacant(e) = map.entry(k) {
        e.insert(v);
    }
}

/// Sort key of a frame in its video.
pub(crate) fn frame_key(img: &Image) -> (bool, i64, i64) {
    (
        img.frame_index.is_none(),
        img.frame_index.unwrap_or(0),
        img.id.0,
    )
}

impl Index {
    pub(crate) fn build(
        categories: &[Category],
        keypoint_categories: &[KeypointCategory],
        videos: &[Video],
        images: &[Image],
        tracks: &[Track],
        annotations: &[Annotation],
    ) -> Index {
        let mut ix = Index::default();
        ix.rebuild_categories(categories);
        ix.rebuild_keypoint_categories(keypoint_categories);
        ix.rebuild_videos(videos);
        ix.rebuild_images(images);
        ix.rebuild_tracks(tracks);
        ix.rebuild_annotations(annotations);
        ix
    }

    pub(crate) fn rebuild_categories(&mut self, cats: &[Category]) {
        self.cat_pos.reset(cats.iter().map(|c| c.id));
        self.cat_by_name.clear();
        for (i, c) in cats.iter().enumerate() {
            self.cat_pos.insert_first(c.id, i);
            first(&mut self.cat_by_name, c.name.clone(), c.id);
        }
    }

    pub(crate) fn rebuild_keypoint_categories(&mut self, cats: &[KeypointCategory]) {
        self.kpcat_pos.reset(cats.iter().map(|c| c.id));
        self.kpcat_by_name.clear();
        for (i, c) in cats.iter().enumerate() {
            self.kpcat_pos.insert_first(c.id, i);
            first(&mut self.kpcat_by_name, c.name.clone(), c.id);
        }
    }

    pub(crate) fn rebuild_videos(&mut self, videos: &[Video]) {
        self.vid_pos.reset(videos.iter().map(|v| v.id));
        self.vid_by_name.clear();
        for (i, v) in videos.iter().enumerate() {
            self.vid_pos.insert_first(v.id, i);
            if let Some(n) = &v.name {
                first(&mut self.vid_by_name, n.clone(), v.id);
            }
        }
    }

    pub(crate) fn rebuild_tracks(&mut self, tracks: &[Track]) {
        self.track_pos.clear();
        self.track_by_name.clear();
        for (i, t) in tracks.iter().enumerate() {
            first(&mut self.track_pos, t.id.clone(), i);
            if let Some(n) = &t.name {
                first(&mut self.track_by_name, n.clone(), t.id.clone());
            }
        }
    }

    pub(crate) fn rebuild_images(&mut self, images: &[Image]) {
        self.img_pos.reset(images.iter().map(|g| g.id));
        self.img_by_name.clear();
        self.img_by_file_name.clear();
        self.images_of_video.clear();
        for (i, img) in images.iter().enumerate() {
            if self.img_pos.insert_first(img.id, i)
                && let Some(v) = img.video_id
            {
                self.images_of_video.entry(v).or_default().push(img.id);
            }
            if let Some(n) = &img.name {
                first(&mut self.img_by_name, n.clone(), img.id);
            }
            if let Some(f) = &img.file_name {
                first(&mut self.img_by_file_name, f.clone(), img.id);
            }
        }
        let pos = &self.img_pos;
        for frames in self.images_of_video.values_mut() {
            frames.sort_by_key(|gid| pos.get(*gid).map(|p| frame_key(&images[p])));
        }
    }

    pub(crate) fn rebuild_annotations(&mut self, anns: &[Annotation]) {
        self.ann_pos.reset(anns.iter().map(|a| a.id));
        self.annots_of_image.clear();
        self.annots_of_category.clear();
        self.annots_of_track.clear();
        for (i, a) in anns.iter().enumerate() {
            if self.ann_pos.insert_first(a.id, i) {
                self.link_annotation(a);
            }
        }
    }

    /// Adds an annotation to the parent → children lists.
    pub(crate) fn link_annotation(&mut self, a: &Annotation) {
        self.annots_of_image
            .entry(a.image_id)
            .or_default()
            .push(a.id);
        if let Some(c) = a.category_id {
            self.annots_of_category.entry(c).or_default().push(a.id);
        }
        if let Some(t) = a.track_id() {
            match self.annots_of_track.get_mut(t) {
                Some(v) => v.push(a.id),
                None => {
                    self.annots_of_track.insert(t.clone(), vec![a.id]);
                }
            }
        }
    }

    /// Adds a new image (already pushed at `pos` of `images`).
    pub(crate) fn link_image(&mut self, images: &[Image], pos: usize) {
        let img = &images[pos];
        self.img_pos.insert_first(img.id, pos);
        if let Some(n) = &img.name {
            first(&mut self.img_by_name, n.clone(), img.id);
        }
        if let Some(f) = &img.file_name {
            first(&mut self.img_by_file_name, f.clone(), img.id);
        }
        if let Some(v) = img.video_id {
            let key = frame_key(img);
            let frames = self.images_of_video.entry(v).or_default();
            let at = frames.partition_point(|g| {
                self.img_pos
                    .get(*g)
                    .is_some_and(|p| frame_key(&images[p]) < key)
            });
            frames.insert(at, img.id);
        }
    }
}
