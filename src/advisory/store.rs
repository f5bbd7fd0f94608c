//! Reading a generation: [`Store`] answers the scan's queries (the
//! compiled entries of a package, a record by id, an id by alias, the
//! status). Each query is written once over [`Store::value`], which reads
//! the packed index ([`super::packed`]) when it is there and sound and
//! the sled catalog ([`super::catalog`]) otherwise; records come from the
//! record file ([`super::recfile`]) either way.
//!
//! The layout of the database directory is in [`super::layout`]; the
//! writer is [`super::builder::StoreBuilder`]; the first-use bootstrap
//! from the embedded snapshot is [`super::snapshot::open_or_bootstrap`].

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::catalog::{Catalog, Visit};
use super::codec::{RecordRef, decode_entries, index_key, mask_ecosystems};
use super::model::{IndexEntry, OsvRecord};
use super::packed::{Packed, Table};
use super::recfile::RecFile;
use crate::ecosystem::Ecosystem;

pub use super::error::StoreError;
pub use super::layout::current_generation;
pub use super::lock::WriteLock;
pub use super::status::{EcosystemStatus, StoreStatus};

/// The warning when the packed index cannot be used.
fn fallback_warning(e: &StoreError) -> String {
    format!("{e}; reading the sled store instead (slower)")
}

/// An open store (one generation), read-only in use.
///
/// Reads go to the generation's packed index when it has one; sled is
/// opened only when the packed index is missing or damaged (with a
/// warning in [`Store::warnings`]).
pub struct Store {
    dir: PathBuf,
    packed: Option<Packed>,
    /// False once the packed index failed a check: every later read goes
    /// to sled.
    packed_ok: AtomicBool,
    sled: Mutex<Option<Arc<Catalog>>>,
    records: RecFile,
    warnings: Mutex<Vec<String>>,
}

impl Store {
    /// Opens the current generation of the store at `db_dir`.
    pub fn open(db_dir: &Path) -> Result<Store, StoreError> {
        let Some(dir) = current_generation(db_dir)? else {
            return Err(StoreError::Empty(db_dir.to_path_buf()));
        };
        let (packed, warnings) = match Packed::open(&dir) {
            Ok(p) => (p, Vec::new()),
            Err(e) => (None, vec![fallback_warning(&e)]),
        };
        let records = RecFile::open(&dir)?;
        let store = Store {
            dir,
            packed,
            packed_ok: AtomicBool::new(true),
            sled: Mutex::new(None),
            records,
            warnings: Mutex::new(warnings),
        };
        if store.packed.is_none() {
            // Without a packed file every read needs sled: open it now, so
            // that a damaged store is reported before any scanning.
            store.sled()?;
        }
        Ok(store)
    }

    /// The sled catalog, opened at first use.
    fn sled(&self) -> Result<Arc<Catalog>, StoreError> {
        let mut guard = self.sled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = guard.as_ref() {
            return Ok(Arc::clone(t));
        }
        let catalog = Arc::new(Catalog::open(&self.dir)?);
        *guard = Some(Arc::clone(&catalog));
        Ok(catalog)
    }

    /// The packed index while it is sound.
    fn packed(&self) -> Option<&Packed> {
        self.packed
            .as_ref()
            .filter(|_| self.packed_ok.load(Ordering::Acquire))
    }

    /// Turns the packed index off for the rest of the process, with one
    /// warning naming the file.
    fn packed_failed(&self, e: &StoreError) {
        if self.packed_ok.swap(false, Ordering::AcqRel) {
            self.warn(fallback_warning(e));
        }
    }

    /// The value of `key` in `table`: from the packed index when it is
    /// there and the value passes its checksum, else from sled.
    fn value(&self, table: Table, key: &[u8]) -> Result<Option<Cow<'_, [u8]>>, StoreError> {
        if let Some(p) = self.packed() {
            match p.get(table, key) {
                Ok(v) => return Ok(v.map(Cow::Borrowed)),
                Err(e) => self.packed_failed(&e),
            }
        }
        Ok(self.sled()?.get(table, key)?.map(Cow::Owned))
    }

    /// Every (key, value) of `table`: from the packed index when it is
    /// sound throughout, else from sled.
    pub(crate) fn for_each(&self, table: Table, f: &mut Visit<'_, ()>) -> Result<(), StoreError> {
        if let Some(p) = self.packed() {
            // Check the whole table first, so that `f` never sees part of
            // it twice.
            match p.for_each(table, |_, _| Ok(())) {
                Ok(()) => return p.for_each(table, |k, v| f(k, v)),
                Err(e) => self.packed_failed(&e),
            }
        }
        self.sled()?.for_each(table, f)
    }

    fn warn(&self, message: String) {
        self.warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
    }

    /// Adds a note for the report (the bootstrap's notes).
    pub(crate) fn note(&self, message: String) {
        self.warn(message);
    }

    /// Problems met while opening or reading (a damaged packed index, a
    /// stale lock taken over while bootstrapping), for the report.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn corrupt(&self, key: String, reason: String) -> StoreError {
        StoreError::Corrupt {
            path: match self.packed() {
                Some(p) => p.path().to_path_buf(),
                None => self.dir.clone(),
            },
            key,
            reason,
        }
    }

    /// Index entries for a package (`name` already normalised). Only the
    /// packages that have advisories cost a decode.
    pub fn lookup(&self, ecosystem: Ecosystem, name: &str) -> Result<Vec<IndexEntry>, StoreError> {
        match self.value(Table::Index, &index_key(ecosystem, name))? {
            None => Ok(Vec::new()),
            Some(bytes) => decode_entries(&bytes)
                .map_err(|e| self.corrupt(format!("index {ecosystem}/{name}"), e.to_string())),
        }
    }

    /// Where a record is, by id.
    pub(crate) fn record_ref(&self, id: &str) -> Result<Option<RecordRef>, StoreError> {
        match self.value(Table::Records, id.as_bytes())? {
            None => Ok(None),
            Some(bytes) => RecordRef::decode(&bytes)
                .map(Some)
                .map_err(|e| self.corrupt(format!("record {id}"), e.to_string())),
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

    /// A record's stored JSON by id.
    pub fn record_bytes(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.record_ref(id)? {
            None => Ok(None),
            Some(r) => self.records.read(id, &r).map(Some),
        }
    }

    /// The record file (a writer copies compressed records from it).
    pub(crate) fn record_file(&self) -> &RecFile {
        &self.records
    }

    /// The record id for an id or alias (case-insensitive).
    pub fn resolve(&self, id_or_alias: &str) -> Result<Option<String>, StoreError> {
        let key = id_or_alias.trim().to_ascii_uppercase();
        Ok(self
            .value(Table::Aliases, key.as_bytes())?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Ids of the records that affect `ecosystem`.
    pub fn ids(&self, ecosystem: Ecosystem) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        self.for_each(Table::Records, &mut |k, v| {
            let r = RecordRef::decode(v).map_err(|e| {
                self.corrupt(
                    format!("record {}", String::from_utf8_lossy(k)),
                    e.to_string(),
                )
            })?;
            if mask_ecosystems(r.ecosystems).contains(&ecosystem) {
                out.push(String::from_utf8_lossy(k).into_owned());
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Status: sources, times and per-ecosystem counts.
    pub fn status(&self) -> Result<StoreStatus, StoreError> {
        if let Some(p) = &self.packed {
            return Ok(p.status().clone());
        }
        self.sled()?.status()
    }
}
