//! The integration tests: one binary, one module per area. `common` holds
//! the shared helpers (a private advisory database per test, a pinned clock,
//! a loopback HTTP server).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod advisory_store;
mod cargo_audit_fixtures;
mod cargo_audit_parity;
mod cargo_auditable;
mod cargo_bootstrap;
mod cargo_lockfile;
mod cargo_manifest;
mod cli_basics;
mod config_checks;
mod confusion;
mod core_e2e;
mod db_integrity;
mod discovery;
mod functions_checks;
mod functions_report;
mod functions_templates;
mod gate_integrity;
mod hostile_fuzz;
mod hostile_limits;
mod hostile_regressions;
mod lockfile_edges;
mod npm_features;
mod npm_large_app;
mod npm_same_set;
mod output_escaping;
mod pypi_installed;
mod pypi_lockfiles;
mod real_graphs;
mod report_coverage;
mod report_formats;
mod report_gate;
mod resolve;
mod resolve_cases;
mod resource_bounds;
mod secrets;
mod snapshot_property;
mod store_packed;
mod strict_inputs;
mod sync_loopback;
mod typosquat_eval;
mod typosquat_scan;
mod version_vectors;
