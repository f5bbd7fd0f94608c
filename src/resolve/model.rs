//! What the metadata store keeps per registry document: only the fields
//! resolution reads, digested from the registry's answer when it is
//! fetched (publish times as Unix seconds, npm's abbreviated fields, the
//! files of a PyPI project that a Linux target could install, the core
//! metadata of a wheel, the crates.io index lines). Every digest keeps all
//! versions; the cutoff is applied when a resolver reads a document.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An npm package document, digested from the registry's packument.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NpmDoc {
    /// The `latest` dist-tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// Other dist-tags (for `"foo": "next"` specs).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Every version, in the registry's order.
    pub versions: Vec<NpmVersion>,
}

/// One version of an npm package: its abbreviated manifest fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NpmVersion {
    /// The version.
    pub version: String,
    /// Publish time (Unix seconds), from the packument's `time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
    /// `dependencies`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deps: BTreeMap<String, String>,
    /// `optionalDependencies`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub optional: BTreeMap<String, String>,
    /// `peerDependencies`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub peer: BTreeMap<String, String>,
    /// Peer dependencies `peerDependenciesMeta` marks optional.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peer_optional: Vec<String>,
    /// `bundleDependencies` (shipped inside the tarball, never fetched).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bundled: Vec<String>,
    /// `os`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    /// `cpu`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu: Vec<String>,
    /// `libc`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub libc: Vec<String>,
    /// `engines.node`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_node: Option<String>,
    /// `engines.npm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_npm: Option<String>,
    /// True when the version is deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

/// A PyPI project: its distribution files (PEP 691 JSON simple API).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PyProject {
    /// Files a Linux target could use (wheels for Windows or macOS only
    /// are dropped), sdists included.
    pub files: Vec<PyFile>,
}

/// One distribution file of a PyPI project.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PyFile {
    /// The file name (`requests-2.32.3-py3-none-any.whl`).
    pub filename: String,
    /// The file's URL, absolute.
    pub url: String,
    /// `requires-python`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// True when yanked (PEP 592).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub yanked: bool,
    /// Upload time (Unix seconds, PEP 700).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
}

/// The core metadata of one wheel (its PEP 658 `.metadata` file).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PyMetadata {
    /// `Requires-Dist` lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_dist: Vec<String>,
    /// `Requires-Python`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
}

/// A crate's sparse-index entries.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CrateDoc {
    /// Every published version, in index order.
    pub versions: Vec<CrateVersion>,
}

/// One index line.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CrateVersion {
    /// The version.
    pub vers: String,
    /// Dependencies as the index lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<CrateDep>,
    /// Features, `features` and `features2` merged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub features: BTreeMap<String, Vec<String>>,
    /// True when yanked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub yanked: bool,
    /// Publish time (Unix seconds, the index's `pubtime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
    /// `rust_version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_version: Option<String>,
}

/// One dependency of an index line.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CrateDep {
    /// The name the dependent uses (the rename when `package` is set).
    pub name: String,
    /// The version requirement.
    pub req: String,
    /// Features enabled on it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Optional dependency.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// `default-features`.
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub default_features: bool,
    /// `cfg(...)` or target triple.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `normal`, `build` or `dev`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The real crate name when renamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

fn yes() -> bool {
    true
}

impl CrateDep {
    /// The crate this dependency names (`package` when renamed).
    pub fn crate_name(&self) -> &str {
        self.package.as_deref().unwrap_or(&self.name)
    }
}

/// Parses a registry timestamp into Unix seconds.
pub fn time_of(s: &str) -> Option<u64> {
    crate::clock::parse_instant(s)
}
