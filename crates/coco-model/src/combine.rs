//! Building datasets from others: [`CocoDataset::union`] and [`CocoDataset::subset`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::dataset::CocoDataset;
use crate::error::Result;
use crate::ids::{AnnotId, CategoryId, ImageId, KeypointCategoryId, TrackId, VideoId};
use crate::mutate::Tbl;
use crate::paths::reroot_name;

impl CocoDataset {
    /// Merges datasets into a new one rooted at `bundle_dir` (default: the
    /// first dataset's bundle directory).
    ///
    /// * categories and keypoint categories are merged **by name** (the first
    ///   record of a name wins, later ones only contribute their annotations);
    /// * videos, images, tracks and annotations are kept apart (records of
    ///   different inputs never merge);
    /// * an image, video or track `name` already taken is renamed as kwcoco
    ///   0.9.1's `UniqueNameRemapper` does: `name_v001`, `name_v002`, … (a name
    ///   already ending in `_vNNN` counts on from that number);
    /// * a record keeps its id when it is still free, else gets a fresh one,
    ///   and every reference (`image_id`, `category_id`, `video_id`,
    ///   `track_id`, `reflection_id`) follows;
    /// * file names are re-rooted to the new bundle directory;
    /// * `info` lists and `licenses` are concatenated; top-level extra keys:
    ///   the first wins.
    ///
    /// Fails with [`crate::Error::Duplicate`] when two images end up with the
    /// same `file_name` (kwcoco would keep both and lose one in its index).
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// let a = CocoDataset::from_json_str(r#"{"categories": [{"id": 1, "name": "cat"}],
    ///   "images": [{"id": 1, "file_name": "a.png"}],
    ///   "annotations": [{"id": 1, "image_id": 1, "category_id": 1}]}"#, "/d/a").unwrap();
    /// let b = CocoDataset::from_json_str(r#"{"categories": [{"id": 1, "name": "dog"}, {"id": 2, "name": "cat"}],
    ///   "images": [{"id": 1, "file_name": "b.png"}],
    ///   "annotations": [{"id": 1, "image_id": 1, "category_id": 2}]}"#, "/d/b").unwrap();
    /// let u = CocoDataset::union(&[&a, &b], Some("/d".as_ref())).unwrap();
    /// assert_eq!(u.categories().len(), 2);
    /// assert_eq!(u.images().len(), 2);
    /// let cat = u.category_by_name("cat").unwrap().id;
    /// assert_eq!(u.annots_of_category(cat).len(), 2);
    /// assert_eq!(u.images()[1].file_name.as_deref(), Some("b/b.png"));
    /// ```
    pub fn union(datasets: &[&CocoDataset], bundle_dir: Option<&Path>) -> Result<CocoDataset> {
        let mut out = CocoDataset::new();
        out.bundle_dir = match (bundle_dir, datasets.first()) {
            (Some(d), _) => d.to_path_buf(),
            (None, Some(first)) => first.bundle_dir.clone(),
            (None, None) => PathBuf::from("."),
        };
        let mut info: Vec<Value> = Vec::new();
        let mut info_obj: Option<Value> = None;
        for ds in datasets {
            match &ds.info {
                Value::Array(items) => info.extend(items.iter().cloned()),
                Value::Null => {}
                other => {
                    if info_obj.is_none() {
                        info_obj = Some(other.clone());
                    }
                }
            }
            out.licenses.extend(ds.licenses.iter().cloned());
            for (k, v) in &ds.extra {
                out.extra.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        out.info = info_obj.unwrap_or(Value::Array(info));

        let mut names = UnionNames::default();
        for ds in datasets {
            merge_one(&mut out, ds, &mut names)?;
        }
        Ok(out)
    }

    /// A new dataset with only these images (in this dataset's table order;
    /// unknown ids are ignored), their annotations, the videos and tracks they
    /// use, and every category and keypoint category. Ids, file names and the
    /// bundle directory are unchanged.
    ///
    /// ```
    /// use coco_model::{CocoDataset, ImageId};
    /// let ds = CocoDataset::from_json_str(r#"{"images": [{"id": 1}, {"id": 2}],
    ///   "annotations": [{"id": 1, "image_id": 1}, {"id": 2, "image_id": 2}]}"#, ".").unwrap();
    /// let sub = ds.subset(&[ImageId(2)]);
    /// assert_eq!(sub.images().len(), 1);
    /// assert_eq!(sub.annotations()[0].image_id, ImageId(2));
    /// ```
    pub fn subset(&self, image_ids: &[ImageId]) -> CocoDataset {
        let keep: HashSet<ImageId> = image_ids.iter().copied().collect();
        let images: Vec<_> = self
            .images
            .iter()
            .filter(|g| keep.contains(&g.id))
            .cloned()
            .collect();
        let annotations: Vec<_> = self
            .annotations
            .iter()
            .filter(|a| keep.contains(&a.image_id))
            .cloned()
            .collect();
        let vids: HashSet<VideoId> = images.iter().filter_map(|g| g.video_id).collect();
        let tids: HashSet<&TrackId> = annotations.iter().filter_map(|a| a.track_id()).collect();
        let mut out = CocoDataset {
            info: self.info.clone(),
            licenses: self.licenses.clone(),
            categories: self.categories.clone(),
            keypoint_categories: self.keypoint_categories.clone(),
            videos: self
                .videos
                .iter()
                .filter(|v| vids.contains(&v.id))
                .cloned()
                .collect(),
            images,
            tracks: self
                .tracks
                .iter()
                .filter(|t| tids.contains(&t.id))
                .cloned()
                .collect(),
            annotations,
            extra: self.extra.clone(),
            table_order: self.table_order.clone(),
            bundle_dir: self.bundle_dir.clone(),
            fpath: None,
            index: Default::default(),
            next_ids: Default::default(),
        };
        out.reindex();
        out
    }
}

/// Picks `id` when free in `taken`, else a fresh one from the table's counter.
fn pick(out: &mut CocoDataset, t: Tbl, id: i64, taken: bool) -> i64 {
    if taken { out.next_id(t) } else { id }
}

fn merge_one(out: &mut CocoDataset, ds: &CocoDataset, names: &mut UnionNames) -> Result<()> {
    // categories by name
    let mut cat_map: HashMap<CategoryId, CategoryId> = HashMap::new();
    for c in &ds.categories {
        let new_id = match out.category_by_name(&c.name) {
            Some(existing) => existing.id,
            None => {
                let mut rec = c.clone();
                let taken = out.category(c.id).is_some();
                rec.id = CategoryId(pick(out, Tbl::Categories, c.id.0, taken));
                out.insert_category(rec)?
            }
        };
        cat_map.entry(c.id).or_insert(new_id);
    }
    // keypoint categories by name (reflection ids remapped afterwards)
    let mut kp_map: HashMap<KeypointCategoryId, KeypointCategoryId> = HashMap::new();
    let mut added_kp = Vec::new();
    for k in &ds.keypoint_categories {
        let new_id = match out.keypoint_category_by_name(&k.name) {
            Some(existing) => existing.id,
            None => {
                let mut rec = k.clone();
                let taken = out.keypoint_category(k.id).is_some();
                rec.id = KeypointCategoryId(pick(out, Tbl::KeypointCategories, k.id.0, taken));
                let id = out.insert_keypoint_category(rec)?;
                added_kp.push(id);
                id
            }
        };
        kp_map.entry(k.id).or_insert(new_id);
    }
    for id in added_kp {
        if let Some(mut k) = out.keypoint_category_mut(id) {
            k.reflection_id = k
                .reflection_id
                .map(|r| kp_map.get(&r).copied().unwrap_or(r));
        }
    }
    // videos: always new, names made unique
    let mut vid_map: HashMap<VideoId, VideoId> = HashMap::new();
    for v in &ds.videos {
        let mut rec = v.clone();
        let taken = out.video(v.id).is_some();
        rec.id = VideoId(pick(out, Tbl::Videos, v.id.0, taken));
        rec.name = v.name.as_deref().map(|n| names.videos.remap(n));
        let new_id = out.insert_video(rec)?;
        vid_map.entry(v.id).or_insert(new_id);
    }
    // images: always new, files re-rooted
    let new_root = out.bundle_dir.clone();
    let mut img_map: HashMap<ImageId, ImageId> = HashMap::new();
    for g in &ds.images {
        let mut rec = g.clone();
        let taken = out.image(g.id).is_some();
        rec.id = ImageId(pick(out, Tbl::Images, g.id.0, taken));
        rec.video_id = g.video_id.map(|v| vid_map.get(&v).copied().unwrap_or(v));
        rec.name = g.name.as_deref().map(|n| names.images.remap(n));
        if let Some(f) = &mut rec.file_name {
            *f = reroot_name(f, &ds.bundle_dir, &new_root, false);
        }
        for a in rec.assets.iter_mut().flatten() {
            if let Some(f) = &mut a.file_name {
                *f = reroot_name(f, &ds.bundle_dir, &new_root, false);
            }
        }
        let id = if rec.video_id.is_some_and(|v| out.video(v).is_none()) {
            // a reference the input left dangling stays dangling (validate reports it)
            let id = rec.id;
            out.images.push(rec);
            out.index.link_image(&out.images, out.images.len() - 1);
            out.bump_counter(Tbl::Images, id.0);
            id
        } else {
            out.insert_image(rec)?
        };
        img_map.insert(g.id, id);
    }
    // tracks: kept apart
    let mut track_map: HashMap<TrackId, TrackId> = HashMap::new();
    for t in &ds.tracks {
        let mut rec = t.clone();
        if out.track(&t.id).is_some() {
            rec.id = TrackId::Int(out.next_id(Tbl::Tracks));
        }
        rec.name = t.name.as_deref().map(|n| names.tracks.remap(n));
        let id = out.insert_track(rec)?;
        track_map.insert(t.id.clone(), id);
    }
    // annotation track ids that have no track record are still kept apart
    let mut loose_tracks: HashMap<TrackId, TrackId> = HashMap::new();
    for a in &ds.annotations {
        let mut rec = a.clone();
        let taken = out.annotation(a.id).is_some();
        rec.id = AnnotId(pick(out, Tbl::Annotations, a.id.0, taken));
        rec.image_id = img_map.get(&a.image_id).copied().unwrap_or(a.image_id);
        rec.category_id = a.category_id.map(|c| cat_map.get(&c).copied().unwrap_or(c));
        rec.set_track_id(a.track_id().map(|t| {
            match track_map.get(t) {
                Some(n) => n.clone(),
                None => loose_tracks
                    .entry(t.clone())
                    .or_insert_with(|| {
                        if out.annots_of_track(t).is_empty() && out.track(t).is_none() {
                            t.clone()
                        } else {
                            TrackId::Int(out.next_id(Tbl::Tracks))
                        }
                    })
                    .clone(),
            }
        }));
        // references the input itself left dangling are kept as they are
        out.index
            .ann_pos
            .insert_first(rec.id, out.annotations.len());
        out.index.link_annotation(&rec);
        let id = rec.id.0;
        out.annotations.push(rec);
        out.bump_counter(Tbl::Annotations, id);
    }
    Ok(())
}

/// The names a union has given out, per table.
#[derive(Default)]
struct UnionNames {
    images: UniqueNames,
    videos: UniqueNames,
    tracks: UniqueNames,
}

/// kwcoco's `UniqueNameRemapper`: a name seen before becomes
/// `prefix_vNNN`, counting on from the name's own `_vNNN` suffix if it has
/// one.
#[derive(Default)]
struct UniqueNames {
    seen: HashSet<String>,
}

impl UniqueNames {
    fn remap(&mut self, name: &str) -> String {
        // kwcoco's `re.match(r'(.*)_v(\d+)', name)`: anchored at the start
        // only; the greedy prefix ends at the last `_v` followed by a digit,
        // and the number is the run of digits after it
        let split = name.rmatch_indices("_v").map(|(i, _)| i).find(|&i| {
            name.as_bytes()
                .get(i + 2)
                .is_some_and(|b| b.is_ascii_digit())
        });
        let (prefix, mut num) = match split {
            Some(i) => {
                let digits: String = name[i + 2..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                (&name[..i], digits.parse::<u64>().unwrap_or(u64::MAX / 2))
            }
            None => (name, 0),
        };
        let mut out = name.to_string();
        while self.seen.contains(&out) {
            num += 1;
            out = format!("{prefix}_v{num:03}");
        }
        self.seen.insert(out.clone());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kwcoco 0.9.1 `UniqueNameRemapper` doctest and pattern corners.
    #[test]
    fn unique_names_follow_kwcoco() {
        let mut u = UniqueNames::default();
        assert_eq!(u.remap("foo"), "foo");
        assert_eq!(u.remap("foo"), "foo_v001");
        assert_eq!(u.remap("foo"), "foo_v002");
        assert_eq!(u.remap("foo_v001"), "foo_v003");
        // kwcoco: re.match('(.*)_v(\\d+)', 'a_v2x_v1b') -> prefix 'a_v2x', 1
        assert_eq!(u.remap("a_v2x_v1b"), "a_v2x_v1b");
        assert_eq!(u.remap("a_v2x_v1b"), "a_v2x_v002");
        assert_eq!(u.remap("bar_v"), "bar_v");
        assert_eq!(u.remap("bar_v"), "bar_v_v001");
    }
}
