//! Which sources belong to which graph: a manifest beside a lockfile is
//! its companion, and which directories a lockfile covers (the workspace
//! members and local path packages it lists). Discovery asks it about a directory that has
//! its own manifest (`package.json`, `pyproject.toml`, `Pipfile`,
//! `Cargo.toml`) below a directory with a lockfile of the same ecosystem:
//! such a directory is part of that lockfile's graph only when the
//! lockfile lists it; otherwise it is a project of its own (a standalone
//! function, a test fixture, a template) and its own deployment.
//!
//! The lockfile is read by its own parser, so a member is recognised in
//! every form the parser understands (package-lock workspace folders and
//! `file:` links, pnpm importers, yarn and bun workspaces, uv editable and
//! virtual members, poetry directory sources, Cargo path crates).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Level};
use crate::fs::{Fs, normalize};
use crate::graph::PackageSource;
use crate::parse::{ParseContext, ParseOptions};
use crate::parsers::parse_source;
use crate::source::{SourceFormat, SourceRef};

/// The member directories of lockfiles, read once each.
pub struct Members<'a> {
    fs: &'a dyn Fs,
    options: ParseOptions,
    cache: HashMap<PathBuf, Vec<PathBuf>>,
}

impl<'a> Members<'a> {
    /// Reads lockfiles through `fs`.
    pub fn new(fs: &'a dyn Fs) -> Self {
        Members {
            fs,
            options: ParseOptions::default(),
            cache: HashMap::new(),
        }
    }

    /// True when the lockfile `lock` lists `dir` (a directory below the
    /// lockfile's own) as a workspace member or local path package. A
    /// lockfile that cannot be parsed lists nothing.
    pub fn covers(&mut self, lock: &SourceRef, dir: &Path) -> bool {
        let want = normalize(dir);
        self.of(lock).contains(&want)
    }

    fn of(&mut self, lock: &SourceRef) -> &[PathBuf] {
        let (fs, options) = (self.fs, &self.options);
        self.cache.entry(lock.path.clone()).or_insert_with(|| {
            let mut found = listed(fs, options, lock);
            // A Cargo.toml without a lockfile: the path crates of its path
            // crates too, as the lockfile Cargo writes lists them (inside
            // the manifest's directory, at most 1000).
            if lock.format == SourceFormat::CargoToml {
                let mut next = 0;
                while next < found.len() && found.len() < 1000 {
                    let dir = found[next].clone();
                    next += 1;
                    let manifest = SourceRef {
                        path: dir.join("Cargo.toml"),
                        format: SourceFormat::CargoToml,
                    };
                    if !dir.starts_with(lock.dir()) || !fs.is_file(&manifest.path) {
                        continue;
                    }
                    for d in listed(fs, options, &manifest) {
                        if !found.contains(&d) {
                            found.push(d);
                        }
                    }
                }
            }
            found
        })
    }
}

/// The local directories a lockfile (or a workspace manifest) lists.
fn listed(fs: &dyn Fs, options: &ParseOptions, lock: &SourceRef) -> Vec<PathBuf> {
    let base = lock.dir().to_path_buf();
    let ctx = ParseContext {
        fs,
        source: lock,
        root: &base,
        options,
    };
    let Ok(parsed) = parse_source(&ctx) else {
        return Vec::new();
    };
    parsed
        .graph
        .packages()
        .iter()
        .filter_map(|p| match &p.source {
            PackageSource::Path { path } if !path.is_empty() && !path.contains("://") => {
                let rel = path.strip_prefix("file:").unwrap_or(path);
                Some(normalize(&base.join(rel)))
            }
            _ => None,
        })
        .collect()
}

