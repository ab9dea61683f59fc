//! Alerts (issue 12, `:alerts`): what policies raised, newest first. Enter opens an
//! alert's activities in the Activities pane with the filter that matched them; `a`,
//! `r` and `d` acknowledge, resolve and dismiss it. `p` (`:policies`) lists the
//! policies: Space switches one on or off, Enter edits it, `n` makes one.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::Cell;

use super::external::Load;
use super::policy_editor::PolicyEditor;
use crate::domain::policy::{Alert, AlertState, Severity};
use crate::service::{Event, Level, PolicyView};
use crate::tui::action::Action;
use crate::tui::format::{ago, safe};
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done};
use crate::tui::pane::{Component, Effect, Env, Handled, Out, Pane, PaneId, Target};
use crate::tui::theme::Theme;
use crate::tui::watch::{WatchCmd, WatchDone};
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{Columns, cursor_table, pane_block};

#[derive(Debug, Default)]
pub struct AlertsPane {
    pub alerts: Load<Vec<Alert>>,
    pub cursor: Cursor,
    /// The policy list, when shown instead of the alerts.
    pub policies: Option<PolicyList>,
}

#[derive(Debug, Default)]
pub struct PolicyList {
    pub rows: Load<Vec<PolicyView>>,
    pub cursor: Cursor,
    pub editor: Option<PolicyEditor>,
}

fn severity_span(s: Severity, theme: &Theme) -> Span<'static> {
    let style = match s {
        Severity::Critical | Severity::High => theme.error(),
        Severity::Medium => theme.warning(),
        Severity::Low => theme.dim(),
    };
    Span::styled(s.name(), style)
}

impl AlertsPane {
    fn rows(&self) -> &[Alert] {
        self.alerts.ready().map_or(&[], Vec::as_slice)
    }

    pub fn show_policies(&mut self, out: &mut Out) {
        if self.policies.is_none() {
            self.policies = Some(PolicyList::default());
        }
        out.run(Cmd::Watch(WatchCmd::LoadPolicies));
    }

    fn change(&self, state: AlertState, out: &mut Out) -> Handled {
        if let Some(a) = self.rows().get(self.cursor.selected) {
            out.run(Cmd::Watch(WatchCmd::ChangeAlert { id: a.id, state }));
        }
        Handled::Consumed
    }

    fn draw_alerts(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        let theme = &env.theme;
        let open = self
            .rows()
            .iter()
            .filter(|a| a.state == AlertState::Open)
            .count();
        let title = match &self.alerts {
            Load::Ready(rows) => format!("Alerts · {open} open of {}", rows.len()),
            _ => "Alerts".to_owned(),
        };
        let block = pane_block(&title, focused, theme);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let empty = "No alert: policies raise them as activities arrive (p lists the policies)";
        let Some(rows) = self.alerts.rows_or_note(f, inner, empty, theme) else {
            return;
        };
        let w = inner.width;
        let columns = Columns {
            titles: ["Raised", "State", "Severity", "Alert", "Count"],
            widths: [
                Constraint::Length(9),
                Constraint::Length(12),
                Constraint::Length(8),
                Constraint::Fill(1),
                Constraint::Length(6),
            ],
            mask: [true, true, w >= 70, true, w >= 100],
        };
        let cells = |a: &Alert| {
            let state = match a.state {
                AlertState::Open => Span::styled("open", theme.error()),
                other => Span::styled(other.name(), theme.dim()),
            };
            [
                Cell::from(ago(env.now, Some(a.raised_at))),
                Cell::from(state),
                Cell::from(severity_span(a.severity, theme)),
                Cell::from(safe(&a.summary()).into_owned()),
                Cell::from(a.count.to_string()),
            ]
        };
        cursor_table(
            f,
            inner,
            rows,
            (&self.cursor, focused),
            columns,
            cells,
            theme,
        );
    }
}

impl PolicyList {
    fn rows(&self) -> &[PolicyView] {
        self.rows.ready().map_or(&[], Vec::as_slice)
    }

    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        let theme = &env.theme;
        let block = pane_block("Policies — p back to the alerts", focused, theme);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let empty = "No policy yet: n makes one (`casbah policies templates` lists ready ones)";
        let Some(rows) = self.rows.rows_or_note(f, inner, empty, theme) else {
            return;
        };
        let w = inner.width;
        let columns = Columns {
            titles: ["State", "Policy", "Severity", "Filter", "Rule", "Open"],
            widths: [
                Constraint::Length(6),
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Fill(2),
                Constraint::Length(30),
                Constraint::Length(5),
            ],
            mask: [true, true, true, w >= 60, w >= 90, w >= 110],
        };
        let cells = |v: &PolicyView| {
            let p = &v.policy;
            let state = match (&v.problem, p.enabled) {
                (Some(_), true) => Span::styled("broken", theme.error()),
                (None, true) => Span::styled("on", theme.ok()),
                (_, false) => Span::styled("off", theme.dim()),
            };
            let filter = if p.filter.is_empty() {
                "(every activity)"
            } else {
                &p.filter
            };
            [
                Cell::from(state),
                Cell::from(safe(&p.name).into_owned()),
                Cell::from(severity_span(p.severity, theme)),
                Cell::from(safe(filter).into_owned()),
                Cell::from(p.rule.describe()),
                Cell::from(v.open_alerts.to_string()),
            ]
        };
        cursor_table(
            f,
            inner,
            rows,
            (&self.cursor, focused),
            columns,
            cells,
            theme,
        );
    }

    fn on_action(&mut self, action: Action, out: &mut Out) -> Handled {
        let selected = self
            .rows()
            .get(self.cursor.selected)
            .map(|v| v.policy.clone());
        match action {
            Action::Toggle => {
                if let Some(p) = selected {
                    out.run(Cmd::Watch(WatchCmd::SetEnabled {
                        name: p.id.to_string(),
                        enabled: !p.enabled,
                    }));
                }
            }
            Action::Open => self.editor = selected.map(|p| PolicyEditor::new(Some(p))),
            Action::NewPolicy => self.editor = Some(PolicyEditor::new(None)),
            other => return self.cursor.navigate(other, self.rows().len()),
        }
        Handled::Consumed
    }
}

