//! `Pipfile.lock`: the `default` (production) and `develop` (dev) sections.
//! The lock records no edges; which packages are direct comes from the
//! `Pipfile` beside it when there is one. Entries without a pinned version
//! (git, path or editable checkouts) are not registry releases: they are
//! reported in the diagnostics with their source, not matched by name.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use crate::ecosystem::Ecosystem;
use crate::graph::{DepGraph, FlagMode, Package, PackageSource};
use crate::parse::{Diagnostic, IndexRef, Level, ParseContext, ParseError, ParsedSource};

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
            pkg.dev = dev;
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
            graph.add_package(pkg);
        }
    }
    // Without a Pipfile every package counts as direct (the lock has no
    // edges to tell otherwise).
    if direct.is_none() {
        for p in graph.packages_mut() {
            p.direct = true;
        }
    }
    graph.finalize(FlagMode::Declared);
    parsed.graph = graph;
    Ok(parsed)
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
