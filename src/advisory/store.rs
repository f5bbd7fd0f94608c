//! The advisory store: a sled database per generation, and a `current`
//! pointer naming the generation in use.
//!
//! Layout of the database directory:
//! - `current`: the name of the active generation directory, replaced
//!   atomically (temporary file + rename) when an import completes;
//! - `gen-<time>-<pid>/`: one sled database per generation, with trees
//!   `index` (ecosystem `\0` normalised name -> JSON list of [`IndexEntry`]),
//!   `records` (id -> the OSV record, compact JSON), `aliases` (id or alias ->
//!   id), `members` (ecosystem `\0` id -> empty: which records belong to an
//!   ecosystem) and `meta` (source, import time, per-ecosystem counts and the
//!   newest `modified`);
//! - `.lock`: held by the one process that writes a new generation.
//!
//! A scan opens the generation `current` names and only reads it. A writer
//! builds a new generation aside ([`StoreBuilder`], in [`super::builder`]) and swaps the pointer
//! only once it is complete and flushed, so an interrupted or failed import
//! or sync leaves the previous generation in use; leftovers are removed by
//! the next writer.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::model::{IndexEntry, OsvRecord};
use super::packed::{Packed, Table};
use crate::ecosystem::Ecosystem;

/// Store errors; each names the database directory or file.
#[derive(Debug, Error)]
pub enum StoreError {
    /// sled failed.
    #[error("advisory database {path}: {source}")]
    Sled {
        /// The generation directory.
        path: PathBuf,
        /// The sled error.
        #[source]
        source: sled::Error,
    },
    /// A file of the database directory could not be read or written.
    #[error("advisory database {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Stored data could not be decoded (a corrupted store).
    #[error("advisory database {path}: corrupted entry {key}: {reason}")]
    Corrupt {
        /// The generation directory.
        path: PathBuf,
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// Another process is writing the database.
    #[error(
        "the advisory database is being updated by another depwarden process (pid {pid}, lock file {path}); try again when it has finished, or remove the lock file if that process is not depwarden"
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The other process.
        pid: String,
    },
    /// The database names a generation that is not there (deleted by hand
    /// or by a cache clean-up): its data is gone, and depwarden does not
    /// silently re-create it from the embedded snapshot over synced data.
    #[error(
        "advisory database {dir}: {reason}; its data is missing. Repair it with `depwarden db sync` (or `depwarden db import PATH`), or remove {dir} to start again from the embedded snapshot"
    )]
    MissingGeneration {
        /// The database directory.
        dir: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// An import or sync would remove data without being asked to.
    #[error("{0}")]
    Refused(String),
    /// An import source could not be used.
    #[error("{path}: {reason}")]
    Source {
        /// The file or URL.
        path: String,
        /// Why.
        reason: String,
    },
    /// The store is empty and holds no generation.
    #[error("advisory database {0} is empty: run `depwarden db import` or `depwarden db sync`")]
    Empty(PathBuf),
}

/// Per-ecosystem status.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct EcosystemStatus {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Number of records (withdrawn ones included).
    pub records: u64,
    /// Newest `modified` among its records.
    pub newest_modified: Option<String>,
    /// Where its data came from.
    #[serde(default)]
    pub source: Option<String>,
    /// When it was imported or synced (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// HTTP `ETag` of the last full download (for conditional requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// HTTP `Last-Modified` of the last full download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// What `db status` shows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct StoreStatus {
    /// Where the data of the last import came from.
    pub source: Option<String>,
    /// When the current generation was written (RFC 3339).
    pub imported_at: Option<String>,
    /// Per ecosystem.
    pub ecosystems: Vec<EcosystemStatus>,
}

/// The pointer file naming the current generation.
pub(super) const CURRENT: &str = "current";
/// How long a scan waits for another process bootstrapping the database.
const BOOTSTRAP_WAIT: Duration = Duration::from_secs(120);

/// The warning when the packed index cannot be used.
fn fallback_warning(e: &StoreError) -> String {
    format!("{e}; reading the sled store instead (slower)")
}

pub use super::builder::{BuildMeta, StoreBuilder};
pub use super::lock::WriteLock;

