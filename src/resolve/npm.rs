//! npm resolution as npm 7+ builds its ideal tree (`npm install
//! --package-lock-only`): nodes are processed by depth then path; each
//! dependency that does not resolve (Node's lookup: own `node_modules`,
//! then each parent's) to a satisfying version gets the version
//! [`npm_pick::pick`] chooses, placed as high in the tree as it can go
//! without shadowing what a package below already uses (kept when an
//! existing copy satisfies, replacing one whose dependents all accept the
//! newer version, nested otherwise). Peer dependencies are installed
//! beside their dependent; optional dependencies that cannot be had are
//! skipped; platform-specific packages are kept with `not_on_target`
//! (npm records them in the lockfile too); bundled dependencies come with
//! their tarball; `overrides` replace specs in the subtrees they name.

use super::docs::Docs;
use super::npm_pick::{self, Rule, Spec, Want};
use super::tree::{Chosen, Tree, Unresolved};
use crate::graph::DepKind;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// What to resolve: the root `package.json`.
#[derive(Debug, Clone, Default)]
pub struct NpmInput {
    /// `dependencies`.
    pub deps: BTreeMap<String, String>,
    /// `devDependencies`.
    pub dev: BTreeMap<String, String>,
    /// `optionalDependencies`.
    pub optional: BTreeMap<String, String>,
    /// `peerDependencies`.
    pub peer: BTreeMap<String, String>,
    /// Peers `peerDependenciesMeta` marks optional.
    pub peer_optional: Vec<String>,
    /// `overrides`.
    pub overrides: Vec<Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeType {
    Prod,
    Dev,
    Optional,
    Peer,
    PeerOptional,
}

#[derive(Debug, Clone)]
struct Edge {
    name: String,
    spec: String,
    ty: EdgeType,
}

#[derive(Debug, Clone)]
struct Node {
    /// The name it is installed under (an alias for `npm:` specs).
    name: String,
    /// The real package.
    package: String,
    version: String,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    edges: Vec<Edge>,
    depth: u32,
    path: String,
    /// Rules that apply to this node's dependencies, innermost first.
    rules: Rc<Vec<Rule>>,
    not_on_target: Option<String>,
    removed: bool,
}

struct Builder<'d, 'a> {
    docs: &'d Docs<'a>,
    target: crate::parse::Target,
    nodes: Vec<Node>,
    unresolved: BTreeMap<String, Unresolved>,
}

enum Place {
    Ok(usize),
    Keep,
    Replace(usize, usize),
    Conflict,
}

impl Builder<'_, '_> {
    fn ancestry(&self, from: usize) -> Vec<usize> {
        let mut out = vec![from];
        let mut cur = from;
        while let Some(p) = self.nodes[cur].parent {
            out.push(p);
            cur = p;
        }
        out
    }

    /// Node's module lookup for `name` from `from`.
    fn resolve(&self, from: usize, name: &str) -> Option<usize> {
        self.ancestry(from)
            .into_iter()
            .find_map(|n| self.nodes[n].children.get(name).copied())
    }

    /// The spec an edge of `from` asks for, overrides applied.
    fn effective_spec(&self, from: usize, edge: &Edge) -> String {
        if from == 0 {
            return edge.spec.clone();
        }
        self.nodes[from]
            .rules
            .iter()
            .find(|r| r.matches_edge(&edge.name, &edge.spec))
            .and_then(|r| r.value.clone())
            .unwrap_or_else(|| edge.spec.clone())
    }

    fn satisfied_by(&self, from: usize, edge: &Edge, node: usize) -> bool {
        let spec = self.effective_spec(from, edge);
        let n = &self.nodes[node];
        match npm_pick::spec(&edge.name, &spec) {
            Spec::Registry { name, want } => {
                name == n.package
                    && match want {
                        Want::Range(r) => npm_pick::satisfies(&n.version, &r),
                        Want::Tag(_) => true,
                    }
            }
            Spec::Other(_) => true,
        }
    }

