//! The advisory side: OSV record types ([`model`]), compiling records into
//! index entries ([`compile`]), the sled store ([`store`]), importing OSV
//! data ([`import`]), the snapshot embedded in the binary ([`snapshot`]),
//! and severity scoring ([`severity`]).

pub mod compile;
pub mod import;
pub mod model;
pub mod packed;
pub mod severity;
pub mod snapshot;
pub mod store;
pub mod sync;

use std::path::PathBuf;

/// The default database directory: `$XDG_CACHE_HOME/depwarden/db`, else
/// `~/.cache/depwarden/db`, else `./.depwarden-db` (`--db` and
/// `DEPWARDEN_DB` are handled by the CLI).
pub fn default_db_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("depwarden").join("db");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".cache").join("depwarden").join("db");
    }
    PathBuf::from(".depwarden-db")
}
