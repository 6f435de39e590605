//! The `annotations` table.

use std::io::{self, Write};

use serde::de::MapAccess;
use serde_json::Value;
use serde_json::value::RawValue;

use super::{Extra, KeyOrder, Schema, schema_common};
use crate::ids::{AnnotId, CategoryId, ImageId, TrackId, read_track_id};
use crate::json::{JsonF64, JsonWriter};

/// One annotation: a box, polygon(s), keypoints, caption… on one image.
///
/// `segmentation` and `keypoints` are kept as raw JSON text (parse them with
/// the `geometry` module); unknown keys are in `extra`. The fields most
/// annotations lack (`keypoints`, `track_id`, `score`, `weight`, `caption`)
/// live in one box ([`AnnotationRare`], through accessors), so a plain COCO
/// annotation takes 152 bytes instead of 240 (a million annotations held in
/// memory: 88 MB less).
#[derive(Debug, Clone, Default)]
pub struct Annotation {
    /// `id`.
    pub id: AnnotId,
    /// `image_id`: the image this annotation is on.
    pub image_id: ImageId,
    /// `category_id`.
    pub category_id: Option<CategoryId>,
    /// `bbox`: `[x, y, w, h]` in image pixels.
    pub bbox: Option<[f64; 4]>,
    /// `segmentation`: raw JSON (COCO polygon list, RLE, or kwcoco polygon dicts).
    pub segmentation: Option<Box<RawValue>>,
    /// `iscrowd` as an integer (a boolean `iscrowd` is kept in `extra`; see [`Annotation::is_crowd`]).
    pub iscrowd: Option<i64>,
    /// `area`.
    pub area: Option<f64>,
    /// The less common fields (`None` when all are absent).
    rare: Option<Box<AnnotationRare>>,
    /// Every other key, in input order.
    pub extra: Extra,
    /// Key order of the input record.
    pub key_order: KeyOrder,
}

/// The fields of an [`Annotation`] most annotations lack.
#[derive(Debug, Clone, Default)]
pub struct AnnotationRare {
    /// `keypoints`: raw JSON (COCO flat `[x, y, v, …]` or kwcoco dicts).
    pub keypoints: Option<Box<RawValue>>,
    /// `track_id`: integer or string.
    pub track_id: Option<TrackId>,
    /// `score` (predictions).
    pub score: Option<f64>,
    /// `weight`.
    pub weight: Option<f64>,
    /// `caption`.
    pub caption: Option<String>,
}

impl AnnotationRare {
    fn is_empty(&self) -> bool {
        self.keypoints.is_none()
            && self.track_id.is_none()
            && self.score.is_none()
            && self.weight.is_none()
            && self.caption.is_none()
    }
}

impl Annotation {
    /// An annotation on `image_id` (id 0 until added to a dataset).
    pub fn new(image_id: ImageId) -> Self {
        Annotation {
            image_id,
            ..Default::default()
        }
    }

    /// The less common fields, if any is set.
    pub fn rare(&self) -> Option<&AnnotationRare> {
        self.rare.as_deref()
    }

    /// The less common fields, for changing (created empty on demand; an
    /// all-`None` box is dropped again by the setters and on writing).
    pub fn rare_mut(&mut self) -> &mut AnnotationRare {
        self.rare.get_or_insert_with(Default::default)
    }

    fn drop_empty_rare(&mut self) {
        if self.rare.as_deref().is_some_and(AnnotationRare::is_empty) {
            self.rare = None;
        }
    }

    /// `keypoints` as raw JSON.
    pub fn keypoints(&self) -> Option<&RawValue> {
        self.rare.as_deref().and_then(|r| r.keypoints.as_deref())
    }

    /// `track_id`.
    pub fn track_id(&self) -> Option<&TrackId> {
        self.rare.as_deref().and_then(|r| r.track_id.as_ref())
    }

    /// `score`.
    pub fn score(&self) -> Option<f64> {
        self.rare.as_deref().and_then(|r| r.score)
    }

