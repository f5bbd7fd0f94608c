use super::*;
use crate::report::model::FindingKind;

fn finding(id: &str, aliases: &[&str], name: &str, version: &str) -> Finding {
    let mut f = Finding::new(
        FindingKind::Vulnerability,
        crate::ecosystem::Ecosystem::Npm,
        name,
        Some(version.into()),
    );
    f.id = Some(id.into());
    f.aliases = aliases.iter().map(|a| a.to_string()).collect();
    f
}

fn doc(statements: &str) -> String {
    format!(
        r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "urn:x", "author": "Sec Team <sec@example.com>",
            "timestamp": "2026-10-01T00:00:00Z", "version": 1, "statements": [{statements}]}}"#
    )
}

#[test]
fn a_not_affected_statement_suppresses_by_id_or_alias_and_purl() {
    let text = doc(
        r#"{"vulnerability": {"name": "CVE-2021-23337"}, "products": [{"@id": "pkg:npm/lodash@4.17.15"}],
            "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
            "impact_statement": "template() is never called"}"#,
    );
    let d = parse(&text, Path::new("vex.json")).unwrap();
    let f = finding(
        "GHSA-35jh-r3h4-6jhm",
        &["CVE-2021-23337"],
        "lodash",
        "4.17.15",
    );
    let s = suppression(std::slice::from_ref(&d), &f).unwrap();
    assert_eq!(s.reason, "template() is never called");
    assert_eq!(
        s.justification,
        Some(Justification::VulnerableCodeNotInExecutePath)
    );
    let v = s.vex.unwrap();
    assert_eq!(
        (v.author.as_str(), v.status.as_str()),
        ("Sec Team <sec@example.com>", "not_affected")
    );
    assert_eq!(v.timestamp.as_deref(), Some("2026-10-01T00:00:00Z"));
    // Another version, another package, another advisory: untouched.
    for other in [
        finding(
            "GHSA-35jh-r3h4-6jhm",
            &["CVE-2021-23337"],
            "lodash",
            "4.17.20",
        ),
        finding(
            "GHSA-35jh-r3h4-6jhm",
            &["CVE-2021-23337"],
            "lodash-es",
            "4.17.15",
        ),
        finding(
            "GHSA-29mw-wpgm-hmr9",
            &["CVE-2020-28500"],
            "lodash",
            "4.17.15",
        ),
    ] {
        assert_eq!(
            suppression(std::slice::from_ref(&d), &other),
            None,
            "{other:?}"
        );
    }
}

#[test]
fn the_latest_statement_decides_and_affected_keeps_the_finding_open() {
    let text = doc(
        r#"{"vulnerability": {"name": "GHSA-1"}, "products": [{"@id": "pkg:npm/a"}], "status": "not_affected",
            "justification": "component_not_present", "timestamp": "2026-10-02T00:00:00Z"},
           {"vulnerability": {"name": "GHSA-1"}, "products": [{"@id": "pkg:npm/a@1.0.0"}], "status": "affected",
            "timestamp": "2026-10-01T00:00:00Z"},
           {"vulnerability": {"name": "GHSA-2"}, "products": [{"@id": "pkg:npm/a@1.0.0"}], "status": "under_investigation"},
           {"vulnerability": {"name": "GHSA-3"}, "products": [{"@id": "pkg:npm/a@1.0.0"}], "status": "fixed"},
           {"vulnerability": {"name": "GHSA-4"}, "products": [{"@id": "pkg:oci/image@sha256%3Aab"}], "status": "not_affected",
            "impact_statement": "other product"}"#,
    );
    let d = vec![parse(&text, Path::new("v.json")).unwrap()];
    let s = suppression(&d, &finding("GHSA-1", &[], "a", "1.0.0")).unwrap();
    assert_eq!(s.reason, "component not present");
    assert_eq!(suppression(&d, &finding("GHSA-2", &[], "a", "1.0.0")), None);
    assert_eq!(
        suppression(&d, &finding("GHSA-3", &[], "a", "1.0.0"))
            .unwrap()
            .vex
            .unwrap()
            .status,
        "fixed"
    );
    assert_eq!(suppression(&d, &finding("GHSA-4", &[], "a", "1.0.0")), None);
    assert_eq!(d[0].statements.len(), 5);
}

#[test]
fn malformed_documents_are_errors_naming_the_file() {
    let cases = [
        ("{", "not JSON"),
        (
            r#"{"@context": "https://example.com"}"#,
            "not an OpenVEX document",
        ),
        (
            &doc(r#"{"vulnerability": {"name": "X"}, "products": [], "status": "maybe"}"#),
            "statement 1: status",
        ),
        (
            &doc(r#"{"vulnerability": {"name": "X"}, "products": [], "status": "not_affected"}"#),
            "justification or an impact_statement",
        ),
        (
            &doc(
                r#"{"vulnerability": {"name": "X"}, "products": [], "status": "not_affected", "justification": "trust_me"}"#,
            ),
            "unknown justification",
        ),
        (
            &doc(r#"{"vulnerability": {}, "products": [], "status": "affected"}"#),
            "no name",
        ),
        (
            &doc(r#"{"vulnerability": {"name": "X"}, "status": "affected"}"#),
            "no products",
        ),
        (
            &doc(
                r#"{"vulnerability": {"name": "X"}, "products": [], "status": "affected", "timestamp": "yesterday"}"#,
            ),
            "timestamp",
        ),
    ];
    for (text, want) in cases {
        let err = parse(text, Path::new("dir/my.vex.json"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("dir/my.vex.json") && err.contains(want),
            "{err} / {want}"
        );
    }
}
