//! Vendor text is untrusted: it is made safe before it is stored or shown.

use std::fmt::Write;

/// Replaces C0, C1 and DEL control characters with visible escapes so that
/// vendor text can never drive the terminal (DESIGN §3 "Untrusted text").
///
/// C0 and DEL use caret notation (`\x1b` → `^[`, `\0` → `^@`, `\x7f` → `^?`),
/// C1 uses Rust's escape (`\u{9b}`). Tabs and newlines are escaped too: every
/// vendor string is shown on one line. Everything else, including non-ASCII
/// letters and emoji, is kept as it is.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match u32::from(c) {
            // C0: caret notation maps 0x00..=0x1f onto '@'..='_'.
            code @ 0x00..=0x1f => {
                out.push('^');
                out.push(char::from(b'@' + code as u8));
            }
            0x7f => out.push_str("^?"),
            code @ 0x80..=0x9f => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{code:x}}}");
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // DESIGN §3 Untrusted text: a terminal title escape in a group name is defused.
    #[test]
    fn osc_title_sequence_is_made_visible() {
        let out = sanitize("\x1b]2;owned\x07Finance");
        assert_eq!(out, "^[]2;owned^GFinance");
        assert!(!out.chars().any(char::is_control));
    }

    // DESIGN §3 Untrusted text: tabs, newlines and carriage returns are escaped.
    #[test]
    fn line_breaks_and_tabs_use_caret_notation() {
        assert_eq!(sanitize("a\tb\nc\rd\0"), "a^Ib^Jc^Md^@");
        assert_eq!(sanitize("\x1f\x1c"), "^_^\\");
    }

    // DESIGN §3 Untrusted text: DEL and C1 controls.
    #[test]
    fn del_and_c1_are_escaped() {
        assert_eq!(sanitize("x\x7fy"), "x^?y");
        assert_eq!(sanitize("\u{9b}31m\u{85}"), "\\u{9b}31m\\u{85}");
    }

    // DESIGN §3 Untrusted text: ordinary Unicode passes untouched.
    #[test]
    fn other_unicode_is_kept() {
        let s = "Zoë Ångström – 財務 🚀 \u{a0}";
        assert_eq!(sanitize(s), s);
    }

    proptest! {
        // DESIGN §3 Untrusted text: no control character ever survives.
        #[test]
        fn output_has_no_control_characters(s in any::<String>()) {
            let out = sanitize(&s);
            prop_assert!(!out.chars().any(char::is_control), "{:?}", out);
        }

        // Text without controls is returned as it was.
        #[test]
        fn clean_text_is_unchanged(s in "[^\\p{Cc}]*") {
            prop_assert_eq!(sanitize(&s), s);
        }
    }
}
