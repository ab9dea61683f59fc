//! The audit trail (issue 11, `:audit`): every account action attempted, newest
//! first, with who asked, why, and what the app answered. Enter shows one entry in
//! full (the vendor's whole message, its request id). Nothing here changes the
//! trail: it is append-only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use super::external::Load;
use crate::domain::governance::{AuditEntry, AuditOutcome};
use crate::service::Event;
use crate::tui::action::Action;
use crate::tui::format::{safe, timestamp};
use crate::tui::govern::{GovernCmd, GovernDone};
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done};
use crate::tui::pane::{Component, Env, Handled, Out, Pane, PaneId};
use crate::tui::theme::Theme;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{Columns, cursor_table, pane_block};

#[derive(Debug, Default)]
pub struct AuditPane {
    /// Newest first.
    pub rows: Load<Vec<AuditEntry>>,
    pub cursor: Cursor,
    /// The entry shown in full, and how far it is scrolled.
    pub detail: Option<(u64, usize)>,
}

fn load(out: &mut Out) {
    out.run(Cmd::Govern(GovernCmd::LoadAudit));
}

impl AuditPane {
    fn entries(&self) -> &[AuditEntry] {
        self.rows.ready().map_or(&[], Vec::as_slice)
    }

    fn selected(&self) -> Option<&AuditEntry> {
        self.entries().get(self.cursor.selected)
    }
}

fn outcome_span(outcome: &AuditOutcome, theme: &Theme) -> Span<'static> {
    let style = match outcome {
        AuditOutcome::Done { .. } => theme.ok(),
        AuditOutcome::Failed { .. } => theme.error(),
        AuditOutcome::Unknown => theme.warning(),
    };
    Span::styled(outcome.label(), style)
}

/// One entry in full, for Enter.
fn detail_lines(e: &AuditEntry, env: &Env) -> Vec<Line<'static>> {
    let theme = &env.theme;
    let a = &e.attempt;
    let field = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<10}"), theme.header()),
            Span::raw(safe(&v).into_owned()),
        ])
    };
    let mut lines = vec![
        field("Entry", format!("#{}", e.id)),
        field("Sent", format!("{} UTC", timestamp(a.at))),
        field("By", a.by.clone()),
        field(
            "Instance",
            format!("{} ({})", a.instance_name, a.app.display_name()),
        ),
        field("Action", a.action.clone()),
        field("Account", format!("{} · id {}", a.target, a.account_id)),
        field("Reason", a.reason.clone()),
        Line::from(vec![
            Span::styled(format!("{:<10}", "Result"), theme.header()),
            outcome_span(&e.outcome, theme),
        ]),
        field("Answer", e.outcome.detail()),
    ];
    if let AuditOutcome::Failed {
        status: Some(status),
        code,
        ..
    } = &e.outcome
    {
        let code = code.as_deref().unwrap_or("");
        lines.push(field("Status", format!("{status} {code}")));
    }
    if let Some(t) = e.settled {
        lines.push(field("Answered", format!("{} UTC", timestamp(t))));
    }
    lines
}

impl Component for AuditPane {
    fn contexts(&self) -> Vec<Context> {
        vec![Context::Global]
    }

    fn on_action(&mut self, action: Action, env: &Env, _out: &mut Out) -> Handled {
        if let Some((id, _)) = self.detail {
            let len = self
                .entries()
                .iter()
                .find(|e| e.id == id)
                .map_or(0, |e| detail_lines(e, env).len());
            let Some((_, scroll)) = &mut self.detail else {
                return Handled::NotConsumed;
            };
            return match action {
                Action::Back => {
                    self.detail = None;
                    Handled::Consumed
                }
                Action::Up | Action::PageUp | Action::Top => {
                    *scroll = if action == Action::Up {
                        scroll.saturating_sub(1)
                    } else {
                        0
                    };
                    Handled::Consumed
                }
                Action::Down | Action::PageDown | Action::Bottom => {
                    *scroll = (*scroll + 1).min(len.saturating_sub(1));
                    Handled::Consumed
                }
                _ => Handled::NotConsumed,
            };
        }
        match action {
            Action::Open => {
                self.detail = self.selected().map(|e| (e.id, 0));
                Handled::Consumed
            }
            other => self.cursor.navigate(other, self.entries().len()),
        }
    }

