//! Is a name claimed on the public registry? Answered from a cache kept in
//! the database directory (`registry-names.json`, with the date each answer
//! was learnt), and with `scan --online` by asking the registries: the npm
//! registry document, the PyPI JSON API, the crates.io sparse index. Base
//! URLs are configurable (`[registries] public`), lookups run with a
//! timeout (at most [`MAX_TIMEOUT`]) and bounded concurrency, all the
//! lookups of a scan share a time [`Budget`], and answers are cached with a
//! TTL. Messages name the URL with its credentials masked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ecosystem::Ecosystem;

/// Cached answers older than this are asked again when online.
pub const TTL_DAYS: i64 = 7;
/// Parallel lookups at most.
pub const MAX_CONCURRENT: usize = 8;
/// The timeout of one lookup unless configured (`[registries] timeout_ms`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest timeout of one lookup a configuration may set.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);
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
    /// Not known: offline with no cached answer, or the lookup failed.
    Unknown(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    claimed: bool,
    date: String,
}

/// Public registry lookups with their cache.
#[derive(Debug)]
pub struct Lookup {
    online: bool,
    cache_path: Option<PathBuf>,
    cache: BTreeMap<String, CacheEntry>,
    bases: BTreeMap<Ecosystem, String>,
    timeout: Duration,
    budget: std::sync::Arc<Budget>,
}

fn key(eco: Ecosystem, name: &str) -> String {
    format!("{}:{}", eco.as_str(), eco.normalize_name(name))
}

impl Lookup {
    /// A lookup reading (and, online, writing) the cache at `cache_path`.
    /// `public` overrides the base URLs (keys `npm`, `pypi`, `crates`).
    pub fn new(
        online: bool,
        cache_path: Option<PathBuf>,
        public: &BTreeMap<String, String>,
    ) -> Lookup {
        let cache = cache_path
            .as_deref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let base = |k: &str, default: &str| {
            public
                .get(k)
                .cloned()
                .unwrap_or_else(|| default.to_string())
                .trim_end_matches('/')
                .to_string()
        };
        let bases = BTreeMap::from([
            (Ecosystem::Npm, base("npm", "https://registry.npmjs.org")),
            (Ecosystem::PyPI, base("pypi", "https://pypi.org")),
            (
                Ecosystem::CratesIo,
                base("crates", "https://index.crates.io"),
            ),
        ]);
        Lookup {
            online,
            cache_path,
            cache,
            bases,
            timeout: DEFAULT_TIMEOUT,
            budget: std::sync::Arc::new(Budget::default()),
        }
    }

