//! The scanned root as a boundary: whatever a scanned file names (a `-r`
//! include, a symlink, a workspace path, an absolute path), depwarden
//! reads nothing outside the paths it was given, and nothing from the
//! kernel's pseudo file systems (`/proc`, `/sys`, `/dev`) at all.
//!
//! [`Boundary::check`] resolves a path the way the kernel would (every
//! symlink on the way, `..` after the symlinks before it) and tells
//! whether the file it reaches lies inside one of the roots. Directories
//! already resolved are remembered, so checking the files of a large tree
//! costs about one `lstat` per file.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::sync::RwLock;

/// Pseudo file systems: never read, even below a root.
const PSEUDO: &[&str] = &["/proc", "/sys", "/dev"];

/// Most symlinks followed while resolving one path.
const MAX_LINKS: usize = 40;

/// The roots of a scan.
#[derive(Debug, Default)]
pub struct Boundary {
    roots: Vec<PathBuf>,
    cwd: PathBuf,
    /// Resolved form of directories met so far (`None`: does not exist),
    /// keyed by the path's bytes (hashing a `Path` walks its components).
    cache: RwLock<HashMap<OsString, Option<PathBuf>>>,
}

impl Boundary {
    /// The boundary of a scan of `paths`: each directory, and for a file
    /// given alone the directory that holds it.
    pub fn new(paths: &[PathBuf]) -> Boundary {
        let mut roots = Vec::new();
        for p in paths {
            let Ok(canon) = std::fs::canonicalize(p) else {
                continue;
            };
            let root = if canon.is_dir() {
                canon
            } else {
                canon.parent().map(Path::to_path_buf).unwrap_or(canon)
            };
            roots.push(root);
        }
        Boundary {
            roots,
            cwd: std::env::current_dir().unwrap_or_default(),
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// `Ok` when reading `path` stays inside the boundary; else why not.
    /// A path that does not exist is `Ok` (reading it fails on its own).
    pub fn check(&self, path: &Path) -> Result<(), String> {
        let Some(real) = self.resolve(path) else {
            return Ok(());
        };
        self.verdict(&real, path)
    }

    /// [`Boundary::check`] for the directory that holds `path` only: enough
    /// when the caller knows the last component is not a symbolic link
    /// (one `lstat` it does anyway), and cheaper, since directories are
    /// resolved once.
    pub fn check_parent(&self, path: &Path) -> Result<(), String> {
        match (path.parent(), path.file_name()) {
            (Some(dir), Some(_)) if !dir.as_os_str().is_empty() => match self.resolve(dir) {
                Some(real) => self.verdict(&real, dir),
                None => Ok(()),
            },
            _ => self.check(path),
        }
    }

    fn verdict(&self, real: &Path, path: &Path) -> Result<(), String> {
        if let Some(p) = PSEUDO.iter().find(|p| under(real, Path::new(p))) {
            return Err(format!(
                "{} is in the kernel's pseudo file system {p}",
                real.display()
            ));
        }
        if self.roots.iter().any(|r| under(real, r)) {
            return Ok(());
        }
        Err(if real == path {
            "outside the scanned root".to_string()
        } else {
            format!("resolves to {}, outside the scanned root", real.display())
        })
    }

    /// The real path `path` leads to, resolving symlinks; `None` when it
    /// does not exist or the links do not end.
    fn resolve(&self, path: &Path) -> Option<PathBuf> {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        };
        let mut links = 0;
        // No `.` or `..` segment (checked on the bytes: cheaper than
        // parsing components, and this runs once per file read).
        let plain = abs
            .as_os_str()
            .as_encoded_bytes()
            .split(|&b| b == b'/')
            .all(|seg| seg != b"." && seg != b"..");
        if plain {
            return self.resolve_plain(&abs, &mut links);
        }
        let mut cur = PathBuf::from("/");
        for comp in abs.components() {
            match comp {
                Component::Prefix(_) | Component::RootDir => cur = PathBuf::from("/"),
                Component::CurDir => {}
                // `cur` holds no symlink, so its parent is the real `..`.
                Component::ParentDir => {
                    cur.pop();
                }
                Component::Normal(name) => {
                    let next = cur.join(name);
                    cur = self.step(&next, &next, &mut links)?;
                }
            }
        }
        Some(cur)
    }

    /// [`Boundary::resolve`] of an absolute path without `.` or `..`: its
    /// directory resolved (from the cache when met before), then its last
    /// component.
    fn resolve_plain(&self, abs: &Path, links: &mut usize) -> Option<PathBuf> {
        if let Ok(cache) = self.cache.read()
            && let Some(found) = cache.get(abs.as_os_str())
        {
            return found.clone();
        }
        match (abs.parent(), abs.file_name()) {
            (Some(parent), Some(name)) => {
                let real_parent = self.resolve_plain(parent, links)?;
                self.step(abs, &real_parent.join(name), links)
            }
            _ => Some(abs.to_path_buf()),
        }
    }

    /// The real form of `next` (whose parent is real already), remembered
    /// under `key` when it is a directory.
    fn step(&self, key: &Path, next: &Path, links: &mut usize) -> Option<PathBuf> {
        if let Ok(cache) = self.cache.read()
            && let Some(found) = cache.get(next.as_os_str())
        {
            return found.clone();
        }
        let real = match std::fs::symlink_metadata(next) {
            Err(_) => None,
            Ok(m) if m.file_type().is_symlink() => {
                *links += 1;
                if *links > MAX_LINKS {
                    None
                } else {
                    std::fs::canonicalize(next).ok()
                }
            }
            Ok(m) if !m.is_dir() => return Some(next.to_path_buf()),
            Ok(_) => Some(next.to_path_buf()),
        };
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(key.as_os_str().to_os_string(), real.clone());
            if key != next {
                cache.insert(next.as_os_str().to_os_string(), real.clone());
            }
        }
        real
    }
}

