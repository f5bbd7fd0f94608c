//! Reports: each module formats a finished result and does nothing else.

pub mod cyclonedx;
pub mod functions;
pub mod functions_text;
pub mod inventory;
pub mod json;
pub mod markdown;
pub mod model;
pub mod sarif;
pub mod table;

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
