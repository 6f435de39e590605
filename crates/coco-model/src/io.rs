//! Loading and writing datasets: JSON text, files, `.zip` archives, bundle
//! directories; pretty (kwcoco-style) or compact; atomic writes.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::de::DeserializeSeed;
use serde_json::Value;

use crate::dataset::{CocoDataset, TopKey};
use crate::error::{Error, Result};
use crate::json::split::{Cut, SplitError, Splitter, SyntaxError};
use crate::json::{DumpStyle, JsonWriter, replace_non_finite};
use crate::record::schema::{RecordSeed, Schema, TableSeed, in_record, write_record};

/// The file name of a dataset inside a bundle directory.
pub const BUNDLE_FILE_NAME: &str = "data.kwcoco.json";

/// The names kwcoco 0.9.1 tries for a bundle's manifest, in order
/// (`CocoDataset.__init__` given a directory); `*` matches any prefix.
pub const BUNDLE_MANIFEST_NAMES: &[&str] = &[
    "data",
    "data.json",
    "data.kwcoco.json",
    "data.kwcoco.zip",
    "data.kwcoco.json.zip",
    "*.kwcoco.json",
    "*.mscoco.json",
];

/// The manifest of a bundle directory: the one regular file matching
/// [`BUNDLE_MANIFEST_NAMES`]. None is an error, and so are several (kwcoco
/// refuses an "ambiguous dataset bundle" too), each naming the directory.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("train.kwcoco.json"), "{}").unwrap();
/// let found = coco_model::find_bundle_manifest(dir.path()).unwrap();
/// assert_eq!(found.file_name().unwrap(), "train.kwcoco.json");
/// std::fs::write(dir.path().join("data.json"), "{}").unwrap();
/// assert!(coco_model::find_bundle_manifest(dir.path()).is_err());
/// ```
pub fn find_bundle_manifest(dir: &Path) -> Result<PathBuf> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut found: Vec<String> = Vec::new();
    for pat in BUNDLE_MANIFEST_NAMES {
        let matches = |n: &String| match pat.strip_prefix('*') {
            Some(suffix) => n.ends_with(suffix) && n.len() > suffix.len(),
            None => n == pat,
        };
        for n in names.iter().filter(|n| matches(n)) {
            if !found.contains(n) {
                found.push(n.clone());
            }
        }
    }
    match found.as_slice() {
        [one] => Ok(dir.join(one)),
        [] => Err(Error::NotADataset {
            path: dir.to_path_buf(),
            message: format!(
                "directory has no dataset manifest (looked for {})",
                BUNDLE_MANIFEST_NAMES.join(", ")
            ),
        }),
        many => Err(Error::NotADataset {
            path: dir.to_path_buf(),
            message: format!(
                "ambiguous dataset bundle: {} all name a manifest; pass the file",
                many.join(", ")
            ),
        }),
    }
}

/// Maps a serde_json error inside a value cut out at `(line, column)` to the
/// file's position: `(message, line, column)`.
fn located(e: &serde_json::Error, line: usize, column: usize) -> (String, usize, usize) {
    let (message, inner) = crate::json::split_positions(&e.to_string());
    let (l, c) = inner.unwrap_or((e.line(), e.column()));
    if l <= 1 {
        (message, line, column + c.saturating_sub(1))
    } else {
        (message, line + l - 1, c)
    }
}

/// The text of a value: already known to be UTF-8 (serde_json then skips
/// checking it again in every string and raw value), or bytes.
#[derive(Clone, Copy)]
enum Text<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
}

/// Parses one value cut out at `cut` (its text is `text`) with `seed`; errors
/// are placed in the file and prefixed by `context(msg)`.
fn parse_cut<V, S, F>(
    text: Text<'_>,
    cut: &Cut,
    seed: S,
    context: F,
) -> std::result::Result<V, SplitError>
where
    S: for<'de> DeserializeSeed<'de, Value = V>,
    F: FnOnce(String) -> String,
{
    fn run<'de, R, V, S>(mut de: serde_json::Deserializer<R>, seed: S) -> serde_json::Result<V>
    where
        R: serde_json::de::Read<'de>,
        S: DeserializeSeed<'de, Value = V>,
    {
        let v = seed.deserialize(&mut de)?;
        de.end()?;
        Ok(v)
    }
    let text = match text {
        Text::Bytes(b) if cut.non_finite => std::str::from_utf8(b).map_or(text, Text::Str),
        t => t,
    };
    let result = match text {
        Text::Str(t) if cut.non_finite => run(
            serde_json::Deserializer::from_str(&replace_non_finite(t)),
            seed,
        ),
        Text::Str(t) => run(serde_json::Deserializer::from_str(t), seed),
        Text::Bytes(b) => run(serde_json::Deserializer::from_slice(b), seed),
    };
    result.map_err(|e| {
        let (msg, line, column) = located(&e, cut.line, cut.column);
        SplitError::Syntax(SyntaxError {
            message: context(msg),
            line,
            column,
        })
    })
}

