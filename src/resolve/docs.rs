//! What one resolution reads from the metadata store: documents with the
//! cutoff applied (versions and files published after it are invisible),
//! cached for the resolution, with a record of every document used (for
//! the digest the report states, and so that `--online` refreshes them) and
//! of every document that was needed but is not stored.

use super::fetch::Request;
use super::model::*;
use super::store::{DocKind, MetaStore};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// A document as one resolution sees it.
enum Entry<T> {
    /// Stored (cutoff applied).
    Doc(Rc<T>),
    /// The registry has no such name.
    Missing,
    /// Not in the store.
    NotFetched,
}

/// The documents of one resolution.
pub struct Docs<'a> {
    store: Option<&'a MetaStore>,
    cutoff: u64,
    npm: RefCell<HashMap<String, Option<Rc<NpmDoc>>>>,
    pypi: RefCell<HashMap<String, Option<Rc<PyProject>>>>,
    meta: RefCell<HashMap<String, Option<Rc<PyMetadata>>>>,
    crates: RefCell<HashMap<String, Option<Rc<CrateDoc>>>>,
    /// Documents read (kind, key) with a hash of what was visible.
    used: RefCell<BTreeMap<(DocKind, String), [u8; 32]>>,
    /// Documents needed and not stored.
    wanted: RefCell<BTreeSet<Request>>,
    /// Names the registry does not have.
    absent: RefCell<BTreeSet<(DocKind, String)>>,
    /// Store errors met (a corrupted entry counts as not stored).
    errors: RefCell<Vec<String>>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl<'a> Docs<'a> {
    /// Documents from `store` (none when there is no store) as of `cutoff`
    /// (Unix seconds).
    pub fn new(store: Option<&'a MetaStore>, cutoff: u64) -> Docs<'a> {
        Docs {
            store,
            cutoff,
            npm: RefCell::default(),
            pypi: RefCell::default(),
            meta: RefCell::default(),
            crates: RefCell::default(),
            used: RefCell::default(),
            wanted: RefCell::default(),
            absent: RefCell::default(),
            errors: RefCell::default(),
        }
    }

    /// The cutoff (Unix seconds).
    pub fn cutoff(&self) -> u64 {
        self.cutoff
    }

    fn visible(&self, t: Option<u64>) -> bool {
        t.is_none_or(|t| t <= self.cutoff)
    }

    fn load<T: serde::de::DeserializeOwned + serde::Serialize>(
        &self,
        kind: DocKind,
        key: &str,
        request: impl FnOnce() -> Request,
        cut: impl FnOnce(&mut T),
    ) -> Entry<T> {
        let Some(store) = self.store else {
            self.wanted.borrow_mut().insert(request());
            return Entry::NotFetched;
        };
        match store.get::<T>(kind, key) {
            Ok(Some(mut doc)) => {
                cut(&mut doc);
                let bytes = serde_json::to_vec(&doc).unwrap_or_default();
                self.used
                    .borrow_mut()
                    .insert((kind, key.to_string()), sha256(&bytes));
                Entry::Doc(Rc::new(doc))
            }
            Ok(None) => {
                if store
                    .fetch_info(kind, key)
                    .ok()
                    .flatten()
                    .is_some_and(|f| f.missing)
                {
                    self.used
                        .borrow_mut()
                        .insert((kind, key.to_string()), [0; 32]);
                    self.absent.borrow_mut().insert((kind, key.to_string()));
                    Entry::Missing
                } else {
                    self.wanted.borrow_mut().insert(request());
                    Entry::NotFetched
                }
            }
            Err(e) => {
                self.errors.borrow_mut().push(e.to_string());
                self.wanted.borrow_mut().insert(request());
                Entry::NotFetched
            }
        }
    }

    /// An npm package document.
    pub fn npm(&self, name: &str) -> Option<Rc<NpmDoc>> {
        if let Some(hit) = self.npm.borrow().get(name) {
            return hit.clone();
        }
        let e = self.load(
            DocKind::Npm,
            name,
            || Request::Npm(name.to_string()),
            |d: &mut NpmDoc| {
                d.versions.retain(|v| self.visible(v.time));
                let keep: BTreeSet<&str> = d.versions.iter().map(|v| v.version.as_str()).collect();
                d.tags.retain(|_, v| keep.contains(v.as_str()));
            },
        );
        let out = match e {
            Entry::Doc(d) => Some(d),
            _ => None,
        };
        self.npm.borrow_mut().insert(name.to_string(), out.clone());
        out
    }

    /// A PyPI project (by normalised name).
    pub fn pypi(&self, name: &str) -> Option<Rc<PyProject>> {
        if let Some(hit) = self.pypi.borrow().get(name) {
            return hit.clone();
        }
        let out = match self.load(
            DocKind::Pypi,
            name,
            || Request::Pypi(name.to_string()),
            |d: &mut PyProject| d.files.retain(|f| self.visible(f.time)),
        ) {
            Entry::Doc(d) => Some(d),
            _ => None,
        };
        self.pypi.borrow_mut().insert(name.to_string(), out.clone());
        out
    }

    /// A wheel's core metadata.
    pub fn pypi_metadata(&self, name: &str, file: &PyFile) -> Option<Rc<PyMetadata>> {
        let key = format!("{name}/{}", file.filename);
        if let Some(hit) = self.meta.borrow().get(&key) {
            return hit.clone();
        }
        let out = match self.load(
            DocKind::PypiMetadata,
            &key,
            || Request::PypiMetadata {
                key: key.clone(),
                url: file.url.clone(),
            },
            |_: &mut PyMetadata| {},
        ) {
            Entry::Doc(d) => Some(d),
            _ => None,
        };
        self.meta.borrow_mut().insert(key, out.clone());
        out
    }

    /// A crate's index entries (lower-case name).
    pub fn krate(&self, name: &str) -> Option<Rc<CrateDoc>> {
        let name = name.to_ascii_lowercase();
        if let Some(hit) = self.crates.borrow().get(&name) {
            return hit.clone();
        }
        let out = match self.load(
            DocKind::Crates,
            &name,
            || Request::Crates(name.clone()),
            |d: &mut CrateDoc| d.versions.retain(|v| self.visible(v.time)),
        ) {
            Entry::Doc(d) => Some(d),
            _ => None,
        };
        self.crates.borrow_mut().insert(name, out.clone());
        out
    }

    /// Documents needed and not stored.
    pub fn wanted(&self) -> Vec<Request> {
        self.wanted.borrow().iter().cloned().collect()
    }

    /// True when the registry is known not to have the document.
    pub fn is_absent(&self, kind: DocKind, key: &str) -> bool {
        self.absent.borrow().contains(&(kind, key.to_string()))
    }

    /// The documents read that can change upstream, as requests (to
    /// refresh them online; a wheel's metadata never changes).
    pub fn used(&self) -> Vec<Request> {
        self.used
            .borrow()
            .keys()
            .filter_map(|(kind, key)| match kind {
                DocKind::Npm => Some(Request::Npm(key.clone())),
                DocKind::Pypi => Some(Request::Pypi(key.clone())),
                DocKind::Crates => Some(Request::Crates(key.clone())),
                DocKind::PypiMetadata => None,
            })
            .collect()
    }

    /// Store errors met.
    pub fn errors(&self) -> Vec<String> {
        self.errors.borrow().clone()
    }

    /// `sha256:` digest of every document read, as visible at the cutoff,
    /// in key order.
    pub fn digest(&self) -> String {
        let mut all = Vec::new();
        for ((kind, key), h) in self.used.borrow().iter() {
            all.extend_from_slice(kind.as_str().as_bytes());
            all.push(0);
            all.extend_from_slice(key.as_bytes());
            all.push(0);
            all.extend_from_slice(h);
        }
        let d = sha256(&all);
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}
