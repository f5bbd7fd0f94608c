//! PyPI resolution as pip does it for the Lambda target
//! (`pip install --platform manylinux2014_<arch> --python-version 3.12
//! --only-binary=:all:`), solved with PubGrub: a version is a candidate
//! when it has a wheel the target installs whose `requires-python` admits
//! the target; the highest candidate wins, yanked ones only when a pin
//! names nothing else (PEP 592); pre-releases only when a specifier names
//! one, `--pre` is given, or nothing else matches (pip's rule); markers are
//! evaluated for the target, extras become packages of their own; `-c`
//! constraints narrow every requirement on their name. Dependencies come
//! from the wheel's core metadata (PEP 658). A name with only sdists in
//! range is "unresolved: needs a build": depwarden never builds.

use super::docs::Docs;
use super::pypi_tags::{Tags, sdist_version, wheel_name};
use super::tree::{Chosen, Tree, Unresolved};
use crate::graph::DepKind;
use pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, Requirement, VersionOrUrl};
use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, PackageResolutionStatistics,
    PubGrubError, Ranges, Reporter,
};
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::str::FromStr;

/// What to resolve.
#[derive(Debug, Clone, Default)]
pub struct PyInput {
    /// The project's requirements.
    pub requirements: Vec<Requirement>,
    /// `-c` constraints.
    pub constraints: Vec<Requirement>,
    /// `--pre`.
    pub pre: bool,
}

/// A PubGrub package: the root, a project, or a project with one extra.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pkg {
    /// The deployment.
    Root,
    /// A project (normalised name).
    Name(String),
    /// A project's extra.
    Extra(String, String),
}

impl std::fmt::Display for Pkg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pkg::Root => write!(f, "the requirements"),
            Pkg::Name(n) => write!(f, "{n}"),
            Pkg::Extra(n, e) => write!(f, "{n}[{e}]"),
        }
    }
}

#[derive(Debug, Clone)]
struct Cand {
    version: Version,
    /// Index of the preferred wheel in the project's files.
    file: usize,
    yanked: bool,
}

type Range = Ranges<Version>;

/// The provider: candidates per project, ranges per requirement.
struct Provider<'d, 'a> {
    docs: &'d Docs<'a>,
    tags: Tags,
    env: MarkerEnvironment,
    python: Version,
    pre: bool,
    roots: Vec<Requirement>,
    constraints: HashMap<String, Vec<VersionSpecifiers>>,
    cands: RefCell<HashMap<String, Rc<Vec<Cand>>>>,
    /// Names left out of the solve, with why.
    dropped: RefCell<BTreeMap<String, (Option<String>, String)>>,
}

fn norm(name: &str) -> String {
    crate::ecosystem::Ecosystem::PyPI.normalize_name(name)
}

fn admits(requires_python: Option<&str>, python: &Version) -> bool {
    requires_python
        .and_then(|r| VersionSpecifiers::from_str(r).ok())
        .is_none_or(|s| s.contains(python))
}

fn specifiers(req: &Requirement) -> Option<VersionSpecifiers> {
    match &req.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(s)) => Some(s.clone()),
        _ => None,
    }
}

fn pinned(specs: &[&VersionSpecifiers]) -> bool {
    specs.iter().flat_map(|s| s.iter()).any(|s| {
        matches!(s.operator(), Operator::ExactEqual) || matches!(s.operator(), Operator::Equal)
    })
}

impl Provider<'_, '_> {
    fn candidates(&self, name: &str) -> Option<Rc<Vec<Cand>>> {
        if let Some(c) = self.cands.borrow().get(name) {
            return Some(c.clone());
        }
        let project = self.docs.pypi(name)?;
        let mut best: BTreeMap<Version, (usize, usize, bool)> = BTreeMap::new();
        for (i, f) in project.files.iter().enumerate() {
            let Some(w) = wheel_name(&f.filename) else {
                continue;
            };
            let Some(rank) = self.tags.rank(&w) else {
                continue;
            };
            if !admits(f.requires_python.as_deref(), &self.python) {
                continue;
            }
            let e = best.entry(w.version).or_insert((i, rank, f.yanked));
            e.2 &= f.yanked;
            if rank < e.1 {
                e.0 = i;
                e.1 = rank;
            }
        }
        let list: Vec<Cand> = best
            .into_iter()
            .map(|(version, (file, _, yanked))| Cand {
                version,
                file,
                yanked,
            })
            .collect();
        let rc = Rc::new(list);
        self.cands.borrow_mut().insert(name.to_string(), rc.clone());
        Some(rc)
    }

