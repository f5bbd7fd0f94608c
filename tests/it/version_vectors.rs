//! Version ordering vectors must hold: `a < b`, `a > b`, `a = b` /
//! `a == b` lines; `//` comments and blank lines are skipped. The PEP 440
//! files use the PyPI ordering, the SemVer files the npm/crates.io ordering.
//! Our own vectors (testdata/versions) always run; the conformance corpus's
//! (`$DEPWARDEN_SHARED/conformance/versions`) when `.ci/run` points at it.

use depwarden::ecosystem::Ecosystem;
use depwarden::version::compare;
use std::cmp::Ordering;
use std::path::Path;

fn check(file: &Path, eco: Ecosystem) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    let file = file.display();
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

fn ours(file: &str) -> std::path::PathBuf {
    crate::common::testdata(&format!("versions/{file}"))
}

#[test]
fn our_semver_vectors_hold_for_npm_and_crates() {
    assert!(check(&ours("semver.txt"), Ecosystem::Npm) > 100);
    check(&ours("semver.txt"), Ecosystem::CratesIo);
}

#[test]
fn our_pep440_vectors_hold() {
    assert!(check(&ours("pep440.txt"), Ecosystem::PyPI) > 200);
}

fn shared_vectors() -> Option<std::path::PathBuf> {
    crate::common::external_data(
        "DEPWARDEN_SHARED",
        "conformance/versions",
        "conformance version vectors",
    )
}

#[test]
fn conformance_semver_vectors_hold_for_npm_and_crates() {
    let Some(dir) = shared_vectors() else { return };
    assert!(check(&dir.join("semver-versions.txt"), Ecosystem::Npm) > 50);
    check(&dir.join("semver-versions.txt"), Ecosystem::CratesIo);
}

#[test]
fn conformance_pep440_vectors_hold() {
    let Some(dir) = shared_vectors() else { return };
    assert!(check(&dir.join("pypi-versions.txt"), Ecosystem::PyPI) > 20);
    assert!(check(&dir.join("pypi-versions-generated.txt"), Ecosystem::PyPI) > 10_000);
}
