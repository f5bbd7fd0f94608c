//! `uv.lock`: every package with its source (registry, git, path,
//! directory, editable, virtual, url), `dependencies`, the extras other
//! packages request (`optional-dependencies`) and `dev-dependencies`.
//! Workspace members (editable or virtual sources) are the roots; the
//! project at `.` is not inventoried itself, its dependencies are direct.

use std::collections::{HashMap, HashSet};

use crate::graph::{DepKind, PackageSource};
use crate::parse::{IndexRef, ParseContext, ParseError, ParsedSource};

use super::lock::{
    Flags, LockedPackage, ProjectRoot, build_graph, git_source, marker_false, normalize,
    package_name, package_tables, parse_toml, read_text, str_field, table_lines, target_env,
};
use crate::ecosystem::redact_url;

/// The public index uv records for PyPI packages.
const PYPI_SIMPLE: &str = "https://pypi.org/simple";

/// Parses a `uv.lock`.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let mut parsed = ParsedSource::default();
    let Some(text) = read_text(ctx)? else {
        return Ok(parsed);
    };
    let doc = parse_toml(ctx, &text)?;
    parsed.facts.format_version = doc.get("version").map(|v| v.to_string());
    let entries = package_tables(ctx, &doc, "package")?;
    let lines = table_lines(&text, "package");
    // Extras some package asks for, per package name.
    let mut requested: HashMap<String, HashSet<String>> = HashMap::new();
    for t in &entries {
        for list in dependency_lists(t) {
            for d in list {
                if let (Some(name), Some(extras)) = (
                    str_field(d, "name"),
                    d.get("extra").and_then(toml::Value::as_array),
                ) {
                    requested
                        .entry(normalize(name))
                        .or_default()
                        .extend(extras.iter().filter_map(|e| e.as_str().map(str::to_string)));
                }
            }
        }
    }
    let mut packages = Vec::with_capacity(entries.len());
    let mut members = Vec::new();
    for (i, t) in entries.iter().enumerate() {
        let Some(name) = package_name(ctx, &mut parsed, &lines, i, t) else {
            continue;
        };
        let version = str_field(t, "version").map(str::to_string);
        let src = t.get("source").and_then(toml::Value::as_table);
        let member_path = src.and_then(|s| str_field(s, "editable").or(str_field(s, "virtual")));
        if let Some(path) = member_path {
            members.push(ProjectRoot {
                name: name.to_string(),
                version: version.clone(),
                path: path.to_string(),
                dependencies: root_dependencies(t),
            });
            if path == "." {
                continue;
            }
        }
        let source = match src {
            Some(s) => package_source(s, &mut parsed.facts.indexes),
            None => PackageSource::Registry { url: None },
        };
        let mut dependencies: Vec<(String, DepKind)> = named(t.get("dependencies"))
            .map(|n| (n, DepKind::Normal))
            .collect();
        if member_path.is_none()
            && let (Some(extras), Some(opt)) = (
                requested.get(&normalize(name)),
                t.get("optional-dependencies")
                    .and_then(toml::Value::as_table),
            )
        {
            for (extra, list) in opt {
                if extras.contains(extra) {
                    dependencies.extend(named(Some(list)).map(|n| (n, DepKind::Normal)));
                }
            }
        }
        packages.push(LockedPackage {
            name: name.to_string(),
            version,
            source,
            dependencies,
            line: lines.get(i).copied(),
            ..Default::default()
        });
    }
    let installed = installed_on_target(&entries, target_env(ctx).as_ref());
    if let Some(installed) = installed {
        for p in &mut packages {
            p.off_target = !installed.contains(&normalize(&p.name));
        }
    }
    parsed.graph = build_graph(packages, &members, Flags::FromProject);
    Ok(parsed)
}

