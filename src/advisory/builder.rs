//! Writing a generation: [`StoreBuilder`] appends records to a new record
//! file as they come ([`super::ingest`] prepares them on every core),
//! keeps in memory only the index rows and references, checks that the
//! replacement loses no data by accident ([`StoreBuilder::check_replacement`]),
//! clamps future `modified` dates, and [`StoreBuilder::commit`] writes the
//! sled catalog and the packed index and swaps the `current` pointer. A
//! generation that is not committed is removed when its builder is
//! dropped, and by the next writer otherwise.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::codec::{RecordRef, ecosystem_mask, mask_ecosystems, split_entries};
use super::error::{StoreError, damaged};
use super::ingest::{Dict, Encoder, Outcome, Prepared, prepare};
use super::layout::{make_current, new_generation_dir, remove_stale_generations};
use super::lock::WriteLock;
use super::packed::{Pairs, Table, checksum};
use super::recfile::{LEVEL, RecWriter};
use super::status::{EcosystemStatus, StoreStatus};
use super::store::Store;
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

/// One record of the generation being built.
struct Rec {
    id: String,
    at: RecordRef,
    /// False once a later copy of the same id replaced it.
    live: bool,
}

/// Builds a new generation aside; nothing is visible to readers until
/// [`StoreBuilder::commit`].
pub struct StoreBuilder {
    db_dir: PathBuf,
    gen_dir: PathBuf,
    out: RecWriter,
    records: Vec<Rec>,
    by_id: HashMap<String, u32>,
    /// (index key, record, encoded entry), in input order.
    index: Vec<(Vec<u8>, u32, Vec<u8>)>,
    /// (upper-cased id or alias, record, is the record's own id).
    aliases: Vec<(String, u32, bool)>,
    /// The dictionary new records are compressed with.
    dict: Option<Dict>,
    /// The import time: `modified` dates after it are clamped to it.
    now: u64,
    /// Records of the input whose `modified` lies in the future, and the
    /// first of them (id, date).
    future: (u64, Option<(String, String)>),
    /// The newest `modified` of the records added per ecosystem, as
    /// written (references keep only the seconds).
    newest_text: BTreeMap<Ecosystem, (u64, String)>,
    /// Show progress on a terminal.
    pub(crate) progress: bool,
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
    /// last).
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

/// Records and newest `modified` of one ecosystem.
#[derive(Debug, Clone, Default)]
struct EcosystemCount {
    records: u64,
    /// The newest `modified` (Unix seconds, as written or clamped).
    newest: Option<u64>,
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
        remove_stale_generations(db_dir);
        let notes = std::mem::take(&mut lock.notes);
        let gen_dir = new_generation_dir(db_dir);
        std::fs::create_dir_all(&gen_dir).map_err(|source| StoreError::Io {
            path: gen_dir.clone(),
            source,
        })?;
        let unfinished = Unfinished(Some(gen_dir.clone()));
        Ok(StoreBuilder {
            out: RecWriter::create(&gen_dir)?,
            db_dir: db_dir.to_path_buf(),
            gen_dir,
            records: Vec::new(),
            by_id: HashMap::new(),
            index: Vec::new(),
            aliases: Vec::new(),
            dict: None,
            now: crate::clock::now(),
            future: (0, None),
            newest_text: BTreeMap::new(),
            progress: false,
            warnings: Vec::new(),
            notes,
            skipped: 0,
            _lock: lock,
            unfinished,
        })
    }

    /// The dictionary new records are compressed with.
    pub(crate) fn dict(&self) -> Option<&Dict> {
        self.dict.as_ref()
    }

    /// Compresses the records that follow with `dict` (trained on them).
    pub(crate) fn use_dict(&mut self, dict: &[u8]) {
        let number = self.out.add_dict(dict);
        self.dict = Some(Dict {
            number,
            prepared: Arc::new(zstd::dict::EncoderDictionary::copy(dict, LEVEL)),
        });
    }

    /// Adds one record given as JSON bytes; `origin` names it in warnings.
    /// A record that does not decode is counted, warned about and skipped.
    pub fn add_json(&mut self, bytes: &[u8], origin: &str) -> Result<(), StoreError> {
        let outcome = prepare(bytes, origin, &mut Encoder::new(self.dict.as_ref()));
        self.accept(outcome)
    }