    fn click(&mut self, y: u16, _env: &Env, _out: &mut Out) -> Handled {
        match self.detail {
            Some(_) => Handled::NotConsumed,
            None => self.cursor.click(y, self.entries().len()),
        }
    }

    fn done(&mut self, done: Done, _env: &Env, _out: &mut Out) -> Option<Done> {
        match done {
            Done::Govern(GovernDone::Audit(result)) => {
                self.rows = match result {
                    Ok(mut rows) => {
                        rows.reverse();
                        self.cursor.clamp(rows.len());
                        Load::Ready(rows)
                    }
                    Err(e) => Load::Failed(e.message),
                };
                None
            }
            other => Some(other),
        }
    }

    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        let theme = &env.theme;
        if let Some(entry) = self
            .detail
            .and_then(|(id, _)| self.entries().iter().find(|e| e.id == id))
        {
            let scroll = self.detail.map_or(0, |(_, s)| s);
            let title = format!("Audit entry #{} — Esc back to the trail", entry.id);
            let block = pane_block(&title, focused, theme);
            let top = u16::try_from(scroll).unwrap_or(u16::MAX);
            return f.render_widget(
                Paragraph::new(detail_lines(entry, env))
                    .block(block)
                    .wrap(Wrap { trim: false })
                    .scroll((top, 0)),
                area,
            );
        }
        let title = match &self.rows {
            Load::Ready(rows) if rows.len() == 1 => "Audit trail · 1 action".to_owned(),
            Load::Ready(rows) => format!("Audit trail · {} actions", rows.len()),
            _ => "Audit trail".to_owned(),
        };
        let block = pane_block(&title, focused, theme);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let empty = "No action taken yet: ! on a person or on marked members acts on their \
                     accounts, and each action is recorded here";
        let Some(rows) = self.rows.rows_or_note(f, inner, empty, theme) else {
            return;
        };
        let w = inner.width;
        let columns = Columns {
            titles: [
                "When (UTC)",
                "By",
                "Instance",
                "Action",
                "Account",
                "Result",
                "Reason",
            ],
            widths: [
                Constraint::Length(14),
                Constraint::Length(10),
                Constraint::Length(12),
                Constraint::Length(23),
                Constraint::Fill(3),
                Constraint::Length(20),
                Constraint::Fill(2),
            ],
            mask: [true, w >= 100, w >= 130, true, true, true, w >= 90],
        };
        cursor_table(
            f,
            inner,
            rows,
            (&self.cursor, focused),
            columns,
            |e| {
                let a = &e.attempt;
                [
                    // The year and zone are the detail's: here the room goes to the account.
                    Cell::from(timestamp(a.at).get(5..).unwrap_or_default().to_owned()),
                    Cell::from(safe(&a.by).into_owned()),
                    Cell::from(safe(&a.instance_name).into_owned()),
                    Cell::from(a.action.clone()),
                    Cell::from(safe(&a.target).into_owned()),
                    Cell::from(outcome_span(&e.outcome, theme)),
                    Cell::from(safe(&a.reason).into_owned()),
                ]
            },
            theme,
        );
    }
}

impl Pane for AuditPane {
    fn event(&mut self, event: &Event, _env: &Env, out: &mut Out) {
        if *event == Event::Audited {
            load(out);
        }
    }

    fn reload(&mut self, _env: &Env, out: &mut Out) {
        load(out);
    }

    fn breadcrumbs(&self, _env: &Env) -> Vec<String> {
        let mut path = vec![PaneId::Audit.title().to_owned()];
        if let Some((id, _)) = self.detail {
            path.push(format!("#{id}"));
        }
        path
    }
}
