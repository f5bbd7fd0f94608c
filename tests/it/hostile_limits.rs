//! Hostile input: zips scanned in memory (bombs, traversal, symlinks,
//! encryption, nesting), deep JSON, YAML alias bombs, symlink loops and
//! escapes. Each case asserts a clear error naming the file, no panic, and
//! that the rest of the scan still reports. The binary runs under a
//! generous timeout so a hang fails the test instead of blocking it.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(120);

/// One entry of a hand-made zip.
struct ZEntry {
    name: String,
    data: Vec<u8>,
    deflate: bool,
    /// Uncompressed size written in the headers (defaults to the real one).
    declared: Option<u32>,
    /// Unix mode (e.g. 0o120777 for a symlink).
    mode: u32,
    /// General-purpose flags (bit 0: encrypted).
    flags: u16,
}

fn entry(name: &str, data: &[u8]) -> ZEntry {
    ZEntry {
        name: name.into(),
        data: data.to_vec(),
        deflate: true,
        declared: None,
        mode: 0o100644,
        flags: 0,
    }
}

/// Writes a zip by hand, so hostile headers can be made at will.
fn make_zip(entries: &[ZEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let mut crc = flate2::Crc::new();
        crc.update(&e.data);
        let crc = crc.sum();
        let (method, body): (u16, Vec<u8>) = if e.deflate {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&e.data).unwrap();
            (8, enc.finish().unwrap())
        } else {
            (0, e.data.clone())
        };
        let usize_ = e.declared.unwrap_or(e.data.len() as u32);
        let offset = out.len() as u32;
        let name = e.name.as_bytes();
        out.extend_from_slice(&0x04034b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&e.flags.to_le_bytes());
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0x21u16.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&usize_.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&body);

        central.extend_from_slice(&0x02014b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&e.flags.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0x21u16.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(body.len() as u32).to_le_bytes());
        central.extend_from_slice(&usize_.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&(e.mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x06054b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Every regular file under `dir`, relative, sorted (symlinks to files
/// are stored as their content, as `zip -r` does).
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).follow_links(true) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).unwrap();
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read(e.path()).unwrap()));
        }
    }
    out.sort();
    out
}

fn zip_dir(dir: &Path) -> Vec<u8> {
    let entries: Vec<ZEntry> = files_under(dir).iter().map(|(n, d)| entry(n, d)).collect();
    make_zip(&entries)
}

/// Runs the binary with a timeout; returns (exit code, stdout, stderr).
fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let mut child = crate::common::command()
        .env("NO_COLOR", "1")
        .env_remove("DEPWARDEN_DB")
        .arg("--no-progress")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes while waiting, or a large report blocks the child.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).unwrap();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).unwrap();
        v
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            child.kill().unwrap();
            panic!("depwarden did not finish within {TIMEOUT:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
    )
}

/// `inventory --format json` over paths; returns (code, JSON).
fn inventory(extra: &[&str], paths: &[&Path]) -> (i32, Value) {
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["inventory".as_ref(), "--format".as_ref(), "json".as_ref()];
    args.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let (code, out, err) = run(&args);
    assert!(!err.contains("panicked"), "panic: {err}");
    let json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("no JSON ({e}): {err}"));
    (code, json)
}

/// Every error-level (and warning) message with its path, from deployments
/// and from the top level.
fn all_errors(inv: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut push = |e: &Value| {
        out.push((
            e["level"].as_str().unwrap_or("").to_string(),
            e["path"].as_str().unwrap_or("").to_string(),
            e["message"].as_str().unwrap_or("").to_string(),
        ))
    };
    for d in inv["deployments"].as_array().unwrap() {
        d["errors"].as_array().unwrap().iter().for_each(&mut push);
    }
    if let Some(errs) = inv["errors"].as_array() {
        errs.iter().for_each(&mut push);
    }
    out
}

