//! Rust binaries built with cargo-auditable: the `.dep-v0` section (ELF,
//! Mach-O including fat binaries, PE) holds zlib-compressed JSON listing
//! every crate compiled in, with its `kind` (`runtime` or `build`), its
//! dependencies by index and the `root` flag. The binary is only read,
//! never executed; the decompressed size is capped.
//!
//! The data records only the kind of source (`crates.io`, `registry`,
//! `git`, `local`), not its URL: git and local packages get an empty URL or
//! path, and an alternative registry is kept as a `source` note.
//!
//! A binary without the section is reported at info level ("Rust binary
//! without embedded dependency data") with an empty graph; a file that is
//! not an executable yields no packages and no error.

use std::io::Read;

use flate2::read::ZlibDecoder;
use object::read::macho::FatArch;
use object::{FileKind, Object, ObjectSection};
use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Level};
use crate::ecosystem::Ecosystem;
use crate::graph::{DepGraph, DepKind, Package, PackageSource};
use crate::parse::{ParseContext, ParseError, ParsedSource};

/// Name of the section cargo-auditable writes.
pub const SECTION: &str = ".dep-v0";

/// Cap on the decompressed JSON (real data is a few KiB to a few hundred).
pub const MAX_DECOMPRESSED: u64 = 8 * 1024 * 1024;

/// The message for a binary that carries no dependency data.
pub const NO_DATA: &str = "Rust binary without embedded dependency data";

#[derive(Debug, Deserialize)]
struct VersionInfo {
    packages: Vec<AuditPackage>,
}

#[derive(Debug, Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

/// What the executable holds.
enum Section {
    /// The compressed section bytes.
    Found(Vec<u8>),
    /// An executable without the section.
    Missing,
    /// Not an executable format the scanner reads.
    NotExecutable,
}

/// Finds the `.dep-v0` section in ELF, Mach-O (thin or fat) or PE data.
fn find_section(data: &[u8]) -> Section {
    match FileKind::parse(data) {
        Ok(FileKind::MachOFat32) => fat_section(
            object::read::macho::MachOFatFile32::parse(data)
                .ok()
                .map(|f| {
                    f.arches()
                        .iter()
                        .filter_map(|a| a.data(data).ok())
                        .collect()
                }),
        ),
        Ok(FileKind::MachOFat64) => fat_section(
            object::read::macho::MachOFatFile64::parse(data)
                .ok()
                .map(|f| {
                    f.arches()
                        .iter()
                        .filter_map(|a| a.data(data).ok())
                        .collect()
                }),
        ),
        Ok(_) => match object::File::parse(data) {
            Ok(file) => match file.section_by_name(SECTION) {
                Some(section) => match section.data() {
                    Ok(bytes) if !bytes.is_empty() => Section::Found(bytes.to_vec()),
                    _ => Section::Missing,
                },
                None => Section::Missing,
            },
            Err(_) => Section::NotExecutable,
        },
        Err(_) => Section::NotExecutable,
    }
}

/// The first architecture of a fat Mach-O that carries the section.
fn fat_section(arches: Option<Vec<&[u8]>>) -> Section {
    let Some(arches) = arches else {
        return Section::NotExecutable;
    };
    for arch in arches {
        if let Section::Found(bytes) = find_section(arch) {
            return Section::Found(bytes);
        }
    }
    Section::Missing
}

/// Parses a binary that may carry cargo-auditable data.
pub fn parse(ctx: &ParseContext<'_>) -> Result<ParsedSource, ParseError> {
    let path = ctx.path();
    let data = ctx.fs.read(path)?;
    let compressed = match find_section(&data) {
        Section::Found(bytes) => bytes,
        Section::Missing => {
            let mut parsed = ParsedSource::default();
            parsed.graph.finalize();
            parsed
                .diagnostics
                .push(Diagnostic::new(Level::Info, path, NO_DATA));
            return Ok(parsed);
        }
        Section::NotExecutable => {
            let mut parsed = ParsedSource::default();
            parsed.graph.finalize();
            parsed.diagnostics.push(Diagnostic::new(
                Level::Info,
                path,
                "not an ELF, Mach-O or PE executable: no dependency data",
            ));
            return Ok(parsed);
        }
    };
    let json = decompress(path, &compressed)?;
    let info: VersionInfo = serde_json::from_slice(&json).map_err(|e| {
        ParseError::syntax(
            path,
            format!("invalid cargo-auditable dependency data: {e}"),
        )
    })?;
    let (graph, diagnostics) = build_graph(path, &info);
    let mut parsed = ParsedSource::from_graph(graph);
    parsed.diagnostics = diagnostics;
    parsed.facts.format_version = Some("dep-v0".to_string());
    Ok(parsed)
}

