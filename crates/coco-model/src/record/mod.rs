//! The records of each kwcoco table.
//!
//! Hot fields are typed; geometry (`segmentation`, `keypoints`) and warps are
//! kept as raw JSON text and parsed on demand; every other key lives in the
//! record's ordered [`Extra`] map. Every record remembers its key order
//! ([`KeyOrder`], see [`schema`]) so that a write reproduces the input.

pub mod schema;

mod annotation;
mod category;
mod image;
mod video;

pub use annotation::{Annotation, AnnotationRare};
pub use category::{Category, KeypointCategory};
pub use image::{Asset, ChannelSource, Image};
pub use schema::{Extra, KeyOrder, Schema};
pub use video::{Track, Video};

/// Implements the accessors of [`Schema`] that every record shares.
macro_rules! schema_common {
    () => {
        fn key_order(&self) -> &$crate::record::KeyOrder {
            &self.key_order
        }
        fn key_order_mut(&mut self) -> &mut $crate::record::KeyOrder {
            &mut self.key_order
        }
        fn extra(&self) -> &$crate::record::Extra {
            &self.extra
        }
        fn extra_mut(&mut self) -> &mut $crate::record::Extra {
            &mut self.extra
        }
    };
}
pub(crate) use schema_common;

/// Serializes a record alone as JSON text (kwcoco separators).
///
/// ```
/// use coco_model::{Category, record::record_to_json};
/// let c = Category::new("cat");
/// assert_eq!(record_to_json(&c), r#"{"id": 0, "name": "cat"}"#);
/// ```
pub fn record_to_json<T: Schema>(rec: &T) -> String {
    let mut w = crate::json::JsonWriter::new(Vec::new(), crate::json::DumpStyle::Pretty);
    // writing into a Vec cannot fail
    let _ = schema::write_record(rec, &mut w);
    String::from_utf8(w.out).unwrap_or_default()
}

/// Parses one record from JSON text.
///
/// ```
/// use coco_model::{Annotation, record::record_from_json};
/// let a: Annotation = record_from_json(r#"{"id": 3, "image_id": 1, "bbox": [0, 0, 2, 2]}"#).unwrap();
/// assert_eq!(a.bbox, Some([0.0, 0.0, 2.0, 2.0]));
/// ```
pub fn record_from_json<T: Schema>(text: &str) -> Result<T, crate::Error> {
    use serde::de::DeserializeSeed;
    let text = crate::json::replace_non_finite(text);
    let mut de = serde_json::Deserializer::from_str(&text);
    let rec = schema::RecordSeed::<T>::new(0)
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|_| r))
        .map_err(|e| crate::Error::from_json(None, e))?;
    Ok(rec)
}
