//! AWS CDK cloud assemblies (`cdk.out/`): each `<Stack>.template.json` is a
//! CloudFormation template whose functions and layers name their staged
//! code in the resource metadata (`aws:asset:path`, relative to the
//! assembly directory), or through `<Stack>.assets.json` (the asset whose
//! hash is the object key of `Code.S3Key`).

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::model::{CodeLoc, Framework, TemplateDefs};
use super::paths::Locator;
use super::sam::{self, AssetResolver};
use crate::diagnostic::{Diagnostic, Level};

/// True for a template of a cloud assembly: `*.template.json` in a
/// directory that holds the assembly's `manifest.json`.
pub fn is_assembly_template(fs: &dyn crate::fs::Fs, path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.ends_with(".template.json")
        && path
            .parent()
            .is_some_and(|d| fs.is_file(&d.join("manifest.json")))
}

struct Assets<'a> {
    loc: &'a Locator<'a>,
    /// Asset hash -> staged path (relative to the assembly directory).
    by_hash: HashMap<String, String>,
}

impl AssetResolver for Assets<'_> {
    fn asset(&self, _id: &str, resource: &Value) -> Option<CodeLoc> {
        let meta = resource.get("Metadata");
        if let Some(p) = meta
            .and_then(|m| m.get("aws:asset:path"))
            .and_then(Value::as_str)
        {
            return Some(self.loc.local(p));
        }
        let props = resource.get("Properties")?;
        let code = props.get("Code").or_else(|| props.get("Content"))?;
        let key = code.get("S3Key").and_then(Value::as_str)?;
        let hash = key.rsplit('/').next()?.split('.').next()?;
        self.by_hash.get(hash).map(|p| self.loc.local(p))
    }
}

/// Reads one template of a cloud assembly.
pub fn read(doc: &Value, text: &str, loc: &Locator<'_>) -> TemplateDefs {
    let mut diags = Vec::new();
    let by_hash = assets_manifest(loc, &mut diags);
    let assets = Assets { loc, by_hash };
    let mut defs = sam::read(doc, text, Framework::Cdk, loc, &assets);
    defs.diagnostics.extend(diags);
    defs
}

/// The file assets of `<Stack>.assets.json` beside the template.
fn assets_manifest(loc: &Locator<'_>, diags: &mut Vec<Diagnostic>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let name = loc
        .template
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(stack) = name.strip_suffix(".template.json") else {
        return out;
    };
    let path = loc.base.join(format!("{stack}.assets.json"));
    if !loc.fs.is_file(&path) {
        return out;
    }
    let parsed = loc
        .fs
        .read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()));
    match parsed {
        Ok(v) => {
            if let Some(files) = v.get("files").and_then(Value::as_object) {
                for (hash, f) in files {
                    if let Some(p) = f
                        .get("source")
                        .and_then(|s| s.get("path"))
                        .and_then(Value::as_str)
                    {
                        out.insert(hash.clone(), p.to_string());
                    }
                }
            }
        }
        Err(e) => diags.push(Diagnostic::new(
            Level::Warning,
            &path,
            format!("asset manifest not read ({e}); code found through the template metadata only"),
        )),
    }
    out
}
