//! The `db` commands (`status`, `import`, `sync`, `export-metadata`,
//! `import-metadata`) and `explain`: each turns its flags into a call of
//! the advisory store or the metadata store and says what happened.

use anyhow::{Context, Result};
use std::path::Path;

use crate::app_io::{
    ExitStatus, db_dir, db_dir_or_say, error, error_chain, open_store, warning, write_output,
};
use crate::cli::GlobalArgs;
use crate::report::escape::{JsonMode, to_json, visible};

/// `db export-metadata` / `db import-metadata`.
pub(super) fn run_metadata(global: &GlobalArgs, file: &Path, export: bool) -> Result<ExitStatus> {
    let Some(db) = db_dir_or_say(global) else {
        return Ok(ExitStatus::Error);
    };
    match crate::resolve::cli::transfer(&db, file, export) {
        Ok(done) if !global.quiet => eprintln!("depwarden: {}", visible(&done)),
        Ok(_) => {}
        Err(e) => {
            error(&e);
            return Ok(ExitStatus::Error);
        }
    }
    Ok(ExitStatus::Passed)
}

pub(super) fn run_db_status(global: &GlobalArgs, format: &str) -> Result<ExitStatus> {
    let store = match open_store(global) {
        Ok(s) => s,
        Err(e) => {
            error(error_chain(&e));
            return Ok(ExitStatus::Error);
        }
    };
    let status = store.status().context("cannot read the database status")?;
    if !global.quiet {
        for w in store.warnings() {
            warning(w);
        }
    }
    let meta = db_dir(global).ok().and_then(|d| {
        crate::resolve::cli::status(&d)
            .map_err(|e| warning(&e))
            .ok()
            .flatten()
    });
    let text = if format == "json" {
        let mut v = serde_json::to_value(&status)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("registry_metadata".into(), serde_json::to_value(&meta)?);
        }
        to_json(&v, JsonMode::Exact)?
    } else {
        let mut s = format!(
            "database: {}\n",
            visible(&db_dir(global).map(|d| d.display().to_string())?)
        );
        s.push_str(&format!(
            "source: {}\n",
            visible(status.source.as_deref().unwrap_or("unknown"))
        ));
        s.push_str(&format!(
            "updated: {}\n",
            visible(status.imported_at.as_deref().unwrap_or("unknown"))
        ));
        for e in &status.ecosystems {
            s.push_str(&format!(
                "  {:<10} {:>6} records, newest modified {}, updated {} from {}\n",
                e.ecosystem.as_str(),
                e.records,
                visible(e.newest_modified.as_deref().unwrap_or("-")),
                visible(e.updated_at.as_deref().unwrap_or("-")),
                visible(e.source.as_deref().unwrap_or("-"))
            ));
        }
        s.push_str(&crate::resolve::cli::status_line(meta.as_ref()));

        s
    };
    write_output(None, text.as_bytes())?;
    Ok(ExitStatus::Passed)
}

/// Prints a writer's warnings (at most 20) and notes on stderr.
fn print_write_messages(global: &GlobalArgs, warnings: &[String], notes: &[String]) {
    if global.quiet {
        return;
    }
    for w in warnings.iter().take(20) {
        warning(w);
    }
    if warnings.len() > 20 {
        warning(format_args!("... and {} more", warnings.len() - 20));
    }
    for n in notes {
        eprintln!("depwarden: note: {}", visible(n));
    }
}

pub(super) fn run_db_import(
    global: &GlobalArgs,
    path: &Path,
    ecosystem: Option<&str>,
    allow_shrink: bool,
) -> Result<ExitStatus> {
    let Some(dir) = db_dir_or_say(global) else {
        return Ok(ExitStatus::Error);
    };
    let ecosystem = match ecosystem.map(|e| (e, crate::ecosystem::Ecosystem::from_user(e))) {
        None => None,
        Some((_, Some(e))) => Some(e),
        Some((name, None)) => {
            error(format_args!(
                "unknown ecosystem {name:?} (expected npm, PyPI or crates.io)"
            ));
            return Ok(ExitStatus::Error);
        }
    };
    let options = crate::advisory::import::ImportOptions {
        ecosystem,
        allow_shrink,
        progress: !global.no_progress && !global.quiet,
    };
    match crate::advisory::import::import_path_with(&dir, path, &options) {
        Ok(report) => {
            print_write_messages(global, &report.warnings, &report.notes);
            if !global.quiet {
                eprintln!("depwarden: {}", visible(&report.to_string()));
            }
            Ok(ExitStatus::Passed)
        }
        Err(e) => {
            error(format_args!(
                "import failed, the previous database is unchanged: {e}"
            ));
            Ok(ExitStatus::Error)
        }
    }
}

pub(super) fn run_db_sync(
    global: &GlobalArgs,
    source: Option<&str>,
    ecosystems: &[String],
    allow_shrink: bool,
) -> Result<ExitStatus> {
    let Some(dir) = db_dir_or_say(global) else {
        return Ok(ExitStatus::Error);
    };
    // Where the database comes from is never decided by a depwarden.toml
    // that is merely found in the working tree.
    let config_source =
        match crate::config_trust::database_source(Path::new("."), global.config.as_deref()) {
            Ok((source, note)) => {
                if let Some(n) = note
                    && !global.quiet
                {
                    warning(n);
                }
                source
            }
            Err(e) => {
                error(&e);
                return Ok(ExitStatus::Error);
            }
        };
    let source = source
        .map(str::to_string)
        .or(config_source)
        .unwrap_or_else(|| crate::advisory::sync::DEFAULT_BASE.to_string());
    let ecosystems = match crate::advisory::sync::parse_ecosystems(ecosystems) {
        Ok(e) => e,
        Err(e) => {
            error(&e);
            return Ok(ExitStatus::Error);
        }
    };
    let mut opts = crate::advisory::sync::SyncOptions::new(&source, ecosystems);
    opts.progress = !global.no_progress && !global.quiet;
    opts.allow_shrink = allow_shrink;
    match crate::advisory::sync::sync(&dir, &opts) {
        Ok(report) => {
            print_write_messages(global, &report.warnings, &report.notes);
            if !global.quiet {
                eprintln!(
                    "depwarden: synced from {}: {}",
                    visible(&source),
                    visible(&report.to_string())
                );
            }
            Ok(ExitStatus::Passed)
        }
        Err(e) => {
            error(format_args!(
                "sync failed, the previous database is unchanged: {e}"
            ));
            Ok(ExitStatus::Error)
        }
    }
}

pub(super) fn run_explain(global: &GlobalArgs, id: &str) -> Result<ExitStatus> {
    let store = match open_store(global) {
        Ok(s) => s,
        Err(e) => {
            error(error_chain(&e));
            return Ok(ExitStatus::Error);
        }
    };
    let Some(real) = store.resolve(id).context("cannot read the database")? else {
        error(format_args!("no advisory with id or alias {id}"));
        return Ok(ExitStatus::Error);
    };
    let Some(record) = store.record(&real).context("cannot read the database")? else {
        error(format_args!(
            "advisory {real} is indexed but its record is missing"
        ));
        return Ok(ExitStatus::Error);
    };
    let s = to_json(&record, JsonMode::Exact)?;
    write_output(None, s.as_bytes())?;
    Ok(ExitStatus::Passed)
}
