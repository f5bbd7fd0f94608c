//! Tests of [`super`].

use super::*;

#[test]
fn parses_the_documented_example() {
    let text = r#"
[gate]
fail_on = "high"
malicious = true
typosquat = "high"
confusion = "medium"
include_dev = false
[[ignore]]
id = "GHSA-xxxx-xxxx-xxxx"
package = "lodash"
reason = "not reachable from the handler"
expires = "2027-01-31"
[typosquat]
allow = ["my-internal-lib"]
[registries]
internal_scopes = ["@acme"]
internal_names = ["acme-*"]
"#;
    let p = Policy::from_toml(text, Path::new("depwarden.toml")).unwrap();
    assert_eq!(p.gate.fail_on, FailOn::High);
    assert_eq!(p.gate.confusion, MinGrade::Medium);
    assert_eq!(p.ignore[0].package.as_deref(), Some("lodash"));
    assert_eq!(p.registries.internal_names, vec!["acme-*"]);
}

#[test]
fn limits_are_read_and_zero_is_refused() {
    let text = "[limits]\nmax_file_size = 4096\n";
    let p = Policy::from_toml(text, Path::new("depwarden.toml")).unwrap();
    assert_eq!(p.limits.max_file_size, Some(4096));
    assert_eq!(p.limits.max_packages, None);
    let err = Policy::from_toml("[limits]\nmax_packages = 0\n", Path::new("d.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2") && err.contains("limits.max_packages"),
        "{err}"
    );
}

#[test]
fn mirrors_and_an_open_gate() {
    let p = Policy::from_toml(
        "[registries]\nmirrors = [\"https://acme.jfrog.io/artifactory/api/npm/npm-virtual\"]\n",
        Path::new("d.toml"),
    )
    .unwrap();
    assert_eq!(p.registries.mirrors.len(), 1);
    let err = Policy::from_toml("[registries]\nmirrors = [\" \"]\n", Path::new("d.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("registries.mirrors") && err.contains("line 2"),
        "{err}"
    );
    let mut gate = Gate::default();
    gate.open_for_every_kind();
    assert!(!gate.closes_on(Severity::Critical) && !gate.closes_on(Severity::Unknown));
    assert!(!gate.malicious && gate.warnings.is_empty());
    assert!(!gate.typosquat.closes(Grade::High) && !gate.confusion.closes(Grade::High));
}

#[test]
fn unknown_severity_counts_as_configured() {
    let default = Gate::default();
    assert_eq!(default.unknown_severity, Severity::High);
    assert!(default.closes_on(Severity::Unknown));
    let high = Gate {
        fail_on: FailOn::High,
        ..Gate::default()
    };
    assert!(high.closes_on(Severity::Unknown));
    assert!(!high.closes_on(Severity::Medium));
    let critical = Gate {
        fail_on: FailOn::Critical,
        ..Gate::default()
    };
    assert!(!critical.closes_on(Severity::Unknown));
    let p = Policy::from_toml(
        "[gate]\nfail_on = \"medium\"\nunknown_severity = \"low\"\n",
        Path::new("d.toml"),
    )
    .unwrap();
    assert_eq!(p.gate.unknown_severity, Severity::Low);
    assert!(!p.gate.closes_on(Severity::Unknown));
    let err = Policy::from_toml(
        "[gate]\nunknown_severity = \"unknown\"\n",
        Path::new("d.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown_severity"), "{err}");
}

#[test]
fn target_architecture_is_read_and_checked() {
    let p = Policy::from_toml("[target]\narchitecture = \"arm64\"\n", Path::new("d.toml")).unwrap();
    assert_eq!(p.target.target().arch, crate::parse::Arch::Arm64);
    assert_eq!(
        Policy::default().target.target().arch,
        crate::parse::Arch::X86_64
    );
    let err = Policy::from_toml("[target]\narchitecture = \"mips\"\n", Path::new("d.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2") && err.contains("target.architecture"),
        "{err}"
    );
}

#[test]
fn unknown_key_names_key_and_line() {
    let text = "[gate]\nfail_on = \"high\"\nfial_on = \"low\"\n";
    let err = Policy::from_toml(text, Path::new("cfg/depwarden.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cfg/depwarden.toml"), "{err}");
    assert!(err.contains("fial_on"), "{err}");
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn bad_value_is_an_error() {
    let err = Policy::from_toml("[gate]\nfail_on = \"severe\"\n", Path::new("d.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("severe") && err.contains("line 2"), "{err}");
    let err = Policy::from_toml(
        "[[ignore]]\nid = \"X\"\nreason = \"r\"\nexpires = \"soon\"\n",
        Path::new("d.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("expires") && err.contains("line 4"), "{err}");
}

#[test]
fn ignore_needs_a_reason() {
    let err = Policy::from_toml("[[ignore]]\nid = \"X\"\n", Path::new("d.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("reason"), "{err}");
}

#[test]
fn thresholds() {
    assert!(FailOn::Low.closes(Severity::Unknown));
    assert!(!FailOn::Medium.closes(Severity::Unknown));
    assert!(FailOn::High.closes(Severity::Critical));
    assert!(!FailOn::High.closes(Severity::Medium));
    assert!(!FailOn::None.closes(Severity::Critical));
    assert!(MinGrade::Medium.closes(Grade::High));
    assert!(MinGrade::Low.closes(Grade::Low));
    assert!(!MinGrade::High.closes(Grade::Medium));
    assert!(!MinGrade::None.closes(Grade::High));
}

#[test]
fn expiry() {
    let ig = Ignore {
        id: "X".into(),
        package: None,
        reason: "r".into(),
        expires: Some("2027-01-31".into()),
        justification: None,
    };
    assert!(!ig.expired(Date {
        year: 2027,
        month: 1,
        day: 30
    }));
    assert!(ig.expired(Date {
        year: 2027,
        month: 1,
        day: 31
    }));
}
