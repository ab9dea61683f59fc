//! The queries list's own keys (R-A3, issue 13): a saved query is renamed
//! in place or deleted after a `y`; the suggested ones are built in and
//! stay. The list itself, and Enter applying a query, are the pane's.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::ActivitiesPane;
use crate::service::Level;
use crate::tui::action::Action;
use crate::tui::input::Input;
use crate::tui::msg::Cmd;
use crate::tui::pane::{Handled, Out};

/// A change to a saved query waiting for its last key.
#[derive(Debug)]
pub enum QueryEdit {
    /// The new name is being typed.
    Rename { from: String, input: Input },
    /// Asked "delete?"; `y` deletes.
    Delete(String),
}

impl ActivitiesPane {
    /// The saved query under the cursor, by name; a suggested one is refused.
    fn chosen_saved(&self, out: &mut Out) -> Option<String> {
        let (name, _, saved) = self.queries.as_ref()?.get(self.queries_cursor.selected)?;
        if !saved {
            out.toast(
                Level::Warning,
                "suggested queries are built in; w saves the filter as a query of your own",
            );
            return None;
        }
        Some(name.clone())
    }

    /// `r` and `d` in the queries list.
    pub(super) fn query_action(&mut self, action: Action, out: &mut Out) -> Handled {
        match action {
            Action::Rename => {
                if let Some(from) = self.chosen_saved(out) {
                    let input = Input::new(&from);
                    self.query_edit = Some(QueryEdit::Rename { from, input });
                }
            }
            Action::Delete => {
                if let Some(name) = self.chosen_saved(out) {
                    self.query_edit = Some(QueryEdit::Delete(name));
                }
            }
            _ => return Handled::NotConsumed,
        }
        Handled::Consumed
    }

    /// A named key while a rename or a delete waits: Enter renames, Esc
    /// (or anything but `y` to a delete) leaves the query as it was.
    pub(super) fn query_edit_action(&mut self, action: Action, out: &mut Out) -> Handled {
        let Some(edit) = self.query_edit.take() else {
            return Handled::NotConsumed;
        };
        match (edit, action) {
            (QueryEdit::Rename { from, input }, Action::Submit) => self.rename(from, &input, out),
            (_, Action::Back) => {}
            (_, Action::Quit) => return Handled::NotConsumed,
            (edit @ QueryEdit::Rename { .. }, _) => self.query_edit = Some(edit),
            (QueryEdit::Delete(_), _) => {}
        }
        Handled::Consumed
    }

    /// A typed key while a rename or a delete waits.
    pub(super) fn query_edit_key(&mut self, key: KeyEvent, out: &mut Out) {
        match self.query_edit.take() {
            Some(QueryEdit::Rename { from, mut input }) => {
                input.edit(key);
                self.query_edit = Some(QueryEdit::Rename { from, input });
            }
            Some(QueryEdit::Delete(name)) if key.code == KeyCode::Char('y') => {
                out.run(Cmd::DeleteQuery { name });
            }
            Some(QueryEdit::Delete(_)) | None => {}
        }
    }

    fn rename(&mut self, from: String, input: &Input, out: &mut Out) {
        let to = input.text().trim().to_owned();
        if to.is_empty() || to == from {
            return;
        }
        if self.saved.iter().any(|(n, _)| *n == to) {
            out.toast(
                Level::Error,
                format!("a saved query is already named {to:?}; choose another name"),
            );
            self.query_edit = Some(QueryEdit::Rename {
                from,
                input: input.clone(),
            });
            return;
        }
        let Some(text) = self
            .saved
            .iter()
            .find(|(n, _)| *n == from)
            .map(|q| q.1.clone())
        else {
            return;
        };
        out.run(Cmd::RenameQuery { from, to, text });
    }

    /// The saved queries arrived: the open list shows them, the cursor on
    /// the same row number.
    pub(super) fn saved_loaded(&mut self, list: Vec<(String, String)>) {
        self.saved = list;
        if self.queries.is_some() {
            let at = self.queries_cursor.selected;
            self.open_queries();
            let len = self.queries.as_ref().map_or(0, Vec::len);
            self.queries_cursor.selected = at.min(len.saturating_sub(1));
        }
    }

    /// The line under the queries list: what a waiting rename or delete asks.
    pub(super) fn query_prompt(&self) -> Option<(String, Option<&Input>)> {
        match self.query_edit.as_ref()? {
            QueryEdit::Rename { from, input } => {
                Some((format!("Rename {from:?} to: "), Some(input)))
            }
            QueryEdit::Delete(name) => Some((
                format!("Delete the saved query {name:?}? y deletes, any other key keeps it"),
                None,
            )),
        }
    }
}
