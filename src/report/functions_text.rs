//! The functions section of the table and Markdown reports: one line per
//! function (runtime, architecture, layers, packages, size, gate), then its
//! own findings (runtime, platform, size) and the package findings that
//! reach the copy Lambda loads. Each renderer passes its own escaper, so
//! every string goes through the escaping layer of its output.

use std::fmt::Write as _;

use super::model::{FindingKind, ScanReport};
use super::model::{FunctionFinding, FunctionReport};

/// An output's escaper.
pub type Escaper<'a> = &'a dyn Fn(&str) -> String;

/// Own findings and loaded-package findings listed per function at most.
const MAX_FINDINGS: usize = 20;

/// A size for people: bytes, KiB or MiB.
fn mib(bytes: u64) -> String {
    const KIB: u64 = 1024;
    if bytes < KIB {
        format!("{bytes} bytes")
    } else if bytes < KIB * KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / (KIB * KIB) as f64)
    }
}

/// `python3.12 arm64, 2 layers (1 external)`.
fn summary_line(f: &FunctionReport) -> String {
    let external = f.layers.iter().filter(|l| l.kind == "external").count();
    let layers = match (f.layers.len(), external) {
        (0, _) => "no layers".to_string(),
        (n, 0) => format!("{n} layer{}", if n == 1 { "" } else { "s" }),
        (n, e) => format!("{n} layer{} ({e} external)", if n == 1 { "" } else { "s" }),
    };
    let loaded = f.packages.iter().filter(|p| p.effective).count();
    format!(
        "{} {}{}, {layers}, {loaded} packages loaded, {} unzipped{}",
        f.runtime.as_deref().unwrap_or("(runtime unknown)"),
        f.architecture
            .as_deref()
            .unwrap_or("(architecture unknown)"),
        if f.architecture_defaulted {
            " (default)"
        } else {
            ""
        },
        mib(f.size.total_unzipped_bytes),
        if f.size.complete { "" } else { " (incomplete)" }
    )
}

/// The findings worth a line: the function's own, and package findings
/// about a loaded copy, gate-closing ones first.
fn listed(f: &FunctionReport) -> Vec<&FunctionFinding> {
    let mut v: Vec<&FunctionFinding> = f
        .findings
        .iter()
        .filter(|x| x.effective || is_own(x))
        .collect();
    v.sort_by_key(|x| (!x.finding.closes_gate, !is_own(x)));
    v
}

fn is_own(x: &FunctionFinding) -> bool {
    matches!(
        x.finding.kind,
        FindingKind::Runtime | FindingKind::Platform | FindingKind::Size
    )
}

/// One finding in a few words.
fn describe(x: &FunctionFinding) -> String {
    let f = &x.finding;
    match &f.check {
        Some(c) => format!(
            "{} {}: {}",
            c.rule,
            f.package,
            f.reason.as_deref().unwrap_or("")
        ),
        None => format!(
            "{} {}@{} ({})",
            f.id.as_deref().unwrap_or("finding"),
            f.package,
            f.version.as_deref().unwrap_or("?"),
            x.origin
        ),
    }
}

/// The table section; `esc` escapes text for the terminal, `paint` colours.
pub fn table(
    report: &ScanReport,
    esc: &dyn Fn(&str) -> String,
    paint: &dyn Fn(&str, &str) -> String,
) -> String {
    let mut out = String::new();
    if report.functions.is_empty() {
        return out;
    }
    let _ = writeln!(out, "{}", paint("1", "functions"));
    for f in &report.functions {
        let gate = if f.findings.iter().any(|x| x.finding.closes_gate) {
            paint("31", "closes the gate")
        } else {
            "ok".to_string()
        };
        let _ = writeln!(
            out,
            "  {} [{} {}]  {}  {gate}",
            paint("1", &esc(&f.name)),
            f.framework,
            esc(&f.template),
            esc(&summary_line(f))
        );
        if !f.scanned {
            let _ = writeln!(
                out,
                "    {}",
                paint(
                    "31",
                    &format!(
                        "code not scanned ({})",
                        f.not_scanned_reason.as_deref().unwrap_or("unknown")
                    )
                )
            );
        }
        let list = listed(f);
        for x in list.iter().take(MAX_FINDINGS) {
            let mark = if x.finding.closes_gate { "!" } else { "-" };
            let _ = writeln!(out, "    {mark} {}", esc(&describe(x)));
        }
        if list.len() > MAX_FINDINGS {
            let _ = writeln!(
                out,
                "    ... {} more (JSON report)",
                list.len() - MAX_FINDINGS
            );
        }
        for e in f
            .errors
            .iter()
            .filter(|e| e.level == crate::diagnostic::Level::Error)
        {
            let _ = writeln!(out, "    {}: {}", paint("33", "error"), esc(&e.message));
        }
    }
    out
}

/// The Markdown section, line by line through `line` (which refuses a
/// line that does not fit); what does not fit is counted in `left_out`.
/// `code` writes text as a code span in a table cell, `text` as cell text.
pub fn markdown(
    report: &ScanReport,
    line: &mut dyn FnMut(&str) -> bool,
    (code, text): (Escaper<'_>, Escaper<'_>),
    left_out: &mut Vec<String>,
) {
    if report.functions.is_empty() {
        return;
    }
    line("\n### Functions\n");
    line(
        "| function | runtime | architecture | layers | packages loaded | size (unzipped) | findings | gate |",
    );
    line("| --- | --- | --- | ---: | ---: | ---: | --- | --- |");
    let mut rows = 0;
    for f in &report.functions {
        let own: Vec<String> = f
            .findings
            .iter()
            .filter(|x| is_own(x))
            .filter_map(|x| x.finding.check.as_ref().map(|c| c.rule.clone()))
            .collect();
        let pkg = f
            .findings
            .iter()
            .filter(|x| !is_own(x) && x.effective)
            .count();
        let mut findings = own;
        if pkg > 0 {
            findings.push(format!("{pkg} package finding(s)"));
        }
        let gate = if f.findings.iter().any(|x| x.finding.closes_gate) {
            "closes"
        } else if !f.complete {
            "ok (not all scanned)"
        } else {
            "ok"
        };
        let row = format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            code(&f.name),
            text(f.runtime.as_deref().unwrap_or("?")),
            text(f.architecture.as_deref().unwrap_or("?")),
            f.layers.len(),
            f.packages.iter().filter(|p| p.effective).count(),
            mib(f.size.total_unzipped_bytes),
            text(&findings.join(", ")),
            gate
        );
        if !line(&row) {
            break;
        }
        rows += 1;
    }
    if rows < report.functions.len() {
        left_out.push(format!("{} more functions", report.functions.len() - rows));
    }
}
