//! Cargo's platform-specific dependency conditions (`[target.'cfg(..)'
//! .dependencies]`, or a target triple) evaluated for the Lambda target:
//! Linux with glibc on x86_64 or aarch64. Unknown predicates are false, as
//! Cargo has them.

use crate::parse::Arch;

/// True when a dependency with this `target` applies on Lambda.
pub fn applies(target: Option<&str>, arch: Arch) -> bool {
    let Some(t) = target.map(str::trim) else {
        return true;
    };
    match t.strip_prefix("cfg(").and_then(|r| r.strip_suffix(')')) {
        Some(expr) => {
            let tokens = tokenize(expr);
            let mut pos = 0;
            eval(&tokens, &mut pos, arch).unwrap_or(false) && pos == tokens.len()
        }
        None => t == triple(arch),
    }
}

/// The target triple of the Lambda runtime.
pub fn triple(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64-unknown-linux-gnu",
        Arch::Arm64 => "aarch64-unknown-linux-gnu",
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Eq,
    Comma,
    Open,
    Close,
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' | '\n' => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            ',' => {
                chars.next();
                out.push(Tok::Comma);
            }
            '=' => {
                chars.next();
                out.push(Tok::Eq);
            }
            '"' => {
                chars.next();
                let mut v = String::new();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    v.push(c);
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let mut v = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' {
                        v.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if v.is_empty() {
                    chars.next();
                    continue;
                }
                out.push(Tok::Ident(v));
            }
        }
    }
    out
}

fn key_value(key: &str, value: &str, arch: Arch) -> bool {
    match key {
        "target_os" => value == "linux",
        "target_family" => value == "unix",
        "target_env" => value == "gnu",
        "target_vendor" => value == "unknown",
        "target_arch" => value == arch.machine(),
        "target_pointer_width" => value == "64",
        "target_endian" => value == "little",
        "target_has_atomic" => matches!(value, "8" | "16" | "32" | "64" | "ptr"),
        "panic" => value == "unwind",
        _ => false,
    }
}

fn eval(t: &[Tok], pos: &mut usize, arch: Arch) -> Option<bool> {
    let Tok::Ident(name) = t.get(*pos)?.clone() else {
        return None;
    };
    *pos += 1;
    match t.get(*pos) {
        Some(Tok::Open) => {
            *pos += 1;
            let mut vals = Vec::new();
            while t.get(*pos) != Some(&Tok::Close) {
                vals.push(eval(t, pos, arch)?);
                if t.get(*pos) == Some(&Tok::Comma) {
                    *pos += 1;
                }
            }
            *pos += 1;
            match name.as_str() {
                "all" => Some(vals.iter().all(|v| *v)),
                "any" => Some(vals.iter().any(|v| *v)),
                "not" if vals.len() == 1 => Some(!vals[0]),
                _ => None,
            }
        }
        Some(Tok::Eq) => {
            *pos += 1;
            let Some(Tok::Str(v)) = t.get(*pos).cloned() else {
                return None;
            };
            *pos += 1;
            Some(key_value(&name, &v, arch))
        }
        _ => Some(name == "unix"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_cfgs() {
        let a = |t: &str| applies(Some(t), Arch::X86_64);
        assert!(a("cfg(unix)"));
        assert!(!a("cfg(windows)"));
        assert!(a("cfg(target_os = \"linux\")"));
        assert!(a(
            "cfg(any(target_os = \"linux\", target_os = \"android\"))"
        ));
        assert!(!a(
            "cfg(all(target_arch = \"wasm32\", not(target_os = \"wasi\")))"
        ));
        assert!(a("cfg(not(target_arch = \"wasm32\"))"));
        assert!(!a("cfg(target_os = \"hermit\")"));
        assert!(a("x86_64-unknown-linux-gnu"));
        assert!(!a("x86_64-pc-windows-gnu"));
        assert!(!a("cfg(miri)"));
        assert!(applies(None, Arch::Arm64));
        assert!(applies(Some("cfg(target_arch = \"aarch64\")"), Arch::Arm64));
    }
}
