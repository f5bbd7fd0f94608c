//! Serverless Framework services (`serverless.yml`, `.yaml`, `.json`):
//! `provider.runtime`/`architecture`/`layers` with per-function overrides
//! (a function's `layers` replaces the provider's), `package.individually`
//! and `package.artifact`, `layers:`, and what `serverless package` leaves
//! in `.serverless/`: the zips (`<function>.zip`, `<service>.zip`,
//! `<layer>.zip`) and the compiled template, whose resolved `Runtime`,
//! `Architectures`, `Handler` and `Layers` win over the service file's
//! (variables such as `${opt:stage}` are never evaluated here).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::cfn::{self, expr};
use super::model::{CodeLoc, Framework, FunctionDef, LayerDef, LayerRef, TemplateDefs, Val};
use super::paths::Locator;
use crate::parse::{Arch, Diagnostic, Level};

/// True for the name of a Serverless Framework service file.
pub fn is_service_name(name: &str) -> bool {
    matches!(
        name,
        "serverless.yml" | "serverless.yaml" | "serverless.json"
    )
}

/// The framework's logical-id stem of a function or layer key
/// (`my-fn_x` → `MyDashfnUnderscorex`).
pub fn normalized(key: &str) -> String {
    let replaced = key.replace('-', "Dash").replace('_', "Underscore");
    let mut chars = replaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A value from the service file: a string with `${...}` variables is an
/// expression the framework would evaluate.
fn str_val(v: Option<&Value>) -> Val<String> {
    match v {
        None | Some(Value::Null) => Val::Absent,
        Some(Value::String(s)) if s.contains("${") => Val::Unresolved(s.clone()),
        Some(Value::String(s)) => Val::Known(s.clone()),
        Some(other) => Val::Unresolved(expr(other)),
    }
}

fn arch_val(v: Val<String>) -> Val<Arch> {
    match v {
        Val::Absent => Val::Absent,
        Val::Known(s) => match Arch::parse(&s) {
            Some(a) => Val::Known(a),
            None => Val::Unresolved(s),
        },
        Val::Unresolved(e) => Val::Unresolved(e),
    }
}

/// Reads a service file.
pub fn read(doc: &Value, text: &str, loc: &Locator<'_>) -> TemplateDefs {
    let mut out = TemplateDefs::default();
    let service_dir = loc.base.clone();
    let dot = service_dir.join(".serverless");
    let compiled = compiled_template(loc, &dot, &mut out.diagnostics);
    let compiled_res = |logical: &str| {
        compiled
            .as_ref()
            .and_then(|c| c.get("Resources"))
            .and_then(|r| r.get(logical))
            .and_then(|r| r.get("Properties"))
            .cloned()
    };
    let service = match doc.get("service") {
        Some(Value::Object(o)) => str_val(o.get("name")),
        other => str_val(other),
    };
    let provider = doc.get("provider").cloned().unwrap_or(Value::Null);
    let individually_all = doc
        .get("package")
        .and_then(|p| p.get("individually"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let empty = serde_json::Map::new();

    // Layers first: functions refer to them by logical id.
    let layers_line = cfn::key_line(text, "layers", 1);
    let layer_map = doc
        .get("layers")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut local_layers = Vec::new();
    for (key, l) in layer_map {
        let logical = format!("{}LambdaLayer", normalized(key));
        let artifact = l
            .get("package")
            .and_then(|p| p.get("artifact"))
            .and_then(Value::as_str);
        let packaged = dot.join(format!("{key}.zip"));
        let content = if let Some(a) = artifact {
            loc.local(a)
        } else if loc.fs.is_file(&packaged) {
            CodeLoc::Zip(packaged)
        } else {
            match str_val(l.get("path")) {
                Val::Known(p) => loc.local(&p),
                Val::Unresolved(e) => CodeLoc::Unresolved(e),
                Val::Absent => CodeLoc::Missing,
            }
        };
        let strings = |k: &str| -> Vec<String> {
            l.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        local_layers.push(logical.clone());
        out.layers.push(LayerDef {
            id: logical,
            framework: Framework::Serverless,
            template: loc.template.to_path_buf(),
            line: cfn::key_line(text, key, layers_line),
            content,
            compatible_runtimes: strings("compatibleRuntimes"),
            compatible_architectures: strings("compatibleArchitectures")
                .iter()
                .filter_map(|a| Arch::parse(a))
                .collect(),
        });
    }
    let layer_ref = |v: &Value| -> LayerRef {
        match cfn::intrinsic(v) {
            Some(("Ref", Value::String(id))) if local_layers.contains(id) => {
                LayerRef::Local(id.clone())
            }
            _ => LayerRef::External(expr(v)),
        }
    };

    let functions_line = cfn::key_line(text, "functions", 1);
    let functions = doc
        .get("functions")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (key, f) in functions {
        let logical = format!("{}LambdaFunction", normalized(key));
        let resolved = compiled_res(&logical);
        let from_compiled = |k: &str| resolved.as_ref().and_then(|p| p.get(k)).cloned();
        let runtime = match from_compiled("Runtime") {
            Some(Value::String(s)) => Val::Known(s),
            _ => str_val(f.get("runtime")).or(str_val(provider.get("runtime"))),
        };
        let architecture = match from_compiled("Architectures") {
            Some(Value::Array(a)) if a.len() == 1 => arch_val(str_val(a.first())),
            _ => arch_val(str_val(f.get("architecture")).or(str_val(provider.get("architecture")))),
        };
        let handler = match from_compiled("Handler") {
            Some(Value::String(s)) => Val::Known(s),
            _ => str_val(f.get("handler")),
        };
        let image = f.get("image").is_some()
            || from_compiled("PackageType").and_then(|p| p.as_str().map(str::to_string))
                == Some("Image".into());
        let layers: Vec<LayerRef> = match from_compiled("Layers") {
            Some(Value::Array(items)) => items.iter().map(layer_ref).collect(),
            _ => {
                let list = f.get("layers").or_else(|| provider.get("layers"));
                match list {
                    Some(Value::Array(items)) => items.iter().map(layer_ref).collect(),
                    Some(Value::Null) | None => Vec::new(),
                    Some(other) => vec![LayerRef::External(expr(other))],
                }
            }
        };
        let pkg = f.get("package").unwrap_or(&Value::Null);
        let individually = pkg
            .get("individually")
            .and_then(Value::as_bool)
            .unwrap_or(individually_all);
        let code = if image {
            CodeLoc::Image(f.get("image").map(expr))
        } else if let Some(a) = pkg.get("artifact").and_then(Value::as_str) {
            if a.contains("${") {
                CodeLoc::Unresolved(a.to_string())
            } else {
                loc.local(a)
            }
        } else {
            let zip = if individually {
                Some(dot.join(format!("{key}.zip")))
            } else {
                service.known().map(|s| dot.join(format!("{s}.zip")))
            };
            match zip {
                Some(z) if loc.fs.is_file(&z) => CodeLoc::Zip(z),
                // Not packaged: the service directory is what would be.
                _ => CodeLoc::Dir(service_dir.clone()),
            }
        };
        out.functions.push(FunctionDef {
            name: key.clone(),
            framework: Framework::Serverless,
            template: loc.template.to_path_buf(),
            line: cfn::key_line(text, key, functions_line),
            image,
            runtime,
            architecture,
            handler,
            code,
            layers,
            source_dir: Some(service_dir.clone()),
            source_template: None,
            construct_path: None,
        });
    }
    out
}

/// The compiled template `serverless package` wrote, if any.
fn compiled_template(loc: &Locator<'_>, dot: &Path, diags: &mut Vec<Diagnostic>) -> Option<Value> {
    let path: PathBuf = dot.join("cloudformation-template-update-stack.json");
    if !loc.fs.is_file(&path) {
        return None;
    }
    match loc
        .fs
        .read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => Some(v),
        Err(e) => {
            diags.push(Diagnostic::new(
                Level::Warning,
                &path,
                format!("compiled template not read ({e}); values come from the service file"),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids() {
        assert_eq!(normalized("invoice"), "Invoice");
        assert_eq!(normalized("my-fn_x"), "MyDashfnUnderscorex");
    }
}
