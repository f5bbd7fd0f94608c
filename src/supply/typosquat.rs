//! Typosquat detection: names that imitate popular packages.
//!
//! A name is compared with its ecosystem's popularity corpus
//! ([`super::popular`]) through indexes (one-deletion neighbourhoods,
//! look-alike skeletons, sorted tokens, npm scopes), never by scanning the
//! corpus. Each rule that matches gives a strength, which the length of the
//! name adjusts ([`rules`]). Popularity decides the rest, in both
//! directions: a name suspect in proportion to how much less popular it is
//! than its target. A name in the corpus is never flagged; an established
//! npm package (10,000 downloads a month or more) at most at `low`, and
//! only for a typing error of a name at least [`ESTABLISHED_GAP`] times
//! more downloaded; a name the corpora do not know counts as no downloads
//! at all. Where the corpora have no figures, the names speak: two names
//! of one family (a prefix many names of the corpus share, `aws-sdk-`,
//! `mypy-boto3-`) are siblings, not imitations.

pub mod findings;
pub mod rules;

use std::cell::RefCell;

use crate::ecosystem::Ecosystem;
use crate::severity::Grade;

use super::popular::keys::{self, DROPPED_PREFIXES, DROPPED_SUFFIXES};
use super::popular::{
    Corpus, corpus, downloads, family_prefixes, is_separator, skeleton, sorted_tokens, split_scope,
};
use rules::{confidence_of, look_alike_rule, one_edit, score, stripped_edit};

pub use findings::findings;

/// Monthly downloads from which an npm package is established in its own
/// right (the floor of the established list).
pub const ESTABLISHED: u64 = 10_000;

/// How many times more downloads a popular name needs than an established
/// one for the established one to be reported (at `low`) as its copy.
pub const ESTABLISHED_GAP: u64 = 10_000;

/// Affixes attackers add to (or drop from) a popular name.
const PREFIXES: &[&str] = &[
    "python-", "python", "py-", "py", "node-", "node", "rust-", "js-",
];
const SUFFIXES: &[&str] = &[
    "-python", "python", "-py", "py", "-js", ".js", "js", "-rs", "-cli", "-dev", "-node", "-lib",
];
/// One detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    /// The popular package imitated (normalised name).
    pub imitates: String,
    /// Which rule matched.
    pub rule: &'static str,
    /// The rule's strength for this name ([`rules::score`]).
    pub score: i32,
    /// How sure the detector is.
    pub confidence: Grade,
    /// Monthly downloads of the name, when the corpora know them.
    pub downloads: Option<u64>,
    /// Monthly downloads of the name imitated, when known.
    pub target_downloads: Option<u64>,
}

/// Whether the detector uses the npm download figures of established
/// packages (the default) or only the names of the corpora (to measure
/// what the figures change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figures {
    /// Candidates with known downloads are judged by their popularity gap.
    Established,
    /// Every name outside the corpora counts as unknown.
    NamesOnly,
}

/// Buffers reused from one check to the next (per thread), so that a
/// check allocates nothing unless it finds candidates.
#[derive(Default)]
struct Scratch {
    /// The normalised name, when normalisation changes it.
    norm: String,
    /// Hash units of the name without separators.
    units: Vec<u64>,
    /// Prefix hashes for [`keys::deletion_keys`].
    pre: Vec<u64>,
    /// The skeleton of the name.
    skeleton: String,
    /// The skeleton of the name, as bytes.
    skeleton_bytes: Vec<u8>,
    /// The one-deletion keys of the name.
    probes: Vec<u64>,
    /// Keys that passed the filter, with their bucket ranges.
    ranges: Vec<(u64, (usize, usize))>,
    /// Candidates of the deletion index already classified.
    seen: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Checks one package name of an ecosystem. `None` when it imitates
/// nothing (or is itself popular).
pub fn check(eco: Ecosystem, name: &str) -> Option<Suspect> {
    check_using(eco, name, Figures::Established)
}

/// [`check`], with or without the download figures.
pub fn check_using(eco: Ecosystem, name: &str, figures: Figures) -> Option<Suspect> {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => check_with(eco, name, figures, &mut s),
        Err(_) => check_with(eco, name, figures, &mut Scratch::default()),
    })
}

