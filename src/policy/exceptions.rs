//! The exceptions of `depwarden.toml`: `[[ignore]]` entries (with their
//! reason, expiry and OpenVEX justification) and `[[vex]]` documents.

use serde::{Deserialize, Serialize};

use crate::clock::Date;

/// One `[[ignore]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    /// Advisory id or any alias.
    pub id: String,
    /// Only for this package (name as in the ecosystem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Why (required).
    pub reason: String,
    /// `YYYY-MM-DD`: from this day on the ignore no longer applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Why the package is not affected, in OpenVEX terms
    /// (`vulnerable_code_not_in_execute_path`...), written into
    /// `--format openvex` with the reason as impact statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<crate::report::model::Justification>,
}

/// One `[[vex]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VexEntry {
    /// The OpenVEX file, relative to the configuration file's directory.
    pub file: String,
}

impl Ignore {
    /// True when the ignore has expired on `today` (it applies up to and
    /// including the day before `expires`).
    pub fn expired(&self, today: Date) -> bool {
        self.expires
            .as_deref()
            .and_then(Date::parse)
            .is_some_and(|d| today >= d)
    }
}
