//! What a resolver gives: the packages it chose with the edges between
//! them, and the declared names it could not resolve (with why), turned
//! into a [`DepGraph`] whose packages are marked `resolved`.

use crate::ecosystem::Ecosystem;
use crate::graph::{DepGraph, DepKind, Package, PackageId, PackageSource};
use std::collections::HashMap;

/// One package a resolver chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The name as the registry spells it.
    pub name: String,
    /// The version.
    pub version: String,
    /// Why the target does not install it (npm platform fields, Cargo
    /// target-specific dependencies), when it does not.
    pub not_on_target: Option<String>,
}

/// A declared dependency that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The name.
    pub name: String,
    /// The requirement as declared.
    pub requirement: Option<String>,
    /// Why (needs a build, not a registry package, metadata missing, no
    /// version satisfies ...).
    pub reason: String,
}

/// A resolution result.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// The packages chosen.
    pub packages: Vec<Chosen>,
    /// Edges between chosen packages (indexes into `packages`).
    pub edges: Vec<(usize, usize, DepKind)>,
    /// The project's own dependencies (indexes into `packages`).
    pub direct: Vec<(usize, DepKind)>,
    /// Edges the target does not follow (Cargo dependencies for other
    /// platforms).
    pub off_target: Vec<(usize, usize)>,
    /// The project's own dependencies the target does not follow.
    pub direct_off_target: Vec<usize>,
    /// Declared dependencies left unresolved.
    pub unresolved: Vec<Unresolved>,
}

impl Tree {
    /// Adds a package (or returns the index of the same name and version).
    pub fn add(&mut self, chosen: Chosen, index: &mut HashMap<(String, String), usize>) -> usize {
        let key = (chosen.name.clone(), chosen.version.clone());
        if let Some(i) = index.get(&key) {
            return *i;
        }
        self.packages.push(chosen);
        index.insert(key, self.packages.len() - 1);
        self.packages.len() - 1
    }

    /// The graph of the tree under a root package named `project`; every
    /// package is marked `resolved` and every unresolved declaration is a
    /// direct package with no version.
    pub fn into_graph(self, ecosystem: Ecosystem, project: &str) -> DepGraph {
        let mut g = DepGraph::new();
        let mut root = Package::new(ecosystem, project, None);
        root.source = PackageSource::Path { path: ".".into() };
        let root = g.add_root(root);
        let ids: Vec<PackageId> = self
            .packages
            .into_iter()
            .map(|c| {
                let mut p = Package::new(ecosystem, c.name, Some(c.version));
                p.source = PackageSource::Registry { url: None };
                p.resolved = true;
                p.not_on_target = c.not_on_target;
                g.add_package(p)
            })
            .collect();
        for (from, to, kind) in self.edges {
            if let (Some(a), Some(b)) = (ids.get(from), ids.get(to)) {
                g.add_edge(*a, *b, kind);
            }
        }
        for (from, to) in self.off_target {
            if let (Some(a), Some(b)) = (ids.get(from), ids.get(to)) {
                g.mark_edge_off_target(*a, *b);
            }
        }
        for (to, kind) in self.direct {
            if let Some(b) = ids.get(to) {
                g.add_edge(root, *b, kind);
            }
        }
        for to in self.direct_off_target {
            if let Some(b) = ids.get(to) {
                g.mark_edge_off_target(root, *b);
            }
        }
        for u in self.unresolved {
            let mut p = Package::new(ecosystem, u.name, None);
            p.requirement = u.requirement;
            p.note("unresolved", u.reason);
            let id = g.add_package(p);
            g.add_edge(root, id, DepKind::Normal);
        }
        g.finalize();
        g
    }
}

/// The PubGrub range of the `allowed` versions among `all` (sorted): each
/// run of allowed versions becomes `[first, next version)`, so that a
/// conflict reads as ranges rather than lists of versions.
pub fn runs<V: Ord + Clone>(all: &[V], allowed: &[bool]) -> pubgrub::Ranges<V> {
    let mut out = pubgrub::Ranges::empty();
    let mut i = 0;
    while i < all.len() {
        if !allowed.get(i).copied().unwrap_or(false) {
            i += 1;
            continue;
        }
        let start = i;
        while i < all.len() && allowed.get(i).copied().unwrap_or(false) {
            i += 1;
        }
        let run = match all.get(i) {
            Some(next) => pubgrub::Ranges::between(all[start].clone(), next.clone()),
            None => pubgrub::Ranges::higher_than(all[start].clone()),
        };
        out = out.union(&run);
    }
    out
}

/// PubGrub's explanation without the version it gives the root package
/// (`the requirements 0 depends on ...`).
pub fn explain(text: &str, root: &str, root_version: &str) -> String {
    text.replace(&format!("{root} {root_version}"), root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_allowed_versions() {
        let all = [1u32, 2, 3, 5, 8];
        let r = runs(&all, &[false, true, true, false, true]);
        assert!(!r.contains(&1) && r.contains(&2) && r.contains(&3) && r.contains(&4));
        assert!(!r.contains(&5) && r.contains(&8) && r.contains(&100));
    }
}
