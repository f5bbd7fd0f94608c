//! The command-line edge: runs a parsed [`Cli`] against the library and
//! returns an [`ExitStatus`]. Errors carry `anyhow` context here and only
//! here; `main.rs` maps the status to a process exit code.

use anyhow::{Context, Result};
use clap::Parser;
use std::path::{Path, PathBuf};

mod db;

pub use crate::app_io::{ExitStatus, error, error_chain, warning, write_output};
use crate::app_io::{db_dir, db_dir_or_say, open_store};
use crate::audit::{AuditOptions, Auditor};
use crate::cli::{Cli, ColorChoice, Command, DbCommand, GlobalArgs, InventoryArgs, ScanArgs};
use crate::parse::ParseOptions;
use crate::policy::{FailOn, Policy};
use crate::progress::{Progress, timed};
use crate::report::Format;
use crate::report::escape::{JsonMode, to_json};
use crate::scan::Inventory;
use db::{run_db_import, run_db_status, run_db_sync, run_explain, run_metadata};
use std::io::IsTerminal;
use std::sync::atomic::AtomicU64;

/// Parses `std::env::args` and runs the command. Usage errors print clap's
/// message and give [`ExitStatus::Error`].
pub fn run_from_args() -> Result<ExitStatus> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let is_error = e.use_stderr();
            let _ = e.print();
            return Ok(if is_error {
                ExitStatus::Error
            } else {
                ExitStatus::Passed
            });
        }
    };
    run(cli)
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<ExitStatus> {
    let global = cli.global;
    match cli.command {
        Command::Inventory(args) => run_inventory(&global, &args),
        Command::Scan(args) => run_scan(&global, &args),
        Command::Db(DbCommand::Status { format }) => run_db_status(&global, &format),
        Command::Db(DbCommand::Import {
            path,
            ecosystem,
            allow_shrink,
        }) => run_db_import(&global, &path, ecosystem.as_deref(), allow_shrink),
        Command::Db(DbCommand::Sync {
            source,
            ecosystems,
            allow_shrink,
        }) => run_db_sync(&global, source.as_deref(), &ecosystems, allow_shrink),
        Command::Db(DbCommand::ExportMetadata { file }) => run_metadata(&global, &file, true),
        Command::Db(DbCommand::ImportMetadata { file }) => run_metadata(&global, &file, false),
        Command::Resolve(args) => run_inventory(&global, &crate::resolve::cli::as_inventory(args)),
        Command::Explain { id } => run_explain(&global, &id),
    }
}

/// The resolver of a command line ([`crate::resolve::cli::resolver`]);
/// `None` when it cannot be had (said on stderr).
fn build_resolver(
    global: &GlobalArgs,
    args: &crate::cli::ResolveArgs,
    online: bool,
    policy: &Policy,
) -> Option<Option<crate::resolve::Resolver>> {
    let db = || db_dir(global).map_err(|e| e.to_string());
    crate::resolve::cli::resolver(args, online, policy, global.config.is_some(), db)
        .map_err(error)
        .ok()
}

