//! The writer lock of a database directory (`.lock`), and the clean-up of
//! what interrupted writers leave behind.
//!
//! The lock file holds `depwarden <pid> <start>`: the holder's process id
//! and its start time (in clock ticks since boot, from `/proc/<pid>/stat`),
//! so a process id reused by another program after a crash is not mistaken
//! for the holder. A lock is stale, and taken over with a note naming it,
//! when its holder is gone, when the process now behind the id started at
//! another time, or when it is not a depwarden process at all (a lock that
//! names `init`, a shell, or holds no process id). A live holder is
//! reported with the lock's path, so a user knows what to remove if they
//! know better.
//!
//! The holder of the lock also removes `.download-*` files left by a sync
//! that was killed (they are written only under the lock, so any present
//! when the lock is taken are leftovers).

use std::path::{Path, PathBuf};

use super::error::StoreError;

/// The lock file's name inside a database directory.
pub const LOCK: &str = ".lock";
/// Prefix of the temporary download files of a sync.
pub const DOWNLOAD_PREFIX: &str = ".download-";

/// The writer lock of a database directory, released on drop.
pub struct WriteLock {
    path: PathBuf,
    /// What was found and cleaned when the lock was taken (a stale lock
    /// taken over, download leftovers removed), for the writer's report.
    pub notes: Vec<String>,
}

/// Who holds a lock, as far as the lock file and `/proc` tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A running depwarden process (the process id).
    Live(String),
    /// Nobody: the lock is stale, for the reason given.
    Stale(String),
}

impl WriteLock {
    /// Takes the lock of `db_dir`, or fails with [`StoreError::Locked`]
    /// (naming the lock file) when a live depwarden process holds it. A
    /// stale lock is taken over, and download leftovers are removed; both
    /// are said in [`WriteLock::notes`].
    pub fn acquire(db_dir: &Path) -> Result<WriteLock, StoreError> {
        std::fs::create_dir_all(db_dir).map_err(|source| StoreError::Io {
            path: db_dir.to_path_buf(),
            source,
        })?;
        let path = db_dir.join(LOCK);
        let mut notes = Vec::new();
        for _ in 0..3 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = write!(f, "{}", lock_text(std::process::id()));
                    let mut lock = WriteLock { path, notes };
                    lock.remove_leftovers(db_dir);
                    return Ok(lock);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = read_lock(&path);
                    match holder(&text) {
                        Holder::Live(pid) => return Err(StoreError::Locked { path, pid }),
                        Holder::Stale(why) => {
                            notes
                                .push(format!("removed the stale lock {} ({why})", path.display()));
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(source) => return Err(StoreError::Io { path, source }),
            }
        }
        Err(StoreError::Locked {
            path,
            pid: "unknown".into(),
        })
    }

