//! kwcoco transform specs (`warp_aux_to_img`, `warp_img_to_vid`, ...).
//!
//! Accepted JSON forms (kwimage `Affine.coerce`):
//! - `{"type": "affine", "matrix": [[a, b, tx], [c, d, ty], [0, 0, 1]]}`
//!   (a 2×3 matrix is accepted too; `"matrix": null` is the identity),
//! - the concise parameter form `{"type": "affine", "scale": s | [sx, sy],
//!   "offset": o | [ox, oy], "theta": t, "shearx": h, "about": a | [ax, ay]}`
//!   where every key is optional (`{"type": "affine"}` and `{}` are the
//!   identity; the deprecated `"shear"` is read as `"shearx"`),
//! - a bare 3×3 (or 2×3) list of lists,
//! - `null` (the identity).
//!
//! The spec keeps its original JSON, so [`TransformSpec::to_json`] writes back
//! exactly what was read.

use super::{Affine, AffineParams, GeometryError, Result, kind, read_num};
use serde_json::{Map, Value};

const WHAT: &str = "transform";

/// Which JSON form a [`TransformSpec`] has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransformForm {
    /// JSON `null`.
    Null,
    /// `{"type": "affine", "matrix": ...}`.
    Matrix,
    /// The concise parameter dict (`scale`, `offset`, `theta`, ...).
    Params,
    /// A bare list of matrix rows.
    Bare,
}

/// A parsed kwcoco transform: its [`Affine`] and its original JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct TransformSpec {
    affine: Affine,
    form: TransformForm,
    json: Value,
}

impl Default for TransformSpec {
    fn default() -> Self {
        TransformSpec {
            affine: Affine::IDENTITY,
            form: TransformForm::Null,
            json: Value::Null,
        }
    }
}

impl TransformSpec {
    /// Parse any accepted form (see the module docs).
    ///
    /// ```
    /// use coco_geometry::TransformSpec;
    /// let t = TransformSpec::from_json(&serde_json::json!({"type": "affine", "scale": 6.0})).unwrap();
    /// assert_eq!(t.affine().apply([1.0, 2.0]), [6.0, 12.0]);
    /// ```
    pub fn from_json(v: &Value) -> Result<Self> {
        let (affine, form) = match v {
            Value::Null => (Affine::IDENTITY, TransformForm::Null),
            Value::Array(_) => (parse_matrix(v)?, TransformForm::Bare),
            Value::Object(map) => parse_object(map)?,
            other => {
                return Err(GeometryError::invalid(
                    WHAT,
                    format!("expected an object, a matrix or null, got {}", kind(other)),
                ));
            }
        };
        Ok(TransformSpec {
            affine,
            form,
            json: v.clone(),
        })
    }

    /// Parse from JSON text.
    pub fn from_json_str(s: &str) -> Result<Self> {
        let v = super::parse_text(s, WHAT)?;
        Self::from_json(&v)
    }

    /// [`TransformSpec::from_json_str`] for text that already went through the
    /// non-finite pre-pass ([`crate::nonfinite`]), such as the raw fields of a
    /// loaded dataset record (running the pre-pass twice would turn its
    /// sentinels into genuine strings).
    pub fn from_prepassed_json_str(s: &str) -> Result<Self> {
        let v = super::parse_prepassed(s, WHAT)?;
        Self::from_json(&v)
    }

    /// `{"type": "affine", "matrix": [[..], [..], [..]]}`.
    pub fn from_affine_matrix(affine: Affine) -> Self {
        let rows: Vec<Value> = affine
            .m
            .iter()
            .map(|r| Value::Array(r.iter().map(|&x| float(x)).collect()))
            .collect();
        let mut map = Map::new();
        map.insert("type".into(), Value::from("affine"));
        map.insert("matrix".into(), Value::Array(rows));
        TransformSpec {
            affine,
            form: TransformForm::Matrix,
            json: Value::Object(map),
        }
    }

