//! AWS Lambda managed runtimes: what each identifier means for the code it
//! runs (language version, Amazon Linux release and its glibc, where layers
//! are searched), and the table of deprecation dates shipped in the binary
//! (`advisories-cache/lambda-runtimes.json`, source and date in that
//! directory's README). `db sync` stores a newer table from the source
//! (`<base>/depwarden/lambda-runtimes.json`) beside the database; a scan
//! uses whichever of the two is newer.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The embedded table.
pub const EMBEDDED: &str = include_str!("../../advisories-cache/lambda-runtimes.json");

/// Where the table lives in a sync source (bucket layout), relative to the
/// base.
pub const SOURCE_PATH: &str = "depwarden/lambda-runtimes.json";

/// The file a synced table is kept in, inside the database directory.
pub const STORED_NAME: &str = "lambda-runtimes.json";

/// Largest table accepted from a sync source.
pub const MAX_TABLE_BYTES: u64 = 1024 * 1024;

/// Amazon Linux releases under the runtimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Amazon Linux (2018.03), glibc 2.17.
    Al1,
    /// Amazon Linux 2, glibc 2.26.
    Al2,
    /// Amazon Linux 2023, glibc 2.34.
    Al2023,
}

impl Os {
    /// The glibc version the release ships (major, minor).
    pub fn glibc(self) -> (u32, u32) {
        match self {
            Os::Al1 => (2, 17),
            Os::Al2 => (2, 26),
            Os::Al2023 => (2, 34),
        }
    }

    /// The release's name.
    pub fn name(self) -> &'static str {
        match self {
            Os::Al1 => "Amazon Linux",
            Os::Al2 => "Amazon Linux 2",
            Os::Al2023 => "Amazon Linux 2023",
        }
    }
}

/// One runtime of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeEntry {
    /// Identifier (`python3.12`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Amazon Linux release.
    pub os: Os,
    /// Deprecation date (end of support: no more security patches).
    pub deprecation: Option<String>,
    /// From this date functions can no longer be created with it.
    pub block_create: Option<String>,
    /// From this date functions can no longer be updated.
    pub block_update: Option<String>,
}

/// The runtime table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeTable {
    /// Where the dates come from.
    pub source: String,
    /// The date the table was last checked against its source.
    pub as_of: String,
    /// The runtimes.
    pub runtimes: Vec<RuntimeEntry>,
}

impl RuntimeTable {
    /// Parses and checks a table: known fields, dates that exist.
    pub fn parse(text: &str) -> Result<RuntimeTable, String> {
        let t: RuntimeTable =
            serde_json::from_str(text).map_err(|e| format!("not a runtime table: {e}"))?;
        let valid = |d: &Option<String>| {
            d.as_deref()
                .is_none_or(|d| crate::clock::Date::parse(d).is_some())
        };
        if crate::clock::Date::parse(&t.as_of).is_none() {
            return Err(format!("as_of {:?} is not a date", t.as_of));
        }
        if let Some(bad) = t
            .runtimes
            .iter()
            .find(|r| !(valid(&r.deprecation) && valid(&r.block_create) && valid(&r.block_update)))
        {
            return Err(format!("{}: a date does not parse", bad.id));
        }
        if t.runtimes.is_empty() {
            return Err("no runtime".into());
        }
        Ok(t)
    }

    /// The embedded table.
    pub fn embedded() -> RuntimeTable {
        // The embedded table is checked by a unit test; an unreadable one
        // would only lose the runtime checks, never crash a scan.
        RuntimeTable::parse(EMBEDDED).unwrap_or(RuntimeTable {
            source: "embedded table unreadable".into(),
            as_of: "1970-01-01".into(),
            runtimes: Vec::new(),
        })
    }

    /// The table a scan uses: the one stored by `db sync` in `db_dir` when
    /// it is newer than the embedded one, else the embedded one.
    pub fn load(db_dir: Option<&Path>) -> RuntimeTable {
        let embedded = RuntimeTable::embedded();
        let stored = db_dir
            .map(|d| d.join(STORED_NAME))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| RuntimeTable::parse(&t).ok());
        match stored {
            Some(s) if s.as_of > embedded.as_of => s,
            _ => embedded,
        }
    }

    /// The entry of a runtime identifier.
    pub fn get(&self, id: &str) -> Option<&RuntimeEntry> {
        self.runtimes.iter().find(|r| r.id == id)
    }
}

/// Stores a table fetched by `db sync` in `db_dir` when it is newer than
/// the one in use; returns a note saying what happened.
pub fn store_synced(db_dir: &Path, bytes: &[u8], origin: &str) -> Result<String, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{origin}: not UTF-8"))?;
    let table = RuntimeTable::parse(text).map_err(|e| format!("{origin}: {e}"))?;
    let current = RuntimeTable::load(Some(db_dir));
    if table.as_of <= current.as_of {
        return Ok(format!(
            "Lambda runtime table from {origin} ({}) is not newer than the one in use ({}); kept",
            table.as_of, current.as_of
        ));
    }
    let path: PathBuf = db_dir.join(STORED_NAME);
    crate::atomic::write_atomic(&path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(format!(
        "Lambda runtime table updated to {} ({} runtimes) from {origin}",
        table.as_of,
        table.runtimes.len()
    ))
}

