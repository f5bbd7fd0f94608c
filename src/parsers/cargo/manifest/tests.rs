//! Tests of [`super`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn globs() {
    assert!(glob_match("*", "abc"));
    assert!(glob_match("a*c", "abbbc"));
    assert!(glob_match("a?c", "abc"));
    assert!(!glob_match("a?c", "ac"));
    assert!(glob_match("crate-*", "crate-x"));
    assert!(!glob_match("crate-*", "other"));
}

#[test]
fn kinds_renames_and_targets() {
    let text = r#"
[package]
name = "app"
version = "0.2.0"

[dependencies]
serde = "1"
rq = { package = "reqwest", version = "0.12", optional = true }
local = { path = "../local" }
g = { git = "https://user:secret@example.com/g.git", rev = "abc" }

[dev-dependencies]
proptest = "1"

[build-dependencies]
cc = "1.0"

[target.'cfg(unix)'.dependencies]
libc = "0.2"
"#;
    let m = parse_manifest(Path::new("Cargo.toml"), text, None).unwrap();
    assert_eq!(m.name.as_deref(), Some("app"));
    assert_eq!(m.version.as_deref(), Some("0.2.0"));
    let get = |n: &str| m.deps.iter().find(|d| d.name == n).unwrap();
    assert_eq!(get("reqwest").key, "rq");
    assert!(get("reqwest").optional);
    assert_eq!(get("proptest").kind, DepKind::Dev);
    assert_eq!(get("cc").kind, DepKind::Build);
    assert_eq!(get("libc").target.as_deref(), Some("cfg(unix)"));
    assert_eq!(
        get("local").source,
        PackageSource::Path {
            path: "../local".into()
        }
    );
    match &get("g").source {
        PackageSource::Git { url, rev } => {
            assert!(!url.contains("secret"), "{url}");
            assert_eq!(rev.as_deref(), Some("abc"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn workspace_inheritance() {
    let ws = parse_manifest(
        Path::new("Cargo.toml"),
        "[workspace]\nmembers=[\"a\"]\n[workspace.package]\nversion=\"1.2.3\"\n\
         [workspace.dependencies]\nserde = { version = \"1.0.100\", package = \"serde\" }\n",
        None,
    )
    .unwrap();
    let decl = ws.workspace.unwrap();
    let m = parse_manifest(
        Path::new("a/Cargo.toml"),
        "[package]\nname=\"a\"\nversion.workspace=true\n\
         [dependencies]\nserde = { workspace = true, optional = true }\n",
        Some(&decl),
    )
    .unwrap();
    assert_eq!(m.version.as_deref(), Some("1.2.3"));
    assert_eq!(m.deps[0].requirement.as_deref(), Some("1.0.100"));
    assert!(m.deps[0].optional);
}

#[test]
fn bad_toml_names_the_file() {
    let err = parse_manifest(Path::new("x/Cargo.toml"), "[package\nname=", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("x/Cargo.toml"), "{err}");
}
