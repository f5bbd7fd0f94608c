//! Which registry each package came from, and which of those registries
//! are mirrors. A registry that serves public packages under their public
//! names (Artifactory, Nexus, CodeArtifact or Verdaccio proxying the
//! public registry) is a mirror, not a private registry: resolving through
//! it says nothing about a name being internal. Mirrors are named in
//! `[registries] mirrors`, or recognised because the deployment resolved a
//! name the public corpora know through them.

use crate::ecosystem::Ecosystem;
use crate::graph::{Package, PackageSource};
use crate::scan::ParsedDeployment;

use super::popular;
use crate::registry_config::{RegistryConfig, host_of};

/// How a package's registry is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The lockfile recorded where it was resolved (registry base URL).
    Resolved(String),
    /// Its npm scope is mapped to this registry (`@acme:registry=`).
    ScopeMapped(String),
    /// The default npm registry of the build's `.npmrc`/`.yarnrc`.
    Default(String),
}

impl Via {
    /// The registry base URL.
    pub fn base(&self) -> &str {
        match self {
            Via::Resolved(b) | Via::ScopeMapped(b) | Via::Default(b) => b,
        }
    }
}

/// The non-public registry a package came from, when the lockfile or the
/// registry configuration says (`None`: a public registry, or not
/// recorded). `public` holds the public hosts; they are compared before
/// anything is allocated, as nearly every package comes from them.
pub fn via(p: &Package, cfg: &RegistryConfig, public: &[String]) -> Option<Via> {
    if let PackageSource::Registry { url: Some(u) } = &p.source
        && u.contains("://")
    {
        return (!public_url(u, public))
            .then(|| Via::Resolved(registry_base(p.ecosystem, &p.name, u)));
    }
    if p.ecosystem != Ecosystem::Npm {
        return None;
    }
    let configured = match npm_scope(&p.name).and_then(|s| cfg.npm_scopes.get(s)) {
        Some(u) => (u, true),
        None => (cfg.npm_registry.as_ref()?, false),
    };
    match configured {
        (u, _) if public_url(u, public) => None,
        (u, true) => Some(Via::ScopeMapped(normalize(u))),
        (u, false) => Some(Via::Default(normalize(u))),
    }
}

/// True when the host of `url` is one of the `public` hosts (compared
/// without case, nothing allocated).
fn public_url(url: &str, public: &[String]) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = host_port.split(':').next().unwrap_or("");
    public.iter().any(|h| h.eq_ignore_ascii_case(host))
}

/// The npm scope of a name (`@acme`), if any.
pub fn npm_scope(name: &str) -> Option<&str> {
    name.strip_prefix('@')
        .and_then(|_| name.split_once('/'))
        .map(|(s, _)| s)
}

/// A registry URL without credentials, query, fragment or trailing
/// slash, scheme and host in lower case; the `registry+`/`sparse+` of a
/// Cargo source and the `/simple` of a PyPI index are kept.
pub fn normalize(url: &str) -> String {
    let url = url.trim();
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let path = path.trim_end_matches('/');
    let mut out = format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    );
    if !path.is_empty() {
        out.push('/');
        out.push_str(path);
    }
    out
}

/// A registry base as reasons show it: host and path, no scheme.
pub fn display(base: &str) -> String {
    let base = normalize(base);
    base.split_once("://")
        .map_or(base.clone(), |(_, r)| r.to_string())
}

/// The registry base of a resolved URL: for an npm tarball
/// (`<base>/<name>/-/<file>.tgz`, the name possibly `@scope%2fname`) the
/// part before the name, else the URL itself (a PyPI index, a Cargo
/// registry).
pub fn registry_base(eco: Ecosystem, name: &str, url: &str) -> String {
    let url = normalize(url);
    if eco == Ecosystem::Npm
        && let Some(cut) = url.find("/-/")
    {
        let before = &url[..cut];
        let lower = before.to_ascii_lowercase();
        let name = name.to_ascii_lowercase();
        for form in [name.clone(), name.replace('/', "%2f")] {
            if let Some(base) = lower.strip_suffix(&form)
                && let Some(base) = base.strip_suffix('/')
            {
                return before[..base.len()].to_string();
            }
        }
        return before
            .rsplit_once('/')
            .map_or(before, |(b, _)| b)
            .to_string();
    }
    url
}

