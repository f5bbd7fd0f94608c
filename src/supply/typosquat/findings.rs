//! Typosquat and takedown findings of one deployment. Every registry
//! package of every source is checked once per name: a version that is a
//! registry's takedown placeholder is a `malicious` finding; a name that
//! imitates a popular one is a `typosquat` finding unless a popular
//! package brought it in ([`provenance`]: a name chosen by that package's
//! maintainers, not typed by this project's) or `[typosquat] allow` lists
//! it. What the
//! public registry says about a flagged name (asked with `--online`, or
//! cached from an earlier online scan) raises or lowers its confidence.

use std::collections::BTreeSet;

use super::{CheckCache, Suspect, judge};
use crate::ecosystem::Ecosystem;
use crate::graph::{DepGraph, Package, PackageId};
use crate::policy::Policy;
use crate::report::model::{Finding, FindingKind};
use crate::scan::ParsedDeployment;
use crate::severity::Grade;
use crate::supply::registry_lookup::{Answer, Lookup};
use crate::supply::registry_meta::Metadata;
use crate::supply::{SupplyOptions, popular, provenance, takedown};

/// A name first published this recently is young.
const YOUNG_DAYS: i64 = 90;
/// A name first published this long ago, with [`MANY_VERSIONS`], has a
/// history of its own.
const OLD_DAYS: i64 = 730;
/// Versions that make a history (with [`OLD_DAYS`]).
const MANY_VERSIONS: u32 = 10;
/// Versions so few that the name was published for one purpose.
const FEW_VERSIONS: u32 = 2;

/// Typosquat and takedown findings of one deployment.
pub fn findings(
    deployment: &ParsedDeployment,
    policy: &Policy,
    options: &SupplyOptions,
    cache: &CheckCache,
) -> Vec<Finding> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut flagged: Vec<(Finding, Suspect, Ecosystem)> = Vec::new();
    // Names taken down are reported as such, whichever source shows it.
    let mut taken_down = BTreeSet::new();
    for s in &deployment.sources {
        let Ok(parsed) = &s.result else { continue };
        for (id, p) in parsed.graph.iter() {
            if p.root || !p.source.is_registry_like() {
                continue;
            }
            if let Some(mut f) = takedown::offline(p)
                && seen.insert((p.ecosystem, p.normalized_name(), p.version.clone()))
            {
                let source = crate::discover::relative_display(
                    &deployment.deployment.scan_root,
                    &s.source.path,
                );
                locate(&mut f, &parsed.graph, id, p, source);
                out.push(f);
                taken_down.insert((p.ecosystem, p.normalized_name()));
            }
        }
    }
    for s in &deployment.sources {
        let Ok(parsed) = &s.result else { continue };
        let graph = &parsed.graph;
        let mut vouched: Option<Vec<bool>> = None;
        for (id, p) in graph.iter() {
            if p.root || !p.source.is_registry_like() {
                continue;
            }
            let name = (p.ecosystem, p.normalized_name());
            if taken_down.contains(&name)
                || !seen.insert((name.0, name.1, None))
                || allowed(policy, p.ecosystem, &p.name)
            {
                continue;
            }
            let Some(suspect) = cache.check(p.ecosystem, &p.name) else {
                continue;
            };
            let vouched = vouched.get_or_insert_with(|| {
                provenance::brought_in_by_known(graph, |q| {
                    popular::is_known(q.ecosystem, &q.normalized_name())
                })
            });
            if vouched.get(id.index()).copied().unwrap_or(false) {
                continue;
            }
            let mut f = Finding::new(
                FindingKind::Typosquat,
                p.ecosystem,
                &p.name,
                p.version.clone(),
            );
            let source =
                crate::discover::relative_display(&deployment.deployment.scan_root, &s.source.path);
            locate(&mut f, graph, id, p, source);
            f.imitates = Some(suspect.imitates.clone());
            f.confidence = Some(suspect.confidence);
            f.reason = Some(reason(&p.name, &suspect));
            flagged.push((f, suspect, p.ecosystem));
        }
    }
    if !flagged.is_empty() {
        out.extend(weigh_all(flagged, policy, options));
    }
    out
}

/// Dependency paths, flags, source and line of a package's finding.
fn locate(f: &mut Finding, graph: &DepGraph, id: PackageId, p: &Package, source: String) {
    f.paths = vec![graph.path_names(id)];
    f.dev = p.dev;
    f.direct = p.direct;
    f.sources = vec![source];
    f.line = p.line;
}

