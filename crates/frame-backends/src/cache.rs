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
//! same size would be missed; every common filesystem has ns mtimes.) A remote
//! source (URL, feature `remote`) is keyed by its URL, size and ETag (or
//! last-modified time when the server sends no ETag).
//!
//! **Building.** [`ensure`] validates an existing file and returns it; otherwise it
//! takes an exclusive inter-process lock on `NAME.lock` (`std::fs::File::lock`,
//! which also serialises threads since each opens its own descriptor), checks
//! again, builds into a temporary file in the same directory and `rename`s it into
//! place, then validates the result. A file that fails validation (checksum,
//! truncated, wrong shape or dtype) is logged with `log::warn!`, removed and
//! rebuilt — never served. Lock files are left in place (removing them would race).
//!
//! **Checksums.** Every cache file `NAME` has a sidecar `NAME.xxh3` holding the
//! xxh3-128 hash and the length of its content (`xxh3-128 <hex> <len>`). The
//! builder hashes the finished temporary file, publishes the sidecar (temporary
//! file + `rename`) and then the cache file, all under the lock; a reader that
//! catches the instant between the two renames sees a mismatch and waits for the
//! lock. [`ensure`] verifies a file against its sidecar the first time a process
//! opens that version of it (keyed by device, inode, size, mtime and ctime, so a
//! rebuilt or modified file is verified again, a file already verified is not):
//! the cost is one sequential read of the file per process, none per window.
//! A missing or malformed sidecar counts as a mismatch. [`verify_checksum`]
//! with `force` re-reads regardless (the `cache --verify` command).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use parking_lot::Mutex;

use crate::error::{Error, Result};

/// Bump when the on-disk layout of any cache changes (2: checksum sidecars).
const CACHE_FORMAT: u32 = 2;

/// The checksum sidecar of the cache file `cache`: `NAME.xxh3`.
pub fn checksum_path(cache: &Path) -> PathBuf {
    let mut name = cache.as_os_str().to_owned();
    name.push(".xxh3");
    PathBuf::from(name)
}

/// xxh3-128 and length of a file's content, read in 1 MiB blocks.
fn hash_file(path: &Path) -> Result<(u128, u64)> {
    let mut f = crate::file::open_regular(path)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        h.update(&buf[..n]);
        len += n as u64;
    }
    Ok((h.digest128(), len))
}

fn sidecar_text(hash: u128, len: u64) -> String {
    format!("xxh3-128 {hash:032x} {len}\n")
}

/// One version of one file: path, device, inode, size, mtime and ctime (ns).
type FileVersion = (PathBuf, u64, u64, u64, i64, i64, i64, i64);

fn version_of(path: &Path) -> Result<FileVersion> {
    let m = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    Ok((
        path.to_path_buf(),
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    ))
}

/// File versions verified by this process.
fn verified() -> &'static Mutex<HashSet<FileVersion>> {
    static VERIFIED: OnceLock<Mutex<HashSet<FileVersion>>> = OnceLock::new();
    VERIFIED.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Check the cache file `path` against its sidecar (see the module docs):
/// skipped when this process already verified this version of the file, unless
/// `force`. [`Error::Checksum`] on a mismatch or a missing sidecar.
pub fn verify_checksum(path: &Path, force: bool) -> Result<()> {
    let before = version_of(path)?;
    if !force && verified().lock().contains(&before) {
        return Ok(());
    }
    let side = checksum_path(path);
    let text = match std::fs::metadata(&side) {
        Ok(m) if m.is_file() && m.len() <= 256 => {
            let mut s = String::new();
            crate::file::open_regular(&side)?
                .read_to_string(&mut s)
                .map_err(|e| Error::io(&side, e))?;
            s
        }
        Ok(_) => String::new(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Checksum {
                path: path.to_path_buf(),
                msg: "no checksum sidecar".into(),
            });
        }
        Err(e) => return Err(Error::io(&side, e)),
    };
    let (hash, len) = hash_file(path)?;
    let want = sidecar_text(hash, len);
    if text != want {
        return Err(Error::Checksum {
            path: path.to_path_buf(),
            msg: format!(
                "content has checksum {:?}, the sidecar says {:?}",
                want.trim_end(),
                text.chars().take(80).collect::<String>().trim_end()
            ),
        });
    }
    // Remember the version hashed (a file changed meanwhile is verified again).
    if version_of(path)? == before {
        verified().lock().insert(before);
    }
    Ok(())
}

/// Forget that this process verified `path` (any version): the next
/// [`ensure`] hashes it again.
pub fn forget_verified(path: &Path) {
    verified().lock().retain(|v| v.0 != path);
}

/// Write the sidecar of the finished temporary file `tmp` (to become `path`)
/// atomically: hash, temporary sidecar, sync, rename.
fn publish_checksum(tmp: &Path, path: &Path, dir: &Path) -> Result<()> {
    let (hash, len) = hash_file(tmp)?;
    let side = checksum_path(path);
    let mut f = tempfile::Builder::new()
        .prefix(".building-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    f.write_all(sidecar_text(hash, len).as_bytes())
        .and_then(|_| f.as_file().sync_all())
        .map_err(|e| Error::io(f.path(), e))?;
    f.persist(&side).map_err(|e| Error::io(&side, e.error))?;
    Ok(())
}

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
    let (canon, len, version) = source_version(source)?;
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
    key.extend_from_slice(&len.to_le_bytes());
    key.extend_from_slice(&version);
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

/// What identifies a version of a cache's source: its canonical path, size
/// and mtime (nanoseconds, little-endian); for a URL (feature `remote`), the
/// URL, size and ETag (else last-modified time).
fn source_version(source: &Path) -> Result<(PathBuf, u64, Vec<u8>)> {
    if crate::is_url(source) {
        #[cfg(feature = "remote")]
        {
            let v = crate::remote::object_version(source)?;
            return Ok((source.to_path_buf(), v.size, v.tag.into_bytes()));
        }
        #[cfg(not(feature = "remote"))]
        return Err(Error::remote(
            &source.to_string_lossy(),
            "reading URLs needs the `remote` cargo feature, which this build lacks",
        ));
    }
    let canon = source.canonicalize().map_err(|e| Error::io(source, e))?;
    let meta = std::fs::metadata(&canon).map_err(|e| Error::io(source, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok((canon, meta.len(), mtime.to_le_bytes().to_vec()))
}

/// Make sure `path` holds a valid cache file: return the validated value if it
/// does, otherwise build it under an inter-process lock (see the module docs).
/// `build` writes the temporary file, given both as an open file and by path.
/// Validation is the checksum ([`verify_checksum`], once per file version and
/// process) then `validate`.
pub fn ensure<T>(
    path: &Path,
    validate: impl Fn(&Path) -> Result<T>,
    build: impl FnOnce(&mut File, &Path) -> Result<()>,
) -> Result<(T, CacheOutcome)> {
    let validate = |p: &Path| {
        verify_checksum(p, false)?;
        validate(p)
    };
    let mut had_invalid = false;
    if path.exists() {
        match validate(path) {
            Ok(v) => return Ok((v, CacheOutcome::Existing)),
            Err(e) => {
                log::warn!("invalid cache file: {e}; rebuilding it");
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
    // Non-blocking open: a FIFO planted as the lock file fails instead of hanging.
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
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
                    log::warn!("invalid cache file: {e}; rebuilding it");
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
    publish_checksum(&tmp_path, path, dir)?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    // Just hashed (same inode, renamed): no second read to verify it.
    verified().lock().insert(version_of(path)?);
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
