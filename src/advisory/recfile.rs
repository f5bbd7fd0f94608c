//! The record file of a generation (`records.pack`): every record once,
//! as compact JSON compressed with zstd, most of them with a dictionary
//! trained on the import's own records (OSV records share most of their
//! keys and boilerplate, so a dictionary is what makes a 1 KB record
//! small). A record is found through its [`RecordRef`] (offset, length,
//! checksum, dictionary) in the packed index or the sled catalog.
//!
//! Layout: magic, the compressed records back to back, the dictionaries,
//! and a trailer (offset and count of the dictionaries, their checksum,
//! magic). The dictionaries are checked when the file is opened; each
//! record against its own checksum when it is read. A writer copies the
//! records it keeps from the previous generation's file as they are
//! (no decompression), with their dictionary.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::codec::RecordRef;
use super::error::{StoreError, damaged, io_err};
use super::packed::checksum;

/// The file name inside a generation directory.
pub const FILE_NAME: &str = "records.pack";
const MAGIC: &[u8; 8] = b"DWRECS01";
const TRAILER_LEN: usize = 8 + 4 + 8 + 8;
/// zstd level: fast; the dictionary does most of the work.
pub(crate) const LEVEL: i32 = 3;
/// Largest record accepted when decompressing (a record is a few KB).
const MAX_RAW: u32 = 64 * 1024 * 1024;

/// Writes a record file.
pub(crate) struct RecWriter {
    path: PathBuf,
    out: BufWriter<File>,
    at: u64,
    dicts: Vec<Vec<u8>>,
}

impl RecWriter {
    /// Creates the record file of a generation being written.
    pub(crate) fn create(gen_dir: &Path) -> Result<RecWriter, StoreError> {
        let path = gen_dir.join(FILE_NAME);
        let file = File::create(&path).map_err(io_err(&path))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(MAGIC).map_err(io_err(&path))?;
        Ok(RecWriter {
            path,
            out,
            at: MAGIC.len() as u64,
            dicts: Vec::new(),
        })
    }

    /// Registers a dictionary; returns its number for [`RecordRef::dict`]
    /// (the same bytes twice give the same number).
    pub(crate) fn add_dict(&mut self, dict: &[u8]) -> u16 {
        if let Some(i) = self.dicts.iter().position(|d| d == dict) {
            return (i + 1) as u16;
        }
        self.dicts.push(dict.to_vec());
        self.dicts.len() as u16
    }

    /// Appends compressed bytes; returns their offset.
    pub(crate) fn append(&mut self, blob: &[u8]) -> Result<u64, StoreError> {
        let at = self.at;
        self.out.write_all(blob).map_err(io_err(&self.path))?;
        self.at += blob.len() as u64;
        Ok(at)
    }

    /// Writes the dictionaries and the trailer, and syncs the file.
    pub(crate) fn finish(mut self) -> Result<(), StoreError> {
        let io = io_err(&self.path);
        let dict_at = self.at;
        let mut section = Vec::new();
        for d in &self.dicts {
            section.extend_from_slice(&(d.len() as u32).to_le_bytes());
            section.extend_from_slice(d);
        }
        self.out.write_all(&section).map_err(&io)?;
        self.out.write_all(&dict_at.to_le_bytes()).map_err(&io)?;
        self.out
            .write_all(&(self.dicts.len() as u32).to_le_bytes())
            .map_err(&io)?;
        self.out
            .write_all(&checksum(&[&section]).to_le_bytes())
            .map_err(&io)?;
        self.out.write_all(MAGIC).map_err(&io)?;
        let file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(&io)
    }
}

