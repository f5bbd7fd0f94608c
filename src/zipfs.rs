//! `.zip` deployment packages scanned in memory, never unpacked to disk.
//!
//! [`ZipAwareFs`] wraps the real file system. A path component ending in
//! `.zip!` names the inside of that zip: `function.zip!/package-lock.json`
//! is the entry `package-lock.json` of `function.zip`, and every error about
//! it names it so. The archive is read once (size-capped), its central
//! directory checked (entry count, declared sizes, compression ratio,
//! traversal names, symlinks, encryption), and entries are decompressed on
//! demand with a hard cap on the bytes produced, whatever the header claims.
//! A zip inside the zip (a layer inside a bundle) is opened one level deep.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::diagnostic::{Diagnostic, Level};
use crate::fs::{DirEntry, EntryKind, Fs, FsError, OsFs};
use crate::limits::ZipLimits;

mod archive;
mod central;
mod links;

use archive::Archive;

/// Suffix that marks the inside of a zip in a path component.
pub const ZIP_MARK: &str = "!";

/// True when a file name looks like a zip archive.
pub fn is_zip_name(name: &str) -> bool {
    name.len() > 4 && name.to_ascii_lowercase().ends_with(".zip")
}

/// The path under which the inside of the zip at `zip_path` is seen.
pub fn mount_path(zip_path: &Path) -> PathBuf {
    let mut s = zip_path.as_os_str().to_os_string();
    s.push(ZIP_MARK);
    PathBuf::from(s)
}

/// Rewrites command-line paths: a `.zip` file becomes its mounted inside,
/// so it is scanned as a deployment root.
pub fn mount_arguments(fs: &OsFs, paths: &[PathBuf]) -> Vec<PathBuf> {
    paths
        .iter()
        .map(|p| {
            let is_zip = p
                .file_name()
                .is_some_and(|n| is_zip_name(&n.to_string_lossy()));
            if is_zip && fs.kind(p) == Some(EntryKind::File) {
                mount_path(p)
            } else {
                p.clone()
            }
        })
        .collect()
}

fn mount_component(c: &std::ffi::OsStr) -> bool {
    let s = c.to_string_lossy();
    s.strip_suffix(ZIP_MARK).is_some_and(is_zip_name)
}

/// A zip as opened: the archive (or why it could not be), and the problems
/// met while reading its directory.
struct Mounted {
    archive: Result<Arc<Archive>, String>,
    problems: Vec<Diagnostic>,
}

/// The real file system, with `.zip` archives readable in memory under
/// `<zip>!/...` paths. Nothing is ever written.
pub struct ZipAwareFs {
    os: OsFs,
    limits: ZipLimits,
    /// Show `.zip` files met while listing real directories as directories
    /// (`--zips`).
    zips_in_dirs: bool,
    /// Every zip opened so far, by mount path (each is opened once).
    mounts: Mutex<HashMap<PathBuf, Arc<Mounted>>>,
    /// The scanned roots: nothing outside them is read from disk.
    boundary: Option<crate::boundary::Boundary>,
}

enum Loc {
    Os(PathBuf),
    Zip(Arc<Archive>, PathBuf),
    Broken(PathBuf, String),
}

impl ZipAwareFs {
    /// A view of `os`; `zips_in_dirs` makes discovery descend into zips it
    /// finds (a zip given explicitly is always opened).
    pub fn new(os: OsFs, limits: ZipLimits, zips_in_dirs: bool) -> Self {
        ZipAwareFs {
            os,
            limits,
            zips_in_dirs,
            mounts: Mutex::new(HashMap::new()),
            boundary: None,
        }
    }

    /// Refuses to read anything on disk outside `boundary`.
    pub fn within(mut self, boundary: crate::boundary::Boundary) -> Self {
        self.boundary = Some(boundary);
        self
    }

