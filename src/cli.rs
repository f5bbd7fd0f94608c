//! Command-line definitions (clap derive) and nothing else.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// depwarden: find vulnerable, malicious, typosquatted and confusable
/// dependencies in serverless deployment packages.
#[derive(Debug, Parser)]
#[command(name = "depwarden", version, about, propagate_version = true)]
pub struct Cli {
    /// Global options, accepted before or after the subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Advisory database directory (default: the user's cache directory).
    #[arg(long, global = true, env = "DEPWARDEN_DB", value_name = "DIR")]
    pub db: Option<PathBuf>,
    /// Never show progress bars.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Configuration file (default: depwarden.toml in the scanned root or
    /// its parents up to the git root).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print nothing on stderr but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to use colours in table output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print the time spent in each stage to stderr.
    #[arg(long, global = true)]
    pub timings: bool,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colours when stdout is a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan deployment packages: inventory, match advisories, flag supply
    /// risks, apply the gate.
    Scan(ScanArgs),
    /// Print the dependency graphs found, without matching.
    Inventory(InventoryArgs),
    /// Resolve manifests without a lockfile (package.json,
    /// requirements.txt, pyproject.toml, Cargo.toml) to the tree the
    /// installer would install, and print it; `--online` fetches the
    /// registry metadata it needs into the metadata store.
    Resolve(ResolveCommandArgs),
    /// Manage the advisory database and the registry-metadata store.
    #[command(subcommand)]
    Db(DbCommand),
    /// Show one advisory, by id or alias.
    Explain {
        /// Advisory id or alias (GHSA-..., PYSEC-..., RUSTSEC-..., CVE-...).
        id: String,
    },
}

/// Arguments of `scan`.
#[derive(Debug, Args, Clone)]
pub struct ScanArgs {
    /// Paths to scan: directories (searched for deployment packages) or
    /// single files. Default: the current directory.
    pub paths: Vec<PathBuf>,
    /// Output formats, comma-separated: table, json, sarif, cyclonedx,
    /// markdown (default: table).
    #[arg(long, short, value_delimiter = ',')]
    pub format: Vec<String>,
    /// Write the report to FILE instead of stdout (atomically). With several
    /// formats, FILE is a stem and each format gets its own extension.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Lowest vulnerability severity that closes the gate: none, low,
    /// medium, high or critical. It covers vulnerability findings only;
    /// malicious packages, typosquats and dependency-confusion risks have
    /// their own [gate] settings (malicious = true, typosquat = "high",
    /// confusion = "high" by default), so they still close the gate with
    /// --fail-on none. Use --gate none to report everything without
    /// closing the gate.
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<String>,
    /// `none`: report every finding and never close the gate (exit 0
    /// unless an error), whatever the [gate] settings; `on` (default): the
    /// gate as configured.
    #[arg(long, value_name = "MODE")]
    pub gate: Option<String>,
    /// Let dev-only findings close the gate.
    #[arg(long)]
    pub include_dev: bool,
    /// Look names up on the public registries (dependency confusion).
    #[arg(long)]
    pub online: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// Any source that could not be scanned makes the exit code 2.
    #[arg(long)]
    pub strict: bool,
    /// Scan `.zip` files found during discovery as deployment packages
    /// (read in memory, never unpacked to disk).
    #[arg(long)]
    pub zips: bool,
    /// Refuse to scan when the advisory data is older than this many days.
    #[arg(long, value_name = "DAYS")]
    pub max_db_age: Option<u64>,
    /// Resolution of manifests without a lockfile.
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

/// Options of manifest resolution (`scan`, `inventory`, `resolve`).
#[derive(Debug, Args, Clone, Default)]
pub struct ResolveArgs {
    /// Resolve manifests without a lockfile to the tree the installer
    /// would install (from the registry-metadata store; fetched with
    /// `--online`).
    #[arg(long)]
    pub resolve: bool,
    /// Ignore anything published after this instant (RFC 3339 or a date;
    /// default: now), so that a resolution can be replayed.
    #[arg(long, value_name = "DATE")]
    pub resolve_cutoff: Option<String>,
    /// Registry base for resolution, as ECOSYSTEM=URL (npm, pypi for a
    /// PEP 691 simple index, crates for a sparse index); repeatable.
    #[arg(long = "registry", value_name = "ECOSYSTEM=URL")]
    pub registries: Vec<String>,
}

/// Arguments of `resolve`.
#[derive(Debug, Args, Clone)]
pub struct ResolveCommandArgs {
    /// Paths (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Output format: json or table (default: table).
    #[arg(long, short, default_value = "table")]
    pub format: String,
    /// Write to FILE instead of stdout (atomically).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Fetch the registry metadata resolution needs (and refresh what is
    /// stored) before resolving.
    #[arg(long)]
    pub online: bool,
    /// Any source that could not be resolved makes the exit code 2.
    #[arg(long)]
    pub strict: bool,
    /// Ignore anything published after this instant (RFC 3339 or a date;
    /// default: now).
    #[arg(long, value_name = "DATE")]
    pub resolve_cutoff: Option<String>,
    /// Registry base, as ECOSYSTEM=URL; repeatable.
    #[arg(long = "registry", value_name = "ECOSYSTEM=URL")]
    pub registries: Vec<String>,
}

/// Arguments of `inventory`.
#[derive(Debug, Args, Clone)]
pub struct InventoryArgs {
    /// Paths to inventory (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Output format: json or table (default: table).
    #[arg(long, short, default_value = "table")]
    pub format: String,
    /// Write to FILE instead of stdout (atomically).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// Any source that could not be scanned makes the exit code 2.
    #[arg(long)]
    pub strict: bool,
    /// Scan `.zip` files found during discovery as deployment packages
    /// (read in memory, never unpacked to disk).
    #[arg(long)]
    pub zips: bool,
    /// With `--resolve`: fetch the registry metadata resolution needs.
    #[arg(long)]
    pub online: bool,
    /// Resolution of manifests without a lockfile.
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

/// `db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Import OSV records: an all.zip, a directory of OSV JSON files, or a
    /// bucket-layout directory (<Ecosystem>/all.zip).
    Import {
        /// What to import.
        path: PathBuf,
        /// The input is the complete set of this ecosystem's advisories
        /// and replaces it (default: `<Ecosystem>/all.zip` and bucket
        /// layouts replace the ecosystems their paths name; anything else
        /// only adds and updates records).
        #[arg(long, value_name = "E")]
        ecosystem: Option<String>,
        /// Accept a replacement that removes more than half of an
        /// ecosystem's records.
        #[arg(long)]
        allow_shrink: bool,
    },
    /// Download fresh advisories from the OSV bucket or a mirror.
    Sync {
        /// Base URL or directory in the OSV bucket layout.
        #[arg(long, env = "DEPWARDEN_OSV_URL")]
        source: Option<String>,
        /// Ecosystems to sync (default: npm, PyPI, crates.io).
        #[arg(long = "ecosystem", value_name = "E")]
        ecosystems: Vec<String>,
        /// Accept a full download that removes more than half of an
        /// ecosystem's records.
        #[arg(long)]
        allow_shrink: bool,
    },
    /// Write the registry-metadata store to one file (for an offline
    /// machine).
    ExportMetadata {
        /// The file to write (gzip-compressed JSON lines).
        file: PathBuf,
    },
    /// Read a registry-metadata export into the store.
    ImportMetadata {
        /// The file `db export-metadata` wrote.
        file: PathBuf,
    },
    /// Show what the database holds and how old it is.
    Status {
        /// Output format: table or json.
        #[arg(long, short, default_value = "table")]
        format: String,
    },
}
