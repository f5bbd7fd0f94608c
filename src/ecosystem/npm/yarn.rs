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

use super::manifest::{PackageJson, expand_workspaces, root_package};
use super::{git_source, is_git_spec, npm_alias, source_from, split_name_spec};
use crate::ecosystem::Ecosystem;
use crate::ecosystem::redact_url;
use crate::graph::{DepGraph, DepKind, FlagMode, Package, PackageId, PackageSource};
use crate::parse::{Diagnostic, Level, ParseContext, ParseError, ParsedSource};

/// Longest line read, in bytes: an entry whose header is longer is an
/// error for that entry (the rest of the file is read), and a longer field
/// line is skipped with an error. Such lines are never copied.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One lockfile entry.
#[derive(Default, Debug)]
struct Entry<'a> {
    specs: Vec<String>,
    line: u32,
    version: Option<&'a str>,
    resolved: Option<&'a str>,
    integrity: Option<&'a str>,
    resolution: Option<String>,
    checksum: Option<&'a str>,
    deps: Vec<(String, String, DepKind)>,
}

/// Parses a `yarn.lock`.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let path = ctx.path();
    let bytes = ctx.fs.read(path)?;
    super::json::ensure_text(path, &bytes, "yarn.lock")?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| ParseError::syntax(path, format!("not a valid yarn.lock: not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut long_lines = Vec::new();
    let (entries, berry) = read_entries(text, ctx.options.limits.max_packages, &mut long_lines)
        .map_err(|(line, msg)| {
            ParseError::syntax(path, format!("not a valid yarn.lock: line {line}: {msg}"))
        })?;
    let mut diagnostics = Vec::new();
    for (line, len, header) in long_lines {
        diagnostics.push(Diagnostic::new(
            Level::Error,
            path,
            format!(
                "line {line}: {len} bytes, over the {MAX_LINE_BYTES}-byte limit of one line; {}",
                if header {
                    "the entry it starts is not read"
                } else {
                    "the line is not read"
                }
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
        }
        entry_ids.push(Some(id));
    }

    let lookup = |name: &str, range: &str| -> Option<PackageId> {
        let key = format!("{name}@{range}");
        if let Some(&id) = by_spec.get(key.as_str()) {
            return Some(id);
        }
        if !range.contains(':') {
            let key = format!("{name}@npm:{range}");
            if let Some(&id) = by_spec.get(key.as_str()) {
                return Some(id);
            }
        }
        match by_name.get(name).map(Vec::as_slice) {
            Some([only]) => Some(*only),
            _ => None,
        }
    };

    let mut unresolved = 0usize;
    for (i, e) in entries.iter().enumerate() {
        let from = entry_ids.get(i).copied().flatten();
        for (dep, range, kind) in &e.deps {
            let Some(to) = lookup(dep, range) else {
                if *kind == DepKind::Normal {
                    unresolved += 1;
                    if unresolved <= 20 {
                        diagnostics.push(Diagnostic::new(
                            Level::Warning,
                            path,
                            format!(
                                "dependency {dep}@{range} (line {}) is not in the lockfile",
                                e.line
                            ),
                        ));
                    }
                }
                continue;
            };
            match from {
                Some(from) => graph.add_edge(from, to, *kind),
                None if project_entry == Some(i) && manifest.is_none() => {
                    graph.package_mut(to).direct = true;
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
            if let Some(to) = to
                && !graph.package(to).root
            {
                let p = graph.package_mut(to);
                if !p.direct {
                    p.direct = true;
                    p.dev = k == DepKind::Dev;
                } else if k != DepKind::Dev {
                    p.dev = false;
                }
            }
        }
    }
    graph.finalize(FlagMode::FromEdges);
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

/// Removes the quotes around a yarn string (and its escapes).
fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let inner = &s[1..s.len() - 1];
        if inner.contains('\\') {
            return serde_json::from_str::<String>(s).unwrap_or_else(|_| inner.to_string());
        }
        return inner.to_string();
    }
    s.to_string()
}

/// Splits a line's content into key and value (`key value`, `key: value`,
/// quoted keys).
fn key_value(s: &str) -> Option<(String, &str)> {
    if let Some(rest) = s.strip_prefix('"') {
        let end = find_quote_end(rest)?;
        let key = unquote(&s[..end + 2]);
        let after = rest[end + 1..].trim_start();
        let after = after.strip_prefix(':').unwrap_or(after).trim();
        return Some((key, after));
    }
    let end = s
        .char_indices()
        .find(|&(i, c)| {
            c == ' '
                || (c == ':' && s[i + 1..].starts_with([' ', '\t']))
                || (c == ':' && i + 1 == s.len())
        })
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let key = s[..end].to_string();
    let after = s[end..].trim_start();
    let after = after.strip_prefix(':').unwrap_or(after).trim();
    Some((key, after))
}

fn find_quote_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Some(i);
        }
    }
    None
}

/// Splits an entry header (`"a@^1", a@^1.2:`) into specifiers.
fn header_specs(line: &str) -> Vec<String> {
    let line = line.trim_end();
    let line = line.strip_suffix(':').unwrap_or(line);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_q = false;
    for c in line.chars() {
        match c {
            '"' => in_q = !in_q,
            ',' if !in_q => {
                let t = cur.trim();
                if !t.is_empty() {
                    out.push(t.to_string());
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    let t = cur.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
    out
}

/// Reads the entries; returns them and whether the file is berry. Lines
/// over [`MAX_LINE_BYTES`] go to `long_lines` (line, length, whether it is
/// an entry header) and are not read; more than `max_entries` entries is
/// an error.
fn read_entries<'t>(
    text: &'t str,
    max_entries: usize,
    long_lines: &mut Vec<(usize, usize, bool)>,
) -> Result<(Vec<Entry<'t>>, bool), (usize, String)> {
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut berry = false;
    let mut section: Option<DepKind> = None;
    let mut skip_block = false;
    let mut in_metadata = false;
    for (idx, raw_line) in text.lines().enumerate() {
        let lineno = idx + 1;
        if raw_line.len() > MAX_LINE_BYTES {
            let header = !raw_line.starts_with([' ', '\t']);
            long_lines.push((lineno, raw_line.len(), header));
            if header {
                // An entry without specifiers: skipped with its fields.
                entries.push(Entry {
                    line: u32::try_from(lineno).unwrap_or(u32::MAX),
                    ..Default::default()
                });
                section = None;
                skip_block = true;
                in_metadata = false;
            }
            continue;
        }
        if entries.len() > max_entries {
            return Err((
                lineno,
                format!("more than {max_entries} entries, over the limit of packages per source"),
            ));
        }
        let trimmed = raw_line.trim_end();
        let content = trimmed.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = trimmed.len() - content.len();
        if indent == 0 {
            section = None;
            skip_block = false;
            in_metadata = false;
            if content.starts_with("__metadata:") {
                berry = true;
                in_metadata = true;
                continue;
            }
            if !content.ends_with(':') {
                return Err((lineno, format!("unexpected line `{}`", truncate(content))));
            }
            entries.push(Entry {
                specs: header_specs(content),
                line: u32::try_from(lineno).unwrap_or(u32::MAX),
                ..Default::default()
            });
            continue;
        }
        if in_metadata {
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            return Err((lineno, "indented line before any entry".to_string()));
        };
        let Some((key, value)) = key_value(content) else {
            return Err((lineno, format!("unreadable line `{}`", truncate(content))));
        };
        if indent <= 2 {
            section = None;
            skip_block = false;
            match key.as_str() {
                "version" => entry.version = Some(strip_quotes(value)),
                "resolved" => entry.resolved = Some(strip_quotes(value)),
                "integrity" => entry.integrity = Some(strip_quotes(value)),
                "checksum" => entry.checksum = Some(strip_quotes(value)),
                "resolution" => entry.resolution = Some(unquote(value)),
                "dependencies" => section = Some(DepKind::Normal),
                "optionalDependencies" => section = Some(DepKind::Optional),
                _ => skip_block = value.is_empty(),
            }
            continue;
        }
        if skip_block {
            continue;
        }
        if let Some(kind) = section {
            let range = unquote(value);
            if let Some(pos) = entry.deps.iter().position(|(n, _, _)| *n == key) {
                // optionalDependencies repeat entries of dependencies.
                if kind == DepKind::Optional {
                    entry.deps[pos].2 = DepKind::Optional;
                }
            } else {
                entry.deps.push((key, range, kind));
            }
        }
    }
    Ok((entries, berry))
}

fn strip_quotes(s: &str) -> &str {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_fields() {
        assert_eq!(
            header_specs(r#""@a/b@^1", a@^1.2:"#),
            vec!["@a/b@^1".to_string(), "a@^1.2".to_string()]
        );
        assert_eq!(
            key_value(r#"version "1.0.0""#),
            Some(("version".to_string(), r#""1.0.0""#))
        );
        assert_eq!(
            key_value(r#""@babel/x": "npm:^7""#),
            Some(("@babel/x".to_string(), r#""npm:^7""#))
        );
        assert_eq!(
            key_value("dependencies:"),
            Some(("dependencies".to_string(), ""))
        );
    }

    #[test]
    fn sources() {
        assert!(matches!(
            classic_source(Some("https://codeload.github.com/a/b/tar.gz/abcdef1"), ""),
            PackageSource::Git { rev: Some(r), .. } if r == "abcdef1"
        ));
        assert!(matches!(
            berry_source("https://github.com/a/b.git#commit=abc"),
            PackageSource::Git { rev: Some(r), .. } if r == "abc"
        ));
        assert!(matches!(
            berry_source("npm:1.0.0"),
            PackageSource::Registry { .. }
        ));
    }
}
