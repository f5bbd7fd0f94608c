//! `pylock.toml` (PEP 751): `[[packages]]` with `version`, `index`, `vcs`
//! (git with `commit-id`), `directory`, `archive`, and `dependencies` when
//! the writer records them. The project's own directory entry (`.`) is
//! not a dependency and is left out.

use crate::graph::{DepKind, PackageSource};
use crate::parse::{IndexRef, ParseContext, ParseError, ParsedSource};

use super::lock::{
    Flags, LockedPackage, build_graph, git_source, marker_false, package_tables, parse_toml,
    read_text, str_field, target_env,
};
use crate::ecosystem::redact_url;

/// Parses a `pylock.toml`.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let mut parsed = ParsedSource::default();
    let Some(text) = read_text(ctx)? else {
        return Ok(parsed);
    };
    let doc = parse_toml(ctx, &text)?;
    let env = target_env(ctx);
    parsed.facts.format_version = str_field(&doc, "lock-version").map(str::to_string);
    let entries = package_tables(ctx, &doc, "packages")?;
    let lines = package_lines(&text);
    let mut packages = Vec::with_capacity(entries.len());
    for (i, t) in entries.into_iter().enumerate() {
        let Some(name) = str_field(t, "name") else {
            continue;
        };
        let sub = |k: &str| t.get(k).and_then(toml::Value::as_table);
        let source = if let Some(vcs) = sub("vcs") {
            git_source(
                str_field(vcs, "url")
                    .or(str_field(vcs, "path"))
                    .unwrap_or(""),
                str_field(vcs, "commit-id").or(str_field(vcs, "requested-revision")),
            )
        } else if let Some(dir) = sub("directory") {
            let path = str_field(dir, "path").unwrap_or(".");
            if path == "." || path.is_empty() {
                continue;
            }
            PackageSource::Path {
                path: path.to_string(),
            }
        } else if let Some(archive) = sub("archive") {
            match str_field(archive, "url") {
                Some(u) => PackageSource::Url { url: redact_url(u) },
                None => PackageSource::Path {
                    path: str_field(archive, "path").unwrap_or("").to_string(),
                },
            }
        } else {
            let index = str_field(t, "index").map(redact_url);
            if let Some(url) = &index {
                let ix = IndexRef {
                    kind: "index".into(),
                    url: url.clone(),
                    name: None,
                };
                if !url.starts_with("https://pypi.org/") && !parsed.facts.indexes.contains(&ix) {
                    parsed.facts.indexes.push(ix);
                }
            }
            PackageSource::Registry { url: index }
        };
        let dependencies = t
            .get("dependencies")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_table().and_then(|d| str_field(d, "name")))
                    .map(|n| (n.to_string(), DepKind::Normal))
                    .collect()
            })
            .unwrap_or_default();
        packages.push(LockedPackage {
            name: name.to_string(),
            version: str_field(t, "version").map(str::to_string),
            source,
            dependencies,
            line: lines.get(i).copied(),
            marker: str_field(t, "marker").map(str::to_string),
            off_target: str_field(t, "marker").is_some_and(|m| marker_false(m, env.as_ref())),
            ..Default::default()
        });
    }
    parsed.graph = build_graph(packages, &[], Flags::Declared);
    Ok(parsed)
}

/// Lines of the `[[packages]]` headers, or of the inline `{ name = ... }`
/// entries when the writer uses an inline array.
fn package_lines(text: &str) -> Vec<u32> {
    let headers = super::lock::table_lines(text, "packages");
    if !headers.is_empty() {
        return headers;
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.trim_start().starts_with("{ name =") || l.trim_start().starts_with("{name =")
        })
        .map(|(i, _)| i as u32 + 1)
        .collect()
}
