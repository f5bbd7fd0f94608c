//! `scan --format html`: one self-contained page to look at (no network:
//! the style and a small filter script are inline). Readable without
//! JavaScript: the verdict and why, per-deployment counts by kind and
//! severity, every open finding (ids and aliases linked to OSV, severity,
//! fixed versions, fix advice, its dependency path drawn as a small SVG
//! from the direct dependency down), the ignored findings with their
//! reason, expiry and VEX statement, and the notes. The script only adds
//! filters by kind, severity, dev/prod and deployment.
//!
//! Every string from the input reaches the page through
//! [`super::escape::html`] (text and attribute values alike); classes and
//! numbers are depwarden's own. The markup is also well-formed XML, so a
//! strict parser can check it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

mod functions;

use super::escape::html as h;
use super::model::{DeploymentReport, Finding, FindingKind, ScanReport};
use crate::severity::Severity;

const STYLE: &str = include_str!("html/style.css");
const SCRIPT: &str = include_str!("html/filter.js");
/// Advisory pages ids link to (the page's base URL: a link is the
/// percent-encoded id alone).
const ADVISORY_URL: &str = "https://osv.dev/vulnerability/";
/// Characters of a summary shown.
const SUMMARY_CHARS: usize = 80;
/// Nodes of a dependency path drawn before the middle is elided.
const MAX_NODES: usize = 7;
/// Characters of one node's name drawn.
const NODE_CHARS: usize = 40;

/// Renders the report as one HTML page.
pub fn render(report: &ScanReport) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let (verdict, class) = verdict(report);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
         <base href=\"{ADVISORY_URL}\"/>\
         <title>depwarden: {verdict}</title><style>{STYLE}</style></head><body>\n\
         <svg width=\"0\" height=\"0\" aria-hidden=\"true\"><defs><marker id=\"a\" viewBox=\"0 0 6 6\" \
         refX=\"6\" refY=\"3\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\">\
         <path d=\"M0 0L6 3L0 6z\"/></marker></defs></svg>\n\
         <h1>depwarden report</h1>\n<p id=\"verdict\" class=\"{class}\">{verdict}</p>\n"
    );
    why(&mut o, report);
    summary_line(&mut o, report);
    deployments(&mut o, report);
    functions::section(&mut o, report);
    findings(&mut o, report);
    ignored(&mut o, report);
    notes(&mut o, report);
    let _ = write!(
        o,
        "<p><small>{} {} · generated {} · advisory data {}</small></p>\n<script>{SCRIPT}</script></body></html>\n",
        h(&report.tool.name),
        h(&report.tool.version),
        h(&crate::clock::now_rfc3339()),
        h(report
            .database
            .updated_at
            .as_deref()
            .unwrap_or("of unknown age"))
    );
    o
}

fn verdict(report: &ScanReport) -> (&'static str, &'static str) {
    if report.gate.error.is_some() {
        ("dependency gate error", "error")
    } else if report.gate.passed {
        ("dependency gate passed", "passed")
    } else {
        ("dependency gate failed", "failed")
    }
}

/// Why the gate decided as it did.
fn why(o: &mut String, report: &ScanReport) {
    let g = &report.gate;
    o.push_str("<ul id=\"why\">");
    if let Some(e) = &g.error {
        let _ = write!(o, "<li>{}</li>", h(e));
    }
    for r in &g.reasons {
        let _ = write!(o, "<li>{}</li>", h(r));
    }
    if g.passed {
        let all: Vec<&Finding> = report
            .deployments
            .iter()
            .flat_map(|d| &d.findings)
            .collect();
        let ignored = all.iter().filter(|f| f.ignored.is_some()).count();
        let dev = all
            .iter()
            .filter(|f| f.ignored.is_none() && f.dev && !f.closes_gate)
            .count();
        let _ = write!(
            o,
            "<li>no finding reaches the gate (vulnerabilities close it from severity {}); {} findings ignored, {} dev-only findings do not close it</li>",
            h(&g.fail_on),
            ignored,
            dev
        );
    }
    o.push_str("</ul>\n");
}