fn names(inv: &Value) -> Vec<String> {
    let mut v: Vec<String> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn orders_api() -> PathBuf {
    common::testdata("demo/orders-api")
}

/// The good deployment scanned beside every hostile input still reports.
fn assert_rest_reports(inv: &Value) {
    assert!(
        names(inv).iter().any(|n| n == "express"),
        "the good deployment was not reported: {:?}",
        names(inv)
    );
}

#[test]
fn zip_of_real_deployment_matches_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    for rel in [
        "demo/orders-api",
        "demo/thumbnailer",
        "demo/ingest-rs",
        "npm/same-set/npm",
    ] {
        let dir = common::testdata(rel);
        let z = tmp.path().join(format!("{}.zip", rel.replace('/', "_")));
        std::fs::write(&z, zip_dir(&dir)).unwrap();
        let (c1, from_dir) = inventory(&[], &[&dir]);
        let (c2, from_zip) = inventory(&[], &[&z]);
        assert_eq!(c1, c2);
        assert!(
            !from_dir["packages"].as_array().unwrap().is_empty(),
            "{rel}"
        );
        assert_eq!(from_dir, from_zip, "inventory differs for {rel}");
    }
}

#[test]
fn zip_scan_report_matches_the_folder() {
    let db = common::shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::testdata("npm/same-set/npm");
    let z = tmp.path().join("function.zip");
    std::fs::write(&z, zip_dir(&dir)).unwrap();
    let (c1, mut a) = common::scan_json(&db, &[dir.to_str().unwrap()]);
    let (c2, mut b) = common::scan_json(&db, &[z.to_str().unwrap()]);
    assert_eq!(c1, c2);
    // Timings and the tool block are not about the input.
    for r in [&mut a, &mut b] {
        if let Some(m) = r.as_object_mut() {
            m.remove("timings");
            m.remove("generated_at");
        }
    }
    assert!(!a["deployments"].as_array().unwrap().is_empty());
    assert_eq!(a["deployments"], b["deployments"]);
    assert_eq!(a["summary"], b["summary"]);
}

#[test]
fn zips_found_during_discovery_need_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::testdata("demo/thumbnailer");
    std::fs::write(tmp.path().join("layer.zip"), zip_dir(&dir)).unwrap();
    let (_, without) = inventory(&[], &[tmp.path()]);
    assert!(without["packages"].as_array().unwrap().is_empty());
    let (code, with) = inventory(&["--zips"], &[tmp.path()]);
    assert_eq!(code, 0);
    let deps: Vec<&str> = with["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(deps, ["layer.zip!"]);
    assert_eq!(names(&with), names(&inventory(&[], &[&dir]).1));
}

#[test]
fn zip_traversal_entries_are_refused_and_the_rest_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let lock = std::fs::read(orders_api().join("package-lock.json")).unwrap();
    let manifest = std::fs::read(orders_api().join("package.json")).unwrap();
    let z = tmp.path().join("evil.zip");
    std::fs::write(
        &z,
        make_zip(&[
            entry("../../evil/requirements.txt", b"flask==2.0.0\n"),
            entry("/etc/requirements.txt", b"flask==2.0.0\n"),
            entry("package-lock.json", &lock),
            entry("package.json", &manifest),
        ]),
    )
    .unwrap();
    let (code, inv) = inventory(&["--strict"], &[&z]);
    let errs = all_errors(&inv);
    assert!(
        errs.iter().any(|(l, p, m)| l == "error"
            && p.contains("evil")
            && m.contains("../../evil")
            && m.contains("refused")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(l, _, m)| l == "error" && m.contains("/etc/requirements.txt")),
        "{errs:?}"
    );
    assert!(!names(&inv).iter().any(|n| n == "flask"));
    assert_rest_reports(&inv);
    assert_eq!(code, 2, "--strict turns an unscanned entry into exit 2");
    assert!(!tmp.path().join("evil").exists() && !Path::new("/evil").exists());
}

