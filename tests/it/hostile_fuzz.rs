//! Deterministic mutation fuzzing of every parser, in plain `cargo test`:
//! truncations, byte flips, inserted bytes and structural characters,
//! deleted and duplicated spans, over the real fixtures in testdata/ and
//! the shared conformance corpus. Asserts that no parser panics and that
//! every error names the file. The parsers read from an in-memory [`Fs`].
//!
//! `DEPWARDEN_FUZZ_ITERS` sets the mutations per seed (default 48);
//! `DEPWARDEN_FUZZ_SEED` the random seed. The number of executions is
//! printed, so a longer run can be reported.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use depwarden::fs::{DirEntry, EntryKind, Fs, FsError};
use depwarden::parse::{ParseContext, ParseOptions};
use depwarden::parsers::parse_source;
use depwarden::source::{SourceFormat, SourceRef};

/// A tree of files held in memory.
struct MemFs {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemFs {
    fn is_dir_path(&self, p: &Path) -> bool {
        self.files.keys().any(|f| f != p && f.starts_with(p))
    }
}

impl Fs for MemFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, FsError> {
        self.files.get(path).cloned().ok_or_else(|| FsError::Other {
            path: path.to_path_buf(),
            reason: "not found".into(),
        })
    }
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, FsError> {
        let mut out: BTreeMap<String, EntryKind> = BTreeMap::new();
        for f in self.files.keys() {
            if let Ok(rest) = f.strip_prefix(path) {
                let mut comps = rest.components();
                if let Some(first) = comps.next() {
                    let kind = if comps.next().is_some() {
                        EntryKind::Dir
                    } else {
                        EntryKind::File
                    };
                    out.insert(first.as_os_str().to_string_lossy().into_owned(), kind);
                }
            }
        }
        if out.is_empty() {
            return Err(FsError::Other {
                path: path.to_path_buf(),
                reason: "not a directory".into(),
            });
        }
        Ok(out
            .into_iter()
            .map(|(name, kind)| DirEntry {
                path: path.join(&name),
                name,
                kind,
            })
            .collect())
    }
    fn kind(&self, path: &Path) -> Option<EntryKind> {
        if self.files.contains_key(path) {
            Some(EntryKind::File)
        } else if self.is_dir_path(path) {
            Some(EntryKind::Dir)
        } else {
            None
        }
    }
    fn canonicalize(&self, path: &Path) -> Option<PathBuf> {
        self.kind(path).map(|_| path.to_path_buf())
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that matter to the formats: JSON, YAML, TOML, requirement and
/// lockfile syntax.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"'",
    b":",
    b",",
    b"\n",
    b" ",
    b"\t",
    b"-",
    b"@",
    b"=",
    b"==",
    b"#",
    b"&a",
    b"*a",
    b"!!",
    b"<<",
    b"\\",
    b"\\u",
    b"\xff",
    b"\xc3",
    b"\0",
    b"..",
    b"/",
    b"npm:",
    b"git+",
    b"file:",
    b"link:",
    b"workspace:",
    b"[[package]]",
    b"version",
    b"name",
    b"\"\"\"",
    b"0.0.0-",
    b"^",
    b"~",
    b">=",
    b";",
    b"--",
    b"-e ",
    b"-r ",
    b"-c ",
    b"\r\n",
    b"999999999999999999999",
    b"\xf0\x9f",
    b"packages",
    b"dependencies",
];

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut d = seed.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = d.len();
        match rng.below(7) {
            0 => d.truncate(rng.below(len + 1)),
            1 => {
                for _ in 0..=rng.below(8) {
                    if !d.is_empty() {
                        let i = rng.below(d.len());
                        d[i] ^= 1 << rng.below(8);
                    }
                }
            }
            2 => {
                let at = rng.below(len + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                d.splice(at..at, t.iter().copied());
            }
            3 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                d.splice(at..at, bytes);
            }
            4 => {
                let a = rng.below(len + 1);
                let b = (a + rng.below(64)).min(len);
                d.drain(a..b);
            }
            5 => {
                let a = rng.below(len + 1);
                let b = (a + rng.below(256)).min(len);
                let span: Vec<u8> = d[a..b].to_vec();
                let at = rng.below(d.len() + 1);
                d.splice(at..at, span);
            }
            _ => {
                // Replace a line with another line of the same file.
                let lines: Vec<usize> = d
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i)
                    .collect();
                if lines.len() > 2 {
                    let a = lines[rng.below(lines.len())];
                    let b = lines[rng.below(lines.len())];
                    let (a, b) = (a.min(b), a.max(b));
                    let span: Vec<u8> = d[a..b].to_vec();
                    let at = lines[rng.below(lines.len())];
                    d.splice(at..at, span);
                }
            }
        }
    }
    d
}

/// One seed: the fixture bytes, where they sit, and their format.
struct Seed {
    origin: PathBuf,
    path: PathBuf,
    format: SourceFormat,
    bytes: Vec<u8>,
}

