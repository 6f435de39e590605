//! A memory-mappable snapshot of an indexed dataset: what the sampler needs of
//! every image and annotation, as columns in one file that N worker processes
//! map and share, so that opening a sampler is a `mmap` and a header check
//! instead of parsing the JSON (issue 14).
//!
//! ```no_run
//! use sampler::snapshot::{self, SnapshotStatus};
//! use sampler::CocoSampler;
//! // once (what `ndsampler index DATASET` does): write or reuse the snapshot
//! let (path, status) = snapshot::ensure("data.kwcoco.json".as_ref(), "cache".as_ref())?;
//! assert!(matches!(status, SnapshotStatus::Built | SnapshotStatus::Reused));
//! // in every worker: uses the snapshot when it matches the JSON's content
//! let sampler = CocoSampler::open_in("data.kwcoco.json", "cache")?;
//! assert!(sampler.snapshot_path().is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What it holds
//! Per annotation: id, image id, category id, the box (`bbox`, or the box of
//! the segmentation where the sampler's index takes that), flags, polygon
//! segmentations already parsed (`geom.rs`: read from the mapped file by every
//! process, so none keeps a parsed copy), and as JSON text the RLE
//! segmentations (traced on use) and keypoints (parsed lazily by the sampler's
//! geometry cache). Per image: its id, its record as JSON (parsed on first use into the
//! sampler's frame facts), and its annotations (positions, CSR). Per video: its
//! frames in `frame_index` order (CSR). Lookups by id read a dense table of
//! positions by id when the ids span at most about twice the records (one
//! read), else binary-search position arrays sorted by id; both are in the
//! mapped file, so nothing is built per process.
//! Categories, keypoint categories and videos (small) are one JSON text.
//! Tracks, captions, scores and other keys are not in it: the full dataset is
//! loaded from the JSON when a caller asks for [`crate::CocoSampler::dataset`].
//!
//! ## Layout (format version [`FORMAT_VERSION`], little-endian)
//! A fixed header (magic `NDSNAP\r\n`, version, the source's byte length and
//! xxh3-128 content hash and file stamp, counts, an xxh3-64 checksum of the
//! body), a table of
//! `(offset, length)` per section, then the sections, each 8-byte aligned:
//! fixed-width columns (`i64`, `u64`, `u32`, `u8`, `f64`) and byte blobs
//! addressed by `u64` offset columns of `n + 1` entries.
//!
//! ## Why this format
//! Hand-rolled columns over `memmap2` and `xxhash-rust`, which the workspace
//! already builds (for the npy cache and its checksums): **no new crate, zero
//! added build time**. Every value the sampler reads is a fixed-width
//! little-endian number at a computed offset, or a byte range of a blob, so
//! the reader needs neither alignment (values are decoded with
//! `from_le_bytes`, not cast) nor a schema library, and the only `unsafe` is
//! the map itself (`map.rs`). Opening checks the header and the section table
//! only (O(sections)); the 1M-annotation snapshot opens in about 1 ms plus
//! the source check (docs/performance.md).
//!
//! The alternatives, measured for build cost only (a scratch crate, cold
//! release build on this machine's 2 shared cores at load 6–8, 2026-11-30):
//! `rkyv` 0.8 adds 24 crates, **36.6 s** wall (21.0 s CPU); its safe access
//! (`rkyv::access`, bytecheck) validates the whole archive when it is opened —
//! O(file), the cost this format avoids — and unvalidated access is `unsafe`
//! on input data. Arrow IPC (`arrow-ipc` + `arrow-array` 55) adds 47 crates,
//! **125.8 s** wall (75.4 s CPU); Python tools could read the columns, but its
//! reader validates buffers on open unless told not to (`unsafe`), zero-copy
//! reads need 64-byte aligned buffers, and the nested records the sampler needs
//! (image assets, polygons, keypoints) would be JSON strings in it anyway.
//! Their open times were not measured (it would take an implementation each).

//! ## Trust
//! [`Snapshot::open`] checks the magic, the version, that every section lies
//! inside the file and has the exact length its counts imply; every later read
//! is bounds-checked (a bad offset is [`SnapshotError::Corrupt`], never a panic
//! or an out-of-bounds read) and blobs are checked to be UTF-8 when read.
//! [`Snapshot::open_for`] also checks the source's length and xxh3-128 content
//! hash, so a snapshot of an edited JSON is [`SnapshotError::Stale`] and is
//! never used; hashing a 226 MB file takes about 40 ms here, so the hash is
//! skipped while the file's device, inode, mtime and ctime are those recorded
//! when it was hashed (a write changes the ctime, which user space cannot set
//! back; a replaced file has a new inode; a copied dataset is hashed). [`Snapshot::verify`] checks the body checksum (read the whole
//! file; `ndsampler index --verify` and [`ensure`] do it, opening does not).

