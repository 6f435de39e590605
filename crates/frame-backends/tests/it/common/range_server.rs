//! A small HTTP/1.1 file server on `127.0.0.1` for the remote-source tests
//! and bench: it honours `Range: bytes=a-b` (206 + `Content-Range`) and
//! `If-Match` (412 when the ETag, a hash of the content, differs; can be
//! turned off), keeps connections alive, counts requests, body bytes and
//! the most requests it was answering at once, logs every request, and
//! injects faults: a 503 every n-th request, a latency per request, a fixed
//! status (403, 404, …) for a path. Paths are served as given, so an S3
//! client in path style (`/bucket/key`, signature headers ignored) reads a
//! file put at `/bucket/key`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The request path (`/a/b.tif`).
    pub path: String,
    /// The byte range asked (inclusive end resolved against the file), if any.
    pub range: Option<(u64, u64)>,
    /// The status answered.
    pub status: u16,
}

/// A served file: its content and ETag.
type Served = (Arc<Vec<u8>>, String);

#[derive(Default)]
struct State {
    /// Path → file.
    files: Mutex<HashMap<String, Served>>,
    /// Answer requests as if `If-Match` were absent.
    ignore_if_match: AtomicBool,
    /// Requests being answered now, and the most at once so far.
    active: AtomicU64,
    max_active: AtomicU64,
    forced: Mutex<HashMap<String, u16>>,
    log: Mutex<Vec<Logged>>,
    /// Requests received (all, failed ones included).
    seen: AtomicU64,
    /// Body bytes sent.
    bytes: AtomicU64,
    /// 503 on every n-th request (0: never).
    fail_every: AtomicU64,
    /// Milliseconds slept before answering each request.
    latency_ms: AtomicU64,
    stop: AtomicBool,
}

/// The server; stops (and its port closes) when dropped.
pub struct RangeServer {
    port: u16,
    state: Arc<State>,
}