fn place(name: &str, format: SourceFormat) -> PathBuf {
    let base = PathBuf::from("/fuzz/deployment");
    match format {
        SourceFormat::InstalledPackageJson => base.join("node_modules/pkg/package.json"),
        SourceFormat::PythonInstalled => base.join("pkg-1.0.dist-info/METADATA"),
        _ => base.join(name),
    }
}

fn format_of(file_name: &str, in_node_modules: bool) -> Option<SourceFormat> {
    match file_name {
        "package.json" if in_node_modules => Some(SourceFormat::InstalledPackageJson),
        "METADATA" | "PKG-INFO" => Some(SourceFormat::PythonInstalled),
        "bootstrap" => Some(SourceFormat::RustBinary),
        n => SourceFormat::from_file_name(n),
    }
}

fn seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for e in walkdir::WalkDir::new(manifest.join("testdata")) {
        let Ok(e) = e else { continue };
        if !e.file_type().is_file() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let in_nm = e
            .path()
            .components()
            .any(|c| c.as_os_str() == "node_modules");
        let Some(format) = format_of(&name, in_nm) else {
            continue;
        };
        // One installed package.json of each tree is enough.
        if in_nm && out.iter().filter(|s: &&Seed| s.format == format).count() > 4 {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        if bytes.len() > 4 * 1024 * 1024 {
            continue;
        }
        out.push(Seed {
            origin: e.path().to_path_buf(),
            path: place(&name, format),
            format,
            bytes,
        });
    }
    // Installed Python metadata: neither corpus holds one, so a minimal
    // METADATA as `pip install --target` leaves it.
    out.push(Seed {
        origin: PathBuf::from("(inline METADATA)"),
        path: place("METADATA", SourceFormat::PythonInstalled),
        format: SourceFormat::PythonInstalled,
        bytes: b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nRequires-Dist: idna (<4,>=2.5)\nRequires-Dist: urllib3<3,>=1.21.1\nRequires-Dist: PySocks!=1.5.7,>=1.5.6 ; extra == 'socks'\n\nDescription body\n".to_vec(),
    });
    // The shared conformance corpus, when .ci/run points at it.
    if let Some(dir) =
        crate::common::external_data("DEPWARDEN_SHARED", "conformance", "conformance fuzz seeds")
    {
        let cases = std::fs::read_dir(&dir).unwrap();
        let mut case_dirs = Vec::new();
        for fmt in cases.flatten() {
            if let Ok(inner) = std::fs::read_dir(fmt.path()) {
                case_dirs.extend(inner.flatten().map(|c| c.path()));
            }
        }
        case_dirs.sort();
        for case in case_dirs {
            let Ok(text) = std::fs::read_to_string(case.join("expected.json")) else {
                continue;
            };
            let Ok(exp) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let (Some(file), Some(canon), Some(fmt)) = (
                exp["file"].as_str(),
                exp["canonical_filename"].as_str(),
                exp["format"].as_str(),
            ) else {
                continue;
            };
            let Ok(bytes) = std::fs::read(case.join(file)) else {
                continue;
            };
            let base = canon.rsplit('/').next().unwrap_or(canon);
            let format = if fmt == "cargo-auditable-binary" {
                Some(SourceFormat::RustBinary)
            } else {
                format_of(base, fmt == "npm-installed-package-json")
            };
            let Some(format) = format else { continue };
            if bytes.len() > 4 * 1024 * 1024 {
                continue;
            }
            out.push(Seed {
                origin: case.join(file),
                path: place(base, format),
                format,
                bytes,
            });
        }
    }
    out
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Silences the panic message of expected panics on this thread only
/// (tests run in parallel; the hook is process-wide).
fn quiet_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
}

