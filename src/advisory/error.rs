//! The one error type of the advisory store: each variant names the
//! database directory, file or input it is about, and keeps its cause as a
//! `#[source]`.

use std::path::PathBuf;
use thiserror::Error;

/// Store errors; each names the database directory or file.
#[derive(Debug, Error)]
pub enum StoreError {
    /// sled failed.
    #[error("advisory database {path}: {source}")]
    Sled {
        /// The generation directory.
        path: PathBuf,
        /// The sled error.
        #[source]
        source: sled::Error,
    },
    /// A file of the database directory could not be read or written.
    #[error("advisory database {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Stored data could not be decoded (a corrupted store).
    #[error("advisory database {path}: corrupted entry {key}: {reason}")]
    Corrupt {
        /// The generation directory or file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// Another process is writing the database.
    #[error(
        "the advisory database is being updated by another depwarden process (pid {pid}, lock file {path}); try again when it has finished, or remove the lock file if that process is not depwarden"
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The other process.
        pid: String,
    },
    /// The database names a generation that is not there (deleted by hand
    /// or by a cache clean-up): its data is gone, and depwarden does not
    /// silently re-create it from the embedded snapshot over synced data.
    #[error(
        "advisory database {dir}: {reason}; its data is missing. Repair it with `depwarden db sync` (or `depwarden db import PATH`), or remove {dir} to start again from the embedded snapshot"
    )]
    MissingGeneration {
        /// The database directory.
        dir: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// An import or sync would remove data without being asked to.
    #[error("{0}")]
    Refused(String),
    /// An import source could not be used.
    #[error("{path}: {reason}")]
    Source {
        /// The file or URL.
        path: String,
        /// Why.
        reason: String,
    },
    /// An import source could not be read.
    #[error("{path}: {source}")]
    SourceIo {
        /// The file or URL.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An import source is not a readable zip archive.
    #[error("{path}: not a readable zip archive")]
    Zip {
        /// The file or URL.
        path: String,
        /// The zip reader's error.
        #[source]
        source: zip::result::ZipError,
    },
    /// A value could not be encoded for storage.
    #[error("advisory database {path}: cannot encode {what}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// What.
        what: String,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// The store is empty and holds no generation.
    #[error("advisory database {0} is empty: run `depwarden db import` or `depwarden db sync`")]
    Empty(PathBuf),
}

/// Maps a sled error to [`StoreError::Sled`] naming `path`.
pub(crate) fn sled_err(path: &std::path::Path) -> impl Fn(sled::Error) -> StoreError + '_ {
    move |source| StoreError::Sled {
        path: path.to_path_buf(),
        source,
    }
}

/// Maps an I/O error to [`StoreError::Io`] naming `path`.
pub(crate) fn io_err(path: &std::path::Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A damaged-file error naming `path`, with the repair.
pub(crate) fn damaged(path: &std::path::Path, what: &str, reason: String) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        key: what.to_string(),
        reason,
    }
}
