//! A real package-lock.json of a large app (3,138 entries): the inventory
//! equals what `npm ls --all --package-lock-only` lists as a set of
//! (name, version), and equals it again with `--omit=dev` (see
//! testdata/npm/large-app/README.md for how the expected sets were made).

use crate::common::{depwarden, testdata};
use std::collections::BTreeSet;

type Set = BTreeSet<(String, String)>;

fn expected(file: &str) -> Set {
    std::fs::read_to_string(testdata(&format!("npm/large-app/{file}")))
        .unwrap()
        .lines()
        .map(|l| {
            let (n, v) = l.rsplit_once('@').unwrap();
            (n.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn inventory_equals_npm_ls_with_and_without_dev() {
    let db = tempfile::tempdir().unwrap();
    let out = depwarden(&db.path().join("db"))
        .args(["inventory", "--format", "json"])
        .arg(testdata("npm/large-app"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inv["deployments"][0]["errors"], serde_json::json!([]));
    let mut all = Set::new();
    let mut production = Set::new();
    for p in inv["packages"].as_array().unwrap() {
        if p["root"] == true {
            continue;
        }
        let key = (
            p["name"].as_str().unwrap().to_string(),
            p["version"].as_str().unwrap().to_string(),
        );
        if p["dev"] == false {
            production.insert(key.clone());
        }
        all.insert(key);
    }
    let npm_all = expected("npm-ls-all.txt");
    let npm_prod = expected("npm-ls-omit-dev.txt");
    assert!(npm_all.len() > 2000 && npm_prod.len() > 200);
    assert_eq!(
        all.difference(&npm_all).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "not listed by npm ls"
    );
    assert_eq!(
        npm_all.difference(&all).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "missing from inventory"
    );
    assert_eq!(production, npm_prod, "--omit=dev");
}
