//! Activities pane: the live log, newest first, with the filter language of
//! the CLI (R-A2, R-A4), queries (R-A3), details (R-A1) and export.

mod complete;
mod draw;
mod editor;
mod pivot;
mod queries;
mod sort;
mod timeline;

pub use editor::Editor;
use pivot::Purpose;
pub use pivot::{LikeMenu, activities_of, activities_of_group};
pub use queries::QueryEdit;
pub use sort::{Column, SortKey, sort};
pub use timeline::{Scope, TimelineView};

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;

use crate::domain::filter;
use crate::domain::{Activity, InstanceId, Micros};
use crate::service::{Event, Level, suggested_queries};
use crate::store::ActivityCursor;
use crate::tui::action::Action;
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done, ExportFormat, Failure, Outcome};
use crate::tui::pane::{
    ActivitiesSnapshot, Component, Effect, Env, Handled, Out, Pane, PaneId, Snapshot, Target,
    list_contexts,
};
use crate::tui::widgets::list::Cursor;

const PROMPT: &str = "Filter› ";

/// Rows fetched at a time.
pub const PAGE: usize = 500;
/// A live reload never asks for more than this many rows.
const MAX_RELOAD: usize = 5_000;

#[derive(Debug, Default)]
pub struct ActivitiesPane {
    /// The filter applied now.
    pub filter: String,
    pub chips: Vec<String>,
    pub editor: Option<Editor>,
    pub rows: Vec<Activity>,
    pub cursor: Cursor,
    next: Option<ActivityCursor>,
    pub loading: bool,
    /// Activities arrived while a load was running: load again after it.
    pub stale: bool,
    /// Arrived above the selection since the user last looked at the top.
    pub new_count: usize,
    pub error: Option<Failure>,
    pub detail: Option<Box<Activity>>,
    /// The line selected in the details, which scroll to keep it in view.
    pub detail_cursor: Cursor,
    /// Lines in the details at the last draw, wrapped to the pane's width.
    detail_len: std::cell::Cell<usize>,
    /// The queries list, when open: (name, filter, saved by the user).
    pub queries: Option<Vec<(String, String, bool)>>,
    pub queries_cursor: Cursor,
    pub saved: Vec<(String, String)>,
    /// A rename or delete of a saved query, waiting for its last key.
    pub query_edit: Option<QueryEdit>,
    /// Rows written by a running export.
    pub export: Option<u64>,
    /// "More like this": the fields of the activity in view to pivot on.
    pub like: Option<LikeMenu>,
    pub timeline: TimelineView,
    /// The order of the rows; kept when the filter changes.
    pub sort: SortKey,
    /// `:goto`: the list starts at this moment instead of now.
    pub anchor: Option<Micros>,
}

fn key(a: &Activity) -> (InstanceId, &str) {
    (a.instance, a.id.as_str())
}

impl ActivitiesPane {
    pub fn reload_cmd(&self) -> Cmd {
        Cmd::LoadActivities {
            filter: self.filter.clone(),
            limit: self.rows.len().clamp(PAGE, MAX_RELOAD),
            // Positions sort by (time, seq): this one comes after all of `at`'s.
            after: self.anchor.map(|at| ActivityCursor {
                time: at + 1,
                seq: 0,
            }),
        }
    }

    /// The next page, when the selection reached the last row loaded.
    pub fn more_cmd(&self) -> Option<Cmd> {
        let after = self.next?;
        (!self.loading && self.cursor.selected + 1 >= self.rows.len()).then(|| {
            Cmd::LoadActivities {
                filter: self.filter.clone(),
                limit: PAGE,
                after: Some(after),
            }
        })
    }

    pub fn set_filter(&mut self, text: String) {
        self.chips = match filter::parse(&text) {
            Ok(f) => f.terms.iter().map(ToString::to_string).collect(),
            Err(_) => Vec::new(),
        };
        self.filter = text;
        self.rows.clear();
        self.next = None;
        self.cursor.top();
        self.new_count = 0;
        self.detail = None;
        self.error = None;
    }

