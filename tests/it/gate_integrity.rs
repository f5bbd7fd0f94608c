//! The gate cannot be opened by what it scans: configuration inside the
//! scanned tree only tightens it, and the scanned root is a boundary no
//! include or link crosses (`strict_inputs` covers inputs that must be
//! scanned or reported).
//!
//! Every input is generated in a temporary directory; each case asserts
//! the exit code (1: the gate closed, 2: an error), never a silent 0.

use crate::common::gate::{errors, lodash_versions, make_zip, vulnerable, write};
use crate::common::{self, depwarden, scan_json, shared_db};
use serde_json::Value;
use std::path::{Path, PathBuf};

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
            "[registries]\ninternal_names = [\"*\"]\ntimeout_ms = 30000\n[registries.public]\nnpm = \"{}\"\npypi = \"{}\"\n",
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