/// The language a runtime runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Python 3.minor (or 2.7 as `Python(2, 7)`).
    Python(u32, u32),
    /// Node.js major.
    Node(u32),
    /// Ruby major.minor.
    Ruby(u32, u32),
    /// Java.
    Java,
    /// .NET.
    Dotnet,
    /// An OS-only runtime (`provided`, `go1.x`): a `bootstrap` executable.
    OsOnly,
}

impl Language {
    /// The language of a runtime identifier, when depwarden knows it.
    pub fn of(id: &str) -> Option<Language> {
        if let Some(v) = id.strip_prefix("python") {
            let (a, b) = v.split_once('.')?;
            return Some(Language::Python(a.parse().ok()?, b.parse().ok()?));
        }
        if let Some(v) = id.strip_prefix("nodejs") {
            let major = v.split(['.', '-']).next()?;
            // `nodejs` alone is Node.js 0.10.
            return Some(Language::Node(major.parse().unwrap_or(0)));
        }
        if let Some(v) = id.strip_prefix("ruby") {
            let (a, b) = v.split_once('.')?;
            return Some(Language::Ruby(a.parse().ok()?, b.parse().ok()?));
        }
        if id.starts_with("java") {
            return Some(Language::Java);
        }
        if id.starts_with("dotnet") {
            return Some(Language::Dotnet);
        }
        if id.starts_with("provided") || id == "go1.x" {
            return Some(Language::OsOnly);
        }
        None
    }

    /// The Python `major.minor` of a Python runtime.
    pub fn python(self) -> Option<(u32, u32)> {
        match self {
            Language::Python(a, b) => Some((a, b)),
            _ => None,
        }
    }

    /// The directories of a layer (relative to `/opt`) the runtime
    /// searches for packages, in search order.
    pub fn layer_dirs(self) -> Vec<String> {
        match self {
            Language::Python(a, b) => {
                vec![
                    format!("python/lib/python{a}.{b}/site-packages"),
                    "python".into(),
                ]
            }
            Language::Node(n) => vec![
                format!("nodejs/node{n}/node_modules"),
                "nodejs/node_modules".into(),
            ],
            Language::Ruby(a, b) => vec![format!("ruby/gems/{a}.{b}.0"), "ruby/lib".into()],
            Language::Java => vec!["java/lib".into()],
            Language::Dotnet | Language::OsOnly => Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_is_valid() {
        let t = RuntimeTable::parse(EMBEDDED).unwrap();
        assert!(t.runtimes.len() > 40);
        let p = t.get("python3.8").unwrap();
        assert_eq!(p.deprecation.as_deref(), Some("2024-10-14"));
        assert_eq!(p.os, Os::Al2);
        assert_eq!(t.get("python3.12").unwrap().os, Os::Al2023);
        let mut ids: Vec<&str> = t.runtimes.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), t.runtimes.len(), "an id appears twice");
    }

    #[test]
    fn languages_and_layer_dirs() {
        assert_eq!(Language::of("python3.12"), Some(Language::Python(3, 12)));
        assert_eq!(Language::of("nodejs22.x"), Some(Language::Node(22)));
        assert_eq!(Language::of("provided.al2023"), Some(Language::OsOnly));
        assert_eq!(Language::of("cobol"), None);
        assert_eq!(
            Language::Node(22).layer_dirs(),
            vec!["nodejs/node22/node_modules", "nodejs/node_modules"]
        );
        assert_eq!(
            Language::Python(3, 11).layer_dirs()[0],
            "python/lib/python3.11/site-packages"
        );
    }

    #[test]
    fn synced_tables_replace_older_ones_only() {
        let d = tempfile::tempdir().unwrap();
        let mut t = RuntimeTable::embedded();
        t.as_of = "2099-01-01".into();
        t.runtimes[0].deprecation = Some("2099-02-01".into());
        let newer = serde_json::to_vec(&t).unwrap();
        let note = store_synced(d.path(), &newer, "mirror").unwrap();
        assert!(note.contains("updated to 2099-01-01"), "{note}");
        assert_eq!(RuntimeTable::load(Some(d.path())).as_of, "2099-01-01");
        let note = store_synced(d.path(), EMBEDDED.as_bytes(), "mirror").unwrap();
        assert!(note.contains("not newer"), "{note}");
        assert!(store_synced(d.path(), b"{\"as_of\": 1}", "mirror").is_err());
        assert!(
            store_synced(
                d.path(),
                b"{\"source\":\"x\",\"as_of\":\"2100-02-30\",\"runtimes\":[]}",
                "m"
            )
            .is_err()
        );
    }
}
