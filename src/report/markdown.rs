//! `scan --format markdown`: a pull-request comment. Counts by severity per
//! deployment, a table of the findings, then fix advice; long tables are
//! cut with a note so the comment stays readable. Every string from the
//! input is written through [`super::escape::md_code`] or
//! [`super::escape::md_text`]: it stays inside its table cell or code span
//! and never becomes markup.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::{md_code, md_text};
use super::model::{Finding, FindingKind, ScanReport};
use crate::advisory::severity::Severity;

/// Findings shown in the table at most.
const MAX_ROWS: usize = 50;

/// Renders the report as Markdown.
pub fn render(report: &ScanReport) -> String {
    let mut out = String::new();
    let verdict = if report.gate.error.is_some() {
        "error"
    } else if report.gate.passed {
        "passed"
    } else {
        "failed"
    };
    let _ = writeln!(out, "## depwarden: dependency gate {verdict}\n");
    if let Some(e) = &report.gate.error {
        let _ = writeln!(out, "{}\n", md_text(e));
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} deployments, {} packages: {} vulnerabilities, {} malicious, {} typosquats, {} dependency-confusion risks{}.\n",
        s.deployments,
        s.packages,
        s.vulnerabilities,
        s.malicious,
        s.typosquats,
        s.dependency_confusion,
        if s.ignored > 0 {
            format!(", {} ignored", s.ignored)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "| deployment | critical | high | medium | low | other findings | gate |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for d in &report.deployments {
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &d.findings {
            let key = match (f.kind, f.severity) {
                (FindingKind::Vulnerability, Some(Severity::Critical)) => "critical",
                (FindingKind::Vulnerability, Some(Severity::High)) => "high",
                (FindingKind::Vulnerability, Some(Severity::Medium)) => "medium",
                (FindingKind::Vulnerability, Some(Severity::Low)) => "low",
                _ => "other",
            };
            *by.entry(key).or_default() += 1;
        }
        let closes = d.findings.iter().any(|f| f.closes_gate);
        let n = |k: &str| by.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md_code(&d.path, true),
            n("critical"),
            n("high"),
            n("medium"),
            n("low"),
            n("other"),
            if closes { "closes" } else { "ok" }
        );
    }
    let all: Vec<(&str, &Finding)> = report
        .deployments
        .iter()
        .flat_map(|d| d.findings.iter().map(move |f| (d.path.as_str(), f)))
        .collect();
    if !all.is_empty() {
        let _ = writeln!(out, "\n### Findings\n");
        let _ = writeln!(out, "| | deployment | package | finding | fix | path |");
        let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
        for (dep, f) in all.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                label(f),
                md_code(dep, true),
                md_code(
                    &format!("{}@{}", f.package, f.version.as_deref().unwrap_or("?")),
                    true
                ),
                what(f),
                fix(f),
                md_text(&f.paths.first().map(|p| p.join(" > ")).unwrap_or_default()),
            );
        }
        if all.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                "\n…and {} more; see the JSON or SARIF report.",
                all.len() - MAX_ROWS
            );
        }
    }
    let mut advice: BTreeMap<String, String> = BTreeMap::new();
    for (dep, f) in &all {
        if let Some(fx) = &f.fix
            && let Some(v) = &fx.version
        {
            let via = fx
                .via
                .as_ref()
                .map(|d| format!(" (through {})", md_code(d, false)))
                .unwrap_or_default();
            advice.insert(
                format!(
                    "{}: upgrade {} from {} to **{}**",
                    md_code(dep, false),
                    md_code(&f.package, false),
                    md_text(f.version.as_deref().unwrap_or("?")),
                    md_text(v)
                ),
                format!("{}{via}", md_text(fx.upgrade.as_deref().unwrap_or(""))),
            );
        }
    }
    if !advice.is_empty() {
        let _ = writeln!(out, "\n### Fix advice\n");
        for (line, kind) in advice {
            let _ = writeln!(out, "- {line} ({kind})");
        }
    }
    out
}

fn label(f: &Finding) -> String {
    match f.kind {
        FindingKind::Vulnerability => {
            format!("{:?}", f.severity.unwrap_or(Severity::Unknown)).to_lowercase()
        }
        FindingKind::Malicious => "**malicious**".into(),
        FindingKind::Typosquat => format!(
            "typosquat ({})",
            md_text(f.confidence.as_deref().unwrap_or("?"))
        ),
        FindingKind::DependencyConfusion => {
            format!("confusion ({})", md_text(f.risk.as_deref().unwrap_or("?")))
        }
        FindingKind::Warning => md_text(f.informational.as_deref().unwrap_or("warning")),
    }
}

/// The finding cell, already Markdown.
fn what(f: &Finding) -> String {
    let mut s = match f.kind {
        FindingKind::Typosquat => format!(
            "imitates {}",
            md_code(f.imitates.as_deref().unwrap_or("?"), true)
        ),
        FindingKind::DependencyConfusion => md_text(f.reason.as_deref().unwrap_or_default()),
        _ => format!(
            "{}{}",
            md_text(f.id.as_deref().unwrap_or("")),
            f.summary
                .as_ref()
                .map(|s| format!(": {}", md_text(&shorten(s, 90))))
                .unwrap_or_default()
        ),
    };
    if f.ignored.is_some() {
        s.push_str(" (ignored)");
    }
    if f.dev {
        s.push_str(" (dev)");
    }
    s
}

/// The fix cell, already Markdown.
fn fix(f: &Finding) -> String {
    match &f.fix {
        Some(x) => match &x.version {
            Some(v) => md_text(v),
            None => "no fix yet".into(),
        },
        None => String::new(),
    }
}

/// The first `max` characters of `s`, with an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
