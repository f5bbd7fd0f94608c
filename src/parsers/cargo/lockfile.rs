//! `Cargo.lock`, versions 1 to 4.
//!
//! Every `[[package]]` (and the legacy v1 `[root]`) becomes a node, several
//! versions of one crate kept apart. Sources (registry, sparse registry,
//! alternative registries, git with its revision, path) are read with the
//! cargo-lock crate's `SourceId`, v1 `[metadata]` checksums with its
//! `MetadataKey`/`MetadataValue`. Dependency entries (`name`,
//! `name version`, `name version (source)`) are resolved here, leniently:
//! an entry that names no package of the file is a warning, not a failure
//! (cargo-lock's own resolver rejects such files).
//!
//! Roots are the local crates (packages without `source`). When a
//! `Cargo.toml` sits beside the lockfile, its workspace members are the
//! roots, and their manifests say which dependencies are dev- or
//! build-dependencies (the lockfile does not).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

use cargo_lock::{MetadataKey, MetadataValue, ResolveVersion, SourceId};

use super::lock_text::{RawLock, RawPackage, parse_canonical};
use super::manifest::{self, DeclaredDep, Manifest, Workspace};
use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::graph::{DepGraph, DepKind, Package, PackageSource};
use crate::parse::{ParseContext, ParseError, ParsedSource};

/// At most this many unresolved-dependency warnings per file.
const MAX_WARNINGS: usize = 20;

/// One dependency entry: `name`, `name version` or `name version (source)`.
struct DepRef<'a> {
    name: &'a str,
    version: Option<&'a str>,
    source: Option<&'a str>,
}

fn parse_dep_ref(s: &str) -> DepRef<'_> {
    let s = s.trim();
    let (head, source) = match (s.find(" ("), s.ends_with(')')) {
        (Some(i), true) => (&s[..i], s.get(i + 2..s.len() - 1)),
        _ => (s, None),
    };
    let mut parts = head.split_whitespace();
    DepRef {
        name: parts.next().unwrap_or(""),
        version: parts.next(),
        source,
    }
}

/// A decoded package with its parsed source id.
struct Node<'a> {
    raw: &'a RawPackage,
    source_id: Option<SourceId>,
}

