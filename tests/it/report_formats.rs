//! Report formats on the demo deployments: SARIF 2.1.0 and CycloneDX 1.5
//! validated against the official schemas (testdata/schemas, offline),
//! several formats from one scan, stable SARIF fingerprints, SARIF lines per
//! lockfile format, and snapshots of every format.

use crate::common;

use crate::common::{depwarden, shared_db, testdata};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Serves the schemas' `$ref`s (`spdx.schema.json`, `jsf-0.82.schema.json`)
/// from testdata/schemas.
struct LocalSchemas;

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .path()
            .as_str()
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        let text = std::fs::read_to_string(testdata(&format!("schemas/{name}")))?;
        Ok(serde_json::from_str(&text)?)
    }
}

pub fn validate(schema_file: &str, doc: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata(&format!("schemas/{schema_file}"))).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .with_retriever(LocalSchemas)
        .build(&schema)
        .expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema_file}: {errors:#?}");
}

/// Runs one scan writing every format next to `stem`.
fn scan_all(db: &Path, stem: &Path, target: &Path) -> i32 {
    depwarden(db)
        .args([
            "scan",
            "--format",
            "json,sarif,cyclonedx,markdown,table",
            "--output",
        ])
        .arg(stem)
        .arg(target)
        .output()
        .unwrap()
        .status
        .code()
        .unwrap()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn sarif_and_cyclonedx_validate_and_agree_with_the_json_report() {
    let db = shared_db();
    let out = tempfile::tempdir().unwrap();
    let stem = out.path().join("report");
    assert_eq!(scan_all(&db, &stem, &testdata("demo")), 1);
    let json = read_json(&out.path().join("report.json"));
    let sarif = read_json(&out.path().join("report.sarif"));
    let cdx = read_json(&out.path().join("report.cdx.json"));
    assert!(out.path().join("report.md").exists() && out.path().join("report.txt").exists());
    validate("sarif-schema-2.1.0.json", &sarif);
    validate("bom-1.5.schema.json", &cdx);
    // The validators do reject what the schemas forbid.
    let mut broken = cdx.clone();
    broken["specVersion"] = serde_json::json!(7);
    broken["components"][0]["hashes"] = serde_json::json!([{"alg": "SHA-512", "content": "xyz"}]);
    assert!(std::panic::catch_unwind(|| validate("bom-1.5.schema.json", &broken)).is_err());
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(std::panic::catch_unwind(|| validate("sarif-schema-2.1.0.json", &broken)).is_err());

    let findings = common::findings(&json);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let rules: BTreeSet<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for f in &findings {
        assert!(rules.contains(f["id"].as_str().unwrap()));
    }
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(testdata("demo").join(uri).is_file(), "{uri}");
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }

    // Every package is a component; every affected ref exists.
    let refs: BTreeSet<&str> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), cdx["components"].as_array().unwrap().len());
    let inventory_count = {
        let o = depwarden(&db)
            .args(["inventory", "--format", "json"])
            .arg(testdata("demo"))
            .output()
            .unwrap();
        let inv: Value = serde_json::from_slice(&o.stdout).unwrap();
        inv["packages"].as_array().unwrap().len()
    };
    assert_eq!(refs.len(), inventory_count);
    let vulns = cdx["vulnerabilities"].as_array().unwrap();
    let ids: BTreeSet<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(vulns.len(), ids.len());
    for v in vulns {
        let affects = v["affects"].as_array().unwrap();
        assert!(!affects.is_empty());
        for a in affects {
            assert!(refs.contains(a["ref"].as_str().unwrap()));
        }
    }
    for d in cdx["dependencies"].as_array().unwrap() {
        for to in d["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(to.as_str().unwrap()));
        }
    }
}

