//! A synthetic npm `all.zip` shaped like the OSV bucket's: 90 % malicious
//! package reports (`MAL-*`, as the OpenSSF malicious-packages feed writes
//! them: origins with sha256 digests, CWE-506, `introduced: 0` or a list
//! of versions) and 10 % GHSA-style vulnerability records (CVE aliases,
//! SEMVER ranges over one to three packages, a CVSS v3.1 vector, CWE ids,
//! references, a few paragraphs of details). About 1,000 bytes of JSON per
//! record on average and a zip a little under half the JSON's size, like
//! the real export. Deterministic for a given seed.

use std::io::Write;

/// splitmix64: small, fast and good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(n);
        s
    }
}

const SYLLABLES: &[&str] = &[
    "ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "qi", "ro", "su", "ta",
    "ve", "wi", "xo", "yu", "za", "bri", "cla", "dro", "fle", "gri", "plo", "str", "tra", "zen",
];
const WORDS: &[&str] = &[
    "react", "vue", "angular", "node", "express", "lodash", "axios", "webpack", "babel", "eslint",
    "jest", "mocha", "chalk", "debug", "utils", "helper", "config", "loader", "plugin", "core",
    "cli", "sdk", "api", "client", "server", "auth", "crypto", "stream", "parser", "json", "yaml",
    "async", "promise", "color", "string", "array", "object", "path", "file", "http", "socket",
];
const PROSE: &[&str] = &[
    "the",
    "a",
    "an",
    "attacker",
    "can",
    "may",
    "allows",
    "remote",
    "crafted",
    "input",
    "request",
    "when",
    "parsing",
    "untrusted",
    "data",
    "function",
    "leads",
    "to",
    "denial",
    "of",
    "service",
    "arbitrary",
    "code",
    "execution",
    "prototype",
    "pollution",
    "via",
    "in",
    "versions",
    "prior",
    "before",
    "is",
    "vulnerable",
    "because",
    "does",
    "not",
    "properly",
    "validate",
    "sanitize",
    "user",
    "supplied",
    "regular",
    "expression",
    "path",
    "traversal",
    "cross-site",
    "scripting",
    "memory",
    "exhaustion",
    "header",
    "injection",
    "this",
    "issue",
    "has",
    "been",
    "patched",
    "upgrade",
    "users",
    "should",
    "as",
    "workaround",
    "avoid",
    "passing",
    "options",
    "object",
];
const CWES: &[&str] = &[
    "CWE-79", "CWE-400", "CWE-1333", "CWE-22", "CWE-94", "CWE-1321", "CWE-20", "CWE-78", "CWE-352",
    "CWE-200", "CWE-918", "CWE-770",
];

fn package_name(r: &mut Rng) -> String {
    let mut name = String::new();
    if r.below(5) == 0 {
        name.push('@');
        for _ in 0..2 + r.below(2) {
            name.push_str(r.pick(SYLLABLES));
        }
        name.push('/');
    }
    match r.below(3) {
        0 => {
            name.push_str(r.pick(WORDS));
            name.push('-');
            name.push_str(r.pick(WORDS));
        }
        1 => {
            for _ in 0..2 + r.below(3) {
                name.push_str(r.pick(SYLLABLES));
            }
        }
        _ => {
            name.push_str(r.pick(WORDS));
            name.push('-');
            for _ in 0..2 + r.below(2) {
                name.push_str(r.pick(SYLLABLES));
            }
        }
    }
    name
}

fn sentence(r: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(r.pick(PROSE));
    }
    s.push('.');
    s
}

fn date(r: &mut Rng, year_from: u64, years: u64) -> String {
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:00Z",
        year_from + r.below(years),
        1 + r.below(12),
        1 + r.below(28),
        r.below(24),
        r.below(60),
    )
}

fn timestamp(r: &mut Rng, year_from: u64, years: u64) -> String {
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        year_from + r.below(years),
        1 + r.below(12),
        1 + r.below(28),
        r.below(24),
        r.below(60),
        r.below(60),
        r.below(1_000_000)
    )
}

