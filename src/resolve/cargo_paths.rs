//! Path dependencies of a Cargo manifest, as `cargo generate-lockfile`
//! treats them: read transitively inside the deployment root (never
//! outside it, at most [`MAX_MANIFESTS`] of them), members of the
//! workspace when the root has a `[workspace]` (every feature, optional
//! and dev-dependencies locked), otherwise plain packages whose
//! dev-dependencies are not locked and whose optional dependencies count
//! only when a feature that the dependents enable turns them on.

use super::tree::Unresolved;
use crate::fs::Fs;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How many manifests one resolution reads at most.
pub const MAX_MANIFESTS: usize = 1000;

/// A manifest read for resolution.
pub struct Manifest {
    /// Its directory.
    pub dir: PathBuf,
    /// The parsed `Cargo.toml`.
    pub toml: toml::Value,
    /// A workspace member (rather than a path dependency outside one).
    pub member: bool,
}

/// A `path` dependency of one manifest on another one that was read.
#[derive(Debug, Clone)]
pub struct PathReq {
    /// The index of the manifest depended on.
    pub to: usize,
    /// The dependency's key (its name in the depender's features).
    pub key: String,
    /// Features asked for.
    pub features: Vec<String>,
    /// `default-features` is not turned off.
    pub default_features: bool,
    /// Optional in the depender.
    pub optional: bool,
    /// A dev-dependency.
    pub dev: bool,
}

fn dep_tables(m: &toml::Value) -> Vec<&toml::Value> {
    let keys = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut tables: Vec<&toml::Value> = keys.iter().filter_map(|k| m.get(*k)).collect();
    if let Some(targets) = m.get("target").and_then(toml::Value::as_table) {
        for t in targets.values() {
            tables.extend(keys.iter().filter_map(|k| t.get(*k)));
        }
    }
    tables
}

/// The directories of a manifest's `path` dependencies.
fn path_deps(dir: &Path, m: &toml::Value) -> Vec<PathBuf> {
    let mut tables = dep_tables(m);
    tables.extend(m.get("workspace").and_then(|w| w.get("dependencies")));
    tables
        .into_iter()
        .filter_map(toml::Value::as_table)
        .flat_map(|t| t.values())
        .filter_map(|spec| spec.get("path").and_then(toml::Value::as_str))
        .map(|p| crate::fs::normalize(&dir.join(p)))
        .collect()
}

/// Reads the workspace members and the path dependencies of everything
/// read, transitively, inside `root`. `first` are the manifests already
/// read (the root's own package). Reaching `max` manifests
/// ([`MAX_MANIFESTS`] in a scan) is reported, never silent.
pub fn read_all(
    fs: &dyn Fs,
    read: &dyn Fn(&Path) -> Result<toml::Value, String>,
    root: &Path,
    workspace: bool,
    mut manifests: Vec<Manifest>,
    member_dirs: Vec<PathBuf>,
    max: usize,
) -> Result<(Vec<Manifest>, Option<Unresolved>), String> {
    let mut queue: Vec<(PathBuf, bool)> = member_dirs.into_iter().map(|d| (d, true)).collect();
    for m in &manifests {
        queue.extend(
            path_deps(&m.dir, &m.toml)
                .into_iter()
                .map(|p| (p, workspace)),
        );
    }
    queue.reverse();
    let mut seen: BTreeSet<PathBuf> = manifests.iter().map(|m| m.dir.clone()).collect();
    let mut cut = None;
    while let Some((d, member)) = queue.pop() {
        if seen.contains(&d) || !d.starts_with(root) {
            continue;
        }
        if seen.len() >= max {
            cut = Some(Unresolved {
                name: d.display().to_string(),
                requirement: None,
                reason: format!(
                    "more than {max} workspace members and path dependencies; \
                     this one and the rest are not read"
                ),
            });
            break;
        }
        seen.insert(d.clone());
        let p = d.join("Cargo.toml");
        if fs.is_file(&p) {
            let toml = read(&p)?;
            let mut next: Vec<(PathBuf, bool)> = path_deps(&d, &toml)
                .into_iter()
                .map(|p| (p, workspace))
                .collect();
            next.reverse();
            queue.extend(next);
            manifests.push(Manifest {
                dir: d,
                toml,
                member,
            });
        }
    }
    Ok((manifests, cut))
}

