//! Selection and scrolling for long lists: only the visible window is ever
//! built into rows, so a list of 100,000 costs what a screenful costs.

use std::cell::Cell;
use std::ops::Range;

use crate::tui::action::Action;
use crate::tui::pane::Handled;

#[derive(Debug, Default, Clone)]
pub struct Cursor {
    pub selected: usize,
    offset: Cell<usize>,
    /// Rows shown at the last draw, for paging.
    height: Cell<usize>,
    /// The screen line of the first row at the last draw, for clicks.
    top: Cell<u16>,
}

impl PartialEq for Cursor {
    fn eq(&self, other: &Cursor) -> bool {
        self.selected == other.selected
    }
}

impl Cursor {
    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn down(&mut self, len: usize) {
        self.selected = (self.selected + 1).min(len.saturating_sub(1));
    }

    pub fn page_up(&mut self) {
        self.selected = self.selected.saturating_sub(self.height.get().max(1));
    }

    pub fn page_down(&mut self, len: usize) {
        self.selected = (self.selected + self.height.get().max(1)).min(len.saturating_sub(1));
    }

    pub fn top(&mut self) {
        self.selected = 0;
        self.offset.set(0);
    }

    pub fn bottom(&mut self, len: usize) {
        self.selected = len.saturating_sub(1);
    }

    /// Moves for a navigation action over a list of `len` rows; any other
    /// action is not this cursor's.
    pub fn navigate(&mut self, action: Action, len: usize) -> Handled {
        match action {
            Action::Up => self.up(),
            Action::Down => self.down(len),
            Action::PageUp => self.page_up(),
            Action::PageDown => self.page_down(len),
            Action::Top => self.top(),
            Action::Bottom => self.bottom(len),
            _ => return Handled::NotConsumed,
        }
        Handled::Consumed
    }

    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }

    pub fn offset(&self) -> usize {
        self.offset.get()
    }

    /// Moves the selection and the view by `n` rows, so that rows inserted
    /// above leave the same rows on screen.
    pub fn shift(&mut self, n: usize) {
        self.selected += n;
        self.offset.set(self.offset.get() + n);
    }

    /// Says where on the screen the first row was drawn.
    pub fn place(&self, y: u16) {
        self.top.set(y);
    }

    /// A click on screen line `y`: selects the row drawn there, if any.
    pub fn click(&mut self, y: u16, len: usize) -> Handled {
        let Some(line) = y.checked_sub(self.top.get()).map(usize::from) else {
            return Handled::NotConsumed;
        };
        let row = self.offset.get() + line;
        if line >= self.height.get() || row >= len {
            return Handled::NotConsumed;
        }
        self.selected = row;
        Handled::Consumed
    }

    /// The rows to draw in `height` lines, keeping the selection in view.
    pub fn window(&self, len: usize, height: usize) -> Range<usize> {
        self.height.set(height);
        let mut offset = self.offset.get().min(len.saturating_sub(1));
        if self.selected < offset {
            offset = self.selected;
        } else if height > 0 && self.selected >= offset + height {
            offset = self.selected + 1 - height;
        }
        self.offset.set(offset);
        offset.min(len)..(offset + height).min(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_follows_the_selection() {
        let mut c = Cursor::default();
        assert_eq!(c.window(100, 10), 0..10);
        for _ in 0..15 {
            c.down(100);
        }
        assert_eq!(c.window(100, 10), 6..16);
        c.page_down(100);
        assert_eq!(c.selected, 25);
        c.bottom(100);
        assert_eq!(c.window(100, 10), 90..100);
        assert_eq!(c.window(0, 10), 0..0);
        assert!(c.window(5, 0).is_empty());
    }
}
