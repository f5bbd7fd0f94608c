//! What a native file needs to load: its CPU (`e_machine`), the highest
//! glibc symbol version it requires (`.gnu.version_r`, e.g. `GLIBC_2.34`),
//! and whether it is linked against musl libc instead. Read with the
//! `object` crate, without running anything.

use object::elf;
use object::read::elf::{FileHeader, SectionTable};

/// A CPU as ELF names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// `EM_X86_64`.
    X86_64,
    /// `EM_AARCH64`.
    Aarch64,
    /// Anything else (`e_machine` value).
    Other(u16),
}

impl Machine {
    /// The name used in reports (`x86_64`, `aarch64`, `machine 3`).
    pub fn name(self) -> String {
        match self {
            Machine::X86_64 => "x86_64".into(),
            Machine::Aarch64 => "aarch64".into(),
            Machine::Other(3) => "i386".into(),
            Machine::Other(40) => "arm (32-bit)".into(),
            Machine::Other(n) => format!("ELF machine {n}"),
        }
    }
}

/// What an ELF file needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFacts {
    /// Its CPU.
    pub machine: Machine,
    /// True for a 64-bit file.
    pub class64: bool,
    /// The highest `GLIBC_x.y` version it needs, if any.
    pub glibc: Option<(u32, u32)>,
    /// True when it needs musl's libc (`libc.musl-*.so.1`).
    pub musl: bool,
}

/// True when `bytes` start like an ELF file.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// Reads an ELF file's needs; `None` when it is not ELF or cannot be read
/// (a damaged file is not guessed about).
pub fn inspect(data: &[u8]) -> Option<ElfFacts> {
    if !is_elf(data) {
        return None;
    }
    match data.get(4).copied() {
        Some(c) if c == elf::ELFCLASS64.0 => {
            inspect_as::<elf::FileHeader64<object::Endianness>>(data)
        }
        Some(c) if c == elf::ELFCLASS32.0 => {
            inspect_as::<elf::FileHeader32<object::Endianness>>(data)
        }
        _ => None,
    }
}

fn inspect_as<Elf: FileHeader<Endian = object::Endianness>>(data: &[u8]) -> Option<ElfFacts> {
    let header = Elf::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let machine = match header.e_machine(endian) {
        elf::EM_X86_64 => Machine::X86_64,
        elf::EM_AARCH64 => Machine::Aarch64,
        other => Machine::Other(other.0),
    };
    let mut facts = ElfFacts {
        machine,
        class64: header.is_class_64(),
        glibc: None,
        musl: false,
    };
    // Section headers may be stripped; the machine is known anyway.
    if let Ok(sections) = header.sections(endian, data) {
        facts.glibc = glibc_needed(&sections, endian, data);
        facts.musl = needs_musl(&sections, endian, data);
    }
    Some(facts)
}

fn glibc_needed<Elf: FileHeader<Endian = object::Endianness>>(
    sections: &SectionTable<'_, Elf>,
    endian: object::Endianness,
    data: &[u8],
) -> Option<(u32, u32)> {
    let (mut needs, link) = sections.gnu_verneed(endian, data).ok()??;
    let strings = sections.strings(endian, data, link).ok()?;
    let mut best: Option<(u32, u32)> = None;
    while let Ok(Some((_need, mut aux))) = needs.next() {
        while let Ok(Some(a)) = aux.next() {
            let Ok(name) = a.name(endian, strings) else {
                continue;
            };
            if let Some(v) = std::str::from_utf8(name)
                .ok()
                .and_then(|n| n.strip_prefix("GLIBC_"))
                .and_then(parse_version)
                && best.is_none_or(|b| v > b)
            {
                best = Some(v);
            }
        }
    }
    best
}

fn needs_musl<Elf: FileHeader<Endian = object::Endianness>>(
    sections: &SectionTable<'_, Elf>,
    endian: object::Endianness,
    data: &[u8],
) -> bool {
    let Ok(table) = sections.dynamic_table(endian, data) else {
        return false;
    };
    table
        .iter()
        .filter(|d| d.tag == elf::DT_NEEDED)
        .filter_map(|d| table.string(d).ok())
        .any(|name| name.starts_with(b"libc.musl-") || name.starts_with(b"ld-musl-"))
}

/// `2.34` → (2, 34); `2.3.4` → (2, 3).
pub fn parse_version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// True for a file name that may hold native code Lambda loads: a shared
/// object (`*.so`, `*.so.1.2`), a Node addon (`*.node`), or an OS-only
/// runtime's `bootstrap`.
pub fn is_native_name(name: &str) -> bool {
    name.ends_with(".so") || name.contains(".so.") || name.ends_with(".node") || name == "bootstrap"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_names() {
        assert_eq!(parse_version("2.34"), Some((2, 34)));
        assert_eq!(parse_version("2.3.4"), Some((2, 3)));
        assert_eq!(parse_version("x"), None);
        assert!(is_native_name("_speedups.cpython-312-x86_64-linux-gnu.so"));
        assert!(is_native_name("libz.so.1.2.13"));
        assert!(is_native_name("sharp.node"));
        assert!(!is_native_name("index.js"));
        assert!(inspect(b"not an elf").is_none());
        assert!(inspect(b"\x7fELF\x02\x01\x01").is_none());
    }
}
