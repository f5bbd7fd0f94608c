//! `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x.
//!
//! Package keys name the package and its resolved version with the
//! peer-dependency context appended (`/a/1.0.0_b@2.0.0` in 5.x,
//! `/a@1.0.0(b@2.0.0)` in 6.x, `a@1.0.0(b@2.0.0)` in 9.x); the context is
//! stripped and one package is kept per (name, version, source). Importers
//! (the project and its workspace members) give the direct dependencies;
//! members are roots, `link:` dependencies point at them. Edges come from
//! `packages` (5.x, 6.x) or `snapshots` (9.x). The `dev`/`optional` flags
//! are computed from the edges; the groups are those 5.x/6.x entries
//! declare (`dev: true`, `optional: true`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::json::Strings;
use super::manifest::PackageJson;
use super::pnpm_key::{self, strip_peers};
use super::{platform, source_from};
use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::ecosystem::redact_url;
use crate::graph::{DepGraph, DepKind, Package, PackageId, PackageSource};
use crate::parse::{MissingDeps, ParseContext, ParseError, ParsedSource};

/// A YAML scalar read as a string (numbers and booleans included).
#[derive(Debug, Clone, Default)]
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An importer dependency: `1.2.3` (5.x) or `{specifier, version}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DepRef {
    Plain(Scalar),
    Full { version: Scalar },
}

impl DepRef {
    fn version(&self) -> &str {
        match self {
            DepRef::Plain(s) | DepRef::Full { version: s } => &s.0,
        }
    }
}

type DepRefs = BTreeMap<String, DepRef>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Importer {
    #[serde(default)]
    dependencies: Option<DepRefs>,
    #[serde(default)]
    optional_dependencies: Option<DepRefs>,
    #[serde(default)]
    dev_dependencies: Option<DepRefs>,
}

#[derive(Debug, Default, Deserialize)]
struct Resolution {
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    tarball: Option<String>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    repo: Option<String>,
    #[serde(default)]
    directory: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PkgEntry {
    #[serde(default)]
    resolution: Option<Resolution>,
    #[serde(default)]
    name: Option<Scalar>,
    #[serde(default)]
    version: Option<Scalar>,
    #[serde(default)]
    dev: Option<bool>,
    #[serde(default)]
    optional: Option<bool>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, Scalar>>,
    #[serde(default)]
    optional_dependencies: Option<BTreeMap<String, Scalar>>,
    #[serde(default)]
    os: Strings,
    #[serde(default)]
    cpu: Strings,
    #[serde(default)]
    libc: Strings,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lock {
    #[serde(default)]
    lockfile_version: Option<Scalar>,
    #[serde(default)]
    importers: Option<BTreeMap<String, Importer>>,
    #[serde(default)]
    dependencies: Option<DepRefs>,
    #[serde(default)]
    optional_dependencies: Option<DepRefs>,
    #[serde(default)]
    dev_dependencies: Option<DepRefs>,
    #[serde(default)]
    packages: Option<BTreeMap<String, Option<PkgEntry>>>,
    #[serde(default)]
    snapshots: Option<BTreeMap<String, Option<PkgEntry>>>,
}

/// Parses a `pnpm-lock.yaml`.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let path = ctx.path();
    let bytes = ctx.fs.read(path)?;
    super::json::ensure_text(path, &bytes, "pnpm-lock.yaml")?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        ParseError::syntax(path, format!("not a valid pnpm-lock.yaml: not UTF-8: {e}"))
    })?;
    if text.trim().is_empty() {
        let mut parsed = ParsedSource::default();
        parsed.graph.finalize();
        return Ok(parsed);
    }
    // Depth and alias expansion are measured before the YAML parser, which
    // is quadratic in flow nesting and expands every alias in full.
    crate::yaml_guard::check(text).map_err(|e| ParseError::limit(path, e.to_string()))?;
    let lock: Lock = serde_yaml::from_str(text)
        .map_err(|e| ParseError::syntax(path, format!("not a valid pnpm-lock.yaml: {e}")))?;
    let version_str = lock
        .lockfile_version
        .as_ref()
        .map(|s| s.0.clone())
        .unwrap_or_default();
    let major: u32 = version_str
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(5);
    let v6 = major >= 6;
    let v9 = major >= 9;
    let lines = key_lines(text);
    let mut diagnostics = Vec::new();

    let mut graph = DepGraph::new();
    // Package key (without a leading `/`, and without its peer context)
    // -> id; (name, version) -> id for references in other forms.
    let mut by_key: HashMap<String, PackageId> = HashMap::new();
    let mut by_nv: HashMap<(String, String), PackageId> = HashMap::new();
    let mut merged: HashMap<(String, Option<String>, PackageSource), PackageId> = HashMap::new();
    let mut declared: HashMap<PackageId, (bool, bool)> = HashMap::new();
    let empty = BTreeMap::new();
    let packages = lock.packages.as_ref().unwrap_or(&empty);
    for (key, entry) in packages {
        let default = PkgEntry::default();
        let entry = entry.as_ref().unwrap_or(&default);
        let bare = key.trim_start_matches('/');
        if entry.name.is_none() && (bare.starts_with("file:") || bare.starts_with("link:")) {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                path,
                format!("local package `{key}` records no name; skipped"),
            ));
            continue;
        }
        let Some((name, version)) = name_version(key, entry, v6) else {
            diagnostics.push(Diagnostic::new(
                Level::Error,
                path,
                format!(
                    "package key `{key}` (line {}) names no package and version; this entry is skipped, the rest of the file is read",
                    lines.get(key.as_str()).copied().unwrap_or(0)
                ),
            ));
            continue;
        };
        let source = entry_source(key, entry);
        let version = version.filter(|v| v.starts_with(|c: char| c.is_ascii_digit()));
        if version.is_none() && !matches!(source, PackageSource::Path { .. }) {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                path,
                format!("package key `{key}` has no version; skipped"),
            ));
            continue;
        }
        // A local directory package (`file:../lib`) records no version in
        // 6.x and 9.x: it is kept, unversioned, with its edges.
        let mut pkg = Package::new(Ecosystem::Npm, name.clone(), version.clone());
        pkg.source = source;
        pkg.checksum = entry.resolution.as_ref().and_then(|r| r.integrity.clone());
        pkg.line = lines.get(key.as_str()).copied();
        pkg.not_on_target = platform::excluded(
            &ctx.options.target,
            &entry.os.0,
            &entry.cpu.0,
            &entry.libc.0,
        );
        let flags = (entry.dev == Some(true), entry.optional == Some(true));
        let mkey = (name.clone(), pkg.version.clone(), pkg.source.clone());
        let id = match merged.get(&mkey) {
            Some(&id) => {
                if let Some(f) = declared.get_mut(&id) {
                    f.0 &= flags.0;
                    f.1 &= flags.1;
                }
                id
            }
            None => {
                let id = graph.add_package(pkg);
                merged.insert(mkey, id);
                declared.insert(id, flags);
                id
            }
        };
        by_key.insert(bare.to_string(), id);
        by_key.entry(strip_peers(bare).to_string()).or_insert(id);
        if let Some(version) = version {
            by_nv.entry((name, version)).or_insert(id);
        }
    }
    if v9 {
        // Snapshot keys (with peer context) to package ids.
        if let Some(snaps) = &lock.snapshots {
            for key in snaps.keys() {
                if by_key.contains_key(key.as_str()) {
                    continue;
                }
                let known = by_key.get(strip_peers(key)).copied().or_else(|| {
                    pnpm_key::name_version(key, true).and_then(|nv| by_nv.get(&nv).copied())
                });
                let id = match known {
                    Some(id) => id,
                    None => {
                        let Some((n, v)) = pnpm_key::name_version(key, true)
                            .filter(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()))
                        else {
                            diagnostics.push(Diagnostic::new(
                                Level::Error,
                                path,
                                format!(
                                    "snapshot key `{key}` names no package and version; this entry is skipped, the rest of the file is read"
                                ),
                            ));
                            continue;
                        };
                        // A snapshot whose package entry is missing.
                        let mut pkg = Package::new(Ecosystem::Npm, n.clone(), Some(v.clone()));
                        pkg.source = PackageSource::Registry { url: None };
                        let id = graph.add_package(pkg);
                        by_nv.insert((n, v), id);
                        id
                    }
                };
                by_key.insert(key.clone(), id);
            }
        }
    }

    // A reference in `dependencies` to its package, whatever its form (see
    // `pnpm_key`): the key it spells, with or without the peer context,
    // then the (name, version) it names.
    let resolve = |dep: &str, reference: &str| -> Option<PackageId> {
        let r = reference;
        let candidates: Vec<String> = if r.starts_with('/') {
            vec![r.trim_start_matches('/').to_string()]
        } else if r.contains('/') && !r.starts_with('@') || r.contains("://") {
            vec![r.to_string(), format!("{dep}@{r}")]
        } else if v6 {
            vec![format!("{dep}@{r}"), r.to_string()]
        } else {
            vec![format!("{dep}/{r}"), r.to_string()]
        };
        candidates
            .iter()
            .find_map(|c| {
                by_key
                    .get(c.as_str())
                    .or_else(|| by_key.get(strip_peers(c)))
                    .copied()
            })
            .or_else(|| {
                let nv = pnpm_key::alias_target(r, v6)
                    .unwrap_or_else(|| (dep.to_string(), strip_peers(r).to_string()));
                by_nv.get(&nv).copied()
            })
    };

    // Edges between packages.
    let mut missing = MissingDeps::new(path);
    let edge_source = if v9 {
        lock.snapshots.as_ref()
    } else {
        lock.packages.as_ref()
    };
    if let Some(map) = edge_source {
        for (key, entry) in map {
            let Some(entry) = entry else { continue };
            let Some(&from) = by_key.get(key.trim_start_matches('/')) else {
                continue;
            };
            for (deps, kind) in [
                (&entry.dependencies, DepKind::Normal),
                (&entry.optional_dependencies, DepKind::Optional),
            ] {
                for (dep, r) in deps.iter().flatten() {
                    match resolve(dep, &r.0) {
                        Some(to) => graph.add_edge(from, to, kind),
                        None if kind == DepKind::Normal && !r.0.starts_with("link:") => {
                            missing.add(|| format!("dependency {dep} {} of `{key}`", r.0));
                        }
                        None => {}
                    }
                }
            }
        }
    }

    // Importers: "." is the project (its dependencies are direct); others
    // are workspace members (roots).
    let mut importers: Vec<(String, &Importer)> = Vec::new();
    if let Some(imp) = &lock.importers {
        for (k, v) in imp {
            importers.push((k.clone(), v));
        }
    }
    let mut root_ids: HashMap<String, PackageId> = HashMap::new();
    for (k, _) in &importers {
        if k == "." {
            continue;
        }
        let manifest =
            PackageJson::load(ctx.fs, &ctx.source.dir().join(k).join("package.json")).ok();
        let mut pkg = Package::new(
            Ecosystem::Npm,
            manifest
                .as_ref()
                .and_then(|m| m.name.clone())
                .unwrap_or_else(|| k.clone()),
            manifest.and_then(|m| m.version),
        );
        pkg.source = PackageSource::Path { path: k.clone() };
        root_ids.insert(k.clone(), graph.add_root(pkg));
    }
    let mut direct: Vec<(PackageId, DepKind)> = Vec::new();
    let mut add_importer =
        |graph: &mut DepGraph, dir: &str, deps: [(Option<&DepRefs>, DepKind); 3]| {
            let from = root_ids.get(dir).copied();
            for (map, kind) in deps {
                for (dep, r) in map.into_iter().flatten() {
                    let v = r.version();
                    let to = if let Some(target) = v.strip_prefix("link:") {
                        root_ids.get(&join_rel(dir, target)).copied()
                    } else {
                        resolve(dep, v)
                    };
                    let Some(to) = to else {
                        if !v.starts_with("link:") && kind != DepKind::Optional {
                            missing.add(|| format!("dependency {dep} {v} of importer `{dir}`"));
                        }
                        continue;
                    };
                    match from {
                        Some(f) => graph.add_edge(f, to, kind),
                        None => direct.push((to, kind)),
                    }
                }
            }
        };
    if importers.is_empty() {
        add_importer(
            &mut graph,
            ".",
            [
                (lock.dependencies.as_ref(), DepKind::Normal),
                (lock.optional_dependencies.as_ref(), DepKind::Optional),
                (lock.dev_dependencies.as_ref(), DepKind::Dev),
            ],
        );
    }
    for (k, imp) in &importers {
        add_importer(
            &mut graph,
            k,
            [
                (imp.dependencies.as_ref(), DepKind::Normal),
                (imp.optional_dependencies.as_ref(), DepKind::Optional),
                (imp.dev_dependencies.as_ref(), DepKind::Dev),
            ],
        );
    }
    for (id, kind) in direct {
        graph.add_direct(id, kind);
    }
    graph.finalize();
    for (id, (dev, optional)) in declared {
        let p = graph.package_mut(id);
        let mut groups = Vec::new();
        if dev && !v9 {
            groups.push("dev".to_string());
        }
        if optional && !v9 {
            groups.push("optional".to_string());
        }
        p.groups = groups;
    }
    missing.finish(&mut diagnostics);
    let mut parsed = ParsedSource::from_graph(graph);
    parsed.diagnostics = diagnostics;
    parsed.facts.format_version = Some(version_str);
    Ok(parsed)
}

/// `dir` joined with a relative `target`, normalised (`packages/a` +
/// `../b` = `packages/b`; `.` is the project).
fn join_rel(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if dir == "." {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// The package name and version of a `packages` key, preferring the
/// entry's own `name`/`version`. `None` when the key cannot be read.
fn name_version(key: &str, entry: &PkgEntry, v6: bool) -> Option<(String, Option<String>)> {
    let own_version = entry.version.as_ref().map(|v| v.0.clone());
    if let Some(n) = &entry.name {
        return Some((n.0.clone(), own_version));
    }
    let (name, version) = pnpm_key::name_version(key, v6)?;
    Some((name, own_version.or(Some(version))))
}

/// Where a package comes from.
fn entry_source(key: &str, entry: &PkgEntry) -> PackageSource {
    if let Some(r) = &entry.resolution {
        if let Some(commit) = &r.commit {
            return PackageSource::Git {
                url: redact_url(r.repo.as_deref().unwrap_or(key)),
                rev: Some(commit.clone()),
            };
        }
        if let Some(d) = &r.directory {
            return PackageSource::Path { path: d.clone() };
        }
        if let Some(t) = &r.tarball {
            return source_from(Some(t), None);
        }
    }
    let k = key.trim_start_matches('/');
    if let Some(p) = k.strip_prefix("file:") {
        return PackageSource::Path {
            path: p.to_string(),
        };
    }
    PackageSource::Registry { url: None }
}

/// Line of each top-level key of `packages:` (`  /a/1.0.0:` or
/// `  'a@1.0.0':`).
fn key_lines(text: &str) -> HashMap<&str, u32> {
    let mut out = HashMap::new();
    let mut in_packages = false;
    for (i, line) in text.lines().enumerate() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_packages = line.starts_with("packages:");
            continue;
        }
        if !in_packages {
            continue;
        }
        let content = line.trim_start();
        if line.len() - content.len() != 2 || !content.ends_with(':') {
            continue;
        }
        let k = content.trim_end_matches(':');
        let k = k.trim_matches(|c| c == '\'' || c == '"');
        out.insert(k, u32::try_from(i + 1).unwrap_or(u32::MAX));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let e = PkgEntry::default();
        assert_eq!(
            name_version("/@a/b/1.0.0_react@18.0.0", &e, false),
            Some(("@a/b".to_string(), Some("1.0.0".to_string())))
        );
        assert_eq!(
            name_version("/a@1.0.0(b@2.0.0)", &e, true),
            Some(("a".to_string(), Some("1.0.0".to_string())))
        );
        assert_eq!(
            name_version("registry.npmjs.org/foo/1.1.0", &e, false),
            Some(("foo".to_string(), Some("1.1.0".to_string())))
        );
        assert_eq!(name_version("invalidpath", &e, false), None);
        assert_eq!(join_rel("packages/a", "../b"), "packages/b");
        assert_eq!(join_rel(".", "packages/b"), "packages/b");
    }
}
