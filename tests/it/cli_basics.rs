//! Command-line behaviour that does not depend on any parser or advisory:
//! usage errors, missing paths and configuration errors give exit code 2
//! with a message naming the problem.

use assert_cmd::Command;
use predicates::str::contains;

fn depwarden(db: &std::path::Path) -> Command {
    let mut cmd = crate::common::bin();
    cmd.env("DEPWARDEN_DB", db).env("NO_COLOR", "1");
    cmd
}

#[test]
fn missing_path_is_exit_2_and_named() {
    let db = tempfile::tempdir().unwrap();
    depwarden(db.path())
        .args(["inventory", "/nonexistent/fn-zip"])
        .assert()
        .code(2)
        .stderr(contains("/nonexistent/fn-zip"));
    depwarden(db.path())
        .args(["scan", "--no-progress", "/nonexistent/fn-zip"])
        .assert()
        .code(2)
        .stderr(contains("/nonexistent/fn-zip"));
}

#[test]
fn unknown_format_is_a_usage_error() {
    let db = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    depwarden(db.path())
        .args(["scan", "--format", "pdf"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("pdf"));
    depwarden(db.path())
        .args(["scan", "--fail-on", "severe"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("severe"));
}

#[test]
fn bad_config_names_file_key_and_line() {
    let db = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("depwarden.toml");
    std::fs::write(&cfg, "[gate]\nfail_on = \"high\"\nfial_on = \"low\"\n").unwrap();
    depwarden(db.path())
        .args(["scan", "--no-progress"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("depwarden.toml"))
        .stderr(contains("fial_on"))
        .stderr(contains("line 3"));
}

#[test]
fn global_options_are_accepted_before_and_after_the_subcommand() {
    let db = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::common::bin();
    cmd.arg("--db")
        .arg(db.path())
        .args(["--no-progress", "inventory", "--format", "json"])
        .arg(dir.path());
    cmd.assert().code(0).stdout(contains("\"packages\""));
    let mut cmd = crate::common::bin();
    cmd.args(["inventory", "--format", "json"])
        .arg(dir.path())
        .arg("--db")
        .arg(db.path())
        .arg("--no-progress");
    cmd.assert().code(0);
}

#[test]
fn several_formats_need_an_output_stem() {
    let db = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    depwarden(db.path())
        .args(["scan", "--no-progress", "--format", "json,sarif"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("--output"));
}
