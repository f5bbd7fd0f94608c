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
            let (Some(id), Some(version), Some(eco)) = (&f.id, &f.version, f.ecosystem.ecosystem())
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::report::model::*;

    fn finding(kind: FindingKind, package: &str) -> Finding {
        let mut f = Finding::new(
            kind,
            crate::ecosystem::Ecosystem::Npm,
            package,
            Some("1.0.0".into()),
        );
        if kind != FindingKind::Typosquat {
            f.id = Some("GHSA-aaaa-bbbb-cccc".into());
            f.aliases = vec!["CVE-2024-1".into()];
        }
        f
    }

    fn report(deployments: Vec<Vec<Finding>>) -> ScanReport {
        ScanReport {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::default(),
            database: DatabaseInfo::default(),
            deployments: deployments
                .into_iter()
                .enumerate()
                .map(|(i, findings)| DeploymentReport {
                    path: format!("fn-{i}"),
                    ecosystems: vec!["npm".into()],
                    sources: Vec::new(),
                    packages: 1,
                    unscanned_sources: 0,
                    not_scanned: false,
                    findings,
                    errors: Vec::new(),
                })
                .collect(),
            summary: Summary::default(),
            gate: GateResult {
                fail_on: "low".into(),
                passed: true,
                reasons: Vec::new(),
                error: None,
            },
            errors: Vec::new(),
            policy: PolicyNotes::default(),
            functions: Vec::new(),
        }
    }

    fn statements(r: &ScanReport) -> Vec<Value> {
        let doc: Value = serde_json::from_str(&render(r).unwrap()).unwrap();
        doc["statements"].as_array().unwrap().clone()
    }

    #[test]
    fn one_statement_per_advisory_and_purl_with_the_status_the_scan_decided() {
        let mut ignored = finding(FindingKind::Vulnerability, "a");
        ignored.ignored = Some(Suppression {
            reason: "not reachable".into(),
            expires: None,
            justification: None,
            vex: None,
        });
        let open = finding(FindingKind::Vulnerability, "a");
        let mut off = finding(FindingKind::Vulnerability, "b");
        off.not_on_target = Some("os: darwin".into());
        let typo = finding(FindingKind::Typosquat, "c");
        // `a` is ignored in one deployment and open in another: affected.
        let s = statements(&report(vec![vec![ignored.clone(), off], vec![open, typo]]));
        assert_eq!(s.len(), 2, "{s:#?}");
        assert_eq!(s[0]["products"][0]["@id"], "pkg:npm/a@1.0.0");
        assert_eq!(s[0]["status"], "affected");
        assert_eq!(
            s[0]["status_notes"],
            "affected in fn-1; ignored in fn-0 (not reachable)"
        );
        assert!(
            s[0]["action_statement"]
                .as_str()
                .unwrap()
                .contains("remove or replace")
        );
        assert_eq!(s[1]["status"], "not_affected");
        assert_eq!(s[1]["justification"], "component_not_present");
        assert_eq!(
            s[1]["impact_statement"],
            "not installed on the target platform: os: darwin"
        );
        // Ignored everywhere: not_affected, the reason as impact statement.
        let s = statements(&report(vec![vec![ignored.clone()], vec![ignored]]));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0]["status"], "not_affected");
        assert_eq!(s[0]["impact_statement"], "not reachable");
        assert!(s[0].get("justification").is_none());
        // Nothing to state.
        assert!(statements(&report(vec![vec![]])).is_empty());
    }
}