fn version(r: &mut Rng) -> String {
    format!("{}.{}.{}", r.below(8), r.below(30), r.below(20))
}

/// One malicious-package report.
pub fn mal_record(r: &mut Rng, n: u64, modified: &str) -> (String, String) {
    let id = format!("MAL-{}-{}", 2022 + n % 4, 1000 + n);
    let name = package_name(r);
    let sha = r.hex(64);
    let published = date(r, 2022, 3);
    let source = if r.below(3) == 0 {
        "ghsa-malware"
    } else {
        "ossf-package-analysis"
    };
    let (affected_versions, origin_versions) = if r.below(2) == 0 {
        (
            r#""ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]"#.to_string(),
            r#""ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]"#.to_string(),
        )
    } else {
        let vs: Vec<String> = (0..1 + r.below(3))
            .map(|_| format!("\"{}\"", version(r)))
            .collect();
        (
            format!(r#""versions":[{}]"#, vs.join(",")),
            format!(r#""versions":[{}]"#, vs.join(",")),
        )
    };
    let alias = if source == "ghsa-malware" {
        format!(
            r#""aliases":["GHSA-{}-{}-{}"],"#,
            &r.hex(4),
            &r.hex(4),
            &r.hex(4)
        )
    } else {
        String::new()
    };
    let json = format!(
        concat!(
            r#"{{"id":"{id}","summary":"Malicious code in {name} (npm)","details":"\n---\n_-= Per source details. Do not edit below this line.=-_\n\n## Source: {source}\n"#,
            r#"","#,
            r#"{alias}"modified":"{modified}","published":"{published}","#,
            r#""database_specific":{{"malicious-packages-origins":[{{"import_time":"{import}","source":"{source}","sha256":"{sha}",{origin_versions}}}]}},"#,
            r#""affected":[{{"package":{{"ecosystem":"npm","name":"{name}"}},{affected_versions},"#,
            r#""database_specific":{{"cwes":[{{"cweId":"CWE-506","name":"Embedded Malicious Code"}}]}}}}],"schema_version":"1.7.3"}}"#
        ),
        id = id,
        name = name,
        source = source,
        sha = sha,
        alias = alias,
        modified = modified,
        published = published,
        import = date(r, 2023, 3),
        origin_versions = origin_versions,
        affected_versions = affected_versions,
    );
    (id, json)
}

/// One GHSA-style vulnerability record.
pub fn ghsa_record(r: &mut Rng, modified: &str) -> (String, String) {
    let id = format!("GHSA-{}-{}-{}", r.hex(4), r.hex(4), r.hex(4));
    let cve = format!("CVE-{}-{}", 2018 + r.below(8), 10000 + r.below(90000));
    let mut affected = Vec::new();
    let main = package_name(r);
    for i in 0..1 + r.below(3) {
        let name = if i == 0 {
            main.clone()
        } else {
            format!("{main}-{}", r.pick(WORDS))
        };
        let introduced = if r.below(2) == 0 {
            "0".to_string()
        } else {
            version(r)
        };
        let end = if r.below(4) == 0 {
            format!(r#"{{"last_affected":"{}"}}"#, version(r))
        } else {
            format!(r#"{{"fixed":"{}"}}"#, version(r))
        };
        affected.push(format!(
            r#"{{"package":{{"ecosystem":"npm","name":"{name}","purl":"pkg:npm/{purl}"}},"ranges":[{{"type":"SEMVER","events":[{{"introduced":"{introduced}"}},{end}]}}],"database_specific":{{"source":"https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/{year}/0{month}/{id}/{id}.json"}}}}"#,
            purl = name.replace('@', "%40"),
            year = 2019 + r.below(6),
            month = 1 + r.below(9),
        ));
    }
    let mut details = String::new();
    for _ in 0..3 + r.below(4) {
        let words = 12 + r.below(12) as usize;
        details.push_str(&sentence(r, words));
        details.push(' ');
    }
    let refs: Vec<String> = (0..3 + r.below(4))
        .map(|i| match i {
            0 => format!(r#"{{"type":"ADVISORY","url":"https://nvd.nist.gov/vuln/detail/{cve}"}}"#),
            1 => format!(
                r#"{{"type":"WEB","url":"https://github.com/{}/{}/commit/{}"}}"#,
                r.pick(WORDS),
                main,
                r.hex(40)
            ),
            2 => format!(
                r#"{{"type":"PACKAGE","url":"https://github.com/{}/{main}"}}"#,
                r.pick(WORDS)
            ),
            _ => format!(
                r#"{{"type":"WEB","url":"https://security.example.com/advisories/{}"}}"#,
                r.hex(12)
            ),
        })
        .collect();
    let av = ["N", "A", "L"];
    let lvl = ["N", "L", "H"];
    let vector = format!(
        "CVSS:3.1/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}",
        av[r.below(3) as usize],
        ["L", "H"][r.below(2) as usize],
        lvl[r.below(3) as usize],
        ["N", "R"][r.below(2) as usize],
        ["U", "C"][r.below(2) as usize],
        lvl[r.below(3) as usize],
        lvl[r.below(3) as usize],
        lvl[r.below(3) as usize],
    );
    let cwes: Vec<String> = (0..1 + r.below(2))
        .map(|_| format!("\"{}\"", r.pick(CWES)))
        .collect();
    let summary_words = 6 + r.below(6) as usize;
    let summary = sentence(r, summary_words);
    let json = format!(
        concat!(
            r#"{{"schema_version":"1.7.3","id":"{id}","published":"{published}","modified":"{modified}","aliases":["{cve}"],"#,
            r#""summary":"{summary}","details":"{details}","affected":[{affected}],"references":[{refs}],"#,
            r#""database_specific":{{"cwe_ids":[{cwes}],"github_reviewed":true,"github_reviewed_at":"{reviewed}","nvd_published_at":"{nvd}","severity":"{severity}"}},"#,
            r#""severity":[{{"type":"CVSS_V3","score":"{vector}"}}]}}"#
        ),
        id = id,
        published = timestamp(r, 2019, 6),
        modified = modified,
        cve = cve,
        summary = summary,
        details = details.trim_end(),
        affected = affected.join(","),
        refs = refs.join(","),
        cwes = cwes.join(","),
        reviewed = timestamp(r, 2019, 6),
        nvd = timestamp(r, 2019, 6),
        severity = ["LOW", "MODERATE", "HIGH", "CRITICAL"][r.below(4) as usize],
        vector = vector,
    );
    (id, json)
}

/// Record `n` of a synthetic feed: every tenth is a GHSA-style record.
pub fn record(seed: u64, n: u64, modified: &str) -> (String, String) {
    let mut r = Rng::new(seed ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d));
    if n % 10 == 9 {
        ghsa_record(&mut r, modified)
    } else {
        mal_record(&mut r, n, modified)
    }
}

/// The `modified` date of record `n` (spread over 2023-2025, before the
/// pinned clock of the benchmark).
pub fn modified_of(seed: u64, n: u64) -> String {
    let mut r = Rng::new(seed.wrapping_add(n).wrapping_mul(31));
    timestamp(&mut r, 2023, 3)
}

/// Writes a zip of `records` records; returns (JSON bytes, ids).
pub fn write_zip(path: &std::path::Path, records: u64, seed: u64) -> std::io::Result<u64> {
    let f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut json_bytes = 0u64;
    for n in 0..records {
        let (id, json) = record(seed, n, &modified_of(seed, n));
        let json = pretty(&json);
        json_bytes += json.len() as u64;
        z.start_file(format!("{id}.json"), opts)
            .map_err(std::io::Error::other)?;
        z.write_all(json.as_bytes())?;
    }
    z.finish().map_err(std::io::Error::other)?;
    Ok(json_bytes)
}

/// Two-space indentation, as the bucket's export writes records.
pub fn pretty(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).expect("generated JSON");
    serde_json::to_string_pretty(&v).expect("JSON")
}