/// Parses a `Cargo.lock` into a graph.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let path = ctx.path();
    let text = ctx.fs.read_to_string(path)?;
    let raw: RawLock = match parse_canonical(&text) {
        Some(raw) => raw,
        None => {
            crate::toml_guard::check(&text).map_err(|e| ParseError::limit(path, e.to_string()))?;
            toml::from_str(&text).map_err(|e| {
                ParseError::syntax(
                    path,
                    format!(
                        "not a valid Cargo.lock: {}",
                        crate::redact::toml_error(&e, &text)
                    ),
                )
            })?
        }
    };
    let mut diagnostics = Vec::new();

    let format_version = match raw.version {
        Some(n) => match u32::try_from(n).ok().map(ResolveVersion::try_from) {
            Some(Ok(v)) => format!("v{}", u32::from(v)),
            _ => {
                diagnostics.push(Diagnostic::new(
                    Level::Warning,
                    path,
                    format!("unknown Cargo.lock version {n}; read as the newest known format"),
                ));
                format!("v{n}")
            }
        },
        None if raw.metadata.keys().any(|k| k.starts_with("checksum ")) => "v1".into(),
        None => "v2".into(),
    };

    // The legacy `[root]` first, then `[[package]]` in file order.
    let lines = package_lines(&text);
    let mut entries: Vec<(&RawPackage, Option<u32>)> = Vec::new();
    if let Some(r) = &raw.root {
        entries.push((r, lines.root.filter(|(_, n)| *n == r.name).map(|(l, _)| l)));
    }
    for (i, p) in raw.package.iter().enumerate() {
        let line = lines
            .packages
            .get(i)
            .and_then(|l| l.as_ref())
            .filter(|(_, n)| *n == p.name)
            .map(|(l, _)| *l);
        entries.push((p, line));
    }

    let mut nodes = Vec::with_capacity(entries.len());
    // A lockfile names few distinct sources: each is parsed once.
    let mut parsed_sources: HashMap<&str, SourceId> = HashMap::new();
    for (p, _) in &entries {
        let source_id = match &p.source {
            Some(s) => match parsed_sources.get(s.as_str()) {
                Some(id) => Some(id.clone()),
                None => match SourceId::from_str(s) {
                    Ok(id) => {
                        parsed_sources.insert(s.as_str(), id.clone());
                        Some(id)
                    }
                    Err(e) => {
                        diagnostics.push(Diagnostic::new(
                            Level::Warning,
                            path,
                            format!(
                                "package {} {}: unreadable source `{s}`: {e}",
                                p.name, p.version
                            ),
                        ));
                        None
                    }
                },
            },
            None => None,
        };
        nodes.push(Node { raw: p, source_id });
    }

    let v1_checksums = v1_checksums(&raw.metadata);
    let workspace = load_companion_manifest(ctx, &mut diagnostics);

    // Which local packages are roots, and the manifest of each.
    let local: Vec<usize> = (0..nodes.len())
        .filter(|&i| nodes[i].raw.source.is_none())
        .collect();
    let mut member_of: HashMap<usize, &Manifest> = HashMap::new();
    if let Some(ws) = &workspace {
        for &i in &local {
            if let Some(m) = ws.member(&nodes[i].raw.name, Some(&nodes[i].raw.version)) {
                member_of.insert(i, m);
            }
        }
    }
    let roots_known = !member_of.is_empty();

    let mut graph = DepGraph::new();
    let base = ctx.source.dir();
    let mut ids = Vec::with_capacity(nodes.len());
    for (i, (node, (_, line))) in nodes.iter().zip(&entries).enumerate() {
        let p = node.raw;
        let mut pkg = Package::new(Ecosystem::CratesIo, p.name.clone(), Some(p.version.clone()));
        pkg.line = *line;
        pkg.checksum = p.checksum.clone().or_else(|| {
            v1_checksums
                .get(&(p.name.clone(), p.version.clone()))
                .cloned()
        });
        pkg.source = match (&p.source, &node.source_id) {
            // A local crate: its directory when a manifest names it, else
            // an empty path (the lockfile does not record it).
            (None, _) => PackageSource::Path {
                path: member_of
                    .get(&i)
                    .map(|m| super::relative_dir(base, m.dir()))
                    .or_else(|| declared_path(workspace.as_ref(), &p.name, base))
                    .unwrap_or_default(),
            },
            (Some(_), Some(id)) => package_source(id),
            (Some(raw), None) => PackageSource::Url {
                url: crate::ecosystem::redact_url(raw),
            },
        };
        if let Some(id) = &node.source_id
            && id.is_registry()
            && !id.is_default_registry()
        {
            pkg.note("registry", crate::ecosystem::redact_url(&id.to_string()));
        }
        let is_root = p.source.is_none() && (!roots_known || member_of.contains_key(&i));
        ids.push(if is_root {
            graph.add_root(pkg)
        } else {
            graph.add_package(pkg)
        });
    }

    // Edges.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        by_name.entry(n.raw.name.as_str()).or_default().push(i);
    }
    let mut unresolved = 0usize;
    for (i, node) in nodes.iter().enumerate() {
        for dep in &node.raw.dependencies {
            let d = parse_dep_ref(dep);
            let Some(j) = resolve(&nodes, &by_name, &d) else {
                unresolved += 1;
                if unresolved <= MAX_WARNINGS {
                    diagnostics.push(Diagnostic::new(
                        Level::Warning,
                        path,
                        format!(
                            "dependency `{}` of {} {} names no package in the lockfile",
                            dep.trim(),
                            node.raw.name,
                            node.raw.version
                        ),
                    ));
                }
                continue;
            };
            match member_of.get(&i) {
                Some(m) => {
                    for k in declared_kinds(m, nodes[j].raw) {
                        graph.add_edge(ids[i], ids[j], k);
                    }
                }
                None => graph.add_edge(ids[i], ids[j], DepKind::Normal),
            }
        }
    }
    if unresolved > MAX_WARNINGS {
        diagnostics.push(Diagnostic::new(
            Level::Warning,
            path,
            format!("{unresolved} dependency entries name no package in the lockfile"),
        ));
    }

    // A local crate that is neither a member nor depended on (a manifest
    // that does not match the lockfile) is still a root, not a dev crate.
    let mut has_parent = vec![false; ids.len()];
    for &id in &ids {
        for (to, _) in graph.dependencies(id) {
            has_parent[to.index()] = true;
        }
    }
    for &i in &local {
        if !has_parent[i] {
            graph.mark_root(ids[i]);
        }
    }

    graph.finalize();
    super::assign_groups(&mut graph);
    let mut parsed = ParsedSource::from_graph(graph);
    parsed.diagnostics = diagnostics;
    parsed.facts.format_version = Some(format_version);
    Ok(parsed)
}

