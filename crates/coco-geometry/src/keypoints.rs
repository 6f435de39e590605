//! The `keypoints` field of an annotation (kwimage `Points.from_coco` /
//! `to_coco`).
//!
//! | JSON | form |
//! |---|---|
//! | `[x0, y0, v0, x1, y1, v1, ...]` | [`KeypointsForm::CocoFlat`] (MS-COCO) |
//! | `[{"xy": [x, y], "keypoint_category_id": k, "visible": v, ...}, ...]` | [`KeypointsForm::Dicts`] (kwcoco) |
//! | `{"x": [...], "y": [...], "visible": [...], "keypoint_category_id": [...], ...}` | [`KeypointsForm::ColumnsXy`] (kwimage's `new-v2`) |
//! | `{"xy": [[x, y], ...], "visible": [...], "keypoint_category_id": [...], ...}` | [`KeypointsForm::Columns`] |
//! | `[[x, y], ...]` | [`KeypointsForm::XyList`] (positions only; the reference sampler's output) |
//!
//! Other keys of a kwcoco keypoint dict (`keypoint_category`, `category`,
//! ...) and of the column form are kept and written back. kwimage reads a
//! missing `visible` as 2.

use super::{Affine, BBox, GeometryError, NumberStyle, Result, kind, read_num, read_pair};
use serde_json::{Map, Value};

const WHAT: &str = "keypoints";

/// One keypoint.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Keypoint {
    /// Position.
    pub xy: [f64; 2],
    /// MS-COCO visibility flag (0: not labelled, 1: labelled but hidden,
    /// 2: visible); `None` when absent (kwimage treats that as 2).
    pub visible: Option<f64>,
    /// `keypoint_category_id`, when given.
    pub category_id: Option<i64>,
    /// Other keys of a kwcoco keypoint dict, in order.
    pub extra: Map<String, Value>,
}

/// The JSON form of a [`Keypoints`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeypointsForm {
    /// `[x, y, v]*`.
    CocoFlat,
    /// A list of kwcoco dicts.
    Dicts,
    /// One dict of parallel lists, positions as `"xy": [[x, y], ...]`.
    Columns,
    /// kwimage's column form (`Points.to_coco('new-v2')`): parallel lists
    /// `"x"`, `"y"`, and optionally `"visible"`, `"keypoint_category_id"`,
    /// `"keypoint_category_name"`.
    ColumnsXy,
    /// A list of `[x, y]` positions (what ndsampler's `load_sample` returns).
    XyList,
}

/// The keypoints of one annotation.
///
/// ```
/// use coco_geometry::{Affine, Keypoints};
/// let kp = Keypoints::from_json_str(r#"[{"xy": [1.5, 2.0], "keypoint_category_id": 1}]"#).unwrap();
/// assert_eq!(kp.points[0].category_id, Some(1));
/// let moved = kp.warp(&Affine::translate(1.0, 1.0));
/// assert_eq!(moved.to_json().to_string(), r#"[{"xy":[2.5,3.0],"keypoint_category_id":1}]"#);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Keypoints {
    /// The points.
    pub points: Vec<Keypoint>,
    /// JSON form.
    pub form: KeypointsForm,
    /// Number style of the coordinates.
    pub style: NumberStyle,
    /// Number style of the visibility flags.
    pub visible_style: NumberStyle,
    /// Column form: keys other than `xy`, `visible`, `keypoint_category_id`.
    pub columns_extra: Map<String, Value>,
}

impl Keypoints {
    /// Parse any accepted form.
    pub fn from_json(v: &Value) -> Result<Self> {
        match v {
            Value::Array(items) => match items.first() {
                None => Ok(Keypoints::empty(KeypointsForm::Dicts)),
                Some(Value::Object(_)) => parse_dicts(items),
                Some(Value::Number(_)) => parse_flat(items),
                Some(Value::Array(_)) => parse_xy_list(items),
                Some(other) => Err(GeometryError::invalid(
                    WHAT,
                    format!("a list must hold numbers or objects, not {}", kind(other)),
                )),
            },
            Value::Object(map) => parse_columns(map),
            other => Err(GeometryError::invalid(
                WHAT,
                format!("expected a list or an object, got {}", kind(other)),
            )),
        }
    }

    /// Parse JSON text.
    pub fn from_json_str(s: &str) -> Result<Self> {
        let v = super::parse_text(s, WHAT)?;
        Self::from_json(&v)
    }

