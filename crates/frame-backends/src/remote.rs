//! Remote sources (feature `remote`): images at `s3://`, `gs://`, `az://`,
//! `http://` and `https://` URLs, read through Apache Arrow's `object_store`.
//!
//! A URL travels through the crate as a [`Path`] holding the URL text
//! ([`crate::is_url`] tells them apart); the readers ask this module for its bytes:
//!
//! - **Once per file per process**, the first read of a URL fetches its first
//!   [`HEADER_BLOCK`] bytes with one ranged GET (which also tells the object's
//!   size and ETag): a COG keeps its whole header there. Header bytes beyond
//!   it are fetched in blocks of the same size. Files are kept in a
//!   process-wide table (the last [`MAX_FILES`] used), so reopening a file
//!   (another reader, [`crate::probe_size`], a forked worker) costs no request.
//! - **Tiles** are fetched as ranged GETs of exactly their bytes; the tiles of
//!   one window are fetched together: ranges closer than [`COALESCE_GAP`] are
//!   merged into one request, and the requests run concurrently, at most
//!   [`max_in_flight`] at a time per window read (`NDSAMPLER_REMOTE_CONCURRENCY`,
//!   default 8; so at most threads × that many in the process).
//! - **Whole files** (PNG, JPEG, …: formats without random access) are fetched
//!   once and kept in memory with the file, up to 1 GiB in the process (the
//!   `npy` backend keeps a decoded copy in its workdir instead).
//! - **Failures**: connection errors and 5xx answers are retried with
//!   exponential backoff (up to 5 times, 100 ms doubling to 5 s); a request
//!   times out after 60 s (connect: 10 s). Anything else (403, 404, …) is one
//!   [`Error::Remote`] naming the URL.
//! - **Credentials and endpoints** come from the usual environment variables,
//!   through object_store's `from_env` builders: `AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
//!   `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, …; `GOOGLE_SERVICE_ACCOUNT`, …;
//!   `AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCESS_KEY`, …. They are
//!   never logged nor put in errors (messages name the URL without its query).
//!
//! The async client runs on a small tokio runtime owned by this module,
//! created on first use and again in a forked child (a runtime's threads do
//! not survive `fork`; the parent's is leaked in the child, never dropped).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use lru::LruCache;
use object_store::path::Path as StorePath;
use object_store::{
    BackoffConfig, ClientConfigKey, GetOptions, GetRange, ObjectStore, ObjectStoreExt, RetryConfig,
};
use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::remote_url::{count, display_url, is_url_str};

/// Bytes fetched by the first read of a file (and the block size of later
/// header reads): 64 KiB holds the header and tile index of a typical COG.
pub const HEADER_BLOCK: u64 = 64 << 10;

/// Tile ranges closer than this are fetched with one request (the bytes in
/// between are downloaded and dropped).
pub const COALESCE_GAP: u64 = 16 << 10;

/// Largest merged range: beyond it, ranges stay separate requests (that run
/// concurrently).
const MAX_MERGED: u64 = 16 << 20;

/// Remote files kept open (header blocks, whole contents) in the process.
pub const MAX_FILES: usize = 256;

/// Header blocks kept per file (4 MiB).
const MAX_BLOCKS: usize = 64;

/// Default of [`max_in_flight`].
const DEFAULT_IN_FLIGHT: usize = 8;

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Most requests in flight at once for one window read (one reading
/// thread): set by [`set_max_in_flight`], else `NDSAMPLER_REMOTE_CONCURRENCY`,
/// else 8.
pub fn max_in_flight() -> usize {
    match IN_FLIGHT.load(Ordering::Relaxed) {
        0 => std::env::var("NDSAMPLER_REMOTE_CONCURRENCY")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_IN_FLIGHT),
        n => n,
    }
}

/// Set [`max_in_flight`] (at least 1) for the next window reads.
pub fn set_max_in_flight(n: usize) {
    IN_FLIGHT.store(n.max(1), Ordering::Relaxed);
}

// ---- runtime and stores, per process ------------------------------------

