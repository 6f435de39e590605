//! [`CocoDataset::category_tree`]: the category hierarchy as a
//! [`category_tree::CategoryTree`]; [`CocoDataset::keypoint_category_tree`]
//! and the keypoint names of an annotation's points.

use category_tree::{CategoryTree, CocoCategory};
use serde_json::Value;

use crate::dataset::CocoDataset;
use crate::error::Result;
use crate::geometry::{Keypoints, KeypointsForm};
use crate::ids::{CategoryId, KeypointCategoryId};

impl CocoDataset {
    /// The category hierarchy: one node per category (with its id), edges
    /// from `supercategory` and from a kwcoco `parents` list of names. A
    /// parent without a record of its own becomes an implicit category.
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// let ds = CocoDataset::from_json_str(r#"{"categories": [
    ///   {"id": 1, "name": "animal"},
    ///   {"id": 2, "name": "cat", "supercategory": "animal"},
    ///   {"id": 3, "name": "kitten", "parents": ["cat"]}]}"#, ".").unwrap();
    /// let tree = ds.category_tree().unwrap();
    /// let kitten = tree.node_to_idx("kitten").unwrap();
    /// let cat = tree.parent(kitten).unwrap();
    /// assert_eq!(tree.idx_to_node(cat), Some("cat"));
    /// assert_eq!(tree.idx_to_id(cat), Some(2));
    /// ```
    pub fn category_tree(&self) -> Result<CategoryTree> {
        let cats = self.categories.iter().map(|c| CocoCategory {
            id: Some(c.id.0),
            name: c.name.clone(),
            supercategory: c.supercategory.clone(),
            parents: match c.extra.get("parents") {
                Some(Value::Array(ps)) => ps
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            },
        });
        Ok(CategoryTree::from_coco(cats)?)
    }
}

