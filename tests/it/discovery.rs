//! Discovery on real layouts: a directory with its own manifest below a
//! lockfile is its own deployment unless the lockfile lists it; a `Pipfile`
//! alone gives its pins; `__MACOSX/` and package-manager caches are never
//! deployments (with `--zips` neither); a symlinked directory is scanned
//! once, under its real path; and what a scan finds does not depend on how
//! its path is spelled or where it is run from.

use crate::common::{self, testdata};
use serde_json::Value;
use std::io::Write;
use std::path::Path;

fn inventory_in(cwd: &Path, args: &[&str]) -> Value {
    let out = common::bin()
        .current_dir(cwd)
        .args(["inventory", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn inventory(args: &[&str]) -> Value {
    inventory_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn deployments(inv: &Value) -> Vec<String> {
    inv["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_string())
        .collect()
}

fn messages(inv: &Value) -> Vec<String> {
    inv["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["errors"].as_array().unwrap().clone())
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_manifest_below_a_lockfile_is_its_own_deployment_unless_listed() {
    let dir = testdata("real/discovery/npm-monorepo");
    let inv = inventory(&[dir.to_str().unwrap()]);
    // packages/shared is a workspace member of the lockfile; the function
    // and the test fixture are projects of their own.
    assert_eq!(
        deployments(&inv),
        [".", "functions/standalone", "test/fixtures/app"]
    );
    let standalone: Vec<&Value> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["deployment"] == "functions/standalone")
        .collect();
    let names: Vec<&str> = standalone
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lodash", "once"]);
    // The member's dependency is in the lockfile's graph.
    assert!(
        inv["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["deployment"] == "." && p["name"] == "wrappy")
    );

    let dir = testdata("real/discovery/python-repo");
    let inv = inventory(&[dir.to_str().unwrap()]);
    assert_eq!(deployments(&inv), [".", "jobs/nightly", "scripts/report"]);
}

#[test]
fn a_pipfile_alone_gives_its_pins() {
    let dir = testdata("real/discovery/python-repo/jobs/nightly");
    let inv = inventory(&[dir.to_str().unwrap()]);
    let rows: Vec<(String, Value, bool, Value)> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].clone(),
                p["dev"].as_bool().unwrap(),
                p["not_on_target"].clone(),
            )
        })
        .collect();
    let row = |n: &str| rows.iter().find(|r| r.0 == n).unwrap().clone();
    assert_eq!(row("urllib3").1, "1.26.4");
    assert_eq!(row("pyyaml").1, "5.3.1");
    assert_eq!(row("requests").1, Value::Null, "a range stays unresolved");
    assert!(row("pytest").2, "dev-packages are dev");
    assert!(!row("urllib3").2);
    assert!(row("pywin32").3.is_string(), "win32 marker: not on Lambda");
    assert!(
        messages(&inv).iter().any(|m| m.contains("no lockfile")),
        "{:?}",
        messages(&inv)
    );
    // Beside its Pipfile.lock, a Pipfile is only the lock's companion.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("Pipfile"), tmp.path().join("Pipfile")).unwrap();
    std::fs::write(
        tmp.path().join("Pipfile.lock"),
        r#"{"_meta": {"sources": []}, "default": {"urllib3": {"version": "==1.26.4"}}, "develop": {}}"#,
    )
    .unwrap();
    let inv = inventory(&[tmp.path().to_str().unwrap()]);
    let formats: Vec<&str> = inv["deployments"][0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["pipfile-lock"]);
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        for (name, body) in files {
            z.start_file(*name, opts).unwrap();
            z.write_all(body).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn macos_metadata_and_package_manager_caches_are_never_deployments() {
    let lock = std::fs::read(testdata("real/npm/v3-app/package-lock.json")).unwrap();
    let manifest = std::fs::read(testdata("real/npm/v3-app/package.json")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // A function zip made by the Finder: __MACOSX/ holds AppleDouble files
    // named like the real ones.
    std::fs::write(
        root.join("function.zip"),
        zip_of(&[
            ("package-lock.json", &lock),
            ("package.json", &manifest),
            ("__MACOSX/._package-lock.json", b"\0\x05\x16\x07"),
            ("__MACOSX/sub/package.json", &manifest),
        ]),
    )
    .unwrap();
    // A yarn PnP cache of zips, npm's and pnpm's caches, pip's.
    let cache_zip = zip_of(&[(
        "node_modules/x/package.json",
        br#"{"name":"x","version":"1.0.0"}"#,
    )]);
    for dir in [
        ".yarn/cache",
        ".yarn/unplugged/x-npm-1.0.0/node_modules/x",
        ".npm/_cacache",
        ".pnpm-store/v3",
        ".cache/pip/wheels",
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join("x-npm-1.0.0.zip"), &cache_zip).unwrap();
        std::fs::write(root.join(dir).join("package.json"), &manifest).unwrap();
    }
    std::fs::create_dir_all(root.join("macos/__MACOSX")).unwrap();
    std::fs::write(root.join("macos/__MACOSX/package.json"), &manifest).unwrap();
    let inv = inventory(&["--zips", root.to_str().unwrap()]);
    assert_eq!(deployments(&inv), ["function.zip!"]);
    // The zip is scanned whole, once.
    let n = inv["packages"].as_array().unwrap().len();
    assert_eq!(n, 23);
}

#[cfg(unix)]
#[test]
fn a_symlinked_directory_is_scanned_once_under_its_real_path() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let real = root.join("service");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::copy(
        testdata("real/npm/v3-app/package-lock.json"),
        real.join("package-lock.json"),
    )
    .unwrap();
    // The link's name sorts before the real directory's.
    std::os::unix::fs::symlink(&real, root.join("a-link")).unwrap();
    std::os::unix::fs::symlink("service", root.join("z-link")).unwrap();
    let inv = inventory(&[root.to_str().unwrap()]);
    assert_eq!(deployments(&inv), ["service"]);
    let msgs = messages(&inv);
    assert!(!msgs.iter().any(|m| m.contains("loop")), "{msgs:?}");
    // Without a deployment to hold them, the notes are the scan's own.
    let notes: Vec<String> = inv["errors"]
        .as_array()
        .unwrap()
        .iter()
        .chain(inv["deployments"][0]["errors"].as_array().unwrap())
        .map(|e| e["message"].as_str().unwrap().to_string())
        .filter(|m| m.contains("symbolic link"))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes
            .iter()
            .all(|m| m.contains("service") && m.contains("real path"))
    );
    // A link to a directory that contains it is a loop, still not followed.
    std::os::unix::fs::symlink(root, real.join("up")).unwrap();
    let inv = inventory(&[root.to_str().unwrap()]);
    assert_eq!(deployments(&inv), ["service"]);
    assert!(messages(&inv).iter().any(|m| m.contains("loop")));
}

/// The deployments and packages of an inventory, without the paths that
/// are absolute by nature.
fn digest(inv: &Value) -> Vec<String> {
    let mut rows: Vec<String> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {} dev={} direct={} {}",
                p["deployment"],
                p["source"],
                p["name"],
                p["version"],
                p["dev"],
                p["direct"],
                p["not_on_target"]
            )
        })
        .collect();
    rows.extend(deployments(inv));
    rows.sort();
    rows
}

