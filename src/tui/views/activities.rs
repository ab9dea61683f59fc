//! Activities pane: the live log, newest first, with the filter language of
//! the CLI (R-A2, R-A4), queries (R-A3), details (R-A1) and export.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

use crate::domain::filter::{self, Field, FilterError, Syntax, fields, lookup};
use crate::domain::{Activity, InstanceId};
use crate::service::suggested_queries;
use crate::store::ActivityCursor;
use crate::tui::app::App;
use crate::tui::format::{instance_cell, instance_column, safe, time_in, timestamp};
use crate::tui::input::Input;
use crate::tui::msg::{Cmd, Failure, Outcome};
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{input_line, keep, masked_table, pane_block};

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
    /// The queries list, when open: (name, filter, saved by the user).
    pub queries: Option<Vec<(String, String, bool)>>,
    pub queries_cursor: Cursor,
    pub saved: Vec<(String, String)>,
    /// Rows written by a running export.
    pub export: Option<u64>,
}

#[derive(Debug, Default)]
pub struct Editor {
    pub input: Input,
    /// Where the text fails to parse, checked at each keystroke.
    pub error: Option<FilterError>,
    pub completions: Vec<String>,
    pub chosen: Option<usize>,
    word_start: usize,
}

/// Values offered by completion (R-A4): groups, instances, and what the log shows.
#[derive(Debug, Default, Clone)]
pub struct KnownValues {
    pub groups: Vec<String>,
    pub instances: Vec<String>,
    pub countries: Vec<String>,
    pub types: Vec<String>,
    pub sources: Vec<String>,
}

fn key(a: &Activity) -> (InstanceId, &str) {
    (a.instance, a.id.as_str())
}

fn quote(value: &str) -> String {
    if value
        .chars()
        .any(|c| c == ' ' || c == ',' || c == '(' || c == ')' || c == '"')
    {
        format!("\"{}\"", value.replace('"', "\\\""))
    } else {
        value.to_owned()
    }
}

