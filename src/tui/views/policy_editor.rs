//! Issue 12: the policy editor, over the policy list. Its filter is checked as it is
//! typed, with the errors `/` gives (R-A4), and so are the window, the count, who it
//! counts per and the severity; Ctrl-T tells what the draft would have raised over the
//! last 7 days; Enter saves it, asking again when it would match almost everything.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::domain::filter;
use crate::domain::policy::{Per, Policy, Rule, Severity, parse_window, window_text};
use crate::service::Level;
use crate::tui::action::Action;
use crate::tui::input::Input;
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done};
use crate::tui::pane::{Component, Env, Handled, Out};
use crate::tui::watch::{WatchCmd, WatchDone};
use crate::tui::widgets::{centered, input_line, pane_block};

const FIELDS: [&str; 6] = ["Name", "Filter", "Threshold", "Window", "Per", "Severity"];
const NAME: usize = 0;
const FILTER: usize = 1;
const COUNT: usize = 2;
const WINDOW: usize = 3;
const PER: usize = 4;
const SEVERITY: usize = 5;

#[derive(Debug)]
pub struct PolicyEditor {
    /// What is edited: the stored policy (its id, notices, state) or a new one.
    base: Policy,
    fields: [Input; 6],
    pub focus: usize,
    /// The last answer of the service: a test's count, a refusal.
    pub note: Option<(Level, String)>,
    /// Saving was refused as too broad: Enter again confirms.
    confirm: bool,
}

impl PolicyEditor {
    pub fn new(policy: Option<Policy>) -> PolicyEditor {
        let base = policy.unwrap_or_else(|| Policy {
            enabled: true,
            ..Policy::new("", "")
        });
        let fields = [
            Input::new(&base.name),
            Input::new(&base.filter),
            Input::new(&base.rule.count.to_string()),
            Input::new(&window_text(base.rule.window)),
            Input::new(base.rule.per.name()),
            Input::new(base.severity.name()),
        ];
        PolicyEditor {
            base,
            fields,
            focus: NAME,
            note: None,
            confirm: false,
        }
    }

    /// The mistake in field `i`, as it is typed: (column, message).
    pub fn error(&self, i: usize) -> Option<(usize, String)> {
        let text = self.fields[i].text();
        match i {
            NAME if text.trim().is_empty() => Some((1, "a policy needs a name".into())),
            FILTER => filter::parse(text).err().map(|e| (e.column, e.message)),
            COUNT => match text.trim().parse::<u32>() {
                Ok(n) if (1..=100_000).contains(&n) => None,
                _ => Some((1, "a number from 1 to 100000".into())),
            },
            WINDOW => parse_window(text).err().map(|e| (e.column, e.message)),
            PER => Per::parse(text).err().map(|e| (1, e)),
            SEVERITY => Severity::parse(text).err().map(|e| (1, e)),
            _ => None,
        }
    }

    /// The draft, when every field reads.
    pub fn draft(&self) -> Option<Policy> {
        if (0..FIELDS.len()).any(|i| self.error(i).is_some()) {
            return None;
        }
        let mut p = self.base.clone();
        p.name = self.fields[NAME].text().trim().to_string();
        p.filter = self.fields[FILTER].text().trim().to_string();
        p.rule = Rule {
            count: self.fields[COUNT].text().trim().parse().ok()?,
            window: parse_window(self.fields[WINDOW].text()).ok()?,
            per: Per::parse(self.fields[PER].text()).ok()?,
        };
        p.severity = Severity::parse(self.fields[SEVERITY].text()).ok()?;
        Some(p)
    }

    pub fn title(&self) -> String {
        match self.base.id {
            0 => "new policy".to_string(),
            id => format!("policy #{id}"),
        }
    }

    fn first_error(&self) -> Option<String> {
        (0..FIELDS.len()).find_map(|i| self.error(i).map(|(_, m)| format!("{}: {m}", FIELDS[i])))
    }
}

