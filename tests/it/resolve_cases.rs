//! Resolution beyond the happy path: conflicts explained as PubGrub
//! explains them, sdist-only requirements left unresolved, missing
//! metadata offline, locked deployments left alone, and predicted findings
//! in the scan and its gate.

use crate::common;
use crate::resolve::{case, errors, resolved};
use serde_json::Value;

fn messages(inv: &Value) -> String {
    errors(inv).join("\n")
}

#[test]
fn pip_conflict_is_explained_and_strict_refuses() {
    let c = case("pypi-conflict");
    let m = c.manifest();
    let store = tempfile::tempdir().unwrap();
    let db = store.path().join("db");
    let (code, inv) = c.inventory(&db, m.path(), true, &[]);
    assert_eq!(code, 0);
    let text = messages(&inv);
    assert!(
        text.contains("no set of versions satisfies the requirements"),
        "{text}"
    );
    // PubGrub's derivation: requests 2.31.0 needs urllib3 >=1.21.1, the
    // requirements ask for urllib3 <1.21.
    assert!(
        text.contains("requests") && text.contains("urllib3"),
        "{text}"
    );
    assert!(resolved(&inv).is_empty());
    let (code, _) = c.inventory(&db, m.path(), false, &["--strict"]);
    assert_eq!(code, 2);
}

#[test]
fn cargo_conflict_is_explained() {
    let c = case("cargo-conflict");
    let m = c.manifest();
    let store = tempfile::tempdir().unwrap();
    let (code, inv) = c.inventory(&store.path().join("db"), m.path(), true, &[]);
    assert_eq!(code, 0);
    let text = messages(&inv);
    assert!(text.contains("no set of versions"), "{text}");
    assert!(
        text.contains("serde_json") && text.contains("serde "),
        "{text}"
    );
}

#[test]
fn an_sdist_only_requirement_needs_a_build_and_is_never_built() {
    let c = case("pypi-sdist");
    let m = c.manifest();
    let store = tempfile::tempdir().unwrap();
    let (code, inv) = c.inventory(&store.path().join("db"), m.path(), true, &[]);
    assert_eq!(code, 0);
    let docopt = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "docopt")
        .expect("docopt listed");
    assert_eq!(docopt["version"], Value::Null);
    assert!(
        docopt["notes"]["unresolved"]
            .as_str()
            .unwrap()
            .starts_with("needs a build"),
        "{docopt}"
    );
    // The rest is resolved.
    assert!(resolved(&inv).iter().any(|(n, _)| n == "six"));
    assert!(messages(&inv).contains("docopt >=0.6: unresolved: needs a build"));
}

#[test]
fn offline_without_metadata_names_what_is_missing_and_how_to_fetch_it() {
    let c = case("npm-api");
    let m = c.manifest();
    let store = tempfile::tempdir().unwrap();
    let db = store.path().join("db");
    let (code, inv) = c.inventory(&db, m.path(), false, &[]);
    assert_eq!(code, 0);
    let text = messages(&inv);
    assert!(
        text.contains("registry metadata missing for 4: express, jsonwebtoken, typescript, uuid"),
        "{text}"
    );
    assert!(text.contains("depwarden resolve --online"), "{text}");
    assert!(c.server.log().is_empty(), "offline asked the registry");
    assert!(
        !db.join("registry-metadata").exists(),
        "offline created a store"
    );
    let (code, _) = c.inventory(&db, m.path(), false, &["--strict"]);
    assert_eq!(code, 2);
}

#[test]
fn locked_deployments_are_unchanged_by_resolve() {
    let c = case("npm-api");
    let m = c.manifest();
    std::fs::copy(
        c.dir.join("expected/package-lock.json"),
        m.path().join("package-lock.json"),
    )
    .unwrap();
    let store = tempfile::tempdir().unwrap();
    let (code, inv) = c.inventory(&store.path().join("db"), m.path(), true, &[]);
    assert_eq!(code, 0);
    assert!(resolved(&inv).is_empty());
    assert!(
        c.server.log().is_empty(),
        "a locked deployment fetched metadata"
    );
    let plain = common::bin()
        .args(["inventory", "--format", "json"])
        .arg(m.path())
        .output()
        .unwrap();
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_eq!(inv["packages"], plain["packages"]);
}