    /// Sets the per-request timeout (at most [`MAX_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Lookup {
        self.timeout = timeout.min(MAX_TIMEOUT);
        self
    }

    /// Shares the time budget of a scan.
    pub fn with_budget(mut self, budget: std::sync::Arc<Budget>) -> Lookup {
        self.budget = budget;
        self
    }

    /// The public hosts (of the configured bases) for `is_public` checks.
    pub fn base_hosts(&self) -> Vec<String> {
        self.bases
            .values()
            .map(|b| super::registry_config::host_of(b))
            .collect()
    }

    /// Answers for every name (looked up in parallel when online and not
    /// cached or stale; the cache is saved afterwards).
    pub fn claims(&mut self, names: &[(Ecosystem, String)]) -> BTreeMap<String, Claim> {
        let today = today();
        let mut out = BTreeMap::new();
        let mut ask = Vec::new();
        for (eco, name) in names {
            let k = key(*eco, name);
            let cached = self.cache.get(&k);
            let fresh = cached.is_some_and(|c| {
                match (
                    crate::clock::days_of(&c.date),
                    crate::clock::days_of(&today),
                ) {
                    (Some(a), Some(b)) => b - a <= TTL_DAYS,
                    _ => false,
                }
            });
            match cached {
                Some(c) if fresh || !self.online => {
                    out.insert(k, to_claim(c));
                }
                _ if self.online => ask.push((*eco, name.clone(), k)),
                _ => {
                    out.insert(k, Claim::Unknown("not checked (offline)".into()));
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
                        Claim::Unknown(crate::redact::message(format!("lookup failed: {e}"))),
                    );
                }
                return out;
            }
        };
        let mut answers = Vec::new();
        for chunk in ask.chunks(MAX_CONCURRENT) {
            let left = self.budget.remaining();
            if left.is_zero() {
                for (_, _, k) in chunk {
                    out.insert(
                        k.clone(),
                        Claim::Unknown(format!(
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
                    .map(|(eco, name, k)| {
                        let url = self.url(*eco, name);
                        let client = &client;
                        s.spawn(move || (k.clone(), ask_registry(client, &url, timeout)))
                    })
                    .collect();
                for h in handles {
                    if let Ok(a) = h.join() {
                        answers.push(a);
                    }
                }
            });
            self.budget.spend(started.elapsed());
        }
        let mut changed = false;
        for (k, answer) in answers {
            match answer {
                Ok(claimed) => {
                    let entry = CacheEntry {
                        claimed,
                        date: today.clone(),
                    };
                    out.insert(k.clone(), to_claim(&entry));
                    self.cache.insert(k, entry);
                    changed = true;
                }
                Err(e) => {
                    out.insert(k, Claim::Unknown(e));
                }
            }
        }
        if changed {
            self.save();
        }
        out
    }

    /// The claim for one name from answers `claims` returned.
    pub fn claim_of(answers: &BTreeMap<String, Claim>, eco: Ecosystem, name: &str) -> Claim {
        answers
            .get(&key(eco, name))
            .cloned()
            .unwrap_or_else(|| Claim::Unknown("not checked (offline)".into()))
    }

    fn url(&self, eco: Ecosystem, name: &str) -> String {
        let base = self.bases.get(&eco).map(String::as_str).unwrap_or("");
        match eco {
            Ecosystem::Npm => format!("{base}/{}", name.replace('/', "%2f")),
            Ecosystem::PyPI => format!("{base}/pypi/{}/json", eco.normalize_name(name)),
            Ecosystem::CratesIo => {
                let n = name.to_ascii_lowercase();
                let path = match n.len() {
                    1 => format!("1/{n}"),
                    2 => format!("2/{n}"),
                    3 => format!("3/{}/{n}", &n[..1]),
                    _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
                };
                format!("{base}/{path}")
            }
        }
    }

    fn save(&self) {
        let Some(path) = &self.cache_path else {
            return;
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(bytes) = serde_json::to_vec_pretty(&self.cache) {
            let _ = crate::atomic::write_atomic(path, &bytes);
        }
    }

    /// Where the cache lives for a database directory.
    pub fn cache_path_for(db_dir: &Path) -> PathBuf {
        db_dir.join("registry-names.json")
    }
}

fn to_claim(c: &CacheEntry) -> Claim {
    if c.claimed {
        Claim::Claimed(c.date.clone())
    } else {
        Claim::Unclaimed(c.date.clone())
    }
}

/// 200 → claimed, 404/410 → unclaimed, anything else → an error naming
/// the URL (credentials masked).
fn ask_registry(
    client: &reqwest::blocking::Client,
    url: &str,
    timeout: Duration,
) -> Result<bool, String> {
    let shown = crate::redact::redact_url(url);
    match client.get(url).timeout(timeout).send() {
        Ok(r) if r.status().is_success() => Ok(true),
        Ok(r) if r.status().as_u16() == 404 || r.status().as_u16() == 410 => Ok(false),
        Ok(r) => Err(format!(
            "lookup failed: {shown} answered HTTP {}",
            r.status().as_u16()
        )),
        Err(e) if e.is_timeout() => Err(format!(
            "lookup failed: {shown} timed out after {} ms",
            timeout.as_millis()
        )),
        Err(e) => Err(crate::redact::message(format!(
            "lookup failed: {shown}: {}",
            e.without_url()
        ))),
    }
}

fn today() -> String {
    crate::clock::today().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_leaves_names_unchecked_without_asking() {
        // Port 9 (discard) on loopback: a lookup sent there would fail, not
        // say "budget".
        let public = BTreeMap::from([("npm".to_string(), "http://127.0.0.1:9".to_string())]);
        let mut lookup = Lookup::new(true, None, &public)
            .with_budget(std::sync::Arc::new(Budget::new(Duration::ZERO)));
        let answers = lookup.claims(&[(Ecosystem::Npm, "acme-billing".to_string())]);
        match Lookup::claim_of(&answers, Ecosystem::Npm, "acme-billing") {
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
        assert_eq!(l.timeout, MAX_TIMEOUT);
    }
}
