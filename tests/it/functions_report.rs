//! Functions in every output format, and infrastructure files as hostile
//! input: paths out of the root, YAML bombs, broken HCL, names that try to
//! drive the terminal or break a Markdown table, and `--strict` refusing
//! what could not be scanned.

use crate::common::functions::{fixture, function, scan};
use crate::common::gate::write;
use crate::common::{depwarden, shared_db};
use serde_json::Value;
use std::path::Path;

fn render(path: &Path, format: &str, args: &[&str]) -> (i32, String) {
    let out = depwarden(&shared_db())
        .args(["scan", "--format", format])
        .arg(path)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn table_and_markdown_have_a_functions_section() {
    let (_, table) = render(&fixture("sam"), "table", &[]);
    assert!(table.contains("\nfunctions\n"), "{table}");
    assert!(
        table.contains(
            "  LegacyReport [sam .aws-sam/build/template.yaml:33]  python3.8 x86_64, 1 layer,"
        ),
        "{table}"
    );
    assert!(table.contains("    ! runtime-deprecated python3.8: Python 3.8 (python3.8) reached the end of its support on 2024-10-14"), "{table}");
    assert!(table.contains("4 functions: 2 runtime"), "{table}");
    assert!(
        table.contains("function LegacyReport: runtime python3.8 deprecated on 2024-10-14"),
        "{table}"
    );
    let (_, md) = render(&fixture("sam"), "markdown", &[]);
    assert!(md.contains("### Functions"), "{md}");
    assert!(
        md.lines().any(
            |l| l.starts_with("| `LegacyReport` | python3.8 | x86\\_64 | 1 |")
                && l.contains("runtime-deprecated")
                && l.ends_with("| closes |")
        ),
        "{md}"
    );
}

#[test]
fn sarif_locates_function_findings_at_the_template_line() {
    let (_, text) = render(&fixture("sam"), "sarif", &[]);
    let sarif: Value = serde_json::from_str(&text).unwrap();
    let run = &sarif["runs"][0];
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["ruleId"] == "depwarden/runtime-deprecated"
                && r["properties"]["package"] == "python3.8"
        })
        .unwrap();
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        ".aws-sam/build/template.yaml"
    );
    assert_eq!(loc["region"]["startLine"], 33);
    assert_eq!(result["level"], "error");
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("LegacyReport: Python 3.8")
    );
    assert!(
        run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "depwarden/native-arch-mismatch")
    );
}

#[test]
fn cyclonedx_lists_functions_depending_on_what_they_load() {
    let (_, text) = render(&fixture("serverless"), "cyclonedx", &[]);
    let bom: Value = serde_json::from_str(&text).unwrap();
    let comp = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "invoice" && c["type"] == "application")
        .unwrap();
    let props: Vec<(String, String)> = comp["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        props.contains(&("depwarden:runtime".into(), "nodejs18.x".into())),
        "{props:?}"
    );
    assert!(
        props.contains(&("depwarden:architecture".into(), "arm64".into())),
        "{props:?}"
    );
    let deps = bom["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ref"] == comp["bom-ref"])
        .unwrap();
    let on: Vec<&str> = deps["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        on.iter().any(|r| r.contains("#qs@6.5.2")),
        "the layer's qs: {on:?}"
    );
    assert!(on.iter().any(|r| r.contains("#minimist@1.2.5")), "{on:?}");
}

