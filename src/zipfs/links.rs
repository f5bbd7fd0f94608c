//! Symbolic links inside a zip. AWS Lambda keeps them when it unpacks a
//! deployment, so what a link points to is part of what runs: a link is
//! followed inside the archive (relative targets, `..` included, through
//! any number of links up to a limit), and one that leaves the archive,
//! loops or cannot be read is an error naming it, since what it stands
//! for cannot be scanned.

use std::path::{Path, PathBuf};

use super::archive::{Archive, Entry};
use crate::diagnostic::{Diagnostic, Level};
use crate::fs::EntryKind;

/// Most symbolic links followed while resolving one path in an archive.
const MAX_LINKS: usize = 40;

impl Archive {
    /// Checks every symbolic link once the archive is indexed: one that
    /// leaves the archive, loops or points to nothing is reported (Lambda
    /// keeps links, so what they point to is part of the deployment).
    pub(super) fn check_links(&self, diags: &mut Vec<Diagnostic>) {
        let mut links: Vec<(&PathBuf, &Entry)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.kind == EntryKind::Symlink && e.target.is_some())
            .collect();
        links.sort_by(|a, b| a.0.cmp(b.0));
        for (rel, e) in links {
            let target = e.target.as_deref().unwrap_or_default();
            match self.resolve(rel) {
                Err(why) => diags.push(Diagnostic::new(
                    Level::Error,
                    self.mount.join(rel),
                    format!("symbolic link to `{target}` inside a zip: {why}; what AWS Lambda would load through it is not scanned"),
                )),
                Ok(real) if self.kind_of(&real).is_none() => diags.push(Diagnostic::new(
                    Level::Warning,
                    self.mount.join(rel),
                    format!("symbolic link to `{target}`, which is not in the zip; nothing to scan"),
                )),
                Ok(_) => {}
            }
        }
    }

    /// `rel` with every symbolic link in it resolved inside the archive;
    /// why not when a link leaves the archive or links do not end.
    pub(super) fn resolve(&self, rel: &Path) -> Result<PathBuf, String> {
        let mut todo: std::collections::VecDeque<std::ffi::OsString> = rel
            .components()
            .map(|c| c.as_os_str().to_os_string())
            .collect();
        let mut cur = PathBuf::new();
        let mut hops = 0;
        while let Some(c) = todo.pop_front() {
            if c == "." || c.is_empty() {
                continue;
            }
            if c == ".." {
                if !cur.pop() {
                    return Err("it leads out of the archive".into());
                }
                continue;
            }
            let next = cur.join(&c);
            match self.entries.get(&next) {
                Some(Entry {
                    kind: EntryKind::Symlink,
                    target: Some(t),
                    ..
                }) => {
                    hops += 1;
                    if hops > MAX_LINKS {
                        return Err("symbolic links loop".into());
                    }
                    if t.starts_with('/') || t.starts_with('\\') || t.contains('\0') {
                        return Err("it points outside the archive (an absolute path)".into());
                    }
                    for part in t.split(['/', '\\']).rev() {
                        todo.push_front(part.into());
                    }
                }
                Some(Entry {
                    kind: EntryKind::Symlink,
                    ..
                }) => return Err("its target cannot be read".into()),
                _ => cur = next,
            }
        }
        Ok(cur)
    }

    /// The kind of a resolved path.
    pub(super) fn kind_of(&self, real: &Path) -> Option<EntryKind> {
        if self.dirs.contains_key(real) {
            return Some(EntryKind::Dir);
        }
        self.entries.get(real).map(|e| e.kind)
    }

    /// The kind of `rel`, its parents resolved, a final link reported as
    /// a link.
    pub(super) fn kind(&self, rel: &Path) -> Option<EntryKind> {
        if let Some(e) = self.entries.get(rel)
            && e.kind == EntryKind::Symlink
        {
            return Some(EntryKind::Symlink);
        }
        let parent = rel.parent().unwrap_or(Path::new(""));
        let real = self.resolve(parent).ok()?;
        match rel.file_name() {
            Some(name) => {
                let full = real.join(name);
                if let Some(e) = self.entries.get(&full)
                    && e.kind == EntryKind::Symlink
                {
                    return Some(EntryKind::Symlink);
                }
                self.kind_of(&full)
            }
            None => self.kind_of(&real),
        }
    }
}
