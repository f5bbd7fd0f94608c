//! Typosquat detection: names that imitate popular packages.
//!
//! A name is compared with its ecosystem's popularity corpus
//! ([`super::popular`]) through indexes (one-deletion neighbourhoods,
//! look-alike skeletons, sorted tokens, npm scopes), never by scanning the
//! corpus. Each rule that matches gives a strength; the length of the name
//! and how much more popular the target is than the candidate turn it into
//! a confidence. A name that is itself popular is never flagged at high
//! confidence, and one in the top of its corpus never at all.

use std::cell::RefCell;
use std::collections::BTreeSet;

use crate::ecosystem::Ecosystem;
use crate::policy::Policy;
use crate::report::model::{Finding, FindingKind};
use crate::scan::ParsedDeployment;

use super::popular::keys::{self, DROPPED_PREFIXES, DROPPED_SUFFIXES};
use super::popular::{
    Corpus, corpus, is_separator, skeleton, sorted_tokens, split_scope, strip_separators,
};

/// Names ranked above this in their corpus are never flagged.
pub const TOP: u32 = 5_000;

/// Affixes attackers add to (or drop from) a popular name.
const PREFIXES: &[&str] = &[
    "python-", "python", "py-", "py", "node-", "node", "rust-", "js-",
];
const SUFFIXES: &[&str] = &[
    "-python", "python", "-py", "py", "-js", ".js", "js", "-rs", "-cli", "-dev", "-node", "-lib",
];
/// How sure the detector is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Weak evidence.
    Low,
    /// Likely.
    Medium,
    /// Almost certainly an imitation.
    High,
}

impl Confidence {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    /// The popular package imitated (normalised name).
    pub imitates: String,
    /// Which rule matched.
    pub rule: &'static str,
    /// Confidence.
    pub confidence: Confidence,
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
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => check_with(eco, name, &mut s),
        Err(_) => check_with(eco, name, &mut Scratch::default()),
    })
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

