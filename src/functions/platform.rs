//! Whether native code can load on a function's target: wheel tags
//! (`cp312-cp312-manylinux_2_17_aarch64`) read as pip reads them for
//! CPython on Amazon Linux, and the ELF facts of native files. A
//! distribution is compatible when one of its tags is; otherwise the
//! finding says why: the wrong CPU, a glibc newer than the runtime's, a
//! musl build, the wrong CPython ABI, another operating system.

use crate::parse::Arch;

/// One wheel tag: `python-abi-platform`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelTag {
    /// `cp312`, `py3`.
    pub python: String,
    /// `cp312`, `abi3`, `none`.
    pub abi: String,
    /// `manylinux_2_17_x86_64`, `any`.
    pub platform: String,
}

impl WheelTag {
    /// `cp312-cp312-manylinux_2_17_x86_64`.
    pub fn text(&self) -> String {
        format!("{}-{}-{}", self.python, self.abi, self.platform)
    }
}

/// Expands a compressed tag set (`py2.py3-none-any`,
/// `cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64`).
fn expand(python: &str, abi: &str, platform: &str) -> Vec<WheelTag> {
    let mut out = Vec::new();
    for p in python.split('.') {
        for a in abi.split('.') {
            for pl in platform.split('.') {
                out.push(WheelTag {
                    python: p.to_ascii_lowercase(),
                    abi: a.to_ascii_lowercase(),
                    platform: pl.to_ascii_lowercase(),
                });
            }
        }
    }
    out
}

/// The `Tag:` lines of a `WHEEL` file.
pub fn tags_from_wheel_file(text: &str) -> Vec<WheelTag> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("tag"))
        .filter_map(|(_, v)| {
            let mut parts = v.trim().splitn(3, '-');
            Some(expand(parts.next()?, parts.next()?, parts.next()?))
        })
        .flatten()
        .collect()
}

/// The tags of a wheel file name
/// (`name-version(-build)?-python-abi-platform.whl`).
pub fn tags_from_wheel_name(name: &str) -> Option<Vec<WheelTag>> {
    let stem = name.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    if parts.len() < 5 {
        return None;
    }
    let n = parts.len();
    Some(expand(parts[n - 3], parts[n - 2], parts[n - 1]))
}

/// Why no tag of a distribution fits the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misfit {
    /// Built for another CPU (or another operating system).
    Arch {
        /// The platforms it was built for.
        found: String,
    },
    /// Needs a newer glibc than the runtime's.
    Glibc {
        /// The platform tag.
        found: String,
        /// The glibc it needs.
        needs: (u32, u32),
    },
    /// Built for musl libc.
    Musl {
        /// The platform tag.
        found: String,
    },
    /// Built for another CPython ABI.
    Abi {
        /// The tags.
        found: String,
    },
}

/// The CPU part of a platform tag as Lambda calls it.
fn tag_arch(arch: &str) -> Option<Arch> {
    match arch {
        "x86_64" | "amd64" => Some(Arch::X86_64),
        "aarch64" | "arm64" => Some(Arch::Arm64),
        _ => None,
    }
}

/// How a platform tag fits Linux/glibc `glibc` on `arch`.
enum PlatformFit {
    Fits,
    Glibc((u32, u32)),
    Musl,
    Arch,
}

