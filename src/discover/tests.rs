//! Tests of [`super`].

use super::*;
use crate::fs::OsFs;
use std::fs;

fn touch(p: &Path, body: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, body).unwrap();
}

fn formats(d: &Deployment) -> Vec<(String, SourceFormat)> {
    d.sources
        .iter()
        .map(|s| (relative_display(&d.root, &s.path), s.format))
        .collect()
}

#[test]
fn groups_sources_by_root_and_applies_companions() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    touch(&r.join("fn-a/package.json"), "{}");
    touch(&r.join("fn-a/package-lock.json"), "{}");
    touch(&r.join("fn-a/node_modules/x/package.json"), "{}");
    touch(&r.join("fn-a/node_modules/x/sub/requirements.txt"), "");
    touch(&r.join("fn-b/requirements.txt"), "");
    touch(&r.join("fn-b/requirements-dev.txt"), "");
    touch(
        &r.join("fn-c/Cargo.toml"),
        "[workspace]\nmembers = [\"crates/member\"]\n",
    );
    touch(
        &r.join("fn-c/Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"member\"\nversion = \"0.1.0\"\n",
    );
    touch(
        &r.join("fn-c/crates/member/Cargo.toml"),
        "[package]\nname = \"member\"\nversion = \"0.1.0\"\n",
    );
    // A crate below the workspace that its lockfile does not list is a
    // project of its own.
    touch(
        &r.join("fn-c/examples/standalone/Cargo.toml"),
        "[package]\nname = \"standalone\"\nversion = \"0.1.0\"\n",
    );
    touch(&r.join("fn-c/target/debug/Cargo.lock"), "");
    touch(
        &r.join("fn-d/python/lib/python3.12/site-packages/six-1.16.0.dist-info/METADATA"),
        "",
    );
    touch(&r.join("fn-e/six-1.16.0.dist-info/METADATA"), "");
    touch(&r.join(".git/package.json"), "{}");
    touch(&r.join("only-manifest/package.json"), "{}");
    let found = discover(&OsFs::default(), &[r.to_path_buf()]).unwrap();
    let by: Vec<_> = found
        .deployments
        .iter()
        .map(|d| (d.display_path(), formats(d)))
        .collect();
    assert_eq!(
        by,
        vec![
            (
                "fn-a".into(),
                vec![
                    ("node_modules".into(), SourceFormat::NodeModules),
                    ("package-lock.json".into(), SourceFormat::PackageLock)
                ]
            ),
            (
                "fn-b".into(),
                vec![
                    ("requirements-dev.txt".into(), SourceFormat::Requirements),
                    ("requirements.txt".into(), SourceFormat::Requirements)
                ]
            ),
            (
                "fn-c".into(),
                vec![("Cargo.lock".into(), SourceFormat::CargoLock)]
            ),
            (
                "fn-c/examples/standalone".into(),
                vec![("Cargo.toml".into(), SourceFormat::CargoToml)]
            ),
            (
                "fn-d".into(),
                vec![(
                    "python/lib/python3.12/site-packages".into(),
                    SourceFormat::PythonInstalled
                )]
            ),
            (
                "fn-e".into(),
                vec![(".".into(), SourceFormat::PythonInstalled)]
            ),
            (
                "only-manifest".into(),
                vec![("package.json".into(), SourceFormat::PackageJson)]
            ),
        ]
    );
}

#[test]
fn shrinkwrap_wins_over_package_lock() {
    let t = tempfile::tempdir().unwrap();
    touch(&t.path().join("package-lock.json"), "{}");
    touch(&t.path().join("npm-shrinkwrap.json"), "{}");
    let found = discover(&OsFs::default(), &[t.path().to_path_buf()]).unwrap();
    assert_eq!(found.deployments.len(), 1);
    assert_eq!(found.deployments[0].sources.len(), 1);
    assert_eq!(
        found.deployments[0].sources[0].format,
        SourceFormat::NpmShrinkwrap
    );
}

#[test]
fn missing_path_is_an_error() {
    let err = discover(&OsFs::default(), &[PathBuf::from("/nonexistent/depwarden")]).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/depwarden"));
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_escapes_are_reported_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("app");
    touch(&r.join("requirements.txt"), "six==1.16.0\n");
    std::os::unix::fs::symlink(&r, r.join("loop")).unwrap();
    std::os::unix::fs::symlink("/etc", r.join("etc")).unwrap();
    let found = discover(&OsFs::default(), std::slice::from_ref(&r)).unwrap();
    assert_eq!(found.deployments.len(), 1);
    let msgs: Vec<_> = found.deployments[0]
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    assert!(msgs.iter().any(|m| m.contains("loop")), "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.contains("outside the scanned root")),
        "{msgs:?}"
    );
}
