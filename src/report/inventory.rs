//! The `inventory` command's output: every package of every source, in JSON
//! (the contract check.py reads) or as a table.

use serde_json::{Value, json};
use std::fmt::Write as _;

use crate::discover::relative_display;
use crate::scan::Inventory;

/// The inventory as JSON: `{"packages": [...], "deployments": [...]}`.
pub fn to_json(inv: &Inventory) -> Value {
    let mut packages = Vec::new();
    let mut deployments = Vec::new();
    for d in &inv.deployments {
        let dep_path = d.deployment.display_path();
        let mut sources = Vec::new();
        for s in &d.sources {
            let src_path = relative_display(&d.deployment.scan_root, &s.source.path);
            let count = s.result.as_ref().map(|p| p.graph.len()).unwrap_or(0);
            sources.push(
                json!({"path": src_path, "format": s.source.format.name(), "packages": count,
                "ok": s.result.is_ok()}),
            );
            let Ok(parsed) = &s.result else { continue };
            for (id, p) in parsed.graph.iter() {
                let path: Vec<&str> = parsed
                    .graph
                    .path_to(id)
                    .iter()
                    .map(|i| parsed.graph.package(*i).name.as_str())
                    .collect();
                let mut obj = json!({
                    "ecosystem": p.ecosystem.as_str(),
                    "name": p.name,
                    "version": p.version,
                    "deployment": dep_path,
                    "source": src_path,
                    "format": s.source.format.name(),
                    "direct": p.direct,
                    "dev": p.dev,
                    "optional": p.optional,
                    "root": p.root,
                    "groups": p.groups,
                    "origin": p.source,
                    "path": path,
                });
                if let Some(map) = obj.as_object_mut() {
                    if let Some(r) = &p.requirement {
                        map.insert("requirement".into(), json!(r));
                    }
                    if let Some(l) = p.line {
                        map.insert("line".into(), json!(l));
                    }
                    if let Some(c) = &p.checksum {
                        map.insert("checksum".into(), json!(c));
                    }
                    if let Some(why) = &p.not_on_target {
                        map.insert("not_on_target".into(), json!(why));
                    }
                    if !p.notes.is_empty() {
                        let notes: serde_json::Map<String, Value> =
                            p.notes.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                        map.insert("notes".into(), Value::Object(notes));
                    }
                }
                packages.push(obj);
            }
        }
        let errors: Vec<Value> = d
            .diagnostics()
            .iter()
            .map(|e| {
                json!({"level": e.level, "path": relative_display(&d.deployment.scan_root, &e.path), "message": e.message})
            })
            .collect();
        deployments.push(json!({"path": dep_path, "sources": sources, "errors": errors}));
    }
    let errors: Vec<Value> = inv
        .diagnostics
        .iter()
        .map(|e| json!({"level": e.level, "path": e.path, "message": e.message}))
        .collect();
    json!({"packages": packages, "deployments": deployments, "errors": errors})
}

/// The inventory as a plain-text table, one block per deployment, then
/// one per function with the packages it loads.
pub fn to_table(inv: &Inventory, functions: &[super::functions::FunctionReport]) -> String {
    let mut out = deployments_table(inv);
    for f in functions {
        let _ = writeln!(
            out,
            "function {} ({} {}, {} {})",
            f.name,
            f.framework,
            f.template,
            f.runtime.as_deref().unwrap_or("runtime unknown"),
            f.architecture.as_deref().unwrap_or("architecture unknown")
        );
        for p in &f.packages {
            let mut flags = vec![p.origin.clone()];
            if !p.effective {
                flags.push("not loaded".into());
            }
            if let Some(s) = &p.shadowed_by {
                flags.push(format!("shadowed by {s}"));
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
                p.name,
                p.version.as_deref().unwrap_or("?"),
                flags.join(",")
            );
        }
    }
    out
}

fn deployments_table(inv: &Inventory) -> String {
    let mut out = String::new();
    for d in &inv.deployments {
        let _ = writeln!(out, "{}", d.deployment.display_path());
        for s in &d.sources {
            let src_path = relative_display(&d.deployment.scan_root, &s.source.path);
            match &s.result {
                Ok(parsed) => {
                    let _ = writeln!(
                        out,
                        "  {} ({}, {} packages)",
                        src_path,
                        s.source.format,
                        parsed.graph.len()
                    );
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
                        let version = p.version.clone().unwrap_or_else(|| {
                            format!(
                                "(unresolved{})",
                                p.requirement
                                    .as_ref()
                                    .map(|r| format!(" {r}"))
                                    .unwrap_or_default()
                            )
                        });
                        let _ = writeln!(out, "    {}@{}  {}", p.name, version, flags.join(","));
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "  {} ({}): error: {}", src_path, s.source.format, e);
                }
            }
        }
        for diag in d.deployment.diagnostics.iter() {
            let _ = writeln!(
                out,
                "  {:?}: {}: {}",
                diag.level,
                diag.path.display(),
                diag.message
            );
        }
    }
    out
}
