//! A bundle's packages against the lockfile of the project that built it:
//! versions for the bundled packages, the production packages the bundle
//! leaves out (`bundled: false`; their findings do not count for the
//! function), and the modules it leaves to the runtime (`origin:
//! "runtime"`, the AWS SDK the Node.js runtime ships).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::bundle::{self, Bundle};
use super::inputs::{Inputs, Links, err};
use super::layers::{self, SourceSummary};
use super::model::FunctionDef;
use super::runtime::Language;
use crate::diagnostic::Level;
use crate::discover::relative_display;
use crate::report::model::ErrorEntry;
use crate::report::model::FunctionPackage;
use crate::source::SourceFormat;

/// The bundle's packages as a source of the code, the lockfile packages it
/// leaves out and the modules it leaves to the runtime, and the lockfile
/// used.
pub fn bundled_packages(
    f: &FunctionDef,
    b: &Bundle,
    inp: &Inputs<'_>,
    scan_root: &Path,
    errors: &mut Vec<ErrorEntry>,
    links: &mut Links,
) -> (SourceSummary, Vec<FunctionPackage>, Option<String>) {
    let rel = |p: &Path| relative_display(scan_root, p);
    let lock = find_lockfile(f, b, inp, scan_root);
    let mut virt = SourceSummary {
        path: b.file.clone(),
        format: SourceFormat::PackageLock,
        installed: false,
        bundle: true,
        packages: Vec::new(),
    };
    let mut extra = Vec::new();
    let mut in_bundle = BTreeSet::new();
    let mut used = BTreeSet::new();
    for r in &b.packages {
        let found = lock.and_then(|(_, src)| bundle::resolve(r, src).map(|i| (i, src)));
        let (version, base) = match found {
            Some((i, src)) => {
                used.insert(i);
                (src.packages[i].version.clone(), Some(&src.packages[i]))
            }
            None => (r.version.clone(), None),
        };
        if in_bundle.insert((r.name().to_string(), version.clone())) {
            virt.packages.push(layers::PkgSummary {
                ecosystem: crate::ecosystem::Ecosystem::Npm,
                name: r.name().to_string(),
                version: version.clone(),
                not_on_target: base.and_then(|p| p.not_on_target.clone()),
                dev: false,
                direct: base.is_some_and(|p| p.direct),
                deps: Vec::new(),
            });
        }
    }
    let lock_display = lock.map(|(i, src)| {
        links.bundle = Some((i, in_bundle.clone()));
        let unresolved: Vec<&str> = virt
            .packages
            .iter()
            .filter(|p| p.version.is_none())
            .map(|p| p.name.as_str())
            .collect();
        if !unresolved.is_empty() {
            errors.push(err(
                Level::Warning,
                rel(&b.file),
                format!(
                    "bundled packages without a version in {} ({}): they are not checked against advisories",
                    rel(&src.path),
                    unresolved.join(", ")
                ),
            ));
        }
        // Production packages the bundle leaves out (dev-only ones, the
        // bundler itself among them, never are).
        for (j, p) in src.packages.iter().enumerate() {
            if !p.dev
                && !used.contains(&j)
                && !in_bundle.contains(&(p.name.clone(), p.version.clone()))
            {
                extra.push(FunctionPackage {
                    ecosystem: p.ecosystem.as_str().to_string(),
                    name: p.name.clone(),
                    version: p.version.clone(),
                    origin: "function".into(),
                    location: rel(&src.path),
                    effective: false,
                    shadowed_by: None,
                    not_on_path: false,
                    bundled: Some(false),
                    installed: None,
                    not_on_target: p.not_on_target.clone(),
                });
            }
        }
        rel(&src.path)
    });
    if lock.is_none() {
        errors.push(err(
            Level::Warning,
            rel(&b.file),
            format!(
                "a bundle ({}): no lockfile of the project that built it was found, so the versions of its {} packages are unknown and not checked",
                b.evidence.join(", "),
                virt.packages.len()
            ),
        ));
    }
    // Modules left to the runtime: the AWS SDK the Node.js runtime ships.
    let sdk_v3 = matches!(
        f.runtime.known().and_then(|r| Language::of(r)),
        Some(Language::Node(n)) if n >= 18
    );
    for e in &b.externals {
        let runtime_module = if sdk_v3 {
            e.starts_with("@aws-sdk/")
        } else {
            e == "aws-sdk"
        };
        if runtime_module {
            extra.push(FunctionPackage {
                ecosystem: "npm".into(),
                name: e.clone(),
                version: None,
                origin: "runtime".into(),
                location: rel(&b.file),
                effective: true,
                shadowed_by: None,
                not_on_path: false,
                bundled: Some(false),
                installed: None,
                not_on_target: None,
            });
        }
    }
    (virt, extra, lock_display)
}

/// The npm lockfile source of a deployment, if it has one.
fn npm_lock<'a>(inp: &Inputs<'a>, i: usize) -> Option<&'a SourceSummary> {
    inp.deployments.get(i)?.packages?.sources.iter().find(|s| {
        matches!(
            s.format,
            SourceFormat::PackageLock
                | SourceFormat::NpmShrinkwrap
                | SourceFormat::YarnLock
                | SourceFormat::PnpmLock
                | SourceFormat::BunLock
        )
    })
}

/// The lockfile of the project that built a bundle: where the source map
/// places the bundled `node_modules`, else the function's source
/// directory, else the template's directory, each searched upwards to the
/// scanned root. When none of these holds one (a bundle without a source
/// map, built from a sub-project), the lockfile of the scan that lists
/// every bundled package, the nearest to the template when several do.
fn find_lockfile<'a>(
    f: &FunctionDef,
    b: &Bundle,
    inp: &Inputs<'a>,
    scan_root: &Path,
) -> Option<(usize, &'a SourceSummary)> {
    let mut starts: Vec<PathBuf> = Vec::new();
    starts.extend(b.project_dir.clone());
    starts.extend(f.source_dir.clone());
    if let Some(t) = f.template.parent() {
        // A CDK assembly sits in the project (`<project>/cdk.out`).
        starts.push(t.to_path_buf());
    }
    for start in starts {
        let mut dir = Some(start.as_path());
        while let Some(d) = dir {
            if !d.starts_with(scan_root) {
                break;
            }
            for (i, dep) in inp.deployments.iter().enumerate() {
                if dep.root == d
                    && let Some(src) = npm_lock(inp, i)
                {
                    return Some((i, src));
                }
            }
            dir = d.parent();
        }
    }
    let names: BTreeSet<&str> = b.packages.iter().map(|r| r.name()).collect();
    if names.is_empty() {
        return None;
    }
    let near = |root: &Path| {
        root.components()
            .zip(f.template.components())
            .take_while(|(a, b)| a == b)
            .count()
    };
    (0..inp.deployments.len())
        .filter(|i| inp.deployments[*i].root.starts_with(scan_root))
        .filter_map(|i| npm_lock(inp, i).map(|s| (i, s)))
        .filter(|(_, s)| {
            let have: BTreeSet<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
            names.iter().all(|n| have.contains(n))
        })
        .max_by_key(|(i, _)| near(inp.deployments[*i].root))
}
