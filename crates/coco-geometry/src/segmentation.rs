//! The `segmentation` field of an annotation: polygons (MS-COCO or kwcoco
//! style) or a run-length encoded mask.
//!
//! | JSON | form |
//! |---|---|
//! | `[x0, y0, x1, y1, ...]` | [`PolygonForm::CocoFlat`] |
//! | `[[x0, y0, ...], [x0, y0, ...]]` | [`PolygonForm::CocoMulti`] (MS-COCO) |
//! | `[[x0, y0], [x1, y1], ...]` | [`PolygonForm::Points`] |
//! | `{"exterior": [[x, y], ...], "interiors": [[[x, y], ...], ...]}` | [`PolygonForm::Kwcoco`] single |
//! | `[{"exterior": ..., "interiors": ...}, ...]` | [`PolygonForm::Kwcoco`] multi |
//! | `{"type": "Polygon", "coordinates": [exterior, hole, ...]}` | [`PolygonForm::GeoJson`] single |
//! | `{"type": "MultiPolygon", "coordinates": [[exterior, hole, ...], ...]}` | [`PolygonForm::GeoJson`] multi |
//! | `{"size": [h, w], "counts": [...] \| "..."}` | [`Rle`] (also kwimage's `shape` / `order` / `binary` keys) |
//!
//! A flat list with exactly two-number inner lists (`[[x, y], ...]`) is read
//! as a list of points of one ring, since an MS-COCO polygon part needs at
//! least three points (six numbers).

use super::{
    Affine, BBox, FillRule, GeometryError, Mask, MultiPolygon, NumberStyle, Polygon, Result, Rle,
    kind, read_num, read_pair,
};
use serde_json::{Map, Value};

const WHAT: &str = "segmentation";

/// The JSON form of a polygon segmentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolygonForm {
    /// One flat list `[x0, y0, x1, y1, ...]`.
    CocoFlat,
    /// MS-COCO: a list of flat lists, one per part (no holes).
    CocoMulti,
    /// One ring as a list of `[x, y]` pairs.
    Points,
    /// kwcoco dicts with `exterior` and `interiors`.
    Kwcoco {
        /// A list of dicts (`true`) or a single dict.
        multi: bool,
        /// Whether the `interiors` key is written when a polygon has no holes.
        interiors_key: bool,
    },
    /// GeoJSON geometry (`kwimage.Polygon.from_geojson` /
    /// `MultiPolygon.from_geojson`): rings are lists of `[x, y]` pairs, the
    /// first ring of a polygon is its exterior, the others its holes. Rings are
    /// kept as given (a closing point equal to the first is kept, as kwimage
    /// does; it changes neither the area nor the mask).
    GeoJson {
        /// `"MultiPolygon"` (`true`) or `"Polygon"`.
        multi: bool,
    },
}

/// A parsed `segmentation`.
///
/// ```
/// use coco_geometry::{Affine, Segmentation};
/// let text = r#"{"exterior": [[0, 0], [4, 0], [4, 4], [0, 4]], "interiors": [[[1, 1], [2, 1], [2, 2], [1, 2]]]}"#;
/// let seg = Segmentation::from_json_str(text).unwrap();
/// assert_eq!(seg.area(), 15.0);
/// assert_eq!(seg.to_json(), serde_json::from_str::<serde_json::Value>(text).unwrap());
/// let big = seg.warp(&Affine::scale(2.0, 2.0)).unwrap();
/// assert_eq!(big.bbox().unwrap().xywh(), [0.0, 0.0, 8.0, 8.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Segmentation {
    /// Polygons, with the JSON form and number style they were read in.
    Polygons {
        /// The geometry.
        shape: MultiPolygon,
        /// JSON form.
        form: PolygonForm,
        /// Integer or float coordinates.
        style: NumberStyle,
    },
    /// A run-length encoded mask.
    Rle(Rle),
}

