//! `package.json`: read leniently (only the fields depwarden needs), used
//! as the companion of lockfiles (direct dependencies, workspaces) and, with
//! no lockfile beside it, as a source of unresolved direct dependencies.

use std::path::Path;

use serde::{Deserialize, Deserializer};

use super::{npm_alias, source_from};
use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::fs::Fs;
use crate::graph::{DepGraph, DepKind, Package, PackageId, PackageSource};
use crate::parse::{ParseContext, ParseError, ParsedSource};
use std::collections::HashMap;

/// The fields of a `package.json` depwarden reads. Fields of unexpected
/// types are treated as absent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageJson {
    /// `name`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// `version`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub version: Option<String>,
    /// `dependencies` as `(name, spec)`.
    #[serde(default, deserialize_with = "dep_map")]
    pub dependencies: Vec<(String, String)>,
    /// `devDependencies`.
    #[serde(default, deserialize_with = "dep_map")]
    pub dev_dependencies: Vec<(String, String)>,
    /// `optionalDependencies`.
    #[serde(default, deserialize_with = "dep_map")]
    pub optional_dependencies: Vec<(String, String)>,
    /// `peerDependencies`.
    #[serde(default, deserialize_with = "dep_map")]
    pub peer_dependencies: Vec<(String, String)>,
    /// `workspaces` (the array form or `{ "packages": [...] }`).
    #[serde(default, deserialize_with = "workspaces")]
    pub workspaces: Vec<String>,
    /// `engines` field (kept only to tell VS Code extensions apart).
    #[serde(default, deserialize_with = "has_vscode_engine", rename = "engines")]
    pub engines_has_vscode: bool,
    /// `unity` field (a Unity package manifest).
    #[serde(default, deserialize_with = "present")]
    pub unity: bool,
    /// `contributes` field (VS Code extensions).
    #[serde(default, deserialize_with = "present")]
    pub contributes: bool,
}

impl PackageJson {
    /// Parses `package.json` text; a document that is not a JSON object is
    /// an error naming the file.
    pub fn from_str(path: &Path, text: &str) -> Result<Self, ParseError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if !text.trim_start().starts_with('{') {
            return Err(ParseError::syntax(
                path,
                "not a valid package.json: not a JSON object",
            ));
        }
        serde_json::from_str(text)
            .map_err(|e| ParseError::syntax(path, format!("not a valid package.json: {e}")))
    }

    /// Reads and parses a `package.json` through `fs`.
    pub fn load(fs: &dyn Fs, path: &Path) -> Result<Self, ParseError> {
        let text = fs.read_to_string(path)?;
        Self::from_str(path, &text)
    }

    /// Every declared dependency with its edge kind (`dependencies`,
    /// `optionalDependencies`, `peerDependencies`, `devDependencies`).
    /// A name in `optionalDependencies` overrides the same name in
    /// `dependencies`, as npm does.
    pub fn declared(&self) -> Vec<(&str, &str, DepKind)> {
        let mut out: Vec<(&str, &str, DepKind)> = Vec::new();
        for (n, s) in &self.dependencies {
            if !self.optional_dependencies.iter().any(|(o, _)| o == n) {
                out.push((n, s, DepKind::Normal));
            }
        }
        for (n, s) in &self.optional_dependencies {
            out.push((n, s, DepKind::Optional));
        }
        for (n, s) in &self.peer_dependencies {
            if !out.iter().any(|(o, _, _)| o == n) {
                out.push((n, s, DepKind::Peer));
            }
        }
        for (n, s) in &self.dev_dependencies {
            if !out.iter().any(|(o, _, _)| o == n) {
                out.push((n, s, DepKind::Dev));
            }
        }
        out
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_str().map(str::to_string))
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(!v.is_null())
}

fn has_vscode_engine<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.get("vscode").is_some())
}

fn dep_map<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let mut out = Vec::new();
    if let serde_json::Value::Object(m) = v {
        for (k, v) in m {
            if let Some(s) = v.as_str() {
                out.push((k, s.to_string()));
            }
        }
    }
    Ok(out)
}