mod build;
mod geom;
mod map;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use coco_model::geometry::Segmentation;
use memmap2::Mmap;

pub use build::{SnapshotStatus, ensure, snapshot_path, source_file, write_snapshot};

/// Version of the layout; a snapshot of another version is refused (and
/// rebuilt by [`ensure`]).
pub const FORMAT_VERSION: u32 = 2;

/// First bytes of every snapshot file.
pub const MAGIC: [u8; 8] = *b"NDSNAP\r\n";

/// File name extension of snapshots.
pub const EXTENSION: &str = "ndsnap";

/// Errors of reading or writing a snapshot; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The snapshot or its source could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The snapshot is damaged (truncated, overwritten, not a snapshot):
    /// rebuild it (`ndsampler index DATASET`).
    #[error("snapshot {path} is corrupt: {msg} (rebuild it with `ndsampler index`)")]
    Corrupt {
        /// The snapshot.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// The snapshot was written by another version of this layout.
    #[error("snapshot {path} has format version {found}, this build reads {FORMAT_VERSION}")]
    Version {
        /// The snapshot.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// The snapshot was made from another content of the source (the JSON was
    /// edited since): it is not used.
    #[error("snapshot {path} does not match the content of {source_path} (stale)")]
    Stale {
        /// The snapshot.
        path: PathBuf,
        /// The dataset file.
        source_path: PathBuf,
    },
    /// The dataset has more records than the layout addresses (2^32 - 1).
    #[error("{what}: {n} records are more than a snapshot holds ({max})", max = u32::MAX)]
    TooMany {
        /// The table.
        what: &'static str,
        /// Its length.
        n: usize,
    },
}

/// The sections of a snapshot, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Sec {
    /// UTF-8 JSON: `{"categories": …, "keypoint_categories": …, "videos": …}`.
    Meta,
    /// `i64` per image: id.
    ImgId,
    /// `u64` per image + 1: offsets of each image record in `ImgRec`.
    ImgRecOff,
    /// The image records as JSON text.
    ImgRec,
    /// `u32` per image: image positions in increasing id order.
    ImgById,
    /// `u64` per image + 1: start of each image's annotations in `ImgAnnList`.
    ImgAnnStart,
    /// `u32`: annotation positions, per image in table order.
    ImgAnnList,
    /// `u64` per video + 1: start of each video's frames in `VidImgList`.
    VidImgStart,
    /// `u32`: image positions, per video in frame order.
    VidImgList,
    /// `i64` per annotation: id.
    AnnId,
    /// `i64` per annotation: image id.
    AnnImage,
    /// `i64` per annotation: category id (see [`flags::HAS_CATEGORY`]).
    AnnCat,
    /// `u8` per annotation: [`flags`].
    AnnFlags,
    /// `4 × f64` per annotation: `[x, y, w, h]`.
    AnnBox,
    /// `u32` per annotation: annotation positions in increasing id order.
    AnnById,
    /// `u64` per annotation + 1: offsets into `Seg`.
    SegOff,
    /// Segmentation JSON texts (RLEs and what did not parse; empty where
    /// `Poly` holds the segmentation).
    Seg,
    /// `u64` per annotation + 1: byte offsets into `Poly`.
    PolyOff,
    /// Parsed polygon segmentations (see [`flags::POLYGONS`] and `geom.rs`).
    Poly,
    /// `u64` per annotation + 1: offsets into `Kp`.
    KpOff,
    /// Keypoints JSON texts.
    Kp,
    /// Image positions by id when the ids are dense (see [`Sec::AnnDense`]).
    ImgDense,
    /// Annotation positions by id when the ids are dense (at most
    /// [`dense_slots`] of them): empty, or the smallest id (`i64`) then a
    /// `u32` per id from it to the largest, holding 1 + the first position
    /// with that id (0: none). One read instead of a binary search.
    AnnDense,
}

const N_SECTIONS: usize = Sec::AnnDense as usize + 1;

/// Most slots of a dense id table for `n` records (ids spanning more are
/// found by binary search): twice the records, so the table costs at most
/// 8 bytes per record.
pub(crate) fn dense_slots(n: usize) -> usize {
    2 * n + 64
}

