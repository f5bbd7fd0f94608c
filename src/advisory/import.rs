//! Importing OSV data: an `all.zip`, a directory of OSV JSON files, or a
//! directory in the OSV bucket layout (`<Ecosystem>/all.zip`). Records are
//! decoded one by one; one that does not decode is counted and skipped with
//! a warning. Zips are read in parallel batches ([`super::zipin`]). The
//! import builds a new generation and swaps it in only when complete (see
//! [`super::builder`]); ecosystems the source does not cover keep their
//! current data.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use super::builder::{BuildMeta, StoreBuilder};
use super::error::StoreError;
use super::lock::WriteLock;
use super::status::StoreStatus;
use super::store::Store;
use super::zipin::{SharedFile, read_zip};
use crate::ecosystem::Ecosystem;

pub use super::zipin::{MAX_RECORD_BYTES, MAX_ZIP_TOTAL_BYTES};

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Records now in the store, per ecosystem.
    pub records: BTreeMap<Ecosystem, u64>,
    /// Records read from the source.
    pub read: u64,
    /// Records skipped (undecodable, no supported ecosystem).
    pub skipped: u64,
    /// Warnings (skipped records and ranges), each naming the record.
    pub warnings: Vec<String>,
    /// Notes about the database itself (a stale lock taken over, leftovers
    /// removed, future `modified` dates clamped).
    pub notes: Vec<String>,
    /// The resulting status.
    pub status: StoreStatus,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "imported {} records",
            self.read.saturating_sub(self.skipped)
        )?;
        let per: Vec<String> = self
            .records
            .iter()
            .map(|(e, n)| format!("{e}: {n}"))
            .collect();
        if !per.is_empty() {
            write!(f, " (database now holds {})", per.join(", "))?;
        }
        if self.skipped > 0 {
            write!(f, "; {} skipped", self.skipped)?;
        }
        if !self.warnings.is_empty() {
            write!(f, "; {} warnings", self.warnings.len())?;
        }
        Ok(())
    }
}

/// Something records can be read from.
pub enum ImportSource<'a> {
    /// A path: zip, JSON directory or bucket layout.
    Path(&'a Path),
    /// Zips in memory, each with its bucket path (`npm/all.zip`), which
    /// says the ecosystem it holds (the embedded snapshot).
    Zips(Vec<(String, &'a [u8])>),
}

/// How an import treats the data already in the store.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The input is the complete set of this ecosystem's advisories
    /// (`db import --ecosystem`), whatever its path says.
    pub ecosystem: Option<Ecosystem>,
    /// Accept a replacement that removes more than half of an ecosystem's
    /// records (`--allow-shrink`).
    pub allow_shrink: bool,
    /// Show progress bars (only on a terminal).
    pub progress: bool,
}

/// What an input replaces: the ecosystems it is the complete set for
/// (decided by its path or by `--ecosystem`, never by what its records
/// mention), or nothing (its records are added to what is there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Replaces exactly these ecosystems; the others are kept.
    Replace(BTreeSet<Ecosystem>),
    /// Adds and updates records by id; nothing is removed.
    Merge,
}

/// The ecosystem a bucket path is for: `<Ecosystem>/all.zip` (the
/// directory named as OSV spells the ecosystem, in any case).
pub fn ecosystem_of_zip(path: &Path) -> Option<Ecosystem> {
    let dir = path.parent()?.file_name()?.to_string_lossy().into_owned();
    Ecosystem::ALL
        .into_iter()
        .find(|e| e.as_str().eq_ignore_ascii_case(&dir))
}

/// The bucket-layout ecosystems present under a directory
/// (`<Ecosystem>/all.zip`).
fn bucket_ecosystems(dir: &Path) -> Vec<Ecosystem> {
    Ecosystem::ALL
        .into_iter()
        .filter(|e| dir.join(e.as_str()).join("all.zip").is_file())
        .collect()
}

/// What `source` replaces (see [`Scope`]).
pub fn scope_of(source: &ImportSource<'_>, options: &ImportOptions) -> Scope {
    if let Some(e) = options.ecosystem {
        return Scope::Replace(BTreeSet::from([e]));
    }
    let found: BTreeSet<Ecosystem> = match source {
        ImportSource::Path(p) if p.is_dir() => bucket_ecosystems(p).into_iter().collect(),
        ImportSource::Path(p) => ecosystem_of_zip(p)
            .filter(|_| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("zip")))
            .into_iter()
            .collect(),
        ImportSource::Zips(zips) => zips
            .iter()
            .filter_map(|(name, _)| ecosystem_of_zip(Path::new(name)))
            .collect(),
    };
    if found.is_empty() {
        Scope::Merge
    } else {
        Scope::Replace(found)
    }
}

/// Imports from a path on disk into the store at `db_dir` (default
/// options: the path decides what is replaced).
pub fn import_path(db_dir: &Path, source: &Path) -> Result<ImportReport, StoreError> {
    import_path_with(db_dir, source, &ImportOptions::default())
}

