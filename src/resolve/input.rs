//! What a manifest asks the installer for, read for resolution:
//! `package.json` (dependencies of every kind and `overrides`),
//! `requirements*.txt` (PEP 508 lines, `-r` includes, `-c` constraints,
//! `--pre`) and `pyproject.toml` (`[project] dependencies`), `Cargo.toml`
//! (a package or a workspace with its members and path crates, see
//! [`super::cargo_paths`], `workspace = true` inheritance, renamed and
//! target-specific dependencies). Files are read
//! through the scan's file system, so inside zips too, and never outside
//! the deployment root.

use super::cargo::{CargoInput, Member};
use super::cargo_paths::{self, Manifest, PathReq};
use super::model::CrateDep;
use super::npm::NpmInput;
use super::pypi::PyInput;
use super::tree::Unresolved;
use crate::fs::{Fs, normalize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a `package.json`.
pub fn npm(fs: &dyn Fs, path: &Path) -> Result<NpmInput, String> {
    let text = fs.read_to_string(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let deps = map(v.get("dependencies"));
    let dev = map(v.get("devDependencies"));
    let optional = map(v.get("optionalDependencies"));
    let peer = map(v.get("peerDependencies"));
    let root_spec = |n: &str| {
        deps.get(n)
            .or(dev.get(n))
            .or(optional.get(n))
            .or(peer.get(n))
            .cloned()
    };
    let overrides = super::npm_pick::overrides(v.get("overrides"), &root_spec);
    let peer_optional = v
        .get("peerDependenciesMeta")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, x)| x.get("optional") == Some(&Value::Bool(true)))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    Ok(NpmInput {
        deps,
        dev,
        optional,
        peer,
        peer_optional,
        overrides,
    })
}

/// Logical lines of a requirements file: continuations joined, comments
/// removed.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = String::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some(s) = line.strip_suffix('\\') {
            buf.push_str(s);
            buf.push(' ');
            continue;
        }
        buf.push_str(line);
        let full = std::mem::take(&mut buf);
        let cut = full
            .char_indices()
            .find(|&(i, c)| c == '#' && (i == 0 || full[..i].ends_with([' ', '\t'])))
            .map(|(i, _)| i)
            .unwrap_or(full.len());
        let t = full[..cut].trim();
        if !t.is_empty() {
            out.push(t.to_string());
        }
    }
    out
}

/// Reads a requirements file (with its `-r` includes and `-c`
/// constraints, inside `root` only). Lines that are not PEP 508
/// requirements (editables, paths) are returned as unresolved.
pub fn requirements(
    fs: &dyn Fs,
    path: &Path,
    root: &Path,
) -> Result<(PyInput, Vec<Unresolved>), String> {
    let mut input = PyInput::default();
    let mut unresolved = Vec::new();
    let mut seen = Vec::new();
    read_requirements(
        fs,
        path,
        root,
        false,
        &mut input,
        &mut unresolved,
        &mut seen,
        0,
    )?;
    Ok((input, unresolved))
}

#[allow(clippy::too_many_arguments)]
fn read_requirements(
    fs: &dyn Fs,
    path: &Path,
    root: &Path,
    constraints: bool,
    input: &mut PyInput,
    unresolved: &mut Vec<Unresolved>,
    seen: &mut Vec<PathBuf>,
    depth: u32,
) -> Result<(), String> {
    if depth > 16 || seen.iter().any(|p| p == path) {
        return Ok(());
    }
    seen.push(path.to_path_buf());
    let text = fs.read_to_string(path).map_err(|e| e.to_string())?;
    let dir = path.parent().unwrap_or(root);
    for line in logical_lines(&text) {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        let include = |opt: &str| -> Option<String> {
            if first == opt {
                return line.split_whitespace().nth(1).map(str::to_string);
            }
            first
                .strip_prefix(&format!("{opt}="))
                .or_else(|| {
                    (opt.len() == 2)
                        .then(|| first.strip_prefix(opt))
                        .flatten()
                        .filter(|s| !s.is_empty())
                })
                .map(str::to_string)
        };
        if let Some(f) = include("-r").or_else(|| include("--requirement")) {
            let p = normalize(&dir.join(f));
            if p.starts_with(root) {
                read_requirements(
                    fs,
                    &p,
                    root,
                    constraints,
                    input,
                    unresolved,
                    seen,
                    depth + 1,
                )?;
            }
            continue;
        }
        if let Some(f) = include("-c").or_else(|| include("--constraint")) {
            let p = normalize(&dir.join(f));
            if p.starts_with(root) {
                read_requirements(fs, &p, root, true, input, unresolved, seen, depth + 1)?;
            }
            continue;
        }
        if first == "--pre" {
            input.pre = true;
            continue;
        }
        if first.starts_with('-') {
            if matches!(first, "-e" | "--editable") {
                unresolved.push(Unresolved {
                    name: line.split_whitespace().nth(1).unwrap_or("").to_string(),
                    requirement: None,
                    reason: "an editable install, not resolved from the index".into(),
                });
            }
            continue;
        }
        // Per-requirement options (`--hash=...`) end the requirement.
        let req_text = match line.find(" --") {
            Some(i) => &line[..i],
            None => line.as_str(),
        };
        match crate::parsers::pypi::pep508::requirement(req_text) {
            Ok(r) if constraints => input.constraints.push(r),
            Ok(r) => input.requirements.push(r),
            Err(_) => unresolved.push(Unresolved {
                name: req_text.to_string(),
                requirement: None,
                reason: "not a PEP 508 requirement (a path or URL), not resolved from the index"
                    .into(),
            }),
        }
    }
    Ok(())
}

