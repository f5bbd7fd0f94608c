//! Resource limits for hostile input that are not tied to one parser:
//! zip archives scanned in memory (zip-bomb and traversal protection).
//! Per-file size caps live in [`crate::fs`], per-source package and
//! nesting caps in [`crate::parse::Limits`].

use crate::fs::DEFAULT_MAX_FILE_SIZE;

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
