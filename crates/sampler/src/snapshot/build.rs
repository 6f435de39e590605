//! Writing a snapshot: columns from a loaded dataset, streamed into a
//! temporary file beside the target and renamed over it.

use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use coco_model::CocoDataset;
use coco_model::record::record_to_json;

use super::{
    BODY_START, EXTENSION, FORMAT_VERSION, MAGIC, N_SECTIONS, Sec, Snapshot, SnapshotError,
    SourceKey, flags, geom, source_key,
};
use crate::error::Result;

/// What [`ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotStatus {
    /// There was none: written.
    Built,
    /// A valid one for this content was there (checksum verified).
    Reused,
    /// The one there was stale, corrupt or of another version: rewritten.
    Rebuilt,
}

/// The dataset file a path names: the path itself, or a bundle directory's
/// manifest.
pub fn source_file(path: &Path) -> Result<PathBuf> {
    if path.is_dir() {
        Ok(coco_model::find_bundle_manifest(path)?)
    } else {
        Ok(path.to_path_buf())
    }
}

/// Where the snapshot of `source` lives under `workdir`:
/// `WORKDIR/_snapshot/NAME-HASH.ndsnap`, `HASH` being xxh3-64 of the source's
/// absolute path (so two datasets of the same name do not collide). Which
/// *content* it was made from is in its header.
pub fn snapshot_path(workdir: &Path, source: &Path) -> PathBuf {
    let abs = std::path::absolute(source).unwrap_or_else(|_| source.to_path_buf());
    let key = xxhash_rust::xxh3::xxh3_64(abs.as_os_str().as_encoded_bytes());
    let name = source
        .file_name()
        .map_or_else(|| "dataset".into(), |n| n.to_string_lossy().into_owned());
    workdir
        .join("_snapshot")
        .join(format!("{name}-{key:016x}.{EXTENSION}"))
}

/// The snapshot of `source` (a JSON/zip file or a bundle directory) under
/// `workdir`: reused when it is valid for the source's current content (body
/// checksum verified), else (re)built from the JSON. Returns its path.
pub fn ensure(source: &Path, workdir: &Path) -> Result<(PathBuf, SnapshotStatus)> {
    let file = source_file(source)?;
    let path = snapshot_path(workdir, &file);
    let status = if path.exists() {
        match Snapshot::open_for(&path, &file).and_then(|s| s.verify()) {
            Ok(()) => return Ok((path, SnapshotStatus::Reused)),
            Err(e @ SnapshotError::Io { .. }) if !path.is_file() => return Err(e.into()),
            Err(e) => {
                log::warn!("{e}; rebuilding it");
                SnapshotStatus::Rebuilt
            }
        }
    } else {
        SnapshotStatus::Built
    };
    let before = source_key(&file)?;
    let ds = CocoDataset::load(&file)?;
    let after = source_key(&file)?;
    if before != after {
        return Err(SnapshotError::Io {
            path: file,
            source: std::io::Error::other("changed while it was being indexed; run again"),
        }
        .into());
    }
    write_snapshot(&ds, &before, &path)?;
    Ok((path, status))
}

/// A section being assembled.
#[derive(Default)]
struct Buf(Vec<u8>);

impl Buf {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: usize) {
        // positions are checked to fit u32 before any section is written
        self.0.extend_from_slice(&(v as u32).to_le_bytes());
    }
}

/// Streams sections into the file, 8-byte aligned, hashing the body.
struct Writer<W: Write> {
    out: W,
    at: u64,
    hash: xxhash_rust::xxh3::Xxh3,
    table: [(u64, u64); N_SECTIONS],
}

impl<W: Write> Writer<W> {
    fn raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.out.write_all(b)?;
        self.hash.update(b);
        self.at += b.len() as u64;
        Ok(())
    }

    fn section(&mut self, sec: Sec, bytes: &[u8]) -> std::io::Result<()> {
        let pad = (8 - self.at % 8) % 8;
        self.raw(&[0u8; 8][..pad as usize])?;
        self.table[sec as usize] = (self.at, bytes.len() as u64);
        self.raw(bytes)
    }
}

/// Blob + offsets of optional texts.
fn texts<'a>(items: impl Iterator<Item = Option<std::borrow::Cow<'a, str>>>) -> (Buf, Buf) {
    let (mut off, mut blob) = (Buf::default(), Buf::default());
    off.u64(0);
    for t in items {
        if let Some(t) = t {
            blob.0.extend_from_slice(t.as_bytes());
        }
        off.u64(blob.0.len() as u64);
    }
    (off, blob)
}

