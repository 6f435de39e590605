//! Typed record ids.
//!
//! Every table has its own id type so an image id cannot be passed where an
//! annotation id is expected. Numeric ids wrap an `i64` (`.0` gives it back);
//! track ids may be integers or strings, as kwcoco allows.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                $name(v)
            }
        }

        impl From<$name> for i64 {
            fn from(v: $name) -> i64 {
                v.0
            }
        }
    };
}

int_id!(
    /// Id of an image (`images[].id`, `annotations[].image_id`).
    ImageId
);
int_id!(
    /// Id of an annotation (`annotations[].id`).
    AnnotId
);
int_id!(
    /// Id of a category (`categories[].id`, `annotations[].category_id`).
    CategoryId
);
int_id!(
    /// Id of a video (`videos[].id`, `images[].video_id`).
    VideoId
);
int_id!(
    /// Id of a keypoint category (`keypoint_categories[].id`).
    KeypointCategoryId
);

/// Id of a track: kwcoco allows integers or strings (`tracks[].id`, `annotations[].track_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TrackId {
    /// An integer id.
    Int(i64),
    /// A string id.
    Str(String),
}

impl Default for TrackId {
    fn default() -> Self {
        TrackId::Int(0)
    }
}

impl fmt::Display for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackId::Int(v) => v.fmt(f),
            TrackId::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for TrackId {
    fn from(v: i64) -> Self {
        TrackId::Int(v)
    }
}

impl From<&str> for TrackId {
    fn from(v: &str) -> Self {
        TrackId::Str(v.to_owned())
    }
}

impl From<String> for TrackId {
    fn from(v: String) -> Self {
        TrackId::Str(v)
    }
}

/// Reads a track id from an integer or a string.
pub(crate) fn read_track_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<TrackId, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = TrackId;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer or a string")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TrackId, E> {
            Ok(TrackId::Int(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TrackId, E> {
            i64::try_from(v)
                .map(TrackId::Int)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TrackId, E> {
            // a bare `NaN` token is not a string id; an escaped NUL is undone
            match crate::json::decode_str(v) {
                crate::json::Decoded::Str(s) => Ok(TrackId::Str(s.to_owned())),
                crate::json::Decoded::NonFinite(x) => Err(crate::json::token_not_string(x, &self)),
            }
        }
    }
    d.deserialize_any(V)
}
