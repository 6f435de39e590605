//! The `images` table and its `assets` (legacy `auxiliary`).

use std::io::{self, Write};

use serde::de::MapAccess;
use serde_json::Value;
use serde_json::value::RawValue;

use super::schema::{TableSeed, write_record};
use super::{Extra, KeyOrder, Schema, schema_common};
use crate::ids::{ImageId, VideoId};
use crate::json::JsonWriter;

/// One image (or video frame). Its pixels come from `file_name` (with
/// `channels`) and/or from its `assets`, each a file holding some channels
/// with a warp to image space.
#[derive(Debug, Clone, Default)]
pub struct Image {
    /// `id`.
    pub id: ImageId,
    /// `file_name`: the main file, relative to the bundle directory (or absolute); `None` when only assets hold the pixels.
    pub file_name: Option<String>,
    /// `name`: a unique name (kwcoco).
    pub name: Option<String>,
    /// `width` in pixels.
    pub width: Option<u32>,
    /// `height` in pixels.
    pub height: Option<u32>,
    /// `channels` of the main file: a raw kwcoco channel code such as `"r|g|b"`.
    pub channels: Option<String>,
    /// `video_id`: the video this image is a frame of.
    pub video_id: Option<VideoId>,
    /// `frame_index`: position in the video.
    pub frame_index: Option<i64>,
    /// `warp_img_to_vid`: raw JSON of the image → video transform.
    pub warp_img_to_vid: Option<Box<RawValue>>,
    /// `timestamp` (any JSON value: kwcoco writes ISO strings or numbers).
    pub timestamp: Option<Value>,
    /// `sensor`.
    pub sensor: Option<String>,
    /// `assets` (or legacy `auxiliary`, see [`Image::auxiliary_key`]).
    pub assets: Option<Vec<Asset>>,
    /// Whether the assets were read from (and are written to) the legacy `auxiliary` key.
    pub auxiliary_key: bool,
    /// Every other key, in input order.
    pub extra: Extra,
    /// Key order of the input record.
    pub key_order: KeyOrder,
}

impl Image {
    /// An image with a main file (id 0 until added to a dataset).
    pub fn new(file_name: impl Into<String>) -> Self {
        Image {
            file_name: Some(file_name.into()),
            ..Default::default()
        }
    }

    /// The assets (`assets` or legacy `auxiliary`), empty when there are none.
    pub fn assets(&self) -> &[Asset] {
        self.assets.as_deref().unwrap_or(&[])
    }

    /// The image → video transform (identity when absent or `null`).
    ///
    /// ```
    /// use coco_model::{record::record_from_json, Image};
    /// let img: Image = record_from_json(r#"{"id": 1, "warp_img_to_vid": {"type": "affine", "scale": 2}}"#).unwrap();
    /// assert_eq!(img.warp_img_to_vid().unwrap().apply([1.0, 1.0]), [2.0, 2.0]);
    /// ```
    pub fn warp_img_to_vid(&self) -> Result<crate::geometry::Affine, crate::Error> {
        parse_warp(self.warp_img_to_vid.as_deref()).map_err(|e| crate::Error::Field {
            table: "images",
            id: self.id.to_string(),
            field: "warp_img_to_vid".into(),
            message: e.to_string(),
        })
    }

    /// Raw JSON text of `warp_img_to_vid`, if present.
    pub fn warp_img_to_vid_json(&self) -> Option<&str> {
        self.warp_img_to_vid.as_deref().map(RawValue::get)
    }

