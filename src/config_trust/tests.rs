//! The trust rules, key by key.

use super::*;

fn scan_policy(text: &str, flags: Flags) -> ScanPolicy {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("ci.toml");
    std::fs::write(&p, text).expect("write");
    ScanPolicy::load(dir.path(), Some(&p), flags).expect("load")
}

#[test]
fn every_key_of_the_configuration_has_a_category() {
    let full = r#"
trust_nested = true
[gate]
fail_on = "low"
malicious = true
typosquat = "high"
confusion = "high"
include_dev = false
warnings = ["unsound"]
unknown_severity = "medium"
runtime = "soon"
platform = "warning"
size = "warning"
resolved = false
[[ignore]]
id = "X"
reason = "r"
justification = "component_not_present"
[[vex]]
file = "team.openvex.json"
[typosquat]
allow = ["a"]
[registries]
internal_scopes = ["@a"]
internal_names = ["a-*"]
timeout_ms = 5
public = { npm = "http://x" }
resolve = { pypi = "http://z/simple" }
mirrors = ["http://m"]
[database]
source = "http://y"
max_age_days = 3
[limits]
max_file_size = 10
max_packages = 10
[target]
architecture = "arm64"
python = "3.11"
"#;
    let parsed = Policy::from_toml(full, Path::new("t.toml")).expect("valid");
    // The sample sets every field: a new field must be added to it (the
    // round trip below fails otherwise) and given a category.
    let back = toml::to_string(&parsed).expect("serialise");
    assert_eq!(
        Policy::from_toml(&back, Path::new("t.toml")).expect("round trip"),
        parsed
    );
    let table: toml::Table = toml::from_str(&back).expect("table");
    let mut keys = Vec::new();
    keys_of(&table, "", &mut keys);
    let sample: toml::Table = toml::from_str(full).expect("table");
    let mut sample_keys = Vec::new();
    keys_of(&sample, "", &mut sample_keys);
    for k in &keys {
        assert!(
            sample_keys.contains(k),
            "{k} is missing from the sample above"
        );
    }
    for k in &sample_keys {
        assert!(explicit_category(k).is_some(), "{k} has no category");
    }
    assert_eq!(category("vex"), Category::ScanWide);
    // Even a trusted nested file adds no VEX document.
    let mut sp = scan_policy("trust_nested = true\n", Flags::default());
    let p = sp
        .nested(
            Path::new("fn/depwarden.toml"),
            "[[vex]]\nfile = \"x.json\"\n",
            "fn",
        )
        .expect("nested");
    assert!(p.vex.is_empty());
    let report = sp.files.last().expect("reported");
    assert!(
        report
            .ignored
            .iter()
            .any(|o| o.starts_with("vex: not applied")),
        "{report:?}"
    );
    assert_eq!(category("registries.public.npm"), Category::Endpoint);
    assert_eq!(category("registries.mirrors"), Category::Endpoint);
    assert_eq!(category("limits.max_file_size"), Category::ScanWide);
}

