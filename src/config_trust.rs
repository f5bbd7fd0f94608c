//! Which configuration may change what.
//!
//! depwarden gates code written by whoever opens the pull request, so the
//! policy comes from the invoking side, and the scanned tree can only make
//! the gate stricter:
//!
//! - the **invoking configuration** is `--config FILE` ([`Origin::CommandLine`]),
//!   else the `depwarden.toml` at the scan root or its parents up to the git
//!   root ([`Origin::ScanRoot`]); command-line flags override it;
//! - a `depwarden.toml` **inside the scanned tree** ([`Origin::Nested`]: a
//!   deployment directory below the root, a zip, or the scanned directory
//!   itself when `--config` names another file) applies to its deployment
//!   and may only tighten the gate, unless the invoking configuration sets
//!   `trust_nested = true`; even then it never loosens what a command-line
//!   flag (`--fail-on`, `--include-dev`) set;
//! - **endpoints** (where the database is synced from, where registry
//!   lookups go) come only from the command line, the environment or an
//!   explicit `--config`: the database and the lookup cache are shared
//!   state, which a checkout must not be able to point elsewhere;
//! - **scan-wide settings** (limits, timeouts, the data-age threshold, the
//!   trust setting itself) come only from the invoking configuration.
//!
//! Every key has a [`Category`] ([`category`]); a key without an entry is
//! an endpoint, the most guarded category, so a new key is safe until it
//! is classified. Every file read is reported ([`ConfigFileReport`]) with
//! what it was allowed to change, what was overruled and what ignored.

use std::cmp::Reverse;
use std::path::{Path, PathBuf};

use crate::policy::{CheckGate, FailOn, MinGrade, Policy, PolicyError, RuntimeGate};
use crate::report::model::ConfigFileReport;

/// Where a configuration file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--config FILE`.
    CommandLine,
    /// Found at the scan root or its parents up to the git root.
    ScanRoot,
    /// Inside the scanned tree (a deployment, a zip).
    Nested,
}

impl Origin {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::CommandLine => "command-line",
            Origin::ScanRoot => "scan-root",
            Origin::Nested => "nested",
        }
    }
}

/// What a key can do to the gate, which decides who may set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Thresholds and switches of the gate: a nested file may only make
    /// them stricter (unless trusted).
    Gate,
    /// Exceptions (ignores, allow-lists): from a nested file only when
    /// trusted.
    Exception,
    /// Internal names and scopes: a nested file adds to them (more
    /// internal names only ever add findings).
    Namespace,
    /// Limits, timeouts, the data-age threshold, the trust setting: only
    /// from the invoking configuration.
    ScanWide,
    /// Where data comes from and lookups go: only from an explicit
    /// `--config` (or the command line and environment).
    Endpoint,
}

/// Every key and its category; a dotted prefix covers the keys below it.
const CATEGORIES: &[(&str, Category)] = &[
    ("trust_nested", Category::ScanWide),
    ("gate.fail_on", Category::Gate),
    ("gate.malicious", Category::Gate),
    ("gate.typosquat", Category::Gate),
    ("gate.confusion", Category::Gate),
    ("gate.include_dev", Category::Gate),
    ("gate.warnings", Category::Gate),
    ("gate.unknown_severity", Category::Gate),
    ("gate.runtime", Category::Gate),
    ("gate.platform", Category::Gate),
    ("gate.size", Category::Gate),
    ("gate.resolved", Category::Gate),
    ("ignore", Category::Exception),
    // VEX documents suppress findings for every deployment: named by the
    // invoking side only, never by a nested file (trusted or not).
    ("vex", Category::ScanWide),
    ("typosquat.allow", Category::Exception),
    ("registries.internal_scopes", Category::Namespace),
    ("registries.internal_names", Category::Namespace),
    ("registries.timeout_ms", Category::ScanWide),
    ("registries.public", Category::Endpoint),
    ("registries.resolve", Category::Endpoint),
    ("registries.mirrors", Category::Endpoint),
    ("database.source", Category::Endpoint),
    ("database.max_age_days", Category::ScanWide),
    ("limits", Category::ScanWide),
    ("target", Category::ScanWide),
];

/// The category of a dotted key (`gate.fail_on`, `registries.public.npm`):
/// the longest entry that is the key or a prefix of it, else
/// [`Category::Endpoint`].
pub fn category(key: &str) -> Category {
    explicit_category(key).unwrap_or(Category::Endpoint)
}