/// The dense id table of `ids` (see [`Sec::AnnDense`]): empty when they
/// span more than [`super::dense_slots`] ids.
fn dense(ids: &[i64]) -> Buf {
    let mut b = Buf::default();
    let (Some(&min), Some(&max)) = (ids.iter().min(), ids.iter().max()) else {
        return b;
    };
    let span = i128::from(max) - i128::from(min) + 1;
    if span > super::dense_slots(ids.len()) as i128 {
        return b;
    }
    let mut table = vec![0u32; span as usize];
    for (p, &id) in ids.iter().enumerate() {
        // the first record with an id is the one a lookup finds
        let slot = &mut table[(i128::from(id) - i128::from(min)) as usize];
        if *slot == 0 {
            // positions are checked to fit u32 before any section is written
            *slot = p as u32 + 1;
        }
    }
    b.i64(min);
    for v in table {
        b.0.extend_from_slice(&v.to_le_bytes());
    }
    b
}

/// Positions `0..n` sorted by the ids at them (ties in table order).
fn by_id(ids: impl Iterator<Item = i64>) -> Buf {
    let mut order: Vec<(i64, usize)> = ids.enumerate().map(|(p, i)| (i, p)).collect();
    order.sort_unstable();
    let mut b = Buf::default();
    for (_, p) in order {
        b.u32(p);
    }
    b
}

/// Writes the snapshot of `ds`, whose source file has length and xxh3-128
/// `source` ([`super::source_key`]), to `out` atomically (a temporary file in
/// the same directory, synced, renamed over `out`). Refuses a dataset the
/// sampler itself would refuse (bad warps, invalid or duplicate boxes), so a
/// snapshot always opens into a working sampler.
pub fn write_snapshot(ds: &CocoDataset, source: &SourceKey, out: &Path) -> Result<()> {
    crate::sampler::check_dataset(ds)?;
    let (ni, na, nv) = (ds.images().len(), ds.annotations().len(), ds.videos().len());
    for (what, n) in [("images", ni), ("annotations", na), ("videos", nv)] {
        if n >= u32::MAX as usize {
            return Err(SnapshotError::TooMany { what, n }.into());
        }
    }
    let io = |e: std::io::Error| SnapshotError::Io {
        path: out.to_path_buf(),
        source: e,
    };
    let dir = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = tempfile::Builder::new()
        .prefix(".ndsnap-")
        .tempfile_in(dir)
        .map_err(io)?;
    let mut w = Writer {
        out: std::io::BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone().map_err(io)?),
        at: 0,
        hash: xxhash_rust::xxh3::Xxh3::new(),
        table: [(0, 0); N_SECTIONS],
    };
    // header and table are written last; reserve their bytes
    w.out.write_all(&[0u8; BODY_START]).map_err(io)?;
    w.at = BODY_START as u64;
    write_body(ds, &mut w).map_err(io)?;
    let body_hash = w.hash.digest();
    let table = w.table;
    let mut file = w.out.into_inner().map_err(|e| io(e.into_error()))?;

    let mut head = Vec::with_capacity(BODY_START);
    head.extend_from_slice(&MAGIC);
    head.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    head.extend_from_slice(&(N_SECTIONS as u32).to_le_bytes());
    head.extend_from_slice(&source.len.to_le_bytes());
    head.extend_from_slice(&(source.hash as u64).to_le_bytes());
    head.extend_from_slice(&((source.hash >> 64) as u64).to_le_bytes());
    head.extend_from_slice(&body_hash.to_le_bytes());
    for n in [ni, na, nv] {
        head.extend_from_slice(&(n as u64).to_le_bytes());
    }
    for v in source.stamp {
        head.extend_from_slice(&v.to_le_bytes());
    }
    for (off, len) in table {
        head.extend_from_slice(&off.to_le_bytes());
        head.extend_from_slice(&len.to_le_bytes());
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.write_all(&head).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    // readable by every worker, as a file written with the default umask
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(out).map_err(|e| io(e.error))?;
    Ok(())
}

