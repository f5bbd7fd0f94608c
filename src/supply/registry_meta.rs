//! What a public registry says about one name: whether it exists, when it
//! was first published, how many versions it has, its downloads where the
//! registry serves them, and whether the registry took it down. One
//! request per name (two for npm when download figures are wanted): the
//! npm registry document (and the npm downloads API), PyPI's simple
//! repository API in JSON (PEP 691, with the PEP 792 project status), the
//! crates.io sparse index.

use std::io::Read;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ecosystem::Ecosystem;

/// Documents larger than this are not read (a popular package's npm
/// document can pass 50 MB; the names looked up here are not popular).
pub const MAX_DOCUMENT: u64 = 16 << 20;

/// What the registry said about a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The registry has a package of that name.
    pub exists: bool,
    /// Date (YYYY-MM-DD) of its first release, when the registry says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_published: Option<String>,
    /// Number of versions published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<u32>,
    /// Downloads over the last month, where the registry serves them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloads: Option<u64>,
    /// How the registry took the package down (`npm replaced it with the
    /// security placeholder 0.0.1-security`), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_down: Option<String>,
}

/// Where to ask, per ecosystem.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Registry base URL (npm registry, PyPI, crates.io sparse index).
    pub base: String,
    /// npm downloads API base (`https://api.npmjs.org/downloads`), when
    /// download figures can be asked.
    pub downloads: Option<String>,
}

/// The URL of a name's document.
pub fn document_url(eco: Ecosystem, base: &str, name: &str) -> String {
    match eco {
        Ecosystem::Npm => format!("{base}/{}", name.replace('/', "%2f")),
        Ecosystem::PyPI => format!("{base}/simple/{}/", eco.normalize_name(name)),
        Ecosystem::CratesIo => {
            let n = name.to_ascii_lowercase();
            let path = match n.len() {
                0 => String::new(),
                1 => format!("1/{n}"),
                2 => format!("2/{n}"),
                3 => format!("3/{}/{n}", &n[..1]),
                _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
            };
            format!("{base}/{path}")
        }
    }
}

/// Asks the registry about `name`; `with_downloads` also asks the npm
/// downloads API. An error names the URL and why.
pub fn fetch(
    client: &reqwest::blocking::Client,
    eco: Ecosystem,
    endpoints: &Endpoints,
    name: &str,
    with_downloads: bool,
    timeout: Duration,
) -> Result<Metadata, String> {
    let url = document_url(eco, &endpoints.base, name);
    let mut req = client.get(&url).timeout(timeout);
    if eco == Ecosystem::PyPI {
        req = req.header(
            reqwest::header::ACCEPT,
            "application/vnd.pypi.simple.v1+json",
        );
    }
    let body = match get(req, &url)? {
        None => return Ok(Metadata::default()),
        Some(b) => b,
    };
    let mut meta = match body {
        Body::Complete(bytes) => parse(eco, &bytes),
        Body::TooLarge => Metadata {
            exists: true,
            ..Metadata::default()
        },
    };
    if with_downloads
        && meta.exists
        && eco == Ecosystem::Npm
        && meta.taken_down.is_none()
        && let Some(api) = &endpoints.downloads
    {
        let url = format!("{api}/point/last-month/{name}");
        if let Ok(Some(Body::Complete(bytes))) = get(client.get(&url).timeout(timeout), &url) {
            meta.downloads = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("downloads")?.as_u64());
        }
    }
    Ok(meta)
}

enum Body {
    Complete(Vec<u8>),
    TooLarge,
}

/// 200 → the body (up to [`MAX_DOCUMENT`]), 404/410 → `None`, anything
/// else → an error naming the URL (credentials masked).
fn get(req: reqwest::blocking::RequestBuilder, url: &str) -> Result<Option<Body>, String> {
    let url = crate::redact::redact_url(url);
    match req.send() {
        Ok(r) if r.status().is_success() => {
            let mut bytes = Vec::new();
            match r.take(MAX_DOCUMENT + 1).read_to_end(&mut bytes) {
                Ok(_) if bytes.len() as u64 > MAX_DOCUMENT => Ok(Some(Body::TooLarge)),
                Ok(_) => Ok(Some(Body::Complete(bytes))),
                Err(e) => Err(crate::redact::message(format!("lookup failed: {url}: {e}"))),
            }
        }
        Ok(r) if matches!(r.status().as_u16(), 404 | 410) => Ok(None),
        Ok(r) => Err(format!(
            "lookup failed: {url} answered HTTP {}",
            r.status().as_u16()
        )),
        Err(e) if e.is_timeout() => Err(format!("lookup failed: {url} timed out")),
        Err(e) => Err(crate::redact::message(format!(
            "lookup failed: {url}: {}",
            e.without_url()
        ))),
    }
}

