//! Installed Python distributions: `*.dist-info/METADATA`,
//! `*.egg-info/PKG-INFO` (or an `.egg-info` file), `*.egg/EGG-INFO/PKG-INFO`,
//! and `.whl` / `.egg` archives given explicitly.
//!
//! A source is either one metadata file (or archive) or a directory such as
//! a `site-packages/`, a `pip install --target` folder or a Lambda layer's
//! `python/`: every distribution in it is a package, `Requires-Dist`
//! entries that hold for the target environment are its edges, and the
//! distributions nothing else requires are the direct ones. `INSTALLER`
//! and `direct_url.json` record where a distribution came from.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::fs::EntryKind;
use crate::graph::{DepGraph, DepKind, Package, PackageId, PackageSource};
use crate::parse::{ParseContext, ParseError, ParsedSource};

use super::lock::{marker_false, normalize, requirement_name, target_env};
use crate::ecosystem::redact_url;

/// Largest metadata file read from an archive (bytes).
const MAX_METADATA: u64 = 4 * 1024 * 1024;

/// The core metadata fields depwarden uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `Name`.
    pub name: String,
    /// `Version` (the first one when repeated).
    pub version: String,
    /// `Requires-Dist` entries, as written.
    pub requires_dist: Vec<String>,
}

/// Parses the header block of a METADATA / PKG-INFO file (RFC 822 style;
/// keys are case-insensitive; the body after the first blank line is the
/// description and is ignored). `None` when there is no name or version.
pub fn parse_metadata(text: &str) -> Option<Metadata> {
    let mut meta = Metadata::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue; // continuation of a multi-line field
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "name" if meta.name.is_empty() => meta.name = value.to_string(),
            "version" if meta.version.is_empty() => meta.version = value.to_string(),
            "requires-dist" => meta.requires_dist.push(value.to_string()),
            _ => {}
        }
    }
    (!meta.name.is_empty() && !meta.version.is_empty()).then_some(meta)
}

/// One distribution found on disk.
struct Dist {
    meta: Metadata,
    /// The metadata file (for lines and diagnostics).
    file: PathBuf,
    source: PackageSource,
    installer: Option<String>,
}

/// Parses an installed-metadata source.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let path = ctx.path();
    let mut parsed = ParsedSource::default();
    let mut dists = Vec::new();
    if ctx.fs.is_dir(path) {
        let name = file_name(path);
        if name.ends_with(".dist-info") || name.ends_with(".egg-info") || name.ends_with(".egg") {
            if let Some(d) = read_dist_dir(ctx, path, &mut parsed.diagnostics) {
                dists.push(d);
            }
        } else {
            collect_dir(ctx, path, &mut dists, &mut parsed.diagnostics)?;
        }
    } else {
        dists.push(read_single_file(ctx, path)?);
        dists.retain(|d| !d.meta.name.is_empty());
    }
    if dists.len() > ctx.options.limits.max_packages {
        return Err(ParseError::limit(path, "too many installed distributions"));
    }
    parsed.graph = build(ctx, dists);
    Ok(parsed)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every distribution directly inside a directory.
fn collect_dir(
    ctx: &ParseContext<'_>,
    dir: &Path,
    dists: &mut Vec<Dist>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(), ParseError> {
    let mut entries = ctx.fs.read_dir(dir)?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    for e in entries {
        let is_dist = e.name.ends_with(".dist-info")
            || e.name.ends_with(".egg-info")
            || e.name.ends_with(".egg");
        if !is_dist {
            continue;
        }
        let is_dir = e.kind == EntryKind::Dir || ctx.fs.is_dir(&e.path);
        if is_dir {
            if let Some(d) = read_dist_dir(ctx, &e.path, diagnostics) {
                dists.push(d);
            }
        } else if e.name.ends_with(".egg-info") || e.name.ends_with(".egg") {
            match read_single_file(ctx, &e.path) {
                Ok(d) if !d.meta.name.is_empty() => dists.push(d),
                Ok(_) => {}
                Err(err) => diagnostics.push(Diagnostic::new(Level::Error, &e.path, err.detail())),
            }
        }
    }
    Ok(())
}

/// A `.dist-info`, `.egg-info` or unpacked `.egg` directory.
fn read_dist_dir(
    ctx: &ParseContext<'_>,
    dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Dist> {
    let candidates = [
        dir.join("METADATA"),
        dir.join("PKG-INFO"),
        dir.join("EGG-INFO").join("PKG-INFO"),
    ];
    let Some(file) = candidates.iter().find(|p| ctx.fs.is_file(p)) else {
        if file_name(dir).ends_with(".dist-info") {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                dir,
                "installed distribution without METADATA; skipped",
            ));
        }
        return None;
    };
    let text = match ctx.fs.read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            diagnostics.push(Diagnostic::new(Level::Error, file, e.to_string()));
            return None;
        }
    };
    let Some(meta) = parse_metadata(&text) else {
        diagnostics.push(Diagnostic::new(
            Level::Error,
            file,
            "metadata without Name and Version",
        ));
        return None;
    };
    let installer = ctx
        .fs
        .read_to_string(&dir.join("INSTALLER"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let source = ctx
        .fs
        .read_to_string(&dir.join("direct_url.json"))
        .ok()
        .and_then(|t| direct_url_source(&t))
        .unwrap_or(PackageSource::Registry { url: None });
    Some(Dist {
        meta,
        file: file.clone(),
        source,
        installer,
    })
}

/// One file: a METADATA / PKG-INFO text, an `.egg-info` file, or a `.whl`
/// / `.egg` zip archive. An archive without metadata yields a dist with an
/// empty name (no package, no error).
fn read_single_file(ctx: &ParseContext<'_>, path: &Path) -> Result<Dist, ParseError> {
    let bytes = ctx.fs.read(path)?;
    let text = if bytes.starts_with(b"PK\x03\x04") {
        match metadata_from_zip(&bytes).map_err(|m| ParseError::invalid(path, m))? {
            Some(t) => t,
            None => {
                return Ok(Dist {
                    meta: Metadata::default(),
                    file: path.to_path_buf(),
                    source: PackageSource::Unknown,
                    installer: None,
                });
            }
        }
    } else {
        String::from_utf8(bytes)
            .map_err(|_| ParseError::syntax(path, "metadata is not UTF-8 text"))?
    };
    let meta = parse_metadata(&text)
        .ok_or_else(|| ParseError::syntax(path, "metadata without Name and Version"))?;
    Ok(Dist {
        meta,
        file: path.to_path_buf(),
        source: PackageSource::Registry { url: None },
        installer: None,
    })
}

/// The METADATA of a wheel or the PKG-INFO of an egg, read from the zip in
/// memory with a size cap.
fn metadata_from_zip(bytes: &[u8]) -> Result<Option<String>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a valid archive: {e}"))?;
    let name = (0..archive.len())
        .filter_map(|i| {
            archive
                .name_for_index(i)
                .and_then(|r| r.ok())
                .map(|n| n.to_string())
        })
        .find(|n| {
            let parts: Vec<&str> = n.split('/').collect();
            matches!(parts.as_slice(), [d, "METADATA"] if d.ends_with(".dist-info"))
                || matches!(parts.as_slice(), ["EGG-INFO", "PKG-INFO"])
        });
    let Some(name) = name else {
        return Ok(None);
    };
    let entry = archive
        .by_name(&name)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    let mut text = String::new();
    entry
        .take(MAX_METADATA)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    Ok(Some(text))
}

