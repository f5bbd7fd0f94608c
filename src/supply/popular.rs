//! The popularity corpora (npm, PyPI, crates.io) embedded in the binary,
//! parsed on first use, with the indexes the typosquat detector looks
//! names up in.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::ecosystem::Ecosystem;

const NPM: &str = include_str!("data/npm.tsv");
const PYPI: &str = include_str!("data/pypi.tsv");
const CRATES: &str = include_str!("data/crates.tsv");

/// One ecosystem's corpus and its lookup indexes. Names are stored
/// normalised with the ecosystem's rules; `rank` 0 is the most popular.
#[derive(Debug, Default)]
pub struct Corpus {
    /// Normalised names, most popular first (index = rank).
    pub names: Vec<String>,
    /// The popularity figure of each name as the list gives it.
    pub figures: Vec<u64>,
    /// Name → rank.
    pub exact: HashMap<String, u32>,
    /// Each name and its one-deletion variants → ranks (finds names one
    /// insertion, deletion, substitution or transposition away).
    pub deletions: HashMap<String, Vec<u32>>,
    /// Look-alike skeleton (separators dropped, homoglyphs folded, repeated
    /// letters collapsed) → ranks.
    pub skeletons: HashMap<String, Vec<u32>>,
    /// Sorted tokens of names with two or more tokens → ranks.
    pub tokens: HashMap<String, Vec<u32>>,
    /// npm: the name without its scope → ranks of scoped names.
    pub unscoped: HashMap<String, Vec<u32>>,
    /// npm: scopes that own a popular package.
    pub scopes: HashMap<String, u32>,
}

impl Corpus {
    fn build(eco: Ecosystem, text: &str) -> Corpus {
        let mut c = Corpus::default();
        for line in text.lines() {
            let mut cols = line.split('\t');
            let (Some(name), Some(fig)) = (cols.next(), cols.next()) else {
                continue;
            };
            let name = eco.normalize_name(name.trim());
            if name.is_empty() || c.exact.contains_key(&name) {
                continue;
            }
            let rank = c.names.len() as u32;
            c.exact.insert(name.clone(), rank);
            c.figures.push(fig.trim().parse().unwrap_or(0));
            c.names.push(name);
        }
        for (rank, name) in c.names.iter().enumerate() {
            let rank = rank as u32;
            let (scope, base) = split_scope(name);
            let stripped = strip_separators(base);
            let mut keys = deletion_keys(base);
            if stripped != base {
                keys.extend(deletion_keys(&stripped));
            }
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                c.deletions.entry(scoped(scope, &key)).or_default().push(rank);
            }
            c.skeletons
                .entry(scoped(scope, &skeleton(base)))
                .or_default()
                .push(rank);
            if let Some(t) = sorted_tokens(base) {
                c.tokens.entry(scoped(scope, &t)).or_default().push(rank);
            }
            if let Some(s) = scope {
                c.unscoped.entry(base.to_string()).or_default().push(rank);
                c.scopes.entry(s.to_string()).or_insert(rank);
            }
        }
        c
    }

    /// The rank of a normalised name.
    pub fn rank(&self, name: &str) -> Option<u32> {
        self.exact.get(name).copied()
    }
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

/// `scope/key` for scoped names, `key` otherwise: lookalike keys never
/// cross scopes.
pub fn scoped(scope: Option<&str>, key: &str) -> String {
    match scope {
        Some(s) => format!("{s}/{key}"),
        None => key.to_string(),
    }
}

/// The name without `-`, `_` and `.`.
pub fn strip_separators(name: &str) -> String {
    name.chars().filter(|c| !is_separator(*c)).collect()
}

/// The name and every variant with one character removed.
pub fn deletion_keys(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::with_capacity(chars.len() + 1);
    out.push(name.to_string());
    for i in 0..chars.len() {
        let mut s = String::with_capacity(name.len());
        s.extend(chars[..i].iter());
        s.extend(chars[i + 1..].iter());
        out.push(s);
    }
    out
}

/// True for the separators package names use.
pub fn is_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '.')
}

/// Separators dropped, look-alike characters folded (`rn`→`m`, `vv`→`w`,
/// `1`/`i`→`l`, `0`→`o`, `5`→`s`), runs of one letter collapsed.
pub fn skeleton(name: &str) -> String {
    let plain: String = name
        .chars()
        .filter(|c| !is_separator(*c))
        .map(|c| match c {
            '1' | 'i' | '!' | '|' => 'l',
            '0' => 'o',
            '5' | '$' => 's',
            '3' => 'e',
            c => c,
        })
        .collect();
    let folded = plain.replace("rn", "m").replace("vv", "w");
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
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