impl Segmentation {
    /// Parse any accepted form (see the module docs).
    pub fn from_json(v: &Value) -> Result<Self> {
        match v {
            Value::Array(items) => parse_list(items),
            Value::Object(map) => {
                if map.contains_key("counts") {
                    Ok(Segmentation::Rle(Rle::from_map(map)?))
                } else if let Some(t) = map.get("type") {
                    parse_geojson(t, map)
                } else if map.contains_key("exterior") {
                    let (poly, ints, interiors_key) = parse_kwcoco_dict(map)?;
                    Ok(Segmentation::Polygons {
                        shape: poly.into(),
                        form: PolygonForm::Kwcoco {
                            multi: false,
                            interiors_key,
                        },
                        style: NumberStyle::from_all_ints(ints),
                    })
                } else {
                    Err(GeometryError::invalid(
                        WHAT,
                        "an object needs \"exterior\" (kwcoco polygon), \"type\" and \"coordinates\" \
                         (GeoJSON) or \"counts\" (RLE)",
                    ))
                }
            }
            other => Err(GeometryError::invalid(
                WHAT,
                format!("expected a list or an object, got {}", kind(other)),
            )),
        }
    }

    /// Parse JSON text (the dataset keeps each annotation's raw text and
    /// parses on demand).
    ///
    /// Reads the text directly into coordinates (no intermediate
    /// `serde_json::Value`); the result is the same as [`Self::from_json`].
    pub fn from_json_str(s: &str) -> Result<Self> {
        Self::from_prepassed_json_str(&super::nonfinite::replace_non_finite(s))
    }

    /// [`Segmentation::from_json_str`] for text that already went through the
    /// non-finite pre-pass ([`crate::nonfinite`]), such as the raw fields of a
    /// loaded dataset record (running the pre-pass twice would turn its
    /// sentinels into genuine strings).
    pub fn from_prepassed_json_str(s: &str) -> Result<Self> {
        if let Some(seg) = super::fastparse::segmentation(s) {
            return Ok(seg);
        }
        let v = super::parse_prepassed(s, WHAT)?;
        Self::from_json(&v)
    }

    /// Polygons in kwcoco multi form (used for RLEs converted to polygons).
    pub fn from_multi_polygon(shape: MultiPolygon) -> Self {
        Segmentation::Polygons {
            shape,
            form: PolygonForm::Kwcoco {
                multi: true,
                interiors_key: true,
            },
            style: NumberStyle::Float,
        }
    }

    /// Write back in the form it was read in. Polygons with holes that the
    /// MS-COCO forms cannot hold are written in the kwcoco dict form, and a
    /// single-polygon form holding several polygons becomes its multi form.
    pub fn to_json(&self) -> Value {
        match self {
            Segmentation::Rle(r) => r.to_json(),
            Segmentation::Polygons { shape, form, style } => write_polygons(shape, *form, *style),
        }
    }

    /// Whether this is an RLE.
    pub fn is_rle(&self) -> bool {
        matches!(self, Segmentation::Rle(_))
    }

    /// Bounding box (`None` for an empty polygon list; an empty RLE gives
    /// `[0, 0, 0, 0]` like pycocotools).
    pub fn bbox(&self) -> Option<BBox> {
        match self {
            Segmentation::Rle(r) => Some(r.bbox()),
            Segmentation::Polygons { shape, .. } => shape.bbox(),
        }
    }

    /// Area: polygon area (holes subtracted), or the RLE's pixel count.
    pub fn area(&self) -> f64 {
        match self {
            Segmentation::Rle(r) => r.area() as f64,
            Segmentation::Polygons { shape, .. } => shape.area(),
        }
    }

    /// Warp by an affine transform. Polygons keep their form; an RLE is
    /// traced into polygons (pixel-corner outlines, see
    /// [`Mask::to_multi_polygon`]) and warped, unless the transform is the
    /// identity.
    pub fn warp(&self, a: &Affine) -> Result<Segmentation> {
        match self {
            Segmentation::Polygons { shape, form, style } => Ok(Segmentation::Polygons {
                shape: shape.warp(a),
                form: *form,
                style: *style,
            }),
            Segmentation::Rle(r) => {
                if a.is_identity() {
                    return Ok(self.clone());
                }
                let shape = r.decode()?.to_multi_polygon().warp(a);
                Ok(Segmentation::from_multi_polygon(shape))
            }
        }
    }

    /// The polygons (an RLE is decoded and traced).
    pub fn to_multi_polygon(&self) -> Result<MultiPolygon> {
        match self {
            Segmentation::Polygons { shape, .. } => Ok(shape.clone()),
            Segmentation::Rle(r) => Ok(r.decode()?.to_multi_polygon()),
        }
    }

