//! A fast reader for `Cargo.lock` files in the layout Cargo itself writes:
//! `version = N`, then `[[package]]` tables of `name`, `version`, `source`,
//! `checksum` and a `dependencies` array of plain strings, one per line.
//!
//! It reads line by line without building a TOML document, and gives up
//! (`None`) on anything outside that layout — escapes, inline tables,
//! other tables or keys, comments after values, duplicate keys — so the
//! caller falls back to the full TOML parser, which then decides (and
//! names any syntax error). On the files it accepts it gives exactly what
//! the TOML parser gives (see the tests).

use serde::Deserialize;
use std::collections::BTreeMap;

/// A `"..."` TOML basic string without escapes, as the whole of `s`.
fn plain_string(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    // Quotes, backslashes (escapes) and ASCII control characters (which
    // TOML requires escaped) are left to the TOML parser.
    if inner
        .bytes()
        .any(|b| b == b'"' || b == b'\\' || b < 0x20 || b == 0x7f)
    {
        return None;
    }
    Some(inner)
}

/// The file as read (by the TOML parser, or by [`parse_canonical`] for
/// files in Cargo's own layout).
#[derive(Debug, Deserialize, PartialEq)]
pub(super) struct RawLock {
    pub(super) version: Option<i64>,
    #[serde(default)]
    pub(super) package: Vec<RawPackage>,
    pub(super) root: Option<RawPackage>,
    #[serde(default)]
    pub(super) metadata: BTreeMap<String, toml::Value>,
}

/// One `[[package]]` (or the v1 `[root]`).
#[derive(Debug, Deserialize, PartialEq)]
pub(super) struct RawPackage {
    pub(super) name: String,
    pub(super) version: String,
    pub(super) source: Option<String>,
    pub(super) checksum: Option<String>,
    #[serde(default)]
    pub(super) dependencies: Vec<String>,
}

/// `key = value` with the value as written (trimmed).
fn key_value(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once('=')?;
    let k = k.trim();
    if k.is_empty()
        || !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    Some((k, v.trim()))
}

#[derive(Default)]
struct Partial {
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
    checksum: Option<String>,
    dependencies: Option<Vec<String>>,
}

impl Partial {
    fn finish(self) -> Option<RawPackage> {
        Some(RawPackage {
            name: self.name?,
            version: self.version?,
            source: self.source,
            checksum: self.checksum,
            dependencies: self.dependencies.unwrap_or_default(),
        })
    }
}

fn set(slot: &mut Option<String>, value: &str) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(plain_string(value)?.to_string());
    Some(())
}

/// Reads a Cargo-written lockfile, or `None` when the text is outside the
/// layout this reader handles.
pub(super) fn parse_canonical(text: &str) -> Option<RawLock> {
    let mut version: Option<i64> = None;
    let mut packages = Vec::new();
    let mut current: Option<Partial> = None;
    let mut lines = text.lines();
    while let Some(raw_line) = lines.next() {
        let line = raw_line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            if line != "[[package]]" {
                return None;
            }
            if let Some(p) = current.take() {
                packages.push(p.finish()?);
            }
            current = Some(Partial::default());
            continue;
        }
        if line.starts_with([' ', '\t']) {
            return None;
        }
        let (key, value) = key_value(line)?;
        let Some(p) = current.as_mut() else {
            // Before the first table: only the format version.
            if key != "version" || version.is_some() {
                return None;
            }
            let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
            if !digits || value.len() > 9 || (value.len() > 1 && value.starts_with('0')) {
                return None;
            }
            version = value.parse().ok();
            continue;
        };
        match key {
            "name" => set(&mut p.name, value)?,
            "version" => set(&mut p.version, value)?,
            "source" => set(&mut p.source, value)?,
            "checksum" => set(&mut p.checksum, value)?,
            "dependencies" => {
                if p.dependencies.is_some() {
                    return None;
                }
                let mut deps = Vec::new();
                if value == "[]" {
                } else if value == "[" {
                    loop {
                        let item = lines.next()?.trim_end_matches('\r').trim();
                        if item == "]" {
                            break;
                        }
                        let item = item.strip_suffix(',')?;
                        deps.push(plain_string(item)?.to_string());
                    }
                } else {
                    return None;
                }
                p.dependencies = Some(deps);
            }
            _ => return None,
        }
    }
    if let Some(p) = current.take() {
        packages.push(p.finish()?);
    }
    Some(RawLock {
        version,
        package: packages,
        root: None,
        metadata: Default::default(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::path::Path;

    fn toml_parse(text: &str) -> Option<RawLock> {
        toml::from_str(text).ok()
    }

    /// Every Cargo.lock under a directory.
    fn locks(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                locks(&p, out);
            } else if p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".lock"))
                && std::fs::read_to_string(&p).is_ok_and(|t| t.contains("[[package]]"))
            {
                out.push(p);
            }
        }
    }

    #[test]
    fn same_result_as_the_toml_parser_on_every_fixture() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        locks(&root.join("testdata"), &mut files);
        // The conformance corpus too, when .ci/run points at it.
        if let Some(shared) = std::env::var_os("DEPWARDEN_SHARED") {
            locks(&Path::new(&shared).join("conformance"), &mut files);
        }
        let mut fast = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            if let Some(quick) = parse_canonical(&text) {
                fast += 1;
                let full = toml_parse(&text)
                    .unwrap_or_else(|| panic!("{}: accepted by the fast reader only", f.display()));
                assert_eq!(quick, full, "{}", f.display());
            }
        }
        // Cargo-written fixtures take the fast path.
        assert!(fast >= 10, "{fast} of {} files read fast", files.len());
    }

    #[test]
    fn reads_the_cargo_layout() {
        let text = "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"b\",\n \"c 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)\",\n]\n\n[[package]]\nname = \"b\"\nversion = \"1.2.3\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"abc\"\n";
        let lock = parse_canonical(text).expect("canonical");
        assert_eq!(lock, toml_parse(text).unwrap());
        assert_eq!(lock.version, Some(4));
        assert_eq!(lock.package.len(), 2);
        assert_eq!(lock.package[0].dependencies.len(), 2);
        assert_eq!(lock.package[1].checksum.as_deref(), Some("abc"));
    }

    #[test]
    fn gives_up_outside_the_layout() {
        for text in [
            "version = 3\n[metadata]\n\"checksum a 1.0\" = \"x\"\n",
            "[root]\nname = \"a\"\nversion = \"1\"\n",
            "[[package]]\nname = \"a\\u0041\"\nversion = \"1\"\n",
            "[[package]]\nname = 'a'\nversion = \"1\"\n",
            "[[package]]\nname = \"a\"\nname = \"b\"\nversion = \"1\"\n",
            "[[package]]\nname = \"a\"\nversion = \"1\" # comment\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\ndependencies = [\"b\"]\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\nreplace = \"x\"\n",
            "[[package]]\nversion = \"1\"\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\ndependencies = [\n \"b\",\n",
            "version = \"4\"\n",
            "  name = \"a\"\n",
        ] {
            assert!(parse_canonical(text).is_none(), "{text}");
        }
    }
}
