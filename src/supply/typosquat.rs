//! Typosquat detection: names that imitate popular packages.

use crate::policy::Policy;
use crate::report::model::Finding;
use crate::scan::ParsedDeployment;

/// Typosquat findings of one deployment.
pub fn findings(_deployment: &ParsedDeployment, _policy: &Policy) -> Vec<Finding> {
    Vec::new()
}