/// Inflates the section, refusing more than [`MAX_DECOMPRESSED`] bytes.
fn decompress(path: &std::path::Path, compressed: &[u8]) -> Result<Vec<u8>, ParseError> {
    let mut out = Vec::new();
    ZlibDecoder::new(compressed)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            ParseError::invalid(
                path,
                format!("{SECTION} section is not valid zlib data: {e}"),
            )
        })?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(ParseError::limit(
            path,
            format!(
                "{SECTION} section decompresses to more than {MAX_DECOMPRESSED} bytes; not read"
            ),
        ));
    }
    Ok(out)
}

fn build_graph(path: &std::path::Path, info: &VersionInfo) -> (DepGraph, Vec<Diagnostic>) {
    let mut graph = DepGraph::new();
    let mut diagnostics = Vec::new();
    let mut ids = Vec::with_capacity(info.packages.len());
    for p in &info.packages {
        let mut pkg = Package::new(Ecosystem::CratesIo, p.name.clone(), Some(p.version.clone()));
        let source = p.source.as_deref().unwrap_or("crates.io");
        pkg.source = match source {
            "crates.io" => PackageSource::Registry { url: None },
            "local" => PackageSource::Path {
                path: String::new(),
            },
            "git" => PackageSource::Git {
                url: String::new(),
                rev: None,
            },
            _ => PackageSource::Registry { url: None },
        };
        if !matches!(source, "crates.io" | "local" | "git") {
            // An alternative registry (or a source kind newer than this
            // reader): the URL is not recorded in the binary.
            pkg.note("source", source);
        }
        if is_build(p) && !p.root {
            pkg.groups = vec!["build".to_string()];
        }
        ids.push(if p.root {
            graph.add_root(pkg)
        } else {
            graph.add_package(pkg)
        });
    }
    let mut bad = 0usize;
    for (i, p) in info.packages.iter().enumerate() {
        for &d in &p.dependencies {
            match (info.packages.get(d), ids.get(d)) {
                (Some(target), Some(&to)) => {
                    let kind = if is_build(target) {
                        DepKind::Build
                    } else {
                        DepKind::Normal
                    };
                    graph.add_edge(ids[i], to, kind);
                }
                _ => bad += 1,
            }
        }
    }
    if bad > 0 {
        diagnostics.push(Diagnostic::new(
            Level::Warning,
            path,
            format!("{bad} dependency indexes in the {SECTION} data point at no package; skipped"),
        ));
    }
    graph.finalize();
    (graph, diagnostics)
}

fn is_build(p: &AuditPackage) -> bool {
    p.kind.as_deref() == Some("build")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use flate2::{Compression, write::ZlibEncoder};
    use std::io::Write;
    use std::path::Path;

    #[test]
    fn decompression_is_capped() {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..9 {
            enc.write_all(&chunk).unwrap();
        }
        let bomb = enc.finish().unwrap();
        assert!(bomb.len() < 100_000);
        let err = decompress(Path::new("bootstrap"), &bomb).unwrap_err();
        assert!(matches!(err, ParseError::Limit { .. }), "{err}");
        assert!(err.to_string().contains("bootstrap"));
    }

    #[test]
    fn graph_from_package_list() {
        let info: VersionInfo = serde_json::from_str(
            r#"{"packages":[
              {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
              {"name":"serde","version":"1.0.0","source":"crates.io","dependencies":[2]},
              {"name":"serde_derive","version":"1.0.0","source":"crates.io"},
              {"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"},
              {"name":"x","version":"1.0.0","source":"registry","dependencies":[3, 99]}
            ]}"#,
        )
        .unwrap();
        let (g, diags) = build_graph(Path::new("bootstrap"), &info);
        assert_eq!(g.len(), 5);
        assert!(g.packages()[0].root);
        assert!(g.packages()[1].direct && g.packages()[2].direct);
        assert_eq!(g.packages()[3].groups, vec!["build"]);
        assert_eq!(diags.len(), 1);
    }
}
