//! Precomputes the typosquat indexes of the popularity corpora
//! (`src/supply/data/*.tsv`) into compact tables in `OUT_DIR`, which
//! `src/supply/popular.rs` embeds and reads in place: no parsing, hashing
//! or allocation when a scan starts.
//!
//! Per ecosystem: `<eco>.names` (the normalised names, concatenated, most
//! popular first), `<eco>.offsets` (u32 LE start of each name, plus the
//! end) and one table per index (`exact`, `deletions`, `skeletons`,
//! `tokens`, `unscoped`, `dropped`). A table is a header of four u32 LE
//! (bucket bits, entry count, 0, longest key source in characters), one
//! 12-byte record per bucket plus one (a u64 LE filter word, two bits per
//! key of the bucket, then the u32 LE start of the bucket's entries) and
//! the entries (u32 LE: 16-bit fingerprint << 16 | rank). `popular.rs`
//! reads the same bit ranges.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/supply/popular/keys.rs"]
mod keys;
#[path = "src/ecosystem/names.rs"]
mod names;

use keys::{
    SEED, deletion_keys, dropped_remainders, filter_bits, is_separator, key, scope_seed, skeleton,
    split_scope, tokens_key, unit,
};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/supply/popular/keys.rs");
    println!("cargo::rerun-if-changed=src/ecosystem/names.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    for (eco, file) in [
        ("npm", "npm.tsv"),
        ("pypi", "pypi.tsv"),
        ("crates", "crates.tsv"),
    ] {
        let path = Path::new("src/supply/data").join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => panic!("{}: {e}", path.display()),
        };
        for (suffix, bytes) in build(eco, &text) {
            let dest = out.join(format!("{eco}.{suffix}"));
            if let Err(e) = std::fs::write(&dest, bytes) {
                panic!("{}: {e}", dest.display());
            }
        }
    }
}

/// The files of one corpus.
fn build(eco: &str, text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut names: Vec<String> = Vec::new();
    for line in text.lines() {
        let mut cols = line.split('\t');
        let (Some(name), Some(_figure)) = (cols.next(), cols.next()) else {
            continue;
        };
        let name = normalize(eco, name.trim());
        if !name.is_empty() {
            names.push(name);
        }
    }
    assert!(
        names.len() <= usize::from(u16::MAX) + 1,
        "{eco}: {} names, ranks must fit 16 bits",
        names.len()
    );
    let (mut exact, mut dels, mut skels, mut toks, mut unscoped, mut dropped) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let (mut units, mut pre) = (Vec::new(), Vec::new());
    let mut max_stripped = 0;
    let mut blob = String::new();
    let mut offsets = Vec::new();
    for (rank, name) in names.iter().enumerate() {
        let rank = rank as u32;
        offsets.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        blob.push_str(name);
        exact.push((key(SEED, name), rank));
        let (scope, base) = split_scope(name);
        let seed = scope_seed(scope);
        units.clear();
        units.extend(base.chars().filter(|c| !is_separator(*c)).map(unit));
        max_stripped = max_stripped.max(units.len());
        deletion_keys(seed, &units, &mut pre, |h| dels.push((h, rank)));
        skels.push((key(seed, &skeleton(base)), rank));
        if let Some(k) = tokens_key(seed, base) {
            toks.push((k, rank));
        }
        for rest in dropped_remainders(name) {
            dropped.push((key(SEED, rest), rank));
        }
        if scope.is_some() {
            unscoped.push((key(SEED, base), rank));
        }
    }
    offsets.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    vec![
        ("names", blob.into_bytes()),
        ("offsets", offsets),
        ("exact", table(exact, 0)),
        ("deletions", table(dels, max_stripped)),
        ("skeletons", table(skels, 0)),
        ("tokens", table(toks, 0)),
        ("unscoped", table(unscoped, 0)),
        ("dropped", table(dropped, 0)),
    ]
}

/// The ecosystem's name normalisation (`Ecosystem::normalize_name`, from
/// the same file).
fn normalize(eco: &str, name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    match eco {
        "pypi" => names::pypi_into(name, &mut out),
        "crates" => names::crate_into(name, &mut out),
        _ => out.push_str(name),
    }
    out
}

/// One lookup table over (key, rank) pairs: buckets by the top bits of
/// the key (four to eight entries each), each with a filter word (two
/// bits per key, from bits 18..24 and 40..46) beside its start, so that a
/// miss reads one record and a hit one record and one run of entries; a
/// 16-bit fingerprint from bits 24..40.
fn table(mut pairs: Vec<(u64, u32)>, longest: usize) -> Vec<u8> {
    // Bucket bits stay above bit 46 (the filter bits are 18..24 and 40..46).
    let bits = (usize::BITS - (pairs.len() / 8).max(1).leading_zeros()).clamp(1, 18);
    let shift = 64 - bits;
    pairs.sort_unstable_by_key(|&(h, r)| (h >> shift, h, r));
    pairs.dedup();
    let buckets = 1usize << bits;
    let mut starts = vec![0u32; buckets + 1];
    let mut filter = vec![0u64; buckets + 1];
    for (h, _) in &pairs {
        let b = (h >> shift) as usize;
        starts[b + 1] += 1;
        filter[b] |= filter_bits(*h);
    }
    for b in 0..buckets {
        starts[b + 1] += starts[b];
    }
    let mut out = Vec::new();
    for v in [bits, pairs.len() as u32, 0, longest as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (w, s) in filter.iter().zip(&starts) {
        out.extend_from_slice(&w.to_le_bytes());
        out.extend_from_slice(&s.to_le_bytes());
    }
    for (h, r) in pairs {
        let fp = (h >> 24) as u16;
        out.extend_from_slice(&((u32::from(fp) << 16) | r).to_le_bytes());
    }
    out
}
