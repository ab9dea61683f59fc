//! Groups pane: automatic and imported groups with their status (R-G1, R-G5,
//! R-G7) and the Office apps they also appear in (R-G10).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::domain::office::{apps_of, office_only, short_names};
use crate::domain::{Group, GroupKind, GroupStatus, InstanceId, OfficeApp};
use crate::tui::app::App;
use crate::tui::format::{ago, instance_cell, instance_column, safe};
use crate::tui::fuzzy::{Fuzzy, Hit};
use crate::tui::input::Input;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{filter_line, highlighted, keep, masked_table, pane_block};

#[derive(Debug, Default)]
pub struct GroupsPane {
    pub all: Vec<Group>,
    /// Safe display names, index for index with `all`.
    names: Vec<String>,
    pub visible: Vec<Hit>,
    pub filter: Input,
    pub editing: bool,
    pub cursor: Cursor,
    /// Drilled down from an instance: only its groups.
    pub instance: Option<InstanceId>,
    pub loaded: bool,
    pub error: Option<String>,
}

impl GroupsPane {
    pub fn set(&mut self, groups: Vec<Group>, fuzzy: &Fuzzy) {
        let selected = self.selected().map(|g| g.id);
        self.names = groups.iter().map(|g| safe(&g.name).into_owned()).collect();
        self.all = groups;
        self.loaded = true;
        self.error = None;
        self.refilter(fuzzy);
        if let Some(pos) =
            selected.and_then(|id| self.visible.iter().position(|h| self.all[h.index].id == id))
        {
            self.cursor.selected = pos;
        }
    }

    pub fn refilter(&mut self, fuzzy: &Fuzzy) {
        let candidates: Vec<usize> = (0..self.all.len())
            .filter(|i| match (self.instance, &self.all[*i].kind) {
                (None, _) => true,
                (Some(want), GroupKind::Imported { instance, .. }) => *instance == want,
                (Some(_), GroupKind::Automatic(_)) => false,
            })
            .collect();
        let mut hits = fuzzy.rank(
            candidates.iter().map(|i| self.names[*i].as_str()),
            self.filter.text(),
        );
        for h in &mut hits {
            h.index = candidates[h.index];
        }
        self.visible = hits;
        self.cursor.clamp(self.visible.len());
    }

    pub fn selected(&self) -> Option<&Group> {
        self.visible
            .get(self.cursor.selected)
            .map(|h| &self.all[h.index])
    }
}

/// Where a group comes from: its instance, or "automatic".
fn source_of(app: &App, g: &Group, wide: bool) -> String {
    match &g.kind {
        GroupKind::Automatic(_) => "automatic".into(),
        GroupKind::Imported { instance, .. } => app
            .instance(*instance)
            .map_or_else(|| "?".into(), |i| instance_cell(i.app, &i.name, wide)),
    }
}

/// R-G10: the Office apps a group also appears in, from its instance's
/// components as the Connectors pane last loaded them; empty for groups
/// that are not Microsoft 365 groups.
fn office_apps(app: &App, g: &Group) -> Vec<OfficeApp> {
    let GroupKind::Imported { instance, .. } = &g.kind else {
        return Vec::new();
    };
    let instance = app
        .connectors
        .rows
        .iter()
        .map(|r| &r.instance)
        .find(|i| i.id == *instance);
    office_only(&apps_of(g, instance))
}

