//! Reading pnpm's package keys ("dependency paths") and the references
//! that point at them, in every form pnpm has written:
//!
//! | lockfile | key | reference in `dependencies` |
//! | --- | --- | --- |
//! | 5.x | `/name/1.0.0`, `/@s/name/1.0.0`, `/name/1.0.0_peer@2.0.0+@s+p@1.0.0`, `/name/1.0.0_<hash>` | `1.0.0_peer@2.0.0`, `/real/1.0.0` (alias), `registry.example.com/name/1.0.0` |
//! | 5.x | `registry.example.com/name/1.0.0` (other registry), `github.com/o/r/<commit>`, `'@host/path/x.tgz'`, `file:../x` (with `name`/`version` in the entry) | the key itself |
//! | 6.x | `/name@1.0.0`, `/@s/name@1.0.0(peer@2.0.0)(@s/p@1.0.0)`, `/name@1.0.0(patch_hash=...)` | `1.0.0(peer@2.0.0)`, `/real@1.0.0` (alias) |
//! | 9.x | `name@1.0.0(peer@2.0.0)` (`snapshots`), `name@1.0.0` (`packages`), `name@https://...tgz`, `name@git+https://...#<commit>`, `name@file:../x` | `1.0.0(peer@2.0.0)`, `real@1.0.0` (alias), `https://...` |
//!
//! Names may hold dots (`fs.realpath`, `lodash.merge`): a first segment is
//! a registry host only in a key written without its leading `/` and only
//! when a name and a version follow it.

/// The name and version a key names, without the peer context. `None`
/// when the key names no package (`invalidpath`, `/foo`).
pub fn name_version(key: &str, v6: bool) -> Option<(String, String)> {
    let (name, version) = if v6 {
        v6_name_version(key).or_else(|| v5_name_version(key))
    } else {
        v5_name_version(key).or_else(|| v6_name_version(key))
    }?;
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_string(), version.to_string()))
}

/// Removes the peer context of a 6.x/9.x key or version (`1.0.0(a@1)` →
/// `1.0.0`) and of a 5.x one (`1.0.0_a@1+b@2` → `1.0.0`).
pub fn strip_peers(s: &str) -> &str {
    let s = match s.find('(') {
        Some(i) => &s[..i],
        None => s,
    };
    // A 5.x peer suffix starts at the first `_` after the version (versions
    // never hold `_`); only cut it from a plain version, not from a path.
    match s.rfind('/') {
        Some(slash) => match s[slash..].find('_') {
            Some(i) => &s[..slash + i],
            None => s,
        },
        None => match s.find('_') {
            Some(i) => &s[..i],
            None => s,
        },
    }
}

/// The real package a 6.x/9.x alias reference points at (`lodash@4.17.21`,
/// `@s/x@1.0.0(peer@1)`), or a 5.x one (`/lodash/4.17.21`): name and
/// version. `None` for a plain version.
pub fn alias_target(reference: &str, v6: bool) -> Option<(String, String)> {
    let r = reference.trim_start_matches('/');
    if r.is_empty() || r.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if r.contains("://") || r.starts_with("link:") || r.starts_with("file:") {
        return None;
    }
    name_version(reference, v6)
}

/// `name@version` with a scoped name keeping its `@`; the host of a key
/// written under a registry (`registry.example.com/name@1.0.0`) removed.
fn v6_name_version(key: &str) -> Option<(&str, &str)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    // The version separator: the first `@` that does not start a segment
    // (a scope does).
    let at = k
        .char_indices()
        .find(|&(i, c)| c == '@' && i > 0 && !k[..i].ends_with('/'))?
        .0;
    let (mut name, rest) = (&k[..at], &k[at + 1..]);
    let slashes = name.matches('/').count();
    let scoped = name.starts_with('@');
    if (scoped && slashes > 1) || (!scoped && slashes > 0) {
        // A host or path before the name: keep the last one or two
        // segments (a scope and its name).
        let mut parts = name.rsplitn(3, '/');
        let last = parts.next()?;
        let before = parts.next()?;
        name = if before.starts_with('@') {
            &name[name.len() - last.len() - before.len() - 1..]
        } else {
            last
        };
    }
    Some((name, strip_peers_v6(rest)))
}

