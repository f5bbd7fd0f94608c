//! The command line's side of resolution: the resolver a command line asks
//! for, `depwarden resolve` as an inventory, exporting and importing the
//! metadata store, and the store's line in `db status`.

use super::store::{MetaStatus, MetaStore};
use crate::cli::{InventoryArgs, ResolveArgs, ResolveCommandArgs};
use crate::policy::Policy;
use crate::report::escape::visible;
use std::path::{Path, PathBuf};

/// `depwarden resolve`: an inventory with `--resolve`.
pub fn as_inventory(args: ResolveCommandArgs) -> InventoryArgs {
    InventoryArgs {
        paths: args.paths,
        format: args.format,
        output: args.output,
        jobs: None,
        strict: args.strict,
        zips: false,
        online: args.online,
        resolve: ResolveArgs {
            resolve: true,
            resolve_cutoff: args.resolve_cutoff,
            registries: args.registries,
        },
    }
}

/// The resolver of a command line: `None` without `--resolve`. Registry
/// bases come from `--registry`, the environment, or `[registries]
/// resolve` of `policy` when it was given with `--config` (`from_config`;
/// never one found in the scanned tree); the cutoff from
/// `--resolve-cutoff`, else now. `db` is the database directory.
pub fn resolver(
    args: &ResolveArgs,
    online: bool,
    policy: &Policy,
    from_config: bool,
    db: impl FnOnce() -> Result<PathBuf, String>,
) -> Result<Option<super::Resolver>, String> {
    if !args.resolve {
        return Ok(None);
    }
    let cutoff = match &args.resolve_cutoff {
        Some(c) => crate::clock::parse_instant(c)
            .ok_or_else(|| format!("--resolve-cutoff {c}: expected an RFC 3339 time or a date"))?,
        None => crate::clock::now(),
    };
    let mut fetch = super::fetch::FetchOptions::default();
    if from_config {
        for (k, v) in &policy.registries.resolve {
            fetch
                .registries
                .set(k, v)
                .map_err(|e| format!("[registries] resolve: {e}"))?;
        }
    }
    for (k, var) in super::fetch::REGISTRY_ENV {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
            fetch
                .registries
                .set(k, &v)
                .map_err(|e| format!("{var}: {e}"))?;
        }
    }
    for r in &args.registries {
        let (k, v) = r
            .split_once('=')
            .ok_or_else(|| format!("--registry {r}: expected ECOSYSTEM=URL"))?;
        fetch
            .registries
            .set(k.trim(), v.trim())
            .map_err(|e| format!("--registry: {e}"))?;
    }
    let opts = super::ResolveOptions {
        cutoff,
        online,
        store_dir: MetaStore::dir_for(&db()?),
        fetch,
        target: policy.target.target(),
    };
    super::Resolver::new(opts)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// `db export-metadata` (`export`) / `db import-metadata`: the message to
/// print on success (how many documents), or the error.
pub fn transfer(db: &Path, file: &Path, export: bool) -> Result<String, String> {
    let dir = MetaStore::dir_for(db);
    let opened = if export {
        MetaStore::open_existing(&dir)
    } else {
        MetaStore::open(&dir).map(Some)
    };
    let store = match opened {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(format!(
                "no registry-metadata store at {}; fill it with `depwarden resolve --online`",
                dir.display()
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    let n = if export {
        store.export(file)
    } else {
        store.import(file)
    }
    .map_err(|e| e.to_string())?;
    let verb = if export { "exported" } else { "imported" };
    Ok(format!(
        "{verb} {n} registry documents ({})",
        file.display()
    ))
}

/// The metadata store's status beside the database `db`, `None` when
/// there is no store; `Err` when it cannot be read.
pub fn status(db: &Path) -> Result<Option<MetaStatus>, String> {
    match MetaStore::open_existing(&MetaStore::dir_for(db)) {
        Ok(Some(m)) => m
            .status()
            .map(Some)
            .map_err(|e| format!("cannot read the registry-metadata store: {e}")),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// The store's line in the `db status` table.
pub fn status_line(meta: Option<&MetaStatus>) -> String {
    let Some(m) = meta else {
        return "registry metadata: none (filled by `depwarden resolve --online`)\n".into();
    };
    let docs: Vec<String> = m
        .documents
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    format!(
        "registry metadata: {} ({} bytes): {}; fetched {} to {}\n",
        visible(&m.path),
        m.bytes,
        docs.join(", "),
        m.oldest_fetch.as_deref().unwrap_or("-"),
        m.newest_fetch.as_deref().unwrap_or("-")
    )
}
