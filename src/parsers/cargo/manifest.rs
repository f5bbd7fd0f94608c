//! `Cargo.toml`: the dependencies a crate declares (`[dependencies]`,
//! `[dev-dependencies]`, `[build-dependencies]`, their `[target.*]`
//! variants), workspace members and `[workspace.dependencies]` inheritance.
//!
//! Used two ways: beside a `Cargo.lock`, to tell which locked packages are
//! workspace members and which of their dependencies are dev or build
//! dependencies; and alone (no lockfile), as a source whose direct
//! dependencies are listed unresolved.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::fs::{Fs, normalize};
use crate::graph::{DepGraph, DepKind, Package, PackageSource};
use crate::parse::{ParseContext, ParseError, ParsedSource};

/// Upper bound on workspace members followed, against hostile globs.
const MAX_MEMBERS: usize = 10_000;

/// One dependency as a manifest declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredDep {
    /// The key in the dependency table (the name the crate uses).
    pub key: String,
    /// The real package name (`package = "..."` renames the key).
    pub name: String,
    /// The version requirement as written, if any.
    pub requirement: Option<String>,
    /// Normal, Dev or Build.
    pub kind: DepKind,
    /// `optional = true`.
    pub optional: bool,
    /// Where it comes from: path, git, an alternative registry, or the
    /// default registry (`Registry { url: None }`).
    pub source: PackageSource,
    /// The `[target.'cfg(..)']` the dependency is restricted to, if any.
    pub target: Option<String>,
}

/// A parsed `Cargo.toml`.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// The manifest file.
    pub path: PathBuf,
    /// `[package] name`, when the manifest declares a package.
    pub name: Option<String>,
    /// `[package] version` (inherited from `[workspace.package]` when
    /// `version.workspace = true`); Cargo's default `0.0.0` when absent.
    pub version: Option<String>,
    /// Declared dependencies of the package.
    pub deps: Vec<DeclaredDep>,
    /// `[workspace]`, when present.
    pub workspace: Option<WorkspaceDecl>,
}

/// The `[workspace]` table of a root manifest.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceDecl {
    /// `members` (glob patterns relative to the workspace root).
    pub members: Vec<String>,
    /// `exclude`.
    pub exclude: Vec<String>,
    /// `[workspace.dependencies]`, inherited by `workspace = true`.
    pub dependencies: Vec<DeclaredDep>,
    /// `[workspace.package] version`.
    pub version: Option<String>,
}

impl Manifest {
    /// The directory holding the manifest.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// Parses one manifest's text. `inherit` is the workspace declaration that
/// `workspace = true` entries refer to (for the root manifest itself, its
/// own `[workspace]` is used).
pub fn parse_manifest(
    path: &Path,
    text: &str,
    inherit: Option<&WorkspaceDecl>,
) -> Result<Manifest, ParseError> {
    crate::toml_guard::check(text).map_err(|e| ParseError::limit(path, e.to_string()))?;
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        ParseError::syntax(
            path,
            format!("invalid TOML: {}", crate::redact::toml_error(&e, text)),
        )
    })?;
    let workspace = match table.get("workspace") {
        Some(Value::Table(ws)) => Some(parse_workspace(path, ws)?),
        Some(_) => return Err(ParseError::invalid(path, "`workspace` is not a table")),
        None => None,
    };
    let inherit = workspace.as_ref().or(inherit);
    let mut manifest = Manifest {
        path: path.to_path_buf(),
        ..Default::default()
    };
    if let Some(pkg) = table.get("package").or_else(|| table.get("project")) {
        let pkg = pkg
            .as_table()
            .ok_or_else(|| ParseError::invalid(path, "`package` is not a table"))?;
        let name = pkg
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| ParseError::invalid(path, "`package.name` is missing"))?;
        manifest.name = Some(name.to_string());
        manifest.version = match pkg.get("version") {
            Some(Value::String(v)) => Some(v.clone()),
            Some(Value::Table(t)) if t.get("workspace").and_then(Value::as_bool) == Some(true) => {
                inherit.and_then(|w| w.version.clone())
            }
            _ => Some("0.0.0".to_string()),
        };
    }
    manifest.deps = dependency_tables(path, &table, None, inherit)?;
    if let Some(targets) = table.get("target").and_then(Value::as_table) {
        for (cfg, t) in targets {
            if let Some(t) = t.as_table() {
                manifest
                    .deps
                    .extend(dependency_tables(path, t, Some(cfg), inherit)?);
            }
        }
    }
    manifest.workspace = workspace;
    Ok(manifest)
}

