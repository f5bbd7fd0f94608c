//! Writing a generation: [`StoreBuilder`] fills a new sled database aside
//! (records, aliases, the members of each ecosystem, the package index in
//! memory), checks that the replacement loses no data by accident
//! ([`StoreBuilder::check_replacement`]), clamps future `modified` dates,
//! and [`StoreBuilder::commit`] writes the packed index and swaps the
//! `current` pointer. A generation that is not committed is removed when
//! its builder is dropped, and by the next writer otherwise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::compile::compile;
use super::lock::WriteLock;
use super::model::{IndexEntry, OsvRecord};
use super::store::{
    CURRENT, EcosystemStatus, Store, StoreError, StoreStatus, current_generation, generation_dirs,
    index_key, io_err, open_sled, sled_err,
};
use crate::ecosystem::Ecosystem;

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
