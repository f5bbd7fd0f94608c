//! Each function as Lambda deploys it, from its definition and the scanned
//! deployments: code and layers in load order, the merged package set,
//! sizes, and its own findings. Findings of the deployments it is made of
//! are attached after the gate ([`attach_findings`]), each with its origin
//! and whether the copy it is about is the one Lambda loads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::bundle;
use super::checks::FactsCache;
use super::inputs::{Inputs, Links, err};
use super::layers::{self, Part, SourceSummary};
use super::model::{CodeLoc, Framework, FunctionDef, LayerRef, Val};
use super::runtime::Language;
use super::size::{self, Measured};
use super::{Project, Role, code_kind, owner, paths, sam, verdicts};
use crate::diagnostic::Level;
use crate::discover::relative_display;
use crate::report::model::{CodeReport, FunctionFinding, FunctionReport, LayerReport};
use crate::report::model::{DeploymentReport, Finding};

/// Assembles every function; returns the reports (with their own findings
/// only) and, per function, the deployments whose findings it inherits.
pub fn assemble(project: &Project, inp: &Inputs<'_>) -> (Vec<FunctionReport>, Vec<Links>) {
    let mut cache = FactsCache::default();
    let arts = project.artifacts();
    let mut reports = Vec::new();
    let mut links = Vec::new();
    for f in &project.functions {
        let (r, l) = one(project, f, inp, &arts, &mut cache);
        reports.push(r);
        links.push(l);
    }
    (reports, links)
}

/// The deployments an artifact root owns, by index.
fn owned(arts: &[(usize, Role, PathBuf)], inp: &Inputs<'_>, root: &Path) -> Vec<usize> {
    inp.deployments
        .iter()
        .enumerate()
        .filter(|(_, d)| owner(arts, d.root).as_deref() == Some(root))
        .map(|(i, _)| i)
        .collect()
}

