//! The advisory store: imports from a zip, a JSON directory and a bucket
//! layout; lenient decoding; atomic generations; the writer lock; lookups
//! by normalised name and by alias.

use depwarden::advisory::builder::StoreBuilder;
use depwarden::advisory::import::import_path;
use depwarden::advisory::store::{Store, StoreError, current_generation};
use depwarden::ecosystem::Ecosystem;
use std::io::Write;
use std::path::Path;

fn record(id: &str, eco: &str, name: &str, fixed: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2024-0{m}-01T00:00:00Z","aliases":["CVE-{id}"],"summary":"bug in {name}",
        "affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}},
        "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#,
        m = id.len() % 9 + 1
    )
}

fn write_zip(path: &Path, entries: &[(&str, String)]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    for (name, body) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn imports_a_zip_and_looks_up_by_normalised_name_and_alias() {
    let t = tempfile::tempdir().unwrap();
    let zip = t.path().join("all.zip");
    write_zip(
        &zip,
        &[
            ("PYSEC-1.json", record("PYSEC-1", "PyPI", "Foo_Bar", "1.2")),
            ("GHSA-2.json", record("GHSA-2", "npm", "left-pad", "1.3.0")),
            ("BAD.json", "{ not json".to_string()),
            ("DEB-1.json", record("DEB-1", "Debian:12", "openssl", "3.0")),
        ],
    );
    let db = t.path().join("db");
    let report = import_path(&db, &zip).unwrap();
    assert_eq!(report.read, 4);
    assert_eq!(
        report.skipped, 2,
        "the broken record and the Debian-only one: {:?}",
        report.warnings
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("BAD.json")),
        "{:?}",
        report.warnings
    );
    let store = Store::open(&db).unwrap();
    let hits = store.lookup(Ecosystem::PyPI, "foo-bar").unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, "PYSEC-1");
    assert_eq!(
        store.resolve("cve-ghsa-2").unwrap().as_deref(),
        Some("GHSA-2")
    );
    assert_eq!(
        store.record("GHSA-2").unwrap().unwrap().summary.as_deref(),
        Some("bug in left-pad")
    );
    let status = store.status().unwrap();
    assert_eq!(status.ecosystems.len(), 2);
}

#[test]
fn imports_a_json_directory_and_a_bucket_layout_keeping_other_ecosystems() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("osv-json");
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::write(
        dir.join("RUSTSEC-1.json"),
        record("RUSTSEC-1", "crates.io", "smallvec", "1.6.1"),
    )
    .unwrap();
    std::fs::write(
        dir.join("nested/GHSA-3.json"),
        record("GHSA-3", "npm", "qs", "6.7.3"),
    )
    .unwrap();
    let db = t.path().join("db");
    import_path(&db, &dir).unwrap();
    let bucket = t.path().join("bucket");
    std::fs::create_dir_all(bucket.join("PyPI")).unwrap();
    write_zip(
        &bucket.join("PyPI/all.zip"),
        &[(
            "PYSEC-9.json",
            record("PYSEC-9", "PyPI", "jinja2", "2.11.3"),
        )],
    );
    let report = import_path(&db, &bucket).unwrap();
    let store = Store::open(&db).unwrap();
    assert_eq!(store.lookup(Ecosystem::PyPI, "jinja2").unwrap().len(), 1);
    assert_eq!(
        store.lookup(Ecosystem::CratesIo, "smallvec").unwrap().len(),
        1,
        "crates.io data kept"
    );
    assert_eq!(
        store.lookup(Ecosystem::Npm, "qs").unwrap().len(),
        1,
        "npm data kept"
    );
    assert_eq!(report.records.values().sum::<u64>(), 3);
}

#[test]
fn a_truncated_zip_is_an_error_naming_it_and_the_old_store_stays() {
    let t = tempfile::tempdir().unwrap();
    let good = t.path().join("good.zip");
    write_zip(
        &good,
        &[("GHSA-2.json", record("GHSA-2", "npm", "left-pad", "1.3.0"))],
    );
    let db = t.path().join("db");
    import_path(&db, &good).unwrap();
    let before = current_generation(&db).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let bad = t.path().join("truncated.zip");
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let err = import_path(&db, &bad).unwrap_err().to_string();
    assert!(err.contains("truncated.zip"), "{err}");
    assert_eq!(current_generation(&db).unwrap(), before);
    let store = Store::open(&db).unwrap();
    assert_eq!(store.lookup(Ecosystem::Npm, "left-pad").unwrap().len(), 1);
    drop(store);
    let gens = std::fs::read_dir(&db)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("gen-")
        })
        .count();
    assert!(
        gens <= 2,
        "at most the current and the abandoned generation remain"
    );
}

#[test]
fn an_interrupted_writer_leaves_the_current_store_and_is_cleaned_up() {
    let t = tempfile::tempdir().unwrap();
    let zip = t.path().join("all.zip");
    write_zip(
        &zip,
        &[("GHSA-2.json", record("GHSA-2", "npm", "left-pad", "1.3.0"))],
    );
    let db = t.path().join("db");
    import_path(&db, &zip).unwrap();
    // A writer that adds records and never commits (the process "dies").
    {
        let mut b = StoreBuilder::new(&db).unwrap();
        b.add_json(record("GHSA-7", "npm", "evil", "9.9.9").as_bytes(), "test")
            .unwrap();
        std::mem::forget(b);
    }
    std::fs::remove_file(db.join(".lock")).unwrap();
    let store = Store::open(&db).unwrap();
    assert!(
        store.lookup(Ecosystem::Npm, "evil").unwrap().is_empty(),
        "uncommitted data is invisible"
    );
    assert_eq!(store.lookup(Ecosystem::Npm, "left-pad").unwrap().len(), 1);
    drop(store);
    import_path(&db, &zip).unwrap();
    let gens = std::fs::read_dir(&db)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("gen-")
        })
        .count();
    assert_eq!(gens, 1, "the next writer removed the leftover generation");
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    let first = StoreBuilder::new(&db).unwrap();
    match StoreBuilder::new(&db) {
        Err(StoreError::Locked { .. }) => {}
        other => panic!("expected a lock error, got {:?}", other.err()),
    }
    drop(first);
    assert!(
        StoreBuilder::new(&db).is_ok(),
        "the lock is released on drop"
    );
}

#[test]
fn the_embedded_snapshot_bootstraps_an_empty_store() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    let store = depwarden::advisory::snapshot::open_or_bootstrap(&db).unwrap();
    let status = store.status().unwrap();
    let total: u64 = status.ecosystems.iter().map(|e| e.records).sum();
    assert!(total > 4000, "{status:?}");
    assert!(
        !store
            .lookup(Ecosystem::CratesIo, "smallvec")
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.resolve("CVE-2021-25900").unwrap().as_deref(),
        Some("RUSTSEC-2021-0003")
    );
}