impl Component for AlertsPane {
    fn contexts(&self) -> Vec<Context> {
        match &self.policies {
            Some(p) if p.editor.is_some() => vec![Context::PolicyEditor],
            Some(_) => vec![Context::Policies, Context::Global],
            None => vec![Context::Alerts, Context::Global],
        }
    }

    fn typing(&self) -> bool {
        self.policies.as_ref().is_some_and(|p| p.editor.is_some())
    }

    fn on_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        if let Some(list) = &mut self.policies {
            if let Some(editor) = &mut list.editor {
                if action == Action::Back {
                    list.editor = None;
                    return Handled::Consumed;
                }
                return editor.on_action(action, env, out);
            }
            if action == Action::Alerts {
                self.policies = None;
                return Handled::Consumed;
            }
            return list.on_action(action, out);
        }
        match action {
            Action::Open => {
                if let Some(a) = self.rows().get(self.cursor.selected) {
                    out.push(Effect::Pivot(Target::Activities {
                        filter: a.activities_filter(),
                        crumb: format!("alert #{}", a.id),
                    }));
                }
                Handled::Consumed
            }
            Action::Acknowledge => self.change(AlertState::Acknowledged, out),
            Action::Resolve => self.change(AlertState::Resolved, out),
            Action::Dismiss => self.change(AlertState::Dismissed, out),
            Action::Policies => {
                self.show_policies(out);
                Handled::Consumed
            }
            other => self.cursor.navigate(other, self.rows().len()),
        }
    }

    fn on_key(&mut self, key: KeyEvent, env: &Env, out: &mut Out) -> Handled {
        match self.policies.as_mut().and_then(|p| p.editor.as_mut()) {
            Some(editor) => editor.on_key(key, env, out),
            None => Handled::NotConsumed,
        }
    }

    fn click(&mut self, y: u16, _env: &Env, _out: &mut Out) -> Handled {
        match &mut self.policies {
            Some(list) if list.editor.is_none() => {
                let n = list.rows().len();
                list.cursor.click(y, n)
            }
            Some(_) => Handled::NotConsumed,
            None => {
                let n = self.rows().len();
                self.cursor.click(y, n)
            }
        }
    }

    fn done(&mut self, done: Done, env: &Env, out: &mut Out) -> Option<Done> {
        let done = match self.policies.as_mut().and_then(|p| p.editor.as_mut()) {
            Some(editor) => editor.done(done, env, out)?,
            None => done,
        };
        match done {
            Done::Watch(WatchDone::Alerts(result)) => {
                self.alerts = match result {
                    Ok(rows) => {
                        self.cursor.clamp(rows.len());
                        Load::Ready(rows)
                    }
                    Err(e) => Load::Failed(e.message),
                };
            }
            Done::Watch(WatchDone::Policies(result)) => {
                if let Some(list) = &mut self.policies {
                    list.rows = match result {
                        Ok(rows) => {
                            list.cursor.clamp(rows.len());
                            Load::Ready(rows)
                        }
                        Err(e) => Load::Failed(e.message),
                    };
                }
            }
            Done::Watch(WatchDone::Changed(result)) => match result {
                Ok(a) => out.toast(Level::Info, format!("alert {} {}", a.id, a.state.name())),
                Err(e) => out.toast(Level::Error, e.message),
            },
            Done::Watch(WatchDone::Enabled(result) | WatchDone::Saved(result)) => match result {
                Ok(p) => {
                    if let Some(list) = &mut self.policies {
                        list.editor = None;
                    }
                    let state = if p.enabled { "on" } else { "off" };
                    out.toast(Level::Info, format!("policy {} saved, {state}", p.name));
                }
                Err(e) => out.toast(Level::Error, e.message),
            },
            other => return Some(other),
        }
        None
    }

    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        match &self.policies {
            Some(list) => {
                list.draw(f, area, focused, env);
                if let Some(editor) = &list.editor {
                    editor.draw(f, area, focused, env);
                }
            }
            None => self.draw_alerts(f, area, focused, env),
        }
    }
}

impl Pane for AlertsPane {
    fn event(&mut self, event: &Event, _env: &Env, out: &mut Out) {
        if *event == Event::AlertsChanged {
            self.reload(_env, out);
        }
    }

    fn reload(&mut self, _env: &Env, out: &mut Out) {
        out.run(Cmd::Watch(WatchCmd::LoadAlerts));
        if self.policies.is_some() {
            out.run(Cmd::Watch(WatchCmd::LoadPolicies));
        }
    }

    fn breadcrumbs(&self, _env: &Env) -> Vec<String> {
        let mut path = vec![PaneId::Alerts.title().to_owned()];
        if let Some(list) = &self.policies {
            path.push("policies".into());
            if let Some(editor) = &list.editor {
                path.push(editor.title());
            }
        }
        path
    }
}