fn explicit_category(key: &str) -> Option<Category> {
    CATEGORIES
        .iter()
        .filter(|(k, _)| key == *k || key.starts_with(&format!("{k}.")))
        .max_by_key(|(k, _)| k.len())
        .map(|(_, c)| *c)
}

/// May a file of `origin` set a key of `category`?
fn allowed(origin: Origin, category: Category, trusted: bool) -> Result<(), &'static str> {
    match (origin, category) {
        (Origin::CommandLine, _) => Ok(()),
        (Origin::ScanRoot, Category::Endpoint) | (Origin::Nested, Category::Endpoint) => Err(
            "endpoints come only from --config, the command line or the environment, never from a depwarden.toml found in the scanned tree",
        ),
        (Origin::ScanRoot, _) => Ok(()),
        (Origin::Nested, Category::ScanWide) => {
            Err("limits, timeouts and scan-wide settings come only from the invoking configuration")
        }
        (Origin::Nested, Category::Exception) if !trusted => Err(
            "exceptions come only from the invoking configuration unless it sets trust_nested = true",
        ),
        (Origin::Nested, _) => Ok(()),
    }
}

/// The dotted keys a TOML table sets (an array of tables, `[[ignore]]`,
/// is one key).
fn keys_of(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => keys_of(t, &key, out),
            _ => out.push(key),
        }
    }
}

/// Removes `key` (dotted) from `table`, and the tables it leaves empty.
fn remove_key(table: &mut toml::Table, key: &str) {
    match key.split_once('.') {
        None => {
            table.remove(key);
        }
        Some((head, rest)) => {
            if let Some(toml::Value::Table(inner)) = table.get_mut(head) {
                remove_key(inner, rest);
                if inner.is_empty() {
                    table.remove(head);
                }
            }
        }
    }
}

/// A configuration file, parsed, with the keys its origin may set.
struct Filtered {
    /// The policy from the allowed keys only (defaults elsewhere).
    policy: Policy,
    /// The allowed keys it sets.
    keys: Vec<String>,
    /// Keys dropped, each with the reason.
    ignored: Vec<String>,
}

/// Parses `text` (the file at `path`, of `origin`), validates all of it,
/// and keeps the keys `origin` may set (exceptions only when `trusted`).
fn filter(text: &str, path: &Path, origin: Origin, trusted: bool) -> Result<Filtered, PolicyError> {
    // The whole file must be valid, whatever is kept of it.
    Policy::from_toml(text, path)?;
    let mut table: toml::Table = toml::from_str(text).map_err(|e| PolicyError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let mut all = Vec::new();
    keys_of(&table, "", &mut all);
    let mut keys = Vec::new();
    let mut ignored = Vec::new();
    for key in all {
        match allowed(origin, category(&key), trusted) {
            Ok(()) => keys.push(key),
            Err(why) => {
                remove_key(&mut table, &key);
                ignored.push(format!("{key}: not applied ({why})"));
            }
        }
    }
    let policy: Policy = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| PolicyError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
    Ok(Filtered {
        policy,
        keys,
        ignored,
    })
}

/// Gate settings given on the command line: nested files never loosen
/// them, trusted or not.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// `--fail-on`.
    pub fail_on: Option<FailOn>,
    /// `--include-dev`.
    pub include_dev: bool,
}

/// The policy of one scan: the invoking configuration with the flags
/// over it, and every configuration file read so far.
#[derive(Debug, Clone)]
pub struct ScanPolicy {
    /// The scan-wide policy.
    pub global: Policy,
    /// The invoking configuration file, if any (canonical when found).
    pub config_path: Option<PathBuf>,
    /// Every configuration file read, for the report.
    pub files: Vec<ConfigFileReport>,
    flags: Flags,
}

impl ScanPolicy {
    /// The invoking configuration: `explicit` (`--config`), else the
    /// `depwarden.toml` at `start` or its parents up to the git root; the
    /// flags over it.
    pub fn load(
        start: &Path,
        explicit: Option<&Path>,
        flags: Flags,
    ) -> Result<ScanPolicy, PolicyError> {
        let found = match explicit {
            Some(p) => Some((p.to_path_buf(), Origin::CommandLine)),
            None => Policy::find_path(start).map(|p| (p, Origin::ScanRoot)),
        };
        let mut files = Vec::new();
        let mut global = Policy::default();
        let mut config_path = None;
        if let Some((path, origin)) = found {
            let text = std::fs::read_to_string(&path).map_err(|source| PolicyError::Read {
                path: path.clone(),
                source,
            })?;
            let f = filter(&text, &path, origin, true)?;
            files.push(ConfigFileReport {
                path: path.display().to_string(),
                origin: origin.as_str().to_string(),
                deployment: None,
                applied: f.keys,
                overruled: Vec::new(),
                ignored: f.ignored,
            });
            global = f.policy;
            config_path = Some(path);
        }
        if let Some(f) = flags.fail_on {
            global.gate.fail_on = f;
        }
        global.gate.include_dev |= flags.include_dev;
        Ok(ScanPolicy {
            global,
            config_path,
            files,
            flags,
        })
    }