    pub fn loaded(&mut self, more: bool, result: Outcome<crate::store::ActivityPage>) {
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        self.error = None;
        if more {
            let have: std::collections::HashSet<(InstanceId, String)> = self
                .rows
                .iter()
                .map(|a| (a.instance, a.id.clone()))
                .collect();
            self.rows.extend(
                page.items
                    .into_iter()
                    .filter(|a| !have.contains(&(a.instance, a.id.clone()))),
            );
            self.next = page.next;
            if self.sort != SortKey::default() {
                self.sort_by(self.sort);
            }
            return;
        }
        let following = self.cursor.selected == 0 && self.cursor.offset() == 0;
        let old_selected = self
            .rows
            .get(self.cursor.selected)
            .map(|a| (a.instance, a.id.clone()));
        let old_first = self.rows.first().map(|a| (a.instance, a.id.clone()));
        let mut rows = page.items;
        if self.sort != SortKey::default() {
            sort(&mut rows, self.sort);
        }
        let arrived = old_first
            .as_ref()
            .and_then(|(i, id)| rows.iter().position(|a| key(a) == (*i, id.as_str())))
            .unwrap_or(0);
        // Live arrivals never move the row the user is on.
        if !following
            && let Some((i, id)) = &old_selected
            && let Some(pos) = rows.iter().position(|a| key(a) == (*i, id.as_str()))
        {
            let moved = pos.saturating_sub(self.cursor.selected);
            self.cursor.shift(moved);
            self.cursor.selected = pos;
            self.new_count += arrived;
        }
        self.rows = rows;
        self.next = page.next;
        self.cursor.clamp(self.rows.len());
    }

    /// Distinct values of one field among the loaded rows, sorted.
    pub fn seen(&self, f: impl Fn(&Activity) -> Option<String>) -> Vec<String> {
        let mut values: Vec<String> = self.rows.iter().filter_map(&f).collect();
        values.sort_unstable();
        values.dedup();
        values
    }

    /// The activity the keys act on: the one open, else the selected row.
    pub fn current(&self) -> Option<&Activity> {
        self.detail
            .as_deref()
            .or_else(|| self.rows.get(self.cursor.selected))
    }

    pub fn open_detail(&mut self) {
        self.detail = self.rows.get(self.cursor.selected).cloned().map(Box::new);
        self.detail_cursor.top();
    }

    pub fn open_queries(&mut self) {
        let mut list: Vec<(String, String, bool)> = self
            .saved
            .iter()
            .map(|(n, t)| (n.clone(), t.clone(), true))
            .collect();
        list.extend(
            suggested_queries()
                .iter()
                .map(|(n, t)| ((*n).to_owned(), (*t).to_owned(), false)),
        );
        self.queries = Some(list);
        self.queries_cursor.top();
    }

    pub fn chosen_query(&self) -> Option<String> {
        self.queries
            .as_ref()?
            .get(self.queries_cursor.selected)
            .map(|(_, t, _)| t.clone())
    }

    /// New activities, or a new filter: reload what is shown, once at a time.
    fn refresh(&mut self, out: &mut Out) {
        if self.loading {
            self.stale = true;
        } else {
            self.loading = true;
            out.run(self.reload_cmd());
        }
        out.run_all(self.timeline.request(&self.filter));
    }

    /// `:goto MOMENT`: the list starts there and the timeline is centred on
    /// it; `:goto` alone, or `now`, follows the clock again.
    pub fn goto(&mut self, text: Option<&str>, env: &Env, out: &mut Out) {
        let at = match text.map(str::trim).filter(|t| !t.is_empty() && *t != "now") {
            None => None,
            Some(t) => match timeline::parse_moment(t) {
                Ok(at) => Some(at),
                Err(e) => return out.toast(Level::Error, e),
            },
        };
        self.anchor = at;
        self.timeline.center(at, env.now);
        let filter = self.filter.clone();
        self.set_filter(filter);
        self.refresh(out);
    }

    /// Zoom and pan keys: the timeline, asked for again.
    fn scope(&mut self, action: Action, env: &Env, out: &mut Out) {
        match action {
            Action::SpanIn => self.timeline.zoom(-1),
            Action::SpanOut => self.timeline.zoom(1),
            Action::Earlier => self.timeline.pan(-1, env.now),
            _ => self.timeline.pan(1, env.now),
        }
        out.run_all(self.timeline.request(&self.filter));
    }

