#![no_main]
//! Fuzzes the CargoLock parser.
use depwarden::source::SourceFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| depwarden_fuzz::run(SourceFormat::CargoLock, "Cargo.lock", data));
