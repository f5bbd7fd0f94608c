//! The dev rule, direct dependencies, paths and not_on_target on small graphs.

use super::*;

fn pkg(name: &str) -> Package {
    Package::new(Ecosystem::Npm, name, Some("1.0.0".into()))
}

#[test]
fn dev_only_when_every_path_is_dev() {
    let mut g = DepGraph::new();
    let root = g.add_root(pkg("app"));
    let a = g.add_package(pkg("a"));
    let t = g.add_package(pkg("testlib"));
    let shared = g.add_package(pkg("shared"));
    let devonly = g.add_package(pkg("devonly"));
    g.add_edge(root, a, DepKind::Normal);
    g.add_edge(root, t, DepKind::Dev);
    g.add_edge(t, shared, DepKind::Normal);
    g.add_edge(a, shared, DepKind::Normal);
    g.add_edge(t, devonly, DepKind::Normal);
    g.finalize();
    assert!(!g.package(a).dev);
    assert!(g.package(t).dev);
    assert!(!g.package(shared).dev, "reachable through a prod path");
    assert!(g.package(devonly).dev);
    assert!(g.package(a).direct && g.package(t).direct);
    assert!(!g.package(shared).direct);
}

#[test]
fn a_dev_declaration_does_not_hide_a_production_path() {
    // The project declares `shared` as a devDependency, and its
    // production dependency `a` needs it too: production.
    let mut g = DepGraph::new();
    let a = g.add_package(pkg("a"));
    let shared = g.add_package(pkg("shared"));
    let t = g.add_package(pkg("testlib"));
    g.add_direct(a, DepKind::Normal);
    g.add_direct(shared, DepKind::Dev);
    g.add_direct(t, DepKind::Dev);
    g.add_edge(a, shared, DepKind::Normal);
    // What a lockfile flag says is not the answer when the project
    // reaches the package.
    g.declare(shared, DepKind::Dev);
    g.declare(t, DepKind::Normal);
    g.finalize();
    assert!(!g.package(shared).dev);
    assert!(g.package(shared).direct);
    assert!(g.package(t).dev);
    assert!(!g.package(a).dev);
}

#[test]
fn declarations_are_roots_when_the_project_is_unknown() {
    // poetry.lock without its pyproject.toml: `y` is main, although
    // only the dev package `x` depends on it in the lock.
    let mut g = DepGraph::new();
    let x = g.add_package(pkg("x"));
    let y = g.add_package(pkg("y"));
    let z = g.add_package(pkg("z"));
    let w = g.add_package(pkg("w"));
    g.add_edge(x, y, DepKind::Normal);
    g.add_edge(x, z, DepKind::Normal);
    g.add_edge(w, z, DepKind::Normal);
    g.declare(x, DepKind::Dev);
    g.declare(y, DepKind::Normal);
    g.declare(z, DepKind::Dev);
    g.declare(w, DepKind::Normal);
    g.finalize();
    assert!(g.package(x).dev);
    assert!(!g.package(y).dev);
    assert!(!g.package(z).dev, "a production package needs it");
    assert!(!g.package(w).dev);
}

#[test]
fn packages_the_project_does_not_reach_keep_their_declaration() {
    let mut g = DepGraph::new();
    let root = g.add_root(pkg("app"));
    let a = g.add_package(pkg("a"));
    let stray_dev = g.add_package(pkg("stray-dev"));
    let stray = g.add_package(pkg("stray"));
    let below = g.add_package(pkg("below"));
    g.add_edge(root, a, DepKind::Normal);
    g.add_edge(stray_dev, below, DepKind::Normal);
    g.declare(stray_dev, DepKind::Dev);
    g.finalize();
    assert!(!g.package(a).dev);
    assert!(g.package(stray_dev).dev);
    assert!(g.package(below).dev);
    assert!(!g.package(stray).dev, "nothing declared: production");
}

