//! Human tables and the stable JSON shapes documented in the README.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Failure;
use crate::domain::Micros;
use crate::domain::text::safe;
use crate::service::export::safe_json;

pub use crate::service::export::rfc3339 as time;

/// A short local-free form for tables: "2026-11-22 08:15".
pub fn short_time(t: Option<Micros>) -> String {
    t.and_then(DateTime::<Utc>::from_timestamp_micros)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "never".into())
}

/// Prints `value` as indented JSON, its strings escaped as vendor text is (`safe_json`).
pub fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text =
        safe_json(value, true).map_err(|e| Failure::Failed(format!("cannot write JSON: {e}")))?;
    json(&text);
    json("\n");
    Ok(())
}

/// Prints rows as aligned columns under a header; the last column is not padded.
/// Cells are escaped as vendor text is, and measured in the columns a terminal gives
/// them, so that a wide character does not push the next column out of line.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    use unicode_width::UnicodeWidthStr;
    let rows: Vec<Vec<Cow<str>>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| safe(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (i, cell) in cells.enumerate() {
            out.push_str(cell);
            if i + 1 < widths.len() {
                let pad = widths[i].saturating_sub(cell.width()) + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        println!("{}", out.trim_end());
    };
    line(&mut header.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(|c| c.as_ref()));
    }
}

/// Writes `text` and a line break to stdout (or stderr), the text escaped as vendor text
/// is, its line breaks too: what `println!` and `eprintln!` come down to in every
/// command-line module (see `cli`), so that no heading, listing or message can carry a
/// vendor's control or format character to the terminal, or break a line.
pub fn line(to_stderr: bool, text: &str) {
    let text = safe(text);
    // The standard macros, by path: the names alone are the shadows that lead here. They
    // panic when the reader has gone, which `cli::main` turns into a quiet exit.
    if to_stderr {
        std::eprintln!("{text}");
    } else {
        std::println!("{text}");
    }
}

/// Writes JSON that `safe_json` encoded, as it is: its line breaks are its own.
pub fn json(text: &str) {
    std::print!("{text}");
}
