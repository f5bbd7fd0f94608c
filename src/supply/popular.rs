//! The popularity corpora (npm, PyPI, crates.io) embedded in the binary,
//! parsed on first use, with the indexes the typosquat detector looks
//! names up in.
//!
//! Indexes are sorted arrays of (64-bit key hash, rank): building them is
//! one sort, a lookup is a binary search with no allocation, and a hash
//! collision only costs the detector one extra comparison (every candidate
//! is verified on the names themselves).

use std::sync::OnceLock;

use crate::ecosystem::Ecosystem;

const NPM: &str = include_str!("data/npm.tsv");
const PYPI: &str = include_str!("data/pypi.tsv");
const CRATES: &str = include_str!("data/crates.tsv");

/// A streaming FNV-1a hash of several string parts, with an optional
/// character position left out (for one-deletion keys).
#[derive(Clone, Copy)]
pub struct KeyHash(u64);

impl KeyHash {
    /// A fresh hash.
    pub fn new() -> Self {
        KeyHash(0xcbf2_9ce4_8422_2325)
    }

    /// Adds the bytes of `s`.
    pub fn feed(mut self, s: &str) -> Self {
        for b in s.bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    /// The hash value, mixed so that its top bits (the index's buckets)
    /// are as good as its low bits.
    pub fn finish(self) -> u64 {
        mix(self.0)
    }
}

impl Default for KeyHash {
    fn default() -> Self {
        KeyHash::new()
    }
}

/// The key hash of `scope/key` (or `key` unscoped).
pub fn key_hash(scope: Option<&str>, key: &str) -> u64 {
    scope_hash(scope).feed(key).finish()
}

/// A hash started with the scope, so that keys never cross scopes.
pub fn scope_hash(scope: Option<&str>) -> KeyHash {
    match scope {
        Some(s) => KeyHash::new().feed(s).feed("/"),
        None => KeyHash::new(),
    }
}

/// (key hash, rank) pairs sorted by hash, with a table of where each
/// bucket of hashes (their top bits) starts: a lookup reads two cache
/// lines instead of binary-searching the whole array.
///
/// A bit filter over the low bits of the hashes (8 bits per key, so it
/// stays in the CPU cache) answers most misses without touching the table.
#[derive(Debug, Default)]
pub struct HashIndex {
    entries: Vec<(u64, u32)>,
    starts: Vec<u32>,
    shift: u32,
    filter: Vec<u64>,
    filter_mask: u64,
}

impl HashIndex {
    fn from_pairs(pairs: Vec<(u64, u32)>) -> Self {
        // Bucket by the top bits with a counting sort: O(n), no comparison
        // sort (entries inside a bucket need no order, `get` filters them).
        let bits = (usize::BITS - pairs.len().max(2).leading_zeros()).clamp(1, 31);
        let shift = 64 - bits;
        let buckets = 1usize << bits;
        let mut starts = vec![0u32; buckets + 1];
        for (h, _) in &pairs {
            starts[(h >> shift) as usize + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        let mut fill = starts.clone();
        let mut entries = vec![(0u64, 0u32); pairs.len()];
        for &(h, r) in &pairs {
            let b = (h >> shift) as usize;
            entries[fill[b] as usize] = (h, r);
            fill[b] += 1;
        }
        let filter_bits = (buckets as u64) << 3;
        let filter_mask = filter_bits - 1;
        let mut filter = vec![0u64; (filter_bits / 64).max(1) as usize];
        for (h, _) in &entries {
            let bit = h & filter_mask;
            filter[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        HashIndex {
            entries,
            starts,
            shift,
            filter,
            filter_mask,
        }
    }

    /// The ranks stored under a key hash.
    pub fn get(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let bit = key & self.filter_mask;
        let present = self
            .filter
            .get((bit / 64) as usize)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0);
        let b = (key >> self.shift) as usize;
        let (lo, hi) = if present {
            (
                self.starts.get(b).copied().unwrap_or(0) as usize,
                self.starts.get(b + 1).copied().unwrap_or(0) as usize,
            )
        } else {
            (0, 0)
        };
        self.entries
            .get(lo..hi)
            .unwrap_or(&[])
            .iter()
            .filter(move |(k, _)| *k == key)
            .map(|(_, r)| *r)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One ecosystem's corpus and its lookup indexes. Names are stored
/// normalised with the ecosystem's rules; `rank` 0 is the most popular.
#[derive(Debug, Default)]
pub struct Corpus {
    /// Normalised names, most popular first (index = rank).
    pub names: Vec<String>,
    /// The popularity figure of each name as the list gives it.
    pub figures: Vec<u64>,
    /// Name → rank.
    pub exact: HashIndex,
    /// Each name and its one-deletion variants (also of the name without
    /// separators) → ranks: names one insertion, deletion, substitution or
    /// transposition away share a key.
    pub deletions: HashIndex,
    /// Look-alike skeleton (separators dropped, homoglyphs folded, repeated
    /// letters collapsed) → ranks.
    pub skeletons: HashIndex,
    /// Sorted tokens of names with two or more tokens → ranks.
    pub tokens: HashIndex,
    /// npm: the name without its scope → ranks of scoped names.
    pub unscoped: HashIndex,
}

impl Corpus {
    fn build(eco: Ecosystem, text: &str) -> Corpus {
        let mut c = Corpus::default();
        let mut exact = Vec::new();
        for line in text.lines() {
            let mut cols = line.split('\t');
            let (Some(name), Some(fig)) = (cols.next(), cols.next()) else {
                continue;
            };
            let name = eco.normalize_name(name.trim());
            if name.is_empty() {
                continue;
            }
            let rank = c.names.len() as u32;
            exact.push((key_hash(None, &name), rank));
            c.figures.push(fig.trim().parse().unwrap_or(0));
            c.names.push(name);
        }
        c.exact = HashIndex::from_pairs(exact);
        let (mut dels, mut skels, mut toks, mut unscoped) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (rank, name) in c.names.iter().enumerate() {
            let rank = rank as u32;
            let (scope, base) = split_scope(name);
            deletion_hashes(scope, base, |h| dels.push((h, rank)));
            skels.push((key_hash(scope, &skeleton(base)), rank));
            if let Some(t) = sorted_tokens(base) {
                toks.push((key_hash(scope, &t), rank));
            }
            if scope.is_some() {
                unscoped.push((key_hash(None, base), rank));
            }
        }
        c.deletions = HashIndex::from_pairs(dels);
        c.skeletons = HashIndex::from_pairs(skels);
        c.tokens = HashIndex::from_pairs(toks);
        c.unscoped = HashIndex::from_pairs(unscoped);
        c
    }

    /// The rank of a normalised name.
    pub fn rank(&self, name: &str) -> Option<u32> {
        self.rank_of_hash(key_hash(None, name), |n| n == name)
    }

    /// The rank of the name `a` followed by `b` (no allocation).
    pub fn rank_of_concat(&self, a: &str, b: &str) -> Option<u32> {
        let h = KeyHash::new().feed(a).feed(b).finish();
        self.rank_of_hash(h, |n| {
            n.len() == a.len() + b.len() && n.starts_with(a) && n.ends_with(b)
        })
    }

    fn rank_of_hash(&self, h: u64, is: impl Fn(&str) -> bool) -> Option<u32> {
        self.exact
            .get(h)
            .find(|&r| self.names.get(r as usize).is_some_and(|n| is(n)))
    }
}

/// Calls `emit` with the hash of every one-deletion key of a name (and of
/// the name itself), also for the name with its separators removed.
///
/// The keys are hashed as polynomials over the characters, so that each
/// one-deletion hash comes from a prefix and a suffix hash in O(1) and a
/// name of n characters costs O(n), with no string built.
pub fn deletion_hashes(scope: Option<&str>, base: &str, mut emit: impl FnMut(u64)) {
    let seed = scope_hash(scope).finish();
    let mut one = |chars: &[u64]| {
        let n = chars.len();
        let mut pw = Vec::with_capacity(n + 1);
        let mut pre = Vec::with_capacity(n + 1);
        pw.push(1u64);
        pre.push(0u64);
        for (i, &c) in chars.iter().enumerate() {
            pw.push(pw[i].wrapping_mul(POLY));
            pre.push(pre[i].wrapping_mul(POLY).wrapping_add(c));
        }
        let mut suf = vec![0u64; n + 1];
        for i in (0..n).rev() {
            suf[i] = chars[i]
                .wrapping_mul(pw[n - 1 - i])
                .wrapping_add(suf[i + 1]);
        }
        emit(mix(seed.wrapping_mul(pw[n]).wrapping_add(pre[n])));
        for i in 0..n {
            let h = seed
                .wrapping_mul(pw[n - 1])
                .wrapping_add(pre[i].wrapping_mul(pw[n - 1 - i]))
                .wrapping_add(suf[i + 1]);
            emit(mix(h));
        }
    };
    let chars: Vec<u64> = base.chars().map(|c| u64::from(c) + 1).collect();
    one(&chars);
    if base.contains(is_separator) {
        let stripped: Vec<u64> = base
            .chars()
            .filter(|c| !is_separator(*c))
            .map(|c| u64::from(c) + 1)
            .collect();
        one(&stripped);
    }
}

/// The multiplier of the polynomial hash (odd, so invertible mod 2^64).
const POLY: u64 = 0x100_0000_01b3;

/// The splitmix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The corpus of an ecosystem (parsed once, on first use).
pub fn corpus(eco: Ecosystem) -> &'static Corpus {
    static NPM_C: OnceLock<Corpus> = OnceLock::new();
    static PYPI_C: OnceLock<Corpus> = OnceLock::new();
    static CRATES_C: OnceLock<Corpus> = OnceLock::new();
    match eco {
        Ecosystem::Npm => NPM_C.get_or_init(|| Corpus::build(eco, NPM)),
        Ecosystem::PyPI => PYPI_C.get_or_init(|| Corpus::build(eco, PYPI)),
        Ecosystem::CratesIo => CRATES_C.get_or_init(|| Corpus::build(eco, CRATES)),
    }
}

/// `@scope/name` → (`Some("@scope")`, `name`).
pub fn split_scope(name: &str) -> (Option<&str>, &str) {
    match name.strip_prefix('@').and_then(|_| name.split_once('/')) {
        Some((scope, base)) => (Some(scope), base),
        None => (None, name),
    }
}

/// True for the separators package names use.
pub fn is_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '.')
}

/// The name without `-`, `_` and `.`.
pub fn strip_separators(name: &str) -> String {
    name.chars().filter(|c| !is_separator(*c)).collect()
}

/// Separators dropped, look-alike characters folded (`rn`→`m`, `vv`→`w`,
/// `1`/`i`→`l`, `0`→`o`, `5`→`s`, `3`→`e`), runs of one letter collapsed.
pub fn skeleton(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().filter(|c| !is_separator(*c)) {
        let c = match c {
            '1' | 'i' | '!' | '|' => 'l',
            '0' => 'o',
            '5' | '$' => 's',
            '3' => 'e',
            c => c,
        };
        if c == 'n' && out.ends_with('r') {
            out.pop();
            push_collapsed(&mut out, 'm');
        } else if c == 'v' && out.ends_with('v') {
            out.pop();
            push_collapsed(&mut out, 'w');
        } else {
            push_collapsed(&mut out, c);
        }
    }
    out
}

fn push_collapsed(out: &mut String, c: char) {
    if !out.ends_with(c) {
        out.push(c);
    }
}

/// The separator-split tokens, sorted and joined, for names of two or more
/// tokens.
pub fn sorted_tokens(name: &str) -> Option<String> {
    let mut t: Vec<&str> = name.split(is_separator).filter(|s| !s.is_empty()).collect();
    if t.len() < 2 {
        return None;
    }
    t.sort_unstable();
    Some(t.join("-"))
}
