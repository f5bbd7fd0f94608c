//! `requirements*.txt`: pip's requirements-file grammar.
//!
//! - Requirement lines are parsed with `pep508_rs`; only an exact pin
//!   (`==` without a wildcard, or `===`) gives a version, kept as written.
//!   Anything else is an unresolved direct dependency (version `None`,
//!   requirement kept) and is never matched by guessing.
//! - `-r` / `--requirement` includes are read relative to the including
//!   file (with cycle protection); `-c` / `--constraint` files pin the
//!   versions of packages named elsewhere.
//! - Comments (` #` and whole-line `#`), line continuations, per-requirement
//!   options (`--hash` — the first hash is kept as the checksum, hashes are
//!   not used for matching — `--config-settings`, `-C`, `--global-option`).
//! - Environment markers are kept on the package (note `markers`) and
//!   evaluated for the target Python (note `marker_matches`); a
//!   requirement whose marker is false for the target is still listed.
//! - `--index-url`, `--extra-index-url`, `--find-links` are recorded in the
//!   source facts with credentials redacted.
//! - `name @ url` direct references, VCS, editable, local-path and URL lines
//!   are not registry packages: they are reported as info diagnostics with
//!   their source and not matched by name. A version taken from an
//!   environment variable (`${VAR}`) is reported as written and not
//!   resolved.

use super::req_lines::{Logical, MAX_LINE_BYTES, logical_lines};
use crate::ecosystem::redact_url;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use pep508_rs::pep440_rs::Operator;
use pep508_rs::{MarkerEnvironment, Requirement, VersionOrUrl};

use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::fs::EntryKind;
use crate::graph::{DepGraph, Package, PackageSource};
use crate::parse::{IndexRef, ParseContext, ParseError, ParsedSource};

/// Maximum depth of `-r` includes.
const MAX_INCLUDE_DEPTH: usize = 32;

/// One requirement line after options and comments are stripped.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    /// First `--hash` value.
    hash: Option<String>,
    /// 1-based line number where the logical line starts.
    line: u32,
}

/// Parses a requirements file (and its includes) into a flat graph of
/// direct dependencies.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let env = super::lock::marker_env(&ctx.options.python);
    let mut st = State {
        ctx,
        env,
        graph: DepGraph::new(),
        out: ParsedSource::default(),
        seen: HashSet::new(),
        constraints: BTreeMap::new(),
        by_name: BTreeMap::new(),
    };
    st.read_file(ctx.path(), 0, None)?;
    st.apply_constraints();
    let State {
        mut graph, mut out, ..
    } = st;
    graph.finalize();
    out.graph = graph;
    Ok(out)
}

struct State<'a, 'c> {
    ctx: &'a ParseContext<'c>,
    env: Option<MarkerEnvironment>,
    graph: DepGraph,
    out: ParsedSource,
    seen: HashSet<PathBuf>,
    /// normalised name -> (pinned version, constraints file)
    constraints: BTreeMap<String, (String, String)>,
    /// normalised name -> package ids (for constraints)
    by_name: BTreeMap<String, Vec<crate::graph::PackageId>>,
}

/// Per-requirement options that end the requirement text.
const REQ_OPTIONS: &[&str] = &[
    "--hash",
    "--global-option",
    "--config-settings",
    "--install-option",
    "-C",
];

/// Splits a requirement line from its trailing options; returns the text
/// and the first hash.
fn split_options(line: &str) -> (String, Option<String>) {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let mut cut = tokens.len();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0
            && REQ_OPTIONS
                .iter()
                .any(|o| *t == *o || t.starts_with(&format!("{o}=")))
        {
            cut = i;
            break;
        }
    }
    let mut hash = None;
    let mut i = cut;
    while i < tokens.len() {
        let t = tokens[i];
        if let Some(v) = t.strip_prefix("--hash=") {
            if hash.is_none() && !v.is_empty() {
                hash = Some(v.to_string());
            }
        } else if t == "--hash"
            && let Some(v) = tokens.get(i + 1)
        {
            if hash.is_none() {
                hash = Some((*v).to_string());
            }
            i += 1;
        }
        i += 1;
    }
    (tokens[..cut].join(" "), hash)
}

