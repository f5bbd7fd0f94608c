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
//! builds a new generation aside ([`StoreBuilder`]) and swaps the pointer
//! only once it is complete and flushed, so an interrupted or failed import
//! or sync leaves the previous generation in use; leftovers are removed by
//! the next writer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::compile::compile;
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

const CURRENT: &str = "current";
/// How long a scan waits for another process bootstrapping the database.
const BOOTSTRAP_WAIT: Duration = Duration::from_secs(120);

/// The warning when the packed index cannot be used.
fn fallback_warning(e: &StoreError) -> String {
    format!("{e}; reading the sled store instead (slower)")
}

pub use super::lock::WriteLock;

fn sled_err(path: &Path) -> impl Fn(sled::Error) -> StoreError + '_ {
    move |source| StoreError::Sled {
        path: path.to_path_buf(),
        source,
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
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
/// `current`, are [`StoreError::MissingGeneration`].
pub fn current_generation(db_dir: &Path) -> Result<Option<PathBuf>, StoreError> {
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
fn generation_dirs(db_dir: &Path) -> Vec<PathBuf> {
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
fn open_sled(dir: &Path, wait: Duration) -> Result<sled::Db, StoreError> {
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
                    notes.extend(report.notes);
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

/// Metadata of a finished generation, per ecosystem.
#[derive(Debug, Clone, Default)]
pub struct BuildMeta {
    /// Source per ecosystem (URL or path) for the ecosystems this build
    /// refreshed; the others keep their previous metadata.
    pub sources: BTreeMap<Ecosystem, String>,
    /// HTTP validators (`ETag`, `Last-Modified`) per refreshed ecosystem.
    pub validators: BTreeMap<Ecosystem, (Option<String>, Option<String>)>,
}

/// Builds a new generation aside; nothing is visible to readers until
/// [`StoreBuilder::commit`].
pub struct StoreBuilder {
    db_dir: PathBuf,
    gen_dir: PathBuf,
    db: sled::Db,
    records: sled::Tree,
    aliases: sled::Tree,
    members: sled::Tree,
    index: BTreeMap<Vec<u8>, Vec<IndexEntry>>,
    counts: BTreeMap<Ecosystem, EcosystemCount>,
    /// The import time: `modified` dates after it are clamped to it.
    now: u64,
    /// True while records are copied from the previous generation.
    copying: bool,
    /// Records of the input whose `modified` lies in the future, and the
    /// first of them (id, date).
    future: (u64, Option<(String, String)>),
    /// Warnings met while adding records (skipped records and ranges).
    pub warnings: Vec<String>,
    /// What the user should know about the database itself: a stale lock
    /// taken over, leftovers removed, future dates clamped. Shown even
    /// when the per-record warnings are cut short.
    pub notes: Vec<String>,
    /// Records skipped because they did not decode.
    pub skipped: u64,
    _lock: WriteLock,
    /// Removes the generation directory unless it was committed (dropped
    /// last, after the sled database).
    unfinished: Unfinished,
}

/// A generation directory that is removed when dropped, unless committed.
struct Unfinished(Option<PathBuf>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Records and newest `modified` of one ecosystem in a generation being
/// built.
#[derive(Debug, Clone, Default)]
struct EcosystemCount {
    records: u64,
    /// The newest `modified` (Unix seconds, as written or clamped).
    newest: Option<(u64, String)>,
}

impl StoreBuilder {
    /// Starts a new generation under `db_dir`, taking the writer lock and
    /// removing leftovers of interrupted writers.
    pub fn new(db_dir: &Path) -> Result<StoreBuilder, StoreError> {
        let lock = WriteLock::acquire(db_dir)?;
        StoreBuilder::with_lock(db_dir, lock)
    }

    /// Starts a new generation with a writer lock the caller already holds
    /// (a sync takes it before downloading).
    pub fn with_lock(db_dir: &Path, mut lock: WriteLock) -> Result<StoreBuilder, StoreError> {
        remove_stale_generations(db_dir)?;
        let notes = std::mem::take(&mut lock.notes);
        let gen_dir = new_generation_dir(db_dir);
        let gen_path = gen_dir.clone();
        let db = open_sled(&gen_dir, Duration::from_secs(5))?;
        let tree = |n: &str| db.open_tree(n).map_err(sled_err(&gen_dir));
        Ok(StoreBuilder {
            records: tree("records")?,
            aliases: tree("aliases")?,
            members: tree("members")?,
            db_dir: db_dir.to_path_buf(),
            db,
            gen_dir,
            index: BTreeMap::new(),
            counts: BTreeMap::new(),
            now: crate::clock::now(),
            copying: false,
            future: (0, None),
            warnings: Vec::new(),
            notes,
            skipped: 0,
            _lock: lock,
            unfinished: Unfinished(Some(gen_path)),
        })
    }

    /// Adds one record given as JSON bytes; `origin` names it in warnings.
    /// A record that does not decode is counted, warned about and skipped.
    pub fn add_json(&mut self, bytes: &[u8], origin: &str) -> Result<(), StoreError> {
        match serde_json::from_slice::<OsvRecord>(bytes) {
            Ok(r) if !r.id.trim().is_empty() => self.add_record(&r),
            Ok(_) => {
                self.skipped += 1;
                self.warnings
                    .push(format!("{origin}: record without an id skipped"));
                Ok(())
            }
            Err(e) => {
                self.skipped += 1;
                self.warnings
                    .push(format!("{origin}: not a valid OSV record ({e}); skipped"));
                Ok(())
            }
        }
    }

    /// Adds one record. Returns the ecosystems it affects.
    pub fn add_record(&mut self, record: &OsvRecord) -> Result<(), StoreError> {
        let mut ecosystems: Vec<Ecosystem> = record
            .affected
            .iter()
            .filter_map(|a| {
                a.package
                    .as_ref()
                    .and_then(|p| Ecosystem::from_osv(&p.ecosystem))
            })
            .collect();
        ecosystems.sort();
        ecosystems.dedup();
        if ecosystems.is_empty() {
            self.skipped += 1;
            self.warnings.push(format!(
                "{}: affects no npm, PyPI or crates.io package; skipped",
                record.id
            ));
            return Ok(());
        }
        let compiled = compile(record);
        self.warnings.extend(compiled.warnings);
        let modified = self.modified_of(record);
        let json = serde_json::to_vec(record).map_err(|e| StoreError::Source {
            path: record.id.clone(),
            reason: e.to_string(),
        })?;
        let path = self.gen_dir.clone();
        if self
            .records
            .insert(record.id.as_bytes(), json)
            .map_err(sled_err(&path))?
            .is_some()
        {
            // The same id twice: the later copy replaces the earlier one.
            self.remove_index_entries(&record.id);
        }
        let id_key = record.id.to_ascii_uppercase();
        self.aliases
            .insert(id_key.as_bytes(), record.id.as_bytes())
            .map_err(sled_err(&path))?;
        for alias in &record.aliases {
            let k = alias.to_ascii_uppercase();
            // An alias never overrides a record's own id.
            if self
                .records
                .get(alias.as_bytes())
                .map_err(sled_err(&path))?
                .is_none()
            {
                self.aliases
                    .insert(k.as_bytes(), record.id.as_bytes())
                    .map_err(sled_err(&path))?;
            }
        }
        for eco in &ecosystems {
            let mut k = eco.as_str().as_bytes().to_vec();
            k.push(0);
            k.extend_from_slice(record.id.as_bytes());
            let fresh = self
                .members
                .insert(k, &[])
                .map_err(sled_err(&path))?
                .is_none();
            let c = self.counts.entry(*eco).or_default();
            if fresh {
                c.records += 1;
            }
            if let Some(m) = modified.as_ref()
                && c.newest.as_ref().is_none_or(|(n, _)| m.0 > *n)
            {
                c.newest = Some(m.clone());
            }
        }
        for (eco, name, entry) in compiled.entries {
            self.index
                .entry(index_key(eco, &name))
                .or_default()
                .push(entry);
        }
        Ok(())
    }

    /// The record's `modified` for the data's age: as written, or clamped
    /// to the import time when it lies in the future (counted for one
    /// note). A date that does not parse does not count: it must not make
    /// the data look fresh.
    fn modified_of(&mut self, record: &OsvRecord) -> Option<(u64, String)> {
        let at = crate::clock::parse_instant(&record.modified)?;
        if at <= self.now {
            return Some((at, record.modified.clone()));
        }
        if !self.copying {
            self.future.0 += 1;
            if self.future.1.is_none() {
                self.future.1 = Some((record.id.clone(), record.modified.clone()));
            }
        }
        Some((self.now, crate::clock::rfc3339(self.now)))
    }

    /// The one note about future `modified` dates of the input, if any.
    fn future_note(&self) -> Option<String> {
        let (n, Some((id, date))) = &self.future else {
            return None;
        };
        Some(format!(
            "{n} record(s) have a `modified` date in the future (first: {id}, {date}); the data's age counts them as modified at import time ({})",
            crate::clock::rfc3339(self.now)
        ))
    }

    fn remove_index_entries(&mut self, id: &str) {
        for list in self.index.values_mut() {
            list.retain(|e| e.id != id);
        }
    }

    /// Copies every record of `ecosystems` from an open store (used to keep
    /// the ecosystems an import or sync does not touch).
    pub fn copy_from(
        &mut self,
        store: &Store,
        ecosystems: &[Ecosystem],
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        self.copying = true;
        for eco in ecosystems {
            for id in store.ids(*eco)? {
                if self
                    .records
                    .contains_key(id.as_bytes())
                    .map_err(sled_err(&self.gen_dir))?
                {
                    continue;
                }
                if let Some(r) = store.record(&id)? {
                    self.add_record(&r)?;
                    n += 1;
                }
            }
        }
        self.copying = false;
        Ok(n)
    }

    /// Writes the generation's packed read index from the index built in
    /// memory and the records and aliases trees.
    fn write_packed(
        &self,
        status: &StoreStatus,
        index: super::packed::Pairs,
    ) -> Result<(), StoreError> {
        let path = &self.gen_dir;
        let tree_pairs = |tree: &sled::Tree| -> Result<super::packed::Pairs, StoreError> {
            tree.iter()
                .map(|kv| {
                    kv.map(|(k, v)| (k.to_vec(), v.to_vec()))
                        .map_err(sled_err(path))
                })
                .collect()
        };
        let tables = [
            index,
            tree_pairs(&self.records)?,
            tree_pairs(&self.aliases)?,
        ];
        super::packed::write(&path.join(super::packed::FILE_NAME), status, tables)
    }

    /// Number of records per ecosystem added so far.
    pub fn counts(&self) -> BTreeMap<Ecosystem, u64> {
        self.counts.iter().map(|(e, c)| (*e, c.records)).collect()
    }

    /// The notes about the database itself (see [`StoreBuilder::notes`]),
    /// the one about future `modified` dates included; taken once.
    pub fn take_notes(&mut self) -> Vec<String> {
        let mut notes = std::mem::take(&mut self.notes);
        notes.extend(self.future_note());
        self.future = (0, None);
        notes
    }

    /// Checks that replacing `replaced` with what this generation holds
    /// does not silently lose data: an ecosystem the input holds no record
    /// for is refused, and so is one that would lose more than half of its
    /// records unless `allow_shrink`. `input` names the input in messages.
    pub fn check_replacement(
        &self,
        replaced: &[Ecosystem],
        previous: Option<&StoreStatus>,
        allow_shrink: bool,
        input: &str,
    ) -> Result<(), StoreError> {
        for eco in replaced {
            let now = self.counts.get(eco).map(|c| c.records).unwrap_or(0);
            let before = previous
                .and_then(|p| p.ecosystems.iter().find(|e| e.ecosystem == *eco))
                .map(|e| e.records)
                .unwrap_or(0);
            if now == 0 {
                return Err(StoreError::Refused(format!(
                    "{input} holds no {eco} record: refusing to empty {eco}{}",
                    if before > 0 {
                        format!(" ({before} records now)")
                    } else {
                        String::new()
                    }
                )));
            }
            if !allow_shrink && now < before && before - now > before / 2 {
                return Err(StoreError::Refused(format!(
                    "{input} would remove {} of the {before} {eco} records (more than half; {now} would be left); pass --allow-shrink if that is intended",
                    before - now
                )));
            }
        }
        Ok(())
    }

    /// Writes the index and metadata, flushes, and makes this generation
    /// the current one; the previous generation is removed.
    pub fn commit(
        self,
        meta: BuildMeta,
        previous: Option<&StoreStatus>,
    ) -> Result<StoreStatus, StoreError> {
        let path = self.gen_dir.clone();
        let index = self.db.open_tree("index").map_err(sled_err(&path))?;
        let mut index_pairs = Vec::with_capacity(self.index.len());
        for (k, entries) in &self.index {
            if entries.is_empty() {
                continue;
            }
            let v = serde_json::to_vec(entries).map_err(|e| StoreError::Source {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            index
                .insert(k.as_slice(), v.as_slice())
                .map_err(sled_err(&path))?;
            index_pairs.push((k.clone(), v));
        }
        let now = crate::clock::now_rfc3339();
        let mut ecosystems = Vec::new();
        for (eco, count) in &self.counts {
            let records = &count.records;
            let fresh = meta.sources.get(eco).cloned();
            let prev = previous.and_then(|p| p.ecosystems.iter().find(|e| e.ecosystem == *eco));
            // An ecosystem copied unchanged keeps its age: a future date
            // clamped when it was imported is not clamped again to now.
            let mut newest = count.newest.as_ref().map(|(_, s)| s.clone());
            if fresh.is_none()
                && let Some(p) = prev.and_then(|p| p.newest_modified.as_deref())
                && let (Some(a), Some(b)) = (
                    crate::clock::parse_instant(p),
                    count.newest.as_ref().map(|(t, _)| *t),
                )
                && a < b
            {
                newest = Some(p.to_string());
            }
            let (etag, last_modified) = match (fresh.is_some(), meta.validators.get(eco)) {
                (true, Some((e, l))) => (e.clone(), l.clone()),
                (true, None) => (None, None),
                (false, _) => (
                    prev.and_then(|p| p.etag.clone()),
                    prev.and_then(|p| p.last_modified.clone()),
                ),
            };
            ecosystems.push(EcosystemStatus {
                ecosystem: *eco,
                records: *records,
                newest_modified: newest.clone(),
                updated_at: if fresh.is_some() {
                    Some(now.clone())
                } else {
                    prev.and_then(|p| p.updated_at.clone())
                },
                source: fresh.or_else(|| prev.and_then(|p| p.source.clone())),
                etag,
                last_modified,
            });
        }
        let mut sources: Vec<String> = meta.sources.values().cloned().collect();
        sources.dedup();
        let status = StoreStatus {
            source: (!sources.is_empty()).then(|| sources.join(", ")),
            imported_at: Some(now),
            ecosystems,
        };
        let json = serde_json::to_vec(&status).map_err(|e| StoreError::Source {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let meta_tree = self.db.open_tree("meta").map_err(sled_err(&path))?;
        meta_tree.insert(b"status", json).map_err(sled_err(&path))?;
        self.db.flush().map_err(sled_err(&path))?;
        self.write_packed(&status, index_pairs)?;
        let StoreBuilder {
            db_dir,
            gen_dir,
            db,
            records,
            aliases,
            members,
            _lock,
            mut unfinished,
            ..
        } = self;
        drop((index, meta_tree, records, aliases, members, db));
        let name = gen_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        crate::atomic::write_atomic(&db_dir.join(CURRENT), name.as_bytes())
            .map_err(io_err(&db_dir))?;
        unfinished.0 = None;
        remove_stale_generations(&db_dir)?;
        drop(_lock);
        Ok(status)
    }
}

/// A fresh, unused generation directory name: time, process and a
/// per-process counter, so two writers never pick the same name.
fn new_generation_dir(db_dir: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = crate::clock::subsec_nanos();
        let dir = db_dir.join(format!(
            "gen-{}-{}-{}-{}",
            crate::clock::now(),
            nanos,
            std::process::id(),
            n
        ));
        if !dir.exists() {
            return dir;
        }
    }
}

/// Removes generation directories other than the current one. Called only
/// under the writer lock.
fn remove_stale_generations(db_dir: &Path) -> Result<(), StoreError> {
    // When `current` is broken, only uncommitted leftovers (no packed
    // index) go: a committed generation stays until a new one replaces it.
    let (current, only_uncommitted) = match current_generation(db_dir) {
        Ok(c) => (c, false),
        Err(_) => (None, true),
    };
    for p in generation_dirs(db_dir) {
        let committed = p.join(super::packed::FILE_NAME).is_file();
        if Some(&p) != current.as_ref() && !(only_uncommitted && committed) {
            // A scan may still have the old generation open; on Unix the
            // removal is safe for it, elsewhere it may fail and is retried
            // by the next writer.
            let _ = std::fs::remove_dir_all(&p);
        }
    }
    Ok(())
}
