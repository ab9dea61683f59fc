//! Drawing the External groups pane: the tree, an item's ACL and who can
//! see it (the access checker draws in `checker_view`). Meaning never
//! rests on colour alone: deny is bold and says "deny", pending and cycles
//! carry their own marks.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::nodes::who_text;
use super::tree::{ItemNode, Load, Row, RowKind};
use super::{Detail, ExternalPane};
use crate::domain::external::{Access, AccessType, AclEntry, ItemId, Principal};
use crate::tui::format::safe;
use crate::tui::pane::Env;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{filter_line, highlighted, pane_block};

pub(super) fn draw(pane: &ExternalPane, f: &mut Frame, area: Rect, env: &Env, focused: bool) {
    if let Some(c) = &pane.checker {
        return super::checker_view::draw(f, area, env, c, focused);
    }
    match pane.stack.last() {
        Some(Detail::Acl { conn, item, cursor }) => {
            draw_acl(f, area, env, pane.item(conn, item), item, cursor, focused)
        }
        Some(who @ Detail::Who { .. }) => draw_who(f, area, env, who, pane.editing, focused),
        None => draw_tree(f, area, env, pane, focused),
    }
}

pub(super) fn message(f: &mut Frame, area: Rect, text: &str, style: Style) {
    f.render_widget(
        Paragraph::new(Span::styled(text.to_owned(), style)).wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_tree(f: &mut Frame, area: Rect, env: &Env, pane: &ExternalPane, focused: bool) {
    let theme = &env.theme;
    let mut title = format!(
        "External groups · {}",
        count(pane.tree.conns.len(), "connection", "connections")
    );
    if pane.tree.truncated {
        title.push_str(&format!(" · first {} rows", super::tree::MAX_ROWS));
    }
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let list = filter_line(f, inner, &pane.filter, pane.editing, theme);
    if let Some(e) = &pane.error {
        return message(f, list, e, theme.error());
    }
    if !pane.loaded {
        return message(f, list, "loading…", theme.dim());
    }
    if pane.tree.conns.is_empty() {
        return message(
            f,
            list,
            "No Graph connection yet — add one with `casbah external connections add`, then press r",
            theme.dim(),
        );
    }
    if pane.tree.rows.is_empty() {
        return message(f, list, "Nothing matches", theme.dim());
    }
    let rows = &pane.tree.rows;
    let range = pane.tree.cursor.window(rows.len(), list.height as usize);
    let lines: Vec<Line> = rows[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let selected = focused && range.start + i == pane.tree.cursor.selected;
            row_line(r, selected, env, pane.filter.text())
        })
        .collect();
    f.render_widget(Paragraph::new(lines), list);
}

fn row_line(r: &Row, selected: bool, env: &Env, filter: &str) -> Line<'static> {
    let theme = &env.theme;
    let marker = match (r.kind, r.expandable, r.expanded) {
        (RowKind::Cycle, ..) => "↻ ",
        (RowKind::Pending, ..) => "◌ ",
        (_, true, true) => "▾ ",
        (_, true, false) => "▸ ",
        _ => "  ",
    };
    let style = match r.kind {
        RowKind::Connection | RowKind::Items => theme.header(),
        RowKind::Cycle | RowKind::Pending => theme.warning(),
        RowKind::Error => theme.error(),
        RowKind::Loading => theme.dim(),
        _ => Style::new(),
    };
    let base = if selected {
        style.patch(theme.selected())
    } else {
        style
    };
    let label = safe(&r.label).into_owned();
    let mut spans = vec![Span::raw("  ".repeat(r.depth)), Span::styled(marker, base)];
    spans.extend(
        highlighted(
            &label,
            &env.fuzzy.highlights(&label, filter),
            base,
            theme.matched(),
        )
        .spans,
    );
    if !r.detail.is_empty() {
        let detail_style = if r.warn {
            theme.error()
        } else if matches!(r.kind, RowKind::Cycle | RowKind::Pending) {
            theme.warning()
        } else {
            theme.dim()
        };
        spans.push(Span::raw("  "));
        spans.push(Span::styled(safe(&r.detail).into_owned(), detail_style));
    }
    let line = Line::from(spans);
    if selected {
        line.style(theme.selected())
    } else {
        line
    }
}

pub(super) fn access_style(access: AccessType, theme: &Theme) -> Style {
    match access {
        AccessType::Grant => theme.ok(),
        AccessType::Deny => theme.error(),
    }
}

fn principal_value(p: &Principal) -> &str {
    match p {
        Principal::User(v)
        | Principal::EntraGroup(v)
        | Principal::Everyone(v)
        | Principal::EveryoneExceptGuests(v) => v,
        Principal::ExternalGroup(id) => id.as_str(),
    }
}

fn acl_line(n: usize, e: &AclEntry, item: &ItemNode, theme: &Theme) -> Line<'static> {
    let label = item
        .labels
        .get(n - 1)
        .map_or_else(|| principal_value(&e.principal), String::as_str);
    let pending = matches!(&e.principal, Principal::ExternalGroup(id) if item.pending.contains(id));
    // The service's label says who the entry names ("external group Tier 1").
    let who = if pending {
        Span::styled(format!("◌ {}", safe(label)), theme.warning())
    } else {
        Span::raw(safe(label).into_owned())
    };
    Line::from(vec![
        Span::raw(format!("{n:>3}  ")),
        Span::styled(
            format!("{:<6}", e.access.wire_name()),
            access_style(e.access, theme),
        ),
        Span::raw("  "),
        who,
    ])
}

