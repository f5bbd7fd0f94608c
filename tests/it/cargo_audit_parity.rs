//! Parity with cargo-audit: on real Cargo.lock files and the same RustSec
//! data, depwarden reports the same (id, crate, version) set as cargo-audit
//! 0.22.2 did (its JSON output is committed beside each lockfile), for
//! vulnerabilities and for informational warnings separately.

use crate::common;

use std::collections::BTreeSet;

type Triple = (String, String, String);
/// (id, crate, version, informational kind).
type Warning = (String, String, String, String);
/// Vulnerabilities and warnings.
type Sets = (BTreeSet<Triple>, BTreeSet<Warning>);

fn cargo_audit_sets(dir: &str) -> Sets {
    let text = std::fs::read_to_string(common::testdata(&format!(
        "cargo/audit/{dir}/cargo-audit.json"
    )))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let vulns = v["vulnerabilities"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["advisory"]["id"].as_str().unwrap().to_string(),
                x["package"]["name"].as_str().unwrap().to_string(),
                x["package"]["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut warnings = BTreeSet::new();
    for (kind, list) in v["warnings"].as_object().unwrap() {
        for x in list.as_array().unwrap() {
            let Some(id) = x["advisory"]["id"].as_str() else {
                continue;
            };
            warnings.insert((
                id.to_string(),
                x["package"]["name"].as_str().unwrap().to_string(),
                x["package"]["version"].as_str().unwrap().to_string(),
                kind.clone(),
            ));
        }
    }
    (vulns, warnings)
}

fn ours(dir: &str) -> Sets {
    let db = common::shared_db();
    let lock = common::testdata(&format!("cargo/audit/{dir}/Cargo.lock"));
    let (code, report) = common::scan_json(&db, &["--fail-on", "none", lock.to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    let mut vulns = BTreeSet::new();
    let mut warnings = BTreeSet::new();
    for f in common::findings(&report) {
        let triple = (
            f["id"].as_str().unwrap().to_string(),
            f["package"].as_str().unwrap().to_string(),
            f["version"].as_str().unwrap().to_string(),
        );
        match f["kind"].as_str().unwrap() {
            "vulnerability" => {
                vulns.insert(triple);
            }
            "warning" => {
                warnings.insert((
                    triple.0,
                    triple.1,
                    triple.2,
                    f["informational"].as_str().unwrap().to_string(),
                ));
            }
            other => panic!("unexpected finding kind {other} in {dir}"),
        }
    }
    (vulns, warnings)
}

fn check(dir: &str) {
    let (exp_v, exp_w) = cargo_audit_sets(dir);
    let (got_v, got_w) = ours(dir);
    println!(
        "{dir}: {} vulnerabilities, {} warnings (cargo-audit)",
        exp_v.len(),
        exp_w.len()
    );
    assert_eq!(
        got_v, exp_v,
        "{dir}: vulnerabilities differ from cargo-audit"
    );
    assert_eq!(got_w, exp_w, "{dir}: warnings differ from cargo-audit");
}

#[test]
fn core_lockfile_time_smallvec_chrono() {
    let (exp_v, _) = cargo_audit_sets("core");
    let crates: BTreeSet<&str> = exp_v.iter().map(|t| t.1.as_str()).collect();
    assert!(
        crates.contains("time") && crates.contains("smallvec") && crates.contains("chrono"),
        "{exp_v:?}"
    );
    check("core");
}

#[test]
fn sled_lockfile() {
    check("sled");
}

#[test]
fn futures_util_lockfile() {
    check("futures-util");
}

#[test]
fn reqwest_lockfile() {
    check("reqwest");
}

#[test]
fn gix_lockfile() {
    check("gix");
}
