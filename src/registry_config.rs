//! The registry configuration that decides where a deployment's packages
//! come from: `.npmrc`, `.yarnrc.yml`, `.yarnrc`, `pip.conf` / `pip.ini`,
//! poetry and uv sources in `pyproject.toml`, Pipfile `[[source]]` and
//! `.cargo/config.toml`, read from the deployment root and its parents up
//! to the scanned root.
//!
//! Only URLs are kept, with credentials redacted; tokens, `_auth` values
//! and passwords are never stored, so they cannot reach any report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::ecosystem::redact_url;
use crate::fs::Fs;

/// What the configuration files say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryConfig {
    /// npm default registry (`registry=`, `npmRegistryServer`).
    pub npm_registry: Option<String>,
    /// npm scope → registry (`@acme:registry=`, `npmScopes`).
    pub npm_scopes: BTreeMap<String, String>,
    /// pip `index-url`.
    pub pip_index: Option<String>,
    /// pip `extra-index-url` entries.
    pub pip_extra: Vec<String>,
    /// poetry sources: (name, url, priority).
    pub poetry_sources: Vec<(String, String, String)>,
    /// uv indexes (`[[tool.uv.index]]` urls).
    pub uv_indexes: Vec<String>,
    /// uv `index-strategy`.
    pub uv_index_strategy: Option<String>,
    /// Pipfile `[[source]]` urls.
    pub pipfile_sources: Vec<String>,
    /// Cargo alternative registries and source replacements: (name, url).
    pub cargo_registries: Vec<(String, String)>,
    /// The files read (for reasons).
    pub files: Vec<PathBuf>,
}

/// Reads the configuration of a deployment rooted at `root`, walking up to
/// `scan_root` (inner files win: they are read first and never
/// overwritten by outer ones).
pub fn read(fs: &dyn Fs, root: &Path, scan_root: &Path) -> RegistryConfig {
    let mut cfg = RegistryConfig::default();
    let mut dir = Some(root);
    while let Some(d) = dir {
        read_npmrc(fs, &d.join(".npmrc"), &mut cfg);
        read_yarnrc_yml(fs, &d.join(".yarnrc.yml"), &mut cfg);
        read_yarnrc(fs, &d.join(".yarnrc"), &mut cfg);
        for name in ["pip.conf", "pip.ini"] {
            read_pip_conf(fs, &d.join(name), &mut cfg);
        }
        read_cargo_config(fs, &d.join(".cargo").join("config.toml"), &mut cfg);
        read_cargo_config(fs, &d.join(".cargo").join("config"), &mut cfg);
        if d == root {
            read_pyproject(fs, &d.join("pyproject.toml"), &mut cfg);
            read_pipfile(fs, &d.join("Pipfile"), &mut cfg);
        }
        if d == scan_root || !d.starts_with(scan_root) {
            break;
        }
        dir = d.parent();
    }
    cfg
}

fn text(fs: &dyn Fs, path: &Path, cfg: &mut RegistryConfig) -> Option<String> {
    if !fs.is_file(path) {
        return None;
    }
    let t = fs.read_to_string(path).ok()?;
    cfg.files.push(path.to_path_buf());
    Some(t)
}

/// `.npmrc`: `registry=URL` and `@scope:registry=URL`; auth lines ignored.
fn read_npmrc(fs: &dyn Fs, path: &Path, cfg: &mut RegistryConfig) {
    let Some(t) = text(fs, path, cfg) else {
        return;
    };
    for line in t.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim().trim_matches('"'));
        if key == "registry" {
            cfg.npm_registry.get_or_insert_with(|| redact_url(value));
        } else if let Some(scope) = key.strip_suffix(":registry")
            && scope.starts_with('@')
        {
            cfg.npm_scopes
                .entry(scope.to_string())
                .or_insert_with(|| redact_url(value));
        }
    }
}

/// `.yarnrc` (yarn 1): `registry "URL"`, `"@scope:registry" "URL"`.
fn read_yarnrc(fs: &dyn Fs, path: &Path, cfg: &mut RegistryConfig) {
    let Some(t) = text(fs, path, cfg) else {
        return;
    };
    for line in t.lines() {
        let mut parts = line.split_whitespace();
        let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        let (key, value) = (key.trim_matches('"'), value.trim_matches('"'));
        if key == "registry" {
            cfg.npm_registry.get_or_insert_with(|| redact_url(value));
        } else if let Some(scope) = key.strip_suffix(":registry") {
            cfg.npm_scopes
                .entry(scope.to_string())
                .or_insert_with(|| redact_url(value));
        }
    }
}

/// `.yarnrc.yml` (yarn 2+): `npmRegistryServer` and `npmScopes`.
fn read_yarnrc_yml(fs: &dyn Fs, path: &Path, cfg: &mut RegistryConfig) {
    let Some(t) = text(fs, path, cfg) else {
        return;
    };
    // Deep nesting and alias bombs are refused before the YAML parser.
    if crate::yaml_guard::check(&t).is_err() {
        return;
    }
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&t) else {
        return;
    };
    if let Some(url) = doc.get("npmRegistryServer").and_then(|v| v.as_str()) {
        cfg.npm_registry.get_or_insert_with(|| redact_url(url));
    }
    if let Some(scopes) = doc.get("npmScopes").and_then(|v| v.as_mapping()) {
        for (k, v) in scopes {
            if let (Some(scope), Some(url)) = (
                k.as_str(),
                v.get("npmRegistryServer").and_then(|u| u.as_str()),
            ) {
                let scope = if scope.starts_with('@') {
                    scope.to_string()
                } else {
                    format!("@{scope}")
                };
                cfg.npm_scopes
                    .entry(scope)
                    .or_insert_with(|| redact_url(url));
            }
        }
    }
}

