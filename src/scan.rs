//! The pipeline up to the audit: the scanned tree (one zip-aware file
//! system, [`ScanTree`]), discovery, then parsing of every source in
//! parallel (rayon, at this one place), grouped back per deployment and
//! streamed to the caller deployment by deployment.

use rayon::prelude::*;

use crate::config_trust::ScanPolicy;
use crate::diagnostic::Diagnostic;
use std::path::PathBuf;

use crate::discover::{Deployment, DiscoverError, Discovery};
use crate::fs::{Fs, OsFs};
use crate::limits::ZipLimits;
use crate::parse::{ParseContext, ParseError, ParseOptions, ParsedSource};
use crate::parsers::parse_source;
use crate::policy::{Policies, PolicyError};
use crate::registry_config::{self, RegistryConfig};
use crate::source::SourceRef;
use crate::zipfs::{ZipAwareFs, mount_arguments, read_config};

/// One source and what parsing it gave.
#[derive(Debug)]
pub struct SourceOutcome {
    /// The source.
    pub source: SourceRef,
    /// The parsed graph, or why it could not be parsed.
    pub result: Result<ParsedSource, ParseError>,
}

/// A deployment with its parsed sources.
#[derive(Debug)]
pub struct ParsedDeployment {
    /// The deployment as discovered.
    pub deployment: Deployment,
    /// Its sources, in discovery order.
    pub sources: Vec<SourceOutcome>,
    /// CPU time spent parsing its sources (for `--timings`).
    pub parse_time: std::time::Duration,
    /// The registry configuration (`.npmrc`, `pip.conf`, ...) of its root
    /// and parents, read through the same file system as its sources (so
    /// inside a zip too).
    pub registry: RegistryConfig,
}

impl ParsedDeployment {
    /// Diagnostics of the deployment: walk problems, parse errors, and
    /// parser notes.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = self.deployment.diagnostics.clone();
        for s in &self.sources {
            match &s.result {
                Ok(parsed) => out.extend(parsed.diagnostics.iter().cloned()),
                Err(e) => out.push(Diagnostic::new(
                    crate::diagnostic::Level::Error,
                    e.path(),
                    e.detail(),
                )),
            }
        }
        out
    }

    /// True when any source (or the walk) reported an error-level problem.
    pub fn has_errors(&self) -> bool {
        self.diagnostics()
            .iter()
            .any(|d| d.level == crate::diagnostic::Level::Error)
    }
}

/// The result of discovery and parsing.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Parsed deployments, sorted by path.
    pub deployments: Vec<ParsedDeployment>,
    /// Problems that belong to no deployment.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses already-discovered deployments.
pub fn parse_deployments(
    fs: &dyn Fs,
    deployments: Vec<Deployment>,
    diagnostics: Vec<Diagnostic>,
    options: &ParseOptions,
) -> Inventory {
    let deployments = stream_deployments(fs, deployments, options, |_, d| d);
    Inventory {
        deployments,
        diagnostics,
    }
}

/// Parses the sources of one deployment, in parallel.
pub fn parse_deployment(
    fs: &dyn Fs,
    deployment: Deployment,
    options: &ParseOptions,
) -> ParsedDeployment {
    let started = std::time::Instant::now();
    // A deployment that functions run on its own target (their runtime
    // and architecture) is evaluated for it.
    let own;
    let options = match deployment.target {
        Some(t) if t != options.target => {
            own = ParseOptions::new(t, options.limits.clone());
            &own
        }
        _ => options,
    };
    let sources = deployment
        .sources
        .par_iter()
        .map(|source| {
            let ctx = ParseContext {
                fs,
                source,
                root: &deployment.root,
                options,
            };
            SourceOutcome {
                source: source.clone(),
                result: parse_source(&ctx),
            }
        })
        .collect();
    let registry = registry_config::read(fs, &deployment.root, &deployment.scan_root);
    ParsedDeployment {
        deployment,
        sources,
        parse_time: started.elapsed(),
        registry,
    }
}

/// Parses deployments in parallel and hands each one to `each` (with its
/// index in discovery order) as soon as its sources are parsed, then drops
/// it unless `each` keeps it: only the deployments being worked on are in
/// memory at once. Returns what `each` returned, in discovery order.
pub fn stream_deployments<R, F>(
    fs: &dyn Fs,
    deployments: Vec<Deployment>,
    options: &ParseOptions,
    each: F,
) -> Vec<R>
where
    R: Send,
    F: Fn(usize, ParsedDeployment) -> R + Sync + Send,
{
    deployments
        .into_par_iter()
        .enumerate()
        .map(|(i, d)| each(i, parse_deployment(fs, d, options)))
        .collect()
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

    /// Finds the deployments. Archive problems come with the walk
    /// ([`Fs::notes`]), so they belong to the deployment that holds them.
    pub fn discover(&self) -> Result<Discovery, DiscoverError> {
        self.discover_paths(&self.paths)
    }

    /// Finds the deployments under `paths` (inside the scan's roots, such
    /// as the mounted zips a function template names), as [`Self::discover`].
    pub fn discover_paths(&self, paths: &[PathBuf]) -> Result<Discovery, DiscoverError> {
        crate::discover::discover(&self.fs, paths)
    }

    /// The zip-aware file system the tree is read through.
    pub fn fs(&self) -> &dyn Fs {
        &self.fs
    }

    /// Parses the deployments in parallel and hands each to `each` as soon
    /// as it is parsed (see [`stream_deployments`]).
    pub fn stream<R, F>(
        &self,
        deployments: Vec<Deployment>,
        options: &ParseOptions,
        each: F,
    ) -> Vec<R>
    where
        R: Send,
        F: Fn(usize, ParsedDeployment) -> R + Sync + Send,
    {
        stream_deployments(&self.fs, deployments, options, each)
    }
}

/// The policy of every deployment of a scan, resolved once: the scan-wide
/// policy of `scan` (the invoking configuration with the command-line
/// flags over it), and for each deployment that holds its own
/// `depwarden.toml` (on disk or in a zip; not the invoking file itself)
/// that policy as the file may change it ([`ScanPolicy::nested`], which
/// records the file for the report). With `open_gate` (`scan --gate
/// none`) no policy closes the gate, whatever the files say.
pub fn policies(
    scan: &mut ScanPolicy,
    deployments: &[Deployment],
    open_gate: bool,
) -> Result<Policies, PolicyError> {
    let mut nested = std::collections::BTreeMap::new();
    for (i, d) in deployments.iter().enumerate() {
        let Some(cfg) = &d.config else { continue };
        if scan.is_invoking(cfg) {
            continue;
        }
        let text = read_config(cfg)?;
        nested.insert(i, scan.nested(cfg, &text, &d.display_path())?);
    }
    let mut policies = Policies::new(scan.global.clone(), nested);
    if open_gate {
        policies.open_every_gate();
    }
    Ok(policies)
}