    /// Every source of this image's channels: the main file first (when
    /// `file_name` is set), then each asset, in order.
    ///
    /// ```
    /// use coco_model::{Asset, Image};
    /// let mut img = Image::new("rgb.png");
    /// img.channels = Some("r|g|b".into());
    /// img.assets = Some(vec![Asset::new("nir.tif", "nir")]);
    /// let srcs = img.channel_sources();
    /// assert_eq!(srcs.len(), 2);
    /// assert!(srcs[0].is_main);
    /// assert_eq!(srcs[1].channels, Some("nir"));
    /// ```
    pub fn channel_sources(&self) -> Vec<ChannelSource<'_>> {
        let mut out = Vec::with_capacity(1 + self.assets().len());
        if let Some(f) = &self.file_name {
            out.push(ChannelSource {
                file_name: f,
                channels: self.channels.as_deref(),
                width: self.width,
                height: self.height,
                warp_to_img: None,
                is_main: true,
                asset_index: None,
            });
        }
        for (i, a) in self.assets().iter().enumerate() {
            if let Some(f) = &a.file_name {
                out.push(ChannelSource {
                    file_name: f,
                    channels: a.channels.as_deref(),
                    width: a.width,
                    height: a.height,
                    warp_to_img: a.warp_aux_to_img.as_deref(),
                    is_main: false,
                    asset_index: Some(i),
                });
            }
        }
        out
    }
}

/// One file holding some channels of an image (an entry of `assets`/`auxiliary`).
#[derive(Debug, Clone, Default)]
pub struct Asset {
    /// `file_name`, relative to the bundle directory (or absolute).
    pub file_name: Option<String>,
    /// `channels`: raw kwcoco channel code.
    pub channels: Option<String>,
    /// `width` in pixels of the file.
    pub width: Option<u32>,
    /// `height` in pixels of the file.
    pub height: Option<u32>,
    /// `warp_aux_to_img`: raw JSON of the asset → image transform (identity when absent).
    pub warp_aux_to_img: Option<Box<RawValue>>,
    /// Every other key, in input order.
    pub extra: Extra,
    /// Key order of the input record.
    pub key_order: KeyOrder,
}

impl Asset {
    /// An asset file holding `channels`.
    pub fn new(file_name: impl Into<String>, channels: impl Into<String>) -> Self {
        Asset {
            file_name: Some(file_name.into()),
            channels: Some(channels.into()),
            ..Default::default()
        }
    }

    /// The asset → image transform (identity when absent or `null`).
    pub fn warp_aux_to_img(&self) -> Result<crate::geometry::Affine, crate::Error> {
        parse_warp(self.warp_aux_to_img.as_deref()).map_err(|e| crate::Error::Field {
            table: "assets",
            id: format!("{:?}", self.file_name.as_deref().unwrap_or("")),
            field: "warp_aux_to_img".into(),
            message: e.to_string(),
        })
    }

    /// Raw JSON text of `warp_aux_to_img`, if present.
    pub fn warp_aux_to_img_json(&self) -> Option<&str> {
        self.warp_aux_to_img.as_deref().map(RawValue::get)
    }
}

/// A file providing channels of an image; see [`Image::channel_sources`].
#[derive(Debug, Clone, Copy)]
pub struct ChannelSource<'a> {
    /// The file name as stored (resolve it with [`crate::CocoDataset::resolve_path`]).
    pub file_name: &'a str,
    /// Its channel code, if given.
    pub channels: Option<&'a str>,
    /// Its width, if given.
    pub width: Option<u32>,
    /// Its height, if given.
    pub height: Option<u32>,
    /// Raw JSON of its warp to image space (`None`: identity); parse it with
    /// [`ChannelSource::warp_to_img`].
    pub warp_to_img: Option<&'a RawValue>,
    /// Whether this is the image's main `file_name`.
    pub is_main: bool,
    /// Index in [`Image::assets`] for an asset.
    pub asset_index: Option<usize>,
}

impl ChannelSource<'_> {
    /// The source → image transform (identity for the main file or when absent).
    pub fn warp_to_img(&self) -> Result<crate::geometry::Affine, crate::Error> {
        parse_warp(self.warp_to_img).map_err(|e| crate::Error::Field {
            table: "assets",
            id: format!("{:?}", self.file_name),
            field: "warp_aux_to_img".into(),
            message: e.to_string(),
        })
    }
}

