//! What the infrastructure files say, before anything is scanned: function
//! and layer definitions with their code locations, each value either
//! known or kept as the expression that would need evaluation.

use std::path::PathBuf;

use serde::Serialize;

use crate::parse::Arch;

/// The tool whose files define a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// AWS SAM (or a plain CloudFormation template found as `template.yaml`).
    Sam,
    /// Serverless Framework (`serverless.yml`).
    Serverless,
    /// An AWS CDK cloud assembly (`cdk.out`).
    Cdk,
    /// Terraform (`*.tf`).
    Terraform,
}

impl Framework {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Sam => "sam",
            Framework::Serverless => "serverless",
            Framework::Cdk => "cdk",
            Framework::Terraform => "terraform",
        }
    }
}

/// A value from a template: known, or an expression that needs evaluation
/// (`!Ref Stage`, `${opt:stage}`, `var.runtime`), kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val<T> {
    /// Not given.
    Absent,
    /// Given and known.
    Known(T),
    /// Given as an expression that is not evaluated.
    Unresolved(String),
}

impl<T> Val<T> {
    /// The known value, if any.
    pub fn known(&self) -> Option<&T> {
        match self {
            Val::Known(v) => Some(v),
            _ => None,
        }
    }

    /// The expression, when unresolved.
    pub fn unresolved(&self) -> Option<&str> {
        match self {
            Val::Unresolved(e) => Some(e),
            _ => None,
        }
    }

    /// True when not given.
    pub fn is_absent(&self) -> bool {
        matches!(self, Val::Absent)
    }

    /// This value, or `other` when absent.
    pub fn or(self, other: Val<T>) -> Val<T> {
        match self {
            Val::Absent => other,
            v => v,
        }
    }
}

/// Where a function's code or a layer's content is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeLoc {
    /// A local directory (absolute path, inside the scanned root).
    Dir(PathBuf),
    /// A local `.zip` file (absolute path, inside the scanned root).
    Zip(PathBuf),
    /// An object in S3 that no local file stands for.
    S3(String),
    /// Source written inside the template (`ZipFile`, `InlineCode`).
    Inline,
    /// A container image (`PackageType: Image`).
    Image(Option<String>),
    /// A local path named by the template that cannot be read: it leaves
    /// the scanned root, or does not exist. The message says which.
    Unreadable {
        /// The path as written.
        written: String,
        /// Why it is not read.
        why: String,
    },
    /// An expression that needs evaluation.
    Unresolved(String),
    /// Nothing says where the code is.
    Missing,
}

/// A layer as a function lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerRef {
    /// A layer defined in the same template / project (its id).
    Local(String),
    /// An ARN (or an expression that gives one) that no local file stands
    /// for.
    External(String),
}

/// A function as its template defines it.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    /// Logical id, Serverless function key, or Terraform address.
    pub name: String,
    /// The framework.
    pub framework: Framework,
    /// The template file.
    pub template: PathBuf,
    /// 1-based line of the definition in the template.
    pub line: u32,
    /// True for `PackageType: Image`.
    pub image: bool,
    /// The runtime identifier (`python3.12`).
    pub runtime: Val<String>,
    /// The architecture (absent: Lambda's default, x86_64).
    pub architecture: Val<Arch>,
    /// The handler.
    pub handler: Val<String>,
    /// The code.
    pub code: CodeLoc,
    /// Layers in the order the function lists them.
    pub layers: Vec<LayerRef>,
    /// For a built function (SAM `.aws-sam/build`), the source directory
    /// its code was built from, when the source template says so.
    pub source_dir: Option<PathBuf>,
    /// For a built function, the source template and line defining it.
    pub source_template: Option<(PathBuf, u32)>,
    /// CDK construct path (`Stack/Fn/Resource`), when known.
    pub construct_path: Option<String>,
}

/// A layer as its template defines it.
#[derive(Debug, Clone)]
pub struct LayerDef {
    /// Logical id, Serverless layer logical id, or Terraform address.
    pub id: String,
    /// The framework.
    pub framework: Framework,
    /// The template file.
    pub template: PathBuf,
    /// 1-based line of the definition.
    pub line: u32,
    /// Its content.
    pub content: CodeLoc,
    /// `CompatibleRuntimes` (empty: not declared).
    pub compatible_runtimes: Vec<String>,
    /// `CompatibleArchitectures` (empty: not declared).
    pub compatible_architectures: Vec<Arch>,
}

/// Everything one infrastructure file (or one Terraform directory) defines.
#[derive(Debug, Clone, Default)]
pub struct TemplateDefs {
    /// Functions.
    pub functions: Vec<FunctionDef>,
    /// Layers.
    pub layers: Vec<LayerDef>,
    /// Problems: unreadable values, paths that leave the root.
    pub diagnostics: Vec<crate::diagnostic::Diagnostic>,
}
