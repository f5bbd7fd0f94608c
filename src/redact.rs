//! The one redaction rule: credentials never leave depwarden. A URL read
//! from input goes through [`redact_url`] before it is kept (a package
//! source, the sync source stored in the database); a message or excerpt
//! quoting input through [`redact_text`] (via [`message`], [`excerpt`],
//! [`toml_error`]); and every string written to any output goes through
//! [`redact_output`] as a last net (the report layer's escaping applies
//! it), so a credential that reached a string anyway is still masked.
//!
//! What counts as a credential:
//! - the user information of a URL (`https://user:password@host`, and a
//!   bare token before `@`), replaced by `***`;
//! - the value of a URL query or fragment parameter whose name means a
//!   credential ([`is_credential_name`]: `token`, `access_token`, `auth`,
//!   `password`, `key`, `sig`, `signature`, `X-Amz-Security-Token`, ...);
//! - tokens recognisable by their shape (GitHub `ghp_...`, npm `npm_...`,
//!   PyPI `pypi-...`, GitLab `glpat-...`, AWS access key ids);
//! - in text quoting input ([`redact_text`] only), the value of such a
//!   name followed by `=` or `:` (an `.npmrc` `_authToken=...`, a
//!   `.yarnrc.yml` `npmAuthToken: ...`, a TOML `token = "..."`). Prose and
//!   code (advisory details) use such patterns for other things, so the
//!   output net leaves them alone.
//!
//! Redaction leaves text without credentials unchanged, and the output net
//! changes nothing when applied to its own result.

use std::borrow::Cow;

/// What replaces a credential.
pub const MASK: &str = "***";

/// Longest message kept from input-derived text, in bytes; longer messages
/// are cut (a quoted value may be the size of the file).
pub const MAX_MESSAGE_BYTES: usize = 2048;

/// Longest excerpt of an input line shown in a parse error, in characters.
pub const EXCERPT_CHARS: usize = 60;

/// True when a parameter or key name means a credential. The name is
/// compared in lower case with `-`, `_` and `.` ignored.
pub fn is_credential_name(name: &str) -> bool {
    let norm: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    const EXACT: &[&str] = &[
        "auth",
        "key",
        "sig",
        "pass",
        "pwd",
        "jwt",
        "session",
        "accesskey",
        "secretkey",
        "privatekey",
        "authident",
        "npmauthident",
        "xamzcredential",
        "xgoogcredential",
    ];
    const SUFFIX: &[&str] = &[
        "token",
        "secret",
        "password",
        "passwd",
        "signature",
        "apikey",
        "auth",
    ];
    EXACT.contains(&norm.as_str()) || SUFFIX.iter().any(|s| norm.ends_with(s))
}

/// A URL with its credentials replaced by `***`: the user information
/// before the host, and the values of credential-named query and fragment
/// parameters. Text that is not a URL is returned unchanged.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..scheme_end + 3]);
    let rest = &url[scheme_end + 3..];
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) if at > 0 => {
            out.push_str(MASK);
            out.push_str(&rest[at..host_end]);
        }
        _ => out.push_str(&rest[..host_end]),
    }
    let tail = &rest[host_end..];
    // Path, then `?query` and `#fragment`, whose parameters are checked.
    let q = tail.find(['?', '#']).unwrap_or(tail.len());
    out.push_str(&tail[..q]);
    redact_params(&tail[q..], &mut out);
    out
}

/// Copies `?a=b&c=d#e=f` into `out` with credential values masked.
fn redact_params(s: &str, out: &mut String) {
    let mut start = 0;
    let bytes = s.as_bytes();
    for i in 0..=bytes.len() {
        let end = i == bytes.len();
        if !end && !matches!(bytes[i], b'?' | b'#' | b'&' | b';') {
            continue;
        }
        if i > start {
            let param = &s[start..i];
            match param.split_once('=') {
                Some((name, value))
                    if !value.is_empty() && value != MASK && is_credential_name(name) =>
                {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(MASK);
                }
                _ => out.push_str(param),
            }
        }
        if !end {
            out.push(bytes[i] as char);
        }
        start = i + 1;
    }
}

/// Characters that end a URL inside free text.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\' | '|')
}

