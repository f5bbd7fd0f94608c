//! The advisory database grows only by intent and cannot be silently
//! emptied or forged: imports and syncs replace exactly the ecosystems
//! their input is for, refuse empty inputs and large shrinks, clamp future
//! `modified` dates, the packed index is checked for what a scan reads, a
//! missing generation is an error, the database never lands in the working
//! directory, and stale locks and download leftovers are cleaned up.

use crate::common::{self, depwarden, fresh_db, scan_json};
use depwarden::advisory::store::{Store, StoreError, WriteLock};
use depwarden::ecosystem::Ecosystem;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

fn rec(id: &str, modified: &str, affected: &[(&str, &str)]) -> String {
    let affected: Vec<String> = affected
        .iter()
        .map(|(eco, name)| {
            format!(
                r#"{{"package":{{"ecosystem":"{eco}","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"99"}}]}}]}}"#
            )
        })
        .collect();
    format!(
        r#"{{"id":"{id}","modified":"{modified}","summary":"{id}","affected":[{}]}}"#,
        affected.join(",")
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

/// Writes `<dir>/<eco>/all.zip` holding `records` (id, json).
fn bucket_zip(dir: &Path, eco: &str, records: &[(String, String)]) -> PathBuf {
    let p = dir.join(eco).join("all.zip");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let entries: Vec<(String, String)> = records
        .iter()
        .map(|(id, r)| (format!("{id}.json"), r.clone()))
        .collect();
    std::fs::write(&p, zip_of(&entries)).unwrap();
    p
}

/// Records per ecosystem, from `db status --format json`.
fn counts(db: &Path) -> Vec<(String, u64)> {
    let out = depwarden(db)
        .args(["db", "status", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["ecosystems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["ecosystem"].as_str().unwrap().to_string(),
                e["records"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn count(db: &Path, eco: &str) -> u64 {
    counts(db)
        .into_iter()
        .find(|(e, _)| e == eco)
        .map(|(_, n)| n)
        .unwrap_or(0)
}

fn run(db: &Path, args: &[&str]) -> (i32, String) {
    let out = depwarden(db).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A few npm records, one of which also lists a PyPI package (as some
/// GHSA records do).
fn npm_records() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = (0..5)
        .map(|i| {
            let id = format!("GHSA-test-npm-{i}");
            (
                id.clone(),
                rec(&id, "2026-01-01T00:00:00Z", &[("npm", &format!("pkg{i}"))]),
            )
        })
        .collect();
    out.push((
        "GHSA-test-both".into(),
        rec(
            "GHSA-test-both",
            "2026-01-02T00:00:00Z",
            &[("npm", "both"), ("PyPI", "both")],
        ),
    ));
    out
}

#[test]
fn item2_importing_one_ecosystems_zip_replaces_exactly_that_ecosystem() {
    let (tmp, db) = fresh_db();
    let before = counts(&db);
    let pypi = count(&db, "PyPI");
    let crates = count(&db, "crates.io");
    assert!(pypi > 1000 && crates > 100, "{before:?}");
    let zip = bucket_zip(tmp.path(), "npm", &npm_records());
    // A replacement that removes most of npm is refused, saying how many.
    let (code, err) = run(&db, &["db", "import", zip.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("would remove") && err.contains("--allow-shrink"),
        "{err}"
    );
    assert_eq!(counts(&db), before, "a refused import changes nothing");
    let (code, err) = run(
        &db,
        &["db", "import", "--allow-shrink", zip.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    // npm: the six records (and records of the kept ecosystems that also
    // list an npm package); PyPI and crates.io untouched, plus the one npm
    // record that also lists a PyPI package.
    let npm = count(&db, "npm");
    assert!((6..20).contains(&npm), "{npm}");
    assert_eq!(count(&db, "PyPI"), pypi + 1);
    assert_eq!(count(&db, "crates.io"), crates);
}

#[test]
fn item2_an_input_whose_path_names_no_ecosystem_only_adds() {
    let (tmp, db) = fresh_db();
    let before: u64 = counts(&db).iter().map(|(_, n)| n).sum();
    // A zip elsewhere and a directory of JSON: merged, nothing removed.
    let loose = tmp.path().join("download.zip");
    let entries: Vec<(String, String)> = npm_records()
        .into_iter()
        .map(|(id, r)| (format!("{id}.json"), r))
        .collect();
    std::fs::write(&loose, zip_of(&entries)).unwrap();
    let (code, err) = run(&db, &["db", "import", loose.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let after: u64 = counts(&db).iter().map(|(_, n)| n).sum();
    assert_eq!(after, before + 6 + 1, "six npm records, one also PyPI");
    let dir = tmp.path().join("json");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("x.json"),
        rec("PYSEC-test-1", "2026-01-01T00:00:00Z", &[("PyPI", "x")]),
    )
    .unwrap();
    let (code, _) = run(&db, &["db", "import", dir.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(counts(&db).iter().map(|(_, n)| n).sum::<u64>(), after + 1);
    // `--ecosystem` declares the input complete for that ecosystem.
    let (code, err) = run(
        &db,
        &[
            "db",
            "import",
            "--ecosystem",
            "npm",
            loose.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("npm records"), "{err}");
}

#[test]
fn item3_zero_record_inputs_are_refused_by_import_and_sync() {
    let (tmp, db) = fresh_db();
    let before = counts(&db);
    let empty = bucket_zip(&tmp.path().join("mirror"), "npm", &[]);
    let (code, err) = run(&db, &["db", "import", empty.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no usable OSV record"), "{err}");
    // A bucket whose npm zip holds only a PyPI record: nothing for npm.
    let pypi_only = bucket_zip(
        &tmp.path().join("mirror2"),
        "npm",
        &[(
            "PYSEC-x".into(),
            rec("PYSEC-x", "2026-01-01T00:00:00Z", &[("PyPI", "x")]),
        )],
    );
    let (code, err) = run(&db, &["db", "import", pypi_only.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("holds no npm record") && err.contains("refusing to empty npm"),
        "{err}"
    );
    for mirror in ["mirror", "mirror2"] {
        let source = tmp.path().join(mirror);
        let (code, err) = run(
            &db,
            &[
                "db",
                "sync",
                "--ecosystem",
                "npm",
                "--source",
                source.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 2, "{mirror}: {err}");
        assert!(err.contains("refusing to empty npm"), "{err}");
    }
    assert_eq!(counts(&db), before);
}

#[test]
fn item3_a_sync_that_would_halve_an_ecosystem_is_refused_unless_allowed() {
    let (tmp, db) = fresh_db();
    let npm = count(&db, "npm");
    let mirror = tmp.path().join("mirror");
    bucket_zip(&mirror, "npm", &npm_records());
    let args = [
        "db",
        "sync",
        "--ecosystem",
        "npm",
        "--source",
        mirror.to_str().unwrap(),
    ];
    let (code, err) = run(&db, &args);
    assert_eq!(code, 2, "{err}");
    let expected = format!(" of the {npm} npm records (more than half;");
    assert!(
        err.contains("would remove") && err.contains(&expected),
        "{err}"
    );
    assert_eq!(count(&db, "npm"), npm);
    let mut allowed = args.to_vec();
    allowed.push("--allow-shrink");
    let (code, err) = run(&db, &allowed);
    assert_eq!(code, 0, "{err}");
    assert!((6..20).contains(&count(&db, "npm")));
}

#[test]
fn item3_a_checkouts_database_source_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path().join("checkout");
    let mirror = tmp.path().join("evil-mirror");
    bucket_zip(&mirror, "npm", &[]);
    std::fs::create_dir_all(checkout.join(".git")).unwrap();
    std::fs::write(
        checkout.join("depwarden.toml"),
        format!("[database]\nsource = {:?}\n", mirror.display().to_string()),
    )
    .unwrap();
    let db = tmp.path().join("db");
    // The default source is unreachable here (a dead proxy): the sync
    // fails naming the public bucket, never the checkout's mirror.
    let out = depwarden(&db)
        .current_dir(&checkout)
        .env_remove("DEPWARDEN_OSV_URL")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "")
        .env("no_proxy", "")
        .env("DEPWARDEN_HTTP_BACKOFF_MS", "1")
        .args(["db", "sync", "--ecosystem", "npm"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not followed"), "{err}");
    assert!(
        err.contains("osv-vulnerabilities.storage.googleapis.com"),
        "{err}"
    );
    assert!(!err.contains("evil-mirror/npm/all.zip:"), "{err}");
    // Named explicitly with --config, the same file is the user's choice.
    let out = depwarden(&db)
        .current_dir(&checkout)
        .env_remove("DEPWARDEN_OSV_URL")
        .args([
            "--config",
            "depwarden.toml",
            "db",
            "sync",
            "--ecosystem",
            "npm",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to empty npm"), "{err}");
}

#[test]
fn item4_a_future_modified_date_is_clamped_and_reported_once() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let mut records = npm_records();
    records.push((
        "GHSA-test-future".into(),
        rec(
            "GHSA-test-future",
            "2999-01-01T00:00:00Z",
            &[("npm", "fut")],
        ),
    ));
    records.push((
        "GHSA-test-future2".into(),
        rec(
            "GHSA-test-future2",
            "2998-01-01T00:00:00Z",
            &[("npm", "fut2")],
        ),
    ));
    let zip = bucket_zip(tmp.path(), "npm", &records);
    let (code, err) = run(&db, &["db", "import", zip.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.matches("in the future").count(),
        1,
        "one note for both records: {err}"
    );
    assert!(err.contains("2 record(s)"), "{err}");
    let out = depwarden(&db)
        .args(["db", "status", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let newest = v["ecosystems"][0]["newest_modified"].as_str().unwrap();
    assert_eq!(newest, common::PINNED_NOW, "clamped to the import time");
    // Thirty days on, --max-db-age sees the npm data as thirty days old.
    let app = lodash_app(tmp.path());
    let out = depwarden(&db)
        .env("DEPWARDEN_NOW", "2026-12-23T12:00:00Z")
        .args(["scan", "--max-db-age", "7"])
        .arg(&app)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("npm advisory data is 30 days old"), "{err}");
}

/// Start of the values area of a packed index (header field 9).
fn values_offset(bytes: &[u8]) -> usize {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[80..88]);
    u64::from_le_bytes(w) as usize
}

fn replace_all(hay: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= hay.len() {
        if &hay[i..i + from.len()] == from {
            hay[i..i + to.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    n
}

fn lodash_app(dir: &Path) -> PathBuf {
    let app = dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("package-lock.json"),
        r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
  "":{"name":"app","version":"1.0.0","dependencies":{"lodash":"4.17.15"}},
  "node_modules/lodash":{"version":"4.17.15","resolved":"https://registry.npmjs.org/lodash/-/lodash-4.17.15.tgz"}}}"#,
    )
    .unwrap();
    app
}

fn packed_path(db: &Path) -> PathBuf {
    let name = std::fs::read_to_string(db.join("current")).unwrap();
    db.join(name.trim()).join("packed.idx")
}

#[test]
fn item5_same_length_edits_of_packed_values_are_caught_and_sled_answers() {
    let (tmp, db) = fresh_db();
    let app = lodash_app(tmp.path());
    let (code, clean) = scan_json(&db, &["--strict", app.to_str().unwrap()]);
    assert_eq!(code, 1);
    let expected = common::findings(&clean).len();
    assert!(expected >= 3, "{clean}");
    // Move every fixed version of the values area below 4.17.15, keeping
    // the length: lodash would have no findings if the edit went unseen
    // (versions are stored as length-prefixed text).
    let packed = packed_path(&db);
    let mut bytes = std::fs::read(&packed).unwrap();
    let start = values_offset(&bytes);
    let n = replace_all(&mut bytes[start..], b"4.17.", b"0.00.");
    assert!(n > 0);
    std::fs::write(&packed, &bytes).unwrap();
    let (code, report) = scan_json(&db, &["--strict", app.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(common::findings(&report).len(), expected);
    let warnings = report["database"]["warnings"].to_string();
    assert!(
        warnings.contains("packed.idx") && warnings.contains("checksum"),
        "{warnings}"
    );
    // With the sled store gone too, the scan fails instead of answering
    // "no advisory" from an empty store.
    let gen_dir = packed.parent().unwrap();
    std::fs::remove_file(gen_dir.join("db")).unwrap();
    let out = depwarden(&db).args(["scan"]).arg(&app).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sled store") && err.contains("db import"),
        "{err}"
    );
}

#[test]
fn item6_a_missing_generation_is_an_error_not_a_silent_bootstrap() {
    let (tmp, db) = fresh_db();
    let app = lodash_app(tmp.path());
    let current = std::fs::read_to_string(db.join("current")).unwrap();
    std::fs::remove_dir_all(db.join(current.trim())).unwrap();
    let out = depwarden(&db).args(["scan"]).arg(&app).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("does not exist") && err.contains("depwarden db sync"),
        "{err}"
    );
    assert!(
        !std::fs::read_dir(&db).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("gen-")),
        "nothing was imported over it"
    );
    // `current` gone but a committed generation there: the same.
    let (_t2, db2) = fresh_db();
    std::fs::remove_file(db2.join("current")).unwrap();
    let (code, err) = run(&db2, &["db", "status"]);
    assert_eq!(code, 2);
    assert!(err.contains("`current` pointer is missing"), "{err}");
    // The repair the message names works.
    let zip = bucket_zip(tmp.path(), "npm", &npm_records());
    let (code, err) = run(&db, &["db", "import", zip.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&db, "npm"), 6);
}

#[test]
fn item7_without_a_home_the_database_is_never_put_in_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let app = lodash_app(tmp.path());
    for home in [None, Some(""), Some("."), Some("relative/home")] {
        let mut cmd = common::bin();
        cmd.env_remove("DEPWARDEN_DB")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("HOME")
            .current_dir(&app)
            .args(["--no-progress", "scan", "."]);
        if let Some(h) = home {
            cmd.env("HOME", h).env("XDG_CACHE_HOME", h);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{home:?}: {err}");
        assert!(
            err.contains("--db") && err.contains("DEPWARDEN_DB"),
            "{err}"
        );
        let entries: Vec<String> = std::fs::read_dir(&app)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries, vec!["package-lock.json"], "{home:?}");
    }
    for cmd in [&["db", "status"][..], &["db", "sync"][..]] {
        let out = common::bin()
            .env_remove("DEPWARDEN_DB")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("HOME")
            .current_dir(&app)
            .args(cmd)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
    }
}

#[test]
fn item8_stale_locks_are_taken_over_and_named_and_leftovers_removed() {
    // A lock naming a live process that is not depwarden (pid 1), and a
    // lock of a process that is gone: both stale, both said.
    for holder in ["1", "999999999", "depwarden 1 0", "not a pid"] {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("db");
        std::fs::create_dir_all(&db).unwrap();
        std::fs::write(db.join(".lock"), holder).unwrap();
        std::fs::write(db.join(".download-npm-4242.zip"), b"half a zip").unwrap();
        let app = lodash_app(tmp.path());
        // An empty database: the scan bootstraps at once (no 120 s wait).
        let started = std::time::Instant::now();
        let (code, report) = scan_json(&db, &[app.to_str().unwrap()]);
        assert_eq!(code, 1, "{holder}: {report}");
        assert!(started.elapsed().as_secs() < 60);
        let warnings = report["database"]["warnings"].to_string();
        assert!(
            warnings.contains("removed the stale lock") && warnings.contains(".lock"),
            "{holder}: {warnings}"
        );
        assert!(warnings.contains(".download-npm-4242.zip"), "{warnings}");
        assert!(!db.join(".download-npm-4242.zip").exists());
        assert!(!db.join(".lock").exists());
    }
}

#[test]
fn item8_a_live_holder_is_reported_with_the_lock_path() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let held = WriteLock::acquire(&db).unwrap();
    let err = match depwarden::advisory::import::import_path(&db, Path::new("/nonexistent")) {
        Err(e @ StoreError::Locked { .. }) => e.to_string(),
        other => panic!("expected a lock error, got {:?}", other.map(|_| ())),
    };
    assert!(
        err.contains(&db.join(".lock").display().to_string()),
        "{err}"
    );
    drop(held);
    assert!(Store::open(&db).is_err(), "still empty");
    let _ = Ecosystem::Npm;
}

#[test]
fn item8_a_live_depwarden_writer_is_named_and_waited_for() {
    use crate::common::http::{Fault, Server};
    let server = Server::start();
    let entries: Vec<(String, String)> = npm_records()
        .into_iter()
        .map(|(id, r)| (format!("{id}.json"), r))
        .collect();
    server.put("/npm/all.zip", zip_of(&entries));
    // Two failed attempts, retried after 1.5 s and 3 s: the sync holds the
    // lock for about 4.5 s, then succeeds.
    server.fault("/npm/all.zip", Fault::Error500(2));
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    // A sync that holds the lock while its download is retried.
    let mut sync = common::command()
        .env("DEPWARDEN_HTTP_BACKOFF_MS", "1500")
        .arg("--db")
        .arg(&db)
        .args(["--no-progress", "-q", "db", "sync", "--ecosystem", "npm"])
        .args(["--source", &server.base])
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !db.join(".lock").exists() {
        assert!(
            started.elapsed().as_secs() < 30,
            "the sync never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let zip = bucket_zip(tmp.path(), "npm", &npm_records());
    let (code, err) = run(&db, &["db", "import", zip.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("another depwarden process")
            && err.contains(&format!("pid {}", sync.id()))
            && err.contains(&db.join(".lock").display().to_string()),
        "{err}"
    );
    // A scan of the empty database waits for the writer, then reads what
    // it wrote (not the embedded snapshot over it).
    let app = lodash_app(tmp.path());
    let (code, report) = scan_json(&db, &[app.to_str().unwrap()]);
    assert!(sync.wait().unwrap().success());
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["database"]["source"],
        server.base.as_str(),
        "{report}"
    );
}
