//! Drawing the External groups pane: the tree, an item's ACL, who can see
//! it, and the access checker. Meaning never rests on colour alone: deny
//! is bold and says "deny", pending and cycles carry their own marks.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::checker::{Checker, Field, Shown, VisibleNode};
use super::tree::{ItemNode, Load, Row, RowKind};
use super::{Detail, ExternalPane};
use crate::domain::external::{
    Access, AccessType, AclEntry, Decision, ItemId, Principal, Reason, StepKind,
};
use crate::tui::app::App;
use crate::tui::format::safe;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{filter_line, highlighted, input_line, pane_block};

/// Candidate rows the checker lists under its fields.
const CANDIDATES: usize = 5;

pub fn draw(f: &mut Frame, area: Rect, app: &App, focused: bool) {
    let pane = &app.external;
    if let Some(c) = &pane.checker {
        return draw_checker(f, area, app, c, focused);
    }
    match pane.stack.last() {
        Some(Detail::Acl { conn, item, cursor }) => {
            draw_acl(f, area, app, pane.item(conn, item), item, cursor, focused)
        }
        Some(who @ Detail::Who { .. }) => draw_who(f, area, app, who, focused),
        None => draw_tree(f, area, app, pane, focused),
    }
}

fn message(f: &mut Frame, area: Rect, text: &str, style: Style) {
    f.render_widget(
        Paragraph::new(Span::styled(text.to_owned(), style)).wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_tree(f: &mut Frame, area: Rect, app: &App, pane: &ExternalPane, focused: bool) {
    let theme = &app.theme;
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
            row_line(r, selected, app, pane.filter.text())
        })
        .collect();
    f.render_widget(Paragraph::new(lines), list);
}

fn row_line(r: &Row, selected: bool, app: &App, filter: &str) -> Line<'static> {
    let theme = &app.theme;
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
            &app.fuzzy.highlights(&label, filter),
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

fn access_style(access: AccessType, theme: &Theme) -> Style {
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
    app: &App,
    item: Option<&ItemNode>,
    id: &ItemId,
    cursor: &Cursor,
    focused: bool,
) {
    let theme = &app.theme;
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

fn decision_style(d: Access, theme: &Theme) -> Style {
    match d {
        Access::Grant => theme.ok(),
        Access::Deny => theme.error(),
        Access::None => theme.dim(),
    }
}

fn draw_who(f: &mut Frame, area: Rect, app: &App, who: &Detail, focused: bool) {
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
    let theme = &app.theme;
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
    let list = filter_line(f, list, filter, app.external.editing, theme);
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
            let r = &a.rows[h.index];
            let name = safe(&r.name).into_owned();
            let mut spans = vec![
                Span::styled(
                    format!("{:<8}", r.decision.to_string()),
                    decision_style(r.decision, theme),
                ),
                Span::raw(format!("  #{:<5}  ", r.entry)),
            ];
            spans.extend(
                highlighted(
                    &name,
                    &app.fuzzy.highlights(&name, filter.text()),
                    Style::new(),
                    theme.matched(),
                )
                .spans,
            );
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

fn draw_checker(f: &mut Frame, area: Rect, app: &App, c: &Checker, focused: bool) {
    let theme = &app.theme;
    let block = pane_block(
        &format!("Access check · {}", safe(&c.connection)),
        focused,
        theme,
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let shown = match c.field {
        Field::Item => c.item_hits.len(),
        Field::User => c.user_hits.len(),
    }
    .clamp(1, CANDIDATES);
    let [item_line, user_line, candidates, rule, answer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(shown as u16),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    let width = inner.width;
    let item = if c.field == Field::Item {
        input_line("Item  ", &c.item_query, width, theme).0
    } else {
        Line::from(vec![
            Span::styled("Item  ", theme.key()),
            match c.chosen_item() {
                Some(t) => Span::raw(safe(t).into_owned()),
                None => Span::styled("(none yet: Tab to choose one)", theme.dim()),
            },
        ])
    };
    f.render_widget(Paragraph::new(item), item_line);
    let user = if c.field == Field::User {
        input_line("User  ", &c.user_query, width, theme).0
    } else {
        Line::from(vec![
            Span::styled("User  ", theme.key()),
            Span::raw(safe(c.user_query.text()).into_owned()),
        ])
    };
    f.render_widget(Paragraph::new(user), user_line);
    draw_candidates(f, candidates, app, c);
    f.render_widget(
        Paragraph::new(Span::styled(
            "─".repeat(usize::from(rule.width)),
            theme.dim(),
        )),
        rule,
    );
    let lines = match &c.answer {
        Load::Idle => vec![Line::from(Span::styled(
            "Type a user's name or e-mail: with an item chosen, the decision and its path show here; without, the items they can see",
            theme.dim(),
        ))],
        Load::Loading => vec![Line::from(Span::styled("checking…", theme.dim()))],
        Load::Failed(e) => vec![Line::from(Span::styled(e.clone(), theme.error()))],
        Load::Ready(Shown::Decision(a)) => {
            decision_lines(&a.decision, &a.user.name, a.item.as_str(), theme)
        }
        Load::Ready(Shown::Items { user, items }) => visible_lines(user, items, theme),
    };
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), answer);
}

fn draw_candidates(f: &mut Frame, area: Rect, app: &App, c: &Checker) {
    let theme = &app.theme;
    let (hits, cursor, query, empty) = match c.field {
        Field::Item => (
            &c.item_hits,
            &c.item_cursor,
            c.item_query.text(),
            match c.items() {
                None => "loading the items…",
                Some([]) => "no items in this connection",
                Some(_) => "no item matches",
            },
        ),
        Field::User => (
            &c.user_hits,
            &c.user_cursor,
            c.user_query.text(),
            match &c.users {
                Load::Failed(e) => return message(f, area, e, theme.error()),
                Load::Idle | Load::Loading => "loading the directory…",
                Load::Ready(_) if query_empty(c) => "",
                Load::Ready(_) => "no user matches",
            },
        ),
    };
    if hits.is_empty() {
        return message(f, area, empty, theme.dim());
    }
    let range = cursor.window(hits.len(), area.height as usize);
    let lines: Vec<Line> = hits[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let text = match c.field {
                Field::Item => c.item_text(h.index),
                Field::User => c.user_text(h.index),
            };
            let selected = range.start + i == cursor.selected;
            let base = if selected {
                theme.selected()
            } else {
                Style::new()
            };
            let mut line = highlighted(
                text,
                &app.fuzzy.highlights(text, query),
                base,
                theme.matched(),
            );
            line.spans.insert(0, Span::styled("  ", base));
            if selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), area);
}

fn query_empty(c: &Checker) -> bool {
    c.user_query.text().trim().is_empty()
}

/// R-X5: the headline, then the path as numbered steps from the ACL entry
/// down to the user, then what else the evaluation found.
fn decision_lines(d: &Decision, user: &str, item: &str, theme: &Theme) -> Vec<Line<'static>> {
    let user = safe(user).into_owned();
    let item = safe(item).into_owned();
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let (mark, sentence) = match d.decision {
        Access::Grant => ("✓ GRANT", format!("  {user} can see {item}")),
        Access::Deny => ("✗ DENY", format!("  {user} cannot see {item}")),
        Access::None => (
            "– NONE",
            format!("  no ACL entry grants or denies {user}: {item} is not visible to them"),
        ),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(mark, decision_style(d.decision, theme).patch(bold)),
            Span::raw(sentence),
        ]),
        Line::default(),
    ];
    if let Some(r) = &d.reason {
        lines.extend(path_lines(r, theme));
    }
    if let Some(o) = &d.overridden {
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled("Overridden  ", theme.header()),
            Span::styled(safe(&o.to_string()).into_owned(), theme.dim()),
        ]));
    }
    if !d.pending.is_empty() {
        let ids: Vec<&str> = d.pending.iter().map(|p| p.as_str()).collect();
        lines.push(Line::from(Span::styled(
            format!(
                "◌ pending, not created yet (they count for nothing): {}",
                safe(&ids.join(", "))
            ),
            theme.warning(),
        )));
    }
    for c in &d.cycles {
        lines.push(Line::from(Span::styled(
            format!("↻ {}", safe(&c.to_string())),
            theme.warning(),
        )));
    }
    for n in &d.notes {
        lines.push(Line::from(Span::styled(
            format!("note: {}", safe(n)),
            theme.dim(),
        )));
    }
    lines
}

