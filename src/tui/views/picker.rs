//! The group import picker (R-G2…R-G5): it paints at once, ranks what it
//! has at every keystroke, and merges the app's own search after a pause.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::groups::office_note;
use crate::domain::instance::reference;
use crate::domain::{AppKind, OfficeApp};
use crate::service::{AvailableGroup, Level};
use crate::store::IMPORT_LIMIT;
use crate::tui::action::Action;
use crate::tui::format::{instance_label, safe};
use crate::tui::fuzzy::Hit;
use crate::tui::input::Input;
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done, Outcome};
use crate::tui::pane::{Component, Effect, Env, Handled, Out, PaneId};
use crate::tui::ranking::Ranking;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{centered, highlighted, input_line, pane_block};

#[derive(Debug, Clone, PartialEq)]
pub struct PickRow {
    pub id: String,
    /// Safe for display.
    pub name: String,
    pub imported: bool,
    /// R-G10: the Office apps a Microsoft 365 group also appears in.
    pub also_in: Vec<OfficeApp>,
}

#[derive(Debug)]
pub struct Picker {
    /// Connected instances to choose from, with their apps.
    pub instances: Vec<(AppKind, String)>,
    /// Chosen instance, as `APP/NAME` (`instance::reference`); until then the
    /// list shows instances.
    pub instance: Option<String>,
    pub rows: Vec<PickRow>,
    /// The rows matching the query, best first.
    ranking: Ranking,
    pub query: Input,
    pub cursor: Cursor,
    /// The first groups have not arrived yet.
    pub loading: bool,
    /// The app's search for this text is running.
    pub searching: Option<String>,
    pub notify: bool,
    pub imported_total: usize,
    pub error: Option<String>,
    /// The groups marked for import, by their id in the app, in the order marked.
    pub marked: Vec<String>,
    /// The arrows moved the selection since the last typed key, so Space
    /// marks the row rather than type into the search.
    in_list: bool,
    /// Each keystroke's number; only the latest one's pause searches.
    search_seq: u64,
}

impl Picker {
    pub fn new(instances: Vec<(AppKind, String)>, imported_total: usize) -> Picker {
        Picker {
            instances,
            instance: None,
            rows: Vec::new(),
            ranking: Ranking::default(),
            query: Input::default(),
            cursor: Cursor::default(),
            loading: false,
            searching: None,
            notify: true,
            imported_total,
            error: None,
            marked: Vec::new(),
            in_list: false,
            search_seq: 0,
        }
    }

    /// The picker over the connected instances, choosing the only one at
    /// once (with the load that asks for its groups); none when nothing is
    /// connected.
    pub fn for_env(env: &Env) -> Option<(Picker, Option<Cmd>)> {
        let connected: Vec<(AppKind, String)> = env
            .instances
            .iter()
            .map(|s| (s.instance.app, s.instance.name.clone()))
            .collect();
        if connected.is_empty() {
            return None;
        }
        let mut picker = Picker::new(connected, env.imported_count());
        let cmd = picker.auto_choose();
        Some((picker, cmd))
    }

    /// With one connected instance there is nothing to choose.
    pub fn auto_choose(&mut self) -> Option<Cmd> {
        if let [(app, only)] = self.instances.as_slice() {
            let only = reference(*app, only);
            return Some(self.choose(only));
        }
        None
    }

    fn choose(&mut self, instance: String) -> Cmd {
        self.instance = Some(instance.clone());
        self.loading = true;
        self.cursor.top();
        Cmd::LoadAvailable {
            instance,
            search: None,
        }
    }

    pub fn rows_len(&self) -> usize {
        if self.instance.is_some() {
            self.ranked().len()
        } else {
            self.instances.len()
        }
    }

    pub fn down(&mut self) {
        let len = self.rows_len();
        self.cursor.down(len);
    }