struct Ctx {
    pid: u32,
    rt: tokio::runtime::Runtime,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

static CTX: Mutex<Option<Arc<Ctx>>> = Mutex::new(None);

/// The runtime and clients of this process (made again after a fork).
fn ctx() -> Result<Arc<Ctx>> {
    let pid = std::process::id();
    let mut g = CTX.lock();
    if let Some(c) = g.as_ref()
        && c.pid == pid
    {
        return Ok(c.clone());
    }
    // rustls needs a process-wide crypto provider: ring (no C toolchain beyond
    // cc). Already installed (by us or the application) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ndsampler-remote")
        .enable_all()
        .build()
        .map_err(|e| Error::remote("(runtime)", format!("cannot start the I/O runtime: {e}")))?;
    let c = Arc::new(Ctx {
        pid,
        rt,
        stores: Mutex::new(HashMap::new()),
    });
    if let Some(old) = g.replace(c.clone()) {
        // The parent's runtime: its threads do not exist in this child, and
        // dropping it would wait for them.
        std::mem::forget(old);
    }
    Ok(c)
}

/// `(scheme, authority, path)` of a URL.
fn split_url(url: &str) -> Option<(String, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (auth, path) = rest.split_once('/').unwrap_or((rest, ""));
    if auth.is_empty() {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), auth, path))
}

fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: 5,
        retry_timeout: Duration::from_secs(180),
    }
}

const TIMEOUT: &str = "60s";
const CONNECT_TIMEOUT: &str = "10s";

fn build_store(scheme: &str, auth: &str, url: &str) -> Result<Arc<dyn ObjectStore>> {
    let opts = options_for(&format!("{scheme}://{}", auth.to_ascii_lowercase()));
    let fail =
        |e: object_store::Error| Error::remote(url, format!("cannot configure the client: {e}"));
    let store: Arc<dyn ObjectStore> = match scheme {
        "s3" | "s3a" => {
            use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey as K};
            let b = AmazonS3Builder::from_env()
                .with_bucket_name(auth)
                .with_retry(retry())
                .with_config(K::Client(ClientConfigKey::Timeout), TIMEOUT)
                .with_config(K::Client(ClientConfigKey::ConnectTimeout), CONNECT_TIMEOUT);
            let b = configure(b, &opts, url, |b, k: K, v| b.with_config(k, v))?;
            Arc::new(b.build().map_err(fail)?)
        }
        "gs" => {
            use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey as K};
            let b = GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(auth)
                .with_retry(retry())
                .with_config(K::Client(ClientConfigKey::Timeout), TIMEOUT)
                .with_config(K::Client(ClientConfigKey::ConnectTimeout), CONNECT_TIMEOUT);
            let b = configure(b, &opts, url, |b, k: K, v| b.with_config(k, v))?;
            Arc::new(b.build().map_err(fail)?)
        }
        "az" | "azure" | "abfs" | "abfss" | "adl" => {
            use object_store::azure::{AzureConfigKey as K, MicrosoftAzureBuilder};
            let b = MicrosoftAzureBuilder::from_env()
                .with_url(format!("{scheme}://{auth}"))
                .with_retry(retry())
                .with_config(K::Client(ClientConfigKey::Timeout), TIMEOUT)
                .with_config(K::Client(ClientConfigKey::ConnectTimeout), CONNECT_TIMEOUT);
            let b = configure(b, &opts, url, |b, k: K, v| b.with_config(k, v))?;
            Arc::new(b.build().map_err(fail)?)
        }
        "http" | "https" => {
            use object_store::http::HttpBuilder;
            let b = HttpBuilder::new()
                .with_url(format!("{scheme}://{auth}"))
                .with_retry(retry())
                // An http:// URL in the dataset is an explicit choice.
                .with_config(ClientConfigKey::AllowHttp, (scheme == "http").to_string())
                .with_config(ClientConfigKey::Timeout, TIMEOUT)
                .with_config(ClientConfigKey::ConnectTimeout, CONNECT_TIMEOUT);
            let b = configure(b, &opts, url, |b, k: ClientConfigKey, v| {
                b.with_config(k, v)
            })?;
            Arc::new(b.build().map_err(fail)?)
        }
        other => {
            return Err(Error::remote(
                url,
                format!("unsupported URL scheme {other:?}"),
            ));
        }
    };
    Ok(store)
}

