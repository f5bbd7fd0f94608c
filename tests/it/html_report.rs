//! `scan --format html`: the demo page is well-formed (a strict XML parser
//! reads it whole) and shows the verdict, the per-deployment counts, every
//! open finding with its links and dependency path; hostile names stay
//! text; a 1,000-finding scan stays under 500 KB.

use crate::common::{depwarden, findings, shared_db, testdata};
use depwarden::report::model::*;
use depwarden::severity::Severity;
use serde_json::Value;

/// Elements and attributes the page is made of: anything else came from
/// the input.
const ELEMENTS: &[&str] = &[
    "html", "head", "meta", "base", "title", "tspan", "style", "body", "svg", "defs", "marker",
    "path", "h1", "h2", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "code", "b",
    "small", "a", "text", "form", "label", "select", "option", "span", "script",
];
const ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "name",
    "content",
    "width",
    "height",
    "aria-hidden",
    "id",
    "viewBox",
    "refX",
    "refY",
    "markerWidth",
    "markerHeight",
    "orient",
    "d",
    "class",
    "colspan",
    "data-d",
    "hidden",
    "value",
    "href",
    "x",
    "y",
];

/// Parses the page strictly; panics at any element, attribute or link the
/// renderer does not write itself.
pub fn assert_no_markup_from_input(page: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(page, opts)
        .unwrap_or_else(|e| panic!("not well-formed: {e}"));
    let mut scripts = 0;
    for n in doc.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        assert!(ELEMENTS.contains(&name), "element <{name}> in the page");
        scripts += usize::from(name == "script");
        for a in n.attributes() {
            assert!(
                ATTRIBUTES.contains(&a.name()),
                "attribute {} on <{name}>",
                a.name()
            );
            if a.name() == "href" && name == "base" {
                assert_eq!(a.value(), "https://osv.dev/vulnerability/");
            } else if a.name() == "href" {
                // Relative to the base: a percent-encoded id, nothing that
                // could leave osv.dev/vulnerability/.
                let v = a.value();
                let safe = v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~%".contains(c));
                assert!(safe && !v.is_empty() && v != "." && v != "..", "{v}");
            }
        }
    }
    assert_eq!(scripts, 1);
    assert!(!page.contains("<!--"), "a comment opened in the page");
    doc
}

fn text_of(doc: &roxmltree::Document<'_>, id: &str) -> String {
    let n = doc
        .descendants()
        .find(|n| n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("no #{id}"));
    n.descendants()
        .filter(|t| t.is_text())
        .filter_map(|t| t.text())
        .collect()
}

