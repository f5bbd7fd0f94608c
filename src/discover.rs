//! Discovery: walk the given paths, find every deployment package (a
//! directory holding at least one dependency source), and group the sources
//! by deployment root. See DESIGN.md, "Deployment packages".
//!
//! Rules:
//! - `.git`, `target/` and `__pycache__` are skipped; the inside of
//!   `node_modules/` and `site-packages/` is never a separate deployment.
//! - A lockfile and its manifest describe one graph: `package.json` beside
//!   an npm lockfile, `pyproject.toml` beside a Python lockfile and
//!   `Cargo.toml` beside `Cargo.lock` are companions, not sources. A
//!   manifest below a directory whose lockfile covers it (a workspace
//!   member) is absorbed by that lockfile.
//! - `npm-shrinkwrap.json` wins over `package-lock.json` in the same
//!   directory (npm ignores the latter then).
//! - Installed trees: `node_modules/`, `*.dist-info` / `*.egg-info` at a
//!   directory's top level, `python/` and `python/lib/python3.X/site-packages/`
//!   (Lambda layers, rooted at the layer's parent) and a virtualenv's
//!   site-packages (rooted at the virtualenv's parent).
//! - Symlinked directories are followed once, only when they stay inside
//!   the scanned root; loops and escapes are reported, not followed.
//! - A file given explicitly is scanned alone, its directory as the root.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::diagnostic::{Diagnostic, Level};
use crate::fs::{EntryKind, Fs};
use crate::source::{SourceFormat, SourceRef, looks_like_executable};

/// Directory names never descended into: version control, build output,
/// macOS archive metadata (`__MACOSX/` in zips made by the Finder) and
/// package-manager caches (npm's `.npm`/`_cacache`, pnpm's store, yarn's
/// `.yarn/` folder with its cache and unplugged packages, bun's and the
/// XDG `.cache`, where pip, poetry, uv and yarn keep theirs). None of them
/// is ever a deployment, with `--zips` neither (yarn's cache is a folder
/// of zips).
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "target",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".tox",
    "__MACOSX",
    ".npm",
    "_cacache",
    ".pnpm-store",
    ".yarn",
    ".yarn-cache",
    ".bun",
    ".cache",
];

/// Caches below a named parent: cargo's registry and git checkouts.
const SKIPPED_SUBDIRS: &[(&str, &str)] = &[(".cargo", "registry"), (".cargo", "git")];

/// True for a directory discovery never descends into (see
/// [`SKIPPED_DIRS`]), given its parent's name.
fn skipped_dir(parent: Option<&str>, name: &str) -> bool {
    SKIPPED_DIRS.contains(&name)
        || SKIPPED_SUBDIRS
            .iter()
            .any(|(p, n)| parent == Some(*p) && *n == name)
}

/// True for a directory whose inside is never walked for deployments (it
/// is a source itself, or skipped).
fn not_walked(parent: Option<&str>, name: &str) -> bool {
    skipped_dir(parent, name)
        || name == "node_modules"
        || name == "site-packages"
        || name.ends_with(".dist-info")
        || name.ends_with(".egg-info")
}

/// A deployment package: a root directory and the sources inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The path the user gave that this deployment was found under; report
    /// paths are relative to it.
    pub scan_root: PathBuf,
    /// The deployment root directory.
    pub root: PathBuf,
    /// The sources, sorted by path.
    pub sources: Vec<SourceRef>,
    /// A `depwarden.toml` inside the deployment root, if any.
    pub config: Option<PathBuf>,
    /// Problems met while walking this deployment (unreadable directories,
    /// symlink loops, links out of the scanned root).
    pub diagnostics: Vec<Diagnostic>,
    /// The platform its packages are evaluated for when functions say
    /// where it runs (see [`crate::functions`]); `None`: the scan's target.
    pub target: Option<crate::parse::Target>,
}

impl Deployment {
    /// The deployment root relative to the scan root (`.` for the root itself).
    pub fn display_path(&self) -> String {
        relative_display(&self.scan_root, &self.root)
    }
}

/// `path` relative to `base` for reports, with `/` separators; `.` when equal.
pub fn relative_display(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let s = rel.to_string_lossy().replace('\\', "/");
    if s.is_empty() { ".".to_string() } else { s }
}

