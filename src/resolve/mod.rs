//! Resolution of manifests without a lockfile (`--resolve`): the tree the
//! installer would install, predicted from registry metadata.
//!
//! - [`store`] keeps registry documents (sled, beside the advisory store),
//!   [`digest`] turns registry answers into them, [`fetch`] brings them
//!   (`--online`), [`docs`] reads them for one resolution with the cutoff
//!   applied and records what was used (the digest the report states);
//! - [`input`] reads what a manifest asks for;
//! - [`pypi`] (PubGrub, pip's rules), [`npm`] (npm's ideal tree) and
//!   [`cargo`] (PubGrub, Cargo's rules) resolve; [`tree`] turns a result
//!   into a graph whose packages are marked `resolved`.
//!
//! [`Resolver::apply`] is the one integration point with the pipeline: it
//! replaces the graph of each manifest-only source of a parsed deployment
//! by the resolved tree. Offline, a name whose metadata is not stored is
//! left unresolved and named in an error that says how to fetch it.

pub mod cargo;
pub mod cargo_cfg;
pub mod cargo_paths;
pub mod cli;
pub mod digest;
pub mod docs;
pub mod facts;
pub mod fetch;
pub mod input;
pub mod model;
pub mod npm;
pub mod npm_pick;
pub mod pypi;
pub mod pypi_tags;
pub mod store;
pub mod tree;
pub mod wheel_range;

use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::fs::Fs;
use crate::parse::{ParsedSource, Target};
use crate::scan::ParsedDeployment;
use crate::source::SourceFormat;
use docs::Docs;
use fetch::{FetchOptions, Request};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use store::{MetaStore, MetaStoreError};
use tree::Tree;

/// How to resolve.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    /// Nothing published after this instant (Unix seconds) is seen.
    pub cutoff: u64,
    /// Fetch missing documents and refresh the ones used.
    pub online: bool,
    /// The metadata store directory.
    pub store_dir: PathBuf,
    /// Network settings.
    pub fetch: FetchOptions,
    /// The platform resolved for.
    pub target: Target,
}

/// Resolves manifest-only deployments.
pub struct Resolver {
    opts: ResolveOptions,
    store: Option<MetaStore>,
    /// Documents fetched or refreshed in this run (each at most once).
    tried: Mutex<BTreeSet<Request>>,
    /// The HTTP client, built on first use.
    client: std::sync::OnceLock<Result<reqwest::blocking::Client, String>>,
    /// When the run started (fetching stops at the budget).
    started: std::time::Instant,
}

/// The source formats a lockfile or an installed tree of each ecosystem
/// comes in: a deployment with one of them is not resolved.
fn locks(format: SourceFormat) -> bool {
    use SourceFormat::*;
    !matches!(
        format,
        PackageJson | Requirements | Pyproject | Pipfile | CargoToml
    )
}

/// Most rounds of resolve-then-fetch online.
const MAX_ROUNDS: usize = 64;

impl Resolver {
    /// A resolver; online it creates the store, offline it only opens an
    /// existing one.
    pub fn new(opts: ResolveOptions) -> Result<Resolver, MetaStoreError> {
        let store = if opts.online {
            Some(MetaStore::open(&opts.store_dir)?)
        } else {
            MetaStore::open_existing(&opts.store_dir)?
        };
        Ok(Resolver {
            opts,
            store,
            tried: Mutex::new(BTreeSet::new()),
            client: std::sync::OnceLock::new(),
            started: std::time::Instant::now(),
        })
    }

    /// The cutoff (Unix seconds).
    pub fn cutoff(&self) -> u64 {
        self.opts.cutoff
    }

