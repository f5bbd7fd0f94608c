//! The cargo-audit parity fixtures (testdata/cargo/audit/*): real Cargo.lock
//! files with cargo-audit's JSON output on the same RustSec data. This test
//! checks the inventory side: every package cargo-audit counted is in the
//! graph, every package it reports is inventoried with the same version,
//! and the dependency lists it prints for those packages equal the edges
//! resolved here. (The findings themselves are compared by the matcher's
//! parity test.) cargo-audit is not needed to run it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use depwarden::fs::OsFs;
use depwarden::parse::{ParseContext, ParseOptions, ParsedSource};
use depwarden::parsers::parse_source;
use depwarden::source::{SourceFormat, SourceRef};
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cargo/audit");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("cargo-audit.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn parse(path: &Path) -> ParsedSource {
    let fs = OsFs::default();
    let source = SourceRef::new(path, SourceFormat::CargoLock);
    let options = ParseOptions::default();
    let root = path.parent().unwrap().to_path_buf();
    let ctx = ParseContext {
        fs: &fs,
        source: &source,
        root: &root,
        options: &options,
    };
    parse_source(&ctx).unwrap()
}

/// Every `package` object cargo-audit reports (vulnerabilities and warnings).
fn reported_packages(report: &Value) -> Vec<&Value> {
    let mut out: Vec<&Value> = report["vulnerabilities"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["package"])
        .collect();
    for list in report["warnings"].as_object().unwrap().values() {
        out.extend(list.as_array().unwrap().iter().map(|w| &w["package"]));
    }
    out
}

#[test]
fn inventory_covers_what_cargo_audit_reports() {
    let dirs = fixtures();
    assert!(dirs.len() >= 3, "at least three parity fixtures");
    let mut largest = 0;
    for dir in dirs {
        let report: Value =
            serde_json::from_slice(&std::fs::read(dir.join("cargo-audit.json")).unwrap()).unwrap();
        let parsed = parse(&dir.join("Cargo.lock"));
        let g = &parsed.graph;
        let count = report["lockfile"]["dependency-count"].as_u64().unwrap() as usize;
        assert_eq!(g.len(), count, "{}", dir.display());
        largest = largest.max(count);
        let inventory: BTreeSet<(String, String)> = g
            .packages()
            .iter()
            .map(|p| (p.name.clone(), p.version.clone().unwrap()))
            .collect();
        let reported = reported_packages(&report);
        for pkg in &reported {
            let name = pkg["name"].as_str().unwrap().to_string();
            let version = pkg["version"].as_str().unwrap().to_string();
            assert!(
                inventory.contains(&(name.clone(), version.clone())),
                "{}: {name} {version}",
                dir.display()
            );
            // cargo-audit's dependency list of the package = our edges.
            let id = g
                .iter()
                .find(|(_, p)| p.name == name && p.version.as_deref() == Some(&version))
                .unwrap()
                .0;
            let ours: BTreeSet<(String, String)> = g
                .dependencies(id)
                .iter()
                .map(|(t, _)| {
                    let t = g.package(*t);
                    (t.name.clone(), t.version.clone().unwrap())
                })
                .collect();
            // cargo-audit omits the key for a package without dependencies.
            let theirs: BTreeSet<(String, String)> = pkg["dependencies"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|d| {
                    (
                        d["name"].as_str().unwrap().to_string(),
                        d["version"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            assert_eq!(ours, theirs, "{}: edges of {name} {version}", dir.display());
        }
        println!(
            "{}: {count} packages, {} reported packages checked",
            dir.file_name().unwrap().to_string_lossy(),
            reported.len()
        );
    }
    assert!(largest >= 300, "one fixture with several hundred packages");
}

#[test]
fn core_fixture_holds_the_packages_the_core_test_needs() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cargo/audit/core");
    let report: Value =
        serde_json::from_slice(&std::fs::read(base.join("cargo-audit.json")).unwrap()).unwrap();
    let ids: BTreeSet<(String, String, String)> = report["vulnerabilities"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["advisory"]["id"].as_str().unwrap().to_string(),
                v["package"]["name"].as_str().unwrap().to_string(),
                v["package"]["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let crates: BTreeSet<_> = ids.iter().map(|(_, n, v)| format!("{n} {v}")).collect();
    for want in ["time 0.1.43", "smallvec 1.6.0", "chrono 0.4.19"] {
        assert!(crates.contains(want), "{want}: {ids:?}");
    }
}