/// How tables are parsed: the text of a batch of records handed to a parsing
/// thread (about this many bytes), and at most how many threads parse.
#[derive(Debug, Clone, Copy)]
struct ParseOpts {
    batch_bytes: usize,
    threads: usize,
    /// Length of the whole input when known (a file's size): a large table's
    /// vector is reserved once from it instead of growing by doubling, which
    /// would copy it and, for a moment, hold it twice.
    size_hint: Option<u64>,
}

/// Default [`ParseOpts::batch_bytes`].
const BATCH_BYTES: usize = 1 << 20;

impl Default for ParseOpts {
    fn default() -> Self {
        ParseOpts {
            batch_bytes: BATCH_BYTES,
            threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(4),
            size_hint: None,
        }
    }
}

/// Consecutive records of one table, their text copied out of the splitter's
/// buffer (`cuts` index `text`), parsed together on one thread.
struct Batch {
    /// Position of the batch in the table.
    seq: usize,
    /// Index in the table of the first record.
    first: usize,
    text: Vec<u8>,
    cuts: Vec<Cut>,
}

impl Batch {
    fn new(seq: usize, first: usize, batch_bytes: usize) -> Self {
        Batch {
            seq,
            first,
            // grows to the batch size once; batches are reused after that
            text: Vec::with_capacity(batch_bytes.min(64 << 10)),
            cuts: Vec::new(),
        }
    }

    /// Copies the value `cut` (in `bytes`) in.
    fn push(&mut self, bytes: &[u8], mut cut: Cut) {
        let start = self.text.len();
        self.text.extend_from_slice(&bytes[cut.range.clone()]);
        cut.range = start..self.text.len();
        self.cuts.push(cut);
    }

    /// The batch emptied for reuse as batch `seq` starting at record `first`
    /// (its buffers kept: no allocation per batch).
    fn reuse(mut self, seq: usize, first: usize) -> Self {
        self.seq = seq;
        self.first = first;
        self.text.clear();
        self.cuts.clear();
        self
    }

    fn parse<T: Schema>(&self) -> std::result::Result<Vec<T>, SplitError> {
        self.parse_into(Vec::with_capacity(self.cuts.len()))
    }

    /// Parses the records, appending them to `out`.
    fn parse_into<T: Schema>(&self, mut out: Vec<T>) -> std::result::Result<Vec<T>, SplitError> {
        out.reserve(self.cuts.len());
        // one UTF-8 check of the whole batch (a fast pass over ASCII) instead
        // of one per string and raw value; invalid text is parsed as bytes,
        // so the error is the one a record by itself gives
        let whole = std::str::from_utf8(&self.text).ok();
        for (k, cut) in self.cuts.iter().enumerate() {
            let i = self.first + k;
            let text = match whole.and_then(|t| t.get(cut.range.clone())) {
                Some(t) => Text::Str(t),
                None => Text::Bytes(&self.text[cut.range.clone()]),
            };
            out.push(parse_cut(text, cut, RecordSeed::<T>::new(i), |m| {
                in_record::<T>(i, m)
            })?);
        }
        Ok(out)
    }
}

/// A vector for a table whose first batch is `first`, reserved for the whole
/// table when the input's size is known: the bytes left divided by the first
/// batch's bytes per record (an overestimate costs address space, not memory:
/// untouched pages are never resident; see [`trim_table`]).
fn table_vec<T>(first: &Batch, consumed: u64, size_hint: Option<u64>) -> Vec<T> {
    let Some(total) = size_hint else {
        return Vec::new();
    };
    let n = first.cuts.len().max(1);
    let per = (first.text.len() / n).max(1) as u64;
    let left = total.saturating_sub(consumed) / per;
    let mut out = Vec::new();
    // a reservation the system refuses is only a missed shortcut
    let _ = out.try_reserve((n as u64 + left).min(1 << 27) as usize);
    out
}

/// Gives back a reservation far larger than the table (a small table early in
/// a large file): copying a small table is cheap.
fn trim_table<T>(out: &mut Vec<T>) {
    if out.capacity() / 2 > out.len() {
        out.shrink_to_fit();
    }
}

