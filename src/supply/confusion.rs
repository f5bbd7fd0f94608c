//! Dependency confusion: private names that a public registry could serve.
//!
//! A package is internal when it was resolved from a non-public registry,
//! when its npm scope is mapped to a private registry, or when
//! `[registries] internal_scopes` / `internal_names` name it. For each
//! internal package the configuration the build uses (see
//! [`super::registry_config`]) and where the lockfile says it came from
//! decide the risk; whether the name is claimed on the public registry
//! comes from [`super::registry_lookup`].

use std::collections::BTreeMap;

use super::SupplyOptions;
use super::registry_config::{RegistryConfig, host_of, is_public};
use super::registry_lookup::{Claim, Lookup};
use crate::ecosystem::Ecosystem;
use crate::graph::{Package, PackageSource};
use crate::parse::ParsedSource;
use crate::policy::Policy;
use crate::report::model::{Finding, FindingKind};
use crate::scan::ParsedDeployment;

/// The public registries' hosts (mirrors of the public data count too).
const PUBLIC_HOSTS: &[&str] = &[
    "registry.npmjs.org",
    "registry.yarnpkg.com",
    "registry.npmjs.com",
    "pypi.org",
    "pypi.python.org",
    "files.pythonhosted.org",
    "github.com",
    "index.crates.io",
    "crates.io",
    "static.crates.io",
];

/// Risk levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Risk {
    Low,
    Medium,
    High,
}

impl Risk {
    fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// Why a package counts as internal.
#[derive(Debug, Clone)]
enum Internal {
    /// Resolved from this private registry host.
    ResolvedPrivate(String),
    /// Its scope is mapped to this private registry host.
    ScopeMapped(String),
    /// Named internal in depwarden.toml.
    Declared,
}

/// One candidate before the claim lookup.
struct Candidate<'a> {
    pkg: &'a Package,
    source: &'a crate::scan::SourceOutcome,
    parsed: &'a ParsedSource,
    id: crate::graph::PackageId,
    risk: Risk,
    reason: String,
    /// Whether the public claim of the name matters for the reason.
    needs_claim: bool,
}

/// Dependency-confusion findings of one deployment.
pub fn findings(
    deployment: &ParsedDeployment,
    policy: &Policy,
    options: &SupplyOptions,
) -> Vec<Finding> {
    let d = &deployment.deployment;
    let cfg = &deployment.registry;
    let mut lookup = Lookup::new(
        options.online,
        options.cache_path.clone(),
        &policy.registries.public,
    );
    if let Some(ms) = policy.registries.timeout_ms {
        lookup = lookup.with_timeout(std::time::Duration::from_millis(ms));
    }
    lookup = lookup.with_budget(options.lookup_budget.clone());
    let mut public: Vec<String> = PUBLIC_HOSTS.iter().map(|h| h.to_string()).collect();
    public.extend(lookup.base_hosts());
    let mut candidates = Vec::new();
    for s in &deployment.sources {
        let Ok(parsed) = &s.result else { continue };
        let extra_index = parsed
            .facts
            .indexes
            .iter()
            .any(|i| i.kind == "extra-index-url")
            || !cfg.pip_extra.is_empty();
        let mut seen = std::collections::HashSet::new();
        for (id, p) in parsed.graph.iter() {
            if p.root || !seen.insert((p.ecosystem, p.normalized_name())) {
                continue;
            }
            let Some(internal) = internal(p, cfg, policy, &public) else {
                continue;
            };
            if let Some((risk, reason, needs_claim)) =
                assess(p, &internal, cfg, &public, extra_index)
            {
                candidates.push(Candidate {
                    pkg: p,
                    source: s,
                    parsed,
                    id,
                    risk,
                    reason,
                    needs_claim,
                });
            }
        }
    }
    let names: Vec<(Ecosystem, String)> = candidates
        .iter()
        .filter(|c| c.needs_claim)
        .map(|c| (c.pkg.ecosystem, c.pkg.name.clone()))
        .collect();
    let claims = if names.is_empty() {
        BTreeMap::new()
    } else {
        lookup.claims(&names)
    };
    candidates
        .into_iter()
        .map(|c| {
            let mut reason = c.reason;
            if c.needs_claim {
                reason.push_str(&match Lookup::claim_of(&claims, c.pkg.ecosystem, &c.pkg.name) {
                    Claim::Claimed(date) => format!(
                        "; a public package of this name exists (checked {date}): a build that reaches the public registry can install it instead"
                    ),
                    Claim::Unclaimed(date) => format!(
                        "; the name is not claimed on the public registry (checked {date}): anyone can publish it there; claim it or pin the private registry"
                    ),
                    Claim::Unknown(why) => format!("; public registry claim {why}"),
                });
            }
            let p = c.pkg;
            let mut f = Finding::new(FindingKind::DependencyConfusion, p.ecosystem.as_str(), &p.name, p.version.clone());
            f.paths = vec![c.parsed.graph.path_names(c.id)];
            f.dev = p.dev;
            f.direct = p.direct;
            f.sources = vec![crate::discover::relative_display(&d.scan_root, &c.source.source.path)];
            f.line = p.line;
            f.risk = Some(c.risk.as_str().to_string());
            f.reason = Some(reason);
            f
        })
        .collect()
}