    /// [`Keypoints::from_json_str`] for text that already went through the
    /// non-finite pre-pass ([`crate::nonfinite`]), such as the raw fields of a
    /// loaded dataset record (running the pre-pass twice would turn its
    /// sentinels into genuine strings).
    pub fn from_prepassed_json_str(s: &str) -> Result<Self> {
        let v = super::parse_prepassed(s, WHAT)?;
        Self::from_json(&v)
    }

    /// No points, in the given form.
    pub fn empty(form: KeypointsForm) -> Self {
        Keypoints {
            points: Vec::new(),
            form,
            style: NumberStyle::Float,
            visible_style: NumberStyle::Int,
            columns_extra: Map::new(),
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// No points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Bounding box of the points (zero-size for one point).
    pub fn bbox(&self) -> Option<BBox> {
        BBox::from_points(self.points.iter().map(|p| &p.xy))
    }

    /// Warp every position.
    pub fn warp(&self, a: &Affine) -> Keypoints {
        let mut k = self.clone();
        k.warp_in_place(a);
        k
    }

    /// Warp every position in place.
    pub fn warp_in_place(&mut self, a: &Affine) {
        for p in &mut self.points {
            p.xy = a.apply(p.xy);
        }
    }

    /// The positions as `[[x, y], ...]` (the reference sampler's output form).
    pub fn to_xy_json(&self) -> Value {
        Value::Array(self.points.iter().map(|p| self.style.pair(p.xy)).collect())
    }

    /// Write back in the form it was read in.
    pub fn to_json(&self) -> Value {
        let (s, vs) = (self.style, self.visible_style);
        match self.form {
            KeypointsForm::XyList => self.to_xy_json(),
            KeypointsForm::CocoFlat => {
                let mut out = Vec::with_capacity(self.points.len() * 3);
                for p in &self.points {
                    out.push(s.value(p.xy[0]));
                    out.push(s.value(p.xy[1]));
                    out.push(vs.value(p.visible.unwrap_or(2.0)));
                }
                Value::Array(out)
            }
            KeypointsForm::Dicts => Value::Array(
                self.points
                    .iter()
                    .map(|p| {
                        let mut m = Map::new();
                        m.insert("xy".into(), s.pair(p.xy));
                        if let Some(v) = p.visible {
                            m.insert("visible".into(), vs.value(v));
                        }
                        if let Some(c) = p.category_id {
                            m.insert("keypoint_category_id".into(), Value::from(c));
                        }
                        for (k, v) in &p.extra {
                            m.insert(k.clone(), v.clone());
                        }
                        Value::Object(m)
                    })
                    .collect(),
            ),
            KeypointsForm::Columns | KeypointsForm::ColumnsXy => {
                let mut m = Map::new();
                if self.form == KeypointsForm::Columns {
                    m.insert(
                        "xy".into(),
                        Value::Array(self.points.iter().map(|p| s.pair(p.xy)).collect()),
                    );
                } else {
                    for (axis, key) in ["x", "y"].into_iter().enumerate() {
                        m.insert(
                            key.into(),
                            Value::Array(self.points.iter().map(|p| s.value(p.xy[axis])).collect()),
                        );
                    }
                }
                if self.points.iter().any(|p| p.visible.is_some()) {
                    m.insert(
                        "visible".into(),
                        Value::Array(
                            self.points
                                .iter()
                                .map(|p| vs.value(p.visible.unwrap_or(2.0)))
                                .collect(),
                        ),
                    );
                }
                if self.points.iter().any(|p| p.category_id.is_some()) {
                    m.insert(
                        "keypoint_category_id".into(),
                        Value::Array(
                            self.points
                                .iter()
                                .map(|p| p.category_id.map_or(Value::Null, Value::from))
                                .collect(),
                        ),
                    );
                }
                for (k, v) in &self.columns_extra {
                    m.insert(k.clone(), v.clone());
                }
                Value::Object(m)
            }
        }
    }
}

fn parse_flat(items: &[Value]) -> Result<Keypoints> {
    if !items.len().is_multiple_of(3) {
        return Err(GeometryError::invalid(
            WHAT,
            format!(
                "the flat form needs [x, y, v] triples, got {} values",
                items.len()
            ),
        ));
    }
    let mut points = Vec::with_capacity(items.len() / 3);
    let (mut ints, mut vints) = (true, true);
    for t in items.chunks_exact(3) {
        let (x, ix) = read_num(&t[0], WHAT)?;
        let (y, iy) = read_num(&t[1], WHAT)?;
        let (v, iv) = read_num(&t[2], WHAT)?;
        ints &= ix && iy;
        vints &= iv;
        points.push(Keypoint {
            xy: [x, y],
            visible: Some(v),
            ..Default::default()
        });
    }
    Ok(Keypoints {
        points,
        form: KeypointsForm::CocoFlat,
        style: NumberStyle::from_all_ints(ints),
        visible_style: NumberStyle::from_all_ints(vints),
        columns_extra: Map::new(),
    })
}

fn parse_xy_list(items: &[Value]) -> Result<Keypoints> {
    let mut points = Vec::with_capacity(items.len());
    let mut ints = true;
    for v in items {
        let (xy, is_int) = read_pair(v, WHAT)?;
        ints &= is_int;
        points.push(Keypoint {
            xy,
            ..Default::default()
        });
    }
    Ok(Keypoints {
        points,
        form: KeypointsForm::XyList,
        style: NumberStyle::from_all_ints(ints),
        visible_style: NumberStyle::Int,
        columns_extra: Map::new(),
    })
}

fn read_category_id(v: &Value) -> Result<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        other => other.as_i64().map(Some).ok_or_else(|| {
            GeometryError::invalid(
                WHAT,
                format!("keypoint_category_id must be an integer, got {other}"),
            )
        }),
    }
}

