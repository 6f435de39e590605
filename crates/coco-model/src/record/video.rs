//! The `videos` and `tracks` tables.

use std::io::{self, Write};

use serde::de::MapAccess;

use super::{Extra, KeyOrder, Schema, schema_common};
use crate::ids::{TrackId, VideoId, read_track_id};
use crate::json::JsonWriter;

/// One video: an ordered sequence of images (frames, by `frame_index`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Video {
    /// `id`.
    pub id: VideoId,
    /// `name` (unique).
    pub name: Option<String>,
    /// `width` of the video space in pixels.
    pub width: Option<u32>,
    /// `height` of the video space in pixels.
    pub height: Option<u32>,
    /// Every other key, in input order.
    pub extra: Extra,
    /// Key order of the input record.
    pub key_order: KeyOrder,
}

impl Video {
    /// A video named `name` (id 0 until added to a dataset).
    pub fn new(name: impl Into<String>) -> Self {
        Video {
            name: Some(name.into()),
            ..Default::default()
        }
    }
}

impl Schema for Video {
    const TABLE: &'static str = "videos";
    const KEYS: &'static [&'static str] = &["id", "name", "width", "height"];
    const REQUIRED: u16 = 0b1;

    schema_common!();

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        tag: usize,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match tag {
            0 => self.id = VideoId(map.next_value()?),
            1 => self.name = crate::json::opt_string(map)?,
            2 => self.width = map.next_value()?,
            3 => self.height = map.next_value()?,
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(true)
    }

    fn write_field<W: Write>(&self, tag: usize, w: &mut JsonWriter<W>) -> io::Result<()> {
        match tag {
            0 => w.i64(self.id.0),
            1 => w.opt_str(self.name.as_deref()),
            2 => w.opt_u64(self.width.map(u64::from)),
            3 => w.opt_u64(self.height.map(u64::from)),
            _ => w.null(),
        }
    }

    fn has_value(&self, tag: usize) -> bool {
        match tag {
            0 => true,
            1 => self.name.is_some(),
            2 => self.width.is_some(),
            3 => self.height.is_some(),
            _ => false,
        }
    }

    fn id_text(&self) -> String {
        self.id.to_string()
    }
}

/// One track: an object followed over the frames of a video.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Track {
    /// `id` (integer or string).
    pub id: TrackId,
    /// `name`.
    pub name: Option<String>,
    /// Every other key, in input order.
    pub extra: Extra,
    /// Key order of the input record.
    pub key_order: KeyOrder,
}

impl Track {
    /// A track named `name` (id 0 until added to a dataset).
    pub fn new(name: impl Into<String>) -> Self {
        Track {
            name: Some(name.into()),
            ..Default::default()
        }
    }
}

impl Schema for Track {
    const TABLE: &'static str = "tracks";
    const KEYS: &'static [&'static str] = &["id", "name"];
    const REQUIRED: u16 = 0b1;

    schema_common!();

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        tag: usize,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match tag {
            0 => self.id = map.next_value_seed(TrackIdSeed)?,
            1 => self.name = crate::json::opt_string(map)?,
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(true)
    }

    fn write_field<W: Write>(&self, tag: usize, w: &mut JsonWriter<W>) -> io::Result<()> {
        match tag {
            0 => match &self.id {
                TrackId::Int(v) => w.i64(*v),
                TrackId::Str(s) => w.string(s),
            },
            1 => w.opt_str(self.name.as_deref()),
            _ => w.null(),
        }
    }

    fn has_value(&self, tag: usize) -> bool {
        match tag {
            0 => true,
            1 => self.name.is_some(),
            _ => false,
        }
    }

    fn id_text(&self) -> String {
        self.id.to_string()
    }
}

struct TrackIdSeed;

impl<'de> serde::de::DeserializeSeed<'de> for TrackIdSeed {
    type Value = TrackId;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<TrackId, D::Error> {
        read_track_id(d)
    }
}
