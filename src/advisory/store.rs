//! The sled advisory store (interface placeholder).

use std::path::Path;
use thiserror::Error;

use super::model::{IndexEntry, OsvRecord};
use crate::ecosystem::Ecosystem;

/// Store errors.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Anything.
    #[error("{0}")]
    Other(String),
}

/// Per-ecosystem status.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EcosystemStatus {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Number of records.
    pub records: u64,
    /// Newest `modified`.
    pub newest_modified: Option<String>,
}

/// What `db status` shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoreStatus {
    /// Where the data came from.
    pub source: Option<String>,
    /// When it was imported (RFC 3339).
    pub imported_at: Option<String>,
    /// Per ecosystem.
    pub ecosystems: Vec<EcosystemStatus>,
}

/// An open store.
pub struct Store {}

impl Store {
    /// Opens the store at `dir`, importing the embedded snapshot when empty.
    pub fn open_or_bootstrap(_dir: &Path) -> Result<Store, StoreError> {
        Ok(Store {})
    }

    /// Index entries for a package (`name` already normalised).
    pub fn lookup(
        &self,
        _ecosystem: Ecosystem,
        _name: &str,
    ) -> Result<Vec<IndexEntry>, StoreError> {
        Ok(Vec::new())
    }

    /// A full record by id.
    pub fn record(&self, _id: &str) -> Result<Option<OsvRecord>, StoreError> {
        Ok(None)
    }

    /// The record id for an id or alias.
    pub fn resolve(&self, _id_or_alias: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    /// Status.
    pub fn status(&self) -> Result<StoreStatus, StoreError> {
        Ok(StoreStatus {
            source: None,
            imported_at: None,
            ecosystems: Vec::new(),
        })
    }
}
