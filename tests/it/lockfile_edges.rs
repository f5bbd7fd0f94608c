//! Property: every dependency edge a lockfile declares is an edge of the
//! graph depwarden builds from it, for every lockfile format, over every
//! lockfile in `testdata/` and, with `DEPWARDEN_SHARED`, the conformance
//! corpus. The declared edges are read here independently of the parsers,
//! as plainly as each format allows: an entry's dependency to the entry the
//! lockfile resolves it to (by descriptor, install path or name), as
//! `(name, version) -> (name, version)` pairs. A dependency the lockfile
//! itself does not resolve is not an edge and is not counted.

use depwarden::ecosystem::Ecosystem;
use depwarden::fs::OsFs;
use depwarden::parse::{ParseContext, ParseOptions};
use depwarden::parsers::parse_source;
use depwarden::source::{SourceFormat, SourceRef};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::common;

/// (from name, from version, to name, to version); a `None` version
/// matches any (the lockfile records none there).
type Edge = (String, Option<String>, String, Option<String>);
/// The packages of a graph, by (name, version).
type Nodes = BTreeSet<(String, Option<String>)>;

fn key(eco: Ecosystem, name: &str) -> String {
    eco.normalize_name(name)
}

/// The name under which the project's own direct declarations appear (the
/// project at the lockfile's directory is not a node of the graph).
const PROJECT: &str = "(project)";

/// The edges of the graph depwarden builds, by (name, version), the
/// project's declarations as edges from [`PROJECT`], and the nodes.
fn graph_edges(path: &Path, format: SourceFormat) -> Result<(Vec<Edge>, Nodes), String> {
    let source = SourceRef::new(path, format);
    let root = source.dir().to_path_buf();
    let options = ParseOptions::default();
    let ctx = ParseContext {
        fs: &OsFs::default(),
        source: &source,
        root: &root,
        options: &options,
    };
    let parsed = parse_source(&ctx).map_err(|e| e.to_string())?;
    let g = &parsed.graph;
    let eco = format.ecosystem();
    let mut out = Vec::new();
    let mut nodes = BTreeSet::new();
    for &(to, _) in g.project_dependencies() {
        let t = g.package(to);
        out.push((PROJECT.into(), None, key(eco, &t.name), t.version.clone()));
    }
    for (id, p) in g.iter() {
        nodes.insert((key(eco, &p.name), p.version.clone()));
        for (to, _) in g.dependencies(id) {
            let t = g.package(*to);
            out.push((
                key(eco, &p.name),
                p.version.clone(),
                key(eco, &t.name),
                t.version.clone(),
            ));
        }
    }
    Ok((out, nodes))
}

/// True when the graph has the edge; an edge from a package that is not a
/// node (the project itself, as uv and berry lock it) must be one of the
/// project's declarations.
fn has(graph: &[Edge], nodes: &Nodes, want: &Edge) -> bool {
    let same = |a: &Option<String>, b: &Option<String>| a.is_none() || b.is_none() || a == b;
    let is_node = nodes.iter().any(|(n, v)| *n == want.0 && same(v, &want.1));
    let from = if is_node { want.0.as_str() } else { PROJECT };
    graph.iter().any(|g| {
        g.0 == from && g.2 == want.2 && (!is_node || same(&g.1, &want.1)) && same(&g.3, &want.3)
    })
}

/// The edges a lockfile declares, read without depwarden's parsers.
fn declared(path: &Path, format: SourceFormat) -> Vec<Edge> {
    let text = std::fs::read_to_string(path).unwrap();
    let eco = format.ecosystem();
    let shrinkwrap_beside = path.with_file_name("npm-shrinkwrap.json").is_file()
        && path.file_name().is_some_and(|n| n == "package-lock.json");
    let raw = match format {
        // npm reads the shrinkwrap and ignores package-lock.json beside it.
        SourceFormat::PackageLock if shrinkwrap_beside => Vec::new(),
        SourceFormat::PackageLock | SourceFormat::NpmShrinkwrap => package_lock(&text),
        SourceFormat::PnpmLock => pnpm(&text, path.parent().unwrap_or(Path::new("."))),
        SourceFormat::YarnLock => yarn(&text),
        SourceFormat::BunLock => bun(&text),
        SourceFormat::PoetryLock
        | SourceFormat::UvLock
        | SourceFormat::PdmLock
        | SourceFormat::PylockToml => python_lock(&text, format),
        SourceFormat::CargoLock => cargo_lock(&text),
        _ => Vec::new(),
    };
    raw.into_iter()
        .map(|(a, av, b, bv)| (key(eco, &a), av, key(eco, &b), bv))
        .collect()
}