#[test]
fn the_demo_page_shows_verdict_counts_findings_and_paths() {
    let db = shared_db();
    let demo = testdata("demo");
    let out = depwarden(&db)
        .args(["scan", "--format", "html"])
        .arg(&demo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let page = String::from_utf8(out.stdout).unwrap();
    let json_out = depwarden(&db)
        .args(["scan", "--format", "json"])
        .arg(&demo)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    let doc = assert_no_markup_from_input(&page);
    assert_eq!(text_of(&doc, "verdict"), "dependency gate failed");
    let why = text_of(&doc, "why");
    for r in report["gate"]["reasons"].as_array().unwrap() {
        assert!(why.contains(r.as_str().unwrap()), "{why}");
    }
    // Per deployment: the counts of the JSON report, bucket by bucket.
    let table = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("deployments"))
        .unwrap();
    let rows: Vec<Vec<String>> = table
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .map(|tr| {
            tr.children()
                .filter(|c| c.is_element())
                .map(|c| {
                    c.descendants()
                        .filter(|t| t.is_text())
                        .filter_map(|t| t.text())
                        .collect()
                })
                .collect()
        })
        .collect();
    let header = &rows[0];
    for d in report["deployments"].as_array().unwrap() {
        let row = rows
            .iter()
            .find(|r| r[0] == d["path"].as_str().unwrap())
            .unwrap();
        let col = |name: &str| row[header.iter().position(|h| h == name).unwrap()].clone();
        assert_eq!(col("packages"), d["packages"].to_string());
        for sev in ["critical", "high", "medium", "low", "unknown"] {
            let n = d["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["severity"] == sev && f["ignored"].is_null())
                .count();
            assert_eq!(col(sev), n.to_string(), "{} {sev}", d["path"]);
        }
    }
    // Every open finding is a row, with its id linked and its path drawn.
    let all = findings(&report);
    let finding_rows: Vec<roxmltree::Node<'_, '_>> = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("tr") && n.attribute("class").is_some_and(|c| c.starts_with("f "))
        })
        .collect();
    assert_eq!(finding_rows.len(), all.len());
    let express = finding_rows
        .iter()
        .find(|r| {
            r.descendants()
                .any(|a| a.attribute("href") == Some("GHSA-9wv6-86v2-598j"))
        })
        .unwrap();
    let svg_text: Vec<&str> = express
        .descendants()
        .filter(|n| n.has_tag_name("tspan"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(svg_text, ["express", "path-to-regexp"]);
    let class = express.attribute("class").unwrap();
    assert_eq!(class, "f kv sh d1 c");
    let dev = finding_rows
        .iter()
        .find(|r| r.descendants().any(|t| t.text() == Some("debug@4.2.0")))
        .unwrap();
    assert_eq!(dev.attribute("class"), Some("f kv sl dev d1"));
    // The filter form is hidden until the script shows it.
    let form = doc.descendants().find(|n| n.has_tag_name("form")).unwrap();
    assert_eq!(form.attribute("hidden"), Some("hidden"));
}

#[test]
fn ignored_findings_show_reason_expiry_and_vex_author() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[[ignore]]\nid = \"GHSA-hrpp-h998-j3pp\"\nreason = \"qs <parses> only our own query strings\"\nexpires = \"2027-03-01\"\n",
    )
    .unwrap();
    let vex = dir.path().join("v.json");
    std::fs::write(
        &vex,
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "urn:x", "author": "Sec <sec@example.com>",
            "timestamp": "2026-10-01T09:00:00Z", "version": 1,
            "statements": [{"vulnerability": {"name": "CVE-2022-0235"}, "products": [{"@id": "pkg:npm/node-fetch@2.6.0"}],
                            "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let out = depwarden(&shared_db())
        .args(["scan", "--format", "html", "--config"])
        .arg(&cfg)
        .arg("--vex")
        .arg(&vex)
        .arg(testdata("demo"))
        .output()
        .unwrap();
    let page = String::from_utf8(out.stdout).unwrap();
    let doc = assert_no_markup_from_input(&page);
    let ignored = text_of(&doc, "ignored");
    assert!(
        ignored.contains("qs <parses> only our own query strings")
            && ignored.contains("2027-03-01"),
        "{ignored}"
    );
    assert!(
        ignored.contains("VEX not_affected by Sec <sec@example.com> at 2026-10-01T09:00:00Z"),
        "{ignored}"
    );
    assert!(
        ignored.contains("vulnerable code not in execute path")
            || ignored.contains("vulnerable_code_not_in_execute_path")
    );
    assert!(text_of(&doc, "notes").contains("1 findings suppressed"));
}

fn large_report(n: usize) -> ScanReport {
    let deployments = (0..20)
        .map(|d| DeploymentReport {
            path: format!("services/service-{d}/functions/handler"),
            ecosystems: vec!["npm".into()],
            sources: Vec::new(),
            packages: 400,
            unscanned_sources: 0,
            not_scanned: false,
            findings: (0..n / 20)
                .map(|j| {
                    let i = d * 1000 + j;
                    let mut f = Finding::new(
                        FindingKind::Vulnerability,
                        depwarden::ecosystem::Ecosystem::Npm,
                        &format!("package-number-{i}"),
                        Some(format!("{}.{}.{}", i % 7, i % 13, i % 5)),
                    );
                    f.id = Some(format!("GHSA-{:04x}-{:04x}-{:04x}", i, i * 7 % 65536, i * 13 % 65536));
                    f.aliases = vec![format!("CVE-2024-{:05}", i)];
                    f.severity = Some([Severity::Critical, Severity::High, Severity::Medium, Severity::Low][i % 4]);
                    f.summary = Some(format!("Prototype pollution in package-number-{i} allows attackers to change object behaviour through crafted input"));
                    f.fixed_versions = vec![format!("{}.{}.{}", i % 7, i % 13 + 1, 0)];
                    let depth = 1 + i % 4;
                    f.paths = vec![(0..depth)
                        .map(|k| if k + 1 == depth { format!("package-number-{i}") } else { format!("direct-dependency-{k}") })
                        .collect()];
                    f.dev = i % 5 == 0;
                    f.fix = Some(FixAdvice {
                        version: Some(f.fixed_versions[0].clone()),
                        upgrade: Some("minor".into()),
                        via: (depth > 1).then(|| "direct-dependency-0".to_string()),
                    });
                    f.closes_gate = !f.dev;
                    f
                })
                .collect(),
            errors: Vec::new(),
        })
        .collect();
    ScanReport {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        database: DatabaseInfo::default(),
        deployments,
        summary: Summary {
            deployments: 20,
            packages: 8000,
            vulnerabilities: n,
            ..Default::default()
        },
        gate: GateResult {
            fail_on: "low".into(),
            passed: false,
            reasons: vec!["many".into()],
            error: None,
        },
        errors: Vec::new(),
        policy: PolicyNotes::default(),
        functions: Vec::new(),
    }
}

#[test]
fn a_thousand_findings_stay_under_500_kb_and_well_formed() {
    let page = depwarden::report::html::render(&large_report(1000));
    assert!(page.len() < 500 * 1024, "{} bytes", page.len());
    let doc = assert_no_markup_from_input(&page);
    let rows = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("tr") && n.attribute("class").is_some_and(|c| c.starts_with("f "))
        })
        .count();
    assert_eq!(rows, 1000);
    eprintln!("html: {} bytes for 1,000 findings", page.len());
}

