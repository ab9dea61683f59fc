//! Groups pane: automatic and imported groups with their status (R-G1, R-G5,
//! R-G7) and the Office apps they also appear in (R-G10).

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use ratatui::crossterm::event::KeyEvent;

use super::history::History;
use crate::domain::office::{apps_of, office_only, short_names};
use crate::domain::{Group, GroupId, GroupKind, GroupStatus, InstanceId, OfficeApp};
use crate::service::{JobKind, Level};
use crate::tui::action::Action;
use crate::tui::format::{ago, instance_cell, instance_column, safe};
use crate::tui::fuzzy::Hit;
use crate::tui::input::Input;
use crate::tui::keymap::Context;
use crate::tui::msg::Done;
use crate::tui::pane::{
    Component, Effect, Env, Handled, Out, Pane, PaneId, Snapshot, Target, cancel_jobs,
    list_contexts,
};
use crate::tui::ranking::Ranking;
use crate::tui::views::activities::activities_of_group;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::sort::{ListSort, caseless};
use crate::tui::widgets::{filter_line, highlighted, keep, masked_table, pane_block};

/// The groups themselves are `Env::groups`: other panes name them too.
#[derive(Debug, Default)]
pub struct GroupsPane {
    /// Safe display names, index for index with `Env::groups`.
    names: Vec<String>,
    /// The positions in `Env::groups` of the groups listed (all, or an instance's);
    /// `None` when they are to be worked out again.
    scope: Option<Vec<usize>>,
    /// The groups listed, ranked. R-G3 bounds them (500 imported, and the automatic
    /// ones) well under `SYNC_BELOW`, so they rank on the UI thread.
    ranking: Ranking,
    /// The groups matching the filter, by position in `Env::groups`, best first.
    pub visible: Vec<Hit>,
    pub filter: Input,
    pub editing: bool,
    pub cursor: Cursor,
    /// Drilled down from an instance: only its groups.
    pub instance: Option<InstanceId>,
    pub loaded: bool,
    pub error: Option<String>,
    /// The membership history of a group, shown in place of the list.
    pub history: Option<History>,
    pub sort: ListSort,
}

/// The columns, in the table's order.
const COLUMNS: [&str; 5] = ["Group", "Source", "Members", "Status", "Last sync"];

impl GroupsPane {
    /// The groups in `env` were replaced; `selected` stays selected if still shown.
    pub fn loaded(&mut self, selected: Option<GroupId>, env: &Env) {
        self.names = env
            .groups
            .iter()
            .map(|g| safe(&g.name).into_owned())
            .collect();
        self.scope = None;
        self.loaded = true;
        self.error = None;
        self.refilter(env);
        self.reselect(selected, env);
    }

    /// Selects the group `id` again where it is now, if shown.
    fn reselect(&mut self, id: Option<GroupId>, env: &Env) {
        if let Some(pos) = id.and_then(|id| {
            self.visible
                .iter()
                .position(|h| env.groups[h.index()].id == id)
        }) {
            self.cursor.selected = pos;
        }
    }

    pub fn failed(&mut self, message: String) {
        self.error = Some(message);
    }

    pub fn refilter(&mut self, env: &Env) {
        let all = &env.groups;
        let candidates: Vec<usize> = (0..all.len().min(self.names.len()))
            .filter(|i| match (self.instance, &all[*i].kind) {
                (None, _) => true,
                (Some(want), GroupKind::Imported { instance, .. }) => *instance == want,
                (Some(_), GroupKind::Automatic(_)) => false,
            })
            .collect();
        if self.scope.as_ref() != Some(&candidates) {
            let names = candidates.iter().map(|i| self.names[*i].as_str());
            let pass = self.ranking.set_texts(names);
            debug_assert!(pass.is_none(), "R-G3 keeps the groups short");
            self.scope = Some(candidates);
        }
        let pass = self.ranking.query(self.filter.text());
        debug_assert!(pass.is_none(), "R-G3 keeps the groups short");
        let scope = self.scope.as_deref().unwrap_or_default();
        let mut hits: Vec<Hit> = self
            .ranking
            .hits()
            .iter()
            .map(|h| h.moved_to(scope[h.index()]))
            .collect();
        self.sort.apply(&mut hits, |a, b, column| {
            compare(env, &self.names, a, b, column)
        });
        self.visible = hits;
        self.cursor.clamp(self.visible.len());
    }

