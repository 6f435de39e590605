//! Removing records (with cascades) and renaming / merging categories.
//!
//! Cascades follow kwcoco: removing an image removes its annotations;
//! removing a video removes its frames (and their annotations); removing a
//! category or a track removes its annotations, or, with
//! [`KeepAnnots::Yes`], keeps them with the reference cleared. Ids of removed
//! records are not reused by later `add_*` calls. Unknown ids are ignored.

use std::collections::HashSet;

use crate::dataset::CocoDataset;
use crate::error::{Error, Result};
use crate::ids::{AnnotId, CategoryId, ImageId, KeypointCategoryId, TrackId, VideoId};

/// What to do with the annotations of a removed category or track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAnnots {
    /// Remove them too (kwcoco's default).
    No,
    /// Keep them, with `category_id` / `track_id` cleared.
    Yes,
}

/// How many records a removal took out, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    /// Videos removed.
    pub videos: usize,
    /// Images removed.
    pub images: usize,
    /// Annotations removed.
    pub annotations: usize,
    /// Categories removed.
    pub categories: usize,
    /// Keypoint categories removed.
    pub keypoint_categories: usize,
    /// Tracks removed.
    pub tracks: usize,
}

impl CocoDataset {
    /// Makes sure every counter is initialised before records disappear, so
    /// that removed ids are not reused.
    fn freeze_counters(&mut self) {
        use crate::mutate::Tbl;
        for t in [
            Tbl::Categories,
            Tbl::KeypointCategories,
            Tbl::Videos,
            Tbl::Images,
            Tbl::Tracks,
            Tbl::Annotations,
        ] {
            self.prime_counter(t);
        }
    }

    /// Removes annotations.
    ///
    /// ```
    /// use coco_model::{AnnotId, CocoDataset, ImageId};
    /// let mut ds = CocoDataset::from_json_str(
    ///     r#"{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1}, {"id": 2, "image_id": 1}]}"#, ".").unwrap();
    /// assert_eq!(ds.remove_annotations(&[AnnotId(1), AnnotId(9)]).annotations, 1);
    /// assert_eq!(ds.annots_of_image(ImageId(1)), &[AnnotId(2)]);
    /// ```
    pub fn remove_annotations(&mut self, ids: &[AnnotId]) -> Removed {
        self.freeze_counters();
        let set: HashSet<AnnotId> = ids.iter().copied().collect();
        let before = self.annotations.len();
        self.annotations.retain(|a| !set.contains(&a.id));
        let n = before - self.annotations.len();
        if n > 0 {
            self.index.rebuild_annotations(&self.annotations);
        }
        Removed {
            annotations: n,
            ..Default::default()
        }
    }

    /// Removes images and their annotations.
    pub fn remove_images(&mut self, ids: &[ImageId]) -> Removed {
        self.freeze_counters();
        let set: HashSet<ImageId> = ids.iter().copied().collect();
        let before_img = self.images.len();
        self.images.retain(|g| !set.contains(&g.id));
        let before_ann = self.annotations.len();
        self.annotations.retain(|a| !set.contains(&a.image_id));
        let out = Removed {
            images: before_img - self.images.len(),
            annotations: before_ann - self.annotations.len(),
            ..Default::default()
        };
        if out.images > 0 {
            self.index.rebuild_images(&self.images);
        }
        if out.annotations > 0 {
            self.index.rebuild_annotations(&self.annotations);
        }
        out
    }

    /// Removes videos, their frames and the frames' annotations.
    pub fn remove_videos(&mut self, ids: &[VideoId]) -> Removed {
        self.freeze_counters();
        let set: HashSet<VideoId> = ids.iter().copied().collect();
        let frames: Vec<ImageId> = self
            .images
            .iter()
            .filter(|g| g.video_id.is_some_and(|v| set.contains(&v)))
            .map(|g| g.id)
            .collect();
        let mut out = self.remove_images(&frames);
        let before = self.videos.len();
        self.videos.retain(|v| !set.contains(&v.id));
        out.videos = before - self.videos.len();
        if out.videos > 0 {
            self.index.rebuild_videos(&self.videos);
        }
        out
    }

    /// Removes categories; their annotations are removed or kept (with
    /// `category_id` cleared). Categories naming a removed one as
    /// `supercategory` lose that parent.
    pub fn remove_categories(&mut self, ids: &[CategoryId], keep: KeepAnnots) -> Removed {
        self.freeze_counters();
        let set: HashSet<CategoryId> = ids.iter().copied().collect();
        let names: HashSet<String> = self
            .categories
            .iter()
            .filter(|c| set.contains(&c.id))
            .map(|c| c.name.clone())
            .collect();
        let before = self.categories.len();
        self.categories.retain(|c| !set.contains(&c.id));
        let mut out = Removed {
            categories: before - self.categories.len(),
            ..Default::default()
        };
        for c in &mut self.categories {
            if c.supercategory.as_ref().is_some_and(|s| names.contains(s)) {
                c.supercategory = None;
            }
        }
        let before = self.annotations.len();
        match keep {
            KeepAnnots::No => self
                .annotations
                .retain(|a| !a.category_id.is_some_and(|c| set.contains(&c))),
            KeepAnnots::Yes => {
                for a in &mut self.annotations {
                    if a.category_id.is_some_and(|c| set.contains(&c)) {
                        a.category_id = None;
                    }
                }
            }
        }
        out.annotations = before - self.annotations.len();
        self.index.rebuild_categories(&self.categories);
        self.index.rebuild_annotations(&self.annotations);
        out
    }