    /// Rasterize into an `h × w` mask. MS-COCO parts are OR-ed (as
    /// pycocotools merges them); each kwcoco polygon is filled even-odd with
    /// its holes. An RLE of another size is cropped / zero-padded at the
    /// top-left.
    pub fn to_mask(&self, h: usize, w: usize) -> Result<Mask> {
        match self {
            Segmentation::Polygons { shape, .. } => shape.to_mask(h, w),
            Segmentation::Rle(r) => {
                let m = r.decode()?;
                if m.shape() == [h, w] {
                    return Ok(m);
                }
                Mask::from_fn(h, w, |x, y| m.get(x, y))
            }
        }
    }

    /// Set (OR) this segmentation's pixels in `mask` with the given
    /// [`FillRule`] (an RLE is decoded whatever the rule, cropped /
    /// zero-padded at the top-left as in [`Segmentation::to_mask`]).
    pub fn fill_into_with(&self, mask: &mut Mask, rule: FillRule) -> Result<()> {
        self.fill_into_scratch(mask, rule, &mut crate::raster::FillScratch::default())
    }

    /// [`Segmentation::fill_into_with`] reusing `scratch`'s buffers.
    pub fn fill_into_scratch(
        &self,
        mask: &mut Mask,
        rule: FillRule,
        scratch: &mut crate::raster::FillScratch,
    ) -> Result<()> {
        match self {
            Segmentation::Polygons { shape, .. } => {
                shape.fill_into_scratch(mask, rule, scratch);
                Ok(())
            }
            Segmentation::Rle(r) => {
                let m = r.decode()?;
                let w = mask.width().min(m.width());
                for y in 0..mask.height().min(m.height()) {
                    let src = &m.row(y)[..w];
                    for (d, &s) in mask.row_mut(y)[..w].iter_mut().zip(src) {
                        *d |= s;
                    }
                }
                Ok(())
            }
        }
    }

    /// Rasterize into an `h × w` mask with the given [`FillRule`].
    pub fn to_mask_with(&self, h: usize, w: usize, rule: FillRule) -> Result<Mask> {
        let mut m = Mask::new(h, w)?;
        self.fill_into_with(&mut m, rule)?;
        Ok(m)
    }

    /// Clip polygons to a box (an RLE is traced first).
    pub fn clip_to_box(&self, b: &BBox) -> Result<Segmentation> {
        match self {
            Segmentation::Polygons { shape, form, style } => Ok(Segmentation::Polygons {
                shape: shape.clip_to_box(b),
                form: *form,
                style: *style,
            }),
            Segmentation::Rle(_) => Ok(Segmentation::from_multi_polygon(
                self.to_multi_polygon()?.clip_to_box(b),
            )),
        }
    }
}

fn parse_list(items: &[Value]) -> Result<Segmentation> {
    let Some(first) = items.first() else {
        return Ok(Segmentation::Polygons {
            shape: MultiPolygon::default(),
            form: PolygonForm::CocoMulti,
            style: NumberStyle::Int,
        });
    };
    match first {
        Value::Number(_) => {
            let (ring, ints) = parse_flat(items, 0)?;
            Ok(Segmentation::Polygons {
                shape: Polygon::new(ring).into(),
                form: PolygonForm::CocoFlat,
                style: NumberStyle::from_all_ints(ints),
            })
        }
        Value::Array(_) => {
            let is_points = items
                .iter()
                .all(|v| v.as_array().is_some_and(|a| a.len() == 2));
            if is_points {
                let mut ring = Vec::with_capacity(items.len());
                let mut all_ints = true;
                for v in items {
                    let (p, ints) = read_pair(v, WHAT)?;
                    all_ints &= ints;
                    ring.push(p);
                }
                return Ok(Segmentation::Polygons {
                    shape: Polygon::new(ring).into(),
                    form: PolygonForm::Points,
                    style: NumberStyle::from_all_ints(all_ints),
                });
            }
            let mut polys = Vec::with_capacity(items.len());
            let mut all_ints = true;
            for (i, v) in items.iter().enumerate() {
                let part = v.as_array().ok_or_else(|| {
                    GeometryError::invalid(
                        WHAT,
                        format!("part {i}: expected a flat list of numbers, got {}", kind(v)),
                    )
                })?;
                let (ring, ints) = parse_flat(part, i)?;
                all_ints &= ints;
                polys.push(Polygon::new(ring));
            }
            Ok(Segmentation::Polygons {
                shape: MultiPolygon::new(polys),
                form: PolygonForm::CocoMulti,
                style: NumberStyle::from_all_ints(all_ints),
            })
        }
        Value::Object(_) => {
            let mut polys = Vec::with_capacity(items.len());
            let mut all_ints = true;
            let mut interiors_key = false;
            for (i, v) in items.iter().enumerate() {
                let map = v.as_object().ok_or_else(|| {
                    GeometryError::invalid(
                        WHAT,
                        format!(
                            "item {i}: expected a kwcoco polygon object, got {}",
                            kind(v)
                        ),
                    )
                })?;
                let (poly, ints, has_int) = parse_kwcoco_dict(map)?;
                all_ints &= ints;
                interiors_key |= has_int;
                polys.push(poly);
            }
            Ok(Segmentation::Polygons {
                shape: MultiPolygon::new(polys),
                form: PolygonForm::Kwcoco {
                    multi: true,
                    interiors_key,
                },
                style: NumberStyle::from_all_ints(all_ints),
            })
        }
        other => Err(GeometryError::invalid(
            WHAT,
            format!(
                "a list must hold numbers, lists or objects, not {}",
                kind(other)
            ),
        )),
    }
}