fn one(
    project: &Project,
    f: &FunctionDef,
    inp: &Inputs<'_>,
    arts: &[(usize, Role, PathBuf)],
    cache: &mut FactsCache,
) -> (FunctionReport, Links) {
    let scan_root = project.root_of(f);
    let rel = |p: &Path| relative_display(&scan_root, p);
    let template = project.template_ref(&f.template, f.line);
    let mut errors = Vec::new();
    let mut unresolved = BTreeMap::new();
    let mut links = Links::default();
    let runtime = f.runtime.known().cloned();
    if let Some(e) = f.runtime.unresolved() {
        unresolved.insert("runtime".to_string(), e.to_string());
    }
    if let Some(e) = f.handler.unresolved() {
        unresolved.insert("handler".to_string(), e.to_string());
    }
    if let Val::Unresolved(e) = &f.architecture {
        unresolved.insert("architecture".to_string(), e.clone());
        errors.push(err(
            Level::Warning,
            template.clone(),
            format!(
                "{}: architecture {e} is not evaluated; checked for {}",
                f.name,
                inp.default_target.arch.lambda_name()
            ),
        ));
    }
    let language = runtime.as_deref().and_then(Language::of);
    let entry = runtime.as_deref().and_then(|r| inp.table.get(r));
    let target = Project::target_of(f, inp.default_target);
    let handler = f.handler.known().map(String::as_str);

    // The code.
    let (scanned, reason, artifact) = match &f.code {
        CodeLoc::Dir(d) => (true, None, Some(rel(d))),
        CodeLoc::Zip(z) => (true, None, Some(rel(z))),
        CodeLoc::Inline => (true, None, None),
        CodeLoc::Image(uri) => (false, Some("package-type-image"), uri.clone()),
        CodeLoc::S3(s) => (false, Some("code-in-s3"), Some(s.clone())),
        CodeLoc::Unresolved(e) => {
            unresolved.insert("code".to_string(), e.clone());
            (false, Some("code-unresolved"), None)
        }
        CodeLoc::Unreadable { written, why } => {
            errors.push(err(
                Level::Error,
                template.clone(),
                format!("{}: code {written:?}: {why}", f.name),
            ));
            (false, Some("code-unreadable"), Some(written.clone()))
        }
        CodeLoc::Missing => (false, Some("code-missing"), None),
    };
    if let Some(why) = reason
        && !matches!(f.code, CodeLoc::Unreadable { .. })
    {
        errors.push(err(
            Level::Error,
            template.clone(),
            format!(
                "{}: code not scanned ({why}{})",
                f.name,
                artifact
                    .as_ref()
                    .map(|a| format!(": {a}"))
                    .unwrap_or_default()
            ),
        ));
    }
    let code_root = paths::root_of(&f.code);
    let mut parts_sources: Vec<(Role, PathBuf, Vec<&SourceSummary>)> = Vec::new();
    let mut code_deployments = Vec::new();
    if let Some(root) = &code_root {
        for i in owned(arts, inp, root) {
            links.deployments.push((i, Role::Code.origin()));
            code_deployments.push(inp.deployments[i].display.to_string());
        }
        let sources = owned(arts, inp, root)
            .into_iter()
            .filter_map(|i| inp.deployments[i].packages)
            .flat_map(|d| d.sources.iter())
            .collect();
        parts_sources.push((Role::Code, root.clone(), sources));
    }

    // A bundle: its packages stand in the code's place.
    let mut bundle_info = None;
    if let (Some(Language::Node(_)), Some(root)) = (language, &code_root)
        && let Some(b) = bundle::detect(inp.fs, root, handler)
    {
        bundle_info = Some(b);
    }
    let bundle_part = bundle_info.as_ref().map(|b| {
        super::bundle_lock::bundled_packages(f, b, inp, &scan_root, &mut errors, &mut links)
    });
    if let Some((virt, _, _)) = &bundle_part
        && let Some(code) = parts_sources.first_mut()
    {
        code.2.push(virt);
    }

    // The layers, in the order listed.
    let mut layer_reports = Vec::new();
    let mut layer_defs = Vec::new();
    for l in &f.layers {
        match l {
            LayerRef::Local(id) => {
                let def = project.layer(f, id);
                let root = def.and_then(|d| paths::root_of(&d.content));
                let mut deps = Vec::new();
                if let Some(r) = &root {
                    for i in owned(arts, inp, r) {
                        links
                            .deployments
                            .push((i, Role::Layer(id.clone()).origin()));
                        deps.push(inp.deployments[i].display.to_string());
                    }
                    let sources = owned(arts, inp, r)
                        .into_iter()
                        .filter_map(|i| inp.deployments[i].packages)
                        .flat_map(|d| d.sources.iter())
                        .collect();
                    parts_sources.push((Role::Layer(id.clone()), r.clone(), sources));
                } else {
                    let why = match def.map(|d| &d.content) {
                        None => "not defined in the template".to_string(),
                        Some(CodeLoc::Unreadable { written, why }) => format!("{written:?}: {why}"),
                        Some(CodeLoc::Unresolved(e)) => format!("content {e} is not evaluated"),
                        Some(CodeLoc::S3(s)) => format!("content is in S3 ({s})"),
                        Some(_) => "its content is not a local directory or zip".to_string(),
                    };
                    errors.push(err(
                        Level::Error,
                        template.clone(),
                        format!("{}: layer {id} not scanned: {why}", f.name),
                    ));
                }
                layer_reports.push(LayerReport {
                    id: id.clone(),
                    kind: "local".into(),
                    artifact: def.and_then(|d| match &d.content {
                        CodeLoc::Dir(p) | CodeLoc::Zip(p) => Some(rel(p)),
                        CodeLoc::S3(s) => Some(s.clone()),
                        _ => None,
                    }),
                    scanned: root.is_some(),
                    deployments: deps,
                });
                layer_defs.push((id.clone(), def, root));
            }
            LayerRef::External(arn) => {
                errors.push(err(
                    Level::Error,
                    template.clone(),
                    format!(
                        "{}: layer {arn} is external (only its ARN is known); its content is not scanned",
                        f.name
                    ),
                ));
                layer_reports.push(LayerReport {
                    id: arn.clone(),
                    kind: "external".into(),
                    artifact: None,
                    scanned: false,
                    deployments: Vec::new(),
                });
            }
        }
    }

    // Which copy of each package is loaded.
    // Only a SAM source template is built (`sam build` installs from the
    // manifests); everything else is deployed as it is.
    let built_by_sam = |t: &Path, fw: Framework| fw == Framework::Sam && !sam::is_build_template(t);
    let parts: Vec<Part<'_>> = parts_sources
        .iter()
        .map(|(role, root, sources)| Part {
            role: role.clone(),
            root: root.clone(),
            sources: sources.clone(),
            builds: match role {
                Role::Code => built_by_sam(&f.template, f.framework),
                Role::Layer(id) => project
                    .layer(f, id)
                    .is_some_and(|l| built_by_sam(&l.template, l.framework)),
            },
        })
        .collect();
    // A Python package installed without its metadata: its import
    // directory or module lies beside the manifest.
    let present = |dir: &Path, p: &layers::PkgSummary| {
        p.ecosystem == crate::ecosystem::Ecosystem::PyPI && {
            let module = layers::python_module(&p.name);
            inp.fs.is_dir(&dir.join(&module)) || inp.fs.is_file(&dir.join(format!("{module}.py")))
        }
    };
    let mut packages = layers::merge(&parts, language, handler, &scan_root, &present);
    if let Some((virt, extra, _)) = &bundle_part {
        let bundle_loc = rel(&virt.path);
        for p in packages
            .iter_mut()
            .filter(|p| p.origin == "function" && p.location == bundle_loc)
        {
            p.bundled = Some(true);
        }
        for e in extra {
            let provided = packages
                .iter()
                .any(|p| p.ecosystem == "npm" && p.name == e.name && p.effective);
            if !provided {
                packages.push(e.clone());
            }
        }
    }

    // Own findings: runtime, platform, layers, size.
    let mut own: Vec<(String, Finding)> = Vec::new();
    match (&runtime, entry) {
        (Some(_), Some(e)) => {
            if let Some(x) = verdicts::runtime_finding(&f.name, e, inp.today) {
                own.push(("function".into(), x));
            }
        }
        (Some(r), None) if !f.image => errors.push(err(
            Level::Warning,
            template.clone(),
            format!(
                "{}: runtime {r} is not in the Lambda runtime table of {}; its support dates are not checked",
                f.name, inp.table.as_of
            ),
        )),
        (None, _) if !f.image && f.runtime.unresolved().is_some() => errors.push(err(
            Level::Warning,
            template.clone(),
            format!(
                "{}: runtime {} is not evaluated; its support dates are not checked and platform checks assume the scan's target",
                f.name,
                f.runtime.unresolved().unwrap_or_default()
            ),
        )),
        (None, _) if !f.image && f.runtime.is_absent() => errors.push(err(
            Level::Warning,
            template.clone(),
            format!("{}: no runtime given; runtime and platform checks assume the scan's target", f.name),
        )),
        _ => {}
    }
    let plat = verdicts::Platform {
        function: &f.name,
        language,
        target,
        os: entry.map(|e| e.os),
        handler,
        packages: &packages,
        scan_root: &scan_root,
    };
    let mut measured_code = None;
    if let Some(root) = &code_root {
        let facts = cache.get(inp.fs, root);
        for x in verdicts::platform_findings(inp.fs, &plat, &Role::Code, root, facts) {
            own.push(("function".into(), x));
        }
        errors.extend(
            facts
                .diagnostics
                .iter()
                .map(|d| err(d.level, rel(&d.path), d.message.clone())),
        );
        measured_code = Some(Measured {
            unzipped: facts.complete.then_some(facts.unzipped),
            zipped: facts.zipped,
        });
    }
    let mut layer_sizes = Vec::new();
    for (id, def, root) in &layer_defs {
        let role = Role::Layer(id.clone());
        let measured = root.as_ref().map(|r| {
            let facts = cache.get(inp.fs, r);
            for x in verdicts::platform_findings(inp.fs, &plat, &role, r, facts) {
                own.push((role.origin(), x));
            }
            Measured {
                unzipped: facts.complete.then_some(facts.unzipped),
                zipped: facts.zipped,
            }
        });
        if let Some(def) = def {
            // Where in the layer (as `/opt` sees it) they are.
            let prefix = root
                .as_ref()
                .map(|r| format!("{}/", rel(r)))
                .unwrap_or_default();
            let mut off_path: Vec<String> = packages
                .iter()
                .filter(|p| p.origin == role.origin() && p.not_on_path)
                .map(|p| {
                    p.location
                        .strip_prefix(&prefix)
                        .unwrap_or(&p.location)
                        .to_string()
                })
                .collect();
            off_path.sort();
            off_path.dedup();
            let searched = layers::search_dirs(&role, language, handler);
            for x in verdicts::layer_findings(
                &f.name,
                runtime.as_deref(),
                Some(target.arch),
                def,
                &off_path,
                searched.as_deref(),
            ) {
                own.push((role.origin(), x));
            }
        }
        layer_sizes.push((id.clone(), measured));
    }
    for l in &f.layers {
        if let LayerRef::External(arn) = l {
            layer_sizes.push((arn.clone(), None));
        }
    }
    let size = size::report(measured_code.as_ref().filter(|_| scanned), &layer_sizes);
    for x in size::findings(&f.name, &size) {
        own.push(("function".into(), x));
    }
    let complete = scanned && layer_reports.iter().all(|l| l.scanned);
    // Located where the function is defined (SARIF places them there).
    let template_path = rel(&f.template);
    let findings = own
        .into_iter()
        .map(|(origin, mut finding)| {
            finding.sources = vec![template_path.clone()];
            finding.line = Some(f.line);
            (origin, finding)
        })
        .map(|(origin, finding)| FunctionFinding {
            finding,
            origin,
            deployment: None,
            effective: true,
            shadowed_by: None,
        })
        .collect();
    let report = FunctionReport {
        name: f.name.clone(),
        framework: f.framework.as_str().to_string(),
        template,
        package_type: if f.image { "Image" } else { "Zip" }.to_string(),
        runtime,
        architecture: match &f.architecture {
            Val::Unresolved(_) => None,
            _ => Some(target.arch.lambda_name().to_string()),
        },
        architecture_defaulted: f.architecture.is_absent(),
        handler: handler.map(str::to_string),
        code: CodeReport {
            artifact,
            kind: code_kind(&f.code).to_string(),
            deployments: code_deployments,
            bundle_lockfile: bundle_part.as_ref().and_then(|(_, _, l)| l.clone()),
        },
        layers: layer_reports,
        scanned,
        not_scanned_reason: reason.map(str::to_string),
        complete,
        unresolved,
        source: f
            .source_template
            .as_ref()
            .map(|(t, l)| project.template_ref(t, *l)),
        construct_path: f.construct_path.clone(),
        packages,
        findings,
        size,
        errors,
    };
    (report, links)
}

