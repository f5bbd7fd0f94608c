//! Severity of an advisory for one package: the CVSS base score computed
//! from a CVSS v3.x or v4.0 vector (the RustSec `cvss` crate), package-level
//! severities before record-level ones, and `database_specific.severity`
//! (GHSA's LOW / MODERATE / HIGH / CRITICAL) when no vector is usable. A
//! vector the crate rejects never fails anything: it is skipped.

use std::str::FromStr;

use super::model::{OsvRecord, OsvSeverity};
use crate::ecosystem::Ecosystem;
use crate::severity::Severity;

/// The base score of one severity entry, if it is a CVSS v3.x or v4.0
/// vector the `cvss` crate accepts.
pub fn cvss_score(entry: &OsvSeverity) -> Option<f64> {
    let vector = entry.score.trim();
    let score = if vector.starts_with("CVSS:4.0/") {
        cvss::v4::Vector::from_str(vector).ok()?.score().value()
    } else if vector.starts_with("CVSS:3.") {
        cvss::v3::Vector::from_str(vector)
            .ok()?
            .base_score()
            .value()
    } else {
        return None;
    };
    score.is_finite().then_some(score)
}

/// The severity and CVSS base score of a record for one package. The
/// highest score among the usable vectors of the package's own `affected`
/// entries wins, else of the record's; without any, the database severity.
pub fn assess(record: &OsvRecord, ecosystem: Ecosystem, name: &str) -> (Severity, Option<f64>) {
    let key = ecosystem.normalize_name(name);
    let package_level: Vec<&OsvSeverity> = record
        .affected
        .iter()
        .filter(|a| {
            a.package.as_ref().is_some_and(|p| {
                Ecosystem::from_osv(&p.ecosystem) == Some(ecosystem)
                    && ecosystem.normalize_name(&p.name) == key
            })
        })
        .flat_map(|a| a.severity.iter())
        .collect();
    let best = |list: &[&OsvSeverity]| {
        list.iter()
            .filter_map(|s| cvss_score(s))
            .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))))
    };
    let score = best(&package_level).or_else(|| best(&record.severity.iter().collect::<Vec<_>>()));
    if let Some(s) = score {
        return (Severity::from_score(s), Some(s));
    }
    let word = record
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str())
        .and_then(Severity::from_word);
    (word.unwrap_or(Severity::Unknown), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> OsvRecord {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn cvss_v3_and_v4_vectors_are_scored() {
        let r = record(
            r#"{"id":"X","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#,
        );
        assert_eq!(
            assess(&r, Ecosystem::Npm, "a"),
            (Severity::Critical, Some(9.8))
        );
        let r = record(
            r#"{"id":"X","severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]}"#,
        );
        let (sev, score) = assess(&r, Ecosystem::Npm, "a");
        assert_eq!(sev, Severity::Critical);
        assert!(score.is_some_and(|s| s >= 9.0));
    }

    #[test]
    fn bad_vector_falls_back_to_database_severity() {
        let r = record(
            r#"{"id":"X","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:Q/garbage"}],"database_specific":{"severity":"MODERATE"}}"#,
        );
        assert_eq!(assess(&r, Ecosystem::Npm, "a"), (Severity::Medium, None));
        let r = record(r#"{"id":"X"}"#);
        assert_eq!(assess(&r, Ecosystem::Npm, "a"), (Severity::Unknown, None));
    }

    #[test]
    fn package_level_severity_wins() {
        let r = record(
            r#"{"id":"X","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"Foo_Bar"},"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"}]}]}"#,
        );
        let (sev, _) = assess(&r, Ecosystem::PyPI, "foo-bar");
        assert_eq!(sev, Severity::Low);
        let (sev, _) = assess(&r, Ecosystem::PyPI, "other");
        assert_eq!(sev, Severity::Critical);
    }
}
