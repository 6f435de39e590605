//! The crate's error type.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in this crate. Messages name the file,
/// line/column, table, record id and field involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The JSON text is malformed or a record has a wrong type / missing field.
    /// `message` names the table, the record's position and id and the field.
    #[error("{}:{line}:{column}: {message}", path.as_deref().map_or_else(|| "<json>".into(), |p| p.display().to_string()))]
    Json {
        /// The file, when reading one.
        path: Option<PathBuf>,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What is wrong, e.g. ``annotations[3] (id 4): field `bbox`: invalid length 3``.
        message: String,
    },
    /// A `.zip` dataset could not be read.
    #[error("{}: {message}", path.display())]
    Zip {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A path is not a dataset (no `data.kwcoco.json` in a directory, …).
    #[error("{}: {message}", path.display())]
    NotADataset {
        /// The path given.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Adding a record whose id or unique name is already taken.
    #[error("{table}: {what} already exists")]
    Duplicate {
        /// The table.
        table: &'static str,
        /// Which id / name, e.g. `id 3` or `name "cat"`.
        what: String,
    },
    /// A record referred to does not exist.
    #[error("{table}: no record with {what}")]
    NotFound {
        /// The table.
        table: &'static str,
        /// Which id / name.
        what: String,
    },
    /// A field of a record holds an invalid value (found when parsing it
    /// lazily, e.g. a malformed `segmentation` or `warp_aux_to_img`).
    #[error("{table} id {id}: field `{field}`: {message}")]
    Field {
        /// The table.
        table: &'static str,
        /// The record's id (or name for assets).
        id: String,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A geometry error (from [`crate::geometry`]).
    #[error("geometry: {0}")]
    Geometry(#[from] crate::geometry::GeometryError),
    /// A malformed channel code (from [`crate::channels`]).
    #[error("channels: {0}")]
    Channels(#[from] crate::channels::ChannelError),
    /// The categories do not form a valid hierarchy (cycle, several parents…).
    #[error("category hierarchy: {0}")]
    CategoryTree(#[from] category_tree::Error),
    /// A value given through the API is invalid.
    #[error("invalid {what}: {message}")]
    InvalidValue {
        /// The field or argument.
        what: String,
        /// Why.
        message: String,
    },
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Converts a serde_json error, splitting off its position.
    pub(crate) fn from_json(path: Option<&Path>, e: serde_json::Error) -> Error {
        if e.is_io() {
            return Error::Io {
                path: path.map(Path::to_path_buf).unwrap_or_default(),
                source: std::io::Error::other(e.to_string()),
            };
        }
        let (message, inner) = crate::json::split_positions(&e.to_string());
        let (line, column) = inner.unwrap_or((e.line(), e.column()));
        Error::Json {
            path: path.map(Path::to_path_buf),
            line,
            column,
            message,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
