//! Cargo resolution as `cargo generate-lockfile` does it, solved with
//! PubGrub: one version per semver-compatible series (`1.x`, `0.3.x`,
//! `0.0.4`) of a crate, the highest non-yanked version first (one whose
//! `rust-version` the project's own admits first, when it declares one);
//! features are packages of their own, so every feature any dependent
//! asks for is unified; optional dependencies come in only through an
//! enabled feature (`dep:x`, `x/feat`, `x?/feat` as the lockfile has it, or
//! the implicit feature `x`); the
//! workspace members' own optional dependencies, dev-dependencies and
//! every target's dependencies are resolved, as the lockfile has them;
//! dependencies for other platforms than Lambda's Linux are then marked
//! `not_on_target`.

use super::cargo_cfg;
use super::docs::Docs;
use super::model::{CrateDep, CrateVersion};
use super::tree::{Chosen, Tree, Unresolved};
use crate::graph::DepKind;
use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, PackageResolutionStatistics,
    PubGrubError, Ranges, Reporter,
};
use semver::{Version, VersionReq};
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A workspace member: its dependencies as index entries would list them.
#[derive(Debug, Clone, Default)]
pub struct Member {
    /// The package name.
    pub name: String,
    /// Registry dependencies (dev and build ones with their `kind`).
    pub deps: Vec<CrateDep>,
    /// `rust-version`.
    pub rust_version: Option<String>,
}

/// What to resolve.
#[derive(Debug, Clone, Default)]
pub struct CargoInput {
    /// The members.
    pub members: Vec<Member>,
    /// Dependencies that are not registry crates (git, path outside the
    /// workspace), reported as unresolved.
    pub unresolved: Vec<Unresolved>,
}

/// A PubGrub package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CPkg {
    /// The workspace.
    Root,
    /// A crate within one compatible series.
    Crate(String, String),
    /// A feature of a crate within one series.
    Feature(String, String, String),
}

impl std::fmt::Display for CPkg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CPkg::Root => write!(f, "the workspace"),
            CPkg::Crate(n, _) => write!(f, "{n}"),
            CPkg::Feature(n, _, feat) => write!(f, "{n}/{feat}"),
        }
    }
}

type Range = Ranges<Version>;
/// A crate's versions, parsed and sorted.
type Versions = std::rc::Rc<Vec<(Version, CrateVersion)>>;
/// What a feature enables: features of the same crate, optional
/// dependencies, and (dependency, feature, weak) triples.
type Expansion = (Vec<String>, Vec<String>, Vec<(String, String, bool)>);

/// The compatible series of a version (`1`, `0.3`, `0.0.4`).
fn series(v: &Version) -> String {
    if v.major > 0 {
        v.major.to_string()
    } else if v.minor > 0 {
        format!("0.{}", v.minor)
    } else {
        format!("0.0.{}", v.patch)
    }
}

struct Provider<'d, 'a> {
    docs: &'d Docs<'a>,
    arch: crate::parse::Arch,
    members: Vec<Member>,
    msrv: Option<Version>,
    versions: RefCell<HashMap<String, Option<Versions>>>,
    dropped: RefCell<BTreeMap<String, Unresolved>>,
}