fn parse_workspace(path: &Path, ws: &Table) -> Result<WorkspaceDecl, ParseError> {
    let strings = |key: &str| -> Vec<String> {
        ws.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut decl = WorkspaceDecl {
        members: strings("members"),
        exclude: strings("exclude"),
        ..Default::default()
    };
    if let Some(deps) = ws.get("dependencies").and_then(Value::as_table) {
        decl.dependencies = deps_from_table(path, deps, DepKind::Normal, None, None)?;
    }
    decl.version = ws
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(decl)
}

/// The three dependency tables (with their legacy underscore spellings) of
/// `table` (the manifest root or one `[target.X]` table).
fn dependency_tables(
    path: &Path,
    table: &Table,
    target: Option<&str>,
    inherit: Option<&WorkspaceDecl>,
) -> Result<Vec<DeclaredDep>, ParseError> {
    let mut out = Vec::new();
    for (key, kind) in [
        ("dependencies", DepKind::Normal),
        ("dev-dependencies", DepKind::Dev),
        ("dev_dependencies", DepKind::Dev),
        ("build-dependencies", DepKind::Build),
        ("build_dependencies", DepKind::Build),
    ] {
        match table.get(key) {
            Some(Value::Table(deps)) => {
                out.extend(deps_from_table(path, deps, kind, target, inherit)?);
            }
            Some(_) => {
                return Err(ParseError::invalid(path, format!("`{key}` is not a table")));
            }
            None => {}
        }
    }
    Ok(out)
}

fn deps_from_table(
    path: &Path,
    deps: &Table,
    kind: DepKind,
    target: Option<&str>,
    inherit: Option<&WorkspaceDecl>,
) -> Result<Vec<DeclaredDep>, ParseError> {
    let mut out = Vec::new();
    for (key, spec) in deps {
        let mut dep = DeclaredDep {
            key: key.clone(),
            name: key.clone(),
            requirement: None,
            kind,
            optional: false,
            source: PackageSource::Registry { url: None },
            target: target.map(str::to_string),
        };
        match spec {
            Value::String(req) => dep.requirement = Some(req.clone()),
            Value::Table(t) => {
                if t.get("workspace").and_then(Value::as_bool) == Some(true)
                    && let Some(base) =
                        inherit.and_then(|w| w.dependencies.iter().find(|d| d.key == *key))
                {
                    dep.name = base.name.clone();
                    dep.requirement = base.requirement.clone();
                    dep.source = base.source.clone();
                    dep.optional = base.optional;
                }
                apply_detail(&mut dep, t);
            }
            _ => {
                return Err(ParseError::invalid(
                    path,
                    format!("dependency `{key}` is neither a version string nor a table"),
                ));
            }
        }
        out.push(dep);
    }
    Ok(out)
}

fn apply_detail(dep: &mut DeclaredDep, t: &Table) {
    let s = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(name) = s("package") {
        dep.name = name;
    }
    if let Some(v) = s("version") {
        dep.requirement = Some(v);
    }
    if let Some(o) = t.get("optional").and_then(Value::as_bool) {
        dep.optional = o;
    }
    if let Some(p) = s("path") {
        dep.source = PackageSource::Path { path: p };
    } else if let Some(g) = s("git") {
        let rev = s("rev").or_else(|| s("tag")).or_else(|| s("branch"));
        dep.source = PackageSource::Git {
            url: crate::ecosystem::redact_url(&g),
            rev,
        };
    } else if let Some(r) = s("registry") {
        dep.source = PackageSource::Registry {
            url: Some(format!("registry:{r}")),
        };
    } else if let Some(r) = s("registry-index") {
        dep.source = PackageSource::Registry {
            url: Some(crate::ecosystem::redact_url(&r)),
        };
    }
}

/// A workspace as found from its root manifest: every member manifest (the
/// root itself first when it declares a package), and problems met reading
/// members.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Member manifests.
    pub members: Vec<Manifest>,
    /// Problems reading members (a member that cannot be read or parsed).
    pub diagnostics: Vec<Diagnostic>,
}

