//! Building the audit's results: a finding per alias group of matched
//! advisories, and the report of one deployment.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::advisory::model::{AdvisoryKind, IndexEntry, OsvRecord};
use crate::advisory::severity;
use crate::diagnostic::Level;
use crate::discover::relative_display;
use crate::ecosystem::Ecosystem;
use crate::matcher;
use crate::report::model::{DeploymentReport, ErrorEntry, Finding, FindingKind, SourceReport};
use crate::scan::ParsedDeployment;
use crate::severity::Severity;

/// One occurrence of a package in a source.
#[derive(Debug, Clone)]
pub(super) struct Occurrence {
    pub(super) source: String,
    pub(super) path: Vec<String>,
    pub(super) dev: bool,
    pub(super) not_on_target: Option<String>,
    /// The cutoff, when the source predicted the package (`--resolve`).
    pub(super) resolved: Option<String>,
    pub(super) direct: bool,
    pub(super) line: Option<u32>,
}

/// The matched advisories of one package version, merged by alias group.
#[derive(Debug, Clone)]
pub(super) struct MatchGroup {
    pub(super) ecosystem: Ecosystem,
    pub(super) name: String,
    pub(super) version: String,
    pub(super) entries: Vec<IndexEntry>,
    pub(super) occurrences: Vec<Occurrence>,
    pub(super) unparsable_version: bool,
}

/// Splits matched entries into groups of records that name each other (or
/// share an id) in `aliases`.
pub(super) fn alias_groups(entries: &[IndexEntry]) -> Vec<Vec<IndexEntry>> {
    let n = entries.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while p[r] != r {
            r = p[r];
        }
        let mut c = x;
        while p[c] != r {
            let next = p[c];
            p[c] = r;
            c = next;
        }
        r
    }
    let names: Vec<BTreeSet<&str>> = entries
        .iter()
        .map(|e| {
            std::iter::once(e.id.as_str())
                .chain(e.aliases.iter().map(String::as_str))
                .collect()
        })
        .collect();
    for a in 0..n {
        for b in (a + 1)..n {
            if !names[a].is_disjoint(&names[b]) {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                if ra != rb {
                    parent[rb] = ra;
                }
            }
        }
    }
    let mut out: BTreeMap<usize, Vec<IndexEntry>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        let r = find(&mut parent, i);
        out.entry(r).or_default().push(e.clone());
    }
    out.into_values().collect()
}

/// Preference of id prefixes for the primary id of a merged finding.
fn id_rank(id: &str) -> (u8, &str) {
    let rank = ["RUSTSEC-", "PYSEC-", "GHSA-", "MAL-", "OSV-", "CVE-"]
        .iter()
        .position(|p| id.starts_with(p))
        .unwrap_or(9) as u8;
    (rank, id)
}