    /// kwimage `Affine.concise()`: the decomposed parameters, omitting those
    /// close to the identity (`{"type": "affine"}` for the identity). Falls
    /// back to the matrix form when the decomposition does not reproduce the
    /// matrix within 1e-9.
    ///
    /// ```
    /// use coco_geometry::{Affine, TransformSpec};
    /// let t = TransformSpec::from_affine_concise(Affine::scale(3.0, 3.0));
    /// assert_eq!(t.to_json().to_string(), r#"{"type":"affine","scale":3.0}"#);
    /// ```
    pub fn from_affine_concise(affine: Affine) -> Self {
        let p = affine.decompose();
        let recon = Affine::from_params(&p);
        let ok = recon
            .m
            .iter()
            .flatten()
            .zip(affine.m.iter().flatten())
            .all(|(a, b)| (a - b).abs() <= 1e-9 * (1.0 + b.abs()));
        if !ok {
            return Self::from_affine_matrix(affine);
        }
        let isclose = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
        let mut map = Map::new();
        map.insert("type".into(), Value::from("affine"));
        let [sx, sy] = p.scale;
        if !(isclose(sx, 1.0) && isclose(sy, 1.0)) {
            map.insert("scale".into(), pair_or_scalar(sx, sy));
        }
        let [tx, ty] = p.offset;
        if !(tx.abs() <= 1e-9 && ty.abs() <= 1e-9) {
            map.insert("offset".into(), pair_or_scalar(tx, ty));
        }
        if p.theta.abs() > 1e-9 {
            map.insert("theta".into(), float(p.theta));
        }
        if p.shearx.abs() > 1e-9 {
            map.insert("shearx".into(), float(p.shearx));
        }
        let json = Value::Object(map);
        // Re-read so the stored affine is exactly what the JSON says.
        let affine = match parse_object(json.as_object().expect("built an object")) {
            Ok((a, _)) => a,
            Err(_) => affine,
        };
        TransformSpec {
            affine,
            form: TransformForm::Params,
            json,
        }
    }

    /// The transform.
    pub fn affine(&self) -> &Affine {
        &self.affine
    }

    /// The JSON form it was read in.
    pub fn form(&self) -> TransformForm {
        self.form
    }

    /// The JSON it was read from (or built as).
    pub fn to_json(&self) -> Value {
        self.json.clone()
    }

    /// Borrow the JSON.
    pub fn json(&self) -> &Value {
        &self.json
    }
}

