//! `scan --format sarif`: SARIF 2.1.0 for GitHub code scanning. One rule
//! per advisory (and one each for typosquats and dependency confusion),
//! results located at the line of the lockfile or manifest that declares
//! the package, stable `partialFingerprints`, ignored findings kept as
//! suppressed results.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::model::{Finding, FindingKind, ScanReport};
use crate::severity::{Grade, Severity};

/// Renders the report as SARIF 2.1.0 JSON (with a trailing newline).
pub fn render(report: &ScanReport) -> Result<String, serde_json::Error> {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut results = Vec::new();
    for d in &report.deployments {
        for f in &d.findings {
            let rule_id = rule_id(f);
            let index = *rule_index.entry(rule_id.clone()).or_insert_with(|| {
                rules.push(rule(&rule_id, f));
                rules.len() - 1
            });
            results.push(result(f, &rule_id, index, &d.path));
        }
    }
    // Functions' own findings, at the line of the template that defines
    // the function.
    for func in &report.functions {
        for x in func.findings.iter().filter(|x| x.finding.check.is_some()) {
            let f = &x.finding;
            let rule_id = rule_id(f);
            let index = *rule_index.entry(rule_id.clone()).or_insert_with(|| {
                rules.push(rule(&rule_id, f));
                rules.len() - 1
            });
            results.push(result(f, &rule_id, index, &func.template));
        }
    }
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "depwarden",
                "version": report.tool.version,
                "informationUri": "https://github.com/depwarden/depwarden",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    // GitHub renders these texts: every string in its visible form.
    super::escape::to_json(&sarif, super::escape::JsonMode::Visible)
}

fn rule_id(f: &Finding) -> String {
    match f.kind {
        FindingKind::Typosquat => "depwarden/typosquat".into(),
        FindingKind::DependencyConfusion => "depwarden/dependency-confusion".into(),
        FindingKind::Runtime | FindingKind::Platform | FindingKind::Size => format!(
            "depwarden/{}",
            f.check
                .as_ref()
                .map(|c| c.rule.as_str())
                .unwrap_or("function")
        ),
        // A registry takedown has no advisory id.
        FindingKind::Malicious if f.id.is_none() => "depwarden/taken-down".into(),
        _ => f.id.clone().unwrap_or_else(|| "depwarden/advisory".into()),
    }
}

/// SARIF level of a finding.
fn level(f: &Finding) -> &'static str {
    match f.kind {
        FindingKind::Malicious => "error",
        FindingKind::Vulnerability => match f.severity.unwrap_or(Severity::Unknown) {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            _ => "note",
        },
        FindingKind::Typosquat | FindingKind::DependencyConfusion => {
            match f.confidence.or(f.risk) {
                Some(Grade::High) => "error",
                Some(Grade::Medium) => "warning",
                Some(Grade::Low) | None => "note",
            }
        }
        FindingKind::Warning => "note",
        FindingKind::Runtime | FindingKind::Platform | FindingKind::Size => {
            match f.check.as_ref().map(|c| c.level) {
                Some(super::model::CheckLevel::Error) => "error",
                _ => "warning",
            }
        }
    }
}