/// PEP 610 `direct_url.json`: a VCS checkout, a local directory or an
/// archive URL (none of them a registry release).
fn direct_url_source(text: &str) -> Option<PackageSource> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let url = v.get("url")?.as_str()?;
    if let Some(vcs) = v.get("vcs_info") {
        return Some(PackageSource::Git {
            url: redact_url(url),
            rev: vcs
                .get("commit_id")
                .and_then(|c| c.as_str())
                .map(str::to_string),
        });
    }
    if v.get("dir_info").is_some() || url.starts_with("file:") {
        return Some(PackageSource::Path {
            path: url.trim_start_matches("file://").to_string(),
        });
    }
    Some(PackageSource::Url {
        url: redact_url(url),
    })
}

/// The graph of the installed set.
fn build(ctx: &ParseContext<'_>, dists: Vec<Dist>) -> DepGraph {
    let env = target_env(ctx);
    let mut graph = DepGraph::new();
    let mut by_name: HashMap<String, PackageId> = HashMap::new();
    let mut requires: Vec<(PackageId, Vec<String>)> = Vec::new();
    for d in dists {
        let mut pkg = Package::new(
            Ecosystem::PyPI,
            d.meta.name.clone(),
            Some(d.meta.version.clone()),
        );
        pkg.source = d.source;
        if pep440_rs::Version::from_str(&d.meta.version).is_err() {
            pkg.note("version", "not a PEP 440 version; compared as written");
        }
        if let Some(i) = d.installer {
            pkg.note("installer", i);
        }
        pkg.note("metadata", d.file.display().to_string());
        let id = graph.add_package(pkg);
        by_name.entry(normalize(&d.meta.name)).or_insert(id);
        requires.push((id, d.meta.requires_dist));
    }
    for (from, reqs) in requires {
        for req in reqs {
            let Some(name) = requirement_name(&req) else {
                continue;
            };
            let Some(&to) = by_name.get(&normalize(name)) else {
                continue;
            };
            let marker = req.split_once(';').map(|(_, m)| m.trim());
            let kind = match marker {
                Some(m) if m.contains("extra") => DepKind::Optional,
                Some(m) if marker_false(m, env.as_ref()) => continue,
                _ => DepKind::Normal,
            };
            graph.add_edge(from, to, kind);
        }
    }
    graph.finalize();
    graph
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_case_insensitive_and_the_first_version_wins() {
        let m = parse_metadata(
            "Metadata-Version: 2.1\nname: root\nVersion: 1.0.0\nversion: 2.0.0\nRequires-Dist: dep1 (>=1)\nRequires-Dist: dep2; extra == \"x\"\n\nBody: not a header\n",
        )
        .unwrap();
        assert_eq!(m.name, "root");
        assert_eq!(m.version, "1.0.0");
        assert_eq!(m.requires_dist, vec!["dep1 (>=1)", "dep2; extra == \"x\""]);
    }

    #[test]
    fn metadata_without_a_version_is_rejected() {
        assert_eq!(parse_metadata("Name: x\n"), None);
        assert_eq!(parse_metadata(""), None);
    }

    #[test]
    fn direct_url_sources() {
        assert!(matches!(
            direct_url_source(r#"{"url": "https://github.com/a/b", "vcs_info": {"vcs": "git", "commit_id": "abc"}}"#),
            Some(PackageSource::Git { rev: Some(r), .. }) if r == "abc"
        ));
        assert!(matches!(
            direct_url_source(r#"{"url": "file:///src/pkg", "dir_info": {"editable": true}}"#),
            Some(PackageSource::Path { .. })
        ));
        assert!(matches!(
            direct_url_source(r#"{"url": "https://example.com/x-1.0.tar.gz", "archive_info": {}}"#),
            Some(PackageSource::Url { .. })
        ));
    }
}
