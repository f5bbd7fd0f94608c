//! The dependency graph of one source (lockfile, manifest, installed tree or
//! binary): packages as nodes, dependency edges with their kind, the roots
//! (the project itself and its workspace members), and what follows from
//! them: which packages are direct, which are dev-only or optional-only, and
//! the shortest dependency path to each package.
//! Paths are never materialised: a shortest-path tree (parent, depth and
//! direct dependency per package) gives at most [`MAX_PATH_LEN`] packages
//! of a path in `O(MAX_PATH_LEN)`, whatever the depth of the graph.

use crate::ecosystem::Ecosystem;
use serde::Serialize;
use std::collections::VecDeque;

/// Most packages a dependency path lists: a longer path lists its direct
/// dependency, then the last `MAX_PATH_LEN - 1` packages down to the
/// package itself, and says how many it left out between them.
pub const MAX_PATH_LEN: usize = 16;

/// A dependency path down to a package, at most [`MAX_PATH_LEN`] long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepPath {
    /// The packages listed: the direct dependency first, the package last.
    pub ids: Vec<PackageId>,
    /// How many packages of the path are left out between `ids[0]` and
    /// `ids[1]` (0 when the path is listed whole).
    pub omitted: usize,
}

/// Index of a package inside one [`DepGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PackageId(pub u32);

impl PackageId {
    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// How a package depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DepKind {
    /// A runtime dependency.
    Normal,
    /// A development-only dependency (npm `devDependencies`, Cargo
    /// `dev-dependencies`, a poetry/uv dev group).
    Dev,
    /// An optional dependency (npm `optionalDependencies`, Python extras).
    Optional,
    /// A build-time dependency (Cargo `build-dependencies`); not in the
    /// shipped artefact but part of the build.
    Build,
    /// A peer dependency (npm).
    Peer,
}

/// Where a package comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum PackageSource {
    /// A package registry; `url` is the registry or tarball URL when the
    /// source records it (`None` = the ecosystem's default public registry,
    /// or not recorded).
    Registry {
        /// Registry base URL or resolved tarball URL, as recorded.
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// A git repository at a revision.
    Git {
        /// Repository URL (credentials must be redacted by the parser).
        url: String,
        /// Commit, tag or branch, when recorded.
        #[serde(skip_serializing_if = "Option::is_none")]
        rev: Option<String>,
    },
    /// A local path (workspace member, `file:` dependency, path crate).
    Path {
        /// The path as written.
        path: String,
    },
    /// A direct URL (tarball, wheel, `name @ https://...`).
    Url {
        /// The URL as written.
        url: String,
    },
    /// Not recorded by the source format.
    #[default]
    Unknown,
}

impl PackageSource {
    /// True for sources whose name and version identify a registry release,
    /// so that registry advisories apply by name. Git, path and URL
    /// dependencies are reported with their source and not matched by name.
    pub fn is_registry_like(&self) -> bool {
        matches!(
            self,
            PackageSource::Registry { .. } | PackageSource::Unknown
        )
    }
}

/// One package as a source declares it.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    /// Ecosystem of the package.
    pub ecosystem: Ecosystem,
    /// The real package name (an npm alias is reported under the package it
    /// points to), as spelled by the source.
    pub name: String,
    /// The exact resolved version; `None` when the source does not pin one
    /// (an unresolved direct dependency).
    pub version: Option<String>,
    /// The requirement or range as written, for unresolved dependencies and
    /// where a source records it.
    pub requirement: Option<String>,
    /// Where the package comes from.
    pub source: PackageSource,
    /// Dependency groups the format declares (`dev`, `optional`, `bundled`,
    /// `peer`, poetry/uv group names). Empty = production / main.
    pub groups: Vec<String>,
    /// True when every path to the package is a development path.
    pub dev: bool,
    /// True when every path to the package is an optional path.
    pub optional: bool,
    /// True for a direct dependency of a root.
    pub direct: bool,
    /// True for a root: the project itself, a workspace member, a local
    /// crate. Roots are inventoried but are not third-party packages.
    pub root: bool,
    /// 1-based line in the source file that declares the package, if known.
    pub line: Option<u32>,
    /// Integrity hash / checksum as recorded (`sha512-...`, `sha256:...`).
    pub checksum: Option<String>,
    /// Free-form facts a parser wants to keep (environment markers, the
    /// alias name, the installer), as `key = value` pairs.
    pub notes: Vec<(String, String)>,
}

