//! The gate as documented: each `[gate]` setting closes and opens it,
//! ignores apply until they expire, unused ignores are reported, and a
//! malicious package closes the gate even with `--fail-on none` unless
//! `malicious = false`.

use crate::common;

use crate::common::{depwarden, scan_json, shared_db, testdata};
use serde_json::Value;
use std::path::Path;

fn with_config(db: &Path, config: &str, target: &Path, extra: &[&str]) -> (i32, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("depwarden.toml");
    std::fs::write(&cfg, config).unwrap();
    let mut args = vec!["--config", cfg.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(target.to_str().unwrap());
    scan_json(db, &args)
}

#[test]
fn fail_on_thresholds_open_and_close_the_gate() {
    let db = shared_db();
    // critical smallvec, medium time, unknown-severity chrono.
    let lock = testdata("core/rust-vulns/Cargo.lock");
    for (level, closes) in [
        ("critical", true),
        ("high", true),
        ("low", true),
        ("none", false),
    ] {
        let (code, report) =
            with_config(&db, &format!("[gate]\nfail_on = \"{level}\"\n"), &lock, &[]);
        assert_eq!(code == 1, closes, "fail_on = {level}");
        assert_eq!(report["gate"]["passed"], !closes);
    }
    // Without smallvec's critical advisory a medium one and chrono's
    // unscored one are left: an unknown severity counts as high by default,
    // so "high" still closes the gate ...
    let ignore = "[[ignore]]\nid = \"CVE-2021-25900\"\nreason = \"insert_many is never called\"\nexpires = \"2099-12-31\"\n";
    let (code, report) = with_config(
        &db,
        &format!("[gate]\nfail_on = \"high\"\n{ignore}"),
        &lock,
        &[],
    );
    assert_eq!(code, 1);
    let chrono = common::findings(&report)
        .into_iter()
        .find(|f| f["package"] == "chrono")
        .unwrap();
    assert_eq!(chrono["severity"], "unknown");
    assert_eq!(chrono["closes_gate"], true);
    // ... and opens it when `unknown_severity` says unscored ones count as
    // medium.
    let cfg = format!("[gate]\nfail_on = \"high\"\nunknown_severity = \"medium\"\n{ignore}");
    let (code, report) = with_config(&db, &cfg, &lock, &[]);
    assert_eq!(code, 0);
    let smallvec = common::findings(&report)
        .into_iter()
        .find(|f| f["package"] == "smallvec")
        .unwrap();
    assert_eq!(smallvec["ignored"]["reason"], "insert_many is never called");
    assert_eq!(smallvec["closes_gate"], false);
    // The command line overrides the file.
    let (code, _) = with_config(&db, &cfg, &lock, &["--fail-on", "medium"]);
    assert_eq!(code, 1);
}

#[test]
fn an_expired_ignore_closes_the_gate_again_and_is_reported() {
    let db = shared_db();
    let lock = testdata("core/rust-vulns/Cargo.lock");
    let cfg = "[gate]\nfail_on = \"high\"\n[[ignore]]\nid = \"RUSTSEC-2021-0003\"\nreason = \"temporary\"\nexpires = \"2020-01-31\"\n[[ignore]]\nid = \"GHSA-0000-0000-0000\"\nreason = \"stale\"\n";
    let (code, report) = with_config(&db, cfg, &lock, &[]);
    assert_eq!(code, 1);
    let notes = report["policy"].to_string();
    assert!(notes.contains("RUSTSEC-2021-0003"), "{notes}");
    assert!(
        report["policy"]["expired_ignores"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(
        report["policy"]["unused_ignores"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u.as_str().unwrap().contains("GHSA-0000-0000-0000"))
    );
}

#[test]
fn typosquat_and_confusion_levels_close_and_open_the_gate() {
    let db = shared_db();
    let squat = testdata("typosquat/fn");
    let (code, _) = with_config(&db, "[gate]\nfail_on = \"none\"\n", &squat, &[]);
    assert_eq!(
        code, 1,
        "high-confidence typosquat, default typosquat = high"
    );
    let (code, _) = with_config(
        &db,
        "[gate]\nfail_on = \"none\"\ntyposquat = \"none\"\n",
        &squat,
        &[],
    );
    assert_eq!(code, 0);
    let confusion = testdata("confusion/npm-scope");
    // The deployment's own depwarden.toml names the internal scope; one of
    // its findings is high risk.
    let (code, _) = scan_json(&db, &["--fail-on", "none", confusion.to_str().unwrap()]);
    assert_eq!(code, 1, "a high confusion risk closes the default gate");
}

#[test]
fn malicious_packages_close_the_gate_unless_disabled() {
    let tmp = tempfile::tempdir().unwrap();
    let osv = tmp.path().join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    std::fs::write(
        osv.join("MAL-2025-0001.json"),
        r#"{"id":"MAL-2025-0001","modified":"2025-01-01T00:00:00Z","published":"2025-01-01T00:00:00Z",
            "summary":"Malicious code in evil-helper (npm)",
            "affected":[{"package":{"ecosystem":"npm","name":"evil-helper"},
              "ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}],
            "database_specific":{"malicious-packages-origins":[{"source":"ossf-package-analysis"}]}}"#,
    )
    .unwrap();
    let db = tmp.path().join("db");
    depwarden(&db)
        .args(["db", "import"])
        .arg(&osv)
        .assert()
        .success();
    let app = tmp.path().join("fn");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("package-lock.json"),
        r#"{"name":"fn","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
            "":{"name":"fn","version":"1.0.0","devDependencies":{"evil-helper":"1.0.0"}},
            "node_modules/evil-helper":{"version":"1.0.0","resolved":"https://registry.npmjs.org/evil-helper/-/evil-helper-1.0.0.tgz","dev":true}}}"#,
    )
    .unwrap();
    let (code, report) = with_config(&db, "[gate]\nfail_on = \"none\"\n", &app, &[]);
    let f = &common::findings(&report)[0];
    assert_eq!(f["kind"], "malicious");
    assert_eq!(f["dev"], true);
    assert_eq!(
        code, 1,
        "malicious closes the gate even dev-only and with fail_on none"
    );
    let (code, _) = with_config(
        &db,
        "[gate]\nfail_on = \"none\"\nmalicious = false\n",
        &app,
        &[],
    );
    assert_eq!(code, 0);
}

/// `--strict` with an input that could not be scanned is exit code 2, and
/// no format says the gate passed: the table ends with `gate: error`, the
/// Markdown heading says error, the JSON gate carries the error.
#[test]
fn a_strict_error_is_never_reported_as_a_passed_gate() {
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("good")).unwrap();
    std::fs::write(
        tmp.path().join("good/requirements.txt"),
        "requests==2.31.0\n",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("broken")).unwrap();
    std::fs::write(
        tmp.path().join("broken/package-lock.json"),
        "{\"packages\": [",
    )
    .unwrap();
    let run = |format: &str, strict: bool| {
        let mut cmd = depwarden(&db);
        cmd.args(["scan", "--fail-on", "none", "--format", format]);
        if strict {
            cmd.arg("--strict");
        }
        let out = cmd.arg(tmp.path()).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    let (code, table) = run("table", true);
    assert_eq!(code, 2);
    let last = table.lines().last().unwrap();
    assert!(last.starts_with("gate: error (--strict"), "{table}");
    assert!(!table.contains("gate: passed"), "{table}");
    let (code, md) = run("markdown", true);
    assert_eq!(code, 2);
    assert!(
        md.starts_with("## depwarden: dependency gate error"),
        "{md}"
    );
    let (code, json) = run("json", true);
    assert_eq!(code, 2);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["gate"]["passed"], false);
    assert!(v["gate"]["error"].as_str().unwrap().contains("--strict"));
    // Without --strict the same scan passes, and says so.
    let (code, table) = run("table", false);
    assert_eq!(code, 0);
    assert_eq!(table.lines().last(), Some("gate: passed"));
}