fn package_lock(text: &str) -> Vec<Edge> {
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    // Locations -> entries (v2/v3 `packages`, else the v1 tree flattened).
    let mut locs: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(p) = doc["packages"].as_object() {
        for (k, v) in p {
            locs.insert(k.clone(), v.clone());
        }
    } else {
        fn walk(prefix: &str, deps: &Value, locs: &mut BTreeMap<String, Value>) {
            for (k, v) in deps.as_object().into_iter().flatten() {
                let loc = if prefix.is_empty() {
                    format!("node_modules/{k}")
                } else {
                    format!("{prefix}/node_modules/{k}")
                };
                let mut e = v.clone();
                e["dependencies"] = v["requires"].clone();
                let version = v["version"].as_str().unwrap_or("");
                if let Some(real) = version.strip_prefix("npm:") {
                    let at = real[1..].find('@').map(|i| i + 1).unwrap_or(real.len());
                    e["name"] = Value::from(&real[..at]);
                    e["version"] = Value::from(real.get(at + 1..).unwrap_or(""));
                }
                locs.insert(loc.clone(), e);
                walk(&loc, &v["dependencies"], locs);
            }
        }
        walk("", &doc["dependencies"], &mut locs);
    }
    let name_of = |loc: &str, e: &Value| -> String {
        e["name"].as_str().map(str::to_string).unwrap_or_else(|| {
            loc.rsplit_once("node_modules/")
                .map(|(_, n)| n.to_string())
                .unwrap_or_else(|| loc.rsplit('/').next().unwrap_or("").to_string())
        })
    };
    let target = |loc: &str| -> Option<(String, Value)> {
        let e = locs.get(loc)?;
        if e["link"].as_bool() == Some(true) {
            let r = e["resolved"].as_str()?;
            return locs.get(r).map(|t| (r.to_string(), t.clone()));
        }
        Some((loc.to_string(), e.clone()))
    };
    let mut out = Vec::new();
    for (loc, e) in &locs {
        if e["link"].as_bool() == Some(true) {
            continue;
        }
        let installed = loc.contains("node_modules/");
        // Node's lookup: this folder's node_modules, then each one above.
        let inner = loc.strip_prefix("node_modules/").unwrap_or(loc);
        let parts: Vec<&str> = if installed {
            inner.split("/node_modules/").collect()
        } else {
            Vec::new()
        };
        // The project and workspace folders declare devDependencies too.
        let fields: &[&str] = if installed {
            &["dependencies", "optionalDependencies", "peerDependencies"]
        } else {
            &["dependencies", "optionalDependencies", "devDependencies"]
        };
        for field in fields {
            for dep in e[*field].as_object().into_iter().flatten().map(|(k, _)| k) {
                let own = (!installed && !loc.is_empty())
                    .then(|| target(&format!("{loc}/node_modules/{dep}")))
                    .flatten();
                let found = own.or_else(|| {
                    (0..=parts.len()).rev().find_map(|n| {
                        let base = parts[..n].join("/node_modules/");
                        let cand = if base.is_empty() {
                            format!("node_modules/{dep}")
                        } else {
                            format!("node_modules/{base}/node_modules/{dep}")
                        };
                        target(&cand)
                    })
                });
                if let Some((tloc, t)) = found {
                    out.push((
                        name_of(loc, e),
                        e["version"].as_str().map(str::to_string),
                        name_of(&tloc, &t),
                        t["version"].as_str().map(str::to_string),
                    ));
                }
            }
        }
    }
    out
}

/// (name, version) of a pnpm key or reference: `/a/1.0.0_peer`, `/a@1.0.0(peer)`,
/// `a@1.0.0`, with an optional registry host in 5.x keys.
fn pnpm_ref(s: &str, v6: bool) -> Option<(String, String)> {
    let lead = s.starts_with('/');
    let s = s.trim_start_matches('/');
    let s = s.split('(').next().unwrap_or(s);
    if v6 || (s.contains('@') && !s[1..].contains('/')) {
        let at = s.rfind('@').filter(|&i| i > 0)?;
        let (name, version) = (&s[..at], &s[at + 1..]);
        let name = name.rsplit_once('/').map_or(name, |(h, n)| {
            if h.starts_with('@') && !h.contains('/') {
                name
            } else if let Some((_, scope)) = h.rsplit_once('/') {
                if scope.starts_with('@') {
                    &name[name.len() - n.len() - scope.len() - 1..]
                } else {
                    n
                }
            } else if h.starts_with('@') {
                name
            } else {
                n
            }
        });
        return Some((name.to_string(), version.to_string()));
    }
    let mut segs: Vec<&str> = s.split('/').collect();
    if !lead && segs.len() >= 3 && segs[0].contains('.') {
        segs.remove(0);
    }
    let version = segs.pop()?.split('_').next()?.to_string();
    Some((segs.join("/"), version))
}

