//! The scan result every output format renders: the JSON contract of
//! `scan --format json` (schema_version 1, see DESIGN.md).

use serde::Serialize;
use std::collections::BTreeMap;

use crate::diagnostic::Level;
use crate::ecosystem::Ecosystem;
use crate::severity::{Grade, Severity};

/// The current JSON schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool.
    pub tool: ToolInfo,
    /// The advisory data used.
    pub database: DatabaseInfo,
    /// One entry per deployment package.
    pub deployments: Vec<DeploymentReport>,
    /// Totals.
    pub summary: Summary,
    /// The gate decision.
    pub gate: GateResult,
    /// Problems that belong to no deployment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorEntry>,
    /// Configuration notes: the config file used, expired and unused ignores.
    pub policy: PolicyNotes,
    /// Functions defined by the infrastructure files found (SAM, Serverless
    /// Framework, CDK, Terraform); absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionReport>,
}

/// Name and version of depwarden.
#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    /// `depwarden`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: "depwarden".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The advisory data a scan used.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DatabaseInfo {
    /// Store directory.
    pub path: String,
    /// Where the data came from.
    pub source: Option<String>,
    /// When it was imported or synced.
    pub updated_at: Option<String>,
    /// Per ecosystem: records and newest `modified`.
    pub ecosystems: Vec<DatabaseEcosystem>,
    /// Warnings (data older than the configured age...).
    pub warnings: Vec<String>,
}

/// Per-ecosystem database facts.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseEcosystem {
    /// Ecosystem.
    pub ecosystem: String,
    /// Records.
    pub records: u64,
    /// Newest `modified`.
    pub newest_modified: Option<String>,
}

/// One deployment package.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentReport {
    /// Root, relative to the scanned root.
    pub path: String,
    /// Ecosystems seen.
    pub ecosystems: Vec<String>,
    /// Sources scanned.
    pub sources: Vec<SourceReport>,
    /// Number of packages (over all sources, roots excluded).
    pub packages: usize,
    /// Sources that could not be scanned: their packages are not in
    /// `packages` and were not checked.
    pub unscanned_sources: usize,
    /// True when nothing of the deployment could be scanned (every source
    /// failed, or the walk itself failed): "0 packages, no findings" then
    /// means nothing was checked, not that nothing was found.
    pub not_scanned: bool,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// What could not be scanned, and notes.
    pub errors: Vec<ErrorEntry>,
}

/// One source of a deployment.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// Path relative to the scanned root.
    pub path: String,
    /// Format name.
    pub format: String,
    /// Packages it declares (roots excluded).
    pub packages: usize,
    /// False when it could not be parsed.
    pub scanned: bool,
    /// Set when the source is a manifest resolved with `--resolve`: the
    /// cutoff, the digest of the registry metadata used, what was left
    /// unresolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<crate::resolve::facts::ResolutionFacts>,
}

/// A problem or note about a file.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorEntry {
    /// error, warning or info.
    pub level: Level,
    /// File, relative to the scanned root.
    pub path: String,
    /// Message.
    pub message: String,
}

/// What kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A known vulnerability.
    Vulnerability,
    /// A known malicious package.
    Malicious,
    /// A name that imitates a popular package.
    Typosquat,
    /// A private name a public registry could serve.
    DependencyConfusion,
    /// An informational advisory (RustSec unmaintained, unsound, notice).
    Warning,
    /// A function's runtime is deprecated or soon deprecated.
    Runtime,
    /// Native code that cannot load on a function's target.
    Platform,
    /// A function over Lambda's size limits.
    Size,
}

pub use super::function_parts::{CodeReport, FunctionPackage, LayerReport, LayerSize, SizeReport};
pub use crate::severity::CheckLevel;

/// The details of a function finding (`runtime`, `platform`, `size`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionCheck {
    /// The function the finding is about.
    pub function: String,
    /// The rule (`runtime-deprecated`, `native-arch-mismatch`,
    /// `size-unzipped-over-limit`, ...).
    pub rule: String,
    /// `error` (cannot work) or `warning`.
    pub level: CheckLevel,
    /// Runtime deprecation date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation_date: Option<String>,
    /// From this date the runtime can no longer be used to create functions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_create_date: Option<String>,
    /// From this date functions on the runtime can no longer be updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_update_date: Option<String>,
    /// What the target needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// The files concerned, relative to the scanned root.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Measured size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// What a finding is about: a package of one of the scanned ecosystems,
