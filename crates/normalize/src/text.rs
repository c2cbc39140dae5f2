//! Plain-text normalization: whitespace folding, invisible characters,
//! Unicode NFC, and splitting text into paragraphs.

use unicode_normalization::UnicodeNormalization;

/// Returns `input` in NFC with every run of whitespace (including
/// no-break and other Unicode spaces) folded to one space, invisible
/// formatting characters (soft hyphen, zero-width space, BOM) and control
/// characters removed, and the ends trimmed.
///
/// Zero-width joiner and non-joiner are kept: scripts such as Persian and
/// emoji sequences need them.
pub fn clean_whitespace(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.nfc() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if matches!(c, '\u{00ad}' | '\u{200b}' | '\u{2060}' | '\u{feff}') || c.is_control() {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Splits plain text into paragraphs: one paragraph per line, blank lines
/// ignored. This is the shape of wire copy and of JSON Feed `content_text`;
/// hard-wrapped formats (ANPA) unwrap their lines before they get here.
pub fn text_to_paragraphs(input: &str) -> Vec<String> {
    input
        .split(['\n', '\r'])
        .map(clean_whitespace)
        .filter(|paragraph| !paragraph.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_folded_and_invisibles_removed() {
        assert_eq!(
            clean_whitespace("  a\u{00a0}\u{2009}b\t\nc\u{200b}d\u{00ad}e  "),
            "a b cde"
        );
    }

    #[test]
    fn nfc_composes_accents() {
        assert_eq!(clean_whitespace("Zelenskye\u{301}"), "Zelensky\u{e9}");
    }

    #[test]
    fn one_paragraph_per_line_blank_lines_ignored() {
        let text = "Friday, September 13, 2024\nFirst paragraph.\r\n\n\n  Second.  \n";
        assert_eq!(
            text_to_paragraphs(text),
            vec!["Friday, September 13, 2024", "First paragraph.", "Second."]
        );
    }
}