/// Reads the records of a table array (its `[` consumed, not empty) up to and
/// including its `]`.
///
/// The splitter cuts records out on this thread and copies them into batches
/// of about `opts.batch_bytes` (1 MB); a table longer than one batch is parsed
/// on up to four threads (the machine's parallelism), at most one batch queued per
/// thread, so the text held at once stays a few MB whatever the file's size.
/// Records keep their order. The error reported is the one a sequential parse
/// would report: the first in the file (a parse error in an earlier batch wins
/// over a syntax error the splitter finds later).
fn parse_records<R: Read, T: Schema + Send>(
    s: &mut Splitter<R>,
    opts: ParseOpts,
) -> std::result::Result<Vec<T>, SplitError> {
    // Cuts the next batch: `Ok(true)` when the table's `]` was reached.
    let fill = |s: &mut Splitter<R>, batch: &mut Batch| -> std::result::Result<bool, SplitError> {
        loop {
            let cut = s.cut()?;
            batch.push(s.bytes(), cut);
            if s.expect(b",]", "`,` or `]`")? == b']' {
                return Ok(true);
            }
            if batch.text.len() >= opts.batch_bytes {
                return Ok(false);
            }
        }
    };
    let mut first = Batch::new(0, 0, opts.batch_bytes);
    let threads = opts.threads.max(1);
    match fill(s, &mut first) {
        Ok(true) => return first.parse(),
        Ok(false) if threads == 1 => {
            let mut out = first.parse_into(table_vec(&first, s.offset(), opts.size_hint))?;
            let mut end = false;
            let mut batch = first;
            while !end {
                batch = batch.reuse(0, out.len());
                let filled = fill(s, &mut batch);
                // a parse error of the records before the splitter's error comes first
                out = batch.parse_into(out)?;
                end = filled?;
            }
            trim_table(&mut out);
            return Ok(out);
        }
        Ok(false) => {}
        Err(e) => {
            // records before the splitter's error may hold an earlier error
            first.parse::<T>()?;
            return Err(e);
        }
    }
    // a parsed batch: its position, its records or error, and the batch
    // itself, handed back for reuse
    type Done<T> = (usize, std::result::Result<Vec<T>, SplitError>, Batch);
    std::thread::scope(|scope| {
        let (work_tx, work_rx) = crossbeam_channel::bounded::<Batch>(threads);
        let (done_tx, done_rx) = crossbeam_channel::unbounded::<Done<T>>();
        // emptied record vectors going back to the workers
        let (free_tx, free_rx) = crossbeam_channel::unbounded::<Vec<T>>();
        for _ in 0..threads {
            let (rx, tx, free) = (work_rx.clone(), done_tx.clone(), free_rx.clone());
            scope.spawn(move || {
                for batch in rx {
                    let r = batch.parse_into::<T>(free.try_recv().unwrap_or_default());
                    if tx.send((batch.seq, r, batch)).is_err() {
                        break;
                    }
                }
            });
        }
        drop((work_rx, done_tx, free_rx));
        let mut out: Vec<T> = table_vec(&first, s.offset(), opts.size_hint);
        // results that arrived before those of earlier batches
        let mut pending: std::collections::BTreeMap<usize, Vec<T>> = Default::default();
        let mut next_seq = 0usize;
        // the first error by batch position
        let mut error: Option<(usize, SplitError)> = None;
        // batches parsed, for reuse
        let mut spare: Vec<Batch> = Vec::new();
        let mut take = |(seq, r, batch): Done<T>,
                        out: &mut Vec<T>,
                        error: &mut Option<(usize, SplitError)>,
                        spare: &mut Vec<Batch>| {
            spare.push(batch);
            match r {
                Ok(v) => {
                    pending.insert(seq, v);
                    while let Some(mut v) = pending.remove(&next_seq) {
                        out.append(&mut v);
                        // the workers may be gone (an error): then it is dropped
                        let _ = free_tx.send(v);
                        next_seq += 1;
                    }
                }
                Err(e) => {
                    if error.as_ref().is_none_or(|(s, _)| seq < *s) {
                        *error = Some((seq, e));
                    }
                }
            }
        };
        let mut batch = first;
        let mut split_error = None;
        let mut seq = 0usize;
        let mut n_records = 0usize;
        loop {
            n_records += batch.cuts.len();
            // workers never hang up while `done_rx` lives
            let _ = work_tx.send(batch);
            while let Ok(d) = done_rx.try_recv() {
                take(d, &mut out, &mut error, &mut spare);
            }
            if error.is_some() {
                break;
            }
            seq += 1;
            let mut next = match spare.pop() {
                Some(b) => b.reuse(seq, n_records),
                None => Batch::new(seq, n_records, opts.batch_bytes),
            };
            match fill(s, &mut next) {
                Ok(false) => batch = next,
                Ok(true) => {
                    n_records += next.cuts.len();
                    let _ = work_tx.send(next);
                    break;
                }
                Err(e) => {
                    // the records before the splitter's error may hold an earlier one
                    let _ = work_tx.send(next);
                    split_error = Some(e);
                    break;
                }
            }
        }
        drop(work_tx);
        for d in done_rx {
            take(d, &mut out, &mut error, &mut spare);
        }
        match (error, split_error) {
            (Some((_, e)), _) | (None, Some(e)) => Err(e),
            (None, None) => {
                debug_assert_eq!(out.len(), n_records);
                trim_table(&mut out);
                Ok(out)
            }
        }
    })
}