    /// The range of candidates a requirement (with the constraints on its
    /// name) admits, or `None` when the name is left out (why recorded).
    fn range(&self, req: &Requirement) -> Option<Range> {
        let name = norm(req.name.as_ref());
        let declared = specifiers(req);
        let Some(cands) = self.candidates(&name) else {
            let why = if self.docs.is_absent(super::store::DocKind::Pypi, &name) {
                "not on the package index"
            } else {
                "registry metadata missing"
            };
            self.drop(&name, req, why);
            return None;
        };
        let mut specs: Vec<&VersionSpecifiers> = declared.iter().collect();
        if let Some(c) = self.constraints.get(&name) {
            specs.extend(c.iter());
        }
        let contains = |v: &Version| specs.iter().all(|s| s.contains(v));
        let mut allowed: Vec<bool> = cands.iter().map(|c| contains(&c.version)).collect();
        let any_pre_named = specs
            .iter()
            .flat_map(|s| s.iter())
            .any(|s| s.version().any_prerelease());
        let final_ok = cands
            .iter()
            .zip(&allowed)
            .any(|(c, a)| *a && !c.version.any_prerelease());
        if !(self.pre || any_pre_named) && final_ok {
            for (a, c) in allowed.iter_mut().zip(cands.iter()) {
                *a &= !c.version.any_prerelease();
            }
        }
        let all_yanked = cands.iter().zip(&allowed).all(|(c, a)| !*a || c.yanked);
        if !(all_yanked && pinned(&specs)) {
            for (a, c) in allowed.iter_mut().zip(cands.iter()) {
                *a &= !c.yanked;
            }
        }
        if !allowed.iter().any(|a| *a) {
            let project = self.docs.pypi(&name);
            let sdist = project.iter().flat_map(|p| p.files.iter()).any(|f| {
                sdist_version(&f.filename, &name).is_some_and(|v| contains(&v) && !f.yanked)
            });
            if sdist {
                self.drop(
                    &name,
                    req,
                    "needs a build: only an sdist matches, and depwarden never builds packages",
                );
                return None;
            }
            // No candidate: let PubGrub explain the conflict.
            return Some(Range::empty());
        }
        let versions: Vec<Version> = cands.iter().map(|c| c.version.clone()).collect();
        Some(super::tree::runs(&versions, &allowed))
    }

    fn drop(&self, name: &str, req: &Requirement, why: &str) {
        self.dropped
            .borrow_mut()
            .entry(name.to_string())
            .or_insert((
                specifiers(req)
                    .map(|s| s.to_string())
                    .filter(|s| !s.is_empty()),
                why.to_string(),
            ));
    }

    /// Requirements of a candidate's metadata, markers evaluated for the
    /// target with `extras` requested.
    fn requires(
        &self,
        name: &str,
        v: &Version,
        extras: &[ExtraName],
    ) -> Result<Vec<Requirement>, String> {
        let cands = self.candidates(name).ok_or("registry metadata missing")?;
        let c = cands
            .iter()
            .find(|c| &c.version == v)
            .ok_or("no such version")?;
        let project = self.docs.pypi(name).ok_or("registry metadata missing")?;
        let file = project.files.get(c.file).ok_or("no such file")?;
        let Some(meta) = self.docs.pypi_metadata(name, file) else {
            let key = format!("{name}/{}", file.filename);
            if self
                .docs
                .is_absent(super::store::DocKind::PypiMetadata, &key)
            {
                return Err(format!("core metadata of {} not available", file.filename));
            }
            // Not fetched yet: the candidate stands (its dependencies are
            // fetched in the next round online, or reported missing).
            return Ok(Vec::new());
        };
        if !admits(meta.requires_python.as_deref(), &self.python) {
            return Err(format!(
                "requires Python {}",
                meta.requires_python.as_deref().unwrap_or("")
            ));
        }
        let mut out = Vec::new();
        for line in &meta.requires_dist {
            let Ok(req) = crate::parsers::pypi::pep508::requirement(line) else {
                continue;
            };
            if req.marker.evaluate(&self.env, extras) {
                out.push(req);
            }
        }
        Ok(out)
    }

    fn constraints_of(&self, reqs: &[Requirement]) -> Vec<(Pkg, Range)> {
        let mut merged: BTreeMap<Pkg, Range> = BTreeMap::new();
        for req in reqs {
            if !matches!(
                req.version_or_url,
                None | Some(VersionOrUrl::VersionSpecifier(_))
            ) {
                self.drop(
                    &norm(req.name.as_ref()),
                    req,
                    "a direct URL requirement, not resolved from the index",
                );
                continue;
            }
            let Some(range) = self.range(req) else {
                continue;
            };
            let name = norm(req.name.as_ref());
            let mut add = |p: Pkg, r: &Range| {
                merged
                    .entry(p)
                    .and_modify(|old| *old = old.intersection(r))
                    .or_insert_with(|| r.clone());
            };
            add(Pkg::Name(name.clone()), &range);
            for e in &req.extras {
                add(Pkg::Extra(name.clone(), e.to_string()), &range);
            }
        }
        merged.into_iter().collect()
    }
}

impl DependencyProvider for Provider<'_, '_> {
    type P = Pkg;
    type V = Version;
    type VS = Range;
    type M = String;
    type Err = std::convert::Infallible;
    type Priority = (u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Pkg,
        range: &Range,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let count = match package {
            Pkg::Root => 0,
            Pkg::Name(n) | Pkg::Extra(n, _) => self
                .candidates(n)
                .map(|c| c.iter().filter(|c| range.contains(&c.version)).count())
                .unwrap_or(0),
        };
        (stats.conflict_count(), Reverse(count))
    }