fn summary_line(o: &mut String, report: &ScanReport) {
    let s = &report.summary;
    let _ = writeln!(
        o,
        "<p id=\"summary\">{} deployments, {} packages: {} vulnerabilities, {} malicious, {} typosquats, {} dependency-confusion risks, {} warnings; {} ignored{}.</p>",
        s.deployments,
        s.packages,
        s.vulnerabilities,
        s.malicious,
        s.typosquats,
        s.dependency_confusion,
        s.warnings,
        s.ignored,
        h(&super::unscanned_note(s))
    );
}

/// The bucket a finding is counted in: its severity for a vulnerability,
/// else its kind.
fn bucket(f: &Finding) -> &'static str {
    match f.kind {
        FindingKind::Vulnerability => f.severity.unwrap_or(Severity::Unknown).as_str(),
        FindingKind::Malicious => "malicious",
        FindingKind::Typosquat => "typosquat",
        FindingKind::DependencyConfusion => "dependency-confusion",
        FindingKind::Warning => "warning",
        FindingKind::Runtime => "runtime",
        FindingKind::Platform => "platform",
        FindingKind::Size => "size",
    }
}

/// The columns of the count tables (function kinds have their own).
const BUCKETS: [&str; 9] = [
    "critical",
    "high",
    "medium",
    "low",
    "unknown",
    "malicious",
    "typosquat",
    "dependency-confusion",
    "warning",
];

fn deployments(o: &mut String, report: &ScanReport) {
    o.push_str("<h2>Deployments</h2>\n<table id=\"deployments\"><thead><tr><th>deployment</th><th class=\"n\">packages</th>");
    for b in BUCKETS {
        let _ = write!(o, "<th class=\"n\">{b}</th>");
    }
    o.push_str("<th class=\"n\">ignored</th><th>gate</th></tr></thead><tbody>\n");
    for (i, d) in report.deployments.iter().enumerate() {
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        let mut ignored = 0;
        for f in &d.findings {
            if f.ignored.is_some() {
                ignored += 1;
            } else {
                *by.entry(bucket(f)).or_default() += 1;
            }
        }
        let _ = write!(
            o,
            "<tr class=\"d{i}\"><td><code>{}</code></td><td class=\"n\">{}</td>",
            h(&d.path),
            d.packages
        );
        for b in BUCKETS {
            let _ = write!(
                o,
                "<td class=\"n\">{}</td>",
                by.get(b).copied().unwrap_or(0)
            );
        }
        let _ = writeln!(
            o,
            "<td class=\"n\">{ignored}</td><td>{}</td></tr>",
            gate_cell(d)
        );
    }
    o.push_str("</tbody></table>\n");
}

fn gate_cell(d: &DeploymentReport) -> String {
    if d.findings.iter().any(|f| f.closes_gate) {
        "closes".into()
    } else if d.not_scanned {
        "not scanned".into()
    } else if d.unscanned_sources > 0 {
        format!("open ({} sources not scanned)", d.unscanned_sources)
    } else {
        "open".into()
    }
}

