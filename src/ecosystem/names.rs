//! Package-name normalisation per ecosystem, written into a caller's
//! buffer. Free of crate dependencies so that `build.rs` (which
//! precomputes the typosquat tables) includes this very file.

/// PEP 503: lower-case, and each run of `-`, `_` and `.` becomes one `-`.
/// Surrounding whitespace is dropped. `out` is cleared first.
pub fn pypi_into(name: &str, out: &mut String) {
    out.clear();
    let mut in_sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
            in_sep = false;
        }
    }
}

/// crates.io: ASCII case folded and `_` read as `-` (the registry treats
/// them as the same name). `out` is cleared first.
pub fn crate_into(name: &str, out: &mut String) {
    out.clear();
    out.extend(name.chars().map(|c| match c {
        '_' => '-',
        c => c.to_ascii_lowercase(),
    }));
}
