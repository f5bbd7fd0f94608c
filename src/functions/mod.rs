//! Serverless functions as Lambda deploys them. Infrastructure files found
//! in the scanned tree (AWS SAM templates, Serverless Framework services,
//! AWS CDK cloud assemblies, Terraform) say which code and which layers
//! make up each function, on which runtime and architecture. This module
//! reads them ([`Project::read`]), maps their code to the deployments of
//! the scan, gives those deployments the functions' target (Python
//! version, CPU) so markers and npm platform fields are evaluated for it,
//! and, once the deployments are scanned, assembles each function: its
//! layers in Lambda's load order, its merged package set (which copy of a
//! package Lambda loads), its findings with their origin, and its own
//! findings (`runtime`, `platform`, `size`). See DESIGN.md, "Functions".
//!
//! Integration points into the pipeline are kept small: discovery lists
//! the infrastructure files ([`is_infrastructure_name`]), the scan calls
//! [`Project::read`], [`Project::prepare`] and [`assemble::assemble`], and
//! the audit gates the functions' own findings.

pub mod assemble;
pub mod bundle;
pub mod bundle_lock;
pub mod cdk;
pub mod cfn;
pub mod checks;
pub mod elf;
pub mod gate;
pub mod hcl;
pub mod inputs;
pub mod layers;
pub mod model;
pub mod names;
pub mod paths;
pub mod pipeline;
pub mod platform;
pub mod runtime;
pub mod sam;
pub mod serverless;
pub mod size;
pub mod terraform;
pub mod verdicts;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Level};
use crate::discover::{Deployment, relative_display};
use crate::fs::Fs;
use crate::parse::{Arch, Target};
use model::{CodeLoc, Framework, FunctionDef, LayerDef, LayerRef, TemplateDefs};
use paths::Locator;

pub use names::is_infrastructure_name;

/// The functions and layers of a scan, read from its infrastructure files.
#[derive(Debug, Default)]
pub struct Project {
    /// Functions, in (template, line) order.
    pub functions: Vec<FunctionDef>,
    /// Layers.
    pub layers: Vec<LayerDef>,
    /// Problems reading the files (they belong to no deployment).
    pub diagnostics: Vec<Diagnostic>,
    /// The scanned root of each template (report paths are relative to it).
    pub roots: BTreeMap<PathBuf, PathBuf>,
}