    fn valid(&self, from: usize, edge: &Edge) -> bool {
        match self.resolve(from, &edge.name) {
            Some(to) => self.satisfied_by(from, edge, to),
            None => matches!(edge.ty, EdgeType::PeerOptional),
        }
    }

    /// Every live node with an edge that resolves to `node`.
    fn dependents(&self, node: usize) -> Vec<(usize, Edge)> {
        let name = &self.nodes[node].name;
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.removed {
                continue;
            }
            for e in &n.edges {
                if &e.name == name && self.resolve(i, name) == Some(node) {
                    out.push((i, e.clone()));
                }
            }
        }
        out
    }

    fn is_descendant(&self, node: usize, of: usize) -> bool {
        self.ancestry(node).contains(&of)
    }

    fn can_place(
        &self,
        target: usize,
        from: usize,
        edge: &Edge,
        package: &str,
        version: &str,
    ) -> Place {
        let fits = |e: &Edge, by: usize| {
            let spec = self.effective_spec(by, e);
            match npm_pick::spec(&e.name, &spec) {
                Spec::Registry {
                    name,
                    want: Want::Range(r),
                } => name == package && npm_pick::satisfies(version, &r),
                _ => true,
            }
        };
        if target != from
            && let Some(te) = self.nodes[target]
                .edges
                .iter()
                .find(|e| e.name == edge.name)
            && !fits(te, target)
        {
            return Place::Conflict;
        }
        if let Some(&cur) = self.nodes[target].children.get(&edge.name) {
            let c = &self.nodes[cur];
            if c.package == package && c.version == version {
                return Place::Keep;
            }
            let newer = match (
                nodejs_semver::Version::parse(version),
                nodejs_semver::Version::parse(&c.version),
            ) {
                (Ok(a), Ok(b)) => a >= b,
                _ => false,
            };
            if newer && self.dependents(cur).iter().all(|(by, e)| fits(e, *by)) {
                return Place::Replace(target, cur);
            }
            if self.satisfied_by(from, edge, cur) {
                return Place::Keep;
            }
            if target == from && !matches!(edge.ty, EdgeType::Peer | EdgeType::PeerOptional) {
                return Place::Replace(target, cur);
            }
            return Place::Conflict;
        }
        if let Some(cur) = self.nodes[target]
            .parent
            .and_then(|p| self.resolve(p, &edge.name))
        {
            for (by, e) in self.dependents(cur) {
                if self.is_descendant(by, target) && !fits(&e, by) {
                    return Place::Conflict;
                }
            }
        }
        Place::Ok(target)
    }

    fn remove(&mut self, node: usize) {
        let children: Vec<usize> = self.nodes[node].children.values().copied().collect();
        for c in children {
            self.remove(c);
        }
        self.nodes[node].removed = true;
        if let Some(p) = self.nodes[node].parent {
            let name = self.nodes[node].name.clone();
            if self.nodes[p].children.get(&name) == Some(&node) {
                self.nodes[p].children.remove(&name);
            }
        }
    }