impl Package {
    /// A registry package with a pinned version and nothing else known.
    pub fn new(ecosystem: Ecosystem, name: impl Into<String>, version: Option<String>) -> Self {
        Package {
            ecosystem,
            name: name.into(),
            version,
            requirement: None,
            source: PackageSource::Unknown,
            groups: Vec::new(),
            dev: false,
            optional: false,
            direct: false,
            root: false,
            line: None,
            checksum: None,
            notes: Vec::new(),
        }
    }

    /// The matching key of the name (see [`Ecosystem::normalize_name`]).
    pub fn normalized_name(&self) -> String {
        self.ecosystem.normalize_name(&self.name)
    }

    /// Adds a note (`key = value`) to the package.
    pub fn note(&mut self, key: &str, value: impl Into<String>) {
        self.notes.push((key.to_string(), value.into()));
    }
}

/// How [`DepGraph::finalize`] decides the `dev` and `optional` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagMode {
    /// Compute from edge kinds: dev iff no path from a root avoids a dev
    /// edge; optional iff no path avoids dev-or-optional edges.
    FromEdges,
    /// The parser set `dev` / `optional` from the format's own flags (e.g.
    /// package-lock v2 `dev: true`); keep them.
    Declared,
}

/// The dependency graph of one source.
#[derive(Debug, Clone, Default)]
pub struct DepGraph {
    packages: Vec<Package>,
    edges: Vec<Vec<(PackageId, DepKind)>>,
    roots: Vec<PackageId>,
    parents: Vec<Option<PackageId>>,
    /// Per package: its distance from its direct dependency in the
    /// shortest-path tree, and that direct dependency.
    depth: Vec<u32>,
    tops: Vec<PackageId>,
    finalized: bool,
}