fn check_with(eco: Ecosystem, raw: &str, scratch: &mut Scratch) -> Option<Suspect> {
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
    let mut consider = |target: u32, rule: &'static str, strength: i32| {
        let Some(tname) = c.name(target) else {
            return;
        };
        if tname == name || same_owner(name, tname) {
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
    Some(Suspect {
        imitates: c.name(target)?.to_string(),
        rule,
        confidence: confidence_of(score),
    })
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

/// Which look-alike rule makes `a` and `b` share a skeleton.
fn look_alike_rule(a: &str, b: &str) -> &'static str {
    if strip_separators(a) == strip_separators(b) {
        "separator"
    } else if a.chars().filter(|c| !is_separator(*c)).count()
        != b.chars().filter(|c| !is_separator(*c)).count()
        && a.replace("rn", "m").replace("vv", "w") != b.replace("rn", "m").replace("vv", "w")
        && collapse(a) == collapse(b)
    {
        "repeated-character"
    } else {
        "homoglyph"
    }
}

fn collapse(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().filter(|c| !is_separator(*c)) {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// The strength of `a` one edit away from `b` once both lose their
/// separators, when that differs from `a` and `b` as they are.
fn stripped_edit(a: &str, b: &str) -> Option<i32> {
    let (sa, sb) = (strip_separators(a), strip_separators(b));
    if sa == sb {
        return None;
    }
    one_edit(&sa, &sb).map(|(_, strength)| strength)
}

/// Classifies `a` one edit away from `b` (optimal string alignment): the
/// rule and its strength, or `None` when they are further apart.
fn one_edit(a: &str, b: &str) -> Option<(&'static str, i32)> {
    if a.is_ascii() && b.is_ascii() {
        one_edit_units(a.as_bytes(), b.as_bytes())
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        one_edit_units(&a, &b)
    }
}

/// [`one_edit`] over characters (bytes when both names are ASCII).
fn one_edit_units<T: Copy + Eq + Into<char>>(a: &[T], b: &[T]) -> Option<(&'static str, i32)> {
    if a.len().abs_diff(b.len()) > 1 {
        return None;
    }
    let sep = |x: T| is_separator(x.into());
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let s = a[p..]
        .iter()
        .rev()
        .zip(b[p..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ra, rb) = (
        &a[p..a.len() - s.min(a.len() - p)],
        &b[p..b.len() - s.min(b.len() - p)],
    );
    match (ra, rb) {
        (&[x], &[y]) => {
            let (x, y) = (x.into(), y.into());
            if is_separator(x) || is_separator(y) {
                Some(("separator", 3))
            } else if keyboard_neighbours(x, y) || homoglyphs(x, y) {
                Some(("keyboard-or-homoglyph-substitution", 3))
            } else {
                Some(("substitution", 2))
            }
        }
        (&[x0, x1], &[y0, y1]) if x0 == y1 && x1 == y0 => Some(("transposition", 3)),
        (&[extra], &[]) => {
            if sep(extra) {
                Some(("separator", 3))
            } else if a.get(p.wrapping_sub(1)) == Some(&extra) || a.get(p + 1) == Some(&extra) {
                Some(("repeated-character", 3))
            } else {
                Some(("insertion", 2))
            }
        }
        (&[], &[gone]) => {
            if sep(gone) {
                Some(("separator", 3))
            } else if b.get(p.wrapping_sub(1)) == Some(&gone) || b.get(p + 1) == Some(&gone) {
                Some(("dropped-repeated-character", 3))
            } else {
                Some(("deletion", 2))
            }
        }
        _ => None,
    }
}

fn keyboard_neighbours(a: char, b: char) -> bool {
    const ROWS: [&str; 4] = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];
    let pos = |c: char| {
        ROWS.iter()
            .enumerate()
            .find_map(|(r, row)| row.find(c).map(|i| (r as i32, i as i32)))
    };
    match (pos(a), pos(b)) {
        (Some((ra, ca)), Some((rb, cb))) => (ra - rb).abs() <= 1 && (ca - cb).abs() <= 1,
        _ => false,
    }
}

fn homoglyphs(a: char, b: char) -> bool {
    const GROUPS: [&str; 5] = ["l1i|", "o0", "s5", "e3", "a4"];
    GROUPS.iter().any(|g| g.contains(a) && g.contains(b))
}

/// The rule strength adjusted by the evidence: a plain one-letter edit
/// means more the longer the name (`len`: characters without the scope);
/// short names weaken every rule.
fn score(len: usize, rule: &str, strength: i32) -> i32 {
    let weak_edit = matches!(rule, "substitution" | "insertion" | "deletion");
    if weak_edit {
        match len {
            0..=4 => 1,
            5..=6 => 2,
            _ => 3,
        }
    } else if len <= 4 {
        strength - 1
    } else {
        strength
    }
}

fn confidence_of(score: i32) -> Confidence {
    match score {
        i32::MIN..=1 => Confidence::Low,
        2 => Confidence::Medium,
        _ => Confidence::High,
    }
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

/// Typosquat findings of one deployment: every registry package of every
/// source, once per name, unless allowed by `[typosquat] allow`.
pub fn findings(
    deployment: &ParsedDeployment,
    policy: &Policy,
    cache: &CheckCache,
) -> Vec<Finding> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for s in &deployment.sources {
        let Ok(parsed) = &s.result else { continue };
        for (id, p) in parsed.graph.iter() {
            if p.root || !p.source.is_registry_like() {
                continue;
            }
            let key = (p.ecosystem, p.normalized_name());
            if !seen.insert(key.clone()) || allowed(policy, p.ecosystem, &p.name) {
                continue;
            }
            let Some(suspect) = cache.check(p.ecosystem, &p.name) else {
                continue;
            };
            let mut f = Finding::new(
                FindingKind::Typosquat,
                p.ecosystem.as_str(),
                &p.name,
                p.version.clone(),
            );
            f.paths = vec![parsed.graph.path_names(id)];
            f.dev = p.dev;
            f.direct = p.direct;
            f.sources = vec![crate::discover::relative_display(
                &deployment.deployment.scan_root,
                &s.source.path,
            )];
            f.line = p.line;
            f.imitates = Some(suspect.imitates.clone());
            f.confidence = Some(suspect.confidence.as_str().to_string());
            f.reason = Some(format!(
                "{} looks like the popular package {} ({})",
                p.name, suspect.imitates, suspect.rule
            ));
            out.push(f);
        }
    }
    out
}

/// True when `[typosquat] allow` lists the name (compared normalised).
fn allowed(policy: &Policy, eco: Ecosystem, name: &str) -> bool {
    let n = eco.normalize_name(name);
    policy
        .typosquat
        .allow
        .iter()
        .any(|a| eco.normalize_name(a) == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(eco: Ecosystem, name: &str) -> Option<(String, &'static str, Confidence)> {
        check(eco, name).map(|s| (s.imitates, s.rule, s.confidence))
    }

    #[test]
    fn separators_homoglyphs_and_repeats() {
        let (t, rule, _) = hit(Ecosystem::Npm, "crossenv").unwrap();
        assert_eq!((t.as_str(), rule), ("cross-env", "separator"));
        let (t, _, _) = hit(Ecosystem::PyPI, "reqeusts").unwrap();
        assert_eq!(t, "requests");
        let (t, rule, _) = hit(Ecosystem::PyPI, "requestss").unwrap();
        assert_eq!((t.as_str(), rule), ("requests", "repeated-character"));
        let (t, _, _) = hit(Ecosystem::Npm, "rnoment").unwrap();
        assert_eq!(t, "moment");
        let (t, _, _) = hit(Ecosystem::CratesIo, "rustdecimal").unwrap();
        assert_eq!(t, "rust-decimal");
    }

    #[test]
    fn edits_affixes_tokens_and_scopes() {
        assert_eq!(hit(Ecosystem::PyPI, "colourama").unwrap().0, "colorama");
        assert_eq!(
            hit(Ecosystem::PyPI, "python-dateutils")
                .map(|h| h.0)
                .as_deref(),
            Some("python-dateutil")
        );
        let (t, rule, _) = hit(Ecosystem::Npm, "lodash-js").unwrap();
        assert_eq!((t.as_str(), rule), ("lodash", "suffix-added"));
        let (t, rule, _) = hit(Ecosystem::Npm, "types-node").unwrap();
        assert_eq!((t.as_str(), rule), ("@types/node", "scope-flattened"));
        let (_, rule, _) =
            hit(Ecosystem::Npm, "parser-yaml").map_or(("".into(), "", Confidence::Low), |h| h);
        assert!(rule.is_empty() || rule == "reordered-tokens");
    }

    #[test]
    fn popular_names_are_never_flagged() {
        for (eco, name) in [
            (Ecosystem::Npm, "colors"),
            (Ecosystem::Npm, "color"),
            (Ecosystem::PyPI, "requests"),
            (Ecosystem::CratesIo, "serde-json"),
        ] {
            assert_eq!(check(eco, name), None, "{name}");
        }
    }

    #[test]
    fn dropped_affixes_are_the_separated_ones() {
        let want: Vec<&str> = PREFIXES
            .iter()
            .copied()
            .filter(|p| p.ends_with('-'))
            .collect();
        assert_eq!(DROPPED_PREFIXES.to_vec(), want);
        let want: Vec<&str> = SUFFIXES
            .iter()
            .copied()
            .filter(|s| s.starts_with(['-', '.']))
            .collect();
        assert_eq!(DROPPED_SUFFIXES.to_vec(), want);
    }

    #[test]
    fn token_keys_ignore_order_and_encoding_path() {
        let seed = keys::scope_seed(None);
        for (a, b) in [
            ("yaml-parser", "parser_yaml"),
            ("a-b-c", "c.b-a"),
            ("x--y", "y-x"),
        ] {
            assert_eq!(tokens_key(seed, a, true), tokens_key(seed, b, true));
            assert_eq!(tokens_key(seed, a, true), keys::tokens_key(seed, a));
        }
        assert_ne!(tokens_key(seed, "a-b", true), tokens_key(seed, "a-c", true));
        assert_eq!(tokens_key(seed, "single", true), None);
        assert_eq!(tokens_key(seed, "-single-", true), None);
    }

    #[test]
    fn normalisation_is_the_ecosystems() {
        let mut buf = String::new();
        for name in [
            "Requests",
            "  Py_Yaml..x ",
            "serde_json",
            "Zope.Interface",
            "ÜBER_lib",
            "a--b__c",
            "@Types/Node",
            "",
            "-",
            "İstanbul",
            "x\u{b}",
            "\u{b}Django\u{a0}",
        ] {
            for eco in [Ecosystem::Npm, Ecosystem::PyPI, Ecosystem::CratesIo] {
                assert_eq!(
                    normalize(eco, name, &mut buf),
                    eco.normalize_name(name),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn one_edit_classification() {
        assert_eq!(one_edit("reqeusts", "requests"), Some(("transposition", 3)));
        assert_eq!(
            one_edit("requestss", "requests"),
            Some(("repeated-character", 3))
        );
        assert_eq!(one_edit("requets", "requests"), Some(("deletion", 2)));
        assert_eq!(
            one_edit("requesta", "requests"),
            Some(("keyboard-or-homoglyph-substitution", 3))
        );
        assert_eq!(one_edit("abcdef", "uvwxyz"), None);
    }
}
