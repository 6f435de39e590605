//! The COG cache (feature `gdal`).

use std::path::Path;
use std::sync::Arc;

use crate::cache::CacheOutcome;
use crate::error::{Error, Result};
use crate::raster::{ChunkCache, Raster};
use crate::reader::CogOptions;

/// Open (building if needed) the COG cache of `source`.
pub(crate) fn open_cog(
    _workdir: &Path,
    _options: &CogOptions,
    source: &Path,
    _chunks: Arc<ChunkCache>,
) -> Result<(Arc<dyn Raster>, CacheOutcome)> {
    Err(Error::unsupported(
        source,
        "the COG cache is being written (next commit)",
    ))
}
