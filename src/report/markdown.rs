//! `scan --format markdown`: a pull-request comment. The verdict and the
//! counts, the most serious findings first, the deployments that need
//! attention, and fix advice. The comment stays under GitHub's limit
//! of 65,536 characters whatever the size of the scan: what does not fit
//! is counted ("N more in the full report") instead of listed. Every
//! string from the input is written through [`super::escape::md_code`] or
//! [`super::escape::md_text`]: it stays inside its table cell or code span
//! and never becomes markup.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::{md_code, md_text};
use super::model::{Finding, FindingKind, ScanReport};
use crate::severity::{Grade, Severity};

/// Findings shown in the table at most (fewer when the comment would grow
/// too long).
const MAX_ROWS: usize = 50;
/// Deployments listed at most.
const MAX_DEPLOYMENT_ROWS: usize = 100;
/// GitHub's limit on a comment body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;
/// Room kept under the limit for the closing lines that count what was
/// left out.
const RESERVE: usize = 2_048;

/// Text that grows only while it stays under a byte budget (bytes are at
/// least as many as characters, so the character limit holds too).
struct Budget {
    out: String,
    limit: usize,
}

impl Budget {
    /// Appends `text` and a newline if it fits; false (nothing appended)
    /// otherwise.
    fn line(&mut self, text: &str) -> bool {
        if self.out.len() + text.len() + 1 > self.limit {
            return false;
        }
        self.out.push_str(text);
        self.out.push('\n');
        true
    }
}

/// Renders the report as Markdown, under [`COMMENT_LIMIT`] characters.
pub fn render(report: &ScanReport) -> String {
    let mut b = Budget {
        out: String::new(),
        limit: COMMENT_LIMIT - RESERVE,
    };
    let verdict = if report.gate.error.is_some() {
        "error"
    } else if report.gate.passed {
        "passed"
    } else {
        "failed"
    };
    b.line(&format!("## depwarden: dependency gate {verdict}\n"));
    if let Some(e) = &report.gate.error {
        b.line(&format!("{}\n", md_text(e)));
    }
    let s = &report.summary;
    b.line(&format!(
        "{} deployments, {} packages: {} vulnerabilities, {} malicious, {} typosquats, {} dependency-confusion risks{}{}{}.\n",
        s.deployments,
        s.packages,
        s.vulnerabilities,
        s.malicious,
        s.typosquats,
        s.dependency_confusion,
        if s.functions > 0 {
            format!(
                "; {} functions: {} runtime, {} platform, {} size findings",
                s.functions, s.runtime, s.platform, s.size
            )
        } else {
            String::new()
        },
        if s.ignored > 0 {
            format!(", {} ignored", s.ignored)
        } else {
            String::new()
        },
        super::unscanned_note(s)
    ));
    let mut left_out: Vec<String> = Vec::new();

    // Findings, the most serious first across deployments.
    let mut all: Vec<(&str, &Finding)> = report
        .deployments
        .iter()
        .flat_map(|d| d.findings.iter().map(move |f| (d.path.as_str(), f)))
        .collect();
    all.sort_by_key(|(_, f)| {
        (
            !f.closes_gate,
            kind_rank(f.kind),
            std::cmp::Reverse(f.severity),
        )
    });
    if !all.is_empty() && b.line("### Findings\n") {
        b.line("| | deployment | package | finding | fix | path |");
        b.line("| --- | --- | --- | --- | --- | --- |");
        let mut rows = 0;
        for (dep, f) in all.iter().take(MAX_ROWS) {
            let row = format!(
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
            if !b.line(&row) {
                break;
            }
            rows += 1;
        }
        if rows < all.len() {
            left_out.push(format!("{} more findings", all.len() - rows));
        }
    } else if !all.is_empty() {
        left_out.push(format!("{} findings", all.len()));
    }

    // Deployments: those with findings or with something not scanned; the
    // others are only counted.
    let shown: Vec<_> = report
        .deployments
        .iter()
        .filter(|d| !d.findings.is_empty() || d.unscanned_sources > 0 || d.not_scanned)
        .collect();
    let quiet = report.deployments.len() - shown.len();
    if !shown.is_empty() {
        b.line("\n### Deployments\n");
        b.line("| deployment | critical | high | medium | low | other findings | gate |");
        b.line("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
        let mut rows = 0;
        for d in shown.iter().take(MAX_DEPLOYMENT_ROWS) {
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
            let n = |k: &str| by.get(k).copied().unwrap_or(0);
            let gate = if d.findings.iter().any(|f| f.closes_gate) {
                "closes".to_string()
            } else if d.not_scanned {
                "**not scanned**".to_string()
            } else if d.unscanned_sources > 0 {
                format!("ok ({} not scanned)", d.unscanned_sources)
            } else {
                "ok".to_string()
            };
            let row = format!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                md_code(&d.path, true),
                n("critical"),
                n("high"),
                n("medium"),
                n("low"),
                n("other"),
                gate
            );
            if !b.line(&row) {
                break;
            }
            rows += 1;
        }
        if rows < shown.len() {
            left_out.push(format!("{} more deployments", shown.len() - rows));
        }
    }
    super::functions_text::markdown(
        report,
        &mut |l| b.line(l),
        (&|s| md_code(s, true), &md_text),
        &mut left_out,
    );
    if quiet > 0 {
        b.line(&format!(
            "\n{quiet} other deployment{} scanned without findings.",
            if quiet == 1 { "" } else { "s" }
        ));
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
    if !advice.is_empty() && b.line("\n### Fix advice\n") {
        let total = advice.len();
        let mut shown = 0;
        for (line, kind) in advice.into_iter().take(MAX_ROWS) {
            if !b.line(&format!("- {line} ({kind})")) {
                break;
            }
            shown += 1;
        }
        if shown < total {
            left_out.push(format!("{} more fix advice lines", total - shown));
        }
    }
    let mut out = b.out;
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "\n…{} in the full report (JSON or SARIF).",
            left_out.join(", ")
        );
    }
    out
}