/// The confidence of a match of `rule` (strength `score`) between a name
/// with `downloads` a month (`None`: unknown, no downloads) and a target
/// with `target_downloads`: the rule's own for a name below
/// [`ESTABLISHED`]; for an established one, `low` when it is a typing
/// error of a name at least [`ESTABLISHED_GAP`] times more downloaded,
/// else nothing.
pub fn judge(
    rule: &str,
    score: i32,
    downloads: Option<u64>,
    target_downloads: Option<u64>,
) -> Option<Grade> {
    match downloads.filter(|&d| d >= ESTABLISHED) {
        None => (score > 0).then(|| confidence_of(score)),
        Some(own) => {
            let target = target_downloads.unwrap_or(0);
            (score >= 3 && rules::is_typing_error(rule) && target / own.max(1) >= ESTABLISHED_GAP)
                .then_some(Grade::Low)
        }
    }
}

/// `Ecosystem::normalize_name` without allocating: the name itself for
/// npm, else written into `out`.
fn normalize<'a>(eco: Ecosystem, name: &'a str, out: &'a mut String) -> &'a str {
    match eco {
        Ecosystem::Npm => name,
        _ => {
            eco.normalize_name_into(name, out);
            out
        }
    }
}

fn check_with(
    eco: Ecosystem,
    raw: &str,
    figures: Figures,
    scratch: &mut Scratch,
) -> Option<Suspect> {
    let c = corpus(eco);
    let Scratch {
        norm,
        units,
        pre,
        skeleton: skel,
        skeleton_bytes: skel_bytes,
        probes,
        ranges,
        seen,
    } = scratch;
    let name = normalize(eco, raw, norm);
    let (scope, base) = split_scope(name);
    let seed = keys::scope_seed(scope);
    // ASCII names (nearly all) are handled as bytes: one byte per character.
    let ascii = name.is_ascii();
    // The running hash of the whole name: its exact key once mixed.
    let h_name = if ascii {
        keys::extend_ascii(seed, base.as_bytes())
    } else {
        keys::extend(seed, base)
    };
    // A name in the corpus is itself a popular package: two popular
    // packages that look alike are both legitimate.
    if c.rank_of_key(keys::mix(h_name), name.len(), |n| n == name)
        .is_some()
    {
        return None;
    }
    let base_len = if ascii {
        base.len()
    } else {
        base.chars().count()
    };
    let mut best: Option<(i32, u32, &'static str)> = None;
    // The family prefixes of the name, looked up at its first match.
    let mut families: Option<[Option<&'static str>; 2]> = None;
    let mut consider = |target: u32, rule: &'static str, strength: i32| {
        let Some(tname) = c.name(target) else {
            return;
        };
        if tname == name || same_owner(name, tname) {
            return;
        }
        // Siblings of one family differ in the first token of their member
        // part (`aws-sdk-ses`, `aws-sdk-sts`); an affix added to or dropped
        // from a name is still a copy.
        if !rules::is_affix(rule)
            && families
                .get_or_insert_with(|| family_prefixes(eco, name))
                .iter()
                .flatten()
                .any(|f| siblings(f, name, tname))
        {
            return;
        }
        let score = score(base_len, rule, strength);
        let better = match best {
            None => true,
            Some((s, t, _)) => score > s || (score == s && target < t),
        };
        if score > 0 && better {
            best = Some((score, target, rule));
        }
    };

    // Look-alike skeletons: separators, homoglyphs, repeated letters.
    if base_len >= 4 {
        let key = if ascii {
            keys::skeleton_ascii(base.as_bytes(), skel_bytes);
            keys::mix(keys::extend_ascii(seed, skel_bytes))
        } else {
            keys::skeleton_into(base, skel);
            skel_bytes.clear();
            skel_bytes.extend_from_slice(skel.as_bytes());
            keys::key(seed, skel)
        };
        for t in c.skeletons.get(key) {
            if let Some(tbase) = same_scope_base(c, t, scope)
                && skeleton(tbase).as_bytes() == skel_bytes.as_slice()
            {
                consider(t, look_alike_rule(base, tbase), 3);
            }
        }
    }
    // One edit away (separators aside): the deletion neighbourhood of the
    // name without separators. Longer names cannot share a key with any
    // corpus name.
    if base_len >= 4 {
        units.clear();
        if ascii {
            units.extend(
                base.bytes()
                    .filter(|b| !matches!(b, b'-' | b'_' | b'.'))
                    .map(|b| u64::from(b) + 1),
            );
        } else {
            units.extend(base.chars().filter(|c| !is_separator(*c)).map(keys::unit));
        }
        if units.len() <= c.deletions.longest() + 1 {
            seen.clear();
            probes.clear();
            probes.reserve(units.len() + 1);
            keys::deletion_keys(seed, units, pre, |h| probes.push(h));
            let d = &c.deletions;
            for chunk in probes.chunks(64) {
                // Filter words, then the bucket starts of the keys that
                // pass, then their first entries, each round of reads
                // independent of the others so that they overlap.
                let mut hits = d.may_contain_many(chunk);
                ranges.clear();
                while hits != 0 {
                    let i = hits.trailing_zeros() as usize;
                    hits &= hits - 1;
                    if let Some(&h) = chunk.get(i) {
                        ranges.push((h, d.range(h)));
                    }
                }
                std::hint::black_box(ranges.iter().fold(0, |acc, &(_, r)| acc ^ d.first_entry(r)));
                for &(h, range) in ranges.iter() {
                    for t in d.ranks_in(h, range) {
                        if seen.contains(&t) {
                            continue;
                        }
                        seen.push(t);
                        let Some(tbase) = same_scope_base(c, t, scope) else {
                            continue;
                        };
                        if let Some((rule, strength)) = one_edit(base, tbase) {
                            consider(t, rule, strength);
                        } else if let Some(strength) = stripped_edit(base, tbase) {
                            consider(t, "separator-and-edit", strength.min(2));
                        }
                    }
                }
            }
        }
    }
    // Tokens in another order.
    if let Some(key) = tokens_key(seed, base, ascii) {
        for t in c.tokens.get(key) {
            if let Some(tbase) = same_scope_base(c, t, scope)
                && sorted_tokens(tbase) == sorted_tokens(base)
            {
                consider(t, "reordered-tokens", 2);
            }
        }
    }
    // Affixes added or dropped.
    if scope.is_none() {
        let b = base.as_bytes();
        for p in PREFIXES {
            if b.len() >= p.len() + 3
                && b.iter().zip(p.as_bytes()).all(|(x, y)| x == y)
                && let Some(rest) = base.get(p.len()..)
                && let Some(t) = c.rank(rest.trim_start_matches(is_separator))
            {
                consider(t, "prefix-added", 3);
            }
        }
        for s in SUFFIXES {
            if b.len() >= s.len() + 3
                && b.iter()
                    .rev()
                    .zip(s.as_bytes().iter().rev())
                    .all(|(x, y)| x == y)
                && let Some(rest) = base.get(..base.len() - s.len())
                && let Some(t) = c.rank(rest.trim_end_matches(is_separator))
            {
                consider(t, "suffix-added", 3);
            }
        }
        if base_len >= 5 {
            // Names that are this one plus a separated prefix or suffix,
            // found by their remainder (this name's own key).
            for t in c.dropped.get(keys::mix(h_name)) {
                let Some(n) = c.name(t) else {
                    continue;
                };
                let Some(extra) = n.len().checked_sub(base.len()) else {
                    continue;
                };
                if DROPPED_PREFIXES
                    .iter()
                    .any(|p| p.len() == extra && n.starts_with(p) && n.ends_with(base))
                {
                    consider(t, "prefix-dropped", 1);
                }
                if DROPPED_SUFFIXES
                    .iter()
                    .any(|s| s.len() == extra && n.starts_with(base) && n.ends_with(s))
                {
                    consider(t, "suffix-dropped", 1);
                }
            }
        }
    }
    // npm scope tricks.
    if eco == Ecosystem::Npm {
        scope_tricks(c, scope, base, keys::mix(h_name), &mut consider);
    }
    let (score, target, rule) = best?;
    let imitates = c.name(target)?;
    // The target's figure matters only against an established name.
    let own = match figures {
        Figures::Established => downloads(eco, name),
        Figures::NamesOnly => None,
    };
    let theirs = own.and_then(|_| downloads(eco, imitates));
    Some(Suspect {
        imitates: imitates.to_string(),
        rule,
        score,
        confidence: judge(rule, score, own, theirs)?,
        downloads: own,
        target_downloads: theirs,
    })
}

/// True when `a` and `b` both start with the family prefix `family` and
/// their member parts differ in their first token.
fn siblings(family: &str, a: &str, b: &str) -> bool {
    let first = |n: &str| {
        n.get(family.len()..)
            .and_then(|m| m.split(is_separator).next())
            .unwrap_or("")
            .to_string()
    };
    b.len() > family.len() && b.starts_with(family) && first(a) != first(b)
}

/// The name of rank `t` without its scope, when its scope is `scope`.
fn same_scope_base(c: &Corpus, t: u32, scope: Option<&str>) -> Option<&'static str> {
    let (tscope, tbase) = split_scope(c.name(t)?);
    (tscope == scope).then_some(tbase)
}

