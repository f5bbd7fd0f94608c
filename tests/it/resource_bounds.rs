//! No input makes depwarden use memory or time out of proportion to it:
//! deep YAML and alias bombs are refused before parsing, over-long lines
//! of line-oriented formats are errors for their line or entry (the rest
//! is kept), dependency paths are listed in part past a cap, `--jobs` and
//! lookup timeouts are capped, a stalled download says it timed out. Each
//! refusal names its limit. (Speed and memory are measured in
//! `benches/hostile.py`, not here.)

use crate::common::http::{Fault, Server};
use crate::common::{command, depwarden, shared_db};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn inventory(dir: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = depwarden(&shared_db())
        .args(["inventory", "--format", "json"])
        .args(extra)
        .arg(dir)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every error message of every deployment.
fn errors(inv: &Value) -> Vec<String> {
    inv["deployments"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["errors"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["level"] == "error")
        .map(|e| e["message"].as_str().unwrap_or("").to_string())
        .collect()
}

fn names(inv: &Value) -> Vec<String> {
    inv["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn deep_yaml_flow_nesting_is_refused_before_parsing() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 100_000;
    std::fs::write(
        tmp.path().join("pnpm-lock.yaml"),
        format!(
            "lockfileVersion: '6.0'\npackages: {}{}\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
    )
    .unwrap();
    let (code, inv, _) = inventory(tmp.path(), &[]);
    assert_eq!(code, 0);
    let errs = errors(&inv);
    assert!(
        errs.iter().any(|e| e.contains("nested deeper than 128")),
        "{errs:?}"
    );
    let (code, _, _) = inventory(tmp.path(), &["--strict"]);
    assert_eq!(code, 2);
}

#[test]
fn yaml_alias_expansion_over_the_budget_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut y = String::from(
        "lockfileVersion: '6.0'\n\npackages:\n\n  /base@1.0.0:\n    resolution: {integrity: sha512-x}\n    dependencies: &deps\n",
    );
    for i in 0..20_000 {
        y.push_str(&format!("      k{i}: 1\n"));
    }
    for j in 0..60 {
        y.push_str(&format!("  /p{j}@1.0.0:\n    dependencies: *deps\n"));
    }
    std::fs::write(tmp.path().join("pnpm-lock.yaml"), y).unwrap();
    let (_, inv, _) = inventory(tmp.path(), &[]);
    let errs = errors(&inv);
    assert!(
        errs.iter()
            .any(|e| e.contains("aliases would expand") && e.contains("1000000")),
        "{errs:?}"
    );
}

#[test]
fn an_overlong_requirements_line_is_an_error_for_that_line() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "a ".repeat(1 << 20);
    std::fs::write(
        tmp.path().join("requirements.txt"),
        format!("flask==2.0.0\n{long}\nrequests==2.31.0\n"),
    )
    .unwrap();
    let (_, inv, _) = inventory(tmp.path(), &[]);
    let errs = errors(&inv);
    assert!(
        errs.iter()
            .any(|e| e.contains("line 2") && e.contains("1048576-byte limit")),
        "{errs:?}"
    );
    assert!(errs.iter().all(|e| e.len() < 4096));
    let n = names(&inv);
    assert!(
        n.contains(&"flask".into()) && n.contains(&"requests".into()),
        "{n:?}"
    );
}

#[test]
fn an_overlong_yarn_lock_line_is_an_error_for_its_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let name = "a".repeat(2 << 20);
    std::fs::write(
        tmp.path().join("yarn.lock"),
        format!(
            "# yarn lockfile v1\n\n\n{name}@^1.0.0:\n  version \"1.0.0\"\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n"
        ),
    )
    .unwrap();
    let (_, inv, _) = inventory(tmp.path(), &[]);
    let errs = errors(&inv);
    assert!(
        errs.iter()
            .any(|e| e.contains("line 4") && e.contains("1048576-byte limit")),
        "{errs:?}"
    );
    assert_eq!(names(&inv), vec!["left-pad".to_string()]);
}

#[test]
fn dependency_paths_of_a_deep_chain_are_listed_in_part() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 1_000;
    let mut packages = serde_json::Map::new();
    packages.insert(
        String::new(),
        serde_json::json!({"name": "app", "version": "1.0.0", "dependencies": {"p0": "1.0.0"}}),
    );
    for i in 0..n {
        let mut e = serde_json::json!({"version": "1.0.0"});
        if i + 1 < n {
            e["dependencies"] = serde_json::json!({format!("p{}", i + 1): "1.0.0"});
        }
        packages.insert(format!("node_modules/p{i}"), e);
    }
    let lock = serde_json::json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": packages});
    std::fs::write(tmp.path().join("package-lock.json"), lock.to_string()).unwrap();
    let (code, inv, _) = inventory(tmp.path(), &[]);
    assert_eq!(code, 0);
    let pkgs = inv["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), n);
    for p in pkgs {
        let path = p["path"].as_array().unwrap();
        assert!(path.len() <= 17, "{}", path.len());
    }
    let last = pkgs
        .iter()
        .find(|p| p["name"] == format!("p{}", n - 1))
        .unwrap();
    let path: Vec<&str> = last["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(path[0], "p0");
    assert_eq!(path[1], format!("… {} more …", n - 16));
    assert_eq!(path[16], format!("p{}", n - 1));
}

#[test]
fn jobs_over_the_cap_are_refused() {
    for cmd in ["scan", "inventory"] {
        let out = depwarden(&shared_db())
            .args([cmd, "--jobs", "100000"])
            .arg(crate::common::testdata("demo"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("--jobs 100000") && err.contains("256"),
            "{err}"
        );
    }
}

#[test]
fn a_lookup_timeout_over_the_maximum_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("depwarden.toml");
    std::fs::write(&cfg, "[registries]\ntimeout_ms = 86400000\n").unwrap();
    let out = depwarden(&shared_db())
        .args(["scan", "--online", "--config"])
        .arg(&cfg)
        .arg(crate::common::testdata("confusion/npm-private"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("timeout_ms") && err.contains("30000"), "{err}");
}

#[test]
fn a_download_stalled_midway_says_timed_out() {
    let server = Server::start();
    server.put("/npm/all.zip", vec![b'x'; 64 * 1024]);
    server.fault("/npm/all.zip", Fault::StallMidway(Duration::from_secs(20)));
    let tmp = tempfile::tempdir().unwrap();
    let out = command()
        .env("DEPWARDEN_HTTP_TIMEOUT", "1")
        .env("DEPWARDEN_HTTP_BACKOFF_MS", "20")
        .arg("--db")
        .arg(tmp.path().join("db"))
        .args([
            "--no-progress",
            "db",
            "sync",
            "--ecosystem",
            "npm",
            "--source",
        ])
        .arg(&server.base)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("timed out"), "{err}");
    assert!(!err.contains("error decoding response body"), "{err}");
    assert!(err.contains("/npm/all.zip"), "{err}");
}

#[test]
fn an_os_error_is_named_once() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = command()
        .arg("--db")
        .arg(&file)
        .args(["db", "status"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
    assert!(err.contains("not-a-dir"), "{err}");
}

#[test]
fn a_package_name_the_size_of_the_file_is_kept_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let name = "a".repeat(2 << 20);
    let lock = serde_json::json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {name.clone(): "1.0.0", "left-pad": "1.3.0"}},
            format!("node_modules/{name}"): {"version": "1.0.0"},
            "node_modules/left-pad": {"version": format!("1.3.0-{}", "b".repeat(4096))}
        }
    });
    std::fs::write(tmp.path().join("package-lock.json"), lock.to_string()).unwrap();
    let (_, inv, _) = inventory(tmp.path(), &[]);
    let errs = errors(&inv);
    assert!(
        errs.iter().any(
            |e| e.contains(&format!("a package name of {} bytes", 2 << 20))
                && e.contains("1024-byte limit")
        ),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.starts_with("left-pad: a version of")),
        "{errs:?}"
    );
    let names = names(&inv);
    assert!(names.contains(&"left-pad".to_string()), "{names:?}");
    assert!(names.iter().all(|n| n.len() < 200), "cut");
    assert!(
        names
            .iter()
            .any(|n| n.ends_with(&format!("… ({} bytes)", 2 << 20)))
    );
}
