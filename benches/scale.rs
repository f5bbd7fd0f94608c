//! Scale benchmark: a directory of many deployment packages generated at
//! run time (into a temporary directory, never committed) from the real
//! lockfiles in `testdata/`, and the time of each stage of a scan over it
//! (discover, parse, DB open, match, JSON report), median of 5 runs.
//!
//! Run: `cargo bench --bench scale` (1,000 deployments, about 500,000
//! package entries). Arguments after `--`:
//! - `DEPLOYMENTS [ENTRIES]`: the size (default `1000 500000`);
//! - `generate DIR DEPLOYMENTS [ENTRIES]`: only write the tree to `DIR`
//!   (used for the whole-process figures in `benches/README.md`).
//!
//! The mix per deployment, cycling: npm package-lock.json slices of the
//! real 3,138-entry `testdata/npm/large-app` lockfile (sized so the total
//! reaches ENTRIES), yarn.lock, pnpm-lock.yaml, an installed node_modules
//! tree, Cargo.lock files of real crates, uv.lock, poetry.lock and
//! requirements.txt. The DB is the one in `DEPWARDEN_DB` (else the
//! default); it must already hold data.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use depwarden::advisory::store::Store;
use depwarden::audit::{AuditOptions, audit};
use depwarden::fs::OsFs;
use depwarden::parse::ParseOptions;
use depwarden::policy::Policies;
use serde_json::{Map, Value};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");

/// A real input copied verbatim into a deployment: (files or directories
/// relative to testdata, distinct packages it inventories).
const FIXED: &[(&[&str], usize)] = &[
    (
        &[
            "npm/same-set/yarn/yarn.lock",
            "npm/same-set/yarn/package.json",
        ],
        81,
    ),
    (
        &[
            "npm/same-set/pnpm/pnpm-lock.yaml",
            "npm/same-set/pnpm/package.json",
        ],
        81,
    ),
    (
        &[
            "npm/same-set/npm/node_modules",
            "npm/same-set/npm/package.json",
        ],
        86,
    ),
    (&["cargo/audit/gix/Cargo.lock"], 420),
    (&["cargo/audit/reqwest/Cargo.lock"], 303),
    (&["cargo/audit/sled/Cargo.lock"], 67),
    (&["pypi-lock/same-app/uv/uv.lock"], 18),
    (&["pypi-lock/same-app/poetry/poetry.lock"], 18),
    (&["pypi-lock/same-app/pip-compile/requirements.txt"], 17),
];

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(from)?;
        std::os::unix::fs::symlink(target, to)
    } else if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(|_| ())
    }
}

/// The first `keep` entries of the large app's lockfile, with dependency
/// declarations pruned to the entries kept, as a package-lock v3.
fn npm_slice(lock: &Value, keep: usize, tag: usize) -> Value {
    let mut out = lock.clone();
    let Some(packages) = lock.get("packages").and_then(Value::as_object) else {
        return out;
    };
    let mut kept = Map::new();
    for (k, v) in packages.iter().filter(|(k, _)| !k.is_empty()).take(keep) {
        kept.insert(k.clone(), v.clone());
    }
    let present = |dep: &str| kept.contains_key(&format!("node_modules/{dep}"));
    let mut pruned = Map::new();
    let mut root = packages.get("").cloned().unwrap_or(Value::Null);
    if let Some(obj) = root.as_object_mut() {
        obj.insert("name".into(), Value::String(format!("fn-{tag}")));
        for field in ["dependencies", "devDependencies", "optionalDependencies"] {
            if let Some(Value::Object(deps)) = obj.get_mut(field) {
                deps.retain(|name, _| present(name));
            }
        }
    }
    pruned.insert(String::new(), root);
    for (k, mut v) in kept.clone() {
        if let Some(obj) = v.as_object_mut() {
            for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
                if let Some(Value::Object(deps)) = obj.get_mut(field) {
                    deps.retain(|name, _| present(name));
                }
            }
        }
        pruned.insert(k, v);
    }
    if let Some(obj) = out.as_object_mut() {
        obj.insert("name".into(), Value::String(format!("fn-{tag}")));
        obj.insert("packages".into(), Value::Object(pruned));
    }
    out
}

