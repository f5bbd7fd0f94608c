//! The binary end to end on fixtures: matching against the shipped snapshot,
//! package-lock versions giving one inventory, requirements includes, exit
//! codes, and malformed inputs that are named while the rest of the scan
//! goes on.

use crate::common::{depwarden, findings, scan_json, shared_db, testdata};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn ids_of(report: &Value, package: &str) -> BTreeSet<String> {
    findings(report)
        .iter()
        .filter(|f| f["package"] == package && f["kind"] == "vulnerability")
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every id and alias the snapshot holds for a crate, through `explain`.
fn explain_aliases(db: &Path, id: &str) -> Value {
    let out = depwarden(db).args(["explain", id]).output().unwrap();
    assert!(out.status.success(), "explain {id} failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn cargo_lock_reports_the_snapshot_advisories_for_those_versions_only() {
    let db = shared_db();
    let lock = testdata("core/rust-vulns/Cargo.lock");
    let (code, report) = scan_json(&db, &[lock.to_str().unwrap()]);
    assert_eq!(code, 1, "vulnerable crates close the default gate");

    assert_eq!(
        ids_of(&report, "time"),
        BTreeSet::from(["RUSTSEC-2020-0071".to_string()])
    );
    assert_eq!(
        ids_of(&report, "smallvec"),
        BTreeSet::from(["RUSTSEC-2021-0003".to_string()])
    );
    assert_eq!(
        ids_of(&report, "chrono"),
        BTreeSet::from(["RUSTSEC-2020-0159".to_string()])
    );
    // Advisories the snapshot holds for smallvec whose ranges exclude 1.6.0
    // (fixed in the 0.6 line) exist but are not reported.
    for excluded in [
        "RUSTSEC-2018-0003",
        "RUSTSEC-2019-0009",
        "RUSTSEC-2019-0012",
    ] {
        let rec = explain_aliases(&db, excluded);
        assert_eq!(rec["affected"][0]["package"]["name"], "smallvec");
        assert!(!ids_of(&report, "smallvec").contains(excluded));
    }
    // The path that brought time in goes through chrono.
    let time = findings(&report)
        .into_iter()
        .find(|f| f["package"] == "time")
        .unwrap();
    assert_eq!(time["paths"][0], serde_json::json!(["chrono", "time"]));
    assert_eq!(
        time["aliases"],
        serde_json::json!(["CVE-2020-26235", "GHSA-wcg3-cvx6-7396"])
    );
}

#[test]
fn gate_exit_codes_follow_fail_on() {
    let db = shared_db();
    let lock = testdata("core/rust-vulns/Cargo.lock");
    let lock = lock.to_str().unwrap();
    let (code, _) = scan_json(&db, &[lock]);
    assert_eq!(code, 1);
    let (code, report) = scan_json(&db, &["--fail-on", "none", lock]);
    assert_eq!(code, 0);
    assert_eq!(report["gate"]["passed"], true);
    // Findings are still reported with the gate open.
    assert_eq!(findings(&report).len(), 3);
    // Only the critical smallvec advisory is at or above "critical".
    let (code, report) = scan_json(&db, &["--fail-on", "critical", lock]);
    assert_eq!(code, 1);
    let closing: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f["closes_gate"] == true)
        .map(|f| f["package"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(closing, vec!["smallvec".to_string()]);
    depwarden(&db)
        .args(["scan", "/nonexistent/function.zip.d"])
        .assert()
        .code(2);
}

fn inventory(db: &Path, path: &Path) -> Value {
    let out = depwarden(db)
        .args(["inventory", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (name, version, dev, direct) of every non-root package.
fn package_rows(inv: &Value) -> BTreeSet<(String, String, bool, bool)> {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["root"] != true)
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap_or("").to_string(),
                p["dev"].as_bool().unwrap(),
                p["direct"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn package_lock_v1_v2_v3_of_one_tree_give_one_inventory() {
    let db = shared_db();
    let v1 = package_rows(&inventory(&db, &testdata("npm/lock-versions/v1")));
    let v2 = package_rows(&inventory(&db, &testdata("npm/lock-versions/v2")));
    let v3 = package_rows(&inventory(&db, &testdata("npm/lock-versions/v3")));
    assert!(v3.len() > 60, "the tree has {} packages", v3.len());
    assert_eq!(v1, v3);
    assert_eq!(v2, v3);
    // Direct and dev flags come from package.json / the lockfile.
    assert!(v3.contains(&("express".into(), "4.21.2".into(), false, true)));
    assert!(v3.contains(&("semver".into(), "7.6.3".into(), true, true)));
}

#[test]
fn requirements_includes_are_followed_relative_to_the_file() {
    let db = shared_db();
    let dir = testdata("demo/thumbnailer");
    let inv = inventory(&db, &dir);
    let from_main: BTreeSet<String> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["source"] == "requirements.txt")
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let base: BTreeSet<String> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["source"] == "requirements-base.txt")
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert!(!base.is_empty());
    assert!(
        base.is_subset(&from_main),
        "requirements.txt includes requirements-base.txt: {base:?} vs {from_main:?}"
    );
    assert!(from_main.contains("Pillow") || from_main.contains("pillow"));
    let (_, report) = scan_json(&db, &["--fail-on", "none", dir.to_str().unwrap()]);
    assert!(
        !ids_of(&report, "Pillow").is_empty() || !ids_of(&report, "pillow").is_empty(),
        "Pillow 8.1.0 has known advisories in the snapshot"
    );
}

/// Lays out one good deployment and four broken ones.
fn hostile_tree(root: &Path) {
    let good = root.join("good");
    std::fs::create_dir_all(&good).unwrap();
    std::fs::copy(
        testdata("core/rust-vulns/Cargo.lock"),
        good.join("Cargo.lock"),
    )
    .unwrap();
    let truncated = root.join("truncated");
    std::fs::create_dir_all(&truncated).unwrap();
    let full = std::fs::read_to_string(testdata("npm/lock-versions/v3/package-lock.json")).unwrap();
    std::fs::write(truncated.join("package-lock.json"), &full[..full.len() / 2]).unwrap();
    let wrong = root.join("wrong-types");
    std::fs::create_dir_all(&wrong).unwrap();
    std::fs::write(
        wrong.join("package-lock.json"),
        r#"{"lockfileVersion": "three", "packages": [1, 2, 3]}"#,
    )
    .unwrap();
    let garbage = root.join("garbage-toml");
    std::fs::create_dir_all(&garbage).unwrap();
    std::fs::write(
        garbage.join("Cargo.lock"),
        "version = 3\n[[package]]\nname = \"x\nversion = = 1\n\u{0}\u{1}",
    )
    .unwrap();
    let binary = root.join("binary");
    std::fs::create_dir_all(&binary).unwrap();
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(binary.join("package-lock.json"), bytes).unwrap();
}

#[test]
fn malformed_inputs_are_named_and_the_rest_of_the_scan_goes_on() {
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    hostile_tree(tmp.path());
    let (code, report) = scan_json(&db, &["--fail-on", "none", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 0, "broken inputs alone do not close the gate");
    let deployments = report["deployments"].as_array().unwrap();
    let by_path = |p: &str| {
        deployments
            .iter()
            .find(|d| d["path"] == p)
            .unwrap_or_else(|| panic!("deployment {p} missing: {report}"))
    };
    // The good deployment is fully scanned.
    assert_eq!(by_path("good")["findings"].as_array().unwrap().len(), 3);
    for (dir, file) in [
        ("truncated", "package-lock.json"),
        ("wrong-types", "package-lock.json"),
        ("garbage-toml", "Cargo.lock"),
        ("binary", "package-lock.json"),
    ] {
        let errors = by_path(dir)["errors"].as_array().unwrap();
        let named = format!("{dir}/{file}");
        assert!(
            errors
                .iter()
                .any(|e| e["level"] == "error" && e.to_string().contains(&named)),
            "{dir}: no error naming {named}: {errors:?}"
        );
    }
    assert!(report["summary"]["unscanned_sources"].as_u64().unwrap() >= 4);
    // With --strict, what could not be scanned makes the exit code 2.
    depwarden(&db)
        .args(["scan", "--strict", "--fail-on", "none"])
        .arg(tmp.path())
        .assert()
        .code(2);
}
