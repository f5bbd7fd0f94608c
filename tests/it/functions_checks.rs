//! The function checks: native code against the function's target
//! (`platform`), runtime support dates (`runtime`), Lambda's size limits
//! (`size`), their gate settings, the per-function target of markers, and
//! the runtime table `db sync` refreshes.

use crate::common::functions::{fixture, function, package, rules, scan, with_rule};
use crate::common::gate::write;
use crate::common::{depwarden, fresh_db, shared_db};
use serde_json::Value;
use std::path::Path;

fn check(f: &Value, rule: &str) -> Value {
    let found = with_rule(f, rule);
    assert_eq!(found.len(), 1, "{rule}: {:#}", f["findings"]);
    found[0].clone()
}

#[test]
fn native_code_that_does_not_fit_the_target() {
    let (code, r) = scan(&fixture("native"), &[]);
    assert_eq!(code, 1, "error-level platform findings close the gate");
    let glibc = check(function(&r, "Al2Fn"), "glibc-too-new");
    assert_eq!(glibc["kind"], "platform");
    assert_eq!(glibc["level"], "error");
    assert_eq!(glibc["found"], "GLIBC_2.34");
    assert!(
        glibc["expected"].as_str().unwrap().contains("2.26"),
        "{glibc}"
    );
    assert_eq!(glibc["files"], serde_json::json!(["al2fn/libfast.so"]));
    assert_eq!(glibc["closes_gate"], true);
    assert_eq!(glibc["function"], "Al2Fn");

    let musl = check(function(&r, "MuslFn"), "musllinux-wheel");
    assert_eq!(musl["package"], "MarkupSafe");
    assert_eq!(musl["version"], "2.1.5");
    assert_eq!(musl["found"], "musllinux_1_1_x86_64");

    let abi = check(function(&r, "AbiFn"), "python-abi-mismatch");
    assert!(
        abi["found"].as_str().unwrap().starts_with("cp311-cp311"),
        "{abi}"
    );
    assert_eq!(abi["expected"], "cp312 (Python 3.12)");

    // The addon built for x86_64 in an arm64 function; its prebuild for
    // linux-x64 is never picked on arm64, so it is not listed.
    let addon = check(function(&r, "AddonFn"), "native-arch-mismatch");
    assert_eq!(addon["ecosystem"], "npm");
    assert_eq!(addon["package"], "fast-hash");
    assert_eq!(addon["version"], "1.0.0");
    assert_eq!(addon["found"], "x86_64");
    assert_eq!(
        addon["files"],
        serde_json::json!(["nodefn/node_modules/fast-hash/build/Release/fast_hash.node"])
    );
    let boot = check(function(&r, "BootstrapFn"), "native-arch-mismatch");
    assert_eq!(boot["files"], serde_json::json!(["bootstrapfn/bootstrap"]));

    let old = function(&r, "OldLayerFn");
    let six = package(old, "layer:OldLayer", "six");
    assert_eq!(six["not_on_path"], true);
    assert_eq!(six["effective"], false);
    let path = check(old, "layer-path-not-on-runtime-path");
    assert_eq!(path["level"], "warning");
    assert_eq!(path["closes_gate"], false);
    assert_eq!(path["found"], "python/lib/python3.11/site-packages");
    assert_eq!(path["origin"], "layer:OldLayer");
    assert_eq!(
        check(old, "layer-runtime-incompatible")["expected"],
        "python3.12"
    );
}

