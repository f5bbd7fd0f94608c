//! The dependency graph of one source (lockfile, manifest, installed tree or
//! binary): packages as nodes, dependency edges with their kind, the roots
//! (the project itself and its workspace members), and what follows from
//! them: which packages are direct, which are dev-only or optional-only, and
//! the shortest dependency path to each package.
//!
//! Paths are never materialised: a shortest-path tree (parent, depth and
//! direct dependency per package) gives at most [`MAX_PATH_LEN`] packages
//! of a path in `O(MAX_PATH_LEN)`, whatever the depth of the graph.

mod path;
pub use path::{DepPath, MAX_PATH_LEN};

use crate::ecosystem::Ecosystem;
use serde::Serialize;
use std::collections::VecDeque;

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
    /// True when no path from a production root reaches the package.
    /// Computed by [`DepGraph::finalize`]; parsers give their format's own
    /// flags to [`DepGraph::declare`] instead.
    pub dev: bool,
    /// True when every production path to the package is an optional one.
    /// Computed by [`DepGraph::finalize`].
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
    /// Why the package is not installed on the target platform (a Python
    /// marker false there, npm `os`/`cpu`/`libc` fields that exclude it, or
    /// only required by such packages); `None` when it is installed. It
    /// stays in the inventory, and its findings never close the gate.
    pub not_on_target: Option<String>,
    /// True when the package was predicted by resolving a manifest against
    /// registry metadata (`--resolve`), not read from a lockfile or an
    /// installed tree.
    pub resolved: bool,
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
            not_on_target: None,
            resolved: false,
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

/// The dependency graph of one source.
#[derive(Debug, Clone, Default)]
pub struct DepGraph {
    packages: Vec<Package>,
    edges: Vec<Vec<(PackageId, DepKind)>>,
    roots: Vec<PackageId>,
    /// Direct dependencies declared by the project itself when the project
    /// is not a node of the graph (the `.` importer of pnpm, the root entry
    /// of a package-lock, the `package.json` beside a yarn.lock).
    project: Vec<(PackageId, DepKind)>,
    /// What the format says about a package on its own (package-lock
    /// `dev: true`, poetry `category`, Pipfile.lock sections): an input of
    /// the dev rule for packages no declared root reaches.
    declared: Vec<Option<DepKind>>,
    /// Edges that are not followed on the target platform (their
    /// environment marker is false there).
    off_target_edges: std::collections::HashSet<(PackageId, PackageId)>,
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
        self.declared.push(None);
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

    /// Records that the project itself (which is not a node of the graph)
    /// depends on `to` with `kind`. A package may be declared several times
    /// (as a devDependency and as a dependency): every declaration counts.
    pub fn add_direct(&mut self, to: PackageId, kind: DepKind) {
        if self.packages.get(to.index()).is_some_and(|p| !p.root)
            && !self.project.contains(&(to, kind))
        {
            self.project.push((to, kind));
        }
    }

    /// Records what the format says about a package on its own: `Dev` for
    /// a package-lock `dev: true` or a poetry dev `category`, `Optional`
    /// for an optional-only one, `Normal` for a production one. This is an
    /// input of the dev rule (see [`DepGraph::finalize`]), never its answer.
    /// Declaring a package twice keeps the most production-like kind.
    pub fn declare(&mut self, id: PackageId, kind: DepKind) {
        if let Some(slot) = self.declared.get_mut(id.index()) {
            let rank = |k: DepKind| match k {
                DepKind::Dev => 0,
                DepKind::Optional | DepKind::Peer => 1,
                DepKind::Normal | DepKind::Build => 2,
            };
            if slot.is_none_or(|old| rank(kind) > rank(old)) {
                *slot = Some(kind);
            }
        }
    }

    /// Records that the edge `from -> to` is not followed on the target
    /// platform (a Python environment marker false there): a package only
    /// such edges lead to is `not_on_target`.
    pub fn mark_edge_off_target(&mut self, from: PackageId, to: PackageId) {
        self.off_target_edges.insert((from, to));
    }