impl DepGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a package and returns its id.
    pub fn add_package(&mut self, package: Package) -> PackageId {
        let id = PackageId(self.packages.len() as u32);
        self.packages.push(package);
        self.edges.push(Vec::new());
        id
    }

    /// Adds a package marked as a root (the project or a workspace member).
    pub fn add_root(&mut self, mut package: Package) -> PackageId {
        package.root = true;
        let id = self.add_package(package);
        self.roots.push(id);
        id
    }

    /// Marks an existing package as a root.
    pub fn mark_root(&mut self, id: PackageId) {
        if let Some(p) = self.packages.get_mut(id.index()) {
            p.root = true;
            if !self.roots.contains(&id) {
                self.roots.push(id);
            }
        }
    }

    /// Adds a dependency edge `from -> to`; duplicate edges are ignored.
    pub fn add_edge(&mut self, from: PackageId, to: PackageId, kind: DepKind) {
        if from == to {
            return;
        }
        if let Some(list) = self.edges.get_mut(from.index())
            && !list.iter().any(|(t, k)| *t == to && *k == kind)
        {
            list.push((to, kind));
        }
    }

    /// All packages, in id order.
    pub fn packages(&self) -> &[Package] {
        &self.packages
    }

    /// Mutable access to the packages (for parsers that fix up flags).
    pub fn packages_mut(&mut self) -> &mut [Package] {
        &mut self.packages
    }

    /// One package.
    pub fn package(&self, id: PackageId) -> &Package {
        &self.packages[id.index()]
    }

    /// Mutable access to one package.
    pub fn package_mut(&mut self, id: PackageId) -> &mut Package {
        &mut self.packages[id.index()]
    }

    /// The dependencies of a package with their kinds.
    pub fn dependencies(&self, id: PackageId) -> &[(PackageId, DepKind)] {
        self.edges.get(id.index()).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The roots.
    pub fn roots(&self) -> &[PackageId] {
        &self.roots
    }

    /// Number of packages.
    pub fn len(&self) -> usize {
        self.packages.len()
    }

    /// True when the graph holds no package.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// Iterates over `(id, package)`.
    pub fn iter(&self) -> impl Iterator<Item = (PackageId, &Package)> {
        self.packages
            .iter()
            .enumerate()
            .map(|(i, p)| (PackageId(i as u32), p))
    }

    /// Computes the derived facts once all packages and edges are in:
    /// `direct` (a dependency of a root; when the graph has no roots, a
    /// package nothing depends on, or one the parser already marked direct),
    /// `dev`/`optional` per `mode`, and the shortest-path tree used by
    /// [`DepGraph::path_to`].
    pub fn finalize(&mut self, mode: FlagMode) {
        let n = self.packages.len();
        let starts = self.start_nodes();
        for &(id, _) in &starts {
            if !self.packages[id.index()].root {
                self.packages[id.index()].direct = true;
            }
        }
        if mode == FlagMode::FromEdges {
            let prod = self.reachable(&starts, |k| !matches!(k, DepKind::Dev));
            let required = self.reachable(&starts, |k| {
                !matches!(k, DepKind::Dev | DepKind::Optional | DepKind::Peer)
            });
            for i in 0..n {
                let p = &mut self.packages[i];
                if p.root {
                    continue;
                }
                p.dev = p.dev || !prod[i];
                p.optional = p.optional || (prod[i] && !required[i]);
            }
        }
        // Shortest-path tree (BFS from the direct dependencies, preferring
        // non-dev starts so that a prod path is shown when one exists).
        let mut parents: Vec<Option<PackageId>> = vec![None; n];
        let mut depth = vec![0u32; n];
        let mut tops: Vec<PackageId> = (0..n).map(|i| PackageId(i as u32)).collect();
        let mut seen = vec![false; n];
        let mut queue = VecDeque::new();
        let mut ordered = starts.clone();
        ordered.sort_by_key(|&(id, kind)| (kind == DepKind::Dev, self.packages[id.index()].dev));
        for (id, _) in ordered {
            if !seen[id.index()] && !self.packages[id.index()].root {
                seen[id.index()] = true;
                queue.push_back(id);
            }
        }
        for r in &self.roots {
            seen[r.index()] = true;
        }
        while let Some(cur) = queue.pop_front() {
            for &(next, _) in &self.edges[cur.index()] {
                if !seen[next.index()] {
                    seen[next.index()] = true;
                    parents[next.index()] = Some(cur);
                    depth[next.index()] = depth[cur.index()].saturating_add(1);
                    tops[next.index()] = tops[cur.index()];
                    queue.push_back(next);
                }
            }
        }
        self.parents = parents;
        self.depth = depth;
        self.tops = tops;
        self.finalized = true;
    }

    /// The shortest dependency path from a direct dependency to `id`
    /// (first = the direct dependency, last = `id`), at most
    /// [`MAX_PATH_LEN`] packages of it. A package not reachable from any
    /// root yields just itself. Costs `O(MAX_PATH_LEN)`, not the depth.
    pub fn path(&self, id: PackageId) -> DepPath {
        let i = id.index();
        let len = self.depth.get(i).map_or(0, |d| *d as usize) + 1;
        let keep_tail = if len > MAX_PATH_LEN {
            MAX_PATH_LEN - 1
        } else {
            len
        };
        let mut ids = Vec::with_capacity(keep_tail + 1);
        let mut cur = id;
        ids.push(cur);
        while ids.len() < keep_tail {
            match self.parents.get(cur.index()) {
                Some(Some(parent)) => {
                    cur = *parent;
                    ids.push(cur);
                }
                _ => break,
            }
        }
        let omitted = len.saturating_sub(ids.len() + 1);
        if len > ids.len()
            && let Some(top) = self.tops.get(i)
        {
            ids.push(*top);
        }
        ids.reverse();
        DepPath { ids, omitted }
    }

    /// [`DepGraph::path`] as package names, for reports: a path with
    /// packages left out names how many (`… 9984 more …`) after its direct
    /// dependency.
    pub fn path_names(&self, id: PackageId) -> Vec<String> {
        let path = self.path(id);
        let mut names = Vec::with_capacity(path.ids.len() + 1);
        for (k, p) in path.ids.iter().enumerate() {
            if k == 1 && path.omitted > 0 {
                names.push(format!("… {} more …", path.omitted));
            }
            names.push(self.package(*p).name.clone());
        }
        names
    }

    /// True once [`DepGraph::finalize`] ran.
    pub fn is_finalized(&self) -> bool {
        self.finalized
    }

    /// The direct dependencies with the kind of edge that makes them direct.
    /// With roots: the targets of root edges. Without roots: packages the
    /// parser marked direct, or else packages no other package depends on.
    fn start_nodes(&self) -> Vec<(PackageId, DepKind)> {
        let mut starts = Vec::new();
        if !self.roots.is_empty() {
            for r in &self.roots {
                for &(to, kind) in &self.edges[r.index()] {
                    starts.push((to, kind));
                }
            }
            // Packages the parser marked direct although no root edge leads
            // to them (e.g. unresolved manifest entries).
            for (i, p) in self.packages.iter().enumerate() {
                if p.direct && !p.root && !starts.iter().any(|(s, _)| s.index() == i) {
                    let kind = if p.dev { DepKind::Dev } else { DepKind::Normal };
                    starts.push((PackageId(i as u32), kind));
                }
            }
            return starts;
        }
        let marked: Vec<_> = self
            .packages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.direct)
            .map(|(i, p)| {
                let kind = if p.dev { DepKind::Dev } else { DepKind::Normal };
                (PackageId(i as u32), kind)
            })
            .collect();
        if !marked.is_empty() {
            return marked;
        }
        let mut has_parent = vec![false; self.packages.len()];
        for list in &self.edges {
            for (to, _) in list {
                has_parent[to.index()] = true;
            }
        }
        let mut starts: Vec<_> = has_parent
            .iter()
            .enumerate()
            .filter(|(_, h)| !**h)
            .map(|(i, _)| {
                let kind = if self.packages[i].dev {
                    DepKind::Dev
                } else {
                    DepKind::Normal
                };
                (PackageId(i as u32), kind)
            })
            .collect();
        if starts.is_empty() && !self.packages.is_empty() {
            // Every package sits on a cycle: treat all as direct.
            starts = (0..self.packages.len())
                .map(|i| (PackageId(i as u32), DepKind::Normal))
                .collect();
        }
        starts
    }

    fn reachable(
        &self,
        starts: &[(PackageId, DepKind)],
        follow: impl Fn(DepKind) -> bool,
    ) -> Vec<bool> {
        let mut seen = vec![false; self.packages.len()];
        let mut queue = VecDeque::new();
        for &(id, kind) in starts {
            let declared_dev = self.packages[id.index()].dev && self.roots.is_empty();
            if follow(kind) && !declared_dev && !seen[id.index()] {
                seen[id.index()] = true;
                queue.push_back(id);
            }
        }
        while let Some(cur) = queue.pop_front() {
            for &(next, kind) in &self.edges[cur.index()] {
                if follow(kind) && !seen[next.index()] {
                    seen[next.index()] = true;
                    queue.push_back(next);
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str) -> Package {
        Package::new(Ecosystem::Npm, name, Some("1.0.0".into()))
    }

    #[test]
    fn dev_only_when_every_path_is_dev() {
        let mut g = DepGraph::new();
        let root = g.add_root(pkg("app"));
        let a = g.add_package(pkg("a"));
        let t = g.add_package(pkg("testlib"));
        let shared = g.add_package(pkg("shared"));
        let devonly = g.add_package(pkg("devonly"));
        g.add_edge(root, a, DepKind::Normal);
        g.add_edge(root, t, DepKind::Dev);
        g.add_edge(t, shared, DepKind::Normal);
        g.add_edge(a, shared, DepKind::Normal);
        g.add_edge(t, devonly, DepKind::Normal);
        g.finalize(FlagMode::FromEdges);
        assert!(!g.package(a).dev);
        assert!(g.package(t).dev);
        assert!(!g.package(shared).dev, "reachable through a prod path");
        assert!(g.package(devonly).dev);
        assert!(g.package(a).direct && g.package(t).direct);
        assert!(!g.package(shared).direct);
    }

    #[test]
    fn optional_only_when_no_required_path() {
        let mut g = DepGraph::new();
        let root = g.add_root(pkg("app"));
        let o = g.add_package(pkg("opt"));
        let x = g.add_package(pkg("x"));
        g.add_edge(root, o, DepKind::Optional);
        g.add_edge(o, x, DepKind::Normal);
        g.finalize(FlagMode::FromEdges);
        assert!(g.package(o).optional && g.package(x).optional);
        assert!(!g.package(o).dev);
    }

    #[test]
    fn shortest_path_prefers_prod_route() {
        let mut g = DepGraph::new();
        let root = g.add_root(pkg("app"));
        let a = g.add_package(pkg("a"));
        let b = g.add_package(pkg("b"));
        let c = g.add_package(pkg("c"));
        g.add_edge(root, a, DepKind::Normal);
        g.add_edge(a, b, DepKind::Normal);
        g.add_edge(b, c, DepKind::Normal);
        g.add_edge(root, c, DepKind::Dev);
        g.finalize(FlagMode::FromEdges);
        assert_eq!(g.path_names(c), vec!["c"]);
        assert_eq!(g.path_names(b), vec!["a", "b"]);
    }

    #[test]
    fn rootless_graph_uses_packages_without_parents() {
        let mut g = DepGraph::new();
        let a = g.add_package(pkg("a"));
        let b = g.add_package(pkg("b"));
        g.add_edge(a, b, DepKind::Normal);
        g.finalize(FlagMode::FromEdges);
        assert!(g.package(a).direct);
        assert!(!g.package(b).direct);
        assert_eq!(g.path(b).ids, vec![a, b]);
    }

    #[test]
    fn cycles_terminate() {
        let mut g = DepGraph::new();
        let a = g.add_package(pkg("a"));
        let b = g.add_package(pkg("b"));
        g.add_edge(a, b, DepKind::Normal);
        g.add_edge(b, a, DepKind::Normal);
        g.finalize(FlagMode::FromEdges);
        // With no roots and no package free of parents, all are direct.
        assert!(g.package(a).direct && g.package(b).direct);
        assert_eq!(g.path(b).ids, vec![b]);
    }

    #[test]
    fn long_paths_are_listed_in_part_without_walking_the_chain() {
        let n = 50_000; // root -> p0 -> ... -> p49999
        let mut g = DepGraph::new();
        let root = g.add_root(pkg("app"));
        let ids: Vec<_> = (0..n)
            .map(|i| g.add_package(pkg(&format!("p{i}"))))
            .collect();
        g.add_edge(root, ids[0], DepKind::Normal);
        for w in ids.windows(2) {
            g.add_edge(w[0], w[1], DepKind::Normal);
        }
        g.finalize(FlagMode::FromEdges);
        for (k, &id) in ids.iter().enumerate() {
            let p = g.path(id);
            assert!(p.ids.len() <= MAX_PATH_LEN);
            assert_eq!(p.ids.len() + p.omitted, k + 1, "{k}");
            assert_eq!(p.ids[0], ids[0]);
            assert_eq!(*p.ids.last().unwrap(), id);
        }
        let names = g.path_names(ids[n - 1]);
        assert_eq!(names.len(), MAX_PATH_LEN + 1);
        assert_eq!(names[0], "p0");
        assert_eq!(names[1], format!("… {} more …", n - MAX_PATH_LEN));
        assert_eq!(names[2], format!("p{}", n - MAX_PATH_LEN + 1));
        assert_eq!(names[MAX_PATH_LEN], format!("p{}", n - 1));
        assert_eq!(g.path_names(ids[MAX_PATH_LEN - 1]).len(), MAX_PATH_LEN);
    }
}
