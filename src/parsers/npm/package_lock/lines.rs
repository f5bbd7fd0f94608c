//! Line numbers of package-lock.json entries, found in the text beside the
//! JSON parse (serde does not keep positions).

use std::collections::HashMap;

use crate::parsers::npm::json::line_of_offset;

/// Line numbers of the `"<key>": {` object keys that start with `prefix`
/// (the `packages` entries of v2/v3).
pub(super) fn key_lines<'t>(text: &'t str, prefix: &str) -> HashMap<&'t str, u32> {
    let line_of = line_of_offset(text);
    let mut out = HashMap::new();
    let needle = format!("\"{prefix}");
    for (off, _) in text.match_indices(&needle) {
        let start = off + 1;
        let Some(end) = text[start..].find('"') else {
            continue;
        };
        let key = &text[start..start + end];
        let after = text[start + end + 1..].trim_start();
        if after.starts_with(':') && after[1..].trim_start().starts_with('{') {
            out.entry(key).or_insert_with(|| line_of(off));
        }
    }
    out
}

/// `"<key>": {` object keys in file order with their lines (v1 nested
/// dependency entries are among them; matched in order by the walker).
pub(super) fn v1_lines(text: &str) -> Vec<(String, u32)> {
    let line_of = line_of_offset(text);
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_str = false;
    let mut str_start = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_str {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                in_str = false;
                let key = &text[str_start..i];
                let after = text[i + 1..].trim_start();
                if let Some(rest) = after.strip_prefix(':')
                    && rest.trim_start().starts_with('{')
                {
                    out.push((key.to_string(), line_of(str_start)));
                }
            }
        } else if b == b'"' {
            in_str = true;
            str_start = i + 1;
        }
        i += 1;
    }
    out
}
