//! Source formats: what kinds of file or directory declare dependencies, and
//! how to recognise them by name.

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::ecosystem::Ecosystem;

/// A kind of dependency source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// `package-lock.json` (v1, v2, v3).
    PackageLock,
    /// `npm-shrinkwrap.json` (same format as package-lock).
    NpmShrinkwrap,
    /// `yarn.lock`, classic (v1) or berry (v2+).
    YarnLock,
    /// `pnpm-lock.yaml`.
    PnpmLock,
    /// `bun.lock` (text format).
    BunLock,
    /// `package.json` with no lockfile beside it.
    PackageJson,
    /// An installed `node_modules/` tree (the source path is the directory).
    NodeModules,
    /// One installed package's `node_modules/<name>/package.json`, given
    /// explicitly.
    InstalledPackageJson,
    /// `requirements*.txt`.
    Requirements,
    /// `pyproject.toml` with no lockfile beside it.
    Pyproject,
    /// `poetry.lock`.
    PoetryLock,
    /// `Pipfile.lock`.
    PipfileLock,
    /// `Pipfile` with no `Pipfile.lock` beside it.
    Pipfile,
    /// `pdm.lock`.
    PdmLock,
    /// `uv.lock`.
    UvLock,
    /// `pylock.toml` / `pylock.<name>.toml` (PEP 751).
    PylockToml,
    /// Installed Python metadata: a directory holding `*.dist-info` /
    /// `*.egg-info` (pip --target, Lambda layer, site-packages), or one
    /// `METADATA` / `PKG-INFO` file given explicitly.
    PythonInstalled,
    /// `Cargo.toml` with no `Cargo.lock` beside it.
    CargoToml,
    /// `Cargo.lock` (v1 to v4).
    CargoLock,
    /// An executable that may carry cargo-auditable data (`bootstrap`).
    RustBinary,
}

impl SourceFormat {
    /// Every format, in a stable order.
    pub const ALL: [SourceFormat; 20] = [
        SourceFormat::PackageLock,
        SourceFormat::NpmShrinkwrap,
        SourceFormat::YarnLock,
        SourceFormat::PnpmLock,
        SourceFormat::BunLock,
        SourceFormat::PackageJson,
        SourceFormat::NodeModules,
        SourceFormat::InstalledPackageJson,
        SourceFormat::Requirements,
        SourceFormat::Pyproject,
        SourceFormat::PoetryLock,
        SourceFormat::PipfileLock,
        SourceFormat::Pipfile,
        SourceFormat::PdmLock,
        SourceFormat::UvLock,
        SourceFormat::PylockToml,
        SourceFormat::PythonInstalled,
        SourceFormat::CargoToml,
        SourceFormat::CargoLock,
        SourceFormat::RustBinary,
    ];

