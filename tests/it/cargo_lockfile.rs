//! Cargo.lock parsing on real fixtures: versions 1 to 4 of one tree,
//! workspaces with dev- and build-dependencies, sources, malformed input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use depwarden::diagnostic::Level;
use depwarden::fs::OsFs;
use depwarden::graph::{Package, PackageSource};
use depwarden::parse::{ParseContext, ParseError, ParseOptions, ParsedSource};
use depwarden::parsers::parse_source;
use depwarden::source::{SourceFormat, SourceRef};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/cargo")
        .join(rel)
}

fn parse(path: &Path, format: SourceFormat) -> Result<ParsedSource, ParseError> {
    let fs = OsFs::default();
    let source = SourceRef::new(path, format);
    let root = path.parent().unwrap().to_path_buf();
    let options = ParseOptions::default();
    let ctx = ParseContext {
        fs: &fs,
        source: &source,
        root: &root,
        options: &options,
    };
    parse_source(&ctx)
}

fn lock(rel: &str) -> ParsedSource {
    parse(&fixture(rel), SourceFormat::CargoLock).unwrap()
}

fn find<'a>(p: &'a ParsedSource, name: &str, version: &str) -> &'a Package {
    p.graph
        .packages()
        .iter()
        .find(|x| x.name == name && x.version.as_deref() == Some(version))
        .unwrap_or_else(|| panic!("{name} {version} not found"))
}

fn edges(p: &ParsedSource) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (id, pkg) in p.graph.iter() {
        for (to, _) in p.graph.dependencies(id) {
            let t = p.graph.package(*to);
            out.insert((
                format!("{}@{}", pkg.name, pkg.version.clone().unwrap_or_default()),
                format!("{}@{}", t.name, t.version.clone().unwrap_or_default()),
            ));
        }
    }
    out
}

fn inventory(p: &ParsedSource) -> BTreeSet<(String, String, Option<String>, bool, bool)> {
    p.graph
        .packages()
        .iter()
        .map(|x| {
            (
                x.name.clone(),
                x.version.clone().unwrap_or_default(),
                x.checksum.clone(),
                x.direct,
                x.root,
            )
        })
        .collect()
}

#[test]
fn all_format_versions_give_the_same_graph() {
    let v4 = lock("versions/v4/Cargo.lock");
    assert_eq!(v4.graph.len(), 11);
    for v in ["v1", "v2", "v3"] {
        let other = lock(&format!("versions/{v}/Cargo.lock"));
        assert_eq!(other.facts.format_version.as_deref(), Some(v));
        assert_eq!(inventory(&other), inventory(&v4), "{v}");
        assert_eq!(edges(&other), edges(&v4), "{v}");
    }
    // v1 keeps checksums in [metadata]; they must land on the packages.
    let v1 = lock("versions/v1/Cargo.lock");
    assert_eq!(
        find(&v1, "time", "0.1.43").checksum.as_deref(),
        Some("ca8a50ef2360fbd1eeb0ecd46795a87a19024eb4b53c5dc916ca1fd95fe62438")
    );
}

#[test]
fn core_fixture_roots_and_direct_dependencies() {
    let p = lock("core/Cargo.lock");
    let root = find(&p, "core-demo", "0.1.0");
    assert!(root.root);
    assert_eq!(root.source, PackageSource::Path { path: ".".into() });
    for (n, v) in [
        ("time", "0.1.43"),
        ("smallvec", "1.6.0"),
        ("chrono", "0.4.19"),
    ] {
        let pkg = find(&p, n, v);
        assert!(pkg.direct, "{n} is a direct dependency");
        assert_eq!(pkg.source, PackageSource::Registry { url: None });
    }
    let libc = p
        .graph
        .packages()
        .iter()
        .find(|x| x.name == "libc")
        .unwrap();
    assert!(!libc.direct);
    // The dependency path of a transitive crate goes through chrono or time.
    let id = p
        .graph
        .iter()
        .find(|(_, x)| x.name == "num-integer")
        .unwrap()
        .0;
    assert_eq!(p.graph.path_names(id), vec!["chrono", "num-integer"]);
}

#[test]
fn workspace_members_dev_and_build_dependencies() {
    let p = lock("workspace/Cargo.lock");
    let app = find(&p, "app", "0.3.0");
    let util = find(&p, "util", "0.1.0");
    assert!(app.root && util.root);
    assert_eq!(app.source, PackageSource::Path { path: "app".into() });
    // Two versions of itoa, kept apart, each with its own dependent.
    let itoa1 = find(&p, "itoa", "1.0.19");
    let itoa04 = find(&p, "itoa", "0.4.8");
    assert!(itoa1.direct && itoa04.direct);
    assert!(!itoa1.dev && itoa1.groups.is_empty());
    // memchr is a dev-dependency of app only.
    let memchr = find(&p, "memchr", "2.8.3");
    assert!(memchr.dev && memchr.direct);
    assert_eq!(memchr.groups, vec!["dev"]);
    // autocfg is a build-dependency only; cfg-if is both (so runtime).
    let autocfg = find(&p, "autocfg", "1.5.1");
    assert!(!autocfg.dev);
    assert_eq!(autocfg.groups, vec!["build"]);
    let cfg_if = find(&p, "cfg-if", "1.0.5");
    assert!(cfg_if.groups.is_empty(), "{:?}", cfg_if.groups);
    // Lines point at the `name = ` line of each [[package]].
    assert_eq!(app.line, Some(6));
    assert_eq!(itoa04.line, Some(29));
}

