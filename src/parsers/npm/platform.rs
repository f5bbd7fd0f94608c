//! npm's platform fields (`os`, `cpu`, `libc` in package-lock, pnpm and
//! bun lockfiles; `conditions` in yarn berry) evaluated for the scan's
//! target, as npm's own install check does: a package whose fields exclude
//! the target is never installed there, so it is kept in the inventory
//! with `not_on_target` and its findings never close the gate.

use crate::parse::{Arch, Target};

/// npm's name of the target's operating system (always Linux on Lambda).
const OS: &str = "linux";
/// npm's name of the target's C library (Lambda runtimes use glibc).
const LIBC: &str = "glibc";

/// npm's name of an architecture (`process.arch`).
fn cpu(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x64",
        Arch::Arm64 => "arm64",
    }
}

/// One list as npm checks it: `any` allows everything; an entry `!x`
/// excludes `x`; plain entries allow only themselves; a list of only
/// negations allows everything else. An empty list allows everything.
fn allows(value: &str, list: &[String]) -> bool {
    if list.len() == 1 && list[0] == "any" {
        return true;
    }
    let mut negated = 0;
    let mut matched = false;
    for entry in list {
        match entry.strip_prefix('!') {
            Some(test) => {
                negated += 1;
                if test == value {
                    return false;
                }
            }
            None => matched |= entry == value,
        }
    }
    matched || negated == list.len()
}

/// Why a package with these `os`/`cpu`/`libc` fields is not installed on
/// the target, or `None` when it is. `libc` counts only on Linux, as npm
/// has it.
pub fn excluded(
    target: &Target,
    os: &[String],
    cpu_list: &[String],
    libc: &[String],
) -> Option<String> {
    let mut why = Vec::new();
    if !allows(OS, os) {
        why.push(format!("os: {}", os.join(", ")));
    }
    if !allows(cpu(target.arch), cpu_list) {
        why.push(format!("cpu: {}", cpu_list.join(", ")));
    }
    if !allows(LIBC, libc) {
        why.push(format!("libc: {}", libc.join(", ")));
    }
    (!why.is_empty()).then(|| {
        format!(
            "{} (target: {OS}, {}, {LIBC})",
            why.join("; "),
            cpu(target.arch)
        )
    })
}

/// Why a yarn berry entry with these `conditions` (`os=darwin & cpu=arm64`,
/// `|`, parentheses) is not installed on the target, or `None` when it
/// is. An expression that cannot be read counts as installed.
pub fn berry_excluded(target: &Target, conditions: &str) -> Option<String> {
    let tokens = tokenize(conditions)?;
    let mut pos = 0;
    let holds = eval_or(&tokens, &mut pos, target)?;
    (pos == tokens.len() && !holds).then(|| {
        format!(
            "conditions: {conditions} (target: {OS}, {}, {LIBC})",
            cpu(target.arch)
        )
    })
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Test(&'a str, &'a str),
    And,
    Or,
    Open,
    Close,
}

fn tokenize(s: &str) -> Option<Vec<Token<'_>>> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let (token, len) = match rest.as_bytes()[0] {
            b'&' => (Token::And, 1),
            b'|' => (Token::Or, 1),
            b'(' => (Token::Open, 1),
            b')' => (Token::Close, 1),
            _ => {
                let end = rest.find(['&', '|', '(', ')']).unwrap_or(rest.len());
                let (k, v) = rest[..end].trim().split_once('=')?;
                (Token::Test(k.trim(), v.trim()), end)
            }
        };
        out.push(token);
        rest = rest[len..].trim_start();
    }
    Some(out)
}

fn eval_or(t: &[Token<'_>], pos: &mut usize, target: &Target) -> Option<bool> {
    let mut v = eval_and(t, pos, target)?;
    while t.get(*pos) == Some(&Token::Or) {
        *pos += 1;
        v |= eval_and(t, pos, target)?;
    }
    Some(v)
}

fn eval_and(t: &[Token<'_>], pos: &mut usize, target: &Target) -> Option<bool> {
    let mut v = eval_atom(t, pos, target)?;
    while t.get(*pos) == Some(&Token::And) {
        *pos += 1;
        v &= eval_atom(t, pos, target)?;
    }
    Some(v)
}

fn eval_atom(t: &[Token<'_>], pos: &mut usize, target: &Target) -> Option<bool> {
    match t.get(*pos)? {
        Token::Open => {
            *pos += 1;
            let v = eval_or(t, pos, target)?;
            if t.get(*pos) != Some(&Token::Close) {
                return None;
            }
            *pos += 1;
            Some(v)
        }
        Token::Test(k, v) => {
            *pos += 1;
            Some(match *k {
                "os" => *v == OS,
                "cpu" => *v == cpu(target.arch),
                "libc" => *v == LIBC,
                _ => true,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn l(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn npm_lists() {
        let x64 = Target::default();
        let arm = Target {
            arch: Arch::Arm64,
            ..Target::default()
        };
        assert!(excluded(&x64, &l(&["darwin"]), &[], &[]).is_some());
        assert!(excluded(&x64, &l(&["linux"]), &l(&["x64"]), &l(&["glibc"])).is_none());
        assert!(excluded(&x64, &l(&["linux"]), &l(&["arm64"]), &[]).is_some());
        assert!(excluded(&arm, &l(&["linux"]), &l(&["arm64"]), &[]).is_none());
        assert!(excluded(&x64, &l(&["linux"]), &[], &l(&["musl"])).is_some());
        assert!(excluded(&x64, &l(&["!win32"]), &[], &[]).is_none());
        assert!(excluded(&x64, &l(&["!linux"]), &[], &[]).is_some());
        assert!(excluded(&x64, &l(&["any"]), &l(&["any"]), &[]).is_none());
        assert!(excluded(&x64, &[], &[], &[]).is_none());
        let why = excluded(&x64, &l(&["darwin"]), &[], &[]).unwrap();
        assert!(
            why.contains("os: darwin") && why.contains("linux, x64"),
            "{why}"
        );
    }

    #[test]
    fn berry_conditions() {
        let x64 = Target::default();
        let arm = Target {
            arch: Arch::Arm64,
            ..Target::default()
        };
        assert!(berry_excluded(&x64, "os=darwin").is_some());
        assert!(berry_excluded(&x64, "os=linux & cpu=x64 & libc=glibc").is_none());
        assert!(berry_excluded(&x64, "os=linux & cpu=x64 & libc=musl").is_some());
        assert!(berry_excluded(&x64, "os=linux & cpu=arm64").is_some());
        assert!(berry_excluded(&arm, "os=linux & cpu=arm64").is_none());
        assert!(berry_excluded(&x64, "os=darwin | (os=linux & cpu=x64)").is_none());
        assert!(berry_excluded(&x64, "not a condition").is_none());
    }
}