fn platform_fit(platform: &str, arch: Arch, glibc: (u32, u32)) -> PlatformFit {
    if platform == "any" {
        return PlatformFit::Fits;
    }
    let legacy = [
        ("manylinux1_", (2, 5)),
        ("manylinux2010_", (2, 12)),
        ("manylinux2014_", (2, 17)),
    ];
    let (needs, cpu, musl) =
        if let Some((prefix, v)) = legacy.iter().find(|(p, _)| platform.starts_with(p)) {
            (Some(*v), &platform[prefix.len()..], false)
        } else if let Some(rest) = platform
            .strip_prefix("manylinux_")
            .or_else(|| platform.strip_prefix("musllinux_"))
        {
            let musl = platform.starts_with("musllinux_");
            let mut it = rest.splitn(3, '_');
            let (Some(a), Some(b), Some(cpu)) = (it.next(), it.next(), it.next()) else {
                return PlatformFit::Arch;
            };
            let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) else {
                return PlatformFit::Arch;
            };
            (Some((a, b)), cpu, musl)
        } else if let Some(cpu) = platform.strip_prefix("linux_") {
            (None, cpu, false)
        } else {
            // macosx_*, win_*, ...: another operating system.
            return PlatformFit::Arch;
        };
    if tag_arch(cpu) != Some(arch) {
        return PlatformFit::Arch;
    }
    if musl {
        return PlatformFit::Musl;
    }
    match needs {
        Some(v) if v > glibc => PlatformFit::Glibc(v),
        _ => PlatformFit::Fits,
    }
}

/// True when `python`/`abi` fit CPython `major.minor`.
fn abi_fits(python: &str, abi: &str, (major, minor): (u32, u32)) -> bool {
    let ver = |t: &str, prefix: &str| -> Option<(u32, Option<u32>)> {
        let digits = t.strip_prefix(prefix)?;
        let digits = digits.trim_end_matches(['m', 'd', 'u']);
        let mut chars = digits.chars();
        let a = chars.next()?.to_digit(10)?;
        let rest: String = chars.collect();
        Some((
            a,
            if rest.is_empty() {
                None
            } else {
                rest.parse().ok()
            },
        ))
    };
    let py_ok = match (ver(python, "py"), ver(python, "cp")) {
        (Some((a, m)), _) => a == major && m.is_none_or(|m| m <= minor),
        (_, Some((a, Some(m)))) => a == major && m <= minor,
        _ => false,
    };
    if !py_ok {
        return false;
    }
    match abi {
        "none" => true,
        "abi3" => major == 3,
        other => {
            ver(other, "cp")
                .is_some_and(|(a, m)| a == major && m == Some(minor) && !other.ends_with('t'))
                && ver(python, "cp").is_some_and(|(a, m)| a == major && m == Some(minor))
        }
    }
}

/// Checks a distribution's tags for CPython `python` on Linux `arch`
/// with `glibc`; `Ok` when one tag fits (or there is none to read).
pub fn check_tags(
    tags: &[WheelTag],
    arch: Arch,
    python: Option<(u32, u32)>,
    glibc: (u32, u32),
) -> Result<(), Misfit> {
    if tags.is_empty() {
        return Ok(());
    }
    let py_fits = |t: &WheelTag| python.is_none_or(|v| abi_fits(&t.python, &t.abi, v));
    if tags
        .iter()
        .any(|t| py_fits(t) && matches!(platform_fit(&t.platform, arch, glibc), PlatformFit::Fits))
    {
        return Ok(());
    }
    let list = |pred: &dyn Fn(&WheelTag) -> bool| {
        let mut v: Vec<String> = tags
            .iter()
            .filter(|t| pred(t))
            .map(WheelTag::text)
            .collect();
        v.dedup();
        v.join(", ")
    };
    // The platform fits but the Python ABI does not.
    if tags
        .iter()
        .any(|t| matches!(platform_fit(&t.platform, arch, glibc), PlatformFit::Fits))
    {
        return Err(Misfit::Abi {
            found: list(&|_| true),
        });
    }
    if let Some((t, v)) = tags
        .iter()
        .find_map(|t| match platform_fit(&t.platform, arch, glibc) {
            PlatformFit::Glibc(v) => Some((t, v)),
            _ => None,
        })
    {
        return Err(Misfit::Glibc {
            found: t.platform.clone(),
            needs: v,
        });
    }
    if let Some(t) = tags
        .iter()
        .find(|t| matches!(platform_fit(&t.platform, arch, glibc), PlatformFit::Musl))
    {
        return Err(Misfit::Musl {
            found: t.platform.clone(),
        });
    }
    let mut platforms: Vec<String> = tags.iter().map(|t| t.platform.clone()).collect();
    platforms.sort();
    platforms.dedup();
    Err(Misfit::Arch {
        found: platforms.join(", "),
    })
}