/// Parses a dataset from a stream: the top-level object and the table arrays are
/// walked by the [`Splitter`], each record is parsed from its own slice (see
/// [`crate::json::split`] for why).
fn parse_stream<R: Read>(reader: R, path: Option<&Path>) -> Result<CocoDataset> {
    parse_stream_with(reader, path, ParseOpts::default())
}

/// [`parse_stream`] with explicit batching (tests compare several).
fn parse_stream_with<R: Read>(
    reader: R,
    path: Option<&Path>,
    opts: ParseOpts,
) -> Result<CocoDataset> {
    let split_err = |e: SplitError| match e {
        SplitError::Io(source) => Error::Io {
            path: path.map(Path::to_path_buf).unwrap_or_default(),
            source,
        },
        SplitError::Syntax(e) => Error::Json {
            path: path.map(Path::to_path_buf),
            line: e.line,
            column: e.column,
            message: e.message,
        },
    };
    // Parses the next value with `seed`; errors are prefixed by `context(msg)`.
    fn next_value<R: Read, V, S, F>(
        s: &mut Splitter<R>,
        seed: S,
        context: F,
    ) -> std::result::Result<V, SplitError>
    where
        S: for<'de> DeserializeSeed<'de, Value = V>,
        F: FnOnce(String) -> String,
    {
        let cut = s.cut()?;
        parse_cut(
            Text::Bytes(&s.bytes()[cut.range.clone()]),
            &cut,
            seed,
            context,
        )
    }
    fn table<R: Read, T: Schema + Send>(
        s: &mut Splitter<R>,
        key: &str,
        opts: ParseOpts,
    ) -> std::result::Result<Vec<T>, SplitError> {
        if s.peek()? != Some(b'[') {
            // not a list: serde_json says what it is
            return next_value(s, TableSeed::<T>::new(), |m| format!("`{key}`: {m}"));
        }
        s.expect(b"[", "a list")?;
        if s.peek()? == Some(b']') {
            s.expect(b"]", "`]`")?;
            return Ok(Vec::new());
        }
        parse_records(s, opts)
    }

    let mut s = Splitter::new(reader);
    let mut ds = CocoDataset::new();
    ds.table_order.clear();
    ds.info = Value::Null;
    let mut extra = IndexMap::new();
    let top = (|| -> std::result::Result<(), SplitError> {
        s.expect(b"{", "a kwcoco dataset (a JSON object of tables)")?;
        if s.peek()? == Some(b'}') {
            s.expect(b"}", "`}`")?;
        } else {
            loop {
                if s.peek()? != Some(b'"') {
                    return Err(s.syntax("key must be a string"));
                }
                let (line, column) = s.position();
                let key: String = next_value(&mut s, PhantomData, |m| m)?;
                s.expect(b":", "`:`")?;
                let top = TopKey::from_name(&key);
                if ds.table_order.contains(&top) {
                    return Err(SplitError::Syntax(SyntaxError {
                        message: format!("duplicate top-level key `{key}`"),
                        line,
                        column,
                    }));
                }
                let ctx = |m: String| format!("`{key}`: {m}");
                let sp = &mut s;
                match &top {
                    TopKey::Info => ds.info = next_value(sp, PhantomData, ctx)?,
                    TopKey::Licenses => {
                        ds.licenses =
                            next_value::<_, Option<Vec<Value>>, _, _>(sp, PhantomData, ctx)?
                                .unwrap_or_default()
                    }
                    TopKey::Categories => ds.categories = table(sp, &key, opts)?,
                    TopKey::KeypointCategories => ds.keypoint_categories = table(sp, &key, opts)?,
                    TopKey::Videos => ds.videos = table(sp, &key, opts)?,
                    TopKey::Images => ds.images = table(sp, &key, opts)?,
                    TopKey::Annotations => ds.annotations = table(sp, &key, opts)?,
                    TopKey::Tracks => ds.tracks = table(sp, &key, opts)?,
                    TopKey::Extra(k) => {
                        let v: Value = next_value(sp, PhantomData, ctx)?;
                        extra.insert(k.clone(), v);
                    }
                }
                ds.table_order.push(top);
                if s.expect(b",}", "`,` or `}`")? == b'}' {
                    break;
                }
            }
        }
        if s.peek()?.is_some() {
            return Err(s.syntax("trailing characters"));
        }
        Ok(())
    })();
    top.map_err(split_err)?;
    ds.extra = extra;
    ds.reindex();
    Ok(ds)
}

