//! Decides whether an advisory affects a package version (interface placeholder).

use crate::advisory::model::IndexEntry;
use crate::ecosystem::Ecosystem;

/// The matcher's answer for one (version, index entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The version is affected.
    Affected,
    /// The version is not affected.
    NotAffected,
    /// The version does not parse in the ecosystem's scheme; only the
    /// explicit `versions` lists were consulted, with this result.
    Unparsable {
        /// True when an explicit `versions` list names the version.
        listed: bool,
    },
}

/// Evaluates one index entry against one version.
pub fn evaluate(_ecosystem: Ecosystem, _version: &str, _entry: &IndexEntry) -> Verdict {
    Verdict::NotAffected
}

/// The `fixed` versions of the entry's ranges that contain `version`,
/// sorted by the ecosystem's ordering.
pub fn fixed_versions(_ecosystem: Ecosystem, _version: &str, _entry: &IndexEntry) -> Vec<String> {
    Vec::new()
}