fn rule(id: &str, f: &Finding) -> Value {
    let (name, short, help_uri) = match f.kind {
        FindingKind::Typosquat => (
            "Typosquat".to_string(),
            "A dependency whose name imitates a popular package".to_string(),
            None,
        ),
        FindingKind::DependencyConfusion => (
            "DependencyConfusion".to_string(),
            "An internal package name that a public registry could serve".to_string(),
            None,
        ),
        FindingKind::Runtime | FindingKind::Platform | FindingKind::Size => (
            id.trim_start_matches("depwarden/").replace('-', " "),
            match f.kind {
                FindingKind::Runtime => "A function runs on a deprecated Lambda runtime",
                FindingKind::Platform => "Native code that cannot load on the function's target",
                _ => "A function over Lambda's deployment size limits",
            }
            .to_string(),
            None,
        ),
        FindingKind::Malicious if f.id.is_none() => (
            "TakenDown".to_string(),
            "A package the registry took down (replaced with a security placeholder)".to_string(),
            None,
        ),
        _ => (
            id.replace(['-', '/'], ""),
            f.summary
                .clone()
                .unwrap_or_else(|| format!("Advisory {id} affects {}", f.package)),
            Some(format!("https://osv.dev/vulnerability/{id}")),
        ),
    };
    let mut tags = vec!["security".to_string(), "dependency".to_string()];
    tags.push(
        match f.kind {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Malicious => "malicious",
            FindingKind::Typosquat => "typosquat",
            FindingKind::DependencyConfusion => "dependency-confusion",
            FindingKind::Warning => "warning",
            FindingKind::Runtime => "runtime",
            FindingKind::Platform => "platform",
            FindingKind::Size => "size",
        }
        .to_string(),
    );
    let mut properties = json!({"tags": tags});
    let score = match f.kind {
        FindingKind::Malicious => Some(10.0),
        FindingKind::Vulnerability => f.cvss_score.or(match f.severity {
            Some(Severity::Critical) => Some(9.5),
            Some(Severity::High) => Some(8.0),
            Some(Severity::Medium) => Some(5.5),
            Some(Severity::Low) => Some(2.0),
            _ => None,
        }),
        _ => None,
    };
    if let (Some(s), Some(map)) = (score, properties.as_object_mut()) {
        map.insert("security-severity".into(), json!(format!("{s:.1}")));
    }
    let mut r = json!({
        "id": id,
        "name": name,
        "shortDescription": {"text": short},
        "defaultConfiguration": {"level": level(f)},
        "properties": properties,
    });
    if let (Some(uri), Some(map)) = (help_uri, r.as_object_mut()) {
        map.insert("helpUri".into(), json!(uri));
    }
    r
}

fn message(f: &Finding) -> String {
    let at = match &f.version {
        Some(v) => format!("{}@{v}", f.package),
        None => f.package.clone(),
    };
    let mut m = match f.kind {
        FindingKind::Typosquat | FindingKind::DependencyConfusion => {
            format!("{at}: {}", f.reason.clone().unwrap_or_default())
        }
        FindingKind::Runtime | FindingKind::Platform | FindingKind::Size => format!(
            "{}: {}",
            f.check.as_ref().map(|c| c.function.as_str()).unwrap_or(""),
            f.reason.clone().unwrap_or_default()
        ),
        _ => format!(
            "{at} is affected by {}{}",
            f.id.clone().unwrap_or_default(),
            f.summary
                .as_ref()
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        ),
    };
    if let Some(fix) = &f.fix
        && let Some(v) = &fix.version
    {
        m.push_str(&format!(". Upgrade to {v}"));
        if let Some(via) = &fix.via {
            m.push_str(&format!(" (brought in by {via})"));
        }
    }
    if let Some(p) = f.paths.first().filter(|p| p.len() > 1) {
        m.push_str(&format!(". Path: {}", p.join(" > ")));
    }
    m
}

fn result(f: &Finding, rule_id: &str, index: usize, deployment: &str) -> Value {
    let uri = f
        .sources
        .first()
        .cloned()
        .unwrap_or_else(|| deployment.to_string());
    // The line that declares the package, else the file itself (its
    // first line): every result has a location code scanning can show.
    let line = f.line.unwrap_or(1).max(1);
    let location = json!({"physicalLocation": {
        "artifactLocation": {"uri": uri},
        "region": {"startLine": line},
    }});
    let fingerprint = fingerprint(&[
        rule_id,
        f.ecosystem.as_str(),
        &f.package,
        f.version.as_deref().unwrap_or(""),
        &uri,
    ]);
    let mut r = json!({
        "ruleId": rule_id,
        "ruleIndex": index,
        "level": level(f),
        "message": {"text": message(f)},
        "locations": [location],
        "partialFingerprints": {"depwarden/v1": fingerprint},
        "properties": {
            "ecosystem": f.ecosystem,
            "package": f.package,
            "version": f.version,
            "dev": f.dev,
            "closesGate": f.closes_gate,
        },
    });
    if let (Some(ig), Some(map)) = (&f.ignored, r.as_object_mut()) {
        map.insert(
            "suppressions".into(),
            json!([{"kind": "external", "justification": ig.describe()}]),
        );
    }
    r
}

/// A stable hex fingerprint (FNV-1a 64) of the parts.
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