    /// True when `path` is the invoking configuration itself.
    pub fn is_invoking(&self, path: &Path) -> bool {
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        self.config_path
            .as_deref()
            .is_some_and(|c| canon(c) == canon(path))
    }

    /// The policy of a deployment that holds the configuration `text` (the
    /// file at `path`, inside the scanned tree): the scan-wide policy,
    /// tightened by it, or also loosened when the invoking configuration
    /// trusts nested files. What it changed, what was overruled and what
    /// ignored is recorded for the report under `deployment`.
    pub fn nested(
        &mut self,
        path: &Path,
        text: &str,
        deployment: &str,
    ) -> Result<Policy, PolicyError> {
        let trusted = self.global.trust_nested;
        let f = filter(text, path, Origin::Nested, trusted)?;
        let mut merge = Merge {
            effective: self.global.clone(),
            nested: &f.policy,
            trusted,
            flags: self.flags,
            applied: Vec::new(),
            overruled: Vec::new(),
        };
        for key in &f.keys {
            merge.key(key);
        }
        let Merge {
            effective,
            applied,
            overruled,
            ..
        } = merge;
        self.files.push(ConfigFileReport {
            path: path.display().to_string(),
            origin: Origin::Nested.as_str().to_string(),
            deployment: Some(deployment.to_string()),
            applied,
            overruled,
            ignored: f.ignored,
        });
        Ok(effective)
    }
}

/// Where `db sync` syncs from when `--source` and `DEPWARDEN_OSV_URL` are
/// not given: `[database] source` of an explicit `--config` only. A
/// `depwarden.toml` found in the working directory that names a source is
/// not followed; the returned note says so.
pub fn database_source(
    start: &Path,
    explicit: Option<&Path>,
) -> Result<(Option<String>, Option<String>), PolicyError> {
    if let Some(p) = explicit {
        return Ok((Policy::load(p)?.database.source, None));
    }
    let Some(found) = Policy::find_path(start) else {
        return Ok((None, None));
    };
    let policy = Policy::load(&found)?;
    let note = policy.database.source.map(|s| {
        format!(
            "{}: [database] source = {s:?} not followed: a depwarden.toml found in the working tree never chooses where the database is synced from (use --source, DEPWARDEN_OSV_URL or --config)",
            found.display()
        )
    });
    Ok((None, note))
}

/// Strictness rank of a vulnerability threshold (0 strictest).
fn fail_on_rank(f: FailOn) -> u8 {
    match f {
        FailOn::Low => 0,
        FailOn::Medium => 1,
        FailOn::High => 2,
        FailOn::Critical => 3,
        FailOn::None => 4,
    }
}

/// Strictness rank of a confidence or risk threshold (0 strictest).
fn level_rank(l: MinGrade) -> u8 {
    match l {
        MinGrade::Low => 0,
        MinGrade::Medium => 1,
        MinGrade::High => 2,
        MinGrade::None => 3,
    }
}

/// The merge of one nested file into the scan-wide policy.
struct Merge<'a> {
    effective: Policy,
    nested: &'a Policy,
    trusted: bool,
    flags: Flags,
    applied: Vec<String>,
    overruled: Vec<String>,
}

