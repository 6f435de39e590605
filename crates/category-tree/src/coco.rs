//! Conversion from and to COCO `categories` records.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::builder::TreeBuilder;
use crate::error::{Error, Result};
use crate::tree::CategoryTree;

/// The fields of a COCO category record that shape the tree.
///
/// `supercategory` and every entry of `parents` become superclass edges;
/// a parent that has no record of its own becomes an implicit category.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CocoCategory {
    /// Integer id; assigned as `max_id + 1` in node order when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Unique name.
    pub name: String,
    /// Name of the direct superclass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supercategory: Option<String>,
    /// Names of direct superclasses (kwcoco extension; at most one distinct
    /// parent in total is allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
}

impl CocoCategory {
    /// A record with just a name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    fn to_attrs(&self) -> Map<String, Value> {
        let mut attrs = Map::new();
        if let Some(id) = self.id {
            attrs.insert("id".into(), Value::from(id));
        }
        attrs.insert("name".into(), Value::from(self.name.clone()));
        if let Some(s) = &self.supercategory {
            attrs.insert("supercategory".into(), Value::from(s.clone()));
        }
        if !self.parents.is_empty() {
            attrs.insert("parents".into(), Value::from(self.parents.clone()));
        }
        attrs
    }
}

fn add_record(b: &mut TreeBuilder, cat: &CocoCategory, attrs: Map<String, Value>) -> Result<()> {
    b.add_category(&cat.name, cat.id, attrs)?;
    if let Some(sup) = &cat.supercategory {
        b.add_edge(sup, &cat.name);
    }
    for p in &cat.parents {
        b.add_edge(p, &cat.name);
    }
    Ok(())
}

impl CategoryTree {
    /// Tree from COCO category records, in record order; implicit parents are
    /// inserted right after the first record that names them. The node
    /// attributes are the record's fields.
    ///
    /// ```
    /// use category_tree::{CategoryTree, CocoCategory};
    /// let cats = vec![
    ///     CocoCategory { id: Some(0), name: "background".into(), ..Default::default() },
    ///     CocoCategory { id: Some(3), name: "star".into(), supercategory: Some("vector".into()), ..Default::default() },
    ///     CocoCategory { id: Some(6), name: "superstar".into(), supercategory: Some("raster".into()), ..Default::default() },
    ///     CocoCategory { id: Some(7), name: "eff".into(), supercategory: Some("raster".into()), ..Default::default() },
    /// ];
    /// let tree = CategoryTree::from_coco(cats)?;
    /// assert_eq!(tree.names(), ["background", "star", "vector", "superstar", "raster", "eff"]);
    /// assert_eq!(tree.ids(), [0, 3, 8, 6, 9, 7]);
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn from_coco(cats: impl IntoIterator<Item = CocoCategory>) -> Result<Self> {
        let mut b = TreeBuilder::new();
        for cat in cats {
            let attrs = cat.to_attrs();
            add_record(&mut b, &cat, attrs)?;
        }
        b.build()
    }

    /// Tree from raw JSON category objects (the `categories` list of a COCO
    /// file). Every field is kept as a node attribute. `name` must be a string,
    /// `id` an integer (or null), `supercategory` a string (or null) and
    /// `parents` a list of strings.
    ///
    /// ```
    /// use serde_json::json;
    /// let cats = [json!({"id": 1, "name": "cat", "supercategory": "animal", "color": "red"})];
    /// let tree = category_tree::CategoryTree::from_coco_json(&cats)?;
    /// assert_eq!(tree.names(), ["cat", "animal"]);
    /// assert_eq!(tree.to_coco()[0]["color"], "red");
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn from_coco_json(cats: &[Value]) -> Result<Self> {
        let mut b = TreeBuilder::new();
        for (index, value) in cats.iter().enumerate() {
            let obj = value.as_object().ok_or_else(|| Error::InvalidRecord {
                index,
                field: "category",
                reason: format!("expected a JSON object, got {value}"),
            })?;
            let cat = parse_record(index, obj)?;
            add_record(&mut b, &cat, obj.clone())?;
        }
        b.build()
    }

    /// COCO category records in index order: `id`, `name`, the stored
    /// attributes, and `supercategory` (and `parents`, if the record had that
    /// field) rewritten from the tree's edges.
    pub fn to_coco(&self) -> Vec<Value> {
        self.categories()
            .enumerate()
            .map(|(idx, cat)| {
                let mut obj = Map::new();
                obj.insert("id".into(), Value::from(cat.id));
                obj.insert("name".into(), Value::from(cat.name.clone()));
                for (k, v) in &cat.attrs {
                    obj.insert(k.clone(), v.clone());
                }
                obj.insert("id".into(), Value::from(cat.id));
                obj.insert("name".into(), Value::from(cat.name.clone()));
                let parent = self.parent(idx).and_then(|p| self.idx_to_node(p));
                match parent {
                    Some(p) => {
                        obj.insert("supercategory".into(), Value::from(p));
                    }
                    None => {
                        obj.shift_remove("supercategory");
                    }
                }
                if obj.contains_key("parents") {
                    let list: Vec<&str> = parent.into_iter().collect();
                    obj.insert("parents".into(), Value::from(list));
                }
                Value::Object(obj)
            })
            .collect()
    }

    /// The typed form of [`to_coco`](Self::to_coco) (ids always present).
    pub fn to_coco_categories(&self) -> Vec<CocoCategory> {
        self.categories()
            .enumerate()
            .map(|(idx, cat)| {
                let sup = self
                    .parent(idx)
                    .and_then(|p| self.idx_to_node(p))
                    .map(str::to_string);
                CocoCategory {
                    id: Some(cat.id),
                    name: cat.name.clone(),
                    supercategory: sup,
                    parents: Vec::new(),
                }
            })
            .collect()
    }
}

fn parse_record(index: usize, obj: &Map<String, Value>) -> Result<CocoCategory> {
    let bad = |field: &'static str, reason: String| Error::InvalidRecord {
        index,
        field,
        reason,
    };
    let name = match obj.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => return Err(bad("name", format!("expected a string, got {v}"))),
        None => return Err(bad("name", "missing".to_string())),
    };
    let id = match obj.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| {
            bad(
                "id",
                format!("expected an integer, got {n} (category {name:?})"),
            )
        })?),
        Some(v) => {
            return Err(bad(
                "id",
                format!("expected an integer, got {v} (category {name:?})"),
            ));
        }
    };
    let supercategory = match obj.get("supercategory") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            return Err(bad(
                "supercategory",
                format!("expected a string or null, got {v} (category {name:?})"),
            ));
        }
    };
    let parents = match obj.get("parents") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(bad(
                    "parents",
                    format!("expected a list of names, found {v} (category {name:?})"),
                )),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(v) => {
            return Err(bad(
                "parents",
                format!("expected a list of names, got {v} (category {name:?})"),
            ));
        }
    };
    Ok(CocoCategory {
        id,
        name,
        supercategory,
        parents,
    })
}