/// Absolute form of a directory (without resolving symlinks).
fn absolute_dir(dir: &Path) -> PathBuf {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

impl CocoDataset {
    /// Parses a dataset from JSON text. `bundle_dir` is the directory relative
    /// file names are resolved against.
    ///
    /// `NaN`, `Infinity` and `-Infinity` tokens are accepted (as Python writes them).
    pub fn from_json_str(text: &str, bundle_dir: impl Into<PathBuf>) -> Result<Self> {
        let mut ds = parse_stream(text.as_bytes(), None)?;
        ds.bundle_dir = bundle_dir.into();
        Ok(ds)
    }

    /// Parses a dataset from a reader of JSON text (streamed: the text is never
    /// held whole in memory, only a few MB of records at a time, parsed on up to
    /// four threads). `path` is only used in
    /// error messages.
    pub fn from_reader<R: Read>(
        reader: R,
        path: Option<&Path>,
        bundle_dir: impl Into<PathBuf>,
    ) -> Result<Self> {
        let mut ds = parse_stream(reader, path)?;
        ds.bundle_dir = bundle_dir.into();
        Ok(ds)
    }

    /// Loads a dataset from a JSON file, a `.zip` holding one JSON file, or a
    /// bundle directory (its manifest found as kwcoco finds it, see
    /// [`find_bundle_manifest`]). The bundle directory is the directory of the
    /// file (or the directory given).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let file_path = if meta.is_dir() {
            find_bundle_manifest(path)?
        } else {
            path.to_path_buf()
        };
        let bundle_dir = absolute_dir(file_path.parent().unwrap_or(Path::new(".")));
        let is_zip = file_path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        let mut ds = if is_zip {
            load_zip(&file_path, bundle_dir)?
        } else {
            let f = File::open(&file_path).map_err(|e| Error::io(&file_path, e))?;
            let size_hint = f
                .metadata()
                .ok()
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len());
            let opts = ParseOpts {
                size_hint,
                ..ParseOpts::default()
            };
            let mut ds = parse_stream_with(f, Some(&file_path), opts)?;
            ds.bundle_dir = bundle_dir;
            ds
        };
        ds.fpath = Some(file_path);
        Ok(ds)
    }

    /// Writes the dataset as JSON into `out`.
    pub fn write_json<W: Write>(&self, out: W, style: DumpStyle) -> io::Result<()> {
        let mut w = JsonWriter::new(out, style);
        let nl: &[u8] = if w.pretty { b"\n" } else { b"" };
        w.raw(b"{")?;
        w.raw(nl)?;
        let mut order: Vec<&TopKey> = self.table_order.iter().collect();
        for k in TopKey::CANONICAL.iter() {
            if !self.table_order.contains(k) && !self.table_is_empty(k) {
                order.push(k);
            }
        }
        let extra_keys: Vec<TopKey> = self
            .extra
            .keys()
            .map(|k| TopKey::Extra(k.clone()))
            .filter(|k| !self.table_order.contains(k))
            .collect();
        order.extend(extra_keys.iter());
        let mut first = true;
        for key in order {
            if let TopKey::Extra(k) = key
                && !self.extra.contains_key(k)
            {
                continue;
            }
            if !first {
                w.raw(b",")?;
                w.raw(nl)?;
            }
            first = false;
            w.key(key.name())?;
            match key {
                TopKey::Info => w.value(&self.info)?,
                TopKey::Licenses => write_values(&mut w, &self.licenses, nl)?,
                TopKey::Categories => write_table(&mut w, &self.categories, nl)?,
                TopKey::KeypointCategories => write_table(&mut w, &self.keypoint_categories, nl)?,
                TopKey::Videos => write_table(&mut w, &self.videos, nl)?,
                TopKey::Images => write_table(&mut w, &self.images, nl)?,
                TopKey::Annotations => write_table(&mut w, &self.annotations, nl)?,
                TopKey::Tracks => write_table(&mut w, &self.tracks, nl)?,
                TopKey::Extra(k) => {
                    if let Some(v) = self.extra.get(k) {
                        w.value(v)?
                    }
                }
            }
        }
        w.raw(nl)?;
        w.raw(b"}")?;
        w.raw(nl)?;
        w.out.flush()
    }

    fn table_is_empty(&self, k: &TopKey) -> bool {
        match k {
            TopKey::Info => self.info.is_null(),
            TopKey::Licenses => self.licenses.is_empty(),
            TopKey::Categories => self.categories.is_empty(),
            TopKey::KeypointCategories => self.keypoint_categories.is_empty(),
            TopKey::Videos => self.videos.is_empty(),
            TopKey::Images => self.images.is_empty(),
            TopKey::Annotations => self.annotations.is_empty(),
            TopKey::Tracks => self.tracks.is_empty(),
            TopKey::Extra(k) => !self.extra.contains_key(k),
        }
    }

    /// The dataset as JSON text.
    ///
    /// ```
    /// use coco_model::{CocoDataset, DumpStyle};
    /// let ds = CocoDataset::from_json_str(r#"{"categories": [{"id": 1, "name": "cat"}]}"#, ".").unwrap();
    /// assert_eq!(ds.to_json_string(DumpStyle::Compact), r#"{"categories":[{"id":1,"name":"cat"}]}"#);
    /// ```
    pub fn to_json_string(&self, style: DumpStyle) -> String {
        let mut buf = Vec::new();
        // writing into a Vec cannot fail
        let _ = self.write_json(&mut buf, style);
        String::from_utf8(buf).unwrap_or_default()
    }

    /// Writes the dataset to `path` atomically (a temporary file in the same
    /// directory, then a rename). A path ending in `.zip` writes an archive
    /// holding one JSON file named after the archive.
    pub fn dump(&self, path: impl AsRef<Path>, style: DumpStyle) -> Result<()> {
        let path = path.as_ref();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(path, e))?;
        let is_zip = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        if is_zip {
            let mut zw = zip::ZipWriter::new(BufWriter::new(tmp.as_file()));
            let inner = path
                .file_stem()
                .map(|s| {
                    let s = s.to_string_lossy();
                    if s.ends_with(".json") {
                        s.into_owned()
                    } else {
                        format!("{s}.json")
                    }
                })
                .unwrap_or_else(|| BUNDLE_FILE_NAME.to_owned());
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(true);
            zw.start_file(inner, opts).map_err(|e| Error::Zip {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            self.write_json(&mut zw, style)
                .map_err(|e| Error::io(path, e))?;
            let mut bw = zw.finish().map_err(|e| Error::Zip {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            bw.flush().map_err(|e| Error::io(path, e))?;
        } else {
            let mut bw = BufWriter::with_capacity(1 << 20, tmp.as_file());
            self.write_json(&mut bw, style)
                .map_err(|e| Error::io(path, e))?;
            bw.flush().map_err(|e| Error::io(path, e))?;
        }
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
        Ok(())
    }
}

fn write_values<W: Write>(w: &mut JsonWriter<W>, items: &[Value], nl: &[u8]) -> io::Result<()> {
    w.raw(b"[")?;
    for (i, v) in items.iter().enumerate() {
        w.raw(if i == 0 { nl } else { b"," })?;
        if i > 0 {
            w.raw(nl)?;
        }
        w.value(v)?;
    }
    if !items.is_empty() {
        w.raw(nl)?;
    }
    w.raw(b"]")
}

fn write_table<T: Schema, W: Write>(
    w: &mut JsonWriter<W>,
    items: &[T],
    nl: &[u8],
) -> io::Result<()> {
    w.raw(b"[")?;
    for (i, rec) in items.iter().enumerate() {
        if i > 0 {
            w.raw(b",")?;
        }
        w.raw(nl)?;
        write_record(rec, w)?;
    }
    if !items.is_empty() {
        w.raw(nl)?;
    }
    w.raw(b"]")
}

fn load_zip(path: &Path, bundle_dir: PathBuf) -> Result<CocoDataset> {
    let zerr = |m: String| Error::Zip {
        path: path.to_path_buf(),
        message: m,
    };
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(f)).map_err(|e| zerr(e.to_string()))?;
    let files: Vec<(usize, String)> = (0..archive.len())
        .filter_map(|i| {
            let e = archive.by_index(i).ok()?;
            if e.is_dir() {
                None
            } else {
                Some((i, e.name().to_owned()))
            }
        })
        .collect();
    let jsons: Vec<&(usize, String)> = files
        .iter()
        .filter(|(_, n)| n.to_ascii_lowercase().ends_with(".json"))
        .collect();
    let (idx, name) = match (jsons.as_slice(), files.as_slice()) {
        ([one], _) => (*one).clone(),
        ([], [one]) => one.clone(),
        ([], _) => return Err(zerr("archive holds no JSON file".into())),
        (many, _) => {
            return Err(zerr(format!(
                "archive holds {} JSON files ({}); expected one",
                many.len(),
                many.iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    let entry = archive.by_index(idx).map_err(|e| zerr(e.to_string()))?;
    let shown = path.join(&name);
    CocoDataset::from_reader(entry, Some(&shown), bundle_dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a record of the generated table holds.
    #[derive(Debug, Clone, Copy)]
    enum Fault {
        /// A well-formed record (with a `NaN` score every third one).
        None,
        /// A field of the wrong type: serde's error inside the record.
        Type,
        /// A syntax error inside the record the splitter does not see.
        Inner,
        /// Two records without a comma: the splitter's error.
        Splitter,
        /// A record missing a required key.
        Missing,
    }

    fn record(i: usize, fault: Fault) -> String {
        let score = if i.is_multiple_of(3) { "NaN" } else { "0.5" };
        match fault {
            Fault::None => format!(
                r#"{{"id": {i}, "image_id": 1, "category_id": 1, "bbox": [{i}, 2, 3, 4], "score": {score}, "segmentation": [[0, 0, {i}, 0, 4, 4]]}}"#
            ),
            Fault::Type => format!(r#"{{"id": {i}, "image_id": "one", "bbox": [1, 2, 3, 4]}}"#),
            Fault::Inner => format!(r#"{{"id": {i}, "image_id": 1,, "bbox": [1, 2, 3, 4]}}"#),
            Fault::Splitter => format!(r#"{{"id": {i}, "image_id": 1}} {{"id": 0}}"#),
            Fault::Missing => format!(r#"{{"id": {i}, "bbox": [1, 2, 3, 4]}}"#),
        }
    }

    fn dataset(n: usize, faults: &[(usize, Fault)]) -> String {
        let recs: Vec<String> = (0..n)
            .map(|i| {
                let f = faults
                    .iter()
                    .find(|(k, _)| *k == i)
                    .map_or(Fault::None, |(_, f)| *f);
                record(i + 1, f)
            })
            .collect();
        format!(
            "{{\"categories\": [{{\"id\": 1, \"name\": \"a\"}}],\n\"images\": [{{\"id\": 1, \"file_name\": \"a.png\"}}],\n\"annotations\": [\n{}\n]}}",
            recs.join(",\n")
        )
    }

    fn opts(batch_bytes: usize, threads: usize, size_hint: Option<u64>) -> ParseOpts {
        ParseOpts {
            batch_bytes,
            threads,
            size_hint,
        }
    }

    /// The dataset's JSON text, or the error's message.
    fn outcome(text: &str, opts: ParseOpts) -> String {
        match parse_stream_with(text.as_bytes(), None, opts) {
            Ok(ds) => ds.to_json_string(DumpStyle::Compact),
            Err(e) => format!("error: {e}"),
        }
    }

    fn fault() -> impl Strategy<Value = Fault> {
        prop_oneof![
            Just(Fault::Type),
            Just(Fault::Inner),
            Just(Fault::Splitter),
            Just(Fault::Missing),
        ]
    }

    proptest! {
        /// Batched parsing on several threads gives exactly what one batch on
        /// one thread gives: the same records in the same order, or the same
        /// (first) error at the same place, whatever the batch size.
        #[test]
        fn batches_and_threads_change_nothing(
            n in 1usize..60,
            faults in proptest::collection::vec((0usize..60, fault()), 0..3),
            batch_bytes in 1usize..600,
            threads in 1usize..4,
            size_hint in proptest::option::of(0u64..100_000),
        ) {
            let text = dataset(n, &faults);
            let one = outcome(
                &text,
                opts(usize::MAX, 1, None),
            );
            let many = outcome(&text, opts(batch_bytes, threads, size_hint));
            prop_assert_eq!(&one, &many);
            let in_range = faults.iter().any(|(k, _)| *k < n);
            prop_assert_eq!(one.starts_with("error: "), in_range, "{}", one);
        }
    }

    #[test]
    fn the_first_error_in_the_file_wins_over_a_later_splitter_error() {
        let text = dataset(50, &[(30, Fault::Type), (45, Fault::Splitter)]);
        let got = outcome(&text, opts(100, 3, None));
        assert!(got.contains("annotations[30]"), "{got}");
        let text = dataset(50, &[(10, Fault::Splitter), (45, Fault::Type)]);
        let got = outcome(&text, opts(100, 3, None));
        assert!(got.contains(":14:27: expected `,` or `]`"), "{got}");
        assert!(!got.contains("annotations[45]"), "{got}");
    }

    #[test]
    fn text_is_checked_as_utf8_once_per_batch_with_the_same_answers() {
        let two = |batch_bytes| opts(batch_bytes, 2, None);
        // multi-byte text, escapes and a NaN parse the same whatever the batching
        let mut text = dataset(30, &[]);
        text = text.replace(
            r#""id": 7, "#,
            r#""id": 7, "caption": "é 日本 \u00e9 \ud83d\ude00", "#,
        );
        let one = outcome(&text, two(usize::MAX));
        assert!(one.contains("é 日本"), "{one}");
        assert_eq!(one, outcome(&text, two(64)));
        // invalid UTF-8 inside a string of record 12: the same error, naming it
        let mut bytes = dataset(30, &[]).into_bytes();
        let at = bytes.windows(9).position(|w| w == br#""id": 13,"#).unwrap();
        bytes.splice(at..at, b"\"x\": \"\xff\", ".iter().copied());
        let run = |b: usize| match parse_stream_with(bytes.as_slice(), None, two(b)) {
            Ok(_) => "parsed".to_string(),
            Err(e) => e.to_string(),
        };
        let (one, many) = (run(usize::MAX), run(64));
        assert_eq!(one, many);
        assert!(one.contains("annotations[12]"), "{one}");
    }

    #[test]
    fn of_many_failing_batches_the_first_in_the_file_is_reported() {
        // one record per batch, every record from the 21st on fails: batches
        // finish in any order on four threads, the answer must not change
        let faults: Vec<(usize, Fault)> = (20..60).map(|k| (k, Fault::Type)).collect();
        let text = dataset(60, &faults);
        for _ in 0..20 {
            let got = outcome(&text, opts(1, 4, None));
            assert!(got.contains("annotations[20]"), "{got}");
        }
    }

    #[test]
    fn a_table_is_reserved_from_the_input_size_and_trimmed_when_far_too_large() {
        let mut first = Batch::new(0, 0, 64);
        let rec = br#"{"id": 1}"#;
        for _ in 0..10 {
            let cut = Cut {
                range: 0..rec.len(),
                line: 1,
                column: 1,
                non_finite: false,
            };
            first.push(rec, cut);
        }
        // 9 bytes per record: 100 records in the 900 bytes left, plus the 10 read
        let v: Vec<u64> = table_vec(&first, 100, Some(1000));
        assert!((110..220).contains(&v.capacity()), "{}", v.capacity());
        assert_eq!(table_vec::<u64>(&first, 100, None).capacity(), 0);
        assert_eq!(table_vec::<u64>(&first, 5000, Some(1000)).capacity(), 10);
        // far too large: given back; within twice the length: kept
        let mut small: Vec<u64> = Vec::with_capacity(100);
        small.extend(0..10);
        trim_table(&mut small);
        assert_eq!(small.capacity(), 10);
        let mut full: Vec<u64> = Vec::with_capacity(100);
        full.extend(0..50);
        trim_table(&mut full);
        assert_eq!(full.capacity(), 100);
        full.truncate(49);
        trim_table(&mut full);
        assert_eq!(full.capacity(), 49);
    }

    #[test]
    fn records_keep_their_order_across_batches() {
        let text = dataset(200, &[]);
        let ds = parse_stream_with(text.as_bytes(), None, opts(1, 4, Some(1 << 24))).unwrap();
        let ids: Vec<i64> = ds.annotations().iter().map(|a| a.id.0).collect();
        assert_eq!(ids, (1..=200).collect::<Vec<i64>>());
    }
}
