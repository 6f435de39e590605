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
//! - **Across processes**, a reader that knows a workdir (the `npy` and `cog`
//!   backends' `workdir`, or [`crate::FrameReader::with_remote_header_dir`])
//!   writes the header blocks a TIFF's parse used into
//!   `<dir>/<hash of the URL>.hdr` (the URL without query or user info, see
//!   [`crate::display_url`]; two URLs differing only there share the file,
//!   and each one's ETag check then refetches, never misreads), with the
//!   object's size and ETag, a checksum, atomically (temporary file +
//!   rename) and at most [`MAX_PERSISTED`] bytes. A later process (or this
//!   one after [`forget`]) then opens the file with **no request at all**:
//!   its first request is a tile's. A persisted header that fails its
//!   checksum or its structure checks is logged, deleted and fetched again.
//!   Objects without an ETag are never persisted. A header that cannot be
//!   written (an unwritable workdir) fails the open, as any cache write does.
//! - **A changed object is never read through a stale header.** Every ranged
//!   GET of an object with an ETag carries `If-Match: <ETag>` (a server that
//!   honours it answers 412 when the object changed), and every answer's
//!   size and ETag are compared with the ones the header came with (for
//!   servers that ignore `If-Match`); a persisted header whose first request
//!   fails otherwise (a 416 past the new end, …) is checked with a HEAD. A
//!   mismatch drops the file from the process's table and the workdir and is
//!   [`Error::RemoteChanged`], on which [`crate::FrameReader`]'s reads reopen
//!   the file (one fresh header fetch) and read again, once. This check rides
//!   on requests a read makes anyway, where revalidating the persisted header
//!   up front (a HEAD or conditional GET per file per process) would cost the
//!   very round trip persistence saves; the price is that the check happens
//!   at the first tile request instead of at open. [`object_version`] (the
//!   key of `npy`/`cog` cache entries, which may be read without any tile
//!   request) sends a HEAD for a persisted header not yet confirmed (a GET
//!   of the header if the HEAD fails).
//! - **Tiles** are fetched as ranged GETs of exactly their bytes; the tiles of
//!   one window are fetched together: ranges closer than [`COALESCE_GAP`] are
//!   merged into one request, and the requests run concurrently.
//! - **In flight**: at most [`max_in_flight`] requests run at once **in the
//!   process** (`NDSAMPLER_REMOTE_CONCURRENCY`, default 8), whatever the
//!   number of reading threads: one semaphore, per process like the runtime,
//!   shared by every request (header blocks, tiles, whole files, HEADs; a
//!   request holds its permit through its retries and its body).
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
//! not survive `fork`; the parent's is leaked in the child, never dropped);
//! the in-flight semaphore lives with it, so a child starts with all its
//! permits (none held by the parent's requests).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use lru::LruCache;
use object_store::path::Path as StorePath;
use object_store::{
    BackoffConfig, ClientConfigKey, GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt,
    RetryConfig,
};
use parking_lot::Mutex;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::remote_url::{count, display_url, is_url_str};

mod persisted;
pub use persisted::MAX_PERSISTED;

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

/// Most requests in flight at once in the process (all reading threads
/// together): set by [`set_max_in_flight`], else
/// `NDSAMPLER_REMOTE_CONCURRENCY`, else 8.
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

/// Set [`max_in_flight`] (at least 1) for the requests started afterwards
/// (requests already waiting for or holding a permit of the previous bound
/// finish under it).
pub fn set_max_in_flight(n: usize) {
    IN_FLIGHT.store(n.max(1), Ordering::Relaxed);
}

// ---- runtime and stores, per process ------------------------------------

struct Ctx {
    pid: u32,
    rt: tokio::runtime::Runtime,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
    /// The process-wide in-flight bound: its size and its semaphore (made
    /// again when [`max_in_flight`] changes).
    limit: Mutex<(usize, Arc<Semaphore>)>,
}

impl Ctx {
    /// The semaphore bounding the process's requests to [`max_in_flight`].
    fn permits(&self) -> Arc<Semaphore> {
        let want = max_in_flight();
        let mut g = self.limit.lock();
        if g.0 != want {
            *g = (want, Arc::new(Semaphore::new(want)));
        }
        g.1.clone()
    }
}

