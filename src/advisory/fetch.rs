//! Fetching from the OSV bucket layout for `db sync`: over HTTP(S) with
//! timeouts, retries with backoff, conditional requests, a size cap and a
//! whole-sync time budget ([`HttpFetcher`]), or from a local directory in
//! the same layout ([`DirFetcher`]). Errors name the URL (credentials
//! masked when shown).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use super::error::StoreError;
use crate::ecosystem::Ecosystem;

/// Sync errors; each names the URL or file.
#[derive(Debug, Error)]
pub enum SyncError {
    /// A download failed. Shown with the URL's credentials masked.
    #[error("{}: {}", crate::redact::redact_url(.url), crate::redact::redact_text(.reason))]
    Http {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The store could not be read or written, or an archive is damaged.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Options of a sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Base URL (`http://`, `https://`) or directory in the bucket layout.
    pub source: String,
    /// Ecosystems to refresh.
    pub ecosystems: Vec<Ecosystem>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of each read or write operation (a stalled server).
    pub read_timeout: Duration,
    /// Attempts per request (1 = no retry).
    pub attempts: u32,
    /// First retry delay; doubled each time.
    pub backoff: Duration,
    /// Largest download accepted, in bytes.
    pub max_bytes: u64,
    /// Above this many changed records, download the zip instead.
    pub incremental_limit: usize,
    /// Show progress bars (only on a terminal).
    pub progress: bool,
    /// Accept a full download that removes more than half of an
    /// ecosystem's records (`--allow-shrink`).
    pub allow_shrink: bool,
}

/// The longest read timeout a sync accepts (`DEPWARDEN_HTTP_TIMEOUT`).
pub const MAX_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// The longest a whole sync may take: a server that keeps sending a byte
/// now and then cannot hold it forever.
pub const SYNC_BUDGET: Duration = Duration::from_secs(30 * 60);

impl SyncOptions {
    /// Defaults for `source`: 10 s connect, 60 s read, 3 attempts from
    /// 500 ms, 1 GiB cap, incremental up to 2,000 records. The environment
    /// variables `DEPWARDEN_HTTP_TIMEOUT` (seconds, at most
    /// [`MAX_READ_TIMEOUT`]: a larger value is lowered to it),
    /// `DEPWARDEN_HTTP_BACKOFF_MS` and `DEPWARDEN_MAX_DOWNLOAD` (bytes)
    /// override them.
    pub fn new(source: &str, ecosystems: Vec<Ecosystem>) -> SyncOptions {
        let env_u64 = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        SyncOptions {
            source: source.trim_end_matches('/').to_string(),
            ecosystems,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(env_u64("DEPWARDEN_HTTP_TIMEOUT").unwrap_or(60))
                .min(MAX_READ_TIMEOUT),
            attempts: 3,
            backoff: Duration::from_millis(env_u64("DEPWARDEN_HTTP_BACKOFF_MS").unwrap_or(500)),
            max_bytes: env_u64("DEPWARDEN_MAX_DOWNLOAD").unwrap_or(1024 * 1024 * 1024),
            incremental_limit: 2000,
            progress: false,
            allow_shrink: false,
        }
    }
}

/// A fetched resource.
pub(crate) enum Fetched {
    NotModified,
    Body {
        file: PathBuf,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Where the bucket is: HTTP(S) or a local directory.
pub(crate) trait Fetcher {
    fn get_small(&self, rel: &str) -> Result<Option<Vec<u8>>, SyncError>;
    fn get_file(
        &self,
        rel: &str,
        dest: &Path,
        cond: (Option<&str>, Option<&str>),
    ) -> Result<Fetched, SyncError>;
    fn url(&self, rel: &str) -> String;
}

pub(crate) struct DirFetcher {
    pub(crate) base: PathBuf,
    pub(crate) max: u64,
}

impl Fetcher for DirFetcher {
    fn url(&self, rel: &str) -> String {
        self.base.join(rel).display().to_string()
    }
    fn get_small(&self, rel: &str) -> Result<Option<Vec<u8>>, SyncError> {
        let p = self.base.join(rel);
        match std::fs::File::open(&p) {
            Ok(f) => {
                let mut buf = Vec::new();
                f.take(self.max + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| SyncError::Http {
                        url: p.display().to_string(),
                        reason: e.to_string(),
                    })?;
                if buf.len() as u64 > self.max {
                    return Err(SyncError::Http {
                        url: p.display().to_string(),
                        reason: format!("larger than the {}-byte cap", self.max),
                    });
                }
                Ok(Some(buf))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SyncError::Http {
                url: p.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }
    fn get_file(
        &self,
        rel: &str,
        dest: &Path,
        _cond: (Option<&str>, Option<&str>),
    ) -> Result<Fetched, SyncError> {
        let p = self.base.join(rel);
        let meta = std::fs::metadata(&p).map_err(|e| SyncError::Http {
            url: p.display().to_string(),
            reason: e.to_string(),
        })?;
        if meta.len() > self.max {
            return Err(SyncError::Http {
                url: p.display().to_string(),
                reason: format!("{} bytes, over the {}-byte cap", meta.len(), self.max),
            });
        }
        std::fs::copy(&p, dest).map_err(|e| SyncError::Http {
            url: p.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(Fetched::Body {
            file: dest.to_path_buf(),
            etag: None,
            last_modified: None,
        })
    }
}

pub(crate) struct HttpFetcher {
    pub(crate) base: String,
    pub(crate) client: reqwest::blocking::Client,
    pub(crate) opts: SyncOptions,
    pub(crate) started: std::time::Instant,
}

/// An HTTP client trusting the platform's certificate store.
pub fn http_client(connect: Duration, read: Duration) -> Result<reqwest::blocking::Client, String> {
    // reqwest is built without a bundled crypto provider: install ring once.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .connect_timeout(connect)
        .timeout(read)
        .user_agent(concat!("depwarden/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

impl HttpFetcher {
    /// Sends a GET with retries; returns the response of the last attempt
    /// or the error naming the URL.
    fn send(
        &self,
        url: &str,
        cond: (Option<&str>, Option<&str>),
    ) -> Result<reqwest::blocking::Response, SyncError> {
        let mut delay = self.opts.backoff;
        let mut last = String::new();
        for attempt in 1..=self.opts.attempts.max(1) {
            let mut req = self.client.get(url);
            if let Some(etag) = cond.0 {
                req = req.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = cond.1 {
                req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
            if self.started.elapsed() > SYNC_BUDGET {
                return Err(SyncError::Http {
                    url: url.to_string(),
                    reason: format!(
                        "not fetched: the sync took longer than {} minutes in all",
                        SYNC_BUDGET.as_secs() / 60
                    ),
                });
            }
            match req.send() {
                Ok(resp) if resp.status().is_server_error() => {
                    last = format!("HTTP {}", resp.status())
                }
                Ok(resp) => return Ok(resp),
                Err(e) => last = describe(&e),
            }
            if attempt < self.opts.attempts {
                std::thread::sleep(delay);
                delay *= 2;
            }
        }
        Err(SyncError::Http {
            url: url.to_string(),
            reason: format!("{last} (after {} attempts)", self.opts.attempts.max(1)),
        })
    }
}

impl HttpFetcher {
    /// Why reading a response body failed: a stalled server is "timed
    /// out" (reqwest reports it as a body decoding error), anything else
    /// the error itself.
    fn read_failure(&self, e: &std::io::Error) -> String {
        let timed_out = e.kind() == std::io::ErrorKind::TimedOut
            || e.get_ref()
                .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
                .is_some_and(reqwest::Error::is_timeout);
        if timed_out {
            format!(
                "timed out (no data for {} s)",
                self.opts.read_timeout.as_secs_f64()
            )
        } else {
            e.to_string()
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    if e.is_timeout() {
        s.push_str(" (timed out)");
    }
    s
}

fn header(resp: &reqwest::blocking::Response, name: reqwest::header::HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Fetcher for HttpFetcher {
    fn url(&self, rel: &str) -> String {
        format!("{}/{}", self.base, rel)
    }

    fn get_small(&self, rel: &str) -> Result<Option<Vec<u8>>, SyncError> {
        let url = self.url(rel);
        let resp = self.send(&url, (None, None))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(SyncError::Http {
                url,
                reason: format!("HTTP {}", resp.status()),
            });
        }
        let mut buf = Vec::new();
        resp.take(self.opts.max_bytes + 1)
            .read_to_end(&mut buf)
            .map_err(|e| SyncError::Http {
                url: url.clone(),
                reason: format!("download interrupted: {}", self.read_failure(&e)),
            })?;
        if buf.len() as u64 > self.opts.max_bytes {
            return Err(SyncError::Http {
                url,
                reason: format!("larger than the {}-byte cap", self.opts.max_bytes),
            });
        }
        Ok(Some(buf))
    }

    fn get_file(
        &self,
        rel: &str,
        dest: &Path,
        cond: (Option<&str>, Option<&str>),
    ) -> Result<Fetched, SyncError> {
        let url = self.url(rel);
        let resp = self.send(&url, cond)?;
        if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !resp.status().is_success() {
            return Err(SyncError::Http {
                url,
                reason: format!("HTTP {}", resp.status()),
            });
        }
        let total = resp.content_length();
        if let Some(len) = total
            && len > self.opts.max_bytes
        {
            return Err(SyncError::Http {
                url,
                reason: format!(
                    "Content-Length {len} is over the {}-byte download cap",
                    self.opts.max_bytes
                ),
            });
        }
        let etag = header(&resp, reqwest::header::ETAG);
        let last_modified = header(&resp, reqwest::header::LAST_MODIFIED);
        let bar =
            crate::progress::bytes_bar(self.opts.progress, total, &format!("downloading {rel}"));
        let mut file = std::fs::File::create(dest).map_err(|e| SyncError::Http {
            url: url.clone(),
            reason: format!("cannot write {}: {e}", dest.display()),
        })?;
        let mut reader = resp.take(self.opts.max_bytes + 1);
        let mut buf = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            if self.started.elapsed() > SYNC_BUDGET {
                return Err(SyncError::Http {
                    url,
                    reason: format!(
                        "download stopped after {written} bytes: the sync took longer than {} minutes in all",
                        SYNC_BUDGET.as_secs() / 60
                    ),
                });
            }
            let n = reader.read(&mut buf).map_err(|e| SyncError::Http {
                url: url.clone(),
                reason: format!(
                    "download interrupted after {written} bytes: {}",
                    self.read_failure(&e)
                ),
            })?;
            if n == 0 {
                break;
            }
            written += n as u64;
            if written > self.opts.max_bytes {
                return Err(SyncError::Http {
                    url,
                    reason: format!("more than the {}-byte download cap", self.opts.max_bytes),
                });
            }
            file.write_all(&buf[..n]).map_err(|e| SyncError::Http {
                url: url.clone(),
                reason: format!("cannot write {}: {e}", dest.display()),
            })?;
            if let Some(b) = &bar {
                b.set_position(written);
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if let Some(len) = total
            && written != len
        {
            return Err(SyncError::Http {
                url,
                reason: format!("connection closed after {written} of {len} bytes"),
            });
        }
        file.sync_all().map_err(|e| SyncError::Http {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        Ok(Fetched::Body {
            file: dest.to_path_buf(),
            etag,
            last_modified,
        })
    }
}
