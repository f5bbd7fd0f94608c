//! The advisory side: OSV record types ([`model`]), the sled store
//! ([`store`]), severity scoring ([`severity`]).

pub mod model;
pub mod severity;
pub mod store;

use std::path::PathBuf;

/// The default database directory: `$DEPWARDEN_DB` is handled by the CLI;
/// this is `$XDG_CACHE_HOME/depwarden/db`, else `~/.cache/depwarden/db`,
/// else `./.depwarden-db`.
pub fn default_db_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("depwarden").join("db");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".cache").join("depwarden").join("db");
    }
    PathBuf::from(".depwarden-db")
}
