//! `pyproject.toml`: the direct dependencies a project declares (PEP 621
//! `[project]`, PEP 735 `[dependency-groups]`, poetry, uv and pdm tables).
//!
//! Alone (no lockfile beside it) it gives the direct dependencies as
//! unresolved packages, and the deployment is reported as having no
//! lockfile. Beside a lockfile the lockfile parsers read it to know which
//! locked packages are direct and in which group.

use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::graph::{DepGraph, DepKind, Package, PackageSource};
use crate::parse::{ParseContext, ParseError, ParsedSource};

use super::lock::{ProjectRoot, parse_toml, read_text, requirement_name, str_field};

/// One declared dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// Name as written.
    pub name: String,
    /// The requirement after the name (`>=2,<3`, `^1.2`), as written.
    pub requirement: Option<String>,
    /// Main, optional (extra) or dev (a dependency group).
    pub kind: DepKind,
    /// The extra or group name (`None` = main).
    pub group: Option<String>,
}

/// What a `pyproject.toml` declares.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// `[project] name` or `[tool.poetry] name`.
    pub name: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// Direct dependencies.
    pub dependencies: Vec<Declared>,
}

impl Project {
    /// The project as a graph root at `path`.
    pub fn as_root(&self, path: &str) -> ProjectRoot {
        ProjectRoot {
            name: self.name.clone().unwrap_or_default(),
            version: self.version.clone(),
            path: path.to_string(),
            dependencies: self
                .dependencies
                .iter()
                .map(|d| (d.name.clone(), d.kind, d.group.clone()))
                .collect(),
        }
    }
}

/// Reads the declarations of a parsed `pyproject.toml`.
pub fn declared(doc: &toml::Table) -> Project {
    let mut out = Project::default();
    let mut push = |name: &str, requirement: Option<String>, kind, group: Option<&str>| {
        if name.eq_ignore_ascii_case("python") {
            return;
        }
        out.dependencies.push(Declared {
            name: name.to_string(),
            requirement: requirement.filter(|r| !r.is_empty()),
            kind,
            group: group.map(str::to_string),
        });
    };
    let pep508 = |s: &str| -> Option<(String, String)> {
        let name = requirement_name(s)?;
        Some((
            name.to_string(),
            s[s.find(name).unwrap_or(0) + name.len()..]
                .trim()
                .to_string(),
        ))
    };
    let project = doc.get("project").and_then(toml::Value::as_table);
    if let Some(p) = project {
        for s in string_items(p.get("dependencies")) {
            if let Some((n, r)) = pep508(s) {
                push(&n, Some(r), DepKind::Normal, None);
            }
        }
        if let Some(extras) = p
            .get("optional-dependencies")
            .and_then(toml::Value::as_table)
        {
            for (extra, list) in extras {
                for s in string_items(Some(list)) {
                    if let Some((n, r)) = pep508(s) {
                        push(&n, Some(r), DepKind::Optional, Some(extra));
                    }
                }
            }
        }
    }
    if let Some(groups) = doc.get("dependency-groups").and_then(toml::Value::as_table) {
        for (group, list) in groups {
            for s in string_items(Some(list)) {
                if let Some((n, r)) = pep508(s) {
                    push(&n, Some(r), DepKind::Dev, Some(group));
                }
            }
        }
    }
    let tool = doc.get("tool").and_then(toml::Value::as_table);
    let sub = |name: &str| {
        tool.and_then(|t| t.get(name))
            .and_then(toml::Value::as_table)
    };
    if let Some(uv) = sub("uv") {
        for s in string_items(uv.get("dev-dependencies")) {
            if let Some((n, r)) = pep508(s) {
                push(&n, Some(r), DepKind::Dev, Some("dev"));
            }
        }
    }
    if let Some(pdm) = sub("pdm")
        && let Some(groups) = pdm.get("dev-dependencies").and_then(toml::Value::as_table)
    {
        for (group, list) in groups {
            for s in string_items(Some(list)) {
                if let Some((n, r)) = pep508(s) {
                    push(&n, Some(r), DepKind::Dev, Some(group));
                }
            }
        }
    }
    if let Some(poetry) = sub("poetry") {
        let table = |v: Option<&toml::Value>| v.and_then(toml::Value::as_table).cloned();
        if let Some(deps) = table(poetry.get("dependencies")) {
            for (name, spec) in &deps {
                let optional = spec
                    .as_table()
                    .and_then(|t| t.get("optional"))
                    .and_then(toml::Value::as_bool)
                    .unwrap_or(false);
                let kind = if optional {
                    DepKind::Optional
                } else {
                    DepKind::Normal
                };
                push(name, poetry_requirement(spec), kind, None);
            }
        }
        if let Some(deps) = table(poetry.get("dev-dependencies")) {
            for (name, spec) in &deps {
                push(name, poetry_requirement(spec), DepKind::Dev, Some("dev"));
            }
        }
        if let Some(groups) = table(poetry.get("group")) {
            for (group, body) in &groups {
                let deps = body
                    .as_table()
                    .and_then(|t| t.get("dependencies"))
                    .and_then(toml::Value::as_table);
                for (name, spec) in deps.into_iter().flatten() {
                    let (kind, g) = if group == "main" {
                        (DepKind::Normal, None)
                    } else {
                        (DepKind::Dev, Some(group.as_str()))
                    };
                    push(name, poetry_requirement(spec), kind, g);
                }
            }
        }
        if out.name.is_none() {
            out.name = str_field(poetry, "name").map(str::to_string);
            out.version = str_field(poetry, "version").map(str::to_string);
        }
    }
    if let Some(p) = project {
        out.name = str_field(p, "name").map(str::to_string).or(out.name);
        out.version = str_field(p, "version").map(str::to_string).or(out.version);
    }
    out
}

