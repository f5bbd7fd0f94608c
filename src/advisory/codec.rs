//! The binary forms the store keeps: an index value (the compiled entries
//! of one package, [`encode_entry`] / [`decode_entries`]) and a record
//! reference (where a record's compressed bytes are, [`RecordRef`]).
//!
//! An index value is a sequence of entries, each prefixed by its length
//! (LEB128), so a writer can copy entries by record id without decoding
//! them ([`split_entries`]). Strings are length-prefixed UTF-8; counts are
//! LEB128. Every read is bounds-checked: a damaged value decodes to an
//! error, never to a panic or a different entry.

use super::model::{AdvisoryKind, CompiledAffected, CompiledRange, Event, IndexEntry, RangeKind};
use crate::ecosystem::Ecosystem;

/// Why a stored value does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub(crate) &'static str);

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A bounds-checked reader over a stored value.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    pub(crate) fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .bytes
                .get(self.at)
                .ok_or(DecodeError("value ends inside a number"))?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("number too long"))
    }

    fn len(&mut self) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.varint()?).map_err(|_| DecodeError("length overflows"))?;
        if n > self.bytes.len() - self.at.min(self.bytes.len()) {
            return Err(DecodeError("length runs past the value"));
        }
        Ok(n)
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.len()?;
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| DecodeError("string is not UTF-8"))
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or(DecodeError("value ends early"))?;
        self.at += 1;
        Ok(b)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self
            .bytes
            .get(self.at..self.at + N)
            .ok_or(DecodeError("value ends early"))?;
        self.at += N;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// A count, bounded by what the rest of the value could hold (each
    /// item takes at least one byte).
    fn count(&mut self) -> Result<usize, DecodeError> {
        self.len()
    }

    fn strings(&mut self) -> Result<Vec<String>, DecodeError> {
        let n = self.count()?;
        (0..n).map(|_| self.str().map(str::to_string)).collect()
    }
}

/// Appends one entry (with its length prefix) to an index value.
pub fn encode_entry(out: &mut Vec<u8>, e: &IndexEntry) {
    let mut body = Vec::with_capacity(64);
    put_str(&mut body, &e.id);
    put_varint(&mut body, e.aliases.len() as u64);
    for a in &e.aliases {
        put_str(&mut body, a);
    }
    match &e.kind {
        AdvisoryKind::Vulnerability => body.push(0),
        AdvisoryKind::Malicious => body.push(1),
        AdvisoryKind::Informational(t) => {
            body.push(2);
            put_str(&mut body, t);
        }
    }
    put_varint(&mut body, e.affected.len() as u64);
    for a in &e.affected {
        put_varint(&mut body, a.ranges.len() as u64);
        for r in &a.ranges {
            body.push(match r.kind {
                RangeKind::Semver => 0,
                RangeKind::Ecosystem => 1,
            });
            put_varint(&mut body, r.events.len() as u64);
            for ev in &r.events {
                let (tag, v) = match ev {
                    Event::Introduced(v) => (0, v),
                    Event::Fixed(v) => (1, v),
                    Event::LastAffected(v) => (2, v),
                    Event::Limit(v) => (3, v),
                };
                body.push(tag);
                put_str(&mut body, v);
            }
        }
        put_varint(&mut body, a.versions.len() as u64);
        for v in &a.versions {
            put_str(&mut body, v);
        }
    }
    put_varint(out, body.len() as u64);
    out.extend_from_slice(&body);
}

/// The entries of an index value as (record id, encoded entry with its
/// length prefix), without decoding them.
pub fn split_entries(value: &[u8]) -> Result<Vec<(&str, &[u8])>, DecodeError> {
    let mut r = Reader::new(value);
    let mut out = Vec::new();
    while !r.done() {
        let start = r.at;
        let body = r.bytes()?;
        let id = Reader::new(body).str()?;
        out.push((id, &value[start..r.at]));
    }
    Ok(out)
}

fn decode_entry(body: &[u8]) -> Result<IndexEntry, DecodeError> {
    let mut r = Reader::new(body);
    let id = r.str()?.to_string();
    let aliases = r.strings()?;
    let kind = match r.byte()? {
        0 => AdvisoryKind::Vulnerability,
        1 => AdvisoryKind::Malicious,
        2 => AdvisoryKind::Informational(r.str()?.to_string()),
        _ => return Err(DecodeError("unknown advisory kind")),
    };
    let n = r.count()?;
    let mut affected = Vec::with_capacity(n);
    for _ in 0..n {
        let nr = r.count()?;
        let mut ranges = Vec::with_capacity(nr);
        for _ in 0..nr {
            let kind = match r.byte()? {
                0 => RangeKind::Semver,
                1 => RangeKind::Ecosystem,
                _ => return Err(DecodeError("unknown range kind")),
            };
            let ne = r.count()?;
            let mut events = Vec::with_capacity(ne);
            for _ in 0..ne {
                let tag = r.byte()?;
                let v = r.str()?.to_string();
                events.push(match tag {
                    0 => Event::Introduced(v),
                    1 => Event::Fixed(v),
                    2 => Event::LastAffected(v),
                    3 => Event::Limit(v),
                    _ => return Err(DecodeError("unknown range event")),
                });
            }
            ranges.push(CompiledRange { kind, events });
        }
        let versions = r.strings()?;
        affected.push(CompiledAffected { ranges, versions });
    }
    if !r.done() {
        return Err(DecodeError("trailing bytes after an entry"));
    }
    Ok(IndexEntry {
        id,
        aliases,
        kind,
        affected,
    })
}