pub(super) fn sled_err(path: &Path) -> impl Fn(sled::Error) -> StoreError + '_ {
    move |source| StoreError::Sled {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The key of a package in the `index` tree.
pub fn index_key(ecosystem: Ecosystem, normalized_name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(ecosystem.as_str().len() + 1 + normalized_name.len());
    k.extend_from_slice(ecosystem.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(normalized_name.as_bytes());
    k
}

/// The generation directory `current` names; `None` for a database that
/// was never written (no `current`, no generation directory). A `current`
/// naming a directory that is gone, or generation directories without a
/// `current`, are [`StoreError::MissingGeneration`] — unless a live writer
/// holds the lock: a commit writes the new generation, then `current`,
/// then removes the old generation, so a reader racing it can briefly see
/// either state. Then the pointer is read again (for up to 10 s).
pub fn current_generation(db_dir: &Path) -> Result<Option<PathBuf>, StoreError> {
    let started = Instant::now();
    loop {
        match read_current(db_dir) {
            Err(StoreError::MissingGeneration { .. })
                if started.elapsed() < Duration::from_secs(10)
                    && super::lock::live_writer(db_dir).is_some() =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// [`current_generation`] without waiting for a writer.
fn read_current(db_dir: &Path) -> Result<Option<PathBuf>, StoreError> {
    let pointer = db_dir.join(CURRENT);
    match std::fs::read_to_string(&pointer) {
        Ok(name) => {
            let name = name.trim();
            if name.is_empty() || name.contains('/') || name.contains("..") {
                return Err(StoreError::Corrupt {
                    path: pointer,
                    key: CURRENT.into(),
                    reason: format!("invalid generation name {name:?}"),
                });
            }
            let dir = db_dir.join(name);
            if dir.is_dir() {
                Ok(Some(dir))
            } else {
                Err(StoreError::MissingGeneration {
                    dir: db_dir.to_path_buf(),
                    reason: format!("`current` names the generation {name}, which does not exist"),
                })
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A committed generation carries its packed index (written just
            // before `current`); one without it is the leftover of an
            // interrupted first import, not data.
            let committed = generation_dirs(db_dir)
                .into_iter()
                .find(|g| g.join(super::packed::FILE_NAME).is_file());
            if let Some(gen_dir) = committed {
                return Err(StoreError::MissingGeneration {
                    dir: db_dir.to_path_buf(),
                    reason: format!(
                        "the `current` pointer is missing although generation {} is there",
                        gen_dir
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ),
                });
            }
            Ok(None)
        }
        Err(e) => Err(StoreError::Io {
            path: pointer,
            source: e,
        }),
    }
}

/// The generation directories (`gen-*`) of a database directory.
pub(super) fn generation_dirs(db_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(db_dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("gen-"))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// Opens a sled database, waiting up to `wait` while another process holds
/// its file lock (sled allows one process at a time).
pub(super) fn open_sled(dir: &Path, wait: Duration) -> Result<sled::Db, StoreError> {
    let start = Instant::now();
    loop {
        match sled::Config::new()
            .path(dir)
            .cache_capacity(16 * 1024 * 1024)
            .flush_every_ms(None)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("lock") =>
            {
                if start.elapsed() >= wait {
                    return Err(StoreError::Sled {
                        path: dir.to_path_buf(),
                        source: sled::Error::Io(e),
                    });
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(e) => {
                return Err(StoreError::Sled {
                    path: dir.to_path_buf(),
                    source: e,
                });
            }
        }
    }
}

/// The sled trees of an open generation.
struct SledTrees {
    db: sled::Db,
    index: sled::Tree,
    records: sled::Tree,
    aliases: sled::Tree,
    meta: sled::Tree,
}

impl SledTrees {
    /// Opens the sled store of a committed generation. A generation whose
    /// sled files are gone, or that holds no status (never committed, or
    /// emptied), is an error: sled would otherwise create an empty store
    /// and every lookup would answer "no advisory".
    fn open(dir: &Path) -> Result<SledTrees, StoreError> {
        let missing = |reason: &str| StoreError::Corrupt {
            path: dir.to_path_buf(),
            key: "sled store".into(),
            reason: format!(
                "{reason}; rebuild it with `depwarden db import` or `depwarden db sync`"
            ),
        };
        if !dir.join("db").is_file() || !dir.join("conf").is_file() {
            return Err(missing("its files are missing"));
        }
        let db = open_sled(dir, Duration::from_secs(60))?;
        let tree = |name: &str| db.open_tree(name).map_err(sled_err(dir));
        let trees = SledTrees {
            index: tree("index")?,
            records: tree("records")?,
            aliases: tree("aliases")?,
            meta: tree("meta")?,
            db,
        };
        if !trees.meta.contains_key(b"status").map_err(sled_err(dir))? {
            return Err(missing("it holds no committed data"));
        }
        Ok(trees)
    }
}

/// An open store (one generation), read-only in use.
///
/// Reads go to the generation's packed index ([`super::packed`]) when it
/// has one; sled is opened only for what the packed file does not hold
/// (the member lists a sync copies from), or for generations written
/// before packed files existed, or when the packed file is damaged (with
/// a warning in [`Store::warnings`]).
pub struct Store {
    dir: PathBuf,
    packed: Option<Packed>,
    /// False once the packed index failed a check: every later read goes
    /// to sled.
    packed_ok: AtomicBool,
    sled: Mutex<Option<Arc<SledTrees>>>,
    warnings: Mutex<Vec<String>>,
}

/// Where a read is answered from.
enum Via<'a> {
    /// The packed index, verified.
    Packed(Option<&'a [u8]>),
    /// The sled store (no packed index, or it failed a check).
    Sled,
}

impl Store {
    /// Opens the current generation of the store at `db_dir`.
    pub fn open(db_dir: &Path) -> Result<Store, StoreError> {
        let Some(dir) = current_generation(db_dir)? else {
            return Err(StoreError::Empty(db_dir.to_path_buf()));
        };
        Store::open_generation(&dir)
    }

    fn open_generation(dir: &Path) -> Result<Store, StoreError> {
        let (packed, warnings) = match Packed::open(dir) {
            Ok(p) => (p, Vec::new()),
            Err(e) => (None, vec![fallback_warning(&e)]),
        };
        let store = Store {
            dir: dir.to_path_buf(),
            packed,
            packed_ok: AtomicBool::new(true),
            sled: Mutex::new(None),
            warnings: Mutex::new(warnings),
        };
        if store.packed.is_none() {
            // Without a packed file every read needs sled: open it now, so
            // that a damaged store is reported before any scanning.
            store.sled()?;
        }
        Ok(store)
    }

    /// The sled trees, opened at first use.
    fn sled(&self) -> Result<Arc<SledTrees>, StoreError> {
        let mut guard = self.sled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = guard.as_ref() {
            return Ok(Arc::clone(t));
        }
        let trees = Arc::new(SledTrees::open(&self.dir)?);
        *guard = Some(Arc::clone(&trees));
        Ok(trees)
    }

    /// Reads `key` of `table` from the packed index when it is there and
    /// sound. A value that fails its checksum turns the packed index off
    /// for the rest of the process, with a warning naming the file, and
    /// the read (and every later one) goes to sled.
    fn via_packed(&self, table: Table, key: &[u8]) -> Via<'_> {
        let Some(p) = &self.packed else {
            return Via::Sled;
        };
        if !self.packed_ok.load(Ordering::Acquire) {
            return Via::Sled;
        }
        match p.get(table, key) {
            Ok(v) => Via::Packed(v),
            Err(e) => {
                if self.packed_ok.swap(false, Ordering::AcqRel) {
                    self.warn(fallback_warning(&e));
                }
                Via::Sled
            }
        }
    }

    fn warn(&self, message: String) {
        self.warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
    }

    /// Problems met while opening or reading (a damaged packed index, a
    /// stale lock taken over while bootstrapping), for the report.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Opens the store at `dir`, first importing the snapshot embedded in
    /// the binary when the database was never written (so a fresh install
    /// works offline). A database whose generation is missing is an error
    /// ([`StoreError::MissingGeneration`]), never re-created over. While
    /// another depwarden process bootstraps the same directory, waits for
    /// it (up to two minutes), taking over its lock if it dies.
    pub fn open_or_bootstrap(dir: &Path) -> Result<Store, StoreError> {
        let started = Instant::now();
        let mut notes = Vec::new();
        while current_generation(dir)?.is_none() {
            match super::snapshot::import_embedded(dir) {
                Ok(report) => {
                    notes.extend(report.into_iter().flat_map(|r| r.notes));
                    break;
                }
                Err(StoreError::Locked { path, pid }) => {
                    if started.elapsed() >= BOOTSTRAP_WAIT {
                        return Err(StoreError::Source {
                            path: dir.display().to_string(),
                            reason: format!(
                                "the database is empty and depwarden process {pid} has held its lock {} for {} s while importing the embedded snapshot; if that process is stuck, stop it or remove the lock file",
                                path.display(),
                                BOOTSTRAP_WAIT.as_secs()
                            ),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        }
        let store = Store::open(dir)?;
        for n in notes {
            store.warn(n);
        }
        Ok(store)
    }

    fn corrupt(&self, key: String, reason: String) -> StoreError {
        StoreError::Corrupt {
            path: self
                .packed
                .as_ref()
                .map(|p| p.path().to_path_buf())
                .unwrap_or_else(|| self.dir.clone()),
            key,
            reason,
        }
    }

    /// Index entries for a package (`name` already normalised). Only the
    /// packages that have advisories cost a decode.
    pub fn lookup(&self, ecosystem: Ecosystem, name: &str) -> Result<Vec<IndexEntry>, StoreError> {
        let key = index_key(ecosystem, name);
        let decode = |bytes: &[u8]| {
            serde_json::from_slice(bytes)
                .map_err(|e| self.corrupt(format!("index {ecosystem}/{name}"), e.to_string()))
        };
        if let Via::Packed(found) = self.via_packed(Table::Index, &key) {
            return match found {
                None => Ok(Vec::new()),
                Some(bytes) => decode(bytes),
            };
        }
        match self.sled()?.index.get(&key).map_err(sled_err(&self.dir))? {
            None => Ok(Vec::new()),
            Some(bytes) => decode(&bytes),
        }
    }

    /// A full record by id.
    pub fn record(&self, id: &str) -> Result<Option<OsvRecord>, StoreError> {
        match self.record_bytes(id)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| self.corrupt(format!("record {id}"), e.to_string())),
        }
    }

    /// A record's stored JSON bytes by id.
    pub fn record_bytes(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Via::Packed(found) = self.via_packed(Table::Records, id.as_bytes()) {
            return Ok(found.map(<[u8]>::to_vec));
        }
        Ok(self
            .sled()?
            .records
            .get(id.as_bytes())
            .map_err(sled_err(&self.dir))?
            .map(|v| v.to_vec()))
    }

    /// The record id for an id or alias (case-insensitive).
    pub fn resolve(&self, id_or_alias: &str) -> Result<Option<String>, StoreError> {
        let key = id_or_alias.trim().to_ascii_uppercase();
        if let Via::Packed(found) = self.via_packed(Table::Aliases, key.as_bytes()) {
            return Ok(found.map(|v| String::from_utf8_lossy(v).into_owned()));
        }
        Ok(self
            .sled()?
            .aliases
            .get(key.as_bytes())
            .map_err(sled_err(&self.dir))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Ids of the records that affect `ecosystem`.
    pub fn ids(&self, ecosystem: Ecosystem) -> Result<Vec<String>, StoreError> {
        let sled = self.sled()?;
        let members = sled.db.open_tree("members").map_err(sled_err(&self.dir))?;
        let mut prefix = ecosystem.as_str().as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        for kv in members.scan_prefix(&prefix) {
            let (k, _) = kv.map_err(sled_err(&self.dir))?;
            out.push(String::from_utf8_lossy(&k[prefix.len()..]).into_owned());
        }
        Ok(out)
    }

    /// Status: sources, times and per-ecosystem counts.
    pub fn status(&self) -> Result<StoreStatus, StoreError> {
        if let Some(p) = &self.packed {
            return Ok(p.status().clone());
        }
        match self
            .sled()?
            .meta
            .get(b"status")
            .map_err(sled_err(&self.dir))?
        {
            None => Ok(StoreStatus {
                source: None,
                imported_at: None,
                ecosystems: Vec::new(),
            }),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| self.corrupt("meta status".into(), e.to_string())),
        }
    }

    /// The generation directory in use.
    pub fn generation_dir(&self) -> &Path {
        &self.dir
    }
}
