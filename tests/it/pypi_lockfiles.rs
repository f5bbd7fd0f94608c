//! Python lockfiles end to end: one application locked by poetry, uv and
//! pip-compile (real files, testdata/pypi-lock/same-app) gives one set of
//! (name, version) for the target platform; malformed lockfiles are errors
//! naming the file while the rest of the scan goes on.

use crate::common::{depwarden, testdata};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn inventory(db: &Path, dir: &Path) -> Value {
    let out = depwarden(db)
        .args(["inventory", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

type Rows = BTreeSet<(String, String, bool, bool)>;

/// (normalised name, version, dev, direct) of the packages installed on the
/// target, and the names of those that are not.
fn rows(inv: &Value) -> (Rows, BTreeSet<String>) {
    let mut on = Rows::new();
    let mut off = BTreeSet::new();
    for p in inv["packages"].as_array().unwrap() {
        assert_ne!(p["root"], true);
        let name = p["name"].as_str().unwrap().to_lowercase().replace('_', "-");
        if p["not_on_target"].is_string() {
            off.insert(name);
            continue;
        }
        on.insert((
            name,
            p["version"].as_str().unwrap().to_string(),
            p["dev"].as_bool().unwrap(),
            p["direct"].as_bool().unwrap(),
        ));
    }
    (on, off)
}

#[test]
fn poetry_uv_and_pip_compile_locks_of_one_app_agree() {
    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("db");
    let app = testdata("pypi-lock/same-app");
    let (poetry, poetry_off) = rows(&inventory(&db, &app.join("poetry")));
    let (uv, uv_off) = rows(&inventory(&db, &app.join("uv")));
    let (pip, pip_off) = rows(&inventory(&db, &app.join("pip-compile")));
    assert!(poetry.len() >= 15, "{poetry:?}");
    // Poetry and uv agree on versions, dev-ness and directness.
    assert_eq!(poetry, uv);
    // The Windows-only package is there but not on the Linux target.
    assert_eq!(poetry_off, BTreeSet::from(["colorama".to_string()]));
    assert_eq!(uv_off, poetry_off);
    assert!(pip_off.is_empty());
    // pip-compile's flat file has no edges: compare (name, version).
    let nv = |r: &Rows| -> BTreeSet<(String, String)> {
        r.iter()
            .map(|(n, v, _, _)| (n.clone(), v.clone()))
            .collect()
    };
    assert_eq!(nv(&poetry), nv(&pip));
    // Direct and dev come from pyproject.toml.
    assert!(poetry.contains(&("pytest".into(), "8.3.3".into(), true, true)));
    assert!(poetry.contains(&("flask".into(), "3.0.3".into(), false, true)));
    assert!(poetry.contains(&("werkzeug".into(), "3.1.9".into(), false, false)));
    assert!(poetry.contains(&("pluggy".into(), "1.7.0".into(), true, false)));
}

#[test]
fn malformed_python_lockfiles_are_named_and_the_rest_goes_on() {
    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("db");
    let tmp = tempfile::tempdir().unwrap();
    let app = testdata("pypi-lock/same-app");
    let cases: [(&str, &str, String); 5] = [
        ("truncated-poetry", "poetry.lock", {
            let t = std::fs::read_to_string(app.join("poetry/poetry.lock")).unwrap();
            t[..t.len() / 3].to_string() + "\n[[package]\nname = "
        }),
        (
            "wrong-types-uv",
            "uv.lock",
            "version = 1\npackage = \"not a table\"\n".into(),
        ),
        (
            "pdm-garbage",
            "pdm.lock",
            "[[package]]\nname = 3\nversion = [\n".into(),
        ),
        (
            "pipfile-not-json",
            "Pipfile.lock",
            "{\"default\": {\"x\": ".into(),
        ),
        (
            "pylock-wrong-packages",
            "pylock.toml",
            "lock-version = \"1.0\"\npackages = [1, 2]\n".into(),
        ),
    ];
    for (dir, file, body) in &cases {
        let d = tmp.path().join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(file), body).unwrap();
    }
    let good = tmp.path().join("good");
    std::fs::create_dir_all(&good).unwrap();
    std::fs::copy(app.join("uv/uv.lock"), good.join("uv.lock")).unwrap();
    std::fs::copy(app.join("uv/pyproject.toml"), good.join("pyproject.toml")).unwrap();
    let inv = inventory(&db, tmp.path());
    let deployments = inv["deployments"].as_array().unwrap();
    for (dir, file, _) in &cases {
        let d = deployments
            .iter()
            .find(|d| d["path"] == *dir)
            .unwrap_or_else(|| panic!("{dir} missing"));
        let named = format!("{dir}/{file}");
        assert!(
            d["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["level"] == "error" && e["path"] == named.as_str()),
            "{dir}: {}",
            d["errors"]
        );
    }
    let good_count = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["deployment"] == "good")
        .count();
    assert_eq!(good_count, 18);
}
