//! Cargo.toml with no Cargo.lock: direct dependencies listed unresolved.

use std::path::Path;

use depwarden::diagnostic::Level;
use depwarden::fs::OsFs;
use depwarden::graph::PackageSource;
use depwarden::parse::{ParseContext, ParseOptions};
use depwarden::parsers::parse_source;
use depwarden::source::{SourceFormat, SourceRef};

fn copy_manifests(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cargo/workspace");
    for rel in ["Cargo.toml", "app/Cargo.toml", "util/Cargo.toml"] {
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from.join(rel), dest).unwrap();
    }
}

#[test]
fn workspace_manifest_alone_lists_direct_dependencies_unresolved() {
    let dir = tempfile::tempdir().unwrap();
    copy_manifests(dir.path());
    let fs = OsFs::default();
    let source = SourceRef::new(dir.path().join("Cargo.toml"), SourceFormat::CargoToml);
    let options = ParseOptions::default();
    let ctx = ParseContext {
        fs: &fs,
        source: &source,
        root: dir.path(),
        options: &options,
    };
    let p = parse_source(&ctx).unwrap();
    assert!(p.facts.no_lockfile);
    assert!(
        p.diagnostics
            .iter()
            .any(|d| d.level == Level::Info && d.message.contains("no Cargo.lock"))
    );
    let pkgs = p.graph.packages();
    let roots: Vec<_> = pkgs.iter().filter(|x| x.root).map(|x| &x.name).collect();
    assert_eq!(roots, vec!["app", "util"]);
    let get = |n: &str, req: &str| {
        pkgs.iter()
            .find(|x| x.name == n && x.requirement.as_deref() == Some(req))
            .unwrap_or_else(|| panic!("{n} {req}"))
    };
    let itoa = get("itoa", "1");
    assert!(itoa.version.is_none() && itoa.direct && !itoa.dev);
    assert!(get("itoa", "0.4").direct);
    // Inherited from [workspace.dependencies].
    assert_eq!(get("cfg-if", "1.0").groups, Vec::<String>::new());
    assert_eq!(get("memchr", "2").groups, vec!["dev"]);
    assert!(get("memchr", "2").dev);
    assert_eq!(get("autocfg", "1").groups, vec!["build"]);
    // A path dependency on a member is an edge between roots, not a package.
    assert!(!pkgs.iter().any(|x| !x.root && x.name == "util"));
    let util = pkgs.iter().find(|x| x.name == "util").unwrap();
    assert_eq!(
        util.source,
        PackageSource::Path {
            path: "util".into()
        }
    );
    assert_eq!(pkgs.len(), 2 + 5);
}

#[test]
fn manifest_through_the_binary_reports_unresolved_dependencies() {
    let dir = tempfile::tempdir().unwrap();
    copy_manifests(dir.path());
    let out = crate::common::bin()
        .args(["inventory", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let itoa = json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "itoa" && p["requirement"] == "1")
        .unwrap();
    assert!(itoa["version"].is_null());
    let errors = json["deployments"][0]["errors"].as_array().unwrap();
    assert!(errors.iter().all(|e| e["level"] != "error"), "{errors:?}");
}

#[test]
fn broken_manifest_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Cargo.toml");
    for text in [
        "[package\nname = \"x\"",
        "[package]\nversion = \"1.0.0\"\n",
        "[package]\nname = \"x\"\n[dependencies]\nserde = 5\n",
    ] {
        std::fs::write(&path, text).unwrap();
        let fs = OsFs::default();
        let source = SourceRef::new(&path, SourceFormat::CargoToml);
        let options = ParseOptions::default();
        let ctx = ParseContext {
            fs: &fs,
            source: &source,
            root: dir.path(),
            options: &options,
        };
        let err = parse_source(&ctx).unwrap_err().to_string();
        assert!(err.contains("Cargo.toml"), "{err}");
    }
}

#[test]
fn member_globs_exclude_and_path_members() {
    let dir = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"crates/skip\"]\n",
    );
    w(
        "crates/a/Cargo.toml",
        "[package]\nname = \"a\"\nversion = \"1.0.0\"\n[dependencies]\n\
         helper = { path = \"../../tools/helper\" }\nanyhow = \"1\"\n",
    );
    w(
        "crates/b/Cargo.toml",
        "[package]\nname = \"b\"\nversion = \"1.0.0\"\n",
    );
    w(
        "crates/skip/Cargo.toml",
        "[package]\nname = \"skip\"\nversion = \"1.0.0\"\n",
    );
    w("crates/not-a-crate/README", "");
    w(
        "tools/helper/Cargo.toml",
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\n",
    );
    let fs = OsFs::default();
    let source = SourceRef::new(dir.path().join("Cargo.toml"), SourceFormat::CargoToml);
    let options = ParseOptions::default();
    let ctx = ParseContext {
        fs: &fs,
        source: &source,
        root: dir.path(),
        options: &options,
    };
    let p = parse_source(&ctx).unwrap();
    let mut roots: Vec<_> = p
        .graph
        .packages()
        .iter()
        .filter(|x| x.root)
        .map(|x| x.name.as_str())
        .collect();
    roots.sort();
    // helper is a path dependency inside the workspace, so a member too.
    assert_eq!(roots, vec!["a", "b", "helper"]);
    let anyhow = p
        .graph
        .packages()
        .iter()
        .find(|x| x.name == "anyhow")
        .unwrap();
    assert!(anyhow.direct && anyhow.version.is_none());
}
