//! Shared harness of the fuzz targets: parse bytes as one source format
//! from an in-memory file system, and check that an error names the file.

use std::path::{Path, PathBuf};

use depwarden::fs::{DirEntry, EntryKind, Fs, FsError};
use depwarden::parse::{ParseContext, ParseOptions, parse_source};
use depwarden::source::{SourceFormat, SourceRef};

/// One file held in memory.
struct OneFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Fs for OneFile {
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

/// Parses `data` as `format`, placed at `rel` under a deployment root.
/// Panics (for the fuzzer) when an error does not name the file.
pub fn run(format: SourceFormat, rel: &str, data: &[u8]) {
    let root = PathBuf::from("/fuzz/deployment");
    let path = root.join(rel);
    let fs = OneFile {
        path: path.clone(),
        bytes: data.to_vec(),
    };
    let source = SourceRef::new(&path, format);
    let options = ParseOptions::default();
    let ctx = ParseContext {
        fs: &fs,
        source: &source,
        root: &root,
        options: &options,
    };
    if let Err(e) = parse_source(&ctx) {
        assert!(e.to_string().contains("/fuzz/deployment"), "{e}");
    }
}
