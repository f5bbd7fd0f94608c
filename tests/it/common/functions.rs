//! Helpers for the function tests: scans of the fixtures in
//! `testdata/functions`, and accessors for the `functions` list.

use serde_json::Value;
use std::path::Path;

use super::{depwarden, shared_db, testdata};

/// `scan --format json PATH ARGS...` with the shared database: (exit code,
/// report).
pub fn scan(path: &Path, args: &[&str]) -> (i32, Value) {
    let out = depwarden(&shared_db())
        .args(["scan", "--format", "json"])
        .arg(path)
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

/// A fixture under `testdata/functions`.
pub fn fixture(name: &str) -> std::path::PathBuf {
    testdata(&format!("functions/{name}"))
}

/// The function called `name`.
pub fn function<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["functions"]
        .as_array()
        .unwrap_or_else(|| panic!("no functions in {report}"))
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no function {name}: {:#}", report["functions"]))
}

/// The names of the functions, in report order.
pub fn names(report: &Value) -> Vec<String> {
    report["functions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The package `name` of `origin` in a function.
pub fn package<'a>(f: &'a Value, origin: &str, name: &str) -> &'a Value {
    f["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["origin"] == origin && p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} from {origin}: {:#}", f["packages"]))
}

/// The function's own findings (runtime, platform, size) with `rule`.
pub fn with_rule<'a>(f: &'a Value, rule: &str) -> Vec<&'a Value> {
    f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == rule)
        .collect()
}

/// The rules of a function's own findings, sorted.
pub fn rules(f: &Value) -> Vec<String> {
    let mut v: Vec<String> = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["rule"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}

/// The layer ids of a function, in order.
pub fn layer_ids(f: &Value) -> Vec<String> {
    f["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}