    /// `weight`.
    pub fn weight(&self) -> Option<f64> {
        self.rare.as_deref().and_then(|r| r.weight)
    }

    /// `caption`.
    pub fn caption(&self) -> Option<&str> {
        self.rare.as_deref().and_then(|r| r.caption.as_deref())
    }

    /// Sets (or clears) `keypoints` as raw JSON.
    pub fn set_keypoints_raw(&mut self, v: Option<Box<RawValue>>) {
        self.rare_mut().keypoints = v;
        self.drop_empty_rare();
    }

    /// Sets (or clears) `track_id`.
    pub fn set_track_id(&mut self, v: Option<TrackId>) {
        self.rare_mut().track_id = v;
        self.drop_empty_rare();
    }

    /// Sets (or clears) `score`.
    pub fn set_score(&mut self, v: Option<f64>) {
        self.rare_mut().score = v;
        self.drop_empty_rare();
    }

    /// Sets (or clears) `weight`.
    pub fn set_weight(&mut self, v: Option<f64>) {
        self.rare_mut().weight = v;
        self.drop_empty_rare();
    }

    /// Sets (or clears) `caption`.
    pub fn set_caption(&mut self, v: Option<String>) {
        self.rare_mut().caption = v;
        self.drop_empty_rare();
    }

    /// The raw `segmentation` JSON text, with non-finite tokens restored.
    pub fn segmentation_json(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.segmentation
            .as_deref()
            .map(|r| crate::json::restore_tokens(r.get()))
    }

    /// The raw `keypoints` JSON text, with non-finite tokens restored.
    pub fn keypoints_json(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.keypoints()
            .map(|r| crate::json::restore_tokens(r.get()))
    }

    /// Sets `segmentation` from JSON text.
    pub fn set_segmentation_json(&mut self, text: &str) -> Result<(), crate::Error> {
        self.segmentation = Some(raw_from_str(text, "segmentation")?);
        Ok(())
    }

    /// Sets `keypoints` from JSON text.
    pub fn set_keypoints_json(&mut self, text: &str) -> Result<(), crate::Error> {
        self.set_keypoints_raw(Some(raw_from_str(text, "keypoints")?));
        Ok(())
    }

    /// Parses `segmentation` (`None` when absent or `null`).
    ///
    /// ```
    /// use coco_model::{record::record_from_json, Annotation};
    /// let a: Annotation = record_from_json(r#"{"id": 1, "image_id": 1, "segmentation": [[0, 0, 4, 0, 4, 4]]}"#).unwrap();
    /// let seg = a.parse_segmentation().unwrap().unwrap();
    /// assert_eq!(seg.area(), 8.0);
    /// ```
    pub fn parse_segmentation(
        &self,
    ) -> Result<Option<crate::geometry::Segmentation>, crate::Error> {
        match self.segmentation.as_deref() {
            None => Ok(None),
            Some(r) if r.get() == "null" => Ok(None),
            Some(r) => crate::geometry::Segmentation::from_prepassed_json_str(r.get())
                .map(Some)
                .map_err(|e| self.field_error("segmentation", e)),
        }
    }

    /// Parses `keypoints` (`None` when absent or `null`).
    pub fn parse_keypoints(&self) -> Result<Option<crate::geometry::Keypoints>, crate::Error> {
        match self.keypoints() {
            None => Ok(None),
            Some(r) if r.get() == "null" => Ok(None),
            Some(r) => crate::geometry::Keypoints::from_prepassed_json_str(r.get())
                .map(Some)
                .map_err(|e| self.field_error("keypoints", e)),
        }
    }

    fn field_error(&self, field: &str, e: impl std::fmt::Display) -> crate::Error {
        crate::Error::Field {
            table: "annotations",
            id: self.id.to_string(),
            field: field.to_owned(),
            message: e.to_string(),
        }
    }

