#![no_main]
//! Fuzzes the PackageLock parser.
use depwarden::source::SourceFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| depwarden_fuzz::run(
    SourceFormat::PackageLock,
    "package-lock.json",
    data
));
