//! npm specifics end to end: workspace members as roots, `npm:` aliases
//! under the real name, git and tarball-URL dependencies not matched by
//! name, dev/optional flags, and a package.json without a lockfile.

use crate::common::{depwarden, findings, scan_json, testdata};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn inventory(db: &Path, dir: &str) -> Value {
    let out = depwarden(db)
        .args(["inventory", "--format", "json"])
        .arg(testdata(dir))
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn package<'a>(inv: &'a Value, name: &str) -> &'a Value {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in inventory"))
}

/// A database holding only the hand-written advisories of the fixture.
fn fixture_db(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("db");
    depwarden(&db)
        .args(["db", "import"])
        .arg(testdata("npm/features/osv"))
        .assert()
        .success();
    db
}

#[test]
fn workspace_lockfile_roots_aliases_and_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = inventory(&tmp.path().join("db"), "npm/features/workspace");
    // Workspace members are roots, reached through `link: true` entries.
    for member in ["@acme/api", "@acme/shared"] {
        let p = package(&inv, member);
        assert_eq!(p["root"], true, "{member}");
        assert_eq!(p["origin"]["type"], "path");
    }
    // Members' dependencies are direct; transitive ones are not.
    assert_eq!(package(&inv, "lodash")["direct"], true);
    assert_eq!(package(&inv, "repeat-string")["direct"], false);
    assert_eq!(
        package(&inv, "repeat-string")["path"],
        serde_json::json!(["pad-left", "repeat-string"])
    );
    // The alias `left-pad` is reported as the package installed.
    let aliased = package(&inv, "pad-left");
    assert_eq!(aliased["version"], "2.1.0");
    assert_eq!(aliased["notes"]["alias"], "left-pad");
    assert!(
        !inv["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "left-pad")
    );
    // Sources.
    assert_eq!(package(&inv, "qs")["origin"]["type"], "git");
    assert_eq!(
        package(&inv, "qs")["origin"]["rev"],
        "8f8da9ee4ed9d1a2bb0d42e6ae1cf4c1d8ee4f49"
    );
    assert_eq!(package(&inv, "tiny")["origin"]["type"], "url");
    assert_eq!(package(&inv, "lodash")["origin"]["type"], "registry");
    // Flags.
    assert_eq!(package(&inv, "typescript")["dev"], true);
    assert_eq!(package(&inv, "fsevents")["optional"], true);
    assert_eq!(
        package(&inv, "fsevents")["groups"],
        serde_json::json!(["optional"])
    );
}

#[test]
fn git_and_url_dependencies_are_not_matched_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let db = fixture_db(tmp.path());
    let dir = testdata("npm/features/workspace");
    let (code, report) = scan_json(&db, &[dir.to_str().unwrap()]);
    assert_eq!(code, 1);
    let found: BTreeSet<(String, String)> = findings(&report)
        .iter()
        .filter(|f| f["kind"] == "vulnerability")
        .map(|f| {
            (
                f["package"].as_str().unwrap().to_string(),
                f["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("lodash", "GHSA-test-lodash"),
        ("pad-left", "GHSA-test-padleft"),
        ("typescript", "GHSA-test-ts"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    // qs (git) and tiny (tarball URL) have advisories under their names,
    // and the alias name left-pad too, but none of them is what was
    // installed from the registry.
    assert_eq!(found, expected);
    // The dev-only typescript finding is reported but does not close the gate.
    let ts = findings(&report)
        .into_iter()
        .find(|f| f["package"] == "typescript")
        .unwrap();
    assert_eq!(ts["dev"], true);
    assert_eq!(ts["closes_gate"], false);
}

#[test]
fn package_json_alone_lists_unresolved_direct_dependencies() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = inventory(&tmp.path().join("db"), "npm/features/manifest-only");
    let rows: BTreeSet<(String, Option<String>, String, bool)> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["direct"], true);
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().map(str::to_string),
                p["requirement"].as_str().unwrap().to_string(),
                p["dev"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        BTreeSet::from([
            ("express".to_string(), None, "4.21.2".to_string(), false),
            ("jest".to_string(), None, "^29".to_string(), true),
            ("lodash".to_string(), None, "^4.17.0".to_string(), false),
        ])
    );
    let errors = inv["deployments"][0]["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("no lockfile")),
        "{errors:?}"
    );
}
