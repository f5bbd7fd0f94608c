//! Shared helpers for the integration tests: a `depwarden` command bound to
//! a private advisory database. The embedded snapshot is imported once per
//! test binary into a template directory, which each test then copies, so
//! tests never share a sled directory (sled locks it) and never touch the
//! user's cache.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod http;

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh database directory holding the imported snapshot. Keep the
/// returned `TempDir` alive for as long as the database is used.
pub fn fresh_db() -> (tempfile::TempDir, PathBuf) {
    let (_keep, template) = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let out = Command::cargo_bin("depwarden")
            .unwrap()
            .arg("--db")
            .arg(&db)
            .args(["db", "status"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "snapshot import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, db)
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    copy_dir(template, &db);
    (dir, db)
}

/// `depwarden` with `--db` set to `db`, no colours, no progress.
pub fn depwarden(db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("depwarden").unwrap();
    cmd.env("NO_COLOR", "1")
        .env_remove("DEPWARDEN_DB")
        .arg("--db")
        .arg(db)
        .arg("--no-progress");
    cmd
}

/// Runs `scan --format json` with extra args and returns (exit code, JSON).
pub fn scan_json(db: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = depwarden(db)
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

/// Path of a file under testdata/.
pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// Every finding of every deployment.
pub fn findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["findings"].as_array().unwrap().clone())
        .collect()
}