/// R-G10: the longest "also SharePoint, …" note that fits in `room`
/// characters after the name; the name keeps priority, so a pane too
/// narrow for any note shows none.
pub(super) fn office_note(apps: &[OfficeApp], room: usize) -> Option<String> {
    if apps.is_empty() {
        return None;
    }
    let n = apps.len();
    [
        format!("  also {}", short_names(apps)),
        format!("  also {n} Office apps"),
        format!("  +{n} Office"),
    ]
    .into_iter()
    .find(|note| note.chars().count() <= room)
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, focused: bool) {
    let pane = &app.groups;
    let theme = &app.theme;
    let imported = app.imported_count();
    let title = format!(
        "Groups {} · imported {imported}/{}",
        pane.visible.len(),
        crate::store::IMPORT_LIMIT
    );
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let list_area = filter_line(f, inner, &pane.filter, pane.editing, theme);
    if let Some(e) = &pane.error {
        f.render_widget(
            Paragraph::new(Span::styled(e.clone(), theme.error())),
            list_area,
        );
        return;
    }
    if pane.visible.is_empty() {
        let text = if !pane.loaded {
            "loading…"
        } else if pane.all.is_empty() {
            "No groups yet — press i to import groups from a connected app"
        } else {
            "No group matches"
        };
        f.render_widget(Paragraph::new(Span::styled(text, theme.dim())), list_area);
        return;
    }
    let width = list_area.width;
    let mask = [true, true, true, true, width >= 60];
    let height = list_area.height.saturating_sub(1) as usize;
    let range = pane.cursor.window(pane.visible.len(), height);
    let wide = width >= 72;
    let sources: Vec<String> = pane.visible[range.clone()]
        .iter()
        .map(|hit| source_of(app, &pane.all[hit.index], wide))
        .collect();
    let (source_title, source_width) = instance_column(&sources, wide);
    // The name fills what the other columns leave.
    let fixed = [None, Some(source_width), Some(7), Some(11), Some(9)];
    let shown = keep(fixed, &mask);
    let spacing = u16::try_from(shown.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let name_width = usize::from(
        width
            .saturating_sub(shown.iter().flatten().sum())
            .saturating_sub(spacing),
    );
    let rows: Vec<Row> = pane.visible[range.clone()]
        .iter()
        .zip(sources)
        .enumerate()
        .map(|(i, (hit, source))| {
            let g = &pane.all[hit.index];
            let selected = focused && range.start + i == pane.cursor.selected;
            let base = if selected {
                theme.selected()
            } else {
                ratatui::style::Style::new()
            };
            let status = match &g.status {
                GroupStatus::Importing => Span::styled("⟳ importing", theme.warning()),
                GroupStatus::Ready if app.syncing(g.id) => {
                    Span::styled("⟳ syncing", theme.warning())
                }
                GroupStatus::Ready => Span::styled("● ready", theme.ok()),
                GroupStatus::SyncFailed { .. } => Span::styled("✗ failed", theme.error()),
            };
            let mut name = highlighted(
                &pane.names[hit.index],
                &app.fuzzy
                    .highlights(&pane.names[hit.index], pane.filter.text()),
                base,
                theme.matched(),
            );
            let room = name_width.saturating_sub(pane.names[hit.index].chars().count());
            if let Some(note) = office_note(&office_apps(app, g), room) {
                name.spans.push(Span::styled(note, base.patch(theme.dim())));
            }
            let row = Row::new(keep(
                vec![
                    Cell::from(name),
                    Cell::from(source),
                    Cell::from(g.member_count.to_string()),
                    Cell::from(Line::from(status)),
                    Cell::from(ago(app.now, g.last_sync)),
                ],
                &mask,
            ));
            if selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    masked_table(
        f,
        list_area,
        rows,
        ["Group", source_title, "Members", "Status", "Last sync"],
        fixed.map(|w| w.map_or(Constraint::Fill(1), Constraint::Length)),
        &mask,
        theme,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-G10: the note shrinks to fit and gives way to the name.
    #[test]
    fn office_note_fits_the_room() {
        let four = &OfficeApp::ALL[..4];
        assert_eq!(
            office_note(four, 80).as_deref(),
            Some("  also SharePoint, OneDrive, Exchange, Teams")
        );
        assert_eq!(
            office_note(four, 20).as_deref(),
            Some("  also 4 Office apps")
        );
        assert_eq!(office_note(four, 12).as_deref(), Some("  +4 Office"));
        assert_eq!(office_note(four, 10), None);
        assert_eq!(
            office_note(&OfficeApp::ALL, 80).as_deref(),
            Some("  also 10 Office apps")
        );
        assert_eq!(office_note(&[], 80), None);
    }
}
