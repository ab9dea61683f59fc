//! The dashboard: a keyboard-driven ratatui console over the service layer.
//!
//! `app` routes messages between the panes and holds the dialogs and the
//! way back (no terminal, no service); each pane in `views` owns its state,
//! keys and drawing behind the `pane::Pane` trait; `runtime` runs the event
//! loop and turns `Cmd`s into service calls. Keys are data (`keymap`, assets/keymap.toml) naming
//! `action::Action`s.

pub mod action;
pub mod app;
mod export;
pub mod format;
pub mod fuzzy;
pub mod govern;
pub mod input;
pub mod keymap;
pub mod msg;
pub mod pane;
pub mod ranking;
mod runtime;
mod scoring;
mod screen;
pub mod theme;
pub mod views;
pub mod watch;
pub mod widgets;

use std::path::Path;

use crate::service::Service;

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(transparent)]
    Keymap(#[from] keymap::KeymapError),
    #[error(
        "cannot use the terminal: {0}; run casbah in an interactive terminal, or use its subcommands"
    )]
    Terminal(std::io::Error),
    #[error(
        "the dashboard needs a terminal; run casbah in one, or use a subcommand (casbah --help)"
    )]
    NotATerminal,
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
    #[error("the casbah server stopped; start it again, or run casbah without it")]
    ServerStopped,
    /// The dashboard ended on a panic, which said what happened as it did.
    #[error("the dashboard stopped on an internal error")]
    Panicked,
}

/// Opens the dashboard on `svc` until the user quits, the terminal goes
/// away, or SIGTERM arrives. `database` is shown in the header; `notice`, if
/// any, is shown when it opens; `read_only` hides every account action.
pub async fn run(
    svc: Service,
    database: &Path,
    notice: Option<String>,
    read_only: bool,
) -> Result<(), TuiError> {
    ranking::prefer_small_pages();
    let keymap = keymap::Keymap::load(keymap::Keymap::user_path().as_deref())?;
    // The header says when the dashboard works through a server (issue 9).
    let header = match svc.server() {
        Some(server) => format!(
            "{} · casbah serve pid {}",
            database.display(),
            server.info().pid
        ),
        None => database.display().to_string(),
    };
    let mut app = app::App::new(
        keymap,
        theme::Theme::from_env(),
        header,
        crate::domain::now_micros(),
    );
    // Terminals that drop OSC 52 give no sign of it; CASBAH_OSC52=off says so,
    // and a copy then shows the text to select instead.
    app.osc52 = !matches!(
        std::env::var("CASBAH_OSC52").as_deref(),
        Ok("off" | "0" | "no" | "false")
    );
    app.no_actions = read_only;
    if let Some(text) = notice {
        app.toast(crate::service::Level::Info, text);
    }
    // A setting the user can read and change (`casbah settings`); on unless set off.
    let mouse = svc.settings().await.ok().is_none_or(|list| {
        !list
            .iter()
            .any(|(k, v, _)| k == crate::service::MOUSE_SETTING && v == "off")
    });
    runtime::run(svc, app, mouse).await
}