impl Workspace {
    /// The member whose package is `name` (and `version`, when both known).
    pub fn member(&self, name: &str, version: Option<&str>) -> Option<&Manifest> {
        let by_name = |m: &&Manifest| m.name.as_deref() == Some(name);
        self.members
            .iter()
            .filter(by_name)
            .find(|m| version.is_none() || m.version.as_deref() == version)
            .or_else(|| self.members.iter().find(by_name))
    }
}

/// Reads the manifest at `path` and, when it declares `[workspace]`, its
/// members (glob patterns expanded, `exclude` honoured, path dependencies
/// inside the workspace added as Cargo does). A member that cannot be read
/// is a warning, not a failure; the root manifest itself must parse.
pub fn load_workspace(fs: &dyn Fs, path: &Path) -> Result<Workspace, ParseError> {
    let text = fs.read_to_string(path)?;
    let root = parse_manifest(path, &text, None)?;
    let root_dir = root.dir().to_path_buf();
    let mut ws = Workspace::default();
    let Some(decl) = root.workspace.clone() else {
        ws.members.push(root);
        return Ok(ws);
    };
    let excluded: Vec<PathBuf> = decl.exclude.iter().map(|e| root_dir.join(e)).collect();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    seen.insert(normalize(&root_dir));
    let mut queue: VecDeque<PathBuf> = VecDeque::new();
    for pattern in &decl.members {
        for dir in expand_glob(fs, &root_dir, pattern) {
            queue.push_back(dir);
        }
    }
    // Path dependencies of the root package are members too.
    let mut pending_paths: Vec<PathBuf> = path_deps(&root);
    if root.name.is_some() {
        ws.members.push(root);
    }
    loop {
        for p in pending_paths.drain(..) {
            // Compared once `..` is applied: `ws/../common` is not inside
            // `ws`.
            let p = normalize(&p);
            if p.starts_with(normalize(&root_dir)) && !p.starts_with("..") {
                queue.push_back(p);
            }
        }
        let Some(dir) = queue.pop_front() else { break };
        let dir = normalize(&dir);
        if seen.contains(&dir) || excluded.iter().any(|e| dir.starts_with(normalize(e))) {
            continue;
        }
        seen.insert(dir.clone());
        if ws.members.len() >= MAX_MEMBERS {
            ws.diagnostics.push(Diagnostic::new(
                Level::Warning,
                path,
                format!("more than {MAX_MEMBERS} workspace members; the rest are not read"),
            ));
            break;
        }
        let member_path = dir.join("Cargo.toml");
        if !fs.is_file(&member_path) {
            continue;
        }
        let parsed = fs
            .read_to_string(&member_path)
            .map_err(ParseError::from)
            .and_then(|t| parse_manifest(&member_path, &t, Some(&decl)));
        match parsed {
            Ok(m) if m.name.is_some() => {
                pending_paths = path_deps(&m);
                ws.members.push(m);
            }
            Ok(_) => {}
            Err(e) => ws.diagnostics.push(Diagnostic::new(
                Level::Warning,
                &member_path,
                format!("workspace member not read: {e}"),
            )),
        }
    }
    Ok(ws)
}

/// Directories of the path dependencies of a manifest.
fn path_deps(m: &Manifest) -> Vec<PathBuf> {
    m.deps
        .iter()
        .filter_map(|d| match &d.source {
            PackageSource::Path { path } => Some(m.dir().join(path)),
            _ => None,
        })
        .collect()
}

