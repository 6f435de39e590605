//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while parsing a key or writing a dataset.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The dataset key does not follow the grammar (see [`crate::DatasetKey`]).
    #[error("toydata key {key:?}: {reason}")]
    Key {
        /// The key as given.
        key: String,
        /// What is wrong with it and what is accepted instead.
        reason: String,
    },
    /// A file or directory of the bundle could not be written.
    #[error("writing {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A PNG image could not be encoded.
    #[error("encoding PNG {path}: {source}")]
    Png {
        /// The image file.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: png::EncodingError,
    },
    /// A TIFF image could not be encoded.
    #[error("encoding TIFF {path}: {source}")]
    Tiff {
        /// The image file.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: tiff::TiffError,
    },
    /// `coco-model` rejected a generated record or could not write the dataset.
    #[error("dataset {path}: {source}")]
    Model {
        /// The `data.kwcoco.json` path.
        path: PathBuf,
        /// The model's error.
        #[source]
        source: coco_model::Error,
    },
    /// The generated dataset could not be serialized.
    #[error("writing dataset {path}: {message}")]
    Dataset {
        /// The `data.kwcoco.json` path.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

impl Error {
    pub(crate) fn key(key: &str, reason: impl Into<String>) -> Self {
        Error::Key {
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
