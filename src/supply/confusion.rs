//! Dependency confusion: private names that a public registry could serve.
//!
//! A package is internal when `[registries] internal_scopes` /
//! `internal_names` name it, when it was resolved from a private registry,
//! or when its npm scope is mapped to one. A registry that also serves
//! public packages under their public names is a mirror, not a private
//! registry ([`super::mirrors`]): a package resolved through a mirror is
//! internal only when declared, or when the public registry does not have
//! it (asked with `--online`); offline, a name the public corpora know is
//! never internal, and an unknown one is reported at `low` with what
//! `--online` would check. For each internal package the configuration the
//! build uses (see [`crate::registry_config`]) and where the lockfile says
//! it came from decide the risk; whether the name is claimed on the public
//! registry comes from [`super::registry_lookup`].

use std::collections::BTreeMap;

use super::SupplyOptions;
use super::mirrors::{Mirrors, Via, display, npm_scope, via};
use super::registry_lookup::{Claim, Lookup};
use crate::ecosystem::Ecosystem;
use crate::registry_config::{RegistryConfig, host_of, is_public};
use crate::severity::Grade;

use crate::graph::{Package, PackageId, PackageSource};
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

/// Why a package counts as internal.
#[derive(Debug, Clone)]
enum Internal {
    /// Resolved from this private registry host.
    ResolvedPrivate(String),
    /// Its scope is mapped to this private registry host.
    ScopeMapped(String),
    /// Named internal in depwarden.toml.
    Declared,
    /// Resolved through this mirror (host) and unknown to the public
    /// corpora: internal if the public registry does not have it.
    ThroughMirror(String),
}

/// What the claim of the name on the public registry decides.
enum Needs {
    /// Nothing: the risk stands as it is.
    Nothing,
    /// The claim is added to the reason.
    Claim,
    /// A claimed name is a public package (no finding); an unclaimed one
    /// is high risk; an unknown claim is low.
    Verdict,
}

/// One candidate before the claim lookup.
struct Candidate<'a> {
    pkg: &'a Package,
    source: &'a crate::scan::SourceOutcome,
    parsed: &'a ParsedSource,
    id: PackageId,
    risk: Grade,
    reason: String,
    needs: Needs,
}

/// What the checks of one deployment know about its registries.
struct Context<'a> {
    cfg: &'a RegistryConfig,
    policy: &'a Policy,
    public: Vec<String>,
    mirrors: Mirrors,
}

/// Dependency-confusion findings of one deployment.
pub fn findings(
    deployment: &ParsedDeployment,
    policy: &Policy,
    options: &SupplyOptions,
) -> Vec<Finding> {
    let d = &deployment.deployment;
    let cfg = &deployment.registry;
    let mut lookup = Lookup::for_policy(policy, options);
    let mut public: Vec<String> = PUBLIC_HOSTS.iter().map(|h| h.to_string()).collect();
    public.extend(lookup.base_hosts());
    let mirrors = Mirrors::of(deployment, cfg, &policy.registries.mirrors, &public, |p| {
        declared(p, policy)
    });
    let cx = Context {
        cfg,
        policy,
        public,
        mirrors,
    };
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
        let mut vouched: Option<Vec<bool>> = None;
        for (id, p) in parsed.graph.iter() {
            if p.root || !seen.insert((p.ecosystem, p.normalized_name())) {
                continue;
            }
            let Some(internal) = internal(p, &cx) else {
                continue;
            };
            if matches!(internal, Internal::ThroughMirror(_))
                && vouched
                    .get_or_insert_with(|| {
                        super::provenance::brought_in_by_known(&parsed.graph, known_public)
                    })
                    .get(id.index())
                    .copied()
                    .unwrap_or(false)
            {
                continue;
            }
            if let Some((risk, reason, needs)) = assess(p, &internal, &cx, &lookup, extra_index) {
                candidates.push(Candidate {
                    pkg: p,
                    source: s,
                    parsed,
                    id,
                    risk,
                    reason,
                    needs,
                });
            }
        }
    }
    let names: Vec<(Ecosystem, String)> = candidates
        .iter()
        .filter(|c| !matches!(c.needs, Needs::Nothing))
        .map(|c| (c.pkg.ecosystem, c.pkg.name.clone()))
        .collect();
    let claims = if names.is_empty() {
        BTreeMap::new()
    } else {
        lookup.claims(&names)
    };
    candidates
        .into_iter()
        .filter_map(|c| {
            let mut reason = c.reason;
            let mut risk = c.risk;
            let claim = lookup.claim_of(&claims, c.pkg.ecosystem, &c.pkg.name);
            let public_base = lookup.public_base(c.pkg.ecosystem);
            match c.needs {
                Needs::Nothing => {}
                Needs::Claim => reason.push_str(&match claim {
                    Claim::Claimed(date) => format!(
                        "; a public package of this name exists (checked {date}): a build that reaches the public registry can install it instead"
                    ),
                    Claim::Unclaimed(date) => format!(
                        "; the name is not claimed on the public registry (checked {date}): anyone can publish it there; claim it or pin the private registry"
                    ),
                    Claim::NotChecked => "; public registry claim not checked (offline)".to_string(),
                    Claim::Unknown(why) => format!("; public registry claim {why}"),
                }),
                Needs::Verdict => match claim {
                    // A public package, served by the mirror like any other.
                    Claim::Claimed(_) => return None,
                    Claim::Unclaimed(date) => {
                        risk = Grade::High;
                        reason.push_str(&format!(
                            "; {public_base} has no package of this name (checked {date}): it is internal, and anyone who publishes the name there can have the mirror serve theirs; publish it under a scope you own, or give the private repository priority over the public upstream"
                        ));
                    }
                    Claim::NotChecked => reason.push_str(&format!(
                        "; scan --online checks whether {public_base} has it: if not, it is internal and anyone can claim the name there"
                    )),
                    Claim::Unknown(why) => reason.push_str(&format!(
                        "; whether {public_base} has it is not known ({why})"
                    )),
                },
            }
            let p = c.pkg;
            let mut f = Finding::new(FindingKind::DependencyConfusion, p.ecosystem, &p.name, p.version.clone());
            f.paths = vec![c.parsed.graph.path_names(c.id)];
            f.dev = p.dev;
            f.direct = p.direct;
            f.sources = vec![crate::discover::relative_display(&d.scan_root, &c.source.source.path)];
            f.line = p.line;
            f.risk = Some(risk);
            f.reason = Some(reason);
            Some(f)
        })
        .collect()
}