fn workspaces<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let list = match &v {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Object(m) => match m.get("packages") {
            Some(serde_json::Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(list
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect())
}

/// True when the relative folder `path` matches a workspace pattern
/// (`packages/*`, `apps/**`, `tools/cli`; `*` within one segment, `**` any
/// number of segments).
pub fn workspace_matches(pattern: &str, path: &str) -> bool {
    let clean = |s: &str| {
        s.trim_start_matches("./")
            .trim_end_matches('/')
            .split('/')
            .filter(|x| !x.is_empty() && *x != ".")
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let pat = clean(pattern);
    let segs = clean(path);
    match_segments(&pat, &segs)
}

fn match_segments(pat: &[String], segs: &[String]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((p, rest)) if p == "**" => {
            (0..=segs.len()).any(|i| match_segments(rest, segs.get(i..).unwrap_or(&[])))
        }
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => glob_segment(p, s) && match_segments(rest, srest),
            None => false,
        },
    }
}

fn glob_segment(p: &str, s: &str) -> bool {
    match p.split_once('*') {
        None => p == s,
        Some((pre, post)) => {
            let post = post.rsplit('*').next().unwrap_or(post);
            s.len() >= pre.len() + post.len() && s.starts_with(pre) && s.ends_with(post)
        }
    }
}

/// Expands workspace patterns to member folders (relative to `base`) by
/// listing directories through `fs`; only `dir/*`, `dir/**` and literal
/// patterns are expanded (one level for `*`).
pub fn expand_workspaces(fs: &dyn Fs, base: &Path, patterns: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for pat in patterns {
        if pat.starts_with('!') {
            continue;
        }
        let clean = pat.trim_start_matches("./").trim_end_matches('/');
        let Some(star) = clean.find('*') else {
            if fs.is_file(&base.join(clean).join("package.json")) {
                out.push(clean.to_string());
            }
            continue;
        };
        let dir = clean[..star].trim_end_matches('/');
        let Ok(entries) = fs.read_dir(&base.join(dir)) else {
            continue;
        };
        for e in entries {
            let rel = if dir.is_empty() {
                e.name.clone()
            } else {
                format!("{dir}/{}", e.name)
            };
            if e.name != "node_modules"
                && workspace_matches(clean, &rel)
                && fs.is_file(&base.join(&rel).join("package.json"))
            {
                out.push(rel);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A package from a dependency declared in a manifest, unresolved: no
/// version, the range kept, the source from the specifier.
pub fn unresolved_package(name: &str, spec: &str) -> Package {
    let (real, range) = match npm_alias(spec) {
        Some((n, r)) => (n, r),
        None => (name, spec),
    };
    let mut pkg = Package::new(Ecosystem::Npm, real, None);
    pkg.requirement = Some(range.to_string());
    pkg.source = match source_from(None, Some(spec)) {
        PackageSource::Registry { .. } => PackageSource::Registry { url: None },
        other => other,
    };
    if real != name {
        pkg.note("alias", name);
    }
    pkg
}

/// A root package for a manifest.
pub fn root_package(m: &PackageJson, rel_dir: &str) -> Package {
    let mut pkg = Package::new(
        Ecosystem::Npm,
        m.name.clone().unwrap_or_else(|| {
            if rel_dir.is_empty() || rel_dir == "." {
                ".".to_string()
            } else {
                rel_dir.to_string()
            }
        }),
        m.version.clone(),
    );
    pkg.source = PackageSource::Path {
        path: if rel_dir.is_empty() {
            ".".to_string()
        } else {
            rel_dir.to_string()
        },
    };
    pkg
}

/// Parses a `package.json` with no lockfile beside it: the project (and
/// its workspace members) as roots, each declared dependency unresolved.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let path = ctx.path();
    let bytes = ctx.fs.read(path)?;
    super::json::ensure_text(path, &bytes, "package.json")?;
    let text = String::from_utf8_lossy(&bytes);
    let manifest = PackageJson::from_str(path, &text)?;
    let mut graph = DepGraph::new();
    let mut members = vec![(String::new(), manifest.clone())];
    let base = ctx.source.dir();
    for rel in expand_workspaces(ctx.fs, base, &manifest.workspaces) {
        if let Ok(m) = PackageJson::load(ctx.fs, &base.join(&rel).join("package.json")) {
            members.push((rel, m));
        }
    }
    // The project itself is not inventoried (its dependencies are marked
    // direct); workspace members are roots.
    let mut root_ids: Vec<Option<PackageId>> = Vec::new();
    for (i, (rel, m)) in members.iter().enumerate() {
        root_ids.push((i > 0).then(|| graph.add_root(root_package(m, rel))));
    }
    let member_of = |name: &str| {
        members
            .iter()
            .zip(&root_ids)
            .find(|((_, m), _)| m.name.as_deref() == Some(name))
            .and_then(|(_, id)| *id)
    };
    let mut seen: HashMap<(String, String), PackageId> = HashMap::new();
    let mut project: Vec<(PackageId, DepKind)> = Vec::new();
    for ((_, m), rid) in members.iter().zip(&root_ids) {
        for (name, spec, kind) in m.declared() {
            let id = match member_of(name) {
                Some(id) => id,
                None => {
                    let key = (name.to_string(), spec.to_string());
                    *seen
                        .entry(key)
                        .or_insert_with(|| graph.add_package(unresolved_package(name, spec)))
                }
            };
            match rid {
                Some(rid) => graph.add_edge(*rid, id, kind),
                None => project.push((id, kind)),
            }
        }
    }
    for (id, kind) in project {
        graph.add_direct(id, kind);
    }
    graph.finalize();
    for p in graph.packages_mut() {
        if p.root {
            continue;
        }
        let mut groups = Vec::new();
        if p.dev {
            groups.push("dev".to_string());
        }
        if p.optional {
            groups.push("optional".to_string());
        }
        p.groups = groups;
    }
    let mut parsed = ParsedSource::from_graph(graph);
    parsed.facts.no_lockfile = true;
    parsed.diagnostics.push(Diagnostic::new(
        Level::Info,
        path,
        "no lockfile: dependency versions are unresolved",
    ));
    Ok(parsed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn workspace_patterns() {
        assert!(workspace_matches("packages/*", "packages/a"));
        assert!(!workspace_matches("packages/*", "packages/a/b"));
        assert!(workspace_matches("packages/**", "packages/a/b"));
        assert!(workspace_matches("./tools/cli", "tools/cli"));
        assert!(workspace_matches("apps/web-*", "apps/web-x"));
        assert!(!workspace_matches("apps/web-*", "apps/api"));
    }

    #[test]
    fn lenient_fields() {
        let m = PackageJson::from_str(
            Path::new("package.json"),
            r#"{"name": 5, "version": "1.0.0", "dependencies": {"a": "^1", "b": 3},
               "workspaces": {"packages": ["p/*"]}}"#,
        )
        .unwrap();
        assert_eq!(m.name, None);
        assert_eq!(m.dependencies, vec![("a".to_string(), "^1".to_string())]);
        assert_eq!(m.workspaces, vec!["p/*".to_string()]);
        assert!(PackageJson::from_str(Path::new("package.json"), "[1]").is_err());
    }
}