    /// Chooses and places the package an edge of `from` needs; returns
    /// the nodes added.
    fn place_edge(&mut self, from: usize, start: usize, edge: &Edge) -> Vec<usize> {
        let spec = self.effective_spec(from, edge);
        let optional = matches!(edge.ty, EdgeType::Optional | EdgeType::PeerOptional);
        let (package, want) = match npm_pick::spec(&edge.name, &spec) {
            Spec::Registry { name, want } => (name, want),
            Spec::Other(s) => {
                if from == 0 {
                    self.unresolved
                        .entry(edge.name.clone())
                        .or_insert(Unresolved {
                            name: edge.name.clone(),
                            requirement: Some(s),
                            reason: "not a registry package (git, URL or local path)".into(),
                        });
                }
                return Vec::new();
            }
        };
        let Some(doc) = self.docs.npm(&package) else {
            if !optional {
                let why = if self.docs.is_absent(super::store::DocKind::Npm, &package) {
                    "not on the registry"
                } else {
                    "registry metadata missing"
                };
                self.unresolved
                    .entry(package.clone())
                    .or_insert(Unresolved {
                        name: package.clone(),
                        requirement: Some(spec.clone()),
                        reason: why.into(),
                    });
            }
            return Vec::new();
        };
        let Some(v) = npm_pick::pick(&doc, &want) else {
            if !optional {
                self.unresolved
                    .entry(package.clone())
                    .or_insert(Unresolved {
                        name: package.clone(),
                        requirement: Some(spec.clone()),
                        reason: "no version satisfies the range at the cutoff".into(),
                    });
            }
            return Vec::new();
        };
        let v = v.clone();
        let mut chosen = None;
        for target in self.ancestry(start) {
            if target != 0
                && target != from
                && self.nodes[target].edges.iter().any(|e| {
                    e.name == edge.name && matches!(e.ty, EdgeType::Peer | EdgeType::PeerOptional)
                })
            {
                continue;
            }
            match self.can_place(target, from, edge, &package, &v.version) {
                Place::Conflict => break,
                Place::Keep => {
                    chosen = None;
                    break;
                }
                Place::Replace(t, old) => {
                    chosen = Some((t, Some(old)));
                    break;
                }
                Place::Ok(t) => chosen = Some((t, None)),
            }
        }
        let Some((target, old)) = chosen else {
            return Vec::new();
        };
        if let Some(old) = old {
            self.remove(old);
        }
        let parent_rules = self.nodes[from].rules.clone();
        let rules = match parent_rules
            .iter()
            .find(|r| r.matches_node(&package, &v.version))
        {
            Some(r) if !r.children.is_empty() => {
                let mut list = r.children.clone();
                list.extend(parent_rules.iter().cloned());
                Rc::new(list)
            }
            _ => parent_rules,
        };
        let mut edges = Vec::new();
        let push = |edges: &mut Vec<Edge>, m: &BTreeMap<String, String>, ty: EdgeType| {
            for (n, s) in m {
                edges.retain(|e: &Edge| &e.name != n);
                edges.push(Edge {
                    name: n.clone(),
                    spec: s.clone(),
                    ty,
                });
            }
        };
        let (peer, peer_opt): (BTreeMap<_, _>, BTreeMap<_, _>) = v
            .peer
            .clone()
            .into_iter()
            .partition(|(n, _)| !v.peer_optional.contains(n));
        push(&mut edges, &peer, EdgeType::Peer);
        push(&mut edges, &peer_opt, EdgeType::PeerOptional);
        push(&mut edges, &v.deps, EdgeType::Prod);
        push(&mut edges, &v.optional, EdgeType::Optional);
        edges.retain(|e| !v.bundled.contains(&e.name));
        let depth = self.nodes[target].depth + 1;
        let path = format!("{}/node_modules/{}", self.nodes[target].path, edge.name);
        let id = self.nodes.len();
        self.nodes.push(Node {
            name: edge.name.clone(),
            package: package.clone(),
            version: v.version.clone(),
            parent: Some(target),
            children: BTreeMap::new(),
            edges,
            depth,
            path,
            rules,
            not_on_target: crate::parsers::npm::platform::excluded(
                &self.target,
                &v.os,
                &v.cpu,
                &v.libc,
            ),
            removed: false,
        });
        self.nodes[target].children.insert(edge.name.clone(), id);
        let mut added = vec![id];
        // The peer set: peers go beside the package that needs them.
        let peers: Vec<Edge> = self.nodes[id]
            .edges
            .iter()
            .filter(|e| e.ty == EdgeType::Peer)
            .cloned()
            .collect();
        for pe in peers {
            if !self.valid(id, &pe) {
                added.extend(self.place_edge(id, target, &pe));
            }
        }
        added
    }

