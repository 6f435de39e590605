//! JSON plumbing: non-finite tokens, typed float reading, the kwcoco-style writer.

mod nonfinite;
mod write;

pub use nonfinite::{
    INF_SENTINEL, NAN_SENTINEL, NEG_INF_SENTINEL, NonFiniteReader, replace_non_finite,
    restore_tokens, sentinel_to_f64, sentinel_token,
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
                sentinel_to_f64(v)
                    .map(JsonF64)
                    .ok_or_else(|| E::invalid_type(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// Strips serde_json's " at line L column C" suffix from a nested error message
/// (the outer error carries the position).
pub(crate) fn strip_position(msg: &str) -> &str {
    if let Some(i) = msg.rfind(" at line ") {
        let tail = &msg[i + " at line ".len()..];
        let mut parts = tail.split(" column ");
        if let (Some(l), Some(c), None) = (parts.next(), parts.next(), parts.next())
            && l.bytes().all(|b| b.is_ascii_digit())
            && c.bytes().all(|b| b.is_ascii_digit())
        {
            return &msg[..i];
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_position_only_strips_a_true_suffix() {
        assert_eq!(strip_position("bad at line 3 column 4"), "bad");
        assert_eq!(
            strip_position("bad at line x column 4"),
            "bad at line x column 4"
        );
        assert_eq!(strip_position("plain"), "plain");
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
