//! The parser contract: what every parser in [`crate::parsers`] receives
//! ([`ParseContext`]: the file system, the source, its deployment root and
//! the [`ParseOptions`]) and returns ([`ParsedSource`], or a [`ParseError`]
//! that names the file). Parsers only read (through [`Fs`]) and build
//! graphs; they know nothing about advisories.

use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::diagnostic::{Diagnostic, Level};
use crate::fs::{Fs, FsError};
use crate::graph::DepGraph;
use crate::limits::Limits;
use crate::source::SourceRef;

/// The "is not in the lockfile" warnings of one file (a dependency an entry
/// declares that no entry of the lockfile satisfies: an edge the graph
/// lacks). The first [`MissingDeps::LISTED`] are listed one by one; the
/// rest are counted in one closing line, so that none goes unreported.
#[derive(Debug)]
pub struct MissingDeps {
    path: PathBuf,
    listed: Vec<Diagnostic>,
    total: usize,
}

impl MissingDeps {
    /// How many are listed one by one.
    pub const LISTED: usize = 20;

    /// No missing dependency yet, in the file at `path`.
    pub fn new(path: &Path) -> Self {
        MissingDeps {
            path: path.to_path_buf(),
            listed: Vec::new(),
            total: 0,
        }
    }

    /// Records one; `what` says which dependency of which entry
    /// (`dependency a@^1 of b@1.0.0`).
    pub fn add(&mut self, what: impl FnOnce() -> String) {
        self.total += 1;
        if self.listed.len() < Self::LISTED {
            self.listed.push(Diagnostic::new(
                Level::Warning,
                &self.path,
                format!("{} is not in the lockfile", what()),
            ));
        }
    }

    /// How many were recorded.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The warnings: the listed ones, then one line counting the rest.
    pub fn finish(self, out: &mut Vec<Diagnostic>) {
        let rest = self.total - self.listed.len();
        out.extend(self.listed);
        if rest > 0 {
            out.push(Diagnostic::new(
                Level::Warning,
                &self.path,
                format!(
                    "{rest} more dependencies are not in the lockfile ({} in all; the first {} are listed)",
                    self.total,
                    Self::LISTED
                ),
            ));
        }
    }
}

/// Why a source could not be parsed. Every variant names the file.
#[derive(Debug, Error)]
pub enum ParseError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] FsError),
    /// The file is not valid in its format.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line/column when known.
        message: String,
    },
    /// The file parses but holds something the format does not allow.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A resource limit was hit (nesting depth, package count, expansion).
    #[error("{path}: {message}")]
    Limit {
        /// The file.
        path: PathBuf,
        /// Which limit.
        message: String,
    },
}

impl ParseError {
    /// The message without the file name (for places that name the file
    /// already, such as a diagnostic).
    pub fn detail(&self) -> String {
        match self {
            ParseError::Read(e) => e.to_string(),
            ParseError::Syntax { message, .. }
            | ParseError::Invalid { message, .. }
            | ParseError::Limit { message, .. } => message.clone(),
        }
    }

    /// A syntax error about `path`. Like every constructor here, the
    /// message (which may quote input) is redacted and cut
    /// ([`crate::redact::message`]).
    pub fn syntax(path: &Path, message: impl Into<String>) -> Self {
        ParseError::Syntax {
            path: path.to_path_buf(),
            message: crate::redact::message(message),
        }
    }

    /// An invalid-content error about `path`.
    pub fn invalid(path: &Path, message: impl Into<String>) -> Self {
        ParseError::Invalid {
            path: path.to_path_buf(),
            message: crate::redact::message(message),
        }
    }

