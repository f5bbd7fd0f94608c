//! The escaping layer: every string that comes from outside depwarden
//! (package names, versions, paths, advisory text, messages quoting input,
//! anything from the scanned tree, the database or the network) reaches an
//! output only through one of these functions, one per output kind:
//!
//! - [`visible`] for text read on a terminal (the table, stderr): control
//!   characters (C0, DEL, C1, so ESC, OSC, BEL, CR, LF), bidirectional
//!   overrides and other invisible format characters become visible escapes
//!   (`\x1b`, `\n`, `\u202e`), whatever the colour setting, so that only
//!   depwarden's own colour codes reach the terminal;
//! - [`md_text`] and [`md_code`] for Markdown: the visible form, with
//!   Markdown metacharacters escaped and HTML written as entities, so an
//!   untrusted string never leaves its table cell or code span and never
//!   becomes markup;
//! - [`to_json`] for JSON documents: every string is written with its
//!   control and invisible characters as `\u` escapes (the exact value for
//!   programs, no raw control byte in the file), or in [`JsonMode::Visible`]
//!   (SARIF, CycloneDX, whose texts GitHub renders) as the visible form;
//! - [`html`] for the HTML report: the visible form with the characters
//!   that delimit markup written as character references.
//!
//! Every function also applies the redaction net
//! ([`crate::redact::redact_output`]), so a credential URL or token that
//! reached a string is masked in every output.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};

use crate::redact::redact_output;
use crate::text::is_hidden;

/// Appends the visible escape of a hidden character.
fn push_escape(out: &mut String, c: char) {
    let _ = match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32),
        c if (c as u32) <= 0xFFFF => write!(out, "\\u{:04x}", c as u32),
        c => write!(out, "\\U{:08x}", c as u32),
    };
}

