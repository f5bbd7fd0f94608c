//! The registry-metadata store: a sled database in its own directory
//! beside the advisory store (`<db>/registry-metadata/`), holding the
//! digested registry documents resolution reads ([`super::model`]) and,
//! per document, how it was fetched (ETag, Last-Modified, time, or that
//! the registry has no such name). It is exported and imported as one
//! gzip-compressed JSON-lines file, so an offline machine resolves from
//! exactly the documents a connected one fetched.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The kinds of document the store holds (one sled tree each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocKind {
    /// npm package documents, by name.
    Npm,
    /// PyPI projects, by normalised name.
    Pypi,
    /// Wheel core metadata, by `<normalised name>/<file name>`.
    PypiMetadata,
    /// crates.io index entries, by lower-case name.
    Crates,
}

impl DocKind {
    /// Every kind.
    pub const ALL: [DocKind; 4] = [
        DocKind::Npm,
        DocKind::Pypi,
        DocKind::PypiMetadata,
        DocKind::Crates,
    ];

    /// The tree name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Npm => "npm",
            DocKind::Pypi => "pypi",
            DocKind::PypiMetadata => "pypi-metadata",
            DocKind::Crates => "crates",
        }
    }

    fn parse(s: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How a document was fetched.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FetchInfo {
    /// When (Unix seconds).
    pub fetched_at: u64,
    /// The response's ETag, for a conditional request next time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The response's Last-Modified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// True when the registry answered that the name does not exist.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
}

/// Metadata-store errors, each naming the store directory or file.
#[derive(Debug, Error)]
pub enum MetaStoreError {
    /// sled failed.
    #[error("registry-metadata store {path}: {source}")]
    Sled {
        /// The store directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: sled::Error,
    },
    /// A stored entry could not be decoded.
    #[error("registry-metadata store {path}: corrupted entry {key}: {source}")]
    Corrupt {
        /// The store directory.
        path: PathBuf,
        /// The entry.
        key: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// An export file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An import file is not a metadata export.
    #[error("{path} line {line}: not a depwarden registry-metadata export: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Why.
        reason: String,
    },
}

/// What `db status` says about the store.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MetaStatus {
    /// The store directory.
    pub path: String,
    /// Bytes on disk.
    pub bytes: u64,
    /// Documents per kind.
    pub documents: std::collections::BTreeMap<String, u64>,
    /// The oldest and newest fetch times (RFC 3339), when any.
    pub oldest_fetch: Option<String>,
    /// The newest fetch.
    pub newest_fetch: Option<String>,
}

/// The first line of an export file.
const EXPORT_FORMAT: &str = "depwarden-registry-metadata";

#[derive(Serialize, Deserialize)]
struct ExportLine {
    t: String,
    k: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<serde_json::Value>,
    f: FetchInfo,
}

/// The open store.
#[derive(Debug, Clone)]
pub struct MetaStore {
    path: PathBuf,
    db: sled::Db,
}

impl MetaStore {
    /// The store directory for an advisory database directory.
    pub fn dir_for(db_dir: &Path) -> PathBuf {
        db_dir.join("registry-metadata")
    }

    /// Opens (creating) the store in `dir`.
    pub fn open(dir: &Path) -> Result<MetaStore, MetaStoreError> {
        let db = sled::Config::new()
            .path(dir)
            .open()
            .map_err(|source| MetaStoreError::Sled {
                path: dir.to_path_buf(),
                source,
            })?;
        Ok(MetaStore {
            path: dir.to_path_buf(),
            db,
        })
    }

    /// Opens the store only when it exists (an offline resolution never
    /// creates one).
    pub fn open_existing(dir: &Path) -> Result<Option<MetaStore>, MetaStoreError> {
        if dir.join("db").exists() || dir.join("conf").exists() {
            MetaStore::open(dir).map(Some)
        } else {
            Ok(None)
        }
    }

    fn sled_err(&self, source: sled::Error) -> MetaStoreError {
        MetaStoreError::Sled {
            path: self.path.clone(),
            source,
        }
    }

    fn tree(&self, name: &str) -> Result<sled::Tree, MetaStoreError> {
        self.db.open_tree(name).map_err(|e| self.sled_err(e))
    }

    /// The stored bytes of a document.
    pub fn get_raw(&self, kind: DocKind, key: &str) -> Result<Option<Vec<u8>>, MetaStoreError> {
        Ok(self
            .tree(kind.as_str())?
            .get(key)
            .map_err(|e| self.sled_err(e))?
            .map(|v| v.to_vec()))
    }