/// The filter form (shown by the script) and the open findings, one
/// table body per deployment.
fn findings(o: &mut String, report: &ScanReport) {
    let open: usize = report
        .deployments
        .iter()
        .map(|d| d.findings.iter().filter(|f| f.ignored.is_none()).count())
        .sum();
    let _ = write!(
        o,
        "<h2>Findings (<span id=\"shown\">{open}</span> of {open})</h2>\n\
         <form id=\"flt\" hidden=\"hidden\"><label>kind <select name=\"k\"><option value=\"\">all</option>"
    );
    for k in [
        FindingKind::Vulnerability,
        FindingKind::Malicious,
        FindingKind::Typosquat,
        FindingKind::DependencyConfusion,
        FindingKind::Warning,
    ] {
        let _ = write!(
            o,
            "<option value=\"{}\">{}</option>",
            kind_code(k),
            kind_name(k)
        );
    }
    o.push_str(
        "</select></label><label>severity <select name=\"s\"><option value=\"\">all</option>",
    );
    for s in ["critical", "high", "medium", "low", "unknown"] {
        let _ = write!(o, "<option value=\"{}\">{s}</option>", &s[..1]);
    }
    o.push_str("</select></label><label>scope <select name=\"e\"><option value=\"\">all</option><option value=\"prod\">prod</option><option value=\"dev\">dev</option></select></label>");
    o.push_str("<label>deployment <select name=\"d\"><option value=\"\">all</option>");
    for (i, d) in report.deployments.iter().enumerate() {
        let _ = write!(o, "<option value=\"d{i}\">{}</option>", h(&d.path));
    }
    o.push_str("</select></label></form>\n");
    if open == 0 {
        o.push_str("<p>No open findings.</p>\n");
        return;
    }
    o.push_str("<table id=\"findings\"><thead><tr><th>severity</th><th>package</th><th>advisory</th><th>upgrade to</th><th>dependency path (direct dependency first)</th><th>gate</th></tr></thead>\n");
    for (i, d) in report.deployments.iter().enumerate() {
        let mut rows = d.findings.iter().filter(|f| f.ignored.is_none()).peekable();
        if rows.peek().is_none() {
            continue;
        }
        let _ = writeln!(
            o,
            "<tbody data-d=\"d{i}\"><tr><th colspan=\"6\">{}</th></tr>",
            h(&d.path)
        );
        for f in rows {
            finding_row(o, f, i);
        }
        o.push_str("</tbody>\n");
    }
    o.push_str("</table>\n");
}

/// The classes the filters select on.
fn classes(f: &Finding, deployment: usize) -> String {
    let mut c = format!(
        "f k{} s{}{} d{deployment}",
        kind_code(f.kind),
        severity_code(f),
        if f.dev { " dev" } else { "" },
    );
    if f.closes_gate {
        c.push_str(" c");
    }
    if f.ignored.is_some() {
        c.push_str(" i");
    }
    c
}

/// The class of a vulnerability's severity (short: it is on every row).
fn severity_code(f: &Finding) -> &'static str {
    match f.severity.filter(|_| f.kind == FindingKind::Vulnerability) {
        Some(Severity::Critical) => "c",
        Some(Severity::High) => "h",
        Some(Severity::Medium) => "m",
        Some(Severity::Low) => "l",
        Some(Severity::Unknown) => "u",
        None => "n",
    }
}

/// The class of a kind (short: it is on every row).
fn kind_code(k: FindingKind) -> &'static str {
    match k {
        FindingKind::Vulnerability => "v",
        FindingKind::Malicious => "m",
        FindingKind::Typosquat => "t",
        FindingKind::DependencyConfusion => "c",
        FindingKind::Warning => "w",
        FindingKind::Runtime => "r",
        FindingKind::Platform => "p",
        FindingKind::Size => "z",
    }
}

fn kind_name(k: FindingKind) -> &'static str {
    match k {
        FindingKind::Vulnerability => "vulnerability",
        FindingKind::Malicious => "malicious",
        FindingKind::Typosquat => "typosquat",
        FindingKind::DependencyConfusion => "dependency-confusion",
        FindingKind::Warning => "warning",
        FindingKind::Runtime => "runtime",
        FindingKind::Platform => "platform",
        FindingKind::Size => "size",
    }
}

fn finding_row(o: &mut String, f: &Finding, deployment: usize) {
    let label = match f.kind {
        FindingKind::Vulnerability => h(f.severity.unwrap_or(Severity::Unknown).as_str()),
        FindingKind::Typosquat => format!(
            "typosquat {}",
            f.confidence.map(|g| g.as_str()).unwrap_or_default()
        ),
        FindingKind::DependencyConfusion => {
            format!(
                "confusion {}",
                f.risk.map(|g| g.as_str()).unwrap_or_default()
            )
        }
        FindingKind::Warning => h(f.informational.as_deref().unwrap_or("warning")),
        FindingKind::Malicious => "malicious".into(),
        FindingKind::Runtime | FindingKind::Platform | FindingKind::Size => {
            kind_name(f.kind).into()
        }
    };
    let _ = write!(
        o,
        "<tr class=\"{}\"><td><b>{label}</b></td><td>{}@{}</td><td>",
        classes(f, deployment),
        h(&f.package),
        h(f.version.as_deref().unwrap_or("?"))
    );
    advisory_cell(o, f);
    let _ = write!(o, "</td><td>{}</td><td>", fix_cell(f));
    if let Some(p) = f.paths.first() {
        path_svg(o, p);
        if f.paths.len() > 1 {
            let _ = write!(o, "<small>+{} more paths</small>", f.paths.len() - 1);
        }
    }
    let _ = writeln!(o, "</td><td>{}</td></tr>", gate_text(f));
}

