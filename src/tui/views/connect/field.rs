//! One field of the connect form. A secret is masked; a key of several
//! lines is the path to its file, or the key pasted whole.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::SecretSource;
use crate::domain::Secret;
use crate::domain::catalog::CredentialField;
use crate::tui::input::{Input, one_line};

#[derive(Debug)]
pub struct Field {
    /// The catalog's key (`client-secret`), or `name` / `endpoint`.
    pub key: String,
    pub label: String,
    pub secret: bool,
    /// A key of several lines: the path to its file, or pasted whole.
    pub multiline: bool,
    pub optional: bool,
    pub input: Input,
    /// A key pasted into a multiline field, its newlines kept.
    pasted: Option<Secret>,
}

impl Field {
    pub(super) fn new(key: &str, label: &str, optional: bool) -> Field {
        Field {
            key: key.into(),
            label: label.into(),
            secret: false,
            multiline: false,
            optional,
            input: Input::default(),
            pasted: None,
        }
    }

    pub(super) fn of(c: &CredentialField) -> Field {
        Field {
            secret: c.secret,
            multiline: c.multiline,
            ..Field::new(&c.name, &c.label, false)
        }
    }

    pub(super) fn filled(&self) -> bool {
        self.pasted.is_some() || !self.input.text().trim().is_empty()
    }

    pub(super) fn edit(&mut self, key: KeyEvent) {
        if self.pasted.is_some() {
            // A pasted key is replaced whole, never edited in place.
            match key.code {
                KeyCode::Backspace | KeyCode::Delete => return self.pasted = None,
                KeyCode::Char(_) => self.pasted = None,
                _ => return,
            }
        }
        self.input.edit(key);
    }

    pub(super) fn paste(&mut self, text: &str) {
        if self.multiline && looks_like_key(text) {
            // Terminals may send a pasted line break as CR; a PEM needs LF.
            let text = text.replace("\r\n", "\n").replace('\r', "\n");
            self.pasted = Some(Secret::new(text.trim()));
            self.input = Input::default();
        } else {
            self.pasted = None;
            self.input.insert(&one_line(text));
        }
    }

    pub(super) fn source(&self) -> SecretSource {
        if let Some(key) = &self.pasted {
            return SecretSource::Given(key.clone());
        }
        let text = self.input.text().trim();
        if self.is_path(text) {
            SecretSource::File(PathBuf::from(text))
        } else {
            SecretSource::Given(Secret::new(text))
        }
    }

    /// What was typed into a key field names the key's file.
    fn is_path(&self, text: &str) -> bool {
        self.multiline && !looks_like_key(text)
    }

    /// The value as drawn: secrets masked, a pasted key only as its size.
    pub(super) fn shown(&self) -> (Input, Option<String>) {
        if let Some(key) = &self.pasted {
            let lines = key.expose().lines().count();
            return (
                Input::new("••••••••"),
                Some(format!(" pasted, {lines} lines")),
            );
        }
        let text = self.input.text();
        if self.multiline && text.is_empty() {
            let hint = " the path to the key file, or paste the key";
            return (Input::default(), Some(hint.into()));
        }
        // A path to a key file is no secret, and the person needs to see it.
        if self.secret && !self.is_path(text) {
            return (Input::new(&"•".repeat(text.chars().count())), None);
        }
        (self.input.clone(), None)
    }
}

/// A key's content rather than the path to its file: several lines, a JSON
/// object (Google's key file, a JWK) or a PEM block.
fn looks_like_key(text: &str) -> bool {
    // Trimmed first: a path copied from a terminal often ends in a line break.
    let text = text.trim();
    text.contains(['\n', '\r']) || text.starts_with('{') || text.starts_with("-----BEGIN")
}
