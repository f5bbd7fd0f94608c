//! Typosquat detection measured on real data: recall over the documented
//! typosquats in the file named by TYPOSQUAT_EVAL (rows whose target is in
//! the corpus; skipped when unset), false alarms on
//! healthy real lockfiles, and look-alike pairs of popular packages.

use crate::common;

use depwarden::ecosystem::Ecosystem;
use depwarden::severity::Grade;
use depwarden::supply::popular::corpus;
use depwarden::supply::typosquat::{Figures, check, check_using};

/// The top of each corpus, for the look-alike pairs.
const TOP: u32 = 5_000;
use std::collections::BTreeMap;
use std::path::Path;

fn eco_of(s: &str) -> Ecosystem {
    match s {
        "npm" => Ecosystem::Npm,
        "PyPI" => Ecosystem::PyPI,
        _ => Ecosystem::CratesIo,
    }
}

/// How one row of the evaluation set fares: flagged, and flagged high
/// with the right target.
fn grade(eco: Ecosystem, bad: &str, target: &str, figures: Figures) -> (bool, bool, String) {
    match check_using(eco, bad, figures) {
        Some(s) => {
            let right = s.confidence == Grade::High && s.imitates == target;
            let what = format!("{} ({}, {:?})", s.imitates, s.rule, s.confidence);
            (true, right, what)
        }
        None => (false, false, "nothing".into()),
    }
}

#[test]
fn recall_on_documented_typosquats() {
    // TYPOSQUAT_EVAL names the evaluation set (.ci/run sets it).
    let Some(path) = crate::common::external_data(
        "TYPOSQUAT_EVAL",
        "",
        "typosquat recall on the documented typosquats",
    ) else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let mut per_eco: BTreeMap<String, (usize, usize, usize, usize)> = BTreeMap::new();
    let mut per_target: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    let mut changed = Vec::new();
    let (mut names_only_flagged, mut names_only_high) = (0, 0);
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [eco_s, bad, target, ..] = cols.as_slice() else {
            continue;
        };
        let eco = eco_of(eco_s);
        let target_n = eco.normalize_name(target);
        let e = per_eco.entry(eco_s.to_string()).or_default();
        e.0 += 1;
        if corpus(eco).rank(&target_n).is_none() {
            continue;
        }
        e.1 += 1;
        let t = per_target.entry(format!("{eco_s}/{target_n}")).or_default();
        t.0 += 1;
        let (flagged, high, what) = grade(eco, bad, &target_n, Figures::Established);
        let (flagged_n, high_n, what_n) = grade(eco, bad, &target_n, Figures::NamesOnly);
        names_only_flagged += usize::from(flagged_n);
        names_only_high += usize::from(high_n);
        if (flagged, high) != (flagged_n, high_n) {
            changed.push(format!(
                "{eco_s} {bad}: {what_n} without figures, {what} with them"
            ));
        }
        e.2 += usize::from(flagged);
        t.1 += usize::from(flagged);
        e.3 += usize::from(high);
        if !high {
            missed.push(format!("{eco_s} {bad} -> {what}; want {target_n}"));
        }
    }
    let (mut rows, mut flagged, mut high) = (0, 0, 0);
    for (eco, (all, in_corpus, f, h)) in &per_eco {
        println!(
            "{eco}: {all} rows, {in_corpus} with the target in the corpus: {f} flagged ({:.1}%), {h} high with the right target ({:.1}%)",
            100.0 * *f as f64 / (*in_corpus).max(1) as f64,
            100.0 * *h as f64 / (*in_corpus).max(1) as f64
        );
        rows += in_corpus;
        flagged += f;
        high += h;
    }
    for (target, (n, f)) in &per_target {
        println!("  {target}: {f}/{n}");
    }
    for m in &missed {
        println!("  not high/right: {m}");
    }
    let pct = |n: usize| 100.0 * n as f64 / rows as f64;
    println!(
        "without the npm download figures: {rows} rows, recall {:.1}%, high-confidence with the right target {:.1}%",
        pct(names_only_flagged),
        pct(names_only_high)
    );
    for c in &changed {
        println!("  changed by the figures: {c}");
    }
    let recall = flagged as f64 / rows as f64;
    let high_recall = high as f64 / rows as f64;
    println!(
        "total: {rows} rows, recall {:.1}%, high-confidence with the right target {:.1}%",
        recall * 100.0,
        high_recall * 100.0
    );
    assert!(rows > 200);
    assert!(recall >= 0.90, "recall {recall}");
    assert!(high_recall >= 0.75, "high-confidence recall {high_recall}");
}