/// R-X5: what a user can see, each item with the entry that grants it.
fn visible_lines(user: &str, items: &[VisibleNode], theme: &Theme) -> Vec<Line<'static>> {
    let user = safe(user).into_owned();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{user} can see {}", count(items.len(), "item", "items")),
                theme.header(),
            ),
            Span::styled("  (choose an item with Tab for the full path)", theme.dim()),
        ]),
        Line::default(),
    ];
    for v in items {
        let mut spans = vec![
            Span::styled("✓ ", theme.ok()),
            Span::raw(safe(v.item.as_str()).into_owned()),
        ];
        if let Some(t) = &v.title {
            spans.push(Span::raw(format!("  {}", safe(t))));
        }
        if let Some(r) = &v.decision.reason {
            spans.push(Span::styled(
                format!("  · ACL entry {} grants", r.entry),
                theme.dim(),
            ));
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// "ACL entry 3 denies" and the chain: 1. the entry's principal, 2. which
/// contains …, n. the user.
fn path_lines(r: &Reason, theme: &Theme) -> Vec<Line<'static>> {
    let verb = match r.access {
        AccessType::Grant => "grants",
        AccessType::Deny => "denies",
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("ACL entry {} ", r.entry), theme.header()),
        Span::styled(verb, access_style(r.access, theme)),
    ])];
    let head = r.path.first().map(|s| s.kind.clone());
    let last = r.path.len().saturating_sub(1);
    for (i, step) in r.path.iter().enumerate() {
        let text = match (i, &head) {
            (0, _) if last == 0 => format!("{step}, directly"),
            (0, _) => step.to_string(),
            (i, Some(StepKind::Everyone)) if i == last => format!("{step} included"),
            (i, Some(StepKind::EveryoneExceptGuests)) if i == last => {
                format!("{step} included (not a guest)")
            }
            (i, _) if i == last => format!("of which {step} is a member"),
            _ => format!("which contains {step}"),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:>4}. ", i + 1), theme.key()),
            Span::raw(safe(&text).into_owned()),
        ]));
    }
    lines
}

/// "1 connection", "3 connections".
pub(super) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
