//! What the Python lockfile parsers share: a locked package list turned into
//! a dependency graph (edges by PEP 503 name, direct dependencies from the
//! project), TOML reading with errors that name the file, and the line of
//! each `[[package]]` table.

use std::collections::HashMap;

use crate::ecosystem::Ecosystem;
use crate::graph::{DepGraph, DepKind, Package, PackageId, PackageSource};
use crate::parse::{ParseContext, ParseError, ParsedSource, PythonTarget};

/// One package as a lockfile records it.
#[derive(Debug, Clone, Default)]
pub struct LockedPackage {
    /// Name as written.
    pub name: String,
    /// Pinned version (`None` for a local directory without one).
    pub version: Option<String>,
    /// Where it comes from.
    pub source: PackageSource,
    /// Dependency groups the format declares (`[]` = main).
    pub groups: Vec<String>,
    /// Declared dev-only by the format.
    pub dev: bool,
    /// Declared optional by the format.
    pub optional: bool,
    /// Dependencies by name, with their kind.
    pub dependencies: Vec<(String, DepKind)>,
    /// Dependencies (by name) required only under an environment marker
    /// that is false for the target.
    pub off_target_dependencies: Vec<String>,
    /// 1-based line of the package's table.
    pub line: Option<u32>,
    /// Environment marker under which it is installed, as written.
    pub marker: Option<String>,
    /// Not installed on the scan's target Python/platform (its marker, or
    /// every edge that leads to it, is false there). It stays in the
    /// inventory with a `not_on_target` note.
    pub off_target: bool,
}

/// Where the packages' `groups` come from (`dev` and `optional` are
/// always decided by the graph's one dev rule, [`DepGraph::finalize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flags {
    /// The lockfile declares groups per package (poetry, pdm): keep them.
    Declared,
    /// The lockfile records the project's groups (uv): a direct dependency
    /// gets the group names of the declarations that lead to it.
    FromProject,
}

/// A project member (a root of the graph): the project itself or a
/// workspace member, with its direct dependencies.
#[derive(Debug, Clone, Default)]
pub struct ProjectRoot {
    /// Name, when known.
    pub name: String,
    /// Version, when known.
    pub version: Option<String>,
    /// Its folder relative to the lockfile (`.` for the project itself).
    pub path: String,
    /// Direct dependencies by name, with their kind and group.
    pub dependencies: Vec<(String, DepKind, Option<String>)>,
}

/// Builds the graph. `project` lists the roots whose dependencies are the
/// direct ones; the project at `.` is not inventoried itself (it is not a
/// dependency: its dependencies are the project's direct declarations),
/// other workspace members are roots. What each package declares (`dev`,
/// `optional`) is an input of the graph's dev rule for packages the
/// project does not reach.
pub fn build_graph(
    packages: Vec<LockedPackage>,
    project: &[ProjectRoot],
    flags: Flags,
) -> DepGraph {
    let mut graph = DepGraph::new();
    let mut by_name: HashMap<String, Vec<PackageId>> = HashMap::new();
    // Per package: its dependencies and those off the target.
    type Deps = (Vec<(String, DepKind)>, Vec<String>);
    let mut deps: Vec<(PackageId, Deps)> = Vec::new();
    for lp in packages {
        let key = normalize(&lp.name);
        let mut pkg = Package::new(Ecosystem::PyPI, lp.name, lp.version);
        pkg.source = lp.source;
        pkg.groups = lp.groups;
        pkg.line = lp.line;
        if lp.off_target {
            pkg.not_on_target = Some(
                lp.marker
                    .clone()
                    .unwrap_or_else(|| "only required under markers false for the target".into()),
            );
        }
        if let Some(m) = lp.marker {
            pkg.note("marker", m);
        }
        let id = graph.add_package(pkg);
        if lp.dev {
            graph.declare(id, DepKind::Dev);
        } else if lp.optional {
            graph.declare(id, DepKind::Optional);
        }
        by_name.entry(key).or_default().push(id);
        deps.push((id, (lp.dependencies, lp.off_target_dependencies)));
    }
    for (from, (list, off)) in deps {
        for (name, kind) in list {
            let off = off.iter().any(|o| normalize(o) == normalize(&name));
            for &to in by_name
                .get(&normalize(&name))
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                graph.add_edge(from, to, kind);
                if off {
                    graph.mark_edge_off_target(from, to);
                }
            }
        }
    }
    for member in project {
        let root = if member.path == "." {
            None
        } else {
            // A member may also be listed as a locked package (uv lists
            // editable members): reuse that entry as the root.
            let existing = by_name
                .get(&normalize(&member.name))
                .and_then(|ids| ids.first().copied());
            Some(match existing {
                Some(id) => {
                    graph.mark_root(id);
                    id
                }
                None => {
                    let mut pkg =
                        Package::new(Ecosystem::PyPI, member.name.clone(), member.version.clone());
                    pkg.source = PackageSource::Path {
                        path: member.path.clone(),
                    };
                    graph.add_root(pkg)
                }
            })
        };
        for (name, kind, group) in &member.dependencies {
            for &to in by_name
                .get(&normalize(name))
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                if Some(to) == root {
                    continue;
                }
                match root {
                    Some(r) => graph.add_edge(r, to, *kind),
                    None => graph.add_direct(to, *kind),
                }
                if let Some(g) = group
                    && flags == Flags::FromProject
                {
                    let p = graph.package_mut(to);
                    if !p.groups.contains(g) {
                        p.groups.push(g.clone());
                    }
                }
            }
        }
    }
    graph.finalize();
    graph
}

/// PEP 503 normalisation.
pub fn normalize(name: &str) -> String {
    Ecosystem::PyPI.normalize_name(name)
}