/// Bits of the per-annotation flags column.
pub(crate) mod flags {
    /// The record has a `bbox` (the box column holds it).
    pub const HAS_BBOX: u8 = 1;
    /// The record has a `category_id`.
    pub const HAS_CATEGORY: u8 = 2;
    /// The box column is the annotation's box in the sampler's index (its
    /// `bbox`, or its segmentation's box when it has no `bbox`).
    pub const INDEXED: u8 = 4;
    /// The record has a `segmentation`.
    pub const HAS_SEGMENTATION: u8 = 8;
    /// The record has `keypoints`.
    pub const HAS_KEYPOINTS: u8 = 16;
    /// The record is the first (in table order) with its id: the one a lookup
    /// by id finds.
    pub const FIRST_OF_ID: u8 = 32;
    /// The segmentation is polygons, parsed into the `Poly` section (else,
    /// with [`HAS_SEGMENTATION`], its JSON text is in `Seg`).
    pub const POLYGONS: u8 = 64;
}

/// Bytes of the fixed header: magic, version, section count, source length,
/// source hash (16), body checksum, image / annotation / video counts,
/// and the source's file stamp (4 × 8).
const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 16 + 8 + 8 + 8 + 8 + 32;
/// Bytes of the section table.
const TABLE_LEN: usize = N_SECTIONS * 16;
/// Where the body (the sections) starts.
const BODY_START: usize = HEADER_LEN + TABLE_LEN;

/// An annotation as the snapshot holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SnapAnnot {
    /// Position in the annotation table.
    pub pos: usize,
    /// `id`.
    pub id: i64,
    /// `image_id`.
    pub image_id: i64,
    /// `category_id`.
    pub category_id: Option<i64>,
    /// `bbox`.
    pub bbox: Option<[f64; 4]>,
    /// The `[x, y, w, h]` the sampler indexes (`bbox`, else the segmentation's
    /// box), when finite.
    pub index_box: Option<[f64; 4]>,
    flags: u8,
}

impl SnapAnnot {
    /// Whether the record has a segmentation.
    pub fn has_segmentation(&self) -> bool {
        self.flags & flags::HAS_SEGMENTATION != 0
    }

    /// Whether the record is the first with its id (the one a lookup by id
    /// finds).
    pub fn is_first_of_id(&self) -> bool {
        self.flags & flags::FIRST_OF_ID != 0
    }

    /// Whether the record has keypoints.
    pub fn has_keypoints(&self) -> bool {
        self.flags & flags::HAS_KEYPOINTS != 0
    }

    /// Whether the segmentation is polygons parsed into the snapshot
    /// ([`Snapshot::polygons`]); else it is text ([`Snapshot::segmentation_json`]).
    pub fn has_polygons(&self) -> bool {
        self.flags & flags::POLYGONS != 0
    }
}

/// An open snapshot: the mapped file and its validated section table.
///
/// Reads are lazy: opening touches the header page only; each accessor
/// decodes the few bytes it needs from the mapped file.
pub struct Snapshot {
    map: Mmap,
    path: PathBuf,
    sections: [(usize, usize); N_SECTIONS],
    source: SourceKey,
    body_hash: u64,
    n_images: usize,
    n_annots: usize,
    n_videos: usize,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("path", &self.path)
            .field("images", &self.n_images)
            .field("annotations", &self.n_annots)
            .field("videos", &self.n_videos)
            .finish_non_exhaustive()
    }
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// What a snapshot knows of its source file: the length and xxh3-128 hash of
/// its content (the key), and the file's stamp when it was hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceKey {
    /// Bytes of the file.
    pub len: u64,
    /// xxh3-128 of its content.
    pub hash: u128,
    /// Device, inode, mtime and ctime (ns) of the file when it was hashed
    /// (zeros where unknown): while all four are unchanged, the content is
    /// (ctime cannot be set back from user space), so opening skips the hash.
    pub stamp: [u64; 4],
}

fn stamp(m: &std::fs::Metadata) -> [u64; 4] {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| {
            (s as u64)
                .wrapping_mul(1_000_000_000)
                .wrapping_add(n as u64)
        };
        [
            m.dev(),
            m.ino(),
            ns(m.mtime(), m.mtime_nsec()),
            ns(m.ctime(), m.ctime_nsec()),
        ]
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        [0; 4]
    }
}

/// The [`SourceKey`] of a file: its content hashed in 1 MiB blocks; the stamp
/// is kept only when the file's metadata did not change while it was read.
pub fn source_key(path: &Path) -> Result<SourceKey, SnapshotError> {
    use std::io::Read;
    let io = |e| SnapshotError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let before = stamp(&f.metadata().map_err(io)?);
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        len += n as u64;
    }
    let m = std::fs::metadata(path).map_err(io)?;
    let after = stamp(&m);
    // File times are coarse (a kernel tick): a file changed within the last
    // seconds could change again without moving its ctime, so it gets no stamp.
    let settled = m
        .modified()
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() >= 2)
        && std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .is_ok_and(|now| now.as_nanos() as u64 >= after[3].saturating_add(2_000_000_000));
    Ok(SourceKey {
        len,
        hash: h.digest128(),
        stamp: if settled && before == after && m.len() == len {
            after
        } else {
            [0; 4]
        },
    })
}

