//! OpenVEX out (`--format openvex`, validated against the OpenVEX v0.2.0
//! schema) and in (`--vex FILE`, `[[vex]]`): a round trip through a VEX
//! document turns exactly the ignored findings into VEX-suppressed ones;
//! malformed documents are errors naming the file; a nested configuration
//! cannot add VEX.

use crate::common::{depwarden, findings, shared_db, testdata};
use crate::report_formats::validate;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const IGNORES: &str = r#"
[[ignore]]
id = "CVE-2021-23337"
package = "lodash"
reason = "template() is never called with user input"
justification = "vulnerable_code_not_in_execute_path"

[[ignore]]
id = "PYSEC-2021-66"
package = "jinja2"
reason = "templates are ours, never user supplied"
expires = "2027-01-31"

[[ignore]]
id = "RUSTSEC-2020-0071"
reason = "TZ is never set at runtime"
"#;

fn scan(args: &[&str]) -> (i32, String, String) {
    let out = depwarden(&shared_db())
        .arg("scan")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

type Key = (String, String, String, String);
type Ignored = BTreeSet<(Key, String)>;

/// (deployment, id, package, version) of the ignored findings, with the
/// reason, split by whether a VEX statement suppressed them.
fn ignored(report: &Value) -> (Ignored, Ignored) {
    let (mut by_config, mut by_vex) = (BTreeSet::new(), BTreeSet::new());
    for d in report["deployments"].as_array().unwrap() {
        for f in d["findings"].as_array().unwrap() {
            let ig = &f["ignored"];
            if ig.is_null() {
                continue;
            }
            let key = (
                d["path"].as_str().unwrap().to_string(),
                f["id"].as_str().unwrap().to_string(),
                f["package"].as_str().unwrap().to_string(),
                f["version"].as_str().unwrap().to_string(),
            );
            let entry = (key, ig["reason"].as_str().unwrap().to_string());
            if ig["vex"].is_null() {
                by_config.insert(entry);
            } else {
                by_vex.insert(entry);
            }
        }
    }
    (by_config, by_vex)
}

#[test]
fn openvex_validates_and_a_round_trip_suppresses_exactly_the_ignored_findings() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ignores.toml");
    std::fs::write(&cfg, IGNORES).unwrap();
    let stem = dir.path().join("report");
    let demo = testdata("demo");
    let (code, _, err) = scan(&[
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json,openvex",
        "--output",
        stem.to_str().unwrap(),
        demo.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let first: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let vex_path = dir.path().join("report.openvex.json");
    let vex: Value = serde_json::from_str(&std::fs::read_to_string(&vex_path).unwrap()).unwrap();
    validate("openvex_json_schema_0.2.0.json", &vex);
    // The validator does reject what the schema forbids.
    let mut broken = vex.clone();
    broken["statements"][0]["status"] = serde_json::json!("fine");
    assert!(
        std::panic::catch_unwind(|| validate("openvex_json_schema_0.2.0.json", &broken)).is_err()
    );
    assert_eq!(vex["@context"], "https://openvex.dev/ns/v0.2.0");
    assert_eq!(vex["timestamp"], crate::common::PINNED_NOW);
    let statements = vex["statements"].as_array().unwrap();
    // One statement per (advisory, purl): every advisory finding of the demo.
    let pairs: BTreeSet<(String, String)> = findings(&first)
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["package"].as_str().unwrap().to_lowercase(),
            )
        })
        .collect();
    assert_eq!(statements.len(), pairs.len());
    let lodash = statements
        .iter()
        .find(|s| s["vulnerability"]["name"] == "GHSA-35jh-r3h4-6jhm")
        .unwrap();
    assert_eq!(lodash["status"], "not_affected");
    assert_eq!(
        lodash["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(
        lodash["impact_statement"],
        "template() is never called with user input"
    );
    assert_eq!(
        lodash["products"][0]["identifiers"]["purl"],
        "pkg:npm/lodash@4.17.15"
    );
    assert!(
        lodash["vulnerability"]["aliases"]
            .as_array()
            .unwrap()
            .contains(&"CVE-2021-23337".into())
    );
    let jinja = statements
        .iter()
        .find(|s| s["vulnerability"]["name"] == "PYSEC-2021-66")
        .unwrap();
    assert_eq!(jinja["products"][0]["@id"], "pkg:pypi/jinja2@2.11.2");
    assert_eq!(jinja["status_notes"], "ignored until 2027-01-31");
    let open = statements
        .iter()
        .find(|s| s["vulnerability"]["name"] == "GHSA-9wv6-86v2-598j")
        .unwrap();
    assert_eq!(open["status"], "affected");
    assert!(
        open["action_statement"]
            .as_str()
            .unwrap()
            .contains("0.1.12")
            && open["action_statement"]
                .as_str()
                .unwrap()
                .contains("express"),
        "{open}"
    );
    let n_affected = statements
        .iter()
        .filter(|s| s["status"] == "affected")
        .count();
    assert_eq!(n_affected, statements.len() - 3);

    // Round trip: the VEX document alone, no ignores.
    let (code, out, err) = scan(&[
        "--format",
        "json",
        "--vex",
        vex_path.to_str().unwrap(),
        demo.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let second: Value = serde_json::from_str(&out).unwrap();
    let (by_config, none) = ignored(&first);
    assert!(none.is_empty() && by_config.len() == 3, "{by_config:?}");
    let (none, by_vex) = ignored(&second);
    assert!(none.is_empty());
    assert_eq!(by_vex, by_config);
    assert_eq!(second["summary"]["ignored"], 3);
    for f in findings(&second).iter().filter(|f| !f["ignored"].is_null()) {
        let v = &f["ignored"]["vex"];
        assert_eq!(v["author"], "depwarden");
        assert_eq!(v["timestamp"], crate::common::PINNED_NOW);
        assert_eq!(v["status"], "not_affected");
        assert_eq!(f["closes_gate"], false);
    }
    let files = second["policy"]["vex"].as_array().unwrap();
    assert_eq!((files.len(), files[0]["applied"].as_u64()), (1, Some(3)));
    // Every other output names the statement's author and time.
    let (_, table, _) = scan(&["--vex", vex_path.to_str().unwrap(), demo.to_str().unwrap()]);
    assert!(
        table.contains(&format!(
            "VEX not_affected by depwarden at {}",
            crate::common::PINNED_NOW
        )),
        "{table}"
    );
    let (_, md, _) = scan(&[
        "--format",
        "markdown",
        "--vex",
        vex_path.to_str().unwrap(),
        demo.to_str().unwrap(),
    ]);
    assert!(md.contains("VEX not\\_affected by depwarden at"), "{md}");
}

#[test]
fn vex_from_the_invoking_configuration_applies_and_a_nested_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let vex = r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "urn:x", "author": "Platform Security",
        "timestamp": "2026-10-01T09:00:00Z", "version": 1,
        "statements": [{"vulnerability": {"name": "GHSA-hrpp-h998-j3pp"},
                        "products": [{"@id": "pkg:npm/qs@6.7.0"}], "status": "not_affected",
                        "justification": "vulnerable_code_cannot_be_controlled_by_adversary"}]}"#;
    std::fs::write(dir.path().join("team.vex.json"), vex).unwrap();
    let cfg = dir.path().join("depwarden.toml");
    std::fs::write(&cfg, "[[vex]]\nfile = \"team.vex.json\"\n").unwrap();
    let demo = testdata("demo");
    let (_, out, err) = scan(&[
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
        demo.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    let qs: Vec<Value> = findings(&report)
        .into_iter()
        .filter(|f| f["package"] == "qs")
        .collect();
    assert_eq!(qs.len(), 1);
    assert_eq!(qs[0]["ignored"]["vex"]["author"], "Platform Security");
    assert_eq!(
        qs[0]["ignored"]["justification"],
        "vulnerable_code_cannot_be_controlled_by_adversary"
    );

    // The same [[vex]] in a depwarden.toml inside the scanned tree: not
    // applied, and the report says why.
    let tree = tempfile::tempdir().unwrap();
    let app = tree.path().join("app");
    std::fs::create_dir(&app).unwrap();
    for f in ["package.json", "package-lock.json"] {
        std::fs::copy(demo.join("orders-api").join(f), app.join(f)).unwrap();
    }
    std::fs::write(app.join("team.vex.json"), vex).unwrap();
    std::fs::write(
        app.join("depwarden.toml"),
        "[[vex]]\nfile = \"team.vex.json\"\n",
    )
    .unwrap();
    let (code, out, _) = scan(&["--format", "json", tree.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert!(findings(&report).iter().all(|f| f["ignored"].is_null()));
    let files = report["policy"]["config_files"].as_array().unwrap();
    let nested = files.iter().find(|f| f["origin"] == "nested").unwrap();
    assert!(nested["ignored"].to_string().contains("vex"), "{nested}");
}

#[test]
fn a_malformed_vex_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let demo = testdata("demo");
    for (name, text) in [
        ("broken.json", "{\"@context\": "),
        ("not-vex.json", "{\"bomFormat\": \"CycloneDX\"}"),
        (
            "bad-status.json",
            r#"{"@context": "https://openvex.dev/ns/v0.2.0", "author": "a", "timestamp": "2026-10-01T00:00:00Z",
                "statements": [{"vulnerability": {"name": "X"}, "products": [], "status": "ok"}]}"#,
        ),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let (code, out, err) = scan(&[
            "--format",
            "json",
            "--vex",
            p.to_str().unwrap(),
            demo.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(name), "{err}");
    }
    let missing = dir.path().join("missing.json");
    let (code, _, err) = scan(&["--vex", missing.to_str().unwrap(), demo.to_str().unwrap()]);
    assert!(code == 2 && err.contains("missing.json"), "{err}");
    assert!(Path::new(&missing).parent().unwrap().exists());
}

#[test]
fn vex_suppresses_the_findings_functions_inherit_too() {
    let dir = tempfile::tempdir().unwrap();
    let vex = dir.path().join("fn.vex.json");
    std::fs::write(
        &vex,
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "urn:x", "author": "Lambda team",
            "timestamp": "2026-10-01T09:00:00Z", "version": 1,
            "statements": [{"vulnerability": {"name": "GHSA-xvch-5gv4-984h"},
                            "products": [{"@id": "pkg:npm/minimist@1.2.5"}], "status": "not_affected",
                            "impact_statement": "argv is never parsed in a handler"}]}"#,
    )
    .unwrap();
    let sam = testdata("functions/sam");
    let (_, out, err) = scan(&[
        "--format",
        "json",
        "--vex",
        vex.to_str().unwrap(),
        sam.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    let in_functions: Vec<&Value> = report["functions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .filter(|x| x["package"] == "minimist")
        .collect();
    assert!(!in_functions.is_empty());
    for x in in_functions {
        assert_eq!(x["ignored"]["vex"]["author"], "Lambda team", "{x}");
        assert_eq!(x["closes_gate"], false);
    }
    assert!(
        findings(&report)
            .iter()
            .filter(|f| f["package"] == "minimist")
            .all(|f| f["ignored"]["reason"] == "argv is never parsed in a handler")
    );
}
