//! The popularity corpora (npm, PyPI, crates.io) embedded in the binary,
//! with the indexes the typosquat detector looks names up in.
//!
//! `build.rs` normalises the lists in `data/` and precomputes every index
//! at compile time into compact tables (see its header for the layout);
//! here they are read in place. Opening a corpus only reads its table
//! headers and splits its short list of family prefixes: no parsing or
//! hashing of names at start-up, and only the ecosystems a scan meets are
//! touched. The npm download figures and scopes are read in place too.
//!
//! A table maps a 64-bit key ([`keys`]) to ranks: two bits of the filter
//! word of the key's bucket answer most misses from one read; beside it,
//! the start of the bucket's entries (four to eight), which are scanned
//! for the key's 16-bit fingerprint. A fingerprint collision only
//! costs the detector one extra comparison: every candidate is verified
//! on the names themselves.

pub mod keys;

use std::sync::OnceLock;

use crate::ecosystem::Ecosystem;

pub use keys::{is_separator, skeleton, sorted_tokens, split_scope, strip_separators};

/// The files `build.rs` writes for one ecosystem.
struct Embedded {
    names: &'static str,
    offsets: &'static [u8],
    exact: &'static [u8],
    deletions: &'static [u8],
    skeletons: &'static [u8],
    tokens: &'static [u8],
    unscoped: &'static [u8],
    dropped: &'static [u8],
    families: &'static str,
}

macro_rules! embedded {
    ($eco:literal) => {
        Embedded {
            names: include_str!(concat!(env!("OUT_DIR"), "/", $eco, ".names")),
            offsets: include_bytes!(concat!(env!("OUT_DIR"), "/", $eco, ".offsets")),
            exact: include_bytes!(concat!(env!("OUT_DIR"), "/", $eco, ".exact")),
            deletions: include_bytes!(concat!(env!("OUT_DIR"), "/", $eco, ".deletions")),
            skeletons: include_bytes!(concat!(env!("OUT_DIR"), "/", $eco, ".skeletons")),
            tokens: include_bytes!(concat!(env!("OUT_DIR"), "/", $eco, ".tokens")),
            unscoped: include_bytes!(concat!(env!("OUT_DIR"), "/", $eco, ".unscoped")),
            dropped: include_bytes!(concat!(env!("OUT_DIR"), "/", $eco, ".dropped")),
            families: include_str!(concat!(env!("OUT_DIR"), "/", $eco, ".families")),
        }
    };
}

const NPM: Embedded = embedded!("npm");
const PYPI: Embedded = embedded!("pypi");
const CRATES: Embedded = embedded!("crates");

/// Every npm package with at least 10,000 downloads a month: per name,
/// sorted by key, its key (u64) and its downloads (u32).
static ESTABLISHED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/npm.established"));
/// Where the entries of each bucket (top bits of the key) start.
static ESTABLISHED_BUCKETS: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/npm.established-buckets"));
/// The sorted keys of the npm scopes of those packages.
static SCOPES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/npm.scopes"));

