//! A small JSON writer: kwcoco-style separators, non-finite tokens, raw fragments.

use std::io::{self, Write};

use serde_json::Value;
use serde_json::value::RawValue;

use coco_geometry::nonfinite::{restore_tokens, sentinel_token, unescape};

/// Output layout of [`crate::CocoDataset::dump`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DumpStyle {
    /// kwcoco's layout: one table header per line, one record per line
    /// (image assets one per line too), `", "` and `": "` separators.
    #[default]
    Pretty,
    /// Everything on one line, no spaces.
    Compact,
}

/// Writes JSON values with the separators of a [`DumpStyle`] (used by
/// [`crate::record::Schema`] implementations).
pub struct JsonWriter<W: Write> {
    pub(crate) out: W,
    pub(crate) pretty: bool,
}

impl<W: Write> JsonWriter<W> {
    pub(crate) fn new(out: W, style: DumpStyle) -> Self {
        JsonWriter {
            out,
            pretty: style == DumpStyle::Pretty,
        }
    }

    /// Item separator inside records (`", "` pretty, `","` compact).
    pub(crate) fn comma(&mut self) -> io::Result<()> {
        self.out.write_all(if self.pretty { b", " } else { b"," })
    }

    /// Writes `"key": ` (the separator of the style included). Keys are in the
    /// untyped-value form (an escaped leading NUL is undone).
    pub(crate) fn key(&mut self, k: &str) -> io::Result<()> {
        self.string(unescape(k))?;
        self.out.write_all(if self.pretty { b": " } else { b":" })
    }

    pub(crate) fn raw(&mut self, s: &[u8]) -> io::Result<()> {
        self.out.write_all(s)
    }

    pub(crate) fn null(&mut self) -> io::Result<()> {
        self.out.write_all(b"null")
    }

    /// Writes a typed string as it is.
    pub(crate) fn string(&mut self, s: &str) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, s).map_err(io::Error::other)
    }

    /// Writes a string of an untyped value: a sentinel as its bare token, an
    /// escaped genuine string without its escape (see `coco_geometry::nonfinite`).
    pub(crate) fn value_string(&mut self, s: &str) -> io::Result<()> {
        if let Some(tok) = sentinel_token(s) {
            return self.out.write_all(tok.as_bytes());
        }
        self.string(unescape(s))
    }

    pub(crate) fn i64(&mut self, v: i64) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &v).map_err(io::Error::other)
    }

    pub(crate) fn u64(&mut self, v: u64) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &v).map_err(io::Error::other)
    }

    /// Writes a float; non-finite values as `NaN` / `Infinity` / `-Infinity`.
    pub(crate) fn f64(&mut self, v: f64) -> io::Result<()> {
        if v.is_nan() {
            self.out.write_all(b"NaN")
        } else if v == f64::INFINITY {
            self.out.write_all(b"Infinity")
        } else if v == f64::NEG_INFINITY {
            self.out.write_all(b"-Infinity")
        } else {
            serde_json::to_writer(&mut self.out, &v).map_err(io::Error::other)
        }
    }

    pub(crate) fn opt_str(&mut self, v: Option<&str>) -> io::Result<()> {
        match v {
            Some(s) => self.string(s),
            None => self.null(),
        }
    }

    pub(crate) fn opt_f64(&mut self, v: Option<f64>) -> io::Result<()> {
        match v {
            Some(x) => self.f64(x),
            None => self.null(),
        }
    }

    pub(crate) fn opt_i64(&mut self, v: Option<i64>) -> io::Result<()> {
        match v {
            Some(x) => self.i64(x),
            None => self.null(),
        }
    }

    pub(crate) fn opt_u64(&mut self, v: Option<u64>) -> io::Result<()> {
        match v {
            Some(x) => self.u64(x),
            None => self.null(),
        }
    }

    /// Writes a raw JSON fragment, restoring non-finite tokens.
    pub(crate) fn raw_value(&mut self, v: &RawValue) -> io::Result<()> {
        self.out.write_all(restore_tokens(v.get()).as_bytes())
    }

    pub(crate) fn opt_raw(&mut self, v: Option<&RawValue>) -> io::Result<()> {
        match v {
            Some(r) => self.raw_value(r),
            None => self.null(),
        }
    }

    /// Writes a [`Value`] inline (the style's separators, no newlines).
    pub(crate) fn value(&mut self, v: &Value) -> io::Result<()> {
        match v {
            Value::Null => self.null(),
            Value::Bool(b) => self.out.write_all(if *b { b"true" } else { b"false" }),
            Value::Number(n) => write!(self.out, "{n}"),
            Value::String(s) => self.value_string(s),
            Value::Array(items) => {
                self.out.write_all(b"[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.comma()?;
                    }
                    self.value(item)?;
                }
                self.out.write_all(b"]")
            }
            Value::Object(map) => {
                self.out.write_all(b"{")?;
                for (i, (k, item)) in map.iter().enumerate() {
                    if i > 0 {
                        self.comma()?;
                    }
                    self.key(k)?;
                    self.value(item)?;
                }
                self.out.write_all(b"}")
            }
        }
    }
}

/// Serializes a [`Value`] with kwcoco separators and non-finite tokens restored.
///
/// ```
/// use coco_model::json::{to_json_text, NAN_SENTINEL};
/// let v = serde_json::json!({"a": [1, 2.5, NAN_SENTINEL]});
/// assert_eq!(to_json_text(&v), r#"{"a": [1, 2.5, NaN]}"#);
/// ```
pub fn to_json_text(v: &Value) -> String {
    let mut w = JsonWriter::new(Vec::new(), DumpStyle::Pretty);
    // writing into a Vec cannot fail
    let _ = w.value(v);
    String::from_utf8(w.out).unwrap_or_default()
}
