//! npm: lockfiles (package-lock, yarn, pnpm, bun), `package.json`, and
//! installed `node_modules/` trees.

pub mod bun;
pub mod manifest;
pub mod node_modules;
pub mod package_lock;
pub mod pnpm;
pub mod yarn;