/// `/name/version`, `/@scope/name/version`, with the peer suffix
/// (`_...`) removed; a registry host first when the key has no leading
/// `/` and a name and a version follow it.
fn v5_name_version(key: &str) -> Option<(&str, &str)> {
    let leading_slash = key.starts_with('/');
    let k = key.trim_start_matches('/');
    let segments: Vec<&str> = k.split('/').collect();
    let mut skip = 0;
    if !leading_slash && segments.len() >= 3 {
        let first = segments[0];
        let scoped_rest = segments.get(1).is_some_and(|s| s.starts_with('@'));
        let enough = if scoped_rest {
            segments.len() >= 4
        } else {
            true
        };
        if enough && (first.contains('.') || first.contains(':')) && !first.starts_with('@') {
            skip = first.len() + 1;
        }
    }
    let k = &k[skip..];
    let (name, version) = k.rsplit_once('/')?;
    if name.is_empty() || (name.contains('/') && !name.starts_with('@')) {
        return None;
    }
    if name.starts_with('@') && name.matches('/').count() != 1 {
        return None;
    }
    let version = strip_peers(version);
    Some((name, version))
}

fn strip_peers_v6(s: &str) -> &str {
    match s.find('(') {
        Some(i) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn nv(key: &str, v6: bool) -> Option<(String, String)> {
        name_version(key, v6)
    }

    fn pair(n: &str, v: &str) -> Option<(String, String)> {
        Some((n.to_string(), v.to_string()))
    }

    #[test]
    fn v5_keys() {
        assert_eq!(
            nv("/fs.realpath/1.0.0", false),
            pair("fs.realpath", "1.0.0")
        );
        assert_eq!(
            nv("/lodash.merge/4.6.2", false),
            pair("lodash.merge", "4.6.2")
        );
        assert_eq!(nv("/@a/b/1.0.0_react@18.0.0", false), pair("@a/b", "1.0.0"));
        assert_eq!(
            nv("/foo/1.4.0_@types+babel__core@7.1.14", false),
            pair("foo", "1.4.0")
        );
        assert_eq!(
            nv(
                "/@typescript-eslint/eslint-plugin/5.13.0_33fffc354ccfa91fbe7d1677b9395a0a",
                false
            ),
            pair("@typescript-eslint/eslint-plugin", "5.13.0")
        );
        assert_eq!(
            nv("registry.npmjs.org/foo/1.1.0", false),
            pair("foo", "1.1.0")
        );
        assert_eq!(
            nv("registry.npmjs.org/@foo/bar/1.1.0", false),
            pair("@foo/bar", "1.1.0")
        );
        assert_eq!(
            nv("example.com/foo/1.3.0_bar@2.0.0", false),
            pair("foo", "1.3.0")
        );
        assert_eq!(
            nv("/react-dom/18.2.0_react@18.2.0", false),
            pair("react-dom", "18.2.0")
        );
        assert_eq!(nv("invalidpath", false), None);
        assert_eq!(nv("/foo", false), None);
    }

    #[test]
    fn v6_and_v9_keys() {
        assert_eq!(nv("/a@1.0.0(b@2.0.0)", true), pair("a", "1.0.0"));
        assert_eq!(nv("/fs.realpath@1.0.0", true), pair("fs.realpath", "1.0.0"));
        assert_eq!(
            nv("/@s/x@1.0.0(@s/p@1.0.0)(react@18.2.0)", true),
            pair("@s/x", "1.0.0")
        );
        assert_eq!(
            nv("lodash.merge@4.6.2", true),
            pair("lodash.merge", "4.6.2")
        );
        assert_eq!(
            nv("react-dom@18.2.0(react@18.2.0)", true),
            pair("react-dom", "18.2.0")
        );
        assert_eq!(nv("a@1.0.0(patch_hash=abc)", true), pair("a", "1.0.0"));
        assert_eq!(
            nv(
                "is-number@https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
                true
            )
            .map(|(n, _)| n),
            Some("is-number".to_string())
        );
        assert_eq!(
            nv("registry.example.com/@s/x@1.0.0", true),
            pair("@s/x", "1.0.0")
        );
        // Older keys read by a 6.x reader still work.
        assert_eq!(nv("/fs.realpath/1.0.0", true), pair("fs.realpath", "1.0.0"));
    }

    #[test]
    fn peers_and_aliases() {
        assert_eq!(strip_peers("1.0.0(a@1)(b@2)"), "1.0.0");
        assert_eq!(strip_peers("1.0.0_a@1+b@2"), "1.0.0");
        assert_eq!(strip_peers("/foo/1.0.0_a@1"), "/foo/1.0.0");
        assert_eq!(strip_peers("/fs.realpath/1.0.0"), "/fs.realpath/1.0.0");
        assert_eq!(
            alias_target("lodash@4.17.21", true),
            pair("lodash", "4.17.21")
        );
        assert_eq!(
            alias_target("/lodash/4.17.21", false),
            pair("lodash", "4.17.21")
        );
        assert_eq!(
            alias_target("@s/x@1.0.0(react@18.2.0)", true),
            pair("@s/x", "1.0.0")
        );
        assert_eq!(alias_target("4.17.21", true), None);
        assert_eq!(alias_target("link:../a", true), None);
    }
}