fn pnpm(text: &str, dir: &Path) -> Vec<Edge> {
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Vec::new();
    };
    let version = match &doc["lockfileVersion"] {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        _ => "5".into(),
    };
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(5);
    let v6 = major >= 6;
    let entries = if major >= 9 {
        &doc["snapshots"]
    } else {
        &doc["packages"]
    };
    let packages = &doc["packages"];
    let Some(map) = entries.as_mapping() else {
        return Vec::new();
    };
    // A package's own name/version fields win over its key.
    let own = |k: &str| -> Option<(String, String)> {
        let e = packages
            .get(k)
            .or_else(|| packages.get(k.split('(').next().unwrap_or(k)))?;
        let n = e["name"].as_str()?;
        Some((
            n.to_string(),
            e["version"].as_str().unwrap_or("").to_string(),
        ))
    };
    let ident = |k: &str| own(k).or_else(|| pnpm_ref(k, v6));
    // What the lockfile holds: a reference to anything else is not an edge
    // it declares (a trimmed fixture, a commit it does not lock).
    let mut held: BTreeSet<(String, String)> = BTreeSet::new();
    for m in [packages, entries] {
        for (k, _) in m.as_mapping().into_iter().flatten() {
            if let Some(id) = k.as_str().and_then(ident) {
                held.insert(id);
            }
        }
    }
    // A reference (`1.0.0(peer)`, `/real/1.0.0`, `real@1.0.0`, a URL) to
    // the package it names, when the lockfile holds it.
    let resolve = |d: &str, r: &str| -> Option<(String, Option<String>)> {
        if r.starts_with("link:") {
            return None;
        }
        let (tn, tv) = if r.starts_with('/')
            || (v6 && r.contains('@') && !r.starts_with(|c: char| c.is_ascii_digit()))
        {
            ident(r)?
        } else if r.contains("://") || r.starts_with("file:") || r.contains('/') {
            let full = if major >= 9 {
                format!("{d}@{r}")
            } else {
                r.to_string()
            };
            ident(&full).unwrap_or((d.to_string(), String::new()))
        } else {
            let v = r.split('(').next().unwrap_or(r);
            let v = v.split('_').next().unwrap_or(v);
            (d.to_string(), v.to_string())
        };
        if !held
            .iter()
            .any(|(n, v)| *n == tn && (tv.is_empty() || *v == tv))
        {
            return None;
        }
        Some((
            tn,
            Some(tv).filter(|v| v.starts_with(|c: char| c.is_ascii_digit())),
        ))
    };
    let scalar = |v: &serde_yaml::Value| -> Option<String> {
        v.as_str()
            .map(str::to_string)
            .or_else(|| v.as_f64().map(|f| f.to_string()))
            .or_else(|| v["version"].as_str().map(str::to_string))
    };
    // (from name, from version, its entry, the fields that hold edges).
    let mut sources: Vec<(String, Option<String>, &serde_yaml::Value, &[&str])> = Vec::new();
    for (k, e) in map {
        let Some(k) = k.as_str() else { continue };
        let Some((name, version)) = ident(k) else {
            continue;
        };
        let v = Some(version).filter(|v| v.starts_with(|c: char| c.is_ascii_digit()));
        sources.push((name, v, e, &["dependencies", "optionalDependencies"]));
    }
    // Importers: the project (`.`, not a package) and workspace members,
    // named by their package.json.
    let importer_fields: &[&str] = &["dependencies", "optionalDependencies", "devDependencies"];
    if let Some(importers) = doc["importers"].as_mapping() {
        for (k, e) in importers {
            let Some(k) = k.as_str() else { continue };
            let manifest: Value = std::fs::read_to_string(dir.join(k).join("package.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
            let name = if k == "." {
                PROJECT.to_string()
            } else {
                manifest["name"].as_str().unwrap_or(k).to_string()
            };
            let version = manifest["version"].as_str().map(str::to_string);
            sources.push((name, version, e, importer_fields));
        }
    } else {
        sources.push((PROJECT.to_string(), None, &doc, importer_fields));
    }
    let mut out = Vec::new();
    for (name, from_version, e, fields) in sources {
        for field in fields {
            for (d, r) in e[*field].as_mapping().into_iter().flatten() {
                let (Some(d), Some(r)) = (d.as_str(), scalar(r)) else {
                    continue;
                };
                if let Some((tn, tv)) = resolve(d, &r) {
                    out.push((name.clone(), from_version.clone(), tn, tv));
                }
            }
        }
    }
    out
}

fn yarn(text: &str) -> Vec<Edge> {
    struct E {
        specs: Vec<String>,
        name: String,
        version: Option<String>,
        deps: Vec<(String, String)>,
    }
    let unq = |s: &str| s.trim().trim_matches('"').to_string();
    let mut entries: Vec<E> = Vec::new();
    let mut in_deps = false;
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("__metadata") {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if indent == 0 {
            in_deps = false;
            let specs: Vec<String> = t
                .trim_end_matches(':')
                .split(',')
                .map(unq)
                .filter(|s| !s.is_empty())
                .collect();
            let first = specs.first().cloned().unwrap_or_default();
            let at = first[1..].find('@').map(|i| i + 1).unwrap_or(first.len());
            let mut name = first[..at].to_string();
            // `alias@npm:real@range`
            if let Some(real) = first.get(at + 1..).and_then(|r| r.strip_prefix("npm:"))
                && let Some(i) = real[1..].find('@')
            {
                name = real[..i + 1].to_string();
            }
            entries.push(E {
                specs,
                name,
                version: None,
                deps: Vec::new(),
            });
            continue;
        }
        let Some(e) = entries.last_mut() else {
            continue;
        };
        if indent == 2 {
            in_deps = t == "dependencies:" || t == "optionalDependencies:";
            let (k, v) = t.split_once([' ', ':']).unwrap_or((t, ""));
            let v = unq(v.trim_start_matches(':'));
            match k {
                "version" => e.version = Some(v),
                "resolution" => {
                    let at = v[1..].find('@').map(|i| i + 1).unwrap_or(v.len());
                    e.name = v[..at].to_string();
                }
                _ => {}
            }
        } else if indent == 4 && in_deps {
            let (k, v) = if let Some(rest) = t.strip_prefix('"') {
                let end = rest.find('"').unwrap_or(rest.len());
                (
                    rest[..end].to_string(),
                    rest[end + 1..].trim_start_matches(':'),
                )
            } else {
                let (k, v) = t.split_once([' ', ':']).unwrap_or((t, ""));
                (k.to_string(), v.trim_start_matches(':'))
            };
            e.deps.push((k, unq(v)));
        }
    }
    let mut by_spec: HashMap<&str, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        for s in &e.specs {
            by_spec.insert(s.as_str(), i);
            if let Some(j) = s.find("::") {
                by_spec.entry(&s[..j]).or_insert(i);
            }
        }
    }
    let mut out = Vec::new();
    for e in &entries {
        // The project itself (`workspace:.`) is not a package.
        if e.specs.iter().any(|s| s.ends_with("@workspace:.")) {
            continue;
        }
        for (d, r) in &e.deps {
            let cands = [
                format!("{d}@{r}"),
                format!("{d}@npm:{r}"),
                format!("{d}@{}", r.strip_prefix("npm:").unwrap_or(r)),
            ];
            if let Some(&t) = cands.iter().find_map(|c| by_spec.get(c.as_str())) {
                let t = &entries[t];
                out.push((
                    e.name.clone(),
                    e.version.clone(),
                    t.name.clone(),
                    t.version.clone(),
                ));
            }
        }
    }
    out
}