/// True when `[registries] internal_scopes` or `internal_names` name the
/// package.
fn declared(p: &Package, policy: &Policy) -> bool {
    let r = &policy.registries;
    let scope = scope_of(p);
    scope.is_some_and(|s| {
        r.internal_scopes
            .iter()
            .any(|x| x.trim_start_matches('@') == s.trim_start_matches('@'))
    }) || r.internal_names.iter().any(|g| glob(g, &p.name))
}

/// True when the public corpora say the name is public: a known name, a
/// name in an npm scope that public packages use (so owned there), or a
/// member of a family of public names (`mypy-boto3-*`).
fn known_public(p: &Package) -> bool {
    let name = p.normalized_name();
    super::popular::is_known(p.ecosystem, &name)
        || scope_of(p).is_some_and(super::popular::public_scope)
        || super::popular::family_prefixes(p.ecosystem, &name)
            .iter()
            .any(Option::is_some)
}

/// Why a package is internal, if it is.
fn internal(p: &Package, cx: &Context) -> Option<Internal> {
    let private = |b: &str| !is_public(b, &cx.public) && !cx.mirrors.is_mirror(b);
    let from = via(p, cx.cfg, &cx.public);
    // The scope's mapping counts even when the lockfile says where the
    // package came from: that it came from elsewhere is the finding.
    let mapped = scope_of(p)
        .and_then(|s| cx.cfg.npm_scopes.get(s))
        .map(|u| super::mirrors::normalize(u))
        .filter(|u| private(u));
    if declared(p, cx.policy) {
        return Some(match (from, mapped) {
            (Some(Via::Resolved(b) | Via::Default(b)), _) if private(&b) => {
                Internal::ResolvedPrivate(display(&b))
            }
            (_, Some(m)) => Internal::ScopeMapped(display(&m)),
            _ => Internal::Declared,
        });
    }
    if (from.is_none() && mapped.is_none()) || known_public(p) {
        // Offline, a name the public corpora know is never internal.
        return None;
    }
    match (from, mapped) {
        // Mapped to a private registry, yet resolved through a mirror.
        (Some(Via::Resolved(b)), Some(m)) if cx.mirrors.is_mirror(&b) => {
            Some(Internal::ScopeMapped(display(&m)))
        }
        (Some(v), _) if cx.mirrors.is_mirror(v.base()) => {
            Some(Internal::ThroughMirror(display(v.base())))
        }
        (Some(Via::ScopeMapped(b)), _) => Some(Internal::ScopeMapped(display(&b))),
        (Some(Via::Resolved(b) | Via::Default(b)), _) => {
            Some(Internal::ResolvedPrivate(display(&b)))
        }
        (None, Some(m)) => Some(Internal::ScopeMapped(display(&m))),
        (None, None) => None,
    }
}

