//! Pieces drawn by more than one view.

pub mod chrome;
pub mod help;
pub mod list;
pub mod sort;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use super::input::Input;
use super::theme::Theme;

/// A bar `width` cells wide, filled to `ratio`, and the percentage:
/// "██████░░░░ 60%".
pub fn meter(ratio: f64, width: usize) -> String {
    let filled = ((ratio.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!(
        "{}{} {:.0}%",
        "█".repeat(filled),
        "░".repeat(width - filled),
        ratio.clamp(0.0, 1.0) * 100.0
    )
}

/// A pane's frame; the focused pane's title and border stand out without
/// relying on colour (underlined title).
pub fn pane_block<'a>(title: &str, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(format!(" {title} "), theme.title(focused)))
}

/// `text` with the characters at `chars` (character positions) highlighted.
pub fn highlighted<'a>(text: &str, chars: &[usize], base: Style, hit: Style) -> Line<'a> {
    if chars.is_empty() {
        return Line::from(Span::styled(text.to_owned(), base));
    }
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_hit = false;
    let mut next = chars.iter().peekable();
    for (i, c) in text.chars().enumerate() {
        let is_hit = next.peek().is_some_and(|n| **n == i);
        if is_hit {
            next.next();
        }
        if is_hit != run_hit && !run.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                if run_hit { base.patch(hit) } else { base },
            ));
        }
        run_hit = is_hit;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(
            run,
            if run_hit { base.patch(hit) } else { base },
        ));
    }
    Line::from(spans)
}

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Keeps the columns whose flag is set: a narrow pane drops its less
/// important columns rather than squeezing all of them.
pub fn keep<T>(items: impl IntoIterator<Item = T>, mask: &[bool]) -> Vec<T> {
    items
        .into_iter()
        .zip(mask)
        .filter(|(_, k)| **k)
        .map(|(t, _)| t)
        .collect()
}

/// A table of the columns `mask` keeps (see `keep`), under a header row,
/// one space between columns.
pub fn masked_table<const N: usize>(
    f: &mut ratatui::Frame,
    area: Rect,
    rows: Vec<ratatui::widgets::Row<'_>>,
    titles: [&str; N],
    widths: [ratatui::layout::Constraint; N],
    mask: &[bool; N],
    theme: &Theme,
) {
    use ratatui::widgets::{Row, Table};
    let header = Row::new(keep(titles, mask)).style(theme.header());
    f.render_widget(
        Table::new(rows, keep(widths, mask))
            .header(header)
            .column_spacing(1),
        area,
    );
}

/// The columns of a list pane: the rows the cursor's window shows, each made by
/// `cells`, the selected one highlighted while the pane has the focus, under a header
/// row; only the columns `mask` keeps.
pub struct Columns<'a, const N: usize> {
    pub titles: [&'a str; N],
    pub widths: [ratatui::layout::Constraint; N],
    pub mask: [bool; N],
}

