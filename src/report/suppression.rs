//! How a finding was suppressed: a `[[ignore]]` of the configuration or
//! a VEX statement (`--vex`, `[[vex]]`), in the terms OpenVEX uses, and
//! the VEX documents a scan applied. Part of the report model
//! ([`super::model`] re-exports it).

use serde::Serialize;

/// An ignore that applied to a finding: a `[[ignore]]` of the
/// configuration, or a VEX statement (`--vex`, `[[vex]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// The ignore's reason (for a VEX statement its impact statement,
    /// status notes or justification).
    pub reason: String,
    /// Its expiry date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Why the package is not affected, in VEX terms, when the ignore or
    /// the statement says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<Justification>,
    /// Set when a VEX statement, not a `[[ignore]]`, suppressed the
    /// finding: who stated it and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex: Option<VexSource>,
}

impl Suppression {
    /// The suppression in one line for the text formats: the reason, and
    /// for a VEX statement its status, author, timestamp and file.
    pub fn describe(&self) -> String {
        let mut s = self.reason.clone();
        if let Some(v) = &self.vex {
            s.push_str(&format!(
                " (VEX {} by {}{}, {})",
                v.status,
                v.author,
                v.timestamp
                    .as_ref()
                    .map(|t| format!(" at {t}"))
                    .unwrap_or_default(),
                v.file
            ));
        }
        s
    }
}

/// The VEX statement that suppressed a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VexSource {
    /// The VEX document (as given on the command line or in the
    /// configuration).
    pub file: String,
    /// The document's author.
    pub author: String,
    /// When the statement was made (the statement's timestamp, else the
    /// document's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `not_affected` or `fixed`.
    pub status: String,
}

/// An OpenVEX justification: why a product is not affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Justification {
    /// The vulnerable component is not included in the product.
    ComponentNotPresent,
    /// The component is present but the vulnerable code is not.
    VulnerableCodeNotPresent,
    /// The vulnerable code is present but never executed.
    VulnerableCodeNotInExecutePath,
    /// An adversary cannot reach or control the vulnerable code.
    VulnerableCodeCannotBeControlledByAdversary,
    /// Mitigations in the product prevent exploitation.
    InlineMitigationsAlreadyExist,
}

impl Justification {
    /// The OpenVEX name (`vulnerable_code_not_in_execute_path`).
    pub fn as_str(self) -> &'static str {
        match self {
            Justification::ComponentNotPresent => "component_not_present",
            Justification::VulnerableCodeNotPresent => "vulnerable_code_not_present",
            Justification::VulnerableCodeNotInExecutePath => "vulnerable_code_not_in_execute_path",
            Justification::VulnerableCodeCannotBeControlledByAdversary => {
                "vulnerable_code_cannot_be_controlled_by_adversary"
            }
            Justification::InlineMitigationsAlreadyExist => "inline_mitigations_already_exist",
        }
    }
}

/// One VEX document a scan applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VexFileReport {
    /// The file, as given.
    pub file: String,
    /// The document's author.
    pub author: String,
    /// The document's timestamp.
    pub timestamp: String,
    /// Statements it holds.
    pub statements: usize,
    /// Findings it suppressed.
    pub applied: usize,
}