/// Attaches to each function the findings of the deployments it is made
/// of, after the gate: each keeps its deployment verdict and says where it
/// comes from and whether the copy it is about is loaded.
pub fn attach_findings(
    functions: &mut [FunctionReport],
    links: &[Links],
    deployments: &[DeploymentReport],
) {
    for (f, l) in functions.iter_mut().zip(links) {
        let mut inherited = Vec::new();
        for (i, origin) in &l.deployments {
            let Some(d) = deployments.get(*i) else {
                continue;
            };
            for finding in &d.findings {
                let pkg = f.packages.iter().find(|p| {
                    p.origin == *origin
                        && p.ecosystem == finding.ecosystem.as_str()
                        && p.name == finding.package
                        && p.version == finding.version
                });
                inherited.push(FunctionFinding {
                    finding: finding.clone(),
                    origin: origin.clone(),
                    deployment: Some(d.path.clone()),
                    effective: pkg.is_none_or(|p| p.effective),
                    shadowed_by: pkg.and_then(|p| p.shadowed_by.clone()),
                });
            }
        }
        if let Some((i, set)) = &l.bundle
            && let Some(d) = deployments.get(*i)
        {
            for finding in &d.findings {
                if set.contains(&(finding.package.clone(), finding.version.clone())) {
                    let pkg = f.packages.iter().find(|p| {
                        p.origin == "function"
                            && p.name == finding.package
                            && p.version == finding.version
                    });
                    inherited.push(FunctionFinding {
                        finding: finding.clone(),
                        origin: "function".into(),
                        deployment: Some(d.path.clone()),
                        effective: pkg.is_none_or(|p| p.effective),
                        shadowed_by: pkg.and_then(|p| p.shadowed_by.clone()),
                    });
                }
            }
        }
        // A package in two deployments of one part (a layer's installed
        // tree and the requirements file copied beside it) is one finding.
        let mut seen = BTreeSet::new();
        inherited.retain(|x| {
            seen.insert((
                x.origin.clone(),
                x.finding.kind,
                x.finding.id.clone(),
                x.finding.ecosystem,
                x.finding.package.clone(),
                x.finding.version.clone(),
            ))
        });
        f.findings.extend(inherited);
    }
}