/// Run one request under a permit of `sem` (held until it completes, retries
/// and body included).
async fn limited<T>(sem: Arc<Semaphore>, request: impl std::future::Future<Output = T>) -> T {
    // `acquire` fails only on a closed semaphore; ours are never closed.
    let _permit = sem.acquire_owned().await.ok();
    request.await
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
    let n = max_in_flight();
    let c = Arc::new(Ctx {
        pid,
        rt,
        stores: Mutex::new(HashMap::new()),
        limit: Mutex::new((n, Arc::new(Semaphore::new(n)))),
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
    /// The ETag, when the server gave one: sent as `If-Match` with every
    /// ranged GET and compared with every answer's.
    etag: Option<String>,
    /// Whether an answer of this process confirmed `version` (not yet for a
    /// header read from a workdir).
    confirmed: AtomicBool,
    /// The directory the header was read from or written to in this process,
    /// and how many blocks that copy holds.
    persisted: Mutex<Option<(PathBuf, usize)>>,
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
    open_in(path, None)
}

/// [`open`], reading the header persisted under `header_dir` (see
/// [`RemoteFile::persist_header`]) instead of fetching it when there is a
/// valid one: no request then.
pub(crate) fn open_in(path: &Path, header_dir: Option<&Path>) -> Result<Arc<RemoteFile>> {
    let url = url_of(path)?;
    if let Some(f) = files().lock().get(url) {
        return Ok(f.clone());
    }
    if let Some(dir) = header_dir
        && let Some(f) = persisted::load(dir, url)
    {
        let f = Arc::new(f);
        files().lock().put(url.to_string(), f.clone());
        return Ok(f);
    }
    let ctx = ctx()?;
    let (store, location) = store_for(&ctx, url)?;
    let first = ctx.rt.block_on(limited(ctx.permits(), async {
        let opts = GetOptions {
            range: Some(GetRange::Bounded(0..HEADER_BLOCK)),
            ..Default::default()
        };
        let r = store.get_opts(&location, opts).await?;
        let meta = r.meta.clone();
        let bytes = r.bytes().await?;
        Ok::<_, object_store::Error>((meta, bytes))
    }));
    let (meta, bytes) = first.map_err(|e| request_error(url, e))?;
    count(bytes.len());
    let mut blocks = HashMap::new();
    blocks.insert(0, bytes);
    let f = Arc::new(RemoteFile::new(
        url,
        meta.size,
        meta.e_tag.clone(),
        version_tag(&meta),
        blocks,
        true,
    ));
    files().lock().put(url.to_string(), f.clone());
    Ok(f)
}

/// The version tag of an object: its ETag, else its last-modified time.
fn version_tag(meta: &ObjectMeta) -> String {
    meta.e_tag
        .clone()
        .unwrap_or_else(|| meta.last_modified.to_rfc3339())
}

/// Forget the remote file at `path` (a URL) in this process: its header
/// blocks and whole content are dropped, and the next read opens it again
/// (from a header persisted in a reader's workdir if there is one, else with
/// a request). Readers holding it open keep their copy. For tests and for
/// processes that know an object changed.
pub fn forget(path: &Path) {
    if let Some(url) = path.to_str() {
        files().lock().pop(url);
    }
}

/// Size and version of the object at `path` (a URL), from the process's
/// table of opened files (opening it if needed).
/// A header read from a workdir is confirmed first with a HEAD (one request,
/// no body); when the object changed, or the HEAD fails (a URL signed for
/// GET only), the file is opened again with a GET.
pub fn object_version(path: &Path) -> Result<ObjectVersion> {
    let f = open(path)?;
    if f.unconfirmed() {
        match f.head() {
            Ok(meta) if f.matches(&meta) => f.confirmed.store(true, Ordering::Relaxed),
            _ => {
                f.drop_everywhere();
                return Ok(open(path)?.version.clone());
            }
        }
    }
    Ok(f.version.clone())
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
    fn new(
        url: &str,
        size: u64,
        etag: Option<String>,
        tag: String,
        blocks: HashMap<u64, Bytes>,
        confirmed: bool,
    ) -> RemoteFile {
        RemoteFile {
            url: url.to_string(),
            version: ObjectVersion { size, tag },
            etag,
            confirmed: AtomicBool::new(confirmed),
            persisted: Mutex::new(None),
            blocks: Mutex::new(blocks),
            pinned: Mutex::new(BTreeMap::new()),
            whole: Mutex::new(None),
        }
    }

    /// Whether the header came from a workdir and no answer of this process
    /// has confirmed it yet.
    pub(crate) fn unconfirmed(&self) -> bool {
        !self.confirmed.load(Ordering::Relaxed)
    }

    /// Whether an answer's metadata is this file's version.
    fn matches(&self, meta: &ObjectMeta) -> bool {
        meta.size == self.version.size
            && match (&self.etag, &meta.e_tag) {
                (Some(a), Some(b)) => a == b,
                (Some(_), None) => false,
                (None, _) => meta.last_modified.to_rfc3339() == self.version.tag,
            }
    }

    /// Drop this file from the process's table (unless a newer version took
    /// its place) and its header from the workdir it was persisted in.
    pub(crate) fn drop_everywhere(&self) {
        {
            let mut t = files().lock();
            if t.peek(&self.url).is_some_and(|f| f.version == self.version) {
                t.pop(&self.url);
            }
        }
        if let Some((dir, _)) = self.persisted.lock().take() {
            let _ = std::fs::remove_file(persisted::file_of(&dir, &self.url));
        }
    }

    /// The object changed under this header: forget it everywhere and say so.
    fn changed(&self) -> Error {
        log::info!(
            "{}: the object changed (size or ETag) since its header was read; reopening it",
            display_url(&self.url)
        );
        self.drop_everywhere();
        Error::RemoteChanged {
            url: display_url(&self.url),
        }
    }

    /// The error for a failed request: [`Error::RemoteChanged`] when the
    /// server refused the `If-Match` or when a header from a workdir turns out
    /// (by a HEAD) to describe another version, else the request's error.
    fn failed(&self, e: object_store::Error) -> Error {
        if matches!(e, object_store::Error::Precondition { .. }) {
            return self.changed();
        }
        if self.unconfirmed()
            && let Ok(meta) = self.head()
            && !self.matches(&meta)
        {
            return self.changed();
        }
        request_error(&self.url, e)
    }

    /// The object's metadata by a HEAD request.
    fn head(&self) -> std::result::Result<ObjectMeta, object_store::Error> {
        let ctx = ctx().map_err(|e| object_store::Error::Generic {
            store: "ndsampler",
            source: Box::new(e),
        })?;
        let (store, location) =
            store_for(&ctx, &self.url).map_err(|e| object_store::Error::Generic {
                store: "ndsampler",
                source: Box::new(e),
            })?;
        let meta = ctx
            .rt
            .block_on(limited(ctx.permits(), store.head(&location)))?;
        count(0);
        Ok(meta)
    }

    /// Write the header blocks fetched so far (those a parse of the file
    /// read) to `dir` (see the module docs): atomically, only for objects
    /// with an ETag, and not again when `dir` already holds them.
    pub(crate) fn persist_header(&self, dir: &Path) -> Result<()> {
        let Some(etag) = &self.etag else {
            return Ok(());
        };
        let mut blocks: Vec<(u64, Bytes)> = self
            .blocks
            .lock()
            .iter()
            .map(|(i, b)| (*i, b.clone()))
            .collect();
        blocks.sort_by_key(|b| b.0);
        if self
            .persisted
            .lock()
            .as_ref()
            .is_some_and(|(d, n)| d == dir && *n == blocks.len())
        {
            return Ok(());
        }
        persisted::write(dir, &self.url, self.version.size, etag, &blocks)?;
        *self.persisted.lock() = Some((dir.to_path_buf(), blocks.len()));
        Ok(())
    }

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
        if merged.is_empty() {
            return Ok(ranges.iter().map(|_| Bytes::new()).collect());
        }
        let ctx = ctx()?;
        let (store, location) = store_for(&ctx, &self.url)?;
        let limit = max_in_flight();
        let sem = ctx.permits();
        let etag = self.etag.clone();
        let got = ctx.rt.block_on(async {
            use futures::stream::{StreamExt, TryStreamExt};
            futures::stream::iter(merged.iter().cloned())
                .map(|r| {
                    let store = store.clone();
                    let location = location.clone();
                    let if_match = etag.clone();
                    limited(sem.clone(), async move {
                        let opts = GetOptions {
                            range: Some(GetRange::Bounded(r)),
                            if_match,
                            ..Default::default()
                        };
                        let res = store.get_opts(&location, opts).await?;
                        let meta = res.meta.clone();
                        let bytes = res.bytes().await?;
                        Ok::<_, object_store::Error>((meta, bytes))
                    })
                })
                .buffered(limit)
                .try_collect::<Vec<(ObjectMeta, Bytes)>>()
                .await
        });
        let got = got.map_err(|e| self.failed(e))?;
        for (r, (meta, b)) in merged.iter().zip(&got) {
            count(b.len());
            if !self.matches(meta) {
                return Err(self.changed());
            }
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
        self.confirmed.store(true, Ordering::Relaxed);
        let got: Vec<Bytes> = got.into_iter().map(|(_, b)| b).collect();
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
