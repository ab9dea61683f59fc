//! What covers the panes besides the two dialogs: the `?` help, and the
//! line typed at the bottom (a `:` command with its completions, or the
//! name to save the activity filter under), which replaces the hint bar.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{App, Exit};
use crate::service::Level;
use crate::tui::action::Action;
use crate::tui::input::Input;
use crate::tui::keymap::Context;
use crate::tui::msg::Cmd;
use crate::tui::theme::Theme;
use crate::tui::widgets::help::{Help, Topic};
use crate::tui::widgets::{choices, input_line};

/// What covers the panes, if anything, besides the two dialogs.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Help(Help),
    Command {
        input: Input,
        completions: Vec<String>,
        chosen: Option<usize>,
    },
    /// The name for saving the current activity filter.
    SaveQuery {
        input: Input,
    },
}

impl App {
    /// In the help, ↑↓ PgUp PgDn Home End scroll and any other key closes it.
    pub(super) fn help_key(&mut self, key: KeyEvent) {
        let Overlay::Help(help) = &mut self.overlay else {
            return;
        };
        const PAGE: isize = 10;
        match self.env.keymap.action(&[Context::Global], key) {
            Some(Action::Down) => help.scroll_by(1),
            Some(Action::Up) => help.scroll_by(-1),
            Some(Action::PageDown) => help.scroll_by(PAGE),
            Some(Action::PageUp) => help.scroll_by(-PAGE),
            Some(Action::Top) => help.scroll = 0,
            Some(Action::Bottom) => help.scroll_to_end(),
            Some(Action::Quit) if key.code != KeyCode::Char('q') => self.exit = Some(Exit::Quit),
            _ => self.overlay = Overlay::None,
        }
    }

    /// `?` or `:help [filter]`: the keys of where the user is first, or the
    /// filter language's reference.
    pub(super) fn help(&mut self, topic: Option<&str>) {
        let topic = match topic.map(str::trim) {
            None => Topic::Keys(self.contexts()),
            Some(t) if "filter".starts_with(&t.to_lowercase()) => Topic::Filter,
            Some(other) => {
                return self.toast(
                    Level::Error,
                    format!(
                        "no help on {other:?}; :help shows the keys, :help filter the filter fields"
                    ),
                );
            }
        };
        self.overlay = Overlay::Help(Help::new(topic));
    }

    /// A prompt has the keyboard.
    pub(super) fn prompting(&self) -> bool {
        matches!(
            self.overlay,
            Overlay::Command { .. } | Overlay::SaveQuery { .. }
        )
    }

    pub(super) fn prompt_action(&mut self, action: Action) {
        match std::mem::replace(&mut self.overlay, Overlay::None) {
            Overlay::Command {
                mut input,
                mut completions,
                mut chosen,
            } => {
                match action {
                    Action::Submit => {
                        let line = input.text().to_owned();
                        return self.run_command(&line);
                    }
                    Action::Back => return,
                    Action::Quit => self.exit = Some(Exit::Quit),
                    Action::Complete | Action::Down | Action::Up => {
                        if completions.is_empty() {
                            completions = self.command_completions(input.text());
                            chosen = None;
                        }
                        if !completions.is_empty() {
                            let n = completions.len();
                            let next = match (chosen, action) {
                                (None, Action::Up) => n - 1,
                                (None, _) => 0,
                                (Some(i), Action::Up) => (i + n - 1) % n,
                                (Some(i), _) => (i + 1) % n,
                            };
                            chosen = Some(next);
                            input.set(&completions[next]);
                        }
                    }
                    _ => {}
                }
                self.overlay = Overlay::Command {
                    input,
                    completions,
                    chosen,
                };
            }
            Overlay::SaveQuery { input } => match action {
                Action::Submit => {
                    let name = input.text().trim().to_owned();
                    if !name.is_empty() {
                        self.cmds.push(Cmd::SaveQuery {
                            name,
                            text: self.panes.activities.filter().to_owned(),
                        });
                    }
                }
                Action::Quit => self.exit = Some(Exit::Quit),
                Action::Back => {}
                _ => self.overlay = Overlay::SaveQuery { input },
            },
            other => self.overlay = other,
        }
    }

    pub(super) fn prompt_edit(&mut self, key: KeyEvent) {
        match &mut self.overlay {
            Overlay::Command {
                input,
                completions,
                chosen,
            } => {
                if input.edit(key) {
                    completions.clear();
                    *chosen = None;
                }
            }
            Overlay::SaveQuery { input } => {
                input.edit(key);
            }
            Overlay::None | Overlay::Help(_) => {}
        }
    }

    /// Tab on the `:` line: the command, then its argument (issue 13):
    /// group names, instance names, connections, filter fields and values.
    fn command_completions(&self, text: &str) -> Vec<String> {
        let (word, rest) = match text.split_once(' ') {
            Some((w, r)) => (w, Some(r)),
            None => (text, None),
        };
        let Some(rest) = rest else {
            return Action::ALL
                .into_iter()
                .filter(|a| a.is_command() && a.name().starts_with(word))
                .map(|a| a.name().to_owned())
                .collect();
        };
        let Some(action) = Action::command(word) else {
            return Vec::new();
        };
        let word = action.name();
        if action == Action::Activities {
            // The last term of the filter, as Tab in the filter line does.
            let at = rest.rfind(' ').map_or(0, |i| i + 1);
            return self
                .panes
                .activities
                .complete_word(&rest[at..], &self.env)
                .into_iter()
                .map(|c| format!("{word} {}{c}", &rest[..at]))
                .collect();
        }
        let names: Vec<&str> = match action {
            Action::Members | Action::Groups | Action::History => {
                self.env.groups.iter().map(|g| g.name.as_str()).collect()
            }
            Action::External => self.panes.external.connection_ids().collect(),
            Action::Sync => self
                .env
                .instances
                .iter()
                .map(|s| s.instance.name.as_str())
                .collect(),
            Action::Help => vec!["filter"],
            _ => Vec::new(),
        };
        let rest = rest.to_lowercase();
        names
            .into_iter()
            .filter(|n| n.to_lowercase().starts_with(&rest))
            .map(|n| format!("{word} {n}"))
            .collect()
    }

    fn run_command(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        match Action::parse_command(line) {
            Some((action, arg)) => self.perform(action, arg),
            None => {
                let names: Vec<&str> = Action::ALL
                    .iter()
                    .filter(|a| a.is_command())
                    .map(|a| a.name())
                    .collect();
                self.toast(
                    Level::Error,
                    format!(
                        "unknown command {:?}; commands: {}",
                        line.trim(),
                        names.join(", ")
                    ),
                );
            }
        }
    }
}

impl Overlay {
    /// The prompt in place of the hint bar; false when no prompt is open.
    pub(super) fn draw_prompt(&self, f: &mut Frame, area: Rect, theme: &Theme) -> bool {
        let line = match self {
            Overlay::Command {
                input,
                completions,
                chosen,
            } => {
                let mut spans = input_line(":", input, area.width, theme).0.spans;
                if !completions.is_empty() {
                    spans.push(Span::raw("   "));
                    let used: usize = spans.iter().map(Span::width).sum();
                    let room = usize::from(area.width).saturating_sub(used);
                    spans.extend(choices(completions, *chosen, room, theme));
                }
                Line::from(spans)
            }
            Overlay::SaveQuery { input } => {
                input_line("Save filter as: ", input, area.width, theme).0
            }
            Overlay::None | Overlay::Help(_) => return false,
        };
        f.render_widget(Paragraph::new(line), area);
        true
    }
}