    /// Removes `.download-*` files of syncs that were killed.
    fn remove_leftovers(&mut self, db_dir: &Path) {
        let Ok(entries) = std::fs::read_dir(db_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(DOWNLOAD_PREFIX)
                && entry.file_type().is_ok_and(|t| t.is_file())
                && std::fs::remove_file(entry.path()).is_ok()
            {
                self.notes.push(format!(
                    "removed {name}, left in {} by an interrupted sync",
                    db_dir.display()
                ));
            }
        }
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The start of a lock file (a lock is a few bytes; whatever else sits
/// under its name, a device included, is not read further).
fn read_lock(path: &Path) -> String {
    use std::io::Read;
    let mut buf = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(256).read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// The lock file's content for process `pid`.
fn lock_text(pid: u32) -> String {
    match start_time(&pid.to_string()) {
        Some(start) => format!("depwarden {pid} {start}"),
        None => format!("depwarden {pid}"),
    }
}

/// The process id of another live depwarden process holding the lock of
/// `db_dir`, if one does (this process never races its own writes).
pub fn live_writer(db_dir: &Path) -> Option<String> {
    let path = db_dir.join(LOCK);
    if !path.is_file() {
        return None;
    }
    match holder(&read_lock(&path)) {
        Holder::Live(pid) if pid != std::process::id().to_string() => Some(pid),
        _ => None,
    }
}

/// Who holds a lock whose file reads `text`.
pub fn holder(text: &str) -> Holder {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (pid, start) = match words.as_slice() {
        ["depwarden", pid, start] => (*pid, Some(*start)),
        ["depwarden", pid] | [pid] => (*pid, None),
        _ => {
            return Holder::Stale(format!(
                "it does not name a depwarden process: {:?}",
                text.chars().take(60).collect::<String>()
            ));
        }
    };
    let Ok(n) = pid.parse::<u32>() else {
        return Holder::Stale(format!("{pid:?} is not a process id"));
    };
    if n == std::process::id() {
        return Holder::Live(pid.to_string());
    }
    if n == 0 || !Path::new("/proc").is_dir() {
        // Without /proc nothing more can be known: a non-zero id is
        // taken as live (the safe side for the data).
        return if n == 0 {
            Holder::Stale("process id 0".into())
        } else {
            Holder::Live(pid.to_string())
        };
    }
    let Some(now_start) = start_time(pid) else {
        return Holder::Stale(format!("its holder, process {pid}, is gone"));
    };
    if let Some(start) = start
        && start != now_start
    {
        return Holder::Stale(format!(
            "process {pid} that held it is gone; the id now belongs to another process"
        ));
    }
    match process_name(pid) {
        Some(name) if is_depwarden(&name) => Holder::Live(pid.to_string()),
        Some(name) => Holder::Stale(format!(
            "process {pid} is `{name}`, not a depwarden process"
        )),
        None => Holder::Stale(format!("its holder, process {pid}, is gone")),
    }
}

/// A process's start time (field 22 of `/proc/<pid>/stat`).
fn start_time(pid: &str) -> Option<String> {
    let stat = std::fs::read_to_string(Path::new("/proc").join(pid).join("stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19).map(str::to_string)
}

/// The file name of a process's executable, else its command name.
fn process_name(pid: &str) -> Option<String> {
    let proc = Path::new("/proc").join(pid);
    if let Ok(exe) = std::fs::read_link(proc.join("exe"))
        && let Some(name) = exe.file_name()
    {
        let name = name.to_string_lossy();
        // A binary replaced while running reads `name (deleted)`.
        return Some(name.trim_end_matches(" (deleted)").to_string());
    }
    std::fs::read_to_string(proc.join("comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// True for the depwarden binary (and its test builds, `depwarden-<hash>`).
fn is_depwarden(name: &str) -> bool {
    name == "depwarden" || name.starts_with("depwarden-") || name.starts_with("depwarden.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_of_other_programs_and_dead_processes_are_stale() {
        assert_eq!(
            holder(&lock_text(std::process::id())),
            Holder::Live(std::process::id().to_string())
        );
        for text in ["", "garbage here", "depwarden abc", "0", "999999999"] {
            assert!(matches!(holder(text), Holder::Stale(_)), "{text:?}");
        }
        if Path::new("/proc/1/stat").exists() {
            // pid 1 is init (or the container's entrypoint), never us.
            match holder("1") {
                Holder::Stale(why) => assert!(why.contains("not a depwarden process"), "{why}"),
                Holder::Live(_) => panic!("pid 1 taken for a depwarden process"),
            }
            // A start time that does not match: the id was reused.
            match holder("depwarden 1 0") {
                Holder::Stale(why) => assert!(why.contains("another process"), "{why}"),
                Holder::Live(_) => panic!("a reused pid taken for the holder"),
            }
        }
    }

    #[test]
    fn leftovers_are_removed_by_the_next_writer() {
        let t = tempfile::tempdir().expect("tmp");
        std::fs::write(t.path().join(".download-npm-123.zip"), b"half").expect("write");
        std::fs::write(t.path().join(LOCK), "999999999").expect("write");
        let lock = WriteLock::acquire(t.path()).expect("stale lock taken over");
        assert!(!t.path().join(".download-npm-123.zip").exists());
        assert!(
            lock.notes
                .iter()
                .any(|n| n.contains(".lock") && n.contains("gone")),
            "{:?}",
            lock.notes
        );
        assert!(
            lock.notes
                .iter()
                .any(|n| n.contains(".download-npm-123.zip"))
        );
    }
}
