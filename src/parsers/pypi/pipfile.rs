//! `Pipfile.lock`: the `default` (production) and `develop` (dev) sections.
//! The lock records no edges; which packages are direct comes from the
//! `Pipfile` beside it when there is one. Entries without a pinned version
//! (git, path or editable checkouts) are not registry releases: they are
//! reported in the diagnostics with their source, not matched by name.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::graph::{DepGraph, DepKind, Package, PackageSource};
use crate::parse::{IndexRef, ParseContext, ParseError, ParsedSource};

use super::lock::{git_source, normalize, read_text};
use crate::ecosystem::redact_url;

#[derive(Deserialize, Default)]
#[serde(default)]
struct PipfileLock {
    #[serde(rename = "_meta")]
    meta: Meta,
    default: BTreeMap<String, Entry>,
    develop: BTreeMap<String, Entry>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Meta {
    sources: Vec<Source>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Source {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry {
    version: Option<String>,
    git: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    path: Option<String>,
    file: Option<String>,
    index: Option<String>,
    markers: Option<String>,
}

/// Parses a `Pipfile.lock`.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let mut parsed = ParsedSource::default();
    let Some(text) = read_text(ctx)? else {
        return Ok(parsed);
    };
    let lock: PipfileLock = serde_json::from_str(&text)
        .map_err(|e| ParseError::syntax(ctx.path(), format!("not a valid Pipfile.lock: {e}")))?;
    if lock.default.len() + lock.develop.len() > ctx.options.limits.max_packages {
        return Err(ParseError::limit(ctx.path(), "too many packages"));
    }
    for s in &lock.meta.sources {
        if let Some(url) = &s.url {
            parsed.facts.indexes.push(IndexRef {
                kind: "source".into(),
                url: redact_url(url),
                name: s.name.clone(),
            });
        }
    }
    let direct = pipfile_names(ctx, &mut parsed.diagnostics);
    let lines = lock_lines(&text);
    let mut graph = DepGraph::new();
    // A release in both sections is production.
    let prod: HashSet<(String, Option<&str>)> = lock
        .default
        .iter()
        .map(|(n, e)| (normalize(n), e.version.as_deref()))
        .collect();
    for (section, dev) in [(&lock.default, false), (&lock.develop, true)] {
        for (name, entry) in section {
            let Some(version) = entry.version.as_deref() else {
                let (what, location) = match (&entry.git, &entry.path, &entry.file) {
                    (Some(g), _, _) => ("git", redact_url(g)),
                    (_, Some(p), _) => ("path", p.clone()),
                    (_, _, Some(f)) => ("file", redact_url(f)),
                    _ => ("unpinned", String::new()),
                };
                parsed.diagnostics.push(Diagnostic::new(
                    Level::Info,
                    ctx.path(),
                    format!(
                        "{name}: {what} dependency {location} has no pinned version; not matched against advisories"
                    ),
                ));
                continue;
            };
            if dev && prod.contains(&(normalize(name), Some(version))) {
                continue;
            }
            let version = version.trim_start_matches("===").trim_start_matches("==");
            let mut pkg = Package::new(Ecosystem::PyPI, name.clone(), Some(version.to_string()));
            let section = if dev { "develop" } else { "default" };
            pkg.line = lines.get(&(section, name.as_str())).copied();
            if dev {
                pkg.groups = vec!["dev".to_string()];
            }
            pkg.source = match &entry.git {
                Some(g) => git_source(g, entry.reference.as_deref()),
                None => PackageSource::Registry {
                    url: entry.index.as_ref().and_then(|ix| {
                        lock.meta
                            .sources
                            .iter()
                            .find(|s| s.name.as_ref() == Some(ix))
                            .and_then(|s| s.url.as_deref())
                            .map(redact_url)
                    }),
                },
            };
            if let Some(m) = &entry.markers {
                pkg.note("marker", m.clone());
            }
            pkg.direct = direct
                .as_ref()
                .is_some_and(|d| d.contains(&normalize(name)));
            // The lock records no edges: its sections are the only word on
            // what production installs.
            let id = graph.add_package(pkg);
            graph.declare(id, if dev { DepKind::Dev } else { DepKind::Normal });
        }
    }
    // Without a Pipfile every package counts as direct (the lock has no
    // edges to tell otherwise).
    if direct.is_none() {
        for p in graph.packages_mut() {
            p.direct = true;
        }
    }
    graph.finalize();
    parsed.graph = graph;
    Ok(parsed)
}

/// The 1-based line of each package key of `default` and `develop`
/// (`        "requests": {`), by (section, name).
fn lock_lines(text: &str) -> std::collections::HashMap<(&'static str, &str), u32> {
    let mut out = std::collections::HashMap::new();
    let mut section: Option<&'static str> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        let Some(rest) = t.strip_prefix('"') else {
            continue;
        };
        let Some(end) = rest.find('"') else { continue };
        let key = &rest[..end];
        let opens = rest[end + 1..]
            .trim_start()
            .strip_prefix(':')
            .is_some_and(|v| v.trim_start().starts_with('{'));
        if !opens {
            continue;
        }
        if indent <= 4 {
            section = match key {
                "default" => Some("default"),
                "develop" => Some("develop"),
                _ => None,
            };
        } else if let Some(sec) = section.filter(|_| indent <= 8) {
            out.entry((sec, key))
                .or_insert(u32::try_from(i + 1).unwrap_or(u32::MAX));
        }
    }
    out
}

