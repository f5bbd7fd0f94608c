//! The OSV snapshot shipped inside the binary (from `advisories-cache/`,
//! provenance in its README), imported on first use when the store is
//! empty so that a fresh install scans offline at once
//! ([`open_or_bootstrap`]).

use std::path::Path;
use std::time::{Duration, Instant};

use super::error::StoreError;
use super::import::{ImportOptions, ImportReport, ImportSource, import};
use super::layout::current_generation;
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

/// Imports the embedded snapshot into `db_dir`.
pub fn import_embedded(db_dir: &Path) -> Result<ImportReport, StoreError> {
    let zips = SNAPSHOT
        .iter()
        .map(|(n, b)| (format!("advisories-cache/{n}"), *b))
        .collect();
    import(
        db_dir,
        ImportSource::Zips(zips),
        SNAPSHOT_LABEL,
        &ImportOptions::default(),
    )
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
        store.note(n);
    }
    Ok(store)
}
