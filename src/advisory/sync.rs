//! `db sync`: refresh the store from the OSV bucket layout
//! (`<base>/<Ecosystem>/all.zip`, `<base>/<Ecosystem>/modified_id.csv`,
//! `<base>/<Ecosystem>/<ID>.json`) over HTTP(S) or from a local directory.
//!
//! - The first sync of an ecosystem from a source downloads `all.zip`;
//!   later ones read `modified_id.csv` and fetch only the records modified
//!   since the store's watermark (the newest `modified` it holds), falling
//!   back to the zip when the gap is large or the list is unusable. A zip
//!   download is conditional (`If-None-Match` / `If-Modified-Since`), so an
//!   unchanged zip is not downloaded again.
//! - Robustness: connect and read timeouts, retries with exponential
//!   backoff on 5xx and connection errors, a size cap checked against
//!   `Content-Length` and while streaming, downloads streamed to a temporary
//!   file, zip entries validated before import, and the writer lock taken
//!   before anything is downloaded. The new generation is swapped in only
//!   when complete ([`super::store::StoreBuilder`]); on any failure the
//!   previous store stays in use and the error names the URL.
//! - TLS: rustls with the platform's certificate store (honouring
//!   `SSL_CERT_FILE` / `SSL_CERT_DIR`), never a built-in root list only.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

use super::import::read_zip_with;
use super::store::{BuildMeta, Store, StoreBuilder, StoreError, StoreStatus, WriteLock};
use crate::ecosystem::Ecosystem;

/// The public OSV bucket.
pub const DEFAULT_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";

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

/// What happened to one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "mode")]
pub enum EcosystemSync {
    /// The whole `all.zip` was downloaded.
    Full {
        /// Records read.
        records: u64,
    },
    /// Only changed records were fetched.
    Incremental {
        /// Records fetched.
        fetched: u64,
    },
    /// Nothing changed (304, or no record newer than the watermark).
    Unchanged,
}

/// What a sync did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncReport {
    /// Per ecosystem.
    pub ecosystems: BTreeMap<Ecosystem, EcosystemSync>,
    /// Warnings (skipped records).
    pub warnings: Vec<String>,
    /// Notes about the database itself (a stale lock taken over, download
    /// leftovers removed, future `modified` dates clamped).
    pub notes: Vec<String>,
    /// Store status after the sync.
    pub status: Option<StoreStatus>,
}

impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .ecosystems
            .iter()
            .map(|(e, s)| match s {
                EcosystemSync::Full { records } => format!("{e}: full download, {records} records"),
                EcosystemSync::Incremental { fetched } => {
                    format!("{e}: {fetched} changed records fetched")
                }
                EcosystemSync::Unchanged => format!("{e}: up to date"),
            })
            .collect();
        write!(f, "{}", parts.join("; "))
    }
}

