//! The audit stage: match every package of every parsed deployment against
//! the advisory store, merge alias groups into one finding (`build`), add
//! the supply-chain findings ([`crate::supply`]), and hand the findings to
//! the gate ([`crate::gate`]) for the [`ScanReport`].
//!
//! Each (ecosystem, name) is looked up once per scan, whatever the number
//! of deployments; full records are loaded only for matched advisories.

use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::advisory::model::{IndexEntry, OsvRecord};
use crate::advisory::store::{Store, StoreError};
use crate::diagnostic::{Diagnostic, Level};
use crate::discover::relative_display;
use crate::ecosystem::Ecosystem;
use crate::graph::Package;
use crate::matcher::{self, Verdict};
use crate::memo::Memo;
use crate::policy::Policies;
use crate::progress::{add_time, timed};
use crate::report::model::{
    ConfigFileReport, DeploymentReport, ErrorEntry, Finding, FindingKind, PolicyNotes,
    SCHEMA_VERSION, ScanReport, Scope, ToolInfo,
};
use crate::scan::{Inventory, ParsedDeployment};

mod build;

use build::{MatchGroup, Occurrence, alias_groups, build_finding, deployment_report};

type Key = (Ecosystem, String);

/// Options of the audit beyond the policy.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// The configuration file used (for the report).
    pub config_path: Option<String>,
    /// Every configuration file read and what it was allowed to change.
    pub config_files: Vec<ConfigFileReport>,
    /// Options of the typosquat and dependency-confusion checks.
    pub supply: crate::supply::SupplyOptions,
    /// VEX documents (`--vex`, `[[vex]]` of the invoking configuration),
    /// applied to every deployment after the ignores.
    pub vex: Vec<crate::vex::VexDocument>,
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
    policies: &Policies,
    opts: &AuditOptions,
) -> Result<ScanReport, StoreError> {
    let auditor = Auditor::new(store, policies, opts);
    let audits = inv
        .deployments
        .par_iter()
        .enumerate()
        .map(|(i, d)| auditor.deployment(i, d))
        .collect::<Result<Vec<_>, _>>()?;
    auditor.finish(audits, &inv.diagnostics, Vec::new())
}

/// The audit of one deployment before ignores and the gate: its report
/// with every finding. Small: the parsed graph is not kept.
#[derive(Debug)]
pub struct DeploymentAudit {
    /// Index of the deployment in discovery order (selects its policy).
    pub index: usize,
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
    policies: &'a Policies,
    opts: &'a AuditOptions,
    lookups: Memo<Key, Arc<Vec<IndexEntry>>>,
    records: Memo<String, Option<Arc<OsvRecord>>>,
    typosquats: crate::supply::typosquat::CheckCache,
    /// CPU time per stage.
    pub times: AuditTimes,
}

impl<'a> Auditor<'a> {
    /// An auditor over `store` with the given policies.
    pub fn new(store: &'a Store, policies: &'a Policies, opts: &'a AuditOptions) -> Self {
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
        let malicious: BTreeSet<(Scope, String, Option<String>)> = findings
            .iter()
            .filter(|f| f.kind == FindingKind::Malicious)
            .map(|f| (f.ecosystem, f.package.clone(), f.version.clone()))
            .collect();
        findings.extend(supply.into_iter().filter(|f| {
            f.kind != FindingKind::Malicious
                || !malicious.contains(&(f.ecosystem, f.package.clone(), f.version.clone()))
        }));
        Ok(DeploymentAudit {
            index: i,
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

    /// Applies ignores and the gate ([`crate::gate::decide`]) to every
    /// deployment's findings (in discovery order) and to the functions'
    /// own, and assembles the report. `diagnostics` are the problems that
    /// belong to no deployment.
    pub fn finish(
        &self,
        mut audits: Vec<DeploymentAudit>,
        diagnostics: &[Diagnostic],
        functions: Vec<crate::report::model::FunctionReport>,
    ) -> Result<ScanReport, StoreError> {
        audits.sort_by_key(|a| a.index);
        // VEX statements first: a `[[ignore]]` that matches too takes
        // precedence when the gate applies the ignores.
        let vex = &self.opts.vex;
        let decision = crate::gate::decide(
            audits.into_iter().map(|mut a| {
                for f in &mut a.report.findings {
                    if let Some(s) = crate::vex::suppression(vex, f) {
                        f.ignored = Some(s);
                    }
                }
                (a.index, a.report)
            }),
            functions,
            self.policies,
            crate::clock::today(),
        );
        let database = crate::gate::database_info(&self.store.status()?);
        let errors = diagnostics
            .iter()
            .map(|e| ErrorEntry {
                level: e.level,
                path: e.path.display().to_string(),
                message: e.message.clone(),
            })
            .collect();
        let vex_files = crate::vex::file_reports(
            vex,
            decision.deployments.iter().flat_map(|d| d.findings.iter()),
        );
        Ok(ScanReport {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::default(),
            database,
            summary: decision.summary,
            gate: decision.gate,
            deployments: decision.deployments,
            errors,
            functions: decision.functions,
            policy: PolicyNotes {
                config: self.opts.config_path.clone(),
                expired_ignores: decision.expired_ignores,
                unused_ignores: decision.unused_ignores,
                config_files: self.opts.config_files.clone(),
                vex: vex_files,
            },
        })
    }
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
                resolved: p
                    .resolved
                    .then(|| parsed.facts.resolution.as_ref().map(|r| r.cutoff.clone()))
                    .map(Option::unwrap_or_default),
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
