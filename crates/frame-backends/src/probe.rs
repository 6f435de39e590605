//! The size of an image file from its header, read once per process and file
//! version: what the sampler uses for images whose record has no
//! `width`/`height` (kwcoco's `_ensure_imgsize`, which ndsampler runs on every
//! image when a sampler is made, reads them with `kwimage.load_image_shape`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use parking_lot::Mutex;

use crate::error::Result;
use crate::raster::{ChunkCache, open_raw};

type Key = (PathBuf, u64, Option<SystemTime>);

fn cache() -> &'static Mutex<HashMap<Key, (usize, usize)>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, (usize, usize)>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// `(height, width)` of the image file at `path` (as this crate reads it: a
/// tifffile array is its array's size), from its header only. Cached per
/// path, length and modification time, so each file version is opened once
/// (a URL's header is kept per process by the remote reader).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.png");
/// image::GrayImage::new(7, 3).save(&path)?;
/// assert_eq!(frame_backends::probe_size(&path)?, (3, 7));
/// assert!(frame_backends::probe_size(&dir.path().join("missing.png")).is_err());
/// # Ok(()) }
/// ```
pub fn probe_size(path: &Path) -> Result<(usize, usize)> {
    if crate::is_url(path) {
        // Remote files keep their header per process (see `crate::remote`).
        let raster = open_raw(path, Arc::new(ChunkCache::new(0)))?;
        return Ok((raster.info().height, raster.info().width));
    }
    let meta = crate::file::check_regular(path)?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    if let Some(&hw) = cache().lock().get(&key) {
        return Ok(hw);
    }
    let raster = open_raw(path, Arc::new(ChunkCache::new(0)))?;
    let hw = (raster.info().height, raster.info().width);
    cache().lock().insert(key, hw);
    Ok(hw)
}
