//! `package-lock.json` and `npm-shrinkwrap.json`, lockfile versions 1, 2
//! and 3.
//!
//! v2 and v3 are read from `packages`, keyed by install location
//! (`node_modules/a/node_modules/b`, workspace folders such as
//! `packages/x`). v1 (or a v2 file without `packages`) is read from the
//! nested `dependencies` tree, turned into the same locations. Every
//! location becomes a package (aliases under their real name, `link: true`
//! entries followed to their target folder), and each declared dependency
//! is resolved as Node resolves it: the nearest `node_modules/<name>` up
//! the folder chain. The `dev`, `optional`, `devOptional` and
//! `inBundle`/`bundled` flags give the groups; they are inputs of the
//! graph's dev rule (for packages the project does not reach), while
//! `dev` itself follows from the project's declarations through the edges.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;

mod lines;

use super::json::{OrderedMap, Strings, ensure_text, json_error};
use super::manifest::{PackageJson, workspace_matches};
use super::{
    declared_flags, is_plain_version, name_from_location, npm_alias, platform, resolve_up,
    source_from,
};
use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::ecosystem::redact_url;
use crate::graph::{DepGraph, DepKind, Package, PackageId, PackageSource};
use crate::parse::{MissingDeps, ParseContext, ParseError, ParsedSource};
use crate::source::SourceFormat;
use lines::{key_lines, v1_lines};

type DepMap<'a> = OrderedMap<Cow<'a, str>, Cow<'a, str>>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLock<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
    #[serde(default)]
    lockfile_version: Option<u32>,
    #[serde(borrow, default)]
    packages: Option<OrderedMap<Cow<'a, str>, Entry<'a>>>,
    #[serde(borrow, default)]
    dependencies: Option<OrderedMap<Cow<'a, str>, V1Dep<'a>>>,
}

/// A v2/v3 `packages` entry.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    resolved: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    integrity: Option<Cow<'a, str>>,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dev_optional: bool,
    #[serde(default)]
    in_bundle: bool,
    #[serde(borrow, default)]
    dependencies: Option<DepMap<'a>>,
    #[serde(borrow, default)]
    optional_dependencies: Option<DepMap<'a>>,
    #[serde(borrow, default)]
    peer_dependencies: Option<DepMap<'a>>,
    #[serde(borrow, default)]
    dev_dependencies: Option<DepMap<'a>>,
    #[serde(default)]
    workspaces: Option<Workspaces>,
    #[serde(default)]
    os: Strings,
    #[serde(default)]
    cpu: Strings,
    #[serde(default)]
    libc: Strings,
}

/// The root entry's `workspaces`: an array, or `{ "packages": [...] }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Workspaces {
    List(Vec<String>),
    Object {
        #[serde(default)]
        packages: Vec<String>,
    },
}

/// A v1 `dependencies` entry (nested).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Dep<'a> {
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    resolved: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    integrity: Option<Cow<'a, str>>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    bundled: bool,
    #[serde(borrow, default)]
    requires: Option<DepMap<'a>>,
    #[serde(borrow, default)]
    dependencies: Option<OrderedMap<Cow<'a, str>, V1Dep<'a>>>,
}

/// Parses a package-lock or shrinkwrap file.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let path = ctx.path();
    let what = match ctx.source.format {
        SourceFormat::NpmShrinkwrap => "npm-shrinkwrap.json",
        _ => "package-lock.json",
    };
    // npm ignores package-lock.json when npm-shrinkwrap.json sits beside it.
    let is_package_lock = path.file_name().is_some_and(|n| n == "package-lock.json");
    if is_package_lock && super::shrinkwrap_wins(ctx.fs, ctx.source.dir()) {
        let mut parsed = ParsedSource::default();
        parsed.graph.finalize();
        parsed.diagnostics.push(Diagnostic::new(
            Level::Info,
            path,
            "npm-shrinkwrap.json sits beside it and takes precedence; package-lock.json not used",
        ));
        return Ok(parsed);
    }
    let bytes = ctx.fs.read(path)?;
    ensure_text(path, &bytes, what)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| ParseError::syntax(path, format!("not a valid {what}: not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: RawLock<'_> = serde_json::from_str(text).map_err(|e| json_error(path, what, &e))?;
    let mut diagnostics = Vec::new();
    let version = raw.lockfile_version;
    let mut graph = match &raw.packages {
        Some(packages) if version.unwrap_or(2) >= 2 || raw.dependencies.is_none() => {
            from_packages(ctx, text, &raw, packages, &[], &mut diagnostics)
        }
        _ => from_v1(ctx, text, &raw, &mut diagnostics),
    };
    graph.finalize();
    let mut parsed = ParsedSource::from_graph(graph);
    parsed.diagnostics = diagnostics;
    parsed.facts.format_version = version.map(|v| v.to_string());
    Ok(parsed)
}

/// Parses npm's hidden lockfile `node_modules/.package-lock.json` (the v3
/// `packages` format without the project entry); `root_deps` are the
/// dependencies the project's `package.json` declares, with their kinds.
pub fn parse_hidden(
    ctx: &ParseContext<'_>,
    hidden: &std::path::Path,
    root_deps: &[(String, DepKind)],
) -> Result<ParsedSource, ParseError> {
    let what = ".package-lock.json";
    let bytes = ctx.fs.read(hidden)?;
    ensure_text(hidden, &bytes, what)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| ParseError::syntax(hidden, format!("not a valid {what}: not UTF-8: {e}")))?;
    let raw: RawLock<'_> = serde_json::from_str(text).map_err(|e| json_error(hidden, what, &e))?;
    let mut diagnostics = Vec::new();
    let empty = OrderedMap::default();
    let packages = raw.packages.as_ref().unwrap_or(&empty);
    let mut graph = from_packages(ctx, text, &raw, packages, root_deps, &mut diagnostics);
    graph.finalize();
    let mut parsed = ParsedSource::from_graph(graph);
    parsed.diagnostics = diagnostics;
    parsed.facts.format_version = raw.lockfile_version.map(|v| v.to_string());
    Ok(parsed)
}