/// Options set in code per store (see [`set_store_options`]).
static OPTIONS: Mutex<Vec<(String, StoreOptions)>> = Mutex::new(Vec::new());

/// Configuration keys and values of one store.
type StoreOptions = Vec<(String, String)>;

/// Configure the client of one store in code, on top of (and overriding) the
/// environment: `store` is `scheme://bucket` (`s3://data`, `gs://b`,
/// `az://container`, `http://host:port`), `options` are object_store's
/// configuration keys for that scheme (`aws_endpoint`, `aws_allow_http`,
/// `aws_access_key_id`, `aws_region`, `google_service_account`,
/// `azure_storage_account_name`, `allow_http`, `timeout`, …; unknown keys are
/// an error when the store is first used). Takes effect for stores created
/// afterwards in the process (set it before the first read of the store).
pub fn set_store_options<K: Into<String>, V: Into<String>>(
    store: &str,
    options: impl IntoIterator<Item = (K, V)>,
) {
    let key = store.trim_end_matches('/').to_ascii_lowercase();
    let opts: Vec<(String, String)> = options
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    let mut all = OPTIONS.lock();
    all.retain(|(k, _)| *k != key);
    all.push((key, opts));
}

fn options_for(key: &str) -> StoreOptions {
    OPTIONS
        .lock()
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, o)| o.clone())
        .unwrap_or_default()
}

/// Apply [`set_store_options`]'s options with a builder's `with_config`.
fn configure<B, K: std::str::FromStr>(
    mut b: B,
    opts: &[(String, String)],
    url: &str,
    with: impl Fn(B, K, &str) -> B,
) -> Result<B> {
    for (k, v) in opts {
        let key: K = k
            .to_ascii_lowercase()
            .parse()
            .map_err(|_| Error::remote(url, format!("unknown store option {k:?}")))?;
        b = with(b, key, v);
    }
    Ok(b)
}

/// The store serving `url` and the object's path in it.
fn store_for(ctx: &Ctx, url: &str) -> Result<(Arc<dyn ObjectStore>, StorePath)> {
    let (scheme, auth, path) = split_url(url)
        .ok_or_else(|| Error::remote(url, "not a URL of the form scheme://host/path"))?;
    let key = format!("{scheme}://{auth}");
    let location = StorePath::from_url_path(path)
        .map_err(|e| Error::remote(url, format!("bad object path: {e}")))?;
    if let Some(s) = ctx.stores.lock().get(&key) {
        return Ok((s.clone(), location));
    }
    let store = build_store(&scheme, auth, url)?;
    ctx.stores.lock().insert(key, store.clone());
    Ok((store, location))
}

/// One clear error for a failed request.
fn request_error(url: &str, e: object_store::Error) -> Error {
    let msg = match &e {
        object_store::Error::NotFound { .. } => "not found (HTTP 404)".to_string(),
        object_store::Error::PermissionDenied { .. } => "access denied (HTTP 403)".to_string(),
        object_store::Error::Unauthenticated { .. } => "not authenticated (HTTP 401)".to_string(),
        other => format!("request failed: {other}"),
    };
    Error::remote(url, msg)
}

// ---- files ----------------------------------------------------------------

/// The version of a remote object a cache entry is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectVersion {
    /// Size in bytes.
    pub size: u64,
    /// ETag, else the last-modified time (RFC 3339).
    pub tag: String,
}

/// A remote object: its size and version, cached header blocks, ranges
/// fetched for the window being read, and (for formats decoded whole) its
/// whole content.
pub(crate) struct RemoteFile {
    url: String,
    version: ObjectVersion,
    blocks: Mutex<HashMap<u64, Bytes>>,
    /// Ranges fetched ahead of decoding (start → bytes, users).
    pinned: Mutex<BTreeMap<u64, (Bytes, usize)>>,
    whole: Mutex<Option<Bytes>>,
}

fn files() -> &'static Mutex<LruCache<String, Arc<RemoteFile>>> {
    static FILES: OnceLock<Mutex<LruCache<String, Arc<RemoteFile>>>> = OnceLock::new();
    FILES.get_or_init(|| {
        Mutex::new(LruCache::new(
            NonZeroUsize::new(MAX_FILES).unwrap_or(NonZeroUsize::MIN),
        ))
    })
}

