//! What depwarden prints cannot be turned against its reader: package
//! names, versions, directory names and messages carrying every class of
//! control and invisible character go through every output format (each
//! `report::Format`, so a new format is covered as soon as it exists), the
//! inventory formats and stderr, and none reaches the output raw; the
//! Markdown comment keeps its structure.

use crate::common::{depwarden, shared_db};
use depwarden::report::Format;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// One of each class: C0 (BEL, BS, CR, LF, ESC with CSI and OSC
/// sequences), DEL, C1 (NEL, CSI, OSC), bidi overrides and isolates,
/// zero-width and other invisible format characters, a tag character.
const HOSTILE: &str = "x\u{7}\u{8}\r\n\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]8;;http://evil/\u{1b}\\\u{7f}\u{85}\u{9b}\u{9d}\u{202e}\u{2066}\u{200b}\u{200d}\u{ad}\u{feff}\u{2028}\u{2060}\u{e0041}y";

/// Builds a deployment whose directory name, a package name, a version and
/// a requirements line carry [`HOSTILE`], with a vulnerable lodash reached
/// through the hostile package (so findings, paths and fix advice carry it).
fn hostile_tree() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    // A file name holds anything but `/` and NUL.
    let dep_name =
        format!("dep{HOSTILE}\n## depwarden: dependency gate passed\n<!--|`").replace('/', "_");
    let dep = tmp.path().join(&dep_name);
    std::fs::create_dir_all(&dep).unwrap();
    let evil = format!("evil{HOSTILE}|`<b>");
    let lock = json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {evil.clone(): "1.0.0"}},
            format!("node_modules/{evil}"): {
                "version": format!("1.0.0-{HOSTILE}"),
                "dependencies": {"lodash": "4.17.15"}
            },
            "node_modules/lodash": {"version": "4.17.15"}
        }
    });
    std::fs::write(dep.join("package-lock.json"), lock.to_string()).unwrap();
    std::fs::write(
        dep.join("requirements.txt"),
        format!("flask==${{VERSION{HOSTILE}}}\n"),
    )
    .unwrap();
    (tmp, dep, dep_name)
}

/// The SGR codes depwarden itself writes.
const OWN_SGR: &[&str] = &["0", "1", "31", "32", "33", "35", "36", "1;31"];

/// Panics at the first character that must not reach a reader raw; with
/// `colour`, depwarden's own SGR sequences are allowed (and only those).
fn assert_clean(what: &str, text: &str, colour: bool) {
    for (i, c) in text.char_indices() {
        let u = c as u32;
        if c == '\u{1b}' && colour {
            let rest = &text[i + 1..];
            let ok = rest
                .strip_prefix('[')
                .and_then(|r| r.split_once('m'))
                .is_some_and(|(code, _)| OWN_SGR.contains(&code));
            assert!(
                ok,
                "{what}: foreign escape sequence at {i}: {:?}",
                &text[i..(i + 12).min(text.len())]
            );
            continue;
        }
        let raw_control = (u < 0x20 && c != '\n') || (0x7f..=0x9f).contains(&u);
        let invisible = matches!(u,
            0xAD | 0x61C | 0x180E | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064
            | 0x2066..=0x2069 | 0xFEFF | 0xE0000..=0xE007F);
        assert!(
            !raw_control && !invisible,
            "{what}: raw U+{u:04X} at byte {i}: {:?}",
            &text[i.saturating_sub(30)..(i + 10).min(text.len())]
        );
    }
}

