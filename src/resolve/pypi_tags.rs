//! Which PyPI files the target installs: wheel tags as pip computes them
//! for `--platform manylinux2014_<arch> --python-version 3.12
//! --only-binary=:all:` (the AWS-documented way to build a Lambda
//! package), and the version a file name carries.

use crate::parse::Arch;
use pep440_rs::Version;
use std::collections::HashMap;
use std::str::FromStr;

/// The wheel tags the target accepts, each with its rank (lower is
/// preferred), in pip's order.
#[derive(Debug, Clone)]
pub struct Tags {
    ranks: HashMap<(String, String, String), usize>,
}

impl Tags {
    /// CPython 3.`minor` on manylinux2014 for `arch`: pip expands the
    /// manylinux2014 x86_64 platform to manylinux2010 and manylinux1 too.
    pub fn lambda(minor: u32, arch: Arch) -> Tags {
        let machine = arch.machine();
        let mut platforms = vec![format!("manylinux2014_{machine}")];
        if arch == Arch::X86_64 {
            platforms.push(format!("manylinux2010_{machine}"));
            platforms.push(format!("manylinux1_{machine}"));
        }
        let mut order: Vec<(String, String, String)> = Vec::new();
        let cp = format!("cp3{minor}");
        for abi in [cp.as_str(), "abi3", "none"] {
            for p in &platforms {
                order.push((cp.clone(), abi.to_string(), p.clone()));
            }
        }
        for m in (2..minor).rev() {
            for p in &platforms {
                order.push((format!("cp3{m}"), "abi3".into(), p.clone()));
            }
        }
        let mut py = vec![format!("py3{minor}"), "py3".to_string()];
        py.extend((0..minor).rev().map(|m| format!("py3{m}")));
        for v in &py {
            for p in &platforms {
                order.push((v.clone(), "none".into(), p.clone()));
            }
        }
        order.push((cp.clone(), "none".into(), "any".into()));
        for v in &py {
            order.push((v.clone(), "none".into(), "any".into()));
        }
        let ranks = order.into_iter().enumerate().map(|(i, t)| (t, i)).collect();
        Tags { ranks }
    }

    /// The best rank of a wheel's (compressed) tag set, or `None` when the
    /// target cannot install it.
    pub fn rank(&self, wheel: &WheelName) -> Option<usize> {
        let mut best = None;
        for py in wheel.python.split('.') {
            for abi in wheel.abi.split('.') {
                for plat in wheel.platform.split('.') {
                    let key = (py.to_string(), abi.to_string(), plat.to_string());
                    if let Some(r) = self.ranks.get(&key) {
                        best = Some(best.map_or(*r, |b: usize| b.min(*r)));
                    }
                }
            }
        }
        best
    }

    /// How many tags there are.
    pub fn len(&self) -> usize {
        self.ranks.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ranks.is_empty()
    }
}

/// The parts of a wheel file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    /// The version.
    pub version: Version,
    /// Python tags, dot-separated.
    pub python: String,
    /// ABI tags.
    pub abi: String,
    /// Platform tags.
    pub platform: String,
}

/// Reads `name-version(-build)?-python-abi-platform.whl`.
pub fn wheel_name(filename: &str) -> Option<WheelName> {
    let stem = filename.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    if parts.len() != 5 && parts.len() != 6 {
        return None;
    }
    let n = parts.len();
    Some(WheelName {
        version: Version::from_str(parts[1]).ok()?,
        python: parts[n - 3].to_string(),
        abi: parts[n - 2].to_string(),
        platform: parts[n - 1].to_string(),
    })
}

/// The version of an sdist file name (`name-1.2.3.tar.gz`, `.zip`), read
/// after the project's normalised name.
pub fn sdist_version(filename: &str, normalized: &str) -> Option<Version> {
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    // The name part may spell the project with `-`, `_` or `.`: the
    // version starts after the `-` where the name, normalised, ends.
    let normalize = |n: &str| n.to_ascii_lowercase().replace(['_', '.'], "-");
    stem.match_indices('-')
        .find(|(i, _)| normalize(&stem[..*i]) == normalized)
        .or_else(|| stem.rmatch_indices('-').next())
        .and_then(|(i, _)| Version::from_str(&stem[i + 1..]).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_pips_list() {
        let t = Tags::lambda(12, Arch::X86_64);
        // pip debug --verbose --platform manylinux2014_x86_64 --python-version 3.12
        assert_eq!(t.len(), 96);
        let rank = |f: &str| t.rank(&wheel_name(f).unwrap());
        assert_eq!(
            rank("a-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
            Some(0)
        );
        assert!(rank("a-1-py3-none-any.whl").is_some());
        assert!(rank("a-1-cp38-abi3-manylinux2014_x86_64.whl").is_some());
        assert_eq!(rank("a-1-cp312-cp312-manylinux_2_28_x86_64.whl"), None);
        assert_eq!(rank("a-1-cp312-cp312-musllinux_1_1_x86_64.whl"), None);
        assert_eq!(rank("a-1-cp311-cp311-manylinux2014_x86_64.whl"), None);
        assert_eq!(rank("a-1-cp312-cp312-manylinux2014_aarch64.whl"), None);
        let arm = Tags::lambda(12, Arch::Arm64);
        assert!(
            arm.rank(&wheel_name("a-1-cp312-cp312-manylinux2014_aarch64.whl").unwrap())
                .is_some()
        );
        assert!(
            arm.rank(&wheel_name("a-1-cp312-cp312-manylinux1_aarch64.whl").unwrap())
                .is_none()
        );
    }

    #[test]
    fn sdist_versions() {
        let v = |f: &str, n: &str| sdist_version(f, n).map(|v| v.to_string());
        assert_eq!(
            v("requests-2.32.3.tar.gz", "requests").as_deref(),
            Some("2.32.3")
        );
        assert_eq!(
            v("zope.interface-6.0.tar.gz", "zope-interface").as_deref(),
            Some("6.0")
        );
        assert_eq!(
            v("typing_extensions-4.12.2.tar.gz", "typing-extensions").as_deref(),
            Some("4.12.2")
        );
        assert_eq!(
            v("python-dateutil-2.9.0.post0.tar.gz", "python-dateutil").as_deref(),
            Some("2.9.0.post0")
        );
        assert_eq!(v("x.whl", "x"), None);
    }
}