/// Parses a raw transform (identity when absent).
fn parse_warp(
    raw: Option<&RawValue>,
) -> Result<crate::geometry::Affine, crate::geometry::GeometryError> {
    match raw {
        None => Ok(crate::geometry::Affine::IDENTITY),
        Some(r) => {
            crate::geometry::TransformSpec::from_prepassed_json_str(r.get()).map(|t| *t.affine())
        }
    }
}

const TAG_ASSETS: usize = 11;
const TAG_AUX: usize = 12;

impl Schema for Image {
    const TABLE: &'static str = "images";
    const KEYS: &'static [&'static str] = &[
        "id",
        "file_name",
        "name",
        "width",
        "height",
        "channels",
        "video_id",
        "frame_index",
        "warp_img_to_vid",
        "timestamp",
        "sensor",
        "assets",
        "auxiliary",
    ];
    const REQUIRED: u16 = 0b1;

    schema_common!();

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        tag: usize,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match tag {
            0 => self.id = ImageId(map.next_value()?),
            1 => self.file_name = crate::json::opt_string(map)?,
            2 => self.name = crate::json::opt_string(map)?,
            3 => self.width = map.next_value()?,
            4 => self.height = map.next_value()?,
            5 => self.channels = crate::json::opt_string(map)?,
            6 => self.video_id = map.next_value::<Option<i64>>()?.map(VideoId),
            7 => self.frame_index = map.next_value()?,
            8 => self.warp_img_to_vid = map.next_value()?,
            9 => self.timestamp = map.next_value::<Option<Value>>()?,
            10 => self.sensor = crate::json::opt_string(map)?,
            TAG_ASSETS | TAG_AUX => {
                if self.assets.is_some() {
                    // both `assets` and `auxiliary`: keep the second one untyped
                    let v: Value = map.next_value()?;
                    self.extra.insert(Self::KEYS[tag], v);
                    return Ok(false);
                }
                self.assets = map.next_value_seed(OptAssets)?;
                self.auxiliary_key = tag == TAG_AUX;
            }
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(true)
    }

    fn write_field<W: Write>(&self, tag: usize, w: &mut JsonWriter<W>) -> io::Result<()> {
        match tag {
            0 => w.i64(self.id.0),
            1 => w.opt_str(self.file_name.as_deref()),
            2 => w.opt_str(self.name.as_deref()),
            3 => w.opt_u64(self.width.map(u64::from)),
            4 => w.opt_u64(self.height.map(u64::from)),
            5 => w.opt_str(self.channels.as_deref()),
            6 => w.opt_i64(self.video_id.map(|v| v.0)),
            7 => w.opt_i64(self.frame_index),
            8 => w.opt_raw(self.warp_img_to_vid.as_deref()),
            9 => match &self.timestamp {
                Some(v) => w.value(v),
                None => w.null(),
            },
            10 => w.opt_str(self.sensor.as_deref()),
            TAG_ASSETS | TAG_AUX => match &self.assets {
                Some(list) => {
                    // kwcoco's pretty dump puts each asset on its own line
                    let nl: &[u8] = if w.pretty && !list.is_empty() {
                        b"\n"
                    } else {
                        b""
                    };
                    w.raw(b"[")?;
                    w.raw(nl)?;
                    for (i, a) in list.iter().enumerate() {
                        if i > 0 {
                            w.raw(b",")?;
                            w.raw(if w.pretty { b"\n" } else { b"" })?;
                        }
                        write_record(a, w)?;
                    }
                    w.raw(nl)?;
                    w.raw(b"]")
                }
                None => w.null(),
            },
            _ => w.null(),
        }
    }

    fn has_value(&self, tag: usize) -> bool {
        match tag {
            0 => true,
            1 => self.file_name.is_some(),
            2 => self.name.is_some(),
            3 => self.width.is_some(),
            4 => self.height.is_some(),
            5 => self.channels.is_some(),
            6 => self.video_id.is_some(),
            7 => self.frame_index.is_some(),
            8 => self.warp_img_to_vid.is_some(),
            9 => self.timestamp.is_some(),
            10 => self.sensor.is_some(),
            TAG_ASSETS => self.assets.is_some() && !self.auxiliary_key,
            TAG_AUX => self.assets.is_some() && self.auxiliary_key,
            _ => false,
        }
    }

    fn id_text(&self) -> String {
        self.id.to_string()
    }
}

