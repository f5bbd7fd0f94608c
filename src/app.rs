//! The command-line edge: runs a parsed [`Cli`] against the library and
//! returns an [`ExitStatus`]. Errors carry `anyhow` context here and only
//! here; `main.rs` maps the status to a process exit code.

use anyhow::{Context, Result};
use clap::Parser;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, InventoryArgs};
use crate::fs::OsFs;
use crate::parse::ParseOptions;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the gate is open.
    Passed,
    /// 1: the gate is closed by findings.
    GateClosed,
    /// 2: an error (usage, no usable DB, or with `--strict` an input that
    /// could not be scanned).
    Error,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Passed => 0,
            ExitStatus::GateClosed => 1,
            ExitStatus::Error => 2,
        }
    }
}

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
    match cli.command {
        Command::Inventory(args) => run_inventory(&args),
        Command::Scan(_) | Command::Db(_) | Command::Explain { .. } => {
            anyhow::bail!("this command is not available yet")
        }
    }
}

fn default_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    }
}

fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = jobs {
        b = b.num_threads(n.max(1));
    }
    b.build().context("cannot start worker threads")
}

fn run_inventory(args: &InventoryArgs) -> Result<ExitStatus> {
    let fs = OsFs::default();
    let paths = default_paths(&args.paths);
    let options = ParseOptions::default();
    let pool = thread_pool(args.jobs)?;
    let inv = match pool.install(|| crate::scan::inventory(&fs, &paths, &options)) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("depwarden: error: {e}");
            return Ok(ExitStatus::Error);
        }
    };
    let text = match args.format.as_str() {
        "json" => {
            let mut s = serde_json::to_string_pretty(&crate::report::inventory::to_json(&inv))?;
            s.push('\n');
            s
        }
        "table" => crate::report::inventory::to_table(&inv),
        other => {
            eprintln!(
                "depwarden: error: unknown inventory format '{other}' (expected json or table)"
            );
            return Ok(ExitStatus::Error);
        }
    };
    write_output(args.output.as_deref(), text.as_bytes())?;
    let failed = inv.deployments.iter().any(|d| d.has_errors()) || !inv.diagnostics.is_empty();
    Ok(if args.strict && failed {
        ExitStatus::Error
    } else {
        ExitStatus::Passed
    })
}

/// Writes `bytes` to `path` atomically (temporary file in the same
/// directory, then rename), or to stdout when `path` is `None`.
pub fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).context("cannot write to stdout")?;
            out.flush().context("cannot write to stdout")?;
        }
        Some(path) => crate::atomic::write_atomic(path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
    }
    Ok(())
}