    /// Reads a file on disk, inside the boundary only: its directory is
    /// checked (resolved once per directory), and the file itself with the
    /// one `lstat` the read needs anyway; a symbolic link is resolved in
    /// full before it is followed.
    fn read_disk(&self, p: &Path) -> Result<Vec<u8>, FsError> {
        let Some(b) = &self.boundary else {
            return self.os.read(p);
        };
        let outside = |why| FsError::OutsideRoot {
            path: p.to_path_buf(),
            why,
        };
        b.check_parent(p).map_err(outside)?;
        match std::fs::symlink_metadata(p) {
            Ok(m) if !m.file_type().is_symlink() => self.os.read_with(p, &m),
            _ => {
                b.check(p).map_err(outside)?;
                self.os.read(p)
            }
        }
    }

    /// `Ok` when the disk path `p` may be read (see [`crate::boundary`]).
    fn guard(&self, p: &Path) -> Result<(), FsError> {
        match &self.boundary {
            Some(b) => b.check(p).map_err(|why| FsError::OutsideRoot {
                path: p.to_path_buf(),
                why,
            }),
            None => Ok(()),
        }
    }

    fn mount(
        &self,
        mount: &Path,
        parent: &Loc,
        zip_rel: Option<&Path>,
        depth: usize,
    ) -> Result<Arc<Archive>, String> {
        if let Ok(m) = self.mounts.lock()
            && let Some(found) = m.get(mount)
        {
            return found.archive.clone();
        }
        let mut problems = Vec::new();
        let archive = self.open_mount(mount, parent, zip_rel, depth, &mut problems);
        let result = archive.clone();
        if let Ok(mut m) = self.mounts.lock() {
            m.entry(mount.to_path_buf())
                .or_insert_with(|| Arc::new(Mounted { archive, problems }));
        }
        result
    }

    fn open_mount(
        &self,
        mount: &Path,
        parent: &Loc,
        zip_rel: Option<&Path>,
        depth: usize,
        problems: &mut Vec<Diagnostic>,
    ) -> Result<Arc<Archive>, String> {
        if depth > self.limits.max_nesting + 1 {
            return Err(format!(
                "zip nested more than {} level(s) deep; not opened",
                self.limits.max_nesting
            ));
        }
        let bytes = match (parent, zip_rel) {
            (Loc::Os(p), _) => {
                self.guard(p).map_err(|e| e.to_string())?;
                let meta_len = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                if meta_len > self.limits.max_archive_size {
                    return Err(format!(
                        "archive is {meta_len} bytes, over the {}-byte limit",
                        self.limits.max_archive_size
                    ));
                }
                OsFs::with_limit(self.limits.max_archive_size)
                    .read(p)
                    .map_err(|e| e.to_string())?
            }
            (Loc::Zip(a, _), Some(rel)) => a.read(rel, mount).map_err(|e| e.to_string())?,
            (Loc::Broken(_, why), _) => return Err(why.clone()),
            (Loc::Zip(..), None) => return Err("not a zip entry".into()),
        };
        Archive::open(mount.to_path_buf(), bytes, depth, &self.limits, problems).map(Arc::new)
    }

    /// Where a path lives: on disk, inside an opened zip, or inside a zip
    /// that could not be opened.
    fn locate(&self, path: &Path) -> Loc {
        let mut loc = Loc::Os(PathBuf::new());
        let mut prefix = PathBuf::new();
        let mut depth = 0;
        for comp in path.components() {
            prefix.push(comp.as_os_str());
            let is_mount = matches!(comp, Component::Normal(c) if mount_component(c));
            loc = match loc {
                Loc::Os(mut p) => {
                    if is_mount {
                        let s = comp.as_os_str().to_string_lossy();
                        p.push(s.strip_suffix(ZIP_MARK).unwrap_or(&s));
                        depth += 1;
                        match self.mount(&prefix, &Loc::Os(p), None, depth) {
                            Ok(a) => Loc::Zip(a, PathBuf::new()),
                            Err(e) => Loc::Broken(prefix.clone(), e),
                        }
                    } else {
                        p.push(comp.as_os_str());
                        Loc::Os(p)
                    }
                }
                Loc::Zip(a, mut rel) => {
                    if is_mount {
                        let s = comp.as_os_str().to_string_lossy();
                        let mut zrel = rel.clone();
                        zrel.push(s.strip_suffix(ZIP_MARK).unwrap_or(&s));
                        depth += 1;
                        let parent = Loc::Zip(a, rel);
                        match self.mount(&prefix, &parent, Some(&zrel), depth) {
                            Ok(a) => Loc::Zip(a, PathBuf::new()),
                            Err(e) => Loc::Broken(prefix.clone(), e),
                        }
                    } else {
                        rel.push(comp.as_os_str());
                        Loc::Zip(a, rel)
                    }
                }
                broken @ Loc::Broken(..) => broken,
            };
        }
        loc
    }

