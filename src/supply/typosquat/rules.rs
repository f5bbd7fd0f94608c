//! The look-alike rules of the typosquat detector: how two names that
//! share an index key differ (one edit, a separator, a look-alike
//! character), how strong that is for a name of a given length, and which
//! rules are typing errors rather than affixes.

use crate::severity::Grade;
use crate::supply::popular::{is_separator, strip_separators};

/// True for the rules that add, drop or move an affix or a scope rather
/// than change the name itself.
pub fn is_affix(rule: &str) -> bool {
    matches!(
        rule,
        "prefix-added"
            | "suffix-added"
            | "prefix-dropped"
            | "suffix-dropped"
            | "scope-flattened"
            | "scope-dropped"
    )
}

/// True for the rules that look like a slip of the hand or the eye: a
/// separator, two letters swapped, a letter doubled or dropped from a
/// pair, a look-alike character, a neighbouring key.
pub fn is_typing_error(rule: &str) -> bool {
    matches!(
        rule,
        "separator"
            | "transposition"
            | "repeated-character"
            | "dropped-repeated-character"
            | "homoglyph"
            | "keyboard-or-homoglyph-substitution"
    )
}

/// Which look-alike rule makes `a` and `b` share a skeleton.
pub(super) fn look_alike_rule(a: &str, b: &str) -> &'static str {
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
pub(super) fn stripped_edit(a: &str, b: &str) -> Option<i32> {
    let (sa, sb) = (strip_separators(a), strip_separators(b));
    if sa == sb {
        return None;
    }
    one_edit(&sa, &sb).map(|(_, strength)| strength)
}

/// Classifies `a` one edit away from `b` (optimal string alignment): the
/// rule and its strength, or `None` when they are further apart.
pub(super) fn one_edit(a: &str, b: &str) -> Option<(&'static str, i32)> {
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
            } else if p + 1 == a.len() && extra.into().is_ascii_digit() {
                // `httpx2`, `jinja2`, `proc-macro2`: how successors and
                // forks are named, weak evidence of a copy.
                Some(("digit-appended", 1))
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
pub(super) fn score(len: usize, rule: &str, strength: i32) -> i32 {
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

pub(super) fn confidence_of(score: i32) -> Grade {
    match score {
        i32::MIN..=1 => Grade::Low,
        2 => Grade::Medium,
        _ => Grade::High,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            one_edit("httpcore2", "httpcore"),
            Some(("digit-appended", 1))
        );
        assert_eq!(one_edit("http2core", "httpcore"), Some(("insertion", 2)));
        assert_eq!(confidence_of(score(9, "digit-appended", 1)), Grade::Low);
    }
}