/// The finding of one alias group of matched advisories: its kind, primary
/// id and aliases, highest severity, summary, fixed versions and where the
/// package occurs.
pub(super) fn build_finding(g: &MatchGroup, records: &HashMap<String, Arc<OsvRecord>>) -> Finding {
    let kind = if g.entries.iter().any(|e| e.kind == AdvisoryKind::Malicious) {
        FindingKind::Malicious
    } else if g
        .entries
        .iter()
        .any(|e| e.kind == AdvisoryKind::Vulnerability)
    {
        FindingKind::Vulnerability
    } else {
        FindingKind::Warning
    };
    let mut ids: Vec<&str> = g.entries.iter().map(|e| e.id.as_str()).collect();
    ids.sort_by_key(|id| id_rank(id));
    let primary = ids.first().map(|s| s.to_string()).unwrap_or_default();
    let mut aliases: BTreeSet<String> = BTreeSet::new();
    for e in &g.entries {
        aliases.insert(e.id.clone());
        aliases.extend(e.aliases.iter().cloned());
    }
    aliases.remove(&primary);
    let mut f = Finding::new(kind, g.ecosystem, &g.name, Some(g.version.clone()));
    f.id = Some(primary.clone());
    f.aliases = aliases.into_iter().collect();
    // The highest severity of the matched records and of their aliases
    // the database holds (a PYSEC record without one, its GHSA alias with
    // one).
    let mut best: Option<(Severity, Option<f64>)> = None;
    let graded = std::iter::once(&primary).chain(f.aliases.iter());
    for id in graded {
        if let Some(r) = records.get(id) {
            let (sev, score) = severity::assess(r, g.ecosystem, &g.name);
            if best.is_none_or(|(s, sc)| (sev, score.unwrap_or(-1.0)) > (s, sc.unwrap_or(-1.0))) {
                best = Some((sev, score));
            }
        }
    }
    if kind == FindingKind::Vulnerability {
        let (sev, score) = best.unwrap_or((Severity::Unknown, None));
        f.severity = Some(sev);
        f.cvss_score = score;
    }
    f.summary = std::iter::once(primary.as_str())
        .chain(ids.iter().copied())
        .filter_map(|id| records.get(id))
        .find_map(|r| {
            r.summary
                .clone()
                .or_else(|| r.details.as_ref().map(|d| first_line(d)))
        });
    if let AdvisoryKind::Informational(t) = &g
        .entries
        .iter()
        .map(|e| &e.kind)
        .find(|k| matches!(k, AdvisoryKind::Informational(_)))
        .cloned()
        .unwrap_or(AdvisoryKind::Vulnerability)
        && kind == FindingKind::Warning
    {
        f.informational = Some(t.clone());
    }
    let mut fixed: Vec<String> = Vec::new();
    for e in &g.entries {
        for v in matcher::fixed_versions(g.ecosystem, &g.version, e) {
            if !fixed.contains(&v) {
                fixed.push(v);
            }
        }
    }
    fixed.sort_by(|a, b| crate::version::compare(g.ecosystem, a, b).unwrap_or_else(|| a.cmp(b)));
    f.fixed_versions = fixed;
    if g.unparsable_version {
        f.reason = Some("version does not parse; matched by an explicit version list".into());
    }
    let mut seen_paths = BTreeSet::new();
    for o in &g.occurrences {
        if seen_paths.insert(o.path.clone()) {
            f.paths.push(o.path.clone());
        }
        if !f.sources.contains(&o.source) {
            f.sources.push(o.source.clone());
        }
    }
    f.dev = g.occurrences.iter().all(|o| o.dev);
    if g.occurrences.iter().all(|o| o.not_on_target.is_some()) {
        f.not_on_target = g.occurrences.iter().find_map(|o| o.not_on_target.clone());
    }
    if g.occurrences.iter().all(|o| o.resolved.is_some()) {
        f.resolved = true;
        f.resolve_cutoff = g.occurrences.iter().find_map(|o| o.resolved.clone());
    }
    f.direct = g.occurrences.iter().any(|o| o.direct);
    f.line = g.occurrences.first().and_then(|o| o.line);
    f
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .chars()
        .take(200)
        .collect()
}

/// The report of one deployment before the gate: its sources, packages,
/// diagnostics (the matcher's `notes` included) and findings.
pub(super) fn deployment_report(
    d: &ParsedDeployment,
    findings: Vec<Finding>,
    notes: Vec<ErrorEntry>,
) -> DeploymentReport {
    let mut ecosystems = BTreeSet::new();
    let mut sources = Vec::new();
    let mut packages = 0;
    for s in &d.sources {
        ecosystems.insert(s.source.format.ecosystem().as_str().to_string());
        let count = s
            .result
            .as_ref()
            .map(|p| p.graph.packages().iter().filter(|p| !p.root).count())
            .unwrap_or(0);
        packages += count;
        sources.push(SourceReport {
            path: relative_display(&d.deployment.scan_root, &s.source.path),
            format: s.source.format.name().to_string(),
            packages: count,
            scanned: s.result.is_ok(),
            resolution: s
                .result
                .as_ref()
                .ok()
                .and_then(|p| p.facts.resolution.clone()),
        });
    }
    let mut errors: Vec<ErrorEntry> = d
        .diagnostics()
        .into_iter()
        .map(|e| ErrorEntry {
            level: e.level,
            path: relative_display(&d.deployment.scan_root, &e.path),
            message: e.message,
        })
        .collect();
    errors.extend(notes);
    let unscanned_sources = sources.iter().filter(|s| !s.scanned).count();
    let not_scanned = if sources.is_empty() {
        errors.iter().any(|e| e.level == Level::Error)
    } else {
        unscanned_sources == sources.len()
    };
    DeploymentReport {
        path: d.deployment.display_path(),
        ecosystems: ecosystems.into_iter().collect(),
        sources,
        packages,
        unscanned_sources,
        not_scanned,
        findings,
        errors,
    }
}
