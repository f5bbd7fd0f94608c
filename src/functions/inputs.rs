//! What assembling the functions works from (the scan's deployments, the
//! runtime table, today, the default target) and what it hands on (the
//! deployments whose findings each function inherits).

use std::collections::BTreeSet;
use std::path::Path;

use super::layers::DeploymentPackages;
use super::runtime::RuntimeTable;
use crate::clock::Date;
use crate::diagnostic::Level;
use crate::fs::Fs;
use crate::parse::Target;
use crate::report::model::ErrorEntry;

/// One deployment of the scan, as the functions see it.
pub struct DeploymentRef<'a> {
    /// Its root.
    pub root: &'a Path,
    /// Its display path.
    pub display: &'a str,
    /// Its packages, when kept.
    pub packages: Option<&'a DeploymentPackages>,
}

/// What assembling needs besides the project.
pub struct Inputs<'a> {
    /// The scan's file system.
    pub fs: &'a dyn Fs,
    /// The deployments, by index.
    pub deployments: &'a [DeploymentRef<'a>],
    /// The runtime table.
    pub table: &'a RuntimeTable,
    /// Today.
    pub today: Date,
    /// The scan's target (for what templates leave unresolved).
    pub default_target: Target,
}

/// The packages a bundle holds, as (name, version).
pub type BundledSet = BTreeSet<(String, Option<String>)>;

/// Which deployment findings a function inherits.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// (deployment index, origin) of every deployment in its code and
    /// layers.
    pub deployments: Vec<(usize, String)>,
    /// For a bundle: the lockfile's deployment and the (name, version) of
    /// the packages the bundle holds; only their findings count.
    pub bundle: Option<(usize, BundledSet)>,
}

/// An error entry of a function.
pub fn err(level: Level, path: String, message: String) -> ErrorEntry {
    ErrorEntry {
        level,
        path,
        message,
    }
}