/// The URL text of `path`.
pub(crate) fn url_of(path: &Path) -> Result<&str> {
    path.to_str()
        .filter(|s| is_url_str(s))
        .ok_or_else(|| Error::remote(path.to_string_lossy().as_ref(), "not a remote URL"))
}

/// The remote file at `path` (a URL), opened once per process: the first
/// call fetches its first [`HEADER_BLOCK`] bytes.
pub(crate) fn open(path: &Path) -> Result<Arc<RemoteFile>> {
    let url = url_of(path)?;
    if let Some(f) = files().lock().get(url) {
        return Ok(f.clone());
    }
    let ctx = ctx()?;
    let (store, location) = store_for(&ctx, url)?;
    let first = ctx.rt.block_on(async {
        let opts = GetOptions {
            range: Some(GetRange::Bounded(0..HEADER_BLOCK)),
            ..Default::default()
        };
        let r = store.get_opts(&location, opts).await?;
        let meta = r.meta.clone();
        let bytes = r.bytes().await?;
        Ok::<_, object_store::Error>((meta, bytes))
    });
    let (meta, bytes) = first.map_err(|e| request_error(url, e))?;
    count(bytes.len());
    let tag = meta
        .e_tag
        .clone()
        .unwrap_or_else(|| meta.last_modified.to_rfc3339());
    let mut blocks = HashMap::new();
    blocks.insert(0, bytes);
    let f = Arc::new(RemoteFile {
        url: url.to_string(),
        version: ObjectVersion {
            size: meta.size,
            tag,
        },
        blocks: Mutex::new(blocks),
        pinned: Mutex::new(BTreeMap::new()),
        whole: Mutex::new(None),
    });
    files().lock().put(url.to_string(), f.clone());
    Ok(f)
}

/// Size and version of the object at `path` (a URL), from the process's
/// table of opened files (opening it if needed).
pub fn object_version(path: &Path) -> Result<ObjectVersion> {
    Ok(open(path)?.version.clone())
}

/// The whole content of the object at `path` (a URL), not kept: for dataset
/// files. Two requests the first time a process opens the URL (its first
/// block, then the rest), one afterwards.
pub fn read_all(path: &Path) -> Result<Bytes> {
    let f = open(path)?;
    check_whole(&f.url, f.size())?;
    if f.size() <= HEADER_BLOCK {
        return f.block(0);
    }
    f.read_range(0, f.size())
}

/// Merge sorted, non-overlapping-or-overlapping ranges closer than
/// [`COALESCE_GAP`] (up to [`MAX_MERGED`] bytes each).
fn coalesce(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        if let Some(last) = out.last_mut()
            && r.start <= last.end.saturating_add(COALESCE_GAP)
            && r.end.max(last.end) - last.start <= MAX_MERGED
        {
            last.end = last.end.max(r.end);
            continue;
        }
        out.push(r);
    }
    out
}

/// Ranges pinned for one read; unpinned on drop.
pub(crate) struct Pinned {
    file: Arc<RemoteFile>,
    starts: Vec<u64>,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let mut p = self.file.pinned.lock();
        for s in &self.starts {
            if let Some(e) = p.get_mut(s) {
                e.1 -= 1;
                if e.1 == 0 {
                    p.remove(s);
                }
            }
        }
    }
}

