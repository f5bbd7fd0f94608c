//! crates.io: `Cargo.lock`, `Cargo.toml`, and binaries carrying
//! cargo-auditable dependency data.

pub mod auditable;
pub mod lockfile;
pub mod manifest;
