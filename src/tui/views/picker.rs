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
use crate::tui::fuzzy::{Fuzzy, Hit};
use crate::tui::input::Input;
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done, Outcome};
use crate::tui::pane::{Component, Effect, Env, Handled, Out, PaneId};
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
    pub ranked: Vec<Hit>,
    pub query: Input,
    pub cursor: Cursor,
    /// The first groups have not arrived yet.
    pub loading: bool,
    /// The app's search for this text is running.
    pub searching: Option<String>,
    pub notify: bool,
    pub imported_total: usize,
    pub error: Option<String>,
    /// Each keystroke's number; only the latest one's pause searches.
    search_seq: u64,
}

impl Picker {
    pub fn new(instances: Vec<(AppKind, String)>, imported_total: usize) -> Picker {
        Picker {
            instances,
            instance: None,
            rows: Vec::new(),
            ranked: Vec::new(),
            query: Input::default(),
            cursor: Cursor::default(),
            loading: false,
            searching: None,
            notify: true,
            imported_total,
            error: None,
            search_seq: 0,
        }
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
            self.ranked.len()
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
    fn edit(&mut self, key: KeyEvent, fuzzy: &Fuzzy) -> bool {
        if self.instance.is_none() || !self.query.edit(key) {
            return false;
        }
        self.cursor.top();
        self.rerank(fuzzy);
        !self.query.text().trim().is_empty()
    }

    pub fn rerank(&mut self, fuzzy: &Fuzzy) {
        self.ranked = fuzzy.rank(self.rows.iter().map(|r| r.name.as_str()), self.query.text());
        self.cursor.clamp(self.ranked.len());
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
        fuzzy: &Fuzzy,
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
        let selected = self.selected().map(|r| r.id.clone());
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
        self.rerank(fuzzy);
        // Results arriving must not move the row the user is on.
        if let Some(pos) =
            selected.and_then(|id| self.ranked.iter().position(|h| self.rows[h.index].id == id))
        {
            self.cursor.selected = pos;
        }
    }

    pub fn selected(&self) -> Option<&PickRow> {
        self.ranked
            .get(self.cursor.selected)
            .map(|h| &self.rows[h.index])
    }

    /// Enter: choose the instance, or import the group (R-G3: refused at the limit).
    pub fn submit(&mut self, limit: usize) -> Result<Option<Cmd>, String> {
        let Some(instance) = self.instance.clone() else {
            let Some((app, name)) = self.instances.get(self.cursor.selected) else {
                return Ok(None);
            };
            let chosen = reference(*app, name);
            return Ok(Some(self.choose(chosen)));
        };
        let Some(row) = self.selected() else {
            return Ok(None);
        };
        if row.imported {
            return Err(format!("{} is already imported", row.name));
        }
        if self.imported_total >= limit {
            return Err(format!(
                "{limit} groups are imported, the most casbah keeps; remove one with `casbah groups remove` first"
            ));
        }
        Ok(Some(Cmd::Import {
            instance,
            group_id: row.id.clone(),
            name: row.name.clone(),
            notify: self.notify,
        }))
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
            Action::ToggleNotify => self.notify = !self.notify,
            Action::Quit => return Handled::NotConsumed,
            Action::Submit | Action::Open => match self.submit(IMPORT_LIMIT) {
                Ok(Some(cmd)) => {
                    if matches!(cmd, Cmd::Import { .. }) {
                        out.push(Effect::Close);
                        out.push(Effect::Focus(PaneId::Groups));
                    }
                    out.run(cmd);
                }
                Ok(None) => {}
                Err(message) => out.toast(Level::Error, message),
            },
            _ => {}
        }
        Handled::Consumed
    }

    fn on_key(&mut self, key: KeyEvent, env: &Env, out: &mut Out) -> Handled {
        if self.edit(key, &env.fuzzy) {
            self.search_seq += 1;
            out.run(Cmd::SearchAfterPause(self.search_seq));
        }
        Handled::Consumed
    }

    fn typing(&self) -> bool {
        true
    }

    fn done(&mut self, done: Done, env: &Env, _out: &mut Out) -> Option<Done> {
        match done {
            Done::Available {
                instance,
                search,
                result,
            } => self.loaded(&instance, search.as_deref(), result, &env.fuzzy),
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
        f.render_widget(Paragraph::new(lines), list);
        f.render_widget(
            Paragraph::new(Span::styled("enter choose · esc close", theme.dim())),
            hints,
        );
        return;
    }
    f.render_widget(
        Paragraph::new(input_line("Search: ", &p.query, search.width, theme).0),
        search,
    );
    let mut state = vec![Span::raw(format!(
        "{} of {} groups",
        p.ranked.len(),
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
    state.push(Span::raw(format!(
        " · notify when done: {}",
        if p.notify { "[x]" } else { "[ ]" }
    )));
    f.render_widget(Paragraph::new(Line::from(state)), status);
    if let Some(e) = &p.error {
        f.render_widget(Paragraph::new(Span::styled(e.clone(), theme.error())), list);
    } else if p.ranked.is_empty() {
        let text = if p.loading {
            "loading…"
        } else if p.searching.is_some() {
            "no match yet; asking the app…"
        } else {
            "no group matches"
        };
        f.render_widget(Paragraph::new(Span::styled(text, theme.dim())), list);
    } else {
        let range = p.cursor.window(p.ranked.len(), height);
        let lines: Vec<Line> = p.ranked[range.clone()]
            .iter()
            .enumerate()
            .map(|(i, hit)| {
                let row = &p.rows[hit.index];
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
    f.render_widget(
        Paragraph::new(Span::styled(
            "type to search · ↑↓ move · enter import · ctrl-n notify · esc close",
            theme.dim(),
        )),
        hints,
    );
}
