//! The packed read index of a generation: one immutable file, written by
//! the writer next to the sled database just before the generation becomes
//! current, and memory-mapped by scans.
//!
//! A scan needs three read-only key/value tables (package index, record
//! references, aliases) and the status. Opening sled costs a log recovery
//! (and writes) at every start and allows one process at a time; mapping
//! this file costs one `open`, one `mmap` and a checksum of its header
//! and status, and any number of scans can read it at once. The records themselves
//! are in the record file ([`super::recfile`]); sled keeps the same
//! tables in chunks ([`super::catalog`]) for the writer and as the
//! fallback of a damaged file.
//!
//! Layout (little-endian):
//! - header, [`HEADER_LEN`] bytes: magic, file length, status offset and
//!   length, then per table (index, records, aliases) its offset and entry
//!   count, the offset of the values area and a checksum of the header
//!   and the status;
//! - the status as JSON;
//! - three tables of fixed [`ENTRY_LEN`]-byte entries `(key offset u64,
//!   key length u32, value offset u64, value length u32, value checksum
//!   u32, entry checksum u32)`, each sorted by key bytes; the entry
//!   checksum covers the entry's other fields and its key;
//! - the keys;
//! - the values (compiled index entries and record references in the
//!   forms of [`super::codec`], alias targets as text), read only for the
//!   keys a scan looks up.
//!
//! Everything a scan reads is verified, and only what it reads: the
//! header and status by one checksum when the file is opened, each table
//! entry and its key by the entry's checksum whenever a lookup visits it
//! (a binary search visits about 20), and each value by its own checksum
//! (in its entry, so under the entry's) when it is read. Opening costs
//! the same for 1,000 records or 400,000, and a scan touches only the
//! pages of the entries it looks up; an edit of any byte, of any length,
//! is caught by the first read that depends on it. Every offset is
//! checked against the file before use: a damaged file gives
//! [`StoreError::Corrupt`] naming it, never a panic, a read out of
//! bounds or a silently different answer.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::error::{StoreError, damaged as damaged_file};
use super::status::StoreStatus;

/// The file name inside a generation directory.
pub const FILE_NAME: &str = "packed.idx";

const MAGIC: &[u8; 8] = b"DWPACK04";
/// The magics of earlier layouts (no value checksums; records kept as
/// JSON in the index; one checksum over all tables), refused.
const OLD_MAGICS: [&[u8; 8]; 3] = [b"DWPACK01", b"DWPACK02", b"DWPACK03"];
/// Header size in bytes.
pub const HEADER_LEN: usize = 96;
/// Table entry size in bytes.
pub const ENTRY_LEN: usize = 32;

/// The three tables of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `ecosystem \0 normalised name` -> the package's compiled entries.
    Index = 0,
    /// Record id -> where its compressed JSON is ([`super::codec::RecordRef`]).
    Records = 1,
    /// Upper-cased id or alias -> record id.
    Aliases = 2,
}

pub(crate) const TABLES: usize = 3;

impl Table {
    /// The three tables, in file order.
    pub const ALL: [Table; TABLES] = [Table::Index, Table::Records, Table::Aliases];
}

