//! One walk over each artifact a function deploys (its code directory or
//! zip, a layer's content): the apparent size of every file, the installed
//! Python distributions with their wheel tags (`*.dist-info/WHEEL`),
//! `Requires-Python` and native files (`RECORD`), the native files
//! themselves (ELF machine, glibc versions, musl), and wheel files lying
//! in the package. An artifact shared by several functions is walked once.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::elf::{self, ElfFacts};
use super::platform::{self, WheelTag};
use crate::diagnostic::{Diagnostic, Level};
use crate::fs::{EntryKind, Fs};

/// Deepest directory nesting walked inside an artifact.
const MAX_DEPTH: usize = 64;

/// An installed Python distribution.
#[derive(Debug, Clone)]
pub struct Dist {
    /// The `*.dist-info` directory.
    pub dir: PathBuf,
    /// `Name` and `Version` from `METADATA`.
    pub name: String,
    /// Version.
    pub version: String,
    /// `Tag:` lines of `WHEEL` (empty: no `WHEEL`, an egg or sdist install).
    pub tags: Vec<WheelTag>,
    /// `Requires-Python`.
    pub requires_python: Option<String>,
    /// Native files `RECORD` lists (paths under the artifact).
    pub natives: Vec<PathBuf>,
}

/// What one artifact holds.
#[derive(Debug, Clone, Default)]
pub struct ArtifactFacts {
    /// Sum of the apparent sizes of its files.
    pub unzipped: u64,
    /// The zip's size on disk, for a zip.
    pub zipped: Option<u64>,
    /// False when part of it could not be measured or read.
    pub complete: bool,
    /// Installed Python distributions.
    pub dists: Vec<Dist>,
    /// Native files and what they need.
    pub natives: Vec<(PathBuf, ElfFacts)>,
    /// `.whl` files and their tags.
    pub wheels: Vec<(PathBuf, Vec<WheelTag>)>,
    /// Problems met.
    pub diagnostics: Vec<Diagnostic>,
}

/// Facts per artifact root, computed once.
#[derive(Default)]
pub struct FactsCache {
    by_root: HashMap<PathBuf, ArtifactFacts>,
}

impl FactsCache {
    /// The facts of the artifact at `root` (a directory, or a zip's mount
    /// path).
    pub fn get(&mut self, fs: &dyn Fs, root: &Path) -> &ArtifactFacts {
        self.by_root
            .entry(root.to_path_buf())
            .or_insert_with(|| walk(fs, root))
    }
}

/// Walks one artifact.
pub fn walk(fs: &dyn Fs, root: &Path) -> ArtifactFacts {
    let mut facts = ArtifactFacts {
        complete: true,
        ..Default::default()
    };
    let zip_file = root
        .to_str()
        .and_then(|s| s.strip_suffix(crate::zipfs::ZIP_MARK))
        .map(PathBuf::from);
    if let Some(z) = &zip_file {
        facts.zipped = fs.file_size(z);
    }
    let mut dist_dirs = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            facts.complete = false;
            facts.diagnostics.push(Diagnostic::new(
                Level::Error,
                &dir,
                "nested deeper than 64 levels; not measured or checked below",
            ));
            continue;
        }
        let entries = match fs.read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                facts.complete = false;
                facts
                    .diagnostics
                    .push(Diagnostic::new(Level::Error, &dir, e.to_string()));
                continue;
            }
        };
        for e in entries {
            match e.kind {
                EntryKind::Dir => {
                    if e.name.ends_with(".dist-info") {
                        dist_dirs.push(e.path.clone());
                    }
                    stack.push((e.path, depth + 1));
                }
                EntryKind::File => {
                    match fs.file_size(&e.path) {
                        Some(n) => facts.unzipped = facts.unzipped.saturating_add(n),
                        None => facts.complete = false,
                    }
                    if elf::is_native_name(&e.name) {
                        match fs.read(&e.path) {
                            Ok(bytes) => {
                                if let Some(f) = elf::inspect(&bytes) {
                                    facts.natives.push((e.path.clone(), f));
                                }
                            }
                            Err(err) => facts.diagnostics.push(Diagnostic::new(
                                Level::Warning,
                                &e.path,
                                format!("native file not checked: {err}"),
                            )),
                        }
                    } else if e.name.ends_with(".whl")
                        && let Some(tags) = platform::tags_from_wheel_name(&e.name)
                    {
                        facts.wheels.push((e.path.clone(), tags));
                    }
                }
                // Links are kept as links by Lambda; what they point to is
                // counted where it lies.
                EntryKind::Symlink | EntryKind::Other => {}
            }
        }
    }
    for d in dist_dirs {
        if let Some(dist) = read_dist(fs, &d) {
            facts.dists.push(dist);
        }
    }
    facts.dists.sort_by(|a, b| a.dir.cmp(&b.dir));
    facts.natives.sort_by(|a, b| a.0.cmp(&b.0));
    facts
}

/// Reads a `*.dist-info` directory's `METADATA`, `WHEEL` and `RECORD`.
fn read_dist(fs: &dyn Fs, dir: &Path) -> Option<Dist> {
    let meta = fs.read_to_string(&dir.join("METADATA")).ok()?;
    let parsed = crate::parsers::pypi::dist_info::parse_metadata(&meta)?;
    let requires_python = header_field(&meta, "requires-python");
    let tags = fs
        .read_to_string(&dir.join("WHEEL"))
        .map(|w| platform::tags_from_wheel_file(&w))
        .unwrap_or_default();
    let site = dir.parent().map(Path::to_path_buf).unwrap_or_default();
    let natives = fs
        .read_to_string(&dir.join("RECORD"))
        .map(|r| {
            r.lines()
                .filter_map(|l| l.split(',').next())
                .filter(|p| {
                    let name = p.rsplit('/').next().unwrap_or(p);
                    elf::is_native_name(name) && !p.contains("..")
                })
                .map(|p| site.join(p))
                .collect()
        })
        .unwrap_or_default();
    Some(Dist {
        dir: dir.to_path_buf(),
        name: parsed.name,
        version: parsed.version,
        tags,
        requires_python,
        natives,
    })
}

/// A header field of a METADATA file (before the first blank line).
fn header_field(text: &str, key: &str) -> Option<String> {
    text.lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().to_string())
}

/// The npm package a native file belongs to: the nearest
/// `node_modules/<name>` or `node_modules/@scope/<name>` above it, with the
/// version from that folder's `package.json`.
pub fn npm_owner(fs: &dyn Fs, file: &Path) -> Option<(String, Option<String>)> {
    let comps: Vec<String> = file
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let at = comps.iter().rposition(|c| c == "node_modules")?;
    let first = comps.get(at + 1)?;
    let (name, len) = if first.starts_with('@') {
        (format!("{first}/{}", comps.get(at + 2)?), 2)
    } else {
        (first.clone(), 1)
    };
    let dir: PathBuf = comps[..=at + len].iter().collect();
    let version = fs
        .read_to_string(&dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v.get("version")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        });
    Some((name, version))
}

/// Groups files by a key, keeping first-seen order of keys.
pub fn group<K: Ord + Clone, V>(items: Vec<(K, V)>) -> BTreeMap<K, Vec<V>> {
    let mut out: BTreeMap<K, Vec<V>> = BTreeMap::new();
    for (k, v) in items {
        out.entry(k).or_default().push(v);
    }
    out
}