fn iterations() -> usize {
    std::env::var("DEPWARDEN_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48)
}

fn rng_seed() -> u64 {
    std::env::var("DEPWARDEN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15)
}

/// Parses `bytes` as `format` at `path`; returns the failure description
/// (a panic, or an error that does not name the file), if any.
fn check_one(path: &Path, format: SourceFormat, bytes: Vec<u8>) -> Option<String> {
    let mut files = BTreeMap::new();
    files.insert(path.to_path_buf(), bytes);
    let fs = MemFs { files };
    let source = SourceRef::new(path, format);
    let options = ParseOptions::default();
    let root = PathBuf::from("/fuzz/deployment");
    let res = catch_unwind(AssertUnwindSafe(|| {
        let ctx = ParseContext {
            fs: &fs,
            source: &source,
            root: &root,
            options: &options,
        };
        parse_source(&ctx).map(|_| ()).map_err(|e| e.to_string())
    }));
    match res {
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Some(format!("panic: {msg}"))
        }
        Ok(Err(e)) if !e.contains("/fuzz/deployment") => {
            Some(format!("error does not name the file: {e}"))
        }
        Ok(_) => None,
    }
}

#[test]
fn mutated_fixtures_never_panic_and_errors_name_the_file() {
    let seeds = seeds();
    assert!(seeds.len() > 20, "too few seeds: {}", seeds.len());
    let iters = iterations();
    let mut rng = Rng(rng_seed());
    let mut failures = Vec::new();
    let mut execs = 0usize;
    let mut per_format: BTreeMap<&'static str, usize> = BTreeMap::new();
    quiet_panics();
    for seed in &seeds {
        // The original must not panic either.
        let n = if seed.format == SourceFormat::RustBinary {
            iters / 8 + 1
        } else {
            iters
        };
        for i in 0..=n {
            let bytes = if i == 0 {
                seed.bytes.clone()
            } else {
                mutate(&seed.bytes, &mut rng)
            };
            execs += 1;
            *per_format.entry(seed.format.name()).or_default() += 1;
            if let Some(f) = check_one(&seed.path, seed.format, bytes.clone()) {
                failures.push(format!(
                    "{} ({}): {f}\n  input: {:?}",
                    seed.origin.display(),
                    seed.format.name(),
                    String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
                ));
            }
        }
    }
    QUIET.with(|q| q.set(false));
    eprintln!(
        "fuzz: {} seeds, {execs} executions: {per_format:?}",
        seeds.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// OSV records: decoding and compiling mutated records never panics.
#[test]
fn mutated_osv_records_never_panic() {
    use depwarden::advisory::model::OsvRecord;
    let seeds: Vec<&[u8]> = vec![
        br#"{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-1"],"summary":"x","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}],"versions":["4.17.20"]}]}"#,
        br#"{"id":"PYSEC-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"Flask"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"2.0"},{"limit":"3"}]}]}],"database_specific":{"severity":"HIGH","cwe_ids":["CWE-506"]}}"#,
        br#"{"id":"RUSTSEC-2020-1","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z","affected":[{"package":{"ecosystem":"crates.io","name":"smallvec"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0.6.3"},{"fixed":"0.6.10"}]}]}],"severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]}"#,
    ];
    let mut rng = Rng(rng_seed());
    let iters = iterations() * 20;
    quiet_panics();
    let mut failures = Vec::new();
    for seed in &seeds {
        for i in 0..=iters {
            let bytes = if i == 0 {
                seed.to_vec()
            } else {
                mutate(seed, &mut rng)
            };
            let r = catch_unwind(AssertUnwindSafe(|| {
                if let Ok(rec) = serde_json::from_slice::<OsvRecord>(&bytes) {
                    let _ = depwarden::advisory::compile::compile(&rec);
                    let _ = depwarden::advisory::compile::is_malicious(&rec);
                }
            }));
            if r.is_err() {
                failures.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    QUIET.with(|q| q.set(false));
    assert!(
        failures.is_empty(),
        "{} panics, first: {:?}",
        failures.len(),
        failures.first()
    );
}

/// depwarden.toml: mutated policies give an error naming the file or a
/// policy, never a panic.
#[test]
fn mutated_policies_never_panic_and_errors_name_the_file() {
    use depwarden::policy::Policy;
    let seed = br#"[gate]
fail_on = "low"
malicious = true
typosquat = "high"
confusion = "high"
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
    let path = Path::new("/fuzz/deployment/depwarden.toml");
    let mut rng = Rng(rng_seed());
    quiet_panics();
    let mut failures = Vec::new();
    for i in 0..=iterations() * 20 {
        let bytes = if i == 0 {
            seed.to_vec()
        } else {
            mutate(seed, &mut rng)
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match catch_unwind(AssertUnwindSafe(|| Policy::from_toml(&text, path))) {
            Err(_) => failures.push(format!("panic on {text:?}")),
            Ok(Err(e)) if !e.to_string().contains("depwarden.toml") => {
                failures.push(format!("error without the file: {e}"))
            }
            Ok(_) => {}
        }
    }
    QUIET.with(|q| q.set(false));
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );
}

/// Minimised crashers found by the mutation run above, kept as regressions.
#[test]
fn regression_crashers_stay_fixed() {
    let cases: &[(&str, SourceFormat, &str)] = &[
        // pep508_rs 0.9 panicked on a name ending in `.`/`-` followed by more input.
        (
            "requirements.txt",
            SourceFormat::Requirements,
            "pk1.==1.0\n",
        ),
        (
            "requirements.txt",
            SourceFormat::Requirements,
            "yolo..[x]==1\n",
        ),
        (
            "requirements.txt",
            SourceFormat::Requirements,
            "tabulate- >=0.8\nflask==2.0.0\n",
        ),
        (
            "requirements.txt",
            SourceFormat::Requirements,
            "-c constraints.txt\nx_ ; python_version<'3'\n",
        ),
        // ... and on an extra name ending in punctuation.
        (
            "requirements.txt",
            SourceFormat::Requirements,
            "flask[async-]==2.0\n",
        ),
        (
            "requirements.txt",
            SourceFormat::Requirements,
            "flask[a, b.]\n",
        ),
    ];
    for (name, format, text) in cases {
        let path = place(name, *format);
        if let Some(f) = check_one(&path, *format, text.as_bytes().to_vec()) {
            panic!("{text:?}: {f}");
        }
    }
}