impl RangeServer {
    /// Start a server on an ephemeral port of 127.0.0.1.
    pub fn start() -> RangeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || serve(conn, &st));
            }
        });
        RangeServer { port, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// Serve `data` at `path` (its ETag is a hash of `data`).
    pub fn put(&self, path: &str, data: Vec<u8>) {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        data.hash(&mut h);
        let etag = format!("\"{:016x}-{}\"", h.finish(), data.len());
        self.state
            .files
            .lock()
            .unwrap()
            .insert(path.to_string(), (Arc::new(data), etag));
    }

    /// The ETag served for `path`.
    pub fn etag(&self, path: &str) -> Option<String> {
        self.state
            .files
            .lock()
            .unwrap()
            .get(path)
            .map(|f| f.1.clone())
    }

    /// Ignore `If-Match` (as some servers do) when `yes`.
    pub fn ignore_if_match(&self, yes: bool) {
        self.state.ignore_if_match.store(yes, Ordering::Relaxed);
    }

    /// The most requests the server was answering at once so far (from the
    /// end of a request's headers to the start of its answer).
    pub fn max_concurrent(&self) -> u64 {
        self.state.max_active.load(Ordering::Relaxed)
    }

    /// Answer every request for `path` with `status` and an empty body.
    pub fn force_status(&self, path: &str, status: u16) {
        self.state
            .forced
            .lock()
            .unwrap()
            .insert(path.to_string(), status);
    }

    /// Fail every `n`-th request with 503 (0: never).
    pub fn fail_every(&self, n: u64) {
        self.state.fail_every.store(n, Ordering::Relaxed);
    }

    /// Sleep `ms` milliseconds before answering each request.
    pub fn latency_ms(&self, ms: u64) {
        self.state.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Requests received so far (failed ones included).
    pub fn requests(&self) -> u64 {
        self.state.seen.load(Ordering::Relaxed)
    }

    /// Body bytes sent so far.
    pub fn bytes(&self) -> u64 {
        self.state.bytes.load(Ordering::Relaxed)
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }
}

impl Drop for RangeServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Counts a request as answered when dropped.
struct Active<'a>(&'a AtomicU64);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` against a length: inclusive bounds,
/// `None` when unsatisfiable.
fn parse_range(v: &str, len: u64) -> Option<(u64, u64)> {
    let spec = v.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || len == 0 {
            return None;
        }
        return Some((len.saturating_sub(n), len - 1));
    }
    let a: u64 = a.parse().ok()?;
    if a >= len {
        return None;
    }
    let b = if b.is_empty() {
        len - 1
    } else {
        b.parse::<u64>().ok()?.min(len - 1)
    };
    (a <= b).then_some((a, b))
}

fn serve(conn: TcpStream, st: &State) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut out = match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    };
    let mut rd = BufReader::new(conn);
    loop {
        let mut line = String::new();
        match rd.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, target) = (method.to_string(), target.to_string());
        let mut headers: HashMap<String, String> = HashMap::new();
        loop {
            let mut h = String::new();
            match rd.read_line(&mut h) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        if st.stop.load(Ordering::Relaxed) {
            return;
        }
        let path = target.split('?').next().unwrap_or("").to_string();
        let n = st.seen.fetch_add(1, Ordering::Relaxed) + 1;
        let now = st.active.fetch_add(1, Ordering::SeqCst) + 1;
        st.max_active.fetch_max(now, Ordering::SeqCst);
        let active = Active(&st.active);
        let latency = st.latency_ms.load(Ordering::Relaxed);
        if latency > 0 {
            std::thread::sleep(Duration::from_millis(latency));
        }
        let every = st.fail_every.load(Ordering::Relaxed);
        let file = st.files.lock().unwrap().get(&path).cloned();
        let forced = st.forced.lock().unwrap().get(&path).copied();
        let mut range = None;
        let (status, body, extra): (u16, &[u8], String) = if every > 0 && n.is_multiple_of(every) {
            (503, &[], String::new())
        } else if let Some(s) = forced {
            (s, &[], String::new())
        } else if let Some((f, etag)) = &file {
            let len = f.len() as u64;
            let common = format!(
                "ETag: {etag}\r\nLast-Modified: Mon, 30 Nov 2026 12:00:00 GMT\r\nAccept-Ranges: bytes\r\n"
            );
            let refused = !st.ignore_if_match.load(Ordering::Relaxed)
                && headers
                    .get("if-match")
                    .is_some_and(|m| m.trim() != "*" && m.split(',').all(|t| t.trim() != etag));
            match headers.get("range") {
                _ if refused => (412, &[], String::new()),
                Some(r) => match parse_range(r, len) {
                    Some((a, b)) => {
                        range = Some((a, b));
                        (
                            206,
                            &f[a as usize..=b as usize],
                            format!("{common}Content-Range: bytes {a}-{b}/{len}\r\n"),
                        )
                    }
                    None => (416, &[], format!("Content-Range: bytes */{len}\r\n")),
                },
                None => (200, &f[..], common),
            }
        } else {
            (404, &[], String::new())
        };
        let send_body = method != "HEAD";
        let reason = match status {
            200 => "OK",
            206 => "Partial Content",
            403 => "Forbidden",
            404 => "Not Found",
            412 => "Precondition Failed",
            416 => "Range Not Satisfiable",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\n{extra}Connection: keep-alive\r\n\r\n",
            body.len()
        );
        st.log.lock().unwrap().push(Logged {
            method: method.clone(),
            path: path.clone(),
            range,
            status,
        });
        // No longer counted as in flight once the answer starts: a client
        // that has its answer may start another request at once, and that
        // must not count as overlapping this one.
        drop(active);
        if out.write_all(head.as_bytes()).is_err() {
            return;
        }
        if send_body {
            // Counted before sending, so that a client that has the bytes
            // has them counted (counting after could land in its next read).
            st.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
            if out.write_all(body).is_err() {
                return;
            }
        }
        let _ = out.flush();
    }
}
