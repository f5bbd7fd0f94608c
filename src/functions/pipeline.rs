//! Where functions join the scan pipeline: after discovery (read the
//! templates, discover the zips they name, give deployments their
//! functions' target), while deployments are parsed (keep each one's
//! package list), and after the audit (assemble the functions).

use std::path::PathBuf;

use super::Project;
use super::assemble;
use super::inputs::{DeploymentRef, Inputs, Links};
use super::layers::DeploymentPackages;
use super::runtime::RuntimeTable;
use crate::discover::{Deployment, DiscoverError, Discovery};
use crate::parse::{ParseOptions, Target};
use crate::report::model::FunctionReport;
use crate::scan::ScanTree;
use crate::scan::{Inventory, ParsedDeployment};

/// Reads the infrastructure files discovery found, adds the deployments
/// inside the zips they name that discovery did not open, and gives every
/// deployment a function uses that function's target. Problems reading
/// the files become diagnostics of the scan.
pub fn prepare(tree: &ScanTree, discovery: &mut Discovery, default: Target) -> Project {
    let mut project = Project::read(tree.fs(), &discovery.infrastructure);
    if !project.is_empty() {
        for (scan_root, mount) in project.unopened_zips(&discovery.deployments) {
            match tree.discover_paths(std::slice::from_ref(&mount)) {
                Ok(more) => {
                    for mut d in more.deployments {
                        d.scan_root = scan_root.clone();
                        discovery.deployments.push(d);
                    }
                    discovery.diagnostics.extend(more.diagnostics);
                }
                Err(e) => discovery
                    .diagnostics
                    .push(crate::diagnostic::Diagnostic::new(
                        crate::diagnostic::Level::Error,
                        &mount,
                        e.to_string(),
                    )),
            }
        }
        discovery
            .deployments
            .sort_by(|a, b| (&a.scan_root, &a.root).cmp(&(&b.scan_root, &b.root)));
        for note in project.prepare(&mut discovery.deployments, default) {
            match discovery
                .deployments
                .iter_mut()
                .find(|d| d.root == note.path)
            {
                Some(d) => d.diagnostics.push(note),
                None => discovery.diagnostics.push(note),
            }
        }
    }
    discovery.diagnostics.append(&mut project.diagnostics);
    project
}

/// What the functions need to keep of a parsed deployment (nothing when
/// the scan has no function).
pub fn keep(project: &Project, parsed: &ParsedDeployment) -> Option<DeploymentPackages> {
    (!project.is_empty()).then(|| DeploymentPackages::of(parsed))
}

/// The root and display path of each deployment, taken before they are
/// handed to the parser.
pub fn roots(deployments: &[Deployment]) -> Vec<(PathBuf, String)> {
    deployments
        .iter()
        .map(|d| (d.root.clone(), d.display_path()))
        .collect()
}

/// Assembles the functions of a scan.
pub fn finish(
    project: &Project,
    tree: &ScanTree,
    roots: &[(PathBuf, String)],
    packages: &[Option<DeploymentPackages>],
    table: &RuntimeTable,
    default: Target,
) -> (Vec<FunctionReport>, Vec<Links>) {
    if project.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let refs: Vec<DeploymentRef<'_>> = roots
        .iter()
        .enumerate()
        .map(|(i, (root, display))| DeploymentRef {
            root,
            display,
            packages: packages.get(i).and_then(Option::as_ref),
        })
        .collect();
    assemble::assemble(
        project,
        &Inputs {
            fs: tree.fs(),
            deployments: &refs,
            table,
            today: crate::clock::today(),
            default_target: default,
        },
    )
}

/// `inventory`: discovers and parses `paths` (zips named on the command
/// line, and with `zips` every zip found, read in memory), and assembles
/// the functions the infrastructure files define. Archive problems are
/// reported with the deployment they belong to. `each` runs on every
/// parsed deployment (and the file system it was read through) before it
/// is kept: `--resolve` replaces manifest-only graphs there.
pub fn inventory(
    paths: &[PathBuf],
    zips: bool,
    options: &ParseOptions,
    table: &RuntimeTable,
    each: &(dyn Fn(&dyn crate::fs::Fs, &mut ParsedDeployment) + Sync),
) -> Result<(Inventory, Vec<FunctionReport>), DiscoverError> {
    let tree = ScanTree::new(paths, zips, options.limits.max_file_size);
    let mut discovery = tree.discover()?;
    let project = prepare(&tree, &mut discovery, options.target);
    let roots = roots(&discovery.deployments);
    let deployments = tree.stream(discovery.deployments, options, |_, mut d| {
        each(tree.fs(), &mut d);
        d
    });
    let inv = Inventory {
        deployments,
        diagnostics: discovery.diagnostics,
    };
    let packages: Vec<Option<DeploymentPackages>> =
        inv.deployments.iter().map(|d| keep(&project, d)).collect();
    let (mut functions, _) = finish(&project, &tree, &roots, &packages, table, options.target);
    // An inventory lists; it neither matches nor gates.
    for f in &mut functions {
        f.findings.clear();
    }
    Ok((inv, functions))
}