fn bun(text: &str) -> Vec<Edge> {
    // JSON with trailing commas: drop a comma before `}` or `]`.
    let mut clean = String::with_capacity(text.len());
    let mut in_str = false;
    let mut esc = false;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            clean.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        clean.push(c);
    }
    let Ok(doc) = serde_json::from_str::<Value>(&clean) else {
        return Vec::new();
    };
    let Some(pkgs) = doc["packages"].as_object() else {
        return Vec::new();
    };
    let ident = |v: &Value| -> Option<(String, Option<String>)> {
        let s = v[0].as_str()?;
        let at = s[1..].find('@')? + 1;
        let ver = &s[at + 1..];
        Some((
            s[..at].to_string(),
            Some(ver.to_string()).filter(|v| v.starts_with(|c: char| c.is_ascii_digit())),
        ))
    };
    // Workspace members (their own versions sit under their package
    // name), then the packages.
    let mut entries: Vec<(String, String, Option<String>, Value)> = Vec::new();
    for (dir, meta) in doc["workspaces"].as_object().into_iter().flatten() {
        if let (false, Some(n)) = (dir.is_empty(), meta["name"].as_str()) {
            let v = meta["version"].as_str().map(str::to_string);
            entries.push((n.to_string(), n.to_string(), v, meta.clone()));
        }
    }
    for (k, v) in pkgs {
        let Some((name, version)) = ident(v) else {
            continue;
        };
        let meta = v
            .as_array()
            .and_then(|a| a.iter().find(|x| x.is_object()))
            .cloned()
            .unwrap_or(Value::Null);
        entries.push((k.clone(), name, version, meta));
    }
    let mut out = Vec::new();
    for (k, name, version, meta) in &entries {
        for field in ["dependencies", "optionalDependencies"] {
            for d in meta[field]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(d, _)| d)
            {
                // The nearest install path up the nesting.
                let mut base = k.clone();
                let found = loop {
                    let cand = if base.is_empty() {
                        d.clone()
                    } else {
                        format!("{base}/{d}")
                    };
                    if let Some(t) = pkgs.get(&cand) {
                        break Some(t);
                    }
                    if base.is_empty() {
                        break None;
                    }
                    base = match base.rfind('/') {
                        Some(i)
                            if base[..i]
                                .rsplit('/')
                                .next()
                                .is_some_and(|s| s.starts_with('@')) =>
                        {
                            base[..i]
                                .rfind('/')
                                .map(|j| base[..j].to_string())
                                .unwrap_or_default()
                        }
                        Some(i) => base[..i].to_string(),
                        None => String::new(),
                    };
                };
                if let Some((tn, tv)) = found.and_then(ident) {
                    out.push((name.clone(), version.clone(), tn, tv));
                }
            }
        }
    }
    out
}

