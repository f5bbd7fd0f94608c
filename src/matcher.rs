//! Decides whether an advisory affects a package version: OSV `affected`
//! entries with SEMVER and ECOSYSTEM ranges (events `introduced`, `fixed`,
//! `last_affected`, `limit`, in any order) and explicit `versions` lists.
//! The matcher knows nothing about file formats.

use std::cmp::Ordering;

use crate::advisory::model::{CompiledAffected, CompiledRange, Event, IndexEntry, RangeKind};
use crate::ecosystem::Ecosystem;
use crate::version::{SemVer, Version};

/// The matcher's answer for one (version, index entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The version is affected.
    Affected,
    /// The version is not affected.
    NotAffected,
    /// The version does not parse in the ecosystem's scheme; only the
    /// explicit `versions` lists were consulted, with this result.
    Unparsable {
        /// True when an explicit `versions` list names the version.
        listed: bool,
    },
}

/// A version parsed for one range kind.
fn parse_for(kind: RangeKind, ecosystem: Ecosystem, s: &str) -> Option<Version> {
    match kind {
        RangeKind::Semver => SemVer::parse(s).map(Version::Semver),
        RangeKind::Ecosystem => Version::parse_lenient(ecosystem, s),
    }
}

fn listed(ecosystem: Ecosystem, version: &str, affected: &CompiledAffected) -> bool {
    if affected.versions.iter().any(|v| v == version) {
        return true;
    }
    // PEP 440 equality (`1.0` == `1.0.0`) for PyPI lists.
    if ecosystem == Ecosystem::PyPI
        && let Some(parsed) = Version::parse(ecosystem, version)
    {
        return affected
            .versions
            .iter()
            .any(|v| Version::parse(ecosystem, v).is_some_and(|lv| lv == parsed));
    }
    false
}

/// Evaluates one index entry against one version.
pub fn evaluate(ecosystem: Ecosystem, version: &str, entry: &IndexEntry) -> Verdict {
    let parsed_eco = Version::parse(ecosystem, version);
    let mut any_listed = false;
    for affected in &entry.affected {
        if listed(ecosystem, version, affected) {
            any_listed = true;
            if parsed_eco.is_some() {
                return Verdict::Affected;
            }
        }
        if parsed_eco.is_none() {
            continue;
        }
        for range in &affected.ranges {
            if range_contains(ecosystem, range, version) == Some(true) {
                return Verdict::Affected;
            }
        }
    }
    if parsed_eco.is_none() {
        return Verdict::Unparsable { listed: any_listed };
    }
    Verdict::NotAffected
}

/// Sorts a range's events: by version (`introduced: "0"` lowest), and at
/// equal versions `introduced` before the events that close a range, so
/// that `fixed == introduced` describes an empty range. Events whose
/// version does not parse are dropped.
fn sorted_events(ecosystem: Ecosystem, range: &CompiledRange) -> Vec<(Option<Version>, &Event)> {
    let mut events: Vec<(Option<Version>, &Event)> = Vec::new();
    for e in &range.events {
        let v = match e {
            Event::Introduced(v) if v == "0" => None,
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => {
                match parse_for(range.kind, ecosystem, v) {
                    Some(p) => Some(p),
                    None => continue,
                }
            }
        };
        events.push((v, e));
    }
    events.sort_by(|(va, ea), (vb, eb)| {
        let by_version = match (va, vb) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(b),
        };
        let rank = |e: &Event| {
            if matches!(e, Event::Introduced(_)) {
                0
            } else {
                1
            }
        };
        by_version.then(rank(ea).cmp(&rank(eb)))
    });
    events
}

