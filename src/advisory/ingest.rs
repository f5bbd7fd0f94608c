//! One record's way into a generation, the part that runs on every core:
//! decode the JSON leniently, compile its index entries, and compress its
//! compact JSON ([`prepare`]). The writer ([`super::builder`]) then
//! appends the results in input order.

use std::sync::Arc;

use super::codec::{encode_entry, index_key};
use super::compile::compile;
use super::model::OsvRecord;
use super::recfile::LEVEL;
use crate::ecosystem::Ecosystem;

/// A dictionary ready for compression, and its number in the record file.
#[derive(Clone)]
pub(crate) struct Dict {
    pub(crate) number: u16,
    pub(crate) prepared: Arc<zstd::dict::EncoderDictionary<'static>>,
}

/// A compressor for one worker.
pub(crate) struct Encoder<'a> {
    dict: u16,
    inner: Option<zstd::bulk::Compressor<'a>>,
}

impl<'a> Encoder<'a> {
    /// A compressor using `dict` (or none).
    pub(crate) fn new(dict: Option<&'a Dict>) -> Encoder<'a> {
        let inner = match dict {
            Some(d) => zstd::bulk::Compressor::with_prepared_dictionary(&d.prepared).ok(),
            None => zstd::bulk::Compressor::new(LEVEL).ok(),
        };
        Encoder {
            dict: dict.map_or(0, |d| d.number),
            inner,
        }
    }

    fn compress(&mut self, bytes: &[u8]) -> Result<(Vec<u8>, u16), String> {
        match &mut self.inner {
            Some(c) => c
                .compress(bytes)
                .map(|b| (b, self.dict))
                .map_err(|e| e.to_string()),
            None => zstd::bulk::compress(bytes, LEVEL)
                .map(|b| (b, 0))
                .map_err(|e| e.to_string()),
        }
    }
}

/// A record ready to be appended.
pub(crate) struct Prepared {
    pub(crate) id: String,
    pub(crate) ecosystems: Vec<Ecosystem>,
    /// `modified` as written, and as Unix seconds when it parses.
    pub(crate) modified: (String, Option<u64>),
    /// (index key, encoded entry).
    pub(crate) entries: Vec<(Vec<u8>, Vec<u8>)>,
    pub(crate) aliases: Vec<String>,
    pub(crate) blob: Vec<u8>,
    pub(crate) dict: u16,
    pub(crate) raw_len: u32,
    /// Problems met (a malformed range), each naming the record.
    pub(crate) warnings: Vec<String>,
}

/// What became of one input record.
pub(crate) enum Outcome {
    /// Usable.
    Record(Box<Prepared>),
    /// Skipped, with the warning saying why.
    Skipped(String),
}

/// Decodes, compiles and compresses one record given as JSON; `origin`
/// names it in warnings.
pub(crate) fn prepare(bytes: &[u8], origin: &str, enc: &mut Encoder<'_>) -> Outcome {
    match serde_json::from_slice::<OsvRecord>(bytes) {
        Ok(r) if !r.id.trim().is_empty() => prepare_record(&r, enc),
        Ok(_) => Outcome::Skipped(format!("{origin}: record without an id skipped")),
        Err(e) => Outcome::Skipped(format!("{origin}: not a valid OSV record ({e}); skipped")),
    }
}

/// [`prepare`] for a decoded record.
pub(crate) fn prepare_record(record: &OsvRecord, enc: &mut Encoder<'_>) -> Outcome {
    let mut ecosystems: Vec<Ecosystem> = record
        .affected
        .iter()
        .filter_map(|a| {
            a.package
                .as_ref()
                .and_then(|p| Ecosystem::from_osv(&p.ecosystem))
        })
        .collect();
    ecosystems.sort();
    ecosystems.dedup();
    if ecosystems.is_empty() {
        return Outcome::Skipped(format!(
            "{}: affects no npm, PyPI or crates.io package; skipped",
            record.id
        ));
    }
    let json = match serde_json::to_vec(record) {
        Ok(j) => j,
        Err(e) => {
            return Outcome::Skipped(format!("{}: cannot be stored ({e}); skipped", record.id));
        }
    };
    let Ok(raw_len) = u32::try_from(json.len()) else {
        return Outcome::Skipped(format!("{}: too large; skipped", record.id));
    };
    let (blob, dict) = match enc.compress(&json) {
        Ok(b) => b,
        Err(e) => {
            return Outcome::Skipped(format!(
                "{}: cannot be compressed ({e}); skipped",
                record.id
            ));
        }
    };
    let compiled = compile(record);
    let entries = compiled
        .entries
        .iter()
        .map(|(eco, name, entry)| {
            let mut v = Vec::with_capacity(64);
            encode_entry(&mut v, entry);
            (index_key(*eco, name), v)
        })
        .collect();
    Outcome::Record(Box::new(Prepared {
        id: record.id.clone(),
        ecosystems,
        modified: (
            record.modified.clone(),
            crate::clock::parse_instant(&record.modified),
        ),
        entries,
        aliases: record.aliases.clone(),
        blob,
        dict,
        raw_len,
        warnings: compiled.warnings,
    }))
}
