//! The gate cannot be opened by what it scans: configuration inside the
//! scanned tree only tightens it, the scanned root is a boundary no
//! include or link crosses, and under `--strict` every input is scanned
//! (as Node, npm, unzip and Lambda would read it) or reported.
//!
//! Every input is generated in a temporary directory; each case asserts
//! the exit code (1: the gate closed, 2: an error), never a silent 0.

use crate::common::{self, depwarden, scan_json, shared_db};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A package-lock (v3) whose only package is `lodash@version`.
fn lock_with_lodash(version: &str) -> String {
    format!(
        r#"{{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{{
  "":{{"name":"app","version":"1.0.0","dependencies":{{"lodash":"{version}"}}}},
  "node_modules/lodash":{{"version":"{version}","resolved":"https://registry.npmjs.org/lodash/-/lodash-{version}.tgz"}}}}}}"#
    )
}

/// Vulnerable (4.17.15) and clean (4.17.21) lockfiles.
fn vulnerable() -> String {
    lock_with_lodash("4.17.15")
}

fn clean() -> String {
    lock_with_lodash("4.17.21")
}

fn write(path: &Path, body: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// The ids of lodash's advisories in the shared database.
fn lodash_ids(db: &Path) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("package-lock.json"), vulnerable());
    let (_, report) = scan_json(db, &[tmp.path().to_str().unwrap()]);
    let ids: Vec<String> = common::findings(&report)
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 3, "{report}");
    ids
}

/// A nested configuration that tries every way of opening the gate.
fn opening_config(ids: &[String]) -> String {
    let mut s = String::from(
        "trust_nested = true\n[gate]\nfail_on = \"none\"\nmalicious = false\ntyposquat = \"none\"\nconfusion = \"none\"\n",
    );
    for id in ids {
        s.push_str(&format!(
            "[[ignore]]\nid = \"{id}\"\nreason = \"not reachable\"\n"
        ));
    }
    s.push_str("[typosquat]\nallow = [\"lodash\"]\n[limits]\nmax_file_size = 1\n");
    s
}

fn ci_config(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("ci-policy.toml");
    write(&p, body);
    p
}

