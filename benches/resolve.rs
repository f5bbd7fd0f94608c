//! Resolution time from a warm registry-metadata store, and the store's
//! size: a synthetic npm registry whose tree for one `package.json` has
//! 300 packages (each with 30 versions, 3 dependencies, shared
//! dependencies that npm deduplicates and conflicting majors it nests),
//! and a synthetic PyPI index whose tree for one requirements file has 60
//! projects (30 versions each, wheels and sdists, core metadata with
//! ranges and markers). The store is written to a temporary directory at
//! run time; each resolution reads it from scratch (a new `Docs`, as a
//! scan does). Median of 11 runs. Run: `cargo bench --bench resolve`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use depwarden::parse::Target;
use depwarden::resolve::docs::Docs;
use depwarden::resolve::model::*;
use depwarden::resolve::npm::{self, NpmInput};
use depwarden::resolve::pypi::{self, PyInput};
use depwarden::resolve::store::{DocKind, FetchInfo, MetaStore};

const NPM_PACKAGES: usize = 300;
const PYPI_PROJECTS: usize = 60;
const VERSIONS: usize = 30;

fn npm_name(i: usize) -> String {
    format!("pkg-{i:03}")
}

/// Package i depends on 3i+1..3i+3 (a tree over 300 packages) and on a
/// shared utility, half of them on its old major (nested by npm).
fn fill_npm(store: &MetaStore) {
    for i in 0..NPM_PACKAGES {
        let mut versions = Vec::new();
        for major in 1..=2 {
            for v in 0..VERSIONS / 2 {
                let mut deps = BTreeMap::new();
                for c in 3 * i + 1..=3 * i + 3 {
                    if c < NPM_PACKAGES {
                        deps.insert(npm_name(c), "^2.0.0".to_string());
                    }
                }
                if i > 0 && i != NPM_PACKAGES - 1 {
                    let util = if i % 2 == 0 { "^1.0.0" } else { "^2.0.0" };
                    deps.insert(npm_name(NPM_PACKAGES - 1), util.to_string());
                }
                versions.push(NpmVersion {
                    version: format!("{major}.{v}.0"),
                    time: Some(1_600_000_000 + (major * 100 + v) as u64 * 86_400),
                    deps,
                    ..Default::default()
                });
            }
        }
        let doc = NpmDoc {
            latest: Some(format!("2.{}.0", VERSIONS / 2 - 1)),
            tags: BTreeMap::new(),
            versions,
        };
        store
            .put(
                DocKind::Npm,
                &npm_name(i),
                Some(&doc),
                &FetchInfo::default(),
            )
            .unwrap();
    }
}

fn py_name(i: usize) -> String {
    format!("proj-{i:02}")
}

/// Project i requires 2i+1 and 2i+2 (a tree over 60 projects), with a
/// marker that is true on Lambda and an extra that is not requested.
fn fill_pypi(store: &MetaStore) {
    for i in 0..PYPI_PROJECTS {
        let name = py_name(i);
        let mut files = Vec::new();
        for v in 0..VERSIONS {
            let version = format!("1.{v}");
            let t = Some(1_600_000_000 + v as u64 * 86_400);
            for (filename, wheel) in [
                (
                    format!("{}-{version}-py3-none-any.whl", name.replace('-', "_")),
                    true,
                ),
                (format!("{name}-{version}.tar.gz"), false),
            ] {
                let url = format!("https://files.example/{filename}");
                if wheel {
                    let mut requires = Vec::new();
                    for c in [2 * i + 1, 2 * i + 2] {
                        if c < PYPI_PROJECTS {
                            requires
                                .push(format!("{}>=1.0,<2; python_version >= \"3.8\"", py_name(c)));
                        }
                    }
                    requires.push("pytest; extra == \"test\"".into());
                    let meta = PyMetadata {
                        requires_dist: requires,
                        requires_python: Some(">=3.8".into()),
                    };
                    let key = format!("{name}/{filename}");
                    store
                        .put(
                            DocKind::PypiMetadata,
                            &key,
                            Some(&meta),
                            &FetchInfo::default(),
                        )
                        .unwrap();
                }
                files.push(PyFile {
                    filename,
                    url,
                    requires_python: Some(">=3.8".into()),
                    yanked: false,
                    time: t,
                });
            }
        }
        store
            .put(
                DocKind::Pypi,
                &name,
                Some(&PyProject { files }),
                &FetchInfo::default(),
            )
            .unwrap();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = MetaStore::open(&dir.path().join("registry-metadata")).expect("store");
    fill_npm(&store);
    fill_pypi(&store);
    store.flush().unwrap();
    let target = Target::default();
    let cutoff = u64::MAX / 2;

    let input = NpmInput {
        deps: BTreeMap::from([(npm_name(0), "^2.0.0".to_string())]),
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..11 {
        let t = Instant::now();
        let docs = Docs::new(Some(&store), cutoff);
        let tree = npm::resolve(&input, &docs, &target);
        let _ = docs.digest();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        count = tree.packages.len();
        assert!(tree.unresolved.is_empty());
    }
    println!(
        "npm: {count} packages resolved in {:.1} ms (median of 11)",
        median(times)
    );

    let req =
        depwarden::parsers::pypi::pep508::requirement(&format!("{}>=1.0", py_name(0))).unwrap();
    let input = PyInput {
        requirements: vec![req],
        ..Default::default()
    };
    let mut times = Vec::new();
    for _ in 0..11 {
        let t = Instant::now();
        let docs = Docs::new(Some(&store), cutoff);
        let tree = pypi::resolve(&input, &docs, &target).expect("solvable");
        let _ = docs.digest();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        count = tree.packages.len();
    }
    println!(
        "PyPI: {count} projects resolved in {:.1} ms (median of 11)",
        median(times)
    );

    let status = store.status().unwrap();
    println!(
        "store: {} bytes on disk for {:?} documents",
        status.bytes, status.documents
    );
}