/// The u64 (little-endian) at byte offset `at` of `bytes`, 0 past the end.
#[inline]
fn u64_from(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

/// Monthly downloads of an npm package with at least 10,000 (`None`
/// below that, and for the other ecosystems, which publish no figures).
/// `name` is normalised. Names are compared by their 64-bit key: two names
/// of the list never share one, and an unknown name matches one with odds
/// of about 1 in 2^47. One bucket read and one short run of entries.
pub fn downloads(eco: Ecosystem, name: &str) -> Option<u64> {
    if eco != Ecosystem::Npm {
        return None;
    }
    let key = keys::key(keys::SEED, name);
    let b = (key >> (64 - keys::FIGURE_BUCKET_BITS)) as usize;
    let (lo, hi) = (
        u32_at(ESTABLISHED_BUCKETS, b) as usize,
        u32_at(ESTABLISHED_BUCKETS, b + 1) as usize,
    );
    (lo..hi)
        .find(|&i| u64_from(ESTABLISHED, i * 12) == key)
        .map(|i| u64::from(u32_at(&ESTABLISHED[i * 12 + 8..], 0)))
}

/// True when some established npm package uses `scope` (`@aws-sdk`): the
/// scope is owned on the public registry, so nobody else can publish a
/// name in it.
pub fn public_scope(scope: &str) -> bool {
    let key = keys::key(keys::SEED, scope);
    let (mut lo, mut hi) = (0, SCOPES.len() / 8);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match u64_from(SCOPES, mid * 8).cmp(&key) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// True when a normalised name is in the ecosystem's corpus or, for npm,
/// among the established packages: a public package, known offline.
pub fn is_known(eco: Ecosystem, name: &str) -> bool {
    corpus(eco).rank(name).is_some() || downloads(eco, name).is_some()
}

/// The family prefixes (`aws-sdk-`, `types-`) a normalised name starts
/// with: prefixes of one or two tokens that start many names of the
/// corpus (see `build.rs`). Names of one family are siblings, not
/// imitations of each other.
pub fn family_prefixes(eco: Ecosystem, name: &str) -> [Option<&'static str>; 2] {
    let families = &corpus(eco).families;
    let mut out = [None, None];
    if families.is_empty() {
        return out;
    }
    for (slot, end) in out.iter_mut().zip(keys::family_prefix_ends(name)) {
        let prefix = &name[..end];
        *slot = families
            .binary_search(&prefix)
            .ok()
            .and_then(|i| families.get(i).copied());
    }
    out
}

/// The u32 (little-endian) at index `i` of `bytes`, 0 past the end.
#[inline]
fn u32_at(bytes: &[u8], i: usize) -> u32 {
    bytes
        .get(i * 4..i * 4 + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_le_bytes)
}

/// One precomputed lookup table: key → ranks (see the module header).
#[derive(Debug, Clone, Copy, Default)]
pub struct HashIndex {
    shift: u32,
    len: usize,
    longest: usize,
    records: &'static [u8],
    entries: &'static [u8],
}

/// Bytes per bucket record: a u64 filter word and a u32 start.
const RECORD: usize = 12;

impl HashIndex {
    /// Reads a table header; a malformed table reads as empty.
    fn open(blob: &'static [u8]) -> Self {
        let bits = u32_at(blob, 0);
        let len = u32_at(blob, 1) as usize;
        let longest = u32_at(blob, 3) as usize;
        let records_len = ((1usize << bits.min(31)) + 1) * RECORD;
        let rest = blob.get(16..).unwrap_or(&[]);
        let (records, entries) = rest.split_at(records_len.min(rest.len()));
        if !(1..=31).contains(&bits) || records.len() != records_len || entries.len() != len * 4 {
            return HashIndex::default();
        }
        HashIndex {
            shift: 64 - bits,
            len,
            longest,
            records,
            entries,
        }
    }

    /// The record of bucket `b`: its filter word and where its entries
    /// start.
    #[inline]
    fn record(&self, b: usize) -> (u64, usize) {
        match self
            .records
            .get(b * RECORD..(b + 1) * RECORD)
            .and_then(|r| <[u8; RECORD]>::try_from(r).ok())
        {
            Some(r) => (
                u64::from_le_bytes([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]]),
                u32::from_le_bytes([r[8], r[9], r[10], r[11]]) as usize,
            ),
            None => (0, 0),
        }
    }

    /// False when no key of the table is `key`; true for the keys of the
    /// table and a few percent of the others.
    #[inline]
    pub fn may_contain(&self, key: u64) -> bool {
        let (word, _) = self.record((key >> self.shift) as usize);
        let bits = keys::filter_bits(key);
        word & bits == bits
    }

    /// Bit `i` set when `keys[i]` passes [`Self::may_contain`] (`keys`: at
    /// most 64). The filter words are read with no branch in between, so
    /// that the memory reads overlap.
    #[inline]
    pub fn may_contain_many(&self, keys: &[u64]) -> u64 {
        let mut hits = 0u64;
        for (i, &k) in keys.iter().take(64).enumerate() {
            hits |= u64::from(self.may_contain(k)) << i;
        }
        hits
    }

    /// The ranks stored under a key (and, rarely, under another key with
    /// the same bucket and fingerprint).
    #[inline]
    pub fn get(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let present = self.may_contain(key);
        self.bucket(key, present)
    }

    /// The ranks of the key's bucket with its fingerprint, without the
    /// filter; none unless `present`.
    #[inline]
    pub fn bucket(&self, key: u64, present: bool) -> impl Iterator<Item = u32> + '_ {
        let range = if present { self.range(key) } else { (0, 0) };
        self.ranks_in(key, range)
    }

    /// Where the entries of the key's bucket lie (read from the bucket
    /// starts).
    #[inline]
    pub fn range(&self, key: u64) -> (usize, usize) {
        let b = (key >> self.shift) as usize;
        (self.record(b).1, self.record(b + 1).1)
    }

    /// The first entry of a range, to bring it into the cache ahead of
    /// [`Self::ranks_in`].
    #[inline]
    pub fn first_entry(&self, range: (usize, usize)) -> u32 {
        if range.0 < range.1 {
            u32_at(self.entries, range.0)
        } else {
            0
        }
    }

    /// The ranks in `range` (from [`Self::range`]) with the key's
    /// fingerprint.
    #[inline]
    pub fn ranks_in(&self, key: u64, (lo, hi): (usize, usize)) -> impl Iterator<Item = u32> + '_ {
        let fp = (key >> 24) as u16;
        self.entries
            .get(lo * 4..hi * 4)
            .unwrap_or(&[])
            .chunks_exact(4)
            .filter_map(move |e| {
                let e = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
                ((e >> 16) as u16 == fp).then_some(e & 0xffff)
            })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The longest key source indexed, in characters (for the deletion
    /// index: the longest name without separators).
    pub fn longest(&self) -> usize {
        self.longest
    }
}

/// One ecosystem's corpus and its lookup indexes. Names are stored
/// normalised with the ecosystem's rules; rank 0 is the most popular.
#[derive(Debug, Default)]
pub struct Corpus {
    names: &'static str,
    offsets: &'static [u8],
    /// The family prefixes, sorted (a few hundred at most).
    families: Vec<&'static str>,
    /// Name → rank.
    pub exact: HashIndex,
    /// Each name without separators, and its one-deletion variants →
    /// ranks: names one insertion, deletion, substitution or transposition
    /// away (separators aside) share a key.
    pub deletions: HashIndex,
    /// Look-alike skeleton (separators dropped, homoglyphs folded, repeated
    /// letters collapsed) → ranks.
    pub skeletons: HashIndex,
    /// The tokens of names with two or more tokens, in any order
    /// ([`keys::tokens_key`]) → ranks.
    pub tokens: HashIndex,
    /// npm: the name without its scope → ranks of scoped names.
    pub unscoped: HashIndex,
    /// The name without a dropped prefix or suffix
    /// ([`keys::DROPPED_PREFIXES`], [`keys::DROPPED_SUFFIXES`]) → ranks.
    pub dropped: HashIndex,
}

impl Corpus {
    fn open(e: &Embedded) -> Corpus {
        Corpus {
            names: e.names,
            offsets: e.offsets,
            families: e.families.lines().collect(),
            exact: HashIndex::open(e.exact),
            deletions: HashIndex::open(e.deletions),
            skeletons: HashIndex::open(e.skeletons),
            tokens: HashIndex::open(e.tokens),
            unscoped: HashIndex::open(e.unscoped),
            dropped: HashIndex::open(e.dropped),
        }
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        (self.offsets.len() / 4).saturating_sub(1)
    }

    /// True when the corpus has no names.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The normalised name of a rank.
    #[inline]
    pub fn name(&self, rank: u32) -> Option<&'static str> {
        let r = rank as usize;
        let (lo, hi) = (u32_at(self.offsets, r), u32_at(self.offsets, r + 1));
        self.names.get(lo as usize..hi as usize)
    }

    /// The names, most popular first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        (0..self.len() as u32).filter_map(|r| self.name(r))
    }

    /// The rank of a normalised name.
    pub fn rank(&self, name: &str) -> Option<u32> {
        self.rank_of_key(keys::key(keys::SEED, name), name.len(), |n| n == name)
    }

    /// The rank of the name `a` followed by `b` (no allocation).
    pub fn rank_of_concat(&self, a: &str, b: &str) -> Option<u32> {
        let h = keys::mix(keys::extend(keys::extend(keys::SEED, a), b));
        self.rank_of_key(h, a.len() + b.len(), |n| n.starts_with(a) && n.ends_with(b))
    }

    /// The rank of the name whose key is `key`, `len` bytes long, for
    /// which `is` holds.
    #[inline]
    pub fn rank_of_key(&self, key: u64, len: usize, is: impl Fn(&str) -> bool) -> Option<u32> {
        self.exact
            .get(key)
            .find(|&r| self.name(r).is_some_and(|n| n.len() == len && is(n)))
    }

    /// The ranks of the names within one edit of `name` (separators
    /// aside), by the deletion index: the candidates the detector
    /// classifies, unverified and without duplicates.
    pub fn neighbours(&self, name: &str) -> Vec<u32> {
        let (scope, base) = split_scope(name);
        let units: Vec<u64> = base
            .chars()
            .filter(|c| !is_separator(*c))
            .map(keys::unit)
            .collect();
        let mut out = Vec::new();
        keys::deletion_keys(keys::scope_seed(scope), &units, &mut Vec::new(), |h| {
            out.extend(self.deletions.get(h));
        });
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The corpus of an ecosystem (its tables opened on first use).
pub fn corpus(eco: Ecosystem) -> &'static Corpus {
    static NPM_C: OnceLock<Corpus> = OnceLock::new();
    static PYPI_C: OnceLock<Corpus> = OnceLock::new();
    static CRATES_C: OnceLock<Corpus> = OnceLock::new();
    match eco {
        Ecosystem::Npm => NPM_C.get_or_init(|| Corpus::open(&NPM)),
        Ecosystem::PyPI => PYPI_C.get_or_init(|| Corpus::open(&PYPI)),
        Ecosystem::CratesIo => CRATES_C.get_or_init(|| Corpus::open(&CRATES)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECOS: [(Ecosystem, &str); 3] = [
        (Ecosystem::Npm, include_str!("data/npm.tsv")),
        (Ecosystem::PyPI, include_str!("data/pypi.tsv")),
        (Ecosystem::CratesIo, include_str!("data/crates.tsv")),
    ];

    /// The build-time normalisation is the ecosystem's, and every name is
    /// found again through the exact index at its own rank.
    #[test]
    fn embedded_names_match_the_lists() {
        for (eco, text) in ECOS {
            let c = corpus(eco);
            let listed: Vec<String> = text
                .lines()
                .filter_map(|l| l.split('\t').next())
                .map(|n| eco.normalize_name(n.trim()))
                .filter(|n| !n.is_empty())
                .collect();
            assert!(listed.len() > 3000, "{eco:?}");
            assert_eq!(c.len(), listed.len(), "{eco:?}");
            let mut first = std::collections::HashMap::new();
            for (rank, name) in listed.iter().enumerate() {
                first.entry(name.as_str()).or_insert(rank as u32);
            }
            let mut bytes = Vec::new();
            for (name, want) in c.names().zip(&listed) {
                assert_eq!(name, want);
                for form in [name, &name.replace('m', "rn"), &name.replace('o', "0")] {
                    keys::skeleton_ascii(form.as_bytes(), &mut bytes);
                    assert_eq!(bytes, skeleton(form).as_bytes(), "{form}");
                }
                assert_eq!(c.rank(name), first.get(name).copied(), "{name}");
            }
        }
    }

    /// Every established npm package is found with its own figure, its
    /// scope is public, and an unknown name or scope is not.
    #[test]
    fn established_figures_and_scopes_match_the_list() {
        let text = include_str!("data/npm-established.tsv");
        let mut n = 0;
        for line in text.lines() {
            let (name, figure) = line.split_once('\t').unwrap();
            assert_eq!(
                downloads(Ecosystem::Npm, name),
                Some(figure.parse().unwrap()),
                "{name}"
            );
            assert!(is_known(Ecosystem::Npm, name), "{name}");
            if let (Some(scope), _) = split_scope(name) {
                assert!(public_scope(scope), "{scope}");
            }
            n += 1;
        }
        assert!(n > 80_000, "{n}");
        assert_eq!(downloads(Ecosystem::Npm, "lodahs"), None);
        assert_eq!(downloads(Ecosystem::PyPI, "requests"), None);
        assert!(is_known(Ecosystem::PyPI, "requests"));
        assert!(!public_scope("@acme"));
        assert!(!is_known(Ecosystem::Npm, "acme-billing"));
    }

    #[test]
    fn families_come_from_the_corpus() {
        // Many names of the corpus start with them.
        for (eco, name, family) in [
            (Ecosystem::CratesIo, "aws-sdk-zzz", "aws-sdk-"),
            (Ecosystem::PyPI, "mypy-boto3-zzz", "mypy-boto3-"),
            (Ecosystem::PyPI, "google-cloud-zzz", "google-cloud-"),
            (Ecosystem::PyPI, "types-zzz", "types-"),
        ] {
            assert!(family_prefixes(eco, name).contains(&Some(family)), "{name}");
            let members = corpus(eco)
                .names()
                .filter(|n| n.starts_with(family))
                .count();
            assert!(members >= 8, "{family}: {members}");
        }
        // The affixes of imitations are no family, nor is npm (figures
        // decide there), nor a prefix few names share.
        assert_eq!(family_prefixes(Ecosystem::PyPI, "python-zzz")[0], None);
        assert_eq!(
            family_prefixes(Ecosystem::Npm, "eslint-plugin-zzz"),
            [None, None]
        );
        assert_eq!(
            family_prefixes(Ecosystem::PyPI, "zzz-qqq-www"),
            [None, None]
        );
    }

    #[test]
    fn deletion_keys_are_the_keys_of_the_variants() {
        let units: Vec<u64> = "abbc".chars().map(keys::unit).collect();
        let mut got = Vec::new();
        keys::deletion_keys(keys::SEED, &units, &mut Vec::new(), |h| got.push(h));
        let want: Vec<u64> = ["abbc", "abb", "abc", "bbc"]
            .iter()
            .map(|s| keys::key(keys::SEED, s))
            .collect();
        got.sort_unstable();
        let mut want_sorted = want.clone();
        want_sorted.sort_unstable();
        assert_eq!(got, want_sorted);
        // A scoped name's key is its full name's key.
        assert_eq!(
            keys::key(keys::scope_seed(Some("@types")), "node"),
            keys::key(keys::SEED, "@types/node")
        );
    }

    #[test]
    fn lookups_and_neighbours() {
        let c = corpus(Ecosystem::PyPI);
        let r = c.rank("requests").unwrap();
        assert_eq!(c.name(r), Some("requests"));
        assert_eq!(c.rank_of_concat("reque", "sts"), Some(r));
        assert_eq!(c.rank("requests-not-a-real-name-xyz"), None);
        assert!(c.neighbours("reqests").contains(&r));
        assert!(c.neighbours("re-quest-s").contains(&r));
        assert!(!c.neighbours("zzzzzzzz").contains(&r));
        assert!(c.deletions.longest() >= "requests".len());
        let npm = corpus(Ecosystem::Npm);
        assert!(
            npm.unscoped
                .get(keys::key(keys::SEED, "node"))
                .any(|t| { npm.name(t) == Some("@types/node") })
        );
    }
}
