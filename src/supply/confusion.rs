//! Dependency confusion: private names that a public registry could serve.

use super::SupplyOptions;
use crate::policy::Policy;
use crate::report::model::Finding;
use crate::scan::ParsedDeployment;

/// Dependency-confusion findings of one deployment.
pub fn findings(
    _deployment: &ParsedDeployment,
    _policy: &Policy,
    _options: &SupplyOptions,
) -> Vec<Finding> {
    Vec::new()
}
