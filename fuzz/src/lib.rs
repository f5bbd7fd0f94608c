//! Shared harness of the fuzz targets: parse bytes as one source format
//! from an in-memory file system, and check that an error names the file.

use std::path::Path;

use depwarden::parse::ParseOptions;
use depwarden::parsers::parse_bytes;
use depwarden::source::SourceFormat;

/// Parses `data` as `format`, placed at `rel` under a deployment root.
/// Panics (for the fuzzer) when an error does not name the file.
pub fn run(format: SourceFormat, rel: &str, data: &[u8]) {
    let root = Path::new("/fuzz/deployment");
    let options = ParseOptions::default();
    if let Err(e) = parse_bytes(format, root, rel, data.to_vec(), &options) {
        assert!(e.to_string().contains("/fuzz/deployment"), "{e}");
    }
}