/// `pip.conf` / `pip.ini`: `index-url` and `extra-index-url` (several
/// values, whitespace-separated or on continuation lines).
fn read_pip_conf(fs: &dyn Fs, path: &Path, cfg: &mut RegistryConfig) {
    let Some(t) = text(fs, path, cfg) else {
        return;
    };
    let mut current: Option<&str> = None;
    for line in t.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('[') {
            current = None;
            continue;
        }
        let (key, value) = match trimmed.split_once('=') {
            Some((k, v)) if !line.starts_with([' ', '\t']) => (k.trim(), v.trim()),
            _ => match current {
                Some(k) => (k, trimmed),
                None => continue,
            },
        };
        match key {
            "index-url" | "index_url" => {
                current = Some("index-url");
                if !value.is_empty() {
                    cfg.pip_index.get_or_insert_with(|| redact_url(value));
                }
            }
            "extra-index-url" | "extra_index_url" => {
                current = Some("extra-index-url");
                cfg.pip_extra
                    .extend(value.split_whitespace().map(redact_url));
            }
            _ => current = None,
        }
    }
}

/// `[[tool.poetry.source]]`, `[[tool.uv.index]]` and uv's
/// `index-strategy` in `pyproject.toml`.
fn read_pyproject(fs: &dyn Fs, path: &Path, cfg: &mut RegistryConfig) {
    let Some(t) = text(fs, path, cfg) else {
        return;
    };
    // A token flood is refused before the TOML parser, like a parse error.
    if crate::toml_guard::check(&t).is_err() {
        return;
    }
    let Ok(doc) = t.parse::<toml::Table>() else {
        return;
    };
    let tool = doc.get("tool").and_then(toml::Value::as_table);
    let sub = |n: &str| tool.and_then(|t| t.get(n)).and_then(toml::Value::as_table);
    if let Some(sources) = sub("poetry")
        .and_then(|p| p.get("source"))
        .and_then(toml::Value::as_array)
    {
        for s in sources.iter().filter_map(toml::Value::as_table) {
            let get = |k: &str| s.get(k).and_then(toml::Value::as_str).unwrap_or("");
            let priority = match (
                get("priority"),
                s.get("default").and_then(toml::Value::as_bool),
            ) {
                ("", Some(true)) => "default",
                ("", _) => "primary",
                (p, _) => p,
            };
            cfg.poetry_sources.push((
                get("name").to_string(),
                redact_url(get("url")),
                priority.to_string(),
            ));
        }
    }
    if let Some(uv) = sub("uv") {
        if let Some(s) = uv.get("index-strategy").and_then(toml::Value::as_str) {
            cfg.uv_index_strategy = Some(s.to_string());
        }
        for key in ["index", "extra-index-url", "index-url"] {
            match uv.get(key) {
                Some(toml::Value::Array(items)) => {
                    for i in items {
                        let url = i
                            .as_table()
                            .and_then(|t| t.get("url"))
                            .and_then(toml::Value::as_str)
                            .or(i.as_str());
                        cfg.uv_indexes.extend(url.map(redact_url));
                    }
                }
                Some(toml::Value::String(u)) => cfg.uv_indexes.push(redact_url(u)),
                _ => {}
            }
        }
    }
}

/// Pipfile `[[source]]` urls.
fn read_pipfile(fs: &dyn Fs, path: &Path, cfg: &mut RegistryConfig) {
    let Some(t) = text(fs, path, cfg) else {
        return;
    };
    // A token flood is refused before the TOML parser, like a parse error.
    if crate::toml_guard::check(&t).is_err() {
        return;
    }
    let Ok(doc) = t.parse::<toml::Table>() else {
        return;
    };
    for s in doc
        .get("source")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_table)
    {
        if let Some(u) = s.get("url").and_then(toml::Value::as_str) {
            cfg.pipfile_sources.push(redact_url(u));
        }
    }
}

/// `.cargo/config.toml`: `[registries.<name>] index` and `[source.<name>]`
/// replacements (`registry`, `replace-with`).
fn read_cargo_config(fs: &dyn Fs, path: &Path, cfg: &mut RegistryConfig) {
    let Some(t) = text(fs, path, cfg) else {
        return;
    };
    // A token flood is refused before the TOML parser, like a parse error.
    if crate::toml_guard::check(&t).is_err() {
        return;
    }
    let Ok(doc) = t.parse::<toml::Table>() else {
        return;
    };
    for (section, key) in [("registries", "index"), ("source", "registry")] {
        if let Some(table) = doc.get(section).and_then(toml::Value::as_table) {
            for (name, v) in table {
                let url = v.get(key).and_then(toml::Value::as_str).map(redact_url);
                let replace = v.get("replace-with").and_then(toml::Value::as_str);
                match (url, replace) {
                    (Some(u), _) => cfg.cargo_registries.push((name.clone(), u)),
                    (None, Some(r)) => cfg
                        .cargo_registries
                        .push((name.clone(), format!("replaced with {r}"))),
                    _ => {}
                }
            }
        }
    }
}

/// True when a URL points at the public registry of its ecosystem (or at
/// a public base configured in `[registries] public`).
pub fn is_public(url: &str, public_hosts: &[String]) -> bool {
    let host = host_of(url);
    public_hosts.contains(&host)
}

/// The lower-case host of a URL (credentials and port dropped).
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    host_port
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}
