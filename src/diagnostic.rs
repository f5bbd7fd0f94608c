//! Diagnostics: what went wrong or was skipped while reading the scanned
//! tree, about which file, and how serious it is. Every stage reports
//! through these; the report lists them under the deployment they belong
//! to. Vocabulary: it imports only [`crate::redact`].

use std::path::PathBuf;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// For information: nothing was lost (e.g. a binary without embedded data).
    Info,
    /// Something was skipped or guessed but the source was scanned.
    Warning,
    /// The source (or part of it) could not be scanned.
    Error,
}

/// A message about a source, kept in the deployment's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Severity.
    pub level: Level,
    /// The file the message is about.
    pub path: PathBuf,
    /// The message, naming what went wrong and why it matters.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `level` about `path`. The message may quote input:
    /// it is redacted and cut ([`crate::redact::message`]).
    pub fn new(level: Level, path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            level,
            path: path.into(),
            message: crate::redact::message(message),
        }
    }
}
