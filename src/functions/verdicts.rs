//! A function's own findings: its runtime's support dates (`runtime`), and
//! native code or layers that do not fit its target (`platform`). Size
//! findings are in [`super::size`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::Role;
use super::checks::{self, ArtifactFacts};
use super::layers::search_dirs;
use super::model::LayerDef;
use super::platform::{self, Misfit};
use super::runtime::{Language, Os, RuntimeEntry};
use crate::clock::Date;
use crate::discover::relative_display;
use crate::ecosystem::Ecosystem;
use crate::fs::Fs;
use crate::parse::Target;
use crate::report::model::FunctionPackage;
use crate::report::model::{CheckLevel, Finding, FindingKind, FunctionCheck, Scope};

/// Days before a deprecation date from which a runtime is reported as
/// soon deprecated (AWS announces deprecations at least 180 days ahead).
pub const SOON_DAYS: i64 = 180;

/// A finding of `kind` about a function, with its check details.
pub fn function_finding(
    kind: FindingKind,
    function: &str,
    (ecosystem, package, version): (Scope, &str, Option<String>),
    rule: &str,
    level: CheckLevel,
) -> Finding {
    let mut f = Finding::new(kind, ecosystem, package, version);
    f.check = Some(FunctionCheck {
        function: function.to_string(),
        rule: rule.to_string(),
        level,
        deprecation_date: None,
        block_create_date: None,
        block_update_date: None,
        expected: None,
        found: None,
        files: Vec::new(),
        bytes: None,
        limit: None,
    });
    f
}

fn set(f: &mut Finding, expected: String, found: String, files: Vec<String>) {
    if let Some(c) = &mut f.check {
        c.expected = Some(expected);
        c.found = Some(found);
        c.files = files;
    }
}

/// The runtime finding of a function: past its deprecation date (an
/// error: no more security patches), or within [`SOON_DAYS`] of it.
pub fn runtime_finding(function: &str, entry: &RuntimeEntry, today: Date) -> Option<Finding> {
    let date = entry.deprecation.as_deref()?;
    let day = Date::parse(date)?;
    let left = day.days_since_epoch() - today.days_since_epoch();
    let level = if left <= 0 {
        CheckLevel::Error
    } else if left <= SOON_DAYS {
        CheckLevel::Warning
    } else {
        return None;
    };
    let mut f = function_finding(
        FindingKind::Runtime,
        function,
        (Scope::Lambda, &entry.id, None),
        "runtime-deprecated",
        level,
    );
    let blocks = match (&entry.block_create, &entry.block_update) {
        (Some(c), Some(u)) => {
            format!("; creating functions on it is blocked from {c}, updating them from {u}")
        }
        (Some(c), None) => format!("; creating functions on it is blocked from {c}"),
        _ => String::new(),
    };
    f.reason = Some(if level == CheckLevel::Error {
        format!(
            "{} ({}) reached the end of its support on {date}: AWS no longer patches it{blocks}",
            entry.name, entry.id
        )
    } else {
        format!(
            "{} ({}) reaches the end of its support on {date}, in {left} days{blocks}",
            entry.name, entry.id
        )
    });
    if let Some(c) = &mut f.check {
        c.deprecation_date = Some(date.to_string());
        c.block_create_date = entry.block_create.clone();
        c.block_update_date = entry.block_update.clone();
    }
    Some(f)
}

/// What a platform check needs about the function.
pub struct Platform<'a> {
    /// Function name.
    pub function: &'a str,
    /// Its language.
    pub language: Option<Language>,
    /// Its target.
    pub target: Target,
    /// The Amazon Linux under its runtime (glibc 2.26 when unknown).
    pub os: Option<Os>,
    /// Its handler.
    pub handler: Option<&'a str>,
    /// Its merged packages.
    pub packages: &'a [FunctionPackage],
    /// The scanned root (report paths).
    pub scan_root: &'a Path,
}

