//! Resolution of manifests without a lockfile, against registry metadata
//! recorded together with what the real installers resolved from it
//! (`testdata/resolve/record.py`): npm `install --package-lock-only`,
//! `pip install --dry-run --report` for the Lambda platform, `cargo
//! generate-lockfile`. The recorded answers are served from loopback; the
//! store is filled with `--online` there, then every resolution is replayed
//! offline, from an export imported elsewhere, and at an earlier cutoff.

use crate::common::{self, http::Server};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

type Set = BTreeSet<(String, String)>;

/// A recorded case served from loopback.
pub struct Case {
    pub dir: PathBuf,
    pub server: Server,
    pub cutoff: String,
}

pub fn case(name: &str) -> Case {
    let dir = common::testdata(&format!("resolve/{name}"));
    let server = Server::start();
    let gz = std::fs::File::open(dir.join("registry.jsonl.gz")).unwrap();
    for line in std::io::BufReader::new(flate2::read::GzDecoder::new(gz)).lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        server.put(
            v["path"].as_str().unwrap(),
            v["body"].as_str().unwrap().as_bytes().to_vec(),
        );
    }
    let cutoff = std::fs::read_to_string(dir.join("cutoff"))
        .unwrap()
        .trim()
        .to_string();
    Case {
        dir,
        server,
        cutoff,
    }
}

impl Case {
    /// The manifest, copied where no lockfile sits beside it.
    pub fn manifest(&self) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        copy(&self.dir.join("manifest"), t.path());
        t
    }

    pub fn registries(&self) -> Vec<String> {
        let b = &self.server.base;
        vec![
            "--registry".into(),
            format!("npm={b}/npm/"),
            "--registry".into(),
            format!("pypi={b}/pypi/simple/"),
            "--registry".into(),
            format!("crates={b}/crates/"),
        ]
    }

    /// `inventory --resolve --format json` with the case's cutoff.
    pub fn inventory(&self, db: &Path, dir: &Path, online: bool, extra: &[&str]) -> (i32, Value) {
        self.inventory_at(&self.cutoff, db, dir, online, extra)
    }

    /// `inventory --resolve --format json` with `cutoff`.
    pub fn inventory_at(
        &self,
        cutoff: &str,
        db: &Path,
        dir: &Path,
        online: bool,
        extra: &[&str],
    ) -> (i32, Value) {
        let mut cmd = common::bin();
        cmd.arg("--db")
            .arg(db)
            .args(["inventory", "--resolve", "--format", "json"]);
        cmd.args(["--resolve-cutoff", cutoff]);
        if online {
            cmd.arg("--online");
        }
        cmd.args(self.registries()).args(extra).arg(dir);
        let out = cmd.output().unwrap();
        let code = out.status.code().unwrap_or(-1);
        let v = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (code, v)
    }
}

pub fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn norm(eco: &str, n: &str) -> String {
    if eco == "PyPI" {
        n.to_ascii_lowercase().replace(['_', '.'], "-")
    } else {
        n.to_string()
    }
}

