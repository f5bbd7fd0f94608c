//! CloudFormation resources that define Lambda functions and layers, as
//! SAM templates (`template.yaml`, `.aws-sam/build/template.yaml`) and CDK
//! cloud assemblies write them: `AWS::Serverless::Function` with `Globals`
//! (SAM's merge rules: a function's value replaces a scalar and
//! `Architectures`, lists such as `Layers` are the global entries followed by
//! the function's), `AWS::Lambda::Function`, `AWS::Serverless::LayerVersion`
//! and `AWS::Lambda::LayerVersion`.

use std::path::Path;

use serde_json::Value;

use super::cfn::{self, expr, intrinsic};
use super::model::{CodeLoc, Framework, FunctionDef, LayerDef, LayerRef, TemplateDefs, Val};
use super::paths::Locator;
use crate::diagnostic::{Diagnostic, Level};
use crate::parse::Arch;

const SAM_FUNCTION: &str = "AWS::Serverless::Function";
const CFN_FUNCTION: &str = "AWS::Lambda::Function";
const SAM_LAYER: &str = "AWS::Serverless::LayerVersion";
const CFN_LAYER: &str = "AWS::Lambda::LayerVersion";

/// How the code of a resource is found besides its own properties: a CDK
/// assembly names the staged asset directory in the resource's metadata.
pub trait AssetResolver {
    /// The local asset standing for the resource's code or content, when
    /// the assembly names one.
    fn asset(&self, logical_id: &str, resource: &Value) -> Option<CodeLoc>;
}

/// No assets (SAM and plain CloudFormation).
pub struct NoAssets;

impl AssetResolver for NoAssets {
    fn asset(&self, _: &str, _: &Value) -> Option<CodeLoc> {
        None
    }
}