/// Why a path given on the command line could not be scanned at all.
#[derive(Debug, Error)]
pub enum DiscoverError {
    /// The path does not exist.
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Deployments, sorted by (scan root, root).
    pub deployments: Vec<Deployment>,
    /// Problems that belong to no deployment (an unreadable directory with
    /// no sources found above it).
    pub diagnostics: Vec<Diagnostic>,
    /// Infrastructure files that define functions (SAM templates,
    /// `serverless.yml`, CDK assembly templates, Terraform files), each with
    /// the scanned root it was found under; read by [`crate::functions`].
    pub infrastructure: Vec<(PathBuf, PathBuf)>,
}

/// Finds deployments under each path. A missing path is an error.
pub fn discover(fs: &dyn Fs, paths: &[PathBuf]) -> Result<Discovery, DiscoverError> {
    let mut out = Discovery::default();
    for path in paths {
        match fs.kind(path) {
            None => return Err(DiscoverError::NotFound(path.clone())),
            Some(_) if fs.is_dir(path) => walk_root(fs, path, &mut out),
            Some(_) => out.deployments.push(explicit_file(fs, path)),
        }
    }
    out.deployments
        .sort_by(|a, b| (&a.scan_root, &a.root).cmp(&(&b.scan_root, &b.root)));
    Ok(out)
}

/// The deployment for one file given explicitly.
fn explicit_file(fs: &dyn Fs, path: &Path) -> Deployment {
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut diagnostics = Vec::new();
    let in_node_modules = path.components().any(|c| c.as_os_str() == "node_modules");
    let format = if name == "package.json" && in_node_modules {
        Some(SourceFormat::InstalledPackageJson)
    } else if name == "METADATA"
        || name == "PKG-INFO"
        || name.ends_with(".egg-info")
        || name.ends_with(".whl")
        || name.ends_with(".egg")
    {
        Some(SourceFormat::PythonInstalled)
    } else if let Some(f) = SourceFormat::from_file_name(&name) {
        Some(f)
    } else if sniff_executable(fs, path) {
        Some(SourceFormat::RustBinary)
    } else {
        diagnostics.push(Diagnostic::new(
            Level::Info,
            path,
            "not a recognised dependency source (no known file name, not an executable)",
        ));
        None
    };
    // A file given inside a zip: the problems of that zip are this
    // deployment's.
    diagnostics.extend(fs.notes(&root));
    Deployment {
        scan_root: root.clone(),
        root,
        sources: format
            .map(|f| vec![SourceRef::new(path, f)])
            .unwrap_or_default(),
        config: None,
        diagnostics,
        target: None,
    }
}

fn sniff_executable(fs: &dyn Fs, path: &Path) -> bool {
    // Reads the file through the size-limited Fs; only the head matters.
    match fs.read(path) {
        Ok(bytes) => looks_like_executable(&bytes[..bytes.len().min(8)]),
        Err(_) => false,
    }
}

struct Walk<'a> {
    fs: &'a dyn Fs,
    scan_root: PathBuf,
    canonical_root: Option<PathBuf>,
    /// Canonical directory -> the path it was walked under.
    visited: HashMap<PathBuf, PathBuf>,
    /// sources per deployment root
    sources: BTreeMap<PathBuf, BTreeSet<SourceRef>>,
    configs: BTreeMap<PathBuf, PathBuf>,
    diagnostics: Vec<Diagnostic>,
    /// Infrastructure files (see [`Discovery::infrastructure`]).
    infrastructure: Vec<PathBuf>,
}

fn walk_root(fs: &dyn Fs, root: &Path, out: &mut Discovery) {
    let mut w = Walk {
        fs,
        scan_root: root.to_path_buf(),
        canonical_root: fs.canonicalize(root),
        visited: HashMap::new(),
        sources: BTreeMap::new(),
        configs: BTreeMap::new(),
        diagnostics: Vec::new(),
        infrastructure: Vec::new(),
    };
    w.walk_dir(root, 0);
    let Walk {
        sources,
        configs,
        mut diagnostics,
        scan_root,
        infrastructure,
        ..
    } = w;
    out.infrastructure
        .extend(infrastructure.into_iter().map(|p| (scan_root.clone(), p)));
    let grouped = crate::workspace::resolve_companions(fs, sources, &mut diagnostics);
    let mut deployments: Vec<Deployment> = grouped
        .into_iter()
        .map(|(root, sources)| Deployment {
            scan_root: scan_root.clone(),
            config: configs.get(&root).cloned(),
            root,
            sources,
            diagnostics: Vec::new(),
            target: None,
        })
        .collect();
    // Attach walk problems to the deepest deployment that contains them.
    for d in diagnostics {
        let owner = deployments
            .iter_mut()
            .filter(|dep| d.path.starts_with(&dep.root))
            .max_by_key(|dep| dep.root.components().count());
        match owner {
            Some(dep) => dep.diagnostics.push(d),
            None => out.diagnostics.push(d),
        }
    }
    out.deployments.extend(deployments);
}