/// The literal version after `==` / `===` in the raw text.
fn raw_pin(text: &str) -> Option<String> {
    let before_marker = text.split(';').next().unwrap_or(text);
    let idx = before_marker.find("==")?;
    let rest = before_marker[idx + 2..].trim_start_matches('=');
    let v = rest.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// The name as written at the start of a requirement.
fn raw_name(text: &str) -> Option<&str> {
    if text.starts_with(char::is_whitespace) {
        return None;
    }
    super::lock::requirement_name(text).filter(|n| n.as_bytes()[0].is_ascii_alphanumeric())
}

impl State<'_, '_> {
    fn diag(&mut self, level: Level, path: &Path, msg: String) {
        self.out.diagnostics.push(Diagnostic::new(level, path, msg));
    }

    /// Reads one requirements file: the source itself (`include` is
    /// `None`), or a file it includes, with the including file and the
    /// words of the include line for messages.
    fn read_file(
        &mut self,
        path: &Path,
        depth: usize,
        include: Option<(&Path, String)>,
    ) -> Result<(), ParseError> {
        let key = self
            .ctx
            .fs
            .canonicalize(path)
            .unwrap_or_else(|| path.to_path_buf());
        if self.seen.contains(&key) {
            return Ok(()); // already read: an include cycle or a repeated include
        }
        // Marked as read only once it was: a refused include is reported
        // at every line that names it.
        let text = match (self.ctx.fs.read_to_string(path), include) {
            (Ok(t), _) => {
                self.seen.insert(key);
                t
            }
            (Err(e), None) => return Err(e.into()),
            (Err(e), Some((including, at))) => {
                self.diag(Level::Error, including, format!("{at}: {e}"));
                return Ok(());
            }
        };
        if text.as_bytes().contains(&0) {
            return Err(ParseError::syntax(
                path,
                "binary data, not a requirements file",
            ));
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let max_packages = self.ctx.options.limits.max_packages;
        for (lineno, line) in logical_lines(&text) {
            let line = match line {
                Logical::Text(line) => line,
                Logical::TooLong(len) => {
                    self.diag(
                        Level::Error,
                        path,
                        format!("line {lineno}: {len} bytes, over the {MAX_LINE_BYTES}-byte limit of one requirement line; not read"),
                    );
                    continue;
                }
            };
            if line.is_empty() {
                continue;
            }
            if self.graph.len() >= max_packages {
                return Err(ParseError::limit(
                    path,
                    format!(
                        "more than {max_packages} requirements, over the limit of packages per source"
                    ),
                ));
            }
            if line.starts_with('-') {
                self.option_line(path, &dir, lineno, &line, depth)?;
                continue;
            }
            let (req_text, hash) = split_options(&line);
            self.requirement(
                path,
                Line {
                    text: req_text,
                    hash,
                    line: lineno,
                },
            );
        }
        Ok(())
    }

    fn option_line(
        &mut self,
        path: &Path,
        dir: &Path,
        lineno: u32,
        line: &str,
        depth: usize,
    ) -> Result<(), ParseError> {
        let (opt, value) = match line.split_once(|c: char| c == '=' || c.is_whitespace()) {
            Some((o, v)) => (o, v.trim().trim_start_matches('=').trim()),
            None => (line, ""),
        };
        match opt {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                if value.is_empty() {
                    self.diag(
                        Level::Warning,
                        path,
                        format!("line {lineno}: {opt} without a file name"),
                    );
                    return Ok(());
                }
                if value.contains("://") {
                    self.diag(
                        Level::Error,
                        path,
                        format!(
                            "line {lineno}: remote requirements file {} not fetched; the requirements it holds are not scanned",
                            redact_url(value)
                        ),
                    );
                    return Ok(());
                }
                let target = dir.join(value);
                let at = format!("line {lineno}: {opt} {value}");
                if depth >= MAX_INCLUDE_DEPTH {
                    self.diag(
                        Level::Error,
                        path,
                        format!("{at}: includes nested deeper than {MAX_INCLUDE_DEPTH}; not read"),
                    );
                    return Ok(());
                }
                let constraint = opt.starts_with("-c") || opt == "--constraint";
                if let Some(why) = self.not_a_file(&target) {
                    // A constraints file that does not exist holds nothing
                    // to scan (it only pins packages named elsewhere).
                    let level = if constraint && self.ctx.fs.kind(&target).is_none() {
                        Level::Warning
                    } else {
                        Level::Error
                    };
                    self.diag(level, path, format!("{at}: {why}"));
                } else if constraint {
                    self.read_constraints(path, &target, &at);
                } else {
                    self.read_file(&target, depth + 1, Some((path, at)))?;
                }
            }
            "-i" | "--index-url" | "--extra-index-url" | "-f" | "--find-links" => {
                let kind = match opt {
                    "-i" | "--index-url" => "index-url",
                    "--extra-index-url" => "extra-index-url",
                    _ => "find-links",
                };
                self.out.facts.indexes.push(IndexRef {
                    kind: kind.into(),
                    url: redact_url(value),
                    name: None,
                });
            }
            "-e" | "--editable" => {
                self.diag(Level::Info, path, format!("line {lineno}: editable requirement {} is not a registry package; not matched by name", redact_url(value)));
            }
            _ => {}
        }
        Ok(())
    }

    /// Why an included file is not read before trying: it does not
    /// exist, or is a directory, a FIFO, a socket or a device. Whether it
    /// lies inside the scanned root is checked by the read itself.
    fn not_a_file(&self, target: &Path) -> Option<String> {
        let fs = self.ctx.fs;
        let own = fs.kind(target);
        let real = match own {
            Some(EntryKind::Symlink) => fs.canonicalize(target).and_then(|c| fs.kind(&c)),
            k => k,
        };
        match real {
            Some(EntryKind::File) => None,
            None if own == Some(EntryKind::Symlink) => {
                Some("a symbolic link to nothing; not read".into())
            }
            None => Some("not found".into()),
            Some(EntryKind::Dir) => Some("a directory, not a requirements file; not read".into()),
            Some(_) => Some("a FIFO, socket or device, not a regular file; not read".into()),
        }
    }

    fn read_constraints(&mut self, including: &Path, target: &Path, at: &str) {
        let text = match self.ctx.fs.read_to_string(target) {
            Ok(t) => t,
            Err(e) => {
                self.diag(
                    Level::Error,
                    including,
                    format!("{at}: {e}; versions it would pin stay unresolved"),
                );
                return;
            }
        };
        let label = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (_, line) in logical_lines(&text) {
            let Logical::Text(line) = line else { continue };
            if line.is_empty() || line.starts_with('-') {
                continue;
            }
            let (req, _) = split_options(&line);
            if let Ok(r) = super::pep508::requirement(&req)
                && let (Some(v), Some(name)) = (exact_pin(&r, &req), raw_name(&req))
            {
                self.constraints
                    .insert(Ecosystem::PyPI.normalize_name(name), (v, label.clone()));
            }
        }
    }

    fn requirement(&mut self, path: &Path, line: Line) {
        let text = line.text.trim();
        if text.contains("://") && !text.contains(" @ ") && !text.contains('@')
            || text.starts_with('.')
            || text.starts_with('/')
        {
            self.diag(Level::Info, path, format!("line {}: {} is a URL or local path, not a registry package; not matched by name", line.line, redact_url(text)));
            return;
        }
        if text.contains("${") {
            self.diag(
                Level::Warning,
                path,
                format!("line {}: {text} takes its version from an environment variable; kept as written and not resolved", line.line),
            );
            return;
        }
        let parsed = super::pep508::requirement(text);
        let (name, version, requirement, markers, marker_ok) = match &parsed {
            Ok(r) => {
                if let Some(VersionOrUrl::Url(url)) = &r.version_or_url {
                    self.diag(
                        Level::Info,
                        path,
                        format!(
                            "line {}: {} is a direct reference to {}; not matched by name",
                            line.line,
                            r.name,
                            redact_url(&url.to_string())
                        ),
                    );
                    return;
                }
                let Some(name) = raw_name(text) else { return };
                let version = exact_pin(r, text);
                let requirement = match &r.version_or_url {
                    Some(VersionOrUrl::VersionSpecifier(s)) if version.is_none() => {
                        Some(s.to_string())
                    }
                    _ => None,
                };
                let markers = r.marker.contents().map(|m| m.to_string());
                let ok = match &self.env {
                    Some(env) => r.marker.evaluate(env, &[]),
                    None => true,
                };
                (name.to_string(), version, requirement, markers, ok)
            }
            Err(e) => {
                // pip accepts `name==<text>` where the text is not PEP 440;
                // keep the version as written (it matches only explicit lists).
                let fallback = raw_name(text).and_then(|n| {
                    let after = text[n.len()..].trim_start();
                    after
                        .strip_prefix("===")
                        .or_else(|| after.strip_prefix("=="))
                        .map(|v| (n, v.trim()))
                });
                match fallback {
                    Some((n, v)) if !v.is_empty() && !v.starts_with('=') => {
                        (n.to_string(), Some(v.to_string()), None, None, true)
                    }
                    _ => {
                        self.diag(
                            Level::Warning,
                            path,
                            format!(
                                "line {}: not a valid requirement, skipped: {}",
                                line.line,
                                first_line(&super::pep508::message(e))
                            ),
                        );
                        return;
                    }
                }
            }
        };
        let mut pkg = Package::new(Ecosystem::PyPI, name, version.clone());
        pkg.requirement = requirement;
        pkg.source = PackageSource::Registry { url: None };
        pkg.direct = true;
        pkg.line = Some(line.line);
        pkg.checksum = line.hash;
        if let Some(m) = markers {
            if !marker_ok {
                pkg.not_on_target = Some(m.clone());
            }
            pkg.note("markers", m);
            pkg.note("marker_matches", marker_ok.to_string());
        }
        if let Some(v) = &version
            && crate::version::Version::parse(Ecosystem::PyPI, v).is_none()
        {
            pkg.note("version_unparsed", "true");
        }
        if path != self.ctx.path()
            && let Some(f) = path.file_name()
        {
            pkg.note("included_from", f.to_string_lossy());
        }
        let key = pkg.normalized_name();
        let id = self.graph.add_package(pkg);
        self.by_name.entry(key).or_default().push(id);
    }

    fn apply_constraints(&mut self) {
        for (name, (version, file)) in &self.constraints {
            for id in self.by_name.get(name).into_iter().flatten() {
                let p = self.graph.package_mut(*id);
                if p.version.is_none() {
                    p.version = Some(version.clone());
                    p.note("pinned_by", file.clone());
                }
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// The exact pin of a requirement (`==` without wildcard, or `===`), as
/// written in `text`.
fn exact_pin(r: &Requirement<pep508_rs::VerbatimUrl>, text: &str) -> Option<String> {
    let Some(VersionOrUrl::VersionSpecifier(specs)) = &r.version_or_url else {
        return None;
    };
    if specs.len() != 1 {
        return None;
    }
    let spec = specs.iter().next()?;
    match spec.operator() {
        Operator::Equal | Operator::ExactEqual => {
            raw_pin(text).or_else(|| Some(spec.version().to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_stripped() {
        assert_eq!(
            split_options("foo==1.0 --hash=sha256:abc --hash=sha256:def"),
            ("foo==1.0".into(), Some("sha256:abc".into()))
        );
        assert_eq!(split_options("foo17--hash==1.0").0, "foo17--hash==1.0");
        assert_eq!(split_options("foo==1.0 -C bar").0, "foo==1.0");
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(
            redact_url("https://user:s3cret@pypi.corp/simple"),
            "https://***@pypi.corp/simple"
        );
        assert_eq!(
            redact_url("https://pypi.org/simple"),
            "https://pypi.org/simple"
        );
    }
}
