//! Crashers found by the cargo-fuzz targets in fuzz/, kept as regressions:
//! each file under testdata/hostile/fuzz/<target>/ is parsed the way that
//! target parses its input (the same format, at the same place in an
//! in-memory deployment). None may panic, an error must name the file, and
//! no panic may be left for the last-resort catch around `pep508_rs`.
//! Beside them, malformed entries the parsers must reject one by one,
//! through the same in-memory entry point.

use std::path::Path;

use depwarden::parse::ParseOptions;
use depwarden::parsers::parse_bytes;
use depwarden::source::SourceFormat;

/// The format and the deployment-relative path each fuzz target uses.
fn target(name: &str) -> Option<(SourceFormat, &'static str)> {
    Some(match name {
        "auditable" => (SourceFormat::RustBinary, "bootstrap"),
        "bun_lock" => (SourceFormat::BunLock, "bun.lock"),
        "cargo_lock" => (SourceFormat::CargoLock, "Cargo.lock"),
        "cargo_toml" => (SourceFormat::CargoToml, "Cargo.toml"),
        "dist_info_metadata" => (SourceFormat::PythonInstalled, "pkg-1.0.dist-info/METADATA"),
        "installed_package_json" => (
            SourceFormat::InstalledPackageJson,
            "node_modules/pkg/package.json",
        ),
        "package_json" => (SourceFormat::PackageJson, "package.json"),
        "package_lock" => (SourceFormat::PackageLock, "package-lock.json"),
        "pdm_lock" => (SourceFormat::PdmLock, "pdm.lock"),
        "pipfile_lock" => (SourceFormat::PipfileLock, "Pipfile.lock"),
        "pnpm_lock" => (SourceFormat::PnpmLock, "pnpm-lock.yaml"),
        "poetry_lock" => (SourceFormat::PoetryLock, "poetry.lock"),
        "pylock" => (SourceFormat::PylockToml, "pylock.toml"),
        "requirements" => (SourceFormat::Requirements, "requirements.txt"),
        "uv_lock" => (SourceFormat::UvLock, "uv.lock"),
        "yarn_v1" | "yarn_berry" => (SourceFormat::YarnLock, "yarn.lock"),
        _ => return None,
    })
}

/// Parses `bytes` as the fuzz target would; returns the error text, if any.
fn parse_as(format: SourceFormat, rel: &str, bytes: Vec<u8>) -> Option<String> {
    let options = ParseOptions::default();
    parse_bytes(format, Path::new("/fuzz/deployment"), rel, bytes, &options)
        .err()
        .map(|e| e.to_string())
}

#[test]
fn fuzz_crashers_parse_without_panic_and_errors_name_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/hostile/fuzz");
    let mut cases = Vec::new();
    for t in std::fs::read_dir(&dir).unwrap() {
        let t = t.unwrap();
        let name = t.file_name().into_string().unwrap();
        let (format, rel) = target(&name).unwrap_or_else(|| panic!("unknown target {name}"));
        for f in std::fs::read_dir(t.path()).unwrap() {
            cases.push((f.unwrap().path(), format, rel));
        }
    }
    cases.sort();
    assert!(cases.len() >= 3, "crashers missing: {cases:?}");
    let caught = depwarden::parsers::pypi::pep508::panics_caught();
    for (file, format, rel) in &cases {
        let bytes = std::fs::read(file).unwrap();
        if let Some(e) = parse_as(*format, rel, bytes) {
            assert!(
                e.contains("/fuzz/deployment"),
                "{}: error does not name the file: {e}",
                file.display()
            );
        }
        assert_eq!(
            depwarden::parsers::pypi::pep508::panics_caught(),
            caught,
            "{}: a pep508_rs panic was caught instead of foreseen",
            file.display()
        );
    }
}

/// A package table without a name in a TOML lockfile (poetry, PDM, uv) is an
/// error for that entry, naming its line; the other packages are kept.
#[test]
fn a_nameless_package_table_is_an_error_for_that_entry_only() {
    let poetry = "[[package]]\nname = \"six\"\nversion = \"1.16.0\"\ndescription = \"\"\noptional = false\npython-versions = \"*\"\nfiles = []\n\n[[package]]\nversion = \"2.0\"\n\n[metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.11\"\ncontent-hash = \"0\"\n";
    let pdm = "[metadata]\ngroups = [\"default\"]\nstrategy = []\nlock_version = \"4.5.0\"\ncontent_hash = \"sha256:0\"\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\ngroups = [\"default\"]\n\n[[package]]\nversion = \"2.0\"\n";
    let uv = "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nversion = \"2.0\"\n";
    for (format, rel, text, line) in [
        (SourceFormat::PoetryLock, "poetry.lock", poetry, 9),
        (SourceFormat::PdmLock, "pdm.lock", pdm, 12),
        (SourceFormat::UvLock, "uv.lock", uv, 9),
    ] {
        let parsed = parse_bytes(
            format,
            Path::new("/fuzz/deployment"),
            rel,
            text.as_bytes().to_vec(),
            &ParseOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
        let names: Vec<&str> = parsed
            .graph
            .packages()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["six"], "{rel}");
        let expected = format!("package table at line {line} has no name");
        assert!(
            parsed
                .diagnostics
                .iter()
                .any(|d| d.level == depwarden::diagnostic::Level::Error
                    && d.message.contains(&expected)),
            "{rel}: {:?}",
            parsed.diagnostics
        );
    }
}
