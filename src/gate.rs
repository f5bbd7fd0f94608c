//! The gate: what a scan's findings mean for CI. Ignores (with their
//! expiry, and the ignores that matched nothing), whether each finding
//! closes its deployment's gate under that deployment's policy, the
//! summary, the reasons the gate closed, and the age check of the advisory
//! data. It reads typed findings only ([`Finding`]): nothing is parsed
//! back from a report string. The audit produces the findings
//! ([`crate::audit`]); this module decides; [`crate::report`] renders.

use std::collections::{BTreeMap, BTreeSet};

use crate::advisory::store::{EcosystemStatus, StoreStatus};
use crate::clock::Date;
use crate::policy::{Ignore, Policies, Policy};
use crate::report::model::{
    DatabaseEcosystem, DatabaseInfo, DeploymentReport, Finding, FindingKind, FunctionReport,
    GateResult, Summary, Suppression,
};
use crate::severity::Severity;

/// What the gate made of a scan's deployments.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The deployments, findings marked (ignored, closing) and sorted.
    pub deployments: Vec<DeploymentReport>,
    /// The functions, their own findings (runtime, platform, size) marked.
    pub functions: Vec<FunctionReport>,
    /// Totals.
    pub summary: Summary,
    /// The gate result (passed, why not).
    pub gate: GateResult,
    /// Ignores that expired and so no longer applied.
    pub expired_ignores: Vec<String>,
    /// Ignores that matched no finding.
    pub unused_ignores: Vec<String>,
}

/// Applies ignores and the gate to every deployment's findings:
/// `deployments` are in discovery order, each with its index (which
/// selects its policy in `policies`); the functions' own findings are
/// gated with the scan-wide policy ([`crate::functions::gate`]). `today`
/// decides which ignores have expired.
pub fn decide(
    deployments: impl IntoIterator<Item = (usize, DeploymentReport)>,
    mut functions: Vec<FunctionReport>,
    policies: &Policies,
    today: Date,
) -> Decision {
    let mut out = Vec::new();
    let mut expired_notes = BTreeSet::new();
    // Ignores are told apart by content: a deployment's policy carries
    // the scan-wide ignores too (and trusted nested ones).
    let mut used_ignores: BTreeSet<IgnoreKey> = BTreeSet::new();
    let mut summary = Summary::default();
    let mut reasons = Vec::new();
    for (i, mut report) in deployments {
        let policy = policies.for_deployment(i);
        for f in &mut report.findings {
            apply_ignores(f, policy, today, &mut used_ignores, &mut expired_notes);
            f.closes_gate = closes_gate(f, policy);
        }
        sort_findings(&mut report.findings);
        count(&mut summary, &report);
        reasons.extend(gate_reason(&report.path, &report.findings));
        out.push(report);
    }
    summary.deployments = out.len();
    let global = policies.global();
    crate::functions::gate::apply(
        &mut functions,
        &mut |f| {
            apply_ignores(f, global, today, &mut used_ignores, &mut expired_notes);
            f.closes_gate = closes_gate(f, global);
        },
        &mut summary,
        &mut reasons,
    );
    reasons.dedup();
    Decision {
        deployments: out,
        functions,
        summary,
        gate: GateResult {
            fail_on: policies.global().gate.fail_on.as_str().to_string(),
            passed: reasons.is_empty(),
            reasons,
            error: None,
        },
        expired_ignores: expired_notes.into_iter().collect(),
        unused_ignores: unused_ignores(policies, &used_ignores, today),
    }
}

/// Adds one deployment to the totals.
fn count(summary: &mut Summary, report: &DeploymentReport) {
    summary.packages += report.packages;
    summary.unscanned_sources += report.unscanned_sources;
    summary.deployments_not_scanned += usize::from(report.not_scanned);
    for f in &report.findings {
        if f.ignored.is_some() {
            summary.ignored += 1;
        }
        match f.kind {
            FindingKind::Vulnerability => {
                summary.vulnerabilities += 1;
                let sev = f.severity.unwrap_or(Severity::Unknown);
                *summary
                    .by_severity
                    .entry(sev.as_str().to_string())
                    .or_default() += 1;
            }
            FindingKind::Malicious => summary.malicious += 1,
            FindingKind::Typosquat => summary.typosquats += 1,
            FindingKind::DependencyConfusion => summary.dependency_confusion += 1,
            FindingKind::Warning => summary.warnings += 1,
            FindingKind::Runtime => summary.runtime += 1,
            FindingKind::Platform => summary.platform += 1,
            FindingKind::Size => summary.size += 1,
        }
    }
}

