//! Bundled Node functions (CDK `NodejsFunction`, SAM esbuild builds,
//! webpack): the code is one JavaScript file and carries no
//! `node_modules`. The packages inside it are recovered from what the
//! bundler leaves: its metafile (`inputs`, and `imports` marked
//! `external`), the source map's `sources`, or the `// node_modules/...`
//! comments of an unminified esbuild bundle (webpack's
//! `./node_modules/...` module ids). Paths name the package
//! (`node_modules/<name>/`, `node_modules/@scope/<name>/`, nested
//! `node_modules/a/node_modules/b/`), and pnpm's store
//! (`.pnpm/<name>@<version>/`) and yarn's cache zips
//! (`<name>-npm-<version>-<hash>.zip`) name the version too; other versions
//! come from the lockfile of the project that built the bundle.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::layers::SourceSummary;
use crate::fs::Fs;

/// Largest bundle, map or metafile read.
const MAX_READ: usize = 64 * 1024 * 1024;

/// One package found in a bundle: the chain of `node_modules` folders
/// that leads to it (`["a", "b"]` for `node_modules/a/node_modules/b`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BundledRef {
    /// Package names from the top `node_modules` down; the last is the
    /// package.
    pub chain: Vec<String>,
    /// The version, when the path says it (pnpm store, yarn cache).
    pub version: Option<String>,
}

impl BundledRef {
    /// The package's name.
    pub fn name(&self) -> &str {
        self.chain.last().map(String::as_str).unwrap_or("")
    }
}

/// What a bundle holds.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// The bundle file.
    pub file: PathBuf,
    /// How its packages were recovered (`metafile`, `source map`,
    /// `bundle comments`).
    pub evidence: Vec<&'static str>,
    /// Packages inside it.
    pub packages: BTreeSet<BundledRef>,
    /// Bare modules it leaves to the runtime or to `node_modules`/layers.
    pub externals: BTreeSet<String>,
    /// The directory the bundled `node_modules` were in, when the source
    /// map places it (the project that built the bundle).
    pub project_dir: Option<PathBuf>,
}

