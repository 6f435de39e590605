//! `toydata`: Deterministic synthetic kwcoco datasets (shapes, videos, multispectral, big images).

use std::path::Path;

/// Error of the toy data generators.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Generators are being implemented.
    #[error("toydata key {0:?}: generators are not implemented yet")]
    NotYet(String),
}

/// Generate the dataset named by `key` into the bundle directory `out_dir`,
/// showing a progress bar on stderr for large outputs. Returns a one-line summary.
pub fn generate_with_progress(key: &str, _seed: Option<u64>, _out_dir: &Path) -> Result<String, Error> {
    Err(Error::NotYet(key.to_string()))
}
