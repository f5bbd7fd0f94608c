//! Lambda's load order: which copy of a package a function loads. The
//! function's code (`/var/task`) comes first (Python's `sys.path`, Node's
//! `require` from the handler's directory up); layers are merged into
//! `/opt` in the listed order, a later layer's files overwriting an
//! earlier one's; within `/opt` the runtime searches its own directories
//! in order (`python/lib/python3.X/site-packages` before `python`,
//! `nodejs/nodeNN/node_modules` before `nodejs/node_modules`). A package
//! under a directory the runtime never searches is deployed but
//! `not_on_path`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Role;
use super::runtime::Language;
use crate::discover::relative_display;
use crate::ecosystem::Ecosystem;
use crate::report::model::FunctionPackage;
use crate::scan::ParsedDeployment;
use crate::source::SourceFormat;

/// One package of a source, as much as the function view needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgSummary {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Why it is not installed on the target.
    pub not_on_target: Option<String>,
    /// Dev-only (not deployed).
    pub dev: bool,
    /// A direct dependency of the project.
    pub direct: bool,
    /// Its dependencies (indexes into the source's packages).
    pub deps: Vec<usize>,
}

/// One source of a deployment.
#[derive(Debug, Clone)]
pub struct SourceSummary {
    /// The source file or directory.
    pub path: PathBuf,
    /// Its format.
    pub format: SourceFormat,
    /// True for an installed tree (`node_modules/`, `*.dist-info`, a
    /// binary): where it lies decides whether the runtime finds it.
    pub installed: bool,
    /// True for the packages recovered from a bundle: inside the code the
    /// runtime loads, wherever the bundle file lies.
    pub bundle: bool,
    /// Its packages (roots excluded).
    pub packages: Vec<PkgSummary>,
}

/// The packages of one deployment, kept after its graph is dropped.
#[derive(Debug, Clone)]
pub struct DeploymentPackages {
    /// The deployment root.
    pub root: PathBuf,
    /// Its display path.
    pub display: String,
    /// Its sources that parsed.
    pub sources: Vec<SourceSummary>,
}

impl DeploymentPackages {
    /// The summary of a parsed deployment.
    pub fn of(d: &ParsedDeployment) -> DeploymentPackages {
        let sources = d
            .sources
            .iter()
            .filter_map(|s| {
                let parsed = s.result.as_ref().ok()?;
                let installed = matches!(
                    s.source.format,
                    SourceFormat::NodeModules
                        | SourceFormat::InstalledPackageJson
                        | SourceFormat::PythonInstalled
                        | SourceFormat::RustBinary
                );
                let g = &parsed.graph;
                // Roots are left out; indexes are renumbered.
                let mut index = vec![None; g.len()];
                let mut n = 0;
                for (id, p) in g.iter() {
                    if !p.root {
                        index[id.index()] = Some(n);
                        n += 1;
                    }
                }
                let packages = g
                    .iter()
                    .filter(|(_, p)| !p.root)
                    .map(|(id, p)| PkgSummary {
                        ecosystem: p.ecosystem,
                        name: p.name.clone(),
                        version: p.version.clone(),
                        not_on_target: p.not_on_target.clone(),
                        dev: p.dev,
                        direct: p.direct,
                        deps: g
                            .dependencies(id)
                            .iter()
                            .filter_map(|(to, _)| index.get(to.index()).copied().flatten())
                            .collect(),
                    })
                    .collect();
                Some(SourceSummary {
                    path: s.source.path.clone(),
                    format: s.source.format,
                    installed,
                    bundle: false,
                    packages,
                })
            })
            .collect();
        DeploymentPackages {
            root: d.deployment.root.clone(),
            display: d.deployment.display_path(),
            sources,
        }
    }
}

/// One part of a function: its code or a layer, with the sources found in
/// it.
pub struct Part<'a> {
    /// Code or layer.
    pub role: Role,
    /// The artifact root (directory or mounted zip).
    pub root: PathBuf,
    /// Its sources.
    pub sources: Vec<&'a SourceSummary>,
    /// True when the part is a source the framework's build installs
    /// packages into from its manifests (a SAM source template's
    /// `CodeUri`); false for what is deployed as it is (a `sam build`
    /// output, a CDK asset, a zip), where a manifest without an installed
    /// tree only declares packages Lambda cannot load.
    pub builds: bool,
}