/// [`keys::tokens_key`], over bytes for ASCII names.
fn tokens_key(seed: u64, base: &str, ascii: bool) -> Option<u64> {
    if !ascii {
        return keys::tokens_key(seed, base);
    }
    let (mut sum, mut n) = (0u64, 0u64);
    let (mut h, mut len) = (keys::SEED, 0);
    for &b in base.as_bytes().iter().chain(b"-") {
        if matches!(b, b'-' | b'_' | b'.') {
            if len > 0 {
                sum = sum.wrapping_add(keys::mix(h));
                n += 1;
                (h, len) = (keys::SEED, 0);
            }
        } else {
            h = keys::extend_ascii(h, &[b]);
            len += 1;
        }
    }
    (n >= 2).then(|| keys::tokens_key_of(seed, sum, n))
}

/// `@types/x` copied as `types-x`, and an unscoped copy of a popular
/// scoped package (`base_key`: the key of the unscoped name).
fn scope_tricks(
    c: &Corpus,
    scope: Option<&str>,
    base: &str,
    base_key: u64,
    consider: &mut impl FnMut(u32, &'static str, i32),
) {
    // A popular unscoped name under an unknown scope is how forks are
    // published too (`@achrinza/node-ipc`): too weak to report.
    if scope.is_some() {
        return;
    }
    for prefix in ["types-", "types__"] {
        if let Some(rest) = base.strip_prefix(prefix)
            && let Some(t) = c.rank_of_concat("@types/", rest)
        {
            consider(t, "scope-flattened", 3);
        }
    }
    if base.len() >= 5 {
        for t in c.unscoped.get(base_key) {
            if c.name(t).is_some_and(|n| split_scope(n).1 == base) {
                consider(t, "scope-dropped", 1);
            }
        }
    }
}

/// Packages of the same npm scope belong to one owner.
fn same_owner(a: &str, b: &str) -> bool {
    matches!((split_scope(a).0, split_scope(b).0), (Some(x), Some(y)) if x == y)
}

/// Check results by (ecosystem, name), shared by the deployments of one
/// scan: a name met in many deployments is checked once.
#[derive(Debug, Default)]
pub struct CheckCache {
    results: crate::memo::Memo<(Ecosystem, String), Option<Suspect>>,
}

impl CheckCache {
    /// [`check`], or its earlier result for the same name.
    pub fn check(&self, eco: Ecosystem, name: &str) -> Option<Suspect> {
        self.results
            .get((eco, name.to_string()), |(eco, name)| check(*eco, name))
    }
}

#[cfg(test)]
mod tests;
