//! Drawing the Activities pane: the filter line with its chips, errors and
//! completions, then the log, the queries list or one activity's details.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use super::{ActivitiesPane, Column, PROMPT, timeline};
use crate::domain::Activity;
use crate::domain::filter::FilterError;
use crate::tui::format::{instance_column, safe, time_in, timestamp};
use crate::tui::pane::Env;
use crate::tui::widgets::{choices, input_line, keep, masked_table, pane_block};

pub(super) fn draw(pane: &ActivitiesPane, f: &mut Frame, area: Rect, env: &Env, focused: bool) {
    let theme = &env.theme;
    let mut title = format!("Activities {}", pane.rows.len());
    if pane.next.is_some() {
        title.push('+');
    }
    if pane.new_count > 0 {
        title.push_str(&format!(" · ↑ {} new", pane.new_count));
    }
    if let Some(at) = pane.anchor {
        title.push_str(&format!(" · from {}", time_in(at, "%Y-%m-%d %H:%M")));
    }
    if let Some(n) = pane.export {
        title.push_str(&format!(" · exporting {n}… (x cancels)"));
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
    draw_filter_line(pane, f, filter_area, extra_area, env);
    if let Some(q) = &pane.queries {
        let body = match pane.query_prompt() {
            Some((prompt, input)) => {
                let [list, line] =
                    Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(body);
                let text = match input {
                    Some(input) => input_line(&safe(&prompt), input, line.width, theme).0,
                    None => Line::from(Span::styled(safe(&prompt).into_owned(), theme.warning())),
                };
                f.render_widget(Paragraph::new(text), line);
                list
            }
            None => body,
        };
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
        return draw_detail(pane, f, body, env, a);
    }
    // A short pane gives every line to the list.
    let body = if inner.height >= timeline::MIN_PANE_HEIGHT {
        let [chart, rest] =
            Layout::vertical([Constraint::Length(timeline::HEIGHT), Constraint::Fill(1)])
                .areas(body);
        let selected = pane.rows.get(pane.cursor.selected).map(|a| a.time);
        pane.timeline.draw(f, chart, env, selected);
        rest
    } else {
        body
    };
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
        .map(|a| env.instance_cell(a.app, a.instance, wide))
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
                    Cell::from(safe(&a.label()).into_owned()),
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
    let names = [time_title, place_title, "Actor", "Activity", "Ctry", "IP"];
    let titles: [String; 6] =
        std::array::from_fn(|i| format!("{}{}", names[i], pane.sort.mark(Column::ALL[i])));
    pane.cursor.place(body.y + 1);
    masked_table(
        f,
        body,
        rows,
        titles.each_ref().map(String::as_str),
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

fn draw_filter_line(pane: &ActivitiesPane, f: &mut Frame, area: Rect, extra: Rect, env: &Env) {
    let theme = &env.theme;
    if let Some(e) = &pane.editor {
        let (line, offset) = input_line(PROMPT, &e.input, area.width, theme);
        f.render_widget(Paragraph::new(line), area);
        if let Some(err) = &e.error {
            // The caret sits under the mistake when it is on screen.
            let at = err.column.max(1) - 1;
            let text = error_line(at.checked_sub(offset), err, usize::from(extra.width));
            f.render_widget(Paragraph::new(Span::styled(text, theme.error())), extra);
        } else if !e.completions.is_empty() {
            let spans = choices(&e.completions, e.chosen, usize::from(extra.width), theme);
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

/// The label in the dashboard's one vocabulary, with the vendor's own name
/// beside it when that differs ("File accessed (FileAccessed)"), which is
/// what `type:` and the vendor's documentation know it by.
fn activity_type(a: &Activity) -> String {
    let label = a.label();
    if label == a.activity_type {
        safe(&label).into_owned()
    } else {
        format!("{} ({})", safe(&label), safe(&a.activity_type))
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

fn draw_detail(pane: &ActivitiesPane, f: &mut Frame, area: Rect, env: &Env, a: &Activity) {
    let theme = &env.theme;
    let opt = |v: &Option<String>| {
        v.as_deref()
            .map_or_else(|| "—".to_owned(), |s| safe(s).into_owned())
    };
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let groups: Vec<String> = a
        .groups
        .iter()
        .map(|id| {
            env.group(*id)
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
        ("Instance", env.instance_cell(a.app, a.instance, true)),
        (
            "Actor",
            format!("{} <{}>", safe(&a.actor_name), safe(&a.actor)),
        ),
        ("Activity type", activity_type(a)),
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
    // Wrapped here, not by the paragraph, so that every line can be
    // scrolled to and counted for the position shown.
    let room = usize::from(area.width).saturating_sub(LABEL).max(8);
    let mut lines: Vec<Line> = Vec::new();
    for (k, v) in fields {
        let chars: Vec<char> = v.chars().collect();
        for (i, part) in chars.chunks(room).enumerate() {
            let label = if i == 0 {
                format!("{k:<LABEL$}")
            } else {
                " ".repeat(LABEL)
            };
            lines.push(Line::from(vec![
                Span::styled(label, theme.header()),
                Span::raw(part.iter().collect::<String>()),
            ]));
        }
    }
    let cursor = &pane.detail_cursor;
    pane.detail_len.set(lines.len());
    let overflows = lines.len() > usize::from(area.height);
    let [text, position] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(u16::from(overflows)),
    ])
    .areas(area);
    let range = cursor.window(lines.len(), usize::from(text.height));
    let shown: Vec<Line> = lines
        .into_iter()
        .enumerate()
        .skip(range.start)
        .take(range.len())
        .map(|(i, l)| {
            if i == cursor.selected {
                l.style(theme.selected())
            } else {
                l
            }
        })
        .collect();
    f.render_widget(Paragraph::new(shown), text);
    let at = format!("{}/{} ↑↓", cursor.selected + 1, pane.detail_len.get());
    f.render_widget(
        Paragraph::new(Span::styled(at, theme.dim())).alignment(ratatui::layout::Alignment::Right),
        position,
    );
}

/// The width of a field's name in the details.
const LABEL: usize = 15;

#[cfg(test)]
mod tests {
    use super::*;

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
}
