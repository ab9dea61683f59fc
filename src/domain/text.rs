//! Vendor text is untrusted: it is made safe before it is stored or shown.

use std::borrow::Cow;
use std::fmt::Write;

/// Replaces C0, C1 and DEL control characters with visible escapes so that
/// vendor text can never drive the terminal (DESIGN §3 "Untrusted text"), and
/// invisible format characters (bidi overrides and isolates, marks, zero-width
/// and other Cf characters) and line or paragraph separators, so that none
/// can reorder or misalign what an investigator reads.
///
/// C0 and DEL use caret notation (`\x1b` → `^[`, `\0` → `^@`, `\x7f` → `^?`),
/// the others Rust's escape (`\u{9b}`, `\u{202e}`). Tabs and newlines are
/// escaped too: every vendor string is shown on one line. Everything else,
/// including non-ASCII letters and emoji, is kept as it is. The zero-width
/// joiner and non-joiner are kept where they join two non-ASCII characters (an
/// emoji sequence, Persian or Devanagari writing); elsewhere they only hide a
/// difference (`ad\u{200d}min` is not `admin`) and are escaped.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut before = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match u32::from(c) {
            // C0: caret notation maps 0x00..=0x1f onto '@'..='_'.
            code @ 0x00..=0x1f => {
                out.push('^');
                out.push(char::from(b'@' + code as u8));
            }
            0x7f => out.push_str("^?"),
            _ if c.is_ascii() => out.push(c),
            code if is_hidden(c) || (is_joiner(c) && !joins(before, chars.peek().copied())) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{code:x}}}");
            }
            _ => out.push(c),
        }
        before = Some(c);
    }
    out
}

/// `s` as `sanitize` makes it, borrowed when it holds nothing to escape: the lock
/// on every output, for text that bypassed the one on the way in (a database
/// written before an escape was known, text that never came from a vendor).
pub fn safe(s: &str) -> Cow<'_, str> {
    if s.chars()
        .any(|c| c.is_control() || is_hidden(c) || is_joiner(c))
    {
        Cow::Owned(sanitize(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// C1 controls, format characters but the joiners, and line and paragraph separators.
fn is_hidden(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    match c.general_category() {
        GeneralCategory::Control
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator => true,
        GeneralCategory::Format => !is_joiner(c),
        _ => false,
    }
}

/// The zero-width joiner and non-joiner.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200c}' | '\u{200d}')
}

/// Whether a joiner between `before` and `after` joins two visible non-ASCII characters.
fn joins(before: Option<char>, after: Option<char>) -> bool {
    let joinable =
        |c: Option<char>| c.is_some_and(|c| !c.is_ascii() && !is_hidden(c) && !is_joiner(c));
    joinable(before) && joinable(after)
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

    // Issue 10, DESIGN §3 Untrusted text: bidi overrides and isolates, marks and other
    // invisible format characters are made visible; emoji sequences keep their joiner.
    #[test]
    fn bidi_and_format_characters_are_escaped() {
        assert_eq!(
            sanitize("invoice\u{202e}fdp.exe"),
            "invoice\\u{202e}fdp.exe"
        );
        for hidden in [
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{202e}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200e}',
            '\u{200f}',
            '\u{61c}',
            '\u{200b}',
            '\u{feff}',
            '\u{ad}',
            '\u{2028}',
            '\u{2029}',
            '\u{e0041}',
        ] {
            let out = sanitize(&format!("a{hidden}b"));
            assert!(!out.contains(hidden), "{hidden:?} → {out:?}");
            assert!(out.starts_with("a\\u{") && out.ends_with("}b"), "{out:?}");
        }
        let family = "👨\u{200d}👩\u{200d}👧";
        assert_eq!(sanitize(family), family);
    }

    // Issue 10, DESIGN §3 Untrusted text: a joiner that joins no two non-ASCII
    // characters only hides a difference between two names, and is made visible; one in
    // Persian, Devanagari or an emoji sequence is writing, and is kept.
    #[test]
    fn joiners_are_kept_only_where_they_join() {
        assert_eq!(sanitize("ad\u{200d}min"), "ad\\u{200d}min");
        assert_eq!(sanitize("ad\u{200c}min"), "ad\\u{200c}min");
        assert_eq!(sanitize("\u{200d}👩"), "\\u{200d}👩");
        assert_eq!(sanitize("👨\u{200d}"), "👨\\u{200d}");
        assert_eq!(sanitize("👨\u{200d}\u{200d}👩"), "👨\\u{200d}\\u{200d}👩");
        for kept in ["می\u{200c}خواهم", "क्\u{200d}ष", "❤\u{fe0f}\u{200d}🔥"] {
            assert_eq!(sanitize(kept), kept);
        }
    }

    // Issue 10: `safe` lends clean text as it is and escapes the rest like `sanitize`.
    #[test]
    fn safe_borrows_clean_text() {
        assert!(matches!(safe("Zoë 財務"), Cow::Borrowed("Zoë 財務")));
        for s in ["a\u{202e}b", "a\x1bb", "ad\u{200d}min", "👨\u{200d}👩"] {
            assert_eq!(safe(s), sanitize(s));
        }
    }

    // DESIGN §3 Untrusted text: ordinary Unicode passes untouched.
    #[test]
    fn other_unicode_is_kept() {
        let s = "Zoë Ångström – 財務 🚀 \u{a0}";
        assert_eq!(sanitize(s), s);
    }

    proptest! {
        // DESIGN §3 Untrusted text: no control or hidden format character ever survives.
        #[test]
        fn output_has_no_control_characters(s in any::<String>()) {
            let out = sanitize(&s);
            prop_assert!(!out.chars().any(|c| c.is_control() || is_hidden(c)), "{:?}", out);
        }

        // Text without controls, separators or format characters (joiners aside) is
        // returned as it was.
        #[test]
        fn clean_text_is_unchanged(s in "[^\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}]*") {
            prop_assert_eq!(sanitize(&s), s);
        }
    }
}
