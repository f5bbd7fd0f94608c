//! A real Lambda-style `bootstrap` built with cargo-auditable gives the same
//! inventory as the Cargo.lock it was built from (testdata/cargo/bootstrap,
//! see its README for the recipe).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn base() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cargo/bootstrap")
}

fn inventory(path: &Path) -> Value {
    let out = crate::common::bin()
        .args(["inventory", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    for d in json["deployments"].as_array().unwrap() {
        for e in d["errors"].as_array().unwrap() {
            assert_ne!(e["level"], "error", "{e}");
        }
    }
    json
}

type Set = BTreeSet<(String, String)>;

fn set(json: &Value, keep: impl Fn(&Value) -> bool) -> Set {
    json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| keep(p))
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has_group(p: &Value, g: &str) -> bool {
    p["groups"].as_array().unwrap().iter().any(|x| x == g)
}

#[test]
fn bootstrap_matches_its_lockfile() {
    // Discovery finds `bootstrap` in the function directory by name.
    let bin = inventory(&base().join("function"));
    let lock = inventory(&base().join("source/Cargo.lock"));
    assert!(
        bin["packages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["format"] == "rust-binary")
    );

    // Everything compiled into the binary (runtime and build kinds) is
    // exactly the lockfile minus its dev-only packages.
    let bin_all = set(&bin, |_| true);
    let lock_shipped = set(&lock, |p| p["dev"] == false);
    assert_eq!(bin_all, lock_shipped);
    assert_eq!(bin_all.len(), 14);
    assert_eq!(set(&lock, |_| true).len(), 23);

    // Minus build-only dependencies: the binary's runtime packages are
    // lockfile packages that are neither dev nor build-only, and the
    // lockfile's build-only packages never show up as runtime ones.
    let bin_runtime = set(&bin, |p| !has_group(p, "build"));
    let lock_runtime = set(&lock, |p| p["dev"] == false && !has_group(p, "build"));
    assert!(bin_runtime.is_subset(&lock_runtime));
    assert!(
        set(&lock, |p| has_group(p, "build"))
            .intersection(&bin_runtime)
            .next()
            .is_none()
    );
    // What the binary marks build-only are the proc-macro crates, which a
    // lockfile cannot tell apart; nothing else differs.
    let proc_macro_side: Set = lock_runtime.difference(&bin_runtime).cloned().collect();
    let names: BTreeSet<&str> = proc_macro_side.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "proc-macro2",
            "quote",
            "serde_derive",
            "syn",
            "unicode-ident"
        ])
    );

    // The same root and the same direct dependencies.
    let roots = |j: &Value| set(j, |p| p["root"] == true);
    assert_eq!(roots(&bin), roots(&lock));
    let direct = |j: &Value| set(j, |p| p["direct"] == true && p["dev"] == false);
    assert_eq!(direct(&bin), direct(&lock));
}

#[test]
fn cargo_audit_saw_the_same_packages_in_the_binary() {
    let report: Value =
        serde_json::from_slice(&std::fs::read(base().join("cargo-audit-bin.json")).unwrap())
            .unwrap();
    let bin = inventory(&base().join("function/bootstrap"));
    assert_eq!(
        report["lockfile"]["dependency-count"].as_u64().unwrap() as usize,
        set(&bin, |_| true).len()
    );
}
