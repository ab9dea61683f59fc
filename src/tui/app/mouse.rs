//! Issue 13: the mouse. A click focuses the pane under it and selects the
//! row there; the wheel scrolls the pane under the pointer. Dialogs and the
//! `:` line keep the keyboard's ways only. Off with `dashboard.mouse`.

use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::{App, Overlay};
use crate::tui::action::Action;
use crate::tui::pane::{Out, PaneId};

/// Rows a turn of the wheel moves.
const WHEEL_ROWS: usize = 3;

impl App {
    pub(super) fn mouse(&mut self, m: MouseEvent) {
        if self.picker.is_some() || self.wizard.is_some() || self.overlay != Overlay::None {
            return;
        }
        let at = Position::new(m.column, m.row);
        let Some(pane) = self.pane_at(at) else { return };
        let mut out = Out::default();
        let target = self.panes.get_mut(pane);
        if target.typing() {
            return;
        }
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                self.panes.get_mut(pane).click(m.row, &self.env, &mut out);
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let action = match m.kind {
                    MouseEventKind::ScrollUp => Action::Up,
                    _ => Action::Down,
                };
                for _ in 0..WHEEL_ROWS {
                    target.on_action(action, &self.env, &mut out);
                }
            }
            _ => {}
        }
        self.apply(out);
    }

    /// The pane drawn at `at` in the last frame.
    fn pane_at(&self, at: Position) -> Option<PaneId> {
        self.drawn
            .borrow()
            .iter()
            .find(|(_, rect): &&(PaneId, Rect)| rect.contains(at))
            .map(|(pane, _)| *pane)
    }
}
