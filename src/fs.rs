//! Read-only access to the scanned tree. Discovery and parsers read through
//! [`Fs`], never through `std::fs` directly, so that the same code scans a
//! directory on disk or a zip held in memory, and so that size limits and
//! symlink rules are enforced in one place. Nothing here writes.

use std::io::Read;
use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::diagnostic::Diagnostic;
use crate::limits::DEFAULT_MAX_FILE_SIZE;

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (not followed by `metadata`).
    Symlink,
    /// A FIFO, socket or device: never read.
    Other,
}

/// One entry of a directory listing.
#[derive(Debug, Clone)]
pub struct DirEntry {
    /// File name of the entry.
    pub name: String,
    /// Full path of the entry.
    pub path: PathBuf,
    /// Kind of the entry itself (a symlink is reported as `Symlink`).
    pub kind: EntryKind,
}

/// Errors from reading the scanned tree; each names the path.
#[derive(Debug, Error)]
pub enum FsError {
    /// The path could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than the configured limit.
    #[error("{path} is {size} bytes, over the {limit}-byte limit for one source file")]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The path is not a regular file (FIFO, device, socket).
    #[error("{path} is not a regular file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The path leads outside the scanned root (or into `/proc`, `/sys`,
    /// `/dev`): it is never read, whatever names it.
    #[error("{path}: {why}; not read")]
    OutsideRoot {
        /// The path as named.
        path: PathBuf,
        /// Where it leads.
        why: String,
    },
    /// Any other reason, e.g. a zip entry that cannot be decoded.
    #[error("cannot read {path}: {reason}")]
    Other {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Read-only view of a tree of files.
pub trait Fs: Sync + Send {
    /// Reads a whole regular file, refusing files over the size limit and
    /// non-regular files.
    fn read(&self, path: &Path) -> Result<Vec<u8>, FsError>;
    /// Lists a directory (unsorted).
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, FsError>;
    /// The kind of a path, without following a final symlink; `None` when
    /// it does not exist.
    fn kind(&self, path: &Path) -> Option<EntryKind>;
    /// Resolves symlinks; `None` when the target does not exist.
    fn canonicalize(&self, path: &Path) -> Option<PathBuf>;

    /// What the file system itself has to say about the directory `dir`,
    /// beyond its listing: for a zip mounted at `dir`, the entries it
    /// refused and the links that cannot be followed; for a directory of a
    /// zip nested too deep, the zips in it that are not opened. The walk
    /// reports them with the directory, so they belong to the deployment
    /// that holds it. None by default.
    fn notes(&self, _dir: &Path) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// The apparent size in bytes of a regular file (a zip entry's
    /// declared uncompressed size), without reading it and without
    /// following a final symbolic link; `None` when it is not a regular
    /// file or the view does not know (used for Lambda's size limits).
    fn file_size(&self, _path: &Path) -> Option<u64> {
        None
    }

    /// Reads a file as UTF-8 text (invalid sequences are an error naming
    /// the file). A leading byte-order mark is dropped.
    fn read_to_string(&self, path: &Path) -> Result<String, FsError> {
        let bytes = self.read(path)?;
        let text = String::from_utf8(bytes).map_err(|e| FsError::Other {
            path: path.to_path_buf(),
            reason: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Ok(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        })
    }

    /// True when the path is a regular file (following symlinks).
    fn is_file(&self, path: &Path) -> bool {
        match self.kind(path) {
            Some(EntryKind::File) => true,
            Some(EntryKind::Symlink) => self
                .canonicalize(path)
                .is_some_and(|p| self.kind(&p) == Some(EntryKind::File)),
            _ => false,
        }
    }

    /// True when the path is a directory (following symlinks).
    fn is_dir(&self, path: &Path) -> bool {
        match self.kind(path) {
            Some(EntryKind::Dir) => true,
            Some(EntryKind::Symlink) => self
                .canonicalize(path)
                .is_some_and(|p| self.kind(&p) == Some(EntryKind::Dir)),
            _ => false,
        }
    }
}

/// The real file system, read-only, with a per-file size limit.
#[derive(Debug, Clone)]
pub struct OsFs {
    max_file_size: u64,
}

impl Default for OsFs {
    fn default() -> Self {
        OsFs {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

impl OsFs {
    /// A view of the real file system with the given per-file size limit.
    pub fn with_limit(max_file_size: u64) -> Self {
        OsFs { max_file_size }
    }
}

/// `p` with `.` removed and `..` applied lexically, without touching the
/// disk: a `..` above the root of an absolute path is the root itself, and
/// `..` above the start of a relative path is kept (`a/../../x` is `../x`),
/// so a path that leaves its base never looks as if it stayed inside.
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::ParentDir | Component::CurDir) | None => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

fn io_err(path: &Path, source: std::io::Error) -> FsError {
    FsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl OsFs {
    /// Reads a file whose metadata the caller has (a regular file is read,
    /// anything else refused), so the path is not looked up twice.
    pub fn read_with(&self, path: &Path, meta: &std::fs::Metadata) -> Result<Vec<u8>, FsError> {
        if !meta.is_file() {
            return Err(FsError::NotAFile {
                path: path.to_path_buf(),
            });
        }
        if meta.len() > self.max_file_size {
            return Err(FsError::TooLarge {
                path: path.to_path_buf(),
                size: meta.len(),
                limit: self.max_file_size,
            });
        }
        let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
        let mut buf = Vec::with_capacity(meta.len() as usize);
        // Read at most limit+1 bytes: a file that grows while read is still capped.
        file.take(self.max_file_size + 1)
            .read_to_end(&mut buf)
            .map_err(|e| io_err(path, e))?;
        if buf.len() as u64 > self.max_file_size {
            return Err(FsError::TooLarge {
                path: path.to_path_buf(),
                size: buf.len() as u64,
                limit: self.max_file_size,
            });
        }
        Ok(buf)
    }
}

impl Fs for OsFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, FsError> {
        let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
        self.read_with(path, &meta)
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, FsError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(path).map_err(|e| io_err(path, e))? {
            let entry = entry.map_err(|e| io_err(path, e))?;
            let ft = entry.file_type().map_err(|e| io_err(&entry.path(), e))?;
            let kind = if ft.is_symlink() {
                EntryKind::Symlink
            } else if ft.is_dir() {
                EntryKind::Dir
            } else if ft.is_file() {
                EntryKind::File
            } else {
                EntryKind::Other
            };
            out.push(DirEntry {
                name: entry.file_name().to_string_lossy().into_owned(),
                path: entry.path(),
                kind,
            });
        }
        Ok(out)
    }

    fn kind(&self, path: &Path) -> Option<EntryKind> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        let ft = meta.file_type();
        Some(if ft.is_symlink() {
            EntryKind::Symlink
        } else if ft.is_dir() {
            EntryKind::Dir
        } else if ft.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        })
    }

    fn canonicalize(&self, path: &Path) -> Option<PathBuf> {
        std::fs::canonicalize(path).ok()
    }

    fn file_size(&self, path: &Path) -> Option<u64> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        meta.is_file().then_some(meta.len())
    }
}

/// A file system holding one file in memory, at an absolute path, with
/// the directories above it: lets a parser read bytes that are not on disk
/// (fuzzing, tests) exactly as it reads a scanned tree.
#[derive(Debug, Clone)]
pub struct SingleFileFs {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl SingleFileFs {
    /// `bytes` as the file at `path`.
    pub fn new(path: impl Into<PathBuf>, bytes: Vec<u8>) -> SingleFileFs {
        SingleFileFs {
            path: path.into(),
            bytes,
        }
    }
}

impl Fs for SingleFileFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, FsError> {
        if path == self.path {
            Ok(self.bytes.clone())
        } else {
            Err(FsError::Other {
                path: path.to_path_buf(),
                reason: "not found".into(),
            })
        }
    }
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, FsError> {
        let rest = self.path.strip_prefix(path).map_err(|_| FsError::Other {
            path: path.to_path_buf(),
            reason: "not a directory".into(),
        })?;
        let mut comps = rest.components();
        let Some(first) = comps.next() else {
            return Ok(Vec::new());
        };
        let kind = if comps.next().is_some() {
            EntryKind::Dir
        } else {
            EntryKind::File
        };
        Ok(vec![DirEntry {
            name: first.as_os_str().to_string_lossy().into_owned(),
            path: path.join(first),
            kind,
        }])
    }
    fn kind(&self, path: &Path) -> Option<EntryKind> {
        if path == self.path {
            Some(EntryKind::File)
        } else if self.path.starts_with(path) {
            Some(EntryKind::Dir)
        } else {
            None
        }
    }
    fn canonicalize(&self, path: &Path) -> Option<PathBuf> {
        self.kind(path).map(|_| path.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_lexically_and_keeps_what_leaves_the_start() {
        for (path, want) in [
            ("/a/b/./c/../d", "/a/b/d"),
            ("a/./b/", "a/b"),
            ("/a/../../x", "/x"),
            ("a/../../x", "../x"),
            ("../../x", "../../x"),
            ("a/b/../..", ""),
        ] {
            assert_eq!(normalize(Path::new(path)), PathBuf::from(want), "{path}");
        }
    }

    #[test]
    fn size_limit_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("package-lock.json");
        std::fs::write(&p, vec![b'x'; 100]).unwrap();
        let fs = OsFs::with_limit(10);
        let err = fs.read(&p).unwrap_err().to_string();
        assert!(
            err.contains("package-lock.json") && err.contains("limit"),
            "{err}"
        );
        assert_eq!(OsFs::with_limit(1000).read(&p).unwrap().len(), 100);
    }

    #[test]
    fn bom_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("requirements.txt");
        std::fs::write(&p, "\u{feff}flask==2.0.0\n").unwrap();
        assert_eq!(
            OsFs::default().read_to_string(&p).unwrap(),
            "flask==2.0.0\n"
        );
    }
}