/// Reads `[project] dependencies` of a `pyproject.toml`.
pub fn pyproject(fs: &dyn Fs, path: &Path) -> Result<(PyInput, Vec<Unresolved>), String> {
    let text = fs.read_to_string(path).map_err(|e| e.to_string())?;
    let v: toml::Value = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut input = PyInput::default();
    let mut unresolved = Vec::new();
    let deps = v
        .get("project")
        .and_then(|p| p.get("dependencies"))
        .and_then(toml::Value::as_array);
    for d in deps.into_iter().flatten().filter_map(toml::Value::as_str) {
        match crate::parsers::pypi::pep508::requirement(d) {
            Ok(r) => input.requirements.push(r),
            Err(_) => unresolved.push(Unresolved {
                name: d.to_string(),
                requirement: None,
                reason: "not a PEP 508 requirement".into(),
            }),
        }
    }
    if deps.is_none() && v.get("tool").and_then(|t| t.get("poetry")).is_some() {
        return Err(
            "only [project] dependencies are resolved; a Poetry project needs its poetry.lock"
                .into(),
        );
    }
    Ok((input, unresolved))
}

fn features(spec: &toml::Value) -> Vec<String> {
    spec.get("features")
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn optional(spec: &toml::Value) -> bool {
    spec.get("optional").and_then(toml::Value::as_bool) == Some(true)
}

fn default_features(spec: &toml::Value) -> bool {
    spec.get("default-features")
        .or(spec.get("default_features"))
        .and_then(toml::Value::as_bool)
        != Some(false)
}

fn toml_str<'v>(v: &'v toml::Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(toml::Value::as_str)
}

