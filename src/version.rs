//! Per-ecosystem version parsing and ordering.
//!
//! - npm and crates.io: SemVer 2.0 precedence, parsed leniently the way
//!   advisory databases need it: a leading `v` is accepted, missing minor or
//!   patch components count as 0, numeric components of any length compare
//!   by value, components after the third belong to the build metadata, and
//!   build metadata never affects the order.
//! - PyPI: PEP 440 through `pep440_rs` (epochs, pre/post/dev releases, local
//!   versions, `1.0 == 1.0.0`); strings that are not PEP 440 are ordered as
//!   the `packaging` library's legacy versions (before every valid version),
//!   so old releases in advisory lists still compare.

use std::cmp::Ordering;
use std::str::FromStr;

use crate::ecosystem::Ecosystem;

/// A parsed version of one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// npm / crates.io.
    Semver(SemVer),
    /// A PEP 440 version.
    Pep440(pep440_rs::Version),
    /// A PyPI version that is not PEP 440, ordered as a legacy version.
    Legacy(LegacyVersion),
}

impl Version {
    /// Parses `s` in the ecosystem's scheme; `None` when it does not parse
    /// (for PyPI, a string that is not PEP 440: [`Version::parse_lenient`]
    /// makes it a [`Version::Legacy`]).
    pub fn parse(ecosystem: Ecosystem, s: &str) -> Option<Version> {
        match ecosystem {
            Ecosystem::Npm | Ecosystem::CratesIo => SemVer::parse(s).map(Version::Semver),
            Ecosystem::PyPI => parse_pep440(s).map(Version::Pep440),
        }
    }

    /// Like [`Version::parse`], but a PyPI string that is not PEP 440 becomes
    /// a legacy version instead of failing (for ordering advisory data).
    pub fn parse_lenient(ecosystem: Ecosystem, s: &str) -> Option<Version> {
        match ecosystem {
            Ecosystem::PyPI => Some(
                parse_pep440(s)
                    .map(Version::Pep440)
                    .unwrap_or_else(|| Version::Legacy(LegacyVersion::new(s))),
            ),
            _ => Version::parse(ecosystem, s),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Version::Semver(a), Version::Semver(b)) => a.cmp(b),
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Legacy(a), Version::Legacy(b)) => a.cmp(b),
            (Version::Legacy(_), _) => Ordering::Less,
            (_, Version::Legacy(_)) => Ordering::Greater,
            // Different schemes never meet inside one ecosystem.
            (Version::Semver(_), _) => Ordering::Less,
            (_, Version::Semver(_)) => Ordering::Greater,
        }
    }
}

fn parse_pep440(s: &str) -> Option<pep440_rs::Version> {
    pep440_rs::Version::from_str(s.trim()).ok()
}

/// Compares two versions in the ecosystem's ordering; `None` when either
/// does not parse (PyPI legacy strings do parse, see [`Version::parse_lenient`]).
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    let a = Version::parse_lenient(ecosystem, a)?;
    let b = Version::parse_lenient(ecosystem, b)?;
    Some(a.cmp(&b))
}

/// Sorts version strings by the ecosystem's ordering (unparsable ones last,
/// in string order), removing exact duplicates.
pub fn sort_versions(ecosystem: Ecosystem, versions: &mut Vec<String>) {
    versions.sort_by(|a, b| {
        match (
            Version::parse_lenient(ecosystem, a),
            Version::parse_lenient(ecosystem, b),
        ) {
            (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.cmp(b),
        }
    });
    versions.dedup();
}

/// A SemVer version, leniently parsed (see the module docs).
#[derive(Debug, Clone)]
pub struct SemVer {
    /// Major, minor, patch as digit strings without leading zeros.
    core: [String; 3],
    /// Pre-release identifiers.
    pre: Vec<Ident>,
    /// The text as written.
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Num(String),
    Alpha(String),
}

fn strip_zeros(d: &str) -> String {
    let t = d.trim_start_matches('0');
    if t.is_empty() {
        "0".to_string()
    } else {
        t.to_string()
    }
}

fn cmp_digits(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl SemVer {
    /// Parses a SemVer string; `None` when the core is not numeric.
    pub fn parse(s: &str) -> Option<SemVer> {
        let text = s.trim();
        let t = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('='))
            .unwrap_or(text)
            .trim();
        let (no_build, _build) = t.split_once('+').unwrap_or((t, ""));
        let (core_str, pre_str) = match no_build.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (no_build, None),
        };
        let parts: Vec<&str> = core_str.split('.').collect();
        if parts.is_empty() || parts.len() > 16 {
            return None;
        }
        let mut core = [String::from("0"), String::from("0"), String::from("0")];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            if i < 3 {
                core[i] = strip_zeros(p);
            }
        }
        let pre = match pre_str {
            None => Vec::new(),
            Some("") => return None,
            Some(p) => p
                .split('.')
                .map(|id| {
                    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                        Ident::Num(strip_zeros(id))
                    } else {
                        Ident::Alpha(id.to_string())
                    }
                })
                .collect(),
        };
        Some(SemVer {
            core,
            pre,
            text: text.to_string(),
        })
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Major, minor and patch as numbers (saturating for huge values).
    pub fn triple(&self) -> (u64, u64, u64) {
        let n = |s: &str| s.parse::<u64>().unwrap_or(u64::MAX);
        (n(&self.core[0]), n(&self.core[1]), n(&self.core[2]))
    }
}