impl Component for PolicyEditor {
    fn contexts(&self) -> Vec<Context> {
        vec![Context::PolicyEditor]
    }

    fn typing(&self) -> bool {
        true
    }

    fn on_action(&mut self, action: Action, _env: &Env, out: &mut Out) -> Handled {
        match action {
            Action::Down => self.focus = (self.focus + 1) % FIELDS.len(),
            Action::Up => self.focus = (self.focus + FIELDS.len() - 1) % FIELDS.len(),
            Action::TestPolicy | Action::Submit => match self.draft() {
                None => self.note = self.first_error().map(|e| (Level::Error, e)),
                Some(p) if action == Action::TestPolicy => {
                    self.note = Some((Level::Info, "testing over the last 7 days…".into()));
                    out.run(Cmd::Watch(WatchCmd::Test(Box::new(p))));
                }
                Some(p) => {
                    self.note = Some((Level::Info, "saving…".into()));
                    out.run(Cmd::Watch(WatchCmd::Save {
                        policy: Box::new(p),
                        confirmed: self.confirm,
                    }));
                }
            },
            _ => return Handled::NotConsumed,
        }
        Handled::Consumed
    }

    fn on_key(&mut self, key: KeyEvent, _env: &Env, _out: &mut Out) -> Handled {
        if self.fields[self.focus].edit(key) {
            self.confirm = false;
            self.note = None;
            return Handled::Consumed;
        }
        Handled::NotConsumed
    }

    fn done(&mut self, done: Done, _env: &Env, _out: &mut Out) -> Option<Done> {
        match done {
            Done::Watch(WatchDone::Tested(result)) => {
                self.note = Some(match result {
                    Ok(t) => (
                        Level::Info,
                        format!(
                            "over the last 7 days: {} alert(s) from {} matching activities{}",
                            t.alerts.len(),
                            t.matched,
                            if t.truncated {
                                " (the newest read)"
                            } else {
                                ""
                            }
                        ),
                    ),
                    Err(e) => (Level::Error, e.message),
                });
                None
            }
            Done::Watch(WatchDone::Saved(Err(e))) => {
                // The service asks to confirm a policy that matches almost everything.
                self.confirm = e.message.contains("confirm");
                let hint = if self.confirm {
                    " — Enter again keeps it"
                } else {
                    ""
                };
                self.note = Some((Level::Error, format!("{}{hint}", e.message)));
                None
            }
            other => Some(other),
        }
    }

    fn draw(&self, f: &mut Frame, area: Rect, _focused: bool, env: &Env) {
        let theme = &env.theme;
        let rect = centered(area, 76, 12 + 2);
        let block = pane_block(&self.title(), true, theme);
        let inner = block.inner(rect);
        f.render_widget(Clear, rect);
        f.render_widget(block, rect);
        let mut lines = Vec::new();
        for (i, label) in FIELDS.iter().enumerate() {
            let prefix = format!("{label:<10} ");
            let line = if i == self.focus {
                input_line(&prefix, &self.fields[i], inner.width, theme).0
            } else {
                Line::from(vec![
                    Span::styled(prefix, theme.dim()),
                    Span::raw(crate::tui::format::safe(self.fields[i].text()).into_owned()),
                ])
            };
            lines.push(line);
            if let Some((column, message)) = self.error(i).filter(|_| i == self.focus) {
                lines.push(Line::from(Span::styled(
                    format!("{:>11}✗ column {column}: {message}", ""),
                    theme.error(),
                )));
            }
        }
        lines.push(Line::from(Span::styled(
            format!("Notices    {}", self.base.notify.describe()),
            theme.dim(),
        )));
        let (note, style) = match &self.note {
            Some((Level::Error, note)) => (note.as_str(), theme.error()),
            Some((Level::Warning, note)) => (note.as_str(), theme.warning()),
            Some((Level::Info, note)) => (note.as_str(), theme.ok()),
            None => ("Tab or ↓ next field, ↑ the one before", theme.dim()),
        };
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(note.to_owned(), style)));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}
