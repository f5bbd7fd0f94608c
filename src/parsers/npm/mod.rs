//! npm: lockfiles (package-lock, yarn, pnpm, bun), `package.json`, and
//! installed `node_modules/` trees.
//!
//! Shared helpers live here: how a `resolved` URL or a version specifier
//! maps to a [`PackageSource`], how a package folder resolves a dependency
//! name (the nearest `node_modules/` up the directory chain, as Node does),
//! and how declared flags become dependency groups.

pub mod bun;
pub mod json;
pub mod manifest;
pub mod node_modules;
pub mod package_lock;
pub mod platform;
pub mod pnpm;
pub mod pnpm_key;
pub mod yarn;

use crate::ecosystem::redact_url;
use crate::graph::{DepKind, PackageSource};

/// True when npm reads `npm-shrinkwrap.json` rather than the
/// `package-lock.json` beside it in `dir`: the shrinkwrap exists and is not
/// empty. npm's arborist takes `shrinkwrap || lock`, so a zero-byte
/// shrinkwrap means the package-lock is used (a shrinkwrap that is not
/// JSON is still chosen, and fails).
pub fn shrinkwrap_wins(fs: &dyn crate::fs::Fs, dir: &std::path::Path) -> bool {
    let sw = dir.join("npm-shrinkwrap.json");
    fs.is_file(&sw) && !fs.read(&sw).is_ok_and(|b| b.is_empty())
}

/// True when a specifier or resolved location names a git repository.
pub fn is_git_spec(s: &str) -> bool {
    s.starts_with("git+")
        || s.starts_with("git://")
        || s.starts_with("git@")
        || s.starts_with("github:")
        || s.starts_with("gitlab:")
        || s.starts_with("bitbucket:")
        || s.starts_with("gist:")
        || (s.contains(".git#") && s.contains("://"))
}

/// A git source from `url#rev` (credentials removed).
pub fn git_source(s: &str) -> PackageSource {
    let (url, rev) = match s.split_once('#') {
        Some((u, r)) => (u, Some(r)),
        None => (s, None),
    };
    let rev = rev
        .map(|r| r.strip_prefix("commit=").unwrap_or(r))
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    PackageSource::Git {
        url: redact_url(url),
        rev,
    }
}

/// True for a registry tarball URL (`.../<name>/-/<file>.tgz`).
pub fn is_registry_tarball(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.contains("/-/")
        && (url.ends_with(".tgz") || url.contains(".tgz?") || url.contains(".tgz#"))
}

/// The source of a package from what a lockfile recorded: the `resolved`
/// location and/or a version field that may hold a non-registry spec.
pub fn source_from(resolved: Option<&str>, version_spec: Option<&str>) -> PackageSource {
    for s in [resolved, version_spec].into_iter().flatten() {
        if let Some(rest) = s.strip_prefix("https://codeload.github.com/") {
            // `https://codeload.github.com/<owner>/<repo>/tar.gz/<commit>`
            let mut parts = rest.split('/');
            let (o, n) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            return PackageSource::Git {
                url: format!("https://github.com/{o}/{n}"),
                rev: parts.nth(1).map(str::to_string),
            };
        }
        if is_git_spec(s) {
            return git_source(s);
        }
        if let Some(p) = s.strip_prefix("file:") {
            return PackageSource::Path {
                path: p.to_string(),
            };
        }
        if let Some(p) = s.strip_prefix("link:") {
            return PackageSource::Path {
                path: p.to_string(),
            };
        }
        if is_registry_tarball(s) {
            return PackageSource::Registry {
                url: Some(redact_url(s)),
            };
        }
        if s.starts_with("https://") || s.starts_with("http://") {
            return PackageSource::Url { url: redact_url(s) };
        }
    }
    match resolved {
        // A relative folder (`packages/a`, `../lib`): a local package.
        Some(r) if !r.is_empty() && !r.contains("://") => PackageSource::Path {
            path: r.to_string(),
        },
        _ => PackageSource::Registry { url: None },
    }
}