    /// A document, decoded.
    pub fn get<T: DeserializeOwned>(
        &self,
        kind: DocKind,
        key: &str,
    ) -> Result<Option<T>, MetaStoreError> {
        let Some(bytes) = self.get_raw(kind, key)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| MetaStoreError::Corrupt {
                path: self.path.clone(),
                key: format!("{}/{key}", kind.as_str()),
                source,
            })
    }

    /// How a document was fetched, when it was.
    pub fn fetch_info(
        &self,
        kind: DocKind,
        key: &str,
    ) -> Result<Option<FetchInfo>, MetaStoreError> {
        let Some(bytes) = self
            .tree("fetch")?
            .get(fetch_key(kind, key))
            .map_err(|e| self.sled_err(e))?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| MetaStoreError::Corrupt {
                path: self.path.clone(),
                key: format!("fetch/{}/{key}", kind.as_str()),
                source,
            })
    }

    /// Stores a document (or, with `None`, that the name does not exist)
    /// and how it was fetched.
    pub fn put<T: Serialize>(
        &self,
        kind: DocKind,
        key: &str,
        doc: Option<&T>,
        info: &FetchInfo,
    ) -> Result<(), MetaStoreError> {
        let tree = self.tree(kind.as_str())?;
        match doc {
            Some(doc) => {
                let bytes = serde_json::to_vec(doc).map_err(|source| MetaStoreError::Corrupt {
                    path: self.path.clone(),
                    key: key.to_string(),
                    source,
                })?;
                tree.insert(key, bytes).map_err(|e| self.sled_err(e))?;
            }
            None => {
                tree.remove(key).map_err(|e| self.sled_err(e))?;
            }
        }
        self.touch(kind, key, info)
    }

    /// Records how a document was (re)fetched without changing it (a 304).
    pub fn touch(&self, kind: DocKind, key: &str, info: &FetchInfo) -> Result<(), MetaStoreError> {
        let bytes = serde_json::to_vec(info).map_err(|source| MetaStoreError::Corrupt {
            path: self.path.clone(),
            key: key.to_string(),
            source,
        })?;
        self.tree("fetch")?
            .insert(fetch_key(kind, key), bytes)
            .map_err(|e| self.sled_err(e))?;
        Ok(())
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<(), MetaStoreError> {
        self.db.flush().map_err(|e| self.sled_err(e))?;
        Ok(())
    }

    /// Size, document counts and fetch ages.
    pub fn status(&self) -> Result<MetaStatus, MetaStoreError> {
        let mut documents = std::collections::BTreeMap::new();
        for kind in DocKind::ALL {
            documents.insert(
                kind.as_str().to_string(),
                self.tree(kind.as_str())?.len() as u64,
            );
        }
        let (mut oldest, mut newest) = (None::<u64>, None::<u64>);
        for item in self.tree("fetch")?.iter() {
            let (_, v) = item.map_err(|e| self.sled_err(e))?;
            if let Ok(info) = serde_json::from_slice::<FetchInfo>(&v) {
                oldest = Some(oldest.map_or(info.fetched_at, |o| o.min(info.fetched_at)));
                newest = Some(newest.map_or(info.fetched_at, |n| n.max(info.fetched_at)));
            }
        }
        Ok(MetaStatus {
            path: self.path.display().to_string(),
            bytes: self.db.size_on_disk().map_err(|e| self.sled_err(e))?,
            documents,
            oldest_fetch: oldest.map(crate::clock::rfc3339),
            newest_fetch: newest.map(crate::clock::rfc3339),
        })
    }

    /// Writes every document and its fetch record to `file` (gzip JSON
    /// lines), atomically. Returns the number of entries written.
    pub fn export(&self, file: &Path) -> Result<usize, MetaStoreError> {
        let io = |source| MetaStoreError::Io {
            path: file.to_path_buf(),
            source,
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        writeln!(gz, "{{\"format\":\"{EXPORT_FORMAT}\",\"version\":1}}").map_err(io)?;
        let mut count = 0;
        for item in self.tree("fetch")?.iter() {
            let (k, v) = item.map_err(|e| self.sled_err(e))?;
            let key = String::from_utf8_lossy(&k).to_string();
            let Some((kind, name)) = key
                .split_once('\0')
                .and_then(|(t, n)| Some((DocKind::parse(t)?, n.to_string())))
            else {
                continue;
            };
            let f: FetchInfo =
                serde_json::from_slice(&v).map_err(|source| MetaStoreError::Corrupt {
                    path: self.path.clone(),
                    key: key.clone(),
                    source,
                })?;
            let v = match self.get_raw(kind, &name)? {
                Some(raw) => Some(serde_json::from_slice(&raw).map_err(|source| {
                    MetaStoreError::Corrupt {
                        path: self.path.clone(),
                        key: name.clone(),
                        source,
                    }
                })?),
                None => None,
            };
            let line = ExportLine {
                t: kind.as_str().to_string(),
                k: name,
                v,
                f,
            };
            serde_json::to_writer(&mut gz, &line).map_err(|e| io(e.into()))?;
            gz.write_all(b"\n").map_err(io)?;
            count += 1;
        }
        let bytes = gz.finish().map_err(io)?;
        crate::atomic::write_atomic(file, &bytes).map_err(io)?;
        Ok(count)
    }

    /// Reads an export file into the store (entries with the same key are
    /// replaced). The whole file is checked before anything is written.
    pub fn import(&self, file: &Path) -> Result<usize, MetaStoreError> {
        let io = |source| MetaStoreError::Io {
            path: file.to_path_buf(),
            source,
        };
        let bad = |line: usize, reason: String| MetaStoreError::Format {
            path: file.to_path_buf(),
            line,
            reason,
        };
        let f = std::fs::File::open(file).map_err(io)?;
        let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(f));
        let mut entries = Vec::new();
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| bad(i + 1, e.to_string()))?;
            if i == 0 {
                let head: serde_json::Value =
                    serde_json::from_str(&line).map_err(|e| bad(1, e.to_string()))?;
                if head.get("format").and_then(|v| v.as_str()) != Some(EXPORT_FORMAT) {
                    return Err(bad(1, "missing header".into()));
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let e: ExportLine =
                serde_json::from_str(&line).map_err(|e| bad(i + 1, e.to_string()))?;
            let kind = DocKind::parse(&e.t).ok_or_else(|| bad(i + 1, format!("kind {}", e.t)))?;
            entries.push((kind, e));
        }
        if entries.is_empty() {
            return Err(bad(1, "no entries".into()));
        }
        for (kind, e) in &entries {
            self.put(kind.to_owned(), &e.k, e.v.as_ref(), &e.f)?;
        }
        self.flush()?;
        Ok(entries.len())
    }
}

fn fetch_key(kind: DocKind, key: &str) -> String {
    format!("{}\0{key}", kind.as_str())
}