/// Which of `npm-shrinkwrap.json` and `package-lock.json` in one
/// directory npm reads ([`crate::parsers::npm::shrinkwrap_wins`]), the
/// other being dropped; says what was chosen.
fn npm_lock_choice(fs: &dyn Fs, dir: &Path) -> (SourceFormat, Diagnostic) {
    if crate::parsers::npm::shrinkwrap_wins(fs, dir) {
        (
            SourceFormat::PackageLock,
            Diagnostic::new(
                Level::Info,
                dir.join("package-lock.json"),
                "not scanned: npm reads npm-shrinkwrap.json, which is beside it, and ignores package-lock.json",
            ),
        )
    } else {
        (
            SourceFormat::NpmShrinkwrap,
            Diagnostic::new(
                Level::Warning,
                dir.join("npm-shrinkwrap.json"),
                "npm-shrinkwrap.json is empty, so npm reads package-lock.json instead: package-lock.json is scanned",
            ),
        )
    }
}

/// Applies the companion and workspace rules to sources grouped by root:
/// a manifest beside a lockfile of its ecosystem is that lockfile's
/// companion; a manifest below such a directory belongs to that lockfile
/// only when the lockfile lists its directory as a workspace member or
/// local package ([`Members`]), or, in a tree without a lockfile, when the
/// workspace manifest above lists it; otherwise it is a project of its
/// own.
pub fn resolve_companions(
    fs: &dyn Fs,
    mut sources: BTreeMap<PathBuf, BTreeSet<SourceRef>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<PathBuf, Vec<SourceRef>> {
    use crate::ecosystem::Ecosystem;
    use SourceFormat::*;
    // What may list workspace members: lockfiles, and the manifests that
    // declare workspaces (package.json `workspaces`, Cargo `[workspace]`)
    // for trees without a lockfile.
    let mut locks: Vec<SourceRef> = Vec::new();
    for (root, set) in &sources {
        for s in set {
            let lists = s.format.is_lockfile() || matches!(s.format, PackageJson | CargoToml);
            if lists && s.dir() == root.as_path() {
                locks.push(s.clone());
            }
        }
    }
    let mut members = crate::workspace::Members::new(fs);
    for (root, set) in sources.iter_mut() {
        let has = |f: SourceFormat, set: &BTreeSet<SourceRef>| {
            set.iter()
                .any(|s| s.format == f && s.dir() == root.as_path())
        };
        let npm_lock = [PackageLock, NpmShrinkwrap, YarnLock, PnpmLock, BunLock]
            .iter()
            .any(|f| has(*f, set));
        let py_lock = [PoetryLock, PipfileLock, PdmLock, UvLock, PylockToml]
            .iter()
            .any(|f| has(*f, set));
        let cargo_lock = has(CargoLock, set);
        // With both npm lockfiles in the root, the one npm ignores is dropped.
        let dropped = if has(NpmShrinkwrap, set) && has(PackageLock, set) {
            let (format, note) = npm_lock_choice(fs, root);
            diagnostics.push(note);
            Some(format)
        } else {
            None
        };
        let mut member_of = |eco: Ecosystem| {
            locks
                .iter()
                .filter(|l| {
                    l.format.ecosystem() == eco && l.dir() != root && root.starts_with(l.dir())
                })
                .any(|l| members.covers(l, root))
        };
        let npm_member =
            set.iter().any(|s| s.format == PackageJson) && !npm_lock && member_of(Ecosystem::Npm);
        let py_member = set.iter().any(|s| matches!(s.format, Pyproject | Pipfile))
            && !py_lock
            && member_of(Ecosystem::PyPI);
        let cargo_member = set.iter().any(|s| s.format == CargoToml)
            && !cargo_lock
            && member_of(Ecosystem::CratesIo);
        set.retain(|s| {
            let here = s.dir() == root.as_path();
            match s.format {
                PackageJson => here && !npm_lock && !npm_member,
                Pyproject | Pipfile => here && !py_lock && !py_member,
                CargoToml => here && !cargo_lock && !cargo_member,
                PackageLock | NpmShrinkwrap => !(here && dropped == Some(s.format)),
                _ => true,
            }
        });
    }
    sources
        .into_iter()
        .filter(|(_, set)| !set.is_empty())
        .map(|(root, set)| (root, set.into_iter().collect()))
        .collect()
}