/// Node's built-in modules: never packages.
const BUILTINS: &[&str] = &[
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "domain",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "string_decoder",
    "sys",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

/// The package name of a bare module specifier (`@aws-sdk/client-s3/x` →
/// `@aws-sdk/client-s3`), or `None` for a relative path or a built-in.
pub fn package_of_specifier(spec: &str) -> Option<String> {
    if spec.is_empty() || spec.starts_with(['.', '/']) || spec.starts_with("node:") {
        return None;
    }
    let mut parts = spec.split('/');
    let first = parts.next()?;
    let name = if first.starts_with('@') {
        format!("{first}/{}", parts.next()?)
    } else {
        first.to_string()
    };
    if BUILTINS.contains(&name.as_str())
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@/._-~".contains(c))
    {
        return None;
    }
    Some(name)
}

/// The package a bundled source path belongs to, if it lies in a
/// `node_modules` folder.
pub fn package_of_path(path: &str) -> Option<BundledRef> {
    let segs: Vec<&str> = path.split(['/', '\\']).collect();
    let mut chain = Vec::new();
    let mut version = None;
    let mut i = 0;
    while i < segs.len() {
        if segs[i] == "node_modules" {
            let first = *segs.get(i + 1)?;
            if first == ".pnpm" {
                // `.pnpm/<name>@<version>/node_modules/<name>/...`
                if let Some(v) = segs.get(i + 2).and_then(|s| pnpm_version(s)) {
                    version = Some(v);
                }
                i += 3;
                continue;
            }
            let (name, used) = if first.starts_with('@') {
                (format!("{first}/{}", segs.get(i + 2)?), 2)
            } else {
                (first.to_string(), 1)
            };
            if name.starts_with('.') {
                return None;
            }
            chain.push(name);
            i += 1 + used;
            continue;
        }
        if let Some(v) = yarn_cache_version(segs[i]) {
            version = Some(v);
        }
        i += 1;
    }
    if chain.is_empty() {
        return None;
    }
    // A version from the store applies to the package the path ends in.
    Some(BundledRef { chain, version })
}

/// `lodash@4.17.21`, `@scope+pkg@1.0.0_peer@2`, `pkg@1.0.0(peer@2)` →
/// the version.
fn pnpm_version(seg: &str) -> Option<String> {
    let body = seg.strip_prefix('@').unwrap_or(seg);
    let (_, ver) = body.split_once('@')?;
    let ver = ver.split(['_', '(']).next()?;
    (!ver.is_empty()).then(|| ver.to_string())
}

/// `lodash-npm-4.17.21-6382451519-eb835a2e51.zip` → `4.17.21`.
fn yarn_cache_version(seg: &str) -> Option<String> {
    let stem = seg.strip_suffix(".zip")?;
    let (_, rest) = stem.split_once("-npm-")?;
    let mut parts: Vec<&str> = rest.split('-').collect();
    // Two hash fields follow the version (which may itself hold `-`).
    if parts.len() < 3 {
        return None;
    }
    parts.truncate(parts.len() - 2);
    Some(parts.join("-"))
}

/// Finds the bundle of a Node function's code: the handler's file
/// (`index.handler` → `index.js`, `.mjs`, `.cjs`) when it shows a bundler's
/// traces. `None` when the code is not a bundle.
pub fn detect(fs: &dyn Fs, code: &Path, handler: Option<&str>) -> Option<Bundle> {
    let stem = handler.and_then(|h| h.rsplit_once('.').map(|(f, _)| f.to_string()))?;
    let file = ["js", "mjs", "cjs"]
        .iter()
        .map(|ext| code.join(format!("{stem}.{ext}")))
        .find(|p| fs.is_file(p))?;
    let text = read_text(fs, &file)?;
    let mut b = Bundle {
        file: file.clone(),
        ..Default::default()
    };
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let base = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem_only = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(&base);
    for meta in [
        format!("{stem_only}.meta.json"),
        format!("{base}.meta.json"),
        "metafile.json".to_string(),
        "meta.json".to_string(),
    ] {
        let p = dir.join(&meta);
        if let Some(v) = fs.is_file(&p).then(|| read_json(fs, &p)).flatten() {
            from_metafile(&v, &mut b);
            b.evidence.push("metafile");
            break;
        }
    }
    if let Some(map) = source_map(fs, &file, &text) {
        let root = map.get("sourceRoot").and_then(Value::as_str).unwrap_or("");
        if let Some(sources) = map.get("sources").and_then(Value::as_array) {
            for s in sources.iter().filter_map(Value::as_str) {
                let full = format!("{root}{s}");
                if let Some(r) = package_of_path(&full) {
                    b.packages.insert(r);
                }
                if b.project_dir.is_none()
                    && let Some((before, _)) = full.split_once("node_modules/")
                    && !full.contains("webpack:")
                {
                    b.project_dir = super::paths::normalize(&dir.join(before));
                }
            }
            b.evidence.push("source map");
        }
    }
    let before = b.packages.len();
    for line in text.lines() {
        let t = line.trim_start();
        let path = t
            .strip_prefix("// ")
            .filter(|p| p.contains("node_modules/") && !p.contains(' '))
            .or_else(|| {
                t.strip_prefix("/***/ \"")
                    .and_then(|p| p.split('"').next())
                    .filter(|p| p.contains("node_modules/"))
            });
        if let Some(r) = path.and_then(package_of_path) {
            b.packages.insert(r);
        }
    }
    if b.packages.len() > before {
        b.evidence.push("bundle comments");
    }
    b.externals.extend(required_modules(&text));
    let looks_bundled = !b.evidence.is_empty()
        || text.contains("__commonJS(")
        || text.contains("__webpack_require__");
    looks_bundled.then_some(b)
}

fn read_text(fs: &dyn Fs, p: &Path) -> Option<String> {
    let bytes = fs.read(p).ok()?;
    (bytes.len() <= MAX_READ).then(|| String::from_utf8_lossy(&bytes).into_owned())
}

fn read_json(fs: &dyn Fs, p: &Path) -> Option<Value> {
    serde_json::from_str(&read_text(fs, p)?).ok()
}

/// The esbuild metafile's inputs and external imports.
fn from_metafile(v: &Value, b: &mut Bundle) {
    if let Some(inputs) = v.get("inputs").and_then(Value::as_object) {
        for k in inputs.keys() {
            if let Some(r) = package_of_path(k) {
                b.packages.insert(r);
            }
        }
    }
    if let Some(outputs) = v.get("outputs").and_then(Value::as_object) {
        for o in outputs.values() {
            for imp in o
                .get("imports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if imp.get("external").and_then(Value::as_bool) == Some(true)
                    && let Some(name) = imp
                        .get("path")
                        .and_then(Value::as_str)
                        .and_then(package_of_specifier)
                {
                    b.externals.insert(name);
                }
            }
        }
    }
}

/// The bundle's source map: `<file>.map`, or the file its
/// `sourceMappingURL` comment names (inline `data:` maps included).
fn source_map(fs: &dyn Fs, file: &Path, text: &str) -> Option<Value> {
    let url = text
        .lines()
        .rev()
        .take(5)
        .find_map(|l| l.trim().strip_prefix("//# sourceMappingURL="))
        .map(str::trim);
    if let Some(u) = url {
        if let Some(data) = u.strip_prefix("data:application/json;base64,") {
            return serde_json::from_slice(&base64_decode(data)?).ok();
        }
        if let Some(dir) = file.parent()
            && !u.contains("://")
            && !u.starts_with('/')
            && !u.contains("..")
        {
            let p = dir.join(u);
            if fs.is_file(&p) {
                return read_json(fs, &p);
            }
        }
    }
    let mut sibling = file.as_os_str().to_os_string();
    sibling.push(".map");
    let p = PathBuf::from(sibling);
    fs.is_file(&p).then(|| read_json(fs, &p)).flatten()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Bare modules a bundle still loads at run time: `require("x")`,
/// `import("x")`, `from "x"`.
fn required_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for marker in ["require(", "import(", "from "] {
        let mut rest = text;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let t = rest.trim_start();
            let Some(q) = t.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let inner = &t[1..];
            if let Some(end) = inner.find(q)
                && let Some(name) = package_of_specifier(&inner[..end])
            {
                out.insert(name);
            }
        }
    }
    out
}

