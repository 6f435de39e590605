//! The one place this crate uses `unsafe`: memory-mapping a snapshot read-only.
#![allow(unsafe_code)]

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use super::SnapshotError;

/// Map a snapshot file read-only (a regular file only: a FIFO or a device is
/// an error, never a hang).
///
/// Soundness: `Mmap::map` is unsafe because the mapped bytes could change
/// under us if another process writes to the same file. Snapshots are written
/// to a temporary file in the same directory and published with an atomic
/// `rename` ([`super::write_snapshot`]), never modified in place; a rebuild
/// renames a *new* inode over the path, which leaves existing mappings of the
/// old inode intact. (Truncating the file in place from outside would be a
/// `SIGBUS`, as for every mapped file; the npy cache shares that contract.) The
/// mapping is only ever read through `&[u8]` slices borrowed from the
/// [`Mmap`], which lives as long as the [`super::Snapshot`] that holds it, and
/// every read checks its bounds against the slice (no pointer arithmetic).
pub(super) fn map_file(path: &Path) -> Result<Mmap, SnapshotError> {
    let io = |e| SnapshotError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(SnapshotError::Corrupt {
            path: path.to_path_buf(),
            msg: "is not a regular file".into(),
        });
    }
    // SAFETY: see the function's documentation: the file is an immutable,
    // atomically published snapshot, read only through bounds-checked slices.
    unsafe { Mmap::map(&file) }.map_err(io)
}
