//! crates.io: `Cargo.lock`, `Cargo.toml`, and binaries carrying
//! cargo-auditable dependency data.

pub mod auditable;
mod lock_text;
pub mod lockfile;
pub mod manifest;

use std::collections::VecDeque;
use std::path::Path;

use crate::graph::{DepGraph, DepKind};

/// `dir` relative to `base` with `/` separators, `.` when they are equal.
pub fn relative_dir(base: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(base).unwrap_or(dir);
    let s = rel.to_string_lossy().replace('\\', "/");
    if s.is_empty() { ".".to_string() } else { s }
}

/// Sets each non-root package's `groups` from a finalized graph: `["dev"]`
/// for dev-only packages, `["build"]` for packages reached from the roots
/// only through a build dependency (not in the shipped artefact), and
/// `["optional"]` for optional-only ones.
pub fn assign_groups(graph: &mut DepGraph) {
    let build_only = build_only(graph);
    for (i, p) in graph.packages_mut().iter_mut().enumerate() {
        if p.root {
            continue;
        }
        if p.dev {
            p.groups = vec!["dev".to_string()];
        } else if build_only.get(i).copied().unwrap_or(false) {
            p.groups = vec!["build".to_string()];
        } else if p.optional {
            p.groups = vec!["optional".to_string()];
        }
    }
}

/// Packages reachable from the roots while not dev-only, but only through
/// a build edge somewhere on every such path.
fn build_only(graph: &DepGraph) -> Vec<bool> {
    let n = graph.len();
    let has_build = graph.iter().any(|(id, _)| {
        graph
            .dependencies(id)
            .iter()
            .any(|(_, k)| *k == DepKind::Build)
    });
    if !has_build || graph.roots().is_empty() {
        return vec![false; n];
    }
    let reach = |follow: &dyn Fn(DepKind) -> bool| {
        let mut seen = vec![false; n];
        let mut queue: VecDeque<_> = graph.roots().iter().copied().collect();
        for r in graph.roots() {
            seen[r.index()] = true;
        }
        while let Some(cur) = queue.pop_front() {
            for &(next, kind) in graph.dependencies(cur) {
                if follow(kind) && !seen[next.index()] {
                    seen[next.index()] = true;
                    queue.push_back(next);
                }
            }
        }
        seen
    };
    let runtime = reach(&|k| !matches!(k, DepKind::Dev | DepKind::Build));
    let with_build = reach(&|k| k != DepKind::Dev);
    (0..n).map(|i| with_build[i] && !runtime[i]).collect()
}
