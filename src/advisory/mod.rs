//! The advisory side: OSV record types ([`model`]), compiling records into
//! index entries ([`compile`]), the sled store ([`store`]), importing OSV
//! data ([`import`]), the snapshot embedded in the binary ([`snapshot`]),
//! and severity scoring ([`severity`]).

pub mod builder;
pub mod compile;
pub mod import;
pub mod lock;
pub mod model;
pub mod packed;
pub mod severity;
pub mod snapshot;
pub mod store;
pub mod sync;

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
