//! Reports: each module formats a finished result and does nothing else.
//! Every string from outside depwarden reaches an output through
//! [`escape`], the one escaping layer per output kind; [`render`] is the
//! one entry point per format, so a new format is one more [`Format`] and
//! is covered by the tests that feed hostile strings through every format.

pub mod cyclonedx;
pub mod escape;
pub mod function_parts;
pub mod functions_text;
pub mod inventory;
pub mod json;
pub mod markdown;
pub mod model;
pub mod sarif;
pub mod table;

use crate::scan::Inventory;
use model::ScanReport;

/// The output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Plain text for a terminal.
    Table,
    /// The JSON report (schema_version 1).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// A CycloneDX 1.5 SBOM.
    CycloneDx,
    /// A pull-request comment.
    Markdown,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::CycloneDx,
        Format::Markdown,
    ];

    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::CycloneDx => "cyclonedx",
            Format::Markdown => "markdown",
        }
    }

    /// Parses a name as [`Format::name`] spells it (case-insensitive).
    pub fn parse(name: &str) -> Option<Format> {
        let name = name.trim().to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The file extension used when several formats are written at once.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::CycloneDx => "cdx.json",
            Format::Markdown => "md",
        }
    }

    /// True when the format needs every package of the scan (not only the
    /// findings), so the parsed graphs must be kept.
    pub fn needs_inventory(self) -> bool {
        self == Format::CycloneDx
    }
}

/// Renders a finished scan in one format; `color` adds ANSI colours to the
/// table.
pub fn render(
    format: Format,
    report: &ScanReport,
    inventory: &Inventory,
    color: bool,
) -> Result<String, serde_json::Error> {
    Ok(match format {
        Format::Table => table::render(report, color),
        Format::Json => json::render(report)?,
        Format::Sarif => sarif::render(report)?,
        Format::CycloneDx => cyclonedx::render(report, inventory)?,
        Format::Markdown => markdown::render(report),
    })
}

/// `; N sources not scanned (M deployments not scanned at all)` for the
/// summary line of the table and markdown reports, empty when everything
/// was scanned: what was not scanned was not checked either.
pub fn unscanned_note(s: &model::Summary) -> String {
    if s.unscanned_sources == 0 && s.deployments_not_scanned == 0 {
        return String::new();
    }
    let mut note = format!(
        "; {} source{} not scanned",
        s.unscanned_sources,
        if s.unscanned_sources == 1 { "" } else { "s" }
    );
    if s.deployments_not_scanned > 0 {
        note.push_str(&format!(
            " ({} deployment{} not scanned at all)",
            s.deployments_not_scanned,
            if s.deployments_not_scanned == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    note
}