/// Imports from a path on disk into the store at `db_dir`.
pub fn import_path_with(
    db_dir: &Path,
    source: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, StoreError> {
    import(
        db_dir,
        ImportSource::Path(source),
        &source.display().to_string(),
        options,
    )
}

/// Imports records from `source` into a new generation of `db_dir`. The
/// ecosystems the input is for ([`scope_of`]) are replaced by its
/// records, after checking that none is emptied or more than halved
/// (unless allowed); every other record of the store is kept. An input
/// whose ecosystem its path does not tell only adds and updates records.
pub fn import(
    db_dir: &Path,
    source: ImportSource<'_>,
    label: &str,
    options: &ImportOptions,
) -> Result<ImportReport, StoreError> {
    import_locked(db_dir, WriteLock::acquire(db_dir)?, source, label, options)
}

/// [`import`] with the writer lock already taken. What the store holds is
/// read only now, under the lock, so that a writer that committed in the
/// meantime is not overwritten with what was there before it.
pub fn import_locked(
    db_dir: &Path,
    lock: WriteLock,
    source: ImportSource<'_>,
    label: &str,
    options: &ImportOptions,
) -> Result<ImportReport, StoreError> {
    let scope = scope_of(&source, options);
    let previous = Store::open(db_dir).ok();
    let previous_status = previous.as_ref().and_then(|s| s.status().ok());
    let mut builder = StoreBuilder::with_lock(db_dir, lock)?;
    builder.progress = options.progress;
    let mut read = 0u64;
    match source {
        ImportSource::Path(p) => read_path(&mut builder, p, &mut read)?,
        ImportSource::Zips(zips) => {
            for (name, bytes) in zips {
                read_zip(
                    &mut builder,
                    std::io::Cursor::new(bytes),
                    &name,
                    &mut read,
                    false,
                )?;
            }
        }
    }
    let input: BTreeSet<Ecosystem> = builder.counts().keys().copied().collect();
    if input.is_empty() {
        return Err(StoreError::Source {
            path: label.to_string(),
            reason: format!("no usable OSV record for npm, PyPI or crates.io found ({read} read)"),
        });
    }
    let replaced: Vec<Ecosystem> = match &scope {
        Scope::Replace(set) => set.iter().copied().collect(),
        Scope::Merge => Vec::new(),
    };
    // Refuse an input that holds nothing for an ecosystem it replaces
    // before anything is copied.
    builder.check_replacement(&replaced, previous_status.as_ref(), true, label)?;
    if let Some(prev) = &previous {
        let keep: Vec<Ecosystem> = Ecosystem::ALL
            .iter()
            .copied()
            .filter(|e| !replaced.contains(e))
            .collect();
        builder.copy_from(prev, &keep)?;
    }
    drop(previous);
    builder.check_replacement(
        &replaced,
        previous_status.as_ref(),
        options.allow_shrink,
        label,
    )?;
    // The ecosystems whose data this input refreshed: the replaced ones,
    // or on a merge those it holds records for.
    let refreshed: BTreeSet<Ecosystem> = match scope {
        Scope::Replace(set) => set,
        Scope::Merge => input,
    };
    let meta = BuildMeta {
        sources: refreshed.iter().map(|e| (*e, label.to_string())).collect(),
        validators: BTreeMap::new(),
    };
    let skipped = builder.skipped;
    let warnings = std::mem::take(&mut builder.warnings);
    let notes = builder.take_notes();
    let records = builder.counts();
    let status = builder.commit(meta, previous_status.as_ref())?;
    Ok(ImportReport {
        records,
        read,
        skipped,
        warnings,
        notes,
        status,
    })
}

fn source_io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::SourceIo {
        path: path.display().to_string(),
        source,
    }
}

fn read_path(builder: &mut StoreBuilder, path: &Path, read: &mut u64) -> Result<(), StoreError> {
    let meta = std::fs::metadata(path).map_err(source_io(path))?;
    if meta.is_file() {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            let f = std::fs::File::open(path)
                .and_then(SharedFile::new)
                .map_err(source_io(path))?;
            return read_zip(builder, f, &path.display().to_string(), read, false);
        }
        let bytes = read_capped(path)?;
        *read += 1;
        return builder.add_json(&bytes, &path.display().to_string());
    }
    // Bucket layout: <Ecosystem>/all.zip for each ecosystem present.
    let mut bucket = false;
    for eco in Ecosystem::ALL {
        let zip = path.join(eco.as_str()).join("all.zip");
        if zip.is_file() {
            bucket = true;
            read_path(builder, &zip, read)?;
        }
    }
    if bucket {
        return Ok(());
    }
    // A directory of OSV JSON files (recursively).
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path).follow_links(false) {
        let entry = entry.map_err(|e| StoreError::SourceIo {
            path: path.display().to_string(),
            source: e.into(),
        })?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "json") {
            files.push(entry.into_path());
        }
    }
    files.sort();
    for f in files {
        let bytes = read_capped(&f)?;
        *read += 1;
        builder.add_json(&bytes, &f.display().to_string())?;
    }
    Ok(())
}

fn read_capped(path: &Path) -> Result<Vec<u8>, StoreError> {
    let f = std::fs::File::open(path).map_err(source_io(path))?;
    let mut buf = Vec::new();
    f.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(source_io(path))?;
    if buf.len() as u64 > MAX_RECORD_BYTES {
        return Err(StoreError::Source {
            path: path.display().to_string(),
            reason: format!("larger than {MAX_RECORD_BYTES} bytes"),
        });
    }
    Ok(buf)
}
