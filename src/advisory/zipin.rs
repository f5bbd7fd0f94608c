//! Reading an OSV `all.zip` into a generation, in parallel: entries are
//! inflated, decoded, compiled and compressed in batches on every core
//! (each worker with its own handle on the archive), then appended in
//! archive order. Memory holds one batch, not the zip; the zip itself is
//! read through positioned reads, not loaded.
//!
//! The archive must be complete and readable (a truncated zip is an
//! error, so nothing is swapped in); an entry that is too large, has an
//! unsafe name or is not an OSV record is skipped with a warning.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use rayon::prelude::*;

use super::builder::StoreBuilder;
use super::error::StoreError;
use super::ingest::{Encoder, Outcome, prepare};

/// Largest JSON entry accepted from a zip (a record is a few KB).
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;
/// Largest total of decompressed bytes accepted from one zip.
pub const MAX_ZIP_TOTAL_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Records per batch.
const BATCH: usize = 4096;
/// A zip with at least this many entries trains its own dictionary.
const TRAIN_MIN: usize = 500;
/// Records sampled for a dictionary, at most: one in eight of the zip's
/// entries (at least 64), so that a small zip (the embedded snapshot's
/// 643 to 2,661 records per ecosystem) does not spend more time training
/// than importing.
const SAMPLES: usize = 1000;

/// A file read through positioned reads, so that every worker can hold
/// its own cursor on one open file.
#[derive(Clone)]
pub(crate) struct SharedFile {
    file: Arc<std::fs::File>,
    pos: u64,
    len: u64,
}

impl SharedFile {
    pub(crate) fn new(file: std::fs::File) -> std::io::Result<SharedFile> {
        let len = file.metadata()?.len();
        Ok(SharedFile {
            file: Arc::new(file),
            pos: 0,
            len,
        })
    }
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let next = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = next.ok_or_else(|| std::io::Error::other("seek out of range"))?;
        Ok(self.pos)
    }
}

/// One entry as read: skipped with a warning, or its name and bytes.
enum Raw {
    Skip(Option<String>),
    Json(String, Vec<u8>),
}

fn read_entry<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    i: usize,
    name: &str,
) -> Result<Raw, StoreError> {
    let mut entry = archive.by_index(i).map_err(|source| StoreError::Zip {
        path: format!("{name} (entry {i})"),
        source,
    })?;
    let entry_name = match entry.name() {
        Ok(n) => n.into_owned(),
        Err(e) => {
            return Ok(Raw::Skip(Some(format!(
                "{name}: entry {i} has an undecodable name ({e}); skipped"
            ))));
        }
    };
    if entry.is_dir() || !entry_name.ends_with(".json") {
        return Ok(Raw::Skip(None));
    }
    if entry_name.contains("..") || entry_name.starts_with('/') {
        return Ok(Raw::Skip(Some(format!(
            "{name}: entry {entry_name:?} has an unsafe path; skipped"
        ))));
    }
    let mut buf = Vec::with_capacity(entry.size().min(MAX_RECORD_BYTES) as usize);
    (&mut entry)
        .take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| StoreError::Source {
            path: format!("{name}!{entry_name}"),
            reason: format!("cannot decompress: {e}"),
        })?;
    Ok(Raw::Json(entry_name, buf))
}

/// What one worker made of one entry.
enum Done {
    Nothing(Option<String>),
    TooLarge(String),
    Record(u64, Outcome),
}

/// Reads every `*.json` entry of a zip into `builder`; `read` counts the
/// records read. With `strict_json`, an entry that is not even valid JSON
/// (a corrupted download or mirror) fails the whole read instead of being
/// skipped; records that are valid JSON but not usable OSV are still
/// skipped with a warning.
pub fn read_zip<R: Read + Seek + Clone + Send + Sync>(
    builder: &mut StoreBuilder,
    reader: R,
    name: &str,
    read: &mut u64,
    strict_json: bool,
) -> Result<(), StoreError> {
    let archive = zip::ZipArchive::new(reader).map_err(|source| StoreError::Zip {
        path: name.to_string(),
        source,
    })?;
    let n = archive.len();
    if n >= TRAIN_MIN {
        train(builder, &archive, name);
    }
    let bar =
        crate::progress::records_bar(builder.progress, n as u64, &format!("importing {name}"));
    let mut total = 0u64;
    let mut start = 0;
    while start < n {
        let end = (start + BATCH).min(n);
        let dict = builder.dict().cloned();
        let done: Vec<Result<Done, StoreError>> = (start..end)
            .into_par_iter()
            .map_init(
                || (archive.clone(), Encoder::new(dict.as_ref())),
                |(arch, enc), i| {
                    let (entry_name, bytes) = match read_entry(arch, i, name)? {
                        Raw::Skip(w) => return Ok(Done::Nothing(w)),
                        Raw::Json(n, b) => (n, b),
                    };
                    let origin = format!("{name}!{entry_name}");
                    if bytes.len() as u64 > MAX_RECORD_BYTES {
                        return Ok(Done::TooLarge(format!(
                            "{origin}: larger than {MAX_RECORD_BYTES} bytes; skipped"
                        )));
                    }
                    if strict_json
                        && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err()
                    {
                        return Err(StoreError::Source {
                            path: origin,
                            reason: "corrupt JSON entry; the archive is damaged".into(),
                        });
                    }
                    Ok(Done::Record(
                        bytes.len() as u64,
                        prepare(&bytes, &origin, enc),
                    ))
                },
            )
            .collect();
        for d in done {
            match d? {
                Done::Nothing(w) => builder.warnings.extend(w),
                Done::TooLarge(w) => {
                    builder.skipped += 1;
                    builder.warnings.push(w);
                }
                Done::Record(len, outcome) => {
                    total += len;
                    if total > MAX_ZIP_TOTAL_BYTES {
                        return Err(StoreError::Source {
                            path: name.to_string(),
                            reason: format!(
                                "decompresses to more than {MAX_ZIP_TOTAL_BYTES} bytes"
                            ),
                        });
                    }
                    *read += 1;
                    builder.accept(outcome)?;
                }
            }
        }
        if let Some(b) = &bar {
            b.set_position(end as u64);
        }
        start = end;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}

/// Trains the dictionary for this zip's records on a sample spread over
/// the archive (about 70 ms for 1,000 records, training is single-threaded
/// and its time grows with the sample); without one (too few usable
/// samples) records are compressed alone.
fn train<R: Read + Seek + Clone>(
    builder: &mut StoreBuilder,
    archive: &zip::ZipArchive<R>,
    name: &str,
) {
    let n = archive.len();
    let want = (n / 8).clamp(64, SAMPLES);
    let step = (n / want).max(1);
    let mut arch = archive.clone();
    let mut samples = Vec::new();
    for i in (0..n).step_by(step).take(want) {
        if let Ok(Raw::Json(_, bytes)) = read_entry(&mut arch, i, name)
            && let Ok(record) = serde_json::from_slice::<super::model::OsvRecord>(&bytes)
            && let Ok(json) = serde_json::to_vec(&record)
        {
            samples.push(json);
        }
    }
    if let Some(dict) = super::recfile::train(&samples) {
        builder.use_dict(&dict);
    }
}