    /// Appends a prepared record (in input order).
    pub(crate) fn accept(&mut self, outcome: Outcome) -> Result<(), StoreError> {
        let p = match outcome {
            Outcome::Record(p) => p,
            Outcome::Skipped(why) => {
                self.skipped += 1;
                self.warnings.push(why);
                return Ok(());
            }
        };
        let Prepared {
            id,
            ecosystems,
            modified,
            entries,
            aliases,
            blob,
            dict,
            raw_len,
            warnings,
        } = *p;
        self.warnings.extend(warnings);
        let modified = self.clamp(&id, modified);
        if let Some((secs, text)) = &modified {
            for eco in &ecosystems {
                let slot = self.newest_text.entry(*eco).or_insert((0, String::new()));
                if *secs >= slot.0 {
                    *slot = (*secs, text.clone());
                }
            }
        }
        let at = RecordRef {
            offset: self.out.append(&blob)?,
            len: u32::try_from(blob.len()).unwrap_or(u32::MAX),
            raw_len,
            sum: checksum(&[&blob]),
            dict,
            ecosystems: ecosystem_mask(&ecosystems),
            modified: modified.map(|(s, _)| s),
        };
        let no = self.push(id, at);
        self.index
            .extend(entries.into_iter().map(|(k, e)| (k, no, e)));
        self.aliases
            .extend(aliases.iter().map(|a| (a.to_ascii_uppercase(), no, false)));
        Ok(())
    }

    /// Adds a record reference; a later copy of an id replaces the earlier.
    fn push(&mut self, id: String, at: RecordRef) -> u32 {
        let no = self.records.len() as u32;
        if let Some(old) = self.by_id.insert(id.clone(), no) {
            self.records[old as usize].live = false;
        }
        self.aliases.push((id.to_ascii_uppercase(), no, true));
        self.records.push(Rec { id, at, live: true });
        no
    }