#[test]
fn paths_a_template_names_stay_inside_the_scanned_root() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("app");
    write(
        &root.join("template.yaml"),
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Up:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: ../../../../../../etc, Handler: a.h, Runtime: python3.12}\n  Abs:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: /etc, Handler: a.h, Runtime: python3.12}\n  Link:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: out/, Handler: a.h, Runtime: python3.12, Layers: [!Ref L]}\n  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {ContentUri: ../secret}\n",
    );
    write(
        &t.path().join("secret/python/six-1.0.dist-info/METADATA"),
        "Name: six\nVersion: 1.0\n",
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc", root.join("out")).unwrap();
    let (code, r) = scan(&root, &[]);
    for name in ["Up", "Abs"] {
        let f = function(&r, name);
        assert_eq!(f["scanned"], false);
        assert_eq!(f["not_scanned_reason"], "code-unreadable");
        let msg = f["errors"][0]["message"].as_str().unwrap();
        assert!(msg.contains("outside the scanned root; not read"), "{msg}");
        assert_eq!(f["size"]["function_unzipped_bytes"], Value::Null);
    }
    #[cfg(unix)]
    {
        let link = function(&r, "Link");
        assert_eq!(link["not_scanned_reason"], "code-unreadable");
        let msgs: Vec<&str> = link["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert!(msgs.iter().any(|m| m.contains("symbolic link")), "{msgs:?}");
        assert!(
            msgs.iter().any(|m| m.contains("layer L not scanned")),
            "{msgs:?}"
        );
        assert!(
            link["packages"].as_array().unwrap().is_empty(),
            "nothing outside is read"
        );
    }
    assert_eq!(code, 0);
    let (code, _) = scan(&root, &["--strict"]);
    assert_eq!(code, 2, "--strict refuses what was not scanned");
}

#[test]
fn broken_and_hostile_infrastructure_files_are_errors_for_that_file() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    // A billion-laughs template beside a good one.
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 0..9u8 {
        let prev = (b'a' + i) as char;
        let next = (b'b' + i) as char;
        bomb.push_str(&format!("{next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    write(&root.join("bomb/template.yaml"), &bomb);
    write(
        &root.join("tf/main.tf"),
        "resource \"aws_lambda_function\" \"x\" {\n  runtime = \"python3.12\n}\n",
    );
    write(
        &root.join("good/template.yaml"),
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Good:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: src/, Handler: a.h, Runtime: python3.12}\n",
    );
    write(&root.join("good/src/requirements.txt"), "six==1.16.0\n");
    let (_, r) = scan(root, &[]);
    assert_eq!(function(&r, "Good")["runtime"], "python3.12");
    let errors = r["errors"].as_array().unwrap();
    let about = |file: &str| {
        errors
            .iter()
            .find(|e| e["path"].as_str().unwrap().ends_with(file))
            .unwrap_or_else(|| panic!("{file}: {errors:#?}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let m = about("bomb/template.yaml");
    assert!(m.contains("refused before parsing"), "{m}");
    let m = about("tf/main.tf");
    assert!(
        m.contains("line 2") && m.contains("functions it defines are not known"),
        "{m}"
    );
}

#[test]
fn names_from_templates_cannot_drive_the_terminal_or_break_markdown() {
    let t = tempfile::tempdir().unwrap();
    write(
        &t.path().join("template.yaml"),
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  \"Evil\\e[2J|x`y\":\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: src/, Handler: a.h, Runtime: python3.8}\n",
    );
    write(&t.path().join("src/app.py"), "x = 1\n");
    let (_, table) = render(t.path(), "table", &["--no-progress"]);
    assert!(!table.contains('\u{1b}'), "{table:?}");
    assert!(table.contains("Evil\\x1b[2J|x`y"), "{table}");
    let (_, md) = render(t.path(), "markdown", &[]);
    let row = md
        .lines()
        .find(|l| l.contains("Evil"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(!row.contains('\u{1b}'), "{row:?}");
    // The `|` stays inside its cell.
    assert_eq!(row.matches(" | ").count(), 7, "{row}");
    let (_, json) = render(t.path(), "json", &[]);
    let r: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["functions"][0]["name"], "Evil\u{1b}[2J|x`y");
}

#[test]
fn strict_refuses_external_layers_and_images() {
    // The Serverless fixture's `ledger` and `pdf` list an external layer.
    let (code, r) = scan(
        &fixture("serverless"),
        &["--fail-on", "none", "--gate", "none"],
    );
    assert_eq!(code, 0);
    assert_eq!(r["summary"]["functions_incomplete"], 2);
    let (code, r) = scan(
        &fixture("serverless"),
        &["--fail-on", "none", "--gate", "none", "--strict"],
    );
    assert_eq!(code, 2, "{:#}", r["gate"]);
    assert!(r["gate"]["error"].as_str().unwrap().contains("--strict"));
}
