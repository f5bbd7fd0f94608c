//! What the public registries say about names, answered from a cache kept
//! in the database directory (`registry-names.json`, with the date each
//! answer was learnt) and, with `scan --online`, by asking them
//! ([`super::registry_meta`]). Answers are keyed by the registry asked,
//! the ecosystem and the normalised name, so an answer from one registry
//! is never taken for another's. Base URLs are configurable
//! (`[registries] public`), lookups run with a timeout (at most
//! [`MAX_LOOKUP_TIMEOUT`]) and bounded concurrency, all the lookups of a scan
//! share a time [`Budget`], answers are cached with a TTL, and messages
//! name URLs with their credentials masked. The dependency-confusion
//! check asks whether internal names are claimed; the typosquat check asks
//! for the evidence (age, versions, downloads, takedown) of the names it
//! flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::registry_meta::{self, Endpoints, Metadata};
use crate::ecosystem::Ecosystem;
use crate::limits::MAX_LOOKUP_TIMEOUT;
use crate::redact::redact_url;

/// Cached answers older than this are asked again when online.
pub const TTL_DAYS: i64 = 7;
/// Parallel lookups at most.
pub const MAX_CONCURRENT: usize = 8;
/// The npm registry; its downloads API is asked only when the npm base is
/// this one (or `[registries] public` names one as `npm-downloads`).
const NPM_REGISTRY: &str = "https://registry.npmjs.org";
const NPM_DOWNLOADS: &str = "https://api.npmjs.org/downloads";
/// The timeout of one lookup unless configured (`[registries] timeout_ms`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The time all the lookups of one scan may take together.
pub const SCAN_BUDGET: Duration = Duration::from_secs(60);

/// The time left for the registry lookups of one scan, shared by its
/// deployments: once spent, names are left "not checked" instead of
/// waiting on a registry that does not answer.
#[derive(Debug)]
pub struct Budget {
    limit: Duration,
    spent_ms: std::sync::atomic::AtomicU64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(SCAN_BUDGET)
    }
}