fn config_files(report: &Value) -> Vec<Value> {
    report["policy"]["config_files"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A stored zip, written by hand so that names, duplicates and symlink
/// entries can be anything. `(name, data, symlink)`.
fn make_zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
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
fn errors(report: &Value) -> Vec<String> {
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

fn all_messages(report: &Value) -> String {
    let mut s = report
        .get("errors")
        .map(Value::to_string)
        .unwrap_or_default();
    for d in report["deployments"].as_array().unwrap() {
        s.push_str(&d["errors"].to_string());
    }
    s
}

fn lodash_versions(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = common::findings(report)
        .iter()
        .filter(|f| f["package"] == "lodash")
        .map(|f| f["version"].as_str().unwrap_or("").to_string())
        .collect();
    v.dedup();
    v
}

// ---- item 1: configuration in the scanned tree only tightens the gate ----

#[test]
fn item1_nested_configs_cannot_open_a_ci_gate() {
    let db = shared_db();
    let ids = lodash_ids(&db);
    let tmp = tempfile::tempdir().unwrap();
    let ci = ci_config(tmp.path(), "[gate]\nfail_on = \"low\"\n");
    let cfg = opening_config(&ids);
    // In a deployment below the root, in the scanned directory itself, and
    // inside a scanned zip.
    let tree = tmp.path().join("tree");
    write(&tree.join("fn/package-lock.json"), vulnerable());
    write(&tree.join("fn/depwarden.toml"), &cfg);
    let itself = tmp.path().join("itself");
    write(&itself.join("package-lock.json"), vulnerable());
    write(&itself.join("depwarden.toml"), &cfg);
    let zipped = tmp.path().join("fn.zip");
    let lock = vulnerable();
    write(
        &zipped,
        make_zip(&[
            ("package-lock.json", lock.as_bytes(), false),
            ("depwarden.toml", cfg.as_bytes(), false),
        ]),
    );
    for target in [&tree, &itself, &zipped] {
        let args = [
            "--config",
            ci.to_str().unwrap(),
            "--strict",
            "--fail-on",
            "low",
            target.to_str().unwrap(),
        ];
        let (code, report) = scan_json(&db, &args);
        assert_eq!(code, 1, "{}: {report}", target.display());
        assert!(lodash_versions(&report).contains(&"4.17.15".to_string()));
        assert!(
            common::findings(&report)
                .iter()
                .all(|f| f["ignored"].is_null() && f["closes_gate"] == true),
            "{report}"
        );
        let files = config_files(&report);
        assert_eq!(files.len(), 2, "{report}");
        assert_eq!(files[0]["origin"], "command-line");
        assert_eq!(files[1]["origin"], "nested");
        let nested = files[1].to_string();
        for needle in [
            "gate.fail_on = \\\"none\\\" would loosen the gate",
            "gate.malicious = false would loosen the gate",
            "ignore: not applied",
            "typosquat.allow: not applied",
            "limits.max_file_size: not applied",
            "trust_nested: not applied",
        ] {
            assert!(nested.contains(needle), "{needle}: {nested}");
        }
        assert_eq!(report["policy"]["config"], ci.display().to_string());
    }
    // The table says so too.
    let out = depwarden(&db)
        .args(["scan", "--config", ci.to_str().unwrap()])
        .arg(&tree)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("overruled: gate.fail_on"), "{table}");
}

#[test]
fn item1_without_config_the_root_file_is_the_policy_but_nested_ones_still_only_tighten() {
    let db = shared_db();
    let ids = lodash_ids(&db);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    write(&root.join("depwarden.toml"), "[gate]\nfail_on = \"none\"\n");
    write(&root.join("fn-a/package-lock.json"), vulnerable());
    let (code, report) = scan_json(&db, &[root.to_str().unwrap()]);
    assert_eq!(code, 0, "the invoking configuration decides: {report}");
    assert_eq!(config_files(&report)[0]["origin"], "scan-root");
    // A deployment may tighten it (fail_on = "low" closes the gate) ...
    write(&root.join("fn-b/package-lock.json"), vulnerable());
    write(
        &root.join("fn-b/depwarden.toml"),
        "[gate]\nfail_on = \"low\"\n",
    );
    let (code, report) = scan_json(&db, &[root.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    // ... and its ignores count only when the root trusts nested files.
    std::fs::remove_dir_all(root.join("fn-a")).unwrap();
    let mut cfg = String::from("[gate]\nfail_on = \"low\"\n");
    for id in &ids {
        cfg.push_str(&format!("[[ignore]]\nid = \"{id}\"\nreason = \"r\"\n"));
    }
    write(&root.join("fn-b/depwarden.toml"), &cfg);
    let (code, _) = scan_json(&db, &[root.to_str().unwrap()]);
    assert_eq!(code, 1, "untrusted ignores do not apply");
    write(
        &root.join("depwarden.toml"),
        "trust_nested = true\n[gate]\nfail_on = \"none\"\n",
    );
    let (code, report) = scan_json(&db, &[root.to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    assert!(
        config_files(&report)[1]["applied"]
            .to_string()
            .contains("allowed by trust_nested")
    );
    // Even trusted, a nested file never loosens what the command line set.
    let (code, _) = scan_json(&db, &["--fail-on", "low", root.to_str().unwrap()]);
    assert_eq!(code, 0, "ignores are not thresholds: they still apply");
    write(
        &root.join("fn-b/depwarden.toml"),
        "[gate]\nfail_on = \"none\"\n",
    );
    let (code, report) = scan_json(&db, &["--fail-on", "low", root.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    assert!(
        config_files(&report)[1]["overruled"]
            .to_string()
            .contains("set on the command line")
    );
}

#[test]
fn item1_malicious_false_in_a_nested_config_does_not_hide_malware() {
    let tmp = tempfile::tempdir().unwrap();
    let osv = tmp.path().join("osv");
    write(
        &osv.join("MAL-2025-0001.json"),
        r#"{"id":"MAL-2025-0001","modified":"2025-01-01T00:00:00Z","summary":"Malicious code in evil-helper (npm)",
            "affected":[{"package":{"ecosystem":"npm","name":"evil-helper"},
              "ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}"#,
    );
    let db = tmp.path().join("db");
    depwarden(&db)
        .args(["db", "import"])
        .arg(&osv)
        .assert()
        .success();
    let app = tmp.path().join("tree/fn");
    write(
        &app.join("package-lock.json"),
        r#"{"name":"fn","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
          "":{"name":"fn","version":"1.0.0","dependencies":{"evil-helper":"1.0.0"}},
          "node_modules/evil-helper":{"version":"1.0.0"}}}"#,
    );
    write(
        &app.join("depwarden.toml"),
        "[gate]\nmalicious = false\nfail_on = \"none\"\n",
    );
    let ci = ci_config(tmp.path(), "[gate]\nfail_on = \"none\"\n");
    let (code, report) = scan_json(
        &db,
        &[
            "--config",
            ci.to_str().unwrap(),
            tmp.path().join("tree").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{report}");
    assert_eq!(common::findings(&report)[0]["kind"], "malicious");
}

#[test]
fn item1_and_9_nested_endpoints_are_never_used_for_lookups() {
    // The CI configuration names its registry; a deployment's own file
    // names another (and makes every name internal): lookups go only to
    // the first.
    let trusted = common::http::Server::start();
    let planted = common::http::Server::start();
    let (_keep, db) = common::fresh_db();
    let tmp = tempfile::tempdir().unwrap();
    let fn_dir = tmp.path().join("tree/fn");
    write(
        &fn_dir.join("package-lock.json"),
        r#"{"name":"fn","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
          "":{"name":"fn","version":"1.0.0","dependencies":{"acme-internal":"1.0.0"}},
          "node_modules/acme-internal":{"version":"1.0.0"}}}"#,
    );
    write(
        &fn_dir.join("depwarden.toml"),
        format!(
            "[registries]\ninternal_names = [\"*\"]\ntimeout_ms = 60000\n[registries.public]\nnpm = \"{}\"\npypi = \"{}\"\n",
            planted.base, planted.base
        ),
    );
    let ci = ci_config(
        tmp.path(),
        &format!(
            "[registries]\ntimeout_ms = 2000\n[registries.public]\nnpm = \"{}\"\npypi = \"{}\"\ncrates = \"{}\"\n",
            trusted.base, trusted.base, trusted.base
        ),
    );
    let (_, report) = scan_json(
        &db,
        &[
            "--online",
            "--config",
            ci.to_str().unwrap(),
            tmp.path().join("tree").to_str().unwrap(),
        ],
    );
    assert!(
        planted.log().is_empty(),
        "a nested configuration chose where lookups go: {} requests",
        planted.log().len()
    );
    assert!(!trusted.log().is_empty(), "the internal name was looked up");
    let nested = config_files(&report)[1].to_string();
    assert!(
        nested.contains("registries.public.npm: not applied (endpoints come only from --config"),
        "{nested}"
    );
    assert!(
        nested.contains("registries.timeout_ms: not applied"),
        "{nested}"
    );
    assert!(
        nested.contains("registries.internal_names += [\\\"*\\\"]"),
        "{nested}"
    );
}

// ---- item 9: the scanned root is a boundary ----

#[cfg(unix)]
#[test]
fn item9_includes_outside_the_root_are_diagnostics_naming_the_line() {
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    write(&outside.join("secret.txt"), "leakedsecretpkg==1.0.0\n");
    let root = tmp.path().join("root");
    let app = root.join("app");
    write(&root.join("inside.txt"), "six==1.16.0\n");
    std::fs::create_dir_all(&app).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), app.join("link.txt")).unwrap();
    let fifo = app.join("fifo.txt");
    let made_fifo = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let abs = outside.join("secret.txt");
    let lines = [
        format!("-r {}", abs.display()),
        "-r ../../outside/secret.txt".to_string(),
        "--requirement=/proc/self/environ".to_string(),
        "-c /proc/self/environ".to_string(),
        "-r /dev/zero".to_string(),
        "-r link.txt".to_string(),
        "-c ../../outside/secret.txt".to_string(),
        "-r fifo.txt".to_string(),
        "-r ../inside.txt".to_string(),
        "flask==0.12".to_string(),
    ];
    write(&app.join("requirements.txt"), lines.join("\n") + "\n");
    for format in ["json", "cyclonedx"] {
        let out = depwarden(&db)
            .args(["scan", "--strict", "--format", format])
            .arg(&root)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.code() == Some(1) || out.status.code() == Some(2),
            "{stdout}"
        );
        assert!(!stdout.contains("leakedsecretpkg"), "{stdout}");
        assert!(!stdout.contains("PATH="), "environment leaked: {stdout}");
        assert!(!stdout.contains("HOME="), "environment leaked: {stdout}");
        if format == "cyclonedx" {
            assert!(stdout.contains("\"six\""), "inside include read: {stdout}");
            continue;
        }
        let report: Value = serde_json::from_str(&stdout).unwrap();
        let errs = errors(&report).join("\n");
        for (i, needle) in [
            (1, "outside the scanned root"),
            (2, "outside the scanned root"),
            (3, "pseudo file system /proc"),
            (4, "pseudo file system /proc"),
            (5, "FIFO, socket or device"),
            (6, "outside the scanned root"),
            (7, "outside the scanned root"),
        ] {
            let line = format!("line {i}: ");
            assert!(
                errs.lines()
                    .any(|l| l.contains(&line) && l.contains(needle)),
                "line {i} ({needle}) not reported: {errs}"
            );
        }
        if made_fifo {
            assert!(
                errs.contains("line 8: -r fifo.txt: a FIFO, socket or device"),
                "{errs}"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn item9_node_modules_links_out_of_the_root_are_not_read() {
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("elsewhere/lodash");
    write(
        &outside.join("package.json"),
        r#"{"name":"lodash","version":"4.17.15"}"#,
    );
    let app = tmp.path().join("root/app");
    write(
        &app.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"lodash":"*"}}"#,
    );
    std::fs::create_dir_all(app.join("node_modules")).unwrap();
    std::os::unix::fs::symlink(&outside, app.join("node_modules/lodash")).unwrap();
    let (code, report) = scan_json(
        &db,
        &["--strict", tmp.path().join("root").to_str().unwrap()],
    );
    assert_eq!(code, 2, "{report}");
    assert!(lodash_versions(&report).is_empty(), "{report}");
    assert!(
        errors(&report)
            .join("\n")
            .contains("outside the scanned root"),
        "{report}"
    );
}

// ---- item 10: under --strict, every input is scanned or reported ----

#[test]
fn item10_duplicate_zip_entries_keep_the_last_and_name_both() {
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let (v, c) = (vulnerable(), clean());
    for (first, second, expected_code, scanned) in [
        ("package-lock.json", "./package-lock.json", 1, "4.17.15"),
        (
            "fn/package-lock.json",
            "fn//package-lock.json",
            1,
            "4.17.15",
        ),
        ("package-lock.json", "package-lock.json", 1, "4.17.15"),
        ("./package-lock.json", "package-lock.json", 1, "4.17.15"),
        (
            "fn\\package-lock.json",
            "fn/./package-lock.json",
            1,
            "4.17.15",
        ),
    ] {
        // Clean first, vulnerable last: the last is what Lambda runs.
        let z = tmp.path().join("a.zip");
        write(
            &z,
            make_zip(&[(first, c.as_bytes(), false), (second, v.as_bytes(), false)]),
        );
        let (code, report) = scan_json(&db, &["--strict", z.to_str().unwrap()]);
        assert_eq!(code, expected_code, "{first} / {second}: {report}");
        assert_eq!(lodash_versions(&report), vec![scanned.to_string()]);
        let errs = errors(&report).join("\n");
        assert!(
            errs.contains("keep the last one") && errs.contains(&format!("`{second}`")),
            "{errs}"
        );
        // Vulnerable first, clean last: the gate stays open, but --strict
        // fails on the shadowed entry.
        write(
            &z,
            make_zip(&[(first, v.as_bytes(), false), (second, c.as_bytes(), false)]),
        );
        let (code, report) = scan_json(&db, &["--strict", z.to_str().unwrap()]);
        assert_eq!(code, 2, "{first} / {second}: {report}");
        assert!(lodash_versions(&report).is_empty());
    }
}

/// An installed tree with lodash in `node_modules/<dir>/package.json`
/// written as `manifest` (and an `index.js`).
fn installed(root: &Path, dir: &str, manifest: Option<&[u8]>) {
    let pkg = root.join("node_modules").join(dir);
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("index.js"), "module.exports = 1;\n").unwrap();
    if let Some(m) = manifest {
        std::fs::write(pkg.join("package.json"), m).unwrap();
    }
    write(
        &root.join("package.json"),
        format!(r#"{{"name":"app","version":"1.0.0","dependencies":{{"{dir}":"*"}}}}"#),
    );
}

#[test]
fn item10_node_modules_packages_node_loads_are_scanned_or_reported() {
    let db = shared_db();
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        // Node reads bad UTF-8 with replacement characters: scanned.
        (
            "bad-utf8",
            b"{\"name\":\"lodash\",\"version\":\"4.17.15\",\"description\":\"\xff\xfe\"}".to_vec(),
            1,
        ),
        // JSON.parse keeps the last of a repeated key: scanned as 4.17.15.
        (
            "duplicate-key",
            br#"{"name":"lodash","version":"4.17.21","version":"4.17.15"}"#.to_vec(),
            1,
        ),
        // No name: the folder's name, as require() resolves it.
        ("no-name", br#"{"version":"4.17.15"}"#.to_vec(), 1),
        // A number is not a version: reported (and matched as written).
        (
            "numeric-version",
            br#"{"name":"lodash","version":4}"#.to_vec(),
            0,
        ),
        (
            "empty-version",
            br#"{"name":"lodash","version":""}"#.to_vec(),
            2,
        ),
        (
            "object-version",
            br#"{"name":"lodash","version":{"a":1}}"#.to_vec(),
            2,
        ),
        ("no-version", br#"{"name":"lodash"}"#.to_vec(), 2),
    ];
    for (what, manifest, expected) in cases {
        let tmp = tempfile::tempdir().unwrap();
        installed(tmp.path(), "lodash", Some(&manifest));
        let (code, report) = scan_json(&db, &["--strict", tmp.path().to_str().unwrap()]);
        if expected == 1 {
            assert_eq!(code, 1, "{what}: {report}");
            assert_eq!(lodash_versions(&report), vec!["4.17.15"], "{what}");
        } else {
            // Closed (when the text still matches a range) or an error;
            // reported either way.
            assert!(code == 1 || code == 2, "{what}: {report}");
            assert!(!errors(&report).is_empty(), "{what}: {report}");
        }
    }
    // No package.json at all: Node loads index.js; the version is unknown.
    let tmp = tempfile::tempdir().unwrap();
    installed(tmp.path(), "lodash", None);
    let (code, report) = scan_json(&db, &["--strict", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{report}");
    assert!(
        errors(&report)
            .join("\n")
            .contains("`lodash` has no package.json: Node loads it"),
        "{report}"
    );
}

/// Node itself, when installed, agrees on what it loads: every package the
/// inventory lists is one `require` resolves, with the same version.
#[test]
fn item10_node_agrees_on_the_installed_packages_it_loads() {
    let Ok(out) = std::process::Command::new("node").arg("--version").output() else {
        eprintln!("node parity: not measured (node is not installed)");
        return;
    };
    assert!(out.status.success());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let pkgs: [(&str, &[u8]); 3] = [
        (
            "a",
            b"{\"name\":\"a\",\"version\":\"1.0.0\",\"description\":\"\xff\"}",
        ),
        ("b", br#"{"name":"b","version":"0.0.1","version":"2.0.0"}"#),
        ("c", br#"{"version":"3.0.0"}"#),
    ];
    for (dir, manifest) in pkgs {
        let pkg = root.join("node_modules").join(dir);
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("package.json"), manifest).unwrap();
        std::fs::write(pkg.join("index.js"), format!("module.exports = '{dir}';\n")).unwrap();
    }
    write(
        &root.join("package.json"),
        r#"{"name":"app","version":"1.0.0"}"#,
    );
    let script = "for (const n of ['a','b','c']) { require(n); const p = require('path').join(require.resolve(n), '..', 'package.json'); const j = JSON.parse(require('fs').readFileSync(p, 'utf8')); console.log(n + '@' + j.version); }";
    let node = std::process::Command::new("node")
        .current_dir(root)
        .args(["-e", script])
        .output()
        .unwrap();
    assert!(
        node.status.success(),
        "{}",
        String::from_utf8_lossy(&node.stderr)
    );
    let mut by_node: Vec<String> = String::from_utf8_lossy(&node.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    by_node.sort();
    let out = depwarden(&shared_db())
        .args(["inventory", "--format", "json"])
        .arg(root)
        .output()
        .unwrap();
    let inv: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ours: Vec<String> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["source"]
                .as_str()
                .is_some_and(|s| s.contains("node_modules"))
        })
        .map(|p| {
            format!(
                "{}@{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    ours.sort();
    assert_eq!(ours, by_node);
}

#[test]
fn item10_zip_symlinks_are_followed_inside_the_archive_and_reported_outside() {
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let (v, c) = (vulnerable(), clean());
    let manifest = br#"{"name":"lodash","version":"4.17.15"}"#;
    let app = br#"{"name":"app","version":"1.0.0","dependencies":{"lodash":"*"}}"#;
    // A symlinked package directory, and a lockfile that is a symlink.
    let z = tmp.path().join("links.zip");
    write(
        &z,
        make_zip(&[
            ("package.json", app, false),
            ("vendor/lodash/package.json", manifest, false),
            ("vendor/lodash/index.js", b"module.exports = 1;", false),
            ("node_modules/lodash", b"../vendor/lodash", true),
        ]),
    );
    let (code, report) = scan_json(&db, &["--strict", z.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(lodash_versions(&report), vec!["4.17.15"]);
    let z = tmp.path().join("lock-link.zip");
    write(
        &z,
        make_zip(&[
            ("real/lock.json", v.as_bytes(), false),
            ("fn/package-lock.json", b"../real/lock.json", true),
        ]),
    );
    let (code, report) = scan_json(&db, &["--strict", z.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    // Links that leave the archive: reported, so --strict fails.
    for target in ["/opt/nodejs/node_modules/lodash", "../../../etc", "../../x"] {
        let z = tmp.path().join("out.zip");
        write(
            &z,
            make_zip(&[
                ("package-lock.json", c.as_bytes(), false),
                ("node_modules/lodash", target.as_bytes(), true),
            ]),
        );
        let (code, report) = scan_json(&db, &["--strict", z.to_str().unwrap()]);
        assert_eq!(code, 2, "{target}: {report}");
        assert!(
            errors(&report).join("\n").contains("symbolic link to"),
            "{target}: {report}"
        );
    }
}

#[cfg(unix)]
#[test]
fn item10_inputs_discovery_cannot_scan_are_errors() {
    let db = shared_db();
    // A lockfile below the depth limit, beside a scanned deployment.
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("top/package-lock.json"), clean());
    let mut deep = tmp.path().to_path_buf();
    for i in 0..70 {
        deep.push(format!("d{i}"));
    }
    write(&deep.join("package-lock.json"), vulnerable());
    let (code, report) = scan_json(&db, &["--strict", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{report}");
    assert!(all_messages(&report).contains("deeper than 64 levels"));

    // A lockfile symlinked from outside the root, next to another source.
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("outside/package-lock.json"), vulnerable());
    let app = tmp.path().join("root/app");
    write(&app.join("requirements.txt"), "six==1.16.0\n");
    std::os::unix::fs::symlink(
        tmp.path().join("outside/package-lock.json"),
        app.join("package-lock.json"),
    )
    .unwrap();
    let (code, report) = scan_json(
        &db,
        &["--strict", tmp.path().join("root").to_str().unwrap()],
    );
    assert_eq!(code, 2, "{report}");
    assert!(lodash_versions(&report).is_empty());
    assert!(
        errors(&report)
            .join("\n")
            .contains("outside the scanned root")
    );

    // Zips nested three levels deep.
    let tmp = tempfile::tempdir().unwrap();
    let inner = make_zip(&[("package-lock.json", vulnerable().as_bytes(), false)]);
    let middle = make_zip(&[("inner.zip", &inner, false)]);
    let outer = make_zip(&[
        ("middle.zip", &middle, false),
        ("package-lock.json", clean().as_bytes(), false),
    ]);
    let z = tmp.path().join("outer.zip");
    write(&z, outer);
    let (code, report) = scan_json(&db, &["--strict", z.to_str().unwrap()]);
    assert_eq!(code, 2, "{report}");
    assert!(
        all_messages(&report).contains("nested more than"),
        "{report}"
    );
}

#[test]
fn item10_npm_lockfile_choice_follows_npm_and_is_said() {
    let db = shared_db();
    // An empty shrinkwrap: npm reads package-lock.json (arborist's
    // `shrinkwrap || lock`), so that is scanned.
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("npm-shrinkwrap.json"), "");
    write(&tmp.path().join("package-lock.json"), vulnerable());
    let (code, report) = scan_json(&db, &["--strict", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    assert!(all_messages(&report).contains("npm-shrinkwrap.json is empty"));
    // A shrinkwrap with content wins, and the report says package-lock.json
    // was not scanned.
    write(&tmp.path().join("npm-shrinkwrap.json"), clean());
    let (code, report) = scan_json(&db, &["--strict", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    assert!(all_messages(&report).contains("npm reads npm-shrinkwrap.json"));
    // A shrinkwrap that is not JSON: npm cannot use either; an error.
    write(&tmp.path().join("npm-shrinkwrap.json"), " ");
    let (code, _) = scan_json(&db, &["--strict", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 2);
}

#[test]
fn item10_truncated_and_versionless_lockfile_entries_are_errors() {
    let db = shared_db();
    let cases = [
        (
            "yarn.lock",
            "# yarn lockfile v1\n\n\nlodash@^4.17.0:\n  version \"4.17.",
        ),
        (
            "yarn.lock",
            "# yarn lockfile v1\n\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n\nlodash@^4.17.0:\n  resol",
        ),
        (
            "package-lock.json",
            r#"{"name":"a","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"a","dependencies":{"lodash":"*"}},"node_modules/lodash":{"version":""}}}"#,
        ),
        (
            "package-lock.json",
            r#"{"name":"a","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"a","dependencies":{"lodash":"*"}},"node_modules/lodash":{}}}"#,
        ),
        (
            "package-lock.json",
            r#"{"name":"a","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"a","dependencies":{"lodash":"*"}},"node_modules/lodash":{"version":"latest"}}}"#,
        ),
    ];
    for (name, body) in cases {
        let tmp = tempfile::tempdir().unwrap();
        write(&tmp.path().join(name), body);
        let (code, report) = scan_json(&db, &["--strict", tmp.path().to_str().unwrap()]);
        assert!(code == 1 || code == 2, "{name} {body}: {report}");
        if code == 2 {
            assert!(!errors(&report).is_empty(), "{report}");
        }
    }
}