fn advisory_cell(o: &mut String, f: &Finding) {
    if let Some(id) = &f.id {
        link(o, id);
        if !f.aliases.is_empty() {
            o.push_str(" (");
            for (n, a) in f.aliases.iter().enumerate() {
                if n > 0 {
                    o.push_str(", ");
                }
                link(o, a);
            }
            o.push(')');
        }
        o.push(' ');
    }
    let text = match f.kind {
        FindingKind::Typosquat => f
            .imitates
            .as_ref()
            .map(|i| format!("imitates {i}"))
            .or_else(|| f.reason.clone()),
        FindingKind::DependencyConfusion => f.reason.clone(),
        _ => f.summary.clone().or_else(|| f.reason.clone()),
    };
    if let Some(t) = text {
        o.push_str(&h(&shorten(&t, SUMMARY_CHARS)));
    }
}

/// A link to the advisory page of `id`.
fn link(o: &mut String, id: &str) {
    let _ = write!(
        o,
        "<a href=\"{}\">{}</a>",
        h(&crate::purl::percent_encode(id)),
        h(id)
    );
}

/// The fix advice (the version to upgrade to, how big a step, through
/// which direct dependency), and the versions that fix this advisory when
/// they say more than the advice.
fn fix_cell(f: &Finding) -> String {
    let mut s = String::new();
    let advised = f.fix.as_ref().and_then(|x| x.version.as_ref());
    match (&f.fix, advised) {
        (Some(fix), Some(v)) => {
            s.push_str(&h(v));
            if let Some(u) = &fix.upgrade {
                let _ = write!(s, " ({})", h(u));
            }
            // The direct dependency to upgrade is the first node of the
            // path drawn next to it; named here only when it is another.
            if let Some(via) = &fix.via
                && f.paths.first().and_then(|p| p.first()) != Some(via)
            {
                let _ = write!(s, " through {}", h(via));
            }
        }
        (Some(_), None) => s.push_str("no fix yet"),
        (None, _) => {}
    }
    if !f.fixed_versions.is_empty() && f.fixed_versions.first() != advised {
        let shown: Vec<String> = f.fixed_versions.iter().take(3).map(|v| h(v)).collect();
        let _ = write!(
            s,
            " <small>(fixed in {}{})</small>",
            shown.join(", "),
            if f.fixed_versions.len() > 3 {
                ", …"
            } else {
                ""
            }
        );
    }
    s
}

fn gate_text(f: &Finding) -> &'static str {
    if f.closes_gate {
        "closes"
    } else if f.not_on_target.is_some() {
        "not on target"
    } else if f.dev {
        "dev only"
    } else {
        "below threshold"
    }
}

/// The dependency path as a row of names joined by arrows, the direct
/// dependency first (in bold); a long path keeps its ends.
fn path_svg(o: &mut String, path: &[String]) {
    let mut nodes: Vec<String> = path.iter().map(|n| shorten(n, NODE_CHARS)).collect();
    if nodes.len() > MAX_NODES {
        let hidden = nodes.len() - (MAX_NODES - 1);
        let tail = nodes.split_off(nodes.len() - (MAX_NODES - 3));
        nodes.truncate(2);
        nodes.push(format!("… {hidden} more …"));
        nodes.extend(tail);
    }
    if nodes.len() == 1 {
        // A direct dependency: nothing to draw.
        o.push_str("direct");
        return;
    }
    const CHAR_W: usize = 8;
    const GAP: usize = 22;
    let widths: Vec<usize> = nodes.iter().map(|n| n.chars().count() * CHAR_W).collect();
    let total = widths.iter().sum::<usize>() + GAP * (nodes.len() - 1);
    let _ = write!(o, "<svg width=\"{total}\">");
    let mut x = 0;
    let mut d = String::new();
    let mut texts = String::new();
    for (n, (name, w)) in nodes.iter().zip(&widths).enumerate() {
        let _ = write!(texts, "<tspan x=\"{x}\">{}</tspan>", h(name));
        x += w;
        if n + 1 < nodes.len() {
            let _ = write!(d, "M{} 9h{}", x + 3, GAP - 6);
            x += GAP;
        }
    }
    let _ = write!(o, "<path d=\"{d}\"/><text y=\"13\">{texts}</text></svg>");
}