fn write_body<W: Write>(ds: &CocoDataset, w: &mut Writer<W>) -> std::io::Result<()> {
    let images = ds.images();
    let anns = ds.annotations();
    // categories, keypoint categories and videos: small, one JSON text
    let mut meta = String::from("{\"categories\": [");
    let join = |meta: &mut String, recs: Vec<String>| {
        meta.push_str(&recs.join(", "));
    };
    join(
        &mut meta,
        ds.categories().iter().map(record_to_json).collect(),
    );
    meta.push_str("], \"keypoint_categories\": [");
    join(
        &mut meta,
        ds.keypoint_categories()
            .iter()
            .map(record_to_json)
            .collect(),
    );
    meta.push_str("], \"videos\": [");
    join(&mut meta, ds.videos().iter().map(record_to_json).collect());
    meta.push_str("]}");
    w.section(Sec::Meta, meta.as_bytes())?;
    drop(meta);

    let mut b = Buf::default();
    for img in images {
        b.i64(img.id.0);
    }
    w.section(Sec::ImgId, &b.0)?;
    let (off, blob) = texts(images.iter().map(|i| Some(record_to_json(i).into())));
    w.section(Sec::ImgRecOff, &off.0)?;
    w.section(Sec::ImgRec, &blob.0)?;
    drop((off, blob));
    w.section(Sec::ImgById, &by_id(images.iter().map(|i| i.id.0)).0)?;

    // annotations per image, table order (every record, as the sampler's index)
    let img_pos: HashMap<i64, usize> = images
        .iter()
        .enumerate()
        .map(|(p, i)| (i.id.0, p))
        .rev() // the first image of a repeated id wins, as in the dataset's index
        .collect();
    let mut per_image: Vec<Vec<usize>> = vec![Vec::new(); images.len()];
    for (p, a) in anns.iter().enumerate() {
        if let Some(&g) = img_pos.get(&a.image_id.0) {
            per_image[g].push(p);
        }
    }
    let (mut start, mut list) = (Buf::default(), Buf::default());
    start.u64(0);
    for v in &per_image {
        for &p in v {
            list.u32(p);
        }
        start.u64((list.0.len() / 4) as u64);
    }
    drop(per_image);
    w.section(Sec::ImgAnnStart, &start.0)?;
    w.section(Sec::ImgAnnList, &list.0)?;

    let (mut start, mut list) = (Buf::default(), Buf::default());
    start.u64(0);
    for v in ds.videos() {
        for g in ds.images_of_video(v.id) {
            if let Some(&p) = img_pos.get(&g.0) {
                list.u32(p);
            }
        }
        start.u64((list.0.len() / 4) as u64);
    }
    w.section(Sec::VidImgStart, &start.0)?;
    w.section(Sec::VidImgList, &list.0)?;

    let column = |f: &dyn Fn(&coco_model::Annotation, &mut Buf)| {
        let mut b = Buf::default();
        for a in anns {
            f(a, &mut b);
        }
        b
    };
    w.section(Sec::AnnId, &column(&|a, b| b.i64(a.id.0)).0)?;
    w.section(Sec::AnnImage, &column(&|a, b| b.i64(a.image_id.0)).0)?;
    w.section(
        Sec::AnnCat,
        &column(&|a, b| b.i64(a.category_id.map_or(0, |c| c.0))).0,
    )?;
    let mut fl = Vec::with_capacity(anns.len());
    let mut boxes = Buf::default();
    let mut seen = std::collections::HashSet::with_capacity(anns.len());
    for a in anns {
        let index_box = crate::sampler::index_box(a);
        let mut f = 0u8;
        if a.bbox.is_some() {
            f |= flags::HAS_BBOX;
        }
        if a.category_id.is_some() {
            f |= flags::HAS_CATEGORY;
        }
        if index_box.is_some() {
            f |= flags::INDEXED;
        }
        if a.segmentation.is_some() {
            f |= flags::HAS_SEGMENTATION;
        }
        if a.keypoints().is_some() {
            f |= flags::HAS_KEYPOINTS;
        }
        if seen.insert(a.id.0) {
            f |= flags::FIRST_OF_ID;
        }
        fl.push(f);
        // with a bbox the index box is the bbox; without one, the segmentation's
        for v in a.bbox.or(index_box).unwrap_or([0.0; 4]) {
            boxes.u64(v.to_bits());
        }
    }
    // polygons parsed now, into words every process reads from the map;
    // RLEs (traced on use) and what does not parse (an error on use, as
    // from the JSON) stay text
    let (mut seg_off, mut seg) = (Buf::default(), Buf::default());
    let (mut poly_off, mut poly) = (Buf::default(), Buf::default());
    seg_off.u64(0);
    poly_off.u64(0);
    for (a, f) in anns.iter().zip(fl.iter_mut()) {
        if let Some(text) = a.segmentation_json() {
            let parsed = coco_model::geometry::Segmentation::from_json_str(&text);
            if !parsed.is_ok_and(|s| geom::encode(&s, &mut poly.0)) {
                seg.0.extend_from_slice(text.as_bytes());
            } else {
                *f |= flags::POLYGONS;
            }
        }
        seg_off.u64(seg.0.len() as u64);
        poly_off.u64(poly.0.len() as u64);
    }
    w.section(Sec::SegOff, &seg_off.0)?;
    w.section(Sec::Seg, &seg.0)?;
    w.section(Sec::PolyOff, &poly_off.0)?;
    w.section(Sec::Poly, &poly.0)?;
    drop((seg_off, seg, poly_off, poly));
    w.section(Sec::AnnFlags, &fl)?;
    w.section(Sec::AnnBox, &boxes.0)?;
    drop((fl, boxes));
    w.section(Sec::AnnById, &by_id(anns.iter().map(|a| a.id.0)).0)?;
    let (off, blob) = texts(anns.iter().map(|a| a.keypoints_json()));
    w.section(Sec::KpOff, &off.0)?;
    w.section(Sec::Kp, &blob.0)?;
    drop((off, blob));
    let ids: Vec<i64> = images.iter().map(|i| i.id.0).collect();
    w.section(Sec::ImgDense, &dense(&ids).0)?;
    let ids: Vec<i64> = anns.iter().map(|a| a.id.0).collect();
    w.section(Sec::AnnDense, &dense(&ids).0)?;
    w.out.flush()
}