/// Writes `deployments` deployment packages totalling about `entries`
/// distinct packages (summed over deployments) under `dir`; returns the
/// planned count.
fn generate(dir: &Path, deployments: usize, entries: usize) -> std::io::Result<usize> {
    let testdata = Path::new(TESTDATA);
    let large = std::fs::read_to_string(testdata.join("npm/large-app/package-lock.json"))?;
    let lock: Value = serde_json::from_str(&large).map_err(std::io::Error::other)?;
    let max_npm = lock
        .get("packages")
        .and_then(Value::as_object)
        .map_or(0, |p| p.len().saturating_sub(1));
    // Distinct (name, version) among the first k entries: what a slice of
    // k entries inventories.
    let mut seen = std::collections::HashSet::new();
    let mut distinct = vec![0usize];
    if let Some(packages) = lock.get("packages").and_then(Value::as_object) {
        for (k, v) in packages.iter().filter(|(k, _)| !k.is_empty()) {
            let name = k.rsplit("node_modules/").next().unwrap_or(k);
            let version = v.get("version").and_then(Value::as_str).unwrap_or("");
            seen.insert((name.to_string(), version.to_string()));
            distinct.push(seen.len());
        }
    }
    let keep_for = |want: usize| {
        distinct
            .iter()
            .position(|&c| c >= want)
            .unwrap_or(max_npm)
            .clamp(10, max_npm)
    };
    // Every other deployment is an npm slice; the rest cycle through FIXED.
    let npm_count = deployments.div_ceil(2);
    let fixed_total: usize = (0..deployments - npm_count)
        .map(|i| FIXED[i % FIXED.len()].1)
        .sum();
    let per_npm = entries
        .saturating_sub(fixed_total)
        .checked_div(npm_count)
        .unwrap_or(0);
    let mut planned = fixed_total;
    let mut fixed_i = 0;
    for d in 0..deployments {
        let root = dir.join(format!("fn-{d:05}"));
        std::fs::create_dir_all(&root)?;
        if d % 2 == 0 {
            // Vary sizes around the mean so deployments differ.
            let keep = keep_for(per_npm * (75 + (d % 51)) / 100);
            planned += distinct.get(keep).copied().unwrap_or(keep);
            let text = serde_json::to_string_pretty(&npm_slice(&lock, keep, d))
                .map_err(std::io::Error::other)?;
            std::fs::write(root.join("package-lock.json"), text)?;
            std::fs::write(
                root.join("package.json"),
                format!("{{\"name\": \"fn-{d}\", \"version\": \"1.0.0\"}}\n"),
            )?;
        } else {
            let (files, _) = FIXED[fixed_i % FIXED.len()];
            fixed_i += 1;
            for f in files {
                let from = testdata.join(f);
                let name = from.file_name().map(PathBuf::from).unwrap_or_default();
                copy_tree(&from, &root.join(name))?;
            }
        }
    }
    Ok(planned)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        // Drop the previous result first (an open store holds a lock).
        drop(last.take());
        let t = Instant::now();
        let out = f();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        last = Some(out);
    }
    match last {
        Some(out) => (median(times), out),
        None => panic!("no runs"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let num =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    if args.first().map(String::as_str) == Some("generate") {
        let dir = PathBuf::from(
            args.get(1)
                .expect("usage: generate DIR DEPLOYMENTS [ENTRIES]"),
        );
        let n = num(2, 1000);
        let planned = generate(&dir, n, num(3, n * 500)).expect("generate");
        eprintln!(
            "{n} deployments, about {planned} entries in {}",
            dir.display()
        );
        return;
    }
    let n = num(0, 1000);
    let entries = num(1, n * 500);
    let tmp = std::env::temp_dir().join(format!("depwarden-scale-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    generate(&tmp, n, entries).expect("generate");
    let fs = OsFs::default();
    let paths = vec![tmp.clone()];
    let options = ParseOptions::default();
    let db = std::env::var_os("DEPWARDEN_DB")
        .map(PathBuf::from)
        .or_else(|| depwarden::advisory::default_db_dir().ok())
        .expect("a database directory: set DEPWARDEN_DB");

    let (t_discover, discovery) = time(5, || {
        depwarden::discover::discover(&fs, &paths).expect("discover")
    });
    let (t_parse, inv) = time(5, || {
        depwarden::scan::parse_deployments(&fs, discovery.deployments.clone(), Vec::new(), &options)
    });
    let count: usize = inv
        .deployments
        .iter()
        .flat_map(|d| &d.sources)
        .filter_map(|s| s.result.as_ref().ok())
        .map(|p| p.graph.len())
        .sum();
    let (t_open, store) = time(5, || Store::open(&db).expect("open the DB (DEPWARDEN_DB)"));
    let policies = Policies::default();
    let opts = AuditOptions::default();
    let (t_match, report) = time(5, || audit(&inv, &store, &policies, &opts).expect("audit"));
    let (t_report, json) = time(5, || {
        depwarden::report::json::render(&report).expect("json")
    });
    println!(
        "{n} deployments, {count} package entries, {} vulnerabilities, {:.1} MB JSON",
        report.summary.vulnerabilities,
        json.len() as f64 / 1e6
    );
    for (stage, ms) in [
        ("discover", t_discover),
        ("parse", t_parse),
        ("db open", t_open),
        ("match", t_match),
        ("json report", t_report),
    ] {
        println!("{stage:<12} {ms:>9.1} ms (median of 5)");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