impl RemoteFile {
    /// The URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.version.size
    }

    fn check_range(&self, r: &Range<u64>) -> Result<()> {
        if r.start > r.end || r.end > self.version.size {
            return Err(Error::remote(
                &self.url,
                format!(
                    "bytes {}..{} are past the object's {} bytes",
                    r.start, r.end, self.version.size
                ),
            ));
        }
        Ok(())
    }

    /// Fetch `ranges` (coalesced, concurrently): the bytes of each, in order.
    pub(crate) fn fetch(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        for r in ranges {
            self.check_range(r)?;
        }
        let wanted: Vec<Range<u64>> = ranges.iter().filter(|r| r.start < r.end).cloned().collect();
        let merged = coalesce(wanted);
        let ctx = ctx()?;
        let (store, location) = store_for(&ctx, &self.url)?;
        let limit = max_in_flight();
        let got: Vec<Bytes> = ctx
            .rt
            .block_on(async {
                use futures::stream::{StreamExt, TryStreamExt};
                futures::stream::iter(merged.iter().cloned())
                    .map(|r| {
                        let store = store.clone();
                        let location = location.clone();
                        async move { store.get_range(&location, r).await }
                    })
                    .buffered(limit)
                    .try_collect::<Vec<Bytes>>()
                    .await
            })
            .map_err(|e| request_error(&self.url, e))?;
        for (r, b) in merged.iter().zip(&got) {
            count(b.len());
            if b.len() as u64 != r.end - r.start {
                return Err(Error::remote(
                    &self.url,
                    format!(
                        "asked bytes {}..{} and got {} bytes",
                        r.start,
                        r.end,
                        b.len()
                    ),
                ));
            }
        }
        ranges
            .iter()
            .map(|r| {
                if r.start == r.end {
                    return Ok(Bytes::new());
                }
                let i = merged.partition_point(|m| m.end < r.end);
                let m = merged
                    .get(i)
                    .filter(|m| m.start <= r.start && r.end <= m.end)
                    .ok_or_else(|| Error::remote(&self.url, "internal: range lost in merging"))?;
                let a = (r.start - m.start) as usize;
                let b = (r.end - m.start) as usize;
                Ok(got[i].slice(a..b))
            })
            .collect()
    }

    /// Fetch `ranges` now and keep them until the returned guard drops, so
    /// that reads of them (by [`RemoteFile::read_range`] or a
    /// [`RemoteReader`]) are served from memory.
    pub(crate) fn pin(self: &Arc<Self>, ranges: &[Range<u64>]) -> Result<Pinned> {
        let bytes = self.fetch(ranges)?;
        let mut p = self.pinned.lock();
        let mut starts = Vec::with_capacity(ranges.len());
        for (r, b) in ranges.iter().zip(bytes) {
            if b.is_empty() {
                continue;
            }
            let e = p.entry(r.start).or_insert((b.clone(), 0));
            if e.0.len() < b.len() {
                e.0 = b;
            }
            e.1 += 1;
            starts.push(r.start);
        }
        Ok(Pinned {
            file: self.clone(),
            starts,
        })
    }

    /// A pinned segment holding byte `pos`: its start and bytes.
    fn pinned_at(&self, pos: u64) -> Option<(u64, Bytes)> {
        let p = self.pinned.lock();
        let (&s, (b, _)) = p.range(..=pos).next_back()?;
        (pos < s + b.len() as u64).then(|| (s, b.clone()))
    }

    /// Bytes `off..off + len`: from a pinned range, the whole content, or
    /// one ranged GET.
    pub(crate) fn read_range(&self, off: u64, len: u64) -> Result<Bytes> {
        let end = off
            .checked_add(len)
            .ok_or_else(|| Error::remote(&self.url, "range overflows"))?;
        if let Some((s, b)) = self.pinned_at(off)
            && end <= s + b.len() as u64
        {
            return Ok(b.slice((off - s) as usize..(end - s) as usize));
        }
        if let Some(w) = self.whole.lock().as_ref()
            && end <= w.len() as u64
        {
            return Ok(w.slice(off as usize..end as usize));
        }
        let range = off..end;
        let mut v = self.fetch(std::slice::from_ref(&range))?;
        v.pop()
            .ok_or_else(|| Error::remote(&self.url, "internal: no bytes"))
    }

    /// Header block `i` (cached).
    fn block(&self, i: u64) -> Result<Bytes> {
        if let Some(b) = self.blocks.lock().get(&i) {
            return Ok(b.clone());
        }
        let start = i.saturating_mul(HEADER_BLOCK);
        let end = start.saturating_add(HEADER_BLOCK).min(self.version.size);
        let b = self.read_range(start, end.saturating_sub(start))?;
        let mut blocks = self.blocks.lock();
        if blocks.len() < MAX_BLOCKS {
            blocks.insert(i, b.clone());
        }
        Ok(b)
    }

    /// The whole object, fetched once (one GET) and kept.
    pub(crate) fn whole(&self) -> Result<Bytes> {
        if let Some(w) = self.whole.lock().as_ref() {
            return Ok(w.clone());
        }
        let size = self.version.size;
        check_whole(&self.url, size)?;
        let w = if size <= HEADER_BLOCK {
            self.block(0)?
        } else {
            self.read_range(0, size)?
        };
        let mut slot = self.whole.lock();
        if slot.is_none() {
            let n = w.len() as u64;
            if WHOLE_HELD.fetch_add(n, Ordering::Relaxed) + n <= WHOLE_BUDGET {
                *slot = Some(w.clone());
            } else {
                WHOLE_HELD.fetch_sub(n, Ordering::Relaxed);
            }
        }
        Ok(w)
    }
}

