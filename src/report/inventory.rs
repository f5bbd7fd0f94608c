//! The `inventory` command's output: every package of every source, in JSON
//! (the contract check.py reads) or as a table.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::visible as v;
use crate::diagnostic::Level;
use crate::discover::relative_display;
use crate::graph::{DepGraph, Package, PackageId, PackageSource};
use crate::scan::{Inventory, ParsedDeployment};

/// The inventory as JSON: `{"deployments": [...], "errors": [...],
/// "functions": [...], "packages": [...]}` (keys in this order, and in
/// alphabetical order inside every deployment and package; `functions`
/// only when infrastructure files define some). It serialises straight
/// from the parsed graphs, one package at a time, so it costs the output
/// and not a copy of it.
pub struct InventoryJson<'a>(pub &'a Inventory, pub &'a [super::model::FunctionReport]);

/// The inventory as JSON (see [`InventoryJson`]).
pub fn to_json(inv: &Inventory) -> InventoryJson<'_> {
    InventoryJson(inv, &[])
}

/// The inventory and the functions of the scan as JSON.
pub fn to_json_with<'a>(
    inv: &'a Inventory,
    functions: &'a [super::model::FunctionReport],
) -> InventoryJson<'a> {
    InventoryJson(inv, functions)
}

impl Serialize for InventoryJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let inv = self.0;
        let mut map = ser.serialize_map(None)?;
        map.serialize_entry(
            "deployments",
            &Seq(|| inv.deployments.iter().map(DeploymentJson)),
        )?;
        map.serialize_entry(
            "errors",
            &Seq(|| {
                inv.diagnostics.iter().map(|e| ErrorJson {
                    level: e.level,
                    message: &e.message,
                    path: e.path.display().to_string(),
                })
            }),
        )?;
        if !self.1.is_empty() {
            map.serialize_entry("functions", self.1)?;
        }
        map.serialize_entry(
            "packages",
            &Seq(|| {
                inv.deployments.iter().flat_map(|d| {
                    let dep_path = d.deployment.display_path();
                    d.sources.iter().flat_map(move |s| {
                        let src_path = relative_display(&d.deployment.scan_root, &s.source.path);
                        let format = s.source.format.name();
                        let dep_path = dep_path.clone();
                        s.result.iter().flat_map(move |parsed| {
                            let (dep_path, src_path) = (dep_path.clone(), src_path.clone());
                            let cutoff =
                                parsed.facts.resolution.as_ref().map(|r| r.cutoff.as_str());
                            parsed.graph.iter().map(move |(id, p)| PackageJson {
                                graph: &parsed.graph,
                                id,
                                p,
                                deployment: dep_path.clone(),
                                source: src_path.clone(),
                                format,
                                cutoff,
                            })
                        })
                    })
                })
            }),
        )?;
        map.end()
    }
}

/// A sequence serialised from an iterator made on demand.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq((self.0)())
    }
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    level: Level,
    message: &'a str,
    path: String,
}

#[derive(Serialize)]
struct SourceJson<'a> {
    format: &'static str,
    ok: bool,
    packages: usize,
    path: String,
    /// Set when the graph was resolved (`--resolve`).
    #[serde(skip_serializing_if = "Option::is_none")]
    resolution: Option<&'a crate::resolve::facts::ResolutionFacts>,
}

struct DeploymentJson<'a>(&'a ParsedDeployment);

impl Serialize for DeploymentJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let diags = d.diagnostics();
        let mut map = ser.serialize_map(Some(3))?;
        map.serialize_entry(
            "errors",
            &Seq(|| {
                diags.iter().map(|e| ErrorJson {
                    level: e.level,
                    message: &e.message,
                    path: relative_display(&d.deployment.scan_root, &e.path),
                })
            }),
        )?;
        map.serialize_entry("path", &d.deployment.display_path())?;
        map.serialize_entry(
            "sources",
            &Seq(|| {
                d.sources.iter().map(|s| SourceJson {
                    format: s.source.format.name(),
                    ok: s.result.is_ok(),
                    packages: s.result.as_ref().map(|p| p.graph.len()).unwrap_or(0),
                    path: relative_display(&d.deployment.scan_root, &s.source.path),
                    resolution: s
                        .result
                        .as_ref()
                        .ok()
                        .and_then(|p| p.facts.resolution.as_ref()),
                })
            }),
        )?;
        map.end()
    }
}

/// One package: the keys in alphabetical order, optional ones only when
/// set.
struct PackageJson<'a> {
    graph: &'a DepGraph,
    id: PackageId,
    p: &'a Package,
    deployment: String,
    source: String,
    format: &'static str,
    /// The cutoff of the resolution the package comes from, if any.
    cutoff: Option<&'a str>,
}