/// Key/value pairs of one table, in any order (the writer sorts them).
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Writes a packed file at `path` (through a temporary file in the same
/// directory, synced, then renamed, so a crash never leaves a partial file
/// under the final name).
pub fn write(
    path: &Path,
    status: &StoreStatus,
    mut tables: [Pairs; TABLES],
) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let status_json = serde_json::to_vec(status).map_err(|source| StoreError::Encode {
        path: path.to_path_buf(),
        what: "the status".into(),
        source,
    })?;
    for t in tables.iter_mut() {
        t.sort_by(|a, b| a.0.cmp(&b.0));
        t.dedup_by(|a, b| a.0 == b.0);
    }
    let status_off = HEADER_LEN as u64;
    let tables_off = status_off + status_json.len() as u64;
    let mut table_offs = [0u64; TABLES];
    let mut off = tables_off;
    for (i, t) in tables.iter().enumerate() {
        table_offs[i] = off;
        off += (t.len() * ENTRY_LEN) as u64;
    }
    let keys_off = off;
    let keys_len: u64 = tables
        .iter()
        .flat_map(|t| t.iter().map(|(k, _)| k.len() as u64))
        .sum();
    let values_off = keys_off + keys_len;
    let values_len: u64 = tables
        .iter()
        .flat_map(|t| t.iter().map(|(_, v)| v.len() as u64))
        .sum();
    let file_len = values_off + values_len;

    // Status, tables and keys.
    let mut region = Vec::with_capacity((values_off - status_off) as usize);
    region.extend_from_slice(&status_json);
    let mut key_at = keys_off;
    let mut value_at = values_off;
    for t in &tables {
        for (k, v) in t {
            let start = region.len();
            region.extend_from_slice(&key_at.to_le_bytes());
            region.extend_from_slice(&len32(k.len(), path)?.to_le_bytes());
            region.extend_from_slice(&value_at.to_le_bytes());
            region.extend_from_slice(&len32(v.len(), path)?.to_le_bytes());
            region.extend_from_slice(&checksum32(&[v]).to_le_bytes());
            let sum = checksum32(&[&region[start..], k]);
            region.extend_from_slice(&sum.to_le_bytes());
            key_at += k.len() as u64;
            value_at += v.len() as u64;
        }
    }
    for t in &tables {
        for (k, _) in t {
            region.extend_from_slice(k);
        }
    }
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&file_len.to_le_bytes());
    header.extend_from_slice(&status_off.to_le_bytes());
    header.extend_from_slice(&(status_json.len() as u64).to_le_bytes());
    for (i, t) in tables.iter().enumerate() {
        header.extend_from_slice(&table_offs[i].to_le_bytes());
        header.extend_from_slice(&(t.len() as u64).to_le_bytes());
    }
    header.extend_from_slice(&values_off.to_le_bytes());
    let sum = checksum(&[&header, &status_json]);
    header.extend_from_slice(&sum.to_le_bytes());
    header.resize(HEADER_LEN, 0);

    let tmp = path.with_extension("idx.tmp");
    let file = File::create(&tmp).map_err(io)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(&header).map_err(io)?;
    w.write_all(&region).map_err(io)?;
    for t in &tables {
        for (_, v) in t {
            w.write_all(v).map_err(io)?;
        }
    }
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(())
}

fn len32(n: usize, path: &Path) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| {
        damaged_file(
            path,
            "packed index",
            format!("a value of {n} bytes is too large for the packed index"),
        )
    })
}

/// A 64-bit checksum of `parts` in turn, eight bytes at a time (detects
/// damage, not tampering).
pub(crate) fn checksum(parts: &[&[u8]]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h: u64 = K;
    for bytes in parts {
        h = (h.rotate_left(23) ^ bytes.len() as u64).wrapping_mul(K);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(23) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    h ^ (h >> 29)
}

/// [`checksum`] folded to 32 bits (the checksums of table entries and
/// values).
pub(crate) fn checksum32(parts: &[&[u8]]) -> u32 {
    let h = checksum(parts);
    (h ^ (h >> 32)) as u32
}

/// Where the checksum sits in the header: after the magic, the file
/// length, the status range, the tables and the values offset.
const CHECKSUM_AT: usize = 8 * (5 + 2 * TABLES);

/// An open packed file.
pub(crate) struct Packed {
    path: PathBuf,
    map: memmap2::Mmap,
    tables: [(usize, usize); TABLES],
    status: StoreStatus,
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packed").field("path", &self.path).finish()
    }
}

/// A damaged-file error naming the packed file at `path`.
fn damaged(path: &Path, reason: String) -> StoreError {
    damaged_file(path, "packed index", reason)
}

fn read_u64(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(s);
    Some(u64::from_le_bytes(w))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    let mut w = [0u8; 4];
    w.copy_from_slice(s);
    Some(u32::from_le_bytes(w))
}

impl Packed {
    /// Opens the packed file of a generation directory. `Ok(None)` when
    /// the generation has none (written by an older version).
    pub fn open(gen_dir: &Path) -> Result<Option<Packed>, StoreError> {
        let path = gen_dir.join(FILE_NAME);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        // SAFETY: a generation's packed file is written once under a
        // temporary name and renamed into place; nothing writes to or
        // truncates it afterwards (a newer generation is a new directory,
        // and removing an old one only unlinks the file, which keeps the
        // mapping valid). Every access below is bounds-checked.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        Packed::from_map(path, map).map(Some)
    }