/// Reads a `Cargo.toml`: a package, or a workspace and its members.
pub fn cargo(fs: &dyn Fs, path: &Path, root: &Path) -> Result<CargoInput, String> {
    let read = |p: &Path| -> Result<toml::Value, String> {
        let text = fs.read_to_string(p).map_err(|e| e.to_string())?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let top = read(path)?;
    let dir = path.parent().unwrap_or(root).to_path_buf();
    let ws = top.get("workspace");
    let ws_deps = ws.and_then(|w| w.get("dependencies")).cloned();
    let mut manifests = Vec::new();
    if top.get("package").is_some() {
        manifests.push(Manifest {
            dir: dir.clone(),
            toml: top.clone(),
            member: true,
        });
    }
    let mut member_dirs = Vec::new();
    for m in ws
        .and_then(|w| w.get("members"))
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_str)
    {
        match m.strip_suffix("/*") {
            Some(parent) => {
                let base = normalize(&dir.join(parent));
                let mut found: Vec<PathBuf> = fs
                    .read_dir(&base)
                    .map(|es| es.into_iter().map(|e| e.path).collect())
                    .unwrap_or_default();
                found.sort();
                member_dirs.extend(found);
            }
            None => member_dirs.push(normalize(&dir.join(m))),
        }
    }
    member_dirs.retain(|d| d != &dir);
    let (manifests, cut) = cargo_paths::read_all(
        fs,
        &read,
        root,
        ws.is_some(),
        manifests,
        member_dirs,
        cargo_paths::MAX_MANIFESTS,
    )?;
    let mut out = CargoInput::default();
    out.unresolved.extend(cut);
    let mut members = Vec::new();
    let mut reqs: Vec<Vec<PathReq>> = Vec::new();
    for mf in &manifests {
        let m = &mf.toml;
        let mut own_reqs = Vec::new();
        let pkg = m.get("package");
        let mut member = Member {
            name: pkg
                .and_then(|p| toml_str(p, "name"))
                .unwrap_or("")
                .to_string(),
            rust_version: pkg.and_then(|p| match p.get("rust-version") {
                Some(toml::Value::String(s)) => Some(s.clone()),
                Some(v) if v.get("workspace").is_some() => ws
                    .and_then(|w| w.get("package"))
                    .and_then(|p| toml_str(p, "rust-version"))
                    .map(str::to_string),
                _ => None,
            }),
            deps: Vec::new(),
        };
        let mut tables: Vec<(Option<String>, &str, &toml::Value)> = Vec::new();
        for (key, kind) in [
            ("dependencies", "normal"),
            ("dev-dependencies", "dev"),
            ("build-dependencies", "build"),
        ] {
            if let Some(t) = m.get(key) {
                tables.push((None, kind, t));
            }
            if let Some(t) = m.get(key.replace('-', "_").as_str()) {
                tables.push((None, kind, t));
            }
        }
        if let Some(targets) = m.get("target").and_then(toml::Value::as_table) {
            for (cfg, t) in targets {
                for (key, kind) in [
                    ("dependencies", "normal"),
                    ("dev-dependencies", "dev"),
                    ("build-dependencies", "build"),
                ] {
                    if let Some(d) = t.get(key) {
                        tables.push((Some(cfg.clone()), kind, d));
                    }
                }
            }
        }
        for (target, kind, table) in tables {
            let Some(table) = table.as_table() else {
                continue;
            };
            for (name, spec) in table {
                let mut spec = spec.clone();
                let inherits = spec.get("workspace").and_then(toml::Value::as_bool) == Some(true);
                if inherits {
                    let Some(base) = ws_deps.as_ref().and_then(|w| w.get(name)) else {
                        continue;
                    };
                    let mut merged = match base {
                        toml::Value::String(s) => {
                            let mut t = toml::map::Map::new();
                            t.insert("version".into(), toml::Value::String(s.clone()));
                            t
                        }
                        toml::Value::Table(t) => t.clone(),
                        _ => continue,
                    };
                    if let Some(t) = spec.as_table() {
                        for (k, v) in t {
                            if k == "features" {
                                let mut all = merged
                                    .get("features")
                                    .and_then(toml::Value::as_array)
                                    .cloned()
                                    .unwrap_or_default();
                                all.extend(v.as_array().cloned().unwrap_or_default());
                                merged.insert(k.clone(), toml::Value::Array(all));
                            } else if k != "workspace" {
                                merged.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    spec = toml::Value::Table(merged);
                }
                let package = toml_str(&spec, "package").map(str::to_string);
                let real = package.clone().unwrap_or_else(|| name.clone());
                if spec.get("path").is_some()
                    || spec.get("git").is_some()
                    || spec.get("registry").is_some()
                {
                    let to = toml_str(&spec, "path")
                        .map(|p| normalize(&if inherits { &dir } else { &mf.dir }.join(p)))
                        .and_then(|p| manifests.iter().position(|x| x.dir == p));
                    if let Some(to) = to {
                        own_reqs.push(PathReq {
                            to,
                            key: name.clone(),
                            features: features(&spec),
                            default_features: default_features(&spec),
                            optional: optional(&spec),
                            dev: kind == "dev",
                        });
                        continue;
                    }
                    let what = if spec.get("git").is_some() {
                        "a git dependency"
                    } else if spec.get("path").is_some() {
                        "a path dependency outside the workspace"
                    } else {
                        "an alternative registry"
                    };
                    out.unresolved.push(Unresolved {
                        name: real,
                        requirement: None,
                        reason: format!("{what}, not resolved from crates.io"),
                    });
                    continue;
                }
                let req = match &spec {
                    toml::Value::String(s) => s.clone(),
                    t => toml_str(t, "version").unwrap_or("*").to_string(),
                };
                member.deps.push(CrateDep {
                    name: name.clone(),
                    req,
                    features: features(&spec),
                    optional: optional(&spec),
                    default_features: default_features(&spec),
                    target: target.clone(),
                    kind: (kind != "normal").then(|| kind.to_string()),
                    package,
                });
            }
        }
        members.push(member);
        reqs.push(own_reqs);
    }
    // Which manifests the lockfile covers, and what their features enable.
    let on = cargo_paths::activate(&manifests, &reqs);
    for ((mut member, mf), on) in members.into_iter().zip(&manifests).zip(on) {
        let Some(on) = on else {
            continue;
        };
        if !mf.member {
            member.deps.retain(|d| {
                d.kind.as_deref() != Some("dev") && (!d.optional || on.deps.contains(&d.name))
            });
        }
        for d in &mut member.deps {
            for (key, f) in &on.dep_features {
                if *key == d.name && !d.features.contains(f) {
                    d.features.push(f.clone());
                }
            }
        }
        out.members.push(member);
    }
    if out.members.is_empty() {
        return Err("neither [package] nor workspace members".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_lines() {
        let l = logical_lines("a>=1 \\\n  ,<2 # c\n# x\n\nb==2 --hash=sha256:x\n");
        assert_eq!(l, vec!["a>=1    ,<2", "b==2 --hash=sha256:x"]);
    }
}
