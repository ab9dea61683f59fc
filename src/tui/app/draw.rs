//! The screen: header, tabs and breadcrumbs, the panes, footer, and what
//! floats above them. Wide terminals show the four panes of the activity
//! console at once; narrow ones, and the External groups pane (a tree and
//! explanations that want the room), show the focused pane alone.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use super::{App, Overlay};
use crate::tui::pane::{Component, PaneId};
use crate::tui::widgets::{chrome, help};

/// From this size on, the four panes share the screen.
const WIDE: (u16, u16) = (120, 30);

impl App {
    pub fn draw(&self, f: &mut Frame) {
        let env = &self.env;
        let area = f.area();
        let [header, tabs, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(area);
        chrome::header(f, header, env);
        chrome::tabs(f, tabs, &env.theme, self.focus, &self.breadcrumbs());
        let mut drawn = Vec::new();
        let wide = area.width >= WIDE.0 && area.height >= WIDE.1;
        let alone = matches!(
            self.focus,
            PaneId::External | PaneId::Audit | PaneId::Apps | PaneId::Alerts
        );
        if wide && !self.zoomed && !alone {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(body);
            let [conn, groups] =
                Layout::vertical([Constraint::Length(6), Constraint::Fill(1)]).areas(left);
            let [members, acts] =
                Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)])
                    .areas(right);
            for (pane, rect) in [
                (PaneId::Connectors, conn),
                (PaneId::Groups, groups),
                (PaneId::Members, members),
                (PaneId::Activities, acts),
            ] {
                self.panes.get(pane).draw(f, rect, self.focus == pane, env);
                drawn.push((pane, rect));
            }
        } else {
            self.panes.get(self.focus).draw(f, body, true, env);
            drawn.push((self.focus, body));
        }
        *self.drawn.borrow_mut() = drawn;
        if !self.overlay.draw_prompt(f, footer, &env.theme) {
            chrome::footer(f, footer, &env.keymap, &env.theme, &self.contexts());
        }
        if let Some(p) = &self.picker {
            p.draw(f, body, true, env);
        }
        if let Some(w) = &self.wizard {
            w.draw(f, body, true, env);
        }
        if let Some(a) = &self.act {
            a.draw(f, body, true, env);
        }
        if let Overlay::Help(h) = &self.overlay {
            help::draw(f, body, &env.keymap, &env.theme, h);
        }
        chrome::toasts(f, body, &env.theme, &self.toasts);
    }
}