#[test]
fn sarif_fingerprints_are_stable_across_runs() {
    let db = shared_db();
    let fp = || -> Vec<String> {
        let o = depwarden(&db)
            .args(["scan", "--format", "sarif"])
            .arg(testdata("demo"))
            .output()
            .unwrap();
        let s: Value = serde_json::from_slice(&o.stdout).unwrap();
        s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["depwarden/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let a = fp();
    assert!(!a.is_empty());
    assert_eq!(a, fp());
}

/// Recognises the line that declares a package (given the next line).
type IsDecl = dyn Fn(&str, Option<&str>) -> bool;

/// The 1-based line of the first line of `file` for which `is_decl` holds.
fn line_of(file: &Path, is_decl: impl Fn(&str, Option<&str>) -> bool) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    (0..lines.len())
        .find(|&i| is_decl(lines[i], lines.get(i + 1).copied()))
        .map(|i| i as u64 + 1)
        .unwrap()
}

#[test]
fn sarif_lines_point_at_the_declaring_line_for_each_lockfile_format() {
    let db = shared_db();
    let toml_pkg = |name: &'static str| {
        move |l: &str, next: Option<&str>| {
            l.trim() == "[[package]]" && next == Some(&format!("name = \"{name}\""))
        }
    };
    let cases: Vec<(&str, &str, &str, Box<IsDecl>)> = vec![
        (
            "demo/orders-api",
            "package-lock.json",
            "lodash",
            Box::new(|l: &str, _| l.trim() == "\"node_modules/lodash\": {"),
        ),
        (
            "reports/lines/yarn",
            "yarn.lock",
            "lodash",
            Box::new(|l: &str, _| l.starts_with("lodash@")),
        ),
        (
            "reports/lines/pnpm",
            "pnpm-lock.yaml",
            "lodash",
            Box::new(|l: &str, _| l.trim() == "lodash@4.17.15:" && l.starts_with("  lodash")),
        ),
        (
            "demo/thumbnailer",
            "requirements.txt",
            "Pillow",
            Box::new(|l: &str, _| l.starts_with("Pillow==")),
        ),
        (
            "reports/lines/poetry",
            "poetry.lock",
            "jinja2",
            Box::new(toml_pkg("jinja2")),
        ),
        (
            "reports/lines/uv",
            "uv.lock",
            "jinja2",
            Box::new(toml_pkg("jinja2")),
        ),
        // Cargo.lock entries are located at their `name = ` line.
        (
            "demo/ingest-rs",
            "Cargo.lock",
            "smallvec",
            Box::new(|l: &str, _| l == "name = \"smallvec\""),
        ),
    ];
    for (dir, file, package, is_decl) in cases {
        let o = depwarden(&db)
            .args(["scan", "--format", "sarif"])
            .arg(testdata(dir))
            .output()
            .unwrap();
        let s: Value = serde_json::from_slice(&o.stdout).unwrap();
        let result = s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["properties"]["package"] == package)
            .unwrap_or_else(|| panic!("{dir}: no result for {package}"));
        let loc = &result["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], file, "{dir}");
        let expected = line_of(&testdata(dir).join(file), is_decl);
        // The pnpm v9 declaration is the first `lodash@4.17.15:` (packages).
        assert_eq!(
            loc["region"]["startLine"].as_u64().unwrap(),
            expected,
            "{dir}/{file}"
        );
    }
}

/// Replaces what changes between runs and machines.
fn normalise(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let volatile = [
            "\"timestamp\"",
            "\"serialNumber\"",
            "\"path\": \"/",
            "\"updated_at\"",
            "\"newest_modified\"",
            "\"source\": \"embedded",
            "\"records\"",
        ];
        if volatile.iter().any(|v| t.starts_with(v)) || t.contains("days old") {
            let indent = &line[..line.len() - t.len()];
            out.push(format!(
                "{indent}{} [normalised]",
                t.split(':').next().unwrap_or("")
            ));
        } else {
            out.push(line.replace(
                &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
                "\"[tool version]\"",
            ));
        }
    }
    out.join("\n")
}

#[test]
fn snapshots_of_every_format_for_the_demo() {
    let db = shared_db();
    let out = tempfile::tempdir().unwrap();
    let stem = out.path().join("demo");
    scan_all(&db, &stem, &testdata("demo"));
    for (ext, name) in [
        ("json", "demo_json"),
        ("sarif", "demo_sarif"),
        ("cdx.json", "demo_cyclonedx"),
        ("md", "demo_markdown"),
        ("txt", "demo_table"),
    ] {
        let text = std::fs::read_to_string(out.path().join(format!("demo.{ext}"))).unwrap();
        insta::assert_snapshot!(name, normalise(&text));
    }
}