    /// Whether `iscrowd` is set (non-zero integer or `true`).
    pub fn is_crowd(&self) -> bool {
        match self.iscrowd {
            Some(v) => v != 0,
            None => self
                .extra
                .get("iscrowd")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

/// Parses JSON text into a raw value (non-finite tokens allowed).
pub(crate) fn raw_from_str(text: &str, field: &'static str) -> Result<Box<RawValue>, crate::Error> {
    let text = crate::json::replace_non_finite(text).into_owned();
    RawValue::from_string(text).map_err(|e| crate::Error::InvalidValue {
        what: field.to_owned(),
        message: e.to_string(),
    })
}

/// `iscrowd` may be written as an integer or a boolean.
enum IntOrBool {
    Int(i64),
    Bool(bool),
}

impl<'de> serde::Deserialize<'de> for IntOrBool {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = IntOrBool;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an integer or a boolean")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<IntOrBool, E> {
                Ok(IntOrBool::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<IntOrBool, E> {
                i64::try_from(v)
                    .map(IntOrBool::Int)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<IntOrBool, E> {
                Ok(IntOrBool::Bool(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Schema for Annotation {
    const TABLE: &'static str = "annotations";
    const KEYS: &'static [&'static str] = &[
        "id",
        "image_id",
        "category_id",
        "bbox",
        "segmentation",
        "keypoints",
        "track_id",
        "score",
        "weight",
        "iscrowd",
        "caption",
        "area",
    ];
    const REQUIRED: u16 = 0b11;

    schema_common!();

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        tag: usize,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match tag {
            0 => self.id = AnnotId(map.next_value()?),
            1 => self.image_id = ImageId(map.next_value()?),
            2 => self.category_id = map.next_value::<Option<i64>>()?.map(CategoryId),
            3 => {
                self.bbox = map
                    .next_value::<Option<[JsonF64; 4]>>()?
                    .map(|b| b.map(|x| x.0))
            }
            4 => self.segmentation = map.next_value()?,
            5 => self.set_keypoints_raw(map.next_value()?),
            6 => self.set_track_id(map.next_value_seed(OptTrackId)?),
            7 => self.set_score(map.next_value::<Option<JsonF64>>()?.map(|x| x.0)),
            8 => self.set_weight(map.next_value::<Option<JsonF64>>()?.map(|x| x.0)),
            9 => match map.next_value::<Option<IntOrBool>>()? {
                None => self.iscrowd = None,
                Some(IntOrBool::Int(v)) => self.iscrowd = Some(v),
                Some(IntOrBool::Bool(b)) => {
                    self.extra.insert("iscrowd", Value::Bool(b));
                    return Ok(false);
                }
            },
            10 => self.set_caption(crate::json::opt_string(map)?),
            11 => self.area = map.next_value::<Option<JsonF64>>()?.map(|x| x.0),
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(true)
    }

    fn write_field<W: Write>(&self, tag: usize, w: &mut JsonWriter<W>) -> io::Result<()> {
        match tag {
            0 => w.i64(self.id.0),
            1 => w.i64(self.image_id.0),
            2 => w.opt_i64(self.category_id.map(|c| c.0)),
            3 => match &self.bbox {
                Some(b) => {
                    w.raw(b"[")?;
                    for (i, x) in b.iter().enumerate() {
                        if i > 0 {
                            w.comma()?;
                        }
                        w.f64(*x)?;
                    }
                    w.raw(b"]")
                }
                None => w.null(),
            },
            4 => w.opt_raw(self.segmentation.as_deref()),
            5 => w.opt_raw(self.keypoints()),
            6 => match self.track_id() {
                Some(TrackId::Int(v)) => w.i64(*v),
                Some(TrackId::Str(s)) => w.string(s),
                None => w.null(),
            },
            7 => w.opt_f64(self.score()),
            8 => w.opt_f64(self.weight()),
            9 => w.opt_i64(self.iscrowd),
            10 => w.opt_str(self.caption()),
            11 => w.opt_f64(self.area),
            _ => w.null(),
        }
    }

    fn has_value(&self, tag: usize) -> bool {
        match tag {
            0 | 1 => true,
            2 => self.category_id.is_some(),
            3 => self.bbox.is_some(),
            4 => self.segmentation.is_some(),
            5 => self.keypoints().is_some(),
            6 => self.track_id().is_some(),
            7 => self.score().is_some(),
            8 => self.weight().is_some(),
            9 => self.iscrowd.is_some(),
            10 => self.caption().is_some(),
            11 => self.area.is_some(),
            _ => false,
        }
    }

    fn id_text(&self) -> String {
        self.id.to_string()
    }
}

/// Reads `null` or a track id.
pub(crate) struct OptTrackId;

impl<'de> serde::de::DeserializeSeed<'de> for OptTrackId {
    type Value = Option<TrackId>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<TrackId>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Option<TrackId>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("null, an integer or a string")
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                read_track_id(d).map(Some)
            }
        }
        d.deserialize_option(V)
    }
}

impl PartialEq for Annotation {
    fn eq(&self, o: &Self) -> bool {
        fn raw_eq(a: &Option<Box<RawValue>>, b: &Option<Box<RawValue>>) -> bool {
            a.as_deref().map(RawValue::get) == b.as_deref().map(RawValue::get)
        }
        fn f_eq(a: Option<f64>, b: Option<f64>) -> bool {
            match (a, b) {
                (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()),
                (None, None) => true,
                _ => false,
            }
        }
        self.id == o.id
            && self.image_id == o.image_id
            && self.category_id == o.category_id
            && match (&self.bbox, &o.bbox) {
                (Some(a), Some(b)) => a.iter().zip(b).all(|(x, y)| f_eq(Some(*x), Some(*y))),
                (None, None) => true,
                _ => false,
            }
            && raw_eq(&self.segmentation, &o.segmentation)
            && self.keypoints().map(RawValue::get) == o.keypoints().map(RawValue::get)
            && self.track_id() == o.track_id()
            && f_eq(self.score(), o.score())
            && f_eq(self.weight(), o.weight())
            && self.iscrowd == o.iscrowd
            && self.caption() == o.caption()
            && f_eq(self.area, o.area)
            && self.extra == o.extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::record_from_json;

    #[test]
    fn a_plain_annotation_stays_small() {
        // the rare fields are one pointer: a million plain annotations are
        // 152 MB of records, not 240 MB
        assert!(std::mem::size_of::<Annotation>() <= 152);
        let a: Annotation =
            record_from_json(r#"{"id": 1, "image_id": 2, "bbox": [0, 0, 1, 1], "area": 1}"#)
                .unwrap();
        assert!(a.rare().is_none());
    }

    #[test]
    fn rare_fields_read_write_and_clear() {
        let text = r#"{"id": 1, "image_id": 2, "keypoints": [1, 2, 2], "track_id": "t", "score": 0.5, "weight": 2, "caption": "c"}"#;
        let mut a: Annotation = record_from_json(text).unwrap();
        assert_eq!(a.keypoints().map(RawValue::get), Some("[1, 2, 2]"));
        assert_eq!(a.track_id(), Some(&TrackId::Str("t".into())));
        assert_eq!((a.score(), a.weight()), (Some(0.5), Some(2.0)));
        assert_eq!(a.caption(), Some("c"));
        let b = a.clone();
        assert_eq!(a, b);
        a.set_score(None);
        assert_ne!(a, b);
        assert_eq!(a.score(), None);
        a.set_weight(None);
        a.set_caption(None);
        a.set_keypoints_raw(None);
        assert!(a.rare().is_some(), "track_id is still set");
        a.set_track_id(None);
        assert!(a.rare().is_none(), "an all-empty box is dropped");
        a.set_caption(Some("d".into()));
        assert_eq!(a.rare().and_then(|r| r.caption.as_deref()), Some("d"));
        a.rare_mut().score = Some(1.0);
        assert_eq!(a.score(), Some(1.0));
    }

    #[test]
    fn an_explicit_null_is_not_a_value() {
        let a: Annotation =
            record_from_json(r#"{"id": 1, "image_id": 2, "score": null, "track_id": null}"#)
                .unwrap();
        assert_eq!((a.score(), a.track_id()), (None, None));
        assert!(a.rare().is_none());
    }
}