fn draw_acl(
    f: &mut Frame,
    area: Rect,
    env: &Env,
    item: Option<&ItemNode>,
    id: &ItemId,
    cursor: &Cursor,
    focused: bool,
) {
    let theme = &env.theme;
    let Some(item) = item else {
        let block = pane_block(&format!("ACL of {}", safe(id.as_str())), focused, theme);
        let inner = block.inner(area);
        f.render_widget(block, area);
        return message(
            f,
            inner,
            "This item is not in the connection (any more); Esc goes back",
            theme.dim(),
        );
    };
    let mut title = format!(
        "ACL of {} · {} entries",
        safe(item.id.as_str()),
        item.acl.len()
    );
    if !item.pending.is_empty() {
        title.push_str(&format!(" · {} pending", item.pending.len()));
    }
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [head, list] = Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(inner);
    let title_line = match &item.title {
        Some(t) => Line::from(vec![
            Span::styled("Title  ", theme.header()),
            Span::raw(safe(t).into_owned()),
        ]),
        None => Line::from(Span::styled("(no title)", theme.dim())),
    };
    let header = Line::from(Span::styled(
        format!("{:>3}  {:<6}  {}", "#", "Access", "Who"),
        theme.header(),
    ));
    f.render_widget(Paragraph::new(vec![title_line, header]), head);
    if item.acl.is_empty() {
        return message(
            f,
            list,
            "The ACL is empty: nobody can see this item",
            theme.dim(),
        );
    }
    let range = cursor.window(item.acl.len(), list.height as usize);
    let lines: Vec<Line> = item.acl[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let n = range.start + i + 1;
            let line = acl_line(n, e, item, theme);
            if focused && n - 1 == cursor.selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), list);
}

pub(super) fn decision_style(d: Access, theme: &Theme) -> Style {
    match d {
        Access::Grant => theme.ok(),
        Access::Deny => theme.error(),
        Access::None => theme.dim(),
    }
}

fn draw_who(f: &mut Frame, area: Rect, env: &Env, who: &Detail, editing: bool, focused: bool) {
    let Detail::Who {
        item,
        audience,
        cursor,
        filter,
        visible,
        ..
    } = who
    else {
        return;
    };
    let visible = visible.hits();
    let theme = &env.theme;
    let item = safe(item.as_str()).into_owned();
    let a = match audience {
        Load::Ready(a) => a,
        other => {
            let block = pane_block(&format!("Who can see {item}"), focused, theme);
            let inner = block.inner(area);
            f.render_widget(block, area);
            return match other {
                Load::Failed(e) => message(f, inner, e, theme.error()),
                _ => message(f, inner, "loading…", theme.dim()),
            };
        }
    };
    let title = format!(
        "Who can see {item} · {} granted · {} denied",
        a.granted, a.denied
    );
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut head = Vec::new();
    if !a.pending.is_empty() {
        head.push(Line::from(Span::styled(
            format!(
                "◌ pending, not created yet: {}",
                safe(&a.pending.join(", "))
            ),
            theme.warning(),
        )));
    }
    head.extend(
        a.cycles
            .iter()
            .take(3)
            .map(|c| Line::from(Span::styled(format!("↻ {}", safe(c)), theme.warning()))),
    );
    head.extend(
        a.notes
            .iter()
            .take(3)
            .map(|n| Line::from(Span::styled(format!("note: {}", safe(n)), theme.dim()))),
    );
    head.push(Line::from(Span::styled(
        format!("{:<8}  {:<6}  {}", "Decision", "Entry", "User"),
        theme.header(),
    )));
    let [top, list] = Layout::vertical([
        Constraint::Length(u16::try_from(head.len()).unwrap_or(u16::MAX)),
        Constraint::Fill(1),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(head), top);
    let list = filter_line(f, list, filter, editing, theme);
    if a.rows.is_empty() {
        return message(
            f,
            list,
            "Nobody: no ACL entry reaches a user of the directory",
            theme.dim(),
        );
    }
    if visible.is_empty() {
        return message(f, list, "Nobody matches", theme.dim());
    }
    let range = cursor.window(visible.len(), list.height as usize);
    let lines: Vec<Line> = visible[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let r = &a.rows[h.index()];
            let text = who_text(r);
            let marks = env.fuzzy.highlights(&text, filter.text());
            // The decision keeps its colour; the rest is plain.
            let cut = 8;
            let head: String = text.chars().take(cut).collect();
            let rest: String = text.chars().skip(cut).collect();
            let (in_head, in_rest): (Vec<usize>, Vec<usize>) =
                marks.iter().partition(|m| **m < cut);
            let in_rest: Vec<usize> = in_rest.iter().map(|m| m - cut).collect();
            let mut spans = highlighted(
                &head,
                &in_head,
                decision_style(r.decision, theme),
                theme.matched(),
            )
            .spans;
            spans.extend(highlighted(&rest, &in_rest, Style::new(), theme.matched()).spans);
            let line = Line::from(spans);
            if focused && range.start + i == cursor.selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), list);
}

/// "1 connection", "3 connections".
pub(super) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
