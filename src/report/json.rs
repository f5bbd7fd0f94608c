//! `scan --format json`: the [`ScanReport`] as pretty JSON, every string
//! exact but with control and invisible characters as `\u` escapes
//! ([`super::escape::to_json`]).

use super::escape::{JsonMode, to_json};
use super::model::ScanReport;

/// Renders the report as JSON (with a trailing newline).
pub fn render(report: &ScanReport) -> Result<String, serde_json::Error> {
    to_json(report, JsonMode::Exact)
}