/// Expands a workspace member pattern (`crates/*`, `tools/?x`, plain
/// paths) against the directories that exist.
fn expand_glob(fs: &dyn Fs, base: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut current = vec![base.to_path_buf()];
    for part in pattern.split('/').filter(|p| !p.is_empty() && *p != ".") {
        let mut next = Vec::new();
        for dir in &current {
            if part.contains(['*', '?', '[']) {
                let Ok(entries) = fs.read_dir(dir) else {
                    continue;
                };
                let mut names: Vec<_> = entries
                    .into_iter()
                    .filter(|e| glob_match(part, &e.name) && fs.is_dir(&e.path))
                    .map(|e| e.path)
                    .collect();
                names.sort();
                next.extend(names);
            } else {
                next.push(dir.join(part));
            }
            if next.len() > MAX_MEMBERS {
                break;
            }
        }
        current = next;
    }
    current
}

/// Matches one path component against a pattern with `*` and `?` (a `[..]`
/// class is treated as matching any one character).
fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some('?') => {
                pi += 1;
                ni += 1;
            }
            Some('[') => {
                let close = p[pi..].iter().position(|c| *c == ']');
                pi += close.map_or(1, |c| c + 1);
                ni += 1;
            }
            Some(c) if *c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|c| *c == '*')
}

/// Parses a `Cargo.toml` with no `Cargo.lock` beside it: the workspace
/// members are the roots and their declared dependencies are listed
/// unresolved (no version, the requirement kept).
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let ws = load_workspace(ctx.fs, ctx.path())?;
    let mut graph = DepGraph::new();
    let mut diagnostics = ws.diagnostics;
    let base = ctx.source.dir();
    let mut member_ids = Vec::new();
    for m in &ws.members {
        let mut pkg = Package::new(
            Ecosystem::CratesIo,
            m.name.clone().unwrap_or_default(),
            m.version.clone(),
        );
        pkg.source = PackageSource::Path {
            path: super::relative_dir(base, m.dir()),
        };
        member_ids.push(graph.add_root(pkg));
    }
    let mut unresolved: Vec<((String, Option<String>, PackageSource), _)> = Vec::new();
    for (m, &root) in ws.members.iter().zip(&member_ids) {
        for d in &m.deps {
            // A path dependency on another member is an edge between roots.
            if let PackageSource::Path { path } = &d.source {
                let dir = normalize(&m.dir().join(path));
                if let Some(pos) = ws.members.iter().position(|o| normalize(o.dir()) == dir) {
                    graph.add_edge(root, member_ids[pos], edge_kind(d));
                    continue;
                }
            }
            let key = (d.name.clone(), d.requirement.clone(), d.source.clone());
            let id = match unresolved.iter().find(|(k, _)| *k == key) {
                Some((_, id)) => *id,
                None => {
                    let mut pkg = Package::new(Ecosystem::CratesIo, d.name.clone(), None);
                    pkg.requirement = d.requirement.clone();
                    pkg.source = d.source.clone();
                    if let Some(t) = &d.target {
                        pkg.note("target", t.clone());
                    }
                    let id = graph.add_package(pkg);
                    unresolved.push((key, id));
                    id
                }
            };
            graph.add_edge(root, id, edge_kind(d));
        }
    }
    graph.finalize();
    super::assign_groups(&mut graph);
    diagnostics.push(Diagnostic::new(
        Level::Info,
        ctx.path(),
        "no Cargo.lock beside Cargo.toml: direct dependencies are listed unresolved \
         (no versions) and transitive dependencies are unknown",
    ));
    let mut parsed = ParsedSource::from_graph(graph);
    parsed.diagnostics = diagnostics;
    parsed.facts.no_lockfile = true;
    Ok(parsed)
}

/// The edge kind for a declared dependency.
pub fn edge_kind(d: &DeclaredDep) -> DepKind {
    match d.kind {
        DepKind::Normal if d.optional => DepKind::Optional,
        k => k,
    }
}

#[cfg(test)]
mod tests;
