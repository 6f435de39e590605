//! Remote file headers kept in a workdir between processes (see the parent
//! module's docs): one file per URL, `<dir>/<xxh3-128 of the URL>.hdr`, the
//! URL taken without query or user info ([`display_url`]).
//!
//! Layout (little-endian): the magic `NDSHDR01`; the URL (u32 length, bytes);
//! the object's size (u64); its ETag (u32 length, bytes); the number of
//! blocks (u32); per block its index (u64), length (u32) and bytes; then the
//! xxh3-64 of everything before it (u64). A file that is too large, fails its
//! checksum, names another URL, or holds a block that does not fit the
//! object's size is refused, logged and deleted: the header is fetched again.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::{HEADER_BLOCK, MAX_BLOCKS, RemoteFile};
use crate::error::{Error, Result};
use crate::remote_url::display_url;

const MAGIC: &[u8; 8] = b"NDSHDR01";

/// Longest URL or ETag kept (longer ones are not persisted).
const MAX_TEXT: usize = 8 << 10;

/// Largest persisted header file: 64 header blocks of 64 KiB (4 MiB, what a
/// file keeps in memory) and their framing. Larger files are refused unread.
pub const MAX_PERSISTED: u64 = MAX_BLOCKS as u64 * (HEADER_BLOCK + 12) + 3 * MAX_TEXT as u64;

/// The file holding the persisted header of `url` under `dir`.
pub(crate) fn file_of(dir: &Path, url: &str) -> PathBuf {
    let key = display_url(url);
    let h = xxhash_rust::xxh3::xxh3_128(key.as_bytes());
    dir.join(format!("{h:032x}.hdr"))
}

/// The bytes of a persisted header.
fn encode(url: &str, size: u64, etag: &str, blocks: &[(u64, Bytes)]) -> Vec<u8> {
    let key = display_url(url);
    let total: usize = blocks.iter().map(|(_, b)| b.len() + 12).sum();
    let mut v = Vec::with_capacity(total + key.len() + etag.len() + 40);
    v.extend_from_slice(MAGIC);
    v.extend_from_slice(&(key.len() as u32).to_le_bytes());
    v.extend_from_slice(key.as_bytes());
    v.extend_from_slice(&size.to_le_bytes());
    v.extend_from_slice(&(etag.len() as u32).to_le_bytes());
    v.extend_from_slice(etag.as_bytes());
    v.extend_from_slice(&(blocks.len() as u32).to_le_bytes());
    for (i, b) in blocks {
        v.extend_from_slice(&i.to_le_bytes());
        v.extend_from_slice(&(b.len() as u32).to_le_bytes());
        v.extend_from_slice(b);
    }
    let sum = xxhash_rust::xxh3::xxh3_64(&v);
    v.extend_from_slice(&sum.to_le_bytes());
    v
}

/// A cursor that checks every length against what is left.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        if n > self.0.len() {
            return Err(format!(
                "truncated: {n} bytes wanted, {} left",
                self.0.len()
            ));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> std::result::Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn text(&mut self) -> std::result::Result<String, String> {
        let n = self.u32()? as usize;
        if n > MAX_TEXT {
            return Err(format!("a text of {n} bytes"));
        }
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "text is not UTF-8".to_string())
    }
}

/// What a persisted header holds: size, ETag, blocks.
type Decoded = (u64, String, HashMap<u64, Bytes>);

/// Parse and check a persisted header of `url`.
fn decode(data: &[u8], url: &str) -> std::result::Result<Decoded, String> {
    if data.len() < MAGIC.len() + 8 {
        return Err(format!("{} bytes is too short", data.len()));
    }
    let (body, sum) = data.split_at(data.len() - 8);
    let mut s = [0u8; 8];
    s.copy_from_slice(sum);
    if xxhash_rust::xxh3::xxh3_64(body) != u64::from_le_bytes(s) {
        return Err("checksum mismatch".into());
    }
    let mut c = Cursor(body);
    if c.take(MAGIC.len())? != MAGIC {
        return Err("not a persisted header (magic)".into());
    }
    let key = c.text()?;
    if key != display_url(url) {
        return Err(format!("it is the header of {key}"));
    }
    let size = c.u64()?;
    let etag = c.text()?;
    if etag.is_empty() {
        return Err("no ETag".into());
    }
    let n = c.u32()? as usize;
    if n == 0 || n > MAX_BLOCKS {
        return Err(format!("{n} blocks (1 to {MAX_BLOCKS} expected)"));
    }
    let mut blocks = HashMap::with_capacity(n);
    for _ in 0..n {
        let i = c.u64()?;
        let len = c.u32()? as u64;
        let start = i
            .checked_mul(HEADER_BLOCK)
            .filter(|&s| s < size)
            .ok_or_else(|| format!("block {i} is past the object's {size} bytes"))?;
        let want = HEADER_BLOCK.min(size - start);
        if len != want {
            return Err(format!("block {i} holds {len} bytes, not {want}"));
        }
        let b = Bytes::copy_from_slice(c.take(len as usize)?);
        if blocks.insert(i, b).is_some() {
            return Err(format!("block {i} twice"));
        }
    }
    if !c.0.is_empty() {
        return Err(format!("{} bytes after the last block", c.0.len()));
    }
    if !blocks.contains_key(&0) {
        return Err("no first block".into());
    }
    Ok((size, etag, blocks))
}

