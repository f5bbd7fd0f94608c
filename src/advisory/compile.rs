//! Compiles an [`OsvRecord`] into index entries: one per (ecosystem,
//! normalised package name) the record affects, with ranges split into typed
//! events, GIT ranges dropped, and the finding kind decided
//! (vulnerability, malicious, or RustSec informational).

use std::collections::BTreeMap;

use super::model::{
    AdvisoryKind, CompiledAffected, CompiledRange, Event, IndexEntry, OsvRecord, RangeKind,
};
use crate::ecosystem::Ecosystem;
use crate::version::{SemVer, Version};

/// What compiling one record gave.
#[derive(Debug, Default)]
pub struct Compiled {
    /// (ecosystem, normalised name, entry).
    pub entries: Vec<(Ecosystem, String, IndexEntry)>,
    /// Problems met (a malformed range, an unknown event), each naming the
    /// record; the rest of the record is kept.
    pub warnings: Vec<String>,
}

/// True for malicious-package records: `MAL-` ids, or CWE-506 (embedded
/// malicious code) in `database_specific.cwe_ids`.
pub fn is_malicious(record: &OsvRecord) -> bool {
    if record.id.starts_with("MAL-") || record.aliases.iter().any(|a| a.starts_with("MAL-")) {
        return true;
    }
    record
        .database_specific
        .as_ref()
        .and_then(|d| d.get("cwe_ids"))
        .and_then(|c| c.as_array())
        .is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some("CWE-506")))
}

