//! Shared helpers for the integration tests: a `depwarden` command with a
//! pinned clock, bound to a private advisory database. The embedded
//! snapshot is imported once per test run into a template directory, which
//! each test then copies, so tests never share a sled directory (sled locks
//! it) and never touch the user's cache.
//!
//! Every process a test starts comes from [`command`] (or [`bin`]), which
//! pins the clock with `DEPWARDEN_NOW`: reports that depend on "now" (data
//! age, ignore expiry, SBOM timestamps) are the same on any day.
#![allow(dead_code)]

pub mod functions;
pub mod gate;
pub mod http;

use assert_cmd::Command;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The instant every test run of the binary takes as "now".
pub const PINNED_NOW: &str = "2026-11-23T12:00:00Z";

/// The `depwarden` binary with the clock pinned to [`PINNED_NOW`] and no
/// colours.
///
/// When the tests run under libfaketime (`faketime -f '+400d' cargo test`,
/// which `.ci/run` does to prove there is no date bomb), the child keeps
/// the real monotonic clock: a shifted monotonic clock makes every timed
/// wait (futex deadlines are absolute) wait 400 days, which would test
/// libfaketime, not depwarden. The calendar stays shifted (and pinned by
/// `DEPWARDEN_NOW` anyway). Tests of network timeouts therefore drive the
/// binary, not the library in-process.
pub fn command() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_depwarden"));
    cmd.env("DEPWARDEN_NOW", PINNED_NOW)
        // A test run inside GitHub Actions must not write the job summary.
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    cmd
}

/// [`command`] as an `assert_cmd` command.
pub fn bin() -> Command {
    Command::from_std(command())
}

static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();

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

/// The database imported once for the whole run, shared by every test that
/// only reads it (scans offline, `explain`): scans memory-map its packed
/// index and never write. A test that writes to its database, removes or
/// damages a file of it, or goes online (which caches registry answers in
/// it) takes a [`fresh_db`].
pub fn shared_db() -> PathBuf {
    template().to_path_buf()
}

/// The template database, kept under Cargo's per-target scratch directory
/// (statics are never dropped, so a temporary directory here would outlive
/// every run) and keyed by the binary it was imported with: a rebuilt binary
/// imports a new one, and older templates are removed. It is imported into a
/// scratch directory and renamed into place, so a run that is killed midway
/// never leaves a half-imported template behind.
fn template() -> &'static Path {
    TEMPLATE.get_or_init(|| {
        let exe = Path::new(env!("CARGO_BIN_EXE_depwarden"));
        let meta = std::fs::metadata(exe).unwrap();
        let modified = meta
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let key = format!("{}-{}", meta.len(), modified.as_nanos());
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("db-templates");
        let done = root.join(&key);
        if done.join("db").is_dir() {
            return done.join("db");
        }
        std::fs::create_dir_all(&root).unwrap();
        let scratch = tempfile::tempdir_in(&root).unwrap();
        let db = scratch.path().join("db");
        let out = bin()
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
        let scratch = scratch.keep();
        if std::fs::rename(&scratch, &done).is_err() {
            // Another run of the same binary put its template there first.
            let _ = std::fs::remove_dir_all(&scratch);
        }
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = entry.file_name();
            if name != key.as_str() && !name.to_string_lossy().starts_with(".tmp") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        done.join("db")
    })
}

/// A fresh database directory holding the imported snapshot, for a test
/// that changes it. Keep the returned `TempDir` alive for as long as the
/// database is used.
pub fn fresh_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    copy_dir(template(), &db);
    (dir, db)
}

/// `depwarden` with `--db` set to `db`, no colours, no progress.
pub fn depwarden(db: &Path) -> Command {
    let mut cmd = bin();
    cmd.env_remove("DEPWARDEN_DB")
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

/// Data that lives outside the repository (the conformance corpus, the
/// typosquat evaluation set), located by the environment variable `var`
/// that `.ci/run` sets, joined with `rel`. When the variable is unset the
/// suite is skipped with a line on stderr saying what was not measured and
/// how to run it; when it is set, the data must be there.
pub fn external_data(var: &str, rel: &str, what: &str) -> Option<PathBuf> {
    let Some(base) = std::env::var_os(var) else {
        // Straight to the stream: the test harness captures `eprintln!`
        // of passing tests, and this line is meant to be seen.
        let _ = writeln!(
            std::io::stderr(),
            "{what}: not measured ({var} is not set; .ci/run sets it, or set it by hand)"
        );
        return None;
    };
    let base = PathBuf::from(base);
    let path = if rel.is_empty() { base } else { base.join(rel) };
    assert!(
        path.exists(),
        "{what}: {var} is set but {} does not exist",
        path.display()
    );
    Some(path)
}