/// True when the version field is an exact version rather than a location
/// (git URL, `file:`, tarball URL).
pub fn is_plain_version(v: &str) -> bool {
    !v.is_empty()
        && !v.contains(':')
        && !v.contains('/')
        && v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// The package name a `node_modules/...` location installs: the segment(s)
/// after the last `node_modules/` (two segments for a scoped name).
pub fn name_from_location(loc: &str) -> &str {
    match loc.rfind("node_modules/") {
        Some(i) => &loc[i + "node_modules/".len()..],
        None => loc.rsplit('/').next().unwrap_or(loc),
    }
}

/// Resolves the dependency `dep` of the package folder `from` (relative,
/// `/`-separated, `""` = the project root) the way Node does: the first
/// `<dir>/node_modules/<dep>` that `exists`, walking up from `from`.
pub fn resolve_up<T>(from: &str, dep: &str, lookup: impl Fn(&str) -> Option<T>) -> Option<T> {
    let mut dir = from;
    let mut buf = String::with_capacity(from.len() + dep.len() + 16);
    loop {
        let last = dir.rsplit('/').next().unwrap_or(dir);
        if last != "node_modules" {
            buf.clear();
            if !dir.is_empty() {
                buf.push_str(dir);
                buf.push('/');
            }
            buf.push_str("node_modules/");
            buf.push_str(dep);
            if let Some(t) = lookup(&buf) {
                return Some(t);
            }
        }
        if dir.is_empty() {
            return None;
        }
        dir = match dir.rfind('/') {
            Some(i) => &dir[..i],
            None => "",
        };
    }
}

/// The groups npm's declared flags name (`bundled`, `dev`, `optional`),
/// and the kind they declare the package as: an input of the graph's dev
/// rule ([`crate::graph::DepGraph::declare`]), not its answer.
pub fn declared_flags(
    dev: bool,
    optional: bool,
    dev_optional: bool,
    bundled: bool,
) -> (Vec<String>, DepKind) {
    let mut groups = Vec::new();
    if bundled {
        groups.push("bundled".to_string());
    }
    if dev || dev_optional {
        groups.push("dev".to_string());
    }
    if optional || dev_optional {
        groups.push("optional".to_string());
    }
    // `devOptional`: needed by a dev path or an optional one, so installed
    // in production when optional dependencies are.
    let kind = if dev {
        DepKind::Dev
    } else if optional || dev_optional {
        DepKind::Optional
    } else {
        DepKind::Normal
    };
    (groups, kind)
}

/// Splits `name@range` (a scoped name keeps its leading `@`).
pub fn split_name_spec(s: &str) -> (&str, &str) {
    let start = usize::from(s.starts_with('@'));
    match s[start..].find('@') {
        Some(i) => (&s[..start + i], &s[start + i + 1..]),
        None => (s, ""),
    }
}

/// For an `npm:real@range` alias specifier, the real name and range.
pub fn npm_alias(spec: &str) -> Option<(&str, &str)> {
    let rest = spec.strip_prefix("npm:")?;
    Some(split_name_spec(rest))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn resolves_nearest_node_modules() {
        let have: HashSet<&str> = [
            "node_modules/a",
            "node_modules/b",
            "node_modules/a/node_modules/b",
            "packages/x/node_modules/c",
        ]
        .into_iter()
        .collect();
        let look = |k: &str| have.get(k).map(|s| s.to_string());
        assert_eq!(
            resolve_up("node_modules/a", "b", look).as_deref(),
            Some("node_modules/a/node_modules/b")
        );
        assert_eq!(
            resolve_up("node_modules/a/node_modules/b", "b", look).as_deref(),
            Some("node_modules/a/node_modules/b")
        );
        assert_eq!(
            resolve_up("node_modules/c", "b", look).as_deref(),
            Some("node_modules/b")
        );
        assert_eq!(
            resolve_up("packages/x", "c", look).as_deref(),
            Some("packages/x/node_modules/c")
        );
        assert_eq!(resolve_up("", "a", look).as_deref(), Some("node_modules/a"));
        assert_eq!(resolve_up("", "zz", look), None);
    }

    #[test]
    fn names_and_sources() {
        assert_eq!(
            name_from_location("node_modules/a/node_modules/@s/b"),
            "@s/b"
        );
        assert_eq!(split_name_spec("@s/b@^1.0"), ("@s/b", "^1.0"));
        assert_eq!(
            npm_alias("npm:string-width@^4"),
            Some(("string-width", "^4"))
        );
        assert!(matches!(
            source_from(Some("git+ssh://git@github.com/a/b.git#abc"), None),
            PackageSource::Git { rev: Some(r), .. } if r == "abc"
        ));
        assert!(matches!(
            source_from(Some("https://registry.npmjs.org/a/-/a-1.0.0.tgz"), None),
            PackageSource::Registry { url: Some(_) }
        ));
        assert!(matches!(
            source_from(None, Some("file:deps/x")),
            PackageSource::Path { .. }
        ));
        assert!(is_plain_version("1.2.3-beta.1"));
        assert!(!is_plain_version("github:a/b#c"));
    }
}
