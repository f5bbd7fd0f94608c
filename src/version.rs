//! Per-ecosystem version parsing and ordering (interface placeholder).

use crate::ecosystem::Ecosystem;
use std::cmp::Ordering;

/// Compares two versions in the ecosystem's ordering; `None` when either
/// does not parse.
pub fn compare(_ecosystem: Ecosystem, _a: &str, _b: &str) -> Option<Ordering> {
    None
}