/// Characters of a URL scheme.
fn scheme_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// Characters of a key name in `key=value` text.
fn key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Text quoting input (a message, a line of a file) with every credential
/// masked: URLs as [`redact_url`] does, values of credential-named keys
/// followed by `=` or `:`, and tokens recognisable by their shape.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    if !might_hold_credentials(text) {
        return Cow::Borrowed(text);
    }
    let urls = redact_urls_in(text);
    let keyed = redact_assignments(&urls);
    let shaped = redact_shaped_tokens(&keyed);
    if shaped == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(shaped.into_owned())
    }
}

/// The net applied to every string written to an output: URLs as
/// [`redact_url`] does and tokens recognisable by their shape.
pub fn redact_output(text: &str) -> Cow<'_, str> {
    if !might_hold_credentials(text) {
        return Cow::Borrowed(text);
    }
    let urls = redact_urls_in(text);
    let shaped = redact_shaped_tokens(&urls);
    if shaped == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(shaped.into_owned())
    }
}

/// A cheap test: text without `:`, `=`, `_` or `-` holds none of the
/// patterns [`redact_text`] looks for (AWS key ids aside, see below).
fn might_hold_credentials(text: &str) -> bool {
    text.bytes().any(|b| matches!(b, b':' | b'=' | b'_' | b'-'))
        || text.contains("AKIA")
        || text.contains("ASIA")
}