/// The visible form of an untrusted string for a terminal: credentials
/// masked and every [`is_hidden`](crate::text::is_hidden) character written as an escape.
pub fn visible(s: &str) -> Cow<'_, str> {
    // Escapes first, then the redaction net: a URL that hidden characters
    // interrupted is whole again in the visible form, and is masked there.
    if !s.chars().any(is_hidden) {
        return redact_output(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    match redact_output(&out) {
        Cow::Borrowed(_) => Cow::Owned(out),
        Cow::Owned(red) => Cow::Owned(red),
    }
}

/// An untrusted string as Markdown text (a table cell, a list item): its
/// visible form with Markdown metacharacters backslash-escaped and `<`,
/// `>`, `&` written as entities, so it can neither leave its cell nor
/// become a link, an image, emphasis or HTML.
pub fn md_text(s: &str) -> String {
    let v = visible(s);
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // What can start inline markup mid-line (a line break never
            // reaches here, so block markers such as `#` and `-` cannot).
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// An untrusted string as a Markdown code span: its visible form between
/// backtick fences longer than any run of backticks inside it. In a table
/// cell (`in_table`) a `|` is written `\|`, which GitHub's table parser
/// reads as a pipe inside the cell. Code spans show HTML literally.
pub fn md_code(s: &str, in_table: bool) -> String {
    let v = visible(s);
    if v.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in v.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if v.starts_with('`') || v.ends_with('`') || (v.starts_with(' ') && v.ends_with(' '))
    {
        " "
    } else {
        ""
    };
    let body = if in_table {
        Cow::Owned(v.replace('|', "\\|"))
    } else {
        v
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// An untrusted string as HTML text or as a double-quoted attribute value
/// (the HTML report): its visible form with `&`, `<`, `>`, `"` and `'`
/// written as character references, so it can never open a tag, end an
/// attribute or start an entity of its own.
pub fn html(s: &str) -> String {
    let v = visible(s);
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How [`to_json`] writes strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonMode {
    /// The exact value, with hidden characters as JSON `\u` escapes (for
    /// programs: `json`, inventory, `db status`, `explain`).
    Exact,
    /// The [`visible`] form (for documents GitHub renders: SARIF and
    /// CycloneDX).
    Visible,
}

/// Serialises `value` as pretty JSON with a trailing newline, every string
/// (keys included) redacted and escaped per `mode`.
pub fn to_json<T: Serialize + ?Sized>(
    value: &T,
    mode: JsonMode,
) -> Result<String, serde_json::Error> {
    let mut buf = Vec::with_capacity(4096);
    write_json(&mut buf, value, mode)?;
    buf.push(b'\n');
    // The formatter writes only valid UTF-8 (strings are re-encoded whole).
    String::from_utf8(buf).map_err(|e| serde_json::Error::io(io::Error::other(e)))
}

/// [`to_json`] into a writer, without the trailing newline.
pub fn write_json<W: io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
    mode: JsonMode,
) -> Result<(), serde_json::Error> {
    let fmt = SafeFormatter {
        inner: PrettyFormatter::new(),
        mode,
        collecting: false,
        buf: String::new(),
        out: String::new(),
    };
    let mut ser = serde_json::Serializer::with_formatter(writer, fmt);
    value.serialize(&mut ser)
}

/// A pretty formatter that collects each string whole (serde_json hands
/// strings over in fragments) and writes it redacted and escaped.
struct SafeFormatter {
    inner: PrettyFormatter<'static>,
    mode: JsonMode,
    /// True between `begin_string` and `end_string`, while `buf` collects
    /// the string.
    collecting: bool,
    buf: String,
    /// Scratch space for escaping, kept between strings.
    out: String,
}

impl SafeFormatter {
    fn write_string<W: ?Sized + io::Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        let red = match self.mode {
            JsonMode::Exact => redact_output(s),
            JsonMode::Visible => visible(s),
        };
        // Most strings need no escape at all.
        if !red
            .bytes()
            .any(|b| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x80)
        {
            w.write_all(b"\"")?;
            w.write_all(red.as_bytes())?;
            return w.write_all(b"\"");
        }
        let out = &mut self.out;
        out.clear();
        out.push('"');
        for c in red.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if is_hidden(c) => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        let _ = write!(out, "\\u{u:04x}");
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
        w.write_all(out.as_bytes())
    }

    /// Numbers written as map keys arrive between `begin_string` and
    /// `end_string`: they join the string being collected.
    fn number<W: ?Sized + io::Write>(&mut self, w: &mut W, text: &str) -> io::Result<()> {
        if self.collecting {
            self.buf.push_str(text);
            Ok(())
        } else {
            w.write_all(text.as_bytes())
        }
    }
}

macro_rules! numbers {
    ($($name:ident: $t:ty),*) => {
        $(fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W, v: $t) -> io::Result<()> {
            self.number(w, &v.to_string())
        })*
    };
}

impl Formatter for SafeFormatter {
    numbers!(write_i8: i8, write_i16: i16, write_i32: i32, write_i64: i64, write_i128: i128,
        write_u8: u8, write_u16: u16, write_u32: u32, write_u64: u64, write_u128: u128);

    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f32) -> io::Result<()> {
        let mut b = Vec::new();
        serde_json::ser::CompactFormatter.write_f32(&mut b, v)?;
        self.number(w, &String::from_utf8_lossy(&b))
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        let mut b = Vec::new();
        serde_json::ser::CompactFormatter.write_f64(&mut b, v)?;
        self.number(w, &String::from_utf8_lossy(&b))
    }

    fn write_number_str<W: ?Sized + io::Write>(&mut self, w: &mut W, v: &str) -> io::Result<()> {
        self.number(w, v)
    }

    fn begin_string<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.collecting = true;
        self.buf.clear();
        Ok(())
    }

    fn end_string<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.collecting = false;
        let s = std::mem::take(&mut self.buf);
        let r = self.write_string(w, &s);
        self.buf = s;
        r
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if self.collecting {
            self.buf.push_str(fragment);
            Ok(())
        } else {
            w.write_all(fragment.as_bytes())
        }
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        let c = match escape {
            CharEscape::Quote => '"',
            CharEscape::ReverseSolidus => '\\',
            CharEscape::Solidus => '/',
            CharEscape::Backspace => '\u{8}',
            CharEscape::FormFeed => '\u{c}',
            CharEscape::LineFeed => '\n',
            CharEscape::CarriageReturn => '\r',
            CharEscape::Tab => '\t',
            CharEscape::AsciiControl(b) => char::from(b),
        };
        if self.collecting {
            self.buf.push(c);
            Ok(())
        } else {
            self.write_string(w, &c.to_string())
        }
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.inner.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.inner.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One sample of every class of hidden character.
    pub(crate) const HOSTILE: &[char] = &[
        '\u{0}',
        '\u{7}',
        '\u{8}',
        '\t',
        '\n',
        '\u{b}',
        '\u{c}',
        '\r',
        '\u{1b}',
        '\u{7f}',
        '\u{80}',
        '\u{85}',
        '\u{9b}',
        '\u{9d}',
        '\u{ad}',
        '\u{61c}',
        '\u{200b}',
        '\u{200d}',
        '\u{200e}',
        '\u{2028}',
        '\u{2029}',
        '\u{202a}',
        '\u{202e}',
        '\u{2066}',
        '\u{2069}',
        '\u{2060}',
        '\u{feff}',
        '\u{fe0f}',
        '\u{e0001}',
        '\u{e0041}',
        '\u{ffff}',
    ];

    #[test]
    fn every_hidden_class_becomes_visible() {
        for &c in HOSTILE {
            let s = format!("a{c}b");
            let v = visible(&s);
            assert!(!v.chars().any(is_hidden), "{c:?} -> {v:?}");
            assert!(
                v.starts_with('a') && v.ends_with('b') && v.contains('\\'),
                "{v}"
            );
        }
        assert_eq!(visible("\u{1b}]0;title\u{7}"), "\\x1b]0;title\\x07");
        assert_eq!(visible("evil\u{202e}gpj.exe"), "evil\\u202egpj.exe");
        assert_eq!(visible("x\r\ny"), "x\\r\\ny");
        assert_eq!(visible("\u{e0001}"), "\\U000e0001");
        assert_eq!(visible("plain é 漢字 ✓"), "plain é 漢字 ✓");
    }

    #[test]
    fn html_text_never_becomes_markup() {
        let evil = "<script>alert(1)</script>\"' onload=x &amp; \u{202e}\u{1b}[2J";
        let h = html(evil);
        assert_eq!(
            h,
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39; onload=x &amp;amp; \\u202e\\x1b[2J"
        );
        assert!(!h.contains(['<', '>', '"', '\'']) && !h.chars().any(is_hidden));
    }

    #[test]
    fn markdown_cannot_escape_its_cell_or_span() {
        let evil = "x\n## depwarden: dependency gate passed\n<!--";
        let t = md_text(evil);
        assert!(!t.contains('\n') && !t.contains('<'), "{t}");
        let c = md_code(evil, true);
        assert!(!c.contains('\n'), "{c}");
        assert_eq!(md_code("a|b", true), "`a\\|b`");
        assert_eq!(md_code("a|b", false), "`a|b`");
        assert_eq!(md_code("a`b", false), "``a`b``");
        assert_eq!(md_code("`x", false), "`` `x ``");
        assert_eq!(
            md_text("[x](javascript:1) *y* <b>"),
            "\\[x\\](javascript:1) \\*y\\* &lt;b&gt;"
        );
        for &c in HOSTILE {
            assert!(!md_text(&c.to_string()).chars().any(is_hidden));
            assert!(!md_code(&c.to_string(), true).chars().any(is_hidden));
        }
    }

    #[test]
    fn json_escapes_hidden_characters_and_redacts() {
        let all: String = HOSTILE.iter().collect();
        let v = json!({
            "name": all,
            "url": "https://u:hunter2@h/x?token=tok3n",
            "n": 1, "f": 1.5, "list": ["\u{202e}"],
        });
        let exact = to_json(&v, JsonMode::Exact).unwrap();
        assert!(
            !exact.chars().any(|c| is_hidden(c) && c != '\n' && c != ' '),
            "{exact:?}"
        );
        assert!(
            !exact.contains("hunter2") && !exact.contains("tok3n"),
            "{exact}"
        );
        let back: serde_json::Value = serde_json::from_str(&exact).unwrap();
        assert_eq!(back["name"], json!(all), "exact mode keeps the value");
        assert_eq!(back["n"], 1);
        assert_eq!(back["f"], 1.5);
        assert_eq!(back["list"][0], "\u{202e}");
        let vis = to_json(&v, JsonMode::Visible).unwrap();
        let back: serde_json::Value = serde_json::from_str(&vis).unwrap();
        assert_eq!(back["list"][0], "\\u202e");
        assert!(!back["name"].as_str().unwrap().chars().any(is_hidden));
        // Pretty output, as serde_json writes it.
        assert_eq!(
            to_json(&json!({"a": [1, {"b": "c"}]}), JsonMode::Exact).unwrap(),
            serde_json::to_string_pretty(&json!({"a": [1, {"b": "c"}]})).unwrap() + "\n"
        );
        // Integer map keys.
        let m: std::collections::BTreeMap<u32, &str> = [(7, "x")].into();
        assert_eq!(
            to_json(&m, JsonMode::Exact).unwrap(),
            "{\n  \"7\": \"x\"\n}\n"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_made_safe_and_stays_so(
            s in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{202e}\\u{e0001}]|://|@|=|token|_auth|ghp_|AKIA|[:?&#/|`<>*_\\[\\]\\\\])*"
        ) {
            let v = visible(&s);
            proptest::prop_assert!(!v.chars().any(is_hidden));
            proptest::prop_assert_eq!(visible(&v), v.clone());
            let r = crate::redact::redact_output(&s);
            proptest::prop_assert_eq!(crate::redact::redact_output(&r), r.clone());
            let _ = crate::redact::redact_text(&s);
            let h = html(&s);
            proptest::prop_assert!(!h.chars().any(is_hidden) && !h.contains(['<', '>', '"', '\'']));
            for md in [md_text(&s), md_code(&s, true), md_code(&s, false)] {
                proptest::prop_assert!(!md.chars().any(is_hidden) && !md.contains('\n'));
            }
            let j = to_json(&json!({ "s": s }), JsonMode::Exact).unwrap();
            let back: serde_json::Value = serde_json::from_str(&j).unwrap();
            proptest::prop_assert_eq!(back["s"].as_str().unwrap(), &*crate::redact::redact_output(&s));
        }
    }
}
