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
    /// A path that must be a regular file is something else (a FIFO, a device,
    /// a directory…): refused before opening it, so that nothing blocks.
    #[error("{path}: is {kind}, not a regular file")]
    NotAFile {
        /// The path concerned.
        path: PathBuf,
        /// What it is (`"a FIFO"`, `"a directory"`, …).
        kind: &'static str,
    },
    /// A file disagrees with what the dataset declares for it: another size
    /// than the declared `width`/`height`, or another band count than the
    /// declared channels. Never read as padding or silently dropped bands.
    #[error("{path}: the dataset declares {declared} but the file has {found}")]
    Mismatch {
        /// The file concerned.
        path: PathBuf,
        /// What the dataset says (`"640×480 pixels"`, `"3 bands (r|g|b)"`).
        declared: String,
        /// What the file holds.
        found: String,
    },
    /// A cache file's content does not match the checksum in its sidecar (or
    /// the sidecar is missing or malformed). The cache entry is rebuilt.
    #[error("cache file {path}: {msg}")]
    Checksum {
        /// The cache file.
        path: PathBuf,
        /// What disagrees.
        msg: String,
    },
    /// A read would allocate more than the configured limit
    /// ([`crate::ReaderOptions::max_read_bytes`]); checked before allocating.
    #[error(
        "{what} needs {bytes} bytes, more than the limit of {limit} bytes (ReaderOptions::max_read_bytes)"
    )]
    TooLarge {
        /// What was asked (the window, the source region, the whole file).
        what: String,
        /// Bytes it would take.
        bytes: u128,
        /// The limit.
        limit: usize,
    },
    /// A file's own metadata describes an array its content cannot hold (a
    /// tifffile shape over more pages than the file has, pages of another
    /// layout, an array of another rank than an image). Never handed to
    /// another reader, which would read some other array without a word.
    #[error("{path}: {msg}")]
    Layout {
        /// The file concerned.
        path: PathBuf,
        /// What disagrees.
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
    /// A remote source (URL) failed: not found, access denied, out of
    /// retries, or a path of a URL given to a build without the `remote`
    /// feature. `url` never carries a query or user info.
    #[error("{url}: {msg}")]
    Remote {
        /// The URL concerned (see [`crate::display_url`]).
        url: String,
        /// What went wrong.
        msg: String,
    },
    /// A remote object changed (its size or ETag) since the header this
    /// process holds for it was read: the file has been forgotten, and
    /// opening it again reads the new header. [`crate::FrameReader`]'s reads
    /// do that themselves (once) before returning this.
    #[error("{url}: the object changed (size or ETag) since its header was read; open it again")]
    RemoteChanged {
        /// The URL concerned (see [`crate::display_url`]).
        url: String,
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
    pub(crate) fn layout(path: impl Into<PathBuf>, msg: impl std::fmt::Display) -> Self {
        Error::Layout {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
    pub(crate) fn remote(url: &str, msg: impl std::fmt::Display) -> Self {
        Error::Remote {
            url: crate::remote_url::display_url(url),
            msg: msg.to_string(),
        }
    }
    pub(crate) fn invalid(msg: impl std::fmt::Display) -> Self {
        Error::InvalidRequest(msg.to_string())
    }
}
