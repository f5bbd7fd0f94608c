//! The audit stage: match every package of every parsed deployment against
//! the advisory store, merge alias groups into one finding, add supply-chain
//! findings, apply ignores and the gate, and produce the [`ScanReport`].
//!
//! Each (ecosystem, name) is looked up once per scan, whatever the number
//! of deployments; full records are loaded only for matched advisories.

use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::advisory::model::{AdvisoryKind, IndexEntry, OsvRecord};
use crate::advisory::severity;
use crate::advisory::store::{Store, StoreError};
use crate::diagnostic::{Diagnostic, Level};
use crate::discover::relative_display;
use crate::ecosystem::Ecosystem;
use crate::graph::Package;
use crate::matcher::{self, Verdict};
use crate::memo::Memo;
use crate::policy::Policy;
use crate::progress::{add_time, timed};
use crate::report::model::*;
use crate::scan::{Inventory, ParsedDeployment};
use crate::severity::Severity;

type Key = (Ecosystem, String);

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
fn age_basis(e: &crate::advisory::store::EcosystemStatus) -> Option<String> {
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

/// Options of the audit beyond the policy.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// The configuration file used (for the report).
    pub config_path: Option<String>,
    /// Every configuration file read and what it was allowed to change.
    pub config_files: Vec<ConfigFileReport>,
    /// Options of the typosquat and dependency-confusion checks.
    pub supply: crate::supply::SupplyOptions,
}

/// Policies per deployment: the global one, and overrides from a
/// `depwarden.toml` inside a deployment root (which replaces the global one
/// for that deployment).
pub struct Policies<'a> {
    /// The scan-wide policy.
    pub global: &'a Policy,
    /// Per deployment index: its own policy.
    pub overrides: HashMap<usize, Policy>,
}

impl Policies<'_> {
    fn for_deployment(&self, i: usize) -> &Policy {
        self.overrides.get(&i).unwrap_or(self.global)
    }
}

/// True when a package is matched against registry advisories: a pinned
/// version from a registry (not git, path or URL), and not a root.
fn matchable(p: &Package) -> bool {
    !p.root && p.version.is_some() && p.source.is_registry_like()
}

/// Runs the audit of a whole inventory (deployments in parallel).
pub fn audit(
    inv: &Inventory,
    store: &Store,
    policies: &Policies<'_>,
    opts: &AuditOptions,
) -> Result<ScanReport, StoreError> {
    let auditor = Auditor::new(store, policies, opts);
    let audits = inv
        .deployments
        .par_iter()
        .enumerate()
        .map(|(i, d)| auditor.deployment(i, d))
        .collect::<Result<Vec<_>, _>>()?;
    auditor.finish(audits, &inv.diagnostics)
}

/// The audit of one deployment before ignores and the gate: its report
/// with every finding. Small: the parsed graph is not kept.
#[derive(Debug)]
pub struct DeploymentAudit {
    /// Index of the deployment in discovery order (selects its policy).
    pub index: usize,
    /// The path the deployment was found under (report paths are relative
    /// to it).
    pub scan_root: std::path::PathBuf,
    /// The report; ignores and the gate are applied by [`Auditor::finish`].
    pub report: DeploymentReport,
}

/// CPU time spent per audit stage, summed over threads (for `--timings`).
#[derive(Debug, Default)]
pub struct AuditTimes {
    /// Parsing (wall time of each deployment's parse, summed), in
    /// nanoseconds.
    pub parse_ns: AtomicU64,
    /// Advisory lookups and version matching, in nanoseconds.
    pub advisories_ns: AtomicU64,
    /// Typosquat and dependency-confusion checks, in nanoseconds.
    pub supply_ns: AtomicU64,
}

/// The audit's shared state: the store, the policies and caches, so that
/// each (ecosystem, name) is looked up and each record decoded once per
/// scan, whatever the number of deployments. Deployments can be audited
/// one by one as they are parsed ([`Auditor::deployment`]), and their
/// graphs dropped, so memory follows the largest deployment, not the sum.
pub struct Auditor<'a> {
    store: &'a Store,
    policies: &'a Policies<'a>,
    opts: &'a AuditOptions,
    lookups: Memo<Key, Arc<Vec<IndexEntry>>>,
    records: Memo<String, Option<Arc<OsvRecord>>>,
    typosquats: crate::supply::typosquat::CheckCache,
    /// CPU time per stage.
    pub times: AuditTimes,
}

