//! `bun.lock`, the text lockfile of bun: JSON with comments and trailing
//! commas (a small pre-pass removes both outside strings, then serde_json
//! reads it).
//!
//! `packages` maps install paths (`a`, `a/b` = `b` nested under `a`,
//! scoped names included) to tuples whose first element is the resolved
//! identifier `name@version` (or `name@github:...#commit`,
//! `name@file:...`, `name@workspace:...`) and which carry a metadata object
//! with the package's dependencies. Dependencies resolve to the nearest
//! install path up the nesting, as in `node_modules/`. Workspaces other
//! than the project itself are roots.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};

use super::json::{Lenient, OrderedMap, Strings};
use super::{is_plain_version, platform, source_from, split_name_spec};
use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::graph::{DepGraph, DepKind, Package, PackageId, PackageSource};
use crate::parse::{MissingDeps, ParseContext, ParseError, ParsedSource};

type Deps = OrderedMap<String, String>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    dependencies: Option<Deps>,
    #[serde(default)]
    optional_dependencies: Option<Deps>,
    #[serde(default)]
    peer_dependencies: Option<Deps>,
    #[serde(default)]
    dev_dependencies: Option<Deps>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    os: Strings,
    #[serde(default)]
    cpu: Strings,
    #[serde(default)]
    libc: Strings,
}

/// A `packages` tuple: the identifier, then (for registry packages) the
/// registry URL, the metadata object, the integrity.
#[derive(Debug, Default)]
struct Tuple {
    ident: String,
    registry: Option<String>,
    meta: Meta,
    integrity: Option<String>,
}

