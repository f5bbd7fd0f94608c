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
//!
//! Beside them, from the same lists: `<eco>.families` (the name prefixes
//! shared by many names of the corpus, one per line, sorted; see
//! [`families`]), and from `npm-established.tsv` (every npm package with
//! at least 10,000 downloads a month) `npm.established` (per name, sorted
//! by key: its u64 LE key and its monthly downloads as u32 LE),
//! `npm.established-buckets` (u32 LE: where the entries whose keys start
//! with each value of the top `FIGURE_BUCKET_BITS` bits begin, plus the
//! end) and `npm.scopes` (the sorted u64 LE keys of the scopes those names
//! use).

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
        let mut files = build(eco, &text);
        files.push(("families", families(eco, &text).into_bytes()));
        write(&out, eco, files);
    }
    let path = Path::new("src/supply/data/npm-established.tsv");
    println!("cargo::rerun-if-changed={}", path.display());
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    write(&out, "npm", established(&text));
}

fn write(out: &Path, eco: &str, files: Vec<(&'static str, Vec<u8>)>) {
    for (suffix, bytes) in files {
        let dest = out.join(format!("{eco}.{suffix}"));
        if let Err(e) = std::fs::write(&dest, bytes) {
            panic!("{}: {e}", dest.display());
        }
    }
}

/// `name<TAB>figure` rows, the name normalised.
fn rows<'a>(eco: &'a str, text: &'a str) -> impl Iterator<Item = (String, &'a str)> + 'a {
    text.lines().filter_map(move |line| {
        let mut cols = line.split('\t');
        let (name, figure) = (cols.next()?, cols.next()?);
        let name = normalize(eco, name.trim());
        (!name.is_empty()).then_some((name, figure.trim()))
    })
}

/// `npm.established` and `npm.scopes` (see the header).
fn established(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut pairs: Vec<(u64, u32)> = Vec::new();
    let mut scopes: Vec<u64> = Vec::new();
    for (name, figure) in rows("npm", text) {
        let Ok(downloads) = figure.parse::<u64>() else {
            panic!("npm-established.tsv: {name}: bad download count {figure:?}");
        };
        pairs.push((key(SEED, &name), downloads.min(u64::from(u32::MAX)) as u32));
        if let (Some(scope), _) = split_scope(&name) {
            scopes.push(key(SEED, scope));
        }
    }
    pairs.sort_unstable();
    pairs.dedup_by_key(|p| p.0);
    scopes.sort_unstable();
    scopes.dedup();
    let mut table = Vec::with_capacity(pairs.len() * 12);
    let mut starts = vec![0u32; (1 << keys::FIGURE_BUCKET_BITS) + 1];
    for (k, d) in &pairs {
        table.extend_from_slice(&k.to_le_bytes());
        table.extend_from_slice(&d.to_le_bytes());
        starts[(k >> (64 - keys::FIGURE_BUCKET_BITS)) as usize + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let starts = starts.iter().flat_map(|s| s.to_le_bytes()).collect();
    let scopes = scopes.iter().flat_map(|k| k.to_le_bytes()).collect();
    vec![
        ("established", table),
        ("established-buckets", starts),
        ("scopes", scopes),
    ]
}

/// The name families of a corpus: prefixes of two leading tokens (with
/// the separator that follows them, `aws-sdk-`) that start at least
/// [`FAMILY_MIN`] names of the list, and of one token (`types-`) that
/// start at least [`FAMILY_MIN_ONE_TOKEN`], sorted, one per line.
/// A prefix whose first token is one of the affixes copies add or drop
/// (`python-`, `node-`, ...) is no family: those are the affixes of the
/// imitations themselves. npm has none: its download figures say which
/// names are established.
fn families(eco: &str, text: &str) -> String {
    if eco == "npm" {
        return String::new();
    }
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for (name, _) in rows(eco, text) {
        for end in keys::family_prefix_ends(&name) {
            *counts.entry(name[..end].to_string()).or_default() += 1;
        }
    }
    let mut out = String::new();
    for (prefix, n) in counts {
        let tokens = prefix
            .split(keys::is_separator)
            .filter(|t| !t.is_empty())
            .count();
        let min = if tokens == 1 {
            FAMILY_MIN_ONE_TOKEN
        } else {
            FAMILY_MIN
        };
        if n >= min && !keys::is_affix_prefix(&prefix) {
            out.push_str(&prefix);
            out.push('\n');
        }
    }
    out
}

/// Names a two-token prefix must start to make a family.
const FAMILY_MIN: usize = 8;
/// Names a one-token prefix must start to make a family: one word is
/// shared by chance more often than two.
const FAMILY_MIN_ONE_TOKEN: usize = 24;

/// The files of one corpus.
fn build(eco: &str, text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let names: Vec<String> = rows(eco, text).map(|(name, _)| name).collect();
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