    /// Esc: from the groups back to the instances; false when the picker should close.
    pub fn back(&mut self) -> bool {
        if self.instance.is_some() && self.instances.len() > 1 {
            let seq = self.search_seq;
            *self = Picker::new(std::mem::take(&mut self.instances), self.imported_total);
            self.search_seq = seq;
            return true;
        }
        false
    }

    /// A typed key; true when the query changed (so a search is due after the pause).
    fn edit(&mut self, key: KeyEvent, out: &mut Out) -> bool {
        if self.instance.is_none() || !self.query.edit(key) {
            return false;
        }
        self.in_list = false;
        self.cursor.top();
        self.rerank(out);
        !self.query.text().trim().is_empty()
    }

    /// Space: marks or unmarks the selected group, once the arrows are in
    /// the list or while there is no search; else it is a space in the search.
    fn mark(&mut self, out: &mut Out) -> bool {
        if !self.in_list && !self.query.text().is_empty() {
            return self.edit(
                KeyEvent::from(ratatui::crossterm::event::KeyCode::Char(' ')),
                out,
            );
        }
        if let Some(row) = self.selected().filter(|r| !r.imported) {
            let id = row.id.clone();
            match self.marked.iter().position(|m| *m == id) {
                Some(at) => {
                    self.marked.remove(at);
                }
                None => self.marked.push(id),
            }
            self.down();
        }
        false
    }

    fn rerank(&mut self, out: &mut Out) {
        out.run_all(self.ranking.query(self.query.text()));
        self.cursor.clamp(self.ranked().len());
    }

    /// The rows matching the query, best first.
    pub fn ranked(&self) -> &[Hit] {
        self.ranking.hits()
    }

    /// The pause after keystroke `seq` has passed: the app's search for
    /// the current text, unless another key came since.
    pub fn search_due(&mut self, seq: u64) -> Option<Cmd> {
        if seq != self.search_seq {
            return None;
        }
        let instance = self.instance.clone()?;
        let text = self.query.text().trim().to_owned();
        if text.is_empty() {
            return None;
        }
        self.searching = Some(text.clone());
        Some(Cmd::LoadAvailable {
            instance,
            search: Some(text),
        })
    }

    pub fn loaded(
        &mut self,
        instance: &str,
        search: Option<&str>,
        result: Outcome<Vec<AvailableGroup>>,
    ) {
        if self.instance.as_deref() != Some(instance) {
            return;
        }
        match search {
            None => self.loading = false,
            Some(text) if self.searching.as_deref() == Some(text) => self.searching = None,
            Some(_) => {}
        }
        let groups = match result {
            Ok(groups) => groups,
            Err(e) => {
                self.error = Some(e.message);
                return;
            }
        };
        let first_new = self.rows.len();
        for g in groups {
            if let Some(row) = self.rows.iter_mut().find(|r| r.id == g.group.id) {
                row.imported = g.imported;
                row.also_in = g.also_in;
            } else {
                self.rows.push(PickRow {
                    name: safe(&g.group.display_name).into_owned(),
                    id: g.group.id,
                    imported: g.imported,
                    also_in: g.also_in,
                });
            }
        }
        self.marked
            .retain(|id| self.rows.iter().any(|r| r.id == *id && !r.imported));
        // Results arriving never move a row on the screen (issue 13): the
        // newcomers are ranked among themselves below what is listed, and
        // the next typed key ranks them all together.
        self.ranking
            .extend(self.rows[first_new..].iter().map(|r| r.name.as_str()));
    }

    pub fn selected(&self) -> Option<&PickRow> {
        self.ranked()
            .get(self.cursor.selected)
            .map(|h| &self.rows[h.index()])
    }

