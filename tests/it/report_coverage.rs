//! What the reports say about coverage and grading: a deployment whose
//! only lockfile failed is "not scanned", not "0 packages, no findings";
//! unscanned sources are counted in every summary; every SARIF result has a
//! location; severity comes from the highest of an advisory's aliases in
//! the database; staleness is judged per ecosystem.

use crate::common::{depwarden, scan_json, shared_db, testdata};
use serde_json::Value;

fn scan_text(db: &std::path::Path, format: &str, target: &std::path::Path) -> (i32, String) {
    let out = depwarden(db)
        .args(["scan", "--format", format])
        .arg(target)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_deployment_whose_only_lockfile_failed_is_not_scanned() {
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("broken-fn");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("package-lock.json"), "{ not json").unwrap();
    let fine = tmp.path().join("fine-fn");
    std::fs::create_dir_all(&fine).unwrap();
    std::fs::copy(
        testdata("real/npm/v3-app/package-lock.json"),
        fine.join("package-lock.json"),
    )
    .unwrap();

    let (_, report) = scan_json(&db, &[tmp.path().to_str().unwrap()]);
    let dep = |p: &str| -> Value {
        report["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"] == p)
            .unwrap()
            .clone()
    };
    assert_eq!(dep("broken-fn")["not_scanned"], true);
    assert_eq!(dep("broken-fn")["unscanned_sources"], 1);
    assert_eq!(dep("fine-fn")["not_scanned"], false);
    assert_eq!(report["summary"]["unscanned_sources"], 1);
    assert_eq!(report["summary"]["deployments_not_scanned"], 1);

    let (_, table) = scan_text(&db, "table", tmp.path());
    let block: String = table
        .lines()
        .skip_while(|l| !l.starts_with("broken-fn"))
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(block.contains("NOT SCANNED"), "{block}");
    assert!(
        block.contains("not scanned: nothing here could be read"),
        "{block}"
    );
    assert!(!block.contains("no findings"), "{block}");
    assert!(
        table.contains("; 1 source not scanned (1 deployment not scanned at all)"),
        "{table}"
    );

    let (_, md) = scan_text(&db, "markdown", tmp.path());
    assert!(md.contains("1 source not scanned"), "{md}");
    assert!(
        md.contains("| `broken-fn` |") && md.contains("**not scanned**"),
        "{md}"
    );
}

#[test]
fn every_sarif_result_has_a_location() {
    let db = shared_db();
    // bun.lock and node_modules packages carry no line of their own in some
    // formats: the file itself is the location then.
    for target in [
        "demo",
        "real/platform",
        "real/bun/workspace",
        "npm/same-set",
    ] {
        let (_, sarif) = scan_text(&db, "sarif", &testdata(target));
        let doc: Value = serde_json::from_str(&sarif).unwrap();
        let results = doc["runs"][0]["results"].as_array().unwrap();
        for r in results {
            let loc = &r["locations"][0]["physicalLocation"];
            assert!(loc["artifactLocation"]["uri"].is_string(), "{r}");
            assert!(
                loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1),
                "{r}"
            );
        }
    }
}

#[test]
fn severity_is_the_highest_among_the_aliases_in_the_database() {
    let tmp = tempfile::tempdir().unwrap();
    let osv = tmp.path().join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    // The record that matches has no severity; its alias, which the
    // database holds for another spelling of the package, is high.
    std::fs::write(
        osv.join("PYSEC-2099-1.json"),
        r#"{"id":"PYSEC-2099-1","modified":"2026-11-01T00:00:00Z","aliases":["GHSA-aaaa-bbbb-cccc"],
            "affected":[{"package":{"ecosystem":"PyPI","name":"demo-lib"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        osv.join("GHSA-aaaa-bbbb-cccc.json"),
        r#"{"id":"GHSA-aaaa-bbbb-cccc","modified":"2026-11-01T00:00:00Z","aliases":["PYSEC-2099-1"],
            "affected":[{"package":{"ecosystem":"PyPI","name":"demo-lib-legacy"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}],
            "database_specific":{"severity":"HIGH"}}"#,
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
    std::fs::write(app.join("requirements.txt"), "demo-lib==1.0\n").unwrap();
    let (code, report) = scan_json(&db, &["--fail-on", "high", app.to_str().unwrap()]);
    let f = &report["deployments"][0]["findings"][0];
    assert_eq!(f["id"], "PYSEC-2099-1");
    assert_eq!(f["severity"], "high", "{f}");
    assert_eq!(code, 1);
}

#[test]
fn staleness_is_judged_per_ecosystem_the_scan_met() {
    let db = shared_db();
    // The snapshot's npm data is months old on the pinned clock, and its
    // PyPI data older still: an npm-only scan speaks of npm only.
    let (_, report) = scan_json(&db, &[testdata("real/npm/v3-app").to_str().unwrap()]);
    let warnings: Vec<String> = report["database"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("npm advisory data is"),
        "{warnings:?}"
    );
    assert!(
        warnings[0].contains("newest npm record modified"),
        "{warnings:?}"
    );
    let (_, report) = scan_json(&db, &[testdata("demo").to_str().unwrap()]);
    let text = report["database"]["warnings"].to_string();
    for eco in ["npm", "PyPI", "crates.io"] {
        assert!(text.contains(&format!("{eco} advisory data is")), "{text}");
    }
    // --max-db-age fails on the stale ecosystem it names.
    let out = depwarden(&db)
        .args(["scan", "--max-db-age", "30"])
        .arg(testdata("real/npm/v3-app"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("npm advisory data is") && !err.contains("PyPI"),
        "{err}"
    );
}
