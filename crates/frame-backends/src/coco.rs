//! The adapter from `coco-model` records to this crate's plain [`ImageSource`].

use coco_model::channels::ChannelSpec;
use coco_model::{CocoDataset, Image};

use crate::affine::Affine;
use crate::error::{Error, Result};
use crate::source::{AssetSource, Channels, ImageSource};

fn names(code: Option<&str>, what: &str) -> Result<Vec<String>> {
    match code {
        None | Some("") => Ok(Vec::new()),
        Some(c) => ChannelSpec::parse(c)
            .map(|s| s.fuse().to_names())
            .map_err(|e| Error::invalid(format!("{what}: channel code {c:?}: {e}"))),
    }
}

impl ImageSource {
    /// The pixels of a kwcoco image: its main `file_name` (if any) then each
    /// asset, with paths resolved against the dataset's bundle directory, channel
    /// codes expanded to atomic names and `warp_aux_to_img` parsed.
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// use frame_backends::ImageSource;
    /// let ds = CocoDataset::from_json_str(r#"{"images": [{"id": 1, "width": 6, "height": 6,
    ///   "auxiliary": [{"file_name": "b1.tif", "channels": "B1", "width": 6, "height": 6},
    ///                 {"file_name": "b8.tif", "channels": "B8|B9", "width": 3, "height": 3,
    ///                  "warp_aux_to_img": {"type": "affine", "scale": 2}}]}]}"#, "/data").unwrap();
    /// let src = ImageSource::from_coco(&ds, &ds.images()[0]).unwrap();
    /// assert_eq!(src.assets[1].path, std::path::Path::new("/data/b8.tif"));
    /// assert_eq!(src.assets[1].channels, ["B8", "B9"]);
    /// assert_eq!(src.assets[1].to_image.apply(1.0, 1.0), (2.0, 2.0));
    /// ```
    pub fn from_coco(ds: &CocoDataset, img: &Image) -> Result<ImageSource> {
        let mut assets = Vec::new();
        for s in img.channel_sources() {
            let warp = s.warp_to_img()?;
            assets.push(AssetSource {
                path: ds.resolve_path(s.file_name),
                channels: names(
                    s.channels,
                    &format!("image {} file {:?}", img.id, s.file_name),
                )?,
                width: s.width.unwrap_or(0) as usize,
                height: s.height.unwrap_or(0) as usize,
                to_image: Affine(warp.m),
            });
        }
        if assets.is_empty() {
            return Err(Error::invalid(format!(
                "image {} has neither a file_name nor assets",
                img.id
            )));
        }
        Ok(ImageSource {
            width: img.width.unwrap_or(0) as usize,
            height: img.height.unwrap_or(0) as usize,
            assets,
        })
    }
}

impl Channels {
    /// Parse a kwcoco channel code with `coco-model`'s full grammar (`"r|g|b"`,
    /// `"B1|B8"`, slices like `"B.0:3"`, late-fused `"a|b,c"` flattened), or
    /// `"<all>"`.
    pub fn from_code(code: &str) -> Result<Channels> {
        let code = code.trim();
        if code.is_empty() || code == "<all>" {
            return Ok(Channels::All);
        }
        Ok(Channels::Names(names(Some(code), "requested channels")?))
    }
}