/// Reads the functions and layers of a parsed template.
pub fn read(
    doc: &Value,
    text: &str,
    framework: Framework,
    loc: &Locator<'_>,
    assets: &dyn AssetResolver,
) -> TemplateDefs {
    let mut out = TemplateDefs::default();
    let Some(resources) = doc.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    let resources_line = cfn::key_line(text, "Resources", 1);
    let globals = doc
        .get("Globals")
        .and_then(|g| g.get("Function"))
        .and_then(Value::as_object);
    let is_layer = |id: &str| {
        resources
            .get(id)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            .is_some_and(|t| t == SAM_LAYER || t == CFN_LAYER)
    };
    for (id, res) in resources {
        let Some(kind) = res.get("Type").and_then(Value::as_str) else {
            continue;
        };
        let line = cfn::key_line(text, id, resources_line);
        let empty = serde_json::Map::new();
        let props = res
            .get("Properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        match kind {
            SAM_FUNCTION | CFN_FUNCTION => {
                let sam = kind == SAM_FUNCTION;
                let image = props
                    .get("PackageType")
                    .or_else(|| globals.filter(|_| sam).and_then(|g| g.get("PackageType")))
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.eq_ignore_ascii_case("Image"))
                    || (sam && props.contains_key("ImageUri"));
                let get = |key: &str| -> Option<Value> {
                    let local = props.get(key).cloned();
                    // An image has no runtime, handler or layers: SAM
                    // refuses them, so the globals' do not apply.
                    let image_only = image && matches!(key, "Runtime" | "Handler" | "Layers");
                    let global = if sam && !image_only {
                        globals.and_then(|g| g.get(key)).cloned()
                    } else {
                        None
                    };
                    merge_global(key, global, local)
                };
                let code = if image {
                    let uri = get("ImageUri")
                        .or_else(|| props.get("Code").and_then(|c| c.get("ImageUri")).cloned());
                    CodeLoc::Image(uri.as_ref().map(expr))
                } else if let Some(asset) = assets.asset(id, res) {
                    asset
                } else if sam {
                    sam_code(get("CodeUri"), props.contains_key("InlineCode"), loc)
                } else {
                    cfn_code(props.get("Code"), loc)
                };
                let mut layers = Vec::new();
                match get("Layers") {
                    Some(Value::Array(items)) => {
                        for item in &items {
                            layers.push(layer_ref(item, &is_layer));
                        }
                    }
                    Some(other) if !other.is_null() => {
                        layers.push(LayerRef::External(expr(&other)))
                    }
                    _ => {}
                }
                let construct_path = res
                    .get("Metadata")
                    .and_then(|m| m.get("aws:cdk:path"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                out.functions.push(FunctionDef {
                    name: id.clone(),
                    framework,
                    template: loc.template.to_path_buf(),
                    line,
                    image,
                    runtime: string_val(get("Runtime")),
                    architecture: arch_val(get("Architectures"), &mut out.diagnostics, loc, id),
                    handler: string_val(get("Handler")),
                    code,
                    layers,
                    source_dir: None,
                    source_template: None,
                    construct_path,
                });
            }
            SAM_LAYER | CFN_LAYER => {
                let content = if let Some(asset) = assets.asset(id, res) {
                    asset
                } else if kind == SAM_LAYER {
                    sam_code(props.get("ContentUri").cloned(), false, loc)
                } else {
                    cfn_code(props.get("Content"), loc)
                };
                let mut diags = Vec::new();
                let archs = match props.get("CompatibleArchitectures") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .filter_map(|s| {
                            let parsed = Arch::parse(s);
                            if parsed.is_none() {
                                diags.push(Diagnostic::new(
                                    Level::Warning,
                                    loc.template,
                                    format!("{id}: CompatibleArchitectures entry {s:?} is not x86_64 or arm64; ignored"),
                                ));
                            }
                            parsed
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                out.diagnostics.extend(diags);
                out.layers.push(LayerDef {
                    id: id.clone(),
                    framework,
                    template: loc.template.to_path_buf(),
                    line,
                    content,
                    compatible_runtimes: match props.get("CompatibleRuntimes") {
                        Some(Value::Array(a)) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect(),
                        _ => Vec::new(),
                    },
                    compatible_architectures: archs,
                });
            }
            _ => {}
        }
    }
    out
}

/// SAM's `Globals` merge for one property: lists are the global entries
/// followed by the function's (except `Architectures`, which the
/// function's replaces); anything else given by the function replaces the
/// global value. An intrinsic on either side is a scalar.
fn merge_global(key: &str, global: Option<Value>, local: Option<Value>) -> Option<Value> {
    match (global, local) {
        (Some(Value::Array(mut g)), Some(Value::Array(l))) if key != "Architectures" => {
            g.extend(l);
            Some(Value::Array(g))
        }
        (g, None) => g,
        (_, l) => l,
    }
}

fn string_val(v: Option<Value>) -> Val<String> {
    match v {
        None | Some(Value::Null) => Val::Absent,
        Some(Value::String(s)) => Val::Known(s),
        Some(other) => Val::Unresolved(expr(&other)),
    }
}

fn arch_val(
    v: Option<Value>,
    diags: &mut Vec<Diagnostic>,
    loc: &Locator<'_>,
    id: &str,
) -> Val<Arch> {
    match v {
        None | Some(Value::Null) => Val::Absent,
        Some(Value::Array(items)) => match items.as_slice() {
            [] => Val::Absent,
            [Value::String(s)] => match Arch::parse(s) {
                Some(a) => Val::Known(a),
                None => {
                    diags.push(Diagnostic::new(
                        Level::Warning,
                        loc.template,
                        format!("{id}: architecture {s:?} is not x86_64 or arm64"),
                    ));
                    Val::Unresolved(s.clone())
                }
            },
            [one] => Val::Unresolved(expr(one)),
            _ => Val::Unresolved(expr(&Value::Array(items))),
        },
        Some(other) => Val::Unresolved(expr(&other)),
    }
}

fn layer_ref(item: &Value, is_layer: &dyn Fn(&str) -> bool) -> LayerRef {
    match intrinsic(item) {
        Some(("Ref", Value::String(id))) if is_layer(id) => LayerRef::Local(id.clone()),
        Some(("Fn::GetAtt", Value::Array(parts))) => match parts.first().and_then(Value::as_str) {
            Some(id) if is_layer(id) => LayerRef::Local(id.to_string()),
            _ => LayerRef::External(expr(item)),
        },
        _ => LayerRef::External(expr(item)),
    }
}

/// A SAM `CodeUri` / `ContentUri`: a local path, `s3://...`, or
/// `{Bucket, Key}`.
fn sam_code(uri: Option<Value>, inline: bool, loc: &Locator<'_>) -> CodeLoc {
    match uri {
        None | Some(Value::Null) if inline => CodeLoc::Inline,
        None | Some(Value::Null) => CodeLoc::Missing,
        Some(Value::String(s)) if s.starts_with("s3://") => CodeLoc::S3(s),
        Some(Value::String(s)) => loc.local(&s),
        Some(v) if intrinsic(&v).is_some() => CodeLoc::Unresolved(expr(&v)),
        Some(v) if v.get("Bucket").is_some() => CodeLoc::S3(s3_text(&v, "Bucket", "Key")),
        Some(v) => CodeLoc::Unresolved(expr(&v)),
    }
}

/// A CloudFormation `Code` / `Content`: `ZipFile`, `S3Bucket`+`S3Key`,
/// `ImageUri`, or a local path (a template before `aws cloudformation
/// package`).
fn cfn_code(code: Option<&Value>, loc: &Locator<'_>) -> CodeLoc {
    match code {
        None | Some(Value::Null) => CodeLoc::Missing,
        Some(Value::String(s)) if s.starts_with("s3://") => CodeLoc::S3(s.clone()),
        Some(Value::String(s)) => loc.local(s),
        Some(v) if v.get("ZipFile").is_some() => CodeLoc::Inline,
        Some(v) if v.get("ImageUri").is_some() => CodeLoc::Image(v.get("ImageUri").map(expr)),
        Some(v) if v.get("S3Bucket").is_some() => CodeLoc::S3(s3_text(v, "S3Bucket", "S3Key")),
        Some(v) => CodeLoc::Unresolved(expr(v)),
    }
}

fn s3_text(v: &Value, bucket: &str, key: &str) -> String {
    let part = |k: &str| v.get(k).map(expr).unwrap_or_default();
    format!("s3://{}/{}", part(bucket), part(key))
}

/// True for the name of a SAM template discovery reads.
pub fn is_template_name(name: &str) -> bool {
    super::names::is_sam_template(name)
}

/// True when `path` is the template `sam build` writes
/// (`<project>/.aws-sam/build/template.yaml`).
pub fn is_build_template(path: &Path) -> bool {
    let mut comps = path.components().rev();
    let _file = comps.next();
    let build = comps.next().map(|c| c.as_os_str() == "build");
    let aws_sam = comps.next().map(|c| c.as_os_str() == ".aws-sam");
    build == Some(true) && aws_sam == Some(true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fs::OsFs;

    #[test]
    fn globals_merge_as_sam_does() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        let text = r#"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Architectures: [arm64]
    Layers: [!Ref Shared]
Resources:
  Plain:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/, Handler: a.h}
  Own:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: a.h
      Runtime: python3.12
      Architectures: [x86_64]
      Layers: [!Ref Other, !Sub "arn:aws:lambda:${AWS::Region}:1:layer:x:1"]
  Picked:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: a.h
      Layers: !If [IsProd, [!Ref Other], []]
  Img:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image, ImageUri: repo:tag}
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: src/, CompatibleArchitectures: [arm64, sparc]}
  Other:
    Type: AWS::Lambda::LayerVersion
    Properties: {Content: {S3Bucket: b, S3Key: k.zip}}
"#;
        let doc = crate::functions::cfn::parse(text).unwrap();
        let tpl = root.join("template.yaml");
        let fs = OsFs::default();
        let loc = Locator::new(&fs, &root, &tpl);
        let defs = read(&doc, text, Framework::Sam, &loc, &NoAssets);
        let f = |n: &str| defs.functions.iter().find(|f| f.name == n).unwrap();
        assert_eq!(f("Plain").runtime, Val::Known("python3.11".into()));
        assert_eq!(f("Plain").architecture, Val::Known(Arch::Arm64));
        assert_eq!(f("Plain").layers, vec![LayerRef::Local("Shared".into())]);
        assert_eq!(f("Plain").code, CodeLoc::Dir(root.join("src")));
        assert_eq!(f("Plain").line, 9);
        // Scalars and Architectures replaced; Layers: global ones first.
        assert_eq!(f("Own").runtime, Val::Known("python3.12".into()));
        assert_eq!(f("Own").architecture, Val::Known(Arch::X86_64));
        assert_eq!(
            f("Own").layers,
            vec![
                LayerRef::Local("Shared".into()),
                LayerRef::Local("Other".into()),
                LayerRef::External("!Sub arn:aws:lambda:${AWS::Region}:1:layer:x:1".into()),
            ]
        );
        // An intrinsic list is a value of its own: not evaluated.
        assert_eq!(f("Picked").layers.len(), 1);
        assert!(matches!(&f("Picked").layers[0], LayerRef::External(e) if e.starts_with("!If")));
        // Images take no runtime or layers from the globals.
        assert!(f("Img").image);
        assert!(f("Img").runtime.is_absent());
        assert!(f("Img").layers.is_empty());
        assert_eq!(f("Img").code, CodeLoc::Image(Some("repo:tag".into())));
        let shared = defs.layers.iter().find(|l| l.id == "Shared").unwrap();
        assert_eq!(shared.compatible_architectures, vec![Arch::Arm64]);
        assert!(defs.diagnostics.iter().any(|d| d.message.contains("sparc")));
        let other = defs.layers.iter().find(|l| l.id == "Other").unwrap();
        assert_eq!(other.content, CodeLoc::S3("s3://b/k.zip".into()));
    }
}