/// The version of a bundled package from a lockfile's packages: the
/// version the path says, else the only version the lockfile has, else
/// the one its parent in the chain depends on, else the project's direct
/// dependency (npm places those at the top).
pub fn resolve(r: &BundledRef, lock: &SourceSummary) -> Option<usize> {
    let same = |i: &usize, name: &str| lock.packages.get(*i).is_some_and(|p| p.name == name);
    let candidates: Vec<usize> = (0..lock.packages.len())
        .filter(|i| same(i, r.name()))
        .collect();
    if let Some(v) = &r.version {
        return candidates
            .iter()
            .copied()
            .find(|i| lock.packages[*i].version.as_deref() == Some(v));
    }
    if candidates.len() == 1 {
        return candidates.first().copied();
    }
    if r.chain.len() > 1 {
        let parent = BundledRef {
            chain: r.chain[..r.chain.len() - 1].to_vec(),
            version: None,
        };
        if let Some(p) = resolve(&parent, lock)
            && let Some(&d) = lock.packages[p].deps.iter().find(|d| same(d, r.name()))
        {
            return Some(d);
        }
        return None;
    }
    let direct: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|i| lock.packages[*i].direct)
        .collect();
    (direct.len() == 1).then(|| direct[0])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn packages_from_paths() {
        let r = package_of_path("../../lambda/orders/node_modules/lodash/lodash.js").unwrap();
        assert_eq!(r.chain, vec!["lodash"]);
        let r =
            package_of_path("node_modules/@aws-sdk/util/node_modules/tslib/tslib.es6.js").unwrap();
        assert_eq!(r.chain, vec!["@aws-sdk/util", "tslib"]);
        let r = package_of_path(
            "node_modules/.pnpm/@smithy+types@2.1.0/node_modules/@smithy/types/dist/index.js",
        )
        .unwrap();
        assert_eq!(r.chain, vec!["@smithy/types"]);
        assert_eq!(r.version.as_deref(), Some("2.1.0"));
        let r = package_of_path("node_modules/.pnpm/react@18.2.0_peer@1/node_modules/react/x.js")
            .unwrap();
        assert_eq!(r.version.as_deref(), Some("18.2.0"));
        let r = package_of_path(
            ".yarn/cache/lodash-npm-4.17.21-6382451519-eb835a2e51.zip/node_modules/lodash/lodash.js",
        )
        .unwrap();
        assert_eq!(r.version.as_deref(), Some("4.17.21"));
        assert!(package_of_path("src/app.ts").is_none());
        assert!(package_of_path("node_modules/.cache/x.js").is_none());
    }

    #[test]
    fn specifiers() {
        assert_eq!(
            package_of_specifier("@aws-sdk/client-s3").as_deref(),
            Some("@aws-sdk/client-s3")
        );
        assert_eq!(package_of_specifier("lodash/fp").as_deref(), Some("lodash"));
        assert_eq!(package_of_specifier("crypto"), None);
        assert_eq!(package_of_specifier("node:fs"), None);
        assert_eq!(package_of_specifier("./x"), None);
        let found = required_modules(
            "var a = require(\"@aws-sdk/client-dynamodb\"); import x from 'uuid'; require('fs'); require(x)",
        );
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            vec!["@aws-sdk/client-dynamodb", "uuid"]
        );
        assert_eq!(base64_decode("eyJhIjoxfQ==").unwrap(), b"{\"a\":1}");
    }
}