/// The strings of an array value (other items are ignored: PEP 735
/// `{include-group = ...}` tables).
fn string_items(v: Option<&toml::Value>) -> impl Iterator<Item = &str> {
    v.and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_str)
}

/// A poetry dependency's requirement: `"^1.2"`, `{version = "^1.2"}`, or a
/// git/path/url table described by its location.
fn poetry_requirement(spec: &toml::Value) -> Option<String> {
    match spec {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Table(t) => ["version", "git", "path", "url"].iter().find_map(|k| {
            str_field(t, k).map(|v| {
                if *k == "version" {
                    v.to_string()
                } else {
                    format!("{k}: {v}")
                }
            })
        }),
        toml::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(poetry_requirement)
                .collect::<Vec<_>>()
                .join(" | "),
        ),
        _ => None,
    }
}

/// Reads the `pyproject.toml` beside a lockfile, if there is one. A
/// companion that cannot be read or parsed is reported as a warning and
/// ignored (the lockfile alone still gives the graph).
pub fn companion(ctx: &ParseContext<'_>, diagnostics: &mut Vec<Diagnostic>) -> Option<Project> {
    let path = ctx.path().parent()?.join("pyproject.toml");
    if !ctx.fs.is_file(&path) {
        return None;
    }
    let text = match ctx.fs.read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            diagnostics.push(Diagnostic::new(Level::Warning, &path, e.to_string()));
            return None;
        }
    };
    if let Err(e) = crate::toml_guard::check(&text) {
        diagnostics.push(Diagnostic::new(Level::Warning, &path, e.to_string()));
        return None;
    }
    match text.parse::<toml::Table>() {
        Ok(doc) => Some(declared(&doc)),
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

/// Parses a `pyproject.toml` with no lockfile beside it.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let mut parsed = ParsedSource::default();
    let Some(text) = read_text(ctx)? else {
        return Ok(parsed);
    };
    let doc = parse_toml(ctx, &text)?;
    let project = declared(&doc);
    let mut graph = DepGraph::new();
    for d in &project.dependencies {
        let mut pkg = Package::new(Ecosystem::PyPI, d.name.clone(), None);
        pkg.requirement = d.requirement.clone();
        pkg.source = requirement_source(d.requirement.as_deref());
        pkg.groups = d.group.iter().cloned().collect();
        let id = graph.add_package(pkg);
        graph.add_direct(id, d.kind);
    }
    graph.finalize();
    parsed.graph = graph;
    parsed.facts.no_lockfile = true;
    if !project.dependencies.is_empty() {
        parsed.diagnostics.push(Diagnostic::new(
            Level::Info,
            ctx.path(),
            "no lockfile: dependency versions are unresolved",
        ));
    }
    Ok(parsed)
}

/// Direct references (`@ https://...`, `git: ...`, `path: ...`) are not
/// registry packages.
fn requirement_source(req: Option<&str>) -> PackageSource {
    let Some(r) = req else {
        return PackageSource::Registry { url: None };
    };
    let r = r.trim_start_matches('@').trim();
    if let Some(u) = r.strip_prefix("git: ") {
        return super::lock::git_source(u, None);
    }
    if let Some(p) = r.strip_prefix("path: ") {
        return PackageSource::Path {
            path: p.to_string(),
        };
    }
    if let Some(u) = r.strip_prefix("url: ") {
        return PackageSource::Url { url: u.to_string() };
    }
    if r.starts_with("git+") {
        return super::lock::git_source(r, None);
    }
    if r.starts_with("https://") || r.starts_with("http://") || r.starts_with("file:") {
        return PackageSource::Url {
            url: crate::ecosystem::redact_url(r.split(';').next().unwrap_or(r).trim()),
        };
    }
    PackageSource::Registry { url: None }
}