impl Merge<'_> {
    /// Decides one value: `stricter` compares the nested value with the
    /// effective one (`Less`: stricter, `Equal`, `Greater`: looser).
    fn decide(
        &mut self,
        key: &str,
        shown: (String, String),
        order: std::cmp::Ordering,
        pinned: bool,
    ) -> bool {
        let (new, old) = shown;
        match order {
            std::cmp::Ordering::Less => {
                self.applied
                    .push(format!("{key} = {new} (stricter than {old})"));
                true
            }
            std::cmp::Ordering::Equal => {
                self.applied.push(format!("{key} = {new} (unchanged)"));
                false
            }
            std::cmp::Ordering::Greater if self.trusted && !pinned => {
                self.applied.push(format!(
                    "{key} = {new} (looser than {old}; allowed by trust_nested)"
                ));
                true
            }
            std::cmp::Ordering::Greater => {
                let by = if pinned {
                    "set on the command line"
                } else {
                    "a nested configuration may only tighten the gate"
                };
                self.overruled.push(format!(
                    "{key} = {new} would loosen the gate ({old} applies: {by})"
                ));
                false
            }
        }
    }

    fn key(&mut self, key: &str) {
        let n = self.nested;
        let e = &self.effective;
        // One gate value, ordered by `rank` (lower is stricter); a switch
        // is stricter when `true`.
        macro_rules! gate {
            (bool $f:ident, $pinned:expr) => {{
                let (a, b) = (n.gate.$f, e.gate.$f);
                if self.decide(key, (a.to_string(), b.to_string()), b.cmp(&a), $pinned) {
                    self.effective.gate.$f = a;
                }
            }};
            ($f:ident, $rank:expr, $pinned:expr) => {{
                let (a, b) = (n.gate.$f, e.gate.$f);
                let shown = (format!("{:?}", a.as_str()), format!("{:?}", b.as_str()));
                if self.decide(key, shown, $rank(a).cmp(&$rank(b)), $pinned) {
                    self.effective.gate.$f = a;
                }
            }};
        }
        match key {
            "gate.fail_on" => gate!(fail_on, fail_on_rank, self.flags.fail_on.is_some()),
            "gate.typosquat" => gate!(typosquat, level_rank, false),
            "gate.confusion" => gate!(confusion, level_rank, false),
            // What an unscored advisory counts as: higher is stricter.
            "gate.unknown_severity" => gate!(unknown_severity, Reverse, false),
            "gate.runtime" => gate!(runtime, RuntimeGate::strictness, false),
            "gate.platform" => gate!(platform, CheckGate::strictness, false),
            "gate.size" => gate!(size, CheckGate::strictness, false),
            // `true` is the stricter value of both switches.
            "gate.malicious" => gate!(bool malicious, false),
            "gate.include_dev" => gate!(bool include_dev, self.flags.include_dev),
            "gate.resolved" => gate!(bool resolved, false),
            "gate.warnings" => {
                let wanted = &n.gate.warnings;
                if self.trusted {
                    self.applied
                        .push(format!("{key} = {wanted:?} (allowed by trust_nested)"));
                    self.effective.gate.warnings = wanted.clone();
                    return;
                }
                let missing: Vec<&String> = e
                    .gate
                    .warnings
                    .iter()
                    .filter(|w| !wanted.contains(w))
                    .collect();
                if !missing.is_empty() {
                    self.overruled.push(format!(
                        "{key} = {wanted:?} would stop {missing:?} from closing the gate; they still do"
                    ));
                }
                let added: Vec<String> = wanted
                    .iter()
                    .filter(|w| !e.gate.warnings.contains(w))
                    .cloned()
                    .collect();
                if !added.is_empty() {
                    self.applied.push(format!("{key} += {added:?}"));
                    add_all(&mut self.effective.gate.warnings, &added);
                }
            }
            "ignore" => {
                // Only reached when trusted (filtered out otherwise).
                let ids: Vec<&str> = n.ignore.iter().map(|i| i.id.as_str()).collect();
                self.applied.push(format!(
                    "ignore: {} entr{} ({}; allowed by trust_nested)",
                    ids.len(),
                    if ids.len() == 1 { "y" } else { "ies" },
                    ids.join(", ")
                ));
                self.effective.ignore.extend(n.ignore.iter().cloned());
            }
            "typosquat.allow" => {
                self.applied.push(format!(
                    "typosquat.allow = {:?} (allowed by trust_nested)",
                    n.typosquat.allow
                ));
                add_all(&mut self.effective.typosquat.allow, &n.typosquat.allow);
            }
            "registries.internal_scopes" => {
                self.applied.push(format!(
                    "registries.internal_scopes += {:?}",
                    n.registries.internal_scopes
                ));
                add_all(
                    &mut self.effective.registries.internal_scopes,
                    &n.registries.internal_scopes,
                );
            }
            "registries.internal_names" => {
                self.applied.push(format!(
                    "registries.internal_names += {:?}",
                    n.registries.internal_names
                ));
                add_all(
                    &mut self.effective.registries.internal_names,
                    &n.registries.internal_names,
                );
            }
            // A key allowed by its category but with no merge rule here is
            // not applied: say so rather than drop it in silence.
            other => self
                .overruled
                .push(format!("{other}: not applied from a nested configuration")),
        }
    }
}

fn add_all(to: &mut Vec<String>, from: &[String]) {
    for x in from {
        if !to.contains(x) {
            to.push(x.clone());
        }
    }
}

#[cfg(test)]
mod tests;
