//! Fix advice: for each vulnerable package, the smallest version that fixes
//! every vulnerability found in it, how big an upgrade that is, and which
//! direct dependency brings a transitive package in.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::ecosystem::Ecosystem;
use crate::report::model::{Finding, FindingKind, FixAdvice};
use crate::version::compare;

/// Sets `fix` on every vulnerability and malicious finding of one
/// deployment. Each finding's `fixed_versions` are the fixes above the
/// installed version in the ranges that contain it; the advice is the
/// highest of the per-advisory fixes, so that it clears all of them. When
/// one advisory has no fix, no version is advised.
pub fn advise(findings: &mut [Finding]) {
    let mut groups: BTreeMap<(Ecosystem, String, Option<String>), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.kind == FindingKind::Vulnerability
            && let Some(eco) = f.ecosystem.ecosystem()
        {
            groups
                .entry((eco, f.package.clone(), f.version.clone()))
                .or_default()
                .push(i);
        }
    }
    for ((eco, _, version), idx) in groups {
        let mut target: Option<String> = None;
        let mut unfixable = false;
        for &i in &idx {
            let Some(fix) = highest(eco, &findings[i].fixed_versions) else {
                unfixable = true;
                continue;
            };
            target = match target {
                Some(t) if compare(eco, &t, &fix) != Some(Ordering::Less) => Some(t),
                _ => Some(fix),
            };
        }
        let version_advice = if unfixable { None } else { target };
        let upgrade = match (&version, &version_advice) {
            (Some(from), Some(to)) => Some(upgrade_kind(from, to).to_string()),
            _ => None,
        };
        for &i in &idx {
            let f = &findings[i];
            let via = if f.direct {
                None
            } else {
                f.paths
                    .first()
                    .and_then(|p| p.first())
                    .filter(|d| **d != f.package)
                    .cloned()
            };
            findings[i].fix = Some(FixAdvice {
                version: version_advice.clone(),
                upgrade: upgrade.clone(),
                via,
            });
        }
    }
}

fn highest(eco: Ecosystem, versions: &[String]) -> Option<String> {
    versions
        .iter()
        .max_by(|a, b| compare(eco, a, b).unwrap_or_else(|| a.cmp(b)))
        .cloned()
}

/// `major`, `minor` or `patch` from the first numeric release component
/// that changes (`0.x` minor bumps count as major, as SemVer treats them).
pub fn upgrade_kind(from: &str, to: &str) -> &'static str {
    let nums = |v: &str| -> Vec<u64> {
        v.trim_start_matches(['v', '='])
            .split(|c: char| !c.is_ascii_digit())
            .take(3)
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let (a, b) = (nums(from), nums(to));
    let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    if at(&a, 0) != at(&b, 0) || (at(&a, 0) == 0 && at(&a, 1) != at(&b, 1)) {
        "major"
    } else if at(&a, 1) != at(&b, 1) {
        "minor"
    } else {
        "patch"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_kinds() {
        assert_eq!(upgrade_kind("1.2.3", "1.2.4"), "patch");
        assert_eq!(upgrade_kind("1.2.3", "1.3.0"), "minor");
        assert_eq!(upgrade_kind("1.2.3", "2.0.0"), "major");
        assert_eq!(upgrade_kind("0.1.43", "0.2.0"), "major");
        assert_eq!(upgrade_kind("2.11.2", "2.11.3"), "patch");
    }

    fn vuln(id: &str, fixed: &[&str], direct: bool) -> Finding {
        let mut f = Finding::new(
            FindingKind::Vulnerability,
            Ecosystem::PyPI,
            "jinja2",
            Some("2.10".into()),
        );
        f.id = Some(id.into());
        f.fixed_versions = fixed.iter().map(|s| s.to_string()).collect();
        f.direct = direct;
        f.paths = vec![vec!["flask".into(), "jinja2".into()]];
        f
    }

    #[test]
    fn the_advice_clears_every_advisory() {
        let mut fs = vec![
            vuln("A", &["2.10.1"], false),
            vuln("B", &["2.11.3"], false),
            vuln("C", &["3.1.4", "2.11.3"], false),
        ];
        advise(&mut fs);
        for f in &fs {
            let fix = f.fix.as_ref().unwrap();
            assert_eq!(fix.version.as_deref(), Some("3.1.4"));
            assert_eq!(fix.upgrade.as_deref(), Some("major"));
            assert_eq!(fix.via.as_deref(), Some("flask"));
        }
        let mut fs = vec![vuln("A", &["2.10.1"], true), vuln("B", &[], true)];
        advise(&mut fs);
        assert_eq!(fs[0].fix.as_ref().unwrap().version, None);
        assert_eq!(fs[0].fix.as_ref().unwrap().via, None);
    }
}