/// Every (ecosystem, name) of a real lockfile or installed tree.
fn inventory_names(dir: &Path) -> Vec<(Ecosystem, String)> {
    let db = tempfile::tempdir().unwrap();
    let out = common::depwarden(&db.path().join("db"))
        .args(["inventory", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["root"] != true)
        .map(|p| {
            (
                eco_of(p["ecosystem"].as_str().unwrap()),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn healthy_real_lockfiles_raise_no_high_confidence_alarm() {
    let mut names = Vec::new();
    for dir in [
        "npm/large-app",
        "cargo/audit/gix",
        "cargo/audit/reqwest",
        "pypi-installed/pip-target/site",
        "pypi-lock/same-app/uv",
        "npm/same-set/npm",
    ] {
        names.extend(inventory_names(&common::testdata(dir)));
    }
    names.sort();
    names.dedup();
    assert!(names.len() > 2000, "{} names", names.len());
    let mut low = Vec::new();
    let mut high = Vec::new();
    for (eco, name) in &names {
        if let Some(s) = check(*eco, name) {
            if s.confidence == Grade::High {
                high.push(format!("{name} ~ {} ({})", s.imitates, s.rule));
            }
            low.push(format!(
                "{name} ~ {} ({}, {:?})",
                s.imitates, s.rule, s.confidence
            ));
        }
    }
    assert_eq!(
        high,
        Vec::<String>::new(),
        "high-confidence alarms on healthy trees"
    );
    println!(
        "{} packages, {} lower-confidence findings:",
        names.len(),
        low.len()
    );
    for l in &low {
        println!("  {l}");
    }
    assert!(
        (low.len() as f64) < names.len() as f64 * 0.001,
        "{} findings over {} packages",
        low.len(),
        names.len()
    );
}

#[test]
fn look_alike_popular_pairs_are_not_flagged_high() {
    for eco in [Ecosystem::Npm, Ecosystem::PyPI, Ecosystem::CratesIo] {
        let c = corpus(eco);
        let top: Vec<&str> = c.names().take(TOP as usize).collect();
        let mut pairs = 0;
        for name in &top {
            // Generate look-alike pairs through the same index the
            // detector uses, then check both directions.
            for other in c.neighbours(name) {
                let Some(other_name) = c.name(other) else {
                    continue;
                };
                if other as usize >= top.len() || other_name == *name {
                    continue;
                }
                pairs += 1;
                for n in [*name, other_name] {
                    if let Some(s) = check(eco, n) {
                        assert_ne!(s.confidence, Grade::High, "{n} ({:?})", eco);
                    }
                }
            }
        }
        println!("{eco:?}: {pairs} look-alike pairs in the top {TOP}");
        assert!(pairs > 0 || eco == Ecosystem::CratesIo);
    }
}

/// The established npm packages (10,000 downloads a month or more) are
/// legitimate in their own right: none is flagged high, and the few that
/// are flagged at all are typing errors of a name at least 10,000 times
/// more downloaded.
#[test]
fn established_packages_are_never_flagged_high() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/supply/data/npm-established.tsv");
    let text = std::fs::read_to_string(path).unwrap();
    let (mut checked, mut low) = (0, Vec::new());
    for line in text.lines() {
        let (name, figure) = line.split_once('\t').unwrap();
        checked += 1;
        if let Some(s) = check(Ecosystem::Npm, name) {
            assert_eq!(s.confidence, Grade::Low, "{name} ~ {}", s.imitates);
            let own: u64 = figure.parse().unwrap();
            assert!(
                s.target_downloads.unwrap() / own >= 10_000,
                "{name} ~ {}",
                s.imitates
            );
            low.push(format!("{name} ~ {} ({})", s.imitates, s.rule));
        }
    }
    println!(
        "{checked} established npm packages, {} flagged low:",
        low.len()
    );
    for l in &low {
        println!("  {l}");
    }
    assert!(checked > 80_000);
    assert!(low.len() * 1000 < checked, "{} of {checked}", low.len());
}