fn kind_rank(k: FindingKind) -> u8 {
    match k {
        FindingKind::Malicious => 0,
        FindingKind::Vulnerability => 1,
        FindingKind::Typosquat => 2,
        FindingKind::DependencyConfusion => 3,
        FindingKind::Warning => 4,
        FindingKind::Runtime => 5,
        FindingKind::Platform => 6,
        FindingKind::Size => 7,
    }
}

fn label(f: &Finding) -> String {
    match f.kind {
        FindingKind::Vulnerability => f.severity.unwrap_or(Severity::Unknown).as_str().to_string(),
        FindingKind::Malicious => "**malicious**".into(),
        FindingKind::Typosquat => {
            format!("typosquat ({})", f.confidence.map_or("?", Grade::as_str))
        }
        FindingKind::DependencyConfusion => {
            format!("confusion ({})", f.risk.map_or("?", Grade::as_str))
        }
        FindingKind::Warning => md_text(f.informational.as_deref().unwrap_or("warning")),
        FindingKind::Runtime => "runtime".into(),
        FindingKind::Platform => "platform".into(),
        FindingKind::Size => "size".into(),
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
        _ => match (&f.id, &f.summary) {
            (Some(id), Some(s)) => format!("{}: {}", md_text(id), md_text(&shorten(s, 90))),
            (Some(id), None) => md_text(id),
            (None, Some(s)) => md_text(&shorten(s, 90)),
            (None, None) => String::new(),
        },
    };
    match &f.ignored {
        Some(ig) if ig.vex.is_some() => {
            s.push_str(&format!(" (ignored: {})", md_text(&ig.describe())));
        }
        Some(_) => s.push_str(" (ignored)"),
        None => {}
    }
    if f.dev {
        s.push_str(" (dev)");
    }
    if f.not_on_target.is_some() {
        s.push_str(" (not on target)");
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::report::model::*;

    fn report(deployments: usize, findings_each: usize) -> ScanReport {
        let deps = (0..deployments)
            .map(|i| {
                let findings = (0..findings_each)
                    .map(|j| {
                        let mut f = Finding::new(
                            FindingKind::Vulnerability,
                            crate::ecosystem::Ecosystem::Npm,
                            &format!("package-with-a-long-name-{j}"),
                            Some("1.0.0".into()),
                        );
                        f.id = Some(format!("GHSA-xxxx-xxxx-{j:04}"));
                        f.severity = Some(if j % 7 == 0 {
                            Severity::Critical
                        } else {
                            Severity::Low
                        });
                        f.summary = Some("a summary long enough to take some room in a row".into());
                        f.paths = vec![vec!["a".into(), "b".into(), format!("c{j}")]];
                        f.fix = Some(FixAdvice {
                            version: Some("2.0.0".into()),
                            upgrade: Some("major".into()),
                            via: Some("a".into()),
                        });
                        f.closes_gate = j % 7 == 0;
                        f
                    })
                    .collect();
                DeploymentReport {
                    path: format!("functions/service-{i}/handler"),
                    ecosystems: vec!["npm".into()],
                    sources: Vec::new(),
                    packages: 100,
                    unscanned_sources: 0,
                    not_scanned: false,
                    findings,
                    errors: Vec::new(),
                }
            })
            .collect();
        ScanReport {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::default(),
            database: DatabaseInfo::default(),
            deployments: deps,
            functions: Vec::new(),
            summary: Summary::default(),
            gate: GateResult {
                fail_on: "low".into(),
                passed: false,
                reasons: Vec::new(),
                error: None,
            },
            errors: Vec::new(),
            policy: PolicyNotes::default(),
        }
    }

    #[test]
    fn a_large_scan_is_summarised_under_the_comment_limit() {
        let text = render(&report(2_000, 30));
        assert!(text.chars().count() < COMMENT_LIMIT, "{}", text.len());
        assert!(text.contains("more deployments"), "{text}");
        assert!(text.contains("59950 more findings"), "{text}");
        assert!(
            text.contains("in the full report (JSON or SARIF)"),
            "{text}"
        );
        // The most serious findings come first.
        let first_row = text
            .lines()
            .find(|l| l.starts_with("| critical") || l.starts_with("| low"))
            .unwrap();
        assert!(first_row.starts_with("| critical"), "{first_row}");
    }

    #[test]
    fn a_small_scan_is_listed_whole() {
        let text = render(&report(2, 3));
        assert!(!text.contains("in the full report"), "{text}");
        assert_eq!(text.matches("GHSA-xxxx-xxxx-").count(), 6);
    }

    #[test]
    fn a_deployment_not_scanned_says_so() {
        let mut r = report(1, 0);
        r.deployments[0].not_scanned = true;
        r.deployments[0].unscanned_sources = 1;
        r.summary.unscanned_sources = 1;
        r.summary.deployments_not_scanned = 1;
        let text = render(&r);
        assert!(text.contains("**not scanned**"), "{text}");
        assert!(
            text.contains("1 source not scanned (1 deployment not scanned at all)"),
            "{text}"
        );
    }
}
