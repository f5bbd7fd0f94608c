//! How serious a finding is: [`Severity`], the scale of vulnerabilities
//! (from CVSS scores or a database's word), and [`Grade`], the one
//! Low/Medium/High scale of supply-chain findings, and the levels of
//! function checks ([`CheckLevel`]) with the gate settings over them
//! (`[gate] runtime`, `platform`, `size`: which levels close the gate, and
//! how strict each setting is, since a nested configuration may only make
//! them stricter). Vocabulary: it imports nothing of the crate.

use serde::{Deserialize, Serialize};

/// Severity levels, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Neither a usable CVSS vector nor a database severity.
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

impl Severity {
    /// The qualitative rating of a CVSS base score.
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Unknown
        }
    }

    /// Parses a database severity word (`LOW`, `MODERATE`, `MEDIUM`,
    /// `HIGH`, `CRITICAL`), case-insensitively.
    pub fn from_word(word: &str) -> Option<Severity> {
        Some(match word.trim().to_ascii_lowercase().as_str() {
            "low" => Severity::Low,
            "moderate" | "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// The one Low/Medium/High scale of supply-chain findings: how sure the
/// typosquat detector is (confidence) and how exposed an internal name is
/// (dependency-confusion risk). Ordered, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    /// Weak evidence, or a small exposure.
    Low,
    /// Likely.
    Medium,
    /// Almost certain, or fully exposed.
    High,
}

impl Grade {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Low => "low",
            Grade::Medium => "medium",
            Grade::High => "high",
        }
    }

    /// One grade up (high stays high).
    pub fn raised(self) -> Grade {
        match self {
            Grade::Low => Grade::Medium,
            _ => Grade::High,
        }
    }

    /// One grade down; `None` below low.
    pub fn lowered(self) -> Option<Grade> {
        match self {
            Grade::Low => None,
            Grade::Medium => Some(Grade::Low),
            Grade::High => Some(Grade::Medium),
        }
    }
}

/// How sure a platform finding is that the code cannot load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckLevel {
    /// It may not work (a declaration says so, or a directory is not
    /// searched).
    Warning,
    /// It cannot load.
    Error,
}

/// Which runtime findings close the gate (`[gate] runtime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeGate {
    /// Never.
    None,
    /// Runtimes past their deprecation date (the default).
    Deprecated,
    /// Also runtimes deprecated within 180 days.
    Soon,
}

impl RuntimeGate {
    /// True when a runtime finding at `level` (error: deprecated, warning:
    /// soon) closes the gate.
    pub fn closes(self, level: CheckLevel) -> bool {
        match self {
            RuntimeGate::None => false,
            RuntimeGate::Deprecated => level == CheckLevel::Error,
            RuntimeGate::Soon => true,
        }
    }

    /// The setting's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeGate::None => "none",
            RuntimeGate::Deprecated => "deprecated",
            RuntimeGate::Soon => "soon",
        }
    }

    /// 0 for the strictest setting.
    pub fn strictness(self) -> u8 {
        match self {
            RuntimeGate::Soon => 0,
            RuntimeGate::Deprecated => 1,
            RuntimeGate::None => 2,
        }
    }
}

/// Which platform or size findings close the gate (`[gate] platform`,
/// `[gate] size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckGate {
    /// Never.
    None,
    /// Findings that mean the code cannot load or deploy (the default).
    Error,
    /// Also findings that mean it may not (declarations, directories the
    /// runtime does not search, a zip over the direct-upload limit).
    Warning,
}

impl CheckGate {
    /// True when a finding at `level` closes the gate.
    pub fn closes(self, level: CheckLevel) -> bool {
        match self {
            CheckGate::None => false,
            CheckGate::Error => level == CheckLevel::Error,
            CheckGate::Warning => true,
        }
    }

    /// The setting's name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckGate::None => "none",
            CheckGate::Error => "error",
            CheckGate::Warning => "warning",
        }
    }

    /// 0 for the strictest setting.
    pub fn strictness(self) -> u8 {
        match self {
            CheckGate::Warning => 0,
            CheckGate::Error => 1,
            CheckGate::None => 2,
        }
    }
}
