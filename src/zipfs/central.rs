//! The raw entry names of a zip's central directory. The `zip` crate keys
//! its index by name, so an archive that lists the same name twice shows
//! only one of them (the last, which is also what `unzip` and AWS Lambda
//! leave on disk); the names are read here to see the others and say so.

use std::collections::HashMap;
use std::path::Path;

use crate::diagnostic::{Diagnostic, Level};

/// The entry names of the central directory of `bytes`, in order; `None`
/// when it cannot be walked (the `zip` crate reports a damaged archive).
pub(super) fn raw_names(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (offset, count) = directory(bytes)?;
    let mut names = Vec::with_capacity(count.min(1 << 20));
    let mut at = offset;
    for _ in 0..count {
        if u32_at(bytes, at)? != 0x0201_4b50 {
            return None;
        }
        let name_len = usize::from(u16_at(bytes, at + 28)?);
        let extra_len = usize::from(u16_at(bytes, at + 30)?);
        let comment_len = usize::from(u16_at(bytes, at + 32)?);
        let start = at.checked_add(46)?;
        names.push(bytes.get(start..start.checked_add(name_len)?)?.to_vec());
        at = start
            .checked_add(name_len)?
            .checked_add(extra_len)?
            .checked_add(comment_len)?;
    }
    Some(names)
}

/// Errors for names the central directory lists more than once (the
/// `zip` crate, `unzip` and AWS Lambda keep the last copy; the others are
/// not scanned), each at its path under `mount`.
pub(super) fn repeated_names(names: Option<&[Vec<u8>]>, mount: &Path) -> Vec<Diagnostic> {
    let mut seen: HashMap<&[u8], usize> = HashMap::new();
    for n in names.into_iter().flatten() {
        *seen.entry(n.as_slice()).or_default() += 1;
    }
    let mut repeated: Vec<(&[u8], usize)> = seen.into_iter().filter(|(_, c)| *c > 1).collect();
    repeated.sort();
    repeated
        .into_iter()
        .map(|(name, times)| {
            let name = String::from_utf8_lossy(name);
            Diagnostic::new(
                Level::Error,
                mount.join(name.trim_start_matches(['/', '\\'])),
                format!(
                    "zip entry `{name}` appears {times} times: unzip and AWS Lambda keep the last one, which is the one scanned; the others are not"
                ),
            )
        })
        .collect()
}

/// The central directory's offset and entry count, from the end of
/// central directory record (and its zip64 form when present).
fn directory(bytes: &[u8]) -> Option<(usize, usize)> {
    let min = bytes.len().saturating_sub(22 + 65_535);
    let eocd = (min..=bytes.len().checked_sub(22)?)
        .rev()
        .find(|&i| u32_at(bytes, i) == Some(0x0605_4b50))?;
    let count = usize::from(u16_at(bytes, eocd + 10)?);
    let offset = u32_at(bytes, eocd + 16)?;
    if offset != u32::MAX && count != usize::from(u16::MAX) {
        return Some((usize::try_from(offset).ok()?, count));
    }
    // Zip64: the locator sits just before the end record.
    let locator = eocd.checked_sub(20)?;
    if u32_at(bytes, locator)? != 0x0706_4b50 {
        return None;
    }
    let z64 = usize::try_from(u64_at(bytes, locator + 8)?).ok()?;
    if u32_at(bytes, z64)? != 0x0606_4b50 {
        return None;
    }
    let count = usize::try_from(u64_at(bytes, z64 + 32)?).ok()?;
    let offset = usize::try_from(u64_at(bytes, z64 + 48)?).ok()?;
    Some((offset, count))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    let mut w = [0u8; 4];
    w.copy_from_slice(s);
    Some(u32::from_le_bytes(w))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(s);
    Some(u64::from_le_bytes(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn names_come_out_in_order_and_garbage_is_none() {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for n in ["a.json", "dir/b.json", "./a.json"] {
            z.start_file(n, zip::write::SimpleFileOptions::default())
                .expect("start");
            z.write_all(b"{}").expect("write");
        }
        let bytes = z.finish().expect("finish").into_inner();
        let names = raw_names(&bytes).expect("names");
        assert_eq!(
            names,
            vec![
                b"a.json".to_vec(),
                b"dir/b.json".to_vec(),
                b"./a.json".to_vec()
            ]
        );
        assert_eq!(raw_names(b"not a zip"), None);
        assert_eq!(raw_names(&bytes[..bytes.len() - 5]), None);
    }
}
