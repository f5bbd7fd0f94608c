//! npm's choice of a version for one dependency spec, as
//! `npm-pick-manifest` makes it: the `latest` dist-tag when it satisfies
//! the range (and is not deprecated, and its engines accept the Node.js
//! the target runs), else the highest satisfying version, non-deprecated
//! versions whose engines accept the target first; pre-releases only when
//! the range names one; nothing published after the cutoff (npm's
//! `--before`). Also what a spec is (range, tag, alias, or something that
//! is not a registry package), and `overrides`.

use super::model::{NpmDoc, NpmVersion};
use nodejs_semver::{Range, Version};
use serde_json::Value;

/// The Node.js version npm's engine preference is checked against: the
/// one npm itself runs on in the Lambda build images for `nodejs20.x`.
pub const NODE_VERSION: &str = "20.20.2";
/// The npm version for `engines.npm`.
pub const NPM_VERSION: &str = "11.19.1";

/// What a dependency spec asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// A registry package (`name` is the real package, which differs from
    /// the dependency name for `npm:` aliases) and what to pick.
    Registry {
        /// The package to fetch.
        name: String,
        /// The wanted range, version or tag.
        want: Want,
    },
    /// git, a tarball URL, `file:`, `link:`, `workspace:`: not resolved
    /// from the registry.
    Other(String),
}

/// A registry spec's wanted versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// A semver range (`^1.2.0`, `*`, `1.x`, an exact version).
    Range(String),
    /// A dist-tag (`next`).
    Tag(String),
}

/// Reads a dependency spec as npm-package-arg does (the cases that matter
/// for registry resolution).
pub fn spec(dep_name: &str, raw: &str) -> Spec {
    let s = raw.trim();
    if let Some(rest) = s.strip_prefix("npm:") {
        let (name, want) = match rest.strip_prefix('@') {
            Some(scoped) => match scoped.split_once('@') {
                Some((n, w)) => (format!("@{n}"), w),
                None => (rest.to_string(), ""),
            },
            None => match rest.split_once('@') {
                Some((n, w)) => (n.to_string(), w),
                None => (rest.to_string(), ""),
            },
        };
        return match spec(&name, want) {
            Spec::Registry { want, .. } => Spec::Registry { name, want },
            other => other,
        };
    }
    let other = [
        "file:",
        "link:",
        "workspace:",
        "git+",
        "git:",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
        "http:",
        "https:",
        "portal:",
        "patch:",
    ];
    if other.iter().any(|p| s.starts_with(p))
        || (s.contains('/') && !s.starts_with('@') && !s.contains(' ') && Range::parse(s).is_err())
        || s.starts_with('.')
        || s.starts_with('/')
        || s.starts_with('~') && s.contains('/')
    {
        return Spec::Other(s.to_string());
    }
    if s.is_empty() || s == "*" || s == "latest" {
        return Spec::Registry {
            name: dep_name.to_string(),
            want: Want::Range("*".into()),
        };
    }
    if Range::parse(s).is_ok() {
        return Spec::Registry {
            name: dep_name.to_string(),
            want: Want::Range(s.to_string()),
        };
    }
    Spec::Registry {
        name: dep_name.to_string(),
        want: Want::Tag(s.to_string()),
    }
}

fn engine_ok(v: &NpmVersion, node: &Version, npm: &Version) -> bool {
    let ok = |range: &Option<String>, ver: &Version| {
        range
            .as_deref()
            .is_none_or(|r| Range::parse(r).is_ok_and(|r| r.satisfies_with_prerelease(ver, true)))
    };
    ok(&v.engine_node, node) && ok(&v.engine_npm, npm)
}

/// True when `version` satisfies `range` as `semver.satisfies(v, r,
/// {loose: true})` answers (pre-releases only when the range names one).
pub fn satisfies(version: &str, range: &str) -> bool {
    match (Version::parse(version), Range::parse(range)) {
        (Ok(v), Ok(r)) => r.satisfies(&v),
        _ => false,
    }
}

/// The version npm picks from `doc` (cutoff already applied) for `want`.
pub fn pick<'d>(doc: &'d NpmDoc, want: &Want) -> Option<&'d NpmVersion> {
    let node = Version::parse(NODE_VERSION).ok()?;
    let npm = Version::parse(NPM_VERSION).ok()?;
    let find = |v: &str| doc.versions.iter().find(|x| x.version == v);
    let range = match want {
        Want::Tag(tag) => {
            let tagged = if tag == "latest" {
                doc.latest.as_deref()
            } else {
                doc.tags.get(tag).map(String::as_str)
            };
            // A tag published after the cutoff falls back to the highest
            // version before it, as npm's `--before` does.
            return match tagged.and_then(find) {
                Some(v) => Some(v),
                None => tagged.and_then(|t| pick(doc, &Want::Range(format!("<={t}")))),
            };
        }
        Want::Range(r) => r.as_str(),
    };
    let parsed = Range::parse(range).ok()?;
    if let Some(latest) = doc.latest.as_deref().and_then(find)
        && Version::parse(&latest.version).is_ok_and(|v| parsed.satisfies(&v))
        && !latest.deprecated
        && engine_ok(latest, &node, &npm)
    {
        return Some(latest);
    }
    doc.versions
        .iter()
        .filter_map(|v| {
            let parsed_v = Version::parse(&v.version).ok()?;
            parsed.satisfies(&parsed_v).then_some((v, parsed_v))
        })
        .max_by(|(a, av), (b, bv)| {
            let good = |x: &NpmVersion| !x.deprecated && engine_ok(x, &node, &npm);
            good(a).cmp(&good(b)).then(av.cmp(bv))
        })
        .map(|(v, _)| v)
}

