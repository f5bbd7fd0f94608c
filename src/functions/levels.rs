//! The gate settings of function findings (`[gate] runtime`, `platform`,
//! `size`): which levels close the gate, and how strict each setting is
//! (a nested configuration may only make them stricter).

use serde::{Deserialize, Serialize};

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