/// Why a package is internal, if it is.
fn internal(
    p: &Package,
    cfg: &RegistryConfig,
    policy: &Policy,
    public: &[String],
) -> Option<Internal> {
    if let PackageSource::Registry { url: Some(u) } = &p.source
        && u.contains("://")
        && !is_public(u, public)
    {
        return Some(Internal::ResolvedPrivate(host_of(u)));
    }
    let scope = scope_of(p);
    if let Some(s) = scope
        && let Some(url) = cfg.npm_scopes.get(s)
        && !is_public(url, public)
    {
        return Some(Internal::ScopeMapped(host_of(url)));
    }
    let r = &policy.registries;
    let declared = scope.is_some_and(|s| {
        r.internal_scopes
            .iter()
            .any(|x| x.trim_start_matches('@') == s.trim_start_matches('@'))
    }) || r.internal_names.iter().any(|g| glob(g, &p.name));
    declared.then_some(Internal::Declared)
}

/// The risk and reason for an internal package.
fn assess(
    p: &Package,
    internal: &Internal,
    cfg: &RegistryConfig,
    public: &[String],
    extra_index: bool,
) -> Option<(Risk, String, bool)> {
    let resolved_public = match &p.source {
        PackageSource::Registry { url: Some(u) } if u.contains("://") => {
            is_public(u, public).then(|| host_of(u))
        }
        _ => None,
    };
    let why = match internal {
        Internal::ResolvedPrivate(h) => format!(
            "{} is internal (resolved from the private registry {h})",
            p.name
        ),
        Internal::ScopeMapped(h) => format!(
            "{} is internal (its scope is mapped to the private registry {h})",
            p.name
        ),
        Internal::Declared => format!(
            "{} is internal (listed in [registries] of depwarden.toml)",
            p.name
        ),
    };
    if let Some(host) = resolved_public {
        return Some((
            Risk::High,
            format!(
                "{why} but the lockfile resolved it from the public registry {host}: the confusion may already have happened; check the installed package and pin the private registry"
            ),
            false,
        ));
    }
    match p.ecosystem {
        Ecosystem::Npm => match scope_of(p) {
            None => Some((
                Risk::High,
                format!(
                    "{why}; an unscoped npm name resolves from whichever registry the build is configured with"
                ),
                true,
            )),
            Some(s) => {
                let mapped = cfg.npm_scopes.get(s).is_some_and(|u| !is_public(u, public));
                let default_private = cfg
                    .npm_registry
                    .as_deref()
                    .is_some_and(|u| !is_public(u, public));
                (!mapped && !default_private).then(|| {
                        (
                            Risk::Medium,
                            format!("{why}, but scope {s} is not mapped to a private registry in the .npmrc/.yarnrc the build reads: without that mapping npm resolves it from the public registry"),
                            false,
                        )
                    })
            }
        },
        Ecosystem::PyPI => {
            if extra_index {
                return Some((
                    Risk::High,
                    format!(
                        "{why} and installed with --extra-index-url: pip takes the highest version from any index, public included"
                    ),
                    true,
                ));
            }
            if cfg.uv_index_strategy.as_deref() == Some("unsafe-best-match") {
                return Some((
                    Risk::Medium,
                    format!(
                        "{why} and uv uses index-strategy = \"unsafe-best-match\": the best version across all indexes wins, public included"
                    ),
                    false,
                ));
            }
            let mixing = cfg.poetry_sources.iter().find(|(_, url, prio)| {
                !is_public(url, public)
                    && matches!(prio.as_str(), "primary" | "default" | "supplemental")
            });
            mixing.map(|(name, _, prio)| {
                (
                    Risk::Medium,
                    format!("{why}; poetry source {name} has priority {prio} and PyPI is searched too: give private packages an explicit source (priority = \"explicit\")"),
                    false,
                )
            })
        }
        Ecosystem::CratesIo => match internal {
            Internal::ResolvedPrivate(h) => Some((
                Risk::Low,
                format!(
                    "{} comes from the alternative registry {h}; crates.io cannot serve it in its place unless the registry or a source replacement is misconfigured{}",
                    p.name,
                    if cfg.cargo_registries.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (.cargo/config.toml: {})",
                            cfg.cargo_registries
                                .iter()
                                .map(|(n, u)| format!("{n} = {u}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ),
                false,
            )),
            _ => None,
        },
    }
}

fn scope_of(p: &Package) -> Option<&str> {
    if p.ecosystem != Ecosystem::Npm {
        return None;
    }
    p.name
        .strip_prefix('@')
        .and_then(|_| p.name.split_once('/'))
        .map(|(s, _)| s)
}

/// `*` matches any run of characters; comparison is case-insensitive.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == n;
    }
    let mut rest = n.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("acme-*", "acme-billing"));
        assert!(glob("*-internal", "auth-internal"));
        assert!(glob("acme-*-lib", "acme-x-lib"));
        assert!(!glob("acme-*", "left-pad"));
        assert!(glob("Exact", "exact"));
    }
}
