//! The resource limits of a scan that are not tied to one parser: file
//! sizes and package counts ([`Limits`], set by `[limits]`), zip archives
//! scanned in memory ([`ZipLimits`]: zip bombs, entry counts, nesting),
//! worker threads and registry lookup timeouts. A format's own caps (line
//! lengths, nesting depths) stay beside its parser. Vocabulary: it imports
//! nothing of the crate.

use std::time::Duration;

/// Largest file read by default, in bytes (256 MiB): on disk or in a zip.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// Limits that protect the scanner from hostile input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of packages one source may declare.
    pub max_packages: usize,
    /// Largest file read, in bytes (zip entries included).
    pub max_file_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_packages: 1_000_000,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

impl Limits {
    /// The limits of a scan: the configured values (`[limits]`) over the
    /// defaults, and `DEPWARDEN_MAX_FILE_SIZE` over both for the file size.
    pub fn configured(max_packages: Option<usize>, max_file_size: Option<u64>) -> Limits {
        let d = Limits::default();
        Limits {
            max_packages: max_packages.unwrap_or(d.max_packages),
            max_file_size: max_file_size_from_env()
                .or(max_file_size)
                .unwrap_or(d.max_file_size),
        }
    }
}

/// Caps applied to a `.zip` deployment package read in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipLimits {
    /// Largest archive file read into memory.
    pub max_archive_size: u64,
    /// Most entries an archive may list.
    pub max_entries: usize,
    /// Largest uncompressed size of one entry (declared or actual).
    pub max_entry_size: u64,
    /// Largest sum of declared uncompressed sizes of all entries.
    pub max_total_size: u64,
    /// Largest uncompressed/compressed ratio of one entry of more than
    /// [`ZipLimits::ratio_floor`] bytes.
    pub max_ratio: u64,
    /// Entries smaller than this are never refused for their ratio.
    pub ratio_floor: u64,
    /// How many zips deep archives are opened (1: a zip inside the scanned
    /// zip is opened, a zip inside that one is not).
    pub max_nesting: usize,
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits {
            max_archive_size: DEFAULT_MAX_FILE_SIZE,
            max_entries: 200_000,
            max_entry_size: DEFAULT_MAX_FILE_SIZE,
            max_total_size: 4 * 1024 * 1024 * 1024,
            max_ratio: 1_000,
            ratio_floor: 1024 * 1024,
            max_nesting: 1,
        }
    }
}

/// Most worker threads `--jobs` may ask for.
pub const MAX_JOBS: usize = 256;

/// Environment variable that sets the per-file size cap, in bytes.
pub const MAX_FILE_SIZE_ENV: &str = "DEPWARDEN_MAX_FILE_SIZE";

/// The per-file size cap set by `DEPWARDEN_MAX_FILE_SIZE`, when it holds
/// a positive number of bytes.
pub fn max_file_size_from_env() -> Option<u64> {
    std::env::var(MAX_FILE_SIZE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
}

/// Longest timeout of one public-registry lookup (`[registries]
/// timeout_ms` may not ask for more).
pub const MAX_LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);
