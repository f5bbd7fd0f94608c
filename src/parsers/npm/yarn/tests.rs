//! Tests of [`super`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::entries::*;
use super::*;

#[test]
fn headers_and_fields() {
    assert_eq!(
        header_specs(r#""@a/b@^1", a@^1.2:"#),
        vec!["@a/b@^1".to_string(), "a@^1.2".to_string()]
    );
    assert_eq!(
        header_specs(r#""chalk@npm:^4.0.0, chalk@npm:^4.1.0":"#),
        vec![
            "chalk@npm:^4.0.0".to_string(),
            "chalk@npm:^4.1.0".to_string()
        ]
    );
    assert_eq!(
        header_specs(r#""@ws/lib@workspace:*, @ws/lib@workspace:packages/lib":"#),
        vec![
            "@ws/lib@workspace:*".to_string(),
            "@ws/lib@workspace:packages/lib".to_string()
        ]
    );
    assert_eq!(
        unbound("local@file:./x::locator=app%40workspace%3A."),
        Some("local@file:./x")
    );
    assert_eq!(
        key_value(r#"version "1.0.0""#),
        Some(("version".to_string(), r#""1.0.0""#))
    );
    assert_eq!(
        key_value(r#""@babel/x": "npm:^7""#),
        Some(("@babel/x".to_string(), r#""npm:^7""#))
    );
    assert_eq!(
        key_value("dependencies:"),
        Some(("dependencies".to_string(), ""))
    );
}

#[test]
fn an_unreadable_line_costs_its_entry_only() {
    let text =
        "a@^1:\n  version \"1.0.0\"\n\ngarbage\n  version \"9\"\n\nb@^2:\n  version \"2.0.0\"\n";
    let (entries, _, problems) = read_entries(text, 100).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].version, Some("2.0.0"));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].0, 4);
    assert!(read_entries("not a lockfile\n", 100).is_err());
}

#[test]
fn sources() {
    assert!(matches!(
        classic_source(Some("https://codeload.github.com/a/b/tar.gz/abcdef1"), ""),
        PackageSource::Git { rev: Some(r), .. } if r == "abcdef1"
    ));
    assert!(matches!(
        berry_source("https://github.com/a/b.git#commit=abc"),
        PackageSource::Git { rev: Some(r), .. } if r == "abc"
    ));
    assert!(matches!(
        berry_source("npm:1.0.0"),
        PackageSource::Registry { .. }
    ));
}