/// An open record file.
pub(crate) struct RecFile {
    path: PathBuf,
    map: memmap2::Mmap,
    /// (offset, length) of each dictionary, number 1 first.
    dicts: Vec<(usize, usize)>,
    prepared: Vec<OnceLock<zstd::dict::DecoderDictionary<'static>>>,
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl RecFile {
    /// Opens the record file of a generation.
    pub(crate) fn open(gen_dir: &Path) -> Result<RecFile, StoreError> {
        let path = gen_dir.join(FILE_NAME);
        let bad = |reason: &str| {
            damaged(
                &path,
                "record file",
                format!("{reason}; rebuild it with `depwarden db import` or `db sync`"),
            )
        };
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(bad(
                    "missing (a database written by an older depwarden, or damaged)",
                ));
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        // SAFETY: as for the packed index: the file is written once in a
        // generation directory that is not yet current, and never written
        // to again; every access is bounds-checked.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io_err(&path))?;
        let b: &[u8] = &map;
        if b.len() < MAGIC.len() + TRAILER_LEN || &b[..8] != MAGIC || &b[b.len() - 8..] != MAGIC {
            return Err(bad("not a depwarden record file, or truncated"));
        }
        let t = b.len() - TRAILER_LEN;
        let (Some(dict_at), Some(count), Some(sum)) =
            (u64_at(b, t), u32_at(b, t + 8), u64_at(b, t + 12))
        else {
            return Err(bad("short trailer"));
        };
        let dict_at = usize::try_from(dict_at).map_err(|_| bad("bad trailer"))?;
        let section = b.get(dict_at..t).ok_or_else(|| bad("bad trailer"))?;
        if checksum(&[section]) != sum {
            return Err(bad("the dictionaries fail their checksum"));
        }
        let mut dicts = Vec::new();
        let mut at = 0usize;
        for _ in 0..count {
            let len = u32_at(section, at).ok_or_else(|| bad("bad dictionary table"))? as usize;
            let start = at + 4;
            if start + len > section.len() {
                return Err(bad("bad dictionary table"));
            }
            dicts.push((dict_at + start, len));
            at = start + len;
        }
        let prepared = dicts.iter().map(|_| OnceLock::new()).collect();
        Ok(RecFile {
            path,
            map,
            dicts,
            prepared,
        })
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes of dictionary `n` (1-based), if there is one.
    pub(crate) fn dict(&self, n: u16) -> Option<&[u8]> {
        let (off, len) = *self.dicts.get(usize::from(n).checked_sub(1)?)?;
        self.map.get(off..off + len)
    }

    /// The compressed bytes of a record, checked against their checksum.
    pub(crate) fn blob(&self, id: &str, r: &RecordRef) -> Result<&[u8], StoreError> {
        let start = usize::try_from(r.offset).ok();
        let blob = start
            .and_then(|s| self.map.get(s..s.checked_add(r.len as usize)?))
            .ok_or_else(|| {
                damaged(
                    &self.path,
                    &format!("record {id}"),
                    "points outside the file; rebuild it with `depwarden db import` or `db sync`"
                        .into(),
                )
            })?;
        if checksum(&[blob]) != r.sum {
            return Err(damaged(
                &self.path,
                &format!("record {id}"),
                "fails its checksum (the file was modified); rebuild it with `depwarden db import` or `db sync`".into(),
            ));
        }
        Ok(blob)
    }

    /// A record's JSON.
    pub(crate) fn read(&self, id: &str, r: &RecordRef) -> Result<Vec<u8>, StoreError> {
        let blob = self.blob(id, r)?;
        let corrupt = |why: String| damaged(&self.path, &format!("record {id}"), why);
        if r.raw_len > MAX_RAW {
            return Err(corrupt(format!("claims {} bytes", r.raw_len)));
        }
        let out = if r.dict == 0 {
            zstd::bulk::decompress(blob, r.raw_len as usize)
        } else {
            let slot = self.prepared.get(usize::from(r.dict) - 1).ok_or_else(|| {
                corrupt(format!(
                    "names dictionary {} of {}",
                    r.dict,
                    self.dicts.len()
                ))
            })?;
            let bytes = self.dict(r.dict).unwrap_or_default();
            let prepared = slot.get_or_init(|| zstd::dict::DecoderDictionary::copy(bytes));
            zstd::bulk::Decompressor::with_prepared_dictionary(prepared)
                .and_then(|mut d| d.decompress(blob, r.raw_len as usize))
        }
        .map_err(|e| corrupt(format!("does not decompress: {e}")))?;
        if out.len() != r.raw_len as usize {
            return Err(corrupt("decompresses to another length".into()));
        }
        Ok(out)
    }
}

/// Trains a dictionary on sample records; `None` when zstd finds too
/// little to learn from (few or tiny samples).
pub(crate) fn train(samples: &[Vec<u8>]) -> Option<Vec<u8>> {
    let total: usize = samples.iter().map(Vec::len).sum();
    if samples.len() < 64 {
        return None;
    }
    zstd::dict::from_samples(samples, (total / 8).clamp(4 * 1024, 32 * 1024)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_with_and_without_a_dictionary_and_damage_is_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let samples: Vec<Vec<u8>> = (0..200)
            .map(|i| format!(r#"{{"id":"MAL-{i}","summary":"Malicious code in pkg-{i} (npm)","affected":[]}}"#).into_bytes())
            .collect();
        let dict = train(&samples).expect("dictionary");
        let mut w = RecWriter::create(dir.path()).expect("create");
        let n = w.add_dict(&dict);
        assert_eq!(w.add_dict(&dict), n);
        let mut refs = Vec::new();
        for (i, s) in samples.iter().enumerate().take(3) {
            let (blob, d) = if i == 1 {
                (zstd::bulk::compress(s, LEVEL).expect("zstd"), 0)
            } else {
                let mut c = zstd::bulk::Compressor::with_dictionary(LEVEL, &dict).expect("zstd");
                (c.compress(s).expect("zstd"), n)
            };
            let offset = w.append(&blob).expect("append");
            refs.push(RecordRef {
                offset,
                len: blob.len() as u32,
                raw_len: s.len() as u32,
                sum: checksum(&[&blob]),
                dict: d,
                ecosystems: 1,
                modified: None,
            });
        }
        w.finish().expect("finish");
        let f = RecFile::open(dir.path()).expect("open");
        for (i, r) in refs.iter().enumerate() {
            assert_eq!(f.read("x", r).expect("read"), samples[i]);
        }
        let path = dir.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[refs[0].offset as usize] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        let f = RecFile::open(dir.path()).expect("open");
        let err = f.read("MAL-0", &refs[0]).unwrap_err().to_string();
        assert!(err.contains(FILE_NAME) && err.contains("checksum"), "{err}");
        assert!(f.read("MAL-2", &refs[2]).is_ok());
        std::fs::write(&path, &bytes[..bytes.len() - 3]).expect("write");
        assert!(RecFile::open(dir.path()).is_err());
    }
}