/// A GeoJSON `Polygon` or `MultiPolygon` object (kwimage's
/// `_coerce_coco_segmentation`: other geometry types are refused, as there).
fn parse_geojson(t: &Value, map: &Map<String, Value>) -> Result<Segmentation> {
    let multi = match t.as_str() {
        Some("Polygon") => false,
        Some("MultiPolygon") => true,
        Some(other) => {
            return Err(GeometryError::invalid(
                WHAT,
                format!("GeoJSON type {other:?} is not supported (Polygon or MultiPolygon)"),
            ));
        }
        None => {
            return Err(GeometryError::invalid(
                WHAT,
                format!("GeoJSON \"type\" must be a string, got {}", kind(t)),
            ));
        }
    };
    let coords = map
        .get("coordinates")
        .ok_or_else(|| GeometryError::invalid(WHAT, "GeoJSON geometry without \"coordinates\""))?;
    let list = |v: &Value, what: &str| -> Result<Vec<Value>> {
        v.as_array().cloned().ok_or_else(|| {
            GeometryError::invalid(
                WHAT,
                format!("GeoJSON {what} must be a list, got {}", kind(v)),
            )
        })
    };
    let mut all_ints = true;
    let mut polygon = |rings: &[Value]| -> Result<Polygon> {
        let mut parsed = Vec::with_capacity(rings.len());
        for (i, r) in rings.iter().enumerate() {
            if r.as_array()
                .and_then(|a| a.first())
                .is_some_and(Value::is_number)
            {
                return Err(GeometryError::invalid(
                    WHAT,
                    "GeoJSON polygon coordinates need three levels of lists \
                     ([[[x, y], ...], ...]), got two",
                ));
            }
            let (ring, ints) = parse_ring(r, if i == 0 { "exterior" } else { "interior" })?;
            all_ints &= ints;
            parsed.push(ring);
        }
        let mut rings = parsed.into_iter();
        Ok(Polygon {
            exterior: rings.next().unwrap_or_default(),
            interiors: rings.collect(),
        })
    };
    let shape = if multi {
        let mut polys = Vec::new();
        for p in list(coords, "MultiPolygon coordinates")? {
            polys.push(polygon(&list(&p, "polygon")?)?);
        }
        MultiPolygon::new(polys)
    } else {
        polygon(&list(coords, "Polygon coordinates")?)?.into()
    };
    Ok(Segmentation::Polygons {
        shape,
        form: PolygonForm::GeoJson { multi },
        style: NumberStyle::from_all_ints(all_ints),
    })
}

fn parse_flat(items: &[Value], part: usize) -> Result<(Vec<[f64; 2]>, bool)> {
    if !items.len().is_multiple_of(2) {
        return Err(GeometryError::invalid(
            WHAT,
            format!(
                "part {part}: a flat polygon needs an even number of values, got {}",
                items.len()
            ),
        ));
    }
    let mut ring = Vec::with_capacity(items.len() / 2);
    let mut all_ints = true;
    for xy in items.chunks_exact(2) {
        let (x, ix) = read_num(&xy[0], WHAT)?;
        let (y, iy) = read_num(&xy[1], WHAT)?;
        all_ints &= ix && iy;
        ring.push([x, y]);
    }
    Ok((ring, all_ints))
}

