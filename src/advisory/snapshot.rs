//! The OSV snapshot shipped inside the binary (from `advisories-cache/`,
//! provenance in its README), imported on first use when the store is
//! empty so that a fresh install scans offline at once.

use std::path::Path;

use super::import::{ImportOptions, ImportReport, ImportSource, import_locked};
use super::lock::WriteLock;
use super::store::{StoreError, current_generation};

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
