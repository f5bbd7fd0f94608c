//! Severity of a record (interface placeholder).

use serde::Serialize;

use super::model::OsvRecord;
use crate::ecosystem::Ecosystem;

/// Severity levels, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Neither a CVSS vector nor a database severity.
    Unknown,
    /// CVSS 0.1-3.9.
    Low,
    /// CVSS 4.0-6.9.
    Medium,
    /// CVSS 7.0-8.9.
    High,
    /// CVSS 9.0-10.0.
    Critical,
}

/// The severity and CVSS base score of a record for one package.
pub fn assess(_record: &OsvRecord, _ecosystem: Ecosystem, _name: &str) -> (Severity, Option<f64>) {
    (Severity::Unknown, None)
}