#[test]
fn nested_files_only_tighten_unless_trusted() {
    let mut sp = scan_policy("[gate]\nfail_on = \"high\"\n", Flags::default());
    let p = sp
        .nested(
            Path::new("fn/depwarden.toml"),
            "[gate]\nfail_on = \"none\"\nmalicious = false\n[[ignore]]\nid = \"X\"\nreason = \"r\"\n[limits]\nmax_file_size = 1\n[registries]\ninternal_names = [\"acme-*\"]\n",
            "fn",
        )
        .expect("nested");
    assert_eq!(p.gate.fail_on, FailOn::High);
    assert!(p.gate.malicious);
    assert!(p.ignore.is_empty());
    assert_eq!(p.limits.max_file_size, None);
    assert_eq!(p.registries.internal_names, vec!["acme-*"]);
    let r = &sp.files[1];
    assert_eq!(r.overruled.len(), 2, "{r:?}");
    assert!(r.ignored.iter().any(|i| i.starts_with("ignore:")), "{r:?}");
    assert!(r.ignored.iter().any(|i| i.starts_with("limits.")), "{r:?}");

    let p = sp
        .nested(
            Path::new("g/depwarden.toml"),
            "[gate]\nfail_on = \"low\"\n",
            "g",
        )
        .expect("nested");
    assert_eq!(p.gate.fail_on, FailOn::Low, "tightening applies");
    // What an unscored advisory counts as: only upwards; the target
    // platform is scan-wide.
    let p = sp
        .nested(
            Path::new("h/depwarden.toml"),
            "[gate]\nunknown_severity = \"low\"\n[target]\narchitecture = \"arm64\"\n",
            "h",
        )
        .expect("nested");
    assert_eq!(p.gate.unknown_severity, crate::severity::Severity::High);
    assert_eq!(p.target.architecture, None);
    let p = sp
        .nested(
            Path::new("i/depwarden.toml"),
            "[gate]\nunknown_severity = \"critical\"\n",
            "i",
        )
        .expect("nested");
    assert_eq!(p.gate.unknown_severity, crate::severity::Severity::Critical);
    // Predicted (`--resolve`) findings keep closing the gate, and a nested
    // file never names the registries resolution fetches from.
    let p = sp
        .nested(
            Path::new("j/depwarden.toml"),
            "[gate]\nresolved = false\n[registries]\nresolve = { npm = \"http://evil\" }\n",
            "j",
        )
        .expect("nested");
    assert!(p.gate.resolved);
    assert!(p.registries.resolve.is_empty());

    // Function gates: stricter applies, looser is overruled.
    let p = sp
        .nested(
            Path::new("j/depwarden.toml"),
            "[gate]\nruntime = \"none\"\nplatform = \"warning\"\nsize = \"none\"\n",
            "j",
        )
        .expect("nested");
    assert_eq!(p.gate.runtime, crate::policy::RuntimeGate::Deprecated);
    assert_eq!(p.gate.platform, crate::policy::CheckGate::Warning);
    assert_eq!(p.gate.size, crate::policy::CheckGate::Error);
    let j = sp.files.last().expect("report");
    assert_eq!(j.overruled.len(), 2, "{j:?}");
    assert!(
        j.applied.iter().any(|a| a.starts_with("gate.platform")),
        "{j:?}"
    );

    let mut trusting = scan_policy(
        "trust_nested = true\n[gate]\nfail_on = \"high\"\n",
        Flags::default(),
    );
    let p = trusting
        .nested(
            Path::new("fn/depwarden.toml"),
            "trust_nested = false\n[gate]\nfail_on = \"none\"\n[[ignore]]\nid = \"X\"\nreason = \"r\"\n[registries]\npublic = { npm = \"http://evil\" }\n",
            "fn",
        )
        .expect("nested");
    assert_eq!(p.gate.fail_on, FailOn::None);
    assert_eq!(p.ignore.len(), 1);
    assert!(
        p.registries.public.is_empty(),
        "endpoints never from nested"
    );
    assert!(p.trust_nested, "trust comes from the invoking side only");
}

#[test]
fn command_line_flags_hold_even_when_trusted() {
    let flags = Flags {
        fail_on: Some(FailOn::Medium),
        include_dev: true,
    };
    let mut sp = scan_policy("trust_nested = true\n", flags);
    let p = sp
        .nested(
            Path::new("fn/depwarden.toml"),
            "[gate]\nfail_on = \"critical\"\ninclude_dev = false\n",
            "fn",
        )
        .expect("nested");
    assert_eq!(p.gate.fail_on, FailOn::Medium);
    assert!(p.gate.include_dev);
    assert!(
        sp.files[1]
            .overruled
            .iter()
            .all(|o| o.contains("command line")),
        "{:?}",
        sp.files[1]
    );
}

#[test]
fn endpoints_only_from_an_explicit_config() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join(".git")).expect("git");
    std::fs::write(
        dir.path().join("depwarden.toml"),
        "[database]\nsource = \"http://evil\"\n[registries]\npublic = { npm = \"http://evil\" }\n",
    )
    .expect("write");
    let sp = ScanPolicy::load(dir.path(), None, Flags::default()).expect("load");
    assert!(sp.global.registries.public.is_empty());
    assert_eq!(sp.global.database.source, None);
    assert_eq!(sp.files[0].ignored.len(), 2, "{:?}", sp.files[0]);
    let (source, note) = database_source(dir.path(), None).expect("source");
    assert_eq!(source, None);
    assert!(note.is_some_and(|n| n.contains("not followed")));
    let explicit = dir.path().join("depwarden.toml");
    let (source, _) = database_source(dir.path(), Some(&explicit)).expect("source");
    assert_eq!(source.as_deref(), Some("http://evil"));
}
