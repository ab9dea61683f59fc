//! Header, tab line with breadcrumbs, footer hints and toasts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::domain::Micros;
use crate::service::Level;
use crate::tui::action::Action;
use crate::tui::format::{clock, safe};
use crate::tui::keymap::{Context, Key, Keymap};
use crate::tui::pane::{Env, PaneId};
use crate::tui::theme::Theme;
use crate::tui::views::connectors::{health, health_span};

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub level: Level,
    pub text: String,
    pub until: Micros,
}

pub fn header(f: &mut Frame, area: Rect, env: &Env) {
    let theme = &env.theme;
    let mut spans = vec![Span::styled("casbah ", theme.header())];
    // Issue 12: first, so that no width of terminal or list of instances hides it.
    let waiting = env.alerts.open;
    if waiting > 0 {
        let noun = if waiting == 1 { "alert" } else { "alerts" };
        spans.push(Span::styled(format!("⚑ {waiting} {noun}"), theme.error()));
        spans.push(Span::raw(" │ "));
    }
    spans.push(Span::styled(safe(&env.database).into_owned(), theme.dim()));
    for s in &env.instances {
        spans.push(Span::raw(" │ "));
        spans.push(Span::raw(format!("{} ", safe(&s.instance.name))));
        spans.push(health_span(health(s), theme));
    }
    if !env.jobs.is_empty() {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(
            format!("⟳ syncing {}", env.jobs.len()),
            theme.warning(),
        ));
    }
    spans.push(Span::raw(format!(
        " │ groups {}/{}",
        env.imported_count(),
        crate::store::IMPORT_LIMIT
    )));
    spans.push(Span::raw(format!(" │ {}", clock(env.now))));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Pane tabs with their digit, then the drill-down path. When both do not
/// fit, the other panes' tabs shrink to their digit: the path matters more.
pub fn tabs(f: &mut Frame, area: Rect, theme: &Theme, focus: PaneId, crumbs: &[String]) {
    // A path that is only the pane's own name says what its tab already does.
    let crumbs = match crumbs {
        [only] if only == focus.tab() => String::new(),
        _ => crumbs.join(" › "),
    };
    let full: usize = PaneId::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| format!(" {} {} ", i + 1, p.tab()).chars().count())
        .sum();
    let compact = full + 2 + crumbs.chars().count() > usize::from(area.width);
    let mut spans = Vec::new();
    for (i, pane) in PaneId::ALL.iter().enumerate() {
        let (style, text) = if *pane == focus {
            (theme.selected(), format!(" {} {} ", i + 1, pane.tab()))
        } else if compact {
            (theme.dim(), format!(" {} ", i + 1))
        } else {
            (theme.dim(), format!(" {} {} ", i + 1, pane.tab()))
        };
        spans.push(Span::styled(text, style));
    }
    spans.push(Span::raw("  "));
    spans.push(Span::styled(crumbs, theme.header()));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn hint(key: Key, desc: &str, theme: &Theme) -> [Span<'static>; 2] {
    [
        Span::styled(key.to_string(), theme.key()),
        Span::styled(format!(" {desc}  "), theme.dim()),
    ]
}