/// The RustSec informational kind of an affected entry
/// (`database_specific.informational`: `unmaintained`, `unsound`,
/// `notice`...), if any.
fn informational(affected: &super::model::OsvAffected) -> Option<String> {
    affected
        .database_specific
        .as_ref()
        .and_then(|d| d.get("informational"))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Compiles a record. Withdrawn records give no entries (they never match).
pub fn compile(record: &OsvRecord) -> Compiled {
    let mut out = Compiled::default();
    if record.withdrawn.is_some() {
        return out;
    }
    let malicious = is_malicious(record);
    // Group the record's affected entries by package.
    let mut per_pkg: BTreeMap<(Ecosystem, String), (AdvisoryKind, Vec<CompiledAffected>)> =
        BTreeMap::new();
    for affected in &record.affected {
        let Some(pkg) = &affected.package else {
            continue;
        };
        let Some(eco) = Ecosystem::from_osv(&pkg.ecosystem) else {
            continue;
        };
        if pkg.name.trim().is_empty() {
            out.warnings.push(format!(
                "{}: affected entry without a package name skipped",
                record.id
            ));
            continue;
        }
        let kind = if malicious {
            AdvisoryKind::Malicious
        } else if let Some(t) = informational(affected) {
            AdvisoryKind::Informational(t)
        } else {
            AdvisoryKind::Vulnerability
        };
        let mut compiled = CompiledAffected {
            ranges: Vec::new(),
            versions: affected.versions.clone(),
        };
        for range in &affected.ranges {
            let kind = match range.kind.as_str() {
                "SEMVER" => RangeKind::Semver,
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "GIT" => continue,
                other => {
                    out.warnings.push(format!(
                        "{}: range of unknown type {other:?} skipped",
                        record.id
                    ));
                    continue;
                }
            };
            let mut events = Vec::with_capacity(range.events.len());
            let mut malformed = None;
            for raw in &range.events {
                match Event::from_osv_json(raw) {
                    Some(e) => {
                        let v = match &e {
                            Event::Introduced(v)
                            | Event::Fixed(v)
                            | Event::LastAffected(v)
                            | Event::Limit(v) => v,
                        };
                        let parses = (matches!(e, Event::Introduced(_)) && v == "0")
                            || match kind {
                                RangeKind::Semver => SemVer::parse(v).is_some(),
                                RangeKind::Ecosystem => Version::parse_lenient(eco, v).is_some(),
                            };
                        if !parses {
                            malformed = Some(format!("version {v:?} does not parse"));
                        }
                        events.push(e);
                    }
                    None => malformed = Some(format!("unknown event {raw}")),
                }
            }
            if let Some(why) = malformed {
                out.warnings.push(format!(
                    "{}: malformed {} range for {} skipped ({why})",
                    record.id, range.kind, pkg.name
                ));
                continue;
            }
            if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
                out.warnings.push(format!(
                    "{}: range without an introduced event for {} skipped",
                    record.id, pkg.name
                ));
                continue;
            }
            compiled.ranges.push(CompiledRange { kind, events });
        }
        if compiled.ranges.is_empty() && compiled.versions.is_empty() {
            continue;
        }
        let slot = per_pkg
            .entry((eco, eco.normalize_name(&pkg.name)))
            .or_insert_with(|| (kind.clone(), Vec::new()));
        slot.1.push(compiled);
    }
    for ((eco, name), (kind, affected)) in per_pkg {
        out.entries.push((
            eco,
            name,
            IndexEntry {
                id: record.id.clone(),
                aliases: record.aliases.clone(),
                kind,
                affected,
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(json: &str) -> OsvRecord {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn compiles_ranges_and_drops_git() {
        let r = rec(
            r#"{"id":"GHSA-1","aliases":["CVE-1"],"affected":[{"package":{"ecosystem":"PyPI","name":"Foo.Bar"},
            "ranges":[{"type":"GIT","repo":"x","events":[{"introduced":"abc"}]},{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}],
            "versions":["1.0"]}]}"#,
        );
        let c = compile(&r);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.entries.len(), 1);
        let (eco, name, e) = &c.entries[0];
        assert_eq!((*eco, name.as_str()), (Ecosystem::PyPI, "foo-bar"));
        assert_eq!(e.affected[0].ranges.len(), 1);
        assert_eq!(e.kind, AdvisoryKind::Vulnerability);
        assert_eq!(e.aliases, vec!["CVE-1"]);
    }

    #[test]
    fn malformed_range_is_skipped_with_a_warning_and_unknown_ecosystems_ignored() {
        let r = rec(r#"{"id":"X-1","affected":[
              {"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"not a version"}]}]},
              {"package":{"ecosystem":"npm","name":"b"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"frobbed":"1.0.0"}]}]},
              {"package":{"ecosystem":"Debian:12","name":"c"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]},
              {"package":{"ecosystem":"npm","name":"d"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"}]}]}]}"#);
        let c = compile(&r);
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(c.warnings.iter().all(|w| w.starts_with("X-1")));
        let names: Vec<_> = c.entries.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(names, vec!["d"]);
    }

    #[test]
    fn kinds() {
        let mal = rec(
            r#"{"id":"MAL-2024-1","affected":[{"package":{"ecosystem":"npm","name":"evil"},"versions":["1.0.0"]}]}"#,
        );
        assert_eq!(compile(&mal).entries[0].2.kind, AdvisoryKind::Malicious);
        let cwe = rec(
            r#"{"id":"GHSA-9","database_specific":{"cwe_ids":["CWE-506"]},"affected":[{"package":{"ecosystem":"npm","name":"evil"},"versions":["1.0.0"]}]}"#,
        );
        assert_eq!(compile(&cwe).entries[0].2.kind, AdvisoryKind::Malicious);
        let info = rec(
            r#"{"id":"RUSTSEC-2024-0375","affected":[{"package":{"ecosystem":"crates.io","name":"atty"},"database_specific":{"informational":"unmaintained"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0.0.0-0"}]}]}]}"#,
        );
        assert_eq!(
            compile(&info).entries[0].2.kind,
            AdvisoryKind::Informational("unmaintained".into())
        );
        let withdrawn = rec(
            r#"{"id":"W","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"x"},"versions":["1.0.0"]}]}"#,
        );
        assert!(compile(&withdrawn).entries.is_empty());
    }
}
