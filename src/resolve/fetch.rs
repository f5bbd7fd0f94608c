//! Fetching registry documents into the metadata store: the npm registry
//! (full packuments, since only they carry publish times), the PyPI simple
//! index as PEP 691 JSON and PEP 658 `.metadata` files (never a wheel or an
//! sdist), the crates.io sparse index. Requests run on a bounded number of
//! threads, with connect and read timeouts, retries with backoff on
//! server errors and broken connections, a size cap, and conditional
//! requests (ETag / Last-Modified) for documents already stored.

use super::digest;
use super::store::{DocKind, FetchInfo, MetaStore};
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Registry base URLs (mirrors included), each ending in `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registries {
    /// npm registry, e.g. `https://registry.npmjs.org/`.
    pub npm: String,
    /// PyPI simple index, e.g. `https://pypi.org/simple/`.
    pub pypi: String,
    /// crates.io sparse index, e.g. `https://index.crates.io/`.
    pub crates: String,
}

/// Environment variables that set the registry bases.
pub const REGISTRY_ENV: [(&str, &str); 3] = [
    ("npm", "DEPWARDEN_NPM_REGISTRY"),
    ("pypi", "DEPWARDEN_PYPI_INDEX"),
    ("crates", "DEPWARDEN_CRATES_INDEX"),
];

impl Default for Registries {
    fn default() -> Self {
        Registries {
            npm: "https://registry.npmjs.org/".into(),
            pypi: "https://pypi.org/simple/".into(),
            crates: "https://index.crates.io/".into(),
        }
    }
}

impl Registries {
    /// Sets one base (`npm`, `pypi` or `crates`) from a URL.
    pub fn set(&mut self, which: &str, url: &str) -> Result<(), String> {
        let mut s = url.trim().to_string();
        if !s.ends_with('/') {
            s.push('/');
        }
        let u = url::Url::parse(&s)
            .map_err(|e| format!("{}: {e}", crate::ecosystem::redact_url(url)))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!(
                "{}: only http and https registries are supported",
                crate::ecosystem::redact_url(url)
            ));
        }
        match which {
            "npm" => self.npm = s,
            "pypi" => self.pypi = s,
            "crates" | "crates.io" | "cargo" => self.crates = s,
            other => {
                return Err(format!(
                    "unknown registry {other:?} (expected npm, pypi or crates)"
                ));
            }
        }
        Ok(())
    }

    /// The URL of a document.
    pub fn url(&self, req: &Request) -> Result<url::Url, String> {
        let text = match req {
            Request::Npm(name) => {
                if !npm_name_ok(name) {
                    return Err(format!("{name:?} is not an npm package name"));
                }
                format!("{}{}", self.npm, name.replace('/', "%2f"))
            }
            Request::Pypi(name) => format!("{}{name}/", self.pypi),
            Request::PypiMetadata { url, .. } => format!("{url}.metadata"),
            Request::Crates(name) => {
                let n = name.to_ascii_lowercase();
                if !n
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Err(format!("{name:?} is not a crate name"));
                }
                let path = match n.len() {
                    0 => return Err("empty crate name".into()),
                    1 => format!("1/{n}"),
                    2 => format!("2/{n}"),
                    3 => format!("3/{}/{n}", &n[..1]),
                    _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
                };
                format!("{}{path}", self.crates)
            }
        };
        let mut url = url::Url::parse(&text)
            .map_err(|e| format!("{}: {e}", crate::ecosystem::redact_url(&text)))?;
        if let (Request::PypiMetadata { .. }, Ok(index)) = (req, url::Url::parse(&self.pypi))
            && !index.username().is_empty()
            && index.host_str() == url.host_str()
            && url.username().is_empty()
        {
            let _ = url.set_username(index.username());
            let _ = url.set_password(index.password());
        }
        Ok(url)
    }
}

/// True for a name the npm registry could hold: at most 214 characters of
/// `a-z A-Z 0-9 - . _ ~`, not starting with `.` or `_`, optionally under
/// one `@scope/`.
fn npm_name_ok(name: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && !part.starts_with(['.', '_'])
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    };
    name.len() <= 214
        && match name.strip_prefix('@') {
            Some(scoped) => scoped
                .split_once('/')
                .is_some_and(|(scope, base)| ok(scope) && ok(base)),
            None => ok(name),
        }
}

/// One document to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Request {
    /// An npm package document.
    Npm(String),
    /// A PyPI project page (normalised name).
    Pypi(String),
    /// A wheel's core metadata.
    PypiMetadata {
        /// The store key (`<normalised name>/<file name>`).
        key: String,
        /// The wheel's URL.
        url: String,
    },
    /// A crates.io index file (lower-case name).
    Crates(String),
}

