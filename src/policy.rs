//! `depwarden.toml`: the gate (thresholds), ignores with reasons and expiry
//! dates, the typosquat allow-list and the internal namespaces. Unknown keys
//! and bad values are errors that name the file, the key and the line.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::clock::Date;
use crate::limits::Limits;
use crate::severity::{Grade, Severity};
use crate::text::has_visible_text;

/// Configuration errors; each names the file.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid (unknown key, bad value, bad TOML); the
    /// message carries the line and column.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
}

/// Severity threshold at which vulnerabilities close the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Vulnerabilities never close the gate.
    None,
    /// Any vulnerability, whatever its severity (unknown included).
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

impl FailOn {
    /// Parses `none|low|medium|high|critical`.
    pub fn parse(s: &str) -> Option<FailOn> {
        Some(match s.to_ascii_lowercase().as_str() {
            "none" => FailOn::None,
            "low" | "any" => FailOn::Low,
            "medium" | "moderate" => FailOn::Medium,
            "high" => FailOn::High,
            "critical" => FailOn::Critical,
            _ => return None,
        })
    }

    /// The threshold's name.
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::None => "none",
            FailOn::Low => "low",
            FailOn::Medium => "medium",
            FailOn::High => "high",
            FailOn::Critical => "critical",
        }
    }

    /// True when a vulnerability of `severity` reaches the threshold. An
    /// unknown severity closes the gate at `low` only: depwarden does not
    /// guess that an unscored advisory is harmless, nor that it is critical.
    pub fn closes(self, severity: Severity) -> bool {
        match self {
            FailOn::None => false,
            FailOn::Low => true,
            FailOn::Medium => severity >= Severity::Medium,
            FailOn::High => severity >= Severity::High,
            FailOn::Critical => severity >= Severity::Critical,
        }
    }
}

/// The threshold of a supply-chain kind: the lowest [`Grade`] (typosquat
/// confidence, dependency-confusion risk) that closes the gate, or `none`
/// to never close it on that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MinGrade {
    /// Never closes the gate.
    None,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High only.
    High,
}

impl MinGrade {
    /// True when a finding of `grade` reaches this threshold.
    pub fn closes(self, grade: Grade) -> bool {
        match self {
            MinGrade::None => false,
            MinGrade::Low => true,
            MinGrade::Medium => grade >= Grade::Medium,
            MinGrade::High => grade >= Grade::High,
        }
    }

    /// The threshold's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MinGrade::None => "none",
            MinGrade::Low => "low",
            MinGrade::Medium => "medium",
            MinGrade::High => "high",
        }
    }
}

pub use crate::severity::{CheckGate, RuntimeGate};

mod exceptions;
pub use exceptions::{Ignore, VexEntry};

/// `[gate]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Gate {
    /// Vulnerability severity threshold.
    pub fail_on: FailOn,
    /// Malicious packages close the gate (even with `fail_on = "none"`).
    pub malicious: bool,
    /// Typosquat confidence that closes the gate.
    pub typosquat: MinGrade,
    /// Dependency-confusion risk that closes the gate.
    pub confusion: MinGrade,
    /// Dev-only findings may close the gate.
    pub include_dev: bool,
    /// RustSec informational warnings (unmaintained, unsound, notice...)
    /// that close the gate; empty = none (cargo-audit's default).
    pub warnings: Vec<String>,
    /// The severity an advisory counts as when neither it nor any of its
    /// aliases in the database has one (many PYSEC records): `high` by
    /// default, so that a gate set to close on high-severity
    /// vulnerabilities is not opened by a record nobody has scored.
    #[serde(deserialize_with = "graded_severity")]
    pub unknown_severity: Severity,
    /// Function runtime findings that close the gate.
    pub runtime: RuntimeGate,
    /// Function platform findings that close the gate.
    pub platform: CheckGate,
    /// Function size findings that close the gate.
    pub size: CheckGate,
    /// Findings of packages predicted by `--resolve` (not read from a
    /// lockfile) close the gate like locked ones; `false` reports them
    /// without closing it.
    pub resolved: bool,
}

