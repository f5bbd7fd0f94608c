//! Package URLs (`pkg:npm/%40scope/name@1.0.0`): the one way depwarden
//! writes a package's identity for other tools (CycloneDX components,
//! OpenVEX products) and reads it back (OpenVEX statements given with
//! `--vex`). A leaf module: it knows ecosystems and nothing else.

use crate::ecosystem::Ecosystem;

/// A package URL of one of depwarden's ecosystems, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    /// The ecosystem its type names (`npm`, `pypi`, `cargo`).
    pub ecosystem: Ecosystem,
    /// The package name as the ecosystem spells it (`@scope/name` for a
    /// scoped npm package), percent-decoded.
    pub name: String,
    /// The version, when the purl has one (a purl without a version names
    /// every version of the package).
    pub version: Option<String>,
}

/// The package URL of `name` at `version` in `ecosystem`.
pub fn format(ecosystem: Ecosystem, name: &str, version: &str) -> String {
    let kind = ecosystem.purl_type();
    let name = match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
        Some((scope, base)) if ecosystem == Ecosystem::Npm => {
            format!("%40{}/{}", percent_encode(scope), percent_encode(base))
        }
        _ => percent_encode(&ecosystem.normalize_name(name)),
    };
    format!("pkg:{kind}/{name}@{}", percent_encode(version))
}

/// Parses a package URL of type `npm`, `pypi` or `cargo`; `None` for any
/// other type or a malformed purl. Qualifiers and subpaths are dropped.
pub fn parse(s: &str) -> Option<Purl> {
    let rest = s.trim().strip_prefix("pkg:")?;
    let rest = rest.trim_start_matches('/');
    // Subpath and qualifiers end the name@version part.
    let rest = rest.split('#').next().unwrap_or(rest);
    let rest = rest.split('?').next().unwrap_or(rest);
    let (kind, path) = rest.split_once('/')?;
    let ecosystem = match kind.to_ascii_lowercase().as_str() {
        "npm" => Ecosystem::Npm,
        "pypi" => Ecosystem::PyPI,
        "cargo" => Ecosystem::CratesIo,
        _ => return None,
    };
    let (path, version) = match path.rsplit_once('@') {
        // `@` inside the first segment is an unencoded npm scope.
        Some((p, v)) if !p.is_empty() => (p, Some(decode(v)?)),
        _ => (path, None),
    };
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect::<Option<_>>()?;
    let name = match segments.as_slice() {
        [name] => name.clone(),
        [scope, name] if ecosystem == Ecosystem::Npm => {
            format!("@{}/{name}", scope.trim_start_matches('@'))
        }
        _ => return None,
    };
    if name.is_empty() || version.as_deref() == Some("") {
        return None;
    }
    Some(Purl {
        ecosystem,
        name,
        version,
    })
}

impl Purl {
    /// True when this purl names `name` at `version` in `ecosystem`
    /// (names compared as the ecosystem normalises them; a purl without a
    /// version matches every version).
    pub fn matches(&self, ecosystem: Ecosystem, name: &str, version: Option<&str>) -> bool {
        self.ecosystem == ecosystem
            && ecosystem.normalize_name(&self.name) == ecosystem.normalize_name(name)
            && match (&self.version, version) {
                (None, _) => true,
                (Some(a), Some(b)) => a == b,
                (Some(_), None) => false,
            }
    }
}

/// Percent-encodes every character but ASCII letters, digits and `.-_~`
/// (UTF-8 bytes), for purls and URL path segments.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~') {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&std::format!("%{b:02X}"));
            }
        }
    }
    out
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_back() {
        let cases = [
            (
                Ecosystem::Npm,
                "@types/node",
                "20.1.0",
                "pkg:npm/%40types/node@20.1.0",
            ),
            (
                Ecosystem::Npm,
                "lodash",
                "4.17.20",
                "pkg:npm/lodash@4.17.20",
            ),
            (Ecosystem::PyPI, "Django", "3.2.0", "pkg:pypi/django@3.2.0"),
            (
                Ecosystem::CratesIo,
                "time",
                "0.1.45",
                "pkg:cargo/time@0.1.45",
            ),
            (
                Ecosystem::PyPI,
                "pkg",
                "1.0+local",
                "pkg:pypi/pkg@1.0%2Blocal",
            ),
        ];
        for (eco, name, version, purl) in cases {
            assert_eq!(format(eco, name, version), purl);
            let p = parse(purl).unwrap();
            assert!(p.matches(eco, name, Some(version)), "{p:?}");
            assert!(!p.matches(eco, name, Some("0.0.0")), "{p:?}");
        }
        // Unicode survives the round trip.
        let p = parse(&format(Ecosystem::Npm, "ünï", "1.0.0")).unwrap();
        assert_eq!(p.name, "ünï");
    }

    #[test]
    fn other_spellings_and_refusals() {
        let p = parse("pkg:npm/@types/node@20.1.0?arch=x64#lib").unwrap();
        assert_eq!(
            (p.name.as_str(), p.version.as_deref()),
            ("@types/node", Some("20.1.0"))
        );
        let p = parse("pkg:pypi/Django_Rest").unwrap();
        assert!(p.matches(Ecosystem::PyPI, "django-rest", Some("1.0")));
        assert!(!p.matches(Ecosystem::Npm, "django-rest", Some("1.0")));
        for bad in [
            "npm/lodash@1",
            "pkg:maven/a/b@1",
            "pkg:npm/",
            "pkg:npm/a@",
            "pkg:npm/%zz@1",
            "pkg:pypi/a/b@1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
