//! depwarden: a software-composition-analysis scanner for serverless
//! deployment packages.
//!
//! The pipeline, one module per stage:
//! 1. [`discover`] walks the given paths and groups dependency sources by
//!    deployment package;
//! 2. [`parsers`] reads each source (the contract in [`parse`]) into a
//!    [`graph::DepGraph`];
//! 3. [`advisory`] holds the OSV store, and [`audit`] matches packages
//!    against it ([`matcher`] decides, [`version`] orders versions);
//! 4. [`supply`] flags typosquats and dependency-confusion risks;
//! 5. [`gate`] applies ignores and each deployment's [`policy`] (with
//!    [`config_trust`] deciding which configuration file may change what)
//!    to the typed findings, and [`report`] renders the result.
//!
//! [`scan`] parses deployments and streams them to the audit; [`app`] is
//! the command-line edge (flags to options, outputs, exit code).

pub mod advisory;
pub mod app;
pub mod app_io;
pub mod atomic;
pub mod audit;
pub mod boundary;
pub mod cli;
pub mod clock;
pub mod config_trust;
pub mod diagnostic;
pub mod discover;
pub mod ecosystem;
pub mod fix;
pub mod fs;
pub mod functions;
pub mod gate;
pub mod graph;
pub mod limits;
pub mod matcher;
pub mod memo;
pub mod parse;
pub mod parsers;
pub mod policy;
pub mod progress;
pub mod purl;
pub mod redact;
pub mod registry_config;
pub mod report;
pub mod resolve;
pub mod scan;
pub mod severity;
pub mod source;
pub mod supply;
pub mod target;
pub mod text;
pub mod toml_guard;
pub mod version;
pub mod vex;
pub mod workspace;
pub mod yaml_guard;
pub mod zipfs;
