//! Who brought a package in. A package that a public, popular package
//! depends on (directly or further down) was chosen by that package's
//! maintainers and resolved on the public registry by everyone who
//! installs it: it is neither this project's typo nor its internal name.

use crate::graph::DepGraph;

/// For each package of `graph` (by index): true when it is no direct
/// dependency and some package for which `known` holds (other than a
/// root) depends on it, directly or through other packages.
pub fn brought_in_by_known(
    graph: &DepGraph,
    known: impl Fn(&crate::graph::Package) -> bool,
) -> Vec<bool> {
    let mut vouched = vec![false; graph.len()];
    let mut stack: Vec<crate::graph::PackageId> = graph
        .iter()
        .filter(|(_, p)| !p.root && known(p))
        .map(|(id, _)| id)
        .collect();
    let mut expanded = vec![false; graph.len()];
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut expanded[id.index()], true) {
            continue;
        }
        for (to, _) in graph.dependencies(id) {
            let p = graph.package(*to);
            if p.root || p.direct {
                continue;
            }
            if let Some(v) = vouched.get_mut(to.index())
                && !*v
            {
                *v = true;
                stack.push(*to);
            }
        }
    }
    vouched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::Ecosystem;
    use crate::graph::{DepKind, Package};

    #[test]
    fn descendants_of_known_packages_and_not_direct_ones() {
        let mut g = DepGraph::new();
        let root = g.add_root(Package::new(Ecosystem::Npm, "app", None));
        let known = g.add_package(Package::new(Ecosystem::Npm, "openai", None));
        let child = g.add_package(Package::new(Ecosystem::Npm, "httpx2", None));
        let grandchild = g.add_package(Package::new(Ecosystem::Npm, "httpcore2", None));
        let typo = g.add_package(Package::new(Ecosystem::Npm, "lodahs", None));
        g.add_edge(root, known, DepKind::Normal);
        g.add_edge(root, typo, DepKind::Normal);
        g.add_edge(known, child, DepKind::Normal);
        g.add_edge(child, grandchild, DepKind::Normal);
        g.add_edge(known, typo, DepKind::Normal);
        g.finalize();
        let v = brought_in_by_known(&g, |p| p.name == "openai");
        assert!(v[child.index()] && v[grandchild.index()]);
        assert!(!v[typo.index()], "a direct dependency is the project's own");
        assert!(!v[known.index()] && !v[root.index()]);
    }
}
