//! `poetry.lock` (lock-version 1.x and 2.x): packages with their groups
//! (`category` in 1.x, `groups` in 2.1), `optional`, sources (git, url,
//! file, directory, legacy index) and edges from `[package.dependencies]`;
//! direct dependencies from the `pyproject.toml` beside it. Lock-version
//! 2.0 (Poetry 1.5 to 1.8) records neither `category` nor `groups`: dev
//! and groups then follow from the project's groups through the edges.

use crate::graph::{DepKind, PackageSource};
use crate::parse::{IndexRef, ParseContext, ParseError, ParsedSource};

use super::lock::{
    Flags, LockedPackage, build_graph, git_source, marker_false, package_name, package_tables,
    parse_toml, read_text, str_field, str_list, table_lines, target_env,
};
use super::pyproject;
use crate::ecosystem::redact_url;

/// Parses a `poetry.lock`.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let mut parsed = ParsedSource::default();
    let Some(text) = read_text(ctx)? else {
        return Ok(parsed);
    };
    let doc = parse_toml(ctx, &text)?;
    let env = target_env(ctx);
    parsed.facts.format_version = doc
        .get("metadata")
        .and_then(toml::Value::as_table)
        .and_then(|m| m.get("lock-version"))
        .and_then(toml::Value::as_str)
        .map(str::to_string);
    let entries = package_tables(ctx, &doc, "package")?;
    let lines = table_lines(&text, "package");
    let mut packages = Vec::with_capacity(entries.len());
    let declares_groups = entries
        .iter()
        .any(|t| t.contains_key("groups") || t.contains_key("category"));
    for (i, t) in entries.into_iter().enumerate() {
        let Some(name) = package_name(ctx, &mut parsed, &lines, i, t) else {
            continue;
        };
        let optional = t
            .get("optional")
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        let groups = str_list(t, "groups");
        let category = str_field(t, "category");
        let in_main = groups.iter().any(|g| g == "main")
            || (groups.is_empty() && category.is_none_or(|c| c == "main"));
        let mut declared: Vec<String> = if in_main {
            Vec::new()
        } else if groups.is_empty() {
            category.map(str::to_string).into_iter().collect()
        } else {
            groups.clone()
        };
        if optional && in_main {
            declared = vec!["optional".to_string()];
        }
        let source = t.get("source").and_then(toml::Value::as_table);
        let (source, index) = source
            .map(package_source)
            .unwrap_or((PackageSource::Registry { url: None }, None));
        if let Some(ix) = index
            && !parsed.facts.indexes.contains(&ix)
        {
            parsed.facts.indexes.push(ix);
        }
        packages.push(LockedPackage {
            name: name.to_string(),
            version: str_field(t, "version").map(str::to_string),
            source,
            dev: !in_main,
            optional: optional && in_main,
            groups: declared,
            dependencies: dependencies(t),
            off_target_dependencies: off_target_dependencies(t, env.as_ref()),
            line: lines.get(i).copied(),
            marker: str_field(t, "markers").map(str::to_string),
            off_target: str_field(t, "markers").is_some_and(|m| marker_false(m, env.as_ref())),
        });
    }
    let project = pyproject::companion(ctx, &mut parsed.diagnostics)
        .map(|p| vec![p.as_root(".")])
        .unwrap_or_default();
    parsed.graph = build_graph(packages, &project, Flags::Declared);
    if !declares_groups {
        // Poetry 1.5 to 1.8 write lock-version 2.0 without `category` or
        // `groups`: the groups follow from the project's declarations.
        for p in parsed.graph.packages_mut() {
            if p.root || !p.groups.is_empty() {
                continue;
            }
            if p.dev {
                p.groups = vec!["dev".to_string()];
            } else if p.optional {
                p.groups = vec!["optional".to_string()];
            }
        }
    }
    Ok(parsed)
}

/// `[package.dependencies]`: `name = "spec"`, `{ version, optional }`, or
/// an array of such tables (per-marker alternatives).
fn dependencies(t: &toml::Table) -> Vec<(String, DepKind)> {
    let Some(deps) = t.get("dependencies").and_then(toml::Value::as_table) else {
        return Vec::new();
    };
    deps.iter()
        .map(|(name, spec)| {
            let optional = spec
                .as_table()
                .and_then(|s| s.get("optional"))
                .and_then(toml::Value::as_bool)
                .unwrap_or(false);
            let kind = if optional {
                DepKind::Optional
            } else {
                DepKind::Normal
            };
            (name.clone(), kind)
        })
        .collect()
}

/// The dependencies of `[package.dependencies]` whose every alternative
/// carries a `markers` expression false for the target (`colorama =
/// {version = "*", markers = "sys_platform == \"win32\""}`).
fn off_target_dependencies(
    t: &toml::Table,
    env: Option<&pep508_rs::MarkerEnvironment>,
) -> Vec<String> {
    let Some(deps) = t.get("dependencies").and_then(toml::Value::as_table) else {
        return Vec::new();
    };
    let false_marker = |v: &toml::Value| {
        v.as_table()
            .and_then(|s| s.get("markers"))
            .and_then(toml::Value::as_str)
            .is_some_and(|m| marker_false(m, env))
    };
    deps.iter()
        .filter(|(_, spec)| match spec {
            toml::Value::Array(alts) => !alts.is_empty() && alts.iter().all(false_marker),
            other => false_marker(other),
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// `[package.source]`: where the package came from, and the index it names
/// (a `legacy` or explicit source is a private or mirror index).
fn package_source(s: &toml::Table) -> (PackageSource, Option<IndexRef>) {
    let url = str_field(s, "url").unwrap_or("");
    match str_field(s, "type").unwrap_or("") {
        "git" => (
            git_source(
                url,
                str_field(s, "resolved_reference").or(str_field(s, "reference")),
            ),
            None,
        ),
        "url" => (
            PackageSource::Url {
                url: redact_url(url),
            },
            None,
        ),
        "file" | "directory" => (
            PackageSource::Path {
                path: url.to_string(),
            },
            None,
        ),
        _ if url.is_empty() => (PackageSource::Registry { url: None }, None),
        _ => (
            PackageSource::Registry {
                url: Some(redact_url(url)),
            },
            Some(IndexRef {
                kind: "source".into(),
                url: redact_url(url),
                name: str_field(s, "reference").map(str::to_string),
            }),
        ),
    }
}