/// or Lambda itself (a function's runtime or size, a layer, a native file
/// no package owns). Serialised as the ecosystem's OSV name, or `lambda`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// A package of this ecosystem.
    Package(Ecosystem),
    /// Lambda's own rules.
    Lambda,
}

impl Scope {
    /// The name in reports: the OSV ecosystem name, or `lambda`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Package(e) => e.as_str(),
            Scope::Lambda => "lambda",
        }
    }

    /// The package ecosystem, if the finding is about a package.
    pub fn ecosystem(self) -> Option<Ecosystem> {
        match self {
            Scope::Package(e) => Some(e),
            Scope::Lambda => None,
        }
    }
}

impl From<Ecosystem> for Scope {
    fn from(e: Ecosystem) -> Scope {
        Scope::Package(e)
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Fix advice for a vulnerable package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixAdvice {
    /// The smallest version that fixes every vulnerability found in the
    /// package, if one exists.
    pub version: Option<String>,
    /// `patch`, `minor` or `major`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<String>,
    /// For a transitive package: the direct dependency that brings it in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

pub use super::suppression::{Justification, Suppression, VexFileReport, VexSource};

/// One finding in one deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Kind.
    pub kind: FindingKind,
    /// What it is about: a package of an ecosystem (serialised as OSV
    /// spells it) or Lambda itself (`lambda`).
    pub ecosystem: Scope,
    /// Package name.
    pub package: String,
    /// Version (absent for unresolved dependencies).
    pub version: Option<String>,
    /// Dependency paths from a direct dependency (names), one per source.
    pub paths: Vec<Vec<String>>,
    /// Dev-only in every source that has it.
    pub dev: bool,
    /// Why the package is not installed on the target platform, when no
    /// source installs it there (npm `os`/`cpu`/`libc`, Python markers):
    /// such a finding is reported but never closes the gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_on_target: Option<String>,
    /// True when every source that has the package predicted it by
    /// resolving a manifest (`--resolve`): it is what the installer would
    /// install at `resolve_cutoff`, not what a lockfile says.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resolved: bool,
    /// The cutoff of that resolution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve_cutoff: Option<String>,
    /// A direct dependency in some source.
    pub direct: bool,
    /// Sources (relative paths) that declare the package.
    pub sources: Vec<String>,
    /// 1-based line in the first source, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Advisory id (vulnerability, malicious, warning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Every other id of the same advisory group.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Severity (vulnerability).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// CVSS base score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    /// Advisory summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Versions that fix it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed_versions: Vec<String>,
    /// RustSec informational type (warning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub informational: Option<String>,
    /// The package imitated (typosquat).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imitates: Option<String>,
    /// Confidence (typosquat).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Grade>,
    /// Risk (dependency confusion).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<Grade>,
    /// Why (typosquat rule, confusion reason, unparsable version note).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Fix advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixAdvice>,
    /// Set when an ignore applies: the finding stays visible but does not
    /// close the gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<Suppression>,
    /// True when this finding closes the gate.
    pub closes_gate: bool,
    /// Details of a function finding.
    #[serde(flatten)]
    pub check: Option<FunctionCheck>,
}

impl Finding {
    /// A finding with only the identifying fields set.
    pub fn new(
        kind: FindingKind,
        ecosystem: impl Into<Scope>,
        package: &str,
        version: Option<String>,
    ) -> Finding {
        Finding {
            kind,
            ecosystem: ecosystem.into(),
            package: package.to_string(),
            version,
            paths: Vec::new(),
            dev: false,
            not_on_target: None,
            resolved: false,
            resolve_cutoff: None,
            direct: false,
            sources: Vec::new(),
            line: None,
            id: None,
            aliases: Vec::new(),
            severity: None,
            cvss_score: None,
            summary: None,
            fixed_versions: Vec::new(),
            informational: None,
            imitates: None,
            confidence: None,
            risk: None,
            reason: None,
            fix: None,
            ignored: None,
            closes_gate: false,
            check: None,
        }
    }
}

/// Totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Deployments scanned.
    pub deployments: usize,
    /// Packages (over all deployments).
    pub packages: usize,
    /// Findings by kind.
    pub vulnerabilities: usize,
    /// Malicious findings.
    pub malicious: usize,
    /// Typosquat findings.
    pub typosquats: usize,
    /// Dependency-confusion findings.
    pub dependency_confusion: usize,
    /// Informational warnings.
    pub warnings: usize,
    /// Vulnerabilities by severity.
    pub by_severity: std::collections::BTreeMap<String, usize>,
    /// Findings suppressed by ignores.
    pub ignored: usize,
    /// Sources that could not be scanned.
    pub unscanned_sources: usize,
    /// Deployments of which nothing could be scanned.
    pub deployments_not_scanned: usize,
    /// Functions defined by the infrastructure files.
    #[serde(skip_serializing_if = "is_zero")]
    pub functions: usize,
    /// Functions of which the code or a layer was not scanned.
    #[serde(skip_serializing_if = "is_zero")]
    pub functions_incomplete: usize,
    /// Runtime findings.
    #[serde(skip_serializing_if = "is_zero")]
    pub runtime: usize,
    /// Platform findings.
    #[serde(skip_serializing_if = "is_zero")]
    pub platform: usize,
    /// Size findings.
    #[serde(skip_serializing_if = "is_zero")]
    pub size: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The gate decision.
#[derive(Debug, Clone, Serialize)]
pub struct GateResult {
    /// The vulnerability threshold.
    pub fail_on: String,
    /// True when the gate is open.
    pub passed: bool,
    /// Why it closed (empty when passed).
    pub reasons: Vec<String>,
    /// Set when the result is an error rather than a verdict (`--strict`
    /// and an input that could not be scanned): why. `passed` is then
    /// false and the exit code is 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Notes about the configuration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicyNotes {
    /// The configuration file used, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Ignores that have expired (they no longer apply).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expired_ignores: Vec<String>,
    /// Ignores that matched no finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unused_ignores: Vec<String>,
    /// Every configuration file read, with what it was allowed to change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config_files: Vec<ConfigFileReport>,
    /// The VEX documents applied (`--vex`, `[[vex]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vex: Vec<VexFileReport>,
}

/// One configuration file read by a scan, and what it was allowed to do
/// (see [`crate::config_trust`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfigFileReport {
    /// The file.
    pub path: String,
    /// `command-line` (`--config`), `scan-root` (found at the scan root or
    /// above it) or `nested` (inside the scanned tree).
    pub origin: String,
    /// For a nested file, the deployment it applies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// The keys it set that apply.
    pub applied: Vec<String>,
    /// Attempts to loosen the gate that were overruled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overruled: Vec<String>,
    /// Keys its origin may not set, each with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

// The `functions` list (DESIGN.md, "Functions"): each function as Lambda
// deploys it. The domain (`crate::functions`) fills it in.

/// One function.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionReport {
    /// Logical id, Serverless function key, or Terraform address.
    pub name: String,
    /// `sam`, `serverless`, `cdk` or `terraform`.
    pub framework: String,
    /// The defining file and line, `path:line` relative to the scanned root.
    pub template: String,
    /// `Zip` or `Image`.
    pub package_type: String,
    /// The runtime identifier; `null` when not given or unresolved.
    pub runtime: Option<String>,
    /// `x86_64` or `arm64`; `null` when unresolved.
    pub architecture: Option<String>,
    /// True when the template does not say (Lambda's default, x86_64).
    pub architecture_defaulted: bool,
    /// The handler.
    pub handler: Option<String>,
    /// The code.
    pub code: CodeReport,
    /// Layers in Lambda's merge order.
    pub layers: Vec<LayerReport>,
    /// True when the code was scanned.
    pub scanned: bool,
    /// Why it was not: `package-type-image`, `code-in-s3`, or another
    /// reason (`code-unresolved`, `code-unreadable`, `code-missing`).
    pub not_scanned_reason: Option<String>,
    /// True when the code and every layer were scanned.
    pub complete: bool,
    /// Values the template gives as expressions that are not evaluated
    /// (`runtime`, `architecture`, `handler`, `code`), as written.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unresolved: BTreeMap<String, String>,
    /// For a built function, the source template and line it comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// CDK construct path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub construct_path: Option<String>,
    /// The packages Lambda loads, and those it deploys but never loads.
    pub packages: Vec<FunctionPackage>,
    /// Every finding of the code and the layers, and the function's own
    /// (`runtime`, `platform`, `size`), each with its origin.
    pub findings: Vec<FunctionFinding>,
    /// Sizes against Lambda's limits.
    pub size: SizeReport,
    /// Problems: what could not be scanned or resolved.
    pub errors: Vec<ErrorEntry>,
}

/// A finding as it affects one function.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionFinding {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// `function`, `layer:<id>` or `runtime`.
    pub origin: String,
    /// The deployment it was found in (relative path), for package
    /// findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// True when the package it is about is the copy Lambda loads.
    pub effective: bool,
    /// The origin of the copy loaded instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_by: Option<String>,
}
