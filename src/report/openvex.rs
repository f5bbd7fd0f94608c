//! `scan --format openvex`: an OpenVEX v0.2.0 document with one statement
//! per (advisory, package version). A product is the package, identified
//! by its purl. The status follows what the scan decided:
//!
//! - `not_affected` when every finding of the pair is ignored (a
//!   `[[ignore]]` or a VEX statement given with `--vex`): the ignore's
//!   `justification` when it has one, its reason as the impact statement;
//!   or when the package is installed on the target platform nowhere
//!   (`component_not_present`);
//! - `affected` otherwise, with the fix advice as action statement and,
//!   when the pair is ignored in some deployments only, a note naming them.
//!
//! Typosquat and dependency-confusion findings name no advisory and have
//! no statement. depwarden keeps no history of findings, so it never
//! states `fixed` or `under_investigation` itself.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::escape::{JsonMode, to_json};
use super::model::{Finding, FindingKind, Justification, ScanReport, Suppression};
use crate::ecosystem::Ecosystem;

/// The OpenVEX context this writer follows.
pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// The statement being built for one (advisory, purl).
struct Pair<'a> {
    first: &'a Finding,
    aliases: Vec<&'a str>,
    /// Deployments where the finding is open / ignored / not on target.
    open: Vec<&'a str>,
    ignored: Vec<(&'a str, &'a Suppression)>,
    off_target: Vec<&'a str>,
}

/// Renders the report as an OpenVEX document (with a trailing newline).
pub fn render(report: &ScanReport) -> Result<String, serde_json::Error> {
    let mut pairs: BTreeMap<(String, String), Pair<'_>> = BTreeMap::new();
    for d in &report.deployments {
        for f in &d.findings {
            if !matches!(
                f.kind,
                FindingKind::Vulnerability | FindingKind::Malicious | FindingKind::Warning
            ) {
                continue;
            }
            let (Some(id), Some(version), Some(eco)) =
                (&f.id, &f.version, Ecosystem::from_osv(&f.ecosystem))
            else {
                continue;
            };
            let purl = crate::purl::format(eco, &f.package, version);
            let pair = pairs.entry((id.clone(), purl)).or_insert_with(|| Pair {
                first: f,
                aliases: Vec::new(),
                open: Vec::new(),
                ignored: Vec::new(),
                off_target: Vec::new(),
            });
            for a in &f.aliases {
                if !pair.aliases.contains(&a.as_str()) && a != id {
                    pair.aliases.push(a);
                }
            }
            match (&f.ignored, &f.not_on_target) {
                (Some(s), _) => pair.ignored.push((&d.path, s)),
                (None, Some(_)) => pair.off_target.push(&d.path),
                (None, None) => pair.open.push(&d.path),
            }
        }
    }
    let statements: Vec<Value> = pairs
        .into_iter()
        .map(|((id, purl), p)| statement(&id, &purl, &p))
        .collect();
    let timestamp = crate::clock::now_rfc3339();
    let doc = json!({
        "@context": CONTEXT,
        "@id": crate::report::cyclonedx::uuid_urn(&format!("openvex{timestamp}{statements:?}")),
        "author": "depwarden",
        "timestamp": timestamp,
        "version": 1,
        "tooling": format!("{} {}", report.tool.name, report.tool.version),
        "statements": statements,
    });
    to_json(&doc, JsonMode::Exact)
}

fn statement(id: &str, purl: &str, p: &Pair<'_>) -> Value {
    let f = p.first;
    let mut vulnerability = json!({
        "@id": format!("https://osv.dev/vulnerability/{id}"),
        "name": id,
    });
    if let Some(v) = vulnerability.as_object_mut() {
        if let Some(s) = &f.summary {
            v.insert("description".into(), json!(s));
        }
        if !p.aliases.is_empty() {
            v.insert("aliases".into(), json!(p.aliases));
        }
    }
    let mut s = json!({
        "vulnerability": vulnerability,
        "products": [{"@id": purl, "identifiers": {"purl": purl}}],
    });
    let Some(map) = s.as_object_mut() else {
        return s;
    };
    let mut notes = Vec::new();
    if p.open.is_empty() && p.off_target.is_empty() {
        // Ignored everywhere: the first ignore speaks for all.
        let (_, ig) = p.ignored[0];
        map.insert("status".into(), json!("not_affected"));
        if let Some(j) = ig.justification {
            map.insert("justification".into(), json!(j.as_str()));
        }
        map.insert("impact_statement".into(), json!(ig.reason));
        if let Some(e) = &ig.expires {
            notes.push(format!("ignored until {e}"));
        }
        if let Some(v) = &ig.vex {
            notes.push(format!(
                "from a VEX statement by {}{}",
                v.author,
                v.timestamp
                    .as_ref()
                    .map(|t| format!(" at {t}"))
                    .unwrap_or_default()
            ));
        }
    } else if p.open.is_empty() {
        map.insert("status".into(), json!("not_affected"));
        map.insert(
            "justification".into(),
            json!(Justification::ComponentNotPresent.as_str()),
        );
        map.insert(
            "impact_statement".into(),
            json!(format!(
                "not installed on the target platform: {}",
                f.not_on_target.as_deref().unwrap_or("")
            )),
        );
    } else {
        map.insert("status".into(), json!("affected"));
        map.insert("action_statement".into(), json!(action(f)));
        notes.push(format!("affected in {}", p.open.join(", ")));
        if !p.ignored.is_empty() {
            let list: Vec<String> = p
                .ignored
                .iter()
                .map(|(d, ig)| format!("{d} ({})", ig.reason))
                .collect();
            notes.push(format!("ignored in {}", list.join(", ")));
        }
    }
    if !notes.is_empty() {
        map.insert("status_notes".into(), json!(notes.join("; ")));
    }
    s
}

/// What to do about an open finding.
fn action(f: &Finding) -> String {
    let at = f.version.as_deref().unwrap_or("?");
    match f
        .fix
        .as_ref()
        .and_then(|x| x.version.as_ref().map(|v| (x, v)))
    {
        Some((x, v)) => {
            let via = x
                .via
                .as_ref()
                .map(|d| format!(" (brought in by the direct dependency {d})"))
                .unwrap_or_default();
            format!("Upgrade {} from {at} to {v} or later{via}.", f.package)
        }
        None if f.kind == FindingKind::Malicious => {
            format!("Remove {}@{at}: the package is malicious.", f.package)
        }
        None => match f.fixed_versions.first() {
            Some(v) => format!("Upgrade {} from {at} to {v} or later.", f.package),
            None => format!(
                "No fixed version of {} is known: remove or replace it, or mitigate and state why it is not affected.",
                f.package
            ),
        },
    }
}
