//! Under `--strict` every input is scanned, as Node, npm, unzip and AWS
//! Lambda would read it, or reported: repeated zip entries, installed
//! packages Node loads, zip symlinks, inputs below discovery's limits,
//! npm's lockfile choice, truncated and versionless lockfile entries.
//!
//! Every input is generated in a temporary directory; each case asserts
//! the exit code (1: the gate closed, 2: an error), never a silent 0.

use crate::common::gate::{
    all_messages, clean, errors, lodash_versions, make_zip, vulnerable, write,
};
use crate::common::{depwarden, scan_json, shared_db};
use serde_json::Value;
use std::path::Path;

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