/// `low`, `medium`, `high` or `critical` (not `unknown`: the setting says
/// what unknown counts as).
fn graded_severity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
    let word = String::deserialize(d)?;
    Severity::from_word(&word).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown_severity must be low, medium, high or critical, not {word:?}"
        ))
    })
}

impl Gate {
    /// True when a vulnerability of `severity` closes this gate; an
    /// unknown severity counts as [`Gate::unknown_severity`].
    pub fn closes_on(&self, severity: Severity) -> bool {
        let counted = if severity == Severity::Unknown {
            self.unknown_severity
        } else {
            severity
        };
        self.fail_on.closes(counted)
    }

    /// No finding of any kind closes the gate (`scan --gate none`): every
    /// threshold at `none`, malicious packages and warnings included.
    pub fn open_for_every_kind(&mut self) {
        self.fail_on = FailOn::None;
        self.malicious = false;
        self.typosquat = MinGrade::None;
        self.confusion = MinGrade::None;
        self.warnings.clear();
        self.runtime = RuntimeGate::None;
        self.platform = CheckGate::None;
        self.size = CheckGate::None;
    }
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            fail_on: FailOn::Low,
            malicious: true,
            typosquat: MinGrade::High,
            confusion: MinGrade::High,
            include_dev: false,
            resolved: true,
            warnings: Vec::new(),
            unknown_severity: Severity::High,
            runtime: RuntimeGate::Deprecated,
            platform: CheckGate::Error,
            size: CheckGate::Error,
        }
    }
}

/// `[typosquat]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TyposquatConfig {
    /// Names never flagged.
    pub allow: Vec<String>,
}

/// `[registries]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistriesConfig {
    /// npm scopes that are internal (`@acme`).
    pub internal_scopes: Vec<String>,
    /// Internal package names, `*` wildcards allowed (`acme-*`).
    pub internal_names: Vec<String>,
    /// Public registry base URLs (for tests and mirrors): keys `npm`,
    /// `pypi`, `crates`, and `npm-downloads` for the npm downloads API.
    pub public: std::collections::BTreeMap<String, String>,
    /// Registries that serve public packages under their public names
    /// (Artifactory, Nexus, CodeArtifact proxying the public registry):
    /// resolving through them does not make a package internal.
    pub mirrors: Vec<String>,
    /// Timeout of one public-registry lookup, in milliseconds (default
    /// 5000, at most 30000: a larger value is refused).
    pub timeout_ms: Option<u64>,
    /// Registry bases `--resolve` fetches metadata from (keys `npm`,
    /// `pypi` for a PEP 691 simple index, `crates` for a sparse index);
    /// read only from a configuration given with `--config`.
    pub resolve: std::collections::BTreeMap<String, String>,
}

/// `[database]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Base URL or directory for `db sync`.
    pub source: Option<String>,
    /// Warn when the data is older than this many days (default 7).
    pub max_age_days: Option<u64>,
}

/// `[target]`: the platform deployments run on (AWS Lambda: Linux with
/// glibc). Read from the scan-wide configuration only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetConfig {
    /// `x86_64` (default) or `arm64`: npm `cpu` fields and Python
    /// `platform_machine` markers are evaluated for it.
    pub architecture: Option<String>,
    /// `3.12` (default): the Python version markers are evaluated for.
    pub python: Option<String>,
}

impl TargetConfig {
    /// The target this configures.
    pub fn target(&self) -> crate::parse::Target {
        let d = crate::parse::Target::default();
        crate::parse::Target {
            arch: self
                .architecture
                .as_deref()
                .and_then(crate::parse::Arch::parse)
                .unwrap_or(d.arch),
            python: self
                .python
                .as_deref()
                .and_then(crate::parse::Target::parse_python)
                .unwrap_or(d.python),
        }
    }
}