impl Request {
    /// Kind and store key.
    pub fn key(&self) -> (DocKind, String) {
        match self {
            Request::Npm(n) => (DocKind::Npm, n.clone()),
            Request::Pypi(n) => (DocKind::Pypi, n.clone()),
            Request::PypiMetadata { key, .. } => (DocKind::PypiMetadata, key.clone()),
            Request::Crates(n) => (DocKind::Crates, n.clone()),
        }
    }
}

/// Network settings.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Registry bases.
    pub registries: Registries,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Attempts per document.
    pub attempts: u32,
    /// First retry delay (doubled each time).
    pub backoff: Duration,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// The longest all the fetching of one run may take.
    pub budget: Duration,
    /// Largest document accepted, in bytes.
    pub max_bytes: u64,
}

impl Default for FetchOptions {
    fn default() -> Self {
        let env_u64 = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        FetchOptions {
            registries: Registries::default(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(env_u64("DEPWARDEN_HTTP_TIMEOUT").unwrap_or(60))
                .min(crate::advisory::sync::MAX_READ_TIMEOUT),
            attempts: 3,
            backoff: Duration::from_millis(env_u64("DEPWARDEN_HTTP_BACKOFF_MS").unwrap_or(500)),
            concurrency: 8,
            budget: Duration::from_secs(15 * 60),
            max_bytes: 256 << 20,
        }
    }
}

/// What a fetch round did.
#[derive(Debug, Default, Clone)]
pub struct FetchReport {
    /// Documents downloaded.
    pub fetched: usize,
    /// Documents the registry said were unchanged (304).
    pub unchanged: usize,
    /// Names the registry does not have.
    pub missing: usize,
    /// Failures, each naming the URL.
    pub errors: Vec<String>,
}

enum Outcome {
    Fetched,
    Unchanged,
    Missing,
}

/// The HTTP client of `opts` (build it once per run: it starts a thread
/// and reads the platform's certificates).
pub fn client(opts: &FetchOptions) -> Result<reqwest::blocking::Client, String> {
    crate::advisory::sync::http_client(opts.connect_timeout, opts.timeout)
        .map_err(|e| format!("cannot start an HTTP client: {e}"))
}

/// Fetches `requests` into `store` on at most `opts.concurrency` threads.
pub fn fetch(
    store: &MetaStore,
    client: &reqwest::blocking::Client,
    requests: &[Request],
    opts: &FetchOptions,
) -> FetchReport {
    let mut report = FetchReport::default();
    if requests.is_empty() {
        return report;
    }
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..opts.concurrency.clamp(1, requests.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(req) = requests.get(i) else { break };
                    let r = fetch_one(store, client, req, opts);
                    if let Ok(mut out) = results.lock() {
                        out.push(r);
                    }
                }
            });
        }
    });
    for r in results.into_inner().unwrap_or_default() {
        match r {
            Ok(Outcome::Fetched) => report.fetched += 1,
            Ok(Outcome::Unchanged) => report.unchanged += 1,
            Ok(Outcome::Missing) => report.missing += 1,
            Err(e) => report.errors.push(e),
        }
    }
    report.errors.sort();
    let _ = store.flush();
    report
}