fn run_scan(global: &GlobalArgs, args: &ScanArgs) -> Result<ExitStatus> {
    let paths = default_paths(&args.paths);
    let mut formats: Vec<Format> = Vec::new();
    for name in &args.format {
        match Format::parse(name) {
            Some(f) => formats.push(f),
            None => {
                let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                error(format_args!(
                    "unknown format '{name}' (expected one of: {})",
                    known.join(", ")
                ));
                return Ok(ExitStatus::Error);
            }
        }
    }
    if formats.is_empty() {
        formats.push(Format::Table);
    }
    if formats.len() > 1 && args.output.is_none() {
        error("several formats need --output FILE (each format is written to FILE.<ext>)");
        return Ok(ExitStatus::Error);
    }
    let fail_on = match args.fail_on.as_deref().map(|l| (l, FailOn::parse(l))) {
        None => None,
        Some((_, Some(f))) => Some(f),
        Some((level, None)) => {
            error(format_args!(
                "--fail-on {level}: expected none, low, medium, high or critical"
            ));
            return Ok(ExitStatus::Error);
        }
    };
    let flags = crate::config_trust::Flags {
        fail_on,
        include_dev: args.include_dev,
    };
    let mut scan_policy =
        match crate::config_trust::ScanPolicy::load(&paths[0], global.config.as_deref(), flags) {
            Ok(p) => p,
            Err(e) => {
                error(&e);
                return Ok(ExitStatus::Error);
            }
        };
    let config_dir = scan_policy
        .config_path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    let vex = match crate::vex::load_all(config_dir.as_deref(), &scan_policy.global.vex, &args.vex)
    {
        Ok(docs) => docs,
        Err(e) => {
            error(&e);
            return Ok(ExitStatus::Error);
        }
    };
    let report_only = match args.gate.as_deref() {
        None | Some("on") => false,
        Some("none") => true,
        Some(other) => {
            eprintln!("depwarden: error: --gate {other}: expected none or on");
            return Ok(ExitStatus::Error);
        }
    };
    let Some(db) = db_dir_or_say(global) else {
        return Ok(ExitStatus::Error);
    };
    let Some(resolver) = build_resolver(global, &args.resolve, args.online, &scan_policy.global)
    else {
        return Ok(ExitStatus::Error);
    };
    let mut progress = Progress::new(!global.no_progress && !global.quiet, global.timings);
    // The database is opened while the tree is searched: both are short
    // and independent, and a one-lockfile CI scan feels every millisecond.
    progress.stage("opening database, discovering");
    let pool = thread_pool(args.jobs)?;
    let options = ParseOptions::new(
        scan_policy.global.target.target(),
        scan_policy.global.limits.limits(),
    );
    let tree = crate::scan::ScanTree::new(&paths, args.zips, options.limits.max_file_size);
    let open_ns = AtomicU64::new(0);
    let discover_ns = AtomicU64::new(0);
    let (store, discovery) = pool.install(|| {
        rayon::join(
            || timed(&open_ns, || open_store(global)),
            || timed(&discover_ns, || tree.discover()),
        )
    });
    progress.detail("database open (wall)", &open_ns);
    progress.detail("discovery (wall)", &discover_ns);
    let store = match store {
        Ok(s) => s,
        Err(e) => {
            progress.finish();
            error(error_chain(&e));
            return Ok(ExitStatus::Error);
        }
    };
    let mut discovery = match discovery {
        Ok(d) => d,
        Err(e) => {
            progress.finish();
            error(&e);
            return Ok(ExitStatus::Error);
        }
    };
    // Functions hook: templates read, their zips discovered, targets set.
    let project = crate::functions::pipeline::prepare(&tree, &mut discovery, options.target);
    let roots = crate::functions::pipeline::roots(&discovery.deployments);
    let policies =
        match crate::scan::policies(&mut scan_policy, &discovery.deployments, report_only) {
            Ok(o) => o,
            Err(e) => {
                progress.finish();
                error(&e);
                return Ok(ExitStatus::Error);
            }
        };
    progress.stage("parsing and matching");
    let opts = AuditOptions {
        config_path: scan_policy
            .config_path
            .as_ref()
            .map(|p| p.display().to_string()),
        config_files: scan_policy.files.clone(),
        supply: crate::supply::SupplyOptions {
            online: args.online,
            cache_path: Some(crate::supply::registry_lookup::Lookup::cache_path_for(&db)),
            lookup_budget: Default::default(),
        },
        vex,
    };
    // Deployments are parsed and audited one by one and their graphs
    // dropped, unless a format needs the whole inventory (CycloneDX).
    let keep_inventory = formats.iter().any(|f| f.needs_inventory());
    let auditor = Auditor::new(&store, &policies, &opts);
    let results = pool.install(|| {
        tree.stream(discovery.deployments, &options, |i, mut parsed| {
            if let Some(r) = &resolver {
                r.apply(tree.fs(), &mut parsed);
            }
            let audited = auditor.deployment(i, &parsed);
            let packages = crate::functions::pipeline::keep(&project, &parsed);
            (audited, keep_inventory.then_some(parsed), packages)
        })
    });
    let mut audits = Vec::with_capacity(results.len());
    let mut kept = Vec::new();
    let mut packages = Vec::with_capacity(results.len());
    for (audited, parsed, pkgs) in results {
        audits.push(audited.context("advisory database read failed")?);
        kept.extend(parsed);
        packages.push(pkgs);
    }
    let inv = Inventory {
        deployments: kept,
        diagnostics: discovery.diagnostics,
    };
    let table = crate::functions::runtime::RuntimeTable::load(Some(&db));
    let (functions, links) = crate::functions::pipeline::finish(
        &project,
        &tree,
        &roots,
        &packages,
        &table,
        options.target,
    );
    let mut report = auditor
        .finish(audits, &inv.diagnostics, functions)
        .context("advisory database read failed")?;
    crate::functions::assemble::attach_findings(&mut report.functions, &links, &report.deployments);
    progress.detail("parse (cpu)", &auditor.times.parse_ns);
    progress.detail("advisories (cpu)", &auditor.times.advisories_ns);
    progress.detail("supply checks (cpu)", &auditor.times.supply_ns);
    report.database.path = db.display().to_string();
    report.database.warnings.extend(store.warnings());
    let max_age = args
        .max_db_age
        .or(policies.global().database.max_age_days)
        .unwrap_or(7);
    let stale = crate::gate::database_age_problems(&report.database, &report.deployments, max_age);
    if args.max_db_age.is_some() && !stale.is_empty() {
        progress.finish();
        for s in &stale {
            error(s);
        }
        return Ok(ExitStatus::Error);
    }
    report.database.warnings.extend(stale);
    progress.stage("reporting");
    let color = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    // `--strict` turns an open gate with unscanned inputs into an error,
    // and every format says so (never "gate: passed" with exit code 2).
    if args.strict && report.gate.passed && has_unscanned(&report) {
        report.gate.passed = false;
        report.gate.error =
            Some("--strict: not every input could be scanned (see the errors)".into());
    }
    for &format in &formats {
        let text = crate::report::render(format, &report, &inv, color)?;
        let target = output_path(args.output.as_deref(), format, formats.len());
        write_output(target.as_deref(), text.as_bytes())?;
    }
    progress.finish();
    step_summary(&report);
    if !global.quiet {
        for w in &report.database.warnings {
            warning(w);
        }
    }
    Ok(if report.gate.error.is_some() {
        ExitStatus::Error
    } else if !report.gate.passed {
        ExitStatus::GateClosed
    } else {
        ExitStatus::Passed
    })
}