impl Project {
    /// Reads the infrastructure files `(scan root, file)` found by
    /// discovery. A file that cannot be read or parsed is an error naming
    /// it; the others are read.
    pub fn read(fs: &dyn Fs, files: &[(PathBuf, PathBuf)]) -> Project {
        let mut p = Project::default();
        let mut tf_dirs: BTreeMap<PathBuf, (PathBuf, Vec<PathBuf>)> = BTreeMap::new();
        let mut sam_sources: BTreeMap<PathBuf, TemplateDefs> = BTreeMap::new();
        let mut sam_builds: Vec<(PathBuf, TemplateDefs)> = Vec::new();
        for (root, file) in files {
            p.roots.insert(file.clone(), root.clone());
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".tf") {
                if file.components().any(|c| c.as_os_str() == ".terraform") {
                    // Modules `terraform init` downloaded: their values are
                    // the caller's variables.
                    continue;
                }
                let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                tf_dirs
                    .entry(dir)
                    .or_insert_with(|| (root.clone(), Vec::new()))
                    .1
                    .push(file.clone());
                continue;
            }
            let framework = if serverless::is_service_name(&name) {
                Framework::Serverless
            } else if sam::is_template_name(&name) {
                Framework::Sam
            } else if cdk::is_assembly_template(fs, file) {
                Framework::Cdk
            } else {
                continue;
            };
            if serverless::is_program_name(&name) {
                // A program is never run: what `serverless package`
                // resolved from it is read instead.
                match serverless::state_document(fs, file) {
                    Some(Ok(doc)) => {
                        let loc = Locator::new(fs, root, file);
                        p.add(serverless::read(&doc, "", &loc));
                    }
                    Some(Err(e)) => p.diagnostics.push(Diagnostic::new(
                        Level::Error,
                        file,
                        format!(".serverless/serverless-state.json: {e}; the functions it defines are not known"),
                    )),
                    None => p.diagnostics.push(Diagnostic::new(
                        Level::Error,
                        file,
                        "a program, not data: not run, so the functions it defines are not known (`serverless package` writes .serverless/serverless-state.json, which is read)",
                    )),
                }
                continue;
            }
            let text = match fs.read_to_string(file) {
                Ok(t) => t,
                Err(e) => {
                    p.diagnostics
                        .push(Diagnostic::new(Level::Error, file, e.to_string()));
                    continue;
                }
            };
            let doc = match cfn::parse(&text) {
                Ok(d) => d,
                Err(e) => {
                    p.diagnostics.push(Diagnostic::new(
                        Level::Error,
                        file,
                        format!("{e}; the functions it defines are not known"),
                    ));
                    continue;
                }
            };
            let loc = Locator::new(fs, root, file);
            let defs = match framework {
                Framework::Serverless => serverless::read(&doc, &text, &loc),
                Framework::Cdk => cdk::read(&doc, &text, &loc),
                _ => sam::read(&doc, &text, Framework::Sam, &loc, &sam::NoAssets),
            };
            if framework == Framework::Sam && sam::is_build_template(file) {
                sam_builds.push((file.clone(), defs));
                p.roots.insert(file.clone(), root.clone());
            } else if framework == Framework::Sam {
                sam_sources.insert(file.clone(), defs);
            } else {
                p.add(defs);
            }
        }
        // `sam build` output stands for the project's template: its
        // functions are what is deployed; the source template gives their
        // source directories (the project a bundle was built from).
        for (build, mut defs) in sam_builds {
            let project_dir = build
                .parent()
                .and_then(Path::parent)
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let source = ["template.yaml", "template.yml", "template.json"]
                .iter()
                .map(|n| project_dir.join(n))
                .find(|t| sam_sources.contains_key(t));
            if let Some(src) = source.and_then(|s| sam_sources.remove(&s)) {
                for f in &mut defs.functions {
                    if let Some(sf) = src.functions.iter().find(|s| s.name == f.name) {
                        f.source_dir = paths::root_of(&sf.code).or(f.source_dir.take());
                        f.source_template = Some((sf.template.clone(), sf.line));
                    }
                }
                // A function `sam build` did not build (an image without a
                // container runtime, a build of one function) is still
                // deployed: it comes from the source template.
                for sf in src.functions {
                    if !defs.functions.iter().any(|f| f.name == sf.name) {
                        defs.diagnostics.push(Diagnostic::new(
                            Level::Warning,
                            &build,
                            format!(
                                "{} is not in the build template; read from {}",
                                sf.name,
                                sf.template.display()
                            ),
                        ));
                        defs.functions.push(sf);
                    }
                }
                // The source template's layers, for its own functions.
                defs.layers.extend(src.layers);
            }
            p.add(defs);
        }
        for (_, defs) in sam_sources {
            p.add(defs);
        }
        for (dir, (root, files)) in tf_dirs {
            let mut parsed = Vec::new();
            for f in &files {
                match fs
                    .read_to_string(f)
                    .map_err(|e| e.to_string())
                    .and_then(|t| terraform::parse_file(f, &t))
                {
                    Ok(tf) => parsed.push(tf),
                    Err(e) => p.diagnostics.push(Diagnostic::new(
                        Level::Error,
                        f,
                        format!("{e}; the functions it defines are not known"),
                    )),
                }
            }
            let probe = dir.join("main.tf");
            let loc = Locator::new(fs, &root, &probe);
            let defs = terraform::read(&parsed, &loc);
            for f in defs.functions.iter().map(|f| &f.template) {
                p.roots.insert(f.clone(), root.clone());
            }
            p.add(defs);
        }
        p.functions
            .sort_by(|a, b| (&a.template, a.line, &a.name).cmp(&(&b.template, b.line, &b.name)));
        p
    }

    fn add(&mut self, defs: TemplateDefs) {
        self.functions.extend(defs.functions);
        self.layers.extend(defs.layers);
        self.diagnostics.extend(defs.diagnostics);
    }

    /// True when the scan found no function.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The layer a function lists as local, from the same template (or
    /// Terraform directory, or Serverless service).
    pub fn layer(&self, f: &FunctionDef, id: &str) -> Option<&LayerDef> {
        let dir = |p: &Path| p.parent().map(Path::to_path_buf);
        self.layers
            .iter()
            .filter(|l| l.id == id && l.framework == f.framework)
            .find(|l| l.template == f.template || dir(&l.template) == dir(&f.template))
    }

    /// The target a function runs on: its runtime's Python version (3.12
    /// for other languages, where it does not matter) and its CPU; what
    /// the template leaves unresolved comes from `default`.
    pub fn target_of(f: &FunctionDef, default: Target) -> Target {
        let python = f
            .runtime
            .known()
            .and_then(|r| runtime::Language::of(r))
            .and_then(runtime::Language::python)
            .unwrap_or(default.python);
        let arch = match &f.architecture {
            model::Val::Known(a) => *a,
            model::Val::Absent => Arch::X86_64,
            model::Val::Unresolved(_) => default.arch,
        };
        Target { arch, python }
    }

    /// The code and layer roots of every function (directories, or mounted
    /// zips), each with the function's index and role.
    pub fn artifacts(&self) -> Vec<(usize, Role, PathBuf)> {
        let mut out = Vec::new();
        for (i, f) in self.functions.iter().enumerate() {
            if let Some(r) = paths::root_of(&f.code) {
                out.push((i, Role::Code, r));
            }
            for l in &f.layers {
                if let LayerRef::Local(id) = l
                    && let Some(r) = self.layer(f, id).and_then(|d| paths::root_of(&d.content))
                {
                    out.push((i, Role::Layer(id.clone()), r));
                }
            }
        }
        out
    }

    /// The zips the functions use that discovery did not open (without
    /// `--zips`, zips found in directories are not deployments): their
    /// mounted paths, to be discovered as deployments of their own.
    pub fn unopened_zips(&self, deployments: &[Deployment]) -> Vec<(PathBuf, PathBuf)> {
        let mut out = BTreeSet::new();
        for (i, _, root) in self.artifacts() {
            let zipped = root
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(crate::zipfs::ZIP_MARK));
            if zipped && !deployments.iter().any(|d| d.root.starts_with(&root)) {
                let scan_root = self
                    .roots
                    .get(&self.functions[i].template)
                    .cloned()
                    .unwrap_or_default();
                out.insert((scan_root, root));
            }
        }
        out.into_iter().collect()
    }

    /// Gives each deployment the functions use the target they run on.
    /// A deployment used by functions that disagree (a layer shared by an
    /// x86_64 and an arm64 function) keeps the scan's target, and a
    /// warning says so: its packages are evaluated once.
    pub fn prepare(&self, deployments: &mut [Deployment], default: Target) -> Vec<Diagnostic> {
        let arts = self.artifacts();
        let mut notes = Vec::new();
        for d in deployments.iter_mut() {
            let mut targets: BTreeMap<String, (Target, Vec<String>)> = BTreeMap::new();
            for (i, _, root) in &arts {
                if owner(&arts, &d.root).as_deref() != Some(root.as_path()) {
                    continue;
                }
                let f = &self.functions[*i];
                let t = Project::target_of(f, default);
                targets
                    .entry(t.describe())
                    .or_insert_with(|| (t, Vec::new()))
                    .1
                    .push(f.name.clone());
            }
            match targets.len() {
                0 => {}
                1 => d.target = targets.into_values().next().map(|(t, _)| t),
                _ => {
                    let list: Vec<String> = targets
                        .iter()
                        .map(|(k, (_, names))| format!("{} ({k})", names.join(", ")))
                        .collect();
                    notes.push(Diagnostic::new(
                        Level::Warning,
                        &d.root,
                        format!(
                            "used by functions on different targets: {}; its markers and platform fields are evaluated once, for the scan's target ({})",
                            list.join("; "),
                            default.describe()
                        ),
                    ));
                }
            }
        }
        notes
    }

    /// The template reference `path:line` of a definition, relative to its
    /// scanned root.
    pub fn template_ref(&self, template: &Path, line: u32) -> String {
        let root = self.roots.get(template).cloned().unwrap_or_default();
        format!("{}:{line}", relative_display(&root, template))
    }

    /// The scanned root of a function's template.
    pub fn root_of(&self, f: &FunctionDef) -> PathBuf {
        self.roots.get(&f.template).cloned().unwrap_or_default()
    }
}

