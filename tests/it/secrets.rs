//! Nothing depwarden prints or stores holds a credential: secrets planted
//! in every place a registry credential can live (`.npmrc`, `.yarnrc.yml`,
//! `pip.conf`, requirement options and direct references, lockfile
//! `resolved`/`tarball`/`source` URLs, `.cargo/config.toml`, git URLs,
//! Cargo.toml and Cargo.lock lines that fail to parse, `[registries]
//! public` and `[database] source` of the configuration, `db sync
//! --source`, `DEPWARDEN_OSV_URL`) are looked for in every output format,
//! stderr, and every file under the `--db` directory.

use crate::common::http::{Fault, Server};
use crate::common::{bin, fresh_db};
use depwarden::report::Format;
use std::io::Write;
use std::path::Path;

/// Every planted secret starts with this, so a leak of any of them, or of
/// a part of one, is found with one search of each file.
const MARKER: &str = "Zq9S";

const SECRETS: &[&str] = &[
    "Zq9S01npmrcpass",
    "Zq9S02npmrcquery",
    "Zq9S03authtoken",
    "Zq9S04password",
    "Zq9S05basicauth",
    "Zq9S06yarnpass",
    "Zq9S07yarntoken",
    "Zq9S08scopetoken",
    "Zq9S09yarnquery",
    "Zq9S10lockquery",
    "Zq9S11lockpass",
    "Zq9S12pipconf",
    "Zq9S13pipsig",
    "Zq9S14reqindex",
    "Zq9S15reqquery",
    "Zq9S16direct",
    "Zq9S17gittoken",
    "Zq9S19poetry",
    "Zq9S20cargogit",
    "Zq9S21cargoidx",
    "Zq9S22cargotoken",
    "Zq9S23badtoml",
    "Zq9S24badlock",
    "Zq9S25pnpmsig",
    "Zq9S26yarnlock",
    "Zq9S27uvsource",
    "Zq9S28public",
    "Zq9S29pubquery",
    "Zq9S30dbsource",
    "Zq9S31flag",
    "Zq9S32env",
    "Zq9S33fail",
];

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Deployments holding every kind of planted credential.
fn plant(root: &Path) {
    let web = root.join("web");
    write(
        &web,
        ".npmrc",
        "registry=https://deploy:Zq9S01npmrcpass@npm.corp.example/\n\
         @acme:registry=https://npm.corp.example/scoped/?token=Zq9S02npmrcquery\n\
         //npm.corp.example/:_authToken=Zq9S03authtoken\n\
         //npm.corp.example/:_password=Zq9S04password\n\
         _auth=Zq9S05basicauth\n",
    );
    write(
        &web,
        ".yarnrc.yml",
        "npmRegistryServer: \"https://y:Zq9S06yarnpass@npm.corp.example\"\n\
         npmAuthToken: Zq9S07yarntoken\n\
         npmScopes:\n  acme:\n    npmAuthToken: Zq9S08scopetoken\n    \
         npmRegistryServer: \"https://npm.corp.example/?access_token=Zq9S09yarnquery\"\n",
    );
    write(
        &web,
        "package.json",
        r#"{"name":"web","version":"1.0.0","dependencies":{"acme-billing":"1.0.0","lodash":"4.17.15"}}"#,
    );
    write(
        &web,
        "package-lock.json",
        r#"{"name":"web","version":"1.0.0","lockfileVersion":3,"packages":{
          "":{"name":"web","version":"1.0.0","dependencies":{"acme-billing":"1.0.0","lodash":"4.17.15"}},
          "node_modules/acme-billing":{"version":"1.0.0","resolved":"https://npm.corp.example/acme-billing/-/acme-billing-1.0.0.tgz?token=Zq9S10lockquery"},
          "node_modules/lodash":{"version":"4.17.15","resolved":"https://u:Zq9S11lockpass@npm.corp.example/lodash/-/lodash-4.17.15.tgz"}}}"#,
    );
    let py = root.join("py");
    write(
        &py,
        "pip.conf",
        "[global]\nindex-url = https://pip:Zq9S12pipconf@pypi.corp.example/simple\n\
         extra-index-url = https://pypi.corp.example/extra?sig=Zq9S13pipsig\n",
    );
    write(
        &py,
        "requirements.txt",
        "--index-url https://u:Zq9S14reqindex@pypi.corp.example/simple\n\
         --extra-index-url https://pypi.corp.example/x?access_token=Zq9S15reqquery\n\
         acme-lib==1.0\n\
         flask @ https://u:Zq9S16direct@files.corp.example/flask-2.0.0-py3-none-any.whl\n\
         -e git+https://Zq9S17gittoken@github.com/acme/x.git#egg=x\n",
    );
    let poetry = root.join("poetry");
    write(
        &poetry,
        "pyproject.toml",
        "[tool.poetry]\nname = \"p\"\nversion = \"0.1.0\"\n\
         [tool.poetry.dependencies]\npython = \"^3.12\"\nacme-core = \"1.0\"\n\
         [[tool.poetry.source]]\nname = \"corp\"\nurl = \"https://p:Zq9S19poetry@pypi.corp.example/simple\"\n",
    );
    let rs = root.join("rs");
    write(
        &rs,
        "Cargo.toml",
        "[package]\nname = \"edge\"\nversion = \"0.1.0\"\n\
         [dependencies]\nprivate = { git = \"https://Zq9S20cargogit@git.corp.example/x.git\" }\n",
    );
    write(
        &rs,
        ".cargo/config.toml",
        "[registries.corp]\nindex = \"sparse+https://c:Zq9S21cargoidx@cargo.corp.example/index/\"\n\
         token = \"Zq9S22cargotoken\"\n",
    );
    // Syntax errors on lines that hold credentials.
    write(
        &root.join("bad-toml"),
        "Cargo.toml",
        "[package]\nname = \"bad\"\nversion = \"0.1.0\"\n[dependencies]\n\
         foo = { git = \"https://u:Zq9S23badtoml@git.corp.example/x.git\" \n",
    );
    write(
        &root.join("bad-lock"),
        "Cargo.lock",
        "version = 4\n\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\n\
         source = \"registry+https://u:Zq9S24badlock@cargo.corp.example/index\" junk\n",
    );
    write(
        &root.join("pnpm"),
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      left-pad:\n        specifier: 1.3.0\n        version: 1.3.0\n\n\
         packages:\n\n  left-pad@1.3.0:\n    resolution: {integrity: sha512-AAAA, tarball: https://npm.corp.example/left-pad/-/left-pad-1.3.0.tgz?sig=Zq9S25pnpmsig}\n\n\
         snapshots:\n\n  left-pad@1.3.0: {}\n",
    );
    write(
        &root.join("yarn"),
        "yarn.lock",
        "# yarn lockfile v1\n\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n  \
         resolved \"https://npm.corp.example/left-pad/-/left-pad-1.3.0.tgz?access_token=Zq9S26yarnlock#abc\"\n",
    );
    write(
        &root.join("uv"),
        "uv.lock",
        "version = 1\nrequires-python = \">=3.12\"\n\n[[package]]\nname = \"acme-core\"\nversion = \"0.9.0\"\n\
         source = { registry = \"https://u:Zq9S27uvsource@pypi.corp.example/simple\" }\n",
    );
}

