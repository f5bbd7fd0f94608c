//! `db sync` against a loopback HTTP server: full and incremental syncs,
//! conditional requests, and every fault leaving the previous store intact
//! with an error naming the URL.

use crate::common;

use crate::common::http::{Fault, Server};
use depwarden::advisory::store::{Store, WriteLock};
use depwarden::advisory::sync::{EcosystemSync, SyncOptions, sync};
use depwarden::ecosystem::Ecosystem;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn rec(id: &str, modified: &str, name: &str, fixed: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"{modified}"{extra},"summary":"{id} in {name}",
        "affected":[{{"package":{{"ecosystem":"npm","name":"{name}"}},
        "ranges":[{{"type":"SEMVER","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

fn zip_of(entries: &[(String, String)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in entries {
        z.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Serves three npm records as a bucket.
fn serve_npm(server: &Server) -> Vec<(String, String)> {
    let records = vec![
        (
            "GHSA-aaaa".to_string(),
            rec("GHSA-aaaa", "2024-01-01T00:00:00Z", "left-pad", "1.1.0", ""),
        ),
        (
            "GHSA-bbbb".to_string(),
            rec("GHSA-bbbb", "2024-02-01T00:00:00Z", "qs", "6.7.3", ""),
        ),
        (
            "GHSA-cccc".to_string(),
            rec("GHSA-cccc", "2024-03-01T00:00:00Z", "minimist", "1.2.6", ""),
        ),
    ];
    let entries: Vec<(String, String)> = records
        .iter()
        .map(|(id, r)| (format!("{id}.json"), r.clone()))
        .collect();
    server.put("/npm/all.zip", zip_of(&entries));
    server.put(
        "/npm/modified_id.csv",
        b"2024-03-01T00:00:00Z,GHSA-cccc\n2024-02-01T00:00:00Z,GHSA-bbbb\n2024-01-01T00:00:00Z,GHSA-aaaa\n".to_vec(),
    );
    for (id, r) in &records {
        server.put(&format!("/npm/{id}.json"), r.clone().into_bytes());
    }
    records
}

fn opts(server: &Server) -> SyncOptions {
    let mut o = SyncOptions::new(&server.base, vec![Ecosystem::Npm]);
    o.read_timeout = Duration::from_secs(2);
    o.backoff = Duration::from_millis(20);
    o
}

fn ids(db: &Path, name: &str) -> Vec<String> {
    let store = Store::open(db).unwrap();
    store
        .lookup(Ecosystem::Npm, name)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

#[test]
fn full_then_incremental_sync_fetches_only_changed_records() {
    let server = Server::start();
    serve_npm(&server);
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    let r = sync(&db, &opts(&server)).unwrap();
    assert_eq!(
        r.ecosystems[&Ecosystem::Npm],
        EcosystemSync::Full { records: 3 }
    );
    assert_eq!(ids(&db, "qs"), vec!["GHSA-bbbb"]);

    // One record modified, one added, one withdrawn.
    server.put(
        "/npm/GHSA-aaaa.json",
        rec("GHSA-aaaa", "2024-04-01T00:00:00Z", "left-pad", "1.3.0", "").into_bytes(),
    );
    server.put(
        "/npm/GHSA-dddd.json",
        rec("GHSA-dddd", "2024-04-02T00:00:00Z", "ws", "7.4.6", "").into_bytes(),
    );
    server.put(
        "/npm/GHSA-bbbb.json",
        rec(
            "GHSA-bbbb",
            "2024-04-03T00:00:00Z",
            "qs",
            "6.7.3",
            r#","withdrawn":"2024-04-03T00:00:00Z""#,
        )
        .into_bytes(),
    );
    server.put(
        "/npm/modified_id.csv",
        b"2024-04-03T00:00:00Z,GHSA-bbbb\n2024-04-02T00:00:00Z,GHSA-dddd\n2024-04-01T00:00:00Z,GHSA-aaaa\n2024-03-01T00:00:00Z,GHSA-cccc\n".to_vec(),
    );
    server.clear_log();
    let r = sync(&db, &opts(&server)).unwrap();
    let paths: Vec<String> = server.log().iter().map(|q| q.path.clone()).collect();
    assert!(
        !paths.iter().any(|p| p.ends_with("all.zip")),
        "no full download: {paths:?}"
    );
    // Advisory records only (the Lambda runtime table is fetched too).
    let mut fetched: Vec<&String> = paths
        .iter()
        .filter(|p| p.starts_with("/npm/") && p.ends_with(".json"))
        .collect();
    fetched.sort();
    assert_eq!(
        fetched,
        vec![
            "/npm/GHSA-aaaa.json",
            "/npm/GHSA-bbbb.json",
            "/npm/GHSA-dddd.json"
        ]
    );
    assert!(
        matches!(
            r.ecosystems[&Ecosystem::Npm],
            EcosystemSync::Incremental { fetched: 3 }
        ),
        "{r:?}"
    );
    assert!(
        ids(&db, "qs").is_empty(),
        "withdrawn record no longer matches"
    );
    assert_eq!(ids(&db, "ws"), vec!["GHSA-dddd"]);
    assert_eq!(
        ids(&db, "minimist"),
        vec!["GHSA-cccc"],
        "untouched record kept"
    );
    let store = Store::open(&db).unwrap();
    let e = &store.lookup(Ecosystem::Npm, "left-pad").unwrap()[0];
    assert_eq!(
        depwarden::matcher::fixed_versions(Ecosystem::Npm, "1.2.0", e),
        vec!["1.3.0"],
        "modified range in effect"
    );
}

#[test]
fn an_unchanged_zip_is_not_downloaded_again() {
    let server = Server::start();
    serve_npm(&server);
    server.remove("/npm/modified_id.csv"); // force the zip path
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    sync(&db, &opts(&server)).unwrap();
    server.clear_log();
    let r = sync(&db, &opts(&server)).unwrap();
    assert_eq!(r.ecosystems[&Ecosystem::Npm], EcosystemSync::Unchanged);
    let zip_reqs: Vec<_> = server
        .log()
        .into_iter()
        .filter(|q| q.path == "/npm/all.zip")
        .collect();
    assert_eq!(zip_reqs.len(), 1);
    assert!(
        zip_reqs[0].headers.contains_key("if-none-match"),
        "conditional request sent"
    );
    assert_eq!(zip_reqs[0].status, 304);
}

/// Runs a sync that must fail; checks the message names the URL and the
/// previous store still answers.
fn assert_fault_keeps_store(
    server: &Server,
    db: &Path,
    o: &SyncOptions,
    what: &str,
    url_part: &str,
) -> String {
    let before = depwarden::advisory::store::current_generation(db).unwrap();
    let start = Instant::now();
    let err = sync(db, o).expect_err(what).to_string();
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{what}: took {:?}",
        start.elapsed()
    );
    assert!(
        err.contains(url_part),
        "{what}: error does not name the URL: {err}"
    );
    assert_eq!(
        depwarden::advisory::store::current_generation(db).unwrap(),
        before,
        "{what}: store swapped"
    );
    assert_eq!(
        ids(db, "qs"),
        vec!["GHSA-bbbb"],
        "{what}: previous store unusable"
    );
    assert!(!db.join(".lock").exists(), "{what}: lock left behind");
    server.clear_faults();
    err
}

#[test]
fn faults_leave_the_previous_store_intact_with_a_clear_error() {
    let server = Server::start();
    let records = serve_npm(&server);
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    sync(&db, &opts(&server)).unwrap();
    // Later syncs must download the zip again: a different source URL
    // (the same server under "localhost") has no watermark.
    let base2 = server.base.replace("127.0.0.1", "localhost");
    let mut o = opts(&server);
    o.source = base2.clone();
    let zip_url = format!("{base2}/npm/all.zip");

    server.fault("/npm/all.zip", Fault::DropMidway);
    assert_fault_keeps_store(&server, &db, &o, "connection dropped", &zip_url);

    let good = zip_of(
        &records
            .iter()
            .map(|(id, r)| (format!("{id}.json"), r.clone()))
            .collect::<Vec<_>>(),
    );
    server.put("/npm/all.zip", good[..good.len() - 40].to_vec());
    assert_fault_keeps_store(&server, &db, &o, "truncated zip", "all.zip");

    let mut corrupt = records
        .iter()
        .map(|(id, r)| (format!("{id}.json"), r.clone()))
        .collect::<Vec<_>>();
    corrupt.push((
        "GHSA-zzzz.json".into(),
        "{\"id\": \"GHSA-zzzz\", \"affected\": [".into(),
    ));
    server.put("/npm/all.zip", zip_of(&corrupt));
    let err = assert_fault_keeps_store(&server, &db, &o, "corrupt JSON entry", "GHSA-zzzz");
    assert!(err.contains("corrupt"), "{err}");
    server.put("/npm/all.zip", good.clone());

    server.fault("/npm/all.zip", Fault::Error500(3));
    let err = assert_fault_keeps_store(&server, &db, &o, "HTTP 500 three times", &zip_url);
    assert!(err.contains("500"), "{err}");

    server.fault("/npm/all.zip", Fault::HugeLength(2 * 1024 * 1024 * 1024));
    let mut capped = o.clone();
    capped.max_bytes = 64 * 1024 * 1024;
    let err = assert_fault_keeps_store(&server, &db, &capped, "2 GB Content-Length", &zip_url);
    assert!(err.contains("cap"), "{err}");

    // A concurrent sync holds the writer lock.
    let held = WriteLock::acquire(&db).unwrap();
    let err = sync(&db, &o).unwrap_err().to_string();
    assert!(err.contains("another depwarden process"), "{err}");
    drop(held);

    // A process killed mid-sync: a stale lock of a dead process and a
    // half-written generation. The next sync starts clean.
    std::fs::write(db.join(".lock"), "999999999").unwrap();
    std::fs::create_dir_all(db.join("gen-0-0-999999999-0")).unwrap();
    std::fs::write(db.join("gen-0-0-999999999-0/db"), b"half").unwrap();
    let r = sync(&db, &o).unwrap();
    assert_eq!(
        r.ecosystems[&Ecosystem::Npm],
        EcosystemSync::Full { records: 3 }
    );
    assert!(
        !db.join("gen-0-0-999999999-0").exists(),
        "leftover generation removed"
    );
    assert_eq!(ids(&db, "qs"), vec!["GHSA-bbbb"]);
}

#[test]
fn full_sync_finds_what_import_finds() {
    let server = Server::start();
    for eco in ["crates.io", "PyPI", "npm"] {
        let zip = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("advisories-cache")
                .join(eco)
                .join("all.zip"),
        )
        .unwrap();
        server.put(&format!("/{eco}/all.zip"), zip);
    }
    let t = tempfile::tempdir().unwrap();
    let synced = t.path().join("synced");
    let out = common::depwarden(&synced)
        .args(["db", "sync", "--source", &server.base])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let imported = t.path().join("imported");
    let bucket = Path::new(env!("CARGO_MANIFEST_DIR")).join("advisories-cache");
    let out = common::depwarden(&imported)
        .args(["db", "import"])
        .arg(&bucket)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let demo = common::testdata("demo");
    let (_, a) = common::scan_json(&synced, &[demo.to_str().unwrap()]);
    let (_, b) = common::scan_json(&imported, &[demo.to_str().unwrap()]);
    let key = |r: &serde_json::Value| {
        let mut v: Vec<String> = common::findings(r)
            .iter()
            .map(|f| format!("{} {} {}", f["id"], f["package"], f["version"]))
            .collect();
        v.sort();
        v
    };
    assert!(!key(&a).is_empty());
    assert_eq!(key(&a), key(&b));
}

/// A stalled server: the read timeout fires and the store stays as it was.
/// Run through the binary, whose child environment keeps timers real when
/// the tests run under libfaketime (see `common::command`).
#[test]
fn a_stalled_server_times_out_and_keeps_the_store() {
    let server = Server::start();
    serve_npm(&server);
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    sync(&db, &opts(&server)).unwrap();
    let before = depwarden::advisory::store::current_generation(&db).unwrap();
    let base2 = server.base.replace("127.0.0.1", "localhost");
    server.fault("/npm/all.zip", Fault::Stall(Duration::from_secs(20)));
    let start = Instant::now();
    let out = common::command()
        .env("DEPWARDEN_HTTP_TIMEOUT", "1")
        .env("DEPWARDEN_HTTP_BACKOFF_MS", "20")
        .arg("--db")
        .arg(&db)
        .args([
            "--no-progress",
            "db",
            "sync",
            "--ecosystem",
            "npm",
            "--source",
        ])
        .arg(&base2)
        .output()
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("timed out"), "{err}");
    assert!(err.contains(&format!("{base2}/npm/all.zip")), "{err}");
    assert_eq!(
        depwarden::advisory::store::current_generation(&db).unwrap(),
        before
    );
    assert_eq!(ids(&db, "qs"), vec!["GHSA-bbbb"]);
    assert!(!db.join(".lock").exists(), "lock left behind");
}
