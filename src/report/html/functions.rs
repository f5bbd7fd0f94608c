//! The functions section of the HTML report: per function its runtime,
//! architecture, layers, loaded packages and size, its findings counted
//! by kind and severity (package findings only where Lambda loads the
//! copy), and its own runtime, platform and size findings spelled out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{BUCKETS, bucket, h};
use crate::report::model::{FindingKind, FunctionFinding, FunctionReport, ScanReport};

/// Writes the section; nothing when the scan found no function.
pub(super) fn section(o: &mut String, report: &ScanReport) {
    if report.functions.is_empty() {
        return;
    }
    let _ = writeln!(o, "<h2>Functions ({})</h2>", report.functions.len());
    o.push_str("<table id=\"functions\"><thead><tr><th>function</th><th>runtime, architecture</th><th>layers</th><th class=\"n\">packages loaded</th><th class=\"n\">unzipped</th>");
    for b in BUCKETS.iter().chain(&["runtime", "platform", "size"]) {
        let _ = write!(o, "<th class=\"n\">{b}</th>");
    }
    o.push_str("<th>gate</th></tr></thead><tbody>\n");
    for f in &report.functions {
        row(o, f);
    }
    o.push_str("</tbody></table>\n");
}

fn is_own(x: &FunctionFinding) -> bool {
    matches!(
        x.finding.kind,
        FindingKind::Runtime | FindingKind::Platform | FindingKind::Size
    )
}

fn row(o: &mut String, f: &FunctionReport) {
    let counted: Vec<&FunctionFinding> = f
        .findings
        .iter()
        .filter(|x| x.finding.ignored.is_none() && (x.effective || is_own(x)))
        .collect();
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for x in &counted {
        *by.entry(bucket(&x.finding)).or_default() += 1;
    }
    let layers: Vec<String> = f
        .layers
        .iter()
        .map(|l| {
            format!(
                "{}{}",
                h(&l.id),
                if l.scanned { "" } else { " (not scanned)" }
            )
        })
        .collect();
    let _ = write!(
        o,
        "<tr><td><code>{}</code> <small>{} {}</small></td><td>{} {}{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}{}</td>",
        h(&f.name),
        h(&f.framework),
        h(&f.template),
        h(f.runtime.as_deref().unwrap_or("runtime unknown")),
        h(f.architecture.as_deref().unwrap_or("architecture unknown")),
        if f.architecture_defaulted {
            " (default)"
        } else {
            ""
        },
        layers.join(", "),
        f.packages.iter().filter(|p| p.effective).count(),
        size(f.size.total_unzipped_bytes),
        if f.size.complete { "" } else { " (incomplete)" }
    );
    for b in BUCKETS.iter().chain(&["runtime", "platform", "size"]) {
        let _ = write!(
            o,
            "<td class=\"n\">{}</td>",
            by.get(b).copied().unwrap_or(0)
        );
    }
    let gate = if counted.iter().any(|x| x.finding.closes_gate) {
        "closes"
    } else if !f.scanned {
        "code not scanned"
    } else if !f.complete {
        "open (not all scanned)"
    } else {
        "open"
    };
    let _ = writeln!(o, "<td>{gate}</td></tr>");
    let own: Vec<String> = counted
        .iter()
        .filter(|x| is_own(x))
        .map(|x| {
            let c = x.finding.check.as_ref();
            let mut s = format!(
                "<b>{}</b> {}",
                h(c.map(|c| c.rule.as_str()).unwrap_or("check")),
                h(x.finding.reason.as_deref().unwrap_or_default())
            );
            if let Some(c) = c {
                if let Some(e) = &c.expected {
                    let _ = write!(s, "; expected {}", h(e));
                }
                if let Some(found) = &c.found {
                    let _ = write!(s, ", found {}", h(found));
                }
            }
            if x.finding.closes_gate {
                s.push_str(" (closes the gate)");
            }
            s
        })
        .collect();
    let mut notes = own;
    if let Some(why) = &f.not_scanned_reason {
        notes.push(format!("code not scanned: {}", h(why)));
    }
    if !notes.is_empty() {
        let _ = writeln!(
            o,
            "<tr><td colspan=\"{}\"><ul><li>{}</li></ul></td></tr>",
            BUCKETS.len() + 9,
            notes.join("</li><li>")
        );
    }
}

/// A size for people: bytes, KiB or MiB.
fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    if bytes < KIB {
        format!("{bytes} bytes")
    } else if bytes < KIB * KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / (KIB * KIB) as f64)
    }
}
