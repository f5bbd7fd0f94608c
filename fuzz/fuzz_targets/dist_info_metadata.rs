#![no_main]
//! Fuzzes the PythonInstalled parser.
use depwarden::source::SourceFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| depwarden_fuzz::run(
    SourceFormat::PythonInstalled,
    "pkg-1.0.dist-info/METADATA",
    data
));