/// The directories of a part the runtime searches, relative to the part's
/// root, in order; `None` when depwarden does not know the runtime's
/// rules (every package then counts as found).
pub fn search_dirs(
    role: &Role,
    language: Option<Language>,
    handler: Option<&str>,
) -> Option<Vec<String>> {
    let lang = language?;
    match role {
        Role::Code => match lang {
            Language::Python(..) => Some(vec![".".into()]),
            Language::Node(_) => {
                // `require` walks up from the handler's directory.
                let file = handler.and_then(|h| h.rsplit_once('.').map(|(f, _)| f));
                let mut dir = file
                    .and_then(|f| Path::new(f).parent())
                    .map(Path::to_path_buf);
                let mut out = Vec::new();
                while let Some(d) = dir {
                    if d.as_os_str().is_empty() {
                        break;
                    }
                    out.push(format!("{}/node_modules", d.to_string_lossy()));
                    dir = d.parent().map(Path::to_path_buf);
                }
                out.push("node_modules".into());
                Some(out)
            }
            _ => None,
        },
        Role::Layer(_) => match lang {
            Language::Python(..) | Language::Node(_) | Language::Ruby(..) | Language::Java => {
                Some(lang.layer_dirs())
            }
            _ => None,
        },
    }
}

/// The key packages shadow each other by.
fn key(p: &PkgSummary) -> (Ecosystem, String) {
    (p.ecosystem, p.ecosystem.normalize_name(&p.name))
}

/// The import name a Python distribution is usually installed under
/// (`Jinja2` → `jinja2`, `typing-extensions` → `typing_extensions`): how a
/// package installed without its metadata is recognised.
pub fn python_module(dist: &str) -> String {
    dist.to_ascii_lowercase().replace(['-', '.'], "_")
}

/// Whether a package a manifest declares lies installed in a directory
/// (a Python package installed without its `*.dist-info`, as
/// `serverless-python-requirements` with `slim` leaves it).
pub type Present<'a> = &'a dyn Fn(&Path, &PkgSummary) -> bool;

