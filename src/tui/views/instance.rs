//! One instance in full (issue 13, part 4): each scan's last success and
//! attempt, the whole of its last error rather than the line the
//! Connectors list cuts it to, and what a scan noted. Enter goes on to the
//! instance's groups; the text scrolls.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::connectors::{health, health_span};
use crate::domain::InstanceId;
use crate::service::InstanceSummary;
use crate::store::{ScanKind, ScanState};
use crate::tui::format::{ago, instance_label, safe, timestamp};
use crate::tui::pane::Env;
use crate::tui::theme::Theme;
use crate::tui::widgets::{meter, pane_block};

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceDetail {
    pub id: InstanceId,
    pub scroll: usize,
}

fn scan_name(kind: ScanKind) -> &'static str {
    match kind {
        ScanKind::Users => "Users scan",
        ScanKind::Groups => "Groups scan",
        ScanKind::Activities => "Activity scan",
    }
}

fn when(env: &Env, t: Option<i64>) -> String {
    match t {
        Some(t) => format!("{} ({} UTC)", ago(env.now, Some(t)), timestamp(t)),
        None => "never".into(),
    }
}

fn state_lines(name: &str, st: &ScanState, env: &Env, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(Span::styled(name.to_owned(), theme.header())),
        Line::from(format!("  last success  {}", when(env, st.last_success))),
        Line::from(format!("  last attempt  {}", when(env, st.last_attempt))),
    ];
    if let Some(e) = &st.last_error {
        let failing = st.last_attempt >= st.last_success;
        let label = if failing {
            "  error         "
        } else {
            "  earlier error "
        };
        lines.push(Line::from(vec![
            Span::raw(label),
            Span::styled(safe(e).into_owned(), theme.error()),
        ]));
    }
    if let Some(n) = &st.note {
        lines.push(Line::from(vec![
            Span::raw("  note          "),
            Span::styled(safe(n).into_owned(), theme.dim()),
        ]));
    }
    lines
}

/// Everything the detail shows, top to bottom.
pub fn lines(s: &InstanceSummary, env: &Env) -> Vec<Line<'static>> {
    let theme = &env.theme;
    let i = &s.instance;
    let field = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<14}"), theme.header()),
            Span::raw(v),
        ])
    };
    let mut lines = vec![
        field("Instance", instance_label(i.app, &i.name)),
        field("App", i.app.display_name().to_owned()),
        Line::from(vec![
            Span::styled(format!("{:<14}", "Status"), theme.header()),
            health_span(health(s), theme),
        ]),
        field("Users", s.users.to_string()),
    ];
    // What is happening now, with how far it has come where the job can tell.
    for job in super::connectors::now_doing(s, env) {
        let bar = job
            .ratio()
            .map_or_else(String::new, |r| format!("{}  ", meter(r, 20)));
        lines.push(Line::from(vec![
            Span::styled(format!("{:<14}", "Now"), theme.header()),
            Span::styled(format!("⟳ {bar}{}", safe(&job.label)), theme.warning()),
        ]));
    }
    if let Some(e) = &i.endpoint {
        lines.push(field("Endpoint", safe(e).into_owned()));
    }
    if !i.components.is_empty() {
        let names: Vec<&str> = i.components.iter().map(|c| c.label()).collect();
        lines.push(field("Components", names.join(", ")));
    }
    for (kind, st) in &s.scans {
        lines.extend(state_lines(scan_name(*kind), st, env, theme));
    }
    for (stream, st) in &s.streams {
        lines.extend(state_lines(
            &format!("Stream {}", safe(stream)),
            st,
            env,
            theme,
        ));
    }
    lines
}

impl InstanceDetail {
    pub fn draw(&self, f: &mut Frame, area: Rect, env: &Env, focused: bool) {
        let theme = &env.theme;
        let Some(s) = env.instances.iter().find(|s| s.instance.id == self.id) else {
            let block = pane_block("Connectors", focused, theme);
            let inner = block.inner(area);
            f.render_widget(block, area);
            let gone = "This instance is no longer connected — Esc goes back";
            return f.render_widget(Paragraph::new(Span::styled(gone, theme.dim())), inner);
        };
        let title = format!(
            "{} — enter its groups, s sync now",
            instance_label(s.instance.app, &s.instance.name)
        );
        let block = pane_block(&title, focused, theme);
        let scroll = u16::try_from(self.scroll).unwrap_or(u16::MAX);
        f.render_widget(
            Paragraph::new(lines(s, env))
                .block(block)
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0)),
            area,
        );
    }
}