/// The ignores of every policy (scan-wide first, then nested in
/// deployment order) that matched no finding and have not expired, each
/// reported once.
fn unused_ignores(policies: &Policies, used: &BTreeSet<IgnoreKey>, today: Date) -> Vec<String> {
    let mut unused = Vec::new();
    let mut reported: BTreeSet<IgnoreKey> = BTreeSet::new();
    for ig in policies.all().flat_map(|p| p.ignore.iter()) {
        let key = ignore_key(ig);
        if !used.contains(&key) && !ig.expired(today) && reported.insert(key) {
            let scope = ig
                .package
                .as_ref()
                .map(|p| format!(" for {p}"))
                .unwrap_or_default();
            unused.push(format!(
                "ignore {}{scope} matched no finding; remove it if it is stale",
                ig.id
            ));
        }
    }
    unused
}

/// The database facts of a report: per ecosystem, its records and the
/// date its age is measured from.
pub fn database_info(status: &StoreStatus) -> DatabaseInfo {
    DatabaseInfo {
        path: String::new(),
        source: status.source.clone(),
        updated_at: status.imported_at.clone(),
        ecosystems: status
            .ecosystems
            .iter()
            .map(|e| DatabaseEcosystem {
                ecosystem: e.ecosystem.as_str().to_string(),
                records: e.records,
                newest_modified: age_basis(e),
            })
            .collect(),
        warnings: Vec::new(),
    }
}

/// The database-age check of a scan: one message per ecosystem the
/// deployments use whose advisory data is older than `max_age_days` (or
/// absent), with the advice to sync. `scan --max-db-age` makes them errors;
/// otherwise they are warnings of the report.
pub fn database_age_problems(
    database: &DatabaseInfo,
    deployments: &[DeploymentReport],
    max_age_days: u64,
) -> Vec<String> {
    let met: BTreeSet<String> = deployments
        .iter()
        .flat_map(|d| d.ecosystems.iter().cloned())
        .collect();
    stale_ecosystems(database, &met, max_age_days)
        .iter()
        .map(|s| {
            format!("{s}, over the {max_age_days}-day limit; refresh it with `depwarden db sync`")
        })
        .collect()
}

/// How old the advisory data of one ecosystem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staleness {
    /// The ecosystem, as OSV spells it.
    pub ecosystem: String,
    /// Days since its newest record was modified; `None` when the
    /// database holds no record of it.
    pub age_days: Option<i64>,
    /// Its newest record's `modified`.
    pub newest: Option<String>,
}

impl std::fmt::Display for Staleness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.age_days, &self.newest) {
            (Some(age), Some(newest)) => write!(
                f,
                "{} advisory data is {age} days old (newest {} record modified {newest})",
                self.ecosystem, self.ecosystem
            ),
            _ => write!(
                f,
                "the database holds no {} advisory: {} packages are not checked",
                self.ecosystem, self.ecosystem
            ),
        }
    }
}

/// The ecosystems whose advisory data is older than `max_age_days`, each
/// judged by its own newest record (one ecosystem's fresh data says nothing
/// about another's), or that have no data at all. Only the ecosystems in
/// `met` (those the scan found packages of) count, all of them when `met`
/// is empty.
pub fn stale_ecosystems(
    db: &DatabaseInfo,
    met: &BTreeSet<String>,
    max_age_days: u64,
) -> Vec<Staleness> {
    let today = crate::clock::today().days_since_epoch();
    db.ecosystems
        .iter()
        .filter(|e| met.is_empty() || met.contains(&e.ecosystem))
        .filter_map(|e| {
            let age = e
                .newest_modified
                .as_deref()
                .filter(|_| e.records > 0)
                .and_then(crate::clock::days_of)
                .map(|then| today - then);
            let stale = age.is_none_or(|a| a > max_age_days as i64);
            stale.then(|| Staleness {
                ecosystem: e.ecosystem.clone(),
                age_days: age,
                newest: e.newest_modified.clone(),
            })
        })
        .collect()
}

