//! The terminal while the dashboard holds it: raw mode, the alternate screen and bracketed
//! paste on the way in; all undone, and the cursor shown, on the way out, whichever way
//! that is.
//!
//! A panic on any thread ends the dashboard (issue 10). ratatui's own hook restores the
//! terminal on every panic, but a panic in a background task then left the dashboard
//! running in cooked mode; and it restored it even for the redb panics that the store
//! expects on a damaged file and turns into an error. Here a panic that is not expected
//! hands the terminal back at once, so that its one line shows and the shell is usable,
//! then tells the event loop to stop. Frames are drawn under the same lock, so that none
//! is drawn after.

use std::cell::Cell;
use std::io::stdout;
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

use ratatui::DefaultTerminal;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::prelude::CrosstermBackend;
use tokio::sync::mpsc::UnboundedSender;

use super::TuiError;
use super::msg::Msg;

/// The event loop's channel while the dashboard holds the terminal; `None` once it was
/// handed back.
static HELD: Mutex<Option<UnboundedSender<Msg>>> = Mutex::new(None);
static HOOK: Once = Once::new();

thread_local! {
    /// Set while this thread draws a frame, holding `HELD`.
    static DRAWING: Cell<bool> = const { Cell::new(false) };
}

fn held() -> MutexGuard<'static, Option<UnboundedSender<Msg>>> {
    HELD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes the terminal for the dashboard; a panic from now on sends `Msg::Panicked` on `tx`.
/// With `mouse`, clicks and the wheel come as events (the terminal's own selection then
/// wants Shift, in most terminals).
pub fn take(tx: &UnboundedSender<Msg>, mouse: bool) -> Result<DefaultTerminal, TuiError> {
    HOOK.call_once(hand_back_on_panic);
    enable_raw_mode().map_err(TuiError::Terminal)?;
    *held() = Some(tx.clone());
    let entered = execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)
        .and_then(|()| match mouse {
            true => execute!(stdout(), EnableMouseCapture),
            false => Ok(()),
        })
        .and_then(|()| ratatui::Terminal::new(CrosstermBackend::new(stdout())));
    entered.map_err(|e| {
        release(true);
        TuiError::Terminal(e)
    })
}

/// Draws one frame with `draw`, unless the terminal was handed back (after a panic):
/// then `Ok(false)`.
pub fn draw(
    terminal: &mut DefaultTerminal,
    draw: impl FnOnce(&mut DefaultTerminal) -> std::io::Result<()>,
) -> std::io::Result<bool> {
    let held = held();
    if held.is_none() {
        return Ok(false);
    }
    DRAWING.with(|d| d.set(true));
    let drawn = draw(terminal);
    DRAWING.with(|d| d.set(false));
    drop(held);
    drawn.map(|()| true)
}

/// Gives the terminal back, restored, if the dashboard still holds it. After a hang-up
/// (`restore` false) there is no terminal left, and nothing is written to it, not even by
/// `terminal`'s drop, which shows the cursor and reports a failure to do so on stderr
/// (the same dead terminal: a panic, and then an abort).
pub fn hand_back(terminal: DefaultTerminal, restore: bool) {
    release(restore);
    if !restore {
        std::mem::forget(terminal);
    }
}

fn release(restore: bool) {
    if held().take().is_some() && restore {
        restore_terminal();
    }
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
}

fn hand_back_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // redb's panics on a damaged file are answers the store catches, not the end.
        if !crate::store::panics_are_expected() {
            if DRAWING.with(Cell::get) {
                // This thread holds `HELD` mid-frame and unwinds out of the loop.
                restore_terminal();
            } else if let Some(tx) = held().take() {
                restore_terminal();
                let _ = tx.send(Msg::Panicked);
            }
        }
        // Says what happened (the CLI's hook: one line, and the log), on the restored screen.
        previous(info);
    }));
}
