//! Vendor text is untrusted: it is made safe before it is stored or shown.

/// Replaces C0, C1 and DEL control characters with visible escapes
/// (`\x1b` → `^[`, others → `\u{..}`) so that vendor text can never drive
/// the terminal. Tabs and newlines are escaped too: every vendor string is
/// shown on one line.
pub fn sanitize(s: &str) -> String {
    todo!("domain helper: {s}")
}