/// The metadata in a registry document (what it does not say stays
/// `None`).
pub fn parse(eco: Ecosystem, bytes: &[u8]) -> Metadata {
    let mut meta = Metadata {
        exists: true,
        ..Metadata::default()
    };
    match eco {
        Ecosystem::Npm => {
            let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
                return meta;
            };
            let versions: Vec<&str> = doc
                .get("versions")
                .and_then(|v| v.as_object())
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            meta.versions = Some(versions.len() as u32);
            // A document with no version: every version was unpublished
            // (npm keeps `time.unpublished`), and the name can be taken
            // again.
            meta.exists = !versions.is_empty();
            let times = doc.get("time").and_then(|t| t.as_object());
            meta.first_published = times
                .and_then(|t| t.get("created"))
                .and_then(|c| c.as_str())
                .map(str::to_string)
                .or_else(|| {
                    // Without `created`: the earliest version date.
                    times?
                        .iter()
                        .filter(|(k, _)| k.as_str() != "modified")
                        .filter_map(|(_, v)| v.as_str())
                        .min()
                        .map(str::to_string)
                })
                .map(|d| d.chars().take(10).collect());
            let latest = doc
                .get("dist-tags")
                .and_then(|t| t.get("latest"))
                .and_then(|v| v.as_str());
            if let Some(l) = latest
                && super::takedown::is_placeholder(Ecosystem::Npm, l)
            {
                meta.taken_down = Some(format!(
                    "the npm registry replaced it with the security placeholder {l}"
                ));
            }
        }
        Ecosystem::PyPI => {
            let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
                return meta;
            };
            if let Some(status) = doc
                .get("project-status")
                .and_then(|s| s.get("status"))
                .and_then(|s| s.as_str())
                && status == "quarantined"
            {
                meta.taken_down = Some("PyPI quarantined the project".into());
            }
            let files = doc.get("files").and_then(|f| f.as_array());
            meta.versions = doc
                .get("versions")
                .and_then(|v| v.as_array())
                .map(|v| v.len() as u32);
            meta.first_published = files
                .into_iter()
                .flatten()
                .filter_map(|f| f.get("upload-time")?.as_str())
                .min()
                .map(|d| d.chars().take(10).collect());
        }
        Ecosystem::CratesIo => {
            // One JSON object per line, one line per version.
            let text = String::from_utf8_lossy(bytes);
            let lines: Vec<serde_json::Value> = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            meta.versions = Some(lines.len() as u32);
            meta.first_published = lines
                .iter()
                .filter_map(|l| l.get("pubtime")?.as_str())
                .min()
                .map(|d| d.chars().take(10).collect());
        }
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_document_with_placeholder() {
        let doc = br#"{"name":"crossenv","dist-tags":{"latest":"0.0.2-security"},
            "versions":{"0.0.2-security":{}},"time":{"0.0.2-security":"2024-12-09T00:15:25.297Z"}}"#;
        let m = parse(Ecosystem::Npm, doc);
        assert_eq!(m.versions, Some(1));
        assert_eq!(m.first_published.as_deref(), Some("2024-12-09"));
        assert!(m.taken_down.unwrap().contains("0.0.2-security"));
        let doc = br#"{"versions":{"1.0.0":{},"1.0.1":{}},"dist-tags":{"latest":"1.0.1"},
            "time":{"created":"2019-03-02T10:00:00Z","modified":"2011-01-01T00:00:00Z","1.0.0":"2019-03-02T10:00:00Z"}}"#;
        let m = parse(Ecosystem::Npm, doc);
        assert_eq!(
            (m.versions, m.first_published.as_deref(), m.taken_down),
            (Some(2), Some("2019-03-02"), None)
        );
        assert!(m.exists);
        let unpublished = br#"{"_id":"gone","name":"gone","time":{"created":"2020-01-01T00:00:00Z",
            "unpublished":{"time":"2020-01-02T00:00:00Z","versions":["1.0.0"]}}}"#;
        let m = parse(Ecosystem::Npm, unpublished);
        assert!(!m.exists);
    }

    #[test]
    fn pypi_simple_json_and_sparse_index() {
        let doc = br#"{"meta":{"api-version":"1.4"},"name":"x","versions":["0.1","0.2"],
            "files":[{"upload-time":"2026-11-03T01:02:03Z"},{"upload-time":"2026-10-30T00:00:00Z"}],
            "project-status":{"status":"quarantined"}}"#;
        let m = parse(Ecosystem::PyPI, doc);
        assert_eq!(m.versions, Some(2));
        assert_eq!(m.first_published.as_deref(), Some("2026-10-30"));
        assert_eq!(
            m.taken_down.as_deref(),
            Some("PyPI quarantined the project")
        );
        let index = b"{\"name\":\"a\",\"vers\":\"0.1.0\",\"pubtime\":\"2025-02-01T00:00:00Z\"}\n{\"name\":\"a\",\"vers\":\"0.2.0\",\"pubtime\":\"2025-03-01T00:00:00Z\"}\n";
        let m = parse(Ecosystem::CratesIo, index);
        assert_eq!(
            (m.versions, m.first_published.as_deref()),
            (Some(2), Some("2025-02-01"))
        );
        assert_eq!(
            document_url(Ecosystem::CratesIo, "https://index.crates.io", "Serde"),
            "https://index.crates.io/se/rd/serde"
        );
        assert_eq!(
            document_url(Ecosystem::PyPI, "https://pypi.org", "Py_YAML"),
            "https://pypi.org/simple/py-yaml/"
        );
    }
}