/// One location of the tree, whatever the lockfile version.
struct Node<'a> {
    location: Cow<'a, str>,
    name: &'a str,
    /// The folder name under `node_modules/` (differs from `name` for an
    /// alias).
    installed_as: Cow<'a, str>,
    version: Option<&'a str>,
    resolved: Option<&'a str>,
    integrity: Option<&'a str>,
    dev: bool,
    optional: bool,
    dev_optional: bool,
    bundled: bool,
    link: bool,
    root: bool,
    deps: Vec<(&'a str, &'a str, DepKind)>,
    line: Option<u32>,
    /// Why npm does not install it on the target (`os`/`cpu`/`libc`).
    not_on_target: Option<String>,
}

fn push_deps<'a>(
    out: &mut Vec<(&'a str, &'a str, DepKind)>,
    map: Option<&'a DepMap<'a>>,
    kind: DepKind,
) {
    if let Some(m) = map {
        for (k, v) in m.iter() {
            // optionalDependencies are also listed in dependencies: keep the
            // optional kind only.
            if kind == DepKind::Normal || !out.iter().any(|(n, _, _)| *n == k.as_ref()) {
                out.push((k.as_ref(), v.as_ref(), kind));
            }
        }
    }
}

fn from_packages<'a>(
    ctx: &ParseContext<'_>,
    text: &str,
    raw: &'a RawLock<'a>,
    packages: &'a OrderedMap<Cow<'a, str>, Entry<'a>>,
    root_deps: &[(String, DepKind)],
    diagnostics: &mut Vec<Diagnostic>,
) -> DepGraph {
    let lines = key_lines(text, "node_modules/");
    let workspaces: Vec<String> = packages
        .iter()
        .find(|(k, _)| k.is_empty())
        .and_then(|(_, e)| e.workspaces.as_ref())
        .map(|w| match w {
            Workspaces::List(l) => l.clone(),
            Workspaces::Object { packages } => packages.clone(),
        })
        .unwrap_or_default();
    let mut nodes: Vec<Node<'a>> = Vec::with_capacity(packages.len());
    for (key, e) in packages.iter() {
        let key: &str = key.as_ref();
        let in_nm = key.starts_with("node_modules/") || key.contains("/node_modules/");
        let folder_name = name_from_location(key);
        let name: &str = match &e.name {
            Some(n) if !n.is_empty() => n.as_ref(),
            _ if key.is_empty() => raw.name.as_deref().unwrap_or("."),
            _ => folder_name,
        };
        let root =
            key.is_empty() || (!in_nm && workspaces.iter().any(|w| workspace_matches(w, key)));
        let mut deps = Vec::new();
        // Optional first so that the same name in `dependencies` is read
        // as optional (npm lists optional dependencies in both).
        push_deps(
            &mut deps,
            e.optional_dependencies.as_ref(),
            DepKind::Optional,
        );
        push_deps(&mut deps, e.dependencies.as_ref(), DepKind::Normal);
        push_deps(&mut deps, e.peer_dependencies.as_ref(), DepKind::Peer);
        push_deps(&mut deps, e.dev_dependencies.as_ref(), DepKind::Dev);
        let version = e.version.as_deref().or(if key.is_empty() {
            raw.version.as_deref()
        } else {
            None
        });
        nodes.push(Node {
            location: Cow::Borrowed(key),
            name,
            installed_as: Cow::Borrowed(folder_name),
            version,
            resolved: e.resolved.as_deref(),
            integrity: e.integrity.as_deref(),
            dev: e.dev,
            optional: e.optional,
            dev_optional: e.dev_optional,
            bundled: e.in_bundle,
            link: e.link,
            root,
            deps,
            line: lines.get(key).copied(),
            not_on_target: platform::excluded(&ctx.options.target, &e.os.0, &e.cpu.0, &e.libc.0),
        });
    }
    build(ctx, nodes, root_deps, diagnostics)
}

