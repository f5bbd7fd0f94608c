//! Advisory-store benchmark: a synthetic npm `all.zip` shaped like the OSV
//! bucket's (see `support/osv_gen.rs`) at 20,000, 200,000 and 400,000 records, and
//! for each, whole-process figures of a release binary:
//!
//! - `unzip -p ZIP > /dev/null` and `depwarden db import ZIP` into a fresh
//!   database, alternating, median wall time of `--runs` (default 3), and
//!   the import's peak RSS from `/usr/bin/time -v`;
//! - the store's size on disk beside the zip's;
//! - a scan of a package-lock.json naming 40 malicious and 10 vulnerable
//!   packages of the feed and 50 others (median wall time);
//! - an incremental `db sync` from a bucket-layout directory after 100
//!   records changed (`modified_id.csv` and 100 `<ID>.json`), after a full
//!   sync from the same directory.
//!
//! Run: `cargo build --release && cargo bench --bench osv_store -- --bin
//! target/release/depwarden [--sizes 20000,200000,400000] [--runs 3]
//! [--dir DIR]` (zips are generated once into DIR, default a directory
//! under the system's temp dir, and kept for the next run).
//! `cargo bench --bench osv_store -- generate ZIP N` only writes a zip.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/osv_gen.rs"]
mod osv_gen;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const SEED: u64 = 26;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn du(path: &Path) -> u64 {
    walk(path)
}

fn walk(p: &Path) -> u64 {
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return 0;
    };
    if m.is_dir() {
        std::fs::read_dir(p)
            .unwrap()
            .flatten()
            .map(|e| walk(&e.path()))
            .sum()
    } else {
        m.len()
    }
}

/// Wall seconds and peak RSS (KB) of `cmd` under `/usr/bin/time -v`.
fn timed(cmd: &[&str]) -> (f64, u64) {
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .args(cmd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("/usr/bin/time");
    let wall = t.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr);
    let rss = err
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{cmd:?} failed: {err}"
    );
    (wall, rss)
}

fn unzip_p(zip: &Path) -> f64 {
    let t = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("unzip -p '{}' > /dev/null", zip.display()))
        .status()
        .expect("unzip");
    assert!(status.success());
    t.elapsed().as_secs_f64()
}

/// (name, version) of record `n` of the feed.
fn package_of(n: u64) -> (String, String) {
    let (_, json) = osv_gen::record(SEED, n, "2024-01-01T00:00:00Z");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let a = &v["affected"][0];
    let name = a["package"]["name"].as_str().unwrap().to_string();
    let version = a["versions"][0]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| "0.0.1".into());
    (name, version)
}

fn write_lock(dir: &Path, records: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let mut packages = serde_json::Map::new();
    let mut deps = serde_json::Map::new();
    let mut add = |name: String, version: String| {
        deps.insert(name.clone(), serde_json::Value::String(version.clone()));
        packages.insert(
            format!("node_modules/{name}"),
            serde_json::json!({ "version": version }),
        );
    };
    for i in 0..40 {
        let (n, v) = package_of(i * (records / 40) / 10 * 10);
        add(n, v);
    }
    for i in 0..10 {
        let (n, v) = package_of(i * (records / 10) / 10 * 10 + 9);
        add(n, v);
    }
    for i in 0..50 {
        add(format!("clean-package-{i}"), "1.0.0".into());
    }
    let mut root = serde_json::Map::new();
    root.insert("name".into(), "app".into());
    root.insert("version".into(), "1.0.0".into());
    root.insert("dependencies".into(), serde_json::Value::Object(deps));
    packages.insert(String::new(), serde_json::Value::Object(root));
    let lock = serde_json::json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3,
        "requires": true, "packages": packages});
    std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();
}