/// The persisted header of `url` under `dir` as an unconfirmed file, if
/// there is a valid one; an invalid one is logged and deleted.
pub(crate) fn load(dir: &Path, url: &str) -> Option<RemoteFile> {
    let path = file_of(dir, url);
    let mut f = std::fs::File::open(&path).ok()?;
    let bad = |why: String| {
        log::warn!(
            "{}: the header kept in {} is invalid ({why}); fetching it again",
            display_url(url),
            path.display()
        );
        let _ = std::fs::remove_file(&path);
        None
    };
    match f.metadata() {
        Ok(m) if m.is_file() && m.len() <= MAX_PERSISTED => {}
        Ok(m) if m.is_file() => return bad(format!("{} bytes, over {MAX_PERSISTED}", m.len())),
        Ok(_) => return bad("not a regular file".into()),
        Err(e) => return bad(e.to_string()),
    }
    let mut data = Vec::new();
    if let Err(e) = (&mut f).take(MAX_PERSISTED + 1).read_to_end(&mut data) {
        return bad(e.to_string());
    }
    match decode(&data, url) {
        Ok((size, etag, blocks)) => {
            let file = RemoteFile::new(url, size, Some(etag.clone()), etag, blocks, false);
            let n = file.blocks.lock().len();
            *file.persisted.lock() = Some((dir.to_path_buf(), n));
            Some(file)
        }
        Err(why) => bad(why),
    }
}

/// Write the header of `url` (version `size`, `etag`; `blocks` sorted) under
/// `dir`: a temporary file renamed over the target, so a reader sees the old
/// file or the new one, never a part. URLs or ETags over 8 KiB are not kept.
pub(crate) fn write(
    dir: &Path,
    url: &str,
    size: u64,
    etag: &str,
    blocks: &[(u64, Bytes)],
) -> Result<()> {
    if display_url(url).len() > MAX_TEXT
        || etag.len() > MAX_TEXT
        || blocks.is_empty()
        || blocks.len() > MAX_BLOCKS
    {
        return Ok(());
    }
    let data = encode(url, size, etag, blocks);
    debug_assert!(data.len() as u64 <= MAX_PERSISTED);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let target = file_of(dir, url);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(&data).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(&target)
        .map_err(|e| Error::io(&target, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (String, Vec<u8>) {
        let url = "https://u:p@h.example/a/b.tif?sig=1".to_string();
        let blocks = vec![
            (0, Bytes::from(vec![7u8; HEADER_BLOCK as usize])),
            (1, Bytes::from(vec![9u8; 100])),
        ];
        let data = encode(&url, HEADER_BLOCK + 100, "\"e1\"", &blocks);
        (url, data)
    }

    #[test]
    fn a_header_round_trips_and_is_keyed_without_secrets() {
        let (url, data) = sample();
        let (size, etag, blocks) = decode(&data, &url).unwrap();
        assert_eq!(
            (size, etag.as_str(), blocks.len()),
            (HEADER_BLOCK + 100, "\"e1\"", 2)
        );
        assert_eq!(blocks[&1].as_ref(), &[9u8; 100][..]);
        let d = Path::new("/w");
        assert_eq!(
            file_of(d, &url),
            file_of(d, "https://h.example/a/b.tif"),
            "query and user info are not part of the key"
        );
        assert_ne!(file_of(d, &url), file_of(d, "https://h.example/a/c.tif"));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let (url, data) = sample();
        for n in (0..data.len()).step_by(997).chain([data.len() - 1]) {
            assert!(decode(&data[..n], &url).is_err(), "truncated to {n}");
        }
        for i in (0..data.len()).step_by(101) {
            let mut d = data.clone();
            d[i] ^= 0x40;
            assert!(decode(&d, &url).is_err(), "byte {i} flipped");
        }
        assert!(decode(&data, "https://h.example/other.tif").is_err());
    }

    #[test]
    fn blocks_that_do_not_fit_the_object_are_refused() {
        let url = "s3://b/k.tif";
        let short = [(0, Bytes::from(vec![1u8; 10]))];
        // The object is larger than one block: block 0 must be full.
        assert!(decode(&encode(url, 2 * HEADER_BLOCK, "e", &short), url).is_err());
        // A block past the end.
        let past = [
            (0, Bytes::from(vec![1u8; 10])),
            (5, Bytes::from(vec![1u8; 10])),
        ];
        assert!(decode(&encode(url, 10, "e", &past), url).is_err());
        assert!(decode(&encode(url, 10, "e", &short), url).is_ok());
    }
}
