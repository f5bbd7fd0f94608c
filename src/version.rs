//! Per-ecosystem version parsing and ordering (placeholder; see matcher work).