impl<'a> Auditor<'a> {
    /// An auditor over `store` with the given policies.
    pub fn new(store: &'a Store, policies: &'a Policies<'a>, opts: &'a AuditOptions) -> Self {
        Auditor {
            store,
            policies,
            opts,
            lookups: Memo::default(),
            records: Memo::default(),
            typosquats: Default::default(),
            times: AuditTimes::default(),
        }
    }

    /// Index entries of the matchable packages of `d`, from the cache or
    /// the store (only packages with advisories are kept).
    fn index_for(
        &self,
        d: &ParsedDeployment,
    ) -> Result<HashMap<Key, Arc<Vec<IndexEntry>>>, StoreError> {
        let mut keys: BTreeSet<Key> = BTreeSet::new();
        for s in &d.sources {
            if let Ok(parsed) = &s.result {
                for p in parsed.graph.packages().iter().filter(|p| matchable(p)) {
                    keys.insert((p.ecosystem, p.normalized_name()));
                }
            }
        }
        Ok(self
            .lookups
            .get_many(keys, |k| self.store.lookup(k.0, &k.1).map(Arc::new))?
            .into_iter()
            .filter(|(_, entries)| !entries.is_empty())
            .collect())
    }

    /// Full records of the given ids, from the cache or the store.
    fn records_for(
        &self,
        ids: BTreeSet<String>,
    ) -> Result<HashMap<String, Arc<OsvRecord>>, StoreError> {
        Ok(self
            .records
            .get_many(ids, |id| Ok(self.store.record(id)?.map(Arc::new)))?
            .into_iter()
            .filter_map(|(id, record)| Some((id, record?)))
            .collect())
    }

    /// Audits deployment number `i`: advisory matches with fix advice, and
    /// typosquat and dependency-confusion findings.
    pub fn deployment(
        &self,
        i: usize,
        d: &ParsedDeployment,
    ) -> Result<DeploymentAudit, StoreError> {
        add_time(&self.times.parse_ns, d.parse_time);
        // Advisory matching and the supply-chain checks are independent:
        // run them side by side.
        let (advisories, supply) = rayon::join(
            || timed(&self.times.advisories_ns, || self.advisory_findings(d)),
            || {
                timed(&self.times.supply_ns, || {
                    crate::supply::deployment_findings(
                        d,
                        self.policies.for_deployment(i),
                        &self.opts.supply,
                        &self.typosquats,
                    )
                })
            },
        );
        let (mut findings, notes) = advisories?;
        // A package an advisory already calls malicious is not reported
        // a second time for its registry takedown.
        let malicious: BTreeSet<(String, String, Option<String>)> = findings
            .iter()
            .filter(|f| f.kind == FindingKind::Malicious)
            .map(|f| (f.ecosystem.clone(), f.package.clone(), f.version.clone()))
            .collect();
        findings.extend(supply.into_iter().filter(|f| {
            f.kind != FindingKind::Malicious
                || !malicious.contains(&(f.ecosystem.clone(), f.package.clone(), f.version.clone()))
        }));
        Ok(DeploymentAudit {
            index: i,
            scan_root: d.deployment.scan_root.clone(),
            report: deployment_report(d, findings, notes),
        })
    }

    /// Vulnerability and malicious-package findings of one deployment
    /// (with fix advice), and the matcher's notes.
    fn advisory_findings(
        &self,
        d: &ParsedDeployment,
    ) -> Result<(Vec<Finding>, Vec<ErrorEntry>), StoreError> {
        let index = self.index_for(d)?;
        let m = match_deployment(d, &index);
        // The matched records, and their aliases present in the database
        // (their severities count too).
        let ids: BTreeSet<String> = m
            .groups
            .iter()
            .flat_map(|g| g.entries.iter())
            .flat_map(|e| std::iter::once(&e.id).chain(e.aliases.iter()))
            .cloned()
            .collect();
        let records = self.records_for(ids)?;
        let mut findings: Vec<Finding> = m
            .groups
            .iter()
            .map(|g| build_finding(g, &records))
            .collect();
        crate::fix::advise(&mut findings);
        Ok((findings, m.notes))
    }