    /// The format's name in reports (kebab-case).
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::PackageLock => "package-lock",
            SourceFormat::NpmShrinkwrap => "npm-shrinkwrap",
            SourceFormat::YarnLock => "yarn-lock",
            SourceFormat::PnpmLock => "pnpm-lock",
            SourceFormat::BunLock => "bun-lock",
            SourceFormat::PackageJson => "package-json",
            SourceFormat::NodeModules => "node-modules",
            SourceFormat::InstalledPackageJson => "installed-package-json",
            SourceFormat::Requirements => "requirements",
            SourceFormat::Pyproject => "pyproject",
            SourceFormat::PoetryLock => "poetry-lock",
            SourceFormat::PipfileLock => "pipfile-lock",
            SourceFormat::Pipfile => "pipfile",
            SourceFormat::PdmLock => "pdm-lock",
            SourceFormat::UvLock => "uv-lock",
            SourceFormat::PylockToml => "pylock-toml",
            SourceFormat::PythonInstalled => "python-installed",
            SourceFormat::CargoToml => "cargo-toml",
            SourceFormat::CargoLock => "cargo-lock",
            SourceFormat::RustBinary => "rust-binary",
        }
    }

    /// The ecosystem the format belongs to.
    pub fn ecosystem(self) -> Ecosystem {
        use SourceFormat::*;
        match self {
            PackageLock | NpmShrinkwrap | YarnLock | PnpmLock | BunLock | PackageJson
            | NodeModules | InstalledPackageJson => Ecosystem::Npm,
            Requirements | Pyproject | PoetryLock | PipfileLock | Pipfile | PdmLock | UvLock
            | PylockToml | PythonInstalled => Ecosystem::PyPI,
            CargoToml | CargoLock | RustBinary => Ecosystem::CratesIo,
        }
    }

    /// True for lockfiles (a resolved graph), false for manifests, installed
    /// trees and binaries.
    pub fn is_lockfile(self) -> bool {
        use SourceFormat::*;
        matches!(
            self,
            PackageLock
                | NpmShrinkwrap
                | YarnLock
                | PnpmLock
                | BunLock
                | PoetryLock
                | PipfileLock
                | PdmLock
                | UvLock
                | PylockToml
                | CargoLock
        )
    }

    /// Recognises a file by its name alone (not installed trees, not
    /// binaries, which need the directory layout or the file's bytes).
    pub fn from_file_name(name: &str) -> Option<SourceFormat> {
        Some(match name {
            "package-lock.json" => SourceFormat::PackageLock,
            "npm-shrinkwrap.json" => SourceFormat::NpmShrinkwrap,
            "yarn.lock" => SourceFormat::YarnLock,
            "pnpm-lock.yaml" => SourceFormat::PnpmLock,
            "bun.lock" => SourceFormat::BunLock,
            "package.json" => SourceFormat::PackageJson,
            "pyproject.toml" => SourceFormat::Pyproject,
            "poetry.lock" => SourceFormat::PoetryLock,
            "Pipfile.lock" => SourceFormat::PipfileLock,
            "Pipfile" => SourceFormat::Pipfile,
            "pdm.lock" => SourceFormat::PdmLock,
            "uv.lock" => SourceFormat::UvLock,
            "pylock.toml" => SourceFormat::PylockToml,
            "Cargo.toml" => SourceFormat::CargoToml,
            "Cargo.lock" => SourceFormat::CargoLock,
            "bootstrap" => SourceFormat::RustBinary,
            _ if is_requirements_name(name) => SourceFormat::Requirements,
            _ if name.starts_with("pylock.") && name.ends_with(".toml") => SourceFormat::PylockToml,
            _ => return None,
        })
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `requirements.txt`, `requirements-dev.txt`, `requirements_prod.txt`,
/// `dev-requirements.txt` and the like.
pub fn is_requirements_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".txt")
        && (lower.starts_with("requirements") || lower.ends_with("requirements.txt"))
}

/// A source found in a deployment package: a file or, for installed trees,
/// a directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SourceRef {
    /// The file (or installed-tree directory).
    pub path: PathBuf,
    /// Its format.
    pub format: SourceFormat,
}

impl SourceRef {
    /// A new source reference.
    pub fn new(path: impl Into<PathBuf>, format: SourceFormat) -> Self {
        SourceRef {
            path: path.into(),
            format,
        }
    }

    /// The directory the source sits in (for a directory source, itself's
    /// parent, the deployment root of a `node_modules/`).
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// True when the bytes start like an ELF, Mach-O or PE executable.
pub fn looks_like_executable(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
        || head.starts_with(b"MZ")
        || head.starts_with(&[0xfe, 0xed, 0xfa, 0xce])
        || head.starts_with(&[0xfe, 0xed, 0xfa, 0xcf])
        || head.starts_with(&[0xce, 0xfa, 0xed, 0xfe])
        || head.starts_with(&[0xcf, 0xfa, 0xed, 0xfe])
        || head.starts_with(&[0xca, 0xfe, 0xba, 0xbe])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_source_names() {
        assert_eq!(
            SourceFormat::from_file_name("requirements-dev.txt"),
            Some(SourceFormat::Requirements)
        );
        assert_eq!(
            SourceFormat::from_file_name("dev-requirements.txt"),
            Some(SourceFormat::Requirements)
        );
        assert_eq!(SourceFormat::from_file_name("notes.txt"), None);
        assert_eq!(
            SourceFormat::from_file_name("pylock.prod.toml"),
            Some(SourceFormat::PylockToml)
        );
        assert_eq!(
            SourceFormat::from_file_name("Cargo.lock"),
            Some(SourceFormat::CargoLock)
        );
        for f in SourceFormat::ALL {
            assert!(!f.name().is_empty());
        }
    }

    #[test]
    fn executable_magic() {
        assert!(looks_like_executable(b"\x7fELF\x02\x01"));
        assert!(!looks_like_executable(b"#!/bin/sh"));
    }
}