/// True when `path` is `base` or below it; both are resolved paths, so
/// comparing bytes at a separator is enough (and much cheaper than
/// comparing components).
fn under(path: &Path, base: &Path) -> bool {
    let (p, b) = (
        path.as_os_str().as_encoded_bytes(),
        base.as_os_str().as_encoded_bytes(),
    );
    p.starts_with(b) && (p.len() == b.len() || b.ends_with(b"/") || p.get(b.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn links_and_dot_dots_out_of_the_root_are_caught() {
        let t = tempfile::tempdir().expect("tmp");
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("a")).expect("mkdir");
        std::fs::write(root.join("a/ok.txt"), "x").expect("write");
        std::fs::write(t.path().join("secret.txt"), "s").expect("write");
        std::os::unix::fs::symlink(t.path(), root.join("up")).expect("link");
        std::os::unix::fs::symlink("/proc/self", root.join("self")).expect("link");
        let b = Boundary::new(std::slice::from_ref(&root));
        assert!(b.check(&root.join("a/ok.txt")).is_ok());
        assert!(b.check(&root.join("a/../a/ok.txt")).is_ok());
        assert!(b.check(&root.join("a/../../secret.txt")).is_err());
        assert!(b.check(&root.join("up/secret.txt")).is_err());
        assert!(b.check(&root.join("up/root/a/ok.txt")).is_ok());
        assert!(b.check(Path::new("/etc/passwd")).is_err());
        let proc = b.check(&root.join("self/environ")).unwrap_err();
        assert!(proc.contains("/proc"), "{proc}");
        assert!(b.check(&root.join("missing.txt")).is_ok());
        assert!(b.check_parent(&root.join("a/ok.txt")).is_ok());
        assert!(b.check_parent(&root.join("up/secret.txt")).is_err());
        assert!(b.check_parent(&root.join("self/environ")).is_err());
        assert!(under(Path::new("/a/b"), Path::new("/a")));
        assert!(under(Path::new("/a"), Path::new("/a")));
        assert!(under(Path::new("/a"), Path::new("/")));
        assert!(!under(Path::new("/ab"), Path::new("/a")));
    }
}