impl ActivitiesPane {
    pub fn reload_cmd(&self) -> Cmd {
        Cmd::LoadActivities {
            filter: self.filter.clone(),
            limit: self.rows.len().clamp(PAGE, MAX_RELOAD),
            after: None,
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
            return;
        }
        let following = self.cursor.selected == 0 && self.cursor.offset() == 0;
        let old_selected = self
            .rows
            .get(self.cursor.selected)
            .map(|a| (a.instance, a.id.clone()));
        let old_first = self.rows.first().map(|a| (a.instance, a.id.clone()));
        let rows = page.items;
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

    pub fn edit(&mut self) {
        let input = Input::new(&self.filter);
        self.editor = Some(Editor {
            error: filter::parse(input.text()).err(),
            input,
            ..Editor::default()
        });
    }

    pub fn edit_key(&mut self, key: KeyEvent) {
        if let Some(e) = &mut self.editor
            && e.input.edit(key)
        {
            e.error = filter::parse(e.input.text()).err();
            e.completions.clear();
            e.chosen = None;
        }
    }

    /// Enter in the editor: the text to apply, unless it does not parse.
    pub fn submit(&mut self) -> Option<String> {
        let editor = self.editor.as_ref()?;
        if editor.error.is_some() {
            return None;
        }
        let text = editor.input.text().trim().to_owned();
        self.editor = None;
        Some(text)
    }

    /// Tab: completes the field or value under the cursor, cycling on repeat.
    pub fn complete(&mut self, known: &KnownValues, forward: bool) {
        let Some(e) = &mut self.editor else { return };
        if e.completions.is_empty() {
            let (start, word) = e.input.current_word();
            e.completions = completions(&word, known);
            e.word_start = start;
            e.chosen = None;
        }
        let n = e.completions.len();
        if n == 0 {
            return;
        }
        let next = match (e.chosen, forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
        };
        e.chosen = Some(next);
        let with = e.completions[next].clone();
        e.input.replace_word(e.word_start, &with);
        e.error = filter::parse(e.input.text()).err();
    }

    pub fn open_detail(&mut self) {
        self.detail = self.rows.get(self.cursor.selected).cloned().map(Box::new);
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
}

/// What may replace `word`: field names, or values of the field it names.
pub fn completions(word: &str, known: &KnownValues) -> Vec<String> {
    let (neg, body) = match word.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", word),
    };
    let op = ["!=", "^=", "~=", ":"]
        .iter()
        .filter_map(|op| body.find(op).map(|at| (at, *op)))
        .min();
    let Some((at, op)) = op else {
        let lower = body.to_lowercase();
        return fields()
            .iter()
            .filter(|f| f.name.starts_with(&lower))
            .map(|f| match f.syntax {
                Syntax::Flag(_) => format!("{neg}{}", f.name),
                _ => format!("{neg}{}:", f.name),
            })
            .collect();
    };
    let name = &body[..at];
    let value_part = &body[at + op.len()..];
    let (head, partial) = match value_part.rfind([',', '(']) {
        Some(i) => value_part.split_at(i + 1),
        None => ("", value_part),
    };
    let partial = partial.trim_start_matches('"').to_lowercase();
    let values: Vec<String> = match lookup(name).map(|f| f.syntax) {
        Some(Syntax::Values { field, .. }) => match field {
            Field::Group => known.groups.clone(),
            Field::Instance => known.instances.clone(),
            Field::Country => known.countries.clone(),
            Field::Type => known.types.clone(),
            Field::Source => known.sources.clone(),
            other => other
                .fixed_values()
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        },
        _ => Vec::new(),
    };
    values
        .into_iter()
        .filter(|v| v.to_lowercase().starts_with(&partial))
        .map(|v| format!("{neg}{name}{op}{head}{}", quote(&v)))
        .collect()
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, focused: bool) {
    let pane = &app.activities;
    let theme = &app.theme;
    let mut title = format!("Activities {}", pane.rows.len());
    if pane.next.is_some() {
        title.push('+');
    }
    if pane.new_count > 0 {
        title.push_str(&format!(" · ↑ {} new", pane.new_count));
    }
    if let Some(n) = pane.export {
        title.push_str(&format!(" · exporting {n}…"));
    }
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let extra = match &pane.editor {
        Some(e) if e.error.is_some() || !e.completions.is_empty() => 1,
        _ => 0,
    };
    let [filter_area, extra_area, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(extra),
        Constraint::Fill(1),
    ])
    .areas(inner);
    draw_filter_line(f, filter_area, extra_area, app);
    if let Some(q) = &pane.queries {
        let range = pane.queries_cursor.window(q.len(), body.height as usize);
        let lines: Vec<Line> = q[range.clone()]
            .iter()
            .enumerate()
            .map(|(i, (name, text, saved))| {
                let mark = if *saved { "saved    " } else { "suggested" };
                let line = Line::from(vec![
                    Span::styled(format!("{mark} "), theme.dim()),
                    Span::raw(format!("{:<28} ", safe(name))),
                    Span::styled(safe(text).into_owned(), theme.key()),
                ]);
                if range.start + i == pane.queries_cursor.selected {
                    line.style(theme.selected())
                } else {
                    line
                }
            })
            .collect();
        f.render_widget(Paragraph::new(lines), body);
        return;
    }
    if let Some(a) = &pane.detail {
        return draw_detail(f, body, app, a);
    }
    if pane.rows.is_empty() {
        let text = if pane.loading {
            "loading…"
        } else if pane.filter.is_empty() {
            "No activities yet — they appear as the scans bring them in"
        } else {
            "No activity matches the filter"
        };
        f.render_widget(Paragraph::new(Span::styled(text, theme.dim())), body);
        return;
    }
    let w = body.width;
    let mask = [true, true, true, true, true, w >= 80];
    let height = body.height.saturating_sub(1) as usize;
    let range = pane.cursor.window(pane.rows.len(), height);
    // Narrow panes give the time's year and seconds to the app column.
    let (time_title, time_width, time_format) = if w >= 70 {
        ("Time (UTC)", 19, "%Y-%m-%d %H:%M:%S")
    } else {
        ("UTC", 11, "%m-%d %H:%M")
    };
    let wide = w >= 100;
    let places: Vec<String> = pane.rows[range.clone()]
        .iter()
        .map(|a| match app.instance(a.instance) {
            Some(i) => instance_cell(i.app, &i.name, wide),
            None => a.app.slug().to_owned(),
        })
        .collect();
    let (place_title, place_width) = instance_column(&places, wide);
    let rows: Vec<Row> = pane.rows[range.clone()]
        .iter()
        .zip(places)
        .enumerate()
        .map(|(i, (a, place))| {
            let row = Row::new(keep(
                vec![
                    Cell::from(time_in(a.time, time_format)),
                    Cell::from(place),
                    Cell::from(safe(&a.actor).into_owned()),
                    Cell::from(safe(&a.activity_type).into_owned()),
                    Cell::from(
                        a.country
                            .as_deref()
                            .map(|c| safe(c).into_owned())
                            .unwrap_or_default(),
                    ),
                    Cell::from(
                        a.ip.as_deref()
                            .map(|c| safe(c).into_owned())
                            .unwrap_or_default(),
                    ),
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
        body,
        rows,
        [time_title, place_title, "Actor", "Activity", "Ctry", "IP"],
        [
            Constraint::Length(time_width),
            Constraint::Length(place_width),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Length(4),
            Constraint::Length(15),
        ],
        &mask,
        theme,
    );
}

/// The error under the filter line: the caret under the mistake with the
/// message to its right, or to its left when the right has no room.
fn error_line(col: Option<usize>, err: &FilterError, width: usize) -> String {
    let len = err.message.chars().count();
    match col.map(|c| PROMPT.chars().count() + c) {
        Some(at) if at + 2 + len <= width => format!("{}^ {}", " ".repeat(at), err.message),
        Some(at) if at < width && len < at => {
            format!("{}{} ^", " ".repeat(at - len - 1), err.message)
        }
        _ => format!("✗ column {}: {}", err.column, err.message),
    }
}

fn draw_filter_line(f: &mut Frame, area: Rect, extra: Rect, app: &App) {
    let pane = &app.activities;
    let theme = &app.theme;
    if let Some(e) = &pane.editor {
        let (line, offset) = input_line(PROMPT, &e.input, area.width, theme);
        f.render_widget(Paragraph::new(line), area);
        if let Some(err) = &e.error {
            // The caret sits under the mistake when it is on screen.
            let at = err.column.max(1) - 1;
            let text = error_line(at.checked_sub(offset), err, usize::from(extra.width));
            f.render_widget(Paragraph::new(Span::styled(text, theme.error())), extra);
        } else if !e.completions.is_empty() {
            let spans: Vec<Span> = e
                .completions
                .iter()
                .enumerate()
                .flat_map(|(i, c)| {
                    let style = if Some(i) == e.chosen {
                        theme.selected()
                    } else {
                        theme.dim()
                    };
                    [Span::styled(safe(c).into_owned(), style), Span::raw(" ")]
                })
                .collect();
            f.render_widget(Paragraph::new(Line::from(spans)), extra);
        }
        return;
    }
    if let Some(err) = &pane.error {
        let at = err
            .column
            .map(|c| format!(" (column {c})"))
            .unwrap_or_default();
        let line = Line::from(vec![
            Span::styled(format!("✗ {}{at}", err.message), theme.error()),
            Span::styled(" — press / to fix", theme.dim()),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    let mut spans = vec![Span::styled("Filter ", theme.header())];
    if pane.chips.is_empty() {
        spans.push(Span::styled(
            "none — / to filter (group:NAME country!=US …), Q queries",
            theme.dim(),
        ));
    }
    for chip in &pane.chips {
        spans.push(Span::styled(format!(" {} ", safe(chip)), theme.chip()));
        spans.push(Span::raw(" "));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The app an activity came from; R-G10: with its Office app when it has one
/// ("Microsoft 365 · SharePoint Online").
fn app_name(a: &Activity) -> String {
    match a.office_app {
        Some(office) => format!("{} · {}", a.app.display_name(), office.display_name()),
        None => a.app.display_name().to_owned(),
    }
}

/// "DE (Germany)": the code the filters take, with the name people read.
fn country(code: Option<&str>) -> String {
    let Some(code) = code else {
        return "—".into();
    };
    match crate::domain::country::name_of(code) {
        Some(name) => format!("{} ({name})", safe(code)),
        None => safe(code).into_owned(),
    }
}

fn draw_detail(f: &mut Frame, area: Rect, app: &App, a: &Activity) {
    let theme = &app.theme;
    let opt = |v: &Option<String>| {
        v.as_deref()
            .map_or_else(|| "—".to_owned(), |s| safe(s).into_owned())
    };
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let groups: Vec<String> = a
        .groups
        .iter()
        .map(|id| {
            app.groups
                .all
                .iter()
                .find(|g| g.id == *id)
                .map_or_else(|| format!("#{}", id.0), |g| safe(&g.name).into_owned())
        })
        .collect();
    let objects: Vec<String> = a
        .objects
        .iter()
        .map(|o| format!("{} {}", o.kind.slug(), safe(&o.name)))
        .collect();
    let mut fields: Vec<(&str, String)> = vec![
        ("Id", safe(&a.id).into_owned()),
        ("Time", format!("{} UTC", timestamp(a.time))),
        ("App", app_name(a)),
        (
            "Instance",
            app.instance_label(a.instance)
                .unwrap_or_else(|| format!("#{}", a.instance.0)),
        ),
        (
            "Actor",
            format!("{} <{}>", safe(&a.actor_name), safe(&a.actor)),
        ),
        ("Activity type", safe(&a.activity_type).into_owned()),
        ("Action type", safe(&a.action_type).into_owned()),
        (
            "Objects",
            if objects.is_empty() {
                "—".into()
            } else {
                objects.join(", ")
            },
        ),
        ("Administrative", yes(a.admin)),
        ("Impersonated", yes(a.impersonated)),
        ("Succeeded", yes(a.succeeded)),
        ("IP address", opt(&a.ip)),
        ("Country", country(a.country.as_deref())),
        ("ISP", opt(&a.isp)),
        ("Device type", opt(&a.device_type)),
        ("User agent", opt(&a.user_agent)),
        ("Source", safe(&a.source).into_owned()),
        (
            "Groups",
            if groups.is_empty() {
                "—".into()
            } else {
                groups.join(", ")
            },
        ),
    ];
    // Only where a vendor wrote something other than an address there.
    if let Some(text) = &a.address_text {
        let at = fields
            .iter()
            .position(|(k, _)| *k == "IP address")
            .map_or(fields.len(), |i| i + 1);
        fields.insert(at, ("Not an IP", safe(text).into_owned()));
    }
    let lines: Vec<Line> = fields
        .into_iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:<15}"), theme.header()),
                Span::raw(v),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownValues {
        KnownValues {
            groups: vec!["Finance EMEA".into(), "Sales".into()],
            countries: vec!["DE".into(), "US".into()],
            ..KnownValues::default()
        }
    }

    // R-A4: the error points at the column of the mistake, from whichever side has room.
    #[test]
    fn error_caret_sits_under_the_column() {
        let err = FilterError {
            column: 3,
            message: "bad".into(),
        };
        assert_eq!(
            error_line(Some(2), &err, 40),
            format!("{}^ bad", " ".repeat(10))
        );
        assert_eq!(
            error_line(Some(30), &err, 40),
            format!("{}bad ^", " ".repeat(34))
        );
        assert_eq!(error_line(None, &err, 40), "✗ column 3: bad");
    }

    // R-A4: completion of field names and of known values, quoted when needed.
    #[test]
    fn completes_fields_then_values() {
        let k = known();
        assert_eq!(completions("cou", &k), ["country:"]);
        assert!(
            completions("ad", &k).contains(&"admin".to_owned()),
            "flags complete bare"
        );
        assert_eq!(completions("group:fin", &k), ["group:\"Finance EMEA\""]);
        assert_eq!(completions("-country!=u", &k), ["-country!=US"]);
        assert_eq!(completions("country:(DE,u", &k), ["country:(DE,US"]);
        assert!(completions("action:dow", &k).contains(&"action:download".to_owned()));
    }

    // R-G10: the Office apps of Microsoft 365 complete after `app:`.
    #[test]
    fn completes_office_apps() {
        let k = known();
        assert_eq!(completions("app:share", &k), ["app:sharepoint"]);
        assert_eq!(completions("-app:tea", &k), ["-app:teams"]);
        assert!(completions("app:", &k).contains(&"app:onedrive".to_owned()));
    }
}
