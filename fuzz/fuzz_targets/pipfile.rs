#![no_main]
//! Fuzzes the Pipfile parser (a Pipfile without its lock).
use depwarden::source::SourceFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| depwarden_fuzz::run(SourceFormat::Pipfile, "Pipfile", data));