/// The reason of a typosquat finding.
fn reason(name: &str, s: &Suspect) -> String {
    let mut r = format!(
        "{name} looks like the popular package {} ({}",
        s.imitates, s.rule
    );
    if let Some(own) = s.downloads {
        r.push_str(&format!(
            "; {} downloads a month against {}",
            thousands(own),
            s.target_downloads.map_or("?".into(), thousands)
        ));
    }
    r.push(')');
    r
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The flagged names with the registry's evidence applied, where there is
/// an answer (online, or cached).
fn weigh_all(
    flagged: Vec<(Finding, Suspect, Ecosystem)>,
    policy: &Policy,
    options: &SupplyOptions,
) -> Vec<Finding> {
    let mut lookup = Lookup::for_policy(policy, options);
    let names: Vec<(Ecosystem, String)> = flagged
        .iter()
        .map(|(f, _, eco)| (*eco, f.package.clone()))
        .collect();
    let answers = lookup.answers(&names, true);
    let today = crate::clock::today().days_since_epoch();
    flagged
        .into_iter()
        .filter_map(|(mut f, s, eco)| {
            let Answer::Known(meta, date) = lookup.answer_of(&answers, eco, &f.package) else {
                return Some(f);
            };
            if let Some(how) = &meta.taken_down {
                takedown::mark(&mut f, how);
                return Some(f);
            }
            let (confidence, words) = weigh(&s, &meta, today);
            let base = lookup.public_base(eco);
            let reason = f.reason.get_or_insert_with(String::new);
            reason.push_str(&format!("; registry {base} (checked {date}): {words}"));
            match confidence {
                Some(c) => {
                    f.confidence = Some(c);
                    Some(f)
                }
                None => None,
            }
        })
        .collect()
}

/// The confidence of a flagged name after the registry's answer (`None`:
/// the evidence clears it), and the evidence in words.
pub fn weigh(s: &Suspect, meta: &Metadata, today: i64) -> (Option<Grade>, String) {
    if !meta.exists {
        return (
            Some(s.confidence.raised()),
            format!(
                "no package of this name: removed, or never published there; raised to {}",
                s.confidence.raised().as_str()
            ),
        );
    }
    let mut facts = Vec::new();
    let age = meta
        .first_published
        .as_deref()
        .and_then(crate::clock::days_of)
        .map(|d| today - d);
    if let Some(d) = &meta.first_published {
        facts.push(format!("first published {d}"));
    }
    if let Some(n) = meta.versions {
        facts.push(format!("{n} version{}", if n == 1 { "" } else { "s" }));
    }
    if let Some(n) = meta.downloads {
        facts.push(format!("{} downloads last month", thousands(n)));
    }
    let base = match meta.downloads {
        Some(n) => judge(s.rule, s.score, Some(n), s.target_downloads),
        None => Some(s.confidence),
    };
    let raise =
        age.is_some_and(|a| a < YOUNG_DAYS) || meta.versions.is_some_and(|n| n <= FEW_VERSIONS);
    let lower =
        age.is_some_and(|a| a >= OLD_DAYS) && meta.versions.is_some_and(|n| n >= MANY_VERSIONS);
    let confidence = match (base, raise, lower) {
        (Some(c), true, false) => Some(c.raised()),
        (Some(c), false, true) => c.lowered(),
        (c, _, _) => c,
    };
    let verdict = match confidence {
        None => "an established package, not reported".to_string(),
        Some(c) if c > s.confidence => format!("raised to {}", c.as_str()),
        Some(c) if c < s.confidence => format!("lowered to {}", c.as_str()),
        Some(_) => "confidence unchanged".to_string(),
    };
    if facts.is_empty() {
        facts.push("no dates or figures".into());
    }
    (confidence, format!("{}; {verdict}", facts.join(", ")))
}

/// True when `[typosquat] allow` lists the name (compared normalised).
fn allowed(policy: &Policy, eco: Ecosystem, name: &str) -> bool {
    let n = eco.normalize_name(name);
    policy
        .typosquat
        .allow
        .iter()
        .any(|a| eco.normalize_name(a) == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suspect(confidence: Grade, downloads: Option<u64>) -> Suspect {
        Suspect {
            imitates: "lodash".into(),
            rule: "transposition",
            score: 3,
            confidence,
            downloads,
            target_downloads: Some(452_434_618),
        }
    }

    fn meta(first: &str, versions: u32, downloads: Option<u64>) -> Metadata {
        Metadata {
            exists: true,
            first_published: Some(first.into()),
            versions: Some(versions),
            downloads,
            taken_down: None,
        }
    }

    #[test]
    fn evidence_raises_and_lowers() {
        let today = crate::clock::days_of("2026-12-01").unwrap();
        let (c, words) = weigh(
            &suspect(Grade::Medium, None),
            &meta("2026-11-20", 1, Some(12)),
            today,
        );
        assert_eq!(c, Some(Grade::High));
        assert!(
            words.contains(
                "first published 2026-11-20, 1 version, 12 downloads last month; raised to high"
            ),
            "{words}"
        );
        let (c, words) = weigh(
            &suspect(Grade::High, None),
            &meta("2015-01-01", 40, None),
            today,
        );
        assert_eq!(c, Some(Grade::Medium));
        assert!(words.ends_with("lowered to medium"), "{words}");
        // Downloads that make it established: at most low, here cleared.
        let (c, words) = weigh(
            &suspect(Grade::High, None),
            &meta("2020-01-01", 5, Some(2_000_000)),
            today,
        );
        assert_eq!(c, None, "{words}");
        let gone = Metadata::default();
        let (c, words) = weigh(&suspect(Grade::Low, None), &gone, today);
        assert_eq!(c, Some(Grade::Medium));
        assert!(words.contains("no package of this name"), "{words}");
    }

    #[test]
    fn figures_read_with_separators() {
        assert_eq!(thousands(452_434_618), "452,434,618");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }
}
