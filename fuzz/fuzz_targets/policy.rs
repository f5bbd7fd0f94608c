#![no_main]
//! Fuzzes depwarden.toml parsing.
use depwarden::policy::Policy;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = Path::new("/fuzz/depwarden.toml");
        if let Err(e) = Policy::from_toml(text, path) {
            assert!(e.to_string().contains("depwarden.toml"), "{e}");
        }
    }
});
