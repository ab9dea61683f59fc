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
    let mut spans = vec![
        Span::styled("casbah ", theme.header()),
        Span::styled(safe(&env.database).into_owned(), theme.dim()),
    ];
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
    let crumbs = crumbs.join(" › ");
    let full: usize = PaneId::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| format!(" {} {} ", i + 1, p.title()).chars().count())
        .sum();
    let compact = full + 2 + crumbs.chars().count() > usize::from(area.width);
    let mut spans = Vec::new();
    for (i, pane) in PaneId::ALL.iter().enumerate() {
        let (style, text) = if *pane == focus {
            (theme.selected(), format!(" {} {} ", i + 1, pane.title()))
        } else if compact {
            (theme.dim(), format!(" {} ", i + 1))
        } else {
            (theme.dim(), format!(" {} {} ", i + 1, pane.title()))
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

/// The keys that work now: those of the contexts in effect (the focused
/// pane's own, or the dialog's), then the everyday ones.
pub fn footer(f: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme, contexts: &[Context]) {
    let mut spans = Vec::new();
    for ctx in contexts {
        if *ctx == Context::Global {
            continue;
        }
        for b in keymap.bindings(*ctx) {
            // Arrows need no hint; the room goes to what is particular here.
            if b.action.is_navigation() {
                continue;
            }
            if let Some(k) = b.keys.first() {
                spans.extend(hint(*k, &b.desc, theme));
            }
        }
    }
    if contexts.contains(&Context::Global) {
        for action in [
            Action::Filter,
            Action::NextPane,
            Action::CommandLine,
            Action::Help,
            Action::Quit,
        ] {
            if let Some(k) = keymap.key_for(&[Context::Global], action) {
                spans.extend(hint(k, action.description(), theme));
            }
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The newest toasts, bottom right, above the footer.
pub fn toasts(f: &mut Frame, body: Rect, theme: &Theme, toasts: &[Toast]) {
    for (i, t) in toasts.iter().rev().enumerate() {
        let text = format!(
            " {} {} ",
            match t.level {
                Level::Info => "·",
                Level::Warning => "!",
                Level::Error => "✗",
            },
            safe(&t.text)
        );
        let width = (text.chars().count() as u16).min(body.width);
        let Some(y) = (body.y + body.height).checked_sub(1 + i as u16) else {
            break;
        };
        if y < body.y || width == 0 {
            break;
        }
        let area = Rect {
            x: body.x + body.width - width,
            y,
            width,
            height: 1,
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
        f.render_widget(Clear, area);
        f.render_widget(Paragraph::new(Span::styled(text, style)), area);
    }
}