    /// A limit error about `path`.
    pub fn limit(path: &Path, message: impl Into<String>) -> Self {
        ParseError::Limit {
            path: path.to_path_buf(),
            message: crate::redact::message(message),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> PathBuf {
        match self {
            ParseError::Read(e) => match e {
                FsError::Io { path, .. }
                | FsError::TooLarge { path, .. }
                | FsError::NotAFile { path }
                | FsError::OutsideRoot { path, .. }
                | FsError::Other { path, .. } => path.clone(),
            },
            ParseError::Syntax { path, .. }
            | ParseError::Invalid { path, .. }
            | ParseError::Limit { path, .. } => path.clone(),
        }
    }
}

pub use crate::target::{Arch, PythonTarget, Target};

/// Options that affect parsing.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Python marker-evaluation target.
    pub python: PythonTarget,
    /// The platform npm's `os`/`cpu`/`libc` fields are evaluated for.
    pub target: Target,
    /// Resource limits.
    pub limits: Limits,
}

impl ParseOptions {
    /// Options for `target` (its Python runtime included) with `limits`.
    pub fn new(target: Target, limits: Limits) -> Self {
        ParseOptions {
            python: PythonTarget::for_target(&target),
            target,
            limits,
        }
    }
}

/// What a parser gets: the file system, the source, the deployment root it
/// belongs to, and the options.
pub struct ParseContext<'a> {
    /// Read-only file access.
    pub fs: &'a dyn Fs,
    /// The source to parse.
    pub source: &'a SourceRef,
    /// The deployment root (parsers may read companion files inside it,
    /// e.g. the `package.json` beside a lockfile).
    pub root: &'a Path,
    /// Options.
    pub options: &'a ParseOptions,
}

impl ParseContext<'_> {
    /// The source file or directory.
    pub fn path(&self) -> &Path {
        &self.source.path
    }
}

/// Facts about a source beyond its graph, for later stages.
#[derive(Debug, Clone, Default)]
pub struct SourceFacts {
    /// The lockfile-format version, when the format has one (`3`, `6.0`, `v1`).
    pub format_version: Option<String>,
    /// Package indexes / registries the source names (`--index-url`,
    /// `--extra-index-url`, `.npmrc`-independent `resolved` hosts are in
    /// the packages' sources instead), credentials redacted.
    pub indexes: Vec<IndexRef>,
    /// True when the source is a manifest with no lockfile beside it, so the
    /// report can say the deployment has no lock.
    pub no_lockfile: bool,
    /// Set when the graph was resolved from registry metadata
    /// (`--resolve`): the cutoff and the digest of the metadata used.
    pub resolution: Option<crate::resolve::facts::ResolutionFacts>,
}

/// A package index a source refers to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndexRef {
    /// How it is referred to (`index-url`, `extra-index-url`, `find-links`,
    /// `source`, ...).
    pub kind: String,
    /// The URL with any credentials redacted.
    pub url: String,
    /// Name given to it, when any (poetry/uv source name).
    pub name: Option<String>,
}

/// The result of parsing one source.
#[derive(Debug, Clone, Default)]
pub struct ParsedSource {
    /// The dependency graph (finalized).
    pub graph: DepGraph,
    /// Non-fatal diagnostics (skipped lines, unsupported entries).
    pub diagnostics: Vec<Diagnostic>,
    /// Extra facts.
    pub facts: SourceFacts,
}

impl ParsedSource {
    /// A parsed source holding `graph` and nothing else.
    pub fn from_graph(graph: DepGraph) -> Self {
        ParsedSource {
            graph,
            ..Default::default()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn missing_dependencies_are_all_counted() {
        let mut m = MissingDeps::new(Path::new("yarn.lock"));
        for i in 0..45 {
            m.add(|| format!("dependency d{i}@^1"));
        }
        assert_eq!(m.total(), 45);
        let mut out = Vec::new();
        m.finish(&mut out);
        assert_eq!(out.len(), MissingDeps::LISTED + 1);
        assert_eq!(out[0].message, "dependency d0@^1 is not in the lockfile");
        let last = &out.last().unwrap().message;
        assert!(
            last.starts_with("25 more dependencies are not in the lockfile (45 in all"),
            "{last}"
        );
        let mut few = MissingDeps::new(Path::new("yarn.lock"));
        few.add(|| "dependency a@1".to_string());
        let mut out = Vec::new();
        few.finish(&mut out);
        assert_eq!(out.len(), 1);
    }
}
