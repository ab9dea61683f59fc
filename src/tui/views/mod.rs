//! The screen: header, tabs and breadcrumbs, the panes, footer, and what
//! floats above them. Wide terminals show the four panes of the activity
//! console at once; narrow ones, and the External groups pane (a tree and
//! explanations that want the room), show the focused pane alone.

pub mod activities;
pub mod connect;
pub mod connectors;
pub mod external;
pub mod groups;
pub mod members;
pub mod picker;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::{App, Overlay, Pane};
use super::widgets::{chrome, help};

/// From this size on, the four panes share the screen.
const WIDE: (u16, u16) = (120, 30);

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let [header, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::header(f, header, app);
    chrome::tabs(f, tabs, app);
    if area.width >= WIDE.0 && area.height >= WIDE.1 && app.focus != Pane::External {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(body);
        let [conn, groups] =
            Layout::vertical([Constraint::Length(6), Constraint::Fill(1)]).areas(left);
        let [members, acts] =
            Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(right);
        for (pane, rect) in [
            (Pane::Connectors, conn),
            (Pane::Groups, groups),
            (Pane::Members, members),
            (Pane::Activities, acts),
        ] {
            draw_pane(f, rect, app, pane);
        }
    } else {
        draw_pane(f, body, app, app.focus);
    }
    chrome::footer(f, footer, app);
    if let Some(p) = &app.picker {
        picker::draw(f, body, app, p);
    }
    if let Some(w) = &app.wizard {
        connect::draw(f, body, app, w);
    }
    if let Overlay::Help { scroll } = &app.overlay {
        help::draw(f, body, app, *scroll);
    }
    chrome::toasts(f, body, app);
}

fn draw_pane(f: &mut Frame, area: Rect, app: &App, pane: Pane) {
    let focused = app.focus == pane;
    match pane {
        Pane::Connectors => connectors::draw(f, area, app, focused),
        Pane::Groups => groups::draw(f, area, app, focused),
        Pane::Members => members::draw(f, area, app, focused),
        Pane::Activities => activities::draw(f, area, app, focused),
        Pane::External => external::draw(f, area, app, focused),
    }
}