#[test]
fn hostile_strings_in_every_field_stay_text() {
    let mut r = large_report(40);
    let evil = "<img src=x onerror=alert(1)>\"'&amp;<!--";
    r.deployments[0].path = format!("dep{evil}");
    r.gate.reasons = vec![format!("reason{evil}")];
    r.policy.unused_ignores = vec![format!("note{evil}")];
    r.database.warnings = vec![format!("warn{evil}")];
    let f = &mut r.deployments[0].findings[0];
    f.package = format!("p{evil}");
    f.version = Some(format!("1{evil}"));
    f.id = Some(format!("GHSA-../../x{evil}"));
    f.aliases = vec![format!("javascript:alert(1)//{evil}")];
    f.summary = Some(format!("s{evil}"));
    f.paths = vec![vec![format!("a{evil}"), format!("b{evil}")]];
    f.fix = Some(FixAdvice {
        version: Some(format!("2{evil}")),
        upgrade: Some(format!("u{evil}")),
        via: Some(format!("v{evil}")),
    });
    let g = &mut r.deployments[0].findings[1];
    g.ignored = Some(Suppression {
        reason: format!("r{evil}"),
        expires: Some(format!("e{evil}")),
        justification: None,
        vex: Some(VexSource {
            file: format!("f{evil}"),
            author: format!("a{evil}"),
            timestamp: Some(format!("t{evil}")),
            status: "not_affected".into(),
        }),
    });
    let page = depwarden::report::html::render(&r);
    let doc = assert_no_markup_from_input(&page);
    let texts: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    for prefix in [
        "dep",
        "reason",
        "note",
        "warn",
        "p",
        "s",
        "a",
        "b",
        "2",
        "u",
        "v",
        "r",
        "e",
        "f",
        "GHSA-../../x",
        "javascript:alert(1)//",
    ] {
        assert!(
            texts.contains(&format!("{prefix}{evil}")),
            "{prefix}: {texts}"
        );
    }
    // Every link stays on the advisory site (checked above: no `/`, `:`).
    let hrefs: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("href"))
        .collect();
    assert!(
        hrefs
            .iter()
            .any(|h| h.starts_with("GHSA-..%2F..%2Fx%3Cimg")),
        "{hrefs:?}"
    );
}

#[test]
fn functions_are_listed_with_their_counts_and_own_findings() {
    let db = shared_db();
    let sam = testdata("functions/sam");
    let html = depwarden(&db)
        .args(["scan", "--format", "html"])
        .arg(&sam)
        .output()
        .unwrap();
    let json = depwarden(&db)
        .args(["scan", "--format", "json"])
        .arg(&sam)
        .output()
        .unwrap();
    let page = String::from_utf8(html.stdout).unwrap();
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let doc = assert_no_markup_from_input(&page);
    let table = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("functions"))
        .expect("a functions table");
    let rows: Vec<Vec<String>> = table
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .map(|tr| {
            tr.children()
                .filter(|c| c.is_element())
                .map(|c| {
                    c.descendants()
                        .filter(|t| t.is_text())
                        .filter_map(|t| t.text())
                        .collect()
                })
                .collect()
        })
        .collect();
    let header = rows[0].clone();
    let col =
        |row: &Vec<String>, name: &str| row[header.iter().position(|h| h == name).unwrap()].clone();
    for f in report["functions"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let row = rows.iter().find(|r| r[0].starts_with(name)).unwrap();
        let counted = |kind: &str| {
            f["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| {
                    x["kind"] == kind && (x["effective"] == true || kind != "vulnerability")
                })
                .count()
        };
        assert_eq!(
            col(row, "runtime"),
            counted("runtime").to_string(),
            "{name}"
        );
        assert_eq!(
            col(row, "platform"),
            counted("platform").to_string(),
            "{name}"
        );
        let rules: Vec<&str> = f["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x["rule"].as_str())
            .collect();
        if let Some(rule) = rules.first() {
            let at = rows.iter().position(|r| r[0].starts_with(name)).unwrap();
            assert!(rows[at + 1][0].contains(rule), "{name}: {:?}", rows[at + 1]);
        }
    }
}

#[test]
fn the_markdown_summary_is_appended_to_the_github_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step_summary.md");
    std::fs::write(&summary, "## earlier step\n").unwrap();
    let out = depwarden(&shared_db())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["scan", "--format", "json"])
        .arg(testdata("demo"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The report itself still goes to stdout.
    let _: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("## earlier step\n\n## depwarden: dependency gate failed"),
        "{text}"
    );
    assert!(text.contains("GHSA-9wv6-86v2-598j"), "{text}");
    // A file already at GitHub's limit is left as it is, with a warning.
    let full = dir.path().join("full.md");
    std::fs::write(&full, "x".repeat(1024 * 1024)).unwrap();
    let out = depwarden(&shared_db())
        .env("GITHUB_STEP_SUMMARY", &full)
        .args(["scan", "--format", "json"])
        .arg(testdata("demo"))
        .output()
        .unwrap();
    assert_eq!(std::fs::metadata(&full).unwrap().len(), 1024 * 1024);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 MiB limit"));
}