impl<'de> Deserialize<'de> for Tuple {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tuple;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a package tuple [\"name@version\", ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tuple, A::Error> {
                let ident: String = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let mut t = Tuple {
                    ident,
                    ..Default::default()
                };
                let mut strings = Vec::new();
                while let Some(el) = seq.next_element::<Element>()? {
                    match el {
                        Element::Str(s) => strings.push(s),
                        Element::Meta(m) => t.meta = m,
                        Element::Other(_) => {}
                    }
                }
                // [ident, registry, meta, integrity] for registry packages.
                if strings.len() >= 2 {
                    t.registry = strings.first().cloned().filter(|s| !s.is_empty());
                    t.integrity = strings.get(1).cloned();
                }
                Ok(t)
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Element {
    Str(String),
    Meta(Meta),
    Other(IgnoredAny),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lock {
    #[serde(default)]
    lockfile_version: Option<u32>,
    #[serde(default)]
    workspaces: Option<OrderedMap<String, Meta>>,
    #[serde(default)]
    packages: Option<OrderedMap<String, Lenient<Tuple>>>,
}

/// Parses a `bun.lock`.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let path = ctx.path();
    let bytes = ctx.fs.read(path)?;
    super::json::ensure_text(path, &bytes, "bun.lock")?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| ParseError::syntax(path, format!("not a valid bun.lock: not UTF-8: {e}")))?;
    let clean = strip_jsonc(text.strip_prefix('\u{feff}').unwrap_or(text));
    let lock: Lock = serde_json::from_str(&clean)
        .map_err(|e| ParseError::syntax(path, format!("not a valid bun.lock: {e}")))?;
    let mut diagnostics = Vec::new();
    let mut graph = DepGraph::new();
    let lines = package_lines(text);

    // Workspaces: "" is the project; others are roots.
    let mut ws_ids: HashMap<String, PackageId> = HashMap::new();
    let empty_ws = OrderedMap::default();
    let workspaces = lock.workspaces.as_ref().unwrap_or(&empty_ws);
    for (dir, meta) in workspaces.iter() {
        if dir.is_empty() {
            continue;
        }
        let mut pkg = Package::new(
            Ecosystem::Npm,
            meta.name.clone().unwrap_or_else(|| dir.clone()),
            meta.version.clone(),
        );
        pkg.source = PackageSource::Path { path: dir.clone() };
        ws_ids.insert(dir.clone(), graph.add_root(pkg));
    }

    let empty = OrderedMap::default();
    let packages = lock.packages.as_ref().unwrap_or(&empty);
    let mut by_path: HashMap<&str, PackageId> = HashMap::new();
    let mut merged: HashMap<(String, Option<String>, PackageSource), PackageId> = HashMap::new();
    let mut read: Vec<(&String, &Tuple)> = Vec::with_capacity(packages.len());
    for (key, t) in packages.iter() {
        match &t.0 {
            Ok(t) => read.push((key, t)),
            Err(e) => diagnostics.push(Diagnostic::new(
                Level::Error,
                path,
                format!("package `{key}` cannot be read ({e}); this entry is skipped, the rest of the file is read"),
            )),
        }
    }
    for &(key, t) in &read {
        let (name, spec) = split_name_spec(&t.ident);
        if name.is_empty() {
            diagnostics.push(Diagnostic::new(
                Level::Error,
                path,
                format!(
                    "package `{key}`: unreadable identifier `{}`; this entry is skipped, the rest of the file is read",
                    t.ident
                ),
            ));
            continue;
        }
        if let Some(ws) = spec.strip_prefix("workspace:") {
            if let Some(&id) = ws_ids.get(ws) {
                by_path.insert(key.as_str(), id);
            }
            continue;
        }
        let version = is_plain_version(spec).then(|| spec.to_string());
        let mut pkg = Package::new(Ecosystem::Npm, name, version);
        pkg.source = if pkg.version.is_some() {
            match &t.registry {
                Some(r) if r.starts_with("http") => PackageSource::Registry {
                    url: Some(crate::ecosystem::redact_url(r)),
                },
                _ => PackageSource::Registry { url: None },
            }
        } else if let Some(gh) = spec.strip_prefix("github:") {
            let (repo, rev) = gh.split_once('#').unwrap_or((gh, ""));
            PackageSource::Git {
                url: format!("https://github.com/{repo}"),
                rev: Some(rev.to_string()).filter(|r| !r.is_empty()),
            }
        } else {
            source_from(None, Some(spec))
        };
        pkg.checksum = t.integrity.clone();
        pkg.line = lines.get(key.as_str()).copied();
        pkg.not_on_target = platform::excluded(
            &ctx.options.target,
            &t.meta.os.0,
            &t.meta.cpu.0,
            &t.meta.libc.0,
        );
        let alias = key.rsplit('/').next().unwrap_or(key);
        if !key.ends_with(name) && !name.contains('/') && alias != name {
            pkg.note("alias", alias);
        }
        let mkey = (pkg.name.clone(), pkg.version.clone(), pkg.source.clone());
        let id = *merged.entry(mkey).or_insert_with(|| graph.add_package(pkg));
        by_path.insert(key.as_str(), id);
    }

    let lookup = |from: &[&str], dep: &str| -> Option<PackageId> {
        for i in (0..=from.len()).rev() {
            let mut k = from[..i].join("/");
            if !k.is_empty() {
                k.push('/');
            }
            k.push_str(dep);
            if let Some(&id) = by_path.get(k.as_str()) {
                return Some(id);
            }
        }
        None
    };
    let mut missing = MissingDeps::new(path);
    for &(key, t) in &read {
        let Some(&from) = by_path.get(key.as_str()) else {
            continue;
        };
        let segs = install_path(key);
        for (deps, kind) in [
            (&t.meta.dependencies, DepKind::Normal),
            (&t.meta.optional_dependencies, DepKind::Optional),
            (&t.meta.peer_dependencies, DepKind::Peer),
        ] {
            for (dep, spec) in deps.iter().flat_map(|d| d.iter()) {
                match lookup(&segs, dep) {
                    Some(to) => graph.add_edge(from, to, kind),
                    None if kind == DepKind::Normal => {
                        missing.add(|| format!("dependency {dep}@{spec} of `{key}`"));
                    }
                    None => {}
                }
            }
        }
    }
    let mut project: Vec<(PackageId, DepKind)> = Vec::new();
    for (dir, meta) in workspaces.iter() {
        let from = ws_ids.get(dir).copied();
        // A member's own versions are installed under its package name
        // (`@ws/lib/log-symbols`); the project's at the top.
        let member = meta
            .name
            .as_deref()
            .filter(|_| !dir.is_empty())
            .map(install_path)
            .unwrap_or_default();
        for (deps, kind) in [
            (&meta.dependencies, DepKind::Normal),
            (&meta.optional_dependencies, DepKind::Optional),
            (&meta.peer_dependencies, DepKind::Peer),
            (&meta.dev_dependencies, DepKind::Dev),
        ] {
            for (dep, spec) in deps.iter().flat_map(|d| d.iter()) {
                let Some(to) = lookup(&member, dep) else {
                    if kind == DepKind::Normal {
                        missing.add(|| format!("dependency {dep}@{spec} of workspace `{dir}`"));
                    }
                    continue;
                };
                match from {
                    Some(f) => graph.add_edge(f, to, kind),
                    None => project.push((to, kind)),
                }
            }
        }
    }
    for (id, kind) in project {
        graph.add_direct(id, kind);
    }
    missing.finish(&mut diagnostics);
    graph.finalize();
    let mut parsed = ParsedSource::from_graph(graph);
    parsed.diagnostics = diagnostics;
    parsed.facts.format_version = lock.lockfile_version.map(|v| v.to_string());
    Ok(parsed)
}

/// The 1-based line of each `"key": [` entry of `packages`.
fn package_lines(text: &str) -> HashMap<&str, u32> {
    let mut out = HashMap::new();
    let mut in_packages = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if !in_packages {
            in_packages = t.starts_with("\"packages\"");
            continue;
        }
        let Some(rest) = t.strip_prefix('"') else {
            continue;
        };
        let Some(end) = rest.find('"') else { continue };
        let value = rest[end + 1..].trim_start();
        if value
            .strip_prefix(':')
            .is_some_and(|v| v.trim_start().starts_with('['))
        {
            out.entry(&rest[..end])
                .or_insert(u32::try_from(i + 1).unwrap_or(u32::MAX));
        }
    }
    out
}