    fn build(&mut self) {
        let mut queue = vec![0usize];
        let mut rounds = 0;
        loop {
            while !queue.is_empty() {
                queue.sort_by(|a, b| {
                    let (x, y) = (&self.nodes[*a], &self.nodes[*b]);
                    x.depth.cmp(&y.depth).then_with(|| x.path.cmp(&y.path))
                });
                let node = queue.remove(0);
                if self.nodes[node].removed {
                    continue;
                }
                let mut problems: Vec<Edge> = self.nodes[node]
                    .edges
                    .iter()
                    .filter(|e| !self.valid(node, e))
                    .cloned()
                    .collect();
                problems.sort_by(|a, b| a.name.cmp(&b.name));
                for e in problems {
                    if self.nodes[node].removed || self.valid(node, &e) {
                        continue;
                    }
                    let added = self.place_edge(node, node, &e);
                    queue.extend(added);
                }
            }
            // Replacements can leave dependents unsatisfied: look again.
            rounds += 1;
            let stale: Vec<usize> = (0..self.nodes.len())
                .filter(|&i| !self.nodes[i].removed)
                .filter(|&i| {
                    self.nodes[i]
                        .edges
                        .iter()
                        .any(|e| !self.valid(i, e) && !(self.nodes[i].edges.is_empty()))
                })
                .collect();
            if stale.is_empty() || rounds > 8 {
                break;
            }
            queue = stale;
        }
    }
}

/// Resolves a `package.json` without a lockfile.
pub fn resolve(input: &NpmInput, docs: &Docs<'_>, target: &crate::parse::Target) -> Tree {
    let mut edges = Vec::new();
    let (peer, peer_opt): (BTreeMap<_, _>, BTreeMap<_, _>) = input
        .peer
        .clone()
        .into_iter()
        .partition(|(n, _)| !input.peer_optional.contains(n));
    for (m, ty) in [
        (&peer, EdgeType::Peer),
        (&peer_opt, EdgeType::PeerOptional),
        (&input.deps, EdgeType::Prod),
        (&input.optional, EdgeType::Optional),
        (&input.dev, EdgeType::Dev),
    ] {
        for (n, s) in m {
            edges.retain(|e: &Edge| &e.name != n);
            edges.push(Edge {
                name: n.clone(),
                spec: s.clone(),
                ty,
            });
        }
    }
    let mut b = Builder {
        docs,
        target: *target,
        nodes: vec![Node {
            name: String::new(),
            package: String::new(),
            version: String::new(),
            parent: None,
            children: BTreeMap::new(),
            edges,
            depth: 0,
            path: String::new(),
            rules: Rc::new(input.overrides.clone()),
            not_on_target: None,
            removed: false,
        }],
        unresolved: BTreeMap::new(),
    };
    b.build();
    let mut tree = Tree::default();
    let mut index = HashMap::new();
    let mut ids: HashMap<usize, usize> = HashMap::new();
    for (i, n) in b.nodes.iter().enumerate().skip(1) {
        if n.removed {
            continue;
        }
        let t = tree.add(
            Chosen {
                name: n.package.clone(),
                version: n.version.clone(),
                not_on_target: n.not_on_target.clone(),
            },
            &mut index,
        );
        ids.insert(i, t);
    }
    for (i, n) in b.nodes.iter().enumerate() {
        if n.removed {
            continue;
        }
        for e in &n.edges {
            let Some(to) = b.resolve(i, &e.name).and_then(|t| ids.get(&t)) else {
                continue;
            };
            let kind = match e.ty {
                EdgeType::Prod => DepKind::Normal,
                EdgeType::Dev => DepKind::Dev,
                EdgeType::Optional => DepKind::Optional,
                EdgeType::Peer | EdgeType::PeerOptional => DepKind::Peer,
            };
            match ids.get(&i) {
                Some(from) => tree.edges.push((*from, *to, kind)),
                None => tree.direct.push((*to, kind)),
            }
        }
    }
    tree.unresolved = b.unresolved.into_values().collect();
    tree
}