/// Ignored findings with their reason, expiry and VEX statement.
fn ignored(o: &mut String, report: &ScanReport) {
    let rows: Vec<(usize, &DeploymentReport, &Finding)> = report
        .deployments
        .iter()
        .enumerate()
        .flat_map(|(i, d)| {
            d.findings
                .iter()
                .filter(|f| f.ignored.is_some())
                .map(move |f| (i, d, f))
        })
        .collect();
    let _ = writeln!(o, "<h2>Ignored findings ({})</h2>", rows.len());
    if rows.is_empty() {
        o.push_str("<p>None.</p>\n");
        return;
    }
    o.push_str("<table id=\"ignored\"><thead><tr><th>deployment</th><th>package</th><th>advisory</th><th>reason</th><th>expires</th><th>stated by</th></tr></thead><tbody>\n");
    for (i, d, f) in rows {
        let Some(ig) = &f.ignored else { continue };
        let _ = write!(
            o,
            "<tr class=\"{}\"><td><code>{}</code></td><td><code>{}@{}</code></td><td>",
            classes(f, i),
            h(&d.path),
            h(&f.package),
            h(f.version.as_deref().unwrap_or("?"))
        );
        if let Some(id) = &f.id {
            link(o, id);
        }
        let stated = match &ig.vex {
            Some(v) => format!(
                "VEX {} by {}{} <small>({})</small>",
                h(&v.status),
                h(&v.author),
                v.timestamp
                    .as_ref()
                    .map(|t| format!(" at {}", h(t)))
                    .unwrap_or_default(),
                h(&v.file)
            ),
            None => "configuration".into(),
        };
        let _ = writeln!(
            o,
            "</td><td>{}{}</td><td>{}</td><td>{stated}</td></tr>",
            h(&ig.reason),
            ig.justification
                .map(|j| format!(" <small>({})</small>", j.as_str()))
                .unwrap_or_default(),
            h(ig.expires.as_deref().unwrap_or("never"))
        );
    }
    o.push_str("</tbody></table>\n");
}

/// Errors, unscanned inputs, configuration and database notes.
fn notes(o: &mut String, report: &ScanReport) {
    let mut items: Vec<String> = Vec::new();
    for d in &report.deployments {
        for e in &d.errors {
            items.push(format!(
                "{}: <code>{}</code>: {}",
                h(&format!("{:?}", e.level).to_lowercase()),
                h(&e.path),
                h(&e.message)
            ));
        }
    }
    for e in &report.errors {
        items.push(format!("<code>{}</code>: {}", h(&e.path), h(&e.message)));
    }
    let p = &report.policy;
    for n in p.expired_ignores.iter().chain(&p.unused_ignores) {
        items.push(h(n));
    }
    for v in &p.vex {
        items.push(format!(
            "VEX document <code>{}</code> by {} ({}): {} statements, {} findings suppressed",
            h(&v.file),
            h(&v.author),
            h(&v.timestamp),
            v.statements,
            v.applied
        ));
    }
    for w in &report.database.warnings {
        items.push(h(w));
    }
    if items.is_empty() {
        return;
    }
    o.push_str("<h2>Notes</h2>\n<ul id=\"notes\">");
    for i in items {
        let _ = write!(o, "<li>{i}</li>");
    }
    o.push_str("</ul>\n");
}

/// The first `max` characters of `s`, with an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
