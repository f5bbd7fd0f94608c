//! Installed Python metadata end to end: a real `pip install --target`
//! folder (metadata files only) inventories to what `pip list` says, in
//! every layout a deployment ships it in, with edges from Requires-Dist.

use crate::common::{depwarden, testdata};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn inventory(dir: &Path) -> Value {
    let db = tempfile::tempdir().unwrap();
    let out = depwarden(&db.path().join("db"))
        .args(["inventory", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn normalize(n: &str) -> String {
    n.to_lowercase().replace(['_', '.'], "-")
}

fn name_versions(inv: &Value) -> BTreeSet<(String, String)> {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                normalize(p["name"].as_str().unwrap()),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pip_list() -> BTreeSet<(String, String)> {
    let text =
        std::fs::read_to_string(testdata("pypi-installed/pip-target/pip-list.json")).unwrap();
    let list: Vec<Value> = serde_json::from_str(&text).unwrap();
    list.iter()
        .map(|p| {
            (
                normalize(p["name"].as_str().unwrap()),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn pip_target_folder_equals_pip_list() {
    let inv = inventory(&testdata("pypi-installed/pip-target/site"));
    let expected = pip_list();
    assert!(expected.len() > 20);
    assert_eq!(name_versions(&inv), expected);
    assert_eq!(inv["deployments"][0]["errors"], serde_json::json!([]));
    // The requested distributions are the direct ones; the rest come in
    // through Requires-Dist.
    let direct: BTreeSet<String> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["direct"] == true)
        .map(|p| normalize(p["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        direct,
        ["boto3", "flask", "pydantic", "pyyaml", "requests"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let urllib3 = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "urllib3")
        .unwrap();
    assert_eq!(
        urllib3["path"].as_array().unwrap().len(),
        2,
        "{}",
        urllib3["path"]
    );
}

#[test]
fn lambda_layer_and_virtualenv_layouts_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let site = testdata("pypi-installed/pip-target/site");
    copy_dir(
        &site,
        &tmp.path().join("layer/python/lib/python3.12/site-packages"),
    );
    copy_dir(&site, &tmp.path().join("layer2/python"));
    copy_dir(
        &site,
        &tmp.path().join("svc/.venv/lib/python3.12/site-packages"),
    );
    std::fs::write(
        tmp.path().join("svc/.venv/pyvenv.cfg"),
        "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.12.1\n",
    )
    .unwrap();
    let inv = inventory(tmp.path());
    let deployments: BTreeSet<String> = inv["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        deployments,
        ["layer", "layer2", "svc"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    for d in ["layer", "layer2", "svc"] {
        let set: BTreeSet<(String, String)> = inv["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["deployment"] == d)
            .map(|p| {
                (
                    normalize(p["name"].as_str().unwrap()),
                    p["version"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(set, pip_list(), "{d}");
    }
}

#[test]
fn broken_metadata_is_named_and_the_rest_is_inventoried() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("fn");
    copy_dir(&testdata("pypi-installed/pip-target/site"), &site);
    std::fs::create_dir_all(site.join("broken-1.0.dist-info")).unwrap();
    let garbage: Vec<u8> = (0..512u32).map(|i| (i * 131 % 256) as u8).collect();
    std::fs::write(site.join("broken-1.0.dist-info/METADATA"), garbage).unwrap();
    std::fs::create_dir_all(site.join("empty-2.0.dist-info")).unwrap();
    let inv = inventory(tmp.path());
    assert_eq!(name_versions(&inv), pip_list());
    let errors = inv["deployments"][0]["errors"].to_string();
    assert!(errors.contains("broken-1.0.dist-info/METADATA"), "{errors}");
    assert!(errors.contains("empty-2.0.dist-info"), "{errors}");
}