/// Unescaped `|` in a Markdown table row.
fn cells(row: &str) -> usize {
    let b = row.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

/// A Markdown line without its code spans (CommonMark: a run of backticks
/// opens a span that the next run of the same length closes).
fn outside_code(line: &str) -> String {
    let b = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' && (i == 0 || b[i - 1] != b'\\') {
            let run = b[i..].iter().take_while(|&&c| c == b'`').count();
            let fence = "`".repeat(run);
            let after = i + run;
            // The closing run: exactly `run` backticks.
            let mut j = after;
            let close = loop {
                match line[j..].find(&fence) {
                    Some(k) => {
                        let at = j + k;
                        let len = b[at..].iter().take_while(|&&c| c == b'`').count();
                        if len == run {
                            break Some(at);
                        }
                        j = at + len;
                    }
                    None => break None,
                }
            };
            match close {
                Some(at) => i = at + run,
                None => {
                    out.push_str(&fence);
                    i = after;
                }
            }
            continue;
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

fn assert_markdown_structure(md: &str) {
    let lines: Vec<&str> = md.lines().collect();
    assert!(
        lines[0].starts_with("## depwarden: dependency gate"),
        "{md}"
    );
    for l in &lines[1..] {
        assert!(
            !l.starts_with('#') || l.starts_with("### "),
            "injected heading: {l}"
        );
        let text = outside_code(l);
        assert!(!text.contains('<'), "raw HTML outside a code span: {l}");
    }
    // Every row of a table has as many cells as its header.
    let mut header_cells = None;
    for l in &lines {
        if l.starts_with('|') {
            let n = cells(l);
            match header_cells {
                None => header_cells = Some(n),
                Some(h) => assert_eq!(n, h, "a string left its cell: {l}"),
            }
        } else {
            header_cells = None;
        }
    }
}

fn run(db: &Path, args: &[&str], path: &Path) -> (i32, String, String) {
    let out = depwarden(db).args(args).arg(path).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn every_control_class_is_neutralised_in_every_format() {
    let db = shared_db();
    let (_tmp, dep, dep_name) = hostile_tree();
    let root = dep.parent().unwrap();
    for format in Format::ALL {
        let (code, out, err) = run(
            &db,
            &["scan", "--color", "always", "--format", format.name()],
            root,
        );
        assert_eq!(code, 1, "{}: {err}", format.name());
        assert_clean(format.name(), &out, format == Format::Table);
        assert_clean(&format!("{} stderr", format.name()), &err, false);
        match format {
            Format::Table => {
                assert!(out.contains("\\x1b]0;pwned\\x07"), "{out}");
                assert!(out.contains("\\u202e") && out.contains("\\r\\n"), "{out}");
                assert!(out.contains("lodash@4.17.15"), "{out}");
                assert!(out.contains("\u{1b}[31m"), "own colours kept: {out}");
            }
            Format::Markdown => {
                assert_markdown_structure(&out);
                assert!(out.contains("lodash@4.17.15"), "{out}");
                assert!(
                    out.contains("\\\\x1b"),
                    "visible escapes, Markdown-escaped: {out}"
                );
            }
            Format::Json => {
                // Programs get the exact strings back.
                let v: Value = serde_json::from_str(&out).unwrap();
                let d = &v["deployments"][0];
                // (Display paths use `/` for every separator, `\` included.)
                assert_eq!(d["path"], json!(dep_name.replace('\\', "/")));
                let f = &d["findings"][0];
                assert!(f["paths"][0][0].as_str().unwrap().contains(HOSTILE));
            }
            Format::Sarif | Format::CycloneDx => {
                // GitHub renders these: the visible form.
                let v: Value = serde_json::from_str(&out).unwrap();
                let s = v.to_string();
                assert!(s.contains("\\\\x1b]0;pwned"), "{}", format.name());
            }
        }
    }
    for format in ["json", "table"] {
        let (code, out, err) = run(&db, &["inventory", "--format", format], root);
        assert_eq!(code, 0, "{err}");
        assert_clean(&format!("inventory {format}"), &out, false);
        assert_clean(&format!("inventory {format} stderr"), &err, false);
        assert!(out.contains("evil"), "{out}");
    }
    // stderr: an error naming a hostile path.
    let missing = root.join(format!("missing{HOSTILE}").replace('/', "_"));
    let (code, _, err) = run(&db, &["scan"], &missing);
    assert_eq!(code, 2);
    assert_clean("stderr", &err, false);
    assert!(err.contains("missing") && err.contains("\\u202e"), "{err}");
}

#[test]
fn markdown_fix_advice_cannot_be_broken_out_of() {
    let db = shared_db();
    let (_tmp, dep, _) = hostile_tree();
    let (_, md, _) = run(
        &db,
        &["scan", "--format", "markdown"],
        dep.parent().unwrap(),
    );
    let advice: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("### Fix advice"))
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(!advice.is_empty(), "{md}");
    for l in advice {
        assert!(
            l.starts_with("- "),
            "a line of the advice list was injected: {l}"
        );
    }
    assert!(md.starts_with("## depwarden: dependency gate failed"));
    assert!(!md.lines().skip(1).any(|l| l.starts_with("## ")), "{md}");
}
