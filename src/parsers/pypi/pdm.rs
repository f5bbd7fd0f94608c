//! `pdm.lock`: packages with their groups (`default` is production, `dev`
//! and the project's dev-dependency groups are dev, other groups are
//! optional extras), sources (git with revision, path, url) and edges from
//! the PEP 508 `dependencies` strings; direct dependencies from the
//! `pyproject.toml` beside it.

use crate::graph::{DepKind, PackageSource};
use crate::parse::{ParseContext, ParseError, ParsedSource};

use super::lock::{
    Flags, LockedPackage, build_graph, git_source, marker_false, package_name, package_tables,
    parse_toml, read_text, requirement_name, str_field, str_list, table_lines, target_env,
};
use super::pyproject;
use crate::ecosystem::redact_url;

/// Parses a `pdm.lock`.
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
        .and_then(|m| str_field(m, "lock_version"))
        .map(str::to_string);
    let entries = package_tables(ctx, &doc, "package")?;
    let project = pyproject::companion(ctx, &mut parsed.diagnostics);
    let dev_groups: Vec<String> = project
        .as_ref()
        .map(|p| {
            p.dependencies
                .iter()
                .filter(|d| d.kind == DepKind::Dev)
                .filter_map(|d| d.group.clone())
                .collect()
        })
        .unwrap_or_default();
    let lines = table_lines(&text, "package");
    let mut packages = Vec::with_capacity(entries.len());
    for (i, t) in entries.into_iter().enumerate() {
        let Some(name) = package_name(ctx, &mut parsed, &lines, i, t) else {
            continue;
        };
        let groups = str_list(t, "groups");
        let prod = groups.is_empty() || groups.iter().any(|g| g == "default");
        let dev = !prod && groups.iter().any(|g| g == "dev" || dev_groups.contains(g));
        let optional = !prod && !dev;
        let declared = if prod {
            Vec::new()
        } else if dev {
            vec!["dev".to_string()]
        } else {
            vec!["optional".to_string()]
        };
        let requirements = str_list(t, "dependencies");
        let dependencies = requirements
            .iter()
            .filter_map(|d| requirement_name(d).map(|n| (n.to_string(), DepKind::Normal)))
            .collect();
        // `colorama; sys_platform == "win32"`: required only where the
        // marker holds.
        let off_target_dependencies = requirements
            .iter()
            .filter(|d| {
                d.split_once(';')
                    .is_some_and(|(_, m)| marker_false(m.trim(), env.as_ref()))
            })
            .filter_map(|d| requirement_name(d).map(str::to_string))
            .collect();
        packages.push(LockedPackage {
            name: name.to_string(),
            version: str_field(t, "version").map(str::to_string),
            source: package_source(t),
            groups: declared,
            dev,
            optional,
            dependencies,
            off_target_dependencies,
            line: lines.get(i).copied(),
            marker: str_field(t, "marker").map(str::to_string),
            off_target: str_field(t, "marker").is_some_and(|m| marker_false(m, env.as_ref())),
        });
    }
    let roots = project.map(|p| vec![p.as_root(".")]).unwrap_or_default();
    parsed.graph = build_graph(packages, &roots, Flags::Declared);
    Ok(parsed)
}

fn package_source(t: &toml::Table) -> PackageSource {
    if let Some(url) = str_field(t, "git") {
        return git_source(url, str_field(t, "revision").or(str_field(t, "ref")));
    }
    if let Some(p) = str_field(t, "path") {
        return PackageSource::Path {
            path: p.to_string(),
        };
    }
    if let Some(u) = str_field(t, "url") {
        return PackageSource::Url { url: redact_url(u) };
    }
    PackageSource::Registry { url: None }
}