fn parse_ring(v: &Value, what: &str) -> Result<(Vec<[f64; 2]>, bool)> {
    let items = v.as_array().ok_or_else(|| {
        GeometryError::invalid(
            WHAT,
            format!("{what}: expected a list of [x, y] pairs, got {}", kind(v)),
        )
    })?;
    let mut ring = Vec::with_capacity(items.len());
    let mut all_ints = true;
    for p in items {
        let (xy, ints) = read_pair(p, WHAT)?;
        all_ints &= ints;
        ring.push(xy);
    }
    Ok((ring, all_ints))
}

/// `(polygon, all_ints, had_interiors_key)`.
fn parse_kwcoco_dict(map: &Map<String, Value>) -> Result<(Polygon, bool, bool)> {
    let ext = map
        .get("exterior")
        .ok_or_else(|| GeometryError::invalid(WHAT, "kwcoco polygon without \"exterior\""))?;
    let (exterior, mut all_ints) = parse_ring(ext, "exterior")?;
    let mut interiors = Vec::new();
    let has_key = match map.get("interiors") {
        None | Some(Value::Null) => false,
        Some(Value::Array(rings)) => {
            for r in rings {
                let (ring, ints) = parse_ring(r, "interior")?;
                all_ints &= ints;
                interiors.push(ring);
            }
            true
        }
        Some(other) => {
            return Err(GeometryError::invalid(
                WHAT,
                format!("\"interiors\" must be a list of rings, got {}", kind(other)),
            ));
        }
    };
    Ok((
        Polygon {
            exterior,
            interiors,
        },
        all_ints,
        has_key,
    ))
}

fn write_flat(ring: &[[f64; 2]], style: NumberStyle) -> Value {
    let mut out = Vec::with_capacity(ring.len() * 2);
    for p in ring {
        out.push(style.value(p[0]));
        out.push(style.value(p[1]));
    }
    Value::Array(out)
}

fn write_pairs(ring: &[[f64; 2]], style: NumberStyle) -> Value {
    Value::Array(ring.iter().map(|&p| style.pair(p)).collect())
}

fn write_kwcoco(p: &Polygon, style: NumberStyle, interiors_key: bool) -> Value {
    let mut map = Map::new();
    map.insert("exterior".into(), write_pairs(&p.exterior, style));
    if interiors_key || !p.interiors.is_empty() {
        map.insert(
            "interiors".into(),
            Value::Array(p.interiors.iter().map(|r| write_pairs(r, style)).collect()),
        );
    }
    Value::Object(map)
}

fn write_geojson_rings(p: &Polygon, style: NumberStyle) -> Value {
    let mut rings = Vec::with_capacity(1 + p.interiors.len());
    if !(p.exterior.is_empty() && p.interiors.is_empty()) {
        rings.push(write_pairs(&p.exterior, style));
    }
    rings.extend(p.interiors.iter().map(|r| write_pairs(r, style)));
    Value::Array(rings)
}

fn write_geojson(shape: &MultiPolygon, multi: bool, style: NumberStyle) -> Value {
    let mut map = Map::new();
    if !multi && shape.polygons.len() <= 1 {
        map.insert("type".into(), Value::from("Polygon"));
        let coords = match shape.polygons.first() {
            Some(p) => write_geojson_rings(p, style),
            None => Value::Array(Vec::new()),
        };
        map.insert("coordinates".into(), coords);
    } else {
        map.insert("type".into(), Value::from("MultiPolygon"));
        map.insert(
            "coordinates".into(),
            Value::Array(
                shape
                    .polygons
                    .iter()
                    .map(|p| write_geojson_rings(p, style))
                    .collect(),
            ),
        );
    }
    Value::Object(map)
}

