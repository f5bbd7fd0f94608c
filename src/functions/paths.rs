//! Local paths named by infrastructure files, resolved as the tools resolve
//! them (relative to the file's directory) and kept inside the scanned
//! root: a template is scanned input like any other, and a `CodeUri:
//! ../../../etc` is refused, never read.

use std::path::{Component, Path, PathBuf};

use super::model::CodeLoc;
use crate::fs::{EntryKind, Fs};

/// Resolves paths written in one template.
pub struct Locator<'a> {
    /// The file system of the scan (with its boundary).
    pub fs: &'a dyn Fs,
    /// The scanned root the template was found under.
    pub scan_root: &'a Path,
    /// The template file.
    pub template: &'a Path,
    /// The directory relative paths are resolved from.
    pub base: PathBuf,
}

impl<'a> Locator<'a> {
    /// A locator for `template`, resolving from its directory.
    pub fn new(fs: &'a dyn Fs, scan_root: &'a Path, template: &'a Path) -> Self {
        Locator {
            fs,
            scan_root,
            template,
            base: template.parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }

    /// The same template, resolving from `base`.
    pub fn with_base(&self, base: PathBuf) -> Locator<'a> {
        Locator {
            fs: self.fs,
            scan_root: self.scan_root,
            template: self.template,
            base,
        }
    }

    /// Where a local path written in the template leads: a directory, a
    /// `.zip`, or why it is not read.
    pub fn local(&self, written: &str) -> CodeLoc {
        let unreadable = |why: String| CodeLoc::Unreadable {
            written: written.to_string(),
            why,
        };
        let joined = if Path::new(written).is_absolute() {
            PathBuf::from(written)
        } else {
            self.base.join(written)
        };
        let Some(path) = normalize(&joined) else {
            return unreadable("the path climbs above the file system root".into());
        };
        if !path.starts_with(self.scan_root) {
            return unreadable(format!(
                "{} is outside the scanned root; not read",
                path.display()
            ));
        }
        // A symbolic link may lead out even when the spelling stays in.
        if let (Some(real), Some(root)) = (
            self.fs.canonicalize(&path),
            self.fs.canonicalize(self.scan_root),
        ) && !real.starts_with(&root)
        {
            return unreadable(format!(
                "leads to {} through a symbolic link, outside the scanned root; not read",
                real.display()
            ));
        }
        match self.fs.kind(&path) {
            None => unreadable(format!("{} does not exist", path.display())),
            Some(_) if self.fs.is_dir(&path) => CodeLoc::Dir(path),
            Some(EntryKind::File | EntryKind::Symlink) if crate::zipfs::is_zip_name(written) => {
                CodeLoc::Zip(path)
            }
            Some(_) => unreadable(format!(
                "{} is not a directory or a .zip archive",
                path.display()
            )),
        }
    }
}

/// `path` with `.` and `..` resolved lexically, `..` at the file system
/// root staying there; `None` when `..` climbs above the start of a
/// relative path.
pub fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // `/..` is `/`, as the kernel has it.
                let at_root = out.has_root() && out.parent().is_none();
                if !at_root && !out.pop() {
                    return None;
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

/// The directory Lambda sees as the root of a code location: the mounted
/// inside of a zip, or the directory itself.
pub fn root_of(loc: &CodeLoc) -> Option<PathBuf> {
    match loc {
        CodeLoc::Dir(d) => Some(d.clone()),
        CodeLoc::Zip(z) => Some(crate::zipfs::mount_path(z)),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fs::OsFs;

    #[test]
    fn paths_stay_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        std::fs::create_dir_all(root.join("app/src")).unwrap();
        std::fs::write(root.join("app/fn.zip"), b"PK").unwrap();
        std::fs::write(root.join("app/notes.txt"), b"x").unwrap();
        let tpl = root.join("app/template.yaml");
        let fs = OsFs::default();
        let loc = Locator::new(&fs, &root, &tpl);
        assert_eq!(loc.local("src/"), CodeLoc::Dir(root.join("app/src")));
        assert_eq!(loc.local("./fn.zip"), CodeLoc::Zip(root.join("app/fn.zip")));
        for bad in [
            "../../etc",
            "../../../../../../../etc",
            "/etc",
            "missing/",
            "notes.txt",
        ] {
            assert!(
                matches!(loc.local(bad), CodeLoc::Unreadable { .. }),
                "{bad}: {:?}",
                loc.local(bad)
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", root.join("app/out")).unwrap();
            let CodeLoc::Unreadable { why, .. } = loc.local("out") else {
                panic!("a link out of the root is read");
            };
            assert!(why.contains("symbolic link"), "{why}");
        }
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")).unwrap(),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(normalize(Path::new("/../x")).unwrap(), PathBuf::from("/x"));
        assert!(normalize(Path::new("a/../../x")).is_none());
    }
}
