//! Configuration values that would weaken the gate or the limits are
//! refused with the key and line: an ignore whose id or reason is only
//! invisible characters, an expiry date that does not exist, a lookup
//! timeout over the maximum; a configuration that does not parse is shown
//! by position and a redacted excerpt, never its raw line.

use depwarden::policy::Policy;
use std::path::Path;

#[test]
fn a_reason_of_invisible_characters_is_no_reason() {
    for reason in ["\u{200b}", " \u{feff}\u{2060}", "\u{202e}\u{200d}", "\t"] {
        let text = format!("[[ignore]]\nid = \"X\"\nreason = \"{reason}\"\n");
        let err = Policy::from_toml(&text, Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("reason"), "{reason:?}: {err}");
    }
    assert!(
        Policy::from_toml(
            "[[ignore]]\nid = \"X\"\nreason = \"\u{200b}ok\"\n",
            Path::new("d.toml")
        )
        .is_ok()
    );
    let err = Policy::from_toml(
        "[[ignore]]\nid = \"\u{200b}\"\nreason = \"r\"\n",
        Path::new("d.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("ignore.id"), "{err}");
}

#[test]
fn expiry_dates_must_exist() {
    for bad in [
        "2027-02-31",
        "2027-02-29",
        "2026-04-31",
        "2027-13-01",
        "2027-00-10",
        "2027-1-5",
    ] {
        let text = format!("[[ignore]]\nid = \"X\"\nreason = \"r\"\nexpires = \"{bad}\"\n");
        let err = Policy::from_toml(&text, Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expires") && err.contains("line 4"),
            "{bad}: {err}"
        );
    }
    for good in ["2028-02-29", "2027-02-28", "2027-12-31"] {
        let text = format!("[[ignore]]\nid = \"X\"\nreason = \"r\"\nexpires = \"{good}\"\n");
        assert!(
            Policy::from_toml(&text, Path::new("d.toml")).is_ok(),
            "{good}"
        );
    }
}

#[test]
fn lookup_timeouts_are_capped() {
    for bad in ["86400000", "30001", "0"] {
        let text = format!("[registries]\ntimeout_ms = {bad}\n");
        let err = Policy::from_toml(&text, Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("timeout_ms") && err.contains("30000") && err.contains("line 2"),
            "{bad}: {err}"
        );
    }
    let p = Policy::from_toml("[registries]\ntimeout_ms = 30000\n", Path::new("d.toml")).unwrap();
    assert_eq!(p.registries.timeout_ms, Some(30000));
}

#[test]
fn syntax_errors_never_echo_the_line() {
    let text = "[registries.public]\nnpm = \"https://deploy:pa55w0rd@npm.corp/\" x\n";
    let err = Policy::from_toml(text, Path::new("d.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2"), "{err}");
    assert!(!err.contains("pa55w0rd"), "{err}");
}
