//! The OSV snapshot shipped inside the binary (from `advisories-cache/`,
//! provenance in its README), imported on first use when the store is
//! empty so that a fresh install scans offline at once
//! ([`open_or_bootstrap`]).

use std::path::Path;
use std::time::{Duration, Instant};

use super::error::StoreError;
use super::import::{ImportOptions, ImportReport, ImportSource, import_locked};
use super::layout::current_generation;
use super::lock::WriteLock;
use super::store::Store;

/// The embedded zips, one per ecosystem, in the OSV bucket's `all.zip` form.
pub const SNAPSHOT: [(&str, &[u8]); 3] = [
    (
        "crates.io/all.zip",
        include_bytes!("../../advisories-cache/crates.io/all.zip"),
    ),
    (
        "PyPI/all.zip",
        include_bytes!("../../advisories-cache/PyPI/all.zip"),
    ),
    (
        "npm/all.zip",
        include_bytes!("../../advisories-cache/npm/all.zip"),
    ),
];

/// The source label of snapshot data in `db status`.
pub const SNAPSHOT_LABEL: &str = "embedded snapshot (advisories-cache)";

/// How long a scan waits for another process bootstrapping the database.
const BOOTSTRAP_WAIT: Duration = Duration::from_secs(120);

/// Imports the embedded snapshot into `db_dir` when it is still empty once
/// its writer lock is held; `None` when another process filled it first
/// (its data is never overwritten with the snapshot).
pub fn import_embedded(db_dir: &Path) -> Result<Option<ImportReport>, StoreError> {
    let lock = WriteLock::acquire(db_dir)?;
    if current_generation(db_dir)?.is_some() {
        return Ok(None);
    }
    let zips = SNAPSHOT
        .iter()
        .map(|(n, b)| (format!("advisories-cache/{n}"), *b))
        .collect();
    import_locked(
        db_dir,
        lock,
        ImportSource::Zips(zips),
        SNAPSHOT_LABEL,
        &ImportOptions::default(),
    )
    .map(Some)
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
        match import_embedded(dir) {
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
        store.note(n);
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_database_is_never_bootstrapped_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        assert!(import_embedded(&db).unwrap().is_some());
        let first = current_generation(&db).unwrap().unwrap();
        // A second bootstrap (a scan that saw the database empty just
        // before another process committed) leaves that data alone.
        assert!(import_embedded(&db).unwrap().is_none());
        assert_eq!(current_generation(&db).unwrap().unwrap(), first);
    }
}