/// Largest object fetched whole (a file without random access, a dataset):
/// [`crate::DEFAULT_MAX_READ_BYTES`], checked against the size the server
/// announced before anything is fetched.
fn check_whole(url: &str, size: u64) -> Result<()> {
    if size > crate::DEFAULT_MAX_READ_BYTES as u64 {
        return Err(Error::TooLarge {
            what: format!("fetching all of {}", display_url(url)),
            bytes: size as u128,
            limit: crate::DEFAULT_MAX_READ_BYTES,
        });
    }
    Ok(())
}

/// Bytes of whole files kept by remote files (see [`WHOLE_BUDGET`]).
static WHOLE_HELD: AtomicU64 = AtomicU64::new(0);

/// Most bytes of whole files ([`RemoteFile::whole`]) kept in the process
/// (1 GiB): beyond it a whole file is fetched for each decode instead of kept
/// (its decoded pixels still go to the chunk cache).
const WHOLE_BUDGET: u64 = 1 << 30;

impl Drop for RemoteFile {
    fn drop(&mut self) {
        if let Some(w) = self.whole.get_mut() {
            WHOLE_HELD.fetch_sub(w.len() as u64, Ordering::Relaxed);
        }
    }
}

/// `Read + Seek` over a remote file for header parsing and decoders: reads
/// come from pinned ranges, the whole content if fetched, or header blocks.
pub(crate) struct RemoteReader {
    file: Arc<RemoteFile>,
    pos: u64,
    /// The segment last read from (start, bytes).
    cur: Option<(u64, Bytes)>,
}

impl RemoteReader {
    pub(crate) fn new(file: Arc<RemoteFile>) -> RemoteReader {
        RemoteReader {
            file,
            pos: 0,
            cur: None,
        }
    }

    fn segment(&mut self) -> std::io::Result<Option<(u64, Bytes)>> {
        let pos = self.pos;
        if pos >= self.file.size() {
            return Ok(None);
        }
        if let Some((s, b)) = &self.cur
            && pos >= *s
            && pos < s + b.len() as u64
        {
            return Ok(Some((*s, b.clone())));
        }
        let seg = if let Some(p) = self.file.pinned_at(pos) {
            p
        } else if let Some(w) = self.file.whole.lock().clone() {
            (0, w)
        } else {
            let i = pos / HEADER_BLOCK;
            let b = self.file.block(i).map_err(std::io::Error::other)?;
            (i * HEADER_BLOCK, b)
        };
        if pos >= seg.0 + seg.1.len() as u64 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{}: short read at byte {pos}", display_url(self.file.url())),
            ));
        }
        self.cur = Some(seg.clone());
        Ok(Some(seg))
    }
}

impl Read for RemoteReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let Some((s, b)) = self.segment()? else {
            return Ok(0);
        };
        let at = (self.pos - s) as usize;
        let n = buf.len().min(b.len() - at);
        buf[..n].copy_from_slice(&b[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RemoteReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let size = self.file.size() as i128;
        let new = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => size + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if new < 0 || new > u64::MAX as i128 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start",
            ));
        }
        self.pos = new as u64;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_ranges_merge_far_ones_do_not() {
        let g = COALESCE_GAP;
        let got = coalesce(vec![
            100..200,
            0..50,
            200 + g..300 + g,
            1_000_000..1_000_010,
        ]);
        assert_eq!(got, vec![0..300 + g, 1_000_000..1_000_010]);
        let big = coalesce(vec![0..MAX_MERGED, MAX_MERGED..MAX_MERGED + 1]);
        assert_eq!(big.len(), 2);
    }
}
