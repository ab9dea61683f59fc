//! Connectors pane: each instance with its status, scans and counts (R-C4).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use super::instance::{self, InstanceDetail};
use crate::service::{InstanceSummary, JobKind};
use crate::store::ScanKind;
use crate::tui::action::Action;
use crate::tui::format::{ago, safe};
use crate::tui::keymap::Context;
use crate::tui::msg::Outcome;
use crate::tui::pane::{
    Component, Effect, Env, Handled, Job, Out, Pane, PaneId, Target, cancel_jobs, list_contexts,
};
use crate::tui::theme::Theme;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{keep, masked_table, pane_block};

/// The instances themselves are `Env::instances`: other panes name them too.
#[derive(Debug, Default)]
pub struct ConnectorsPane {
    pub cursor: Cursor,
    pub loaded: bool,
    pub error: Option<String>,
    /// The selected instance in full, in place of the list.
    pub detail: Option<InstanceDetail>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    Starting,
    Failing,
}

/// R-C4: an instance is failing when its last attempt of any scan failed.
pub fn health(s: &InstanceSummary) -> Health {
    if s.scans
        .iter()
        .any(|(_, st)| st.last_error.is_some() && st.last_attempt >= st.last_success)
    {
        Health::Failing
    } else if s.scans.iter().any(|(_, st)| st.last_success.is_some()) {
        Health::Ok
    } else {
        Health::Starting
    }
}

pub fn health_span(h: Health, theme: &Theme) -> Span<'static> {
    match h {
        Health::Ok => Span::styled("● ok", theme.ok()),
        Health::Starting => Span::styled("◌ starting", theme.dim()),
        Health::Failing => Span::styled("✗ failing", theme.error()),
    }
}

impl ConnectorsPane {
    pub fn selected<'a>(&self, env: &'a Env) -> Option<&'a InstanceSummary> {
        env.instances.get(self.cursor.selected)
    }

    /// The instances arrived (they are kept in `Env`), or could not be read.
    pub fn loaded(&mut self, result: Outcome<()>, env: &Env) {
        match result {
            Ok(()) => {
                self.loaded = true;
                self.error = None;
                self.cursor.clamp(env.instances.len());
            }
            Err(e) => self.error = Some(e.message),
        }
    }
}

impl Component for ConnectorsPane {
    fn contexts(&self) -> Vec<Context> {
        list_contexts(Context::Connectors, false)
    }

    fn on_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        let len = env.instances.len();
        if action == Action::Cancel {
            let selected = match &self.detail {
                Some(d) => env.instances.iter().find(|s| s.instance.id == d.id),
                None => self.selected(env),
            };
            if let Some(s) = selected {
                let (id, name) = (s.instance.id, s.instance.reference());
                cancel_jobs(env, out, &name, |j| j.of_instance(id, &env.groups));
            }
            return Handled::Consumed;
        }
        if let Some(d) = &mut self.detail {
            match action {
                Action::Open => out.push(Effect::Pivot(Target::GroupsOf(d.id))),
                Action::Back => self.detail = None,
                Action::Down | Action::PageDown => {
                    let lines = env
                        .instances
                        .iter()
                        .find(|s| s.instance.id == d.id)
                        .map_or(0, |s| instance::lines(s, env).len());
                    let step = if action == Action::Down { 1 } else { 10 };
                    d.scroll = (d.scroll + step).min(lines.saturating_sub(1));
                }
                Action::Up => d.scroll = d.scroll.saturating_sub(1),
                Action::PageUp => d.scroll = d.scroll.saturating_sub(10),
                Action::Top => d.scroll = 0,
                _ => return Handled::NotConsumed,
            }
            return Handled::Consumed;
        }
        match action {
            Action::Open => {
                if let Some(s) = self.selected(env) {
                    self.detail = Some(InstanceDetail {
                        id: s.instance.id,
                        scroll: 0,
                    });
                }
            }
            _ => return self.cursor.navigate(action, len),
        }
        Handled::Consumed
    }

    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        match &self.detail {
            Some(d) => d.draw(f, area, env, focused),
            None => draw(self, f, area, env, focused),
        }
    }
}

impl Pane for ConnectorsPane {
    fn breadcrumbs(&self, env: &Env) -> Vec<String> {
        let mut path = vec![PaneId::Connectors.title().to_owned()];
        path.extend(self.detail.as_ref().and_then(|d| env.instance_label(d.id)));
        path
    }
}

