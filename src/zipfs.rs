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

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use zip::ZipArchive;

use crate::diagnostic::{Diagnostic, Level};
use crate::discover::Deployment;
use crate::fs::{DirEntry, EntryKind, Fs, FsError, OsFs};
use crate::limits::ZipLimits;
use crate::scan::{Inventory, ParsedDeployment};

mod central;
mod links;

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

/// One entry of an opened archive.
#[derive(Debug, Clone)]
struct Entry {
    index: usize,
    kind: EntryKind,
    /// Why reading it is refused (encrypted, over a limit).
    refused: Option<String>,
    /// The entry's name as written in the archive (for messages).
    raw: String,
    /// For a symbolic link, where it points (as written).
    target: Option<String>,
}

/// Longest symbolic-link target read from an archive.
const MAX_LINK_TARGET: u64 = 4096;

/// An opened archive: its bytes and its checked directory.
struct Archive {
    mount: PathBuf,
    zip: Mutex<ZipArchive<Cursor<Vec<u8>>>>,
    entries: HashMap<PathBuf, Entry>,
    dirs: HashMap<PathBuf, BTreeMap<String, EntryKind>>,
    depth: usize,
    max_entry_size: u64,
}

/// Splits an entry name into safe relative components, or says why not.
fn safe_entry_path(name: &str) -> Result<PathBuf, &'static str> {
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
    fn open(
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

    fn read(&self, rel: &Path, full: &Path) -> Result<Vec<u8>, FsError> {
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

type Mounted = Result<Arc<Archive>, String>;

/// The real file system, with `.zip` archives readable in memory under
/// `<zip>!/...` paths. Nothing is ever written.
pub struct ZipAwareFs {
    os: OsFs,
    limits: ZipLimits,
    /// Show `.zip` files met while listing real directories as directories
    /// (`--zips`).
    zips_in_dirs: bool,
    mounts: Mutex<HashMap<PathBuf, Mounted>>,
    diagnostics: Mutex<Vec<Diagnostic>>,
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
            diagnostics: Mutex::new(Vec::new()),
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

    /// Problems met while opening archives (refused entries, symlinks,
    /// encrypted entries), drained.
    pub fn take_diagnostics(&self) -> Vec<Diagnostic> {
        match self.diagnostics.lock() {
            Ok(mut d) => std::mem::take(&mut *d),
            Err(_) => Vec::new(),
        }
    }

    fn mount(&self, mount: &Path, parent: &Loc, zip_rel: Option<&Path>, depth: usize) -> Mounted {
        if let Ok(m) = self.mounts.lock()
            && let Some(found) = m.get(mount)
        {
            return found.clone();
        }
        let result = self.open_mount(mount, parent, zip_rel, depth);
        if let Ok(mut m) = self.mounts.lock() {
            m.insert(mount.to_path_buf(), result.clone());
        }
        result
    }

    fn open_mount(
        &self,
        mount: &Path,
        parent: &Loc,
        zip_rel: Option<&Path>,
        depth: usize,
    ) -> Mounted {
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
        let mut diags = Vec::new();
        let archive = Archive::open(mount.to_path_buf(), bytes, depth, &self.limits, &mut diags);
        if let Ok(mut d) = self.diagnostics.lock() {
            d.extend(diags);
        }
        archive.map(Arc::new)
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

    fn note(&self, d: Diagnostic) {
        if let Ok(mut all) = self.diagnostics.lock() {
            all.push(d);
        }
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
                if !nested {
                    for name in listing.keys().filter(|n| is_zip_name(n)) {
                        self.note(Diagnostic::new(
                            Level::Error,
                            path.join(name),
                            format!(
                                "zip nested more than {} level(s) deep; not opened, so what it holds is not scanned",
                                self.limits.max_nesting
                            ),
                        ));
                    }
                }
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

/// Discovers and parses `paths` with zips readable in memory: a `.zip`
/// given explicitly is scanned as a deployment root, and with `zips` every
/// `.zip` met during discovery is too. Archive problems are reported with
/// the deployment they belong to.
pub fn inventory(
    paths: &[PathBuf],
    zips: bool,
    options: &crate::parse::ParseOptions,
) -> Result<Inventory, crate::discover::DiscoverError> {
    let tree = ScanTree::new(paths, zips, options.limits.max_file_size);
    let discovery = tree.discover()?;
    let (deployments, late) = tree.stream(discovery.deployments, options, |_, d| d);
    let mut inv = Inventory {
        deployments,
        diagnostics: discovery.diagnostics,
    };
    for (i, d) in late {
        match i.and_then(|i| inv.deployments.get_mut(i)) {
            Some(dep) => dep.deployment.diagnostics.push(d),
            None => inv.diagnostics.push(d),
        }
    }
    Ok(inv)
}

/// The paths of a scan, read through one zip-aware file system: discovery
/// first, then deployments parsed and handed over one by one.
pub struct ScanTree {
    fs: ZipAwareFs,
    paths: Vec<PathBuf>,
}

impl ScanTree {
    /// The tree under `paths`; with `zips`, zips found during discovery are
    /// opened too (a zip named on the command line always is).
    /// `max_file_size` caps every file read, on disk or in a zip.
    pub fn new(paths: &[PathBuf], zips: bool, max_file_size: u64) -> ScanTree {
        let os = OsFs::with_limit(max_file_size);
        // Made canonical once, here: what a scan finds never depends on how
        // its paths are spelled or on the working directory (reports show
        // paths relative to these roots). A path that does not exist is
        // kept as given, for the error that names it.
        let paths: Vec<PathBuf> = paths
            .iter()
            .map(|p| os.canonicalize(p).unwrap_or_else(|| p.clone()))
            .collect();
        let limits = ZipLimits {
            max_entry_size: max_file_size,
            ..ZipLimits::default()
        };
        let boundary = crate::boundary::Boundary::new(&paths);
        let paths = mount_arguments(&os, &paths);
        ScanTree {
            fs: ZipAwareFs::new(os, limits, zips).within(boundary),
            paths,
        }
    }

    /// Finds the deployments; archive problems met on the way are attached
    /// to the deployment that holds them.
    pub fn discover(&self) -> Result<crate::discover::Discovery, crate::discover::DiscoverError> {
        let mut discovery = crate::discover::discover(&self.fs, &self.paths)?;
        for d in self.fs.take_diagnostics() {
            let roots = discovery.deployments.iter().map(|dep| dep.root.as_path());
            match owner(roots, &d.path) {
                Some(i) => discovery.deployments[i].diagnostics.push(d),
                None => discovery.diagnostics.push(d),
            }
        }
        Ok(discovery)
    }

    /// Parses the deployments in parallel and hands each to `each` as soon
    /// as it is parsed (see [`crate::scan::stream_deployments`]). Also
    /// returns the archive problems met while parsing, each with the index
    /// of the deployment that holds it (`None`: no deployment does).
    #[allow(clippy::type_complexity)]
    pub fn stream<R, F>(
        &self,
        deployments: Vec<Deployment>,
        options: &crate::parse::ParseOptions,
        each: F,
    ) -> (Vec<R>, Vec<(Option<usize>, Diagnostic)>)
    where
        R: Send,
        F: Fn(usize, ParsedDeployment) -> R + Sync + Send,
    {
        let roots: Vec<PathBuf> = deployments.iter().map(|d| d.root.clone()).collect();
        let results = crate::scan::stream_deployments(&self.fs, deployments, options, each);
        let late = self
            .fs
            .take_diagnostics()
            .into_iter()
            .map(|d| (owner(roots.iter().map(PathBuf::as_path), &d.path), d))
            .collect();
        (results, late)
    }
}

/// The deepest deployment root (by index) that holds `path`, directly or
/// through the archive `path` is inside of.
fn owner<'r>(roots: impl Iterator<Item = &'r Path>, path: &Path) -> Option<usize> {
    let zip = zip_of(path);
    roots
        .enumerate()
        .filter(|(_, root)| path.starts_with(root) || root.starts_with(&zip))
        .max_by_key(|(_, root)| root.components().count())
        .map(|(i, _)| i)
}

/// Reads the text of a `depwarden.toml`, which may sit inside a zip.
pub fn read_config(path: &Path) -> Result<String, crate::policy::PolicyError> {
    let read_err = |e: String| crate::policy::PolicyError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let in_zip = path
        .components()
        .any(|c| matches!(c, Component::Normal(n) if mount_component(n)));
    if !in_zip {
        return OsFs::with_limit(1024 * 1024)
            .read_to_string(path)
            .map_err(|e| read_err(e.to_string()));
    }
    let fs = ZipAwareFs::new(OsFs::default(), ZipLimits::default(), false);
    fs.read_to_string(path).map_err(|e| read_err(e.to_string()))
}

/// The innermost mount path a path is inside of (the path itself if none).
fn zip_of(path: &Path) -> PathBuf {
    let mut prefix = PathBuf::new();
    let mut last = path.to_path_buf();
    for comp in path.components() {
        prefix.push(comp.as_os_str());
        if matches!(comp, Component::Normal(c) if mount_component(c)) {
            last = prefix.clone();
        }
    }
    last
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

    #[test]
    fn mount_components() {
        assert!(mount_component(std::ffi::OsStr::new("f.zip!")));
        assert!(mount_component(std::ffi::OsStr::new("F.ZIP!")));
        assert!(!mount_component(std::ffi::OsStr::new("f.zip")));
        assert!(!mount_component(std::ffi::OsStr::new(".zip!")));
        assert_eq!(
            zip_of(Path::new("/x/a.zip!/b/c.zip!/d")),
            PathBuf::from("/x/a.zip!/b/c.zip!")
        );
    }
}