/// The CPython version and CPU an extension module's file name says it
/// was built for (`_x.cpython-311-x86_64-linux-gnu.so` → 3.11, x86_64);
/// `abi3` modules name no version.
pub fn extension_suffix(name: &str) -> Option<((u32, u32), String)> {
    let rest = name.split(".cpython-").nth(1)?;
    let mut parts = rest.splitn(2, '-');
    let ver = parts.next()?;
    let cpu = parts.next()?.split('-').next()?.to_string();
    let digits = ver.trim_end_matches(['m', 'd', 't']);
    if digits.len() < 2 {
        return None;
    }
    let major = digits[..1].parse().ok()?;
    let minor = digits[1..].parse().ok()?;
    Some(((major, minor), cpu))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(s: &str) -> Vec<WheelTag> {
        let mut p = s.splitn(3, '-');
        expand(p.next().unwrap(), p.next().unwrap(), p.next().unwrap())
    }

    #[test]
    fn wheel_tags_against_targets() {
        let al2 = (2, 26);
        let al2023 = (2, 34);
        let py312 = Some((3, 12));
        let arm = Arch::Arm64;
        let x86 = Arch::X86_64;
        assert!(check_tags(&t("py3-none-any"), arm, py312, al2).is_ok());
        assert!(check_tags(&t("py2.py3-none-any"), arm, py312, al2).is_ok());
        assert!(
            check_tags(
                &t("cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64"),
                arm,
                py312,
                al2
            )
            .is_ok()
        );
        assert!(matches!(
            check_tags(
                &t("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"),
                arm,
                py312,
                al2
            ),
            Err(Misfit::Arch { .. })
        ));
        assert!(matches!(
            check_tags(&t("cp311-cp311-manylinux_2_17_x86_64"), x86, py312, al2),
            Err(Misfit::Abi { .. })
        ));
        assert!(check_tags(&t("cp37-abi3-manylinux_2_17_x86_64"), x86, py312, al2).is_ok());
        assert_eq!(
            check_tags(&t("cp312-cp312-manylinux_2_28_x86_64"), x86, py312, al2),
            Err(Misfit::Glibc {
                found: "manylinux_2_28_x86_64".into(),
                needs: (2, 28)
            })
        );
        assert!(check_tags(&t("cp312-cp312-manylinux_2_28_x86_64"), x86, py312, al2023).is_ok());
        assert!(matches!(
            check_tags(&t("cp312-cp312-musllinux_1_1_x86_64"), x86, py312, al2023),
            Err(Misfit::Musl { .. })
        ));
        assert!(matches!(
            check_tags(&t("cp312-cp312-macosx_11_0_arm64"), arm, py312, al2023),
            Err(Misfit::Arch { .. })
        ));
        assert!(matches!(
            check_tags(
                &t("cp313-cp313t-manylinux_2_17_x86_64"),
                x86,
                Some((3, 13)),
                al2023
            ),
            Err(Misfit::Abi { .. })
        ));
        assert!(check_tags(&t("py3-none-manylinux_2_17_x86_64"), x86, None, al2).is_ok());
    }

    #[test]
    fn wheel_files_and_names() {
        let tags = tags_from_wheel_file(
            "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp312-cp312-manylinux_2_17_x86_64\nTag: cp312-cp312-manylinux2014_x86_64\n",
        );
        assert_eq!(tags.len(), 2);
        let n = tags_from_wheel_name(
            "MarkupSafe-2.1.5-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(n.len(), 2);
        assert!(tags_from_wheel_name("bad.whl").is_none());
        assert_eq!(
            extension_suffix("_speedups.cpython-312-x86_64-linux-gnu.so"),
            Some(((3, 12), "x86_64".into()))
        );
        assert_eq!(extension_suffix("_x.abi3.so"), None);
    }
}
