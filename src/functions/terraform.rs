//! Terraform: `aws_lambda_function` and `aws_lambda_layer_version`
//! resources of one module directory (all its `*.tf` files), with their
//! code from a local `filename` — a path, `${path.module}/...`, or a
//! `data.archive_file` whose `output_path` (when built) or `source_dir`
//! stands for it. Plain attribute values only: variables, locals and
//! function calls are reported unresolved, never evaluated.

use std::path::{Path, PathBuf};

use super::hcl::{self, Block, Expr};
use super::model::{CodeLoc, Framework, FunctionDef, LayerDef, LayerRef, TemplateDefs, Val};
use super::paths::Locator;
use crate::diagnostic::{Diagnostic, Level};
use crate::parse::Arch;

/// One parsed `.tf` file.
pub struct TfFile {
    /// The file.
    pub path: PathBuf,
    /// Its blocks.
    pub blocks: Vec<Block>,
}

/// Parses one `.tf` file; an error names the line.
pub fn parse_file(path: &Path, text: &str) -> Result<TfFile, String> {
    Ok(TfFile {
        path: path.to_path_buf(),
        blocks: hcl::parse(text)?.blocks,
    })
}

fn render(e: &Expr) -> String {
    match e {
        Expr::Str(s) => format!("\"{s}\""),
        Expr::Ref(r) | Expr::Other(r) => r.clone(),
        Expr::List(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A string with only `${path.module}` / `${path.root}` in it, those
/// replaced by the module directory; anything else unresolved.
fn path_text(e: Option<&Expr>) -> Val<String> {
    match e {
        None => Val::Absent,
        Some(Expr::Str(s)) => {
            let replaced = s
                .replace("${path.module}", ".")
                .replace("${path.root}", ".")
                .replace("${path.cwd}", ".");
            if replaced.contains("${") {
                Val::Unresolved(format!("\"{s}\""))
            } else {
                Val::Known(replaced)
            }
        }
        Some(other) => Val::Unresolved(render(other)),
    }
}

fn string(e: Option<&Expr>) -> Val<String> {
    match e {
        None => Val::Absent,
        Some(Expr::Str(s)) if !s.contains("${") => Val::Known(s.clone()),
        Some(other) => Val::Unresolved(render(other)),
    }
}

fn strings(e: Option<&Expr>) -> Vec<String> {
    match e {
        Some(Expr::List(items)) => items
            .iter()
            .filter_map(|i| match i {
                Expr::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads the functions and layers of one module directory.
pub fn read(files: &[TfFile], loc: &Locator<'_>) -> TemplateDefs {
    let mut out = TemplateDefs::default();
    let resources: Vec<(&TfFile, &Block)> = files
        .iter()
        .flat_map(|f| f.blocks.iter().map(move |b| (f, b)))
        .collect();
    let find = |kind: &str, rtype: &str, name: &str| {
        resources.iter().find(|(_, b)| {
            b.kind == kind
                && b.labels.first().map(String::as_str) == Some(rtype)
                && b.labels.get(1).map(String::as_str) == Some(name)
        })
    };
    // `filename` / `data.archive_file.x.output_path`: the built zip when it
    // is there, else the directory it is built from.
    let code_of = |b: &Block, file: &Path, diags: &mut Vec<Diagnostic>| -> CodeLoc {
        let l = loc_for(loc, file);
        if let Some(Expr::Ref(r)) = b.body.get("filename") {
            let parts: Vec<&str> = r.split('.').collect();
            if let ["data", "archive_file", name, _attr] = parts.as_slice() {
                let Some((afile, archive)) = find("data", "archive_file", name) else {
                    return CodeLoc::Unresolved(r.clone());
                };
                let al = loc_for(loc, &afile.path);
                if let Val::Known(p) = path_text(archive.body.get("output_path"))
                    && let CodeLoc::Zip(z) = al.local(&p)
                {
                    return CodeLoc::Zip(z);
                }
                return match path_text(archive.body.get("source_dir")) {
                    Val::Known(d) => al.local(&d),
                    Val::Unresolved(e) => CodeLoc::Unresolved(e),
                    Val::Absent => {
                        diags.push(Diagnostic::new(
                            Level::Warning,
                            &afile.path,
                            format!(
                                "data.archive_file.{name}: no source_dir and no built output_path; the code it zips is not scanned"
                            ),
                        ));
                        CodeLoc::Unresolved(r.clone())
                    }
                };
            }
            return CodeLoc::Unresolved(r.clone());
        }
        match path_text(b.body.get("filename")) {
            Val::Known(p) => l.local(&p),
            Val::Unresolved(e) => CodeLoc::Unresolved(e),
            Val::Absent => match (b.body.get("s3_bucket"), b.body.get("image_uri")) {
                (_, Some(img)) => CodeLoc::Image(Some(render(img))),
                (Some(bucket), _) => CodeLoc::S3(format!(
                    "s3://{}/{}",
                    render(bucket),
                    b.body.get("s3_key").map(render).unwrap_or_default()
                )),
                _ => CodeLoc::Missing,
            },
        }
    };
    for (file, b) in &resources {
        if b.kind != "resource" {
            continue;
        }
        let (Some(rtype), Some(name)) = (b.labels.first(), b.labels.get(1)) else {
            continue;
        };
        let address = format!("{rtype}.{name}");
        match rtype.as_str() {
            "aws_lambda_function" => {
                let image =
                    matches!(string(b.body.get("package_type")), Val::Known(ref p) if p == "Image");
                let code = if image {
                    CodeLoc::Image(b.body.get("image_uri").map(render))
                } else {
                    code_of(b, &file.path, &mut out.diagnostics)
                };
                let architecture = match b.body.get("architectures") {
                    None => Val::Absent,
                    Some(Expr::List(items)) => match items.as_slice() {
                        [Expr::Str(s)] => Arch::parse(s)
                            .map(Val::Known)
                            .unwrap_or_else(|| Val::Unresolved(s.clone())),
                        [] => Val::Absent,
                        _ => Val::Unresolved(render(&Expr::List(items.clone()))),
                    },
                    Some(other) => Val::Unresolved(render(other)),
                };
                let layers = match b.body.get("layers") {
                    None => Vec::new(),
                    Some(Expr::List(items)) => items.iter().map(layer_ref).collect(),
                    Some(other) => vec![LayerRef::External(render(other))],
                };
                out.functions.push(FunctionDef {
                    name: address,
                    framework: Framework::Terraform,
                    template: file.path.clone(),
                    line: b.line,
                    image,
                    runtime: string(b.body.get("runtime")),
                    architecture,
                    handler: string(b.body.get("handler")),
                    code,
                    layers,
                    source_dir: None,
                    source_template: None,
                    construct_path: None,
                });
            }
            "aws_lambda_layer_version" => {
                let content = code_of(b, &file.path, &mut out.diagnostics);
                out.layers.push(LayerDef {
                    id: address,
                    framework: Framework::Terraform,
                    template: file.path.clone(),
                    line: b.line,
                    content,
                    compatible_runtimes: strings(b.body.get("compatible_runtimes")),
                    compatible_architectures: strings(b.body.get("compatible_architectures"))
                        .iter()
                        .filter_map(|a| Arch::parse(a))
                        .collect(),
                });
            }
            _ => {}
        }
    }
    out
}

/// A layer entry: `aws_lambda_layer_version.x.arn` is a local layer, a
/// literal ARN or anything else is external.
fn layer_ref(e: &Expr) -> LayerRef {
    match e {
        Expr::Ref(r) => {
            let parts: Vec<&str> = r.split('.').collect();
            match parts.as_slice() {
                ["aws_lambda_layer_version", name, ..] => {
                    LayerRef::Local(format!("aws_lambda_layer_version.{name}"))
                }
                _ => LayerRef::External(r.clone()),
            }
        }
        Expr::Str(s) => LayerRef::External(s.clone()),
        other => LayerRef::External(render(other)),
    }
}

fn loc_for<'a>(loc: &Locator<'a>, file: &Path) -> Locator<'a> {
    loc.with_base(file.parent().map(Path::to_path_buf).unwrap_or_default())
}
