//! What the commands share: how the process ends ([`ExitStatus`]),
//! messages on stderr, writing a report, and the database directory.

use crate::advisory::store::Store;
use crate::cli::GlobalArgs;
use crate::report::escape::visible;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The store directory: `--db`, `DEPWARDEN_DB`, else the user's cache;
/// never the working directory.
pub fn db_dir(global: &GlobalArgs) -> Result<PathBuf, crate::advisory::NoDatabaseDir> {
    match &global.db {
        Some(d) if !d.as_os_str().is_empty() => Ok(d.clone()),
        _ => crate::advisory::default_db_dir(),
    }
}

/// [`db_dir`], or `None` after saying on stderr why there is none.
pub fn db_dir_or_say(global: &GlobalArgs) -> Option<PathBuf> {
    db_dir(global).map_err(error).ok()
}

/// The advisory store of the command line's database directory, created
/// empty when there is none.
pub fn open_store(global: &GlobalArgs) -> Result<Store> {
    let dir = db_dir(global)?;
    crate::advisory::snapshot::open_or_bootstrap(&dir)
        .with_context(|| format!("no usable advisory database at {}", dir.display()))
}

/// Prints `depwarden: error: MESSAGE` on stderr, the message in its visible
/// form (input-derived text can neither drive the terminal nor show a
/// credential).
pub fn error(message: impl std::fmt::Display) {
    eprintln!("depwarden: error: {}", visible(&message.to_string()));
}

/// Prints `depwarden: warning: MESSAGE` on stderr, as [`error`] does.
pub fn warning(message: impl std::fmt::Display) {
    eprintln!("depwarden: warning: {}", visible(&message.to_string()));
}

/// An error with its chain of causes, each cause shown once: a cause whose
/// text the message already holds (`cannot read X: permission denied`
/// over `permission denied`) is not repeated.
pub fn error_chain(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !c.is_empty() && !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

/// Writes `bytes` to `path` atomically (temporary file in the same
/// directory, then rename), or to stdout when `path` is `None`.
pub fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).context("cannot write to stdout")?;
            out.flush().context("cannot write to stdout")?;
        }
        Some(path) => crate::atomic::write_atomic(path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
    }
    Ok(())
}

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the gate is open.
    Passed,
    /// 1: the gate is closed by findings.
    GateClosed,
    /// 2: an error (usage, no usable DB, or with `--strict` an input that
    /// could not be scanned).
    Error,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Passed => 0,
            ExitStatus::GateClosed => 1,
            ExitStatus::Error => 2,
        }
    }
}
