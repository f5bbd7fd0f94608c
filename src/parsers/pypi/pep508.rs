//! PEP 508 requirements and markers through `pep508_rs`, without its
//! panics: inputs the crate 0.9 panics on are refused with an error of
//! the same shape, and any other panic is caught and counted.

thread_local! {
    static PANICS_CAUGHT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many panics inside `pep508_rs` ([`requirement`],
/// [`marker`]) turned into errors on the calling thread. Counted per
/// thread, so a test that parses on its own thread sees only its own
/// parses, whatever other tests run beside it (the regression tests require
/// none: each should be foreseen).
pub fn panics_caught() -> usize {
    PANICS_CAUGHT.with(std::cell::Cell::get)
}

/// Parses a PEP 508 requirement without the panic `pep508_rs` 0.9 hits on
/// a name whose last character is `.`, `-` or `_` followed by more input
/// (`tabulate- ==1.0`): such a name is refused here with the same error
/// the crate gives at the end of input.
pub fn requirement(
    text: &str,
) -> Result<pep508_rs::Requirement<pep508_rs::VerbatimUrl>, pep508_rs::Pep508Error> {
    use std::str::FromStr;
    let trimmed = text.trim_start();
    let offset = text.len() - trimmed.len();
    let name_len = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(trimmed.len());
    if name_len > 0 && name_len < trimmed.len() {
        let last = trimmed[..name_len].chars().last();
        if let Some(c @ ('.' | '-' | '_')) = last {
            return Err(error(
                text,
                format!("Package name must end with an alphanumeric character, not '{c}'"),
                offset + name_len - 1,
                1,
            ));
        }
    }
    // Extras (`name[a, b-]`): the crate panics on one ending in punctuation.
    let after = trimmed[name_len..].trim_start();
    if let Some(list) = after.strip_prefix('[') {
        let list = list.split(']').next().unwrap_or("");
        let bad = list
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
            .filter_map(|token| token.chars().last())
            .find(|c| matches!(c, '.' | '-' | '_'));
        if let Some(c) = bad {
            return Err(error(
                text,
                format!("Extra name must end with an alphanumeric character, not '{c}'"),
                offset + name_len,
                1,
            ));
        }
    }
    // Markers: the crate slices the word after a complete marker by its
    // char count as bytes, and panics when that word holds a non-ASCII
    // character (`a;os_name=='x' \u{e9}`). Outside quoted strings a marker
    // is ASCII, so such a character is refused here.
    if let Some((at, c)) = non_ascii_in_marker(text) {
        return Err(error(
            text,
            format!(
                "Unexpected character '{c}' in the marker, expected ASCII outside quoted strings"
            ),
            text[..at].chars().count(),
            1,
        ));
    }
    // Last resort for panics not foreseen above: an error, not a crash.
    without_panic(|| pep508_rs::Requirement::from_str(text)).unwrap_or_else(|| {
        Err(error(
            text,
            "requirement could not be parsed".to_string(),
            0,
            text.len(),
        ))
    })
}

/// A `pep508_rs` error of our own over `input`, spanning `len` characters
/// from character `start`.
fn error(input: &str, message: String, start: usize, len: usize) -> pep508_rs::Pep508Error {
    pep508_rs::Pep508Error {
        message: pep508_rs::Pep508ErrorSource::String(message),
        start,
        len,
        input: input.to_string(),
    }
}

/// Runs a `pep508_rs` call; `None` (counted in [`panics_caught`])
/// when it panics.
fn without_panic<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    std::panic::catch_unwind(f)
        .map_err(|_| PANICS_CAUGHT.with(|n| n.set(n.get() + 1)))
        .ok()
}

/// The byte position and value of the first non-ASCII, non-whitespace
/// character outside quoted strings in the marker part of a requirement
/// (after the first `;`; in a URL requirement, a `;` preceded by
/// whitespace, as URLs may hold `;`).
fn non_ascii_in_marker(text: &str) -> Option<(usize, char)> {
    let mut seen_at = false;
    let mut prev_space = false;
    for (i, c) in text.char_indices() {
        if c == '@' {
            seen_at = true;
        } else if c == ';' && (!seen_at || prev_space) {
            let from = i + 1;
            return non_ascii_outside_quotes(&text[from..]).map(|(j, c)| (from + j, c));
        }
        prev_space = c.is_whitespace();
    }
    None
}

/// The first non-ASCII, non-whitespace character outside quoted strings
/// of a marker expression, with its byte position.
fn non_ascii_outside_quotes(marker: &str) -> Option<(usize, char)> {
    let mut quote: Option<char> = None;
    for (i, c) in marker.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if !c.is_ascii() && !c.is_whitespace() => return Some((i, c)),
            None => {}
        }
    }
    None
}

/// Parses a PEP 508 environment marker (`python_version < "3.10"`); `None`
/// when it does not parse. A non-ASCII character outside quoted strings is
/// refused before `pep508_rs`, which panics on it (see
/// [`requirement`]); any other panic of the crate is caught and
/// counted in [`panics_caught`].
pub fn marker(marker: &str) -> Option<pep508_rs::MarkerTree> {
    use std::str::FromStr;
    if non_ascii_outside_quotes(marker).is_some() {
        return None;
    }
    without_panic(|| pep508_rs::MarkerTree::from_str(marker))?.ok()
}

/// The message of a PEP 508 error, without the underlined input.
///
/// `Display` of `pep508_rs::Pep508Error` (0.9) slices the input by byte
/// at what are char offsets, and panics when a non-ASCII character comes
/// before or inside the span (`a;os_name=='x' é`): never display it.
pub fn message(e: &pep508_rs::Pep508Error) -> String {
    e.message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep508_names_ending_in_punctuation_are_errors_not_panics() {
        for bad in [
            "tabulate- ==1.0",
            "pk1.[x]",
            "yolo..;python_version<'3'",
            "a_ @ x",
        ] {
            let err = requirement(bad).unwrap_err().to_string();
            assert!(err.contains("alphanumeric"), "{bad}: {err}");
        }
        assert!(requirement("flask==2.0.0").is_ok());
        assert!(requirement("zope.interface>=5").is_ok());
        assert!(requirement("tabulate-").is_err());
        for bad in [
            "flask[a-]==1",
            "flask[ok, b_ ]",
            "x[.]",
            "x[red4. ,b]",
            "x[a,0.0.0-",
        ] {
            assert!(requirement(bad).is_err(), "{bad}");
        }
        assert!(requirement("flask[dotenv,async]==2.0").is_ok());
    }

    #[test]
    fn pep508_non_ascii_in_markers_is_an_error_not_a_panic() {
        let before = panics_caught();
        for bad in [
            "a;os_name=='x' \u{e9}",
            "a; python_version < \"2.7\" \u{feff}",
            "a;python_version<\"2\" a\u{e9}b",
            "x @ https://h/x.whl ; os_name == 'nt' \u{e9}",
        ] {
            let e = requirement(bad).unwrap_err();
            assert!(message(&e).contains("in the marker"), "{bad}");
        }
        // Non-ASCII inside a quoted value, or in a URL before `;`, is the
        // crate's to judge.
        assert!(requirement("a; platform_release == '\u{e9}t\u{e9}'").is_ok());
        assert!(non_ascii_in_marker("x @ https://h/\u{e9};x.whl").is_none());
        assert!(marker("python_version < \"3\" -Dist:\u{30b9}\u{30c8}").is_none());
        assert!(marker("os_name == 'x' a\u{e9}").is_none());
        assert!(marker("python_version < \"3.10\" and os_name == '\u{e9}'").is_some());
        assert_eq!(panics_caught(), before);
    }
}