/// When the scan last succeeded, or how far it has come while it runs.
fn last(s: &InstanceSummary, kind: ScanKind, env: &Env) -> String {
    let id = s.instance.id;
    let running = env.jobs.values().find(|j| match kind {
        ScanKind::Users => j.kind == JobKind::ScanUsers { instance: id },
        ScanKind::Activities => j.kind == JobKind::ScanActivities { instance: id },
        ScanKind::Groups => false,
    });
    if let Some(job) = running {
        return match job.ratio() {
            Some(r) => format!("⟳ {:.0}%", r * 100.0),
            None => "⟳ now".to_owned(),
        };
    }
    let state = s.scans.iter().find(|(k, _)| *k == kind).map(|(_, st)| st);
    ago(env.now, state.and_then(|st| st.last_success))
}

/// What the instance's jobs are doing now, the activity scan's first (issue 13).
pub fn now_doing<'a>(s: &InstanceSummary, env: &'a Env) -> Vec<&'a Job> {
    let mut jobs: Vec<&Job> = env
        .jobs
        .values()
        .filter(|j| j.of_instance(s.instance.id, &env.groups))
        .collect();
    jobs.sort_by_key(|j| !matches!(j.kind, JobKind::ScanActivities { .. }));
    jobs
}

/// What an empty dashboard says to do, with the key as the keymap has it.
pub fn connect_hint(env: &Env) -> String {
    match env.keymap.key_for(&[Context::Connectors], Action::Connect) {
        Some(key) => format!("No instance connected — press {key} to connect an app"),
        None => "No instance connected — :connect connects an app".to_owned(),
    }
}

fn draw(pane: &ConnectorsPane, f: &mut Frame, area: Rect, env: &Env, focused: bool) {
    let theme = &env.theme;
    let rows = &env.instances;
    let title = format!("Connectors {}", rows.len());
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if let Some(e) = &pane.error {
        f.render_widget(
            Paragraph::new(Span::styled(e.clone(), theme.error())),
            inner,
        );
        return;
    }
    if rows.is_empty() {
        let text = if pane.loaded {
            connect_hint(env)
        } else {
            "loading…".to_owned()
        };
        f.render_widget(
            Paragraph::new(Span::styled(text, theme.dim()))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }
    let w = inner.width;
    // R-C2: a name is unique within its app only, so the app always shows.
    let mask = [true, true, true, w >= 64, w >= 90, true, w >= 90];
    let height = inner.height.saturating_sub(1) as usize;
    let range = pane.cursor.window(rows.len(), height);
    let rows: Vec<Row> = rows[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let failing = s
                .scans
                .iter()
                .find_map(|(_, st)| st.last_error.clone())
                .filter(|_| health(s) == Health::Failing);
            // Else what a scan found worth saying (a GitHub organisation without an audit log).
            let doing = now_doing(s, env);
            let said = match (doing.first(), failing) {
                (Some(job), _) => Span::styled(format!("⟳ {}", safe(&job.label)), theme.warning()),
                (None, Some(e)) => Span::styled(safe(&e).into_owned(), theme.error()),
                (None, None) => Span::styled(
                    s.scans
                        .iter()
                        .find_map(|(_, st)| st.note.as_deref())
                        .map(|n| safe(n).into_owned())
                        .unwrap_or_default(),
                    theme.dim(),
                ),
            };
            let row = Row::new(keep(
                vec![
                    Cell::from(safe(&s.instance.name).into_owned()),
                    Cell::from(s.instance.app.display_name()),
                    Cell::from(Line::from(health_span(health(s), theme))),
                    Cell::from(s.users.to_string()),
                    Cell::from(last(s, ScanKind::Users, env)),
                    Cell::from(last(s, ScanKind::Activities, env)),
                    Cell::from(Line::from(said)),
                ],
                &mask,
            ));
            if focused && range.start + i == pane.cursor.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    masked_table(
        f,
        inner,
        rows,
        [
            "Instance",
            "App",
            "Status",
            "Users",
            "Users scan",
            "Activity scan",
            "Notes",
        ],
        [
            Constraint::Fill(1),
            Constraint::Length(16),
            Constraint::Length(10),
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Length(13),
            Constraint::Fill(2),
        ],
        &mask,
        theme,
    );
}
