//! Issue 13: copying to the clipboard of the terminal, over SSH too, with
//! OSC 52. The runtime writes the sequence after the next frame, the text
//! base64-encoded; a toast says what was copied, or shows the text to select
//! where the terminal is said to refuse OSC 52 (`CASBAH_OSC52=off`).

use super::App;
use crate::service::Level;
use crate::tui::format::safe;
use crate::tui::input::one_line;

/// How much of a copied text its toast shows.
const COPIED_SHOWN: usize = 60;

impl App {
    /// Puts `text` on the clipboard with the next frame, and says what was
    /// copied; where OSC 52 is off, the toast holds the text to select.
    pub(super) fn copy(&mut self, text: String) {
        let shown = safe(&one_line(&text)).into_owned();
        if self.osc52 {
            let cut: String = shown.chars().take(COPIED_SHOWN).collect();
            let more = if cut.len() < shown.len() { "…" } else { "" };
            self.toast(Level::Info, format!("copied: {cut}{more}"));
            self.clipboard = Some(text);
        } else {
            self.toast(
                Level::Warning,
                format!("no clipboard here (CASBAH_OSC52=off); select it: {shown}"),
            );
        }
    }
}
