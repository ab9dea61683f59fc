//! Small text helpers shared by the views: times, counts, safe vendor text.

use std::borrow::Cow;

use crate::domain::{AppKind, Micros};

/// Vendor text at the render boundary. It was made safe when stored; this
/// is the second lock on the same door, the one that holds for a database
/// written before an escape was known (issue 10: bidi and format characters).
pub fn safe(s: &str) -> Cow<'_, str> {
    crate::domain::text::safe(s)
}

/// An instance with its app, "okta · acme": R-C2 makes a name unique within
/// its app only, so the name alone does not say which instance it is.
pub fn instance_label(app: AppKind, name: &str) -> String {
    format!("{} · {}", app.slug(), safe(name))
}

/// An instance in a list's column: "okta · acme", or where `wide` is false
/// the app alone, which must show in every list.
pub fn instance_cell(app: AppKind, name: &str, wide: bool) -> String {
    if wide {
        instance_label(app, name)
    } else {
        app.slug().to_owned()
    }
}

/// The widest an instance's column gets: a longer name is cut short rather than push
/// the group's name, the actor or the activity off the screen (issue 10).
pub const INSTANCE_MAX: usize = 28;

/// The column for an instance: its title, and its width, the widest of the cells (in the
/// columns a terminal gives them, at most `INSTANCE_MAX`) and the title.
pub fn instance_column(cells: &[String], wide: bool) -> (&'static str, u16) {
    use unicode_width::UnicodeWidthStr;
    let title = if wide { "Instance" } else { "App" };
    let widest = cells
        .iter()
        .map(|c| c.width())
        .max()
        .unwrap_or(0)
        .min(INSTANCE_MAX);
    (
        title,
        u16::try_from(widest.max(title.len())).unwrap_or(u16::MAX),
    )
}

/// "12s ago", "5m ago", "3h ago", "2d ago", or "never".
pub fn ago(now: Micros, then: Option<Micros>) -> String {
    let Some(then) = then else {
        return "never".into();
    };
    let secs = (now - then).max(0) / 1_000_000;
    match secs {
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86_400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

/// "2026-11-22 06:01:02" in UTC.
pub fn timestamp(t: Micros) -> String {
    time_in(t, "%Y-%m-%d %H:%M:%S")
}

/// A time in UTC, in a chrono `format`.
pub fn time_in(t: Micros, format: &str) -> String {
    chrono::DateTime::from_timestamp_micros(t)
        .map_or_else(|| "?".into(), |d| d.format(format).to_string())
}

/// "06:01" in UTC.
pub fn clock(t: Micros) -> String {
    chrono::DateTime::from_timestamp_micros(t)
        .map_or_else(|| "--:--".into(), |d| d.format("%H:%M UTC").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        let s = 1_000_000;
        assert_eq!(ago(100 * s, Some(88 * s)), "12s ago");
        assert_eq!(ago(4000 * s, Some(0)), "1h ago");
        assert_eq!(ago(0, None), "never");
        assert_eq!(
            ago(0, Some(5 * s)),
            "0s ago",
            "clock skew never shows a negative age"
        );
    }

    // DESIGN §3 Untrusted text: a control character never reaches the screen.
    #[test]
    fn safe_escapes_controls() {
        assert_eq!(safe("\x1b]2;owned\x07Fin"), "^[]2;owned^GFin");
        assert!(matches!(safe("plain"), Cow::Borrowed(_)));
    }
}