    fn nested_ok(&self, a: &Archive) -> bool {
        a.depth <= self.limits.max_nesting
    }
}

impl Fs for ZipAwareFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, FsError> {
        match self.locate(path) {
            Loc::Os(p) => self.read_disk(&p),
            Loc::Zip(a, rel) => a.read(&rel, path),
            Loc::Broken(mount, reason) => Err(FsError::Other {
                path: mount,
                reason,
            }),
        }
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, FsError> {
        match self.locate(path) {
            Loc::Os(p) => {
                self.guard(&p)?;
                let mut entries = self.os.read_dir(&p)?;
                // Zips inside installed trees are package files, not
                // deployments.
                let installed = p.components().any(|c| {
                    let c = c.as_os_str();
                    c == "node_modules" || c == "site-packages"
                });
                if self.zips_in_dirs && !installed {
                    for e in &mut entries {
                        if e.kind == EntryKind::File && is_zip_name(&e.name) {
                            e.path = mount_path(&e.path);
                            e.kind = EntryKind::Dir;
                        }
                    }
                }
                Ok(entries)
            }
            Loc::Zip(a, rel) => {
                let real = a.resolve(&rel).map_err(|why| FsError::Other {
                    path: path.to_path_buf(),
                    reason: format!("a symbolic link on the way cannot be followed: {why}"),
                })?;
                let Some(listing) = a.dirs.get(&real) else {
                    return Err(FsError::Other {
                        path: path.to_path_buf(),
                        reason: "no such directory in the zip".into(),
                    });
                };
                let nested = self.nested_ok(&a);
                Ok(listing
                    .iter()
                    .map(|(name, kind)| {
                        let mut p = path.join(name);
                        let mut kind = *kind;
                        if nested && kind == EntryKind::File && is_zip_name(name) {
                            p = mount_path(&p);
                            kind = EntryKind::Dir;
                        }
                        DirEntry {
                            name: name.clone(),
                            path: p,
                            kind,
                        }
                    })
                    .collect())
            }
            Loc::Broken(mount, reason) => Err(FsError::Other {
                path: mount,
                reason,
            }),
        }
    }

    fn notes(&self, dir: &Path) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if dir.file_name().is_some_and(mount_component)
            && let Ok(m) = self.mounts.lock()
            && let Some(found) = m.get(dir)
        {
            out.extend(found.problems.iter().cloned());
        }
        if let Loc::Zip(a, rel) = self.locate(dir)
            && !self.nested_ok(&a)
            && let Ok(real) = a.resolve(&rel)
            && let Some(listing) = a.dirs.get(&real)
        {
            for name in listing.keys().filter(|n| is_zip_name(n)) {
                out.push(Diagnostic::new(
                    Level::Error,
                    dir.join(name),
                    format!(
                        "zip nested more than {} level(s) deep; not opened, so what it holds is not scanned",
                        self.limits.max_nesting
                    ),
                ));
            }
        }
        out
    }

    fn kind(&self, path: &Path) -> Option<EntryKind> {
        match self.locate(path) {
            Loc::Os(p) => self.os.kind(&p),
            Loc::Zip(a, rel) => a.kind(&rel),
            // The zip exists but cannot be opened: a directory whose listing
            // fails, so the walk reports it.
            Loc::Broken(..) => Some(EntryKind::Dir),
        }
    }

    fn canonicalize(&self, path: &Path) -> Option<PathBuf> {
        match self.locate(path) {
            Loc::Os(p) => self.os.canonicalize(&p),
            Loc::Zip(a, rel) => {
                let real = a.resolve(&rel).ok()?;
                a.kind_of(&real)?;
                let base = canonical_mount(&self.os, &a.mount).unwrap_or_else(|| a.mount.clone());
                Some(base.join(real))
            }
            Loc::Broken(mount, _) => Some(mount),
        }
    }

    fn file_size(&self, path: &Path) -> Option<u64> {
        match self.locate(path) {
            Loc::Os(p) => {
                self.guard(&p).ok()?;
                self.os.file_size(&p)
            }
            Loc::Zip(a, rel) => a
                .entries
                .get(&rel)
                .filter(|e| e.kind == EntryKind::File)
                .map(|e| e.size),
            Loc::Broken(..) => None,
        }
    }
}