/// The risk and reason for an internal package, and what the public
/// claim of its name decides.
fn assess(
    p: &Package,
    internal: &Internal,
    cx: &Context,
    lookup: &Lookup,
    extra_index: bool,
) -> Option<(Grade, String, Needs)> {
    let (cfg, public) = (cx.cfg, &cx.public);
    // A private registry, as opposed to a public one or a mirror.
    let private = |u: &str| !is_public(u, public) && !cx.mirrors.is_mirror(u);
    // Resolved from the public registry, or (for a scope mapped to a
    // private registry) through a mirror of it.
    let resolved_elsewhere = match &p.source {
        PackageSource::Registry { url: Some(u) } if u.contains("://") => {
            if is_public(u, public) {
                Some(format!("the public registry {}", host_of(u)))
            } else if matches!(internal, Internal::ScopeMapped(_))
                && cx
                    .mirrors
                    .is_mirror(&super::mirrors::registry_base(p.ecosystem, &p.name, u))
            {
                Some(format!(
                    "{}, a registry that also serves public packages",
                    display(&super::mirrors::registry_base(p.ecosystem, &p.name, u))
                ))
            } else {
                None
            }
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
        Internal::ThroughMirror(h) => {
            let public_base = lookup.public_base(p.ecosystem);
            return Some((
                Grade::Low,
                format!(
                    "{} was resolved through {h}, a registry that also serves public packages (a mirror), and is not among the public packages depwarden knows offline; if it is internal, its name can be claimed on {public_base}",
                    p.name
                ),
                Needs::Verdict,
            ));
        }
    };
    if let Some(place) = resolved_elsewhere {
        return Some((
            Grade::High,
            format!(
                "{why} but the lockfile resolved it from {place}: the confusion may already have happened; check the installed package and pin the private registry"
            ),
            Needs::Nothing,
        ));
    }
    match p.ecosystem {
        Ecosystem::Npm => match scope_of(p) {
            None => Some((
                Grade::High,
                format!(
                    "{why}; an unscoped npm name resolves from whichever registry the build is configured with"
                ),
                Needs::Claim,
            )),
            Some(s) => {
                let mapped = cfg.npm_scopes.get(s).is_some_and(|u| private(u));
                let default_private = cfg.npm_registry.as_deref().is_some_and(private);
                if mapped || default_private {
                    return None;
                }
                let through = cfg
                    .npm_scopes
                    .get(s)
                    .or(cfg.npm_registry.as_ref())
                    .filter(|u| cx.mirrors.is_mirror(u));
                Some((
                    Grade::Medium,
                    match through {
                        Some(u) => format!(
                            "{why}, but scope {s} resolves through {}, which also serves public packages: unless you own {s} on the public registry or the private repository has priority over the public upstream, a public {s} package can be served in its place",
                            display(u)
                        ),
                        None => format!(
                            "{why}, but scope {s} is not mapped to a private registry in the .npmrc/.yarnrc the build reads: without that mapping npm resolves it from the public registry"
                        ),
                    },
                    Needs::Nothing,
                ))
            }
        },
        Ecosystem::PyPI => {
            if extra_index {
                return Some((
                    Grade::High,
                    format!(
                        "{why} and installed with --extra-index-url: pip takes the highest version from any index, public included"
                    ),
                    Needs::Claim,
                ));
            }
            if cfg.uv_index_strategy.as_deref() == Some("unsafe-best-match") {
                return Some((
                    Grade::Medium,
                    format!(
                        "{why} and uv uses index-strategy = \"unsafe-best-match\": the best version across all indexes wins, public included"
                    ),
                    Needs::Nothing,
                ));
            }
            let mixing = cfg.poetry_sources.iter().find(|(_, url, prio)| {
                !is_public(url, public)
                    && matches!(prio.as_str(), "primary" | "default" | "supplemental")
            });
            mixing.map(|(name, _, prio)| {
                (
                    Grade::Medium,
                    format!("{why}; poetry source {name} has priority {prio} and PyPI is searched too: give private packages an explicit source (priority = \"explicit\")"),
                    Needs::Nothing,
                )
            })
        }
        Ecosystem::CratesIo => match internal {
            Internal::ResolvedPrivate(h) => Some((
                Grade::Low,
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
                Needs::Nothing,
            )),
            _ => None,
        },
    }
}

fn scope_of(p: &Package) -> Option<&str> {
    if p.ecosystem != Ecosystem::Npm {
        return None;
    }
    npm_scope(&p.name)
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