/// One `overrides` rule: the package it applies to (with an optional
/// version range on its key), the spec it forces, and rules for the
/// dependencies below that package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// The package name of the key.
    pub name: String,
    /// The range in the key (`foo@^1`), `None` for any.
    pub key_range: Option<String>,
    /// The spec forced (`"."` of a nested object included), `None` when
    /// the rule only carries nested rules.
    pub value: Option<String>,
    /// Rules that apply below a package this rule matches.
    pub children: Vec<Rule>,
}

/// Reads `overrides` of the root `package.json`; `$name` values take the
/// root's own spec for `name`.
pub fn overrides(v: Option<&Value>, root_spec: &dyn Fn(&str) -> Option<String>) -> Vec<Rule> {
    let Some(obj) = v.and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, val) in obj {
        if key == "." {
            continue;
        }
        let (name, key_range) = split_key(key);
        let resolve = |s: &str| match s.strip_prefix('$') {
            Some(r) => root_spec(r),
            None => Some(s.to_string()),
        };
        let rule = match val {
            Value::String(s) => Rule {
                name,
                key_range,
                value: resolve(s),
                children: Vec::new(),
            },
            Value::Object(m) => Rule {
                name,
                key_range,
                value: m.get(".").and_then(Value::as_str).and_then(resolve),
                children: overrides(Some(val), root_spec),
            },
            _ => continue,
        };
        out.push(rule);
    }
    out
}

fn split_key(key: &str) -> (String, Option<String>) {
    let (scope, rest) = match key.strip_prefix('@') {
        Some(r) => ("@", r),
        None => ("", key),
    };
    match rest.split_once('@') {
        Some((n, r)) if !r.is_empty() => (format!("{scope}{n}"), Some(r.to_string())),
        _ => (key.to_string(), None),
    }
}

impl Rule {
    /// True when the rule's key matches a dependency `name` with `spec`:
    /// the names agree and the key's range (if any) intersects the spec.
    pub fn matches_edge(&self, name: &str, spec: &str) -> bool {
        if self.name != name {
            return false;
        }
        match &self.key_range {
            None => true,
            Some(r) => match (Range::parse(r), Range::parse(spec)) {
                (Ok(a), Ok(b)) => a.allows_any(&b),
                _ => false,
            },
        }
    }

    /// True when the rule's key matches an installed package.
    pub fn matches_node(&self, name: &str, version: &str) -> bool {
        self.name == name
            && self
                .key_range
                .as_deref()
                .is_none_or(|r| satisfies(version, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(version: &str, time: u64) -> NpmVersion {
        NpmVersion {
            version: version.into(),
            time: Some(time),
            ..Default::default()
        }
    }

    #[test]
    fn specs_are_read_like_npm_package_arg() {
        assert!(matches!(
            spec("a", "^1.0.0"),
            Spec::Registry {
                want: Want::Range(_),
                ..
            }
        ));
        assert!(matches!(
            spec("a", "next"),
            Spec::Registry {
                want: Want::Tag(_),
                ..
            }
        ));
        assert_eq!(
            spec("a", "npm:@s/b@^2"),
            Spec::Registry {
                name: "@s/b".into(),
                want: Want::Range("^2".into())
            }
        );
        assert!(matches!(spec("a", "github:x/y"), Spec::Other(_)));
        assert!(matches!(spec("a", "x/y"), Spec::Other(_)));
        assert!(matches!(spec("a", "file:../b"), Spec::Other(_)));
        assert!(matches!(
            spec("a", ""),
            Spec::Registry {
                want: Want::Range(_),
                ..
            }
        ));
    }

    #[test]
    fn latest_wins_when_it_satisfies_else_highest() {
        let mut doc = NpmDoc {
            latest: Some("1.2.0".into()),
            versions: vec![
                v("1.2.0", 1),
                v("1.3.0-beta.1", 2),
                v("2.0.0", 3),
                v("1.1.0", 0),
            ],
            ..Default::default()
        };
        let p = |d: &NpmDoc, r: &str| pick(d, &Want::Range(r.into())).map(|v| v.version.clone());
        assert_eq!(p(&doc, "^1.0.0").as_deref(), Some("1.2.0"));
        assert_eq!(p(&doc, "*").as_deref(), Some("1.2.0"));
        assert_eq!(p(&doc, ">=2").as_deref(), Some("2.0.0"));
        assert_eq!(p(&doc, "^1.3.0-beta.0").as_deref(), Some("1.3.0-beta.1"));
        doc.versions[0].deprecated = true;
        assert_eq!(p(&doc, "^1.0.0").as_deref(), Some("1.1.0"));
    }

    #[test]
    fn override_keys() {
        let root = |n: &str| (n == "b").then(|| "^3".to_string());
        let json: Value =
            serde_json::from_str(r#"{"a@^1": "1.2.0", "c": {".": "2", "d": "$b"}}"#).unwrap();
        let rules = overrides(Some(&json), &root);
        assert_eq!(rules[0].name, "a");
        assert!(rules[0].matches_edge("a", "^1.1"));
        assert!(!rules[0].matches_edge("a", "^2"));
        assert_eq!(rules[1].value.as_deref(), Some("2"));
        assert_eq!(rules[1].children[0].value.as_deref(), Some("^3"));
    }
}