    fn choose_version(&self, package: &Pkg, range: &Range) -> Result<Option<Version>, Self::Err> {
        let name = match package {
            Pkg::Root => return Ok(Some(Version::new([0]))),
            Pkg::Name(n) | Pkg::Extra(n, _) => n,
        };
        let Some(cands) = self.candidates(name) else {
            return Ok(None);
        };
        let pick = |yanked: bool| {
            cands
                .iter()
                .rev()
                .find(|c| c.yanked == yanked && range.contains(&c.version))
                .map(|c| c.version.clone())
        };
        Ok(pick(false).or_else(|| pick(true)))
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Range, String>, Self::Err> {
        Ok(match package {
            Pkg::Root => {
                Dependencies::Available(self.constraints_of(&self.roots).into_iter().collect())
            }
            Pkg::Name(n) => match self.requires(n, version, &[]) {
                Ok(reqs) => {
                    Dependencies::Available(self.constraints_of(&reqs).into_iter().collect())
                }
                Err(e) => Dependencies::Unavailable(e),
            },
            Pkg::Extra(n, e) => {
                let Ok(extra) = ExtraName::from_str(e) else {
                    return Ok(Dependencies::Unavailable(format!("bad extra {e}")));
                };
                match self.requires(n, version, &[extra]) {
                    Ok(reqs) => {
                        let mut deps = self.constraints_of(&reqs);
                        deps.push((Pkg::Name(n.clone()), Range::singleton(version.clone())));
                        Dependencies::Available(deps.into_iter().collect())
                    }
                    Err(e) => Dependencies::Unavailable(e),
                }
            }
        })
    }
}

/// Resolves `input` for the target; `Err` is PubGrub's explanation of why
/// no set of versions satisfies the requirements.
pub fn resolve(
    input: &PyInput,
    docs: &Docs<'_>,
    target: &crate::parse::Target,
) -> Result<Tree, String> {
    let python_target = crate::parse::PythonTarget::for_arch(target.arch);
    let env = crate::parsers::pypi::lock::marker_env(&python_target)
        .ok_or("cannot build the target's marker environment")?;
    let minor: u32 = python_target
        .python_version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(12);
    let python = Version::from_str(&python_target.python_version).map_err(|e| e.to_string())?;
    let mut constraints: HashMap<String, Vec<VersionSpecifiers>> = HashMap::new();
    for c in &input.constraints {
        if c.marker.evaluate(&env, &[])
            && let Some(s) = specifiers(c)
        {
            constraints
                .entry(norm(c.name.as_ref()))
                .or_default()
                .push(s);
        }
    }
    let roots: Vec<Requirement> = input
        .requirements
        .iter()
        .filter(|r| r.marker.evaluate(&env, &[]))
        .cloned()
        .collect();
    let provider = Provider {
        docs,
        tags: Tags::lambda(minor, target.arch),
        env,
        python,
        pre: input.pre,
        roots,
        constraints,
        cands: RefCell::default(),
        dropped: RefCell::default(),
    };
    let solution = match pubgrub::resolve(&provider, Pkg::Root, Version::new([0])) {
        Ok(s) => s,
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            let text = DefaultStringReporter::report(&tree);
            return Err(super::tree::explain(&text, &Pkg::Root.to_string(), "0"));
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut chosen: BTreeMap<String, Version> = BTreeMap::new();
    let mut extras: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (p, v) in solution {
        match p {
            Pkg::Name(n) => {
                chosen.insert(n, v);
            }
            Pkg::Extra(n, e) => extras.entry(n).or_default().push(e),
            Pkg::Root => {}
        }
    }
    let mut tree = Tree::default();
    let mut index = HashMap::new();
    let mut ids = HashMap::new();
    for (n, v) in &chosen {
        let i = tree.add(
            Chosen {
                name: n.clone(),
                version: v.to_string(),
                not_on_target: None,
            },
            &mut index,
        );
        ids.insert(n.clone(), i);
    }
    let edge_targets = |reqs: &[Requirement]| -> BTreeSet<usize> {
        reqs.iter()
            .filter_map(|r| ids.get(&norm(r.name.as_ref())).copied())
            .collect()
    };
    for i in edge_targets(&provider.roots) {
        tree.direct.push((i, DepKind::Normal));
    }
    for (n, v) in &chosen {
        let requested: Vec<ExtraName> = extras
            .get(n)
            .into_iter()
            .flatten()
            .filter_map(|e| ExtraName::from_str(e).ok())
            .collect();
        let Ok(reqs) = provider.requires(n, v, &requested) else {
            continue;
        };
        for to in edge_targets(&reqs) {
            tree.edges.push((ids[n], to, DepKind::Normal));
        }
    }
    for (name, (requirement, reason)) in provider.dropped.into_inner() {
        if !chosen.contains_key(&name) {
            tree.unresolved.push(Unresolved {
                name,
                requirement,
                reason,
            });
        }
    }
    Ok(tree)
}