impl Snapshot {
    /// Maps a snapshot and checks its structure: magic, version, and that every
    /// section lies in the file with the length its counts imply. Does not
    /// look at the source ([`Snapshot::open_for`] does).
    pub fn open(path: &Path) -> Result<Snapshot, SnapshotError> {
        let map = map::map_file(path)?;
        Self::from_map(map, path)
    }

    /// [`Snapshot::open`], then checks that `source`'s content (length and
    /// xxh3-128) is the one the snapshot was made from
    /// ([`SnapshotError::Stale`] otherwise). The hash is skipped when the
    /// file's stamp (device, inode, mtime, ctime) is the one recorded when it
    /// was hashed ([`SourceKey::stamp`]): any write to the file changes its
    /// ctime, and a file renamed over it has another inode.
    pub fn open_for(path: &Path, source: &Path) -> Result<Snapshot, SnapshotError> {
        let snap = Self::open(path)?;
        let meta = std::fs::metadata(source).map_err(|e| SnapshotError::Io {
            path: source.to_path_buf(),
            source: e,
        })?;
        let stale = || SnapshotError::Stale {
            path: path.to_path_buf(),
            source_path: source.to_path_buf(),
        };
        if meta.len() != snap.source.len {
            return Err(stale());
        }
        if snap.source.stamp != [0; 4] && stamp(&meta) == snap.source.stamp {
            return Ok(snap);
        }
        let key = source_key(source)?;
        if key.len != snap.source.len || key.hash != snap.source.hash {
            return Err(stale());
        }
        Ok(snap)
    }

    fn from_map(map: Mmap, path: &Path) -> Result<Snapshot, SnapshotError> {
        let corrupt = |msg: String| SnapshotError::Corrupt {
            path: path.to_path_buf(),
            msg,
        };
        let b: &[u8] = &map;
        if b.len() < BODY_START {
            return Err(corrupt(format!(
                "{} bytes, shorter than the {BODY_START}-byte header",
                b.len()
            )));
        }
        if b.get(..8) != Some(&MAGIC[..]) {
            return Err(corrupt("not a snapshot (bad magic)".into()));
        }
        let head = |at: usize| le_u64(b, at).ok_or_else(|| corrupt("short header".into()));
        let version = le_u32(b, 8).ok_or_else(|| corrupt("short header".into()))?;
        if version != FORMAT_VERSION {
            return Err(SnapshotError::Version {
                path: path.to_path_buf(),
                found: version,
            });
        }
        let n_sections = le_u32(b, 12).ok_or_else(|| corrupt("short header".into()))?;
        if n_sections as usize != N_SECTIONS {
            return Err(corrupt(format!(
                "{n_sections} sections, expected {N_SECTIONS}"
            )));
        }
        let source = SourceKey {
            len: head(16)?,
            hash: u128::from(head(24)?) | (u128::from(head(32)?) << 64),
            stamp: [head(72)?, head(80)?, head(88)?, head(96)?],
        };
        let body_hash = head(40)?;
        let count = |at: usize, what: &str| -> Result<usize, SnapshotError> {
            let n = head(at)?;
            usize::try_from(n)
                .ok()
                .filter(|&n| n <= u32::MAX as usize)
                .ok_or_else(|| corrupt(format!("{what} count {n} is out of range")))
        };
        let n_images = count(48, "image")?;
        let n_annots = count(56, "annotation")?;
        let n_videos = count(64, "video")?;
        let mut sections = [(0usize, 0usize); N_SECTIONS];
        for (i, s) in sections.iter_mut().enumerate() {
            let off = head(HEADER_LEN + 16 * i)?;
            let len = head(HEADER_LEN + 16 * i + 8)?;
            let end = off.checked_add(len);
            let ok = off >= BODY_START as u64
                && off % 8 == 0
                && end.is_some_and(|e| e <= b.len() as u64);
            if !ok {
                return Err(corrupt(format!(
                    "section {i} at {off} (+{len}) is outside the file of {} bytes",
                    b.len()
                )));
            }
            *s = (off as usize, len as usize);
        }
        let snap = Snapshot {
            map,
            path: path.to_path_buf(),
            sections,
            source,
            body_hash,
            n_images,
            n_annots,
            n_videos,
        };
        snap.check_lengths()?;
        Ok(snap)
    }

