//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading windows or building caches.
///
/// Variants name the file (and where it helps the field) they are about, and are
/// grouped by remedy: bad requests ([`Error::InvalidRequest`]), missing or
/// unsupported inputs ([`Error::Io`], [`Error::Unsupported`]), corrupt data
/// ([`Error::Decode`], [`Error::CorruptCache`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read, written or renamed.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be decoded (bad header, truncated data, decoder failure).
    #[error("{path}: cannot decode: {msg}")]
    Decode {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        msg: String,
    },
    /// A file uses a layout or sample type this reader does not handle.
    #[error("{path}: unsupported: {msg}")]
    Unsupported {
        /// The file concerned.
        path: PathBuf,
        /// What is not supported.
        msg: String,
    },
    /// A cache file failed validation after it was (re)built.
    #[error("cache file {path} is invalid after building it: {msg}")]
    CorruptCache {
        /// The cache file.
        path: PathBuf,
        /// Why validation failed.
        msg: String,
    },
    /// The request itself is malformed (reversed window, singular transform, sizes
    /// that overflow, an empty channel list, …).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A backend that needs a cargo feature this build lacks.
    #[error("the {backend} backend needs the `{feature}` cargo feature of frame-backends")]
    FeatureDisabled {
        /// The backend asked for.
        backend: &'static str,
        /// The cargo feature that enables it.
        feature: &'static str,
    },
    /// A transform cannot be used (singular, not finite).
    #[error(transparent)]
    Geometry(#[from] coco_geometry::GeometryError),
    /// An error reported by GDAL.
    #[cfg(feature = "gdal")]
    #[error("{path}: GDAL: {source}")]
    Gdal {
        /// The file concerned.
        path: PathBuf,
        /// GDAL's error.
        #[source]
        source: gdal::errors::GdalError,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn decode(path: impl Into<PathBuf>, msg: impl std::fmt::Display) -> Self {
        Error::Decode {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
    pub(crate) fn unsupported(path: impl Into<PathBuf>, msg: impl std::fmt::Display) -> Self {
        Error::Unsupported {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
    pub(crate) fn invalid(msg: impl std::fmt::Display) -> Self {
        Error::InvalidRequest(msg.to_string())
    }
}