/// The mirrors of one deployment.
#[derive(Debug, Default)]
pub struct Mirrors {
    /// Registry bases named in `[registries] mirrors` (normalised).
    named: Vec<String>,
    /// Registry bases that served a public name in this deployment.
    seen: Vec<String>,
}

impl Mirrors {
    /// The mirrors `[registries] mirrors` names and those the deployment
    /// shows: a non-public registry through which a name the public
    /// corpora know was resolved (names `declared` internal aside).
    pub fn of(
        deployment: &ParsedDeployment,
        cfg: &RegistryConfig,
        named: &[String],
        public: &[String],
        declared: impl Fn(&Package) -> bool,
    ) -> Mirrors {
        let mut seen: Vec<String> = Vec::new();
        for s in &deployment.sources {
            let Ok(parsed) = &s.result else { continue };
            for (_, p) in parsed.graph.iter() {
                if p.root || !p.source.is_registry_like() || declared(p) {
                    continue;
                }
                let Some(v) = via(p, cfg, public) else {
                    continue;
                };
                let base = v.base();
                if !seen.iter().any(|b| b == base)
                    && popular::is_known(p.ecosystem, &p.normalized_name())
                {
                    seen.push(base.to_string());
                }
            }
        }
        Mirrors {
            named: named.iter().map(|m| normalize(m)).collect(),
            seen,
        }
    }

    /// True when the registry at `base` is a mirror: named in the
    /// configuration (the base itself, a URL below it, or the same host
    /// when only a host is named) or seen serving public names.
    pub fn is_mirror(&self, base: &str) -> bool {
        let base = normalize(base);
        self.seen.contains(&base)
            || self.named.iter().any(|m| {
                let host_only = m.split_once("://").is_some_and(|(_, r)| !r.contains('/'));
                base == *m
                    || base.starts_with(&format!("{m}/"))
                    || (host_only && host_of(m) == host_of(&base))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_bases_of_resolved_urls() {
        let art = "https://acme.jfrog.io/artifactory/api/npm/npm-remote";
        for (name, url) in [
            ("lodash", format!("{art}/lodash/-/lodash-4.17.21.tgz")),
            (
                "@types/node",
                format!("{art}/@types/node/-/node-20.0.0.tgz"),
            ),
            (
                "@types/node",
                format!("{art}/@types%2fnode/-/node-20.0.0.tgz"),
            ),
        ] {
            assert_eq!(registry_base(Ecosystem::Npm, name, &url), art, "{url}");
        }
        assert_eq!(
            registry_base(
                Ecosystem::Npm,
                "x",
                "https://user:pw@Nexus.Acme.com:8081/repository/npm-all/x/-/x-1.0.0.tgz?token=1"
            ),
            "https://nexus.acme.com:8081/repository/npm-all"
        );
        assert_eq!(
            registry_base(Ecosystem::PyPI, "x", "https://pypi.acme.com/simple/"),
            "https://pypi.acme.com/simple"
        );
    }

    #[test]
    fn named_mirrors_match_below_and_by_host() {
        let m = Mirrors {
            named: vec![
                normalize("https://acme.jfrog.io/artifactory/api/npm/npm-virtual/"),
                normalize("https://nexus.acme.com"),
            ],
            seen: vec![],
        };
        assert!(m.is_mirror("https://acme.jfrog.io/artifactory/api/npm/npm-virtual"));
        assert!(!m.is_mirror("https://acme.jfrog.io/artifactory/api/npm/npm-private"));
        assert!(m.is_mirror("https://nexus.acme.com/repository/npm-group"));
        assert!(!m.is_mirror("https://npm.acme.internal"));
    }
}