/// The hints for `contexts`, each key once: the pane's or dialog's own,
/// then the everyday ones, then sorting and cancelling; help and quit last,
/// and always kept (issue 13).
pub fn hints(keymap: &Keymap, contexts: &[Context], width: u16) -> Vec<(Key, String)> {
    const KEPT: [Action; 2] = [Action::Help, Action::Quit];
    const LATER: [Action; 3] = [Action::Sort, Action::SortReverse, Action::Cancel];
    let mut hints: Vec<(Key, String)> = Vec::new();
    let mut later: Vec<(Key, String)> = Vec::new();
    let push = |hints: &mut Vec<(Key, String)>, key: Key, desc: &str| {
        if !hints.iter().any(|(k, _)| *k == key) {
            hints.push((key, desc.to_owned()));
        }
    };
    for ctx in contexts.iter().filter(|c| **c != Context::Global) {
        for b in keymap.bindings(*ctx) {
            // Arrows need no hint; the room goes to what is particular here.
            if b.action.is_navigation() || KEPT.contains(&b.action) {
                continue;
            }
            if let Some(k) = b.keys.first() {
                let list = if LATER.contains(&b.action) {
                    &mut later
                } else {
                    &mut hints
                };
                push(list, *k, &b.desc);
            }
        }
    }
    if contexts.contains(&Context::Global) {
        for action in [Action::Filter, Action::NextPane, Action::CommandLine] {
            if let Some(k) = keymap.key_for(&[Context::Global], action) {
                push(&mut hints, k, action.description());
            }
        }
    }
    for (k, d) in later {
        push(&mut hints, k, &d);
    }
    let mut tail = Vec::new();
    for action in KEPT {
        if let Some(k) = keymap.key_for(contexts, action) {
            hints.retain(|(h, _)| *h != k);
            push(&mut tail, k, action.description());
        }
    }
    let cost = |(k, d): &(Key, String)| k.to_string().chars().count() + d.chars().count() + 3;
    let mut room = usize::from(width).saturating_sub(tail.iter().map(cost).sum());
    // In order, skipping what does not fit, so a short hint after a long one still shows.
    hints.retain(|h| {
        let fits = cost(h) <= room;
        if fits {
            room -= cost(h);
        }
        fits
    });
    hints.extend(tail);
    hints
}

/// The keys that work now (see `hints`).
pub fn footer(f: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme, contexts: &[Context]) {
    let spans: Vec<Span> = hints(keymap, contexts, area.width)
        .iter()
        .flat_map(|(k, d)| hint(*k, d, theme))
        .collect();
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The newest toasts, bottom right, above the footer; one longer than the
/// screen is wide wraps onto more lines rather than lose its end (issue 13).
pub fn toasts(f: &mut Frame, body: Rect, theme: &Theme, toasts: &[Toast]) {
    let mut bottom = body.y + body.height;
    for t in toasts.iter().rev() {
        let text = format!(
            " {} {} ",
            match t.level {
                Level::Info => "·",
                Level::Warning => "!",
                Level::Error => "✗",
            },
            safe(&t.text)
        );
        let len = text.chars().count();
        let width = (len as u16).min(body.width);
        if width == 0 {
            break;
        }
        let height = u16::try_from(len.div_ceil(usize::from(width))).unwrap_or(u16::MAX);
        let Some(y) = bottom.checked_sub(height).filter(|y| *y >= body.y) else {
            break;
        };
        bottom = y;
        let area = Rect {
            x: body.x + body.width - width,
            y,
            width,
            height,
        };
        let style = match t.level {
            Level::Info => theme.selected(),
            Level::Warning => theme
                .warning()
                .add_modifier(ratatui::style::Modifier::REVERSED),
            Level::Error => theme
                .error()
                .add_modifier(ratatui::style::Modifier::REVERSED),
        };
        let lines: Vec<Line> = text
            .chars()
            .collect::<Vec<char>>()
            .chunks(usize::from(width))
            .map(|c| Line::from(c.iter().collect::<String>()))
            .collect();
        f.render_widget(Clear, area);
        f.render_widget(Paragraph::new(lines).style(style), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // issue 13: help and quit stay however narrow, and no key is hinted twice.
    #[test]
    fn help_and_quit_always_stay_and_nothing_repeats() {
        let keymap = Keymap::defaults();
        let ctx = [Context::Activities, Context::Global];
        for width in [20, 40, 80, 200] {
            let keys: Vec<String> = hints(&keymap, &ctx, width)
                .iter()
                .map(|(k, _)| k.to_string())
                .collect();
            assert_eq!(&keys[keys.len() - 2..], ["?", "q"], "at {width}: {keys:?}");
            let mut unique = keys.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), keys.len(), "at {width}: {keys:?}");
        }
        let wide: Vec<String> = hints(&keymap, &ctx, 200)
            .iter()
            .map(|(k, _)| k.to_string())
            .collect();
        assert!(
            wide.contains(&"/".to_owned()) && wide.contains(&"w".to_owned()),
            "{wide:?}"
        );
    }
}
