//! Drawing the access checker (R-X5): its two fields, the candidates for
//! the field with the keyboard, then the decision and the path that made it,
//! or the items a user can see.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::checker::{Checker, Field, Shown, VisibleNode};
use super::draw::{access_style, count, decision_style, message};
use super::tree::Load;
use crate::domain::external::{Access, AccessType, Decision, Reason, StepKind};
use crate::tui::format::safe;
use crate::tui::pane::Env;
use crate::tui::theme::Theme;
use crate::tui::widgets::{highlighted, input_line, pane_block};

/// Candidate rows the checker lists under its fields.
const CANDIDATES: usize = 5;

pub(super) fn draw(f: &mut Frame, area: Rect, env: &Env, c: &Checker, focused: bool) {
    let theme = &env.theme;
    let block = pane_block(
        &format!("Access check · {}", safe(&c.connection)),
        focused,
        theme,
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let shown = match c.field {
        Field::Item => c.item_hits().len(),
        Field::User => c.user_hits().len(),
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
    draw_candidates(f, candidates, env, c);
    f.render_widget(
        Paragraph::new(Span::styled(
            "─".repeat(usize::from(rule.width)),
            theme.dim(),
        )),
        rule,
    );
    let lines = match &c.answer {
        Load::Idle => vec![Line::from(Span::styled(idle_prompt(c.field), theme.dim()))],
        Load::Loading => vec![Line::from(Span::styled("checking…", theme.dim()))],
        Load::Failed(e) => vec![Line::from(Span::styled(e.clone(), theme.error()))],
        Load::Ready(Shown::Decision(a)) => {
            decision_lines(&a.decision, &a.user.name, a.item.as_str(), theme)
        }
        Load::Ready(Shown::Items { user, items }) => visible_lines(user, items, theme),
    };
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), answer);
}

/// What to type, for the field that has the keyboard: the words and the
/// keys must agree (issue 13).
pub(super) fn idle_prompt(field: Field) -> &'static str {
    match field {
        Field::Item => {
            "Type an item's id or title, Enter chooses it; Tab goes to the user field without one (then the items a user can see show here)"
        }
        Field::User => {
            "Type a user's name or e-mail: with an item chosen, the decision and its path show here; without, the items they can see"
        }
    }
}

fn draw_candidates(f: &mut Frame, area: Rect, env: &Env, c: &Checker) {
    let theme = &env.theme;
    let (hits, cursor, query, empty) = match c.field {
        Field::Item => (
            c.item_hits(),
            &c.item_cursor,
            c.item_query.text(),
            match c.items() {
                None => "loading the items…",
                Some([]) => "no items in this connection",
                Some(_) => "no item matches",
            },
        ),
        Field::User => (
            c.user_hits(),
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
                Field::Item => c.item_text(h.index()),
                Field::User => c.user_text(h.index()),
            };
            let selected = range.start + i == cursor.selected;
            let base = if selected {
                theme.selected()
            } else {
                Style::new()
            };
            let mut line = highlighted(
                text,
                &env.fuzzy.highlights(text, query),
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
