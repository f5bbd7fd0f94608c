//! OSV records as depwarden stores them, and the compiled index entries the
//! matcher evaluates.
//!
//! [`OsvRecord`] decodes leniently: unknown fields are ignored, unknown
//! ecosystems and range types are kept as strings (the `osv` crate rejects
//! them), so one odd record never fails an import. [`IndexEntry`] is what
//! import precompiles per (ecosystem, normalised name): the ranges already
//! split into typed [`Event`]s, so a scan never
//! parses JSON for a package that has no advisory.

use serde::{Deserialize, Deserializer, Serialize};

/// A range event with its version (or commit). Decoded from the raw JSON
/// through the `osv` crate's `Event` (see [`Event::from_osv_json`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The version in which the vulnerability was introduced (`"0"` = all).
    Introduced(String),
    /// The first version that is no longer affected.
    Fixed(String),
    /// The last affected version (inclusive).
    LastAffected(String),
    /// An upper limit of the range (exclusive).
    Limit(String),
}

impl Event {
    /// Decodes one raw event object (`{"introduced": "1.0"}`); `None` for an
    /// event of unknown kind or wrong shape.
    pub fn from_osv_json(value: &serde_json::Value) -> Option<Event> {
        let event: osv::schema::Event = serde_json::from_value(value.clone()).ok()?;
        Some(match event {
            osv::schema::Event::Introduced(v) => Event::Introduced(v),
            osv::schema::Event::Fixed(v) => Event::Fixed(v),
            osv::schema::Event::LastAffected(v) => Event::LastAffected(v),
            osv::schema::Event::Limit(v) => Event::Limit(v),
            _ => return None,
        })
    }
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One OSV record (schema 1.x), leniently decoded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OsvRecord {
    /// Record id (`GHSA-...`, `PYSEC-...`, `RUSTSEC-...`, `MAL-...`).
    pub id: String,
    /// RFC 3339 time of the last change.
    #[serde(default, deserialize_with = "null_as_default")]
    pub modified: String,
    /// RFC 3339 publication time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// RFC 3339 time the record was withdrawn; withdrawn records never match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Other ids of the same vulnerability.
    #[serde(default, deserialize_with = "null_as_default")]
    pub aliases: Vec<String>,
    /// Related (not identical) records.
    #[serde(default, deserialize_with = "null_as_default")]
    pub related: Vec<String>,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Long description (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Record-level severities.
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: Vec<OsvSeverity>,
    /// Affected packages.
    #[serde(default, deserialize_with = "null_as_default")]
    pub affected: Vec<OsvAffected>,
    /// References.
    #[serde(default, deserialize_with = "null_as_default")]
    pub references: Vec<OsvReference>,
    /// Database-specific data (`severity`, `cwe_ids`, RustSec `informational`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A severity entry: `type` (`CVSS_V3`, `CVSS_V4`, `CVSS_V2`, ...) and score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OsvSeverity {
    /// Scoring system.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Vector or score.
    #[serde(default)]
    pub score: String,
}

/// One `affected` entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OsvAffected {
    /// The package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<OsvPackage>,
    /// Package-level severities.
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: Vec<OsvSeverity>,
    /// Version ranges.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ranges: Vec<OsvRange>,
    /// Explicitly listed affected versions.
    #[serde(default, deserialize_with = "null_as_default")]
    pub versions: Vec<String>,
    /// Ecosystem-specific data (RustSec `affects.functions`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database-specific data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// An affected package.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OsvPackage {
    /// Ecosystem as OSV spells it (kept as a string: unknown ones are skipped
    /// at index time, not at decode time).
    #[serde(default)]
    pub ecosystem: String,
    /// Package name.
    #[serde(default)]
    pub name: String,
    /// Package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A range: type and events (events kept raw; compiled into [`Event`]s).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OsvRange {
    /// `SEMVER`, `ECOSYSTEM` or `GIT`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Repository for GIT ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Events as written (`{"introduced": "0"}`, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<serde_json::Value>,
}

/// A reference link.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OsvReference {
    /// Reference type (`ADVISORY`, `FIX`, `WEB`, ...).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// URL.
    #[serde(default)]
    pub url: String,
}

/// What kind of finding a record gives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "type")]
pub enum AdvisoryKind {
    /// A vulnerability.
    Vulnerability,
    /// A malicious package (`MAL-` ids, or CWE-506).
    Malicious,
    /// A RustSec informational advisory (`unmaintained`, `unsound`,
    /// `notice`, ...), reported as a warning.
    Informational(String),
}

/// How a range's versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RangeKind {
    /// `SEMVER` ranges: SemVer 2.0 ordering.
    Semver,
    /// `ECOSYSTEM` ranges: the ecosystem's own ordering (SemVer for npm and
    /// crates.io, PEP 440 for PyPI).
    Ecosystem,
}

/// A range compiled for matching (GIT ranges are dropped at compile time:
/// they say nothing about registry versions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledRange {
    /// Ordering to use.
    pub kind: RangeKind,
    /// Events, in the order the record lists them (the matcher sorts).
    pub events: Vec<Event>,
}

/// One `affected` entry compiled for one package.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CompiledAffected {
    /// Ranges.
    pub ranges: Vec<CompiledRange>,
    /// Explicit versions.
    pub versions: Vec<String>,
}

/// What the index holds per (ecosystem, normalised name) and record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Record id.
    pub id: String,
    /// The record's aliases (for merging alias groups without loading
    /// full records).
    pub aliases: Vec<String>,
    /// Finding kind.
    pub kind: AdvisoryKind,
    /// Every `affected` entry of the record that names this package.
    pub affected: Vec<CompiledAffected>,
}