fn zip_of(entries: &[(&str, String)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Every file under `dir`, as bytes.
fn all_files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            all_files(&p, out);
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    memchr::memmem::find(hay, needle.as_bytes()).is_some()
}

#[test]
fn planted_credentials_never_reach_an_output_stderr_or_the_database() {
    let server = Server::start();
    let rec = r#"{"id":"GHSA-aaaa","modified":"2024-01-01T00:00:00Z","summary":"left-pad issue",
        "affected":[{"package":{"ecosystem":"npm","name":"left-pad"},
        "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.4.0"}]}]}]}"#;
    server.put(
        "/npm/all.zip",
        zip_of(&[("GHSA-aaaa.json", rec.to_string())]),
    );
    server.put(
        "/npm/modified_id.csv",
        b"2024-01-01T00:00:00Z,GHSA-aaaa\n".to_vec(),
    );
    server.fault("/fail/acme-billing", Fault::Error500(1000));
    let port = server.base.trim_start_matches("http://127.0.0.1:");

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    plant(&root);
    let cfg = tmp.path().join("depwarden.toml");
    std::fs::write(
        &cfg,
        format!(
            "[registries]\ninternal_scopes = [\"@acme\"]\ninternal_names = [\"acme-*\"]\ntimeout_ms = 2000\n\
             [registries.public]\nnpm = \"http://pub:Zq9S28public@127.0.0.1:{port}/fail\"\n\
             pypi = \"http://127.0.0.1:{port}/?token=Zq9S29pubquery\"\n\
             [database]\nsource = \"http://db:Zq9S30dbsource@127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();
    let (_keep, db) = fresh_db();
    let mut seen = String::new();
    let mut run = |args: &[&str], env: Option<(&str, String)>| {
        let mut cmd = bin();
        cmd.env_remove("DEPWARDEN_DB")
            .env_remove("DEPWARDEN_OSV_URL")
            .arg("--db")
            .arg(&db)
            .arg("--no-progress")
            .arg("--config")
            .arg(&cfg)
            .args(args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // Syncs from the configured source, a flag, the environment, and one
    // that fails (its error names the URL).
    // The served zip is much smaller than the snapshot's npm data.
    let (code, err) = run(
        &["db", "sync", "--ecosystem", "npm", "--allow-shrink"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(
        &[
            "db",
            "sync",
            "--ecosystem",
            "npm",
            "--source",
            &format!("http://u:Zq9S31flag@127.0.0.1:{port}"),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(
        &["db", "sync", "--ecosystem", "npm"],
        Some((
            "DEPWARDEN_OSV_URL",
            format!("http://u:Zq9S32env@127.0.0.1:{port}"),
        )),
    );
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(
        &[
            "db",
            "sync",
            "--ecosystem",
            "npm",
            "--source",
            &format!("http://u:Zq9S33fail@127.0.0.1:{port}/missing"),
        ],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("127.0.0.1") && err.contains("***"),
        "the URL is named: {err}"
    );
    for f in ["table", "json"] {
        run(&["db", "status", "--format", f], None);
    }
    let tree = root.to_str().unwrap();
    for format in Format::ALL {
        let (code, err) = run(&["scan", "--online", "--format", format.name(), tree], None);
        assert!(code == 0 || code == 1, "{}: {err}", format.name());
    }
    run(&["scan", "--strict", tree], None);
    for f in ["json", "table"] {
        run(&["inventory", "--format", f, tree], None);
    }
    // The planted files were read: their hosts and findings show.
    assert!(seen.contains("npm.corp.example"), "{seen}");
    assert!(seen.contains("acme-billing"), "{seen}");
    assert!(
        seen.contains("127.0.0.1"),
        "the failed lookup names its URL: {seen}"
    );
    assert!(
        seen.contains("bad-toml") && seen.contains("line 5"),
        "{seen}"
    );
    assert!(seen.contains("bad-lock"), "{seen}");
    for s in SECRETS {
        assert!(s.starts_with(MARKER));
        assert!(!seen.contains(s), "{s} printed:\n{seen}");
    }
    assert!(!seen.contains(MARKER), "part of a secret printed:\n{seen}");
    let mut files = Vec::new();
    all_files(&db, &mut files);
    assert!(
        files
            .iter()
            .any(|(p, _)| p.ends_with("registry-names.json"))
    );
    for (path, bytes) in &files {
        assert!(!contains(bytes, MARKER), "a secret is stored in {path}");
    }
}
