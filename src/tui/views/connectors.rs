//! Connectors pane: each instance with its status, scans and counts (R-C4).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::service::InstanceSummary;
use crate::store::ScanKind;
use crate::tui::app::App;
use crate::tui::format::{ago, safe};
use crate::tui::theme::Theme;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{keep, masked_table, pane_block};

#[derive(Debug, Default)]
pub struct ConnectorsPane {
    pub rows: Vec<InstanceSummary>,
    pub cursor: Cursor,
    pub loaded: bool,
    pub error: Option<String>,
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
    pub fn selected(&self) -> Option<&InstanceSummary> {
        self.rows.get(self.cursor.selected)
    }
}

fn last(s: &InstanceSummary, kind: ScanKind, now: i64) -> String {
    let state = s.scans.iter().find(|(k, _)| *k == kind).map(|(_, st)| st);
    ago(now, state.and_then(|st| st.last_success))
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, focused: bool) {
    let pane = &app.connectors;
    let theme = &app.theme;
    let title = format!("Connectors {}", pane.rows.len());
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
    if pane.rows.is_empty() {
        let text = if pane.loaded {
            "No instance connected — run `casbah connectors add`, or `casbah demo`"
        } else {
            "loading…"
        };
        f.render_widget(Paragraph::new(Span::styled(text, theme.dim())), inner);
        return;
    }
    let w = inner.width;
    // R-C2: a name is unique within its app only, so the app always shows.
    let mask = [true, true, true, w >= 64, w >= 90, true, w >= 90];
    let height = inner.height.saturating_sub(1) as usize;
    let range = pane.cursor.window(pane.rows.len(), height);
    let rows: Vec<Row> = pane.rows[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let failing = s
                .scans
                .iter()
                .find_map(|(_, st)| st.last_error.clone())
                .filter(|_| health(s) == Health::Failing);
            // Else what a scan found worth saying (a GitHub organisation without an audit log).
            let said = match failing {
                Some(e) => Span::styled(safe(&e).into_owned(), theme.error()),
                None => Span::styled(
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
                    Cell::from(last(s, ScanKind::Users, app.now)),
                    Cell::from(last(s, ScanKind::Activities, app.now)),
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
