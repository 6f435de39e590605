//! [`CocoDataset::category_tree`]: the category hierarchy as a
//! [`category_tree::CategoryTree`].

use category_tree::{CategoryTree, CocoCategory};
use serde_json::Value;

use crate::dataset::CocoDataset;
use crate::error::Result;

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
