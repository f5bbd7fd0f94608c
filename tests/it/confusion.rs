//! Dependency confusion end to end on realistic fixture projects (npm,
//! pip, poetry, uv, Cargo): the finding, its risk, credentials never
//! printed, public-registry lookups against a loopback server with the
//! cache used on the second run, and no findings on healthy trees.

use crate::common::http::{Fault, Server};
use crate::common::{depwarden, findings, fresh_db, scan_json, shared_db, testdata};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// (package, risk, a phrase of the reason) expected in one fixture.
type Expected<'a> = &'a [(&'a str, &'a str, &'a str)];

const SECRETS: &[&str] = &[
    "npm_SeCrEtToKeN123",
    "yarn_SeCrEtToKeN456",
    "pa55w0rd",
    "tok3n",
    "deploy:",
];

fn confusion(report: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = findings(report)
        .into_iter()
        .filter(|f| f["kind"] == "dependency-confusion")
        .map(|f| {
            (
                f["package"].as_str().unwrap().to_string(),
                f["risk"].as_str().unwrap().to_string(),
                f["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Every output format of one scan, for the credential check.
fn all_outputs(db: &Path, dir: &Path) -> String {
    let mut all = String::new();
    for format in ["json", "table"] {
        let out = depwarden(db)
            .args(["scan", "--fail-on", "none", "--format", format])
            .arg(dir)
            .output()
            .unwrap();
        all.push_str(&String::from_utf8_lossy(&out.stdout));
        all.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let out = depwarden(db)
        .args(["inventory", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    all.push_str(&String::from_utf8_lossy(&out.stdout));
    all
}

#[test]
fn each_case_gives_its_finding_and_risk_without_leaking_credentials() {
    let db = shared_db();
    let cases: [(&str, Expected); 12] = [
        ("yarn", &[("acme-ui", "high", "unscoped npm name")]),
        (
            "pnpm",
            &[(
                "@acme/queue",
                "high",
                "resolved it from the public registry",
            )],
        ),
        (
            "npm-private",
            &[("acme-billing", "high", "not checked (offline)")],
        ),
        (
            "npm-scope",
            &[
                ("@acme/auth", "high", "resolved it from the public registry"),
                ("@acme/log", "medium", "not mapped to a private registry"),
            ],
        ),
        ("pip-extra", &[("acme-utils", "high", "--extra-index-url")]),
        (
            "poetry",
            &[("acme-reports", "medium", "priority supplemental")],
        ),
        ("uv", &[("acme-core", "medium", "unsafe-best-match")]),
        (
            "cargo",
            &[("acme-telemetry", "low", "alternative registry")],
        ),
        // package-lock `resolved` through an Artifactory remote repository
        // that proxies the npm registry: a mirror, not a private registry.
        ("mirror-public", &[]),
        // No `resolved` in the lockfile: `.npmrc registry=` says where.
        ("mirror-npmrc-only", &[]),
        // A public name the corpora do not know, through the mirror.
        (
            "mirror-unknown",
            &[(
                "is-odd-even",
                "low",
                "scan --online checks whether https://registry.npmjs.org has it",
            )],
        ),
        // @acme is mapped to the private repository, yet @acme/audit was
        // resolved through the mirror: a public @acme/audit was served.
        (
            "mirror-private-scope",
            &[(
                "@acme/audit",
                "high",
                "resolved it from acme.jfrog.io/artifactory/api/npm/npm-remote, a registry that also serves public packages",
            )],
        ),
    ];
    for (case, want) in cases {
        let dir = testdata(&format!("confusion/{case}"));
        let (_, report) = scan_json(&db, &["--fail-on", "none", dir.to_str().unwrap()]);
        let got = confusion(&report);
        assert_eq!(got.len(), want.len(), "{case}: {got:?}");
        for ((pkg, risk, reason), (wpkg, wrisk, wreason)) in got.iter().zip(want) {
            assert_eq!((pkg.as_str(), risk.as_str()), (*wpkg, *wrisk), "{case}");
            assert!(reason.contains(wreason), "{case}: {reason}");
        }
        let text = all_outputs(&db, &dir);
        for s in SECRETS {
            assert!(!text.contains(s), "{case}: credential {s} printed");
        }
    }
    // A high-risk confusion finding closes the default gate.
    let (code, _) = scan_json(
        &db,
        &[
            "--fail-on",
            "none",
            testdata("confusion/npm-private").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
}

#[test]
fn healthy_trees_have_no_confusion_findings() {
    let db = shared_db();
    for dir in [
        "npm/large-app",
        "cargo/audit/gix",
        "pypi-lock/same-app",
        "npm/same-set",
        "demo",
    ] {
        let (_, report) = scan_json(&db, &["--fail-on", "none", testdata(dir).to_str().unwrap()]);
        assert_eq!(confusion(&report), vec![], "{dir}");
    }
}

fn online_config(dir: &Path, server: &Server, timeout_ms: u64) -> std::path::PathBuf {
    let cfg = dir.join("depwarden.toml");
    std::fs::write(
        &cfg,
        format!(
            "[registries]\ntimeout_ms = {timeout_ms}\n[registries.public]\nnpm = \"{}\"\n",
            server.base
        ),
    )
    .unwrap();
    cfg
}

fn online_scan(db: &Path, cfg: &Path) -> Vec<(String, String, String)> {
    let fixture = testdata("confusion/npm-private");
    let (_, report) = scan_json(
        db,
        &[
            "--online",
            "--fail-on",
            "none",
            "--config",
            cfg.to_str().unwrap(),
            fixture.to_str().unwrap(),
        ],
    );
    confusion(&report)
}

#[test]
fn online_lookups_answer_claimed_unclaimed_and_failures_and_are_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start();
    let cfg = online_config(tmp.path(), &server, 800);

    // Unclaimed (404), then the cached answer on the second run.
    let (_k1, db) = fresh_db();
    let got = online_scan(&db, &cfg);
    assert!(
        got[0].2.contains("not claimed on the public registry"),
        "{got:?}"
    );
    let asked = server
        .log()
        .iter()
        .filter(|r| r.path == "/acme-billing")
        .count();
    assert_eq!(asked, 1);
    let again = online_scan(&db, &cfg);
    assert!(again[0].2.contains("not claimed"), "{again:?}");
    assert_eq!(
        server
            .log()
            .iter()
            .filter(|r| r.path == "/acme-billing")
            .count(),
        1,
        "cache not used"
    );
    // Offline, the cached answer is still used for the registry that gave
    // it, and never for another one (here the default npm registry).
    let fixture = testdata("confusion/npm-private");
    let (_, report) = scan_json(
        &db,
        &[
            "--fail-on",
            "none",
            "--config",
            cfg.to_str().unwrap(),
            fixture.to_str().unwrap(),
        ],
    );
    assert!(confusion(&report)[0].2.contains("not claimed"), "{report}");
    let (_, report) = scan_json(&db, &["--fail-on", "none", fixture.to_str().unwrap()]);
    assert!(
        confusion(&report)[0].2.contains("not checked (offline)"),
        "{report}"
    );
    let cache = std::fs::read_to_string(db.join("registry-names.json")).unwrap();
    assert!(
        cache.contains(&format!("{}|npm|acme-billing", server.base)),
        "{cache}"
    );

    // Claimed (200 with a document).
    server.put(
        "/acme-billing",
        br#"{"name":"acme-billing","versions":{"99.0.0":{}}}"#.to_vec(),
    );
    let (_k2, db2) = fresh_db();
    let got = online_scan(&db2, &cfg);
    assert!(
        got[0].2.contains("a public package of this name exists"),
        "{got:?}"
    );
    assert_eq!(got[0].1, "high");

    // HTTP 500: not known, the URL named.
    server.fault("/acme-billing", Fault::Error500(10));
    let (_k3, db3) = fresh_db();
    let got = online_scan(&db3, &cfg);
    assert!(got[0].2.contains("HTTP 500"), "{got:?}");

    // A stalled registry: the timeout fires, no hang.
    server.clear_faults();
    server.fault("/acme-billing", Fault::Stall(Duration::from_secs(30)));
    let (_k4, db4) = fresh_db();
    let start = Instant::now();
    let got = online_scan(&db4, &cfg);
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    assert!(got[0].2.contains("timed out"), "{got:?}");
}

/// Zips the files of `dir` (flat) into `to`, as `zip -j` would.
fn zip_flat(dir: &Path, to: &Path) {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in names {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(&std::fs::read(dir.join(&name)).unwrap())
            .unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn npmrc_inside_a_zip_gives_the_same_finding_as_the_folder() {
    let (_keep, db) = fresh_db();
    let dir = testdata("confusion/npmrc-in-zip");
    let (_, report) = scan_json(&db, &["--fail-on", "none", dir.to_str().unwrap()]);
    let from_dir = confusion(&report);
    // Only the .npmrc scope mapping makes @acme/queue internal.
    assert_eq!(from_dir.len(), 1, "{from_dir:?}");
    assert_eq!(
        (from_dir[0].0.as_str(), from_dir[0].1.as_str()),
        ("@acme/queue", "high")
    );
    assert!(
        from_dir[0]
            .2
            .contains("mapped to the private registry npm.acme.internal"),
        "{from_dir:?}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let z = tmp.path().join("fn.zip");
    zip_flat(&dir.join("fn"), &z);
    let (_, report) = scan_json(&db, &["--fail-on", "none", z.to_str().unwrap()]);
    assert_eq!(confusion(&report), from_dir);
    let text = all_outputs(&db, &z);
    assert!(!text.contains("npm_ZiPpEdToKeN789"), "credential printed");
}

fn with_config(
    db: &Path,
    dir: &Path,
    config: &str,
    extra: &[&str],
    fixture: &str,
) -> Vec<(String, String, String)> {
    let cfg = dir.join("depwarden.toml");
    std::fs::write(&cfg, config).unwrap();
    let fixture = testdata(fixture);
    let mut args = vec!["--fail-on", "none", "--config", cfg.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(fixture.to_str().unwrap());
    let (_, report) = scan_json(db, &args);
    confusion(&report)
}

#[test]
fn mirrors_named_in_the_config_and_declared_scopes_behind_a_mirror() {
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    // npm.acme.internal served only acme-billing: a private registry,
    // unless the configuration names it a mirror.
    let got = with_config(&db, tmp.path(), "", &[], "confusion/npm-private");
    assert_eq!(got[0].1, "high", "{got:?}");
    let got = with_config(
        &db,
        tmp.path(),
        "[registries]\nmirrors = [\"https://npm.acme.internal\"]\n",
        &[],
        "confusion/npm-private",
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_str()),
        ("acme-billing", "low")
    );
    assert!(
        got[0]
            .2
            .contains("a registry that also serves public packages (a mirror)"),
        "{got:?}"
    );
    // Declaring the scope internal: @acme/orders, resolved from the
    // private repository its scope is mapped to, is fine; @acme/audit is
    // still high.
    let got = with_config(
        &db,
        tmp.path(),
        "[registries]\ninternal_scopes = [\"@acme\"]\n",
        &[],
        "confusion/mirror-private-scope",
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_str()),
        ("@acme/audit", "high")
    );
}

#[test]
fn online_the_public_registry_decides_names_seen_through_a_mirror() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start();
    let cfg = format!(
        "[registries]\ntimeout_ms = 800\n[registries.public]\nnpm = \"{}\"\n",
        server.base
    );
    // The public registry has it: a public package, no finding.
    server.put(
        "/is-odd-even",
        br#"{"name":"is-odd-even","versions":{"0.1.0":{}},"time":{"created":"2019-01-01T00:00:00Z"}}"#.to_vec(),
    );
    let (_k, db) = fresh_db();
    let got = with_config(
        &db,
        tmp.path(),
        &cfg,
        &["--online"],
        "confusion/mirror-unknown",
    );
    assert_eq!(got, vec![]);
    // It does not: an internal name anyone can claim.
    server.remove("/is-odd-even");
    let (_k2, db2) = fresh_db();
    let got = with_config(
        &db2,
        tmp.path(),
        &cfg,
        &["--online"],
        "confusion/mirror-unknown",
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1, "high");
    assert!(got[0].2.contains("has no package of this name"), "{got:?}");
    // The lookup fails: still low, saying why.
    server.fault("/is-odd-even", Fault::Error500(10));
    let (_k3, db3) = fresh_db();
    let got = with_config(
        &db3,
        tmp.path(),
        &cfg,
        &["--online"],
        "confusion/mirror-unknown",
    );
    assert_eq!(got[0].1, "low");
    assert!(got[0].2.contains("HTTP 500"), "{got:?}");
}

#[test]
fn a_public_scope_mapped_to_a_vendor_registry_is_not_internal() {
    // Font Awesome Pro: the @fortawesome scope is mapped to the vendor's
    // registry, and its free packages still come from the npm registry.
    // The scope is owned on the public registry: nobody can claim names
    // in it there.
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("fn");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join(".npmrc"),
        "@fortawesome:registry=https://npm.fontawesome.com/\n//npm.fontawesome.com/:_authToken=${FONTAWESOME_NPM_AUTH_TOKEN}\n",
    )
    .unwrap();
    std::fs::write(
        app.join("package-lock.json"),
        r#"{"name":"fn","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
            "":{"name":"fn","version":"1.0.0","dependencies":{"@fortawesome/fontawesome-svg-core":"^6.6.0","@fortawesome/pro-solid-svg-icons":"^6.6.0"}},
            "node_modules/@fortawesome/fontawesome-svg-core":{"version":"6.6.0","resolved":"https://registry.npmjs.org/@fortawesome/fontawesome-svg-core/-/fontawesome-svg-core-6.6.0.tgz"},
            "node_modules/@fortawesome/pro-solid-svg-icons":{"version":"6.6.0","resolved":"https://npm.fontawesome.com/@fortawesome/pro-solid-svg-icons/-/6.6.0/pro-solid-svg-icons-6.6.0.tgz"}}}"#,
    )
    .unwrap();
    let (_, report) = scan_json(&db, &["--fail-on", "none", app.to_str().unwrap()]);
    assert_eq!(confusion(&report), vec![]);
}

#[test]
fn a_depwarden_toml_in_the_scanned_tree_cannot_call_a_registry_a_mirror() {
    // Calling the private registry a mirror would turn acme-billing from
    // high into low: only the invoking side (--config) may say it.
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("fn");
    std::fs::create_dir_all(&app).unwrap();
    for f in ["package.json", "package-lock.json"] {
        std::fs::copy(testdata("confusion/npm-private/fn").join(f), app.join(f)).unwrap();
    }
    let toml = "[registries]\nmirrors = [\"https://npm.acme.internal\"]\n";
    std::fs::write(tmp.path().join("depwarden.toml"), toml).unwrap();
    std::fs::write(app.join("depwarden.toml"), toml).unwrap();
    let (code, report) = scan_json(&db, &["--fail-on", "none", tmp.path().to_str().unwrap()]);
    let got = confusion(&report);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1, "high", "{got:?}");
    assert_eq!(code, 1);
    assert!(
        report.to_string().contains("registries.mirrors"),
        "{report}"
    );
}