fn fetch_one(
    store: &MetaStore,
    client: &reqwest::blocking::Client,
    req: &Request,
    opts: &FetchOptions,
) -> Result<Outcome, String> {
    let url = opts.registries.url(req)?;
    let shown = crate::ecosystem::redact_url(url.as_str());
    let (kind, key) = req.key();
    let previous = store
        .fetch_info(kind, &key)
        .ok()
        .flatten()
        .filter(|_| store.get_raw(kind, &key).ok().flatten().is_some());
    let accept = match req {
        Request::Npm(_) => "application/json",
        Request::Pypi(_) => "application/vnd.pypi.simple.v1+json",
        _ => "*/*",
    };
    let mut delay = opts.backoff;
    let mut last = String::new();
    for attempt in 1..=opts.attempts.max(1) {
        if attempt > 1 {
            std::thread::sleep(delay);
            delay *= 2;
        }
        let mut rb = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, accept);
        if let Some(p) = &previous {
            if let Some(e) = &p.etag {
                rb = rb.header(reqwest::header::IF_NONE_MATCH, e);
            }
            if let Some(m) = &p.last_modified {
                rb = rb.header(reqwest::header::IF_MODIFIED_SINCE, m);
            }
        }
        let resp = match rb.send() {
            Ok(r) => r,
            Err(e) => {
                last = if e.is_timeout() {
                    "timed out".to_string()
                } else {
                    e.to_string()
                };
                continue;
            }
        };
        let status = resp.status().as_u16();
        let header = |n: reqwest::header::HeaderName| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let mut info = FetchInfo {
            fetched_at: crate::clock::now(),
            etag: header(reqwest::header::ETAG),
            last_modified: header(reqwest::header::LAST_MODIFIED),
            missing: false,
        };
        match status {
            304 if previous.is_some() => {
                let mut p = previous.clone().unwrap_or_default();
                p.fetched_at = info.fetched_at;
                store.touch(kind, &key, &p).map_err(|e| e.to_string())?;
                return Ok(Outcome::Unchanged);
            }
            404 | 410 => {
                if let Request::PypiMetadata { .. } = req {
                    // No PEP 658 file: read METADATA out of the wheel
                    // with range requests.
                    let wheel = url
                        .as_str()
                        .strip_suffix(".metadata")
                        .unwrap_or(url.as_str());
                    return match super::wheel_range::metadata(client, wheel) {
                        Ok(body) => store
                            .put(kind, &key, Some(&digest::pypi_metadata(&body)), &info)
                            .map(|()| Outcome::Fetched)
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(format!(
                            "{shown}: not served, and the wheel's METADATA could not be read with range requests: {e}"
                        )),
                    };
                }
                info.missing = true;
                store
                    .put::<()>(kind, &key, None, &info)
                    .map_err(|e| e.to_string())?;
                return Ok(Outcome::Missing);
            }
            s if s >= 500 || s == 429 => {
                last = format!("HTTP {s}");
                continue;
            }
            s if !(200..300).contains(&s) => return Err(format!("{shown}: HTTP {s}")),
            _ => {}
        }
        let mut body = Vec::new();
        if let Err(e) = resp.take(opts.max_bytes + 1).read_to_end(&mut body) {
            last = format!("download interrupted: {e}");
            continue;
        }
        if body.len() as u64 > opts.max_bytes {
            return Err(format!("{shown}: larger than {} bytes", opts.max_bytes));
        }
        let stored = match req {
            Request::Npm(_) => digest::npm(&body).map(|d| store.put(kind, &key, Some(&d), &info)),
            Request::Pypi(_) => {
                digest::pypi_project(&body, &url).map(|d| store.put(kind, &key, Some(&d), &info))
            }
            Request::PypiMetadata { .. } => {
                Ok(store.put(kind, &key, Some(&digest::pypi_metadata(&body)), &info))
            }
            Request::Crates(_) => {
                digest::crates(&body).map(|d| store.put(kind, &key, Some(&d), &info))
            }
        };
        return match stored {
            Ok(Ok(())) => Ok(Outcome::Fetched),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("{shown}: unreadable answer: {e}")),
        };
    }
    Err(format!(
        "{shown}: {last} (after {} attempts)",
        opts.attempts.max(1)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_hostile_names_are_refused() {
        let r = Registries::default();
        assert!(r.url(&Request::Npm("..".into())).is_err());
        assert!(r.url(&Request::Npm("../x".into())).is_err());
        assert!(r.url(&Request::Npm("a b".into())).is_err());
        assert!(r.url(&Request::Npm("@s/../x".into())).is_err());
        assert!(r.url(&Request::Crates("sé".into())).is_err());
        assert_eq!(
            r.url(&Request::Npm("@types/node".into())).unwrap().as_str(),
            "https://registry.npmjs.org/@types%2fnode"
        );
        assert_eq!(
            r.url(&Request::Crates("Serde".into())).unwrap().as_str(),
            "https://index.crates.io/se/rd/serde"
        );
        let mut m = Registries::default();
        assert!(m.set("npm", "file:///etc").is_err());
        assert!(m.set("maven", "https://x").is_err());
        m.set("pypi", "https://u:p@mirror/simple").unwrap();
        assert_eq!(
            m.url(&Request::Pypi("requests".into())).unwrap().as_str(),
            "https://u:p@mirror/simple/requests/"
        );
        // Stored file URLs carry no credentials; the mirror's come back
        // for its own host only.
        let meta = |url: &str| Request::PypiMetadata {
            key: "k".into(),
            url: url.into(),
        };
        assert_eq!(
            m.url(&meta("https://mirror/files/a.whl")).unwrap().as_str(),
            "https://u:p@mirror/files/a.whl.metadata"
        );
        assert_eq!(
            m.url(&meta("https://files.example/a.whl"))
                .unwrap()
                .as_str(),
            "https://files.example/a.whl.metadata"
        );
    }
}
