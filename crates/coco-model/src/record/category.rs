//! The `categories` and `keypoint_categories` tables.

use std::io::{self, Write};

use serde::de::MapAccess;
use serde_json::Value;

use super::{Extra, KeyOrder, Schema, schema_common};
use crate::ids::{CategoryId, KeypointCategoryId};
use crate::json::JsonWriter;

/// One category (class).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Category {
    /// `id`.
    pub id: CategoryId,
    /// `name` (unique).
    pub name: String,
    /// `supercategory`: the parent's name, if any.
    pub supercategory: Option<String>,
    /// Every other key (`keypoints`, `skeleton`, `parents`, …), in input order.
    pub extra: Extra,
    /// Key order of the input record.
    pub key_order: KeyOrder,
}

impl Category {
    /// A category named `name` (id 0 until added to a dataset).
    pub fn new(name: impl Into<String>) -> Self {
        Category {
            name: name.into(),
            ..Default::default()
        }
    }

    /// The parent names: `supercategory` and any names listed in a kwcoco
    /// `parents` key, without duplicates.
    pub fn parent_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(s) = &self.supercategory {
            out.push(s);
        }
        if let Some(Value::Array(ps)) = self.extra.get("parents") {
            for p in ps.iter().filter_map(Value::as_str) {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out
    }
}

impl Schema for Category {
    const TABLE: &'static str = "categories";
    const KEYS: &'static [&'static str] = &["id", "name", "supercategory"];
    const REQUIRED: u16 = 0b11;

    schema_common!();

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        tag: usize,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match tag {
            0 => self.id = CategoryId(map.next_value()?),
            1 => self.name = map.next_value::<crate::json::JsonString>()?.0,
            2 => self.supercategory = crate::json::opt_string(map)?,
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(true)
    }

    fn write_field<W: Write>(&self, tag: usize, w: &mut JsonWriter<W>) -> io::Result<()> {
        match tag {
            0 => w.i64(self.id.0),
            1 => w.string(&self.name),
            2 => w.opt_str(self.supercategory.as_deref()),
            _ => w.null(),
        }
    }

    fn has_value(&self, tag: usize) -> bool {
        match tag {
            0 | 1 => true,
            2 => self.supercategory.is_some(),
            _ => false,
        }
    }

    fn id_text(&self) -> String {
        self.id.to_string()
    }
}

/// One keypoint category (a named landmark such as `left_eye`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeypointCategory {
    /// `id`.
    pub id: KeypointCategoryId,
    /// `name` (unique).
    pub name: String,
    /// `supercategory`.
    pub supercategory: Option<String>,
    /// `reflection_id`: the keypoint category this one becomes under a horizontal flip.
    pub reflection_id: Option<KeypointCategoryId>,
    /// Every other key, in input order.
    pub extra: Extra,
    /// Key order of the input record.
    pub key_order: KeyOrder,
}

impl KeypointCategory {
    /// A keypoint category named `name` (id 0 until added to a dataset).
    pub fn new(name: impl Into<String>) -> Self {
        KeypointCategory {
            name: name.into(),
            ..Default::default()
        }
    }
}

impl Schema for KeypointCategory {
    const TABLE: &'static str = "keypoint_categories";
    const KEYS: &'static [&'static str] = &["id", "name", "supercategory", "reflection_id"];
    const REQUIRED: u16 = 0b11;

    schema_common!();

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        tag: usize,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match tag {
            0 => self.id = KeypointCategoryId(map.next_value()?),
            1 => self.name = map.next_value::<crate::json::JsonString>()?.0,
            2 => self.supercategory = crate::json::opt_string(map)?,
            3 => self.reflection_id = map.next_value::<Option<i64>>()?.map(KeypointCategoryId),
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(true)
    }

    fn write_field<W: Write>(&self, tag: usize, w: &mut JsonWriter<W>) -> io::Result<()> {
        match tag {
            0 => w.i64(self.id.0),
            1 => w.string(&self.name),
            2 => w.opt_str(self.supercategory.as_deref()),
            3 => w.opt_i64(self.reflection_id.map(|r| r.0)),
            _ => w.null(),
        }
    }

    fn has_value(&self, tag: usize) -> bool {
        match tag {
            0 | 1 => true,
            2 => self.supercategory.is_some(),
            3 => self.reflection_id.is_some(),
            _ => false,
        }
    }

    fn id_text(&self) -> String {
        self.id.to_string()
    }
}
