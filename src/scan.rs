//! The pipeline: discovery, then parsing of every source in parallel
//! (rayon, at this one place), grouped back per deployment.

use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::discover::Deployment;
use crate::fs::Fs;
use crate::parse::{ParseContext, ParseError, ParseOptions, ParsedSource};
use crate::parsers::parse_source;
use crate::source::SourceRef;
use crate::supply::registry_config::{self, RegistryConfig};

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