impl PartialEq for SemVer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVer {}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        for i in 0..3 {
            let o = cmp_digits(&self.core[i], &other.core[i]);
            if o != Ordering::Equal {
                return o;
            }
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        for (a, b) in self.pre.iter().zip(&other.pre) {
            let o = match (a, b) {
                (Ident::Num(x), Ident::Num(y)) => cmp_digits(x, y),
                (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
                (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
                (Ident::Alpha(x), Ident::Alpha(y)) => x.cmp(y),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        self.pre.len().cmp(&other.pre.len())
    }
}

/// A non-PEP 440 version, ordered as `packaging`'s `LegacyVersion` (epoch
/// -1, so before every PEP 440 version).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LegacyVersion {
    key: Vec<String>,
}

impl LegacyVersion {
    /// The legacy comparison key of `s`.
    pub fn new(s: &str) -> LegacyVersion {
        let lower = s.trim().to_lowercase();
        let mut parts: Vec<String> = Vec::new();
        for part in legacy_parts(&lower) {
            if part.starts_with('*') {
                if part.as_str() < "*final" {
                    while parts.last().is_some_and(|p| p == "*final-") {
                        parts.pop();
                    }
                }
                while parts.last().is_some_and(|p| p == "00000000") {
                    parts.pop();
                }
            }
            parts.push(part);
        }
        LegacyVersion { key: parts }
    }
}

/// `packaging`'s `_parse_version_parts`.
fn legacy_parts(s: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut kind = 0u8; // 1 digits, 2 letters, 3 other
    for c in s.chars() {
        let k = if c.is_ascii_digit() {
            1
        } else if c.is_ascii_lowercase() {
            2
        } else {
            3
        };
        if c == '.' || c == '-' {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            tokens.push(c.to_string());
            kind = 0;
            continue;
        }
        if k != kind && !cur.is_empty() && (kind == 1 || kind == 2 || k == 1 || k == 2) {
            tokens.push(std::mem::take(&mut cur));
        }
        cur.push(c);
        kind = k;
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    let mut out = Vec::new();
    for t in tokens {
        let t = match t.as_str() {
            "pre" | "preview" | "rc" => "c".to_string(),
            "-" => "final-".to_string(),
            "dev" => "@".to_string(),
            _ => t,
        };
        if t.is_empty() || t == "." {
            continue;
        }
        if t.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            out.push(format!("{t:0>8}"));
        } else {
            out.push(format!("*{t}"));
        }
    }
    out.push("*final".to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(e: Ecosystem, a: &str, b: &str) -> Ordering {
        compare(e, a, b).unwrap_or_else(|| panic!("{a} or {b} does not parse"))
    }

    #[test]
    fn semver_basics() {
        let e = Ecosystem::Npm;
        assert_eq!(cmp(e, "1.0.0-alpha", "1.0.0"), Ordering::Less);
        assert_eq!(cmp(e, "v1.2.3", "1.2.3"), Ordering::Equal);
        assert_eq!(cmp(e, "1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(cmp(e, "1.0.0-beta.11", "1.0.0-beta.2"), Ordering::Greater);
        assert_eq!(cmp(e, "1.2.3+build", "1.2.3+other"), Ordering::Equal);
        assert!(compare(e, "abc", "1.0.0").is_none());
        assert!(compare(e, "1.0.0-", "1.0.0").is_none());
    }

    #[test]
    fn pep440_basics() {
        let e = Ecosystem::PyPI;
        assert_eq!(cmp(e, "1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(cmp(e, "1!1.0", "2.0"), Ordering::Greater);
        assert_eq!(cmp(e, "1.0.dev1", "1.0a1"), Ordering::Less);
        assert_eq!(cmp(e, "1.0.post1", "1.0"), Ordering::Greater);
        assert_eq!(cmp(e, "1.0+local", "1.0"), Ordering::Greater);
        assert_eq!(cmp(e, "0.1-bulbasaur", "1.0"), Ordering::Less);
        assert!(Version::parse(e, "0.1-bulbasaur").is_none());
    }

    #[test]
    fn sorting() {
        let mut v = vec![
            "1.10.0".to_string(),
            "1.9.0".into(),
            "1.9.0".into(),
            "1.0.0-rc.1".into(),
        ];
        sort_versions(Ecosystem::CratesIo, &mut v);
        assert_eq!(v, vec!["1.0.0-rc.1", "1.9.0", "1.10.0"]);
    }
}
