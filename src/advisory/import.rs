//! Importing OSV data: an `all.zip`, a directory of OSV JSON files, or a
//! directory in the OSV bucket layout (`<Ecosystem>/all.zip`). Records are
//! decoded one by one; one that does not decode is counted and skipped with
//! a warning. The import builds a new generation and swaps it in only when
//! complete (see [`super::store`]); ecosystems the source does not cover
//! keep their current data.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use super::store::{BuildMeta, Store, StoreBuilder, StoreError, StoreStatus};
use crate::ecosystem::Ecosystem;

/// Largest JSON entry accepted from a zip (a record is a few KB).
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;
/// Largest total of decompressed bytes accepted from one zip.
pub const MAX_ZIP_TOTAL_BYTES: u64 = 4 * 1024 * 1024 * 1024;

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
    /// Zips in memory, with a name for messages (the embedded snapshot).
    Zips(Vec<(String, &'a [u8])>),
}

/// Imports from a path on disk into the store at `db_dir`.
pub fn import_path(db_dir: &Path, source: &Path) -> Result<ImportReport, StoreError> {
    import(
        db_dir,
        ImportSource::Path(source),
        &source.display().to_string(),
    )
}

/// Imports records from `source` into a new generation of `db_dir`.
pub fn import(
    db_dir: &Path,
    source: ImportSource<'_>,
    label: &str,
) -> Result<ImportReport, StoreError> {
    let previous = Store::open(db_dir).ok();
    let previous_status = previous.as_ref().and_then(|s| s.status().ok());
    let mut builder = StoreBuilder::new(db_dir)?;
    let mut read = 0u64;
    match source {
        ImportSource::Path(p) => read_path(&mut builder, p, &mut read)?,
        ImportSource::Zips(zips) => {
            for (name, bytes) in zips {
                read_zip(&mut builder, std::io::Cursor::new(bytes), &name, &mut read)?;
            }
        }
    }
    let covered: BTreeSet<Ecosystem> = builder.counts().keys().copied().collect();
    if covered.is_empty() {
        return Err(StoreError::Source {
            path: label.to_string(),
            reason: format!("no usable OSV record for npm, PyPI or crates.io found ({read} read)"),
        });
    }
    if let Some(prev) = &previous {
        let keep: Vec<Ecosystem> = Ecosystem::ALL
            .iter()
            .copied()
            .filter(|e| !covered.contains(e))
            .collect();
        builder.copy_from(prev, &keep)?;
    }
    drop(previous);
    let meta = BuildMeta {
        sources: covered.iter().map(|e| (*e, label.to_string())).collect(),
        validators: BTreeMap::new(),
    };
    let skipped = builder.skipped;
    let warnings = std::mem::take(&mut builder.warnings);
    let records = builder.counts();
    let status = builder.commit(meta, previous_status.as_ref())?;
    Ok(ImportReport {
        records,
        read,
        skipped,
        warnings,
        status,
    })
}

fn read_path(builder: &mut StoreBuilder, path: &Path, read: &mut u64) -> Result<(), StoreError> {
    let meta = std::fs::metadata(path).map_err(|e| StoreError::Source {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    if meta.is_file() {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            let f = std::fs::File::open(path).map_err(|e| StoreError::Source {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            return read_zip(
                builder,
                std::io::BufReader::new(f),
                &path.display().to_string(),
                read,
            );
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
        let entry = entry.map_err(|e| StoreError::Source {
            path: path.display().to_string(),
            reason: e.to_string(),
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
    let f = std::fs::File::open(path).map_err(|e| StoreError::Source {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut buf = Vec::new();
    f.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| StoreError::Source {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    if buf.len() as u64 > MAX_RECORD_BYTES {
        return Err(StoreError::Source {
            path: path.display().to_string(),
            reason: format!("larger than {MAX_RECORD_BYTES} bytes"),
        });
    }
    Ok(buf)
}

/// Reads every `*.json` entry of a zip. The zip must be complete and
/// readable (a truncated zip is an error, so nothing is swapped in); a
/// single entry that is not valid JSON is skipped with a warning.
pub fn read_zip<R: Read + std::io::Seek>(
    builder: &mut StoreBuilder,
    reader: R,
    name: &str,
    read: &mut u64,
) -> Result<(), StoreError> {
    read_zip_with(builder, reader, name, read, false)
}

/// [`read_zip`], with `strict_json`: an entry that is not even valid JSON
/// (a corrupted download or mirror) fails the whole read instead of being
/// skipped. Records that are valid JSON but not usable OSV are still
/// skipped with a warning.
pub fn read_zip_with<R: Read + std::io::Seek>(
    builder: &mut StoreBuilder,
    reader: R,
    name: &str,
    read: &mut u64,
    strict_json: bool,
) -> Result<(), StoreError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| StoreError::Source {
        path: name.to_string(),
        reason: format!("not a readable zip archive: {e}"),
    })?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| StoreError::Source {
            path: name.to_string(),
            reason: format!("entry {i}: {e}"),
        })?;
        let entry_name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                builder.warnings.push(format!(
                    "{name}: entry {i} has an undecodable name ({e}); skipped"
                ));
                continue;
            }
        };
        if entry.is_dir() || !entry_name.ends_with(".json") {
            continue;
        }
        if entry_name.contains("..") || entry_name.starts_with('/') {
            builder.warnings.push(format!(
                "{name}: entry {entry_name:?} has an unsafe path; skipped"
            ));
            continue;
        }
        let mut buf = Vec::new();
        (&mut entry)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| StoreError::Source {
                path: format!("{name}!{entry_name}"),
                reason: format!("cannot decompress: {e}"),
            })?;
        if buf.len() as u64 > MAX_RECORD_BYTES {
            builder.skipped += 1;
            builder.warnings.push(format!(
                "{name}!{entry_name}: larger than {MAX_RECORD_BYTES} bytes; skipped"
            ));
            continue;
        }
        total += buf.len() as u64;
        if total > MAX_ZIP_TOTAL_BYTES {
            return Err(StoreError::Source {
                path: name.to_string(),
                reason: format!("decompresses to more than {MAX_ZIP_TOTAL_BYTES} bytes"),
            });
        }
        *read += 1;
        if strict_json && serde_json::from_slice::<serde::de::IgnoredAny>(&buf).is_err() {
            return Err(StoreError::Source {
                path: format!("{name}!{entry_name}"),
                reason: "corrupt JSON entry; the archive is damaged".into(),
            });
        }
        builder.add_json(&buf, &format!("{name}!{entry_name}"))?;
    }
    Ok(())
}
