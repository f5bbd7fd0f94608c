//! The parts of a function in the `functions` list (DESIGN.md,
//! "Functions") that refer to nothing else of the report: its code,
//! layers, packages and sizes (re-exported by [`super::model`]).

use serde::Serialize;

/// Where a function's code is.
#[derive(Debug, Clone, Serialize)]
pub struct CodeReport {
    /// The deployed directory or zip (relative path), the S3 location, or
    /// the image; `null` when unknown.
    pub artifact: Option<String>,
    /// `dir`, `zip`, `s3`, `image`, `inline`, or `unknown`.
    pub kind: String,
    /// The deployments of this scan the code holds.
    pub deployments: Vec<String>,
    /// For a bundle: the lockfile its package versions come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_lockfile: Option<String>,
}

/// One layer of a function.
#[derive(Debug, Clone, Serialize)]
pub struct LayerReport {
    /// The layer's logical id / address, or the ARN as written.
    pub id: String,
    /// `local` or `external`.
    pub kind: String,
    /// The layer's directory or zip (relative path).
    pub artifact: Option<String>,
    /// True when its content was scanned.
    pub scanned: bool,
    /// The deployments of this scan it holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<String>,
}

/// One package of a function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionPackage {
    /// Ecosystem as OSV spells it.
    pub ecosystem: String,
    /// Name.
    pub name: String,
    /// Version (`null`: not pinned, or left to the runtime).
    pub version: Option<String>,
    /// `function`, `layer:<id>` or `runtime`.
    pub origin: String,
    /// Where it is, relative to the scanned root (the installed directory,
    /// the lockfile, or the bundle).
    pub location: String,
    /// True when this is the copy the function loads.
    pub effective: bool,
    /// The origin of the copy loaded instead, when another one is.
    pub shadowed_by: Option<String>,
    /// True when it lies in a directory the runtime never searches.
    pub not_on_path: bool,
    /// For bundled code: whether the bundle contains it (a lockfile
    /// package the bundle leaves out is listed with `false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundled: Option<bool>,
    /// `false` for a package a manifest in deployed code declares but that
    /// is not installed there (Lambda cannot load it); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<bool>,
    /// Why it is not installed on the function's target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_on_target: Option<String>,
}

/// A function's sizes, in bytes (apparent sizes: a zip's unzipped size is
/// the sum of its entries).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SizeReport {
    /// The code, unzipped.
    pub function_unzipped_bytes: Option<u64>,
    /// The code's zip; `null` when the code is a directory.
    pub function_zipped_bytes: Option<u64>,
    /// Each layer.
    pub layers: Vec<LayerSize>,
    /// Code and layers, unzipped.
    pub total_unzipped_bytes: u64,
    /// False when a part could not be measured (external layer, S3 code).
    pub complete: bool,
    /// Over 262,144,000 bytes unzipped.
    pub exceeds_unzipped_limit: bool,
    /// The code's zip is over 52,428,800 bytes (direct upload); `null`
    /// when the code is a directory.
    pub exceeds_zipped_direct_upload: Option<bool>,
}

/// One layer's size.
#[derive(Debug, Clone, Serialize)]
pub struct LayerSize {
    /// Layer id.
    pub id: String,
    /// Unzipped.
    pub unzipped_bytes: Option<u64>,
    /// Zipped; `null` for a directory.
    pub zipped_bytes: Option<u64>,
}
