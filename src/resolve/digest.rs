//! Registry answers turned into the store's documents ([`super::model`]):
//! an npm packument, a PEP 691 JSON project page, a wheel's core metadata
//! (PEP 658), a crates.io sparse-index file. Each keeps only what
//! resolution reads; an entry that cannot be read is skipped, the rest of
//! the document is kept.

use super::model::*;
use serde_json::Value;
use std::collections::BTreeMap;

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// An npm packument (full or abbreviated): the abbreviated manifest
/// fields of every version and, from the full document, publish times.
pub fn npm(body: &[u8]) -> Result<NpmDoc, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let times = doc.get("time").and_then(Value::as_object);
    let tags = string_map(doc.get("dist-tags"));
    let mut versions = Vec::new();
    if let Some(vs) = doc.get("versions").and_then(Value::as_object) {
        for (version, m) in vs {
            let Some(m) = m.as_object() else { continue };
            let g = |k: &str| m.get(k);
            let bundled = match g("bundleDependencies").or(g("bundledDependencies")) {
                Some(Value::Bool(true)) => string_map(g("dependencies")).into_keys().collect(),
                other => string_list(other),
            };
            let engines = g("engines").and_then(Value::as_object);
            let engine = |k: &str| {
                engines
                    .and_then(|e| e.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            versions.push(NpmVersion {
                version: version.clone(),
                time: times
                    .and_then(|t| t.get(version))
                    .and_then(Value::as_str)
                    .and_then(time_of),
                deps: string_map(g("dependencies")),
                optional: string_map(g("optionalDependencies")),
                peer: string_map(g("peerDependencies")),
                peer_optional: g("peerDependenciesMeta")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter(|(_, v)| v.get("optional") == Some(&Value::Bool(true)))
                            .map(|(k, _)| k.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
                bundled,
                os: string_list(g("os")),
                cpu: string_list(g("cpu")),
                libc: string_list(g("libc")),
                engine_node: engine("node"),
                engine_npm: engine("npm"),
                deprecated: matches!(g("deprecated"), Some(Value::String(s)) if !s.is_empty())
                    || g("deprecated") == Some(&Value::Bool(true)),
            });
        }
    }
    let mut tags = tags;
    let latest = tags.remove("latest");
    Ok(NpmDoc {
        latest,
        tags,
        versions,
    })
}

/// True for a wheel no Linux target installs (every platform tag is for
/// Windows or macOS).
fn foreign_wheel(filename: &str) -> bool {
    let Some(stem) = filename.strip_suffix(".whl") else {
        return false;
    };
    let Some(platforms) = stem.rsplit('-').next() else {
        return false;
    };
    platforms
        .split('.')
        .all(|p| p.starts_with("win") || p.starts_with("macosx") || p.starts_with("ios"))
}

/// A PEP 691 JSON project page. Relative file URLs are resolved against
/// `page` (the page's own URL).
pub fn pypi_project(body: &[u8], page: &url::Url) -> Result<PyProject, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let files = doc
        .get("files")
        .and_then(Value::as_array)
        .ok_or("no \"files\" list (not a PEP 691 JSON page)")?;
    let mut out = Vec::new();
    for f in files {
        let (Some(filename), Some(href)) = (
            f.get("filename").and_then(Value::as_str),
            f.get("url").and_then(Value::as_str),
        ) else {
            continue;
        };
        if foreign_wheel(filename) {
            continue;
        }
        let Ok(url) = page.join(href) else { continue };
        let mut url = url;
        url.set_fragment(None);
        // Credentials of an authenticated mirror are never stored; the
        // fetcher adds the configured ones back for the mirror's host.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        out.push(PyFile {
            filename: filename.to_string(),
            url: url.to_string(),
            requires_python: f
                .get("requires-python")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string),
            yanked: match f.get("yanked") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(_)) => true,
                _ => false,
            },
            time: f
                .get("upload-time")
                .and_then(Value::as_str)
                .and_then(time_of),
        });
    }
    Ok(PyProject { files: out })
}

/// A wheel's core metadata (`METADATA`, email-header format): its
/// `Requires-Dist` and `Requires-Python` fields, continuation lines
/// joined, up to the blank line before the description.
pub fn pypi_metadata(body: &[u8]) -> PyMetadata {
    let text = String::from_utf8_lossy(body);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            fields.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let mut out = PyMetadata::default();
    for (k, v) in fields {
        match k.as_str() {
            "requires-dist" => out.requires_dist.push(v),
            "requires-python" if !v.is_empty() => out.requires_python = Some(v),
            _ => {}
        }
    }
    out
}

/// A crates.io sparse-index file: one JSON object per line.
pub fn crates(body: &[u8]) -> Result<CrateDoc, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let mut versions = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(vers) = v.get("vers").and_then(Value::as_str) else {
            continue;
        };
        let mut features: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for key in ["features", "features2"] {
            if let Some(m) = v.get(key).and_then(Value::as_object) {
                for (k, list) in m {
                    features
                        .entry(k.clone())
                        .or_default()
                        .extend(string_list(Some(list)));
                }
            }
        }
        let deps = v
            .get("deps")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(crate_dep).collect())
            .unwrap_or_default();
        versions.push(CrateVersion {
            vers: vers.to_string(),
            deps,
            features,
            yanked: v.get("yanked") == Some(&Value::Bool(true)),
            time: v.get("pubtime").and_then(Value::as_str).and_then(time_of),
            rust_version: v
                .get("rust_version")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    Ok(CrateDoc { versions })
}

fn crate_dep(d: &Value) -> Option<CrateDep> {
    let s = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
    Some(CrateDep {
        name: s("name")?,
        req: s("req")?,
        features: string_list(d.get("features")),
        optional: d.get("optional") == Some(&Value::Bool(true)),
        default_features: d.get("default_features") != Some(&Value::Bool(false)),
        target: s("target"),
        kind: s("kind").filter(|k| k != "normal"),
        package: s("package"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_fields_and_continuations() {
        let m = pypi_metadata(
            b"Metadata-Version: 2.1\nName: x\nRequires-Dist: a>=1;\n  extra == 'y'\nRequires-Python: >=3.8\n\nRequires-Dist: not-a-field\n",
        );
        assert_eq!(m.requires_dist, vec!["a>=1; extra == 'y'"]);
        assert_eq!(m.requires_python.as_deref(), Some(">=3.8"));
    }

    #[test]
    fn foreign_wheels_are_recognised() {
        assert!(foreign_wheel("x-1-cp312-cp312-win_amd64.whl"));
        assert!(foreign_wheel(
            "x-1-cp312-cp312-macosx_10_9_x86_64.macosx_11_0_arm64.whl"
        ));
        assert!(!foreign_wheel("x-1-py3-none-any.whl"));
        assert!(!foreign_wheel("x-1.tar.gz"));
    }

    #[test]
    fn crate_lines_merge_features2() {
        let d = crates(
            br#"{"name":"a","vers":"1.0.0","deps":[{"name":"b","req":"^1","features":[],"optional":true,"default_features":false,"target":null,"kind":"normal"}],"features":{"x":["b"]},"features2":{"y":["dep:b"]},"yanked":false,"pubtime":"2025-01-01T00:00:00Z"}
not json
"#,
        )
        .unwrap();
        assert_eq!(d.versions.len(), 1);
        let v = &d.versions[0];
        assert_eq!(v.features.len(), 2);
        assert!(v.deps[0].optional && !v.deps[0].default_features);
        assert_eq!(v.time, Some(1_735_689_600));
    }
}