#[test]
fn zip_bomb_of_ten_gigabytes_declared_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let z = tmp.path().join("bomb.zip");
    // Ten entries each declaring 1 GiB uncompressed: 10 GiB in all.
    let entries: Vec<ZEntry> = (0..10)
        .map(|i| ZEntry {
            declared: Some(1 << 30),
            ..entry(&format!("node_modules/p{i}/package.json"), b"{}")
        })
        .collect();
    std::fs::write(&z, make_zip(&entries)).unwrap();
    let (code, inv) = inventory(&[], &[&z, &orders_api()]);
    let errs = all_errors(&inv);
    assert!(
        errs.iter().any(|(l, p, m)| l == "error"
            && (p.contains("bomb.zip!") || m.contains("bomb.zip!"))
            && m.contains("zip bomb")),
        "{errs:?}"
    );
    assert_rest_reports(&inv);
    assert_eq!(code, 0);
    let (strict, _) = inventory(&["--strict"], &[&z, &orders_api()]);
    assert_eq!(strict, 2);
}

#[test]
fn zip_entry_with_a_bomb_ratio_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let z = tmp.path().join("ratio.zip");
    let zeros = vec![b' '; 24 * 1024 * 1024];
    let lock = std::fs::read(orders_api().join("package-lock.json")).unwrap();
    std::fs::write(
        &z,
        make_zip(&[
            entry("a/package-lock.json", &zeros),
            entry("b/package-lock.json", &lock),
        ]),
    )
    .unwrap();
    let (_, inv) = inventory(&[], &[&z]);
    let errs = all_errors(&inv);
    assert!(
        errs.iter().any(|(l, _, m)| l == "error"
            && m.contains("ratio.zip!/a/package-lock.json")
            && m.contains("compression ratio")),
        "{errs:?}"
    );
    assert_rest_reports(&inv);
}

#[test]
fn zip_entry_lying_about_its_size_is_capped() {
    // Declares 10 bytes, inflates to 2 MiB: the cap counts bytes produced.
    use depwarden::fs::{Fs, OsFs};
    use depwarden::limits::ZipLimits;
    use depwarden::zipfs::{ZipAwareFs, mount_path};
    let tmp = tempfile::tempdir().unwrap();
    let z = tmp.path().join("liar.zip");
    let big = vec![b'a'; 2 * 1024 * 1024];
    std::fs::write(
        &z,
        make_zip(&[ZEntry {
            declared: Some(10),
            ..entry("requirements.txt", &big)
        }]),
    )
    .unwrap();
    let limits = ZipLimits {
        max_entry_size: 1024 * 1024,
        ..ZipLimits::default()
    };
    let fs = ZipAwareFs::new(OsFs::default(), limits, false);
    let p = mount_path(&z).join("requirements.txt");
    let err = fs.read(&p).unwrap_err().to_string();
    assert!(err.contains("liar.zip!/requirements.txt"), "{err}");
}

#[test]
fn zip_symlink_and_encrypted_entries_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let z = tmp.path().join("links.zip");
    let lock = std::fs::read(orders_api().join("package-lock.json")).unwrap();
    let manifest = std::fs::read(orders_api().join("package.json")).unwrap();
    std::fs::write(
        &z,
        make_zip(&[
            ZEntry {
                mode: 0o120777,
                deflate: false,
                ..entry("requirements.txt", b"/etc/passwd")
            },
            ZEntry {
                flags: 1,
                deflate: false,
                ..entry("sub/Pipfile.lock", b"not really encrypted")
            },
            entry("package-lock.json", &lock),
            entry("package.json", &manifest),
        ]),
    )
    .unwrap();
    let (_, inv) = inventory(&[], &[&z]);
    let errs = all_errors(&inv);
    assert!(
        errs.iter()
            .any(|(_, p, m)| p.contains("requirements.txt") && m.contains("symbolic link")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(l, p, m)| l == "error" && p.contains("Pipfile.lock") && m.contains("encrypted")),
        "{errs:?}"
    );
    assert_rest_reports(&inv);
}