/// Normalised names of the packages installed on the target: reachable
/// from the workspace members through dependencies whose markers hold
/// there (every extra and dev group counts as requested). `None` when the
/// lock has no member to start from.
fn installed_on_target(
    entries: &[&toml::Table],
    env: Option<&pep508_rs::MarkerEnvironment>,
) -> Option<HashSet<String>> {
    let is_member = |t: &toml::Table| {
        t.get("source")
            .and_then(toml::Value::as_table)
            .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"))
    };
    let mut edges: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    let mut queue: Vec<String> = Vec::new();
    for t in entries {
        let Some(name) = str_field(t, "name") else {
            continue;
        };
        let key = normalize(name);
        let out = edges.entry(key.clone()).or_default();
        for list in dependency_lists(t) {
            for d in list {
                if let Some(dep) = str_field(d, "name") {
                    let holds = !str_field(d, "marker").is_some_and(|m| marker_false(m, env));
                    out.push((normalize(dep), holds));
                }
            }
        }
        if is_member(t) {
            queue.push(key);
        }
    }
    if queue.is_empty() || env.is_none() {
        return None;
    }
    let mut seen: HashSet<String> = queue.iter().cloned().collect();
    while let Some(cur) = queue.pop() {
        for (dep, holds) in edges.get(&cur).map(Vec::as_slice).unwrap_or(&[]) {
            if *holds && seen.insert(dep.clone()) {
                queue.push(dep.clone());
            }
        }
    }
    Some(seen)
}

/// The tables of `dependencies`, every `optional-dependencies` list and
/// every `dev-dependencies` list of a package.
fn dependency_lists(t: &toml::Table) -> Vec<Vec<&toml::Table>> {
    let mut out = vec![tables_of(t.get("dependencies"))];
    for key in ["optional-dependencies", "dev-dependencies"] {
        if let Some(groups) = t.get(key).and_then(toml::Value::as_table) {
            out.extend(groups.values().map(|v| tables_of(Some(v))));
        }
    }
    out
}

fn tables_of(v: Option<&toml::Value>) -> Vec<&toml::Table> {
    v.and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(toml::Value::as_table).collect())
        .unwrap_or_default()
}

/// Names in a list of `{ name = ... }` tables.
fn named(v: Option<&toml::Value>) -> impl Iterator<Item = String> + '_ {
    tables_of(v)
        .into_iter()
        .filter_map(|d| str_field(d, "name").map(str::to_string))
}

/// A member's direct dependencies: main, extras (optional, grouped by
/// extra) and dev groups.
fn root_dependencies(t: &toml::Table) -> Vec<(String, DepKind, Option<String>)> {
    let mut out: Vec<(String, DepKind, Option<String>)> = named(t.get("dependencies"))
        .map(|n| (n, DepKind::Normal, None))
        .collect();
    for (key, kind) in [
        ("optional-dependencies", DepKind::Optional),
        ("dev-dependencies", DepKind::Dev),
    ] {
        if let Some(groups) = t.get(key).and_then(toml::Value::as_table) {
            for (group, list) in groups {
                out.extend(named(Some(list)).map(|n| (n, kind, Some(group.clone()))));
            }
        }
    }
    out
}

/// A package's `source` table.
fn package_source(s: &toml::Table, indexes: &mut Vec<IndexRef>) -> PackageSource {
    if let Some(url) = str_field(s, "registry") {
        let url = redact_url(url);
        if url.trim_end_matches('/') != PYPI_SIMPLE {
            let ix = IndexRef {
                kind: "index".into(),
                url: url.clone(),
                name: None,
            };
            if !indexes.contains(&ix) {
                indexes.push(ix);
            }
        }
        return PackageSource::Registry { url: Some(url) };
    }
    if let Some(url) = str_field(s, "git") {
        return git_source(url, None);
    }
    if let Some(url) = str_field(s, "url") {
        return PackageSource::Url {
            url: redact_url(url),
        };
    }
    if let Some(p) = str_field(s, "path").or(str_field(s, "directory")) {
        return PackageSource::Path {
            path: p.to_string(),
        };
    }
    PackageSource::Registry { url: None }
}