impl Platform<'_> {
    fn glibc(&self) -> (u32, u32) {
        self.os.unwrap_or(Os::Al2).glibc()
    }

    fn os_name(&self) -> &'static str {
        self.os.unwrap_or(Os::Al2).name()
    }

    fn rel(&self, p: &Path) -> String {
        relative_display(self.scan_root, p)
    }

    /// The PyPI package of `origin` whose import name is a directory on
    /// the way to `file` (a package installed without its metadata).
    fn python_owner(
        &self,
        origin: &str,
        root: &Path,
        file: &Path,
    ) -> Option<(String, Option<String>)> {
        let rel = file.strip_prefix(root).ok()?;
        let dirs: Vec<String> = rel
            .parent()?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
            .collect();
        self.packages
            .iter()
            .filter(|p| p.origin == origin && p.ecosystem == "PyPI")
            .find(|p| {
                let module = super::layers::python_module(&p.name);
                dirs.contains(&module)
            })
            .map(|p| (p.name.clone(), p.version.clone()))
    }

    /// True unless `packages` say this copy of a PyPI distribution is
    /// shadowed (never loaded).
    fn loaded(&self, origin: &str, name: &str, version: &str) -> bool {
        let norm = Ecosystem::PyPI.normalize_name(name);
        self.packages
            .iter()
            .find(|p| {
                p.origin == origin
                    && p.ecosystem == "PyPI"
                    && Ecosystem::PyPI.normalize_name(&p.name) == norm
                    && p.version.as_deref() == Some(version)
            })
            .is_none_or(|p| p.effective)
    }
}

