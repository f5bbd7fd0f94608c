//! The database directory: which generation is current, where a new one
//! goes, and what is left over.
//!
//! - `current`: the name of the active generation directory, replaced
//!   atomically (temporary file + rename) when a write completes;
//! - `gen-<time>-<nanos>-<pid>-<n>/`: one generation: `records.pack` (the
//!   records, [`super::recfile`]), `packed.idx` (the read index,
//!   [`super::packed`]) and a sled database (the catalog,
//!   [`super::catalog`]);
//! - `.lock` and `.download-*`: the writer's lock and a sync's downloads
//!   ([`super::lock`]).
//!
//! A reader opens the generation `current` names and only reads it. A
//! writer builds a new generation aside and swaps the pointer only once it
//! is complete and flushed; leftovers are removed by the next writer.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::StoreError;

/// The pointer file naming the current generation.
pub(crate) const CURRENT: &str = "current";

/// The generation directory `current` names; `None` for a database that
/// was never written (no `current`, no generation directory). A `current`
/// naming a directory that is gone, or generation directories without a
/// `current`, are [`StoreError::MissingGeneration`] — unless a live writer
/// holds the lock: a commit writes the new generation, then `current`,
/// then removes the old generation, so a reader racing it can briefly see
/// either state. Then the pointer is read again (for up to 10 s).
pub fn current_generation(db_dir: &Path) -> Result<Option<PathBuf>, StoreError> {
    let started = Instant::now();
    loop {
        match read_current(db_dir) {
            Err(StoreError::MissingGeneration { .. })
                if started.elapsed() < Duration::from_secs(10)
                    && super::lock::live_writer(db_dir).is_some() =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// [`current_generation`] without waiting for a writer.
fn read_current(db_dir: &Path) -> Result<Option<PathBuf>, StoreError> {
    let pointer = db_dir.join(CURRENT);
    match std::fs::read_to_string(&pointer) {
        Ok(name) => {
            let name = name.trim();
            if name.is_empty() || name.contains('/') || name.contains("..") {
                return Err(StoreError::Corrupt {
                    path: pointer,
                    key: CURRENT.into(),
                    reason: format!("invalid generation name {name:?}"),
                });
            }
            let dir = db_dir.join(name);
            if dir.is_dir() {
                Ok(Some(dir))
            } else {
                Err(StoreError::MissingGeneration {
                    dir: db_dir.to_path_buf(),
                    reason: format!("`current` names the generation {name}, which does not exist"),
                })
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A committed generation carries its packed index (written just
            // before `current`); one without it is the leftover of an
            // interrupted first import, not data.
            if let Some(gen_dir) = generation_dirs(db_dir).into_iter().find(|g| committed(g)) {
                return Err(StoreError::MissingGeneration {
                    dir: db_dir.to_path_buf(),
                    reason: format!(
                        "the `current` pointer is missing although generation {} is there",
                        gen_dir
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ),
                });
            }
            Ok(None)
        }
        Err(source) => Err(StoreError::Io {
            path: pointer,
            source,
        }),
    }
}

/// True for a generation that was completely written.
fn committed(gen_dir: &Path) -> bool {
    gen_dir.join(super::packed::FILE_NAME).is_file()
}

/// The generation directories (`gen-*`) of a database directory.
pub(crate) fn generation_dirs(db_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(db_dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("gen-"))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// A fresh, unused generation directory name: time, process and a
/// per-process counter, so two writers never pick the same name.
pub(crate) fn new_generation_dir(db_dir: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = crate::clock::subsec_nanos();
        let dir = db_dir.join(format!(
            "gen-{}-{}-{}-{}",
            crate::clock::now(),
            nanos,
            std::process::id(),
            n
        ));
        if !dir.exists() {
            return dir;
        }
    }
}

/// Makes `gen_dir` the current generation (atomically).
pub(crate) fn make_current(db_dir: &Path, gen_dir: &Path) -> Result<(), StoreError> {
    let name = gen_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::atomic::write_atomic(&db_dir.join(CURRENT), name.as_bytes()).map_err(|source| {
        StoreError::Io {
            path: db_dir.to_path_buf(),
            source,
        }
    })
}

/// Removes generation directories other than the current one. Called only
/// under the writer lock.
pub(crate) fn remove_stale_generations(db_dir: &Path) {
    // When `current` is broken, only uncommitted leftovers go: a committed
    // generation stays until a new one replaces it.
    let (current, only_uncommitted) = match current_generation(db_dir) {
        Ok(c) => (c, false),
        Err(_) => (None, true),
    };
    for p in generation_dirs(db_dir) {
        if Some(&p) != current.as_ref() && !(only_uncommitted && committed(&p)) {
            // A scan may still have the old generation open; on Unix the
            // removal is safe for it, elsewhere it may fail and is retried
            // by the next writer.
            let _ = std::fs::remove_dir_all(&p);
        }
    }
}
