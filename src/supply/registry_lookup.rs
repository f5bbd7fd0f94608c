//! Is a name claimed on the public registry? Answered from a cache kept in
//! the database directory (`registry-names.json`, with the date each answer
//! was learnt), and with `scan --online` by asking the registries: the npm
//! registry document, the PyPI JSON API, the crates.io sparse index. Base
//! URLs are configurable (`[registries] public`), lookups run with a
//! timeout and bounded concurrency, and answers are cached with a TTL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ecosystem::Ecosystem;

/// Cached answers older than this are asked again when online.
pub const TTL_DAYS: i64 = 7;
/// Parallel lookups at most.
pub const MAX_CONCURRENT: usize = 8;

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
            timeout: Duration::from_secs(5),
        }
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Lookup {
        self.timeout = timeout;
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
                    out.insert(k, Claim::Unknown(format!("lookup failed: {e}")));
                }
                return out;
            }
        };
        let mut answers = Vec::new();
        for chunk in ask.chunks(MAX_CONCURRENT) {
            std::thread::scope(|s| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|(eco, name, k)| {
                        let url = self.url(*eco, name);
                        let client = &client;
                        s.spawn(move || (k.clone(), ask_registry(client, &url)))
                    })
                    .collect();
                for h in handles {
                    if let Ok(a) = h.join() {
                        answers.push(a);
                    }
                }
            });
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
/// the URL.
fn ask_registry(client: &reqwest::blocking::Client, url: &str) -> Result<bool, String> {
    match client.get(url).send() {
        Ok(r) if r.status().is_success() => Ok(true),
        Ok(r) if r.status().as_u16() == 404 || r.status().as_u16() == 410 => Ok(false),
        Ok(r) => Err(format!(
            "lookup failed: {url} answered HTTP {}",
            r.status().as_u16()
        )),
        Err(e) if e.is_timeout() => Err(format!("lookup failed: {url} timed out")),
        Err(e) => Err(format!("lookup failed: {url}: {e}")),
    }
}

fn today() -> String {
    crate::clock::today().to_string()
}