/// What a package's enabled features turn on.
#[derive(Debug, Default)]
pub struct Enabled {
    /// Optional dependencies enabled (by key).
    pub deps: BTreeSet<String>,
    /// `dep/feature` pairs (by key), weak ones too: the lockfile is the
    /// dependency resolver's output, which does not track weakness.
    pub dep_features: BTreeSet<(String, String)>,
}

/// Expands `requested` features of manifest `m` through its `[features]`
/// table (`dep:x`, `x/f`, `x?/f`, other features, and the implicit feature
/// of an optional dependency).
pub fn enabled(m: &toml::Value, requested: &BTreeSet<String>) -> Enabled {
    let table = m.get("features").and_then(toml::Value::as_table);
    let items = |f: &str| -> Option<Vec<String>> {
        table?.get(f)?.as_array().map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
    };
    let explicit: BTreeSet<String> = table
        .into_iter()
        .flat_map(|t| t.values())
        .filter_map(toml::Value::as_array)
        .flatten()
        .filter_map(|x| x.as_str()?.strip_prefix("dep:").map(str::to_string))
        .collect();
    let optional: BTreeSet<String> = dep_tables(m)
        .into_iter()
        .filter_map(toml::Value::as_table)
        .flatten()
        .filter(|(_, spec)| spec.get("optional").and_then(toml::Value::as_bool) == Some(true))
        .map(|(k, _)| k.clone())
        .collect();
    let mut out = Enabled::default();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = requested.iter().cloned().collect();
    while let Some(f) = todo.pop() {
        if !done.insert(f.clone()) {
            continue;
        }
        match items(&f) {
            Some(list) => {
                for item in list {
                    if let Some(d) = item.strip_prefix("dep:") {
                        out.deps.insert(d.to_string());
                    } else if let Some((d, feat)) = item.split_once('/') {
                        let d = d.trim_end_matches('?');
                        if optional.contains(d) {
                            out.deps.insert(d.to_string());
                        }
                        out.dep_features.insert((d.to_string(), feat.to_string()));
                    } else {
                        todo.push(item);
                    }
                }
            }
            None if optional.contains(&f) && !explicit.contains(&f) => {
                out.deps.insert(f);
            }
            None => {}
        }
    }
    out
}

