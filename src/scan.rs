//! The pipeline: discovery, then parsing of every source in parallel
//! (rayon, at this one place), grouped back per deployment.

use rayon::prelude::*;
use std::path::PathBuf;

use crate::discover::{Deployment, DiscoverError, Discovery, discover};
use crate::fs::Fs;
use crate::parse::{
    Diagnostic, ParseContext, ParseError, ParseOptions, ParsedSource, parse_source,
};
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
                    crate::parse::Level::Error,
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
            .any(|d| d.level == crate::parse::Level::Error)
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

/// Discovers and parses. Sources are parsed in parallel on the current
/// rayon pool.
pub fn inventory(
    fs: &dyn Fs,
    paths: &[PathBuf],
    options: &ParseOptions,
) -> Result<Inventory, DiscoverError> {
    let Discovery {
        deployments,
        diagnostics,
    } = discover(fs, paths)?;
    Ok(parse_deployments(fs, deployments, diagnostics, options))
}

/// Parses already-discovered deployments.
pub fn parse_deployments(
    fs: &dyn Fs,
    deployments: Vec<Deployment>,
    diagnostics: Vec<Diagnostic>,
    options: &ParseOptions,
) -> Inventory {
    let jobs: Vec<(usize, SourceRef)> = deployments
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.sources.iter().map(move |s| (i, s.clone())))
        .collect();
    let results: Vec<(usize, SourceOutcome)> = jobs
        .into_par_iter()
        .map(|(i, source)| {
            let ctx = ParseContext {
                fs,
                source: &source,
                root: &deployments[i].root,
                options,
            };
            let result = parse_source(&ctx);
            (i, SourceOutcome { source, result })
        })
        .collect();
    let mut parsed: Vec<ParsedDeployment> = deployments
        .into_iter()
        .map(|deployment| ParsedDeployment {
            registry: registry_config::read(fs, &deployment.root, &deployment.scan_root),
            deployment,
            sources: Vec::new(),
        })
        .collect();
    for (i, outcome) in results {
        parsed[i].sources.push(outcome);
    }
    Inventory {
        deployments: parsed,
        diagnostics,
    }
}
