//! A group's membership history (R-G7, issue 13): who joined and who left,
//! and when, oldest first as the syncs recorded it. Opened on a group in
//! Groups (or `:history GROUP`); it starts at the newest change, as a log
//! does, and scrolls like any list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::external::Load;
use crate::domain::{Group, GroupId};
use crate::store::MembershipChange;
use crate::tui::action::Action;
use crate::tui::format::{safe, timestamp};
use crate::tui::msg::{Cmd, Outcome};
use crate::tui::pane::{Env, Handled, Out};
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{masked_table, pane_block};

#[derive(Debug)]
pub struct History {
    pub group: GroupId,
    /// Safe for display.
    pub name: String,
    pub rows: Load<Vec<MembershipChange>>,
    pub cursor: Cursor,
}

impl History {
    pub fn open(group: &Group, out: &mut Out) -> History {
        out.run(Cmd::LoadHistory(group.id));
        History {
            group: group.id,
            name: safe(&group.name).into_owned(),
            rows: Load::Loading,
            cursor: Cursor::default(),
        }
    }

    /// The changes arrived; an answer for another group is not this one's.
    pub fn loaded(&mut self, group: GroupId, result: Outcome<Vec<MembershipChange>>) {
        if group != self.group {
            return;
        }
        self.rows = match result {
            Ok(rows) => {
                self.cursor.bottom(rows.len());
                Load::Ready(rows)
            }
            Err(e) => Load::Failed(e.message),
        };
    }

    pub fn navigate(&mut self, action: Action) -> Handled {
        let len = self.rows.ready().map_or(0, Vec::len);
        self.cursor.navigate(action, len)
    }

    pub fn draw(&self, f: &mut Frame, area: Rect, env: &Env, focused: bool) {
        let theme = &env.theme;
        let mut title = format!("History of {}", self.name);
        if let Some(rows) = self.rows.ready() {
            let joined = rows.iter().filter(|c| c.joined).count();
            title.push_str(&format!(
                " · {joined} joined · {} left",
                rows.len() - joined
            ));
        }
        let block = pane_block(&title, focused, theme);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let empty = "No change recorded yet: each membership sync records who joined and who left";
        let Some(rows) = self.rows.rows_or_note(f, inner, empty, theme) else {
            return;
        };
        let height = inner.height.saturating_sub(1) as usize;
        let range = self.cursor.window(rows.len(), height);
        let mask = [true, true, true];
        let lines: Vec<Row> = rows[range.clone()]
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let change = if c.joined {
                    Span::styled("+ joined", theme.ok())
                } else {
                    Span::styled("− left", theme.warning())
                };
                let row = Row::new(vec![
                    Cell::from(format!("{} UTC", timestamp(c.at))),
                    Cell::from(change),
                    Cell::from(safe(&c.user).into_owned()),
                ]);
                if focused && range.start + i == self.cursor.selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        masked_table(
            f,
            inner,
            lines,
            ["When", "Change", "Person"],
            [
                Constraint::Length(23),
                Constraint::Length(8),
                Constraint::Fill(1),
            ],
            &mask,
            theme,
        );
    }
}