    /// Shows the activities matching `text`.
    pub fn apply_filter(&mut self, text: String, out: &mut Out) {
        self.set_filter(text);
        self.refresh(out);
    }

    /// `:activities TEXT`: as Enter after `/` would, so text that does not
    /// parse is refused and left in the editor, its error shown, while the
    /// filter in force stays (issue 13).
    pub fn command_filter(&mut self, text: String, out: &mut Out) {
        if filter::parse(&text).is_ok() {
            return self.apply_filter(text, out);
        }
        self.edit_text(&text);
    }

    /// The filter applied now.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    fn export(&mut self, format: ExportFormat, out: &mut Out) {
        if self.export.is_some() {
            out.toast(Level::Warning, "an export is already running");
            return;
        }
        self.export = Some(0);
        out.run(Cmd::Export {
            filter: self.filter.clone(),
            format,
        });
    }

    fn navigate(&mut self, action: Action, out: &mut Out) -> Handled {
        if let Some(q) = &self.queries {
            return self.queries_cursor.navigate(action, q.len());
        }
        if self.detail.is_some() {
            return self.detail_cursor.navigate(action, self.detail_len.get());
        }
        let handled = self.cursor.navigate(action, self.rows.len());
        if handled == Handled::Consumed {
            if self.cursor.selected == 0 {
                self.new_count = 0;
            }
            if let Some(cmd) = self.more_cmd() {
                self.loading = true;
                out.run(cmd);
            }
        }
        handled
    }

    fn open(&mut self, out: &mut Out) {
        if self.queries.is_none() {
            return self.open_detail();
        }
        if let Some(text) = self.chosen_query() {
            self.queries = None;
            self.apply_filter(text, out);
        }
    }
}

impl Component for ActivitiesPane {
    fn contexts(&self) -> Vec<Context> {
        if self.like.is_some() {
            return vec![Context::Menu];
        }
        let mut contexts = list_contexts(Context::Activities, self.typing());
        if self.queries.is_some() && !self.typing() {
            contexts.insert(0, Context::Queries);
        }
        contexts
    }

