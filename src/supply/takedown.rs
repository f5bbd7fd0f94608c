//! Packages the registry took down. When npm removes a malicious package
//! it publishes a security placeholder in its place (version
//! `0.0.1-security`, description "security holding package", repository
//! `npm/security-holder`), so a lockfile or an installed tree that holds
//! that version names a package npm removed. PyPI and crates.io publish no
//! placeholder: PyPI quarantines a project (its simple index then carries
//! the PEP 792 status `quarantined`) or deletes it, crates.io deletes it;
//! with `scan --online` the registry's answer says so
//! ([`super::registry_meta`]).

use crate::ecosystem::Ecosystem;
use crate::graph::Package;
use crate::report::model::{Finding, FindingKind};

/// True for npm's security placeholder versions: a version whose
/// pre-release starts with `security` (`0.0.1-security`,
/// `0.0.2-security`, `0.0.1-security.0`).
pub fn is_placeholder(eco: Ecosystem, version: &str) -> bool {
    eco == Ecosystem::Npm
        && semver::Version::parse(version.trim()).is_ok_and(|v| {
            v.pre
                .as_str()
                .split('.')
                .next()
                .is_some_and(|p| p == "security")
        })
}

/// Turns `f` into the finding for a package the registry removed; `how`
/// says what the registry did.
pub fn mark(f: &mut Finding, how: &str) {
    f.kind = FindingKind::Malicious;
    f.imitates = None;
    f.confidence = None;
    f.summary = Some(format!("{} was taken down by the registry", f.package));
    f.reason = Some(format!(
        "the registry removed {} ({how}); registries take packages down for malware: remove the dependency and check the machines that installed it",
        f.package
    ));
}

/// The takedown of a package as its version shows it (npm's placeholder),
/// without its location.
pub fn offline(p: &Package) -> Option<Finding> {
    let v = p.version.as_deref()?;
    is_placeholder(p.ecosystem, v).then(|| {
        let mut f = Finding::new(
            FindingKind::Malicious,
            p.ecosystem,
            &p.name,
            p.version.clone(),
        );
        mark(
            &mut f,
            &format!("npm replaced it with the security placeholder {v}"),
        );
        f
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for v in ["0.0.1-security", "0.0.2-security", "0.0.1-security.0"] {
            assert!(is_placeholder(Ecosystem::Npm, v), "{v}");
        }
        for v in ["0.0.1", "1.0.0-securityfix", "1.0.0-beta.security", "x"] {
            assert!(!is_placeholder(Ecosystem::Npm, v), "{v}");
        }
        assert!(!is_placeholder(Ecosystem::PyPI, "0.0.1-security"));
        let p = Package::new(Ecosystem::Npm, "http", Some("0.0.1-security".into()));
        let f = offline(&p).unwrap();
        assert_eq!(f.kind, FindingKind::Malicious);
        assert!(f.reason.unwrap().contains("the registry removed http"));
        let p = Package::new(Ecosystem::Npm, "http", Some("1.0.0".into()));
        assert!(offline(&p).is_none());
    }
}