fn python_lock(text: &str, format: SourceFormat) -> Vec<Edge> {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let table = if format == SourceFormat::PylockToml {
        "packages"
    } else {
        "package"
    };
    let pkgs: Vec<&toml::Table> = doc
        .get(table)
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_table())
        .collect();
    let norm = |n: &str| Ecosystem::PyPI.normalize_name(n);
    let names: BTreeSet<String> = pkgs
        .iter()
        .filter_map(|p| p.get("name")?.as_str().map(norm))
        .collect();
    let mut out = Vec::new();
    for p in &pkgs {
        let Some(name) = p.get("name").and_then(|n| n.as_str()) else {
            continue;
        };
        let version = p
            .get("version")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let deps: Vec<String> = match format {
            SourceFormat::PoetryLock => p
                .get("dependencies")
                .and_then(|d| d.as_table())
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default(),
            SourceFormat::UvLock | SourceFormat::PylockToml => p
                .get("dependencies")
                .and_then(|d| d.as_array())
                .into_iter()
                .flatten()
                .filter_map(|d| d.get("name")?.as_str().map(str::to_string))
                .collect(),
            _ => p
                .get("dependencies")
                .and_then(|d| d.as_array())
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
                .map(|s| {
                    s.split(|c: char| !(c.is_alphanumeric() || "-_.".contains(c)))
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .collect(),
        };
        for d in deps {
            if names.contains(&norm(&d)) {
                out.push((name.to_string(), version.clone(), d, None));
            }
        }
    }
    out
}

fn cargo_lock(text: &str) -> Vec<Edge> {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let pkgs: Vec<&toml::Table> = doc
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_table())
        .collect();
    let mut versions: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in &pkgs {
        if let (Some(n), Some(v)) = (
            p.get("name").and_then(|n| n.as_str()),
            p.get("version").and_then(|v| v.as_str()),
        ) {
            versions.entry(n).or_default().push(v);
        }
    }
    let mut out = Vec::new();
    for p in &pkgs {
        let (Some(n), Some(v)) = (
            p.get("name").and_then(|n| n.as_str()),
            p.get("version").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        for d in p
            .get("dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str())
        {
            let mut parts = d.split(' ');
            let dn = parts.next().unwrap_or("");
            let dv = parts.next().map(str::to_string).or_else(|| {
                match versions.get(dn).map(Vec::as_slice) {
                    Some([only]) => Some(only.to_string()),
                    _ => None,
                }
            });
            if versions.contains_key(dn) {
                out.push((n.to_string(), Some(v.to_string()), dn.to_string(), dv));
            }
        }
    }
    out
}

/// Checks one lockfile; returns (declared edges, missing edges).
fn check(path: &Path, format: SourceFormat) -> (usize, Vec<String>) {
    let want = declared(path, format);
    let (got, nodes) = match graph_edges(path, format) {
        Ok(g) => g,
        // A fixture broken on purpose: nothing declared, nothing to keep.
        Err(_) if want.is_empty() => return (0, Vec::new()),
        Err(e) => return (want.len(), vec![format!("does not parse: {e}")]),
    };
    let missing = want
        .iter()
        .filter(|w| !has(&got, &nodes, w))
        .map(|w| format!("{}@{:?} -> {}@{:?}", w.0, w.1, w.2, w.3))
        .collect();
    (want.len(), missing)
}

fn lockfiles_under(dir: &Path, out: &mut Vec<(PathBuf, SourceFormat)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            if name != "node_modules" && name != "hostile" {
                lockfiles_under(&path, out);
            }
        } else if let Some(f) = SourceFormat::from_file_name(&name).filter(|f| f.is_lockfile()) {
            out.push((path, f));
        }
    }
}

