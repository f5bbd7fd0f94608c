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
//!   when complete ([`super::builder::StoreBuilder`]); on any failure the
//!   previous store stays in use and the error names the URL.
//! - TLS: rustls with the platform's certificate store (honouring
//!   `SSL_CERT_FILE` / `SSL_CERT_DIR`), never a built-in root list only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::builder::{BuildMeta, StoreBuilder};
use super::error::StoreError;
use super::fetch::{DirFetcher, Fetched, Fetcher, HttpFetcher};
use super::lock::WriteLock;
use super::status::StoreStatus;
use super::store::Store;
use super::zipin::{SharedFile, read_zip};
use crate::ecosystem::Ecosystem;

pub use super::fetch::{MAX_READ_TIMEOUT, SYNC_BUDGET, SyncError, SyncOptions, http_client};

/// The public OSV bucket.
pub const DEFAULT_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";

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
    builder.progress = opts.progress;
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
                let f = std::fs::File::open(&file)
                    .and_then(SharedFile::new)
                    .map_err(|e| StoreError::Io {
                        path: file.clone(),
                        source: e,
                    })?;
                let mut read = 0;
                let url =
                    crate::redact::redact_url(&fetcher.url(&format!("{}/all.zip", eco.as_str())));
                read_zip(&mut builder, f, &url, &mut read, true)?;
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
