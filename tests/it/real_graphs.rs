//! Lockfiles written by the real tools (`testdata/real/`, see its README):
//! pnpm 5 to 9, yarn 1 and berry 3/4, bun, npm and poetry 1.4/1.8. Each is
//! read whole (no lockfile dropped, no warning), dev is the graph's one rule
//! in every format, npm platform fields and Python markers are evaluated
//! for the Lambda target, and a package excluded there never closes the
//! gate.

use crate::common::{self, depwarden, scan_json, shared_db, testdata};
use serde_json::Value;
use std::collections::BTreeSet;

fn inventory(rel: &str) -> Value {
    let out = common::bin()
        .args(["inventory", "--format", "json"])
        .arg(testdata(rel))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `name@version` of the packages of the deployment at the root for which
/// `pick` holds.
fn set(inv: &Value, pick: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["deployment"] == "." && p["root"] == false && pick(p))
        .map(|p| {
            format!(
                "{}@{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

fn problems(inv: &Value) -> Vec<String> {
    inv["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["path"] == ".")
        .flat_map(|d| d["errors"].as_array().unwrap().clone())
        .filter(|e| e["level"] != "info")
        .map(|e| e["message"].to_string())
        .collect()
}

fn names(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn single_project_lockfiles_of_every_tool_agree() {
    // `once` is a devDependency of the project and a dependency of `glob`
    // (through `inflight`): production. `is-odd` and the `is-number` it
    // pulls are dev only. `fs.realpath` and `lodash.merge` have dots.
    let dev = names(&["is-odd@3.0.1", "is-number@6.0.0"]);
    for rel in [
        "real/pnpm/v5.2-app",
        "real/pnpm/v5.4-app",
        "real/pnpm/v6-app",
        "real/pnpm/v9-app",
        "real/yarn/v1-app",
        "real/npm/v3-app",
    ] {
        let inv = inventory(rel);
        assert_eq!(problems(&inv), Vec::<String>::new(), "{rel}");
        let all = set(&inv, |_| true);
        assert_eq!(all.len(), 23, "{rel}: {all:?}");
        for must in [
            "fs.realpath@1.0.0",
            "lodash.merge@4.6.2",
            "once@1.4.0",
            "lodash@4.17.21",
        ] {
            assert!(all.contains(must), "{rel}: {must} missing");
        }
        assert_eq!(set(&inv, |p| p["dev"] == true), dev, "{rel}");
        // yarn v1 records no platform fields; the others exclude fsevents.
        let off = set(&inv, |p| p["not_on_target"].is_string());
        if rel.contains("yarn/v1") {
            assert!(off.is_empty(), "{rel}: {off:?}");
        } else {
            assert_eq!(off, names(&["fsevents@2.3.2"]), "{rel}");
        }
    }
}

#[test]
fn workspace_lockfiles_of_every_tool_agree() {
    // pnpm workspace: `glob` is a devDependency of packages/lib and a
    // dependency of packages/api (production); `lodash.merge` is only a
    // devDependency of packages/lib.
    for rel in [
        "real/pnpm/v5.2-workspace",
        "real/pnpm/v5.4-workspace",
        "real/pnpm/v6-workspace",
        "real/pnpm/v9-workspace",
    ] {
        let inv = inventory(rel);
        assert_eq!(problems(&inv), Vec::<String>::new(), "{rel}");
        assert_eq!(
            set(&inv, |p| p["dev"] == true),
            names(&["lodash.merge@4.6.2"]),
            "{rel}"
        );
        let all = set(&inv, |_| true);
        for must in [
            "glob@7.2.3",
            "@floating-ui/react-dom@2.0.8",
            "react-dom@18.2.0",
            "is-odd@3.0.1",
        ] {
            assert!(all.contains(must), "{rel}: {must} missing");
        }
    }
    // yarn berry and bun: chalk is locked under two descriptors
    // (`chalk@npm:^4.0.0, chalk@npm:^4.1.0`) beside chalk 2. packages/lib's
    // devDependency chalk 4 is a dependency of the project and of
    // log-symbols 4 (production); its devDependency left-pad is dev only,
    // although berry lists it among the workspace's `dependencies`.
    for rel in [
        "real/yarn/berry3-workspace",
        "real/yarn/berry4-workspace",
        "real/bun/workspace",
    ] {
        let inv = inventory(rel);
        assert_eq!(problems(&inv), Vec::<String>::new(), "{rel}");
        assert_eq!(
            set(&inv, |p| p["dev"] == true),
            names(&["left-pad@1.3.0"]),
            "{rel}"
        );
        let all = set(&inv, |_| true);
        for must in [
            "chalk@4.1.2",
            "chalk@2.4.2",
            "lodash@4.17.21",
            "fs.realpath@1.0.0",
        ] {
            assert!(all.contains(must), "{rel}: {must} missing");
        }
        let chalk4 = inv["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "chalk" && p["version"] == "4.1.2")
            .unwrap();
        assert_eq!(chalk4["direct"], true, "{rel}");
        // fsevents (os=darwin) and what only it requires are not installed
        // on Lambda.
        let off = set(&inv, |p| p["not_on_target"].is_string());
        assert!(off.contains("fsevents@2.3.2"), "{rel}: {off:?}");
        assert!(!off.contains("glob@7.2.3"), "{rel}: {off:?}");
    }
}

#[test]
fn poetry_1x_dev_groups_come_from_category_or_from_the_project() {
    // lock-version 2.0 from Poetry 1.4 (with `category`) and from Poetry
    // 1.8 (without): the same dev set either way.
    let dev = names(&[
        "colorama@0.4.6",
        "exceptiongroup@1.3.2",
        "iniconfig@2.1.0",
        "packaging@26.3",
        "pluggy@1.6.0",
        "pytest@7.4.0",
        "pyyaml@6.0.3",
        "responses@0.23.3",
        "tomli@2.5.0",
        "types-pyyaml@6.0.12.20250915",
        "typing-extensions@4.16.0",
    ]);
    for rel in ["real/poetry/1.4-category", "real/poetry/1.8-no-category"] {
        let inv = inventory(rel);
        assert_eq!(set(&inv, |p| p["dev"] == true), dev, "{rel}");
        let dev_group = set(&inv, |p| {
            p["groups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|x| x == "dev"))
        });
        assert_eq!(dev_group, dev, "{rel}");
        assert!(set(&inv, |p| p["dev"] == false).contains("requests@2.31.0"));
        // Required only under markers false for Python 3.12 on Linux.
        assert_eq!(
            set(&inv, |p| p["not_on_target"].is_string()),
            names(&[
                "colorama@0.4.6",
                "exceptiongroup@1.3.2",
                "tomli@2.5.0",
                "typing-extensions@4.16.0"
            ]),
            "{rel}"
        );
    }
}

#[test]
fn a_package_npm_never_installs_on_the_target_never_closes_the_gate() {
    // fsevents 0.3.8 (os: darwin) has a critical advisory; every lockfile
    // format records the platform field, so it is reported, marked
    // not_on_target, and the gate stays open.
    let db = shared_db();
    let (code, report) = scan_json(&db, &[testdata("real/platform").to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    let deployments = report["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 5);
    for d in deployments {
        let f = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["package"] == "fsevents")
            .unwrap_or_else(|| panic!("{}: no fsevents finding", d["path"]));
        assert_eq!(f["severity"], "critical");
        assert!(
            f["not_on_target"].as_str().unwrap().contains("darwin"),
            "{f}"
        );
        assert_eq!(f["closes_gate"], false);
    }
    // The same lockfile without its platform field closes it.
    let tmp = tempfile::tempdir().unwrap();
    let lock = std::fs::read_to_string(testdata("real/platform/npm/package-lock.json")).unwrap();
    let stripped = lock.replace("\"os\": [\n        \"darwin\"\n      ],", "");
    assert_ne!(lock, stripped);
    std::fs::write(tmp.path().join("package-lock.json"), stripped).unwrap();
    let (code, _) = scan_json(&db, &[tmp.path().to_str().unwrap()]);
    assert_eq!(code, 1);
}

#[test]
fn the_target_architecture_is_configured() {
    let db = shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let lock = std::fs::read_to_string(testdata("real/platform/npm/package-lock.json")).unwrap();
    let cpu_only = lock.replace(
        "\"os\": [\n        \"darwin\"\n      ],",
        "\"cpu\": [\"arm64\"],",
    );
    std::fs::write(tmp.path().join("package-lock.json"), cpu_only).unwrap();
    let cfg = tmp.path().join("cfg.toml");
    for (arch, closes) in [("x86_64", false), ("arm64", true)] {
        std::fs::write(&cfg, format!("[target]\narchitecture = \"{arch}\"\n")).unwrap();
        let out = depwarden(&db)
            .args([
                "--config",
                cfg.to_str().unwrap(),
                "scan",
                "--format",
                "json",
            ])
            .arg(tmp.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code() == Some(1), closes, "{arch}");
    }
}