fn run(files: &[(PathBuf, SourceFormat)]) -> BTreeMap<SourceFormat, (usize, usize)> {
    let mut per_format: BTreeMap<SourceFormat, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (path, format) in files {
        let (n, missing) = check(path, *format);
        let slot = per_format.entry(*format).or_default();
        slot.0 += 1;
        slot.1 += n;
        for m in missing.iter().take(5) {
            failures.push(format!("{}: {m}", path.display()));
        }
        if missing.len() > 5 {
            failures.push(format!("{}: {} more", path.display(), missing.len() - 5));
        }
    }
    assert!(
        failures.is_empty(),
        "edges missing from the graph:\n{}",
        failures.join("\n")
    );
    per_format
}

#[test]
fn every_lockfile_edge_in_testdata_is_in_the_graph() {
    let mut files = Vec::new();
    lockfiles_under(&common::testdata(""), &mut files);
    let per_format = run(&files);
    // Every lockfile format is covered, with real edges.
    for f in [
        SourceFormat::PackageLock,
        SourceFormat::PnpmLock,
        SourceFormat::YarnLock,
        SourceFormat::BunLock,
        SourceFormat::PoetryLock,
        SourceFormat::UvLock,
        SourceFormat::CargoLock,
    ] {
        let (files, edges) = per_format.get(&f).copied().unwrap_or_default();
        assert!(files > 0 && edges > 0, "{f}: {files} files, {edges} edges");
    }
}

#[test]
fn every_lockfile_edge_in_the_conformance_corpus_is_in_the_graph() {
    let Some(corpus) = common::external_data(
        "DEPWARDEN_SHARED",
        "conformance",
        "lockfile edges of the conformance corpus",
    ) else {
        return;
    };
    let mut files = Vec::new();
    for fmt_dir in std::fs::read_dir(&corpus).unwrap().flatten() {
        for case in std::fs::read_dir(fmt_dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(text) = std::fs::read_to_string(case.path().join("expected.json")) else {
                continue;
            };
            let exp: Value = serde_json::from_str(&text).unwrap();
            if exp["expect_error"] == true {
                continue;
            }
            let format = match exp["format"].as_str().unwrap_or("") {
                "npm-package-lock" => SourceFormat::PackageLock,
                "pnpm-lock" => SourceFormat::PnpmLock,
                "yarn-lock" => SourceFormat::YarnLock,
                "bun-lock" => SourceFormat::BunLock,
                "poetry-lock" => SourceFormat::PoetryLock,
                "uv-lock" => SourceFormat::UvLock,
                "pdm-lock" => SourceFormat::PdmLock,
                "pylock-toml" => SourceFormat::PylockToml,
                "cargo-lock" => SourceFormat::CargoLock,
                _ => continue,
            };
            let file = case.path().join(exp["file"].as_str().unwrap());
            files.push((file, format));
        }
    }
    let per_format = run(&files);
    assert!(per_format.values().map(|(f, _)| f).sum::<usize>() > 50);
}