#[test]
fn nested_zip_is_opened_one_level_deep() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = zip_dir(&common::testdata("demo/thumbnailer"));
    let deeper = make_zip(&[entry("inner.zip", &layer)]);
    let bundle = make_zip(&[
        entry("layers/layer.zip", &layer),
        entry("deep/outer.zip", &deeper),
    ]);
    let z = tmp.path().join("bundle.zip");
    std::fs::write(&z, bundle).unwrap();
    let (_, inv) = inventory(&[], &[&z]);
    let deps: Vec<&str> = inv["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(deps.contains(&"layers/layer.zip!"), "{deps:?}");
    assert!(!deps.iter().any(|d| d.contains("inner.zip")), "{deps:?}");
    let errs = all_errors(&inv);
    assert!(
        errs.iter()
            .any(|(_, p, m)| p.contains("outer.zip!/inner.zip") && m.contains("nested")),
        "{errs:?}"
    );
    assert!(
        names(&inv).iter().any(|n| n == "requests" || n == "pillow"),
        "{:?}",
        names(&inv)
    );
}

#[test]
fn corrupt_zip_names_the_file_and_the_rest_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let z = tmp.path().join("broken.zip");
    std::fs::write(&z, b"PK\x03\x04 this is not a zip").unwrap();
    let (code, inv) = inventory(&[], &[&z, &orders_api()]);
    let errs = all_errors(&inv);
    assert!(
        errs.iter()
            .any(|(l, p, m)| l == "error" && (p.contains("broken.zip") || m.contains("broken.zip"))),
        "{errs:?}"
    );
    assert_rest_reports(&inv);
    assert_eq!(code, 0);
}

#[test]
fn thousand_deep_json_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    std::fs::write(bad.join("package-lock.json"), &deep).unwrap();
    std::fs::write(bad.join("package.json"), &deep).unwrap();
    let good = tmp.path().join("good");
    std::fs::create_dir(&good).unwrap();
    for f in ["package-lock.json", "package.json"] {
        std::fs::copy(orders_api().join(f), good.join(f)).unwrap();
    }
    let (code, inv) = inventory(&["--strict"], &[tmp.path()]);
    let errs = all_errors(&inv);
    assert!(
        errs.iter()
            .any(|(l, p, _)| l == "error" && p.contains("package-lock.json")),
        "{errs:?}"
    );
    assert_rest_reports(&inv);
    assert_eq!(code, 2);
}

#[test]
fn pnpm_lock_with_exponential_aliases_is_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    // Billion laughs: each level doubles... tenfold, 9 levels = 10^9 nodes.
    let mut y = String::from(
        "lockfileVersion: '9.0'\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let letters = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in letters.windows(2) {
        let r = format!("*{}", w[0]);
        y.push_str(&format!(
            "{}: &{} [{}]\n",
            w[1],
            w[1],
            [r.as_str(); 9].join(",")
        ));
    }
    y.push_str("packages:\n  /x@1.0.0: *i\n");
    std::fs::write(bad.join("pnpm-lock.yaml"), y).unwrap();
    let (_, inv) = inventory(&[], &[&bad, &orders_api()]);
    let errs = all_errors(&inv);
    assert!(
        errs.iter()
            .any(|(l, p, _)| l == "error" && p.contains("pnpm-lock.yaml")),
        "{errs:?}"
    );
    assert_rest_reports(&inv);
}

#[cfg(unix)]
#[test]
fn symlink_loop_in_node_modules_and_link_to_etc_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app");
    let nm = root.join("node_modules");
    std::fs::create_dir_all(nm.join("a")).unwrap();
    std::fs::write(
        nm.join("a/package.json"),
        r#"{"name":"a","version":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        root.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"a":"1"}}"#,
    )
    .unwrap();
    // a/node_modules/loop -> ../.. (back to node_modules): a loop.
    std::fs::create_dir_all(nm.join("a/node_modules")).unwrap();
    std::os::unix::fs::symlink("../..", nm.join("a/node_modules/loop")).unwrap();
    std::os::unix::fs::symlink(nm.join("self"), nm.join("self")).ok();
    // A package and a directory that point to /etc.
    std::os::unix::fs::symlink("/etc", nm.join("etc")).unwrap();
    std::os::unix::fs::symlink("/etc", root.join("etc-link")).unwrap();
    let (code, inv) = inventory(&[], &[&root, &orders_api()]);
    let errs = all_errors(&inv);
    assert!(
        errs.iter()
            .any(|(_, p, m)| p.contains("etc") && m.contains("outside")),
        "{errs:?}"
    );
    assert!(names(&inv).iter().any(|n| n == "a"), "{:?}", names(&inv));
    assert_rest_reports(&inv);
    assert_eq!(code, 0);
}