fn redact_urls_in(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let bytes = text.as_bytes();
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let sep = search + found;
        let mut start = sep;
        while start > done && scheme_char(bytes[start - 1]) {
            start -= 1;
        }
        let end = text[sep + 3..]
            .find(ends_url)
            .map(|i| sep + 3 + i)
            .unwrap_or(text.len());
        // `://` with no scheme before it is treated as a URL all the same:
        // what follows may still hold credentials.
        out.push_str(&text[done..start]);
        out.push_str(&redact_url(&text[start..end]));
        done = end;
        search = end.max(sep + 3);
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

/// Masks `name=value`, `name: value`, `name = "value"` where `name` means
/// a credential.
fn redact_assignments(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut done = 0;
    let mut i = 0;
    while i < bytes.len() {
        // A key starts a word, and is not the last part of a path
        // (`/etc/passwd: not a directory` names a file).
        if !key_char(bytes[i])
            || (i > 0 && (key_char(bytes[i - 1]) || matches!(bytes[i - 1], b'/' | b'\\')))
        {
            i += 1;
            continue;
        }
        let key_start = i;
        while i < bytes.len() && key_char(bytes[i]) {
            i += 1;
        }
        let key = &text[key_start..i];
        let mut j = i;
        // A quoted key (`"token": "x"`) closes its quote first.
        if j < bytes.len() && matches!(bytes[j], b'"' | b'\'') {
            j += 1;
        }
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        let Some(&sep) = bytes.get(j) else { break };
        if !matches!(sep, b'=' | b':') || !is_credential_name(key) {
            continue;
        }
        // `token://` is a scheme, `key::x` a path, `auth==1.0` a version
        // pin: not assignments.
        if matches!(
            (sep, bytes.get(j + 1)),
            (b':', Some(b'/' | b':')) | (b'=', Some(b'='))
        ) {
            continue;
        }
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        let (value_start, value_end) = match bytes.get(j) {
            Some(&q @ (b'"' | b'\'')) => {
                let from = j + 1;
                let to = text[from..]
                    .find(q as char)
                    .map(|k| from + k)
                    .unwrap_or(text.len());
                (from, to)
            }
            Some(b'`') | None => continue,
            Some(_) => {
                let to = text[j..]
                    .find(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '&' | '}' | ']'))
                    .map(|k| j + k)
                    .unwrap_or(text.len());
                (j, to)
            }
        };
        let value = &text[value_start..value_end];
        if value.is_empty() || value == MASK {
            i = value_end.max(i);
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[done..value_start]);
        o.push_str(MASK);
        done = value_end;
        i = value_end.max(i + 1);
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[done..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

/// Token prefixes with the shortest tail that makes a real token.
const TOKEN_SHAPES: &[(&str, usize)] = &[
    ("ghp_", 20),
    ("gho_", 20),
    ("ghu_", 20),
    ("ghs_", 20),
    ("ghr_", 20),
    ("github_pat_", 20),
    ("glpat-", 20),
    ("npm_", 30),
    ("pypi-", 40),
    ("AKIA", 16),
    ("ASIA", 16),
];

fn redact_shaped_tokens(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let tok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-');
    let mut out: Option<String> = None;
    let mut done = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Words are ASCII and start after a non-word byte, so every slice
        // falls on character boundaries.
        if !tok(bytes[i]) || (i > 0 && tok(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < bytes.len() && tok(bytes[end]) {
            end += 1;
        }
        let word = &text[i..end];
        let secret = TOKEN_SHAPES.iter().any(|(prefix, min)| {
            word.strip_prefix(prefix).is_some_and(|rest| {
                rest.len() >= *min
                    && (!prefix.starts_with("AK") && !prefix.starts_with("AS")
                        || rest
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
            })
        });
        if secret {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[done..i]);
            o.push_str(MASK);
            done = end;
        }
        i = end.max(i + 1);
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[done..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

/// A message built from input-derived text, made safe to keep: redacted
/// and cut to [`MAX_MESSAGE_BYTES`].
pub fn message(text: impl Into<String>) -> String {
    let text: String = text.into();
    let cut = if text.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes in all)", &text[..end], text.len())
    } else {
        text
    };
    match redact_text(&cut) {
        Cow::Borrowed(_) => cut,
        Cow::Owned(o) => o,
    }
}

/// A short, redacted excerpt of the line of `text` that holds byte
/// `offset`, around that offset: what a parse error shows instead of the
/// raw line. The whole line is redacted before it is cut, so a credential
/// is never shown in part.
pub fn excerpt(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let mut at = offset;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[at..].find('\n').map(|i| at + i).unwrap_or(text.len());
    // Never redact more than a few kilobytes around the position.
    let from = floor_boundary(text, line_start.max(at.saturating_sub(4096)));
    let to = floor_boundary(text, line_end.min(at + 4096));
    let line = &text[from..to];
    let col = text[from..at].chars().count();
    let red = redact_text(line);
    let chars: Vec<char> = red.trim_end_matches('\r').chars().collect();
    let half = EXCERPT_CHARS / 2;
    let start = col
        .saturating_sub(half)
        .min(chars.len().saturating_sub(EXCERPT_CHARS));
    let end = (start + EXCERPT_CHARS).min(chars.len());
    let mut s = String::new();
    if start > 0 || from > line_start {
        s.push('…');
    }
    s.extend(&chars[start..end]);
    if end < chars.len() || to < line_end {
        s.push('…');
    }
    s
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let at = floor_boundary(text, offset.min(text.len()));
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = memchr::memchr_iter(b'\n', &text.as_bytes()[..at]).count() + 1;
    (line, text[line_start..at].chars().count() + 1)
}

/// A TOML parse error as depwarden shows it: the position, the parser's
/// message and a redacted excerpt, never the raw line (the `Display` of
/// `toml::de::Error` quotes it whole).
pub fn toml_error(e: &toml::de::Error, text: &str) -> String {
    let msg = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let (line, col) = position(text, span.start);
            message(format!(
                "line {line}, column {col}: {msg} (near `{}`)",
                excerpt(text, span.start)
            ))
        }
        None => message(msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_userinfo_and_credential_parameters() {
        assert_eq!(
            redact_url("https://user:tok@git.example.com/a/b.git?x=1"),
            "https://***@git.example.com/a/b.git?x=1"
        );
        assert_eq!(
            redact_url("https://example.com/a@b"),
            "https://example.com/a@b"
        );
        assert_eq!(
            redact_url("https://tok@example.com?a=b@c"),
            "https://***@example.com?a=b@c"
        );
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(
            redact_url("https://r.example/p/-/p-1.0.0.tgz?token=abc&x=1&access_token=def#sig=ghi"),
            "https://r.example/p/-/p-1.0.0.tgz?token=***&x=1&access_token=***#sig=***"
        );
        for name in [
            "token",
            "access_token",
            "auth",
            "password",
            "key",
            "sig",
            "signature",
            "X-Amz-Security-Token",
            "X-Amz-Signature",
            "X-Amz-Credential",
            "api_key",
            "apiKey",
            "client_secret",
            "_authToken",
            "private-token",
        ] {
            let u = format!("https://h/x?{name}=SECRET1");
            assert_eq!(redact_url(&u), format!("https://h/x?{name}=***"), "{name}");
        }
        for name in ["version", "page", "q", "keyword", "monkey"] {
            let u = format!("https://h/x?{name}=v");
            assert_eq!(redact_url(&u), u, "{name}");
        }
        // Idempotent.
        let once = redact_url("https://u:p@h/x?token=t");
        assert_eq!(redact_url(&once), once);
    }

    #[test]
    fn text_urls_assignments_and_token_shapes() {
        let t = "error sending request for url (https://deploy:pa55w0rd@npm.corp/x?token=tok3n): timed out";
        let r = redact_text(t);
        assert!(!r.contains("pa55w0rd") && !r.contains("tok3n"), "{r}");
        assert!(r.contains("https://***@npm.corp/x?token=***"), "{r}");
        for (input, secret) in [
            ("//registry.npmjs.org/:_authToken=npm_abc", "npm_abc"),
            ("//r.corp/:_auth=dXNlcjpwYXNz", "dXNlcjpwYXNz"),
            ("_password=cGFzcw==", "cGFzcw=="),
            ("npmAuthToken: \"yarn_SeCrEt\"", "yarn_SeCrEt"),
            ("npmAuthIdent: user:hunter2", "user:hunter2"),
            ("token = \"s3cr3t-value\"", "s3cr3t-value"),
            ("{\"password\": \"hunter2\"}", "hunter2"),
            (
                "use ghp_0123456789abcdefghijABCDEFGHIJ now",
                "ghp_0123456789",
            ),
            ("npm_0123456789abcdefghij0123456789ab", "npm_0123456789"),
            ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        ] {
            let r = redact_text(input);
            assert!(!r.contains(secret), "{input} -> {r}");
            assert!(r.contains(MASK), "{input} -> {r}");
        }
        for plain in [
            "lodash@4.17.21",
            "unknown field `token`, expected one of `a`, `b`",
            "line 3: expected `=`",
            "@types/node",
            "left-pad",
            "requests==2.31.0; python_version >= \"3.8\"",
            "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
            "key: `x`",
            "django-auth==1.0",
            "advisory database /etc/passwd: Not a directory (os error 20)",
            "C:\\keys\\token: denied",
        ] {
            assert_eq!(redact_text(plain), plain);
        }
        for odd in [
            "\u{feff}x",
            "é ghp_",
            "line 12: '\u{feff}' AKIA…",
            "…",
            "ü=ü",
        ] {
            let _ = redact_text(odd);
        }
        let once = redact_text("token=abc https://u@h?sig=1");
        assert_eq!(redact_text(&once), once);
    }

    #[test]
    fn the_output_net_leaves_prose_and_code_alone() {
        for prose in [
            "let key = chars[i];",
            "password: String,",
            "JWT token: attackers can forge it",
        ] {
            assert_eq!(redact_output(prose), prose);
            assert_ne!(redact_text(prose), prose);
        }
        let r =
            redact_output("see https://u:hunter2@h/x?token=t and ghp_0123456789abcdefghijABCDEF");
        assert!(
            !r.contains("hunter2") && !r.contains("=t ") && !r.contains("ghp_0"),
            "{r}"
        );
    }

    #[test]
    fn excerpts_are_short_and_redacted() {
        let text = "[package]\nindex = \"https://user:hunter2@host/index\" junk junk\n";
        let at = text.find("junk").unwrap();
        let e = excerpt(text, at);
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.chars().count() <= EXCERPT_CHARS + 2, "{e}");
        assert_eq!(position(text, at), (2, 43));
        let long = format!("x = \"{}\"\n", "a".repeat(10_000));
        let e = excerpt(&long, 9_000);
        assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
        assert!(e.chars().count() <= EXCERPT_CHARS + 2);
    }

    #[test]
    fn toml_errors_give_position_and_no_raw_line() {
        let text = "[dependencies]\nfoo = { git = \"https://u:hunter2@github.com/x/y\", token = \"tok3n\" ]\n";
        let e = text.parse::<toml::Table>().unwrap_err();
        assert!(
            e.to_string().contains("hunter2"),
            "the crate quotes the line"
        );
        let m = toml_error(&e, text);
        assert!(m.starts_with("line 2, column"), "{m}");
        assert!(!m.contains("hunter2") && !m.contains("tok3n"), "{m}");
    }

    #[test]
    fn messages_are_cut() {
        let m = message("x".repeat(10_000));
        assert!(m.len() < MAX_MESSAGE_BYTES + 40, "{}", m.len());
        assert!(m.ends_with("(10000 bytes in all)"), "{m}");
    }
}