/// True when the range contains `version`; `None` when the version does not
/// parse for the range's kind.
///
/// Events written as consecutive pairs (`introduced`, then the event that
/// closes it, each closing at or above its opening) describe a union of
/// intervals, which is how advisory authors write several affected spans in
/// one range, including spans that touch or overlap (`[0, 3.1.1)` then
/// `[3.1.1, 3.1.3)`). Any other event order is evaluated by the OSV
/// algorithm over the events sorted by version.
pub fn range_contains(ecosystem: Ecosystem, range: &CompiledRange, version: &str) -> Option<bool> {
    let v = parse_for(range.kind, ecosystem, version)?;
    if let Some(intervals) = paired_intervals(ecosystem, range) {
        return Some(intervals.iter().any(|iv| iv.contains(&v)));
    }
    let mut affected = false;
    for (ev, event) in sorted_events(ecosystem, range) {
        match event {
            Event::Introduced(_) => {
                if ev.as_ref().is_none_or(|e| v >= *e) {
                    affected = true;
                }
            }
            Event::Fixed(_) | Event::Limit(_) => {
                if ev.as_ref().is_some_and(|e| v >= *e) {
                    affected = false;
                }
            }
            Event::LastAffected(_) => {
                if ev.as_ref().is_some_and(|e| v > *e) {
                    affected = false;
                }
            }
        }
    }
    Some(affected)
}

/// One affected span: from `start` (`None` = everything) up to `end`.
struct Interval {
    start: Option<Version>,
    end: Option<(Version, bool)>, // (bound, inclusive)
}

impl Interval {
    fn contains(&self, v: &Version) -> bool {
        if self.start.as_ref().is_some_and(|s| v < s) {
            return false;
        }
        match &self.end {
            None => true,
            Some((e, true)) => v <= e,
            Some((e, false)) => v < e,
        }
    }
}

/// The intervals of a range written as consecutive (introduced, closing)
/// pairs, with an optional final open `introduced`; `None` when the events
/// are not in that form.
fn paired_intervals(ecosystem: Ecosystem, range: &CompiledRange) -> Option<Vec<Interval>> {
    let mut out = Vec::new();
    let mut events = range.events.iter().peekable();
    while let Some(e) = events.next() {
        let Event::Introduced(start) = e else {
            return None;
        };
        let start = if start == "0" {
            None
        } else {
            Some(parse_for(range.kind, ecosystem, start)?)
        };
        let end = match events.peek() {
            None | Some(Event::Introduced(_)) => None,
            Some(Event::Fixed(f)) | Some(Event::Limit(f)) => {
                Some((parse_for(range.kind, ecosystem, f)?, false))
            }
            Some(Event::LastAffected(f)) => Some((parse_for(range.kind, ecosystem, f)?, true)),
        };
        if end.is_some() {
            events.next();
        }
        if let (Some(s), Some((e, _))) = (&start, &end)
            && e < s
        {
            return None;
        }
        out.push(Interval { start, end });
    }
    Some(out)
}

/// The `fixed` versions of the entry's ranges that contain `version` (the
/// first fix above it in each such range), sorted by the ecosystem's
/// ordering. For a version matched only by a `versions` list, every `fixed`
/// event above the version.
pub fn fixed_versions(ecosystem: Ecosystem, version: &str, entry: &IndexEntry) -> Vec<String> {
    let Some(current) = Version::parse_lenient(ecosystem, version) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let mut in_any_range = false;
    for affected in &entry.affected {
        for range in &affected.ranges {
            if range_contains(ecosystem, range, version) != Some(true) {
                continue;
            }
            in_any_range = true;
            if let Some(fix) = first_fix_above(ecosystem, range, &current) {
                out.push(fix);
            }
        }
    }
    if !in_any_range {
        for affected in &entry.affected {
            for range in &affected.ranges {
                for e in &range.events {
                    if let Event::Fixed(f) = e
                        && parse_for(range.kind, ecosystem, f).is_some_and(|fv| fv > current)
                    {
                        out.push(f.clone());
                    }
                }
            }
        }
    }
    crate::version::sort_versions(ecosystem, &mut out);
    out
}