/// Normalised names in the `Pipfile`'s `[packages]` and `[dev-packages]`.
fn pipfile_names(
    ctx: &ParseContext<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<HashSet<String>> {
    let path = ctx.path().parent()?.join("Pipfile");
    if !ctx.fs.is_file(&path) {
        return None;
    }
    let text = ctx.fs.read_to_string(&path).ok()?;
    if let Err(e) = crate::toml_guard::check(&text) {
        diagnostics.push(Diagnostic::new(Level::Warning, &path, e.to_string()));
        return None;
    }
    match text.parse::<toml::Table>() {
        Ok(doc) => Some(
            ["packages", "dev-packages"]
                .iter()
                .filter_map(|k| doc.get(*k).and_then(toml::Value::as_table))
                .flat_map(|t| t.keys().map(|n| normalize(n)))
                .collect(),
        ),
        Err(e) => {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                &path,
                format!(
                    "not valid TOML, direct dependencies unknown: {}",
                    crate::redact::toml_error(&e, &text)
                ),
            ));
            None
        }
    }
}

/// Parses a `Pipfile` with no `Pipfile.lock` beside it: `[packages]`
/// (production) and `[dev-packages]` (dev) as the project's direct
/// dependencies. An exact pin (`==1.2.3`, `===1.2.3`) gives the version;
/// any other requirement (`*`, ranges) is kept unresolved, as for other
/// manifests; git, path and file entries are not registry releases.
pub fn parse_manifest(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let mut parsed = ParsedSource::default();
    parsed.facts.no_lockfile = true;
    let Some(text) = read_text(ctx)? else {
        return Ok(parsed);
    };
    let doc = super::lock::parse_toml(ctx, &text)?;
    let env = super::lock::target_env(ctx);
    for s in doc
        .get("source")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_table)
    {
        if let Some(url) = s.get("url").and_then(toml::Value::as_str) {
            parsed.facts.indexes.push(IndexRef {
                kind: "source".into(),
                url: redact_url(url),
                name: s
                    .get("name")
                    .and_then(toml::Value::as_str)
                    .map(str::to_string),
            });
        }
    }
    let lines = section_lines(&text);
    let mut graph = DepGraph::new();
    for (section, kind) in [
        ("packages", DepKind::Normal),
        ("dev-packages", DepKind::Dev),
    ] {
        let Some(table) = doc.get(section).and_then(toml::Value::as_table) else {
            continue;
        };
        for (name, spec) in table {
            let entry = PipfileSpec::read(spec);
            let mut pkg = Package::new(Ecosystem::PyPI, name.clone(), None);
            pkg.line = lines.get(&(section, normalize(name))).copied();
            match &entry.location {
                Some(source) => pkg.source = source.clone(),
                None => {
                    pkg.source = PackageSource::Registry { url: None };
                    pkg.version = entry.version.as_deref().and_then(exact_pin);
                    if pkg.version.is_none() {
                        pkg.requirement = entry.version.clone();
                    }
                }
            }
            if let Some(m) = &entry.markers {
                if super::lock::marker_false(m, env.as_ref()) {
                    pkg.not_on_target = Some(m.clone());
                }
                pkg.note("marker", m.clone());
            }
            if kind == DepKind::Dev {
                pkg.groups = vec!["dev".to_string()];
            }
            let id = graph.add_package(pkg);
            graph.add_direct(id, kind);
        }
    }
    graph.finalize();
    if !graph.is_empty() {
        parsed.diagnostics.push(Diagnostic::new(
            Level::Info,
            ctx.path(),
            "no lockfile (Pipfile.lock): versions are known only where the Pipfile pins them exactly",
        ));
    }
    parsed.graph = graph;
    Ok(parsed)
}

