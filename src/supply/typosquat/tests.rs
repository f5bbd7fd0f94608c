//! Unit tests of the typosquat detector.

use super::*;

fn hit(eco: Ecosystem, name: &str) -> Option<(String, &'static str, Grade)> {
    check(eco, name).map(|s| (s.imitates, s.rule, s.confidence))
}

#[test]
fn separators_homoglyphs_and_repeats() {
    let (t, rule, _) = hit(Ecosystem::Npm, "crossenvv").unwrap();
    assert_eq!((t.as_str(), rule), ("cross-env", "separator-and-edit"));
    let (t, rule, _) = hit(Ecosystem::Npm, "lodashjs").unwrap();
    assert_eq!((t.as_str(), rule), ("lodash", "suffix-added"));
    let (t, _, _) = hit(Ecosystem::PyPI, "reqeusts").unwrap();
    assert_eq!(t, "requests");
    let (t, rule, _) = hit(Ecosystem::PyPI, "requestss").unwrap();
    assert_eq!((t.as_str(), rule), ("requests", "repeated-character"));
    let (t, _, _) = hit(Ecosystem::Npm, "rnoment").unwrap();
    assert_eq!(t, "moment");
    let (t, _, _) = hit(Ecosystem::CratesIo, "rustdecimal").unwrap();
    assert_eq!(t, "rust-decimal");
}

#[test]
fn edits_affixes_tokens_and_scopes() {
    assert_eq!(hit(Ecosystem::PyPI, "colourama").unwrap().0, "colorama");
    assert_eq!(
        hit(Ecosystem::PyPI, "python-dateutils")
            .map(|h| h.0)
            .as_deref(),
        Some("python-dateutil")
    );
    let (t, rule, _) = hit(Ecosystem::Npm, "lodash-js").unwrap();
    assert_eq!((t.as_str(), rule), ("lodash", "suffix-added"));
    let (t, rule, _) = hit(Ecosystem::Npm, "types-node").unwrap();
    assert_eq!((t.as_str(), rule), ("@types/node", "scope-flattened"));
    let (_, rule, _) =
        hit(Ecosystem::Npm, "parser-yaml").map_or(("".into(), "", Grade::Low), |h| h);
    assert!(rule.is_empty() || rule == "reordered-tokens");
}

#[test]
fn family_siblings_are_not_imitations() {
    // One letter apart, so only the family keeps them apart.
    assert_eq!(
        rules::one_edit("aws-sdk-ses", "aws-sdk-sts"),
        Some(("substitution", 2))
    );
    assert_eq!(
        family_prefixes(Ecosystem::CratesIo, "aws-sdk-ses"),
        [Some("aws-"), Some("aws-sdk-")]
    );
    for (eco, name) in [
        (Ecosystem::CratesIo, "aws-sdk-ses"),
        (Ecosystem::CratesIo, "aws-sdk-ssm"),
        (Ecosystem::PyPI, "mypy-boto3-sms"),
        (Ecosystem::PyPI, "types-boto3-eks"),
    ] {
        assert_eq!(check(eco, name), None, "{name}");
    }
    // A copy of a member (not a sibling) is still one.
    assert!(siblings("sphinx-", "sphinx-rtd-themes", "sphinx-pdj-theme"));
    assert!(!siblings(
        "sphinx-",
        "sphinx-rtd-themes",
        "sphinx-rtd-theme"
    ));
    // Affixes are copies even inside a family.
    assert_eq!(
        check(Ecosystem::CratesIo, "windows-service-rs").map(|s| s.imitates),
        Some("windows-service".to_string())
    );
}

#[test]
fn established_names_are_at_most_low_and_only_far_below_their_target() {
    // loadsh: 37,293 downloads a month, lodash 452 million.
    let s = check(Ecosystem::Npm, "loadsh").unwrap();
    assert_eq!((s.imitates.as_str(), s.confidence), ("lodash", Grade::Low));
    assert_eq!(s.downloads, Some(37_293));
    // desm (2 million) one letter from esm (21 million): no finding.
    assert_eq!(check(Ecosystem::Npm, "desm"), None);
    // Without the figures the same names are judged by their names.
    let s = check_using(Ecosystem::Npm, "loadsh", Figures::NamesOnly).unwrap();
    assert_eq!(s.confidence, Grade::High);
    assert_eq!(
        judge("transposition", 3, Some(9_999), Some(10)),
        Some(Grade::High)
    );
    assert_eq!(judge("insertion", 3, Some(10_000), Some(u64::MAX)), None);
    assert_eq!(
        judge("separator", 3, Some(10_000), Some(100_000_000)),
        Some(Grade::Low)
    );
    assert_eq!(judge("separator", 3, Some(10_000), Some(99_999_999)), None);
}

#[test]
fn popular_names_are_never_flagged() {
    for (eco, name) in [
        (Ecosystem::Npm, "colors"),
        (Ecosystem::Npm, "color"),
        (Ecosystem::PyPI, "requests"),
        (Ecosystem::CratesIo, "serde-json"),
    ] {
        assert_eq!(check(eco, name), None, "{name}");
    }
}

#[test]
fn dropped_affixes_are_the_separated_ones() {
    let want: Vec<&str> = PREFIXES
        .iter()
        .copied()
        .filter(|p| p.ends_with('-'))
        .collect();
    assert_eq!(DROPPED_PREFIXES.to_vec(), want);
    let want: Vec<&str> = SUFFIXES
        .iter()
        .copied()
        .filter(|s| s.starts_with(['-', '.']))
        .collect();
    assert_eq!(DROPPED_SUFFIXES.to_vec(), want);
}

#[test]
fn token_keys_ignore_order_and_encoding_path() {
    let seed = keys::scope_seed(None);
    for (a, b) in [
        ("yaml-parser", "parser_yaml"),
        ("a-b-c", "c.b-a"),
        ("x--y", "y-x"),
    ] {
        assert_eq!(tokens_key(seed, a, true), tokens_key(seed, b, true));
        assert_eq!(tokens_key(seed, a, true), keys::tokens_key(seed, a));
    }
    assert_ne!(tokens_key(seed, "a-b", true), tokens_key(seed, "a-c", true));
    assert_eq!(tokens_key(seed, "single", true), None);
    assert_eq!(tokens_key(seed, "-single-", true), None);
}

#[test]
fn normalisation_is_the_ecosystems() {
    let mut buf = String::new();
    for name in [
        "Requests",
        "  Py_Yaml..x ",
        "serde_json",
        "Zope.Interface",
        "ÜBER_lib",
        "a--b__c",
        "@Types/Node",
        "",
        "-",
        "İstanbul",
        "x\u{b}",
        "\u{b}Django\u{a0}",
    ] {
        for eco in [Ecosystem::Npm, Ecosystem::PyPI, Ecosystem::CratesIo] {
            assert_eq!(
                normalize(eco, name, &mut buf),
                eco.normalize_name(name),
                "{name}"
            );
        }
    }
}