/// Decodes an index value.
pub fn decode_entries(value: &[u8]) -> Result<Vec<IndexEntry>, DecodeError> {
    let mut r = Reader::new(value);
    let mut out = Vec::new();
    while !r.done() {
        out.push(decode_entry(r.bytes()?)?);
    }
    Ok(out)
}

/// The key of a package in the index: ecosystem `\0` normalised name.
pub fn index_key(ecosystem: Ecosystem, normalized_name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(ecosystem.as_str().len() + 1 + normalized_name.len());
    k.extend_from_slice(ecosystem.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(normalized_name.as_bytes());
    k
}

/// A set of ecosystems as one byte (bit `i` for `Ecosystem::ALL[i]`).
pub fn ecosystem_mask(ecosystems: &[Ecosystem]) -> u8 {
    ecosystems.iter().fold(0u8, |m, e| {
        m | Ecosystem::ALL
            .iter()
            .position(|x| x == e)
            .map_or(0, |i| 1u8 << i)
    })
}

/// The ecosystems of a mask.
pub fn mask_ecosystems(mask: u8) -> Vec<Ecosystem> {
    Ecosystem::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, e)| *e)
        .collect()
}

/// Where a record is: its compressed bytes in the generation's record
/// file, the dictionary they need, the ecosystems it belongs to and its
/// `modified` date (as the data's age counts it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// Offset of the compressed bytes in the record file.
    pub offset: u64,
    /// Their length.
    pub len: u32,
    /// The length of the record's JSON.
    pub raw_len: u32,
    /// Checksum of the compressed bytes.
    pub sum: u64,
    /// The dictionary (0: none; else its number in the record file).
    pub dict: u16,
    /// The ecosystems the record affects ([`ecosystem_mask`]).
    pub ecosystems: u8,
    /// Its `modified` date for the data's age (Unix seconds).
    pub modified: Option<u64>,
}

impl RecordRef {
    /// The stored form: LEB128 numbers and the checksum (about 20 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        put_varint(&mut out, self.offset);
        put_varint(&mut out, u64::from(self.len));
        put_varint(&mut out, u64::from(self.raw_len));
        out.extend_from_slice(&self.sum.to_le_bytes());
        put_varint(&mut out, u64::from(self.dict));
        out.push(self.ecosystems);
        put_varint(&mut out, self.modified.map_or(0, |m| m.saturating_add(1)));
        out
    }

    /// Decodes the stored form.
    pub fn decode(bytes: &[u8]) -> Result<RecordRef, DecodeError> {
        let mut r = Reader::new(bytes);
        let small = |v: u64| u32::try_from(v).map_err(|_| DecodeError("bad record reference"));
        let offset = r.varint()?;
        let len = small(r.varint()?)?;
        let raw_len = small(r.varint()?)?;
        let sum = u64::from_le_bytes(r.fixed()?);
        let dict = u16::try_from(r.varint()?).map_err(|_| DecodeError("bad record reference"))?;
        let ecosystems = r.byte()?;
        let modified = r.varint()?.checked_sub(1);
        if !r.done() {
            return Err(DecodeError("trailing bytes after a record reference"));
        }
        Ok(RecordRef {
            offset,
            len,
            raw_len,
            sum,
            dict,
            ecosystems,
            modified,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> IndexEntry {
        IndexEntry {
            id: id.into(),
            aliases: vec!["CVE-1".into(), "GHSA-x".into()],
            kind: AdvisoryKind::Informational("unsound".into()),
            affected: vec![CompiledAffected {
                ranges: vec![CompiledRange {
                    kind: RangeKind::Ecosystem,
                    events: vec![
                        Event::Introduced("0".into()),
                        Event::Fixed("1.2".into()),
                        Event::LastAffected("1.1".into()),
                        Event::Limit("2".into()),
                    ],
                }],
                versions: vec!["1.0".into()],
            }],
        }
    }

    #[test]
    fn entries_round_trip_and_split_by_id() {
        let mut v = Vec::new();
        encode_entry(&mut v, &entry("A"));
        encode_entry(&mut v, &entry("B"));
        assert_eq!(decode_entries(&v).unwrap(), vec![entry("A"), entry("B")]);
        let parts = split_entries(&v).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].0, "B");
        assert_eq!(decode_entries(parts[1].1).unwrap(), vec![entry("B")]);
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let mut v = Vec::new();
        encode_entry(&mut v, &entry("A"));
        for cut in 0..v.len() {
            assert!(decode_entries(&v[..cut]).is_err() || cut == 0);
        }
        for i in 0..v.len() {
            let mut bad = v.clone();
            bad[i] ^= 0xff;
            let _ = decode_entries(&bad);
        }
    }

    #[test]
    fn record_refs_round_trip() {
        let r = RecordRef {
            offset: 1 << 40,
            len: 7,
            raw_len: 99,
            sum: 42,
            dict: 1,
            ecosystems: ecosystem_mask(&[Ecosystem::Npm, Ecosystem::CratesIo]),
            modified: Some(5),
        };
        assert_eq!(RecordRef::decode(&r.encode()).unwrap(), r);
        assert_eq!(
            mask_ecosystems(r.ecosystems),
            vec![Ecosystem::Npm, Ecosystem::CratesIo]
        );
        assert!(RecordRef::decode(&r.encode()[..10]).is_err());
    }
}