fn from_v1<'a>(
    ctx: &ParseContext<'_>,
    text: &str,
    raw: &'a RawLock<'a>,
    diagnostics: &mut Vec<Diagnostic>,
) -> DepGraph {
    let mut nodes: Vec<Node<'a>> = Vec::new();
    // The project: from the package.json beside the lockfile when there is
    // one (v1 does not record the root's dependencies).
    let manifest = {
        let p = ctx.source.dir().join("package.json");
        if ctx.fs.is_file(&p) {
            match PackageJson::load(ctx.fs, &p) {
                Ok(m) => Some(m),
                Err(e) => {
                    diagnostics.push(Diagnostic::new(
                        Level::Warning,
                        &p,
                        format!("direct dependencies not known: {e}"),
                    ));
                    None
                }
            }
        } else {
            None
        }
    };
    let v1_lines = v1_lines(text);
    let mut line_iter = v1_lines.into_iter();
    // Depth-first, in file order, so that lines can be matched in order.
    fn walk<'a>(
        prefix: &str,
        deps: &'a OrderedMap<Cow<'a, str>, V1Dep<'a>>,
        nodes: &mut Vec<Node<'a>>,
        lines: &mut dyn Iterator<Item = (String, u32)>,
        depth: usize,
    ) {
        if depth > 256 {
            return;
        }
        for (key, d) in deps.iter() {
            let key: &str = key.as_ref();
            let location = if prefix.is_empty() {
                format!("node_modules/{key}")
            } else {
                format!("{prefix}/node_modules/{key}")
            };
            let line = loop {
                match lines.next() {
                    Some((k, l)) if k == key => break Some(l),
                    Some(_) => continue,
                    None => break None,
                }
            };
            let spec = d.version.as_deref();
            let (name, version) = match spec.and_then(npm_alias) {
                Some((real, v)) => (real, Some(v)),
                None => (key, spec.filter(|v| is_plain_version(v))),
            };
            let mut deps_out = Vec::new();
            push_deps(&mut deps_out, d.requires.as_ref(), DepKind::Normal);
            nodes.push(Node {
                location: Cow::Owned(location.clone()),
                name,
                installed_as: Cow::Borrowed(key),
                version,
                resolved: d
                    .resolved
                    .as_deref()
                    .or(spec.filter(|v| !is_plain_version(v))),
                integrity: d.integrity.as_deref(),
                dev: d.dev,
                optional: d.optional,
                dev_optional: false,
                bundled: d.bundled,
                link: false,
                root: false,
                deps: deps_out,
                line,
                not_on_target: None,
            });
            if let Some(children) = &d.dependencies {
                walk(&location, children, nodes, lines, depth + 1);
            }
        }
    }
    if let Some(deps) = &raw.dependencies {
        walk("", deps, &mut nodes, &mut line_iter, 0);
    }
    let root_deps: Vec<(String, DepKind)> = manifest
        .iter()
        .flat_map(|m| m.declared().into_iter().map(|(n, _, k)| (n.to_string(), k)))
        .collect();
    build(ctx, nodes, &root_deps, diagnostics)
}

