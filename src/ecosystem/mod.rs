//! Package ecosystems (npm, PyPI, crates.io): their names as OSV spells
//! them and their package-name rules ([`names`]). Vocabulary: it imports
//! nothing of the crate.

pub mod names;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A package ecosystem, spelled as OSV spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    /// The npm registry (SemVer versions, exact names).
    #[serde(rename = "npm")]
    Npm,
    /// The Python Package Index (PEP 440 versions, PEP 503 names).
    #[serde(rename = "PyPI")]
    PyPI,
    /// crates.io (SemVer versions, case-insensitive names with `-` = `_`).
    #[serde(rename = "crates.io")]
    CratesIo,
}

impl Ecosystem {
    /// Every supported ecosystem.
    pub const ALL: [Ecosystem; 3] = [Ecosystem::Npm, Ecosystem::PyPI, Ecosystem::CratesIo];

    /// The ecosystem name as OSV spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::CratesIo => "crates.io",
        }
    }

    /// Parses an OSV ecosystem name; `None` for ecosystems depwarden does not
    /// scan. OSV ecosystem strings may carry a `:suffix` (e.g. `Debian:11`),
    /// which never applies to these three, so the whole string must match.
    pub fn from_osv(name: &str) -> Option<Ecosystem> {
        match name {
            "npm" => Some(Ecosystem::Npm),
            "PyPI" => Some(Ecosystem::PyPI),
            "crates.io" => Some(Ecosystem::CratesIo),
            _ => None,
        }
    }

    /// Parses a user-supplied ecosystem name (case-insensitive; accepts
    /// `pypi`, `crates`, `cargo`, `crates.io`, `npm`).
    pub fn from_user(name: &str) -> Option<Ecosystem> {
        match name.to_ascii_lowercase().as_str() {
            "npm" | "node" => Some(Ecosystem::Npm),
            "pypi" | "python" | "pip" => Some(Ecosystem::PyPI),
            "crates.io" | "crates" | "cargo" | "rust" => Some(Ecosystem::CratesIo),
            _ => None,
        }
    }

    /// The package-name key used for matching: PEP 503 for PyPI, lower-case
    /// with `_` folded to `-` for crates.io, unchanged for npm.
    pub fn normalize_name(self, name: &str) -> String {
        let mut out = String::with_capacity(name.len());
        self.normalize_name_into(name, &mut out);
        out
    }

    /// [`Ecosystem::normalize_name`] written into `out` (cleared first), for
    /// callers that normalise many names with one buffer.
    pub fn normalize_name_into(self, name: &str, out: &mut String) {
        match self {
            Ecosystem::Npm => {
                out.clear();
                out.push_str(name);
            }
            Ecosystem::PyPI => names::pypi_into(name, out),
            Ecosystem::CratesIo => names::crate_into(name, out),
        }
    }

    /// The package-URL type of the ecosystem (`npm`, `pypi`, `cargo`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::CratesIo => "cargo",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub use crate::redact::redact_url;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalisation() {
        assert_eq!(
            Ecosystem::PyPI.normalize_name("Foo.Bar__baz"),
            "foo-bar-baz"
        );
        assert_eq!(Ecosystem::PyPI.normalize_name("requests"), "requests");
        assert_eq!(
            Ecosystem::PyPI.normalize_name("zope.interface"),
            "zope-interface"
        );
    }

    #[test]
    fn crates_names_fold_case_and_underscore() {
        assert_eq!(
            Ecosystem::CratesIo.normalize_name("Rust_Decimal"),
            "rust-decimal"
        );
        assert_eq!(Ecosystem::Npm.normalize_name("@Scope/Pkg"), "@Scope/Pkg");
    }

    #[test]
    fn osv_names_round_trip() {
        for e in Ecosystem::ALL {
            assert_eq!(Ecosystem::from_osv(e.as_str()), Some(e));
        }
        assert_eq!(Ecosystem::from_osv("Debian:11"), None);
    }
}