#[test]
fn scan_reports_predicted_findings_and_they_close_the_gate_unless_configured() {
    let c = case("pypi-old");
    let m = c.manifest();
    let (_keep, db) = common::fresh_db();
    let scan = |extra: &[&str]| {
        let mut cmd = common::depwarden(&db);
        cmd.args([
            "scan",
            "--resolve",
            "--format",
            "json",
            "--resolve-cutoff",
            &c.cutoff,
        ]);
        cmd.args(c.registries()).args(extra).arg(m.path());
        let out = cmd.output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap(), v)
    };
    let (code, report) = scan(&["--online"]);
    assert_eq!(code, 1, "the gate closes on predicted vulnerabilities");
    let d = &report["deployments"][0];
    assert_eq!(d["sources"][0]["resolution"]["cutoff"], c.cutoff.as_str());
    let findings = d["findings"].as_array().unwrap();
    let requests = findings
        .iter()
        .find(|f| f["package"] == "requests" && f["kind"] == "vulnerability")
        .expect("requests 2.19.1 has advisories");
    assert_eq!(requests["version"], "2.19.1");
    assert_eq!(requests["resolved"], true);
    assert_eq!(requests["resolve_cutoff"], c.cutoff.as_str());
    // A transitive package the manifest never names.
    assert!(
        findings
            .iter()
            .any(|f| f["package"] == "urllib3" && f["resolved"] == true)
    );
    // The same scan as inventory lists.
    let store = tempfile::tempdir().unwrap();
    let (_, inv) = c.inventory(&store.path().join("db"), m.path(), true, &[]);
    assert_eq!(d["packages"], resolved(&inv).len());

    let config = m.path().join("ci.toml");
    std::fs::write(&config, "[gate]\nresolved = false\n").unwrap();
    let (code, report) = scan(&["--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "predictions kept out of the verdict");
    let f = &report["deployments"][0]["findings"][0];
    assert_eq!(f["closes_gate"], false);
    assert_eq!(f["resolved"], true);

    // A depwarden.toml inside the scanned tree cannot do the same.
    std::fs::write(
        m.path().join("depwarden.toml"),
        "[gate]\nresolved = false\n",
    )
    .unwrap();
    std::fs::write(&config, "[gate]\nfail_on = \"low\"\n").unwrap();
    let (code, _) = scan(&["--config", config.to_str().unwrap()]);
    assert_eq!(code, 1);
}

#[test]
fn registry_endpoints_are_not_taken_from_the_scanned_tree() {
    let c = case("pypi-old");
    let m = c.manifest();
    std::fs::write(
        m.path().join("depwarden.toml"),
        format!(
            "[registries]\nresolve = {{ pypi = \"{}/pypi/simple/\" }}\n",
            c.server.base
        ),
    )
    .unwrap();
    let store = tempfile::tempdir().unwrap();
    let out = common::bin()
        .arg("--db")
        .arg(store.path().join("db"))
        .args(["inventory", "--resolve", "--online", "--format", "json"])
        .env("DEPWARDEN_PYPI_INDEX", "http://127.0.0.1:9/simple/")
        .env("DEPWARDEN_HTTP_TIMEOUT", "2")
        .arg(m.path())
        .output()
        .unwrap();
    assert!(
        c.server.log().is_empty(),
        "the scanned tree chose the registry"
    );
    let inv: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(resolved(&inv).is_empty());
}

#[test]
fn online_again_asks_conditionally_and_retries_server_errors() {
    let c = case("pypi-old");
    let m = c.manifest();
    let store = tempfile::tempdir().unwrap();
    let db = store.path().join("db");
    let (code, first) = c.inventory(&db, m.path(), true, &[]);
    assert_eq!(code, 0, "{:?}", errors(&first));
    c.server.clear_log();
    c.server.fault(
        "/pypi/simple/requests/",
        crate::common::http::Fault::Error500(1),
    );
    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .args(["inventory", "--resolve", "--online", "--format", "json"])
        .args(["--resolve-cutoff", &c.cutoff])
        .args(c.registries())
        .env("DEPWARDEN_HTTP_BACKOFF_MS", "1")
        .arg(m.path())
        .output()
        .unwrap();
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(resolved(&again), resolved(&first));
    let log = c.server.log();
    let pages: Vec<_> = log
        .iter()
        .filter(|r| r.path == "/pypi/simple/requests/")
        .map(|r| r.status)
        .collect();
    assert_eq!(pages, vec![500, 304], "retried, then asked conditionally");
    for r in log.iter().filter(|r| r.path.starts_with("/pypi/simple/")) {
        assert!(r.headers.contains_key("if-none-match"), "{r:?}");
    }
    // Wheel metadata never changes: it is not asked again.
    assert!(
        !log.iter().any(|r| r.path.ends_with(".metadata")),
        "{log:?}"
    );
}