    /// Runs `f` until it needs no document that is not stored (online:
    /// fetching what it missed and refreshing what it used, once each).
    /// Returns its result, the digest, the requests still unmet and the
    /// fetch errors.
    fn rounds<T>(&self, f: impl Fn(&Docs<'_>) -> T) -> (T, String, Vec<Request>, Vec<String>) {
        let mut errors = Vec::new();
        let mut round = 0;
        loop {
            let docs = Docs::new(self.store.as_ref(), self.opts.cutoff);
            let out = f(&docs);
            errors.extend(docs.errors());
            let wanted = docs.wanted();
            let (true, Some(store)) = (self.opts.online, self.store.as_ref()) else {
                return (out, docs.digest(), wanted, errors);
            };
            let mut need: Vec<Request> = wanted.clone();
            need.extend(docs.used());
            let need: Vec<Request> = match self.tried.lock() {
                Ok(mut tried) => need
                    .into_iter()
                    .filter(|r| tried.insert(r.clone()))
                    .collect(),
                Err(_) => Vec::new(),
            };
            round += 1;
            if need.is_empty() || round > MAX_ROUNDS {
                return (out, docs.digest(), wanted, errors);
            }
            errors.extend(self.fetch_closure(store, need));
        }
    }

    /// Fetches `first`, then, wave after wave, the npm packages and crates
    /// the newest version of each fetched document depends on (the likely
    /// closure), so that a resolution needs few rounds; each document at
    /// most once per run. Returns the fetch errors.
    fn fetch_closure(&self, store: &MetaStore, first: Vec<Request>) -> Vec<String> {
        let client = match self.client.get_or_init(|| fetch::client(&self.opts.fetch)) {
            Ok(c) => c,
            Err(e) => return vec![e.clone()],
        };
        let mut errors = Vec::new();
        let mut batch = first;
        for wave in 0..MAX_ROUNDS {
            if wave > 0 {
                batch = match self.tried.lock() {
                    Ok(mut tried) => batch
                        .into_iter()
                        .filter(|r| tried.insert(r.clone()))
                        .collect(),
                    Err(_) => Vec::new(),
                };
            }
            if batch.is_empty() {
                break;
            }
            if self.started.elapsed() > self.opts.fetch.budget {
                errors.push(format!(
                    "{} documents not fetched: the {} s budget of a run is spent",
                    batch.len(),
                    self.opts.fetch.budget.as_secs()
                ));
                break;
            }
            errors.extend(fetch::fetch(store, client, &batch, &self.opts.fetch).errors);
            let mut next = BTreeSet::new();
            for r in &batch {
                for name in likely_dependencies(store, r) {
                    let req = match r {
                        Request::Npm(_) => Request::Npm(name),
                        _ => Request::Crates(name.to_ascii_lowercase()),
                    };
                    let (kind, key) = req.key();
                    if store.get_raw(kind, &key).ok().flatten().is_none() {
                        next.insert(req);
                    }
                }
            }
            batch = next.into_iter().collect();
        }
        errors
    }

    /// Replaces the graph of every manifest-only source of `parsed` by the
    /// tree resolved for it (the integration point with the pipeline).
    pub fn apply(&self, fs: &dyn Fs, parsed: &mut ParsedDeployment) {
        let locked: BTreeSet<Ecosystem> = parsed
            .sources
            .iter()
            .filter(|s| locks(s.source.format))
            .map(|s| s.source.format.ecosystem())
            .collect();
        let root = parsed.deployment.root.clone();
        for s in &mut parsed.sources {
            let format = s.source.format;
            if locks(format)
                || locked.contains(&format.ecosystem())
                || format == SourceFormat::Pipfile
            {
                continue;
            }
            let Ok(old) = &s.result else { continue };
            let project = old
                .graph
                .packages()
                .iter()
                .find(|p| p.root)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| dir_name(&root));
            let path = s.source.path.clone();
            let mut diagnostics: Vec<Diagnostic> = old
                .diagnostics
                .iter()
                .filter(|d| {
                    !(d.message.starts_with("no lockfile")
                        || d.message.starts_with("no Cargo.lock"))
                })
                .cloned()
                .collect();
            let outcome = self.resolve_source(fs, format, &path, &root);
            let (tree, digest, unmet, errors) = match outcome {
                Ok(x) => x,
                Err(e) => {
                    diagnostics.push(Diagnostic::new(
                        Level::Error,
                        &path,
                        format!("not resolved: {e}"),
                    ));
                    if let Ok(old) = &mut s.result {
                        old.diagnostics = diagnostics;
                    }
                    continue;
                }
            };
            let tree = match tree {
                Ok(t) => t,
                Err(why) => {
                    diagnostics.push(Diagnostic::new(
                        Level::Error,
                        &path,
                        format!("no set of versions satisfies the requirements at the cutoff {}:\n{why}", crate::clock::rfc3339(self.opts.cutoff)),
                    ));
                    if let Ok(old) = &mut s.result {
                        old.diagnostics = diagnostics;
                    }
                    continue;
                }
            };
            for e in errors.iter().take(20) {
                diagnostics.push(Diagnostic::new(
                    Level::Warning,
                    &path,
                    format!("registry metadata not fetched: {e}"),
                ));
            }
            if !unmet.is_empty() {
                let names: BTreeSet<String> = unmet.iter().map(request_name).collect();
                let list: Vec<String> = names.into_iter().collect();
                let how = if self.opts.online {
                    "the registry could not be reached for them"
                } else {
                    "fetch it with `depwarden resolve --online` (or `scan --resolve --online`), or import a metadata export with `depwarden db import-metadata FILE`"
                };
                diagnostics.push(Diagnostic::new(
                    Level::Error,
                    &path,
                    format!(
                        "registry metadata missing for {}: {}; {how}",
                        list.len(),
                        list.join(", ")
                    ),
                ));
            }
            for u in &tree.unresolved {
                diagnostics.push(Diagnostic::new(
                    Level::Warning,
                    &path,
                    format!(
                        "{}{}: unresolved: {}",
                        u.name,
                        u.requirement
                            .as_deref()
                            .map(|r| format!(" {r}"))
                            .unwrap_or_default(),
                        u.reason
                    ),
                ));
            }
            let facts = facts::ResolutionFacts {
                cutoff: crate::clock::rfc3339(self.opts.cutoff),
                digest,
                packages: tree.packages.len(),
                unresolved: tree.unresolved.iter().map(|u| u.name.clone()).collect(),
            };
            let mut facts_all = old.facts.clone();
            facts_all.no_lockfile = true;
            facts_all.resolution = Some(facts);
            s.result = Ok(ParsedSource {
                graph: tree.into_graph(format.ecosystem(), &project),
                diagnostics,
                facts: facts_all,
            });
        }
    }

