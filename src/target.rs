//! The platform a deployment runs on: AWS Lambda, Linux with glibc, on an
//! architecture and a Python version. npm's `os`/`cpu`/`libc` fields and
//! Python markers are evaluated for it (re-exported by [`crate::parse`]).

/// Target environment for evaluating Python environment markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonTarget {
    /// `python_version`, e.g. `3.12`.
    pub python_version: String,
    /// `python_full_version`, e.g. `3.12.0`.
    pub python_full_version: String,
    /// `sys_platform`, e.g. `linux`.
    pub sys_platform: String,
    /// `platform_machine`, e.g. `x86_64`.
    pub platform_machine: String,
}

impl Default for PythonTarget {
    /// The AWS Lambda Python 3.12 runtime on x86_64 Linux.
    fn default() -> Self {
        PythonTarget::for_target(&Target::default())
    }
}

impl PythonTarget {
    /// The AWS Lambda Python 3.12 runtime on Linux for `arch`.
    pub fn for_arch(arch: Arch) -> Self {
        PythonTarget::for_target(&Target {
            arch,
            ..Target::default()
        })
    }

    /// The Lambda Python runtime of `target` (its version and CPU).
    pub fn for_target(target: &Target) -> Self {
        let (major, minor) = target.python;
        PythonTarget {
            python_version: format!("{major}.{minor}"),
            python_full_version: format!("{major}.{minor}.0"),
            sys_platform: "linux".into(),
            platform_machine: target.arch.machine().into(),
        }
    }
}

/// A Lambda instruction-set architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// `x86_64` (Lambda's default).
    #[default]
    X86_64,
    /// `arm64` (Graviton).
    Arm64,
}

impl Arch {
    /// Reads a configured architecture: `x86_64`/`x64`/`amd64` or
    /// `arm64`/`aarch64`.
    pub fn parse(s: &str) -> Option<Arch> {
        match s.to_ascii_lowercase().as_str() {
            "x86_64" | "x64" | "amd64" => Some(Arch::X86_64),
            "arm64" | "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }

    /// Lambda's name (`x86_64`, `arm64`).
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The name `platform.machine()` gives on Linux (`x86_64`, `aarch64`).
    pub fn machine(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }
}

/// The platform deployments run on: AWS Lambda, Linux with glibc, on the
/// configured architecture and Python version. npm's `os`/`cpu`/`libc`
/// fields and Python markers are evaluated for it. Outside any function
/// template it is `[target]` of the configuration; a deployment that
/// functions use runs on their runtime and architecture instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// The architecture (`[target] architecture`, default x86_64).
    pub arch: Arch,
    /// The Python version markers are evaluated for (`[target] python`,
    /// default 3.12).
    pub python: (u32, u32),
}

impl Default for Target {
    fn default() -> Self {
        Target {
            arch: Arch::X86_64,
            python: (3, 12),
        }
    }
}

impl Target {
    /// Reads a Python version `3.X`.
    pub fn parse_python(s: &str) -> Option<(u32, u32)> {
        let (a, b) = s.trim().split_once('.')?;
        let v = (a.parse().ok()?, b.parse().ok()?);
        (v.0 == 3 || v == (2, 7)).then_some(v)
    }

    /// `python3.12 on arm64`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "Python {}.{}, {}",
            self.python.0,
            self.python.1,
            self.arch.machine()
        )
    }
}