#[test]
fn without_manifest_every_local_crate_is_a_root() {
    let dir = tempfile::tempdir().unwrap();
    let lockfile = dir.path().join("Cargo.lock");
    std::fs::copy(fixture("workspace/Cargo.lock"), &lockfile).unwrap();
    let p = parse(&lockfile, SourceFormat::CargoLock).unwrap();
    assert!(find(&p, "app", "0.3.0").root && find(&p, "util", "0.1.0").root);
    // No manifest: nothing can be known to be dev-only.
    assert!(!find(&p, "memchr", "2.8.3").dev);
}

#[test]
fn registry_git_path_and_alternative_sources() {
    let p = lock("sources/Cargo.lock");
    let git = p
        .graph
        .packages()
        .iter()
        .find(|x| x.name == "rand_core" && matches!(x.source, PackageSource::Git { .. }))
        .unwrap();
    assert_eq!(
        git.source,
        PackageSource::Git {
            url: "https://github.com/rust-random/rand".into(),
            rev: Some("937320cbfeebd4352a23086d9c6e68f067f74644".into()),
        }
    );
    let alt = find(&p, "internal-auth", "2.1.0");
    match &alt.source {
        PackageSource::Registry { url: Some(u) } => {
            assert!(u.contains("crates.example.internal"), "{u}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        find(&p, "serde", "1.0.219").source,
        PackageSource::Registry { url: None }
    );
    // The root depends on both rand_core 0.6.4 packages, resolved by source.
    let root = p
        .graph
        .iter()
        .find(|(_, x)| x.name == "lambda-fn")
        .unwrap()
        .0;
    let deps: BTreeSet<_> = p
        .graph
        .dependencies(root)
        .iter()
        .map(|(t, _)| format!("{:?}", p.graph.package(*t).source))
        .collect();
    assert_eq!(p.graph.dependencies(root).len(), 5, "{deps:?}");
    // Two local crates with no manifest beside: both are roots.
    assert!(find(&p, "local-helpers", "0.2.0").root);
}

#[test]
fn garbage_is_an_error_naming_the_file() {
    let path = fixture("malformed/Cargo.lock");
    let err = parse(&path, SourceFormat::CargoLock).unwrap_err();
    assert!(matches!(err, ParseError::Syntax { .. }));
    let msg = err.to_string();
    assert!(msg.contains("malformed/Cargo.lock"), "{msg}");
    assert!(msg.contains("line"), "points at the line: {msg}");
}

#[test]
fn wrong_types_and_missing_fields_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Cargo.lock");
    for text in [
        "version = 3\n[[package]]\nname = 5\nversion = \"1.0.0\"\n",
        "version = 3\n[[package]]\nversion = \"1.0.0\"\n",
        "package = \"x\"\n",
        "\u{0}\u{1}binary",
    ] {
        std::fs::write(&path, text).unwrap();
        let err = parse(&path, SourceFormat::CargoLock).unwrap_err();
        assert!(err.to_string().contains("Cargo.lock"), "{err}");
    }
    // Unresolvable dependency entries and odd sources are warnings only.
    std::fs::write(
        &path,
        "version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"weird+x\"\n\
         dependencies = [\"missing\", \"\", \"b 9.9.9\"]\n",
    )
    .unwrap();
    let p = parse(&path, SourceFormat::CargoLock).unwrap();
    assert_eq!(p.graph.len(), 1);
    assert!(p.diagnostics.iter().all(|d| d.level == Level::Warning));
    assert_eq!(p.diagnostics.len(), 4);
}

#[test]
fn malformed_lockfile_through_the_binary() {
    let out = crate::common::bin()
        .args(["inventory", "--format", "json"])
        .arg(fixture("malformed"))
        .arg(fixture("core"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = json["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["errors"].as_array().unwrap().clone())
        .filter(|e| e["level"] == "error")
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("Cargo.lock"), "{errors:?}");
    // The rest of the scan goes on.
    let names: BTreeSet<_> = json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains("chrono") && names.contains("smallvec"));
}

#[test]
fn legacy_root_table_is_a_root() {
    // Early v1 lockfiles kept the project in `[root]`, not in `[[package]]`.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Cargo.lock");
    std::fs::write(
        &path,
        "[root]\nname = \"old-app\"\nversion = \"0.1.0\"\ndependencies = [\n \
         \"libc 0.2.20 (registry+https://github.com/rust-lang/crates.io-index)\",\n]\n\n\
         [[package]]\nname = \"libc\"\nversion = \"0.2.20\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
         [metadata]\n\"checksum libc 0.2.20 (registry+https://github.com/rust-lang/crates.io-index)\" \
         = \"684f330624d8c3784fb9558ca46c4ce488073a8d22450415c5eb4f4cfb0d11b5\"\n",
    )
    .unwrap();
    let p = parse(&path, SourceFormat::CargoLock).unwrap();
    let root = find(&p, "old-app", "0.1.0");
    assert!(root.root);
    assert_eq!(root.line, Some(2));
    let libc = find(&p, "libc", "0.2.20");
    assert!(libc.direct);
    assert_eq!(libc.line, Some(9));
    assert!(libc.checksum.as_deref().unwrap().starts_with("684f33"));
    assert_eq!(p.facts.format_version.as_deref(), Some("v1"));
}
