//! The adapter from `coco-model` image records to `frame-backends`' plain
//! [`ImageSource`]: paths resolved against the bundle, channel codes expanded
//! to atomic band names, `warp_aux_to_img` parsed.

use coco_model::channels::ChannelSpec;
use coco_model::{CocoDataset, Image};
use frame_backends::{AssetSource, ImageSource, Quantization};

use crate::error::{Error, Result};

/// Atomic band names of an asset's channel code (empty when it has none: the
/// reader then names bands from their count, as kwcoco does).
fn band_names(code: Option<&str>, img: &Image, file_name: &str) -> Result<Vec<String>> {
    match code {
        None | Some("") => Ok(Vec::new()),
        Some(c) => ChannelSpec::parse(c)
            .map(|s| s.fuse().to_names())
            .map_err(|e| Error::Record {
                what: format!("channels of image {} file {file_name:?}", img.id),
                msg: format!("channel code {c:?}: {e}"),
            }),
    }
}

/// The pixels of a kwcoco image: its main `file_name` (if any) then each
/// asset, with paths resolved against the dataset's bundle directory, channel
/// codes expanded to atomic names, `warp_aux_to_img` and `quantization`
/// parsed (a quantized asset always reads dequantized, as
/// `kwcoco.CocoImage.imdelay` does).
///
/// ```
/// use coco_model::CocoDataset;
/// let ds = CocoDataset::from_json_str(r#"{"images": [{"id": 1, "width": 6, "height": 6,
///   "auxiliary": [{"file_name": "b1.tif", "channels": "B1", "width": 6, "height": 6},
///                 {"file_name": "b8.tif", "channels": "B.8:10", "width": 3, "height": 3,
///                  "warp_aux_to_img": {"type": "affine", "scale": 2}}]}]}"#, "/data").unwrap();
/// let src = sampler::image_source(&ds, &ds.images()[0]).unwrap();
/// assert_eq!(src.assets[1].path, std::path::Path::new("/data/b8.tif"));
/// assert_eq!(src.assets[1].channels, ["B.8", "B.9"]);
/// assert_eq!(src.assets[1].to_image.apply([1.0, 1.0]), [2.0, 2.0]);
/// ```
pub fn image_source(ds: &CocoDataset, img: &Image) -> Result<ImageSource> {
    let mut assets = Vec::new();
    for s in img.channel_sources() {
        let to_image = s.warp_to_img()?;
        let record = match s.asset_index {
            None => Some(&img.extra),
            Some(i) => img.assets().get(i).map(|a| &a.extra),
        };
        let quantization = match record.and_then(|r| r.get("quantization")) {
            None | Some(serde_json::Value::Null) => None,
            Some(q) => Some(Quantization::from_json(q).map_err(|e| Error::Record {
                what: format!("image {} file {:?}", img.id, s.file_name),
                msg: e.to_string(),
            })?),
        };
        assets.push(AssetSource {
            path: ds.resolve_path(s.file_name),
            channels: band_names(s.channels, img, s.file_name)?,
            width: s.width.unwrap_or(0) as usize,
            height: s.height.unwrap_or(0) as usize,
            to_image,
            quantization,
        });
    }
    if assets.is_empty() {
        return Err(Error::Record {
            what: format!("image {}", img.id),
            msg: "has neither a file_name nor assets".into(),
        });
    }
    Ok(ImageSource {
        width: img.width.unwrap_or(0) as usize,
        height: img.height.unwrap_or(0) as usize,
        assets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(images: &str) -> CocoDataset {
        CocoDataset::from_json_str(&format!(r#"{{"images": {images}}}"#), "/b").unwrap()
    }

    #[test]
    fn main_file_then_assets_with_their_warps() {
        let ds = dataset(
            r#"[{"id": 3, "file_name": "rgb.png", "channels": "rgb", "width": 8, "height": 4,
                 "auxiliary": [{"file_name": "sub/ir.tif", "channels": "ir", "width": 4, "height": 2,
                                "warp_aux_to_img": {"scale": [2, 2], "offset": [1, 0]}}]}]"#,
        );
        let src = image_source(&ds, &ds.images()[0]).unwrap();
        assert_eq!((src.width, src.height), (8, 4));
        assert_eq!(src.assets.len(), 2);
        assert_eq!(src.assets[0].path, std::path::Path::new("/b/rgb.png"));
        assert_eq!(src.assets[0].channels, ["r", "g", "b"]);
        assert!(src.assets[0].to_image.is_identity());
        assert_eq!(src.assets[1].path, std::path::Path::new("/b/sub/ir.tif"));
        assert_eq!((src.assets[1].width, src.assets[1].height), (4, 2));
        assert_eq!(src.assets[1].to_image.apply([1.0, 1.0]), [3.0, 2.0]);
    }

    #[test]
    fn kwcoco_assets_key_reads_like_auxiliary() {
        let ds = dataset(
            r#"[{"id": 4, "width": 4, "height": 4,
                 "assets": [{"file_name": "b1.tif", "channels": "B1|B2", "width": 2, "height": 2,
                             "warp_aux_to_img": {"scale": 2}}]}]"#,
        );
        let src = image_source(&ds, &ds.images()[0]).unwrap();
        assert_eq!(src.assets.len(), 1);
        assert_eq!(src.assets[0].channels, ["B1", "B2"]);
        assert_eq!(src.assets[0].to_image.apply([1.0, 1.0]), [2.0, 2.0]);
    }

    #[test]
    fn bad_records_are_clear_errors() {
        let ds = dataset(r#"[{"id": 5, "width": 8, "height": 4}]"#);
        let e = image_source(&ds, &ds.images()[0]).unwrap_err().to_string();
        assert!(e.contains("image 5") && e.contains("neither"), "{e}");
        let ds = dataset(r#"[{"id": 6, "file_name": "a.png", "channels": "B.0:"}]"#);
        let e = image_source(&ds, &ds.images()[0]).unwrap_err().to_string();
        assert!(e.contains("image 6") && e.contains("B.0:"), "{e}");
    }
}
