//! The OSV snapshot shipped inside the binary (from `advisories-cache/`,
//! provenance in its README), imported on first use when the store is
//! empty so that a fresh install scans offline at once.

use std::path::Path;

use super::import::{ImportOptions, ImportReport, ImportSource, import};
use super::store::StoreError;

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