/// One `Pipfile` entry: `"*"`, `"==1.0"`, or a table with `version`,
/// `markers`, or a `git` / `path` / `file` location.
#[derive(Debug, Default, PartialEq)]
struct PipfileSpec {
    version: Option<String>,
    markers: Option<String>,
    location: Option<PackageSource>,
}

impl PipfileSpec {
    fn read(v: &toml::Value) -> PipfileSpec {
        match v {
            toml::Value::String(s) => PipfileSpec {
                version: Some(s.trim().to_string()),
                ..Default::default()
            },
            toml::Value::Table(t) => {
                let field = |k: &str| t.get(k).and_then(toml::Value::as_str);
                let location = if let Some(g) = field("git") {
                    Some(git_source(g, field("ref")))
                } else if let Some(p) = field("path") {
                    Some(PackageSource::Path {
                        path: p.to_string(),
                    })
                } else {
                    field("file").map(|f| PackageSource::Url { url: redact_url(f) })
                };
                PipfileSpec {
                    version: field("version").map(|s| s.trim().to_string()),
                    markers: field("markers").map(str::to_string),
                    location,
                }
            }
            _ => PipfileSpec::default(),
        }
    }
}

/// The version of an exact pin (`==1.2.3`, `===1.2.3`); `None` for `*`,
/// ranges and wildcard pins (`==1.2.*`).
fn exact_pin(spec: &str) -> Option<String> {
    let s = spec.trim();
    let v = s
        .strip_prefix("===")
        .or_else(|| s.strip_prefix("=="))?
        .trim();
    (!v.is_empty() && !v.contains([',', '*', ';', ' ', '<', '>', '=', '!', '~']))
        .then(|| v.to_string())
}

/// The 1-based line of each `name = ...` key of `[packages]` and
/// `[dev-packages]`, by (section, normalised name).
fn section_lines(text: &str) -> std::collections::HashMap<(&'static str, String), u32> {
    let mut out = std::collections::HashMap::new();
    let mut section: Option<&'static str> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            section = match t {
                "[packages]" => Some("packages"),
                "[dev-packages]" => Some("dev-packages"),
                _ => None,
            };
            continue;
        }
        let Some(sec) = section else { continue };
        if let Some((key, _)) = t.split_once('=') {
            let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
            if !key.is_empty() && !key.starts_with('#') {
                out.entry((sec, normalize(key)))
                    .or_insert(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn exact_pins_only() {
        assert_eq!(exact_pin("==1.2.3"), Some("1.2.3".into()));
        assert_eq!(exact_pin("===1.2.3"), Some("1.2.3".into()));
        assert_eq!(exact_pin(" == 2.0 "), Some("2.0".into()));
        assert_eq!(exact_pin("*"), None);
        assert_eq!(exact_pin(">=1.0"), None);
        assert_eq!(exact_pin("==1.2.*"), None);
        assert_eq!(exact_pin("==1.0,<2"), None);
    }
}
