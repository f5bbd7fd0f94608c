//! The logical lines of a pip requirements file: continuation lines
//! (`\` at the end) joined, comments (`#` at the start or after
//! whitespace) removed, one line at a time. A line is borrowed from the
//! file unless a continuation joined it, and a line longer than
//! [`MAX_LINE_BYTES`] is measured, never copied, so reading a file costs
//! the file and one line.

use std::borrow::Cow;

/// Longest logical line read (continuations joined), in bytes: a longer
/// line is an error for that line.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One logical line.
#[derive(Debug, PartialEq, Eq)]
pub enum Logical<'t> {
    /// The text, comment removed; borrowed from the file unless a
    /// continuation joined several lines.
    Text(Cow<'t, str>),
    /// A line longer than [`MAX_LINE_BYTES`], with its length: not copied.
    TooLong(usize),
}

/// The iterator of [`logical_lines`].
pub struct LogicalLines<'t> {
    lines: std::iter::Enumerate<std::str::Lines<'t>>,
}

/// The logical lines of a file, one at a time (1-based number of the first
/// physical line, text): continuations joined, comments removed. Memory
/// stays within one line of at most [`MAX_LINE_BYTES`].
pub fn logical_lines(text: &str) -> LogicalLines<'_> {
    LogicalLines {
        lines: text.lines().enumerate(),
    }
}

impl<'t> Iterator for LogicalLines<'t> {
    type Item = (u32, Logical<'t>);

    fn next(&mut self) -> Option<Self::Item> {
        let mut joined: Option<String> = None;
        let mut len = 0usize;
        let mut start = 0u32;
        loop {
            let Some((i, raw)) = self.lines.next() else {
                return match joined {
                    Some(_) if len > MAX_LINE_BYTES => Some((start, Logical::TooLong(len))),
                    Some(buf) => Some((
                        start,
                        Logical::Text(Cow::Owned(strip_comment(&buf).to_string())),
                    )),
                    None => None,
                };
            };
            if joined.is_none() {
                start = u32::try_from(i + 1).unwrap_or(u32::MAX);
            }
            let line = raw.trim_end_matches('\r');
            let (part, continued) = match line.strip_suffix('\\') {
                Some(stripped) => (stripped, true),
                None => (line, false),
            };
            len += part.len() + usize::from(continued);
            if !continued && joined.is_none() {
                return Some(if len > MAX_LINE_BYTES {
                    (start, Logical::TooLong(len))
                } else {
                    (start, Logical::Text(Cow::Borrowed(strip_comment(line))))
                });
            }
            let buf = joined.get_or_insert_with(String::new);
            if len <= MAX_LINE_BYTES {
                buf.push_str(part);
                if continued {
                    buf.push(' ');
                }
            }
            if !continued {
                return Some(if len > MAX_LINE_BYTES {
                    (start, Logical::TooLong(len))
                } else {
                    (
                        start,
                        Logical::Text(Cow::Owned(strip_comment(buf).to_string())),
                    )
                });
            }
        }
    }
}

/// Removes a comment: `#` at the start or after whitespace.
pub fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return line[..i].trim();
        }
    }
    line.trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_stripped_and_continuations_joined() {
        assert_eq!(strip_comment("requests ==1.0 # pinned"), "requests ==1.0");
        assert_eq!(
            strip_comment("x==1 --hash=sha256:a;#b"),
            "x==1 --hash=sha256:a;#b"
        );
        let lines: Vec<_> = logical_lines("a==1 \\\n  --hash=sha256:1\n# c\nb==2\n").collect();
        assert_eq!(
            lines,
            vec![
                (1, Logical::Text("a==1    --hash=sha256:1".into())),
                (3, Logical::Text("".into())),
                (4, Logical::Text("b==2".into()))
            ]
        );
    }

    #[test]
    fn lines_over_the_limit_are_measured_not_copied() {
        let long = "a ".repeat(MAX_LINE_BYTES);
        let text = format!("x==1\n{long}\ny==2\n{long}\\\nz==3\nw==4 \\");
        let lines: Vec<_> = logical_lines(&text).collect();
        assert_eq!(
            lines.len(),
            5,
            "{:?}",
            lines.iter().map(|(n, _)| n).collect::<Vec<_>>()
        );
        assert_eq!(lines[0], (1, Logical::Text("x==1".into())));
        assert_eq!(lines[1], (2, Logical::TooLong(2 * MAX_LINE_BYTES)));
        assert_eq!(lines[2], (3, Logical::Text("y==2".into())));
        assert!(matches!(lines[3], (4, Logical::TooLong(n)) if n > 2 * MAX_LINE_BYTES));
        assert_eq!(lines[4], (6, Logical::Text("w==4".into())));
    }
}
