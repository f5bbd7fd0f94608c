//! Name forms and key hashes shared by the corpus index, which `build.rs`
//! computes at compile time, and the typosquat detector, which looks keys
//! up at run time. `build.rs` includes this file as a module of its own:
//! it depends on nothing else in the crate.
//!
//! A key is a polynomial hash over the characters of a string, continued
//! from a seed (the npm scope, if any) and mixed at the end. Being a
//! polynomial, the key of a string with one character deleted, or of a
//! prefix or suffix added, comes from prefix hashes in O(1).

/// The start of every key (the FNV-1a offset basis).
pub const SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// The multiplier of the polynomial hash (odd, so invertible mod 2^64).
pub const POLY: u64 = 0x100_0000_01b3;

/// The splitmix64 finaliser: every bit of the result depends on every bit
/// of the input, so buckets, filter bits and fingerprints can be cut from
/// different bit ranges of one key.
#[inline]
pub const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The two bits a key sets in its filter word (the word is chosen by the
/// key's low bits).
#[inline]
pub fn filter_bits(key: u64) -> u64 {
    (1 << ((key >> 18) & 63)) | (1 << ((key >> 40) & 63))
}

/// The hash unit of a character (never 0, so that leading characters count).
#[inline]
pub fn unit(c: char) -> u64 {
    u64::from(c) + 1
}

/// The running hash `h` followed by the characters of `s`.
#[inline]
pub fn extend(h: u64, s: &str) -> u64 {
    s.chars()
        .fold(h, |h, c| h.wrapping_mul(POLY).wrapping_add(unit(c)))
}

/// The running hash after `@scope/` (or the bare seed when unscoped): the
/// key of `@scope/name` is the key of `name` under this seed.
pub fn scope_seed(scope: Option<&str>) -> u64 {
    match scope {
        Some(s) => extend(extend(SEED, s), "/"),
        None => SEED,
    }
}

/// [`extend`] over an ASCII string's bytes (the same units).
#[inline]
pub fn extend_ascii(h: u64, s: &[u8]) -> u64 {
    s.iter().fold(h, |h, &b| {
        h.wrapping_mul(POLY).wrapping_add(u64::from(b) + 1)
    })
}

/// Bits of a key that choose its bucket in the table of download figures
/// (about three names per bucket).
pub const FIGURE_BUCKET_BITS: u32 = 15;

/// Prefixes ending with a separator that a copy of a popular name may
/// drop (`python-dateutil` → `dateutil`).
pub const DROPPED_PREFIXES: [&str; 5] = ["python-", "py-", "node-", "rust-", "js-"];

/// Suffixes starting with a separator that a copy may drop.
pub const DROPPED_SUFFIXES: [&str; 9] = [
    "-python", "-py", "-js", ".js", "-rs", "-cli", "-dev", "-node", "-lib",
];

/// True when the first token of `prefix` is one of the affixes a copy
/// adds to or drops from a popular name ([`DROPPED_PREFIXES`]): such a
/// prefix marks imitations, not a family of names.
pub fn is_affix_prefix(prefix: &str) -> bool {
    let first = prefix.split(is_separator).next().unwrap_or("");
    DROPPED_PREFIXES
        .iter()
        .any(|p| p.strip_suffix(is_separator) == Some(first))
}

/// Where the family prefixes of a name end: after its first token and
/// its separator, and after its second token and separator (`aws-sdk-s3`
/// → 4 and 8), when more of the name follows. Scoped names have none.
pub fn family_prefix_ends(name: &str) -> impl Iterator<Item = usize> + '_ {
    let scoped = name.starts_with('@');
    name.char_indices()
        .filter(move |&(i, c)| !scoped && i > 0 && is_separator(c))
        .map(|(i, c)| i + c.len_utf8())
        .filter(move |&end| end < name.len() && !name[end..].starts_with(is_separator))
        .take(2)
}

