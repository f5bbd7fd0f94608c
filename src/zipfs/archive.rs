//! One opened zip: its central directory checked (entry count, declared
//! sizes, compression ratio, traversal names, encryption, repeated names)
//! and its entries decompressed on demand under a hard cap.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use zip::ZipArchive;

use super::central;
use crate::diagnostic::{Diagnostic, Level};
use crate::fs::{EntryKind, FsError};
use crate::limits::ZipLimits;

/// One entry of an opened archive.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) index: usize,
    pub(super) kind: EntryKind,
    /// Why reading it is refused (encrypted, over a limit).
    pub(super) refused: Option<String>,
    /// The entry's name as written in the archive (for messages).
    pub(super) raw: String,
    /// For a symbolic link, where it points (as written).
    pub(super) target: Option<String>,
    /// Declared uncompressed size.
    pub(super) size: u64,
}

/// Longest symbolic-link target read from an archive.
const MAX_LINK_TARGET: u64 = 4096;

/// An opened archive: its bytes and its checked directory.
pub(super) struct Archive {
    pub(super) mount: PathBuf,
    pub(super) zip: Mutex<ZipArchive<Cursor<Vec<u8>>>>,
    pub(super) entries: HashMap<PathBuf, Entry>,
    pub(super) dirs: HashMap<PathBuf, BTreeMap<String, EntryKind>>,
    pub(super) depth: usize,
    pub(super) max_entry_size: u64,
}

/// Splits an entry name into safe relative components, or says why not.
pub(super) fn safe_entry_path(name: &str) -> Result<PathBuf, &'static str> {
    if name.starts_with('/') || name.starts_with('\\') {
        return Err("absolute path");
    }
    let mut out = PathBuf::new();
    for (i, part) in name.split(['/', '\\']).enumerate() {
        match part {
            "" | "." => continue,
            ".." => return Err("path leaves the archive (`..`)"),
            p if i == 0 && p.len() >= 2 && p.as_bytes().get(1) == Some(&b':') => {
                return Err("absolute path (drive letter)");
            }
            p if p.contains('\0') => return Err("NUL byte in name"),
            p => out.push(p),
        }
    }
    if out.as_os_str().is_empty() {
        return Err("empty name");
    }
    Ok(out)
}