/// `[limits]`: resource caps for hostile input. Read from the scan-wide
/// configuration only (a `depwarden.toml` inside a deployment cannot raise
/// them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest file read, in bytes (default 256 MiB; the environment
    /// variable `DEPWARDEN_MAX_FILE_SIZE` overrides it).
    pub max_file_size: Option<u64>,
    /// Most packages one source may declare (default 1,000,000).
    pub max_packages: Option<usize>,
}

impl LimitsConfig {
    /// The limits this configures (defaults where unset,
    /// `DEPWARDEN_MAX_FILE_SIZE` over the file size).
    pub fn limits(&self) -> Limits {
        Limits::configured(self.max_packages, self.max_file_size)
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Let `depwarden.toml` files found inside the scanned tree loosen the
    /// gate (thresholds, ignores, allow-lists) for their deployment; read
    /// from the invoking configuration only (see [`crate::config_trust`]).
    pub trust_nested: bool,
    /// Gate thresholds.
    pub gate: Gate,
    /// Ignores.
    pub ignore: Vec<Ignore>,
    /// OpenVEX documents applied as ignores (from the invoking
    /// configuration only; see [`crate::vex`]).
    pub vex: Vec<VexEntry>,
    /// Typosquat settings.
    pub typosquat: TyposquatConfig,
    /// Internal namespaces.
    pub registries: RegistriesConfig,
    /// Database settings.
    pub database: DatabaseConfig,
    /// Resource limits.
    pub limits: LimitsConfig,
    /// The target platform.
    pub target: TargetConfig,
}

impl Policy {
    /// Parses a configuration file's text; `path` is used in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        crate::toml_guard::check(text).map_err(|e| PolicyError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let policy: Policy = toml::from_str(text).map_err(|e| PolicyError::Invalid {
            path: path.to_path_buf(),
            message: crate::redact::toml_error(&e, text),
        })?;
        policy.validate(text, path)?;
        Ok(policy)
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::from_toml(&text, path)
    }

    fn validate(&self, text: &str, path: &Path) -> Result<(), PolicyError> {
        for ig in &self.ignore {
            let line = line_of(text, &ig.id);
            // Text made only of spaces or invisible characters (a
            // zero-width space) says nothing to a reader: refused.
            if !has_visible_text(&ig.id) {
                return Err(invalid(path, line, "ignore.id must not be empty"));
            }
            if !has_visible_text(&ig.reason) {
                return Err(invalid(
                    path,
                    line,
                    &format!(
                        "ignore for {}: `reason` must not be empty (or only invisible characters)",
                        ig.id
                    ),
                ));
            }
            if let Some(exp) = &ig.expires
                && (exp.len() != 10 || Date::parse(exp).is_none())
            {
                return Err(invalid(
                    path,
                    line_of(text, exp),
                    &format!(
                        "ignore for {}: `expires` must be a date YYYY-MM-DD that exists, not {exp:?}",
                        ig.id
                    ),
                ));
            }
        }
        for v in &self.vex {
            if v.file.trim().is_empty() {
                return Err(invalid(
                    path,
                    line_of(text, "[[vex]]"),
                    "vex.file must name an OpenVEX document",
                ));
            }
        }
        for s in &self.registries.internal_scopes {
            if !s.starts_with('@') {
                return Err(invalid(
                    path,
                    line_of(text, s),
                    &format!("registries.internal_scopes: {s:?} must start with '@'"),
                ));
            }
        }
        if let Some(ms) = self.registries.timeout_ms {
            let max = crate::limits::MAX_LOOKUP_TIMEOUT.as_millis();
            if ms == 0 || u128::from(ms) > max {
                return Err(invalid(
                    path,
                    line_of(text, "timeout_ms"),
                    &format!(
                        "registries.timeout_ms = {ms}: a lookup timeout must be between 1 and {max} ms"
                    ),
                ));
            }
        }
        if let Some(a) = &self.target.architecture
            && crate::parse::Arch::parse(a).is_none()
        {
            return Err(invalid(
                path,
                line_of(text, a),
                &format!("target.architecture must be x86_64 or arm64, not {a:?}"),
            ));
        }
        if let Some(v) = &self.target.python
            && crate::parse::Target::parse_python(v).is_none()
        {
            return Err(invalid(
                path,
                line_of(text, v),
                &format!("target.python must be a Python version such as \"3.12\", not {v:?}"),
            ));
        }
        for m in &self.registries.mirrors {
            if m.trim().is_empty() {
                return Err(invalid(
                    path,
                    line_of(text, "mirrors"),
                    "registries.mirrors: an entry is empty (give a registry URL or host)",
                ));
            }
        }
        let l = &self.limits;
        for (key, value) in [
            ("max_file_size", l.max_file_size),
            ("max_packages", l.max_packages.map(|n| n as u64)),
        ] {
            if value == Some(0) {
                return Err(invalid(
                    path,
                    line_of(text, key),
                    &format!("limits.{key} must be a positive number"),
                ));
            }
        }
        Ok(())
    }

    /// Finds the configuration for a scan: `explicit` if given, else
    /// `depwarden.toml` in `start` or its parents up to the git root.
    pub fn find(
        start: &Path,
        explicit: Option<&Path>,
    ) -> Result<Option<(PathBuf, Policy)>, PolicyError> {
        if let Some(p) = explicit {
            return Ok(Some((p.to_path_buf(), Policy::load(p)?)));
        }
        match Policy::find_path(start) {
            Some(found) => {
                let policy = Policy::load(&found)?;
                Ok(Some((found, policy)))
            }
            None => Ok(None),
        }
    }

    /// The `depwarden.toml` in `start` (a directory, or a file's
    /// directory) or its parents up to the git root, as a canonical path.
    pub fn find_path(start: &Path) -> Option<PathBuf> {
        let abs = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
        let mut dir: Option<&Path> = Some(if abs.is_dir() {
            abs.as_path()
        } else {
            abs.parent().unwrap_or(&abs)
        });
        while let Some(d) = dir {
            let candidate = d.join("depwarden.toml");
            if candidate.is_file() {
                return Some(candidate);
            }
            if d.join(".git").exists() {
                break;
            }
            dir = d.parent();
        }
        None
    }
}