/// Which manifests are locked, and the features each has enabled:
/// members always, with every feature; a path dependency outside the
/// workspace when a locked manifest depends on it (not as a dev-dependency
/// unless that one is a member, not as an optional dependency it has not
/// enabled), with the features its dependents ask for.
pub fn activate(manifests: &[Manifest], reqs: &[Vec<PathReq>]) -> Vec<Option<Enabled>> {
    let n = manifests.len();
    let mut active: Vec<bool> = manifests.iter().map(|m| m.member).collect();
    let mut requested: Vec<BTreeSet<String>> = manifests
        .iter()
        .map(|m| {
            if m.member {
                let table = m.toml.get("features").and_then(toml::Value::as_table);
                table.into_iter().flat_map(|t| t.keys().cloned()).collect()
            } else {
                BTreeSet::new()
            }
        })
        .collect();
    // Each round can only add, and there are at most `n` manifests with
    // finitely many features each: this ends.
    loop {
        let mut changed = false;
        for i in 0..n {
            if !active[i] {
                continue;
            }
            let on = enabled(&manifests[i].toml, &requested[i]);
            for r in reqs.get(i).into_iter().flatten() {
                if (r.dev && !manifests[i].member)
                    || (r.optional && !manifests[i].member && !on.deps.contains(&r.key))
                {
                    continue;
                }
                let mut want: BTreeSet<String> = r.features.iter().cloned().collect();
                if r.default_features {
                    want.insert("default".into());
                }
                want.extend(
                    on.dep_features
                        .iter()
                        .filter(|(d, _)| *d == r.key)
                        .map(|(_, f)| f.clone()),
                );
                let Some(to) = requested.get_mut(r.to) else {
                    continue;
                };
                let before = to.len();
                to.extend(want);
                if to.len() != before || !active[r.to] {
                    changed = true;
                }
                active[r.to] = true;
            }
        }
        if !changed {
            break;
        }
    }
    (0..n)
        .map(|i| active[i].then(|| enabled(&manifests[i].toml, &requested[i])))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn manifest(text: &str, member: bool) -> Manifest {
        Manifest {
            dir: PathBuf::new(),
            toml: toml::from_str(text).unwrap(),
            member,
        }
    }

    fn req(to: usize, key: &str, features: &[&str], default: bool) -> PathReq {
        PathReq {
            to,
            key: key.into(),
            features: features.iter().map(|f| f.to_string()).collect(),
            default_features: default,
            optional: false,
            dev: false,
        }
    }

    #[test]
    fn features_expand_through_the_table() {
        let m: toml::Value = toml::from_str(
            "[dependencies]\na = { version = \"1\", optional = true }\nb = { version = \"1\", optional = true }\n\
             c = { version = \"1\", optional = true }\nd = \"1\"\n\
             [features]\ndefault = [\"x\"]\nx = [\"dep:a\", \"d/f\", \"c?/g\"]\ny = [\"b\"]\n",
        )
        .unwrap();
        let on = enabled(&m, &["default".to_string()].into());
        assert_eq!(on.deps, ["a", "c"].map(String::from).into());
        assert!(on.dep_features.contains(&("d".into(), "f".into())));
        // `b` is an implicit feature only when asked for.
        assert!(!on.deps.contains("b"));
        assert!(enabled(&m, &["b".to_string()].into()).deps.contains("b"));
        assert!(enabled(&m, &BTreeSet::new()).deps.is_empty());
    }

    #[test]
    fn a_path_crate_gets_what_its_locked_dependents_ask_for() {
        let root = manifest("[package]\nname = \"r\"\n", true);
        let lib = manifest(
            "[package]\nname = \"lib\"\n[dependencies]\ns = { version = \"1\", optional = true }\n\
             [features]\ndefault = [\"dep:s\"]\nextra = []\n",
            false,
        );
        let unused = manifest("[package]\nname = \"unused\"\n", false);
        let dev_only = manifest("[package]\nname = \"dev-only\"\n", false);
        let mut dev = req(3, "dev-only", &[], true);
        dev.dev = true;
        let mut opt = req(2, "unused", &[], true);
        opt.optional = true;
        // The root (a member) asks for `lib` without default features; `lib`
        // has an optional path dependency it does not enable and a dev one.
        let reqs = vec![
            vec![req(1, "lib", &["extra"], false)],
            vec![opt, dev],
            vec![],
            vec![],
        ];
        let on = activate(&[root, lib, unused, dev_only], &reqs);
        let lib = on[1].as_ref().unwrap();
        assert!(lib.deps.is_empty(), "default features were turned off");
        assert!(on[2].is_none(), "an optional path dependency not enabled");
        assert!(on[3].is_none(), "a non-member's dev-dependency");
        // With default features, `s` comes in.
        let reqs = vec![vec![req(1, "lib", &[], true)], vec![], vec![], vec![]];
        let on = activate(
            &[
                manifest("[package]\nname = \"r\"\n", true),
                manifest(
                    "[package]\nname = \"lib\"\n[dependencies]\ns = { version = \"1\", optional = true }\n\
                     [features]\ndefault = [\"dep:s\"]\n",
                    false,
                ),
                manifest("", false),
                manifest("", false),
            ],
            &reqs,
        );
        assert!(on[1].as_ref().unwrap().deps.contains("s"));
    }

    #[test]
    fn too_many_path_crates_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let (max, n) = (5, 8);
        for i in 0..n {
            let d = root.join(format!("c{i}"));
            std::fs::create_dir(&d).unwrap();
            std::fs::write(
                d.join("Cargo.toml"),
                format!(
                    "[package]\nname = \"c{i}\"\n[dependencies]\nc{} = {{ path = \"../c{}\" }}\n",
                    i + 1,
                    i + 1
                ),
            )
            .unwrap();
        }
        let fs = crate::fs::OsFs::default();
        let read = |p: &Path| -> Result<toml::Value, String> {
            toml::from_str(&std::fs::read_to_string(p).unwrap()).map_err(|e| e.to_string())
        };
        let (got, cut) = read_all(
            &fs,
            &read,
            root,
            false,
            Vec::new(),
            vec![root.join("c0")],
            max,
        )
        .unwrap();
        assert_eq!(got.len(), max);
        let cut = cut.expect("the bound is reported");
        assert!(cut.reason.contains("more than 5"), "{}", cut.reason);
        assert!(cut.name.ends_with(&format!("c{max}")), "{}", cut.name);
    }
}
