//! `yarn.lock`, classic (v1) and berry (v2+, `__metadata`).
//!
//! Both are read by one indentation-based reader: an entry starts at column
//! 0 with its comma-separated specifiers (`"a@^1", a@^1.2:`), its fields are
//! indented (`version "1.0.0"` in v1, `version: 1.0.0` in berry), and the
//! dependency maps are indented once more. Aliases (`x@npm:real@^1`) are
//! reported under the real name; berry `resolution` decides name and
//! source (`npm:`, git, `file:`, `link:`/`portal:`, `patch:` reported as
//! the patched package, `workspace:` entries as workspace roots). Which
//! entries are direct, and which are dev-only, comes from the
//! `package.json` beside the lockfile (and its workspace members).

use std::collections::HashMap;

mod entries;

pub use entries::MAX_LINE_BYTES;
use entries::{read_entries, unbound};

use super::manifest::{PackageJson, expand_workspaces, root_package};
use super::{git_source, is_git_spec, npm_alias, platform, source_from, split_name_spec};
use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::ecosystem::redact_url;
use crate::graph::{DepGraph, DepKind, Package, PackageId, PackageSource};
use crate::parse::{MissingDeps, ParseContext, ParseError, ParsedSource};

/// Parses a `yarn.lock`.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let path = ctx.path();
    let bytes = ctx.fs.read(path)?;
    super::json::ensure_text(path, &bytes, "yarn.lock")?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| ParseError::syntax(path, format!("not a valid yarn.lock: not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let max = ctx.options.limits.max_packages;
    let (entries, berry, problems) = read_entries(text, max).map_err(|(line, msg)| {
        ParseError::syntax(path, format!("not a valid yarn.lock: line {line}: {msg}"))
    })?;
    let mut diagnostics = Vec::new();
    for (line, msg) in problems.iter().take(MissingDeps::LISTED) {
        diagnostics.push(Diagnostic::new(
            Level::Error,
            path,
            format!("line {line}: {msg}; skipped, the rest of the file is read"),
        ));
    }
    if problems.len() > MissingDeps::LISTED {
        diagnostics.push(Diagnostic::new(
            Level::Error,
            path,
            format!(
                "{} more unreadable lines ({} in all)",
                problems.len() - MissingDeps::LISTED,
                problems.len()
            ),
        ));
    }

    // Companion manifests: the project and its workspace members.
    let base = ctx.source.dir();
    let manifest_path = base.join("package.json");
    let manifest = if ctx.fs.is_file(&manifest_path) {
        match PackageJson::load(ctx.fs, &manifest_path) {
            Ok(m) => Some(m),
            Err(e) => {
                diagnostics.push(Diagnostic::new(
                    Level::Warning,
                    &manifest_path,
                    format!("direct dependencies not known: {e}"),
                ));
                None
            }
        }
    } else {
        None
    };
    let mut members: Vec<(String, PackageJson)> = Vec::new();
    if let Some(m) = &manifest {
        for rel in expand_workspaces(ctx.fs, base, &m.workspaces) {
            if let Ok(pm) = PackageJson::load(ctx.fs, &base.join(&rel).join("package.json")) {
                members.push((rel, pm));
            }
        }
    }

    let mut graph = DepGraph::new();
    let mut by_spec: HashMap<&str, PackageId> = HashMap::new();
    let mut by_name: HashMap<String, Vec<PackageId>> = HashMap::new();
    let mut merged: HashMap<(String, Option<String>, PackageSource), PackageId> = HashMap::new();
    let mut entry_ids: Vec<Option<PackageId>> = Vec::with_capacity(entries.len());
    let mut project_entry: Option<usize> = None;
    for (i, e) in entries.iter().enumerate() {
        let Some(first) = e.specs.first() else {
            entry_ids.push(None);
            continue;
        };
        let (spec_name, spec_range) = split_name_spec(first);
        let (mut name, resolution_ref) = match &e.resolution {
            Some(r) => {
                let (n, rest) = split_name_spec(r);
                (n.to_string(), Some(rest))
            }
            None => match npm_alias(spec_range) {
                Some((real, _)) => (real.to_string(), None),
                None => (spec_name.to_string(), None),
            },
        };
        // A workspace: the project itself (`workspace:.`) is not a package;
        // a member is a root.
        let workspace = resolution_ref
            .and_then(|r| r.strip_prefix("workspace:"))
            .or_else(|| spec_range.strip_prefix("workspace:").filter(|_| berry));
        if let Some(ws) = workspace {
            if ws == "." {
                project_entry = Some(i);
                entry_ids.push(None);
                continue;
            }
            let mut pkg = Package::new(Ecosystem::Npm, name, e.version.map(str::to_string));
            pkg.source = PackageSource::Path {
                path: ws.to_string(),
            };
            pkg.line = Some(e.line);
            let id = graph.add_root(pkg);
            for s in &e.specs {
                by_spec.insert(s.as_str(), id);
                if let Some(u) = unbound(s) {
                    by_spec.entry(u).or_insert(id);
                }
            }
            entry_ids.push(Some(id));
            continue;
        }
        let mut source = match resolution_ref {
            Some(r) => berry_source(r),
            None => classic_source(e.resolved, spec_range),
        };
        if let Some(r) = resolution_ref
            && let Some(inner) = r.strip_prefix("patch:")
        {
            // `patch:real@npm%3A1.2.3#...`: the patched package.
            let inner = inner.split('#').next().unwrap_or(inner).replace("%3A", ":");
            let (n, inner_ref) = split_name_spec(&inner);
            if !n.is_empty() {
                name = n.to_string();
            }
            source = berry_source(inner_ref);
        }
        let mut pkg = Package::new(Ecosystem::Npm, name.clone(), e.version.map(str::to_string));
        pkg.line = Some(e.line);
        pkg.checksum = e.integrity.or(e.checksum).map(str::to_string);
        if spec_name != name {
            pkg.note("alias", spec_name);
        }
        pkg.source = source;
        if let Some(c) = e.conditions {
            pkg.not_on_target = platform::berry_excluded(&ctx.options.target, c);
        }
        let key = (name.clone(), pkg.version.clone(), pkg.source.clone());
        let id = match merged.get(&key) {
            Some(&id) => id,
            None => {
                let id = graph.add_package(pkg);
                merged.insert(key, id);
                by_name.entry(name.clone()).or_default().push(id);
                id
            }
        };
        for s in &e.specs {
            by_spec.insert(s.as_str(), id);
            if let Some(u) = unbound(s) {
                by_spec.entry(u).or_insert(id);
            }
        }
        entry_ids.push(Some(id));
    }

    // A dependency `name: range` to the entry whose header lists the
    // descriptor `name@range`; berry writes ranges with their protocol
    // (`npm:^4.0.0`), classic without, and a berry header may bind a
    // descriptor to a locator (see `unbound`).
    let lookup = |name: &str, range: &str| -> Option<PackageId> {
        let mut keys = vec![format!("{name}@{range}")];
        if !range.contains(':') {
            keys.push(format!("{name}@npm:{range}"));
        } else if let Some(plain) = range.strip_prefix("npm:")
            && npm_alias(range).is_none()
        {
            keys.push(format!("{name}@{plain}"));
        }
        if let Some(&id) = keys.iter().find_map(|k| by_spec.get(k.as_str())) {
            return Some(id);
        }
        match by_name.get(name).map(Vec::as_slice) {
            Some([only]) => Some(*only),
            _ => None,
        }
    };

    // Berry lists a workspace's devDependencies among its `dependencies`:
    // where the member's package.json is read, its declarations (with their
    // kinds) give the member's edges instead.
    let described: std::collections::HashSet<&str> = members
        .iter()
        .filter_map(|(_, m)| m.name.as_deref())
        .collect();
    let mut missing = MissingDeps::new(path);
    for (i, e) in entries.iter().enumerate() {
        let from = entry_ids.get(i).copied().flatten();
        if from.is_some_and(|f| {
            let p = graph.package(f);
            p.root && described.contains(p.name.as_str())
        }) {
            continue;
        }
        for (dep, range, kind) in &e.deps {
            let Some(to) = lookup(dep, range) else {
                if *kind == DepKind::Normal {
                    missing.add(|| format!("dependency {dep}@{range} (line {})", e.line));
                }
                continue;
            };
            match from {
                Some(from) => graph.add_edge(from, to, *kind),
                None if project_entry == Some(i) && manifest.is_none() => {
                    graph.add_direct(to, *kind);
                }
                None => {}
            }
        }
    }

    // Direct dependencies and their kinds from the manifests.
    let mut member_ids: HashMap<String, PackageId> = HashMap::new();
    for (id, p) in graph.iter() {
        if p.root {
            member_ids.insert(p.name.clone(), id);
        }
    }
    for (rel, m) in &members {
        let rid = match m.name.as_ref().and_then(|n| member_ids.get(n)) {
            Some(&id) => id,
            None => {
                let id = graph.add_root(root_package(m, rel));
                if let Some(n) = &m.name {
                    member_ids.insert(n.clone(), id);
                }
                id
            }
        };
        for (n, s, k) in m.declared() {
            if let Some(to) = member_ids.get(n).copied().or_else(|| lookup(n, s)) {
                graph.add_edge(rid, to, k);
            }
        }
    }
    if let Some(m) = &manifest {
        for (n, s, k) in m.declared() {
            let to = member_ids.get(n).copied().or_else(|| lookup(n, s));
            if let Some(to) = to {
                graph.add_direct(to, k);
            }
        }
    }
    graph.finalize();
    for p in graph.packages_mut() {
        if p.root {
            continue;
        }
        p.groups = if p.dev {
            vec!["dev".to_string()]
        } else if p.optional {
            vec!["optional".to_string()]
        } else {
            Vec::new()
        };
    }
    missing.finish(&mut diagnostics);
    let mut parsed = ParsedSource::from_graph(graph);
    parsed.diagnostics = diagnostics;
    parsed.facts.format_version = Some(if berry { "berry" } else { "v1" }.to_string());
    Ok(parsed)
}

/// The source of a classic entry from its `resolved` field (or the
/// specifier when there is none).
fn classic_source(resolved: Option<&str>, range: &str) -> PackageSource {
    if let Some(r) = resolved {
        if r.starts_with("https://codeload.github.com/") {
            return source_from(Some(r), None);
        }
        if is_git_spec(r) || r.starts_with("ssh://") {
            return git_source(r);
        }
        if let Some((u, frag)) = r.split_once('#')
            && !u.ends_with(".tgz")
            && frag.len() >= 7
            && frag.chars().all(|c| c.is_ascii_hexdigit())
        {
            return git_source(r);
        }
        return source_from(Some(r), None);
    }
    if let Some(p) = range
        .strip_prefix("file:")
        .or_else(|| range.strip_prefix("link:"))
    {
        return PackageSource::Path {
            path: p.to_string(),
        };
    }
    if is_git_spec(range) {
        return git_source(range);
    }
    PackageSource::Registry { url: None }
}

/// The source of a berry entry from the reference part of its
/// `resolution` (after `name@`).
fn berry_source(r: &str) -> PackageSource {
    if r.starts_with("npm:") {
        return PackageSource::Registry { url: None };
    }
    for proto in ["file:", "link:", "portal:"] {
        if let Some(p) = r.strip_prefix(proto) {
            let p = p.split('#').next().unwrap_or(p);
            let p = p.split("::").next().unwrap_or(p);
            return PackageSource::Path {
                path: p.to_string(),
            };
        }
    }
    if is_git_spec(r) || r.contains(".git#") || r.contains("#commit=") || r.contains("#commit:") {
        let (url, rev) = r.split_once('#').unwrap_or((r, ""));
        let rev = rev
            .split('&')
            .find_map(|kv| {
                kv.strip_prefix("commit=")
                    .or_else(|| kv.strip_prefix("commit:"))
            })
            .or(Some(rev).filter(|r| !r.is_empty()));
        return PackageSource::Git {
            url: redact_url(url),
            rev: rev.map(str::to_string),
        };
    }
    if r.starts_with("https://") || r.starts_with("http://") {
        return source_from(Some(r), None);
    }
    PackageSource::Registry { url: None }
}

#[cfg(test)]
mod tests;
