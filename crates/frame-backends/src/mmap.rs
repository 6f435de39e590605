//! The one place this crate uses `unsafe`: memory-mapping a file read-only.
#![allow(unsafe_code)]

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use crate::error::{Error, Result};

/// Files up to this size are pre-faulted when mapped (`MAP_POPULATE`).
const POPULATE_MAX: u64 = 1 << 30;

/// Map `path` read-only (only a regular file, see [`crate::file::open_regular`]).
///
/// Soundness: `Mmap::map` is unsafe because the mapped bytes could change under
/// us if another process writes to the same file. This crate only maps files it
/// owns under its cache directory: cache files are written to a temporary file and
/// published with an atomic `rename`, never modified in place afterwards; a
/// rebuild renames a *new* inode over the path, which leaves existing mappings of
/// the old inode intact. The mapping is only ever read through `&[u8]` slices that
/// live no longer than the `Mmap` (held in an `Arc` by the raster that uses it).
pub(crate) fn map_file(path: &Path) -> Result<Mmap> {
    let file: File = crate::file::open_regular(path)?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut opts = memmap2::MmapOptions::new();
    if len <= POPULATE_MAX {
        // Pre-fault the page tables: random windows otherwise pay one minor page
        // fault per row touched, which costs more than copying the row.
        opts.populate();
    }
    // SAFETY: see the function's documentation: the file is an immutable cache file.
    unsafe { opts.map(&file) }.map_err(|e| Error::io(path, e))
}