fn write_polygons(shape: &MultiPolygon, form: PolygonForm, style: NumberStyle) -> Value {
    let has_holes = shape.polygons.iter().any(|p| !p.interiors.is_empty());
    let form = match form {
        PolygonForm::Kwcoco { .. } | PolygonForm::GeoJson { .. } => form,
        _ if has_holes => PolygonForm::Kwcoco {
            multi: true,
            interiors_key: true,
        },
        PolygonForm::CocoFlat | PolygonForm::Points if shape.polygons.len() != 1 => {
            PolygonForm::CocoMulti
        }
        f => f,
    };
    match form {
        PolygonForm::GeoJson { multi } => write_geojson(shape, multi, style),
        PolygonForm::CocoFlat => write_flat(&shape.polygons[0].exterior, style),
        PolygonForm::Points => write_pairs(&shape.polygons[0].exterior, style),
        PolygonForm::CocoMulti => Value::Array(
            shape
                .polygons
                .iter()
                .map(|p| write_flat(&p.exterior, style))
                .collect(),
        ),
        PolygonForm::Kwcoco {
            multi,
            interiors_key,
        } => {
            if !multi && shape.polygons.len() == 1 {
                write_kwcoco(&shape.polygons[0], style, interiors_key)
            } else {
                Value::Array(
                    shape
                        .polygons
                        .iter()
                        .map(|p| write_kwcoco(p, style, interiors_key))
                        .collect(),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(text: &str) -> Segmentation {
        let s = Segmentation::from_json_str(text).unwrap();
        assert_eq!(s.to_json().to_string(), text, "round trip");
        s
    }

    #[test]
    fn all_forms_round_trip() {
        let s = round_trip("[0,0,4,0,4,3]");
        assert_eq!(s.area(), 6.0);
        let s = round_trip("[[0.0,0.0,2.0,0.0,2.0,2.0,0.0,2.0],[5.5,5.0,6.5,5.0,6.5,6.0]]");
        assert_eq!(s.area(), 4.5);
        round_trip("[[0,0],[3,0],[3,3]]");
        round_trip(r#"{"exterior":[[0,0],[3,0],[3,3]],"interiors":[]}"#);
        round_trip(r#"{"exterior":[[0,0],[3,0],[3,3]]}"#);
        round_trip(r#"[{"exterior":[[0.5,0.0],[3.0,0.0],[3.0,3.0]],"interiors":[]}]"#);
        round_trip(r#"{"size":[2,3],"counts":[1,2,3]}"#);
        round_trip(r#"{"size":[2,3],"counts":"123"}"#);
        round_trip("[]");
        // one style per geometry: a mix of integers and floats is written as floats
        let mixed = Segmentation::from_json_str("[0,0,2.5,0,2,2]").unwrap();
        assert_eq!(mixed.to_json().to_string(), "[0.0,0.0,2.5,0.0,2.0,2.0]");
    }

    /// kwimage 0.12 answers: `Segmentation.coerce(geojson).data.area` (56 and
    /// 20.5); the mask is the one of the same rings in kwcoco form.
    #[test]
    fn geojson_reads_as_kwimage_does() {
        let text = r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,6],[0,6],[0,0]],[[2,2],[4,2],[4,4],[2,4],[2,2]]]}"#;
        let s = round_trip(text);
        assert_eq!(s.area(), 56.0);
        let Segmentation::Polygons { shape, .. } = &s else {
            panic!("not polygons")
        };
        assert_eq!(shape.polygons.len(), 1);
        assert_eq!(shape.polygons[0].interiors.len(), 1);
        assert_eq!(shape.polygons[0].exterior.len(), 5);
        let text = r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[3,0],[3,3],[0,0]]],[[[5,5],[9,5],[9,9],[5,9]]]]}"#;
        let s = round_trip(text);
        assert_eq!(s.area(), 20.5);
        let dicts = Segmentation::from_json_str(
            r#"[{"exterior":[[0,0],[3,0],[3,3],[0,0]]},{"exterior":[[5,5],[9,5],[9,9],[5,9]]}]"#,
        )
        .unwrap();
        assert_eq!(s.to_mask(12, 12).unwrap(), dicts.to_mask(12, 12).unwrap());
        assert_eq!(
            s.to_multi_polygon().unwrap(),
            dicts.to_multi_polygon().unwrap()
        );
        round_trip(r#"{"type":"Polygon","coordinates":[]}"#);
        round_trip(r#"{"type":"MultiPolygon","coordinates":[]}"#);
        // warped, the form stays GeoJSON
        let t = s.warp(&Affine::translate(1.0, 0.5)).unwrap();
        let p = &t.to_json()["coordinates"][1][0][0];
        assert_eq!(
            (p[0].as_f64(), p[1].as_f64()),
            (Some(6.0), Some(5.5)),
            "{p}"
        );
        assert_eq!(t.to_json()["type"], "MultiPolygon");
        // a single Polygon holding two parts is written as a MultiPolygon
        let two = Segmentation::Polygons {
            shape: dicts.to_multi_polygon().unwrap(),
            form: PolygonForm::GeoJson { multi: false },
            style: NumberStyle::Int,
        };
        assert_eq!(two.to_json()["type"], "MultiPolygon");
        assert_eq!(
            Segmentation::from_json(&two.to_json()).unwrap().area(),
            20.5
        );
    }

    #[test]
    fn geojson_errors_name_the_problem() {
        for (text, msg) in [
            (
                r#"{"type":"Point","coordinates":[1,2]}"#,
                "\"Point\" is not supported",
            ),
            (r#"{"type":3,"coordinates":[]}"#, "must be a string"),
            (r#"{"type":"Polygon"}"#, "without \"coordinates\""),
            (
                r#"{"type":"Polygon","coordinates":[[0,0],[1,0],[1,1]]}"#,
                "three levels",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[0,0],[1]]]}"#,
                "segmentation",
            ),
            (
                r#"{"type":"MultiPolygon","coordinates":[3]}"#,
                "polygon must be a list",
            ),
            (
                r#"{"type":"MultiPolygon","coordinates":{}}"#,
                "must be a list",
            ),
        ] {
            let e = Segmentation::from_json_str(text).unwrap_err().to_string();
            assert!(e.contains(msg), "{text}: {e}");
        }
    }

    #[test]
    fn fixture_polygon_parses() {
        let text = r#"[{"exterior": [[140, 324], [139, 325], [138, 325], [138, 328], [127, 331], [127, 354], [157, 354], [157, 331], [144, 324]], "interiors": []}]"#;
        let s = Segmentation::from_json_str(text).unwrap();
        assert_eq!(s.bbox(), Some(BBox::new(127.0, 324.0, 30.0, 30.0)));
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(s.to_json(), v);
    }

    #[test]
    fn warp_keeps_form_and_goes_float_when_needed() {
        let s = Segmentation::from_json_str("[[0,0,2,0,2,2]]").unwrap();
        let t = s.warp(&Affine::translate(1.0, 2.0)).unwrap();
        assert_eq!(t.to_json(), json!([[1, 2, 3, 2, 3, 4]]));
        let h = s.warp(&Affine::scale(0.5, 0.5)).unwrap();
        assert_eq!(h.to_json(), json!([[0, 0, 1, 0, 1, 1]]));
        let q = s.warp(&Affine::scale(0.25, 0.25)).unwrap();
        assert_eq!(q.to_json(), json!([[0, 0, 0.5, 0, 0.5, 0.5]]));
    }

    #[test]
    fn rle_warp_traces_polygons() {
        let m = Mask::from_fn(4, 4, |x, y| x >= 1 && y >= 1 && x < 3 && y < 3).unwrap();
        let s = Segmentation::Rle(m.to_rle());
        assert_eq!(s.area(), 4.0);
        assert_eq!(s.bbox(), Some(BBox::new(1.0, 1.0, 2.0, 2.0)));
        let t = s.warp(&Affine::translate(10.0, 0.0)).unwrap();
        assert!(!t.is_rle());
        assert_eq!(t.bbox(), Some(BBox::new(11.0, 1.0, 2.0, 2.0)));
        assert_eq!(t.area(), 4.0);
        assert_eq!(s.to_mask(4, 4).unwrap(), m);
        assert_eq!(s.to_mask(2, 2).unwrap().count(), 1);
    }

    #[test]
    fn coco_parts_are_unioned_in_mask() {
        let s = Segmentation::from_json_str("[[0,0,2,0,2,2,0,2],[1,1,3,1,3,3,1,3]]").unwrap();
        assert_eq!(s.to_mask(4, 4).unwrap().count(), 7);
    }

    #[test]
    fn holes_force_kwcoco_form() {
        let shape = MultiPolygon::new(vec![Polygon {
            exterior: vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]],
            interiors: vec![vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0]]],
        }]);
        let s = Segmentation::Polygons {
            shape,
            form: PolygonForm::CocoMulti,
            style: NumberStyle::Int,
        };
        let v = s.to_json();
        assert!(v[0].get("interiors").is_some(), "{v}");
    }

    #[test]
    fn errors() {
        for bad in [
            "[1, 2, 3]",
            r#"{"foo": 1}"#,
            "3",
            r#"[[1, 2, 3], [1]]"#,
            r#"[{"interiors": []}]"#,
            r#"{"exterior": [[1, 2, 3]]}"#,
            "[\"a\"]",
            "[1, 2",
        ] {
            assert!(Segmentation::from_json_str(bad).is_err(), "{bad}");
        }
    }
}