/// What an artifact is to a function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The function's code (`/var/task`).
    Code,
    /// A local layer (`/opt`), by id.
    Layer(String),
}

impl Role {
    /// The origin label of the report: `function` or `layer:<id>`.
    pub fn origin(&self) -> String {
        match self {
            Role::Code => "function".into(),
            Role::Layer(id) => format!("layer:{id}"),
        }
    }
}

/// The artifact root that owns a deployment root: the deepest artifact
/// that holds it (a layer directory inside a service directory belongs to
/// the layer, not to the service's code).
pub fn owner(arts: &[(usize, Role, PathBuf)], root: &Path) -> Option<PathBuf> {
    arts.iter()
        .map(|(_, _, r)| r)
        .filter(|r| root.starts_with(r))
        .max_by_key(|r| r.components().count())
        .cloned()
}

/// The kind of a code location for the report.
pub fn code_kind(loc: &CodeLoc) -> &'static str {
    match loc {
        CodeLoc::Dir(_) => "dir",
        CodeLoc::Zip(_) => "zip",
        CodeLoc::S3(_) => "s3",
        CodeLoc::Inline => "inline",
        CodeLoc::Image(_) => "image",
        CodeLoc::Unreadable { .. } | CodeLoc::Unresolved(_) | CodeLoc::Missing => "unknown",
    }
}