/// Reads `null` or a list of assets.
struct OptAssets;

impl<'de> serde::de::DeserializeSeed<'de> for OptAssets {
    type Value = Option<Vec<Asset>>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Option<Vec<Asset>>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("null or a list of assets")
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
                use serde::de::DeserializeSeed;
                TableSeed::<Asset>::new().deserialize(d).map(Some)
            }
        }
        d.deserialize_option(V)
    }
}

impl Schema for Asset {
    const TABLE: &'static str = "assets";
    const KEYS: &'static [&'static str] = &[
        "file_name",
        "channels",
        "width",
        "height",
        "warp_aux_to_img",
    ];
    const REQUIRED: u16 = 0;

    schema_common!();

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        tag: usize,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match tag {
            0 => self.file_name = crate::json::opt_string(map)?,
            1 => self.channels = crate::json::opt_string(map)?,
            2 => self.width = map.next_value()?,
            3 => self.height = map.next_value()?,
            4 => self.warp_aux_to_img = map.next_value()?,
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(true)
    }

    fn write_field<W: Write>(&self, tag: usize, w: &mut JsonWriter<W>) -> io::Result<()> {
        match tag {
            0 => w.opt_str(self.file_name.as_deref()),
            1 => w.opt_str(self.channels.as_deref()),
            2 => w.opt_u64(self.width.map(u64::from)),
            3 => w.opt_u64(self.height.map(u64::from)),
            4 => w.opt_raw(self.warp_aux_to_img.as_deref()),
            _ => w.null(),
        }
    }

    fn has_value(&self, tag: usize) -> bool {
        match tag {
            0 => self.file_name.is_some(),
            1 => self.channels.is_some(),
            2 => self.width.is_some(),
            3 => self.height.is_some(),
            4 => self.warp_aux_to_img.is_some(),
            _ => false,
        }
    }

    fn id_text(&self) -> String {
        format!("{:?}", self.file_name.as_deref().unwrap_or(""))
    }
}

fn raw_eq(a: &Option<Box<RawValue>>, b: &Option<Box<RawValue>>) -> bool {
    a.as_deref().map(RawValue::get) == b.as_deref().map(RawValue::get)
}

/// Equality of content (raw JSON compared as text; key order ignored).
impl PartialEq for Image {
    fn eq(&self, o: &Self) -> bool {
        self.id == o.id
            && self.file_name == o.file_name
            && self.name == o.name
            && self.width == o.width
            && self.height == o.height
            && self.channels == o.channels
            && self.video_id == o.video_id
            && self.frame_index == o.frame_index
            && raw_eq(&self.warp_img_to_vid, &o.warp_img_to_vid)
            && self.timestamp == o.timestamp
            && self.sensor == o.sensor
            && self.assets == o.assets
            && self.auxiliary_key == o.auxiliary_key
            && self.extra == o.extra
    }
}

/// Equality of content (raw JSON compared as text; key order ignored).
impl PartialEq for Asset {
    fn eq(&self, o: &Self) -> bool {
        self.file_name == o.file_name
            && self.channels == o.channels
            && self.width == o.width
            && self.height == o.height
            && raw_eq(&self.warp_aux_to_img, &o.warp_aux_to_img)
            && self.extra == o.extra
    }
}
