#![no_main]
//! Fuzzes the InstalledPackageJson parser.
use depwarden::source::SourceFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| depwarden_fuzz::run(
    SourceFormat::InstalledPackageJson,
    "node_modules/pkg/package.json",
    data
));
