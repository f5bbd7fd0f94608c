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
use crate::diagnostic::{Diagnostic, Level};
use crate::parse::Arch;

/// True for the name of a Serverless Framework service file.
pub fn is_service_name(name: &str) -> bool {
    super::names::is_serverless_service(name)
}

/// True for a service file that is a program (`serverless.ts`, `.js`).
pub fn is_program_name(name: &str) -> bool {
    super::names::is_serverless_program(name)
}

/// The service a program service file describes, from the
/// `.serverless/serverless-state.json` that `serverless package` wrote
/// beside it (the resolved configuration, in the service file's shape);
/// `None` when there is none. Artifact paths of functions and layers there
/// are absolute paths of the machine that packaged: they are replaced by
/// the zip of the same name in `.serverless/`.
pub fn state_document(
    fs: &dyn crate::fs::Fs,
    service_file: &Path,
) -> Option<Result<Value, String>> {
    let state = service_file
        .parent()?
        .join(".serverless/serverless-state.json");
    if !fs.is_file(&state) {
        return None;
    }
    let parsed = fs
        .read_to_string(&state)
        .map_err(|e| e.to_string())
        .and_then(|t| {
            serde_json::from_str::<Value>(&t).map_err(|e| format!("not valid JSON: {e}"))
        });
    Some(parsed.map(|mut v| {
        let mut service = v.get_mut("service").map(Value::take).unwrap_or(Value::Null);
        for group in ["functions", "layers"] {
            let items = service.get_mut(group).and_then(Value::as_object_mut);
            for item in items.into_iter().flat_map(|m| m.values_mut()) {
                let Some(pkg) = item.get_mut("package").and_then(Value::as_object_mut) else {
                    continue;
                };
                let name = match pkg.get("artifact").and_then(Value::as_str) {
                    Some(a) if is_machine_path(a) => a.rsplit(['/', '\\']).next().unwrap_or(""),
                    _ => continue,
                };
                if !crate::zipfs::is_zip_name(name) {
                    continue;
                }
                let local = Value::String(format!(".serverless/{name}"));
                pkg.insert("artifact".into(), local);
            }
        }
        service
    }))
}

/// An absolute path of the machine that packaged (POSIX or Windows).
fn is_machine_path(p: &str) -> bool {
    let b = p.as_bytes();
    Path::new(p).is_absolute()
        || (b.len() > 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'/' | b'\\'))
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
    // A service-wide artifact stands for every function not packaged
    // individually.
    let service_artifact = doc
        .get("package")
        .and_then(|p| p.get("artifact"))
        .and_then(Value::as_str);
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
    // Layers only the compiled template knows: plugins add them
    // (`serverless-python-requirements` with `layer: true`), packaged as
    // `.serverless/<name>.zip`.
    let resources = compiled
        .as_ref()
        .and_then(|c| c.get("Resources"))
        .and_then(Value::as_object);
    for (logical, r) in resources.into_iter().flatten() {
        if r.get("Type").and_then(Value::as_str) != Some("AWS::Lambda::LayerVersion")
            || local_layers.contains(logical)
        {
            continue;
        }
        let props = r.get("Properties").unwrap_or(&Value::Null);
        let key = props
            .get("Content")
            .and_then(|c| c.get("S3Key"))
            .and_then(Value::as_str)
            .and_then(|k| k.rsplit('/').next())
            .filter(|k| crate::zipfs::is_zip_name(k));
        let content = match key.map(|k| dot.join(k)) {
            Some(z) if loc.fs.is_file(&z) => CodeLoc::Zip(z),
            _ => CodeLoc::S3(props.get("Content").map(expr).unwrap_or_default()),
        };
        let list = |k: &str| -> Vec<String> {
            props
                .get(k)
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
            id: logical.clone(),
            framework: Framework::Serverless,
            template: loc.template.to_path_buf(),
            line: 1,
            content,
            compatible_runtimes: list("CompatibleRuntimes"),
            compatible_architectures: list("CompatibleArchitectures")
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
        } else if let Some(a) = (pkg.get("artifact").and_then(Value::as_str))
            .or(service_artifact.filter(|_| !individually))
        {
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
