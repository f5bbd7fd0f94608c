//! Dependency paths, read off the shortest-path tree that
//! [`DepGraph::finalize`] builds (a parent, a depth and the direct
//! dependency per package), never materialised whole.

use super::{DepGraph, PackageId};

/// Most packages a dependency path lists: a longer path lists its direct
/// dependency, then the last `MAX_PATH_LEN - 1` packages down to the
/// package itself, and says how many it left out between them.
pub const MAX_PATH_LEN: usize = 16;

/// A dependency path down to a package, at most [`MAX_PATH_LEN`] long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepPath {
    /// The packages listed: the direct dependency first, the package last.
    pub ids: Vec<PackageId>,
    /// How many packages of the path are left out between `ids[0]` and
    /// `ids[1]` (0 when the path is listed whole).
    pub omitted: usize,
}

impl DepGraph {
    /// The shortest dependency path from a direct dependency to `id`
    /// (first = the direct dependency, last = `id`), at most
    /// [`MAX_PATH_LEN`] packages of it. A package not reachable from any
    /// root yields just itself. Costs `O(MAX_PATH_LEN)`, not the depth.
    pub fn path(&self, id: PackageId) -> DepPath {
        let i = id.index();
        let len = self.depth.get(i).map_or(0, |d| *d as usize) + 1;
        let keep_tail = if len > MAX_PATH_LEN {
            MAX_PATH_LEN - 1
        } else {
            len
        };
        let mut ids = Vec::with_capacity(keep_tail + 1);
        let mut cur = id;
        ids.push(cur);
        while ids.len() < keep_tail {
            match self.parents.get(cur.index()) {
                Some(Some(parent)) => {
                    cur = *parent;
                    ids.push(cur);
                }
                _ => break,
            }
        }
        let omitted = len.saturating_sub(ids.len() + 1);
        if len > ids.len()
            && let Some(top) = self.tops.get(i)
        {
            ids.push(*top);
        }
        ids.reverse();
        DepPath { ids, omitted }
    }

    /// [`DepGraph::path`] as package names, for reports: a path with
    /// packages left out names how many (`… 9984 more …`) after its direct
    /// dependency.
    pub fn path_names(&self, id: PackageId) -> Vec<String> {
        let path = self.path(id);
        let mut names = Vec::with_capacity(path.ids.len() + 1);
        for (k, p) in path.ids.iter().enumerate() {
            if k == 1 && path.omitted > 0 {
                names.push(format!("… {} more …", path.omitted));
            }
            names.push(self.package(*p).name.clone());
        }
        names
    }
}
