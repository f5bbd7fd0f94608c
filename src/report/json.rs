//! `scan --format json`: the [`ScanReport`] as pretty JSON.

use super::model::ScanReport;

/// Renders the report as JSON (with a trailing newline).
pub fn render(report: &ScanReport) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}
