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
        "advisory database {path} is being updated by another depwarden process (pid {pid}); try again when it has finished"
    )]
    Locked {
        /// The database directory.
        path: PathBuf,
        /// The other process.
        pid: String,
    },
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
const LOCK: &str = ".lock";

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

/// The generation directory `current` names, if any.
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
            Ok(dir.is_dir().then_some(dir))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Io {
            path: pointer,
            source: e,
        }),
    }
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
    fn open(dir: &Path) -> Result<SledTrees, StoreError> {
        let db = open_sled(dir, Duration::from_secs(60))?;
        let tree = |name: &str| db.open_tree(name).map_err(sled_err(dir));
        Ok(SledTrees {
            index: tree("index")?,
            records: tree("records")?,
            aliases: tree("aliases")?,
            meta: tree("meta")?,
            db,
        })
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
    sled: Mutex<Option<Arc<SledTrees>>>,
    warnings: Vec<String>,
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
            Err(e) => (
                None,
                vec![format!("{e}; reading the sled store instead (slower)")],
            ),
        };
        let store = Store {
            dir: dir.to_path_buf(),
            packed,
            sled: Mutex::new(None),
            warnings,
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

    /// Problems met while opening (a damaged packed index), for the report.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Opens the store at `dir`, first importing the snapshot embedded in
    /// the binary when the store is empty (so a fresh install works
    /// offline).
    pub fn open_or_bootstrap(dir: &Path) -> Result<Store, StoreError> {
        if current_generation(dir)?.is_none() {
            match super::snapshot::import_embedded(dir) {
                Ok(_) => {}
                // Another process is bootstrapping: wait for it.
                Err(StoreError::Locked { .. }) => wait_for_unlock(dir, Duration::from_secs(120)),
                Err(e) => return Err(e),
            }
        }
        Store::open(dir)
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
        if let Some(p) = &self.packed {
            return match p.get(Table::Index, &key)? {
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
        if let Some(p) = &self.packed {
            return Ok(p.get(Table::Records, id.as_bytes())?.map(<[u8]>::to_vec));
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
        if let Some(p) = &self.packed {
            return Ok(p
                .get(Table::Aliases, key.as_bytes())?
                .map(|v| String::from_utf8_lossy(v).into_owned()));
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

fn wait_for_unlock(db_dir: &Path, max: Duration) {
    let start = Instant::now();
    while db_dir.join(LOCK).exists() && start.elapsed() < max {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The writer lock of a database directory, released on drop.
pub struct WriteLock {
    path: PathBuf,
}

impl WriteLock {
    /// Takes the lock, or fails with [`StoreError::Locked`] when a live
    /// process holds it (a lock left by a dead process is taken over).
    pub fn acquire(db_dir: &Path) -> Result<WriteLock, StoreError> {
        std::fs::create_dir_all(db_dir).map_err(io_err(db_dir))?;
        let path = db_dir.join(LOCK);
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = write!(f, "{}", std::process::id());
                    return Ok(WriteLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = std::fs::read_to_string(&path)
                        .unwrap_or_default()
                        .trim()
                        .to_string();
                    if pid_alive(&pid) {
                        return Err(StoreError::Locked {
                            path: db_dir.to_path_buf(),
                            pid,
                        });
                    }
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(StoreError::Io { path, source: e }),
            }
        }
        Err(StoreError::Locked {
            path: db_dir.to_path_buf(),
            pid: "unknown".into(),
        })
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// True when `pid` names a running process (Linux: /proc; elsewhere the
/// lock is assumed live unless empty).
fn pid_alive(pid: &str) -> bool {
    let Ok(n) = pid.parse::<u32>() else {
        return false;
    };
    if n == std::process::id() {
        return true;
    }
    if Path::new("/proc").is_dir() {
        Path::new("/proc").join(n.to_string()).exists()
    } else {
        true
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
    counts: BTreeMap<Ecosystem, (u64, Option<String>)>,
    /// Warnings met while adding records (skipped records and ranges).
    pub warnings: Vec<String>,
    /// Records skipped because they did not decode.
    pub skipped: u64,
    _lock: WriteLock,
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
    pub fn with_lock(db_dir: &Path, lock: WriteLock) -> Result<StoreBuilder, StoreError> {
        remove_stale_generations(db_dir)?;
        let gen_dir = new_generation_dir(db_dir);
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
            warnings: Vec::new(),
            skipped: 0,
            _lock: lock,
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
            let c = self.counts.entry(*eco).or_insert((0, None));
            if fresh {
                c.0 += 1;
            }
            if c.1.as_deref().is_none_or(|m| record.modified.as_str() > m) {
                c.1 = Some(record.modified.clone());
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
        self.counts.iter().map(|(e, (n, _))| (*e, *n)).collect()
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
        for (eco, (records, newest)) in &self.counts {
            let fresh = meta.sources.get(eco).cloned();
            let prev = previous.and_then(|p| p.ecosystems.iter().find(|e| e.ecosystem == *eco));
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
            ..
        } = self;
        drop((index, meta_tree, records, aliases, members, db));
        let name = gen_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        crate::atomic::write_atomic(&db_dir.join(CURRENT), name.as_bytes())
            .map_err(io_err(&db_dir))?;
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
    let current = current_generation(db_dir).ok().flatten();
    let Ok(entries) = std::fs::read_dir(db_dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let is_gen = entry.file_name().to_string_lossy().starts_with("gen-");
        if is_gen && Some(&p) != current.as_ref() {
            // A scan may still have the old generation open; on Unix the
            // removal is safe for it, elsewhere it may fail and is retried
            // by the next writer.
            let _ = std::fs::remove_dir_all(&p);
        }
    }
    Ok(())
}