pub fn cursor_table<'r, T, const N: usize>(
    f: &mut ratatui::Frame,
    area: Rect,
    rows: &'r [T],
    (cursor, focused): (&list::Cursor, bool),
    columns: Columns<'_, N>,
    cells: impl Fn(&'r T) -> [ratatui::widgets::Cell<'r>; N],
    theme: &Theme,
) {
    let height = area.height.saturating_sub(1) as usize;
    let range = cursor.window(rows.len(), height);
    let lines: Vec<ratatui::widgets::Row> = rows[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let row = ratatui::widgets::Row::new(keep(cells(r), &columns.mask));
            if focused && range.start + i == cursor.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    cursor.place(area.y + 1);
    masked_table(
        f,
        area,
        lines,
        columns.titles,
        columns.widths,
        &columns.mask,
        theme,
    );
}

/// Completions on one line of `width`, the chosen one reverse video; where
/// they do not all fit, the line starts late enough for the chosen one to
/// show, with `…` for what is left out on either side (issue 13).
pub fn choices<'a>(
    items: &[String],
    chosen: Option<usize>,
    width: usize,
    theme: &Theme,
) -> Vec<Span<'a>> {
    use unicode_width::UnicodeWidthStr;
    let texts: Vec<String> = items
        .iter()
        .map(|c| crate::tui::format::safe(c).into_owned())
        .collect();
    let cost = |t: &String| t.width() + 1;
    let mut first = 0;
    let upto = chosen.unwrap_or(0).min(texts.len().saturating_sub(1));
    // Leave room for the `…` marks.
    while first < upto && texts[first..=upto].iter().map(cost).sum::<usize>() + 4 > width {
        first += 1;
    }
    let mut spans = Vec::new();
    if first > 0 {
        spans.push(Span::styled("… ", theme.dim()));
    }
    let mut used = if first > 0 { 2 } else { 0 };
    for (i, t) in texts.iter().enumerate().skip(first) {
        if used + cost(t) > width && i > upto {
            spans.push(Span::styled("…", theme.dim()));
            break;
        }
        used += cost(t);
        let style = if Some(i) == chosen {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(t.clone(), style));
        spans.push(Span::raw(" "));
    }
    spans
}

/// A text field on one line: `prefix`, then the text scrolled so the cursor
/// stays visible, the cursor shown in reverse video. Returns the line and
/// how many characters were scrolled off the left.
pub fn input_line(
    prefix: &str,
    input: &Input,
    width: u16,
    theme: &Theme,
) -> (Line<'static>, usize) {
    let room = usize::from(width)
        .saturating_sub(prefix.chars().count() + 1)
        .max(1);
    let chars: Vec<char> = input.text().chars().collect();
    let offset = (input.cursor() + 1).saturating_sub(room);
    let visible: String = chars.iter().skip(offset).take(room).collect();
    let cursor = input.cursor() - offset;
    let before: String = visible.chars().take(cursor).collect();
    let at: String = visible
        .chars()
        .nth(cursor)
        .map_or_else(|| " ".to_owned(), String::from);
    let after: String = visible.chars().skip(cursor + 1).collect();
    let line = Line::from(vec![
        Span::styled(prefix.to_owned(), theme.key()),
        Span::raw(super::format::safe(&before).into_owned()),
        Span::styled(super::format::safe(&at).into_owned(), theme.selected()),
        Span::raw(super::format::safe(&after).into_owned()),
    ]);
    (line, offset)
}

/// The `/` filter line of a list pane, shown while editing or while a filter
/// is set; returns the area left for the list below it.
pub fn filter_line(
    f: &mut ratatui::Frame,
    area: Rect,
    filter: &Input,
    editing: bool,
    theme: &Theme,
) -> Rect {
    let shown = editing || !filter.text().is_empty();
    let [line_area, rest] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(u16::from(shown)),
        ratatui::layout::Constraint::Fill(1),
    ])
    .areas(area);
    if shown {
        let line = if editing {
            input_line("/", filter, line_area.width, theme).0
        } else {
            Line::from(vec![
                Span::styled("/", theme.key()),
                Span::raw(filter.text().to_owned()),
            ])
        };
        f.render_widget(ratatui::widgets::Paragraph::new(line), line_area);
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(spans: &[Span]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    // issue 13: a long list of completions keeps the chosen one in view.
    #[test]
    fn the_chosen_completion_stays_in_view() {
        let theme = Theme::plain();
        let items: Vec<String> = (0..20).map(|i| format!("command{i:02}")).collect();
        let start = text(&choices(&items, Some(0), 40, &theme));
        assert!(
            start.starts_with("command00 ") && start.ends_with('…'),
            "{start}"
        );
        let late = text(&choices(&items, Some(17), 40, &theme));
        assert!(
            late.starts_with("… ") && late.contains("command17"),
            "{late}"
        );
        assert!(late.chars().count() <= 40, "{late}");
        assert_eq!(
            text(&choices(&items[..2], None, 40, &theme)),
            "command00 command01 "
        );
    }
}
