//! What a generation says about itself: where each ecosystem's data came
//! from, when, how many records and how fresh ([`StoreStatus`], shown by
//! `db status` and stored in both the packed index and sled).

use crate::ecosystem::Ecosystem;

/// Per-ecosystem status.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct EcosystemStatus {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Number of records (withdrawn ones included).
    pub records: u64,
    /// Newest `modified` among its records.
    pub newest_modified: Option<String>,
    /// Where its data came from.
    #[serde(default)]
    pub source: Option<String>,
    /// When it was imported or synced (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// HTTP `ETag` of the last full download (for conditional requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// HTTP `Last-Modified` of the last full download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// What `db status` shows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct StoreStatus {
    /// Where the data of the last import came from.
    pub source: Option<String>,
    /// When the current generation was written (RFC 3339).
    pub imported_at: Option<String>,
    /// Per ecosystem.
    pub ecosystems: Vec<EcosystemStatus>,
}

impl StoreStatus {
    /// The status of one ecosystem, if the store holds it.
    pub fn ecosystem(&self, eco: Ecosystem) -> Option<&EcosystemStatus> {
        self.ecosystems.iter().find(|e| e.ecosystem == eco)
    }
}