    /// Every fixed-width section has exactly the length its count implies;
    /// CSR lists match their last offset.
    fn check_lengths(&self) -> Result<(), SnapshotError> {
        let (ni, na, nv) = (self.n_images, self.n_annots, self.n_videos);
        let expect = [
            (Sec::ImgId, 8 * ni),
            (Sec::ImgRecOff, 8 * (ni + 1)),
            (Sec::ImgById, 4 * ni),
            (Sec::ImgAnnStart, 8 * (ni + 1)),
            (Sec::VidImgStart, 8 * (nv + 1)),
            (Sec::AnnId, 8 * na),
            (Sec::AnnImage, 8 * na),
            (Sec::AnnCat, 8 * na),
            (Sec::AnnFlags, na),
            (Sec::AnnBox, 32 * na),
            (Sec::AnnById, 4 * na),
            (Sec::SegOff, 8 * (na + 1)),
            (Sec::PolyOff, 8 * (na + 1)),
            (Sec::KpOff, 8 * (na + 1)),
        ];
        for (sec, len) in expect {
            let got = self.sections[sec as usize].1;
            if got != len {
                return Err(
                    self.corrupt(format!("section {sec:?} has {got} bytes, expected {len}"))
                );
            }
        }
        for (dense, n) in [(Sec::ImgDense, ni), (Sec::AnnDense, na)] {
            let len = self.sections[dense as usize].1;
            let ok = len == 0
                || (len >= 8 && (len - 8).is_multiple_of(4) && (len - 8) / 4 <= dense_slots(n));
            if !ok {
                return Err(self.corrupt(format!(
                    "section {dense:?} has {len} bytes, not a table of at most {} ids",
                    dense_slots(n)
                )));
            }
        }
        for (start, list, n, width) in [
            (Sec::ImgAnnStart, Sec::ImgAnnList, ni, 4),
            (Sec::VidImgStart, Sec::VidImgList, nv, 4),
            (Sec::ImgRecOff, Sec::ImgRec, ni, 1),
            (Sec::SegOff, Sec::Seg, na, 1),
            (Sec::PolyOff, Sec::Poly, na, 1),
            (Sec::KpOff, Sec::Kp, na, 1),
        ] {
            let last = self.u64_at(start, n)?;
            let len = self.sections[list as usize].1 as u64;
            if last.checked_mul(width) != Some(len) || self.u64_at(start, 0)? != 0 {
                return Err(self.corrupt(format!(
                    "section {list:?} has {len} bytes, its offsets end at {last}"
                )));
            }
        }
        Ok(())
    }

    fn corrupt(&self, msg: String) -> SnapshotError {
        SnapshotError::Corrupt {
            path: self.path.clone(),
            msg,
        }
    }

    fn sec(&self, s: Sec) -> &[u8] {
        let (off, len) = self.sections[s as usize];
        // bounds checked in `from_map`; `get` keeps this panic-free regardless
        self.map.get(off..off.saturating_add(len)).unwrap_or(&[])
    }

    fn u64_at(&self, s: Sec, i: usize) -> Result<u64, SnapshotError> {
        i.checked_mul(8)
            .and_then(|at| le_u64(self.sec(s), at))
            .ok_or_else(|| self.corrupt(format!("read past section {s:?} (entry {i})")))
    }

    fn i64_at(&self, s: Sec, i: usize) -> Result<i64, SnapshotError> {
        self.u64_at(s, i).map(|v| v as i64)
    }

    fn u32_at(&self, s: Sec, i: usize) -> Result<usize, SnapshotError> {
        i.checked_mul(4)
            .and_then(|at| le_u32(self.sec(s), at))
            .map(|v| v as usize)
            .ok_or_else(|| self.corrupt(format!("read past section {s:?} (entry {i})")))
    }

    /// The `u32` entries `start[i]..start[i + 1]` of a CSR list, checked
    /// against the list's length before anything is allocated.
    fn csr(&self, start: Sec, list: Sec, i: usize) -> Result<Vec<usize>, SnapshotError> {
        let (a, b) = self.range(start, i)?;
        if b.checked_mul(4)
            .is_none_or(|end| end > self.sec(list).len())
        {
            return Err(self.corrupt(format!("entry {i} of {list:?} ({a}..{b}) is outside it")));
        }
        (a..b).map(|k| self.u32_at(list, k)).collect()
    }

    /// Entries `start[i]..start[i + 1]` of a CSR or blob, checked.
    fn range(&self, start: Sec, i: usize) -> Result<(usize, usize), SnapshotError> {
        let a = self.u64_at(start, i)?;
        let b = self.u64_at(start, i + 1)?;
        if a > b {
            return Err(self.corrupt(format!("offsets of {start:?} decrease at entry {i}")));
        }
        let a = usize::try_from(a).map_err(|_| self.corrupt(format!("offset {a} too large")))?;
        let b = usize::try_from(b).map_err(|_| self.corrupt(format!("offset {b} too large")))?;
        Ok((a, b))
    }

