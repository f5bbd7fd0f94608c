//! The advisory side: OSV record types ([`model`]), compiling records into
//! index entries ([`compile`]), severity scoring ([`severity`]), and the
//! store, from the bottom up:
//!
//! - vocabulary: [`error`] (one error type), [`status`] (what a
//!   generation says about itself), [`codec`] (the stored binary forms);
//! - files of a generation: [`recfile`] (the records, compressed, once),
//!   [`packed`] (the read index scans map), [`catalog`] (sled: the same
//!   tables in chunks, for writers and as the fallback);
//! - the directory: [`lock`] (the writer lock) and [`layout`]
//!   (generations and the `current` pointer, read again while a live
//!   writer holds the lock);
//! - reading: [`store`]; writing: [`ingest`] (one record, on any core),
//!   [`builder`] (a generation), [`zipin`] (a zip, in parallel),
//!   [`import`] (paths), [`fetch`] and [`sync`] (the OSV bucket),
//!   [`snapshot`] (the embedded data and the first-use bootstrap).
//!
//! Each module imports only the ones listed before it.

pub mod builder;
pub(crate) mod catalog;
pub mod codec;
pub mod compile;
pub mod error;
pub mod fetch;
pub mod import;
pub(crate) mod ingest;
pub mod layout;
pub mod lock;
pub mod model;
pub mod packed;
pub(crate) mod recfile;
pub mod severity;
pub mod snapshot;
pub mod status;
pub mod store;
pub mod sync;
pub mod zipin;

use std::path::PathBuf;

/// The default database directory: `$XDG_CACHE_HOME/depwarden/db`, else
/// `$HOME/.cache/depwarden/db` (`--db` and `DEPWARDEN_DB` are handled by
/// the CLI). Only absolute values count (the XDG rule): the database is
/// shared state, and a relative or missing home must not put it in the
/// working directory, where a scanned repository could ship its own.
pub fn default_db_dir() -> Result<PathBuf, NoDatabaseDir> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(x) = absolute("XDG_CACHE_HOME") {
        return Ok(x.join("depwarden").join("db"));
    }
    if let Some(h) = absolute("HOME") {
        return Ok(h.join(".cache").join("depwarden").join("db"));
    }
    Err(NoDatabaseDir)
}

/// No database directory was given and none can be derived.
#[derive(Debug, thiserror::Error)]
#[error(
    "no advisory database directory: pass --db DIR or set DEPWARDEN_DB (or set XDG_CACHE_HOME or HOME to an absolute path); depwarden never keeps its database in the working directory"
)]
pub struct NoDatabaseDir;
