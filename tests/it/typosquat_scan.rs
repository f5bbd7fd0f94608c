//! Typosquat findings through the scan: reported with the package imitated,
//! closing the gate at high confidence, and silenced by `[typosquat] allow`.

use crate::common::{findings, scan_json, shared_db, testdata};

#[test]
fn a_typosquat_is_reported_and_closes_the_gate_unless_allowed() {
    let db = shared_db();
    let dir = testdata("typosquat/fn");
    let (code, report) = scan_json(&db, &["--fail-on", "none", dir.to_str().unwrap()]);
    let squats: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f["kind"] == "typosquat")
        .collect();
    assert_eq!(squats.len(), 1, "{squats:?}");
    assert_eq!(squats[0]["package"], "crossenv");
    assert_eq!(squats[0]["imitates"], "cross-env");
    assert_eq!(squats[0]["confidence"], "high");
    assert_eq!(squats[0]["closes_gate"], true);
    assert_eq!(code, 1, "a high-confidence typosquat closes the gate");
    assert_eq!(report["summary"]["typosquats"], 1);

    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("depwarden.toml");
    std::fs::write(&cfg, "[typosquat]\nallow = [\"crossenv\"]\n").unwrap();
    let (code, report) = scan_json(
        &db,
        &[
            "--fail-on",
            "none",
            "--config",
            cfg.to_str().unwrap(),
            dir.to_str().unwrap(),
        ],
    );
    assert!(findings(&report).iter().all(|f| f["kind"] != "typosquat"));
    assert_eq!(code, 0);
}