fn parse_dicts(items: &[Value]) -> Result<Keypoints> {
    let mut points = Vec::with_capacity(items.len());
    let (mut ints, mut vints) = (true, true);
    for (i, item) in items.iter().enumerate() {
        let map = item.as_object().ok_or_else(|| {
            GeometryError::invalid(
                WHAT,
                format!("item {i}: expected an object, got {}", kind(item)),
            )
        })?;
        let mut kp = Keypoint::default();
        let mut has_xy = false;
        for (k, v) in map {
            match k.as_str() {
                "xy" => {
                    let (xy, is_int) = read_pair(v, WHAT)?;
                    kp.xy = xy;
                    ints &= is_int;
                    has_xy = true;
                }
                "visible" => {
                    let (vis, is_int) = read_num(v, WHAT)?;
                    kp.visible = Some(vis);
                    vints &= is_int;
                }
                "keypoint_category_id" if !v.is_null() => kp.category_id = read_category_id(v)?,
                _ => {
                    kp.extra.insert(k.clone(), v.clone());
                }
            }
        }
        if !has_xy {
            return Err(GeometryError::invalid(
                WHAT,
                format!("item {i} has no \"xy\""),
            ));
        }
        points.push(kp);
    }
    Ok(Keypoints {
        points,
        form: KeypointsForm::Dicts,
        style: NumberStyle::from_all_ints(ints),
        visible_style: NumberStyle::from_all_ints(vints),
        columns_extra: Map::new(),
    })
}