    /// Enter: choose the instance, or import the marked groups, else the
    /// selected one (R-G3: refused over the limit).
    pub fn submit(&mut self, limit: usize) -> Result<Vec<Cmd>, String> {
        let Some(instance) = self.instance.clone() else {
            let Some((app, name)) = self.instances.get(self.cursor.selected) else {
                return Ok(Vec::new());
            };
            let chosen = reference(*app, name);
            return Ok(vec![self.choose(chosen)]);
        };
        let rows: Vec<&PickRow> = if self.marked.is_empty() {
            let Some(row) = self.selected() else {
                return Ok(Vec::new());
            };
            if row.imported {
                return Err(format!("{} is already imported", row.name));
            }
            vec![row]
        } else {
            self.marked
                .iter()
                .filter_map(|id| self.rows.iter().find(|r| r.id == *id))
                .collect()
        };
        // R-G3: every group counts against the limit, so all or none go.
        let room = limit.saturating_sub(self.imported_total);
        if rows.len() > room {
            return Err(if room == 0 {
                format!(
                    "{limit} groups are imported, the most casbah keeps; remove one with `casbah groups remove` first"
                )
            } else {
                format!(
                    "{} groups marked, but only {room} more can be imported ({} of {limit} are); unmark {}",
                    rows.len(),
                    self.imported_total,
                    rows.len() - room
                )
            });
        }
        Ok(rows
            .into_iter()
            .map(|row| Cmd::Import {
                instance: instance.clone(),
                group_id: row.id.clone(),
                name: row.name.clone(),
                notify: self.notify,
            })
            .collect())
    }
}

impl Component for Picker {
    fn contexts(&self) -> Vec<Context> {
        vec![Context::Picker]
    }

    fn on_action(&mut self, action: Action, _env: &Env, out: &mut Out) -> Handled {
        match action {
            Action::Back if !self.back() => out.push(Effect::Close),
            Action::Up => self.cursor.up(),
            Action::Down => self.down(),
            Action::PageUp => self.cursor.page_up(),
            Action::PageDown => {
                let len = self.rows_len();
                self.cursor.page_down(len);
            }
            Action::Mark => {
                if self.mark(out) {
                    self.search_seq += 1;
                    out.run(Cmd::SearchAfterPause(self.search_seq));
                }
                return Handled::Consumed;
            }
            Action::ToggleNotify => self.notify = !self.notify,
            Action::Quit => return Handled::NotConsumed,
            Action::Submit | Action::Open => match self.submit(IMPORT_LIMIT) {
                Ok(cmds) => {
                    if cmds.iter().any(|c| matches!(c, Cmd::Import { .. })) {
                        out.push(Effect::Close);
                        out.push(Effect::Focus(PaneId::Groups));
                    }
                    out.run_all(cmds);
                }
                Err(message) => out.toast(Level::Error, message),
            },
            _ => {}
        }
        if action.is_navigation() {
            self.in_list = true;
        }
        Handled::Consumed
    }

    fn on_key(&mut self, key: KeyEvent, _env: &Env, out: &mut Out) -> Handled {
        if self.edit(key, out) {
            self.search_seq += 1;
            out.run(Cmd::SearchAfterPause(self.search_seq));
        }
        Handled::Consumed
    }

    fn typing(&self) -> bool {
        true
    }

    fn done(&mut self, done: Done, _env: &Env, _out: &mut Out) -> Option<Done> {
        match done {
            Done::Available {
                instance,
                search,
                result,
            } => self.loaded(&instance, search.as_deref(), result),
            ranked @ Done::Ranked(_) => return self.ranking.take(ranked, &mut self.cursor),
            other => return Some(other),
        }
        None
    }

    fn draw(&self, f: &mut Frame, area: Rect, _focused: bool, env: &Env) {
        draw(self, f, area, env)
    }
}

