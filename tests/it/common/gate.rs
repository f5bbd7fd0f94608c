//! Helpers for the gate-integrity tests: generated lockfiles with a
//! vulnerable or a clean lodash, a zip writer that can write anything
//! (repeated names, symlink entries), and report accessors.

use serde_json::Value;
use std::path::Path;

/// A package-lock (v3) whose only package is `lodash@version`.
pub fn lock_with_lodash(version: &str) -> String {
    format!(
        r#"{{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{{
  "":{{"name":"app","version":"1.0.0","dependencies":{{"lodash":"{version}"}}}},
  "node_modules/lodash":{{"version":"{version}","resolved":"https://registry.npmjs.org/lodash/-/lodash-{version}.tgz"}}}}}}"#
    )
}

/// Vulnerable (4.17.15) and clean (4.17.21) lockfiles.
pub fn vulnerable() -> String {
    lock_with_lodash("4.17.15")
}

/// The clean lockfile.
pub fn clean() -> String {
    lock_with_lodash("4.17.21")
}

/// Writes a file, creating its directory.
pub fn write(path: &Path, body: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// A stored zip, written by hand so that names, duplicates and symlink
/// entries can be anything. `(name, data, symlink)`.
pub fn make_zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, link) in entries {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let crc = crc.sum();
        let offset = out.len() as u32;
        let n = name.as_bytes();
        let mode: u32 = if *link { 0o120777 } else { 0o100644 };
        out.extend_from_slice(&0x04034b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(n.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(n);
        out.extend_from_slice(data);
        central.extend_from_slice(&0x02014b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes());
        central.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(n.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 8]);
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(n);
    }
    let cd = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x06054b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Every error-level message of a report (deployments and scan-wide).
pub fn errors(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for d in report["deployments"].as_array().unwrap() {
        for e in d["errors"].as_array().unwrap() {
            if e["level"] == "error" {
                out.push(format!("{}: {}", e["path"], e["message"]));
            }
        }
    }
    for e in report["errors"].as_array().into_iter().flatten() {
        if e["level"] == "error" {
            out.push(format!("{}: {}", e["path"], e["message"]));
        }
    }
    out
}

pub fn all_messages(report: &Value) -> String {
    let mut s = report
        .get("errors")
        .map(Value::to_string)
        .unwrap_or_default();
    for d in report["deployments"].as_array().unwrap() {
        s.push_str(&d["errors"].to_string());
    }
    s
}

pub fn lodash_versions(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = super::findings(report)
        .iter()
        .filter(|f| f["package"] == "lodash")
        .map(|f| f["version"].as_str().unwrap_or("").to_string())
        .collect();
    v.dedup();
    v
}