impl Budget {
    /// A budget of `limit`.
    pub fn new(limit: Duration) -> Budget {
        Budget {
            limit,
            spent_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// What is left.
    pub fn remaining(&self) -> Duration {
        let spent = self.spent_ms.load(std::sync::atomic::Ordering::Relaxed);
        self.limit.saturating_sub(Duration::from_millis(spent))
    }

    /// Records time spent on lookups.
    pub fn spend(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.spent_ms
            .fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

/// What is known about a public name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// A public package of that name exists (learnt on the given date).
    Claimed(String),
    /// No public package has that name (learnt on the given date).
    Unclaimed(String),
    /// Not asked: offline, with no cached answer.
    NotChecked,
    /// The lookup failed (the text says how).
    Unknown(String),
}

/// The registry's answer about one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// What the registry said, and the date it said it.
    Known(Metadata, String),
    /// Not asked: offline, with no cached answer.
    NotChecked,
    /// The lookup failed (the text says how).
    Unknown(String),
}

impl Answer {
    /// The claim this answer makes.
    pub fn claim(&self) -> Claim {
        match self {
            Answer::Known(m, date) if m.exists => Claim::Claimed(date.clone()),
            Answer::Known(_, date) => Claim::Unclaimed(date.clone()),
            Answer::NotChecked => Claim::NotChecked,
            Answer::Unknown(why) => Claim::Unknown(why.clone()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    date: String,
    #[serde(flatten)]
    meta: Metadata,
    /// Download figures were asked for (npm).
    #[serde(default)]
    evidence: bool,
}

/// Public registry lookups with their cache.
#[derive(Debug)]
pub struct Lookup {
    online: bool,
    cache_path: Option<PathBuf>,
    cache: BTreeMap<String, CacheEntry>,
    endpoints: BTreeMap<Ecosystem, Endpoints>,
    timeout: Duration,
    budget: std::sync::Arc<Budget>,
}

impl Lookup {
    /// A lookup reading (and, online, writing) the cache at `cache_path`.
    /// `public` overrides the base URLs (keys `npm`, `pypi`, `crates`, and
    /// `npm-downloads` for the npm downloads API).
    pub fn new(
        online: bool,
        cache_path: Option<PathBuf>,
        public: &BTreeMap<String, String>,
    ) -> Lookup {
        let cache = cache_path.as_deref().map(read_cache).unwrap_or_default();
        let base = |k: &str, default: &str| {
            public
                .get(k)
                .map_or(default, String::as_str)
                .trim_end_matches('/')
                .to_string()
        };
        let npm = base("npm", NPM_REGISTRY);
        let npm_downloads = public
            .get("npm-downloads")
            .map(|u| u.trim_end_matches('/').to_string())
            .or_else(|| (npm == NPM_REGISTRY).then(|| NPM_DOWNLOADS.to_string()));
        let endpoints = BTreeMap::from([
            (
                Ecosystem::Npm,
                Endpoints {
                    base: npm,
                    downloads: npm_downloads,
                },
            ),
            (
                Ecosystem::PyPI,
                Endpoints {
                    base: base("pypi", "https://pypi.org"),
                    downloads: None,
                },
            ),
            (
                Ecosystem::CratesIo,
                Endpoints {
                    base: base("crates", "https://index.crates.io"),
                    downloads: None,
                },
            ),
        ]);
        Lookup {
            online,
            cache_path,
            cache,
            endpoints,
            timeout: DEFAULT_TIMEOUT,
            budget: std::sync::Arc::new(Budget::default()),
        }
    }

    /// The lookup the supply-chain checks of a deployment use.
    pub fn for_policy(policy: &crate::policy::Policy, options: &super::SupplyOptions) -> Lookup {
        let lookup = Lookup::new(
            options.online,
            options.cache_path.clone(),
            &policy.registries.public,
        );
        let lookup = lookup.with_budget(options.lookup_budget.clone());
        match policy.registries.timeout_ms {
            Some(ms) => lookup.with_timeout(Duration::from_millis(ms)),
            None => lookup,
        }
    }

    /// Sets the per-request timeout (at most [`MAX_LOOKUP_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Lookup {
        self.timeout = timeout.min(MAX_LOOKUP_TIMEOUT);
        self
    }

    /// Shares the time budget of a scan.
    pub fn with_budget(mut self, budget: std::sync::Arc<Budget>) -> Lookup {
        self.budget = budget;
        self
    }

    /// True when names may be asked on the network.
    pub fn online(&self) -> bool {
        self.online
    }

    /// The public hosts (of the configured bases) for `is_public` checks.
    pub fn base_hosts(&self) -> Vec<String> {
        self.endpoints
            .values()
            .map(|e| crate::registry_config::host_of(&e.base))
            .collect()
    }

    /// The public registry base of an ecosystem (credentials redacted).
    pub fn public_base(&self, eco: Ecosystem) -> String {
        self.endpoints
            .get(&eco)
            .map(|e| redact_url(&e.base))
            .unwrap_or_default()
    }

    /// The cache key of a name: registry base, ecosystem, normalised name.
    fn key(&self, eco: Ecosystem, name: &str) -> String {
        format!(
            "{}|{}|{}",
            self.public_base(eco),
            eco.as_str(),
            eco.normalize_name(name)
        )
    }

    /// Claims for every name (see [`Lookup::answers`]).
    pub fn claims(&mut self, names: &[(Ecosystem, String)]) -> BTreeMap<String, Claim> {
        self.answers(names, false)
            .into_iter()
            .map(|(k, a)| (k, a.claim()))
            .collect()
    }

    /// The claim for one name from answers [`Lookup::claims`] returned.
    pub fn claim_of(&self, claims: &BTreeMap<String, Claim>, eco: Ecosystem, name: &str) -> Claim {
        claims
            .get(&self.key(eco, name))
            .cloned()
            .unwrap_or(Claim::NotChecked)
    }

    /// The answer for one name from answers [`Lookup::answers`] returned.
    pub fn answer_of(
        &self,
        answers: &BTreeMap<String, Answer>,
        eco: Ecosystem,
        name: &str,
    ) -> Answer {
        answers
            .get(&self.key(eco, name))
            .cloned()
            .unwrap_or(Answer::NotChecked)
    }

    /// Answers for every name: from the cache when fresh (or when offline),
    /// else asked in parallel when online (the cache is saved afterwards).
    /// `evidence` also asks for download figures where served.
    pub fn answers(
        &mut self,
        names: &[(Ecosystem, String)],
        evidence: bool,
    ) -> BTreeMap<String, Answer> {
        let today = crate::clock::today().to_string();
        let mut out = BTreeMap::new();
        let mut ask = Vec::new();
        for (eco, name) in names {
            let k = self.key(*eco, name);
            let cached = self.cache.get(&k);
            let fresh = cached.is_some_and(|c| {
                (!evidence || c.evidence)
                    && match (
                        crate::clock::days_of(&c.date),
                        crate::clock::days_of(&today),
                    ) {
                        (Some(a), Some(b)) => (0..=TTL_DAYS).contains(&(b - a)),
                        _ => false,
                    }
            });
            match cached {
                Some(c) if fresh || !self.online => {
                    out.insert(k, Answer::Known(c.meta.clone(), c.date.clone()));
                }
                _ if self.online => ask.push((*eco, name.clone(), k)),
                _ => {
                    out.insert(k, Answer::NotChecked);
                }
            }
        }
        if ask.is_empty() {
            return out;
        }
        let client = match crate::advisory::sync::http_client(self.timeout, self.timeout) {
            Ok(c) => c,
            Err(e) => {
                for (_, _, k) in ask {
                    out.insert(
                        k,
                        Answer::Unknown(crate::redact::message(format!("lookup failed: {e}"))),
                    );
                }
                return out;
            }
        };
        let mut fetched = Vec::new();
        for chunk in ask.chunks(MAX_CONCURRENT) {
            let left = self.budget.remaining();
            if left.is_zero() {
                for (_, _, k) in chunk {
                    out.insert(
                        k.clone(),
                        Answer::Unknown(format!(
                            "not checked: the registry lookups of this scan took their {} s budget",
                            self.budget.limit.as_secs()
                        )),
                    );
                }
                continue;
            }
            let timeout = self.timeout.min(left);
            let started = std::time::Instant::now();
            std::thread::scope(|s| {
                let handles: Vec<_> = chunk
                    .iter()
                    .filter_map(|(eco, name, k)| {
                        let endpoints = self.endpoints.get(eco)?;
                        let client = &client;
                        Some(s.spawn(move || {
                            let got = registry_meta::fetch(
                                client, *eco, endpoints, name, evidence, timeout,
                            );
                            (k.clone(), got)
                        }))
                    })
                    .collect();
                for h in handles {
                    if let Ok(a) = h.join() {
                        fetched.push(a);
                    }
                }
            });
            self.budget.spend(started.elapsed());
        }
        let mut learnt = BTreeMap::new();
        for (k, got) in fetched {
            match got {
                Ok(meta) => {
                    out.insert(k.clone(), Answer::Known(meta.clone(), today.clone()));
                    learnt.insert(
                        k,
                        CacheEntry {
                            date: today.clone(),
                            meta,
                            evidence,
                        },
                    );
                }
                Err(e) => {
                    out.insert(k, Answer::Unknown(e));
                }
            }
        }
        if !learnt.is_empty() {
            self.cache.extend(learnt.clone());
            self.save(learnt);
        }
        out
    }

    /// Writes the cache with `learnt` merged into what the file holds now
    /// (deployments scanned in parallel each add their answers).
    fn save(&self, learnt: BTreeMap<String, CacheEntry>) {
        let Some(path) = &self.cache_path else {
            return;
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut all = read_cache(path);
        all.extend(learnt);
        if let Ok(bytes) = serde_json::to_vec_pretty(&all) {
            let _ = crate::atomic::write_atomic(path, &bytes);
        }
    }

    /// Where the cache lives for a database directory.
    pub fn cache_path_for(db_dir: &Path) -> PathBuf {
        db_dir.join("registry-names.json")
    }
}

/// The cache file's entries; entries of another layout (an earlier
/// release keyed answers by name only) are dropped.
fn read_cache(path: &Path) -> BTreeMap<String, CacheEntry> {
    let Some(map) = std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(&b).ok())
    else {
        return BTreeMap::new();
    };
    map.into_iter()
        .filter(|(k, _)| k.splitn(3, '|').count() == 3)
        .filter_map(|(k, v)| Some((k, serde_json::from_value(v).ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_keyed_by_registry_and_old_entries_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry-names.json");
        std::fs::write(
            &path,
            r#"{"npm:acme":{"claimed":true,"date":"2026-01-01"},
                "https://registry.npmjs.org|npm|acme":{"date":"2026-01-01","exists":false}}"#,
        )
        .unwrap();
        let names = [(Ecosystem::Npm, "acme".to_string())];
        let mut default = Lookup::new(false, Some(path.clone()), &BTreeMap::new());
        let a = default.answers(&names, false);
        assert_eq!(
            default.answer_of(&a, Ecosystem::Npm, "acme").claim(),
            Claim::Unclaimed("2026-01-01".into())
        );
        let other = BTreeMap::from([("npm".to_string(), "https://mirror.example/npm".to_string())]);
        let mut mirror = Lookup::new(false, Some(path), &other);
        let a = mirror.answers(&names, false);
        assert_eq!(
            mirror.answer_of(&a, Ecosystem::Npm, "acme"),
            Answer::NotChecked
        );
    }

    #[test]
    fn a_spent_budget_leaves_names_unchecked_without_asking() {
        // Port 9 (discard) on loopback: a lookup sent there would fail, not
        // say "budget".
        let public = BTreeMap::from([("npm".to_string(), "http://127.0.0.1:9".to_string())]);
        let mut lookup = Lookup::new(true, None, &public)
            .with_budget(std::sync::Arc::new(Budget::new(Duration::ZERO)));
        let answers = lookup.claims(&[(Ecosystem::Npm, "acme-billing".to_string())]);
        match lookup.claim_of(&answers, Ecosystem::Npm, "acme-billing") {
            Claim::Unknown(why) => assert!(
                why.starts_with("not checked") && why.contains("budget"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn budgets_and_timeouts_are_bounded() {
        let b = Budget::new(Duration::from_secs(60));
        b.spend(Duration::from_secs(45));
        assert_eq!(b.remaining(), Duration::from_secs(15));
        b.spend(Duration::from_secs(45));
        assert_eq!(b.remaining(), Duration::ZERO);
        let l = Lookup::new(true, None, &BTreeMap::new()).with_timeout(Duration::from_secs(86_400));
        assert_eq!(l.timeout, MAX_LOOKUP_TIMEOUT);
    }
}