    /// What the format declared about a package (see [`DepGraph::declare`]).
    pub fn declared(&self, id: PackageId) -> Option<DepKind> {
        self.declared.get(id.index()).copied().flatten()
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

    /// The project's own direct declarations (see [`DepGraph::add_direct`]).
    pub fn project_dependencies(&self) -> &[(PackageId, DepKind)] {
        &self.project
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

    /// Computes the derived facts once all packages and edges are in, the
    /// same way for every format:
    /// - `direct`: a dependency of a root or of the project (when the graph
    ///   knows neither, a package the parser marked direct, else one that
    ///   nothing depends on);
    /// - `dev` and `optional` by [the dev rule](DepGraph::flags): a package
    ///   is dev-only when no path from a production root reaches it;
    /// - `not_on_target` for packages reached only through packages that
    ///   are not installed on the target platform;
    /// - the shortest-path tree used by [`DepGraph::path`].
    pub fn finalize(&mut self) {
        let n = self.packages.len();
        let starts = self.start_nodes();
        for &(id, _) in &starts {
            if !self.packages[id.index()].root {
                self.packages[id.index()].direct = true;
            }
        }
        self.flags();
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

    /// The dev rule, one for every format. The production roots are the
    /// non-dev dependencies of the roots and of the project. A package that
    /// no root or project declaration reaches starts a path of its own, of
    /// the kind its format declared for it; one the format said nothing
    /// about follows from the unreached packages above it (production at
    /// the top of such an island). Then:
    /// - `dev` iff no path from a production root reaches the package
    ///   without crossing a dev edge;
    /// - `optional` iff it is not dev and every production path crosses an
    ///   optional or peer edge.
    ///
    /// Lockfile flags are thus inputs to the roots, never the answer: a
    /// package that is a devDependency of the project and a dependency of
    /// a production package is production.
    fn flags(&mut self) {
        let n = self.packages.len();
        let mut starts: Vec<(PackageId, DepKind)> = Vec::new();
        for r in &self.roots {
            starts.extend(self.edges[r.index()].iter().copied());
        }
        starts.extend(self.project.iter().copied());
        // Packages the project does not reach: first those the format
        // declared something about, then the tops of what remains (nothing
        // depends on them), then whatever is left on cycles.
        let mut has_parent = vec![false; n];
        for list in &self.edges {
            for (to, _) in list {
                has_parent[to.index()] = true;
            }
        }
        for pass in 0..3 {
            let reached = self.reachable(&starts, |_| true);
            let before = starts.len();
            for (i, p) in self.packages.iter().enumerate() {
                if p.root || reached[i] {
                    continue;
                }
                let declared = self.declared[i];
                let take = match pass {
                    0 => declared.is_some(),
                    1 => !has_parent[i],
                    _ => true,
                };
                if take {
                    starts.push((PackageId(i as u32), declared.unwrap_or(DepKind::Normal)));
                }
            }
            if starts.len() == before && pass > 0 {
                break;
            }
        }
        let prod_starts: Vec<_> = starts
            .iter()
            .copied()
            .filter(|&(_, k)| k != DepKind::Dev)
            .collect();
        let prod = self.reachable(&prod_starts, |k| k != DepKind::Dev);
        let required_starts: Vec<_> = starts
            .iter()
            .copied()
            .filter(|&(_, k)| matches!(k, DepKind::Normal | DepKind::Build))
            .collect();
        let required = self.reachable(&required_starts, |k| {
            matches!(k, DepKind::Normal | DepKind::Build)
        });
        // Not installed on the target: reached only through packages the
        // format marks as not installed there, or through edges whose
        // marker is false there.
        let on_target = self.reachable_avoiding(&starts, |id| {
            self.packages[id.index()].not_on_target.is_some()
        });
        for i in 0..n {
            let p = &mut self.packages[i];
            if p.root {
                continue;
            }
            p.dev = !prod[i];
            p.optional = prod[i] && !required[i];
            if p.not_on_target.is_none() && !on_target[i] {
                p.not_on_target = Some(
                    "only required through packages or markers that exclude the target".to_string(),
                );
            }
        }
    }

    /// True once [`DepGraph::finalize`] ran.
    pub fn is_finalized(&self) -> bool {
        self.finalized
    }

    /// The direct dependencies with the kind of edge that makes them direct.
    /// With roots or project declarations: their targets, and packages the
    /// parser marked direct. Without: packages the parser marked direct, or
    /// else packages no other package depends on.
    fn start_nodes(&self) -> Vec<(PackageId, DepKind)> {
        let declared_kind = |i: usize| self.declared[i].unwrap_or(DepKind::Normal);
        let mut starts: Vec<(PackageId, DepKind)> = self.project.clone();
        for r in &self.roots {
            starts.extend(self.edges[r.index()].iter().copied());
        }
        let marked: Vec<_> = self
            .packages
            .iter()
            .enumerate()
            .filter(|(i, p)| p.direct && !p.root && !starts.iter().any(|(s, _)| s.index() == *i))
            .map(|(i, _)| (PackageId(i as u32), declared_kind(i)))
            .collect();
        starts.extend(marked);
        if !starts.is_empty() || !self.roots.is_empty() {
            return starts;
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
            .map(|(i, _)| (PackageId(i as u32), declared_kind(i)))
            .collect();
        if starts.is_empty() && !self.packages.is_empty() {
            // Every package sits on a cycle: treat all as direct.
            starts = (0..self.packages.len())
                .map(|i| (PackageId(i as u32), declared_kind(i)))
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
            if follow(kind) && !seen[id.index()] {
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

    /// Packages reachable from `starts` (any edge kind) without entering a
    /// package for which `blocked` holds nor crossing an edge that is off
    /// the target.
    fn reachable_avoiding(
        &self,
        starts: &[(PackageId, DepKind)],
        blocked: impl Fn(PackageId) -> bool,
    ) -> Vec<bool> {
        let mut seen = vec![false; self.packages.len()];
        let mut queue = VecDeque::new();
        for &(id, _) in starts {
            if !blocked(id) && !seen[id.index()] {
                seen[id.index()] = true;
                queue.push_back(id);
            }
        }
        while let Some(cur) = queue.pop_front() {
            for &(next, _) in &self.edges[cur.index()] {
                if !blocked(next)
                    && !seen[next.index()]
                    && !self.off_target_edges.contains(&(cur, next))
                {
                    seen[next.index()] = true;
                    queue.push_back(next);
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests;
