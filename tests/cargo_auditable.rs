//! Binaries: cargo-auditable data, binaries without it, non-binaries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use depwarden::fs::OsFs;
use depwarden::parse::{Level, ParseContext, ParseOptions, ParsedSource, parse_source};
use depwarden::source::{SourceFormat, SourceRef};

fn parse(path: &Path) -> ParsedSource {
    let fs = OsFs::default();
    let source = SourceRef::new(path, SourceFormat::RustBinary);
    let options = ParseOptions::default();
    let root = path.parent().unwrap().to_path_buf();
    let ctx = ParseContext {
        fs: &fs,
        source: &source,
        root: &root,
        options: &options,
    };
    parse_source(&ctx).unwrap()
}

#[test]
fn executable_without_section_is_info_not_error() {
    // The test executable itself is a real binary built without
    // cargo-auditable.
    let exe = std::env::current_exe().unwrap();
    let p = parse(&exe);
    assert!(p.graph.is_empty());
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].level, Level::Info);
    assert_eq!(
        p.diagnostics[0].message,
        "Rust binary without embedded dependency data"
    );
}

#[test]
fn non_executables_give_no_packages_and_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bootstrap");
    for bytes in [
        b"#!/bin/sh\necho hi\n".to_vec(),
        b"\x7fELF\x02\x01\x01garbage".to_vec(),
        b"MZ\x00\x00".to_vec(),
        Vec::new(),
    ] {
        std::fs::write(&path, &bytes).unwrap();
        let p = parse(&path);
        assert!(p.graph.is_empty());
        assert!(p.diagnostics.iter().all(|d| d.level == Level::Info));
    }
}