/// The policy of every deployment of a scan: the scan-wide one, and the
/// policies of deployments that hold their own `depwarden.toml` (each the
/// scan-wide one as that file may change it, see [`crate::config_trust`]),
/// by deployment index.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    global: Policy,
    nested: std::collections::BTreeMap<usize, Policy>,
}

impl Policies {
    /// The scan-wide policy and the nested ones by deployment index.
    pub fn new(global: Policy, nested: std::collections::BTreeMap<usize, Policy>) -> Policies {
        Policies { global, nested }
    }

    /// The scan-wide policy.
    pub fn global(&self) -> &Policy {
        &self.global
    }

    /// The policy of deployment number `i`.
    pub fn for_deployment(&self, i: usize) -> &Policy {
        self.nested.get(&i).unwrap_or(&self.global)
    }

    /// Every distinct policy: the scan-wide one, then the nested ones in
    /// deployment order.
    pub fn all(&self) -> impl Iterator<Item = &Policy> {
        std::iter::once(&self.global).chain(self.nested.values())
    }

    /// `scan --gate none`: no finding of any kind closes any deployment's
    /// gate, whatever its configuration says.
    pub fn open_every_gate(&mut self) {
        self.global.gate.open_for_every_kind();
        for p in self.nested.values_mut() {
            p.gate.open_for_every_kind();
        }
    }
}

fn invalid(path: &Path, line: Option<usize>, msg: &str) -> PolicyError {
    let message = match line {
        Some(l) => format!("line {l}: {msg}"),
        None => msg.to_string(),
    };
    PolicyError::Invalid {
        path: path.to_path_buf(),
        message,
    }
}

/// 1-based line of the first occurrence of `needle` (as a quoted string).
fn line_of(text: &str, needle: &str) -> Option<usize> {
    let quoted = format!("\"{needle}\"");
    text.lines()
        .position(|l| l.contains(&quoted) || l.contains(needle))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests;