fn float(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn pair_or_scalar(a: f64, b: f64) -> Value {
    if a == b {
        float(a)
    } else {
        Value::Array(vec![float(a), float(b)])
    }
}

fn parse_object(map: &Map<String, Value>) -> Result<(Affine, TransformForm)> {
    if let Some(t) = map.get("type") {
        match t.as_str() {
            Some("affine") => {}
            _ => {
                return Err(GeometryError::invalid(
                    WHAT,
                    format!("unsupported transform type {t} (only \"affine\")"),
                ));
            }
        }
    }
    if let Some(m) = map.get("matrix") {
        let a = if m.is_null() {
            Affine::IDENTITY
        } else {
            parse_matrix(m)?
        };
        return Ok((a, TransformForm::Matrix));
    }
    let mut p = AffineParams::default();
    let mut shear = None;
    let mut has_shearx = false;
    for (k, v) in map {
        match k.as_str() {
            "type" => {}
            "scale" => p.scale = scalar_or_pair(v, "transform scale", 1.0)?,
            "offset" => p.offset = scalar_or_pair(v, "transform offset", 0.0)?,
            "about" => p.about = scalar_or_pair(v, "transform about", 0.0)?,
            "theta" => p.theta = opt_num(v, "transform theta", 0.0)?,
            "shearx" => {
                has_shearx = true;
                p.shearx = opt_num(v, "transform shearx", 0.0)?;
            }
            "shear" => shear = Some(opt_num(v, "transform shear", 0.0)?),
            other => {
                return Err(GeometryError::invalid(
                    WHAT,
                    format!(
                        "unknown key {other:?} (known: type, matrix, scale, offset, theta, shearx, about)"
                    ),
                ));
            }
        }
    }
    if let (Some(s), false) = (shear, has_shearx) {
        p.shearx = s;
    }
    let only =
        |key: &str| map.len() == 1 + usize::from(map.contains_key("type")) && map.contains_key(key);
    let a = if only("scale") {
        Affine::scale(p.scale[0], p.scale[1])
    } else if only("offset") {
        Affine::translate(p.offset[0], p.offset[1])
    } else {
        Affine::from_params(&p)
    };
    if !a.is_finite() {
        return Err(GeometryError::invalid(
            WHAT,
            "parameters give a non-finite matrix",
        ));
    }
    Ok((a, TransformForm::Params))
}

fn opt_num(v: &Value, what: &'static str, default: f64) -> Result<f64> {
    if v.is_null() {
        Ok(default)
    } else {
        Ok(read_num(v, what)?.0)
    }
}

fn scalar_or_pair(v: &Value, what: &'static str, default: f64) -> Result<[f64; 2]> {
    match v {
        Value::Null => Ok([default, default]),
        Value::Number(_) => {
            let x = read_num(v, what)?.0;
            Ok([x, x])
        }
        Value::Array(a) if a.len() == 2 => Ok([read_num(&a[0], what)?.0, read_num(&a[1], what)?.0]),
        other => Err(GeometryError::invalid(
            what,
            format!(
                "expected a number or an [x, y] pair, got {}",
                describe(other)
            ),
        )),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("a list of {} values", a.len()),
        other => kind(other).to_string(),
    }
}

fn parse_matrix(v: &Value) -> Result<Affine> {
    let rows = v.as_array().ok_or_else(|| {
        GeometryError::invalid(
            "affine matrix",
            format!("expected a list of rows, got {}", kind(v)),
        )
    })?;
    if rows.len() != 2 && rows.len() != 3 {
        return Err(GeometryError::invalid(
            "affine matrix",
            format!("expected 2 or 3 rows, got {}", rows.len()),
        ));
    }
    let mut m = Affine::IDENTITY.m;
    for (i, row) in rows.iter().enumerate() {
        let cells = row.as_array().filter(|r| r.len() == 3).ok_or_else(|| {
            GeometryError::invalid(
                "affine matrix",
                format!("row {i} must be a list of 3 numbers"),
            )
        })?;
        for (j, c) in cells.iter().enumerate() {
            m[i][j] = read_num(c, "affine matrix")?.0;
        }
    }
    Affine::from_matrix(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_forms() {
        for v in [
            json!(null),
            json!({"type": "affine"}),
            json!({}),
            json!({"type": "affine", "matrix": null}),
        ] {
            let t = TransformSpec::from_json(&v).unwrap();
            assert!(t.affine().is_identity(), "{v}");
            assert_eq!(t.to_json(), v);
        }
    }

    #[test]
    fn fixture_scale_form_round_trips() {
        // From the vidshapes2-msi fixture: {"scale": 6.0, "type": "affine"}
        let text = r#"{"scale":6.0,"type":"affine"}"#;
        let t = TransformSpec::from_json_str(text).unwrap();
        assert_eq!(t.affine().m, Affine::scale(6.0, 6.0).m);
        assert_eq!(t.form(), TransformForm::Params);
        assert_eq!(t.to_json().to_string(), text);
    }

    #[test]
    fn matrix_and_bare_forms() {
        let v = json!({"type": "affine", "matrix": [[2, 0, 1], [0, 3, 4], [0, 0, 1]]});
        let t = TransformSpec::from_json(&v).unwrap();
        assert_eq!(t.affine().apply([1.0, 1.0]), [3.0, 7.0]);
        assert_eq!(t.to_json(), v);
        let b = TransformSpec::from_json(&json!([[1, 0, 5], [0, 1, 6]])).unwrap();
        assert_eq!(b.form(), TransformForm::Bare);
        assert_eq!(b.affine().apply([0.0, 0.0]), [5.0, 6.0]);
    }

    #[test]
    fn params_order_matches_kwimage() {
        let v = json!({"type": "affine", "scale": [2, 3], "offset": 5, "theta": 0.5, "shearx": 0.1, "about": [1, 2]});
        let t = TransformSpec::from_json(&v).unwrap();
        let expect = Affine::from_params(&AffineParams {
            scale: [2.0, 3.0],
            offset: [5.0, 5.0],
            theta: 0.5,
            shearx: 0.1,
            about: [1.0, 2.0],
        });
        assert_eq!(t.affine(), &expect);
        // legacy "shear" reads as shearx
        let legacy = TransformSpec::from_json(&json!({"shear": 0.1})).unwrap();
        assert_eq!(legacy.affine().m[0][1], 0.1);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = TransformSpec::from_json(&json!({"type": "affine", "scael": 2})).unwrap_err();
        assert!(e.to_string().contains("scael"), "{e}");
        let e = TransformSpec::from_json(&json!({"type": "projective"})).unwrap_err();
        assert!(e.to_string().contains("projective"), "{e}");
        assert!(TransformSpec::from_json(&json!([[1, 0], [0, 1]])).is_err());
        assert!(TransformSpec::from_json(&json!("affine")).is_err());
        assert!(TransformSpec::from_json(&json!({"scale": [1, 2, 3]})).is_err());
        assert!(TransformSpec::from_json_str(r#"{"theta": NaN}"#).is_err());
        assert!(
            TransformSpec::from_json_str(r#"{"matrix": [[1, 0, Infinity], [0, 1, 0]]}"#).is_err()
        );
    }

    #[test]
    fn concise_round_trip() {
        let a = Affine::from_params(&AffineParams {
            scale: [2.0, 0.5],
            offset: [3.0, -1.0],
            theta: 0.25,
            shearx: 0.0,
            about: [0.0, 0.0],
        });
        let t = TransformSpec::from_affine_concise(a);
        assert_eq!(t.form(), TransformForm::Params);
        let back = TransformSpec::from_json(&t.to_json()).unwrap();
        assert!((*back.affine() * a.inverse().unwrap()).is_close_identity(1e-9));
        assert_eq!(
            TransformSpec::from_affine_concise(Affine::IDENTITY).to_json(),
            json!({"type": "affine"})
        );
        let m = TransformSpec::from_affine_matrix(a);
        assert_eq!(TransformSpec::from_json(&m.to_json()).unwrap().affine(), &a);
    }
}