    /// The record's `modified` for the data's age: as written, or clamped
    /// to the import time when it lies in the future (counted for one
    /// note). A date that does not parse does not count: it must not make
    /// the data look fresh.
    fn clamp(&mut self, id: &str, (text, at): (String, Option<u64>)) -> Option<(u64, String)> {
        let at = at?;
        if at <= self.now {
            return Some((at, text));
        }
        self.future.0 += 1;
        if self.future.1.is_none() {
            self.future.1 = Some((id.to_string(), text));
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

    /// True when the generation already holds a record with this id.
    fn has(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Copies every record of `ecosystems` from an open store (used to keep
    /// the ecosystems an import or sync does not touch): their compressed
    /// bytes, index entries and aliases as they are, without decoding.
    pub fn copy_from(
        &mut self,
        store: &Store,
        ecosystems: &[Ecosystem],
    ) -> Result<u64, StoreError> {
        let wanted = ecosystem_mask(ecosystems);
        let bar = crate::progress::spinner(self.progress, "copying the records kept");
        let file = store.record_file();
        let mut dicts: HashMap<u16, u16> = HashMap::new();
        let mut kept: HashMap<String, u32> = HashMap::new();
        let mut refs = Vec::new();
        store.for_each(Table::Records, &mut |k, v| {
            let id = String::from_utf8_lossy(k).into_owned();
            let r = RecordRef::decode(v)
                .map_err(|e| damaged(file.path(), &format!("record {id}"), e.to_string()))?;
            if r.ecosystems & wanted != 0 && !self.has(&id) {
                refs.push((id, r));
            }
            Ok(())
        })?;
        for (id, mut r) in refs {
            let blob = file.blob(&id, &r)?;
            if r.dict != 0 {
                let n = match dicts.get(&r.dict) {
                    Some(n) => *n,
                    None => {
                        let bytes = file.dict(r.dict).ok_or_else(|| {
                            damaged(
                                file.path(),
                                &format!("record {id}"),
                                "names a missing dictionary".into(),
                            )
                        })?;
                        let n = self.out.add_dict(bytes);
                        dicts.insert(r.dict, n);
                        n
                    }
                };
                r.dict = n;
            }
            r.offset = self.out.append(blob)?;
            let no = self.push(id.clone(), r);
            kept.insert(id, no);
        }
        // New records of a store that had a dictionary use its newest one.
        if self.dict.is_none()
            && let Some(n) = dicts.keys().max().copied()
            && let Some(bytes) = file.dict(n)
        {
            self.use_dict(bytes);
        }
        store.for_each(Table::Index, &mut |k, v| {
            let parts = split_entries(v).map_err(|e| {
                damaged(
                    file.path(),
                    &format!("index {}", String::from_utf8_lossy(k)),
                    e.to_string(),
                )
            })?;
            for (id, entry) in parts {
                if let Some(no) = kept.get(id) {
                    self.index.push((k.to_vec(), *no, entry.to_vec()));
                }
            }
            Ok(())
        })?;
        store.for_each(Table::Aliases, &mut |k, v| {
            let target = String::from_utf8_lossy(v);
            if let Some(no) = kept.get(target.as_ref()) {
                let alias = String::from_utf8_lossy(k).into_owned();
                if alias != target.to_ascii_uppercase() {
                    self.aliases.push((alias, *no, false));
                }
            }
            Ok(())
        })?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        Ok(kept.len() as u64)
    }

    fn ecosystem_counts(&self) -> BTreeMap<Ecosystem, EcosystemCount> {
        let mut counts: BTreeMap<Ecosystem, EcosystemCount> = BTreeMap::new();
        for r in self.records.iter().filter(|r| r.live) {
            for eco in mask_ecosystems(r.at.ecosystems) {
                let c = counts.entry(eco).or_default();
                c.records += 1;
                if let Some(m) = r.at.modified
                    && c.newest.is_none_or(|n| m > n)
                {
                    c.newest = Some(m);
                }
            }
        }
        counts
    }

    /// Number of records per ecosystem added so far.
    pub fn counts(&self) -> BTreeMap<Ecosystem, u64> {
        self.ecosystem_counts()
            .into_iter()
            .map(|(e, c)| (e, c.records))
            .collect()
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
        let counts = self.counts();
        for eco in replaced {
            let now = counts.get(eco).copied().unwrap_or(0);
            let before = previous
                .and_then(|p| p.ecosystem(*eco))
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

    /// The three tables of the generation, each sorted by key.
    fn tables(&mut self) -> [Pairs; 3] {
        self.by_id = HashMap::new();
        let live = |no: u32, recs: &[Rec]| recs[no as usize].live;
        let mut index = std::mem::take(&mut self.index);
        index.retain(|(_, no, _)| live(*no, &self.records));
        // Stable: entries of one package stay in input order.
        index.sort_by(|a, b| a.0.cmp(&b.0));
        let mut index_pairs: Pairs = Vec::new();
        for (k, _, e) in index {
            match index_pairs.last_mut() {
                Some((lk, v)) if *lk == k => v.extend_from_slice(&e),
                _ => index_pairs.push((k, e)),
            }
        }
        // An alias never overrides a record's own id; otherwise the later
        // record wins.
        let mut aliases = std::mem::take(&mut self.aliases);
        aliases.retain(|(_, no, _)| live(*no, &self.records));
        let mut seq: Vec<(String, bool, u32)> = aliases
            .into_iter()
            .map(|(a, no, own)| (a, own, no))
            .collect();
        seq.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut alias_pairs: Pairs = Vec::new();
        for (a, _, no) in seq {
            let target = self.records[no as usize].id.as_bytes().to_vec();
            match alias_pairs.last_mut() {
                Some((lk, v)) if lk.as_slice() == a.as_bytes() => *v = target,
                _ => alias_pairs.push((a.into_bytes(), target)),
            }
        }
        let mut record_pairs: Pairs = std::mem::take(&mut self.records)
            .into_iter()
            .filter(|r| r.live)
            .map(|r| (r.id.into_bytes(), r.at.encode()))
            .collect();
        record_pairs.sort_by(|a, b| a.0.cmp(&b.0));
        [index_pairs, record_pairs, alias_pairs]
    }

    /// The status of the new generation.
    fn status(&self, meta: &BuildMeta, previous: Option<&StoreStatus>) -> StoreStatus {
        let now = crate::clock::now_rfc3339();
        let mut ecosystems = Vec::new();
        for (eco, count) in &self.ecosystem_counts() {
            let fresh = meta.sources.get(eco).cloned();
            let prev = previous.and_then(|p| p.ecosystem(*eco));
            // An ecosystem copied unchanged keeps its age: a future date
            // clamped when it was imported is not clamped again to now.
            // The text as written: of a record added now, else the
            // previous status's, else the seconds in RFC 3339.
            let prev_newest = prev
                .and_then(|p| p.newest_modified.as_deref())
                .and_then(|p| Some((crate::clock::parse_instant(p)?, p)));
            let mut newest =
                count
                    .newest
                    .map(|secs| match (self.newest_text.get(eco), prev_newest) {
                        (Some((s, t)), _) if *s == secs => t.clone(),
                        (_, Some((s, t))) if s == secs => t.to_string(),
                        _ => crate::clock::rfc3339(secs),
                    });
            if fresh.is_none()
                && let (Some((a, p)), Some(b)) = (prev_newest, count.newest)
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
                records: count.records,
                newest_modified: newest,
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
        StoreStatus {
            source: (!sources.is_empty()).then(|| sources.join(", ")),
            imported_at: Some(now),
            ecosystems,
        }
    }

    /// Writes the record file, the sled catalog and the packed index,
    /// flushes them, and makes this generation the current one; the
    /// previous generation is removed.
    pub fn commit(
        mut self,
        meta: BuildMeta,
        previous: Option<&StoreStatus>,
    ) -> Result<StoreStatus, StoreError> {
        let bar = crate::progress::spinner(self.progress, "writing the index");
        let status = self.status(&meta, previous);
        let tables = self.tables();
        let StoreBuilder {
            db_dir,
            gen_dir,
            out,
            _lock,
            mut unfinished,
            ..
        } = self;
        out.finish()?;
        let status_json = serde_json::to_vec(&status).map_err(|source| StoreError::Encode {
            path: gen_dir.clone(),
            what: "the status".into(),
            source,
        })?;
        let db = super::catalog::open_sled(&gen_dir, std::time::Duration::from_secs(5))?;
        super::catalog::write(&db, &gen_dir, &status_json, &tables)?;
        drop(db);
        super::packed::write(&gen_dir.join(super::packed::FILE_NAME), &status, tables)?;
        make_current(&db_dir, &gen_dir)?;
        unfinished.0 = None;
        remove_stale_generations(&db_dir);
        drop(_lock);
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_copy_of_an_id_replaces_the_earlier_and_ids_beat_aliases() {
        let t = tempfile::tempdir().expect("tmp");
        let db = t.path().join("db");
        let mut b = StoreBuilder::new(&db).expect("builder");
        let rec = |id: &str, alias: &str, name: &str| {
            format!(
                r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","aliases":["{alias}"],"affected":[{{"package":{{"ecosystem":"npm","name":"{name}"}},"versions":["1.0.0"]}}]}}"#
            )
        };
        b.add_json(rec("A", "B", "one").as_bytes(), "t")
            .expect("add");
        b.add_json(rec("B", "X", "two").as_bytes(), "t")
            .expect("add");
        b.add_json(rec("A", "Y", "three").as_bytes(), "t")
            .expect("add");
        assert_eq!(b.counts().get(&Ecosystem::Npm), Some(&2));
        b.commit(BuildMeta::default(), None).expect("commit");
        let s = Store::open(&db).expect("open");
        assert!(s.lookup(Ecosystem::Npm, "one").expect("lookup").is_empty());
        assert_eq!(s.lookup(Ecosystem::Npm, "three").expect("lookup").len(), 1);
        assert_eq!(s.resolve("b").expect("resolve").as_deref(), Some("B"));
        assert_eq!(s.resolve("y").expect("resolve").as_deref(), Some("A"));
        assert_eq!(s.resolve("x").expect("resolve").as_deref(), Some("B"));
    }
}
