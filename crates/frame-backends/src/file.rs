//! Opening files for reading pixels: only regular files, never blocking.
//!
//! A FIFO, a device or a directory in place of an image (or of a cache file)
//! would make a plain `open` + `read` block forever or read endless bytes. Every
//! file this crate reads pixels from is opened here: its metadata is checked
//! first (so the error names what the path really is), then it is opened with
//! `O_NONBLOCK` (so a file swapped for a FIFO in between cannot block the open),
//! and the opened handle is checked again with `fstat`.

use std::fs::{File, Metadata};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// What a non-regular file is, for error messages.
fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The metadata of `path` (symlinks followed) when it is a regular file;
/// [`Error::NotAFile`] naming the path and what it is otherwise.
pub(crate) fn check_regular(path: &Path) -> Result<Metadata> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
            kind: kind(&meta),
        });
    }
    Ok(meta)
}

/// Open `path` read-only if (and only if) it is a regular file, without ever
/// blocking (see the module docs).
pub(crate) fn open_regular(path: &Path) -> Result<File> {
    check_regular(path)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
            kind: kind(&meta),
        });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_and_fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_regular(dir.path()).unwrap_err().to_string();
        assert!(e.contains("a directory"), "{e}");
        let fifo = dir.path().join("f.png");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo");
        let e = open_regular(&fifo).unwrap_err().to_string();
        assert!(e.contains("a FIFO") && e.contains("f.png"), "{e}");
        let e = open_regular(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("character device"), "{e}");
        let file = dir.path().join("a.bin");
        std::fs::write(&file, b"x").unwrap();
        assert!(open_regular(&file).is_ok());
    }
}
