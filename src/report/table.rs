//! `scan --format table`: per deployment, one line per finding with
//! severity, ids, package@version, fixed versions and dependency path.
//! Every string from the input goes through [`super::escape::visible`]:
//! only depwarden's own colour codes reach the terminal.

use std::fmt::Write as _;

use super::escape::visible as v;
use super::model::{Finding, FindingKind, ScanReport};
use crate::diagnostic::Level;
use crate::severity::{Grade, Severity};

/// Renders the report as a plain-text table; `color` adds ANSI colours.
pub fn render(report: &ScanReport, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    for d in &report.deployments {
        let srcs: Vec<String> = d
            .sources
            .iter()
            .map(|s| {
                if let Some(r) = &s.resolution {
                    format!(
                        "{} ({}, resolved as of {})",
                        v(&s.path),
                        v(&s.format),
                        v(&r.cutoff)
                    )
                } else if s.scanned {
                    format!("{} ({})", v(&s.path), v(&s.format))
                } else {
                    format!("{} ({}, NOT SCANNED)", v(&s.path), v(&s.format))
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "{}  [{} packages; {}]",
            paint("1", &v(&d.path)),
            d.packages,
            srcs.join(", ")
        );
        if d.not_scanned {
            let _ = writeln!(
                out,
                "  {}",
                paint(
                    "31",
                    "not scanned: nothing here could be read, so nothing was checked (see the errors below)"
                )
            );
        } else if d.findings.is_empty() && d.unscanned_sources > 0 {
            let _ = writeln!(
                out,
                "  no findings in what was scanned; {} source(s) could not be scanned (see the errors below)",
                d.unscanned_sources
            );
        } else if d.findings.is_empty() {
            let _ = writeln!(out, "  no findings");
        }
        for f in &d.findings {
            let (label, code) = label(f);
            let mut line = format!(
                "  {:<10} {:<22} {}@{}",
                paint(code, &label),
                ids(f),
                v(&f.package),
                v(f.version.as_deref().unwrap_or("?"))
            );
            match f.kind {
                FindingKind::Typosquat => {
                    let _ = write!(
                        line,
                        "  imitates {}",
                        v(f.imitates.as_deref().unwrap_or("?"))
                    );
                }
                FindingKind::DependencyConfusion => {
                    let _ = write!(line, "  risk {}", f.risk.map_or("?", Grade::as_str));
                }
                _ => {
                    if !f.fixed_versions.is_empty() {
                        let _ = write!(line, "  fixed in {}", v(&f.fixed_versions.join(", ")));
                    } else if matches!(f.kind, FindingKind::Vulnerability) {
                        line.push_str("  no fix");
                    }
                }
            }
            if let Some(p) = f.paths.first()
                && p.len() > 1
            {
                let _ = write!(line, "  via {}", v(&p.join(" > ")));
            }
            if f.dev {
                line.push_str("  (dev)");
            }
            if f.not_on_target.is_some() {
                line.push_str("  (not on target)");
            }
            if f.resolved {
                line.push_str("  (resolved: predicted, not locked)");
            }
            if let Some(ig) = &f.ignored {
                let _ = write!(line, "  [ignored: {}]", v(&ig.describe()));
            }
            let _ = writeln!(out, "{line}");
            // Typosquats, confusion risks and registry takedowns (a
            // malicious finding with no advisory) say why.
            if let Some(r) = &f.reason
                && (matches!(
                    f.kind,
                    FindingKind::Typosquat | FindingKind::DependencyConfusion
                ) || (f.kind == FindingKind::Malicious && f.id.is_none()))
            {
                let _ = writeln!(out, "             {}", v(r));
            }
        }
        for e in &d.errors {
            if e.level != Level::Info {
                let _ = writeln!(
                    out,
                    "  {}: {}: {}",
                    paint("33", level_name(e.level)),
                    v(&e.path),
                    v(&e.message)
                );
            }
        }
    }
    out.push_str(&super::functions_text::table(
        report,
        &|s| v(s).into_owned(),
        &paint,
    ));
    for e in &report.errors {
        let _ = writeln!(
            out,
            "{}: {}: {}",
            level_name(e.level),
            v(&e.path),
            v(&e.message)
        );
    }
    for w in &report.database.warnings {
        let _ = writeln!(out, "warning: {}", v(w));
    }
    for i in &report.policy.expired_ignores {
        let _ = writeln!(out, "warning: {}", v(i));
    }
    for i in &report.policy.unused_ignores {
        let _ = writeln!(out, "note: {}", v(i));
    }
    for c in &report.policy.config_files {
        for o in &c.overruled {
            let _ = writeln!(out, "warning: {}: overruled: {o}", c.path);
        }
        for i in &c.ignored {
            let _ = writeln!(out, "note: {}: {i}", c.path);
        }
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} deployments, {} packages: {} vulnerabilities, {} malicious, {} typosquats, {} dependency-confusion, {} warnings{}{}{}",
        s.deployments,
        s.packages,
        s.vulnerabilities,
        s.malicious,
        s.typosquats,
        s.dependency_confusion,
        s.warnings,
        if s.functions > 0 {
            format!(
                "; {} functions: {} runtime, {} platform, {} size",
                s.functions, s.runtime, s.platform, s.size
            )
        } else {
            String::new()
        },
        if s.ignored > 0 {
            format!(" ({} ignored)", s.ignored)
        } else {
            String::new()
        },
        super::unscanned_note(s)
    );
    let gate = if let Some(e) = &report.gate.error {
        paint("31", &format!("gate: error ({})", v(e)))
    } else if report.gate.passed {
        paint("32", "gate: passed")
    } else {
        paint(
            "31",
            &format!("gate: closed ({})", v(&report.gate.reasons.join("; "))),
        )
    };
    let _ = writeln!(out, "{gate}");
    out
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

fn label(f: &Finding) -> (String, &'static str) {
    match f.kind {
        FindingKind::Vulnerability => {
            let sev = f.severity.unwrap_or(Severity::Unknown);
            let code = match sev {
                Severity::Critical | Severity::High => "31",
                Severity::Medium => "33",
                _ => "36",
            };
            (sev.as_str().to_uppercase(), code)
        }
        FindingKind::Malicious => ("MALICIOUS".into(), "1;31"),
        FindingKind::Typosquat => (
            format!("TYPO/{}", f.confidence.map_or("?", Grade::as_str)),
            "35",
        ),
        FindingKind::DependencyConfusion => ("CONFUSION".into(), "35"),
        FindingKind::Warning => (
            v(f.informational.as_deref().unwrap_or("warning")).to_uppercase(),
            "33",
        ),
        FindingKind::Runtime => ("RUNTIME".into(), "33"),
        FindingKind::Platform => ("PLATFORM".into(), "31"),
        FindingKind::Size => ("SIZE".into(), "31"),
    }
}

fn ids(f: &Finding) -> String {
    match &f.id {
        Some(id) if f.aliases.is_empty() => v(id).into_owned(),
        Some(id) => format!("{} ({})", v(id), v(&f.aliases.join(", "))),
        None => "-".into(),
    }
}