impl Archive {
    /// Opens the zip `bytes` mounted at `mount`, `depth` zips deep: its
    /// directory checked against `limits`; entries refused and links that
    /// cannot be followed are added to `diags`.
    pub(super) fn open(
        mount: PathBuf,
        bytes: Vec<u8>,
        depth: usize,
        limits: &ZipLimits,
        diags: &mut Vec<Diagnostic>,
    ) -> Result<Archive, String> {
        let raw_names = central::raw_names(&bytes);
        let mut zip = ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| format!("not a readable zip archive: {e}"))?;
        diags.extend(central::repeated_names(raw_names.as_deref(), &mount));
        if zip.len() > limits.max_entries {
            return Err(format!(
                "{} entries, over the limit of {} per archive",
                zip.len(),
                limits.max_entries
            ));
        }
        let mut entries = HashMap::new();
        let mut dirs: HashMap<PathBuf, BTreeMap<String, EntryKind>> = HashMap::new();
        dirs.insert(PathBuf::new(), BTreeMap::new());
        let mut total: u64 = 0;
        for index in 0..zip.len() {
            let file = match zip.by_index_raw(index) {
                Ok(f) => f,
                Err(e) => {
                    diags.push(Diagnostic::new(
                        Level::Error,
                        &mount,
                        format!("entry #{index} cannot be read: {e}"),
                    ));
                    continue;
                }
            };
            let name = String::from_utf8_lossy(file.name_raw()).into_owned();
            let rel = match safe_entry_path(&name) {
                Ok(r) => r,
                Err(why) => {
                    diags.push(Diagnostic::new(
                        Level::Error,
                        mount.join(name.trim_start_matches(['/', '\\'])),
                        format!("zip entry `{name}` refused: {why}; not read"),
                    ));
                    continue;
                }
            };
            let kind = if file.is_symlink() {
                EntryKind::Symlink
            } else if file.is_dir() {
                EntryKind::Dir
            } else {
                EntryKind::File
            };
            let size = file.size();
            total = total.saturating_add(size);
            if total > limits.max_total_size {
                return Err(format!(
                    "entries declare over {} bytes uncompressed in total, over the limit of {} (zip bomb?)",
                    total, limits.max_total_size
                ));
            }
            let mut refused = None;
            if file.encrypted() {
                refused = Some("encrypted zip entry; cannot be scanned".to_string());
                diags.push(Diagnostic::new(
                    Level::Error,
                    mount.join(&rel),
                    "encrypted zip entry; not scanned",
                ));
            } else if kind == EntryKind::File && size > limits.max_entry_size {
                refused = Some(format!(
                    "declares {size} bytes uncompressed, over the {}-byte limit",
                    limits.max_entry_size
                ));
            } else if kind == EntryKind::File
                && size > limits.ratio_floor
                && size / file.compressed_size().max(1) > limits.max_ratio
            {
                refused = Some(format!(
                    "compression ratio over {}:1 ({} bytes from {}; zip bomb?)",
                    limits.max_ratio,
                    size,
                    file.compressed_size()
                ));
            }
            // Register the entry and its parent directories.
            let mut parent = PathBuf::new();
            let comps: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let last = comps.len().saturating_sub(1);
            for (i, c) in comps.iter().enumerate() {
                let child_kind = if i == last { kind } else { EntryKind::Dir };
                let listing = dirs.entry(parent.clone()).or_default();
                // A directory implied by a deeper entry wins over nothing;
                // a later entry of the same name replaces an earlier one,
                // as unzip and AWS Lambda do.
                match listing.get(c) {
                    Some(EntryKind::Dir) if child_kind == EntryKind::Dir => {}
                    _ => {
                        listing.insert(c.clone(), child_kind);
                    }
                }
                parent.push(c);
                if child_kind == EntryKind::Dir {
                    dirs.entry(parent.clone()).or_default();
                }
            }
            if kind != EntryKind::Dir {
                let entry = Entry {
                    index,
                    kind,
                    refused,
                    raw: name.clone(),
                    target: None,
                    size,
                };
                if let Some(earlier) = entries.insert(rel.clone(), entry) {
                    let what = if earlier.raw == name {
                        format!("zip entry `{name}` appears twice")
                    } else {
                        format!(
                            "zip entries `{}` and `{name}` are the same file after normalisation",
                            earlier.raw
                        )
                    };
                    diags.push(Diagnostic::new(
                        Level::Error,
                        mount.join(&rel),
                        format!(
                            "{what}: unzip and AWS Lambda keep the last one (entry #{index}), which is the one scanned; the other is not"
                        ),
                    ));
                }
            }
        }
        // Symbolic links: read their targets, and say which cannot be
        // followed inside the archive.
        let links: Vec<(PathBuf, usize)> = entries
            .iter()
            .filter(|(_, e)| e.kind == EntryKind::Symlink && e.refused.is_none())
            .map(|(p, e)| (p.clone(), e.index))
            .collect();
        for (rel, index) in links {
            let mut target = String::new();
            let read = zip
                .by_index(index)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    f.take(MAX_LINK_TARGET)
                        .read_to_string(&mut target)
                        .map_err(|e| e.to_string())
                });
            match read {
                Ok(_) => {
                    if let Some(e) = entries.get_mut(&rel) {
                        e.target = Some(target);
                    }
                }
                Err(e) => diags.push(Diagnostic::new(
                    Level::Error,
                    mount.join(&rel),
                    format!("symbolic link inside a zip cannot be read ({e}); what it points to is not scanned"),
                )),
            }
        }
        let archive = Archive {
            mount,
            zip: Mutex::new(zip),
            entries,
            dirs,
            depth,
            max_entry_size: limits.max_entry_size,
        };
        archive.check_links(diags);
        Ok(archive)
    }

    /// Reads the entry `rel` (named `full` in errors), decompressing at
    /// most the entry size limit.
    pub(super) fn read(&self, rel: &Path, full: &Path) -> Result<Vec<u8>, FsError> {
        let other = |reason: String| FsError::Other {
            path: full.to_path_buf(),
            reason,
        };
        let resolved = self.resolve(rel).map_err(|why| {
            other(format!(
                "a symbolic link on the way cannot be followed: {why}"
            ))
        })?;
        let rel = resolved.as_path();
        let Some(entry) = self.entries.get(rel) else {
            return Err(if self.dirs.contains_key(rel) {
                FsError::NotAFile {
                    path: full.to_path_buf(),
                }
            } else {
                other("no such entry in the zip".into())
            });
        };
        if entry.kind != EntryKind::File {
            return Err(FsError::NotAFile {
                path: full.to_path_buf(),
            });
        }
        if let Some(why) = &entry.refused {
            return Err(other(why.clone()));
        }
        let mut zip = self
            .zip
            .lock()
            .map_err(|_| other("zip reader poisoned".into()))?;
        let file = zip
            .by_index(entry.index)
            .map_err(|e| other(format!("cannot decompress: {e}")))?;
        let mut buf = Vec::new();
        // Never trust the declared size: cap the bytes actually produced.
        file.take(self.max_entry_size + 1)
            .read_to_end(&mut buf)
            .map_err(|e| other(format!("cannot decompress: {e}")))?;
        if buf.len() as u64 > self.max_entry_size {
            return Err(FsError::TooLarge {
                path: full.to_path_buf(),
                size: buf.len() as u64,
                limit: self.max_entry_size,
            });
        }
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_names_are_refused() {
        assert!(safe_entry_path("../../evil").is_err());
        assert!(safe_entry_path("a/../../evil").is_err());
        assert!(safe_entry_path("/etc/passwd").is_err());
        assert!(safe_entry_path("C:/x").is_err());
        assert!(safe_entry_path("\\x").is_err());
        assert_eq!(
            safe_entry_path("./a//b/package.json").unwrap(),
            PathBuf::from("a/b/package.json")
        );
    }
}