/// Finds the package a dependency entry names: same name, then same
/// version when given, then same source when given (falling back to name
/// and version when no source matches).
fn resolve(
    nodes: &[Node<'_>],
    by_name: &HashMap<&str, Vec<usize>>,
    d: &DepRef<'_>,
) -> Option<usize> {
    let same_version = |i: &usize| d.version.is_none_or(|v| nodes[*i].raw.version == v);
    let mut candidates = by_name.get(d.name)?.iter().copied().filter(same_version);
    let first = candidates.next()?;
    let Some(second) = candidates.next() else {
        return Some(first);
    };
    let mut all = [first, second].into_iter().chain(candidates);
    let want = d.source.and_then(|s| SourceId::from_str(s).ok());
    if let Some(want) = want {
        if let Some(i) = all.find(|&i| nodes[i].source_id.as_ref() == Some(&want)) {
            return Some(i);
        }
    } else if d.source.is_none() {
        // An entry with no source prefers the default registry, then a
        // local crate.
        if let Some(i) = all.find(|&i| {
            nodes[i]
                .source_id
                .as_ref()
                .is_some_and(SourceId::is_default_registry)
        }) {
            return Some(i);
        }
    }
    Some(first)
}

/// The edge kinds a member manifest declares for the locked package `dep`:
/// every matching declaration (a crate can be both a dependency and a
/// build-dependency). Declarations whose requirement excludes the locked
/// version are skipped when another declaration matches.
fn declared_kinds(m: &Manifest, dep: &RawPackage) -> Vec<DepKind> {
    let named: Vec<&DeclaredDep> = m.deps.iter().filter(|d| d.name == dep.name).collect();
    let version = semver::Version::parse(&dep.version).ok();
    let matching: Vec<&DeclaredDep> = named
        .iter()
        .copied()
        .filter(|d| requirement_allows(d, version.as_ref()))
        .collect();
    let chosen = if matching.is_empty() { named } else { matching };
    let mut kinds: Vec<DepKind> = chosen.into_iter().map(manifest::edge_kind).collect();
    kinds.dedup();
    if kinds.is_empty() {
        kinds.push(DepKind::Normal);
    }
    kinds
}

fn requirement_allows(d: &DeclaredDep, version: Option<&semver::Version>) -> bool {
    match (&d.requirement, version) {
        (Some(req), Some(v)) => semver::VersionReq::parse(req).is_ok_and(|r| r.matches(v)),
        _ => true,
    }
}

/// The path a manifest of the workspace declares for a local crate.
fn declared_path(ws: Option<&Workspace>, name: &str, base: &Path) -> Option<String> {
    let ws = ws?;
    ws.members.iter().find_map(|m| {
        m.deps.iter().find_map(|d| match &d.source {
            PackageSource::Path { path } if d.name == name => {
                Some(super::relative_dir(base, &m.dir().join(path)))
            }
            _ => None,
        })
    })
}

/// Maps a cargo-lock source id to a package source.
fn package_source(id: &SourceId) -> PackageSource {
    if id.is_git() {
        let mut url = id.url().clone();
        url.set_query(None);
        url.set_fragment(None);
        let rev = id.precise().map(str::to_string).or_else(|| {
            id.git_reference()
                .and_then(|r| r.pretty_ref(false))
                .map(|r| r.to_string())
        });
        PackageSource::Git {
            url: crate::ecosystem::redact_url(url.as_str()),
            rev,
        }
    } else if id.is_path() {
        PackageSource::Path {
            path: id.url().path().to_string(),
        }
    } else if id.is_default_registry() {
        PackageSource::Registry { url: None }
    } else {
        PackageSource::Registry {
            url: Some(crate::ecosystem::redact_url(&id.to_string())),
        }
    }
}

/// v1 lockfiles keep checksums in `[metadata]`, keyed
/// `checksum NAME VERSION (SOURCE)`.
fn v1_checksums(metadata: &BTreeMap<String, toml::Value>) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    for (k, v) in metadata {
        let (Ok(key), Some(value)) = (MetadataKey::from_str(k), v.as_str()) else {
            continue;
        };
        let Ok(dep) = key.checksum_dependency() else {
            continue;
        };
        // cargo-lock slices the value by byte pairs and panics on a
        // non-ASCII character: only 64 hex digits are a checksum.
        if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let Ok(value) = MetadataValue::from_str(value) else {
            continue;
        };
        if let Ok(sum) = value.checksum() {
            out.insert(
                (dep.name.to_string(), dep.version.to_string()),
                sum.to_string(),
            );
        }
    }
    out
}

