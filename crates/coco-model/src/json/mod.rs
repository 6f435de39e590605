//! JSON plumbing: non-finite tokens, typed float reading, the kwcoco-style writer.

pub(crate) mod split;
mod write;

pub use coco_geometry::nonfinite::{
    Decoded, INF_SENTINEL, NAN_SENTINEL, NEG_INF_SENTINEL, NonFiniteReader, decode_str, escape,
    replace_non_finite, restore_tokens, sentinel_to_f64, sentinel_token, unescape,
};
#[doc(hidden)]
pub use write::JsonWriter;
pub use write::{DumpStyle, to_json_text};

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// An `f64` read from a JSON number or a non-finite sentinel (see [`NAN_SENTINEL`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonF64(pub f64);

impl<'de> Deserialize<'de> for JsonF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = JsonF64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonF64, E> {
                Ok(JsonF64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonF64, E> {
                Ok(JsonF64(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonF64, E> {
                Ok(JsonF64(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonF64, E> {
                // an escaped genuine string (`"\u0000NaN"` in the file) is not a number
                sentinel_to_f64(v)
                    .map(JsonF64)
                    .ok_or_else(|| E::invalid_type(de::Unexpected::Str(unescape(v)), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A typed string field of pre-passed text: a bare `NaN` / `Infinity` token of
/// the input is a type error, and a genuine string beginning with NUL has its
/// escape undone (see `coco_geometry::nonfinite`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonString(pub String);

/// The error of a bare non-finite token where a string is expected.
pub(crate) fn token_not_string<E: de::Error>(x: f64, exp: &dyn de::Expected) -> E {
    let tok = if x.is_nan() {
        "NaN"
    } else if x > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    };
    E::invalid_type(de::Unexpected::Other(&format!("bare `{tok}`")), exp)
}

impl<'de> Deserialize<'de> for JsonString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = JsonString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonString, E> {
                match decode_str(v) {
                    Decoded::Str(s) => Ok(JsonString(s.to_owned())),
                    Decoded::NonFinite(x) => Err(token_not_string(x, &self)),
                }
            }
            fn visit_string<E: de::Error>(self, mut v: String) -> Result<JsonString, E> {
                if let Some(x) = sentinel_to_f64(&v) {
                    return Err(token_not_string(x, &self));
                }
                if unescape(&v).len() < v.len() {
                    v.remove(0);
                }
                Ok(JsonString(v))
            }
        }
        d.deserialize_string(V)
    }
}

/// Reads an optional typed string field (see [`JsonString`]).
pub(crate) fn opt_string<'de, A: de::MapAccess<'de>>(
    map: &mut A,
) -> Result<Option<String>, A::Error> {
    Ok(map.next_value::<Option<JsonString>>()?.map(|s| s.0))
}

/// Splits serde_json's " at line L column C" suffixes off a message.
///
/// Nested errors keep the position of the inner error in their text, and the
/// outer error appends its own (less precise) one; the first position in the
/// text is the innermost, the one to report. Returns the message without any
/// position and that first position.
pub(crate) fn split_positions(msg: &str) -> (String, Option<(usize, usize)>) {
    const AT: &str = " at line ";
    let mut out = String::with_capacity(msg.len());
    let mut first = None;
    let mut rest = msg;
    while let Some(i) = rest.find(AT) {
        let tail = &rest[i + AT.len()..];
        let line_len = tail.bytes().take_while(u8::is_ascii_digit).count();
        let after_line = &tail[line_len..];
        let parsed = after_line.strip_prefix(" column ").and_then(|c| {
            let col_len = c.bytes().take_while(u8::is_ascii_digit).count();
            let line: usize = tail[..line_len].parse().ok()?;
            let col: usize = c[..col_len].parse().ok()?;
            Some((line, col, AT.len() + line_len + " column ".len() + col_len))
        });
        match parsed {
            Some((line, col, len)) if line_len > 0 => {
                out.push_str(&rest[..i]);
                if first.is_none() {
                    first = Some((line, col));
                }
                rest = &rest[i + len..];
            }
            _ => {
                out.push_str(&rest[..i + AT.len()]);
                rest = &rest[i + AT.len()..];
            }
        }
    }
    out.push_str(rest);
    (out, first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_positions_keeps_the_innermost() {
        assert_eq!(
            split_positions("bad at line 3 column 4"),
            ("bad".into(), Some((3, 4)))
        );
        assert_eq!(
            split_positions("a: b at line 3 column 4 at line 9 column 1"),
            ("a: b".into(), Some((3, 4)))
        );
        assert_eq!(
            split_positions("bad at line x column 4"),
            ("bad at line x column 4".into(), None)
        );
        assert_eq!(split_positions("plain"), ("plain".into(), None));
    }

    #[test]
    fn json_f64_reads_numbers_and_sentinels() {
        let v: Vec<JsonF64> = serde_json::from_str(r#"[1, -2.5, "\u0000NaN"]"#).unwrap();
        assert_eq!(v[0].0, 1.0);
        assert_eq!(v[1].0, -2.5);
        assert!(v[2].0.is_nan());
        assert!(serde_json::from_str::<JsonF64>(r#""NaN""#).is_err());
    }
}