impl CocoDataset {
    /// The keypoint category hierarchy (the reference's `kp_classes`,
    /// kwcoco `keypoint_categories()`): the `keypoint_categories` table with
    /// its ids and `supercategory` edges; a dataset without that table gets a
    /// flat tree of the names in its categories' `keypoints` lists (categories
    /// in id order, first occurrence kept), as kwcoco's
    /// `_keypoint_category_names`.
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// let ds = CocoDataset::from_json_str(r#"{"categories": [
    ///   {"id": 1, "name": "person", "keypoints": ["nose", "left_eye"]}]}"#, ".").unwrap();
    /// let kp = ds.keypoint_category_tree().unwrap();
    /// assert_eq!(kp.node_to_idx("left_eye"), Some(1));
    /// ```
    pub fn keypoint_category_tree(&self) -> Result<CategoryTree> {
        if !self.keypoint_categories.is_empty() {
            let cats = self.keypoint_categories.iter().map(|k| CocoCategory {
                id: Some(k.id.0),
                name: k.name.clone(),
                supercategory: k.supercategory.clone(),
                parents: Vec::new(),
            });
            return Ok(CategoryTree::from_coco(cats)?);
        }
        let mut cats: Vec<&crate::record::Category> = self.categories.iter().collect();
        cats.sort_by_key(|c| c.id);
        let mut names: Vec<&str> = Vec::new();
        for c in cats {
            if let Some(Value::Array(kps)) = c.extra.get("keypoints") {
                for n in kps.iter().filter_map(Value::as_str) {
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
            }
        }
        Ok(CategoryTree::from_mutex(names)?)
    }

    /// The keypoint names of an MS-COCO category: its `keypoints` list, or
    /// the nearest `supercategory` ancestor's (kwcoco `_lookup_kpnames`).
    /// `None` when no ancestor has one (or the chain loops).
    pub fn category_keypoint_names(&self, id: CategoryId) -> Option<Vec<String>> {
        let mut cat = self.category(id)?;
        for _ in 0..=self.categories.len() {
            if let Some(Value::Array(kps)) = cat.extra.get("keypoints") {
                return Some(
                    kps.iter()
                        .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_owned))
                        .collect(),
                );
            }
            cat = self.category_by_name(cat.supercategory.as_deref()?)?;
        }
        None
    }

    /// The keypoint category name of each point of an annotation's keypoints,
    /// as kwimage's `Detections.from_coco_annots` assigns them: MS-COCO flat
    /// triples take the names of the annotation category's `keypoints` list
    /// by position; kwcoco dicts and columns name theirs by
    /// `keypoint_category_id` (looked up in `keypoint_categories`) or by name
    /// (`keypoint_category`, `category_name`, `category`,
    /// `keypoint_category_name`). `None` where a point has no known name.
    pub fn keypoint_names(
        &self,
        category: Option<CategoryId>,
        kps: &Keypoints,
    ) -> Vec<Option<String>> {
        let by_id = |id: i64| {
            self.keypoint_category(KeypointCategoryId(id))
                .map(|k| k.name.clone())
        };
        match kps.form {
            KeypointsForm::CocoFlat => {
                let names = category
                    .and_then(|c| self.category_keypoint_names(c))
                    .unwrap_or_default();
                (0..kps.len()).map(|i| names.get(i).cloned()).collect()
            }
            KeypointsForm::Dicts => kps
                .points
                .iter()
                .map(|p| {
                    p.category_id.and_then(by_id).or_else(|| {
                        ["keypoint_category", "category_name", "category"]
                            .iter()
                            .find_map(|k| p.extra.get(*k).and_then(Value::as_str))
                            .map(str::to_owned)
                    })
                })
                .collect(),
            KeypointsForm::Columns | KeypointsForm::ColumnsXy => {
                let names = kps
                    .columns_extra
                    .get("keypoint_category_name")
                    .and_then(Value::as_array);
                kps.points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        p.category_id.and_then(by_id).or_else(|| {
                            names
                                .and_then(|n| n.get(i))
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                        })
                    })
                    .collect()
            }
            KeypointsForm::XyList => vec![None; kps.len()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AnnotId;

    /// Every keypoint form, with the names kwimage 0.12 gives
    /// (`Detections.from_coco_annots(anns, dset=dset)`, `kp_classes[class_idxs]`).
    const KP: &str = r#"{"categories": [{"id": 1, "name": "person", "keypoints": ["nose", "left_eye", "right_eye"]},
        {"id": 2, "name": "child", "supercategory": "person"}, {"id": 3, "name": "thing"}],
     "keypoint_categories": [{"id": 10, "name": "nose"}, {"id": 11, "name": "left_eye", "supercategory": "nose"},
        {"id": 12, "name": "right_eye"}, {"id": 13, "name": "tail"}],
     "images": [{"id": 1, "file_name": "a.png", "width": 50, "height": 40}],
     "annotations": [
       {"id": 1, "image_id": 1, "category_id": 1, "keypoints": [1, 2, 2, 3, 4, 2, 5, 6, 1]},
       {"id": 2, "image_id": 1, "category_id": 2, "keypoints": [1, 2, 2, 3, 4, 2, 7, 7, 0]},
       {"id": 3, "image_id": 1, "category_id": 3, "keypoints": [{"xy": [1, 2], "keypoint_category_id": 13},
          {"xy": [3, 4], "keypoint_category_id": 12, "visible": 1}]},
       {"id": 4, "image_id": 1, "category_id": 3, "keypoints": {"x": [1, 2.5], "y": [3, 4], "keypoint_category_id": [11, 10]}},
       {"id": 5, "image_id": 1, "category_id": 3, "keypoints": [{"xy": [1, 2], "keypoint_category": "tail"}, {"xy": [1, 2]}]},
       {"id": 6, "image_id": 1, "category_id": 3, "keypoints": [1, 2, 2]}]}"#;

    fn names(ds: &CocoDataset, aid: i64) -> Vec<Option<String>> {
        let ann = ds.annotation(AnnotId(aid)).unwrap();
        let kps = ann.parse_keypoints().unwrap().unwrap();
        ds.keypoint_names(ann.category_id, &kps)
    }

    fn some(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn keypoint_names_follow_kwimage() {
        let ds = CocoDataset::from_json_str(KP, ".").unwrap();
        assert_eq!(names(&ds, 1), some(&["nose", "left_eye", "right_eye"]));
        // from the supercategory's list
        assert_eq!(names(&ds, 2), some(&["nose", "left_eye", "right_eye"]));
        assert_eq!(names(&ds, 3), some(&["tail", "right_eye"]));
        assert_eq!(names(&ds, 4), some(&["left_eye", "nose"]));
        assert_eq!(names(&ds, 5), vec![Some("tail".to_string()), None]);
        // a category without keypoint names (nor an ancestor with them)
        assert_eq!(names(&ds, 6), vec![None]);
    }

    #[test]
    fn keypoint_category_tree_is_the_table_or_the_category_lists() {
        let ds = CocoDataset::from_json_str(KP, ".").unwrap();
        let t = ds.keypoint_category_tree().unwrap();
        assert_eq!(t.len(), 4);
        let eye = t.node_to_idx("left_eye").unwrap();
        assert_eq!(t.idx_to_id(eye), Some(11));
        assert_eq!(t.parent(eye).and_then(|p| t.idx_to_node(p)), Some("nose"));
        // without the table: the names of the categories' lists, by category id
        let ds = CocoDataset::from_json_str(
            r#"{"categories": [{"id": 2, "name": "b", "keypoints": ["x", "y"]},
                               {"id": 1, "name": "a", "keypoints": ["y", "z"]}]}"#,
            ".",
        )
        .unwrap();
        let t = ds.keypoint_category_tree().unwrap();
        let order: Vec<_> = (0..t.len())
            .map(|i| t.idx_to_node(i).unwrap().to_string())
            .collect();
        assert_eq!(order, ["y", "z", "x"]);
    }

    #[test]
    fn a_supercategory_loop_ends() {
        let ds = CocoDataset::from_json_str(
            r#"{"categories": [{"id": 1, "name": "a", "supercategory": "b"},
                               {"id": 2, "name": "b", "supercategory": "a"}]}"#,
            ".",
        )
        .unwrap();
        assert_eq!(ds.category_keypoint_names(CategoryId(1)), None);
    }
}