    /// `o` and `O`: the list in a new order, the same group selected.
    fn sort_by(&mut self, sort: ListSort, env: &Env) {
        let selected = self.selected(env).map(|g| g.id);
        self.sort = sort;
        self.refilter(env);
        self.reselect(selected, env);
    }

    /// `:groups TEXT`: the list filtered by that text.
    pub fn set_filter(&mut self, text: &str, env: &Env) {
        self.filter.set(text);
        self.refilter(env);
    }

    pub fn selected<'a>(&self, env: &'a Env) -> Option<&'a Group> {
        self.visible
            .get(self.cursor.selected)
            .and_then(|h| env.groups.get(h.index()))
    }

    /// `h` or `:history GROUP`: who joined and left the group.
    pub fn open_history(&mut self, group: &Group, out: &mut Out) {
        self.history = Some(History::open(group, out));
    }

    fn clear_filter(&mut self, env: &Env) {
        self.filter.set("");
        self.refilter(env);
    }

    fn typing_action(&mut self, action: Action, env: &Env) -> Handled {
        match action {
            Action::Submit => self.editing = false,
            Action::Back => {
                self.editing = false;
                self.clear_filter(env);
            }
            Action::Quit => return Handled::NotConsumed,
            _ => {}
        }
        Handled::Consumed
    }
}

impl Component for GroupsPane {
    fn contexts(&self) -> Vec<Context> {
        if self.history.is_some() {
            return vec![Context::Global];
        }
        list_contexts(Context::Groups, self.editing)
    }

    fn on_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        if self.editing {
            return self.typing_action(action, env);
        }
        if let Some(h) = &mut self.history {
            if action == Action::Back {
                self.history = None;
                return Handled::Consumed;
            }
            return h.navigate(action);
        }
        match action {
            Action::History => match self.selected(env) {
                Some(g) => self.open_history(g, out),
                None => out.toast(Level::Warning, "choose a group first"),
            },
            Action::Open => {
                if let Some(g) = self.selected(env) {
                    out.push(Effect::Pivot(Target::Members {
                        group: g.id,
                        name: g.name.clone(),
                    }));
                }
            }
            Action::ActivitiesOf => {
                if let Some(g) = self.selected(env) {
                    out.push(Effect::Pivot(activities_of_group(&g.name)));
                }
            }
            Action::Filter => self.editing = true,
            Action::Cancel => {
                if let Some(g) = self.selected(env) {
                    let group = g.id;
                    cancel_jobs(env, out, &g.name, |j| {
                        j.kind == JobKind::SyncGroup { group }
                    });
                }
            }
            Action::Sort => self.sort_by(self.sort.next(COLUMNS.len()), env),
            Action::SortReverse => self.sort_by(self.sort.reversed(), env),
            Action::Back if !self.filter.text().is_empty() => self.clear_filter(env),
            _ => return self.cursor.navigate(action, self.visible.len()),
        }
        Handled::Consumed
    }

    fn on_key(&mut self, key: KeyEvent, env: &Env, _out: &mut Out) -> Handled {
        if !self.editing {
            return Handled::NotConsumed;
        }
        if self.filter.edit(key) {
            self.cursor.top();
            self.refilter(env);
        }
        Handled::Consumed
    }

    fn click(&mut self, y: u16, _env: &Env, _out: &mut Out) -> Handled {
        self.cursor.click(y, self.visible.len())
    }

    fn typing(&self) -> bool {
        self.editing
    }

    fn done(&mut self, done: Done, _env: &Env, _out: &mut Out) -> Option<Done> {
        match (done, &mut self.history) {
            (Done::History { group, result }, Some(h)) => h.loaded(group, result),
            // A history closed before it arrived.
            (Done::History { .. }, None) => {}
            (other, _) => return Some(other),
        }
        None
    }

    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        match &self.history {
            Some(h) => h.draw(f, area, env, focused),
            None => draw(self, f, area, env, focused),
        }
    }
}

impl Pane for GroupsPane {
    fn breadcrumbs(&self, env: &Env) -> Vec<String> {
        let mut path: Vec<String> = self
            .instance
            .and_then(|id| env.instance_label(id))
            .into_iter()
            .collect();
        path.push(PaneId::Groups.title().to_owned());
        if let Some(h) = &self.history {
            path.extend([h.name.clone(), "History".to_owned()]);
        }
        path
    }

    fn show(&mut self, target: &Target, env: &Env, _out: &mut Out) {
        if let Target::GroupsOf(instance) = target {
            self.instance = Some(*instance);
            self.cursor.top();
            self.refilter(env);
        }
    }

    fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot::Groups {
            instance: self.instance,
            filter: self.filter.text().to_owned(),
            cursor: self.cursor.clone(),
        })
    }

    fn restore(&mut self, snapshot: Snapshot, env: &Env, _out: &mut Out) {
        let Snapshot::Groups {
            instance,
            filter,
            cursor,
        } = snapshot
        else {
            return;
        };
        self.instance = instance;
        self.filter.set(&filter);
        self.refilter(env);
        self.cursor = cursor;
        self.cursor.clamp(self.visible.len());
    }
}

/// Two groups (indexes in `Env::groups`) as `column` orders them.
fn compare(env: &Env, names: &[String], a: usize, b: usize, column: usize) -> Ordering {
    let (ga, gb) = (&env.groups[a], &env.groups[b]);
    match column {
        0 => caseless(&names[a], &names[b]),
        1 => source_of(env, ga, true).cmp(&source_of(env, gb, true)),
        2 => ga.member_count.cmp(&gb.member_count),
        3 => status_rank(env, ga).cmp(&status_rank(env, gb)),
        _ => ga.last_sync.cmp(&gb.last_sync),
    }
}

/// Failed first, then those at work, then the ready.
fn status_rank(env: &Env, g: &Group) -> u8 {
    match &g.status {
        GroupStatus::SyncFailed { .. } => 0,
        GroupStatus::Importing => 1,
        GroupStatus::Ready if env.syncing(g.id) => 1,
        GroupStatus::Ready => 2,
    }
}

/// Where a group comes from: its instance, or "automatic".
fn source_of(env: &Env, g: &Group, wide: bool) -> String {
    match &g.kind {
        GroupKind::Automatic(_) => "automatic".into(),
        GroupKind::Imported { instance, .. } => env
            .instance(*instance)
            .map_or_else(|| "?".into(), |i| instance_cell(i.app, &i.name, wide)),
    }
}

/// R-G10: the Office apps a group also appears in, from its instance's
/// components as the Connectors pane last loaded them; empty for groups
/// that are not Microsoft 365 groups.
fn office_apps(env: &Env, g: &Group) -> Vec<OfficeApp> {
    let GroupKind::Imported { instance, .. } = &g.kind else {
        return Vec::new();
    };
    office_only(&apps_of(g, env.instance(*instance)))
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

fn draw(pane: &GroupsPane, f: &mut Frame, area: Rect, env: &Env, focused: bool) {
    let theme = &env.theme;
    let all = &env.groups;
    let imported = env.imported_count();
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
        } else if all.is_empty() {
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
        .map(|hit| source_of(env, &all[hit.index()], wide))
        .collect();
    let (source_title, source_width) = instance_column(&sources, wide);
    let mut titles = COLUMNS;
    titles[1] = source_title;
    let titles = pane.sort.titles(titles);
    // The name fills what the other columns leave.
    let mut fixed = [None, Some(source_width), Some(7), Some(11), Some(9)];
    pane.sort.fit(&titles, &mut fixed);
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
            let g = &all[hit.index()];
            let selected = focused && range.start + i == pane.cursor.selected;
            let base = if selected {
                theme.selected()
            } else {
                ratatui::style::Style::new()
            };
            let status = match &g.status {
                GroupStatus::Importing => Span::styled("⟳ importing", theme.warning()),
                GroupStatus::Ready if env.syncing(g.id) => {
                    Span::styled("⟳ syncing", theme.warning())
                }
                GroupStatus::Ready => Span::styled("● ready", theme.ok()),
                GroupStatus::SyncFailed { .. } => Span::styled("✗ failed", theme.error()),
            };
            let mut name = highlighted(
                &pane.names[hit.index()],
                &env.fuzzy
                    .highlights(&pane.names[hit.index()], pane.filter.text()),
                base,
                theme.matched(),
            );
            let room = name_width.saturating_sub(pane.names[hit.index()].chars().count());
            if let Some(note) = office_note(&office_apps(env, g), room) {
                name.spans.push(Span::styled(note, base.patch(theme.dim())));
            }
            let row = Row::new(keep(
                vec![
                    Cell::from(name),
                    Cell::from(source),
                    Cell::from(g.member_count.to_string()),
                    Cell::from(Line::from(status)),
                    Cell::from(ago(env.now, g.last_sync)),
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
    pane.cursor.place(list_area.y + 1);
    masked_table(
        f,
        list_area,
        rows,
        titles.each_ref().map(String::as_str),
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