/// The `modified` an ecosystem's age is measured from: its newest record,
/// but never later than when it was imported (a record dated in the future
/// must not make the data look fresh for ever; databases written since
/// this rule clamp such dates at import already).
fn age_basis(e: &EcosystemStatus) -> Option<String> {
    let newest = e.newest_modified.as_deref()?;
    let at = crate::clock::parse_instant(newest);
    let imported = e
        .updated_at
        .as_deref()
        .and_then(crate::clock::parse_instant);
    match (at, imported) {
        (Some(a), Some(i)) if a > i => e.updated_at.clone(),
        (None, _) => None,
        _ => Some(newest.to_string()),
    }
}

/// An ignore told apart by its content: (id, package, reason, expires).
type IgnoreKey = (String, Option<String>, String, Option<String>);

fn ignore_key(ig: &Ignore) -> IgnoreKey {
    (
        ig.id.clone(),
        ig.package.clone(),
        ig.reason.clone(),
        ig.expires.clone(),
    )
}

fn apply_ignores(
    f: &mut Finding,
    policy: &Policy,
    today: Date,
    used: &mut BTreeSet<IgnoreKey>,
    expired_notes: &mut BTreeSet<String>,
) {
    let Some(id) = &f.id else { return };
    let norm = |n: &str| {
        f.ecosystem
            .ecosystem()
            .map_or_else(|| n.to_string(), |e| e.normalize_name(n))
    };
    for ig in &policy.ignore {
        let id_match = ig.id.eq_ignore_ascii_case(id)
            || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(&ig.id));
        let pkg_match = ig
            .package
            .as_deref()
            .is_none_or(|p| norm(p) == norm(&f.package));
        if !(id_match && pkg_match) {
            continue;
        }
        used.insert(ignore_key(ig));
        if ig.expired(today) {
            expired_notes.insert(format!(
                "ignore {} expired on {}: it no longer applies to {}@{}",
                ig.id,
                ig.expires.as_deref().unwrap_or(""),
                f.package,
                f.version.as_deref().unwrap_or("?")
            ));
            continue;
        }
        f.ignored = Some(Suppression {
            reason: ig.reason.clone(),
            expires: ig.expires.clone(),
            justification: ig.justification,
            vex: None,
        });
        return;
    }
}

fn closes_gate(f: &Finding, policy: &Policy) -> bool {
    if f.ignored.is_some() || f.not_on_target.is_some() {
        // Not installed on the target: it cannot run there.
        return false;
    }
    if f.resolved && !policy.gate.resolved {
        // Predicted by `--resolve`, and the policy keeps predictions out
        // of the verdict.
        return false;
    }
    let gate = &policy.gate;
    if f.kind == FindingKind::Malicious {
        // Malicious code runs at install time, dev or not.
        return gate.malicious;
    }
    if f.dev && !gate.include_dev {
        return false;
    }
    match f.kind {
        FindingKind::Vulnerability => gate.closes_on(f.severity.unwrap_or(Severity::Unknown)),
        FindingKind::Warning => f
            .informational
            .as_ref()
            .is_some_and(|t| gate.warnings.iter().any(|w| w == t)),
        FindingKind::Typosquat => f.confidence.is_some_and(|c| gate.typosquat.closes(c)),
        FindingKind::DependencyConfusion => f.risk.is_some_and(|r| gate.confusion.closes(r)),
        FindingKind::Malicious => gate.malicious,
        FindingKind::Runtime | FindingKind::Platform | FindingKind::Size => {
            f.check.as_ref().is_some_and(|c| match f.kind {
                FindingKind::Runtime => gate.runtime.closes(c.level),
                FindingKind::Platform => gate.platform.closes(c.level),
                _ => gate.size.closes(c.level),
            })
        }
    }
}

/// One line per deployment saying what closed the gate, e.g.
/// `fn-a: 3 vulnerabilities (1 high, 2 unknown), 1 malicious package (evil@1.0.0)`.
fn gate_reason(path: &str, findings: &[Finding]) -> Option<String> {
    let closing: Vec<&Finding> = findings.iter().filter(|f| f.closes_gate).collect();
    if closing.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let vulns: Vec<&&Finding> = closing
        .iter()
        .filter(|f| f.kind == FindingKind::Vulnerability)
        .collect();
    if !vulns.is_empty() {
        let mut by: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
        for f in &vulns {
            *by.entry(std::cmp::Reverse(f.severity.unwrap_or(Severity::Unknown)))
                .or_default() += 1;
        }
        let detail: Vec<String> = by
            .iter()
            .map(|(s, n)| format!("{n} {}", s.0.as_str()))
            .collect();
        parts.push(format!(
            "{} vulnerabilities ({})",
            vulns.len(),
            detail.join(", ")
        ));
    }
    let named = |kind: FindingKind, label: &str| -> Option<String> {
        let list: Vec<String> = closing
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| format!("{}@{}", f.package, f.version.as_deref().unwrap_or("?")))
            .collect();
        (!list.is_empty()).then(|| format!("{} {label} ({})", list.len(), list.join(", ")))
    };
    parts.extend(named(FindingKind::Malicious, "malicious packages"));
    parts.extend(named(FindingKind::Typosquat, "typosquats"));
    parts.extend(named(
        FindingKind::DependencyConfusion,
        "dependency-confusion risks",
    ));
    parts.extend(named(FindingKind::Warning, "warnings"));
    Some(format!("{path}: {}", parts.join(", ")))
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

