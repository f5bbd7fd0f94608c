//! Supply-chain checks that need no advisory: typosquats (names that imitate
//! popular packages), packages the registry took down, and dependency
//! confusion (private names that a public registry could serve).
//!
//! Both run per deployment on its parsed graphs and return findings in the
//! report model; the audit stage applies ignores and the gate to them like
//! to any other finding.

pub mod confusion;
pub mod mirrors;
pub mod popular;
pub mod provenance;
pub mod registry_lookup;
pub mod registry_meta;
pub mod takedown;
pub mod typosquat;

use crate::policy::Policy;
use crate::report::model::Finding;
use crate::scan::ParsedDeployment;

/// What the supply-chain checks may use beyond the policy.
#[derive(Debug, Clone, Default)]
pub struct SupplyOptions {
    /// Look names up on the public registries (`scan --online`).
    pub online: bool,
    /// Where answers about public names are cached (in the database
    /// directory).
    pub cache_path: Option<std::path::PathBuf>,
    /// The time the registry lookups of the scan may take together.
    pub lookup_budget: std::sync::Arc<registry_lookup::Budget>,
}

/// Typosquat, takedown and dependency-confusion findings of one
/// deployment. `cache` is shared by the deployments of a scan.
pub fn deployment_findings(
    deployment: &ParsedDeployment,
    policy: &Policy,
    options: &SupplyOptions,
    cache: &typosquat::CheckCache,
) -> Vec<Finding> {
    let mut out = typosquat::findings(deployment, policy, options, cache);
    out.extend(confusion::findings(deployment, policy, options));
    out
}