/// The canonical form of a mount path: the canonical zip path plus the mark.
fn canonical_mount(os: &OsFs, mount: &Path) -> Option<PathBuf> {
    // Only the outermost zip lives on disk; canonicalize up to it.
    let mut disk = PathBuf::new();
    let mut rest = PathBuf::new();
    let mut inside = false;
    for comp in mount.components() {
        if inside {
            rest.push(comp.as_os_str());
        } else if matches!(comp, Component::Normal(c) if mount_component(c)) {
            let s = comp.as_os_str().to_string_lossy();
            disk.push(s.strip_suffix(ZIP_MARK).unwrap_or(&s));
            inside = true;
            rest.push(comp.as_os_str());
        } else {
            disk.push(comp.as_os_str());
        }
    }
    let canon = os.canonicalize(&disk)?;
    let first = mount_path(&canon);
    let mut comps = rest.components();
    comps.next();
    Some(first.join(comps.as_path()))
}

/// Reads the text of a `depwarden.toml`, which may sit inside a zip.
pub fn read_config(path: &Path) -> Result<String, crate::policy::PolicyError> {
    // The file-system error stays the source, so its own cause (the I/O
    // error under it) is kept in the chain.
    let read_err = |e: FsError| crate::policy::PolicyError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let in_zip = path
        .components()
        .any(|c| matches!(c, Component::Normal(n) if mount_component(n)));
    if !in_zip {
        return OsFs::with_limit(1024 * 1024)
            .read_to_string(path)
            .map_err(read_err);
    }
    let fs = ZipAwareFs::new(OsFs::default(), ZipLimits::default(), false);
    fs.read_to_string(path).map_err(read_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_components() {
        assert!(mount_component(std::ffi::OsStr::new("f.zip!")));
        assert!(mount_component(std::ffi::OsStr::new("F.ZIP!")));
        assert!(!mount_component(std::ffi::OsStr::new("f.zip")));
        assert!(!mount_component(std::ffi::OsStr::new(".zip!")));
    }

    #[test]
    fn archive_problems_are_notes_of_the_mount_only() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for n in ["fn/package-lock.json", "../evil.json"] {
            z.start_file(n, zip::write::SimpleFileOptions::default())
                .expect("start");
            z.write_all(b"{}").expect("write");
        }
        let bytes = z.finish().expect("finish").into_inner();
        let zip = dir.path().join("app.zip");
        std::fs::write(&zip, bytes).expect("write zip");
        let fs = ZipAwareFs::new(OsFs::default(), ZipLimits::default(), false);
        let mount = mount_path(&zip);
        assert!(
            fs.notes(&mount).is_empty(),
            "nothing is said before it is opened"
        );
        assert_eq!(fs.read_dir(&mount).expect("list").len(), 1);
        let notes = fs.notes(&mount);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].message.contains("refused"), "{notes:?}");
        // Asked again (a second walk of the same tree), the same notes;
        // a directory inside the zip has none of its own.
        assert_eq!(fs.notes(&mount), notes);
        assert!(fs.notes(&mount.join("fn")).is_empty());
    }
}