fn run(args: &[String]) {
    let bin = flag(args, "--bin").unwrap_or_else(|| "target/release/depwarden".into());
    let runs: usize = flag(args, "--runs")
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let sizes: Vec<u64> = flag(args, "--sizes")
        .unwrap_or_else(|| "20000,200000,400000".into())
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let dir = flag(args, "--dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("depwarden-osv-store-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    println!("binary: {bin}");
    for n in sizes {
        let bucket = dir.join(format!("bucket-{n}"));
        let zip = bucket.join("npm").join("all.zip");
        if !zip.is_file() {
            std::fs::create_dir_all(zip.parent().unwrap()).unwrap();
            osv_gen::write_zip(&zip, n, SEED).unwrap();
            let mut csv = String::new();
            let mut rows: Vec<(String, String)> = (0..n)
                .map(|i| {
                    (
                        osv_gen::modified_of(SEED, i),
                        osv_gen::record(SEED, i, "").0,
                    )
                })
                .collect();
            rows.sort_by(|a, b| b.cmp(a));
            for (m, id) in rows {
                csv.push_str(&format!("{m},{id}\n"));
            }
            std::fs::write(bucket.join("npm").join("modified_id.csv"), csv).unwrap();
        }
        let db = dir.join(format!("db-{n}"));
        let (mut unzip, mut import, mut rss) = (Vec::new(), Vec::new(), 0u64);
        for _ in 0..runs {
            unzip.push(unzip_p(&zip));
            let _ = std::fs::remove_dir_all(&db);
            let (w, m) = timed(&[
                &bin,
                "--db",
                db.to_str().unwrap(),
                "--no-progress",
                "-q",
                "db",
                "import",
                zip.to_str().unwrap(),
            ]);
            import.push(w);
            rss = rss.max(m);
        }
        let zip_size = std::fs::metadata(&zip).unwrap().len();
        let store = du(&db);
        let app = dir.join(format!("app-{n}"));
        write_lock(&app, n);
        let scan_cmd = [
            bin.as_str(),
            "--db",
            db.to_str().unwrap(),
            "--no-progress",
            "scan",
            "--format",
            "json",
            app.to_str().unwrap(),
        ];
        timed(&scan_cmd);
        let (scans, scan_rss): (Vec<f64>, Vec<u64>) =
            (0..runs.max(5)).map(|_| timed(&scan_cmd)).unzip();
        // Incremental sync: full sync from the bucket, then 100 changed records.
        let sync_db = dir.join(format!("sync-db-{n}"));
        let _ = std::fs::remove_dir_all(&sync_db);
        let sync = |db: &Path| {
            timed(&[
                &bin,
                "--db",
                db.to_str().unwrap(),
                "--no-progress",
                "-q",
                "db",
                "sync",
                "--ecosystem",
                "npm",
                "--source",
                bucket.to_str().unwrap(),
            ])
        };
        let (full, _) = sync(&sync_db);
        let csv_path = bucket.join("npm").join("modified_id.csv");
        let original = std::fs::read_to_string(&csv_path).unwrap();
        let mut changed = String::new();
        for i in 0..100u64 {
            let k = i * (n / 100);
            let stamp = format!("2025-12-31T00:00:{:02}Z", i % 60);
            let (id, json) = osv_gen::record(SEED, k, &stamp);
            std::fs::write(
                bucket.join("npm").join(format!("{id}.json")),
                osv_gen::pretty(&json),
            )
            .unwrap();
            changed.push_str(&format!("{stamp},{id}\n"));
        }
        std::fs::write(&csv_path, format!("{changed}{original}")).unwrap();
        let (incremental, inc_rss) = sync(&sync_db);
        std::fs::write(&csv_path, original).unwrap();
        let _ = std::fs::remove_dir_all(&sync_db);
        println!(
            "{n} records: zip {:.1} MB; unzip -p {:.2} s; import {:.2} s ({:.2}x), peak {:.0} MB; store {:.1} MB ({:.2}x the zip); scan {:.1} ms, peak {:.0} MB; full sync {:.2} s; incremental sync of 100 records {:.2} s, peak {:.0} MB",
            zip_size as f64 / 1e6,
            median(unzip.clone()),
            median(import.clone()),
            median(import) / median(unzip),
            rss as f64 / 1024.0,
            store as f64 / 1e6,
            store as f64 / zip_size as f64,
            median(scans) * 1e3,
            *scan_rss.iter().max().unwrap() as f64 / 1024.0,
            full,
            incremental,
            inc_rss as f64 / 1024.0,
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("generate") {
        let path = PathBuf::from(&args[1]);
        let n: u64 = args[2].parse().unwrap();
        let json = osv_gen::write_zip(&path, n, SEED).unwrap();
        let zip = std::fs::metadata(&path).unwrap().len();
        eprintln!(
            "{n} records: {:.1} MB JSON, {:.1} MB zip",
            json as f64 / 1e6,
            zip as f64 / 1e6
        );
        return;
    }
    run(&args);
}