/// A fetched resource.
enum Fetched {
    NotModified,
    Body {
        file: PathBuf,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Where the bucket is: HTTP(S) or a local directory.
trait Fetcher {
    fn get_small(&self, rel: &str) -> Result<Option<Vec<u8>>, SyncError>;
    fn get_file(
        &self,
        rel: &str,
        dest: &Path,
        cond: (Option<&str>, Option<&str>),
    ) -> Result<Fetched, SyncError>;
    fn url(&self, rel: &str) -> String;
}

struct DirFetcher {
    base: PathBuf,
    max: u64,
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

struct HttpFetcher {
    base: String,
    client: reqwest::blocking::Client,
    opts: SyncOptions,
    started: std::time::Instant,
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

/// A comparable key for an RFC 3339 UTC timestamp: the seconds part and
/// the fraction padded to nanoseconds, so `…:55Z` < `…:55.1Z`.
fn timestamp_key(ts: &str) -> (String, String) {
    let t = ts.trim().trim_end_matches('Z');
    let (base, frac) = t.split_once('.').unwrap_or((t, ""));
    (base.to_string(), format!("{frac:0<9}"))
}

/// Parses `modified_id.csv` (`<modified>,<ID>` per line, newest first) into
/// the ids modified after `watermark`; `None` when the list is not
/// usable.
fn changed_since(csv: &[u8], watermark: &str) -> Option<Vec<String>> {
    let text = std::str::from_utf8(csv).ok()?;
    let mut out = Vec::new();
    let mut lines = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        lines += 1;
        let (modified, id) = line.split_once(',')?;
        let (modified, id) = (modified.trim(), id.trim());
        if crate::clock::Date::parse(modified).is_none()
            || id.is_empty()
            || id.contains('/')
            || id.contains("..")
        {
            return None;
        }
        if timestamp_key(modified) > timestamp_key(watermark) {
            out.push(id.to_string());
        }
    }
    (lines > 0).then_some(out)
}

/// Runs a sync into the store at `db_dir`.
pub fn sync(db_dir: &Path, opts: &SyncOptions) -> Result<SyncReport, SyncError> {
    let mut lock = WriteLock::acquire(db_dir)?;
    let lock_notes = std::mem::take(&mut lock.notes);
    let fetcher: Box<dyn Fetcher> = if opts.source.starts_with("http://")
        || opts.source.starts_with("https://")
    {
        let client = http_client(opts.connect_timeout, opts.read_timeout).map_err(|reason| {
            SyncError::Http {
                url: opts.source.clone(),
                reason,
            }
        })?;
        Box::new(HttpFetcher {
            base: opts.source.clone(),
            client,
            opts: opts.clone(),
            started: std::time::Instant::now(),
        })
    } else {
        Box::new(DirFetcher {
            base: PathBuf::from(&opts.source),
            max: opts.max_bytes,
        })
    };
    // The Lambda runtime table rides along with the advisories (see
    // `functions::runtime`); it never fails a sync.
    let runtime_table = runtime_table(db_dir, fetcher.as_ref());
    let previous = Store::open(db_dir).ok();
    // The source as the database keeps it: without credentials.
    let stored_source = crate::redact::redact_url(&opts.source);
    let prev_status = previous.as_ref().and_then(|s| s.status().ok());
    let prev_eco = |e: Ecosystem| {
        prev_status
            .as_ref()
            .and_then(|s| s.ecosystems.iter().find(|x| x.ecosystem == e))
            .cloned()
    };

    // Phase 1: download, before touching the store.
    enum Plan {
        Zip {
            file: PathBuf,
            etag: Option<String>,
            last_modified: Option<String>,
        },
        Records(Vec<(String, Vec<u8>)>),
        Unchanged,
    }
    let mut plans: BTreeMap<Ecosystem, Plan> = BTreeMap::new();
    let mut temp_files = TempFiles(Vec::new());
    for eco in &opts.ecosystems {
        // Sources are stored redacted: compare in that form.
        let prev = prev_eco(*eco).filter(|p| p.source.as_deref() == Some(stored_source.as_str()));
        if let Some(prev) = &prev
            && let Some(watermark) = &prev.newest_modified
        {
            let csv_rel = format!("{}/modified_id.csv", eco.as_str());
            if let Some(ids) = fetcher
                .get_small(&csv_rel)?
                .and_then(|csv| changed_since(&csv, watermark))
            {
                if ids.is_empty() {
                    plans.insert(*eco, Plan::Unchanged);
                    continue;
                }
                if ids.len() <= opts.incremental_limit {
                    let mut records = Vec::new();
                    for id in ids {
                        let rel = format!("{}/{id}.json", eco.as_str());
                        let Some(bytes) = fetcher.get_small(&rel)? else {
                            continue;
                        };
                        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
                            return Err(SyncError::Http {
                                url: fetcher.url(&rel),
                                reason: "not valid JSON".into(),
                            });
                        }
                        records.push((crate::redact::redact_url(&fetcher.url(&rel)), bytes));
                    }
                    plans.insert(*eco, Plan::Records(records));
                    continue;
                }
            }
        }
        let dest = db_dir.join(format!(
            "{}{}-{}.zip",
            super::lock::DOWNLOAD_PREFIX,
            eco.as_str(),
            std::process::id()
        ));
        temp_files.0.push(dest.clone());
        let cond = prev
            .as_ref()
            .map(|p| (p.etag.as_deref(), p.last_modified.as_deref()))
            .unwrap_or((None, None));
        match fetcher.get_file(&format!("{}/all.zip", eco.as_str()), &dest, cond)? {
            Fetched::NotModified => {
                plans.insert(*eco, Plan::Unchanged);
            }
            Fetched::Body {
                file,
                etag,
                last_modified,
            } => {
                plans.insert(
                    *eco,
                    Plan::Zip {
                        file,
                        etag,
                        last_modified,
                    },
                );
            }
        }
    }
    let mut report = SyncReport {
        ecosystems: BTreeMap::new(),
        warnings: Vec::new(),
        notes: lock_notes,
        status: None,
    };
    match runtime_table {
        Ok(note) => report.notes.push(note),
        Err(w) => report.warnings.push(w),
    }
    if plans.values().all(|p| matches!(p, Plan::Unchanged)) {
        for eco in plans.keys() {
            report.ecosystems.insert(*eco, EcosystemSync::Unchanged);
        }
        report.status = prev_status;
        return Ok(report);
    }

    // Phase 2: build the new generation aside: full downloads first (each
    // replaces exactly its ecosystem, and must hold records for it), then
    // incremental updates and the ecosystems kept.
    let mut builder = StoreBuilder::with_lock(db_dir, lock)?;
    let mut meta = BuildMeta::default();
    let mut keep: Vec<Ecosystem> = Ecosystem::ALL
        .iter()
        .copied()
        .filter(|e| !plans.contains_key(e))
        .collect();
    let mut replaced = Vec::new();
    let mut incremental = Vec::new();
    for (eco, plan) in plans {
        match plan {
            Plan::Unchanged => {
                keep.push(eco);
                report.ecosystems.insert(eco, EcosystemSync::Unchanged);
            }
            Plan::Zip {
                file,
                etag,
                last_modified,
            } => {
                let f = std::fs::File::open(&file).map_err(|e| StoreError::Io {
                    path: file.clone(),
                    source: e,
                })?;
                let mut read = 0;
                let url =
                    crate::redact::redact_url(&fetcher.url(&format!("{}/all.zip", eco.as_str())));
                read_zip_with(
                    &mut builder,
                    std::io::BufReader::new(f),
                    &url,
                    &mut read,
                    true,
                )?;
                builder.check_replacement(&[eco], prev_status.as_ref(), true, &url)?;
                replaced.push((eco, url));
                meta.sources.insert(eco, stored_source.clone());
                meta.validators.insert(eco, (etag, last_modified));
                report
                    .ecosystems
                    .insert(eco, EcosystemSync::Full { records: read });
            }
            Plan::Records(records) => incremental.push((eco, records)),
        }
    }
    for (eco, records) in incremental {
        if let Some(prev) = &previous {
            builder.copy_from(prev, &[eco])?;
        }
        let n = records.len() as u64;
        for (origin, bytes) in records {
            builder.add_json(&bytes, &origin)?;
        }
        meta.sources.insert(eco, stored_source.clone());
        if let Some(p) = prev_eco(eco) {
            meta.validators.insert(eco, (p.etag, p.last_modified));
        }
        report
            .ecosystems
            .insert(eco, EcosystemSync::Incremental { fetched: n });
    }
    if let Some(prev) = &previous {
        builder.copy_from(prev, &keep)?;
    }
    drop(previous);
    for (eco, url) in &replaced {
        builder.check_replacement(&[*eco], prev_status.as_ref(), opts.allow_shrink, url)?;
    }
    report
        .warnings
        .extend(std::mem::take(&mut builder.warnings));
    report.notes.extend(builder.take_notes());
    report.status = Some(builder.commit(meta, prev_status.as_ref())?);
    Ok(report)
}

/// Fetches `depwarden/lambda-runtimes.json` from the source and keeps it
/// when it is newer than the table in use: a note says what happened, an
/// error (a damaged table, a failed download) is a warning.
fn runtime_table(db_dir: &Path, fetcher: &dyn Fetcher) -> Result<String, String> {
    use crate::functions::runtime::{MAX_TABLE_BYTES, SOURCE_PATH, store_synced};
    let url = fetcher.url(SOURCE_PATH);
    match fetcher.get_small(SOURCE_PATH) {
        Ok(None) => Ok(format!(
            "no Lambda runtime table at {url}; the one in use is kept"
        )),
        Ok(Some(bytes)) if bytes.len() as u64 > MAX_TABLE_BYTES => Err(format!(
            "Lambda runtime table at {url} is over {MAX_TABLE_BYTES} bytes; not used"
        )),
        Ok(Some(bytes)) => store_synced(db_dir, &bytes, &url),
        Err(e) => Err(format!("Lambda runtime table not fetched: {e}")),
    }
}

/// Temporary download files, removed when the sync ends either way.
struct TempFiles(Vec<PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for f in &self.0 {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Ecosystems named on the command line (all three when none).
pub fn parse_ecosystems(names: &[String]) -> Result<Vec<Ecosystem>, String> {
    if names.is_empty() {
        return Ok(Ecosystem::ALL.to_vec());
    }
    let mut out = BTreeSet::new();
    for n in names {
        for part in n.split(',') {
            let e = Ecosystem::from_user(part.trim()).ok_or_else(|| {
                format!("unknown ecosystem {part:?} (expected npm, PyPI or crates.io)")
            })?;
            out.insert(e);
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_list_is_read_up_to_the_watermark() {
        let csv = b"2024-05-01T00:00:00Z,B\n2024-04-01T00:00:00Z,A\n2024-03-01T00:00:00Z,Z\n";
        assert_eq!(
            changed_since(csv, "2024-03-01T00:00:00Z"),
            Some(vec!["B".to_string(), "A".to_string()])
        );
        assert_eq!(
            changed_since(b"2024-05-01T00:00:00.5Z,B\n", "2024-05-01T00:00:00Z"),
            Some(vec!["B".to_string()])
        );
        assert_eq!(
            changed_since(b"2024-05-01T00:00:00Z,B\n", "2024-05-01T00:00:00.5Z"),
            Some(vec![])
        );
        assert_eq!(changed_since(csv, "2025-01-01T00:00:00Z"), Some(vec![]));
        assert_eq!(changed_since(b"garbage", "2024-01-01"), None);
        assert_eq!(
            changed_since(b"2024-05-01T00:00:00Z,../etc/passwd\n", "2024-01-01"),
            None
        );
        assert_eq!(changed_since(b"", "2024-01-01"), None);
    }

    #[test]
    fn ecosystem_names() {
        assert_eq!(parse_ecosystems(&[]).unwrap().len(), 3);
        assert_eq!(
            parse_ecosystems(&["pypi,npm".into()]).unwrap(),
            vec![Ecosystem::Npm, Ecosystem::PyPI]
        );
        assert!(parse_ecosystems(&["maven".into()]).is_err());
    }
}