#[test]
fn markers_are_evaluated_for_each_functions_runtime_and_cpu() {
    let (_, r) = scan(&fixture("native"), &[]);
    let f = function(&r, "MarkerFn");
    // python3.11 on arm64: numpy (x86_64 only) and tomli (< 3.11) are not
    // installed there.
    let numpy = package(f, "function", "numpy");
    assert!(
        numpy["not_on_target"]
            .as_str()
            .unwrap()
            .contains("platform_machine"),
        "{numpy}"
    );
    assert_eq!(numpy["effective"], false);
    assert!(package(f, "function", "tomli")["not_on_target"].is_string());
    assert_eq!(package(f, "function", "six")["effective"], true);
    // The same requirements outside any function: the scan's target
    // (Python 3.12 on x86_64).
    let out = depwarden(&shared_db())
        .args(["inventory", "--format", "json"])
        .arg(fixture("native"))
        .output()
        .unwrap();
    let inv: Value = serde_json::from_slice(&out.stdout).unwrap();
    let numpy = |dep: &str| {
        inv["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["deployment"] == dep && p["name"] == "numpy")
            .cloned()
            .unwrap()
    };
    assert!(numpy("plain").get("not_on_target").is_none());
    assert!(numpy("markerfn").get("not_on_target").is_some());
}

#[test]
fn runtime_dates_and_the_runtime_gate() {
    let (_, r) = scan(&fixture("sam"), &[]);
    let legacy = check(function(&r, "LegacyReport"), "runtime-deprecated");
    assert_eq!(legacy["kind"], "runtime");
    assert_eq!(legacy["package"], "python3.8");
    assert_eq!(legacy["deprecation_date"], "2024-10-14");
    assert_eq!(legacy["level"], "error");
    assert_eq!(legacy["closes_gate"], true);
    assert!(
        legacy["reason"]
            .as_str()
            .unwrap()
            .contains("no longer patches")
    );
    assert!(
        r["gate"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "function LegacyReport: runtime python3.8 deprecated on 2024-10-14, native-arch-mismatch (PyYAML 6.0.1)"),
        "{:#}",
        r["gate"]
    );
    // nodejs22.x ends on 2027-04-30: within 180 days of the pinned clock.
    let soon = check(function(&r, "NodeApi"), "runtime-deprecated");
    assert_eq!(soon["level"], "warning");
    assert_eq!(soon["closes_gate"], false);
    assert!(
        rules(function(&r, "OrdersApi"))
            .iter()
            .all(|x| x != "runtime-deprecated")
    );

    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join("depwarden.toml");
    std::fs::write(&cfg, "[gate]\nruntime = \"soon\"\n").unwrap();
    let (_, r) = scan(&fixture("sam"), &["--config", cfg.to_str().unwrap()]);
    assert_eq!(
        check(function(&r, "NodeApi"), "runtime-deprecated")["closes_gate"],
        true
    );
    std::fs::write(&cfg, "[gate]\nruntime = \"none\"\n").unwrap();
    let (_, r) = scan(&fixture("sam"), &["--config", cfg.to_str().unwrap()]);
    assert_eq!(
        check(function(&r, "LegacyReport"), "runtime-deprecated")["closes_gate"],
        false
    );
    assert_eq!(r["summary"]["runtime"], 2, "reported, not gated");
    // An ignore names the rule, and the runtime as the package.
    std::fs::write(
        &cfg,
        "[[ignore]]\nid = \"runtime-deprecated\"\npackage = \"python3.8\"\nreason = \"migration planned\"\n",
    )
    .unwrap();
    let (_, r) = scan(&fixture("sam"), &["--config", cfg.to_str().unwrap()]);
    let x = check(function(&r, "LegacyReport"), "runtime-deprecated");
    assert_eq!(x["ignored"]["reason"], "migration planned");
    assert_eq!(x["closes_gate"], false);
    assert!(
        r["policy"].get("unused_ignores").is_none(),
        "{:#}",
        r["policy"]
    );
}

#[test]
fn platform_gate_levels() {
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join("depwarden.toml");
    let closes = |setting: &str, rule: &str| {
        std::fs::write(
            &cfg,
            format!("[gate]\nfail_on = \"none\"\nplatform = \"{setting}\"\n"),
        )
        .unwrap();
        let (_, r) = scan(&fixture("native"), &["--config", cfg.to_str().unwrap()]);
        let f = r["functions"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["findings"].as_array().unwrap().clone())
            .find(|x| x["rule"] == rule)
            .unwrap();
        f["closes_gate"].as_bool().unwrap()
    };
    assert!(!closes("none", "glibc-too-new"));
    assert!(closes("error", "glibc-too-new"));
    assert!(!closes("error", "layer-runtime-incompatible"));
    assert!(closes("warning", "layer-runtime-incompatible"));
}

/// A SAM project whose function holds `bytes` of (sparse) data.
fn sized_project(dir: &Path, bytes: u64) {
    write(
        &dir.join("template.yaml"),
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Big:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: big/\n      Handler: app.handler\n      Runtime: python3.12\n",
    );
    write(
        &dir.join("big/app.py"),
        "def handler(e, c):\n    return 1\n",
    );
    let f = std::fs::File::create(dir.join("big/model.bin")).unwrap();
    f.set_len(bytes).unwrap();
}

#[test]
fn size_limits_with_the_figures() {
    let t = tempfile::tempdir().unwrap();
    sized_project(t.path(), 300 * 1024 * 1024);
    let (code, r) = scan(t.path(), &[]);
    assert_eq!(code, 1);
    let big = function(&r, "Big");
    let x = check(big, "size-unzipped-over-limit");
    assert_eq!(x["kind"], "size");
    assert_eq!(x["limit"], 262_144_000);
    assert!(x["bytes"].as_u64().unwrap() > 300 * 1024 * 1024);
    assert_eq!(big["size"]["exceeds_unzipped_limit"], true);
    assert_eq!(
        big["size"]["function_zipped_bytes"],
        Value::Null,
        "a directory has no zip"
    );
    assert_eq!(big["size"]["exceeds_zipped_direct_upload"], Value::Null);
    assert_eq!(big["size"]["complete"], true);
    // `[gate] size = "none"` reports without closing.
    let cfg = t.path().join("cfg.toml");
    std::fs::write(&cfg, "[gate]\nsize = \"none\"\n").unwrap();
    let (code, r) = scan(t.path(), &["--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(r["summary"]["size"], 1);
    // Under the limit: no finding.
    let small = tempfile::tempdir().unwrap();
    sized_project(small.path(), 1024);
    let (code, r) = scan(small.path(), &[]);
    assert_eq!(code, 0, "{:#}", r["functions"]);
    assert!(rules(function(&r, "Big")).is_empty());
}

#[test]
fn a_zip_over_the_direct_upload_limit() {
    let t = tempfile::tempdir().unwrap();
    write(
        &t.path().join("serverless.yml"),
        "service: big\nprovider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  api:\n    handler: app.handler\n    package:\n      artifact: dist/api.zip\n",
    );
    // A zip preceded by 60 MB of padding (as a self-extracting archive
    // is): readers find it from its end.
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("app.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut z, b"def handler(e, c):\n    return 1\n").unwrap();
    let bytes = z.finish().unwrap().into_inner();
    let path = t.path().join("dist/api.zip");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let pad = 60 * 1024 * 1024;
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(pad).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, &bytes).unwrap();
    let (code, r) = scan(t.path(), &[]);
    let api = function(&r, "api");
    let x = check(api, "size-zipped-over-direct-upload-limit");
    assert_eq!(x["level"], "warning");
    assert_eq!(x["limit"], 52_428_800);
    assert_eq!(x["bytes"], pad + bytes.len() as u64);
    assert_eq!(api["size"]["exceeds_zipped_direct_upload"], true);
    assert_eq!(api["size"]["exceeds_unzipped_limit"], false);
    assert_eq!(code, 0, "a warning does not close the default gate");
}

#[test]
fn a_layer_shared_by_functions_on_different_targets_is_said() {
    let t = tempfile::tempdir().unwrap();
    write(
        &t.path().join("template.yaml"),
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  A:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: a/, Handler: app.h, Runtime: python3.12, Architectures: [arm64], Layers: [!Ref L]}\n  B:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: b/, Handler: app.h, Runtime: python3.11, Layers: [!Ref L]}\n  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {ContentUri: layer/}\n",
    );
    write(&t.path().join("a/requirements.txt"), "six==1.16.0\n");
    write(&t.path().join("b/requirements.txt"), "six==1.16.0\n");
    write(&t.path().join("layer/requirements.txt"), "attrs==23.1.0\n");
    let (_, r) = scan(t.path(), &[]);
    let layer = r["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "layer")
        .unwrap();
    let msg = layer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message"].as_str().unwrap().contains("different targets"))
        .unwrap_or_else(|| panic!("{layer:#}"));
    assert_eq!(msg["level"], "warning");
    assert!(
        msg["message"]
            .as_str()
            .unwrap()
            .contains("A (Python 3.12, aarch64)"),
        "{msg}"
    );
}

#[test]
fn db_sync_refreshes_the_runtime_table_when_the_source_has_a_newer_one() {
    let (tmp, db) = fresh_db();
    let mirror = tmp.path().join("mirror");
    let npm = Path::new(env!("CARGO_MANIFEST_DIR")).join("advisories-cache/npm/all.zip");
    std::fs::create_dir_all(mirror.join("npm")).unwrap();
    std::fs::copy(&npm, mirror.join("npm/all.zip")).unwrap();
    let sync = |db: &Path| {
        let out = depwarden(db)
            .args(["db", "sync", "--ecosystem", "npm", "--source"])
            .arg(&mirror)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = sync(&db);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("no Lambda runtime table"), "{err}");
    // A newer table that moves python3.12's end of support into the past.
    let mut table: Value = serde_json::from_str(depwarden::functions::runtime::EMBEDDED).unwrap();
    table["as_of"] = "2099-01-01".into();
    for r in table["runtimes"].as_array_mut().unwrap() {
        if r["id"] == "python3.12" {
            r["deprecation"] = "2026-01-01".into();
        }
    }
    write(
        &mirror.join("depwarden/lambda-runtimes.json"),
        serde_json::to_vec(&table).unwrap(),
    );
    let (code, err) = sync(&db);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("Lambda runtime table updated to 2099-01-01"),
        "{err}"
    );
    let out = depwarden(&db)
        .args(["scan", "--format", "json"])
        .arg(fixture("sam"))
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let x = check(function(&r, "OrdersApi"), "runtime-deprecated");
    assert_eq!(x["deprecation_date"], "2026-01-01");
    // A damaged table is a warning; the sync still succeeds and the
    // stored table stays.
    write(
        &mirror.join("depwarden/lambda-runtimes.json"),
        "{\"as_of\": ",
    );
    let (code, err) = sync(&db);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("warning") && err.contains("runtime table"),
        "{err}"
    );
    assert!(db.join("lambda-runtimes.json").is_file());
}