    /// Removes keypoint categories (`reflection_id`s pointing at them are cleared).
    pub fn remove_keypoint_categories(&mut self, ids: &[KeypointCategoryId]) -> Removed {
        self.freeze_counters();
        let set: HashSet<KeypointCategoryId> = ids.iter().copied().collect();
        let before = self.keypoint_categories.len();
        self.keypoint_categories.retain(|c| !set.contains(&c.id));
        for c in &mut self.keypoint_categories {
            if c.reflection_id.is_some_and(|r| set.contains(&r)) {
                c.reflection_id = None;
            }
        }
        self.index
            .rebuild_keypoint_categories(&self.keypoint_categories);
        Removed {
            keypoint_categories: before - self.keypoint_categories.len(),
            ..Default::default()
        }
    }

    /// Removes tracks; their annotations are removed or kept (with `track_id` cleared).
    pub fn remove_tracks(&mut self, ids: &[TrackId], keep: KeepAnnots) -> Removed {
        self.freeze_counters();
        let set: HashSet<&TrackId> = ids.iter().collect();
        let before = self.tracks.len();
        self.tracks.retain(|t| !set.contains(&t.id));
        let mut out = Removed {
            tracks: before - self.tracks.len(),
            ..Default::default()
        };
        let before = self.annotations.len();
        match keep {
            KeepAnnots::No => self
                .annotations
                .retain(|a| !a.track_id().is_some_and(|t| set.contains(t))),
            KeepAnnots::Yes => {
                for a in &mut self.annotations {
                    if a.track_id().is_some_and(|t| set.contains(t)) {
                        a.set_track_id(None);
                    }
                }
            }
        }
        out.annotations = before - self.annotations.len();
        self.index.rebuild_tracks(&self.tracks);
        self.index.rebuild_annotations(&self.annotations);
        out
    }

    /// Renames categories (`(old name, new name)` pairs, applied in order).
    /// When the new name is already taken by another category, the two are
    /// merged: annotations move to the existing category and the old one is
    /// removed (kwcoco's `rename_categories` with merging). `supercategory`
    /// references follow the new name.
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// let mut ds = CocoDataset::from_json_str(r#"{
    ///   "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "kitty"}, {"id": 3, "name": "dog"}],
    ///   "images": [{"id": 1}],
    ///   "annotations": [{"id": 1, "image_id": 1, "category_id": 2}]}"#, ".").unwrap();
    /// ds.rename_categories(&[("kitty", "cat"), ("dog", "hound")]).unwrap();
    /// let cat = ds.category_by_name("cat").unwrap().id;
    /// assert_eq!(ds.annots_of_category(cat).len(), 1);
    /// assert!(ds.category_by_name("kitty").is_none());
    /// assert!(ds.category_by_name("hound").is_some());
    /// ```
    pub fn rename_categories(&mut self, mapping: &[(&str, &str)]) -> Result<()> {
        for (old, new) in mapping {
            if old == new {
                continue;
            }
            let Some(src) = self.category_by_name(old).map(|c| c.id) else {
                return Err(Error::NotFound {
                    table: "categories",
                    what: format!("name {old:?}"),
                });
            };
            match self.category_by_name(new).map(|c| c.id) {
                Some(dst) => self.merge_categories(&[src], dst)?,
                None => {
                    if let Some(mut c) = self.category_mut(src) {
                        c.name = (*new).to_owned();
                    }
                    for c in &mut self.categories {
                        if c.supercategory.as_deref() == Some(*old) {
                            c.supercategory = Some((*new).to_owned());
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Merges categories into `target`: their annotations get `target`'s id,
    /// children naming them as `supercategory` now name `target`, and the
    /// sources are removed.
    pub fn merge_categories(&mut self, sources: &[CategoryId], target: CategoryId) -> Result<()> {
        let Some(target_name) = self.category(target).map(|c| c.name.clone()) else {
            return Err(Error::NotFound {
                table: "categories",
                what: format!("id {target}"),
            });
        };
        let srcs: HashSet<CategoryId> = sources.iter().copied().filter(|c| *c != target).collect();
        let names: HashSet<String> = self
            .categories
            .iter()
            .filter(|c| srcs.contains(&c.id))
            .map(|c| c.name.clone())
            .collect();
        for a in &mut self.annotations {
            if a.category_id.is_some_and(|c| srcs.contains(&c)) {
                a.category_id = Some(target);
            }
        }
        for c in &mut self.categories {
            if c.supercategory.as_ref().is_some_and(|s| names.contains(s)) && c.id != target {
                c.supercategory = Some(target_name.clone());
            }
        }
        let ids: Vec<CategoryId> = srcs.into_iter().collect();
        self.remove_categories(&ids, KeepAnnots::Yes);
        Ok(())
    }
}