/// The package names along an install path (`@a/b/c` = [`@a/b`, `c`]).
fn install_path(key: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = key;
    while !rest.is_empty() {
        let take = if rest.starts_with('@') {
            match rest.find('/') {
                Some(i) => rest[i + 1..].find('/').map(|j| i + 1 + j),
                None => None,
            }
        } else {
            rest.find('/')
        };
        match take {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => {
                out.push(rest);
                break;
            }
        }
    }
    out
}

/// Removes `//` and `/* */` comments and trailing commas outside strings.
pub fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0; // start of the not-yet-copied slice
    let mut in_str = false;
    // Byte offset in `out` of a pending comma (not yet known to be trailing).
    let mut pending_comma: Option<usize> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if in_str {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_str = true;
                pending_comma = None;
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                out.push_str(&text[last..i]);
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                last = i;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                out.push_str(&text[last..i]);
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
                last = i;
            }
            b',' => {
                out.push_str(&text[last..i]);
                pending_comma = Some(out.len());
                out.push(',');
                i += 1;
                last = i;
            }
            b'}' | b']' => {
                if let Some(pos) = pending_comma.take() {
                    out.push_str(&text[last..i]);
                    last = i;
                    if out[pos + 1..].trim().is_empty() {
                        out.replace_range(pos..pos + 1, " ");
                    }
                }
                i += 1;
            }
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            _ => {
                pending_comma = None;
                i += 1;
            }
        }
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn jsonc() {
        let t = "{\"a\": [1, 2,], // c\n \"b\": \"x,}\", /* d */ \"c\": {\"d\": 1,},}";
        let v: serde_json::Value = serde_json::from_str(&strip_jsonc(t)).unwrap();
        assert_eq!(v["b"], "x,}");
        assert_eq!(v["c"]["d"], 1);
        assert_eq!(v["a"][1], 2);
    }

    #[test]
    fn paths() {
        assert_eq!(install_path("@a/b/c"), vec!["@a/b", "c"]);
        assert_eq!(install_path("a/@b/c/d"), vec!["a", "@b/c", "d"]);
        assert_eq!(install_path("a"), vec!["a"]);
    }
}