fn first_fix_above(
    ecosystem: Ecosystem,
    range: &CompiledRange,
    current: &Version,
) -> Option<String> {
    range
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Fixed(f) => parse_for(range.kind, ecosystem, f)
                .filter(|fv| fv > current)
                .map(|fv| (fv, f)),
            _ => None,
        })
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, f)| f.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::model::AdvisoryKind;

    fn range(kind: RangeKind, events: &[Event]) -> CompiledRange {
        CompiledRange {
            kind,
            events: events.to_vec(),
        }
    }
    fn entry(affected: Vec<CompiledAffected>) -> IndexEntry {
        IndexEntry {
            id: "TEST-1".into(),
            aliases: vec![],
            kind: AdvisoryKind::Vulnerability,
            affected,
        }
    }
    fn one(kind: RangeKind, events: &[Event]) -> IndexEntry {
        entry(vec![CompiledAffected {
            ranges: vec![range(kind, events)],
            versions: vec![],
        }])
    }
    fn i(v: &str) -> Event {
        Event::Introduced(v.into())
    }
    fn f(v: &str) -> Event {
        Event::Fixed(v.into())
    }
    fn la(v: &str) -> Event {
        Event::LastAffected(v.into())
    }
    fn lim(v: &str) -> Event {
        Event::Limit(v.into())
    }
    fn hit(e: Ecosystem, v: &str, en: &IndexEntry) -> bool {
        evaluate(e, v, en) == Verdict::Affected
    }

    #[test]
    fn introduced_zero_covers_everything_below_fix() {
        let en = one(RangeKind::Semver, &[i("0"), f("1.2.3")]);
        assert!(hit(Ecosystem::Npm, "0.0.1", &en));
        assert!(hit(Ecosystem::Npm, "1.2.2", &en));
        assert!(
            hit(Ecosystem::Npm, "1.2.3-rc.1", &en),
            "a prerelease of the fix is still affected"
        );
        assert!(!hit(Ecosystem::Npm, "1.2.3", &en));
        assert!(!hit(Ecosystem::Npm, "2.0.0", &en));
    }

    #[test]
    fn prereleases_npm_and_crates() {
        let en = one(RangeKind::Semver, &[i("1.0.0-alpha.2"), f("1.0.0")]);
        for e in [Ecosystem::Npm, Ecosystem::CratesIo] {
            assert!(!hit(e, "1.0.0-alpha.1", &en));
            assert!(hit(e, "1.0.0-alpha.2", &en));
            assert!(hit(e, "1.0.0-beta", &en));
            assert!(!hit(e, "1.0.0", &en));
        }
    }

    #[test]
    fn fixed_equal_to_introduced_is_empty() {
        let en = one(RangeKind::Ecosystem, &[i("1.0.0"), f("1.0.0")]);
        assert!(!hit(Ecosystem::CratesIo, "1.0.0", &en));
        assert!(!hit(Ecosystem::CratesIo, "0.9.0", &en));
        assert!(!hit(Ecosystem::CratesIo, "1.0.1", &en));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let en = one(RangeKind::Ecosystem, &[i("1.0"), la("1.4")]);
        assert!(hit(Ecosystem::PyPI, "1.4", &en));
        assert!(hit(Ecosystem::PyPI, "1.4.0", &en));
        assert!(!hit(Ecosystem::PyPI, "1.4.post1", &en));
        assert!(!hit(Ecosystem::PyPI, "0.9", &en));
    }

    #[test]
    fn limit_is_exclusive() {
        let en = one(RangeKind::Semver, &[i("1.0.0"), lim("2.0.0")]);
        assert!(hit(Ecosystem::Npm, "1.9.9", &en));
        assert!(!hit(Ecosystem::Npm, "2.0.0", &en));
    }

    #[test]
    fn unsorted_events_and_several_intervals() {
        let en = one(
            RangeKind::Semver,
            &[f("2.0.1"), i("2.0.0"), f("1.1.0"), i("0")],
        );
        assert!(hit(Ecosystem::Npm, "1.0.0", &en));
        assert!(!hit(Ecosystem::Npm, "1.5.0", &en));
        assert!(hit(Ecosystem::Npm, "2.0.0", &en));
        assert!(!hit(Ecosystem::Npm, "2.0.1", &en));
        assert_eq!(fixed_versions(Ecosystem::Npm, "1.0.0", &en), vec!["1.1.0"]);
        assert_eq!(fixed_versions(Ecosystem::Npm, "2.0.0", &en), vec!["2.0.1"]);
    }

    #[test]
    fn pairs_written_in_order_are_a_union_of_intervals() {
        // Touching spans: [0, 3.1.1) and [3.1.1, 3.1.3)
        let en = one(
            RangeKind::Ecosystem,
            &[
                i("0"),
                f("3.1.1"),
                i("3.2.0"),
                f("3.2.2"),
                i("3.1.1"),
                f("3.1.3"),
            ],
        );
        assert!(hit(Ecosystem::PyPI, "3.1.1", &en));
        assert!(hit(Ecosystem::PyPI, "3.1.2", &en));
        assert!(!hit(Ecosystem::PyPI, "3.1.3", &en));
        assert!(hit(Ecosystem::PyPI, "3.2.1", &en));
        // Overlapping spans: [2.11, 2.11.7) and [0, 2.11.6)
        let en = one(
            RangeKind::Ecosystem,
            &[i("2.11"), f("2.11.7"), i("0"), f("2.11.6")],
        );
        assert!(hit(Ecosystem::PyPI, "2.11.6", &en));
        assert!(hit(Ecosystem::PyPI, "1.0", &en));
        assert!(!hit(Ecosystem::PyPI, "2.11.7", &en));
    }

    #[test]
    fn overlapping_ranges_and_several_affected_entries() {
        let a = CompiledAffected {
            ranges: vec![
                range(RangeKind::Ecosystem, &[i("1.0"), f("1.5")]),
                range(RangeKind::Ecosystem, &[i("1.2"), f("1.3")]),
            ],
            versions: vec![],
        };
        let b = CompiledAffected {
            ranges: vec![range(RangeKind::Ecosystem, &[i("3.0"), f("3.1")])],
            versions: vec![],
        };
        let en = entry(vec![a, b]);
        assert!(hit(Ecosystem::PyPI, "1.2.5", &en));
        assert!(hit(Ecosystem::PyPI, "1.4", &en));
        assert!(!hit(Ecosystem::PyPI, "2.0", &en));
        assert!(hit(Ecosystem::PyPI, "3.0.1", &en));
        assert_eq!(
            fixed_versions(Ecosystem::PyPI, "1.2.5", &en),
            vec!["1.3", "1.5"]
        );
    }

    #[test]
    fn versions_only_records() {
        let en = entry(vec![CompiledAffected {
            ranges: vec![],
            versions: vec!["1.0.0".into(), "1.0.2".into()],
        }]);
        assert!(hit(Ecosystem::Npm, "1.0.0", &en));
        assert!(!hit(Ecosystem::Npm, "1.0.1", &en));
        // PEP 440 equality in lists
        let en = entry(vec![CompiledAffected {
            ranges: vec![],
            versions: vec!["2.0".into()],
        }]);
        assert!(hit(Ecosystem::PyPI, "2.0.0", &en));
    }

    #[test]
    fn pep440_epochs_pre_post_dev_local() {
        let en = one(RangeKind::Ecosystem, &[i("0"), f("2.0")]);
        assert!(
            !hit(Ecosystem::PyPI, "1!1.0", &en),
            "epoch 1 sorts after every epoch-0 version"
        );
        assert!(hit(Ecosystem::PyPI, "2.0rc1", &en));
        assert!(hit(Ecosystem::PyPI, "2.0.dev3", &en));
        assert!(hit(Ecosystem::PyPI, "1.9.post2", &en));
        assert!(
            !hit(Ecosystem::PyPI, "2.0+local.1", &en),
            "a local version of the fix is fixed"
        );
        assert!(hit(Ecosystem::PyPI, "1.0+ubuntu1", &en));
        let en = one(RangeKind::Ecosystem, &[i("1!0"), f("1!2.0")]);
        assert!(hit(Ecosystem::PyPI, "1!1.5", &en));
        assert!(!hit(Ecosystem::PyPI, "1.5", &en));
    }

    #[test]
    fn pep440_trailing_zeros_are_equal() {
        let en = one(RangeKind::Ecosystem, &[i("1.0"), f("1.0.1")]);
        assert!(hit(Ecosystem::PyPI, "1.0.0", &en));
        assert!(hit(Ecosystem::PyPI, "1", &en));
        assert!(!hit(Ecosystem::PyPI, "1.0.1.0", &en));
    }

    #[test]
    fn unparsable_version_uses_lists_only() {
        let en = entry(vec![CompiledAffected {
            ranges: vec![range(RangeKind::Semver, &[i("0")])],
            versions: vec!["not-a-version".into()],
        }]);
        assert_eq!(
            evaluate(Ecosystem::Npm, "not-a-version", &en),
            Verdict::Unparsable { listed: true }
        );
        assert_eq!(
            evaluate(Ecosystem::Npm, "also-bad", &en),
            Verdict::Unparsable { listed: false }
        );
    }
}