fn parse_columns(map: &Map<String, Value>) -> Result<Keypoints> {
    let mut points = Vec::new();
    let mut ints = true;
    let form = if let Some(xy) = map.get("xy") {
        let xy = xy.as_array().ok_or_else(|| {
            GeometryError::invalid(WHAT, "the column form needs \"xy\": [[x, y], ...]")
        })?;
        for p in xy {
            let (xy, is_int) = read_pair(p, WHAT)?;
            ints &= is_int;
            points.push(Keypoint {
                xy,
                ..Default::default()
            });
        }
        KeypointsForm::Columns
    } else {
        let list = |key: &str| {
            map.get(key).and_then(Value::as_array).ok_or_else(|| {
                GeometryError::invalid(
                    WHAT,
                    "the column form needs \"x\" and \"y\" lists (or \"xy\": [[x, y], ...])",
                )
            })
        };
        let (xs, ys) = (list("x")?, list("y")?);
        if xs.len() != ys.len() {
            return Err(GeometryError::invalid(
                WHAT,
                format!(
                    "\"x\" and \"y\" must have the same length, got {} and {}",
                    xs.len(),
                    ys.len()
                ),
            ));
        }
        for (x, y) in xs.iter().zip(ys) {
            let (x, ix) = read_num(x, WHAT)?;
            let (y, iy) = read_num(y, WHAT)?;
            ints &= ix && iy;
            points.push(Keypoint {
                xy: [x, y],
                ..Default::default()
            });
        }
        KeypointsForm::ColumnsXy
    };
    let n = points.len();
    let column = |key: &str| -> Result<Option<&Vec<Value>>> {
        match map.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) if a.len() == n => Ok(Some(a)),
            Some(other) => Err(GeometryError::invalid(
                WHAT,
                format!("\"{key}\" must be a list of {n} values, one per keypoint, got {other}"),
            )),
        }
    };
    let mut vints = true;
    if let Some(vis) = column("visible")? {
        for (p, v) in points.iter_mut().zip(vis) {
            let (x, is_int) = read_num(v, WHAT)?;
            vints &= is_int;
            p.visible = Some(x);
        }
    }
    if let Some(cids) = column("keypoint_category_id")? {
        for (p, v) in points.iter_mut().zip(cids) {
            p.category_id = read_category_id(v)?;
        }
    }
    let columns_extra = map
        .iter()
        .filter(|(k, _)| {
            let positions: &[&str] = match form {
                KeypointsForm::Columns => &["xy"],
                _ => &["x", "y"],
            };
            !positions.contains(&k.as_str())
                && !matches!(k.as_str(), "visible" | "keypoint_category_id")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Keypoints {
        points,
        form,
        style: NumberStyle::from_all_ints(ints),
        visible_style: NumberStyle::from_all_ints(vints),
        columns_extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> Keypoints {
        let k = Keypoints::from_json_str(text).unwrap();
        assert_eq!(k.to_json().to_string(), text);
        k
    }

    #[test]
    fn forms_round_trip() {
        let k = round_trip("[1,2,2,3,4,1]");
        assert_eq!(k.style, NumberStyle::Int);
        let k = round_trip("[1.0,2.0,2,3.5,4.0,1]");
        assert_eq!(k.len(), 2);
        assert_eq!(k.points[1].xy, [3.5, 4.0]);
        assert_eq!(k.points[1].visible, Some(1.0));
        let k = round_trip(
            r#"[{"xy":[139.59375,338.53125],"keypoint_category_id":1},{"xy":[145.40625,338.53125],"keypoint_category_id":2}]"#,
        );
        assert_eq!(k.points[1].category_id, Some(2));
        round_trip(r#"[{"xy":[0,0],"visible":2,"keypoint_category":"left-hand"}]"#);
        let k = round_trip(
            r#"{"xy":[[1,2],[3,4]],"visible":[2,0],"keypoint_category_id":[5,6],"note":"x"}"#,
        );
        assert_eq!(k.points[1].category_id, Some(6));
        assert_eq!(k.points[1].visible, Some(0.0));
        round_trip("[]");
        // kwimage's new-v2 columns
        let k = round_trip(
            r#"{"x":[1.0,3.5],"y":[2.0,4.0],"visible":[2,1],"keypoint_category_id":[5,6]}"#,
        );
        assert_eq!(k.form, KeypointsForm::ColumnsXy);
        assert_eq!(k.points[1].xy, [3.5, 4.0]);
        assert_eq!(k.points[1].category_id, Some(6));
        let k = round_trip(r#"{"x":[1],"y":[2],"keypoint_category_name":["nose"]}"#);
        assert_eq!(k.points[0].visible, None);
        assert_eq!(
            k.columns_extra["keypoint_category_name"],
            serde_json::json!(["nose"])
        );
        let k = round_trip("[[1.5,2.0],[3.0,4.0]]");
        assert_eq!(k.form, KeypointsForm::XyList);
        assert_eq!(k.points[0].visible, None);
    }

    #[test]
    fn warp_and_bbox() {
        let k = Keypoints::from_json_str("[0,0,2,4,2,2]").unwrap();
        let w = k.warp(&Affine::scale(0.5, 0.5));
        assert_eq!(w.to_json().to_string(), "[0,0,2,2,1,2]");
        assert_eq!(w.bbox(), Some(BBox::new(0.0, 0.0, 2.0, 1.0)));
    }

    #[test]
    fn errors() {
        for bad in [
            "[1, 2]",
            r#"[{"visible": 2}]"#,
            r#"[{"xy": [1]}]"#,
            r#"{"xy": [[1, 2]], "visible": [1, 2]}"#,
            r#"[{"xy": [1, 2], "keypoint_category_id": "a"}]"#,
            "\"kp\"",
            "[[1, 2, 3]]",
            "[true]",
            r#"{"x": [1, 2], "y": [2]}"#,
            r#"{"x": [1, 2]}"#,
            r#"{"x": [1], "y": ["a"]}"#,
            r#"{"x": [1], "y": [2], "visible": [1, 2]}"#,
            r#"{"visible": [1]}"#,
        ] {
            assert!(Keypoints::from_json_str(bad).is_err(), "{bad}");
        }
    }
}