    /// Reads the manifest and resolves it.
    #[allow(clippy::type_complexity)]
    fn resolve_source(
        &self,
        fs: &dyn Fs,
        format: SourceFormat,
        path: &Path,
        root: &Path,
    ) -> Result<(Result<Tree, String>, String, Vec<Request>, Vec<String>), String> {
        let target = self.opts.target;
        Ok(match format {
            SourceFormat::PackageJson => {
                let input = input::npm(fs, path)?;
                let (t, d, u, e) = self.rounds(|docs| npm::resolve(&input, docs, &target));
                (Ok(t), d, u, e)
            }
            SourceFormat::Requirements | SourceFormat::Pyproject => {
                let (input, extra) = if format == SourceFormat::Requirements {
                    input::requirements(fs, path, root)?
                } else {
                    input::pyproject(fs, path)?
                };
                let (t, d, u, e) = self.rounds(|docs| pypi::resolve(&input, docs, &target));
                let t = t.map(|mut t| {
                    t.unresolved.extend(extra.clone());
                    t
                });
                (t, d, u, e)
            }
            SourceFormat::CargoToml => {
                let input = input::cargo(fs, path, root)?;
                self.rounds(|docs| cargo::resolve(&input, docs, &target))
            }
            _ => return Err("not a manifest".into()),
        })
    }
}

/// The names the newest version of a stored npm or crates.io document
/// depends on (dev-dependencies aside; a crate's optional dependencies
/// too, as most are never enabled: the next round fetches those that are).
fn likely_dependencies(store: &MetaStore, r: &Request) -> Vec<String> {
    match r {
        Request::Npm(n) => {
            let Ok(Some(doc)) = store.get::<model::NpmDoc>(store::DocKind::Npm, n) else {
                return Vec::new();
            };
            let newest = doc
                .latest
                .as_deref()
                .and_then(|l| doc.versions.iter().find(|v| v.version == l))
                .or(doc.versions.last());
            newest
                .map(|v| {
                    v.deps
                        .keys()
                        .chain(v.optional.keys())
                        .chain(v.peer.keys())
                        .filter(|d| !v.bundled.contains(d))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        }
        Request::Crates(n) => {
            let Ok(Some(doc)) = store.get::<model::CrateDoc>(store::DocKind::Crates, n) else {
                return Vec::new();
            };
            doc.versions
                .iter()
                .rev()
                .find(|v| !v.yanked)
                .map(|v| {
                    v.deps
                        .iter()
                        .filter(|d| d.kind.as_deref() != Some("dev") && !d.optional)
                        .map(|d| d.crate_name().to_string())
                        .collect()
                })
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

fn request_name(r: &Request) -> String {
    match r {
        Request::Npm(n) | Request::Pypi(n) | Request::Crates(n) => n.clone(),
        Request::PypiMetadata { key, .. } => key.split('/').next().unwrap_or(key).to_string(),
    }
}

fn dir_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| ".".into())
}