/// Most serious first: kind, severity, then package and id.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (
            kind_rank(a.kind),
            std::cmp::Reverse(a.severity),
            &a.package,
            &a.version,
            &a.id,
        )
            .cmp(&(
                kind_rank(b.kind),
                std::cmp::Reverse(b.severity),
                &b.package,
                &b.version,
                &b.id,
            ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::Ecosystem;
    use crate::policy::MinGrade;
    use crate::severity::Grade;

    fn typosquat(confidence: Grade) -> Finding {
        let mut f = Finding::new(FindingKind::Typosquat, Ecosystem::Npm, "lodahs", None);
        f.confidence = Some(confidence);
        f
    }

    fn today() -> Date {
        Date {
            year: 2026,
            month: 6,
            day: 1,
        }
    }

    #[test]
    fn supply_findings_close_by_their_grade() {
        let mut policy = Policy::default();
        policy.gate.typosquat = MinGrade::High;
        assert!(!closes_gate(&typosquat(Grade::Medium), &policy));
        assert!(closes_gate(&typosquat(Grade::High), &policy));
        policy.gate.typosquat = MinGrade::Medium;
        assert!(closes_gate(&typosquat(Grade::Medium), &policy));
        policy.gate.typosquat = MinGrade::None;
        assert!(!closes_gate(&typosquat(Grade::High), &policy));
        let mut confusion = Finding::new(
            FindingKind::DependencyConfusion,
            Ecosystem::PyPI,
            "acme-x",
            None,
        );
        confusion.risk = Some(Grade::Medium);
        policy.gate.confusion = MinGrade::Low;
        assert!(closes_gate(&confusion, &policy));
        confusion.risk = None;
        assert!(!closes_gate(&confusion, &policy));
    }

    #[test]
    fn ignores_match_by_normalised_name_and_unused_ones_are_listed_once() {
        let ignore = |id: &str, package: Option<&str>| Ignore {
            id: id.into(),
            package: package.map(str::to_string),
            reason: "r".into(),
            expires: None,
            justification: None,
        };
        let global = Policy {
            ignore: vec![
                ignore("GHSA-1", Some("Django_Rest")),
                ignore("GHSA-2", None),
            ],
            ..Policy::default()
        };
        let mut nested = global.clone();
        nested.ignore.push(ignore("GHSA-3", None));
        let policies = Policies::new(global, [(1, nested)].into_iter().collect());
        let mut f = Finding::new(
            FindingKind::Vulnerability,
            Ecosystem::PyPI,
            "django-rest",
            Some("1.0".into()),
        );
        f.id = Some("PYSEC-9".into());
        f.aliases = vec!["ghsa-1".into()];
        f.severity = Some(Severity::Critical);
        let report = DeploymentReport {
            path: "fn".into(),
            ecosystems: vec!["PyPI".into()],
            sources: Vec::new(),
            packages: 1,
            unscanned_sources: 0,
            not_scanned: false,
            findings: vec![f],
            errors: Vec::new(),
        };
        let d = decide([(0, report)], Vec::new(), &policies, today());
        assert!(d.gate.passed, "{:?}", d.gate.reasons);
        assert!(d.deployments[0].findings[0].ignored.is_some());
        assert_eq!(d.summary.ignored, 1);
        assert_eq!(d.summary.by_severity.get("critical"), Some(&1));
        assert_eq!(
            d.unused_ignores,
            vec![
                "ignore GHSA-2 matched no finding; remove it if it is stale",
                "ignore GHSA-3 matched no finding; remove it if it is stale",
            ]
        );
    }
}
