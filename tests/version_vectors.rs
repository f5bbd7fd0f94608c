//! Every ordering vector in ../shared/conformance/versions must hold:
//! `a < b`, `a > b`, `a = b` / `a == b` lines; `//` comments and blank
//! lines are skipped. The PEP 440 files use the PyPI ordering, the SemVer
//! file the npm/crates.io ordering.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use depwarden::ecosystem::Ecosystem;
use depwarden::version::compare;
use std::cmp::Ordering;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    let candidates = [
        std::env::var("DEPWARDEN_SHARED")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join("conformance/versions"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/versions"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/versions"),
    ];
    candidates
        .into_iter()
        .find(|p| p.is_dir())
        .expect("version vectors not found")
}

fn check(file: &str, eco: Ecosystem) -> usize {
    let text = std::fs::read_to_string(vectors_dir().join(file)).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let (a, op, b) = ["==", "<", ">", "="]
            .iter()
            .find_map(|op| {
                line.split_once(&format!(" {op} "))
                    .map(|(a, b)| (a.trim(), *op, b.trim()))
            })
            .unwrap_or_else(|| panic!("unparsable vector line {line:?}"));
        let want = match op {
            "<" => Ordering::Less,
            ">" => Ordering::Greater,
            _ => Ordering::Equal,
        };
        match compare(eco, a, b) {
            Some(got) if got == want => {}
            got => failures.push(format!("{line}: got {got:?}")),
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{file}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{file}: {checked} vectors hold");
    checked
}

#[test]
fn semver_vectors_hold_for_npm_and_crates() {
    assert!(check("semver-versions.txt", Ecosystem::Npm) > 50);
    check("semver-versions.txt", Ecosystem::CratesIo);
}

#[test]
fn pep440_vectors_hold() {
    assert!(check("pypi-versions.txt", Ecosystem::PyPI) > 20);
    assert!(check("pypi-versions-generated.txt", Ecosystem::PyPI) > 10_000);
}