impl Serialize for PackageJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let p = self.p;
        let mut map = ser.serialize_map(None)?;
        if let Some(c) = &p.checksum {
            map.serialize_entry("checksum", c)?;
        }
        map.serialize_entry("deployment", &self.deployment)?;
        map.serialize_entry("dev", &p.dev)?;
        map.serialize_entry("direct", &p.direct)?;
        map.serialize_entry("ecosystem", p.ecosystem.as_str())?;
        map.serialize_entry("format", self.format)?;
        map.serialize_entry("groups", &p.groups)?;
        if let Some(l) = p.line {
            map.serialize_entry("line", &l)?;
        }
        map.serialize_entry("name", &p.name)?;
        if let Some(why) = &p.not_on_target {
            map.serialize_entry("not_on_target", why)?;
        }
        if !p.notes.is_empty() {
            // One value per key, the last one written winning.
            let notes: BTreeMap<&str, &str> = p
                .notes
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            map.serialize_entry("notes", &notes)?;
        }
        map.serialize_entry("optional", &p.optional)?;
        map.serialize_entry("origin", &Origin(&p.source))?;
        map.serialize_entry("path", &self.graph.path_names(self.id))?;
        if let Some(r) = &p.requirement {
            map.serialize_entry("requirement", r)?;
        }
        if p.resolved {
            map.serialize_entry("resolve_cutoff", &self.cutoff)?;
            map.serialize_entry("resolved", &true)?;
        }
        map.serialize_entry("root", &p.root)?;
        map.serialize_entry("source", &self.source)?;
        map.serialize_entry("version", &p.version)?;
        map.end()
    }
}

/// A package source with its keys in alphabetical order (`path`, `rev`,
/// `type`, `url`), as the JSON contract has always written them.
struct Origin<'a>(&'a PackageSource);

impl Serialize for Origin<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(None)?;
        match self.0 {
            PackageSource::Registry { url } => {
                map.serialize_entry("type", "registry")?;
                if let Some(u) = url {
                    map.serialize_entry("url", u)?;
                }
            }
            PackageSource::Git { url, rev } => {
                if let Some(r) = rev {
                    map.serialize_entry("rev", r)?;
                }
                map.serialize_entry("type", "git")?;
                map.serialize_entry("url", url)?;
            }
            PackageSource::Path { path } => {
                map.serialize_entry("path", path)?;
                map.serialize_entry("type", "path")?;
            }
            PackageSource::Url { url } => {
                map.serialize_entry("type", "url")?;
                map.serialize_entry("url", url)?;
            }
            PackageSource::Unknown => map.serialize_entry("type", "unknown")?,
        }
        map.end()
    }
}

/// The inventory as a plain-text table, one block per deployment, then
/// one per function with the packages it deploys; every input-derived
/// string in its visible form.
pub fn to_table(inv: &Inventory, functions: &[super::model::FunctionReport]) -> String {
    let mut out = deployments_table(inv);
    for f in functions {
        let _ = writeln!(
            out,
            "function {} ({} {}, {} {})",
            v(&f.name),
            f.framework,
            v(&f.template),
            v(f.runtime.as_deref().unwrap_or("runtime unknown")),
            f.architecture.as_deref().unwrap_or("architecture unknown")
        );
        for p in &f.packages {
            let mut flags: Vec<String> = vec![v(&p.origin).into_owned()];
            if !p.effective {
                flags.push("not loaded".into());
            }
            if let Some(s) = &p.shadowed_by {
                flags.push(format!("shadowed by {}", v(s)));
            }
            if p.not_on_path {
                flags.push("not on path".into());
            }
            if p.bundled == Some(false) {
                flags.push("not bundled".into());
            }
            let _ = writeln!(
                out,
                "    {}@{}  {}",
                v(&p.name),
                v(p.version.as_deref().unwrap_or("?")),
                flags.join(",")
            );
        }
    }
    out
}

fn deployments_table(inv: &Inventory) -> String {
    let mut out = String::new();
    for d in &inv.deployments {
        let _ = writeln!(out, "{}", v(&d.deployment.display_path()));
        for s in &d.sources {
            let src_path = relative_display(&d.deployment.scan_root, &s.source.path);
            match &s.result {
                Ok(parsed) => {
                    let _ = writeln!(
                        out,
                        "  {} ({}, {} packages)",
                        v(&src_path),
                        s.source.format,
                        parsed.graph.len()
                    );
                    if let Some(r) = &parsed.facts.resolution {
                        let _ = writeln!(
                            out,
                            "  resolved (predicted, not installed) as of {}, registry metadata {}",
                            r.cutoff, r.digest
                        );
                    }
                    for (_, p) in parsed.graph.iter() {
                        let mut flags = Vec::new();
                        if p.root {
                            flags.push("root");
                        }
                        if p.direct {
                            flags.push("direct");
                        }
                        if p.dev {
                            flags.push("dev");
                        }
                        if p.optional {
                            flags.push("optional");
                        }
                        if p.not_on_target.is_some() {
                            flags.push("not-on-target");
                        }
                        if p.resolved {
                            flags.push("resolved");
                        }
                        let version = p.version.clone().unwrap_or_else(|| {
                            format!(
                                "(unresolved{})",
                                p.requirement
                                    .as_ref()
                                    .map(|r| format!(" {r}"))
                                    .unwrap_or_default()
                            )
                        });
                        let _ = writeln!(
                            out,
                            "    {}@{}  {}",
                            v(&p.name),
                            v(&version),
                            flags.join(",")
                        );
                    }
                }
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "  {} ({}): error: {}",
                        v(&src_path),
                        s.source.format,
                        v(&e.to_string())
                    );
                }
            }
        }
        for diag in d.deployment.diagnostics.iter() {
            let _ = writeln!(
                out,
                "  {:?}: {}: {}",
                diag.level,
                v(&diag.path.display().to_string()),
                v(&diag.message)
            );
        }
    }
    out
}