/// The platform findings of one part (code or layer) of a function.
pub fn platform_findings(
    fs: &dyn Fs,
    p: &Platform<'_>,
    role: &Role,
    root: &Path,
    facts: &ArtifactFacts,
) -> Vec<Finding> {
    let origin = role.origin();
    let dirs = search_dirs(role, p.language, p.handler);
    let on_path = |site: &Path| {
        dirs.as_ref()
            .is_none_or(|d| d.contains(&relative_display(root, site)))
    };
    let python = p.language.and_then(Language::python);
    let arch = p.target.arch;
    let mut out = Vec::new();
    let mut covered: BTreeSet<PathBuf> = BTreeSet::new();
    let mut owner: BTreeMap<PathBuf, (String, String)> = BTreeMap::new();
    for d in &facts.dists {
        for n in &d.natives {
            owner.insert(n.clone(), (d.name.clone(), d.version.clone()));
        }
        let site = d.dir.parent().unwrap_or(root);
        if !on_path(site) || !p.loaded(&origin, &d.name, &d.version) {
            // Never loaded: its natives are not checked either.
            covered.extend(d.natives.iter().cloned());
            continue;
        }
        let files: Vec<String> = if d.natives.is_empty() {
            vec![p.rel(&d.dir)]
        } else {
            d.natives.iter().map(|n| p.rel(n)).collect()
        };
        let pkg = (
            Scope::from(Ecosystem::PyPI),
            d.name.as_str(),
            Some(d.version.clone()),
        );
        if let Err(m) = platform::check_tags(&d.tags, arch, python, p.glibc()) {
            covered.extend(d.natives.iter().cloned());
            out.push(misfit_finding(
                p,
                pkg.clone(),
                m,
                files.clone(),
                CheckLevel::Error,
            ));
        }
        if let (Some((a, b)), Some(spec)) = (python, &d.requires_python)
            && let Ok(specs) = pep440_rs::VersionSpecifiers::from_str(spec)
            && !specs.contains(&pep440_rs::Version::new([u64::from(a), u64::from(b), 0]))
        {
            let mut f = function_finding(
                FindingKind::Platform,
                p.function,
                pkg.clone(),
                "requires-python-mismatch",
                CheckLevel::Warning,
            );
            set(
                &mut f,
                format!("Python {a}.{b}"),
                format!("Requires-Python: {spec}"),
                vec![p.rel(&d.dir)],
            );
            f.reason = Some(format!(
                "{} {} declares Requires-Python {spec}; the function runs Python {a}.{b}",
                d.name, d.version
            ));
            out.push(f);
        }
    }
    // Native files not already judged by their wheel's tags.
    type Owner = (Scope, String, Option<String>);
    let mut grouped: BTreeMap<(String, Owner), Vec<String>> = BTreeMap::new();
    for (file, e) in &facts.natives {
        if covered.contains(file) || !prebuild_loaded(file, arch) {
            continue;
        }
        let pkg = match owner.get(file) {
            Some((n, v)) => (Ecosystem::PyPI.into(), n.clone(), Some(v.clone())),
            None => {
                if let Some((n, v)) = checks::npm_owner(fs, file) {
                    (Ecosystem::Npm.into(), n, v)
                } else if let Some((n, v)) = p.python_owner(&origin, root, file) {
                    (Ecosystem::PyPI.into(), n, v)
                } else {
                    (Scope::Lambda, p.rel(file), None)
                }
            }
        };
        let wanted = match arch {
            crate::parse::Arch::X86_64 => super::elf::Machine::X86_64,
            crate::parse::Arch::Arm64 => super::elf::Machine::Aarch64,
        };
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rule = if e.machine != wanted {
            Some(("native-arch-mismatch", e.machine.name()))
        } else if e.musl {
            Some(("musllinux-wheel", "musl libc".to_string()))
        } else if let Some(g) = e.glibc.filter(|g| *g > p.glibc()) {
            Some(("glibc-too-new", format!("GLIBC_{}.{}", g.0, g.1)))
        } else if let (Some(py), Some((ver, _))) = (python, platform::extension_suffix(&name))
            && ver != py
        {
            Some(("python-abi-mismatch", format!("cpython-{}{}", ver.0, ver.1)))
        } else {
            None
        };
        if let Some((rule, found)) = rule {
            grouped
                .entry((format!("{rule}\u{0}{found}"), pkg))
                .or_default()
                .push(p.rel(file));
        }
    }
    for ((key, (eco, name, version)), files) in grouped {
        let (rule, found) = key.split_once('\u{0}').unwrap_or((&key, ""));
        let mut f = function_finding(
            FindingKind::Platform,
            p.function,
            (eco, &name, version),
            rule,
            CheckLevel::Error,
        );
        let expected = expected_for(p, rule);
        f.reason = Some(format!(
            "{} native file(s) need {found}; the function runs {expected}: they cannot load",
            files.len()
        ));
        set(&mut f, expected, found.to_string(), files);
        out.push(f);
    }
    // Wheel files lying in the package: not installed, but a build step
    // that installs them at run time would fail the same way.
    for (file, tags) in &facts.wheels {
        if let Err(m) = platform::check_tags(tags, arch, python, p.glibc()) {
            let name = file
                .file_name()
                .map(|n| {
                    n.to_string_lossy()
                        .split('-')
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .unwrap_or_default();
            out.push(misfit_finding(
                p,
                (Scope::from(Ecosystem::PyPI), &name, None),
                m,
                vec![p.rel(file)],
                CheckLevel::Warning,
            ));
        }
    }
    out
}

/// False for a Node prebuild the loader never picks on Lambda:
/// `prebuilds/<platform>-<arch>/...` (node-gyp-build, prebuildify) for
/// another platform or CPU, or a musl build (`*.musl.node`) beside the
/// glibc one. Other files are loaded wherever they are.
fn prebuild_loaded(file: &Path, arch: crate::parse::Arch) -> bool {
    let comps: Vec<String> = file
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let Some(at) = comps.iter().rposition(|c| c == "prebuilds") else {
        return true;
    };
    let Some(dir) = comps.get(at + 1) else {
        return true;
    };
    let mut parts = dir.split('-');
    let (os, cpus) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let npm_cpu = match arch {
        crate::parse::Arch::X86_64 => "x64",
        crate::parse::Arch::Arm64 => "arm64",
    };
    let name = comps.last().map(String::as_str).unwrap_or("");
    os == "linux" && cpus.split('+').any(|c| c == npm_cpu) && !name.contains(".musl.")
}

fn expected_for(p: &Platform<'_>, rule: &str) -> String {
    let (a, b) = p.target.python;
    match rule {
        "native-arch-mismatch" => format!(
            "{} (Lambda {})",
            p.target.arch.machine(),
            p.target.arch.lambda_name()
        ),
        "glibc-too-new" | "musllinux-wheel" => {
            let (x, y) = p.glibc();
            format!("glibc {x}.{y} or older ({})", p.os_name())
        }
        _ => format!("cp{a}{b} (Python {a}.{b})"),
    }
}

fn misfit_finding(
    p: &Platform<'_>,
    pkg: (Scope, &str, Option<String>),
    m: Misfit,
    files: Vec<String>,
    level: CheckLevel,
) -> Finding {
    let (rule, found) = match &m {
        Misfit::Arch { found } => ("native-arch-mismatch", found.clone()),
        Misfit::Glibc { found, .. } => ("glibc-too-new", found.clone()),
        Misfit::Musl { found } => ("musllinux-wheel", found.clone()),
        Misfit::Abi { found } => ("python-abi-mismatch", found.clone()),
    };
    let (name, version) = (pkg.1.to_string(), pkg.2.clone());
    let mut f = function_finding(FindingKind::Platform, p.function, pkg, rule, level);
    let expected = expected_for(p, rule);
    f.reason = Some(format!(
        "{name}{} is built for {found}; the function runs {expected}",
        version.map(|v| format!(" {v}")).unwrap_or_default()
    ));
    set(&mut f, expected, found, files);
    f
}

/// Findings about a local layer's declarations and layout: the function's
/// runtime or architecture not among those the layer declares, and
/// packages in directories the runtime never searches.
pub fn layer_findings(
    function: &str,
    runtime: Option<&str>,
    arch: Option<crate::parse::Arch>,
    layer: &LayerDef,
    not_on_path: &[String],
    searched: Option<&[String]>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let pkg = (Scope::Lambda, layer.id.as_str(), None);
    if let Some(r) = runtime
        && !layer.compatible_runtimes.is_empty()
        && !layer.compatible_runtimes.iter().any(|c| c == r)
    {
        let mut f = function_finding(
            FindingKind::Platform,
            function,
            pkg.clone(),
            "layer-runtime-incompatible",
            CheckLevel::Warning,
        );
        let found = layer.compatible_runtimes.join(", ");
        f.reason = Some(format!(
            "layer {} declares CompatibleRuntimes {found}; the function runs {r}",
            layer.id
        ));
        set(&mut f, r.to_string(), found, Vec::new());
        out.push(f);
    }
    if let Some(a) = arch
        && !layer.compatible_architectures.is_empty()
        && !layer.compatible_architectures.contains(&a)
    {
        let mut f = function_finding(
            FindingKind::Platform,
            function,
            pkg.clone(),
            "layer-architecture-incompatible",
            CheckLevel::Warning,
        );
        let found: Vec<&str> = layer
            .compatible_architectures
            .iter()
            .map(|x| x.lambda_name())
            .collect();
        f.reason = Some(format!(
            "layer {} declares CompatibleArchitectures {}; the function runs on {}",
            layer.id,
            found.join(", "),
            a.lambda_name()
        ));
        set(&mut f, a.lambda_name().into(), found.join(", "), Vec::new());
        out.push(f);
    }
    if !not_on_path.is_empty() {
        let mut f = function_finding(
            FindingKind::Platform,
            function,
            pkg,
            "layer-path-not-on-runtime-path",
            CheckLevel::Warning,
        );
        let expected = searched.map(|s| s.join(", ")).unwrap_or_default();
        f.reason = Some(format!(
            "layer {} installs packages where {} never looks ({}); it searches {expected}",
            layer.id,
            runtime.unwrap_or("the runtime"),
            not_on_path.join(", ")
        ));
        set(&mut f, expected, not_on_path.join(", "), Vec::new());
        out.push(f);
    }
    out
}
