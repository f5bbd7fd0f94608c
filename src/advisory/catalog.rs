//! The sled side of a generation: the writer's catalog and the readers'
//! fallback. sled holds the generation's status and the same three tables
//! as the packed index (package index, record references, aliases), in
//! ordered chunks of about 64 KB (compressed with zstd) keyed by their
//! first key: a few hundred sled writes for a 200,000-record import
//! instead of a million (sled took 2.4 s and 72 MB of disk for 200,000
//! keys of 100 bytes), and a lookup is one range read and a scan of one
//! chunk. The records themselves are only in the record file.
//!
//! A scan opens sled only when the packed index is missing or damaged; a
//! writer reads the previous generation through the same tables.

use std::path::Path;
use std::time::{Duration, Instant};

use super::codec::Reader;
use super::error::{StoreError, damaged, sled_err};
use super::packed::{Pairs, Table};
use super::status::StoreStatus;

/// The catalog format; a generation without it (or with another) was
/// written by another version of depwarden.
const FORMAT: &[u8] = b"3";
/// Target size of one chunk.
const CHUNK: usize = 64 * 1024;

/// Opens a sled database, waiting up to `wait` while another process holds
/// its file lock (sled allows one process at a time).
pub(crate) fn open_sled(dir: &Path, wait: Duration) -> Result<sled::Db, StoreError> {
    let start = Instant::now();
    loop {
        match sled::Config::new()
            .path(dir)
            .cache_capacity(4 * 1024 * 1024)
            .flush_every_ms(None)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("lock") =>
            {
                if start.elapsed() >= wait {
                    return Err(StoreError::Sled {
                        path: dir.to_path_buf(),
                        source: sled::Error::Io(e),
                    });
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(e) => {
                return Err(StoreError::Sled {
                    path: dir.to_path_buf(),
                    source: e,
                });
            }
        }
    }
}

/// Writes the status and the tables (each sorted by key) of a generation
/// into its sled database, and flushes it.
pub(crate) fn write(
    db: &sled::Db,
    dir: &Path,
    status_json: &[u8],
    tables: &[Pairs],
) -> Result<(), StoreError> {
    let chunks = db.open_tree("chunks").map_err(sled_err(dir))?;
    for (t, pairs) in Table::ALL.iter().zip(tables) {
        let mut batch = sled::Batch::default();
        let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK + 1024);
        let mut first: Option<&[u8]> = None;
        for (k, v) in pairs {
            if first.is_none() {
                first = Some(k);
            }
            put(&mut chunk, k);
            put(&mut chunk, v);
            if chunk.len() >= CHUNK {
                batch.insert(chunk_key(*t, first.unwrap_or_default()), pack(&chunk, dir)?);
                chunk.clear();
                first = None;
            }
        }
        if let Some(f) = first {
            batch.insert(chunk_key(*t, f), pack(&chunk, dir)?);
        }
        chunks.apply_batch(batch).map_err(sled_err(dir))?;
    }
    let meta = db.open_tree("meta").map_err(sled_err(dir))?;
    meta.insert(b"format", FORMAT).map_err(sled_err(dir))?;
    meta.insert(b"status", status_json).map_err(sled_err(dir))?;
    db.flush().map_err(sled_err(dir))?;
    Ok(())
}

/// A visitor of (key, value) pairs of a table.
pub(crate) type Visit<'a, T> = dyn FnMut(&[u8], &[u8]) -> Result<T, StoreError> + 'a;

fn pack(chunk: &[u8], dir: &Path) -> Result<Vec<u8>, StoreError> {
    zstd::bulk::compress(chunk, 1).map_err(super::error::io_err(dir))
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut n = bytes.len() as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(bytes);
}

fn chunk_key(t: Table, first: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(first.len() + 1);
    k.push(t as u8);
    k.extend_from_slice(first);
    k
}

/// The sled catalog of a committed generation, open for reading.
pub(crate) struct Catalog {
    dir: std::path::PathBuf,
    chunks: sled::Tree,
    meta: sled::Tree,
    _db: sled::Db,
}

impl Catalog {
    /// Opens the catalog of a committed generation. One whose sled files
    /// are gone, or that holds no status (never committed, emptied, or
    /// written by another version), is an error: sled would otherwise
    /// create an empty store and every lookup would answer "no advisory".
    pub(crate) fn open(dir: &Path) -> Result<Catalog, StoreError> {
        let missing = |reason: &str| {
            damaged(
                dir,
                "sled store",
                format!("{reason}; rebuild it with `depwarden db import` or `depwarden db sync`"),
            )
        };
        if !dir.join("db").is_file() || !dir.join("conf").is_file() {
            return Err(missing("its files are missing"));
        }
        let db = open_sled(dir, Duration::from_secs(60))?;
        let meta = db.open_tree("meta").map_err(sled_err(dir))?;
        if !meta.contains_key(b"status").map_err(sled_err(dir))? {
            return Err(missing("it holds no committed data"));
        }
        if meta.get(b"format").map_err(sled_err(dir))?.as_deref() != Some(FORMAT) {
            return Err(missing("it was written by another version of depwarden"));
        }
        Ok(Catalog {
            dir: dir.to_path_buf(),
            chunks: db.open_tree("chunks").map_err(sled_err(dir))?,
            meta,
            _db: db,
        })
    }

    fn corrupt(&self, why: &str) -> StoreError {
        damaged(&self.dir, "sled chunk", why.to_string())
    }

    /// Calls `f` on each (key, value) of one chunk.
    fn each_in(&self, chunk: &[u8], f: &mut Visit<'_, bool>) -> Result<bool, StoreError> {
        let chunk =
            zstd::stream::decode_all(chunk).map_err(|_| self.corrupt("does not decompress"))?;
        let mut r = Reader::new(&chunk);
        while !r.done() {
            let k = r.bytes().map_err(|e| self.corrupt(e.0))?;
            let v = r.bytes().map_err(|e| self.corrupt(e.0))?;
            if !f(k, v)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The value of `key` in `table`.
    pub(crate) fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let lo = [table as u8];
        let hi = chunk_key(table, key);
        let Some(kv) = self.chunks.range(&lo[..]..=&hi[..]).next_back() else {
            return Ok(None);
        };
        let (_, chunk) = kv.map_err(sled_err(&self.dir))?;
        let mut found = None;
        self.each_in(&chunk, &mut |k, v| {
            if k == key {
                found = Some(v.to_vec());
                return Ok(false);
            }
            Ok(true)
        })?;
        Ok(found)
    }

    /// Every (key, value) of `table`, in key order.
    pub(crate) fn for_each(&self, table: Table, f: &mut Visit<'_, ()>) -> Result<(), StoreError> {
        for kv in self.chunks.scan_prefix([table as u8]) {
            let (_, chunk) = kv.map_err(sled_err(&self.dir))?;
            self.each_in(&chunk, &mut |k, v| f(k, v).map(|()| true))?;
        }
        Ok(())
    }

    /// The generation's status.
    pub(crate) fn status(&self) -> Result<StoreStatus, StoreError> {
        let bytes = self
            .meta
            .get(b"status")
            .map_err(sled_err(&self.dir))?
            .unwrap_or_default();
        serde_json::from_slice(&bytes).map_err(|e| damaged(&self.dir, "meta status", e.to_string()))
    }
}