/// (name, version) of every resolved package in an inventory.
pub fn resolved(inv: &Value) -> Set {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["resolved"] == true)
        .map(|p| {
            let eco = p["ecosystem"].as_str().unwrap();
            (
                norm(eco, p["name"].as_str().unwrap()),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What the real installer resolved (the files in `e`).
fn expected(e: &Path) -> Set {
    if let Ok(text) = std::fs::read_to_string(e.join("package-lock.json")) {
        let v: Value = serde_json::from_str(&text).unwrap();
        return v["packages"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, p)| !k.is_empty() && p.get("link").is_none())
            .map(|(k, p)| {
                let name = p["name"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| k.rsplit("node_modules/").next().unwrap().to_string());
                (name, p["version"].as_str().unwrap().to_string())
            })
            .collect();
    }
    if let Ok(text) = std::fs::read_to_string(e.join("pip-report.json")) {
        let v: Value = serde_json::from_str(&text).unwrap();
        return v["install"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    norm("PyPI", i["metadata"]["name"].as_str().unwrap()),
                    i["metadata"]["version"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    }
    let text = std::fs::read_to_string(e.join("Cargo.lock")).unwrap();
    let lock: toml::Value = toml::from_str(&text).unwrap();
    lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.get("source").is_some())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn errors(inv: &Value) -> Vec<String> {
    inv["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["errors"].as_array().unwrap().iter())
        .map(|e| format!("{}: {}", e["level"], e["message"]))
        .collect()
}

fn digest(inv: &Value) -> String {
    inv["deployments"][0]["sources"][0]["resolution"]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Online from loopback, offline from the store, offline from an export
/// imported into another database: the real installer's set every time,
/// with the same digest.
fn same_as_installer(name: &str) {
    let c = case(name);
    let m = c.manifest();
    let store = tempfile::tempdir().unwrap();
    let db = store.path().join("db");
    let (code, online) = c.inventory(&db, m.path(), true, &[]);
    assert_eq!(code, 0, "{:?}", errors(&online));
    let want = expected(&c.dir.join("expected"));
    let got = resolved(&online);
    assert_eq!(
        got.difference(&want).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "{name}: resolved but not installed by the real tool"
    );
    assert_eq!(
        want.difference(&got).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "{name}: installed by the real tool but not resolved"
    );
    // Every package is marked predicted, with the cutoff.
    for p in online["packages"].as_array().unwrap() {
        if p["root"] == false {
            assert_eq!(p["resolved"], true, "{p}");
            assert_eq!(p["resolve_cutoff"], c.cutoff.as_str());
        }
    }
    let source = &online["deployments"][0]["sources"][0]["resolution"];
    assert_eq!(source["cutoff"], c.cutoff.as_str());
    assert!(digest(&online).starts_with("sha256:"));

    // Offline: the server is not asked again, and the answer is the same.
    c.server.clear_log();
    let (code, offline) = c.inventory(&db, m.path(), false, &["--strict"]);
    assert_eq!(code, 0, "{:?}", errors(&offline));
    assert!(c.server.log().is_empty(), "offline asked the registry");
    assert_eq!(resolved(&offline), got);
    assert_eq!(digest(&offline), digest(&online));

    // Exported and imported on another machine: the same answer.
    let file = store.path().join("metadata.jsonl.gz");
    common::bin()
        .arg("--db")
        .arg(&db)
        .args(["db", "export-metadata"])
        .arg(&file)
        .assert()
        .success();
    let other = tempfile::tempdir().unwrap();
    let db2 = other.path().join("db");
    common::bin()
        .arg("--db")
        .arg(&db2)
        .args(["db", "import-metadata"])
        .arg(&file)
        .assert()
        .success();
    let (code, imported) = c.inventory(&db2, m.path(), false, &["--strict"]);
    assert_eq!(code, 0, "{:?}", errors(&imported));
    assert_eq!(resolved(&imported), got);
    assert_eq!(digest(&imported), digest(&online));

    // Replayed at an earlier cutoff: what the installer chose with its own
    // (`npm --before`, `pip --uploaded-prior-to`), offline.
    if let Ok(before) = std::fs::read_to_string(c.dir.join("before")) {
        let before = before.trim();
        let (code, fetched) = c.inventory_at(before, &db, m.path(), true, &[]);
        assert_eq!(code, 0, "{:?}", errors(&fetched));
        let (code, then) = c.inventory_at(before, &db, m.path(), false, &["--strict"]);
        assert_eq!(code, 0, "{:?}", errors(&then));
        assert_eq!(resolved(&then), resolved(&fetched));
        let want = expected(&c.dir.join("expected").join("before"));
        assert_eq!(resolved(&then), want, "{name} at {before}");
        assert_ne!(resolved(&then), got, "the cutoff changed nothing");
        assert_ne!(digest(&then), digest(&online));
        assert_eq!(
            then["deployments"][0]["sources"][0]["resolution"]["cutoff"],
            before
        );
    }
}

#[test]
fn npm_tree_is_the_one_npm_locks() {
    same_as_installer("npm-api");
}

#[test]
fn npm_peers_and_platform_packages_as_npm_installs_them() {
    same_as_installer("npm-peer");
}

#[test]
fn pypi_tree_is_the_one_pip_installs_for_lambda() {
    same_as_installer("pypi-api");
}

#[test]
fn pypi_native_wheels_for_the_lambda_platform() {
    same_as_installer("pypi-native");
}

#[test]
fn cargo_tree_is_the_one_cargo_locks() {
    same_as_installer("cargo-lambda");
}

/// Path dependencies read transitively: a path crate outside a workspace
/// gets the features its dependent asks for (not its defaults here), and
/// neither its dev-dependencies nor its disabled optional ones are locked.
#[test]
fn cargo_path_crates_as_cargo_locks_them() {
    same_as_installer("cargo-path");
}

#[test]
fn pypi_old_pins_with_their_old_dependencies() {
    same_as_installer("pypi-old");
}
