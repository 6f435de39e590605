//! Cache files: where they live, what their key covers, and how exactly one
//! builder (across threads and processes) writes each of them.
//!
//! **Key.** A cache file's name holds a 128-bit xxh3 hash of: a format version,
//! the backend name and its options, the source file's canonical absolute path,
//! its size and its modification time (nanoseconds). Using the canonical path
//! (rather than the path within the dataset) means two datasets sharing a workdir
//! never collide even when they hold the same relative names; size + mtime make a
//! changed source get a new key and so a rebuild, without hashing gigabytes of
//! pixels on every open. (A file rewritten within the same mtime tick with the
//! same size would be missed; every common filesystem has ns mtimes.)
//!
//! **Building.** [`ensure`] validates an existing file and returns it; otherwise it
//! takes an exclusive inter-process lock on `NAME.lock` (`std::fs::File::lock`,
//! which also serialises threads since each opens its own descriptor), checks
//! again, builds into a temporary file in the same directory and `rename`s it into
//! place, then validates the result. A file that fails validation (truncated,
//! wrong shape or dtype) is logged with `log::warn!`, removed and rebuilt — never
//! served. Lock files are left in place (removing them would race).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Bump when the on-disk layout of any cache changes.
const CACHE_FORMAT: u32 = 1;

/// What [`ensure`] had to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// A valid cache file was already there.
    Existing,
    /// The cache file was built now.
    Built,
    /// A cache file existed but failed validation; it was rebuilt.
    Rebuilt,
    /// The source is used in place (e.g. an input that already is a COG).
    InPlace,
}

/// The cache file for `source` under `workdir` for a backend (`"npy"`, `"cog"`)
/// with options summarised by `options`, ending in `ext`.
pub fn cache_path(
    workdir: &Path,
    backend: &str,
    options: &str,
    source: &Path,
    ext: &str,
) -> Result<PathBuf> {
    let canon = source.canonicalize().map_err(|e| Error::io(source, e))?;
    let meta = std::fs::metadata(&canon).map_err(|e| Error::io(source, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let mut key = Vec::new();
    key.extend_from_slice(&CACHE_FORMAT.to_le_bytes());
    for part in [
        backend.as_bytes(),
        options.as_bytes(),
        canon.as_os_str().as_encoded_bytes(),
    ] {
        key.extend_from_slice(&(part.len() as u64).to_le_bytes());
        key.extend_from_slice(part);
    }
    key.extend_from_slice(&meta.len().to_le_bytes());
    key.extend_from_slice(&mtime.to_le_bytes());
    let hash = xxhash_rust::xxh3::xxh3_128(&key);
    let stem: String = canon
        .file_stem()
        .map(|s| {
            s.to_string_lossy()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .take(48)
                .collect()
        })
        .unwrap_or_default();
    Ok(workdir
        .join("_frame_cache")
        .join(backend)
        .join(format!("{stem}-{hash:032x}.{ext}")))
}

/// Make sure `path` holds a valid cache file: return the validated value if it
/// does, otherwise build it under an inter-process lock (see the module docs).
/// `build` writes the temporary file, given both as an open file and by path.
pub fn ensure<T>(
    path: &Path,
    validate: impl Fn(&Path) -> Result<T>,
    build: impl FnOnce(&mut File, &Path) -> Result<()>,
) -> Result<(T, CacheOutcome)> {
    let mut had_invalid = false;
    if path.exists() {
        match validate(path) {
            Ok(v) => return Ok((v, CacheOutcome::Existing)),
            Err(e) => {
                log::warn!(
                    "cache file {} is invalid ({e}); rebuilding it",
                    path.display()
                );
                had_invalid = true;
            }
        }
    }
    let dir = path
        .parent()
        .ok_or_else(|| Error::invalid(format!("cache path {} has no parent", path.display())))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut lock_name = path.as_os_str().to_owned();
    lock_name.push(".lock");
    let lock_path = PathBuf::from(lock_name);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    // Another builder may have finished while we waited.
    if path.exists() {
        match validate(path) {
            Ok(v) => {
                return Ok((
                    v,
                    if had_invalid {
                        CacheOutcome::Rebuilt
                    } else {
                        CacheOutcome::Existing
                    },
                ));
            }
            Err(e) => {
                if !had_invalid {
                    log::warn!(
                        "cache file {} is invalid ({e}); rebuilding it",
                        path.display()
                    );
                }
                had_invalid = true;
                std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
            }
        }
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".building-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    let tmp_path = tmp.path().to_path_buf();
    build(tmp.as_file_mut(), &tmp_path)?;
    // Sync by path: a builder may have replaced the file (GDAL writes by name).
    File::open(&tmp_path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(&tmp_path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    let v = validate(path).map_err(|e| Error::CorruptCache {
        path: path.to_path_buf(),
        msg: e.to_string(),
    })?;
    drop(lock);
    Ok((
        v,
        if had_invalid {
            CacheOutcome::Rebuilt
        } else {
            CacheOutcome::Built
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn validate(p: &Path) -> Result<String> {
        let s = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
        if s == "complete" {
            Ok(s)
        } else {
            Err(Error::decode(p, "truncated"))
        }
    }

    #[test]
    fn key_changes_with_source_and_options() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.png");
        std::fs::write(&src, b"one").unwrap();
        let k1 = cache_path(dir.path(), "npy", "", &src, "npy").unwrap();
        assert_eq!(k1, cache_path(dir.path(), "npy", "", &src, "npy").unwrap());
        assert_ne!(k1, cache_path(dir.path(), "npy", "x", &src, "npy").unwrap());
        assert_ne!(k1, cache_path(dir.path(), "cog", "", &src, "npy").unwrap());
        std::fs::write(&src, b"longer").unwrap();
        assert_ne!(k1, cache_path(dir.path(), "npy", "", &src, "npy").unwrap());
        // Same relative name in another dataset directory.
        let other = dir.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("a.png"), b"longer").unwrap();
        assert_ne!(
            cache_path(dir.path(), "npy", "", &src, "npy").unwrap(),
            cache_path(dir.path(), "npy", "", &other.join("a.png"), "npy").unwrap()
        );
    }

    #[test]
    fn threads_build_once_and_corruption_rebuilds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c").join("x.bin");
        let builds = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    let (v, _) = ensure(&path, validate, |f, _| {
                        builds.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(30));
                        f.write_all(b"complete").map_err(|e| Error::io("tmp", e))
                    })
                    .unwrap();
                    assert_eq!(v, "complete");
                });
            }
        });
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        std::fs::write(&path, b"compl").unwrap();
        let (_, outcome) = ensure(&path, validate, |f, _| {
            f.write_all(b"complete").map_err(|e| Error::io("tmp", e))
        })
        .unwrap();
        assert_eq!(outcome, CacheOutcome::Rebuilt);
        assert_eq!(validate(&path).unwrap(), "complete");
        // A builder that writes garbage is reported, not served.
        std::fs::write(&path, b"bad").unwrap();
        let r = ensure(&path, validate, |f, _| {
            f.write_all(b"still bad").map_err(|e| Error::io("tmp", e))
        });
        assert!(matches!(r, Err(Error::CorruptCache { .. })));
    }
}
