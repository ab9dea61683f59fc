//! A one-line text field: the filter line, the command line, the picker's search.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    text: String,
    /// Cursor position in characters.
    cursor: usize,
}

impl Input {
    pub fn new(text: &str) -> Input {
        Input {
            text: text.to_owned(),
            cursor: text.chars().count(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn set(&mut self, text: &str) {
        *self = Input::new(text);
    }

    /// Inserts text at the cursor: a paste.
    pub fn insert(&mut self, text: &str) {
        let at = self.byte(self.cursor);
        self.text.insert_str(at, text);
        self.cursor += text.chars().count();
    }

    fn byte(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Applies an editing key; false when the key is not an editing key.
    pub fn edit(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let at = self.byte(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
            }
            KeyCode::Char('w') if ctrl => {
                let before: Vec<char> = self.text.chars().take(self.cursor).collect();
                let mut start = before.len();
                while start > 0 && before[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && before[start - 1] != ' ' {
                    start -= 1;
                }
                let (a, b) = (self.byte(start), self.byte(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = start;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.chars().count(),
            KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => {
                let at = self.byte(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let (a, b) = (self.byte(self.cursor - 1), self.byte(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor -= 1;
            }
            KeyCode::Delete if self.cursor < self.text.chars().count() => {
                let (a, b) = (self.byte(self.cursor), self.byte(self.cursor + 1));
                self.text.replace_range(a..b, "");
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.text.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.chars().count(),
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return false,
        }
        true
    }

    /// The word under the cursor: its start (in characters) and text.
    pub fn current_word(&self) -> (usize, String) {
        let before: Vec<char> = self.text.chars().take(self.cursor).collect();
        let mut start = before.len();
        let mut quoted = before.iter().filter(|c| **c == '"').count() % 2 == 1;
        while start > 0 {
            let c = before[start - 1];
            if c == '"' {
                quoted = !quoted;
            }
            if c == ' ' && !quoted {
                break;
            }
            start -= 1;
        }
        (start, before[start..].iter().collect())
    }

    /// Replaces the word under the cursor.
    pub fn replace_word(&mut self, start: usize, with: &str) {
        let (a, b) = (self.byte(start), self.byte(self.cursor));
        self.text.replace_range(a..b, with);
        self.cursor = start + with.chars().count();
    }
}

/// Pasted text for a one-line field: line breaks and tabs become spaces, so
/// a paste never submits or leaves the field; other control characters go.
pub fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(input: &mut Input, code: KeyCode) {
        input.edit(KeyEvent::new(code, KeyModifiers::NONE));
    }

    #[test]
    fn typing_and_deleting_respect_the_cursor() {
        let mut i = Input::default();
        for c in "fin é".chars() {
            press(&mut i, KeyCode::Char(c));
        }
        press(&mut i, KeyCode::Left);
        press(&mut i, KeyCode::Backspace);
        assert_eq!(i.text(), "finé");
        assert_eq!(i.cursor(), 3);
        i.edit(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(i.text(), "é");
    }

    #[test]
    fn a_paste_lands_at_the_cursor_on_one_line() {
        let mut i = Input::new("ab");
        press(&mut i, KeyCode::Left);
        i.insert(&one_line("x\r\ny\tz\u{1b}\n"));
        assert_eq!(i.text(), "ax y zb");
        assert_eq!(i.cursor(), 6);
    }

    #[test]
    fn current_word_keeps_quoted_spaces() {
        let i = Input::new("country!=US group:\"Finance EM");
        assert_eq!(i.current_word(), (12, "group:\"Finance EM".to_owned()));
    }
}