/// What is left of `name` once a dropped prefix or suffix is taken off,
/// for each one it has.
pub fn dropped_remainders(name: &str) -> impl Iterator<Item = &str> {
    let pre = DROPPED_PREFIXES
        .iter()
        .filter_map(move |p| name.strip_prefix(p));
    let suf = DROPPED_SUFFIXES
        .iter()
        .filter_map(move |s| name.strip_suffix(s));
    pre.chain(suf)
}

/// An order-independent key of the separator-split tokens of `base`
/// under `seed` (a sum of token keys: tokens in another order share it);
/// `None` under two tokens.
pub fn tokens_key(seed: u64, base: &str) -> Option<u64> {
    let (mut sum, mut n) = (0u64, 0u64);
    for t in base.split(is_separator).filter(|t| !t.is_empty()) {
        sum = sum.wrapping_add(key(SEED, t));
        n += 1;
    }
    (n >= 2).then(|| tokens_key_of(seed, sum, n))
}

/// [`tokens_key`] from the sum of the token keys and their number.
#[inline]
pub fn tokens_key_of(seed: u64, sum: u64, n: u64) -> u64 {
    mix(seed ^ mix(sum ^ n))
}

/// The key of `s` continued from `seed`.
#[inline]
pub fn key(seed: u64, s: &str) -> u64 {
    mix(extend(seed, s))
}

/// Calls `emit` with the key of the string of `units` (from `seed`) and
/// the key of each of its one-deletion variants, each distinct variant
/// once. `pre` is scratch space, O(n) in all and no allocation once `pre`
/// has grown to the name's length.
pub fn deletion_keys(seed: u64, units: &[u64], pre: &mut Vec<u64>, mut emit: impl FnMut(u64)) {
    pre.clear();
    pre.resize(units.len(), 0);
    let mut h = seed;
    for (p, &u) in pre.iter_mut().zip(units) {
        *p = h;
        h = h.wrapping_mul(POLY).wrapping_add(u);
    }
    emit(mix(h));
    // Backwards: `pre[i]` hashes the units before position i, `suf` those
    // after it, and `pw` is POLY to the power of their count. Units are
    // never 0, so 0 stands for "no next unit".
    let (mut suf, mut pw, mut next) = (0u64, 1u64, 0u64);
    for (&u, &p) in units.iter().zip(pre.iter()).rev() {
        // Deleting either of two equal neighbours gives one variant.
        if u != next {
            emit(mix(p.wrapping_mul(pw).wrapping_add(suf)));
        }
        suf = u.wrapping_mul(pw).wrapping_add(suf);
        pw = pw.wrapping_mul(POLY);
        next = u;
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
#[inline]
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
    skeleton_into(name, &mut out);
    out
}

/// [`skeleton`] written into a cleared `out` (reused buffers).
pub fn skeleton_into(name: &str, out: &mut String) {
    out.clear();
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
            push_collapsed(out, 'm');
        } else if c == 'v' && out.ends_with('v') {
            out.pop();
            push_collapsed(out, 'w');
        } else {
            push_collapsed(out, c);
        }
    }
}

/// The look-alike folding of [`skeleton`] for ASCII bytes.
const FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            b'1' | b'i' | b'!' | b'|' => b'l',
            b'0' => b'o',
            b'5' | b'$' => b's',
            b'3' => b'e',
            c => c,
        };
        i += 1;
    }
    t
};

/// [`skeleton`] of an ASCII name, as bytes written into a cleared `out`.
pub fn skeleton_ascii(name: &[u8], out: &mut Vec<u8>) {
    out.clear();
    // The last byte of `out`; 256 when empty.
    let mut last = 256u16;
    for &b in name {
        if matches!(b, b'-' | b'_' | b'.') {
            continue;
        }
        let mut c = FOLD[usize::from(b)];
        if (c == b'n' && last == u16::from(b'r')) || (c == b'v' && last == u16::from(b'v')) {
            out.pop();
            last = out.last().map_or(256, |&l| u16::from(l));
            c = if c == b'n' { b'm' } else { b'w' };
        }
        if u16::from(c) != last {
            out.push(c);
            last = u16::from(c);
        }
    }
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
