//! The text of a `yarn.lock` as entries: one indentation-based reader for
//! classic (v1) and berry (v2+) files, with their string rules (quotes,
//! escapes, comma-separated specifiers) and line-length cap.

use crate::graph::DepKind;

/// Longest line read, in bytes: an entry whose header is longer is an
/// error for that entry (the rest of the file is read), and a longer field
/// line is skipped with an error. Such lines are never copied.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One lockfile entry.
#[derive(Default, Debug)]
pub(super) struct Entry<'a> {
    pub(super) specs: Vec<String>,
    pub(super) line: u32,
    pub(super) version: Option<&'a str>,
    pub(super) resolved: Option<&'a str>,
    pub(super) integrity: Option<&'a str>,
    pub(super) resolution: Option<String>,
    pub(super) checksum: Option<&'a str>,
    pub(super) conditions: Option<&'a str>,
    pub(super) deps: Vec<(String, String, DepKind)>,
}

/// Removes the quotes around a yarn string (and its escapes).
pub(super) fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let inner = &s[1..s.len() - 1];
        if inner.contains('\\') {
            return serde_json::from_str::<String>(s).unwrap_or_else(|_| inner.to_string());
        }
        return inner.to_string();
    }
    s.to_string()
}

/// Splits a line's content into key and value (`key value`, `key: value`,
/// quoted keys).
pub(super) fn key_value(s: &str) -> Option<(String, &str)> {
    if let Some(rest) = s.strip_prefix('"') {
        let end = find_quote_end(rest)?;
        let key = unquote(&s[..end + 2]);
        let after = rest[end + 1..].trim_start();
        let after = after.strip_prefix(':').unwrap_or(after).trim();
        return Some((key, after));
    }
    let end = s
        .char_indices()
        .find(|&(i, c)| {
            c == ' '
                || (c == ':' && s[i + 1..].starts_with([' ', '\t']))
                || (c == ':' && i + 1 == s.len())
        })
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let key = s[..end].to_string();
    let after = s[end..].trim_start();
    let after = after.strip_prefix(':').unwrap_or(after).trim();
    Some((key, after))
}

pub(super) fn find_quote_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Some(i);
        }
    }
    None
}

/// Splits an entry header into its descriptors: classic quotes each one
/// (`"a@^1", a@^1.2:`), berry quotes the whole list
/// (`"chalk@npm:^4.0.0, chalk@npm:^4.1.0":`); both are split at every
/// comma, as yarn itself does.
pub(super) fn header_specs(line: &str) -> Vec<String> {
    let line = line.trim_end();
    let line = line.strip_suffix(':').unwrap_or(line);
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut in_q = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_q && escaped {
            escaped = false;
            cur.push(c);
            continue;
        }
        match c {
            '\\' if in_q => {
                escaped = true;
                cur.push(c);
            }
            '"' => {
                in_q = !in_q;
                cur.push(c);
            }
            ',' if !in_q => tokens.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    tokens.push(cur);
    tokens
        .iter()
        .flat_map(|t| {
            unquote(t)
                .split(',')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// A berry descriptor without the locator it is bound to
/// (`local@file:./x::locator=app%40workspace%3A.` → `local@file:./x`):
/// dependencies refer to it unbound.
pub(super) fn unbound(spec: &str) -> Option<&str> {
    spec.find("::").map(|i| &spec[..i])
}

/// The entries of a lockfile, whether it is berry, and the lines that
/// could not be read (with what was skipped because of them).
pub(super) type Entries<'a> = (Vec<Entry<'a>>, bool, Vec<(usize, String)>);

/// Reads the entries. A line that fits no entry, or is longer than
/// [`MAX_LINE_BYTES`], is a problem for that line (and the lines indented
/// under it), not for the file; a file of which no entry can be read is not
/// a yarn.lock, nor is one of more than `max_entries` entries.
pub(super) fn read_entries(text: &str, max_entries: usize) -> Result<Entries<'_>, (usize, String)> {
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut problems: Vec<(usize, String)> = Vec::new();
    let mut berry = false;
    let mut section: Option<DepKind> = None;
    let mut skip_block = false;
    let mut in_metadata = false;
    // Lines indented under an unreadable header belong to nothing.
    let mut orphan = false;
    for (idx, raw_line) in text.lines().enumerate() {
        let lineno = idx + 1;
        if raw_line.len() > MAX_LINE_BYTES {
            problems.push((
                lineno,
                format!(
                    "{} bytes, over the {MAX_LINE_BYTES}-byte limit of one line",
                    raw_line.len()
                ),
            ));
            if !raw_line.starts_with([' ', '\t']) {
                // An entry header: the entry goes with it.
                section = None;
                skip_block = false;
                in_metadata = false;
                orphan = true;
            }
            continue;
        }
        if entries.len() > max_entries {
            return Err((
                lineno,
                format!("more than {max_entries} entries, over the limit of packages per source"),
            ));
        }
        let trimmed = raw_line.trim_end();
        let content = trimmed.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = trimmed.len() - content.len();
        if indent == 0 {
            section = None;
            skip_block = false;
            in_metadata = false;
            orphan = false;
            if content.starts_with("__metadata:") {
                berry = true;
                in_metadata = true;
                continue;
            }
            if !content.ends_with(':') {
                problems.push((lineno, format!("unexpected line `{}`", truncate(content))));
                orphan = true;
                continue;
            }
            entries.push(Entry {
                specs: header_specs(content),
                line: u32::try_from(lineno).unwrap_or(u32::MAX),
                ..Default::default()
            });
            continue;
        }
        if in_metadata || orphan {
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            problems.push((lineno, "indented line before any entry".to_string()));
            orphan = true;
            continue;
        };
        let Some((key, value)) = key_value(content) else {
            problems.push((lineno, format!("unreadable line `{}`", truncate(content))));
            continue;
        };
        if indent <= 2 {
            section = None;
            skip_block = false;
            match key.as_str() {
                "version" => entry.version = Some(strip_quotes(value)),
                "resolved" => entry.resolved = Some(strip_quotes(value)),
                "integrity" => entry.integrity = Some(strip_quotes(value)),
                "checksum" => entry.checksum = Some(strip_quotes(value)),
                "conditions" => entry.conditions = Some(strip_quotes(value)),
                "resolution" => entry.resolution = Some(unquote(value)),
                "dependencies" => section = Some(DepKind::Normal),
                "optionalDependencies" => section = Some(DepKind::Optional),
                _ => skip_block = value.is_empty(),
            }
            continue;
        }
        if skip_block {
            continue;
        }
        if let Some(kind) = section {
            let range = unquote(value);
            if let Some(pos) = entry.deps.iter().position(|(n, _, _)| *n == key) {
                // optionalDependencies repeat entries of dependencies.
                if kind == DepKind::Optional {
                    entry.deps[pos].2 = DepKind::Optional;
                }
            } else {
                entry.deps.push((key, range, kind));
            }
        }
    }
    if entries.is_empty()
        && let Some(first) = problems.first()
    {
        return Err(first.clone());
    }
    Ok((entries, berry, problems))
}

pub(super) fn strip_quotes(s: &str) -> &str {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

pub(super) fn truncate(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
