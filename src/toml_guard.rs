//! A cheap pre-scan of TOML text, run before the TOML parser sees it: the
//! number of tokens (keys, values, punctuation), counted in one pass with
//! no allocation.
//!
//! The `toml` crate builds a document tree, and when the text is not TOML
//! it recovers and records an error at every token: a 100 MB `Cargo.lock`
//! of `a a a ...` took 20 s and 4.9 GB, a valid one of ten million keys
//! 12 s and 4.9 GB (about 100 bytes per token either way). A document of
//! more than [`MAX_TOKENS`] tokens is refused here instead; the largest
//! real lockfiles hold a few hundred thousand.

use thiserror::Error;

/// Most tokens a TOML document may hold.
pub const MAX_TOKENS: usize = 2_000_000;

/// A TOML document over [`MAX_TOKENS`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("TOML document of more than {MAX_TOKENS} tokens (line {line}); refused before parsing")]
pub struct TooManyTokens {
    /// 1-based line where the limit was passed.
    pub line: usize,
}

/// Counts the tokens of `text` (a string literal is one token, a comment
/// none), refusing a document of more than [`MAX_TOKENS`].
pub fn check(text: &str) -> Result<usize, TooManyTokens> {
    let b = text.as_bytes();
    let mut tokens = 0usize;
    let mut line = 1usize;
    let mut i = 0;
    let mut in_bare = false;
    while i < b.len() {
        let c = b[i];
        let mut counted = false;
        match c {
            b'\n' => {
                line += 1;
                in_bare = false;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => {
                in_bare = false;
                i += 1;
            }
            b'#' => {
                in_bare = false;
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |k| i + k);
            }
            b'"' | b'\'' => {
                in_bare = false;
                counted = true;
                let triple = b[i..].starts_with(if c == b'"' { b"\"\"\"" } else { b"'''" });
                let start = if triple { i + 3 } else { i + 1 };
                let mut j = start;
                // The closing delimiter; a basic string skips escapes. A
                // one-line string ends at the line's end at the latest.
                loop {
                    match b.get(j) {
                        None => break,
                        Some(b'\\') if c == b'"' => j += 2,
                        Some(b'\n') if !triple => break,
                        Some(&d) if d == c => {
                            if !triple || b[j..].starts_with(&[c, c, c]) {
                                j += if triple { 3 } else { 1 };
                                break;
                            }
                            j += 1;
                        }
                        Some(b'\n') => {
                            line += 1;
                            j += 1;
                        }
                        Some(_) => j += 1,
                    }
                }
                i = j.min(b.len());
            }
            b'=' | b',' | b'[' | b']' | b'{' | b'}' | b'.' if !in_bare || c != b'.' => {
                in_bare = false;
                counted = true;
                i += 1;
            }
            _ => {
                if !in_bare {
                    in_bare = true;
                    counted = true;
                }
                i += 1;
            }
        }
        if counted {
            tokens += 1;
            if tokens > MAX_TOKENS {
                return Err(TooManyTokens { line });
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keys_values_and_punctuation() {
        assert_eq!(check("a = 1\n").unwrap(), 3);
        assert_eq!(
            check("[[package]]\nname = \"x y z\" # c o m m e n t\n").unwrap(),
            8
        );
        assert_eq!(check("v = '''\nmany words in here\n'''\n").unwrap(), 3);
        assert_eq!(check("s = \"esc \\\" quote\"\n").unwrap(), 3);
        assert_eq!(check("version = 1.2\n").unwrap(), 3);
    }

    #[test]
    fn token_floods_are_refused_with_their_line() {
        let flood = "a ".repeat(MAX_TOKENS + 1);
        assert_eq!(check(&flood), Err(TooManyTokens { line: 1 }));
        let lines = "a\n".repeat(MAX_TOKENS + 1);
        assert_eq!(
            check(&lines),
            Err(TooManyTokens {
                line: MAX_TOKENS + 1
            })
        );
        // One huge string is one token.
        let big = format!("x = \"{}\"\n", "a".repeat(10_000_000));
        assert_eq!(check(&big).unwrap(), 3);
    }
}
