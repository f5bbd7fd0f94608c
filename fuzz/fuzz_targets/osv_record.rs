#![no_main]
//! Fuzzes OSV record decoding and compilation.
use depwarden::advisory::model::OsvRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = serde_json::from_slice::<OsvRecord>(data) {
        let _ = depwarden::advisory::compile::compile(&rec);
        let _ = depwarden::advisory::compile::is_malicious(&rec);
    }
});