    /// Applies ignores and the gate to every deployment's findings (in
    /// discovery order) and assembles the report. `diagnostics` are the
    /// problems that belong to no deployment.
    pub fn finish(
        &self,
        mut audits: Vec<DeploymentAudit>,
        diagnostics: &[Diagnostic],
    ) -> Result<ScanReport, StoreError> {
        audits.sort_by_key(|a| a.index);
        let policies = self.policies;
        let today = crate::clock::today();
        let mut deployments = Vec::with_capacity(audits.len());
        let mut expired_notes = BTreeSet::new();
        // Ignores are told apart by content: a deployment's policy carries
        // the scan-wide ignores too (and trusted nested ones).
        let mut used_ignores: BTreeSet<IgnoreKey> = BTreeSet::new();
        let mut summary = Summary {
            deployments: audits.len(),
            ..Default::default()
        };
        let mut reasons = Vec::new();
        for DeploymentAudit {
            index: i,
            mut report,
            ..
        } in audits
        {
            let policy = policies.for_deployment(i);
            for f in &mut report.findings {
                apply_ignores(f, policy, today, &mut used_ignores, &mut expired_notes);
                f.closes_gate = closes_gate(f, policy);
            }
            sort_findings(&mut report.findings);
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
                            .entry(format!("{sev:?}").to_lowercase())
                            .or_default() += 1;
                    }
                    FindingKind::Malicious => summary.malicious += 1,
                    FindingKind::Typosquat => summary.typosquats += 1,
                    FindingKind::DependencyConfusion => summary.dependency_confusion += 1,
                    FindingKind::Warning => summary.warnings += 1,
                }
            }
            if let Some(r) = gate_reason(&report.path, &report.findings) {
                reasons.push(r);
            }
            deployments.push(report);
        }
        let mut unused = Vec::new();
        let mut reported: BTreeSet<IgnoreKey> = BTreeSet::new();
        let mut check_unused = |_: usize, p: &Policy| {
            for ig in &p.ignore {
                let key = ignore_key(ig);
                if !used_ignores.contains(&key) && !ig.expired(today) && reported.insert(key) {
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
        };
        check_unused(usize::MAX, policies.global);
        let mut override_keys: Vec<&usize> = policies.overrides.keys().collect();
        override_keys.sort();
        for i in override_keys {
            if let Some(p) = policies.overrides.get(i) {
                check_unused(*i, p);
            }
        }
        let status = self.store.status()?;
        let database = DatabaseInfo {
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
        };
        let errors = diagnostics
            .iter()
            .map(|e| ErrorEntry {
                level: e.level,
                path: e.path.display().to_string(),
                message: e.message.clone(),
            })
            .collect();
        reasons.dedup();
        Ok(ScanReport {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::default(),
            database,
            summary,
            gate: GateResult {
                fail_on: policies.global.gate.fail_on.as_str().to_string(),
                passed: reasons.is_empty(),
                reasons,
                error: None,
            },
            deployments,
            errors,
            policy: PolicyNotes {
                config: self.opts.config_path.clone(),
                expired_ignores: expired_notes.into_iter().collect(),
                unused_ignores: unused,
                config_files: self.opts.config_files.clone(),
            },
        })
    }
}

/// One occurrence of a package in a source.
#[derive(Debug, Clone)]
struct Occurrence {
    source: String,
    path: Vec<String>,
    dev: bool,
    not_on_target: Option<String>,
    direct: bool,
    line: Option<u32>,
}

/// The matched advisories of one package version, merged by alias group.
#[derive(Debug, Clone)]
struct MatchGroup {
    ecosystem: Ecosystem,
    name: String,
    version: String,
    entries: Vec<IndexEntry>,
    occurrences: Vec<Occurrence>,
    unparsable_version: bool,
}

/// (ecosystem, normalised name, version).
type PackageKey = (Ecosystem, String, String);
/// (display name, matched entries, occurrences, version unparsable).
type PackageHits = (String, Vec<IndexEntry>, Vec<Occurrence>, bool);

struct DeploymentMatches {
    groups: Vec<MatchGroup>,
    notes: Vec<ErrorEntry>,
}