/// The merged package set of a function: every deployed package, which
/// copy is loaded, and which are never found. `present` tells whether a
/// package a manifest of deployed code declares is there all the same.
pub fn merge(
    parts: &[Part<'_>],
    language: Option<Language>,
    handler: Option<&str>,
    scan_root: &Path,
    present: Present<'_>,
) -> Vec<FunctionPackage> {
    // Each package gets a priority: code first, then each searched layer
    // directory with the last layer first; what nothing searches, or what
    // is only declared, gets none.
    struct Entry<'s> {
        prio: Option<(usize, usize)>,
        origin: String,
        pkg: &'s PkgSummary,
        source: &'s SourceSummary,
        /// Declared by a manifest of deployed code, not installed.
        declared_only: bool,
    }
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let layer_count = parts.len();
    for (pos, part) in parts.iter().enumerate() {
        let dirs = search_dirs(&part.role, language, handler);
        // Where a part holds an installed tree, what is installed is what
        // is deployed: its manifests and lockfiles only declare it (a
        // `requirements.txt` copied next to the installed packages).
        let installed: Vec<Ecosystem> = part
            .sources
            .iter()
            .filter(|s| s.installed)
            .flat_map(|s| s.packages.iter().map(|p| p.ecosystem))
            .collect();
        let rank = |dir: &Path| -> Option<(usize, usize)> {
            let rel = relative_display(&part.root, dir);
            let at = match &dirs {
                None => Some(0),
                Some(d) => d.iter().position(|x| *x == rel),
            };
            at.map(|i| match part.role {
                Role::Code => (0, 0),
                Role::Layer(_) => (1 + i, layer_count - pos),
            })
        };
        for s in &part.sources {
            if !s.installed && s.packages.iter().any(|p| installed.contains(&p.ecosystem)) {
                continue;
            }
            let manifest_dir = s.path.parent().unwrap_or(&s.path);
            for p in s.packages.iter().filter(|p| !p.dev) {
                let (prio, declared_only) = if s.installed {
                    (rank(&s.path), false)
                } else if s.bundle || part.builds {
                    // A bundle is loaded where it is; a build installs
                    // what the manifest declares where the runtime looks.
                    (Some(rank(&part.root).unwrap_or((0, 0))), false)
                } else if present(manifest_dir, p) {
                    (rank(manifest_dir), false)
                } else {
                    (None, true)
                };
                entries.push(Entry {
                    prio,
                    origin: part.role.origin(),
                    pkg: p,
                    source: s,
                    declared_only,
                });
            }
        }
    }
    // The winning origin of each package name.
    let mut winner: HashMap<(Ecosystem, String), ((usize, usize), String)> = HashMap::new();
    for e in &entries {
        let Some(prio) = e.prio else { continue };
        if e.pkg.not_on_target.is_some() {
            continue;
        }
        let w = winner.entry(key(e.pkg)).or_insert((prio, e.origin.clone()));
        if prio < w.0 {
            *w = (prio, e.origin.clone());
        }
    }
    let mut out: Vec<FunctionPackage> = Vec::new();
    for e in &entries {
        let p = e.pkg;
        let won = winner.get(&key(p));
        let searched = e.prio.is_some();
        let effective =
            searched && p.not_on_target.is_none() && won.is_some_and(|(_, o)| *o == e.origin);
        let shadowed_by = match won {
            Some((_, o)) if searched && p.not_on_target.is_none() && *o != e.origin => {
                Some(o.clone())
            }
            _ => None,
        };
        let entry = FunctionPackage {
            ecosystem: p.ecosystem.as_str().to_string(),
            name: p.name.clone(),
            version: p.version.clone(),
            origin: e.origin.clone(),
            location: relative_display(scan_root, &e.source.path),
            effective,
            shadowed_by,
            not_on_path: !searched && !e.declared_only,
            bundled: None,
            installed: e.declared_only.then_some(false),
            not_on_target: p.not_on_target.clone(),
        };
        // One entry per (origin, package, version): an installed copy
        // stands for the lockfile line that declares it.
        match out.iter_mut().find(|o| {
            o.origin == entry.origin
                && o.ecosystem == entry.ecosystem
                && o.name == entry.name
                && o.version == entry.version
        }) {
            Some(existing) => {
                if e.source.installed {
                    existing.location = entry.location;
                    existing.not_on_path = entry.not_on_path;
                    existing.installed = None;
                }
                existing.effective |= entry.effective;
            }
            None => out.push(entry),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn src(path: &str, installed: bool, pkgs: &[(&str, &str)]) -> SourceSummary {
        SourceSummary {
            path: PathBuf::from(path),
            format: SourceFormat::PythonInstalled,
            installed,
            bundle: false,
            packages: pkgs
                .iter()
                .map(|(n, v)| PkgSummary {
                    ecosystem: Ecosystem::PyPI,
                    name: n.to_string(),
                    version: Some(v.to_string()),
                    not_on_target: None,
                    dev: false,
                    direct: false,
                    deps: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn function_first_later_layers_win_and_wrong_dirs_are_not_on_path() {
        let code = src("/r/fn", true, &[("requests", "2.31.0")]);
        let a = src(
            "/r/a/python/lib/python3.12/site-packages",
            true,
            &[("requests", "2.0.0"), ("six", "1.0.0"), ("idna", "1.0")],
        );
        let b = src(
            "/r/b/python/lib/python3.12/site-packages",
            true,
            &[("six", "1.16.0")],
        );
        let c = src("/r/c/python", true, &[("idna", "3.0")]);
        let old = src(
            "/r/c/python/lib/python3.11/site-packages",
            true,
            &[("attrs", "1.0")],
        );
        let parts = vec![
            Part {
                role: Role::Code,
                root: "/r/fn".into(),
                sources: vec![&code],
                builds: false,
            },
            Part {
                role: Role::Layer("A".into()),
                root: "/r/a".into(),
                sources: vec![&a],
                builds: false,
            },
            Part {
                role: Role::Layer("B".into()),
                root: "/r/b".into(),
                sources: vec![&b],
                builds: false,
            },
            Part {
                role: Role::Layer("C".into()),
                root: "/r/c".into(),
                sources: vec![&c, &old],
                builds: false,
            },
        ];
        let got = merge(
            &parts,
            Some(Language::Python(3, 12)),
            Some("app.handler"),
            Path::new("/r"),
            &|_, _| false,
        );
        let find = |n: &str, o: &str| {
            got.iter()
                .find(|p| p.name == n && p.origin == o)
                .unwrap()
                .clone()
        };
        assert!(find("requests", "function").effective);
        assert_eq!(
            find("requests", "layer:A").shadowed_by.as_deref(),
            Some("function")
        );
        assert!(find("six", "layer:B").effective, "the later layer wins");
        assert_eq!(
            find("six", "layer:A").shadowed_by.as_deref(),
            Some("layer:B")
        );
        // site-packages comes before python/, whatever the layer order.
        assert!(find("idna", "layer:A").effective);
        assert_eq!(
            find("idna", "layer:C").shadowed_by.as_deref(),
            Some("layer:A")
        );
        let attrs = find("attrs", "layer:C");
        assert!(attrs.not_on_path && !attrs.effective);
        assert_eq!(attrs.location, "c/python/lib/python3.11/site-packages");
    }

    #[test]
    fn manifests_in_deployed_code_only_declare() {
        let req = SourceSummary {
            format: SourceFormat::Requirements,
            ..src("/r/fn/requirements.txt", false, &[("jinja2", "2.11.3")])
        };
        let layer = src("/r/l/python", true, &[("jinja2", "2.11.3")]);
        let mk = |builds| {
            vec![
                Part {
                    role: Role::Code,
                    root: "/r/fn".into(),
                    sources: vec![&req],
                    builds,
                },
                Part {
                    role: Role::Layer("L".into()),
                    root: "/r/l".into(),
                    sources: vec![&layer],
                    builds: false,
                },
            ]
        };
        let lang = Some(Language::Python(3, 12));
        // Deployed as it is (a zip, a build output): the layer's copy is
        // the one loaded; the function's line is declared, not installed.
        let got = merge(&mk(false), lang, Some("app.h"), Path::new("/r"), &|_, _| {
            false
        });
        let f = got.iter().find(|p| p.origin == "function").unwrap();
        assert_eq!(f.installed, Some(false));
        assert!(!f.effective && f.shadowed_by.is_none());
        assert!(
            got.iter()
                .find(|p| p.origin == "layer:L")
                .unwrap()
                .effective
        );
        // A SAM source: the build installs it into the function.
        let got = merge(&mk(true), lang, Some("app.h"), Path::new("/r"), &|_, _| {
            false
        });
        let f = got.iter().find(|p| p.origin == "function").unwrap();
        assert!(f.effective && f.installed.is_none());
        let l = got.iter().find(|p| p.origin == "layer:L").unwrap();
        assert_eq!(l.shadowed_by.as_deref(), Some("function"));
        // Installed without metadata next to the manifest: loaded.
        let got = merge(&mk(false), lang, Some("app.h"), Path::new("/r"), &|d, p| {
            d == Path::new("/r/fn") && p.name == "jinja2"
        });
        let f = got.iter().find(|p| p.origin == "function").unwrap();
        assert!(f.effective && f.installed.is_none());
    }

    #[test]
    fn node_search_dirs_follow_the_handler() {
        let d = search_dirs(
            &Role::Code,
            Some(Language::Node(20)),
            Some("src/api/app.handler"),
        )
        .unwrap();
        assert_eq!(
            d,
            vec!["src/api/node_modules", "src/node_modules", "node_modules"]
        );
        let l = search_dirs(&Role::Layer("x".into()), Some(Language::Node(22)), None).unwrap();
        assert_eq!(l[0], "nodejs/node22/node_modules");
        assert!(search_dirs(&Role::Code, None, None).is_none());
    }
}
