//! The packed read index of a generation: scans read it instead of sled,
//! give the same report as the sled store, and a damaged or missing packed
//! file falls back to sled with a warning naming the file.

use crate::common;

use crate::common::{depwarden, fresh_db, scan_json, testdata};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn packed_file(db: &Path) -> PathBuf {
    let name = std::fs::read_to_string(db.join("current")).unwrap();
    db.join(name.trim()).join("packed.idx")
}

/// Findings of a report without the database section (which differs in
/// its warnings).
fn findings_of(report: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = common::findings(report)
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap_or("").to_string(),
                f["package"].as_str().unwrap_or("").to_string(),
                f["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn scan_demo(db: &Path) -> Value {
    let demo = testdata("demo");
    let (code, report) = scan_json(db, &[demo.to_str().unwrap()]);
    assert_eq!(code, 1, "the demo has vulnerable packages");
    report
}

fn warnings(report: &Value) -> Vec<String> {
    report["database"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn packed_sled_and_damaged_packed_give_the_same_findings() {
    let (_keep, db) = fresh_db();
    let packed = packed_file(&db);
    assert!(packed.is_file(), "import writes {}", packed.display());

    let with_packed = scan_demo(&db);
    let expected = findings_of(&with_packed);
    assert!(
        expected.iter().filter(|f| f.0 == "vulnerability").count() >= 5,
        "{expected:?}"
    );
    assert!(
        !warnings(&with_packed)
            .iter()
            .any(|w| w.contains("packed.idx")),
        "{:?}",
        warnings(&with_packed)
    );

    // A flipped byte in the key of a package the demo looks up (the
    // entries are checked when a lookup visits them, not all at open):
    // detected, named, sled used instead.
    let good = std::fs::read(&packed).unwrap();
    let mut bad = good.clone();
    let key = b"npm\0lodash";
    let at = good
        .windows(key.len())
        .position(|w| w == key)
        .expect("lodash is in the index");
    bad[at + key.len() - 1] ^= 0x55;
    std::fs::write(&packed, &bad).unwrap();
    let damaged = scan_demo(&db);
    assert_eq!(findings_of(&damaged), expected);
    let w = warnings(&damaged);
    assert!(
        w.iter()
            .any(|w| w.contains("packed.idx") && w.contains("checksum") && w.contains("sled")),
        "{w:?}"
    );

    // A truncated file.
    std::fs::write(&packed, &good[..good.len() / 2]).unwrap();
    let truncated = scan_demo(&db);
    assert_eq!(findings_of(&truncated), expected);
    assert!(
        warnings(&truncated)
            .iter()
            .any(|w| w.contains("packed.idx") && w.contains("truncated")),
        "{:?}",
        warnings(&truncated)
    );

    // A generation written before packed files existed: sled only, quietly.
    std::fs::remove_file(&packed).unwrap();
    let sled_only = scan_demo(&db);
    assert_eq!(findings_of(&sled_only), expected);
    assert!(
        !warnings(&sled_only).iter().any(|w| w.contains("packed")),
        "{:?}",
        warnings(&sled_only)
    );
}

#[test]
fn explain_and_status_read_the_packed_index() {
    let (_keep, db) = fresh_db();
    let by_alias = depwarden(&db)
        .args(["explain", "cve-2020-26235"])
        .output()
        .unwrap();
    assert!(by_alias.status.success());
    let rec: Value = serde_json::from_slice(&by_alias.stdout).unwrap();
    assert_eq!(rec["id"], "RUSTSEC-2020-0071");

    let status_packed = depwarden(&db)
        .args(["db", "status", "--format", "json"])
        .output()
        .unwrap();
    std::fs::remove_file(packed_file(&db)).unwrap();
    let status_sled = depwarden(&db)
        .args(["db", "status", "--format", "json"])
        .output()
        .unwrap();
    assert!(status_packed.status.success() && status_sled.status.success());
    let a: Value = serde_json::from_slice(&status_packed.stdout).unwrap();
    let b: Value = serde_json::from_slice(&status_sled.stdout).unwrap();
    assert_eq!(a, b);
    assert!(a["ecosystems"].as_array().unwrap().len() == 3, "{a}");
}

#[test]
fn concurrent_scans_agree() {
    // sled allows one process per database; the packed index any number.
    // Four scans at once all finish and agree.
    let db = common::shared_db();
    let demo = testdata("demo");
    let children: Vec<_> = (0..4)
        .map(|_| {
            crate::common::command()
                .arg("--db")
                .arg(&db)
                .args(["--no-progress", "-q", "scan", "--format", "json"])
                .arg(&demo)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seen = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        seen.push(findings_of(&report));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}