    fn text(&self, start: Sec, blob: Sec, i: usize) -> Result<&str, SnapshotError> {
        let (a, b) = self.range(start, i)?;
        let bytes = self.sec(blob).get(a..b).ok_or_else(|| {
            self.corrupt(format!("entry {i} of {blob:?} ({a}..{b}) is outside it"))
        })?;
        std::str::from_utf8(bytes)
            .map_err(|e| self.corrupt(format!("entry {i} of {blob:?} is not UTF-8: {e}")))
    }

    /// The first position (in table order) whose id is `id`: one read of
    /// the dense table when there is one, else a lower-bound binary search
    /// over the positions sorted by (id, position).
    fn position(
        &self,
        (by_id, dense): (Sec, Sec),
        ids: Sec,
        n: usize,
        id: i64,
    ) -> Result<Option<usize>, SnapshotError> {
        let table = self.sec(dense);
        if let Some(min) = le_u64(table, 0) {
            let slots = (table.len() - 8) / 4;
            let Some(k) = id
                .checked_sub(min as i64)
                .and_then(|k| usize::try_from(k).ok())
                .filter(|&k| k < slots)
            else {
                return Ok(None);
            };
            let v = le_u32(table, 8 + 4 * k)
                .ok_or_else(|| self.corrupt(format!("read past section {dense:?}")))?;
            let Some(pos) = (v as usize).checked_sub(1) else {
                return Ok(None);
            };
            if pos >= n || self.i64_at(ids, pos)? != id {
                return Err(self.corrupt(format!(
                    "{dense:?} gives position {pos} for id {id}, which is not there"
                )));
            }
            return Ok(Some(pos));
        }
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.i64_at(ids, self.u32_at(by_id, mid)?)? < id {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == n {
            return Ok(None);
        }
        let pos = self.u32_at(by_id, lo)?;
        Ok((self.i64_at(ids, pos)? == id).then_some(pos))
    }

    /// The snapshot's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of the snapshot file.
    pub fn file_len(&self) -> u64 {
        self.map.len() as u64
    }

    /// What the snapshot knows of the source it was made from.
    pub fn source_key(&self) -> SourceKey {
        self.source
    }

    /// Whether lookups of images and of annotations by id read a dense
    /// table (one read) rather than binary-search the sorted ids.
    pub fn dense_ids(&self) -> (bool, bool) {
        (
            !self.sec(Sec::ImgDense).is_empty(),
            !self.sec(Sec::AnnDense).is_empty(),
        )
    }

    /// Number of images.
    pub fn n_images(&self) -> usize {
        self.n_images
    }

    /// Number of annotations.
    pub fn n_annotations(&self) -> usize {
        self.n_annots
    }

    /// Number of videos.
    pub fn n_videos(&self) -> usize {
        self.n_videos
    }

    /// Checks the body checksum (reads the whole file).
    pub fn verify(&self) -> Result<(), SnapshotError> {
        let body = self.map.get(BODY_START..).unwrap_or(&[]);
        let got = xxhash_rust::xxh3::xxh3_64(body);
        if got != self.body_hash {
            return Err(self.corrupt(format!(
                "body checksum {got:016x} differs from the recorded {:016x}",
                self.body_hash
            )));
        }
        Ok(())
    }

    /// The categories, keypoint categories and videos as dataset JSON.
    pub fn meta_json(&self) -> Result<&str, SnapshotError> {
        std::str::from_utf8(self.sec(Sec::Meta))
            .map_err(|e| self.corrupt(format!("meta is not UTF-8: {e}")))
    }

    /// Id of the image at `pos`.
    pub fn image_id(&self, pos: usize) -> Result<i64, SnapshotError> {
        self.i64_at(Sec::ImgId, pos)
    }

    /// Position of the image with `id`.
    pub fn image_position(&self, id: i64) -> Result<Option<usize>, SnapshotError> {
        self.position((Sec::ImgById, Sec::ImgDense), Sec::ImgId, self.n_images, id)
    }

    /// The JSON record of the image at `pos`.
    pub fn image_record(&self, pos: usize) -> Result<&str, SnapshotError> {
        if pos >= self.n_images {
            return Err(self.corrupt(format!("image position {pos} out of range")));
        }
        self.text(Sec::ImgRecOff, Sec::ImgRec, pos)
    }

    /// Positions of the annotations of the image at `pos`, in table order.
    pub fn image_annotations(&self, pos: usize) -> Result<Vec<usize>, SnapshotError> {
        if pos >= self.n_images {
            return Err(self.corrupt(format!("image position {pos} out of range")));
        }
        self.csr(Sec::ImgAnnStart, Sec::ImgAnnList, pos)
    }

    /// Positions of the frames of the video at `pos` (in the meta's video
    /// order), in frame order.
    pub fn video_frames(&self, pos: usize) -> Result<Vec<usize>, SnapshotError> {
        if pos >= self.n_videos {
            return Err(self.corrupt(format!("video position {pos} out of range")));
        }
        self.csr(Sec::VidImgStart, Sec::VidImgList, pos)
    }

    /// Position of the annotation with `id`.
    pub fn annotation_position(&self, id: i64) -> Result<Option<usize>, SnapshotError> {
        self.position((Sec::AnnById, Sec::AnnDense), Sec::AnnId, self.n_annots, id)
    }

    /// The annotation at `pos`.
    pub fn annotation(&self, pos: usize) -> Result<SnapAnnot, SnapshotError> {
        if pos >= self.n_annots {
            return Err(self.corrupt(format!("annotation position {pos} out of range")));
        }
        let flags = *self
            .sec(Sec::AnnFlags)
            .get(pos)
            .ok_or_else(|| self.corrupt(format!("flags of annotation {pos}")))?;
        let mut xywh = [0.0; 4];
        for (k, v) in xywh.iter_mut().enumerate() {
            *v = f64::from_bits(self.u64_at(Sec::AnnBox, 4 * pos + k)?);
        }
        Ok(SnapAnnot {
            pos,
            id: self.i64_at(Sec::AnnId, pos)?,
            image_id: self.i64_at(Sec::AnnImage, pos)?,
            category_id: if flags & flags::HAS_CATEGORY != 0 {
                Some(self.i64_at(Sec::AnnCat, pos)?)
            } else {
                None
            },
            bbox: (flags & flags::HAS_BBOX != 0).then_some(xywh),
            index_box: (flags & flags::INDEXED != 0).then_some(xywh),
            flags,
        })
    }

    /// The segmentation JSON of the annotation at `pos`, when the snapshot
    /// keeps it as text (an RLE, or text that is not a segmentation); `None`
    /// when it has none or it is polygons ([`Snapshot::polygons`]).
    pub fn segmentation_json(&self, a: &SnapAnnot) -> Result<Option<&str>, SnapshotError> {
        if !a.has_segmentation() || a.has_polygons() {
            return Ok(None);
        }
        self.text(Sec::SegOff, Sec::Seg, a.pos).map(Some)
    }

    /// The polygon segmentation of `a`, as parsed when the snapshot was
    /// written (`None` unless [`SnapAnnot::has_polygons`]).
    pub fn polygons(&self, a: &SnapAnnot) -> Result<Option<Segmentation>, SnapshotError> {
        if !a.has_polygons() {
            return Ok(None);
        }
        let (lo, hi) = self.range(Sec::PolyOff, a.pos)?;
        let bytes = self.sec(Sec::Poly).get(lo..hi).ok_or_else(|| {
            self.corrupt(format!(
                "polygons of annotation {} are outside the file",
                a.pos
            ))
        })?;
        geom::decode(bytes)
            .map(Some)
            .map_err(|e| self.corrupt(format!("polygons of annotation {}: {e}", a.pos)))
    }

    /// The keypoints JSON of the annotation at `pos`.
    pub fn keypoints_json(&self, a: &SnapAnnot) -> Result<Option<&str>, SnapshotError> {
        if !a.has_keypoints() {
            return Ok(None);
        }
        self.text(Sec::KpOff, Sec::Kp, a.pos).map(Some)
    }

    /// Video id → position in the meta's video list.
    pub(crate) fn video_positions(videos: &[coco_model::Video]) -> HashMap<i64, usize> {
        videos
            .iter()
            .enumerate()
            .map(|(i, v)| (v.id.0, i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coco_model::CocoDataset;

    /// A small snapshot (dense ids, a polygon, an RLE, no videos or
    /// keypoints), followed by 4 KiB of padding so that grown sections stay
    /// inside the file.
    fn snapshot_bytes(dir: &Path) -> Vec<u8> {
        let text = r#"{"images": [
            {"id": 1, "file_name": "a.png", "width": 8, "height": 8},
            {"id": 2, "file_name": "b.png", "width": 8, "height": 8}],
          "annotations": [
            {"id": 1, "image_id": 1, "bbox": [0, 0, 2, 2], "segmentation": [[0, 0, 2, 0, 2, 2]]},
            {"id": 2, "image_id": 2, "bbox": [1, 1, 2, 2]},
            {"id": 3, "image_id": 2, "bbox": [3, 3, 2, 2],
             "segmentation": {"size": [8, 8], "counts": [0, 4, 60]}}]}"#;
        let ds = CocoDataset::from_json_str(text, dir).unwrap();
        let key = SourceKey {
            len: 0,
            hash: 0,
            stamp: [0; 4],
        };
        let out = dir.join("s.ndsnap");
        write_snapshot(&ds, &key, &out).unwrap();
        let mut b = std::fs::read(&out).unwrap();
        b.extend_from_slice(&[0u8; 4096]);
        b
    }

    fn open_bytes(dir: &Path, b: &[u8]) -> Result<Snapshot, SnapshotError> {
        let p = dir.join("variant.ndsnap");
        std::fs::write(&p, b).unwrap();
        Snapshot::open(&p)
    }

    /// `(offset, length)` of section `i` in the table.
    fn entry(b: &[u8], i: usize) -> (usize, usize) {
        let at = HEADER_LEN + 16 * i;
        let v = |k: usize| le_u64(b, at + k).unwrap() as usize;
        (v(0), v(8))
    }

    fn set_len(b: &mut [u8], sec: Sec, len: usize) {
        let at = HEADER_LEN + 16 * sec as usize + 8;
        b[at..at + 8].copy_from_slice(&(len as u64).to_le_bytes());
    }

    fn is_corrupt(r: Result<Snapshot, SnapshotError>) -> bool {
        matches!(r, Err(SnapshotError::Corrupt { .. }))
    }

    #[test]
    fn every_section_length_is_checked_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let good = snapshot_bytes(dir.path());
        assert!(open_bytes(dir.path(), &good).is_ok());
        let mut checked = 0;
        for i in 0..N_SECTIONS {
            let (_, len) = entry(&good, i);
            // the meta is any JSON text (checked when parsed)
            if len == 0 || i == Sec::Meta as usize {
                continue;
            }
            for new_len in [len - 1, len + 1] {
                let mut b = good.clone();
                let at = HEADER_LEN + 16 * i + 8;
                b[at..at + 8].copy_from_slice(&(new_len as u64).to_le_bytes());
                assert!(
                    is_corrupt(open_bytes(dir.path(), &b)),
                    "section {i}: {len} -> {new_len} bytes"
                );
            }
            checked += 1;
        }
        assert!(checked >= 18, "{checked}");
    }

    #[test]
    fn dense_tables_are_checked_and_optional() {
        let dir = tempfile::tempdir().unwrap();
        let good = snapshot_bytes(dir.path());
        let snap = open_bytes(dir.path(), &good).unwrap();
        assert_eq!(snap.dense_ids(), (true, true));
        let want: Vec<_> = (-1..6)
            .map(|id| snap.annotation_position(id).unwrap())
            .collect();
        assert_eq!(&want[..5], &[None, None, Some(0), Some(1), Some(2)]);
        drop(snap);
        let max = 8 + 4 * dense_slots(3);
        for (len, ok) in [
            (0, true),
            (4, false),
            (9, false),
            (max, true),
            (max + 4, false),
        ] {
            let mut b = good.clone();
            set_len(&mut b, Sec::AnnDense, len);
            let r = open_bytes(dir.path(), &b);
            assert_eq!(r.is_ok(), ok, "{len} bytes: {r:?}");
            if len == 0 {
                // without the table, the binary search gives the same answers
                let s = r.unwrap();
                assert_eq!(s.dense_ids(), (true, false));
                let got: Vec<_> = (-1..6)
                    .map(|id| s.annotation_position(id).unwrap())
                    .collect();
                assert_eq!(got, want);
            }
        }
        // a table entry naming another record's position is an error, not it
        let (off, _) = entry(&good, Sec::AnnDense as usize);
        for wrong in [3u32, 100] {
            let mut b = good.clone();
            b[off + 8..off + 12].copy_from_slice(&wrong.to_le_bytes());
            let s = open_bytes(dir.path(), &b).unwrap();
            assert!(s.annotation_position(1).is_err(), "{wrong}");
            assert_eq!(s.annotation_position(2).unwrap(), Some(1));
        }
    }

    #[test]
    fn offset_lists_start_at_zero() {
        let dir = tempfile::tempdir().unwrap();
        let good = snapshot_bytes(dir.path());
        for sec in [Sec::ImgAnnStart, Sec::ImgRecOff, Sec::PolyOff, Sec::SegOff] {
            let (off, _) = entry(&good, sec as usize);
            let mut b = good.clone();
            b[off..off + 8].copy_from_slice(&1u64.to_le_bytes());
            assert!(is_corrupt(open_bytes(dir.path(), &b)), "{sec:?}");
        }
    }
}