impl Walk<'_> {
    fn add(&mut self, root: &Path, path: PathBuf, format: SourceFormat) {
        self.sources
            .entry(root.to_path_buf())
            .or_default()
            .insert(SourceRef::new(path, format));
    }

    fn walk_dir(&mut self, dir: &Path, depth: usize) {
        if depth > 64 {
            self.diagnostics.push(Diagnostic::new(
                Level::Error,
                dir,
                "directory nesting deeper than 64 levels; not descended, so any source below it is not scanned",
            ));
            return;
        }
        if let Some(canon) = self.fs.canonicalize(dir) {
            if let Some(first) = self.visited.get(&canon) {
                self.diagnostics.push(Diagnostic::new(
                    Level::Info,
                    dir,
                    format!(
                        "the same directory as {}, reached through a symbolic link; scanned once, under that path",
                        relative_display(&self.scan_root, first)
                    ),
                ));
                return;
            }
            self.visited.insert(canon, dir.to_path_buf());
        }
        self.diagnostics.extend(self.fs.notes(dir));
        let mut entries = match self.fs.read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.diagnostics
                    .push(Diagnostic::new(Level::Error, dir, e.to_string()));
                return;
            }
        };
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let mut has_dist_info = false;
        for entry in &entries {
            let kind = self.resolve_kind(entry.kind, &entry.path, &entry.name);
            match kind {
                Some(EntryKind::File) => {
                    if entry.name == "depwarden.toml" {
                        self.configs.insert(dir.to_path_buf(), entry.path.clone());
                    } else if crate::functions::names::is_infrastructure_name(&entry.name) {
                        // Functions hook: templates are read after discovery.
                        self.infrastructure.push(entry.path.clone());
                    } else if let Some(format) = SourceFormat::from_file_name(&entry.name) {
                        if format == SourceFormat::RustBinary
                            && !sniff_executable(self.fs, &entry.path)
                        {
                            continue;
                        }
                        self.add(dir, entry.path.clone(), format);
                    }
                }
                Some(EntryKind::Dir) => {
                    let name = entry.name.as_str();
                    let parent = dir.file_name().map(|n| n.to_string_lossy());
                    if entry.kind == EntryKind::Symlink
                        && !matches!(name, "node_modules" | "site-packages")
                        && !self.follow_link(dir, &entry.path)
                    {
                        continue;
                    }
                    if name == "node_modules" {
                        self.add(dir, entry.path.clone(), SourceFormat::NodeModules);
                    } else if name == "site-packages" {
                        let root = site_packages_root(self.fs, &entry.path);
                        self.add(&root, entry.path.clone(), SourceFormat::PythonInstalled);
                    } else if name.ends_with(".dist-info") || name.ends_with(".egg-info") {
                        has_dist_info = true;
                    } else if !skipped_dir(parent.as_deref(), name) {
                        self.walk_dir(&entry.path, depth + 1);
                    }
                }
                Some(EntryKind::Other) if SourceFormat::from_file_name(&entry.name).is_some() => {
                    self.diagnostics.push(Diagnostic::new(
                        Level::Error,
                        &entry.path,
                        "not a regular file (FIFO, socket or device); skipped",
                    ));
                }
                _ => {}
            }
        }
        if has_dist_info {
            // `python/` of a Lambda layer belongs to the layer's parent.
            let root = if dir.file_name().is_some_and(|n| n == "python") && dir != self.scan_root {
                dir.parent().unwrap_or(dir).to_path_buf()
            } else {
                dir.to_path_buf()
            };
            self.add(&root, dir.to_path_buf(), SourceFormat::PythonInstalled);
        }
    }

    /// Whether to walk the symbolic link `link` (in `dir`) to a directory
    /// inside the scanned root. Not when it points to `dir` or above it (a
    /// loop), nor when the walk reaches its target under its real path
    /// anyway: a directory is scanned once, under its real path, and the
    /// message says which path was kept.
    fn follow_link(&mut self, dir: &Path, link: &Path) -> bool {
        let (Some(target), Some(root)) = (self.fs.canonicalize(link), self.canonical_root.clone())
        else {
            return true;
        };
        let real = |p: &Path| relative_display(&root, p);
        if self
            .fs
            .canonicalize(dir)
            .is_some_and(|here| here.starts_with(&target))
        {
            self.diagnostics.push(Diagnostic::new(
                Level::Warning,
                link,
                format!(
                    "symbolic link loop: points to {}, which contains it; not followed",
                    real(&target)
                ),
            ));
            return false;
        }
        let Ok(rel) = target.strip_prefix(&root) else {
            return true;
        };
        let mut parent: Option<String> = None;
        let mut walked = true;
        for c in rel.components() {
            let name = c.as_os_str().to_string_lossy().into_owned();
            if not_walked(parent.as_deref(), &name) {
                walked = false;
                break;
            }
            parent = Some(name);
        }
        if !walked {
            self.diagnostics.push(Diagnostic::new(
                Level::Info,
                link,
                format!(
                    "symbolic link into {}, an installed tree or cache that is not searched for deployments; not followed",
                    real(&target)
                ),
            ));
            return false;
        }
        if rel.components().count() <= 64 {
            self.diagnostics.push(Diagnostic::new(
                Level::Info,
                link,
                format!(
                    "symbolic link to {}: that directory is scanned once, under its real path",
                    real(&target)
                ),
            ));
            return false;
        }
        true
    }

    /// The kind of an entry, following a symlink only when its target stays
    /// inside the scanned root. Problems are recorded as diagnostics: an
    /// error when what is not followed is a dependency source or a
    /// directory (it would be scanned if it were inside the root), a
    /// warning otherwise.
    fn resolve_kind(&mut self, kind: EntryKind, path: &Path, name: &str) -> Option<EntryKind> {
        if kind != EntryKind::Symlink {
            return Some(kind);
        }
        let named_source = SourceFormat::from_file_name(name).is_some()
            || matches!(name, "node_modules" | "site-packages");
        let Some(target) = self.fs.canonicalize(path) else {
            let level = if named_source {
                Level::Error
            } else {
                Level::Warning
            };
            self.diagnostics.push(Diagnostic::new(
                level,
                path,
                "dangling symbolic link; skipped",
            ));
            return None;
        };
        if let Some(root) = &self.canonical_root
            && !target.starts_with(root)
        {
            // Only the kind of the target is looked at, never its content.
            let is_dir = std::fs::metadata(&target).is_ok_and(|m| m.is_dir());
            let level = if named_source || is_dir {
                Level::Error
            } else {
                Level::Warning
            };
            self.diagnostics.push(Diagnostic::new(
                level,
                path,
                format!(
                    "symbolic link points outside the scanned root ({}); not followed, so what it points to is not scanned",
                    target.display()
                ),
            ));
            return None;
        }
        self.fs.kind(&target)
    }
}

/// The deployment root of a `site-packages` directory: the parent of a
/// Lambda layer's `python/`, the parent of a virtualenv, or the directory
/// above `lib/pythonX.Y/`.
fn site_packages_root(fs: &dyn Fs, site_packages: &Path) -> PathBuf {
    let lib_python = site_packages.parent();
    let base = lib_python
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python"))
        })
        .and_then(Path::parent)
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n == "lib" || n == "lib64" || n == "Lib")
        })
        .and_then(Path::parent);
    let Some(base) = base else {
        return site_packages
            .parent()
            .unwrap_or(site_packages)
            .to_path_buf();
    };
    let is_layer = base.file_name().is_some_and(|n| n == "python");
    let is_venv = fs.is_file(&base.join("pyvenv.cfg"));
    if is_layer || is_venv {
        base.parent().unwrap_or(base).to_path_buf()
    } else {
        base.to_path_buf()
    }
}

#[cfg(test)]
mod tests;