#[cfg(unix)]
#[test]
fn fifo_named_like_a_lockfile_is_skipped_with_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app");
    std::fs::create_dir(&root).unwrap();
    let fifo = root.join("requirements.txt");
    let ok = StdCommand::new("mkfifo").arg(&fifo).status();
    if !ok.map(|s| s.success()).unwrap_or(false) {
        // No mkfifo on this system: nothing to check.
        return;
    }
    let (code, inv) = inventory(&["--strict"], &[&root, &orders_api()]);
    let errs = all_errors(&inv);
    assert!(
        errs.iter()
            .any(|(l, p, _)| l == "error" && p.contains("requirements.txt")),
        "{errs:?}"
    );
    assert_rest_reports(&inv);
    assert_eq!(code, 2);
}

#[test]
fn oversized_source_is_refused_by_the_file_size_cap() {
    use depwarden::fs::{Fs, OsFs};
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("yarn.lock");
    std::fs::write(&p, vec![b'#'; 4096]).unwrap();
    let err = OsFs::with_limit(1024).read(&p).unwrap_err().to_string();
    assert!(err.contains("yarn.lock") && err.contains("limit"), "{err}");
}

#[test]
fn depwarden_toml_inside_a_zip_is_read_from_the_zip() {
    let db = common::shared_db();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    std::fs::create_dir(&dir).unwrap();
    for f in ["package-lock.json", "package.json"] {
        std::fs::copy(orders_api().join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("depwarden.toml"), "[gate]\nfail_on = \"none\"\n").unwrap();
    let z = tmp.path().join("app.zip");
    std::fs::write(&z, zip_dir(&dir)).unwrap();
    let (c1, a) = common::scan_json(&db, &[dir.to_str().unwrap()]);
    let (c2, b) = common::scan_json(&db, &[z.to_str().unwrap()]);
    // At the scan root the file is the invoking configuration; inside the
    // zip it belongs to the deployment, which may not loosen the gate.
    assert_eq!(c1, 0, "{a}");
    assert_eq!(c2, 1, "{b}");
    let files = b["policy"]["config_files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{b}");
    assert!(files[0]["path"].as_str().unwrap().contains("app.zip!"));
    assert_eq!(files[0]["origin"], "nested");
    assert!(
        files[0]["overruled"][0]
            .as_str()
            .unwrap()
            .contains("fail_on"),
        "{b}"
    );
    let ids = |r: &Value| -> Vec<String> {
        r["deployments"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {} {}", f["package"], f["version"], f["id"]))
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn file_size_cap_is_configurable_and_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    std::fs::create_dir(&small).unwrap();
    std::fs::write(small.join("requirements.txt"), "flask==2.0.0\n").unwrap();
    let out = crate::common::command()
        .env("DEPWARDEN_MAX_FILE_SIZE", "4096")
        .args(["--no-progress", "inventory", "--format", "json"])
        .arg(&small)
        .arg(orders_api())
        .output()
        .unwrap();
    let inv: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errs = all_errors(&inv);
    assert!(
        errs.iter().any(|(l, p, m)| l == "error"
            && p.contains("package-lock.json")
            && m.contains("4096-byte limit")),
        "{errs:?}"
    );
    assert!(
        names(&inv).iter().any(|n| n == "flask"),
        "{:?}",
        names(&inv)
    );
}

#[test]
fn file_size_cap_from_the_configuration_and_the_environment_over_it() {
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    std::fs::create_dir(&small).unwrap();
    std::fs::write(small.join("requirements.txt"), "flask==2.0.0\n").unwrap();
    let cfg = tmp.path().join("depwarden.toml");
    std::fs::write(&cfg, "[limits]\nmax_file_size = 4096\n").unwrap();
    let inventory_with = |env: Option<&str>| -> Value {
        let mut cmd = crate::common::command();
        cmd.env_remove("DEPWARDEN_MAX_FILE_SIZE");
        if let Some(v) = env {
            cmd.env("DEPWARDEN_MAX_FILE_SIZE", v);
        }
        let out = cmd
            .args(["--no-progress", "--config"])
            .arg(&cfg)
            .args(["inventory", "--format", "json"])
            .arg(&small)
            .arg(orders_api())
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let capped = |inv: &Value| {
        all_errors(inv).iter().any(|(l, p, m)| {
            l == "error" && p.contains("package-lock.json") && m.contains("4096-byte limit")
        })
    };
    let inv = inventory_with(None);
    assert!(capped(&inv), "{:?}", all_errors(&inv));
    assert!(names(&inv).iter().any(|n| n == "flask"));
    let inv = inventory_with(Some("100000000"));
    assert!(!capped(&inv), "{:?}", all_errors(&inv));
    assert_rest_reports(&inv);
}

#[test]
fn package_cap_from_the_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("fn");
    for name in ["alpha", "beta", "gamma"] {
        let d = site.join(format!("{name}-1.0.dist-info"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
        )
        .unwrap();
    }
    let cfg = tmp.path().join("depwarden.toml");
    let run_with = |limits: &str| -> Value {
        std::fs::write(&cfg, limits).unwrap();
        let out = crate::common::command()
            .args(["--no-progress", "--config"])
            .arg(&cfg)
            .args(["inventory", "--format", "json"])
            .arg(&site)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let inv = run_with("[limits]\nmax_packages = 2\n");
    let errs = all_errors(&inv);
    assert!(
        errs.iter()
            .any(|(l, _, m)| l == "error" && m.contains("too many installed distributions")),
        "{errs:?}"
    );
    let inv = run_with("[limits]\nmax_packages = 3\n");
    assert_eq!(all_errors(&inv), Vec::new());
    assert_eq!(names(&inv).len(), 3, "{:?}", names(&inv));
}

#[test]
fn archive_problems_go_to_the_deployment_they_concern() {
    // One zip, two functions: a repeated entry of fn-a is fn-a's problem,
    // never its sibling's; a refused entry outside both belongs to the scan.
    let tmp = tempfile::tempdir().unwrap();
    let lock = std::fs::read(orders_api().join("package-lock.json")).unwrap();
    let manifest = std::fs::read(orders_api().join("package.json")).unwrap();
    let z = tmp.path().join("bundle.zip");
    std::fs::write(
        &z,
        make_zip(&[
            entry("fn-a/package-lock.json", &lock),
            entry("fn-a/package.json", &manifest),
            entry("fn-a/package-lock.json", &lock),
            entry("fn-b/package-lock.json", &lock),
            entry("fn-b/package.json", &manifest),
            entry("../outside.txt", b"x"),
        ]),
    )
    .unwrap();
    let (code, inv) = inventory(&["--strict"], &[&z]);
    let errors_of = |suffix: &str| -> Vec<String> {
        let d = inv["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"].as_str().unwrap_or("").ends_with(suffix))
            .unwrap_or_else(|| panic!("no deployment {suffix}: {inv}"));
        d["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let (a, b) = (errors_of("fn-a"), errors_of("fn-b"));
    assert!(a.iter().any(|m| m.contains("appears 2 times")), "{a:?}");
    assert!(!b.iter().any(|m| m.contains("appears")), "{b:?}");
    let top: Vec<String> = inv["errors"]
        .as_array()
        .map(|e| e.iter().map(|x| x.to_string()).collect())
        .unwrap_or_default();
    assert!(
        top.iter()
            .any(|m| m.contains("outside.txt") && m.contains("refused")),
        "{top:?}"
    );
    assert_eq!(
        code, 2,
        "--strict: a refused entry is something not scanned"
    );
}