    fn from_map(path: PathBuf, map: memmap2::Mmap) -> Result<Packed, StoreError> {
        let corrupt = |reason: &str| {
            damaged(
                &path,
                format!("{reason}; rebuild it with `depwarden db import` or `db sync`"),
            )
        };
        let b: &[u8] = &map;
        if b.len() >= 8 && OLD_MAGICS.iter().any(|m| &b[..8] == *m) {
            return Err(corrupt("written by an older depwarden in another layout"));
        }
        if b.len() < HEADER_LEN || &b[..8] != MAGIC {
            return Err(corrupt("not a depwarden packed index (bad header)"));
        }
        let field = |i: usize| read_u64(b, 8 + 8 * i).ok_or_else(|| corrupt("short header"));
        let as_usize = |v: u64| usize::try_from(v).map_err(|_| corrupt("offset out of range"));
        let file_len = as_usize(field(0)?)?;
        if file_len != b.len() {
            return Err(corrupt(&format!(
                "truncated or extended: {} bytes, header says {file_len}",
                b.len()
            )));
        }
        let status_off = as_usize(field(1)?)?;
        let status_len = as_usize(field(2)?)?;
        let mut tables = [(0usize, 0usize); TABLES];
        for (i, t) in tables.iter_mut().enumerate() {
            *t = (as_usize(field(3 + 2 * i)?)?, as_usize(field(4 + 2 * i)?)?);
        }
        let values_off = as_usize(field(3 + 2 * TABLES)?)?;
        let sum = field(4 + 2 * TABLES)?;
        let status_end = status_off.saturating_add(status_len);
        if status_off != HEADER_LEN || values_off < status_end || values_off > b.len() {
            return Err(corrupt("bad section offsets"));
        }
        let status_bytes = &b[status_off..status_end];
        if checksum(&[&b[..CHECKSUM_AT], status_bytes]) != sum {
            return Err(corrupt("checksum mismatch"));
        }
        for &(off, count) in &tables {
            let end = count
                .checked_mul(ENTRY_LEN)
                .and_then(|n| n.checked_add(off))
                .ok_or_else(|| corrupt("table size overflows"))?;
            if off < status_end || end > values_off {
                return Err(corrupt("table outside its section"));
            }
        }
        let status: StoreStatus = serde_json::from_slice(status_bytes)
            .map_err(|e| corrupt(&format!("status does not decode: {e}")))?;
        Ok(Packed {
            path,
            map,
            tables,
            status,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The status stored with the generation.
    pub fn status(&self) -> &StoreStatus {
        &self.status
    }

    /// Number of entries of a table.
    fn len(&self, table: Table) -> usize {
        self.tables[table as usize].1
    }

    fn slice(&self, off: u64, len: u32) -> Result<&[u8], StoreError> {
        let start = usize::try_from(off).ok();
        let end = start.and_then(|s| s.checked_add(len as usize));
        match (start, end) {
            (Some(s), Some(e)) => self.map.get(s..e),
            _ => None,
        }
        .ok_or_else(|| {
            damaged(
                &self.path,
                format!("entry points outside the file ({off}+{len})"),
            )
        })
    }

    /// The entry `i` of a table, checked against its checksum: (key,
    /// value offset, value length, value checksum).
    fn entry(&self, table: Table, i: usize) -> Result<(&[u8], u64, u32, u32), StoreError> {
        let (off, _) = self.tables[table as usize];
        let at = off + i * ENTRY_LEN;
        let b: &[u8] = &self.map;
        let bad = || damaged(&self.path, "table entry outside the file".into());
        let fields = b.get(at..at + ENTRY_LEN - 4).ok_or_else(bad)?;
        let key_off = read_u64(b, at).ok_or_else(bad)?;
        let key_len = read_u32(b, at + 8).ok_or_else(bad)?;
        let val_off = read_u64(b, at + 12).ok_or_else(bad)?;
        let val_len = read_u32(b, at + 20).ok_or_else(bad)?;
        let val_sum = read_u32(b, at + 24).ok_or_else(bad)?;
        let entry_sum = read_u32(b, at + 28).ok_or_else(bad)?;
        // A damaged offset can point anywhere: the checksum decides, and
        // a key that cannot be sliced is damage all the same.
        let key = self.slice(key_off, key_len).unwrap_or_default();
        if checksum32(&[fields, key]) != entry_sum || key.len() != key_len as usize {
            return Err(damaged(
                &self.path,
                format!(
                    "entry {i} of the {table:?} table fails its checksum (the file was modified); rebuild it with `depwarden db import` or `db sync`"
                ),
            ));
        }
        Ok((key, val_off, val_len, val_sum))
    }

    /// Every (key, value) of `table` in key order, each value checked
    /// against its checksum (the writer copies from them).
    pub fn for_each(
        &self,
        table: Table,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for i in 0..self.len(table) {
            let (k, val_off, val_len, val_sum) = self.entry(table, i)?;
            let value = self.checked(k, val_off, val_len, val_sum)?;
            f(k, value)?;
        }
        Ok(())
    }

    fn checked(&self, key: &[u8], off: u64, len: u32, sum: u32) -> Result<&[u8], StoreError> {
        let value = self.slice(off, len)?;
        if checksum32(&[value]) != sum {
            return Err(damaged(
                &self.path,
                format!(
                    "the value of {:?} fails its checksum (the file was modified); rebuild it with `depwarden db import` or `db sync`",
                    String::from_utf8_lossy(key)
                ),
            ));
        }
        Ok(value)
    }

    /// The value stored under `key` in `table`, by binary search, checked
    /// against its checksum.
    pub fn get(&self, table: Table, key: &[u8]) -> Result<Option<&[u8]>, StoreError> {
        let (mut lo, mut hi) = (0usize, self.len(table));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, val_off, val_len, val_sum) = self.entry(table, mid)?;
            match k.cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    return self.checked(k, val_off, val_len, val_sum).map(Some);
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> StoreStatus {
        StoreStatus {
            source: Some("test".into()),
            imported_at: Some("2026-01-01T00:00:00Z".into()),
            ecosystems: Vec::new(),
        }
    }

    fn pairs(kv: &[(&str, &str)]) -> Pairs {
        kv.iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    fn sample(dir: &Path) -> PathBuf {
        let path = dir.join(FILE_NAME);
        write(
            &path,
            &status(),
            [
                pairs(&[("npm\0b", "[2]"), ("npm\0a", "[1]"), ("PyPI\0c", "[3]")]),
                pairs(&[("GHSA-1", "{}")]),
                pairs(&[]),
            ],
        )
        .expect("write");
        path
    }

    #[test]
    fn writes_and_reads_back() {
        let dir = tempfile::tempdir().expect("tmp");
        sample(dir.path());
        let p = Packed::open(dir.path()).expect("open").expect("present");
        assert_eq!(p.status(), &status());
        assert_eq!(p.get(Table::Index, b"npm\0a").unwrap(), Some(&b"[1]"[..]));
        assert_eq!(p.get(Table::Index, b"npm\0b").unwrap(), Some(&b"[2]"[..]));
        assert_eq!(p.get(Table::Index, b"PyPI\0c").unwrap(), Some(&b"[3]"[..]));
        assert_eq!(p.get(Table::Index, b"npm\0c").unwrap(), None);
        assert_eq!(p.get(Table::Records, b"GHSA-1").unwrap(), Some(&b"{}"[..]));
        assert_eq!(p.get(Table::Aliases, b"x").unwrap(), None);
    }

    #[test]
    fn missing_file_is_none() {
        let dir = tempfile::tempdir().expect("tmp");
        assert!(Packed::open(dir.path()).expect("open").is_none());
    }

    #[test]
    fn damage_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = sample(dir.path());
        let good = std::fs::read(&path).expect("read");
        let status_end = HEADER_LEN + serde_json::to_vec(&status()).expect("json").len();
        // One flipped bit in the header or the status is detected at open.
        for i in 0..status_end {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            std::fs::write(&path, &bad).expect("write");
            match Packed::open(dir.path()) {
                Err(StoreError::Corrupt { path: p, .. }) => assert!(p.ends_with(FILE_NAME)),
                Err(e) => panic!("byte {i}: unexpected error {e}"),
                // The header's unused tail.
                Ok(_) if (CHECKSUM_AT + 8..HEADER_LEN).contains(&i) => {}
                Ok(_) => panic!("byte {i}: damage not detected"),
            }
        }
        // Past the status (tables, keys, values), the read that depends
        // on the byte fails, naming the file; no read answers otherwise
        // than the intact file.
        type Lookup = (Table, &'static [u8], Option<&'static [u8]>);
        let keys: [Lookup; 6] = [
            (Table::Index, b"npm\0a", Some(b"[1]")),
            (Table::Index, b"npm\0b", Some(b"[2]")),
            (Table::Index, b"PyPI\0c", Some(b"[3]")),
            (Table::Index, b"npm\0c", None),
            (Table::Records, b"GHSA-1", Some(b"{}")),
            (Table::Aliases, b"x", None),
        ];
        for i in status_end..good.len() {
            for flip in [0x01u8, 0x80] {
                let mut bad = good.clone();
                bad[i] ^= flip;
                std::fs::write(&path, &bad).expect("write");
                let p = Packed::open(dir.path()).expect("open").expect("present");
                let mut failed = Vec::new();
                for (table, key, want) in keys {
                    match p.get(table, key) {
                        Ok(v) => assert_eq!(v, want, "byte {i}: {key:?}"),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                for table in Table::ALL {
                    if let Err(e) = p.for_each(table, |_, _| Ok(())) {
                        failed.push(e.to_string());
                    }
                }
                assert!(!failed.is_empty(), "byte {i}: damage not detected");
                for f in &failed {
                    assert!(
                        f.contains(FILE_NAME) && (f.contains("checksum") || f.contains("outside")),
                        "byte {i}: {f}"
                    );
                }
            }
        }
        std::fs::write(&path, &good[..good.len() - 1]).expect("write");
        let err = Packed::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(FILE_NAME) && err.contains("truncated"),
            "{err}"
        );
    }
}