fn rust_version(s: &str) -> Option<Version> {
    let parts: Vec<&str> = s.trim().split('.').collect();
    let n = |i: usize| {
        parts
            .get(i)
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (!parts.is_empty()).then(|| Version::new(n(0), n(1), n(2)))
}

impl Provider<'_, '_> {
    fn versions(&self, name: &str) -> Option<Versions> {
        if let Some(v) = self.versions.borrow().get(name) {
            return v.clone();
        }
        let out = self.docs.krate(name).map(|doc| {
            let mut list: Vec<(Version, CrateVersion)> = doc
                .versions
                .iter()
                .filter_map(|v| Some((Version::parse(&v.vers).ok()?, v.clone())))
                .collect();
            list.sort_by(|a, b| a.0.cmp(&b.0));
            std::rc::Rc::new(list)
        });
        self.versions
            .borrow_mut()
            .insert(name.to_string(), out.clone());
        out
    }

    /// The crate package and range of a dependency: the series of the
    /// highest version the requirement admits.
    fn target_of(&self, dep: &CrateDep) -> Option<(String, Range)> {
        let name = dep.crate_name().to_string();
        let Ok(req) = VersionReq::parse(&dep.req) else {
            self.drop(dep, &format!("unreadable requirement {:?}", dep.req));
            return None;
        };
        let Some(list) = self.versions(&name) else {
            let why = if self
                .docs
                .is_absent(super::store::DocKind::Crates, &name.to_ascii_lowercase())
            {
                "not on crates.io"
            } else {
                "registry metadata missing"
            };
            self.drop(dep, why);
            return None;
        };
        let matching: Vec<&(Version, CrateVersion)> =
            list.iter().filter(|(v, _)| req.matches(v)).collect();
        let best = matching
            .iter()
            .rev()
            .find(|(_, c)| !c.yanked)
            .or(matching.last());
        let Some((best, _)) = best else {
            // Let PubGrub say that nothing matches.
            return Some((format!("{name}@{}", dep.req), Range::empty()));
        };
        let s = series(best);
        let all: Vec<Version> = list.iter().map(|(v, _)| v.clone()).collect();
        let allowed: Vec<bool> = list
            .iter()
            .map(|(v, _)| req.matches(v) && series(v) == s)
            .collect();
        Some((s, super::tree::runs(&all, &allowed)))
    }

    fn drop(&self, dep: &CrateDep, why: &str) {
        self.dropped
            .borrow_mut()
            .entry(dep.crate_name().to_string())
            .or_insert(Unresolved {
                name: dep.crate_name().to_string(),
                requirement: Some(dep.req.clone()),
                reason: why.to_string(),
            });
    }

    /// Packages a dependency brings in when it is enabled: the crate, its
    /// `default` feature unless turned off, and the features it asks for.
    fn dep_packages(&self, dep: &CrateDep, extra: &[String], out: &mut Vec<(CPkg, Range)>) {
        let Some((s, range)) = self.target_of(dep) else {
            return;
        };
        let name = dep.crate_name().to_string();
        out.push((CPkg::Crate(name.clone(), s.clone()), range.clone()));
        let mut feats: Vec<String> = dep.features.clone();
        feats.extend(extra.iter().cloned());
        if dep.default_features {
            feats.push("default".into());
        }
        for f in feats {
            out.push((CPkg::Feature(name.clone(), s.clone(), f), range.clone()));
        }
    }

    fn lookup(&self, name: &str, v: &Version) -> Option<CrateVersion> {
        self.versions(name)?
            .iter()
            .find(|(x, _)| x == v)
            .map(|(_, c)| c.clone())
    }
}

/// What enabling feature `f` of `c` does: the features of `c` it enables,
/// the optional dependencies it turns on, and `dep/feature` pairs.
fn expand(c: &CrateVersion, f: &str) -> Option<Expansion> {
    let explicit_dep = |d: &str| {
        c.features
            .values()
            .flatten()
            .any(|i| i.strip_prefix("dep:") == Some(d))
    };
    let items = match c.features.get(f) {
        Some(items) => items.clone(),
        None if f == "default" => Vec::new(),
        None if c.deps.iter().any(|d| d.optional && d.name == f) && !explicit_dep(f) => {
            return Some((Vec::new(), vec![f.to_string()], Vec::new()));
        }
        None => return None,
    };
    let (mut feats, mut deps, mut dep_feats) = (Vec::new(), Vec::new(), Vec::new());
    for item in items {
        if let Some(d) = item.strip_prefix("dep:") {
            deps.push(d.to_string());
        } else if let Some((d, feat)) = item.split_once('/') {
            // A weak `x?/feat` brings `x` into the lockfile too: Cargo's
            // dependency resolver does not track weakness (the feature
            // resolver of a build does), and the lockfile is its output.
            let weak = d.ends_with('?');
            let d = d.trim_end_matches('?').to_string();
            if c.deps.iter().any(|x| x.optional && x.name == d) {
                deps.push(d.clone());
            }
            dep_feats.push((d, feat.to_string(), weak));
        } else {
            feats.push(item);
        }
    }
    Some((feats, deps, dep_feats))
}

impl DependencyProvider for Provider<'_, '_> {
    type P = CPkg;
    type V = Version;
    type VS = Range;
    type M = String;
    type Err = std::convert::Infallible;
    type Priority = (u32, Reverse<usize>);

    fn prioritize(
        &self,
        p: &CPkg,
        range: &Range,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let count = match p {
            CPkg::Root => 0,
            CPkg::Crate(n, _) | CPkg::Feature(n, _, _) => self
                .versions(n)
                .map(|l| l.iter().filter(|(v, _)| range.contains(v)).count())
                .unwrap_or(0),
        };
        (stats.conflict_count(), Reverse(count))
    }

    fn choose_version(&self, p: &CPkg, range: &Range) -> Result<Option<Version>, Self::Err> {
        let name = match p {
            CPkg::Root => return Ok(Some(Version::new(0, 0, 0))),
            CPkg::Crate(n, _) | CPkg::Feature(n, _, _) => n,
        };
        let Some(list) = self.versions(name) else {
            return Ok(None);
        };
        let fits_msrv =
            |c: &CrateVersion| match (&self.msrv, c.rust_version.as_deref().and_then(rust_version))
            {
                (Some(m), Some(r)) => r <= *m,
                _ => true,
            };
        let pick = |yanked: bool, msrv: bool| {
            list.iter()
                .rev()
                .find(|(v, c)| range.contains(v) && c.yanked == yanked && (!msrv || fits_msrv(c)))
                .map(|(v, _)| v.clone())
        };
        Ok(pick(false, true)
            .or_else(|| pick(false, false))
            .or_else(|| pick(true, false)))
    }

    fn get_dependencies(
        &self,
        p: &CPkg,
        v: &Version,
    ) -> Result<Dependencies<CPkg, Range, String>, Self::Err> {
        let mut out = Vec::new();
        match p {
            CPkg::Root => {
                for m in &self.members {
                    for d in &m.deps {
                        // Members' optional dependencies count: the
                        // lockfile covers every feature of a member.
                        self.dep_packages(d, &[], &mut out);
                    }
                }
            }
            CPkg::Crate(n, _) => {
                let Some(c) = self.lookup(n, v) else {
                    return Ok(Dependencies::Unavailable("no such version".into()));
                };
                for d in c
                    .deps
                    .iter()
                    .filter(|d| !d.optional && d.kind.as_deref() != Some("dev"))
                {
                    self.dep_packages(d, &[], &mut out);
                }
            }
            CPkg::Feature(n, s, f) => {
                let Some(c) = self.lookup(n, v) else {
                    return Ok(Dependencies::Unavailable("no such version".into()));
                };
                let Some((feats, deps, dep_feats)) = expand(&c, f) else {
                    return Ok(Dependencies::Unavailable(format!("has no feature {f:?}")));
                };
                out.push((
                    CPkg::Crate(n.clone(), s.clone()),
                    Range::singleton(v.clone()),
                ));
                for g in feats {
                    out.push((
                        CPkg::Feature(n.clone(), s.clone(), g),
                        Range::singleton(v.clone()),
                    ));
                }
                let normal = |d: &&CrateDep| d.kind.as_deref() != Some("dev");
                for name in &deps {
                    for d in c.deps.iter().filter(normal).filter(|d| &d.name == name) {
                        self.dep_packages(d, &[], &mut out);
                    }
                }
                for (name, feat, _weak) in &dep_feats {
                    for d in c.deps.iter().filter(normal).filter(|d| &d.name == name) {
                        if !d.optional || deps.contains(name) {
                            self.dep_packages(d, std::slice::from_ref(feat), &mut out);
                        }
                    }
                }
            }
        }
        let mut merged: BTreeMap<CPkg, Range> = BTreeMap::new();
        for (p, r) in out {
            merged
                .entry(p)
                .and_modify(|old| *old = old.intersection(&r))
                .or_insert(r);
        }
        Ok(Dependencies::Available(merged.into_iter().collect()))
    }
}

/// Resolves the workspace's manifests; `Err` is PubGrub's explanation.
pub fn resolve(
    input: &CargoInput,
    docs: &Docs<'_>,
    target: &crate::parse::Target,
) -> Result<Tree, String> {
    let msrv = input
        .members
        .iter()
        .filter_map(|m| m.rust_version.as_deref().and_then(rust_version))
        .min();
    let provider = Provider {
        docs,
        arch: target.arch,
        members: input.members.clone(),
        msrv,
        versions: RefCell::default(),
        dropped: RefCell::default(),
    };
    let solution = match pubgrub::resolve(&provider, CPkg::Root, Version::new(0, 0, 0)) {
        Ok(s) => s,
        Err(PubGrubError::NoSolution(mut t)) => {
            t.collapse_no_versions();
            let text = DefaultStringReporter::report(&t);
            return Err(super::tree::explain(
                &text,
                &CPkg::Root.to_string(),
                "0.0.0",
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut crates: BTreeMap<(String, String), Version> = BTreeMap::new();
    let mut features: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (p, v) in solution {
        match p {
            CPkg::Crate(n, s) => {
                crates.insert((n, s), v);
            }
            CPkg::Feature(n, s, f) => {
                features.entry((n, s)).or_default().insert(f);
            }
            CPkg::Root => {}
        }
    }
    let mut tree = Tree::default();
    let mut index = HashMap::new();
    let mut ids: HashMap<(String, String), usize> = HashMap::new();
    for ((n, s), v) in &crates {
        let i = tree.add(
            Chosen {
                name: n.clone(),
                version: v.to_string(),
                not_on_target: None,
            },
            &mut index,
        );
        ids.insert((n.clone(), s.clone()), i);
    }
    let find = |d: &CrateDep| -> Option<usize> {
        let req = VersionReq::parse(&d.req).ok()?;
        crates
            .iter()
            .find(|((n, _), v)| n == d.crate_name() && req.matches(v))
            .and_then(|(k, _)| ids.get(k).copied())
    };
    let kind_of = |d: &CrateDep| match d.kind.as_deref() {
        Some("dev") => DepKind::Dev,
        Some("build") => DepKind::Build,
        _ => DepKind::Normal,
    };
    // An edge is off the target only when none of the entries behind it
    // applies to Linux.
    let mut direct_on: BTreeMap<usize, bool> = BTreeMap::new();
    for m in &input.members {
        for d in &m.deps {
            if let Some(to) = find(d) {
                tree.direct.push((to, kind_of(d)));
                *direct_on.entry(to).or_default() |=
                    cargo_cfg::applies(d.target.as_deref(), provider.arch);
            }
        }
    }
    tree.direct_off_target = direct_on
        .into_iter()
        .filter(|(_, on)| !on)
        .map(|(t, _)| t)
        .collect();
    let mut edge_on: BTreeMap<(usize, usize), bool> = BTreeMap::new();
    for ((n, s), v) in &crates {
        let Some(c) = provider.lookup(n, v) else {
            continue;
        };
        let mut enabled: BTreeSet<String> = BTreeSet::new();
        for f in features.get(&(n.clone(), s.clone())).into_iter().flatten() {
            if let Some((_, deps, _)) = expand(&c, f) {
                enabled.extend(deps);
            }
        }
        let from = ids[&(n.clone(), s.clone())];
        for d in c.deps.iter().filter(|d| d.kind.as_deref() != Some("dev")) {
            if d.optional && !enabled.contains(&d.name) {
                continue;
            }
            if let Some(to) = find(d) {
                tree.edges.push((from, to, kind_of(d)));
                *edge_on.entry((from, to)).or_default() |=
                    cargo_cfg::applies(d.target.as_deref(), provider.arch);
            }
        }
    }
    tree.off_target = edge_on
        .into_iter()
        .filter(|(_, on)| !on)
        .map(|(e, _)| e)
        .collect();
    tree.unresolved = input.unresolved.clone();
    for (name, u) in provider.dropped.into_inner() {
        if !crates.keys().any(|(n, _)| *n == name) {
            tree.unresolved.push(u);
        }
    }
    Ok(tree)
}