/// Reads the `Cargo.toml` beside the lockfile, when there is one; a
/// manifest that does not parse is a warning (the lockfile still is read).
fn load_companion_manifest(
    ctx: &ParseContext<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Workspace> {
    let manifest_path = ctx.source.dir().join("Cargo.toml");
    if !ctx.fs.is_file(&manifest_path) {
        return None;
    }
    match manifest::load_workspace(ctx.fs, &manifest_path) {
        Ok(ws) => {
            diagnostics.extend(ws.diagnostics.iter().cloned());
            Some(ws)
        }
        Err(e) => {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                &manifest_path,
                format!("manifest not used to tell dev/build dependencies apart: {e}"),
            ));
            None
        }
    }
}

/// Line numbers of the `name = ` key of each `[[package]]` table (and of
/// `[root]`), with the name found there.
#[derive(Default)]
struct PackageLines {
    packages: Vec<Option<(u32, String)>>,
    root: Option<(u32, String)>,
}

fn package_lines(text: &str) -> PackageLines {
    enum In {
        Package,
        Root,
        Other,
    }
    let mut out = PackageLines::default();
    let mut state = In::Other;
    for (idx, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let header = t.split('#').next().unwrap_or("").trim();
            let compact: String = header.chars().filter(|c| !c.is_whitespace()).collect();
            state = match compact.as_str() {
                "[[package]]" => {
                    out.packages.push(None);
                    In::Package
                }
                "[root]" => In::Root,
                _ => In::Other,
            };
            continue;
        }
        let Some(rest) = t.strip_prefix("name") else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let name = value
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        let lineno = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        match state {
            In::Package => {
                if let Some(slot @ None) = out.packages.last_mut() {
                    *slot = Some((lineno, name));
                }
            }
            In::Root => {
                if out.root.is_none() {
                    out.root = Some((lineno, name));
                }
            }
            In::Other => {}
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn dep_refs() {
        let d = parse_dep_ref("syn 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)");
        assert_eq!(d.name, "syn");
        assert_eq!(d.version, Some("1.0.0"));
        assert_eq!(
            d.source,
            Some("registry+https://github.com/rust-lang/crates.io-index")
        );
        let d = parse_dep_ref("libc");
        assert_eq!(
            (d.name, d.version, d.source.is_none()),
            ("libc", None, true)
        );
    }

    #[test]
    fn lines_skip_comments() {
        let text = "[[package]]\n# name = \"x\"\nname = \"a\"\n\n[[package]]\nname = \"b\"\n";
        let l = package_lines(text);
        assert_eq!(l.packages[0], Some((3, "a".to_string())));
        assert_eq!(l.packages[1], Some((6, "b".to_string())));
    }
}