#[test]
fn the_result_does_not_depend_on_how_the_path_is_spelled() {
    // Every fixture directory that holds a dependency source, scanned as
    // `DIR` from its parent and as `.` from inside.
    let base = testdata("");
    let mut dirs = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let mut has_source = false;
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                if !matches!(name.as_str(), "node_modules" | "hostile" | "site-packages") {
                    walk(&e.path(), out);
                }
            } else if depwarden::source::SourceFormat::from_file_name(&name).is_some() {
                has_source = true;
            }
        }
        if has_source {
            out.push(dir.to_path_buf());
        }
    }
    walk(&base, &mut dirs);
    assert!(dirs.len() > 40, "{}", dirs.len());
    for dir in dirs {
        let parent = dir.parent().unwrap();
        let name = dir.file_name().unwrap().to_str().unwrap();
        let from_parent = inventory_in(parent, &[name]);
        let inside = inventory_in(&dir, &["."]);
        assert_eq!(digest(&from_parent), digest(&inside), "{}", dir.display());
    }
    // And a roundabout spelling, on the workspace whose path dependency
    // leaves its directory.
    let ws = testdata("real/cargo/path-deps-no-lock/ws");
    let plain = inventory_in(&ws, &["."]);
    let odd = inventory_in(&ws, &["../ws/./crates/../"]);
    assert_eq!(digest(&plain), digest(&odd));
}
