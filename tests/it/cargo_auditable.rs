//! Binaries: cargo-auditable data, binaries without it, non-binaries.

use std::path::Path;

use depwarden::diagnostic::Level;
use depwarden::fs::OsFs;
use depwarden::parse::{ParseContext, ParseOptions, ParsedSource};
use depwarden::parsers::parse_source;
use depwarden::source::{SourceFormat, SourceRef};

fn parse(path: &Path) -> ParsedSource {
    // No size cap: the test executable itself is parsed, and a debug build
    // of it can be larger than the default cap.
    let fs = OsFs::with_limit(1 << 40);
    let source = SourceRef::new(path, SourceFormat::RustBinary);
    let mut options = ParseOptions::default();
    options.limits.max_file_size = 1 << 40;
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

/// A minimal little-endian ELF64 executable whose only content is a
/// `.dep-v0` section holding `payload` (the layout cargo-auditable uses).
fn elf_with_dep_section(payload: &[u8]) -> Vec<u8> {
    let shstrtab = b"\0.dep-v0\0.shstrtab\0";
    let data_off = 64u64;
    let str_off = data_off + payload.len() as u64;
    let sh_off = (str_off + shstrtab.len() as u64).div_ceil(8) * 8;
    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&62u16.to_le_bytes()); // x86_64
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // entry
    out.extend_from_slice(&0u64.to_le_bytes()); // phoff
    out.extend_from_slice(&sh_off.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // flags
    for v in [64u16, 56, 0, 64, 3, 2] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(payload);
    out.extend_from_slice(shstrtab);
    out.resize(sh_off as usize, 0);
    let mut section = |name: u32, kind: u32, off: u64, size: u64| {
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        for v in [0u64, 0, off, size] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&1u64.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
    };
    section(0, 0, 0, 0);
    section(1, 1, data_off, payload.len() as u64);
    section(9, 3, str_off, shstrtab.len() as u64);
    out
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    use flate2::{Compression, write::ZlibEncoder};
    use std::io::Write;
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn try_parse(bytes: &[u8]) -> Result<ParsedSource, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bootstrap");
    std::fs::write(&path, bytes).unwrap();
    let fs = OsFs::default();
    let source = SourceRef::new(&path, SourceFormat::RustBinary);
    let options = ParseOptions::default();
    let ctx = ParseContext {
        fs: &fs,
        source: &source,
        root: dir.path(),
        options: &options,
    };
    parse_source(&ctx).map_err(|e| e.to_string())
}

#[test]
fn handmade_elf_section_is_read() {
    let json = br#"{"packages":[
        {"name":"handler","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
        {"name":"lambda_runtime","version":"0.13.0","source":"crates.io","dependencies":[]},
        {"name":"cc","version":"1.2.0","source":"crates.io","kind":"build"}]}"#;
    let p = try_parse(&elf_with_dep_section(&zlib(json))).unwrap();
    let names: Vec<_> = p.graph.packages().iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, vec!["handler", "lambda_runtime", "cc"]);
    assert!(p.graph.packages()[0].root);
    assert!(p.graph.packages()[1].direct);
    assert_eq!(p.graph.packages()[2].groups, vec!["build"]);
}

#[test]
fn hostile_sections_are_errors_naming_the_file() {
    // A zlib bomb: 16 MiB of spaces, over the 8 MiB cap.
    let bomb = zlib(&vec![b' '; 16 * 1024 * 1024]);
    let err = try_parse(&elf_with_dep_section(&bomb)).unwrap_err();
    assert!(err.contains("bootstrap") && err.contains("bytes"), "{err}");
    // Not zlib at all.
    let err = try_parse(&elf_with_dep_section(b"definitely not zlib")).unwrap_err();
    assert!(err.contains("bootstrap"), "{err}");
    // zlib, but not the expected JSON.
    for json in [
        &b"[1,2,3]"[..],
        b"{\"packages\":[{\"name\":1}]}",
        b"\xff\xfe",
    ] {
        let err = try_parse(&elf_with_dep_section(&zlib(json))).unwrap_err();
        assert!(err.contains("bootstrap"), "{err}");
    }
    // Out-of-range and self indexes are skipped, not a panic.
    let json = br#"{"packages":[{"name":"a","version":"1.0.0","dependencies":[0,7,18446744073709551615],"root":true}]}"#;
    let p = try_parse(&elf_with_dep_section(&zlib(json))).unwrap();
    assert_eq!(p.graph.len(), 1);
    // Truncated ELF: the section points past the end of the file.
    let mut elf = elf_with_dep_section(&zlib(b"{\"packages\":[]}"));
    elf.truncate(70);
    assert!(try_parse(&elf).is_ok());
}