/// Appends the Markdown report to the GitHub Actions job summary when
/// `GITHUB_STEP_SUMMARY` is set; a failure is a warning (the report itself
/// was written).
fn step_summary(report: &crate::report::model::ScanReport) {
    use crate::report::step_summary::{Appended, ENV, append};
    let Some(path) = std::env::var_os(ENV).filter(|p| !p.is_empty()) else {
        return;
    };
    let path = PathBuf::from(path);
    match append(&path, &crate::report::markdown::render(report)) {
        Ok(Appended::Whole) => {}
        Ok(Appended::Cut) => warning(format_args!(
            "{ENV}: the summary was cut to stay within GitHub's 1 MiB limit"
        )),
        Ok(Appended::Nothing) => warning(format_args!(
            "{ENV}: {} is already at GitHub's 1 MiB limit; no summary added",
            path.display()
        )),
        Err(e) => warning(format_args!(
            "{ENV}: cannot append to {}: {e}",
            path.display()
        )),
    }
}

/// True when something could not be scanned: a source that did not parse,
/// an error-level diagnostic, or a problem outside any deployment.
fn has_unscanned(report: &crate::report::model::ScanReport) -> bool {
    report.summary.unscanned_sources > 0
        || report.deployments.iter().any(|d| {
            d.errors
                .iter()
                .any(|e| e.level == crate::diagnostic::Level::Error)
        })
        || !report.errors.is_empty()
        || report.functions.iter().any(|f| {
            f.errors
                .iter()
                .any(|e| e.level == crate::diagnostic::Level::Error)
        })
}

/// Where one format goes: the given file for a single format; with several
/// formats, the file name as a stem plus the format's extension.
fn output_path(output: Option<&Path>, format: Format, count: usize) -> Option<PathBuf> {
    let out = output?;
    if count == 1 {
        return Some(out.to_path_buf());
    }
    let mut name = out.as_os_str().to_os_string();
    name.push(".");
    name.push(format.extension());
    Some(PathBuf::from(name))
}

fn default_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    }
}

/// The worker pool: `--jobs N` threads (at most [`crate::limits::MAX_JOBS`];
/// a larger value is refused), else one per core.
fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = jobs {
        anyhow::ensure!(
            n <= crate::limits::MAX_JOBS,
            "--jobs {n}: at most {} worker threads",
            crate::limits::MAX_JOBS
        );
        b = b.num_threads(n.max(1));
    }
    b.build().context("cannot start worker threads")
}

fn run_inventory(global: &GlobalArgs, args: &InventoryArgs) -> Result<ExitStatus> {
    let paths = default_paths(&args.paths);
    // Only `[limits]`, `[target]` and, from `--config`, `[registries]
    // resolve` of the configuration matter to an inventory.
    let policy = match Policy::find(&paths[0], global.config.as_deref()) {
        Ok(found) => found.map(|(_, p)| p).unwrap_or_default(),
        Err(e) => {
            error(&e);
            return Ok(ExitStatus::Error);
        }
    };
    let options = ParseOptions::new(policy.target.target(), policy.limits.limits());
    let Some(resolver) = build_resolver(global, &args.resolve, args.online, &policy) else {
        return Ok(ExitStatus::Error);
    };
    let hook = |fs: &dyn crate::fs::Fs, d: &mut crate::scan::ParsedDeployment| {
        if let Some(r) = &resolver {
            r.apply(fs, d);
        }
    };
    let pool = thread_pool(args.jobs)?;
    let table = crate::functions::runtime::RuntimeTable::load(db_dir(global).ok().as_deref());
    let found = pool.install(|| {
        crate::functions::pipeline::inventory(&paths, args.zips, &options, &table, &hook)
    });
    let (inv, functions) = match found {
        Ok(found) => found,
        Err(e) => {
            error(&e);
            return Ok(ExitStatus::Error);
        }
    };
    let text = match args.format.as_str() {
        "json" => to_json(
            &crate::report::inventory::to_json_with(&inv, &functions),
            JsonMode::Exact,
        )?,
        "table" => crate::report::inventory::to_table(&inv, &functions),
        other => {
            error(format_args!(
                "unknown inventory format '{other}' (expected json or table)"
            ));
            return Ok(ExitStatus::Error);
        }
    };
    write_output(args.output.as_deref(), text.as_bytes())?;
    let failed = inv.deployments.iter().any(|d| d.has_errors())
        || !inv.diagnostics.is_empty()
        || functions.iter().any(|f| {
            f.errors
                .iter()
                .any(|e| e.level == crate::diagnostic::Level::Error)
        });
    Ok(if args.strict && failed {
        ExitStatus::Error
    } else {
        ExitStatus::Passed
    })
}
