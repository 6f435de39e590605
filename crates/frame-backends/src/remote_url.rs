//! What every build knows of remote URLs (the reads themselves are the
//! `remote` feature's, see `crate::remote`): telling a URL from a local path,
//! showing it without secrets, and the request counters.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Whether `path` is a URL this crate reads remotely (`s3://`, `gs://`,
/// `az://`, `http://`, `https://`, and object_store's aliases `s3a://`,
/// `azure://`, `abfs://`, `abfss://`, `adl://`). Such paths never reach the
/// file system.
pub fn is_url(path: &Path) -> bool {
    path.to_str().is_some_and(is_url_str)
}

/// [`is_url`] on text.
pub fn is_url_str(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    !rest.is_empty()
        && matches!(
            scheme.to_ascii_lowercase().as_str(),
            "s3" | "s3a" | "gs" | "az" | "azure" | "abfs" | "abfss" | "adl" | "http" | "https"
        )
}

/// A URL as shown in messages and errors: without its query (which may carry a
/// signature) or user info.
pub fn display_url(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    match no_query.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((auth, path)) => {
                let host = auth.rsplit('@').next().unwrap_or(auth);
                format!("{scheme}://{host}/{path}")
            }
            None => format!("{scheme}://{}", rest.rsplit('@').next().unwrap_or(rest)),
        },
        None => no_query.to_string(),
    }
}

/// Request counters of the remote sources of this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteStats {
    /// Requests sent (GETs, ranged or whole; retries not counted).
    pub requests: u64,
    /// Bytes received in their bodies.
    pub bytes: u64,
}

impl RemoteStats {
    /// The counts since `earlier` (a previous [`remote_stats`]).
    pub fn since(self, earlier: RemoteStats) -> RemoteStats {
        RemoteStats {
            requests: self.requests.saturating_sub(earlier.requests),
            bytes: self.bytes.saturating_sub(earlier.bytes),
        }
    }
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Requests and bytes of remote reads so far in this process.
pub fn remote_stats() -> RemoteStats {
    RemoteStats {
        requests: REQUESTS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
    }
}

#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) fn count(bytes: usize) {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        for u in [
            "s3://b/k.tif",
            "gs://b/a/b.png",
            "az://c/x",
            "http://h:1/x",
            "HTTPS://h/x",
        ] {
            assert!(is_url_str(u), "{u}");
        }
        for p in [
            "/data/x.tif",
            "x.tif",
            "file:///x",
            "s3://",
            "c:/x",
            "ftp://h/x",
        ] {
            assert!(!is_url_str(p), "{p}");
        }
    }

    #[test]
    fn displayed_urls_drop_secrets() {
        assert_eq!(
            display_url("https://user:pw@h.example/a/b.tif?X-Amz-Signature=abc"),
            "https://h.example/a/b.tif"
        );
        assert_eq!(display_url("s3://bucket/k.tif"), "s3://bucket/k.tif");
    }
}
