//! The filter editor of the Activities pane: typing a filter, checked as it is typed
//! (R-A4), and Tab completion of fields and values.

use ratatui::crossterm::event::KeyEvent;

use super::ActivitiesPane;
use super::complete::{KnownValues, completions};
use crate::domain::filter::{self, FilterError};
use crate::tui::action::Action;
use crate::tui::input::Input;
use crate::tui::pane::{Env, Handled, Out};

#[derive(Debug, Default)]
pub struct Editor {
    pub input: Input,
    /// Where the text fails to parse, checked at each keystroke.
    pub error: Option<FilterError>,
    pub completions: Vec<String>,
    pub chosen: Option<usize>,
    word_start: usize,
}

impl ActivitiesPane {
    pub fn edit(&mut self) {
        self.edit_text(&self.filter.clone());
    }

    pub(super) fn edit_text(&mut self, text: &str) {
        let input = Input::new(text);
        self.editor = Some(Editor {
            error: filter::parse(input.text()).err(),
            input,
            ..Editor::default()
        });
    }

    pub fn edit_key(&mut self, key: KeyEvent) {
        if let Some(e) = &mut self.editor
            && e.input.edit(key)
        {
            e.error = filter::parse(e.input.text()).err();
            e.completions.clear();
            e.chosen = None;
        }
    }

    /// Enter in the editor: the text to apply, unless it does not parse.
    pub fn submit(&mut self) -> Option<String> {
        let editor = self.editor.as_ref()?;
        if editor.error.is_some() {
            return None;
        }
        let text = editor.input.text().trim().to_owned();
        self.editor = None;
        Some(text)
    }

    /// Tab: completes the field or value under the cursor, cycling on repeat.
    pub(super) fn complete(&mut self, known: &KnownValues, forward: bool) {
        let Some(e) = &mut self.editor else { return };
        if e.completions.is_empty() {
            let (start, word) = e.input.current_word();
            e.completions = completions(&word, known);
            e.word_start = start;
            e.chosen = None;
        }
        let n = e.completions.len();
        if n == 0 {
            return;
        }
        let next = match (e.chosen, forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
        };
        e.chosen = Some(next);
        let with = e.completions[next].clone();
        e.input.replace_word(e.word_start, &with);
        e.error = filter::parse(e.input.text()).err();
    }

    /// Values for filter completion (R-A4): groups usable in filters,
    /// instances, and what the loaded activities show.
    pub(super) fn known_values(&self, env: &Env) -> KnownValues {
        KnownValues {
            groups: env
                .groups
                .iter()
                .filter(|g| g.usable_in_filters())
                .map(|g| g.name.clone())
                .collect(),
            instances: env
                .instances
                .iter()
                .map(|s| s.instance.name.clone())
                .collect(),
            countries: self.seen(|a| a.country.clone()),
            types: self.seen(|a| Some(a.activity_type.clone())),
            sources: self.seen(|a| Some(a.source.clone())),
        }
    }

    /// What may replace `word` in a filter (the `:activities` line's Tab).
    pub fn complete_word(&self, word: &str, env: &Env) -> Vec<String> {
        completions(word, &self.known_values(env))
    }

    pub(super) fn typing_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        if self.query_edit.is_some() {
            return self.query_edit_action(action, out);
        }
        match action {
            Action::Submit => {
                if let Some(text) = self.submit() {
                    self.apply_filter(text, out);
                }
            }
            Action::Back => self.editor = None,
            Action::Complete | Action::Down => self.complete(&self.known_values(env), true),
            Action::Up => self.complete(&self.known_values(env), false),
            Action::Quit => return Handled::NotConsumed,
            _ => {}
        }
        Handled::Consumed
    }
}
