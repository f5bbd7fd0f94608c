//! What a reader can see of a text: [`is_hidden`] characters (controls,
//! bidirectional and other invisible format characters) never reach an
//! output raw ([`crate::report::escape`]), and a text made only of them is
//! empty to a reader ([`has_visible_text`]). Vocabulary: it imports nothing
//! of the crate.

/// True for a character that must never reach an output raw: controls
/// (C0, DEL, C1), line and paragraph separators, bidirectional controls,
/// zero-width and other invisible format characters, variation selectors,
/// tag characters and noncharacters.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x00AD | 0x034F | 0x061C | 0x0600..=0x0605 | 0x06DD | 0x070F
            | 0x0890 | 0x0891 | 0x08E2 | 0x115F | 0x1160 | 0x17B4 | 0x17B5
            | 0x180B..=0x180F | 0x200B..=0x200F | 0x2028..=0x202E
            | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0
            | 0xFFF0..=0xFFFB | 0xFFFE | 0xFFFF | 0x110BD | 0x110CD
            | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF)
}

/// True when `s` has at least one character a reader can see: not
/// whitespace and not [`is_hidden`]. A text made only of zero-width spaces
/// is empty to a reader.
pub fn has_visible_text(s: &str) -> bool {
    s.chars().any(|c| !c.is_whitespace() && !is_hidden(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_only_text_has_nothing_to_see() {
        assert!(!has_visible_text("\u{200b}"));
        assert!(!has_visible_text(" \u{200b}\u{feff}\u{2060} \u{3000}"));
        assert!(has_visible_text("\u{200b}x"));
    }
}
