//! Plain descriptions of what to read: an image made of assets (files), each
//! holding some named bands at some resolution, and a channel selection.

use std::path::PathBuf;

use coco_geometry::Affine;

use crate::error::{Error, Result};
use crate::values::Quantization;

/// One file of an image: its bands (named, in file band order) and where it sits
/// in image space.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetSource {
    /// The file (absolute, or relative to the working directory).
    pub path: PathBuf,
    /// Atomic band names in file band order (`["r", "g", "b"]`, `["B8"]`). Empty
    /// means "name them from the band count": `gray` (1), `r|g|b` (3),
    /// `r|g|b|a` (4), else `0|1|…`, as kwcoco does for files without a channel spec.
    /// Otherwise they must name exactly the file's bands: a file with more or
    /// fewer bands is an [`Error::Mismatch`] when the asset is read.
    pub channels: Vec<String>,
    /// Columns of the file as recorded in the dataset, 0 when unknown. A known
    /// width that differs from the file's is an [`Error::Mismatch`] naming the
    /// file and both sizes (never zero-padding or cropping).
    pub width: usize,
    /// Rows of the file as recorded in the dataset, 0 when unknown; checked
    /// like [`AssetSource::width`].
    pub height: usize,
    /// The asset → image transform (kwcoco `warp_aux_to_img`), pixel-edge coordinates.
    pub to_image: Affine,
    /// kwcoco's `quantization`: the file holds integer codes that every read
    /// turns back into float values (before any resampling), with NaN for the
    /// nodata code; see [`Quantization`].
    pub quantization: Option<Quantization>,
}

impl AssetSource {
    /// An asset at image resolution (identity warp).
    pub fn new(path: impl Into<PathBuf>, channels: &[&str]) -> AssetSource {
        AssetSource {
            path: path.into(),
            channels: channels.iter().map(|s| s.to_string()).collect(),
            width: 0,
            height: 0,
            to_image: Affine::IDENTITY,
            quantization: None,
        }
    }

    /// The same asset with another asset → image transform.
    pub fn with_to_image(mut self, to_image: Affine) -> AssetSource {
        self.to_image = to_image;
        self
    }
}

/// An image: its size in image space and the assets that hold its bands.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSource {
    /// Columns of image space.
    pub width: usize,
    /// Rows of image space.
    pub height: usize,
    /// The files; when two assets name the same band, the first one wins.
    pub assets: Vec<AssetSource>,
}

impl ImageSource {
    /// An image held by one file at image resolution whose bands are named from
    /// its band count (`gray`, `r|g|b`, …). The file must be `width × height`
    /// (0 = unknown): another size is an [`Error::Mismatch`] when it is read.
    pub fn single(path: impl Into<PathBuf>, width: usize, height: usize) -> ImageSource {
        let mut asset = AssetSource::new(path, &[]);
        asset.width = width;
        asset.height = height;
        ImageSource {
            width,
            height,
            assets: vec![asset],
        }
    }
}

/// Which bands to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Channels {
    /// Every band of the image (kwcoco's `<all>`): in file band order when the
    /// image has a single file, sorted by name when its bands come from several
    /// assets (the order the reference sampler returns for multi-asset images).
    #[default]
    All,
    /// These bands, in this order; a band the image lacks reads as NaN.
    Names(Vec<String>),
}

impl Channels {
    /// Parse a kwcoco channel code with the full grammar of the
    /// [`channel_spec`] crate (`"r|g|b"`, `"B1|B8"`, slices like `"B.0:3"`,
    /// aliases like `"rgb"`, late-fused `"a|b,c"` flattened in order), or
    /// `"<all>"` / an empty code for every band. A malformed code is an error,
    /// never a band with a strange name that would read as NaN.
    ///
    /// ```
    /// use frame_backends::Channels;
    /// assert_eq!(Channels::from_code("<all>").unwrap(), Channels::All);
    /// assert_eq!(Channels::from_code("B.0:2|r").unwrap(), Channels::Names(vec!["B.0".into(), "B.1".into(), "r".into()]));
    /// assert!(Channels::from_code("B.0:").is_err());
    /// ```
    pub fn from_code(code: &str) -> Result<Channels> {
        let code = code.trim();
        if code.is_empty() || code == "<all>" {
            return Ok(Channels::All);
        }
        let names = channel_spec::ChannelSpec::parse(code)
            .map(|spec| spec.fuse().to_names())
            .map_err(|e| Error::invalid(format!("channel code {code:?}: {e}")))?;
        // `<all>` only stands alone: inside a code it would be a band named
        // "<all>" that no image has (read as NaN without a word).
        if let Some(bad) = names.iter().find(|n| n.contains(['<', '>'])) {
            return Err(Error::invalid(format!(
                "channel code {code:?}: {bad:?} is not a band name (`<all>` must be the whole code)"
            )));
        }
        if names.is_empty() {
            return Err(Error::invalid(format!(
                "channel code {code:?} selects no band"
            )));
        }
        Ok(Channels::Names(names))
    }
}

impl std::str::FromStr for Channels {
    type Err = Error;
    /// Same as [`Channels::from_code`].
    fn from_str(code: &str) -> Result<Channels> {
        Channels::from_code(code)
    }
}

/// kwcoco's default band names for a file with `n` bands and no channel spec.
pub fn default_band_names(n: usize) -> Vec<String> {
    match n {
        1 => vec!["gray".into()],
        3 => vec!["r".into(), "g".into(), "b".into()],
        4 => vec!["r".into(), "g".into(), "b".into(), "a".into()],
        _ => (0..n).map(|i| i.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Channels {
        Channels::Names(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn parse_codes() {
        assert_eq!(Channels::from_code("").unwrap(), Channels::All);
        assert_eq!(Channels::from_code(" <all> ").unwrap(), Channels::All);
        assert_eq!(
            Channels::from_code("r|g,b").unwrap(),
            names(&["r", "g", "b"])
        );
        assert_eq!(Channels::from_code("rgb").unwrap(), names(&["r", "g", "b"]));
        assert_eq!(
            Channels::from_code("B.0:3").unwrap(),
            names(&["B.0", "B.1", "B.2"])
        );
        assert_eq!(
            Channels::from_code("x:2|y").unwrap(),
            names(&["x.0", "x.1", "y"])
        );
        for bad in ["B.0:", "r||g", "a|b,", "<all>|r", "B.3:1"] {
            let e = Channels::from_code(bad).unwrap_err().to_string();
            assert!(e.contains("channel code"), "{bad}: {e}");
        }
        assert_eq!(default_band_names(3), ["r", "g", "b"]);
        assert_eq!(default_band_names(2), ["0", "1"]);
    }
}