    fn on_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        if self.typing() {
            return self.typing_action(action, env, out);
        }
        if self.like.is_some() {
            return self.like_action(action, out);
        }
        if self.queries.is_some() && self.query_action(action, out) == Handled::Consumed {
            return Handled::Consumed;
        }
        match action {
            Action::Open => self.open(out),
            Action::Person if self.queries.is_none() => {
                if let Some(a) = self.current() {
                    out.push(Effect::Pivot(Target::Person {
                        key: a.actor.clone(),
                    }));
                }
            }
            Action::SpanIn | Action::SpanOut | Action::Earlier | Action::Later => {
                self.scope(action, env, out)
            }
            Action::MoreLike if self.queries.is_none() => self.open_like(Purpose::More),
            Action::OnlyLike if self.queries.is_none() => self.open_like(Purpose::Only),
            Action::CopyValue if self.queries.is_none() => self.open_like(Purpose::Copy),
            Action::CopyRow if self.queries.is_none() => self.copy_row(out),
            Action::Sort => self.sort_by(self.sort.next()),
            Action::SortReverse => self.sort_by(self.sort.reversed()),
            Action::Back if self.queries.is_some() => self.queries = None,
            Action::Back if self.detail.is_some() => self.detail = None,
            Action::Filter => self.edit(),
            Action::Queries => self.open_queries(),
            Action::Cancel => match self.export {
                Some(_) => out.run(Cmd::CancelExport),
                None => out.toast(Level::Info, "no export is running"),
            },
            Action::ExportCsv => self.export(ExportFormat::Csv, out),
            Action::ExportJson => self.export(ExportFormat::Json, out),
            _ => return self.navigate(action, out),
        }
        Handled::Consumed
    }

    fn on_key(&mut self, key: KeyEvent, _env: &Env, out: &mut Out) -> Handled {
        if let Some(menu) = &self.like {
            if let KeyCode::Char(c) = key.code
                && let Some(choice) = menu.by_letter(c)
            {
                pivot::choose(choice, &self.filter, menu.purpose, out);
                self.like = None;
            }
            return Handled::Consumed;
        }
        if !self.typing() {
            return Handled::NotConsumed;
        }
        if self.query_edit.is_some() {
            self.query_edit_key(key, out);
        } else {
            self.edit_key(key);
        }
        Handled::Consumed
    }

    fn click(&mut self, y: u16, _env: &Env, out: &mut Out) -> Handled {
        if self.detail.is_some() || self.queries.is_some() || self.like.is_some() {
            return Handled::NotConsumed;
        }
        let handled = self.cursor.click(y, self.rows.len());
        if let Some(cmd) = self.more_cmd().filter(|_| handled == Handled::Consumed) {
            self.loading = true;
            out.run(cmd);
        }
        handled
    }

    fn typing(&self) -> bool {
        self.editor.is_some() || self.query_edit.is_some()
    }

    fn done(&mut self, done: Done, _env: &Env, out: &mut Out) -> Option<Done> {
        match done {
            Done::Activities {
                filter,
                more,
                result,
            } => {
                let stale = std::mem::replace(&mut self.stale, false);
                self.loading = false;
                if filter == self.filter {
                    self.loaded(more, result);
                }
                if stale || filter != self.filter {
                    self.refresh(out);
                }
            }
            Done::Timeline { seq, result } => {
                out.run_all(self.timeline.answered(seq, result, &self.filter));
            }
            Done::SavedQueries(Ok(list)) => self.saved_loaded(list),
            Done::QueryChanged { what, result } => match result {
                Ok(()) => {
                    out.toast(Level::Info, what);
                    out.run(Cmd::LoadSavedQueries);
                }
                Err(e) => out.toast(Level::Error, e.message),
            },
            Done::SavedQueries(Err(e)) => out.toast(Level::Error, e.message),
            Done::ExportProgress { rows } => self.export = Some(rows),
            Done::Exported(result) => {
                self.export = None;
                match result {
                    Ok((path, rows)) => out.toast(
                        Level::Info,
                        format!("exported {rows} activities to {}", path.display()),
                    ),
                    Err(e) => out.toast(Level::Error, e.message),
                }
            }
            other => return Some(other),
        }
        None
    }

    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        draw::draw(self, f, area, env, focused);
        if let Some(menu) = &self.like {
            pivot::draw_menu(menu, f, area.inner(ratatui::layout::Margin::new(1, 1)), env);
        }
    }
}

impl Pane for ActivitiesPane {
    fn event(&mut self, event: &Event, _env: &Env, out: &mut Out) {
        if let Event::ActivitiesIngested { .. } = event {
            self.refresh(out);
        }
    }

    fn reload(&mut self, _env: &Env, out: &mut Out) {
        self.refresh(out);
    }

    fn show(&mut self, target: &Target, _env: &Env, out: &mut Out) {
        if let Target::Activities { filter, .. } = target {
            self.queries = None;
            self.like = None;
            self.editor = None;
            self.apply_filter(filter.clone(), out);
        }
    }

    fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot::Activities(Box::new(ActivitiesSnapshot {
            filter: self.filter.clone(),
            rows: self.rows.clone(),
            next: self.next,
            cursor: self.cursor.clone(),
            detail: self.detail.clone(),
            anchor: self.anchor,
            scope: self.timeline.scope,
        })))
    }

    /// Puts back what was shown at once, then reads it again: what arrived
    /// since comes in above, and the selected row stays selected.
    fn restore(&mut self, snapshot: Snapshot, _env: &Env, out: &mut Out) {
        let Snapshot::Activities(saved) = snapshot else {
            return;
        };
        let ActivitiesSnapshot {
            filter,
            rows,
            next,
            cursor,
            detail,
            anchor,
            scope,
        } = *saved;
        self.anchor = anchor;
        self.timeline.scope = scope;
        self.set_filter(filter);
        self.rows = rows;
        self.next = next;
        self.cursor = cursor;
        self.detail = detail;
        self.queries = None;
        self.like = None;
        self.refresh(out);
    }

    fn breadcrumbs(&self, _env: &Env) -> Vec<String> {
        let mut path = vec![PaneId::Activities.title().to_owned()];
        if self.queries.is_some() {
            path.push("Queries".into());
        }
        if let Some(a) = &self.detail {
            path.push(a.id.clone());
        }
        path
    }
}