/// Reads the source as text; an empty (whitespace-only) file yields `None`.
pub fn read_text(ctx: &ParseContext<'_>) -> Result<Option<String>, ParseError> {
    let text = ctx.fs.read_to_string(ctx.path())?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    if text.contains('\0') {
        return Err(ParseError::syntax(ctx.path(), "binary content"));
    }
    Ok(Some(text))
}

/// Parses TOML text, naming the file and position on error.
pub fn parse_toml(ctx: &ParseContext<'_>, text: &str) -> Result<toml::Table, ParseError> {
    crate::toml_guard::check(text).map_err(|e| ParseError::limit(ctx.path(), e.to_string()))?;
    text.parse::<toml::Table>().map_err(|e| {
        ParseError::syntax(
            ctx.path(),
            format!("not valid TOML: {}", crate::redact::toml_error(&e, text)),
        )
    })
}

/// 1-based lines of the array-of-tables headers `[[<key>]]`, in order.
pub fn table_lines(text: &str, key: &str) -> Vec<u32> {
    let header = format!("[[{key}]]");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

/// The name of the `i`th package table, or an error for that entry (the
/// rest of the file is read) when it has none.
pub fn package_name<'t>(
    ctx: &ParseContext<'_>,
    parsed: &mut ParsedSource,
    lines: &[u32],
    i: usize,
    t: &'t toml::Table,
) -> Option<&'t str> {
    let name = str_field(t, "name");
    if name.is_none() {
        parsed.diagnostics.push(crate::diagnostic::Diagnostic::new(
            crate::diagnostic::Level::Error,
            ctx.path(),
            format!(
                "package table at line {} has no name; skipped, the rest of the file is read",
                lines.get(i).copied().unwrap_or(0)
            ),
        ));
    }
    name
}

/// A string field of a TOML table.
pub fn str_field<'t>(t: &'t toml::Table, key: &str) -> Option<&'t str> {
    t.get(key).and_then(toml::Value::as_str)
}

/// The array of tables at `key` (the lockfile's packages), refusing
/// mistyped entries and more packages than the limits allow.
pub fn package_tables<'t>(
    ctx: &ParseContext<'_>,
    t: &'t toml::Table,
    key: &str,
) -> Result<Vec<&'t toml::Table>, ParseError> {
    let entries: Vec<&toml::Table> = match t.get(key) {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_table().ok_or_else(|| {
                    ParseError::invalid(ctx.path(), format!("{key}[{i}] is not a table"))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ParseError::invalid(
                ctx.path(),
                format!("`{key}` is not an array of tables"),
            ));
        }
    };
    if entries.len() > ctx.options.limits.max_packages {
        return Err(ParseError::limit(ctx.path(), "too many packages"));
    }
    Ok(entries)
}

/// A list of strings at `key` (non-strings are ignored).
pub fn str_list(t: &toml::Table, key: &str) -> Vec<String> {
    t.get(key)
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A git source from a URL that may carry `#<commit>` and a separate
/// revision field.
pub fn git_source(url: &str, rev: Option<&str>) -> PackageSource {
    let (base, frag) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let base = base.split_once('?').map(|(b, _)| b).unwrap_or(base);
    PackageSource::Git {
        url: crate::ecosystem::redact_url(base.strip_prefix("git+").unwrap_or(base)),
        rev: rev.or(frag).filter(|r| !r.is_empty()).map(str::to_string),
    }
}

/// The name at the start of a PEP 508 requirement string (`"requests[socks]
/// >=2; python_version > '3'"` → `requests`).
pub fn requirement_name(req: &str) -> Option<&str> {
    let req = req.trim_start();
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(req.len());
    let name = &req[..end];
    (!name.is_empty()).then_some(name)
}

/// The marker environment of the scan's target Python.
pub fn target_env(ctx: &ParseContext<'_>) -> Option<pep508_rs::MarkerEnvironment> {
    marker_env(&ctx.options.python)
}

/// The marker environment of the target Python (see [`PythonTarget`]).
pub fn marker_env(t: &PythonTarget) -> Option<pep508_rs::MarkerEnvironment> {
    pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: &t.python_full_version,
        os_name: if t.sys_platform == "win32" {
            "nt"
        } else {
            "posix"
        },
        platform_machine: &t.platform_machine,
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_system: if t.sys_platform == "linux" {
            "Linux"
        } else {
            &t.sys_platform
        },
        platform_version: "",
        python_full_version: &t.python_full_version,
        python_version: &t.python_version,
        sys_platform: &t.sys_platform,
    })
    .ok()
}

/// True when an environment marker is false for the target: the package is
/// not installed there. Extras named in the marker count as requested (a
/// lockfile lists an extra's packages because some install asks for it);
/// a marker that does not parse counts as true.
pub fn marker_false(marker: &str, env: Option<&pep508_rs::MarkerEnvironment>) -> bool {
    let Some(env) = env else {
        return false;
    };
    let Some(tree) = super::pep508::marker(marker) else {
        return false;
    };
    let extras: Vec<pep508_rs::ExtraName> = marker_extras(marker)
        .into_iter()
        .filter_map(|e| pep508_rs::ExtraName::new(e).ok())
        .collect();
    !tree.evaluate(env, &extras)
}

/// The names compared with `extra` in a marker (`extra == "socks"`).
fn marker_extras(marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = marker;
    while let Some(i) = rest.find("extra") {
        rest = &rest[i + 5..];
        let after = rest.trim_start();
        let Some(after) = after.strip_prefix("==") else {
            continue;
        };
        let after = after.trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(end) = after[1..].find(q) {
            out.push(after[1..1 + end].to_string());
        }
    }
    out
}