#[test]
fn not_on_target_follows_the_edges() {
    let mut g = DepGraph::new();
    let root = g.add_root(pkg("app"));
    let fsevents = g.add_package(pkg("fsevents"));
    let only_mac = g.add_package(pkg("only-mac"));
    let both = g.add_package(pkg("both"));
    let a = g.add_package(pkg("a"));
    g.package_mut(fsevents).not_on_target = Some("os: darwin".into());
    g.add_edge(root, fsevents, DepKind::Optional);
    g.add_edge(root, a, DepKind::Normal);
    g.add_edge(fsevents, only_mac, DepKind::Normal);
    g.add_edge(fsevents, both, DepKind::Normal);
    g.add_edge(a, both, DepKind::Normal);
    g.finalize();
    assert_eq!(
        g.package(fsevents).not_on_target.as_deref(),
        Some("os: darwin")
    );
    assert!(g.package(only_mac).not_on_target.is_some());
    assert!(g.package(both).not_on_target.is_none());
    assert!(g.package(a).not_on_target.is_none());
}

#[test]
fn optional_only_when_no_required_path() {
    let mut g = DepGraph::new();
    let root = g.add_root(pkg("app"));
    let o = g.add_package(pkg("opt"));
    let x = g.add_package(pkg("x"));
    g.add_edge(root, o, DepKind::Optional);
    g.add_edge(o, x, DepKind::Normal);
    g.finalize();
    assert!(g.package(o).optional && g.package(x).optional);
    assert!(!g.package(o).dev);
}

#[test]
fn shortest_path_prefers_prod_route() {
    let mut g = DepGraph::new();
    let root = g.add_root(pkg("app"));
    let a = g.add_package(pkg("a"));
    let b = g.add_package(pkg("b"));
    let c = g.add_package(pkg("c"));
    g.add_edge(root, a, DepKind::Normal);
    g.add_edge(a, b, DepKind::Normal);
    g.add_edge(b, c, DepKind::Normal);
    g.add_edge(root, c, DepKind::Dev);
    g.finalize();
    assert_eq!(g.path_names(c), vec!["c"]);
    assert_eq!(g.path_names(b), vec!["a", "b"]);
}

#[test]
fn rootless_graph_uses_packages_without_parents() {
    let mut g = DepGraph::new();
    let a = g.add_package(pkg("a"));
    let b = g.add_package(pkg("b"));
    g.add_edge(a, b, DepKind::Normal);
    g.finalize();
    assert!(g.package(a).direct);
    assert!(!g.package(b).direct);
    assert_eq!(g.path(b).ids, vec![a, b]);
}

#[test]
fn cycles_terminate() {
    let mut g = DepGraph::new();
    let a = g.add_package(pkg("a"));
    let b = g.add_package(pkg("b"));
    g.add_edge(a, b, DepKind::Normal);
    g.add_edge(b, a, DepKind::Normal);
    g.finalize();
    // With no roots and no package free of parents, all are direct.
    assert!(g.package(a).direct && g.package(b).direct);
    assert_eq!(g.path(b).ids, vec![b]);
}

#[test]
fn long_paths_are_listed_in_part_without_walking_the_chain() {
    let n = 50_000; // root -> p0 -> ... -> p49999
    let mut g = DepGraph::new();
    let root = g.add_root(pkg("app"));
    let ids: Vec<_> = (0..n)
        .map(|i| g.add_package(pkg(&format!("p{i}"))))
        .collect();
    g.add_edge(root, ids[0], DepKind::Normal);
    for w in ids.windows(2) {
        g.add_edge(w[0], w[1], DepKind::Normal);
    }
    g.finalize();
    for (k, &id) in ids.iter().enumerate() {
        let p = g.path(id);
        assert!(p.ids.len() <= MAX_PATH_LEN);
        assert_eq!(p.ids.len() + p.omitted, k + 1, "{k}");
        assert_eq!(p.ids[0], ids[0]);
        assert_eq!(*p.ids.last().unwrap(), id);
    }
    let names = g.path_names(ids[n - 1]);
    assert_eq!(names.len(), MAX_PATH_LEN + 1);
    assert_eq!(names[0], "p0");
    assert_eq!(names[1], format!("… {} more …", n - MAX_PATH_LEN));
    assert_eq!(names[2], format!("p{}", n - MAX_PATH_LEN + 1));
    assert_eq!(names[MAX_PATH_LEN], format!("p{}", n - 1));
    assert_eq!(g.path_names(ids[MAX_PATH_LEN - 1]).len(), MAX_PATH_LEN);
}