/// Builds the graph from the locations: packages, links, edges.
fn build(
    ctx: &ParseContext<'_>,
    nodes: Vec<Node<'_>>,
    root_deps: &[(String, DepKind)],
    diagnostics: &mut Vec<Diagnostic>,
) -> DepGraph {
    let path = ctx.path();
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        index.insert(n.location.as_ref(), i);
    }
    let mut graph = DepGraph::new();
    let mut ids: Vec<Option<PackageId>> = vec![None; nodes.len()];
    let mut merged: HashMap<(String, Option<String>, PackageSource), PackageId> = HashMap::new();
    // Declared flags per package id (ids are dense, from 0).
    let mut flags: Vec<Option<[bool; 4]>> = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        // The project itself is not inventoried (it is not a dependency);
        // its dependencies are marked direct below.
        if n.link || n.location.is_empty() {
            continue;
        }
        let mut pkg = Package::new(
            Ecosystem::Npm,
            n.name,
            n.version.filter(|v| !v.is_empty()).map(str::to_string),
        );
        pkg.line = n.line;
        pkg.checksum = n.integrity.map(str::to_string);
        pkg.not_on_target = n.not_on_target.clone();
        let in_nm =
            n.location.starts_with("node_modules/") || n.location.contains("/node_modules/");
        pkg.source = if n.root || !in_nm {
            PackageSource::Path {
                path: if n.location.is_empty() {
                    ".".to_string()
                } else {
                    n.location.to_string()
                },
            }
        } else {
            source_from(n.resolved, n.version.filter(|v| !is_plain_version(v)))
        };
        if n.name != n.installed_as && in_nm {
            pkg.note("alias", n.installed_as.to_string());
        }
        let f = [n.dev, n.optional, n.dev_optional, n.bundled];
        if !n.root {
            // One package per (name, version, source): the same release
            // installed at several locations is one inventory entry, flagged
            // dev/optional/bundled only when every copy is.
            let key = (pkg.name.clone(), pkg.version.clone(), pkg.source.clone());
            if let Some(&id) = merged.get(&key) {
                if let Some(Some(g)) = flags.get_mut(id.index()) {
                    for (a, b) in g.iter_mut().zip(f) {
                        *a = *a && b;
                    }
                }
                ids[i] = Some(id);
                continue;
            }
            let id = graph.add_package(pkg);
            merged.insert(key, id);
            set_flag_slot(&mut flags, id, Some(f));
            ids[i] = Some(id);
        } else {
            let id = graph.add_root(pkg);
            set_flag_slot(&mut flags, id, None);
            ids[i] = Some(id);
        }
    }
    for (i, f) in flags.into_iter().enumerate() {
        if let Some([dev, optional, dev_optional, bundled]) = f {
            let id = PackageId(i as u32);
            let (groups, kind) = declared_flags(dev, optional, dev_optional, bundled);
            graph.package_mut(id).groups = groups;
            graph.declare(id, kind);
        }
    }
    for (name, kind) in root_deps {
        let loc = format!("node_modules/{name}");
        if let Some(&i) = index.get(loc.as_str())
            && let Some(id) = ids.get(i).copied().flatten()
        {
            graph.add_direct(id, *kind);
        }
    }
    // A location resolves to its package, or through a link to the folder
    // it points at.
    let target = |i: usize| -> Option<PackageId> {
        let n = nodes.get(i)?;
        if n.link {
            let r = n.resolved?;
            let r = r.strip_prefix("file:").unwrap_or(r);
            return index.get(r).and_then(|&j| ids.get(j).copied().flatten());
        }
        ids.get(i).copied().flatten()
    };
    let mut missing = MissingDeps::new(path);
    for (i, n) in nodes.iter().enumerate() {
        let from = ids[i];
        if from.is_none() && !n.location.is_empty() {
            continue;
        }
        for &(dep, spec, kind) in &n.deps {
            let found = resolve_up(&n.location, dep, |k| index.get(k).copied());
            let to = found.and_then(target);
            if let Some(to) = to {
                mark_tarball_dependency(&mut graph, to, spec);
            }
            match (to, from) {
                (Some(to), Some(from)) => graph.add_edge(from, to, kind),
                (Some(to), None) => graph.add_direct(to, kind),
                (None, _) => {
                    if matches!(kind, DepKind::Normal) && !n.dev && !n.optional {
                        missing.add(|| {
                            format!(
                                "dependency {dep}@{spec} of {}",
                                if n.location.is_empty() {
                                    "the project"
                                } else {
                                    &n.location
                                }
                            )
                        });
                    }
                }
            }
        }
    }
    missing.finish(diagnostics);
    graph
}

fn set_flag_slot(flags: &mut Vec<Option<[bool; 4]>>, id: PackageId, f: Option<[bool; 4]>) {
    let i = id.index();
    if flags.len() <= i {
        flags.resize(i + 1, None);
    }
    flags[i] = f;
}

/// A dependency declared as a tarball URL (`"tiny": "https://host/t.tgz"`)
/// is a URL dependency, not a registry release, even when the URL has the
/// registry tarball shape: its name alone does not identify what was
/// installed.
fn mark_tarball_dependency(graph: &mut DepGraph, to: PackageId, spec: &str) {
    if !(spec.starts_with("https://") || spec.starts_with("http://")) {
        return;
    }
    let pkg = graph.package_mut(to);
    if let PackageSource::Registry { url } = &pkg.source {
        let url = url.clone().unwrap_or_else(|| redact_url(spec));
        pkg.source = PackageSource::Url { url };
    }
}
