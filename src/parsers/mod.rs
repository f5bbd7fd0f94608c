//! The parsers, one module per ecosystem and one file per source format,
//! and the dispatcher: [`parse_source`] turns a [`SourceRef`] into a
//! [`ParsedSource`] by calling the parser of its format, then applies the
//! checks every source gets (package count, over-long names and versions,
//! registry packages without a version). Adding a format is one file in
//! its ecosystem's folder and one line in [`parse_source`].

pub mod cargo;
pub mod npm;
pub mod pypi;

use std::path::Path;

use crate::diagnostic::{Diagnostic, Level};
use crate::parse::{ParseContext, ParseError, ParseOptions, ParsedSource};
use crate::source::{SourceFormat, SourceRef};

/// Parses `bytes` as a source of `format` found at `rel` (a path relative
/// to the deployment root, e.g. `node_modules/x/package.json`) inside a
/// deployment at `root`, without touching the disk.
pub fn parse_bytes(
    format: SourceFormat,
    root: &Path,
    rel: &str,
    bytes: Vec<u8>,
    options: &ParseOptions,
) -> Result<ParsedSource, ParseError> {
    let path = root.join(rel);
    let fs = crate::fs::SingleFileFs::new(path.clone(), bytes);
    let source = SourceRef::new(&path, format);
    parse_source(&ParseContext {
        fs: &fs,
        source: &source,
        root,
        options,
    })
}

/// Parses one source with the parser of its format.
pub fn parse_source(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let mut parsed = match ctx.source.format {
        SourceFormat::PackageLock | SourceFormat::NpmShrinkwrap => npm::package_lock::parse(ctx),
        SourceFormat::YarnLock => npm::yarn::parse(ctx),
        SourceFormat::PnpmLock => npm::pnpm::parse(ctx),
        SourceFormat::BunLock => npm::bun::parse(ctx),
        SourceFormat::PackageJson => npm::manifest::parse(ctx),
        SourceFormat::NodeModules => npm::node_modules::parse(ctx),
        SourceFormat::InstalledPackageJson => npm::node_modules::parse_one(ctx),
        SourceFormat::Requirements => pypi::requirements::parse(ctx),
        SourceFormat::Pyproject => pypi::pyproject::parse(ctx),
        SourceFormat::PoetryLock => pypi::poetry::parse(ctx),
        SourceFormat::PipfileLock => pypi::pipfile::parse(ctx),
        SourceFormat::Pipfile => pypi::pipfile::parse_manifest(ctx),
        SourceFormat::PdmLock => pypi::pdm::parse(ctx),
        SourceFormat::UvLock => pypi::uv::parse(ctx),
        SourceFormat::PylockToml => pypi::pylock::parse(ctx),
        SourceFormat::PythonInstalled => pypi::dist_info::parse(ctx),
        SourceFormat::CargoToml => cargo::manifest::parse(ctx),
        SourceFormat::CargoLock => cargo::lockfile::parse(ctx),
        SourceFormat::RustBinary => cargo::auditable::parse(ctx),
    }?;
    cut_long_identities(&mut parsed, ctx.path());
    if parsed.graph.len() > ctx.options.limits.max_packages {
        return Err(ParseError::limit(
            ctx.path(),
            format!(
                "{} packages, over the limit of {} per source",
                parsed.graph.len(),
                ctx.options.limits.max_packages
            ),
        ));
    }
    if !parsed.graph.is_finalized() {
        parsed.graph.finalize();
    }
    note_versionless(ctx, &mut parsed);
    Ok(parsed)
}

/// Most packages named one by one by [`note_versionless`] per source.
const VERSIONLESS_NAMED: usize = 20;

/// A lockfile or installed tree records the exact version of every
/// registry package; one without a version (missing, empty, or cut off
/// in a truncated file) cannot be checked against advisories, so it is an
/// error, not a silent gap. Manifests are exempt (their ranges are
/// unresolved by design, and say so).
fn note_versionless(ctx: &ParseContext<'_>, parsed: &mut ParsedSource) {
    use SourceFormat::*;
    let format = ctx.source.format;
    if !(format.is_lockfile() || matches!(format, NodeModules | InstalledPackageJson)) {
        return;
    }
    let missing: Vec<String> = parsed
        .graph
        .packages()
        .iter()
        .filter(|p| !p.root && p.source.is_registry_like())
        .filter(|p| p.version.as_deref().is_none_or(|v| v.trim().is_empty()))
        .map(|p| match p.line {
            Some(l) => format!("{} (line {l})", p.name),
            None => p.name.clone(),
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    let more = missing.len().saturating_sub(VERSIONLESS_NAMED);
    let mut list = missing
        .iter()
        .take(VERSIONLESS_NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    parsed.diagnostics.push(Diagnostic::new(
        Level::Error,
        ctx.path(),
        format!(
            "{} package(s) without a version ({list}): they cannot be checked against advisories",
            missing.len()
        ),
    ));
}

/// Longest package name or version kept, in bytes (npm allows 214
/// characters, crates.io 64; PEP 440 versions are short).
pub const MAX_IDENTITY_BYTES: usize = 1024;

/// A package name or version over [`MAX_IDENTITY_BYTES`] is an error for
/// that package: it is kept cut (`<first 64 characters>… (N bytes)`, which
/// matches no advisory and no popular name), so that the stages after
/// parsing never copy, normalise or compare a string the size of the file.
fn cut_long_identities(parsed: &mut ParsedSource, path: &Path) {
    let cut = |s: &str| -> String {
        let end = s.char_indices().nth(64).map_or(s.len(), |(i, _)| i);
        format!("{}… ({} bytes)", &s[..end], s.len())
    };
    let mut notes = Vec::new();
    for p in parsed.graph.packages_mut() {
        if p.name.len() > MAX_IDENTITY_BYTES {
            notes.push(format!(
                "a package name of {} bytes, over the {MAX_IDENTITY_BYTES}-byte limit: listed cut and not checked",
                p.name.len()
            ));
            p.name = cut(&p.name);
        }
        if let Some(v) = &p.version
            && v.len() > MAX_IDENTITY_BYTES
        {
            notes.push(format!(
                "{}: a version of {} bytes, over the {MAX_IDENTITY_BYTES}-byte limit: listed cut and not checked",
                p.name,
                v.len()
            ));
            p.version = Some(cut(v));
        }
    }
    parsed.diagnostics.extend(
        notes
            .into_iter()
            .map(|m| Diagnostic::new(Level::Error, path, m)),
    );
}