fn draw(p: &Picker, f: &mut Frame, area: Rect, env: &Env) {
    let theme = &env.theme;
    let area = centered(
        area,
        area.width.saturating_sub(4).max(60),
        area.height.saturating_sub(2).max(12),
    );
    f.render_widget(Clear, area);
    let title = match &p.instance {
        Some(chosen) => {
            let label = p
                .instances
                .iter()
                .find(|(a, n)| reference(*a, n) == *chosen)
                .map_or_else(|| safe(chosen).into_owned(), |(a, n)| instance_label(*a, n));
            format!(
                "Import groups from {label} — imported {}/{}",
                p.imported_total,
                crate::store::IMPORT_LIMIT
            )
        }
        None => "Import groups: choose a connected instance".to_owned(),
    };
    let block = pane_block(&title, true, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [search, status, list, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let height = list.height as usize;
    if p.instance.is_none() {
        let range = p.cursor.window(p.instances.len(), height);
        let lines: Vec<Line> = p.instances[range.clone()]
            .iter()
            .enumerate()
            .map(|(i, (app, name))| {
                let line = Line::from(instance_label(*app, name));
                if range.start + i == p.cursor.selected {
                    line.style(theme.selected())
                } else {
                    line
                }
            })
            .collect();
        // The keys are in the hint bar, once (issue 13).
        f.render_widget(Paragraph::new(lines), list.union(hints));
        return;
    }
    f.render_widget(
        Paragraph::new(input_line("Search: ", &p.query, search.width, theme).0),
        search,
    );
    let mut state = vec![Span::raw(format!(
        "{} of {} groups",
        p.ranked().len(),
        p.rows.len()
    ))];
    if p.loading {
        state.push(Span::styled(" · loading the first 50…", theme.dim()));
    }
    if let Some(text) = &p.searching {
        state.push(Span::styled(
            format!(" · searching the app for {:?}…", text),
            theme.dim(),
        ));
    }
    if !p.marked.is_empty() {
        state.push(Span::styled(
            format!(" · {} marked", p.marked.len()),
            theme.key(),
        ));
    }
    state.push(Span::raw(format!(
        " · notify when done: {}",
        if p.notify { "[x]" } else { "[ ]" }
    )));
    f.render_widget(Paragraph::new(Line::from(state)), status);
    if let Some(e) = &p.error {
        f.render_widget(Paragraph::new(Span::styled(e.clone(), theme.error())), list);
    } else if p.ranked().is_empty() {
        let text = if p.loading {
            "loading…"
        } else if p.searching.is_some() {
            "no match yet; asking the app…"
        } else {
            "no group matches"
        };
        f.render_widget(Paragraph::new(Span::styled(text, theme.dim())), list);
    } else {
        let range = p.cursor.window(p.ranked().len(), height);
        let lines: Vec<Line> = p.ranked()[range.clone()]
            .iter()
            .enumerate()
            .map(|(i, hit)| {
                let row = &p.rows[hit.index()];
                let selected = range.start + i == p.cursor.selected;
                let base = if selected {
                    theme.selected()
                } else if row.imported {
                    theme.dim()
                } else {
                    ratatui::style::Style::new()
                };
                let mut line = highlighted(
                    &row.name,
                    &env.fuzzy.highlights(&row.name, p.query.text()),
                    base,
                    theme.matched(),
                );
                let mark = if p.marked.contains(&row.id) {
                    "◆ "
                } else {
                    "  "
                };
                line.spans
                    .insert(0, Span::styled(mark, base.patch(theme.key())));
                if row.imported {
                    line.spans.push(Span::styled("  ✓ imported", base));
                }
                // R-G10: as many of the Office apps as the row has room for.
                let room = usize::from(list.width).saturating_sub(line.width());
                if let Some(note) = office_note(&row.also_in, room) {
                    line.spans.push(Span::styled(note, base.patch(theme.dim())));
                }
                if selected {
                    line.style(theme.selected())
                } else {
                    line
                }
            })
            .collect();
        f.render_widget(Paragraph::new(lines), list);
    }
    // What the hint bar cannot say: when Space types and when it marks.
    f.render_widget(
        Paragraph::new(Span::styled(
            "Type to search; ↑ ↓ into the list, then Space marks groups to import",
            theme.dim(),
        )),
        hints,
    );
}