fn match_deployment(
    d: &ParsedDeployment,
    index: &HashMap<Key, Arc<Vec<IndexEntry>>>,
) -> DeploymentMatches {
    // (eco, normalised name, version) -> (display name, entries matched, occurrences)
    let mut per_pkg: BTreeMap<PackageKey, PackageHits> = BTreeMap::new();
    let mut notes = Vec::new();
    let mut noted_unparsable = BTreeSet::new();
    for s in &d.sources {
        let Ok(parsed) = &s.result else { continue };
        let src = relative_display(&d.deployment.scan_root, &s.source.path);
        for (id, p) in parsed.graph.iter() {
            if !matchable(p) {
                continue;
            }
            let norm = p.normalized_name();
            let Some(entries) = index.get(&(p.ecosystem, norm.clone())) else {
                continue;
            };
            let version = p.version.clone().unwrap_or_default();
            let mut hits = Vec::new();
            let mut unparsable = false;
            for e in entries.iter() {
                match matcher::evaluate(p.ecosystem, &version, e) {
                    Verdict::Affected => hits.push(e.clone()),
                    Verdict::Unparsable { listed } => {
                        unparsable = true;
                        if listed {
                            hits.push(e.clone());
                        }
                    }
                    Verdict::NotAffected => {}
                }
            }
            // Advisories exist for the package but its version cannot be
            // placed in their ranges: it was not fully checked (an error,
            // so `--strict` fails), whatever the explicit lists say.
            if unparsable && noted_unparsable.insert((p.ecosystem, norm.clone(), version.clone())) {
                notes.push(ErrorEntry {
                    level: Level::Error,
                    path: src.clone(),
                    message: format!(
                        "{}@{}: version does not parse in {}'s version scheme; checked only against explicit version lists, not against the ranges of its {} advisories",
                        p.name,
                        version,
                        p.ecosystem,
                        entries.len()
                    ),
                });
            }
            if hits.is_empty() {
                continue;
            }
            let path = parsed.graph.path_names(id);
            let occ = Occurrence {
                source: src.clone(),
                path,
                dev: p.dev,
                not_on_target: p.not_on_target.clone(),
                direct: p.direct,
                line: p.line,
            };
            let slot = per_pkg
                .entry((p.ecosystem, norm, version))
                .or_insert_with(|| (p.name.clone(), Vec::new(), Vec::new(), false));
            for h in hits {
                if !slot.1.iter().any(|e| e.id == h.id) {
                    slot.1.push(h);
                }
            }
            slot.2.push(occ);
            slot.3 |= unparsable;
        }
    }
    let mut groups = Vec::new();
    for ((eco, _, version), (name, entries, occurrences, unparsable)) in per_pkg {
        for members in alias_groups(&entries) {
            groups.push(MatchGroup {
                ecosystem: eco,
                name: name.clone(),
                version: version.clone(),
                entries: members,
                occurrences: occurrences.clone(),
                unparsable_version: unparsable,
            });
        }
    }
    DeploymentMatches { groups, notes }
}

/// Splits matched entries into groups of records that name each other (or
/// share an id) in `aliases`.
fn alias_groups(entries: &[IndexEntry]) -> Vec<Vec<IndexEntry>> {
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

fn build_finding(g: &MatchGroup, records: &HashMap<String, Arc<OsvRecord>>) -> Finding {
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
    let mut f = Finding::new(kind, g.ecosystem.as_str(), &g.name, Some(g.version.clone()));
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

/// An ignore told apart by its content: (id, package, reason, expires).
type IgnoreKey = (String, Option<String>, String, Option<String>);

fn ignore_key(ig: &crate::policy::Ignore) -> IgnoreKey {
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
    today: crate::clock::Date,
    used: &mut BTreeSet<IgnoreKey>,
    expired_notes: &mut BTreeSet<String>,
) {
    let Some(id) = &f.id else { return };
    let eco = Ecosystem::from_osv(&f.ecosystem);
    let norm = |n: &str| {
        eco.map(|e| e.normalize_name(n))
            .unwrap_or_else(|| n.to_string())
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
        });
        return;
    }
}

fn closes_gate(f: &Finding, policy: &Policy) -> bool {
    if f.ignored.is_some() || f.not_on_target.is_some() {
        // Not installed on the target: it cannot run there.
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
        FindingKind::Typosquat => f
            .confidence
            .as_deref()
            .and_then(crate::policy::Level3::parse)
            .is_some_and(|c| gate.typosquat.closes(c)),
        FindingKind::DependencyConfusion => f
            .risk
            .as_deref()
            .and_then(crate::policy::Level3::parse)
            .is_some_and(|r| gate.confusion.closes(r)),
        FindingKind::Malicious => gate.malicious,
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

fn deployment_report(
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
