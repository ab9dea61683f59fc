//! Header, tab line with breadcrumbs, footer hints, toasts and the command line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::service::Level;
use crate::tui::action::Action;
use crate::tui::app::{App, Overlay, Pane};
use crate::tui::format::{clock, safe};
use crate::tui::keymap::{Context, Key};
use crate::tui::views::connectors::{health, health_span};
use crate::tui::widgets::input_line;

pub fn header(f: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let mut spans = vec![
        Span::styled("casbah ", theme.header()),
        Span::styled(safe(&app.database).into_owned(), theme.dim()),
    ];
    for s in &app.connectors.rows {
        spans.push(Span::raw(" │ "));
        spans.push(Span::raw(format!("{} ", safe(&s.instance.name))));
        spans.push(health_span(health(s), theme));
    }
    if !app.jobs.is_empty() {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(
            format!("⟳ syncing {}", app.jobs.len()),
            theme.warning(),
        ));
    }
    spans.push(Span::raw(format!(
        " │ groups {}/{}",
        app.imported_count(),
        crate::store::IMPORT_LIMIT
    )));
    spans.push(Span::raw(format!(" │ {}", clock(app.now))));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Pane tabs with their digit, then the drill-down path. When both do not
/// fit, the other panes' tabs shrink to their digit: the path matters more.
pub fn tabs(f: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let crumbs = app.breadcrumbs().join(" › ");
    let full: usize = Pane::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| format!(" {} {} ", i + 1, p.title()).chars().count())
        .sum();
    let compact = full + 2 + crumbs.chars().count() > usize::from(area.width);
    let mut spans = Vec::new();
    for (i, pane) in Pane::ALL.iter().enumerate() {
        let (style, text) = if *pane == app.focus {
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

fn hint(key: Key, desc: &str, app: &App) -> [Span<'static>; 2] {
    [
        Span::styled(key.to_string(), app.theme.key()),
        Span::styled(format!(" {desc}  "), app.theme.dim()),
    ]
}

/// The keys that work now: the focused pane's own, then the everyday ones.
pub fn footer(f: &mut Frame, area: Rect, app: &App) {
    if let Overlay::Command {
        input,
        completions,
        chosen,
    } = &app.overlay
    {
        let mut spans = input_line(":", input, area.width, &app.theme).0.spans;
        if !completions.is_empty() {
            spans.push(Span::raw("   "));
            for (i, c) in completions.iter().enumerate() {
                let style = if Some(i) == *chosen {
                    app.theme.selected()
                } else {
                    app.theme.dim()
                };
                spans.push(Span::styled(safe(c).into_owned(), style));
                spans.push(Span::raw(" "));
            }
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    if let Overlay::SaveQuery { input } = &app.overlay {
        let line = input_line("Save filter as: ", input, area.width, &app.theme).0;
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    let contexts = app.contexts();
    let mut spans = Vec::new();
    for ctx in &contexts {
        if *ctx == Context::Global {
            continue;
        }
        for b in app.keymap.bindings(*ctx) {
            // Arrows need no hint; the room goes to what is particular here.
            if matches!(
                b.action,
                Action::Up
                    | Action::Down
                    | Action::PageUp
                    | Action::PageDown
                    | Action::Top
                    | Action::Bottom
            ) {
                continue;
            }
            if let Some(k) = b.keys.first() {
                spans.extend(hint(*k, &b.desc, app));
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
            if let Some(k) = app.keymap.key_for(&[Context::Global], action) {
                spans.extend(hint(k, action.description(), app));
            }
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The newest toasts, bottom right, above the footer.
pub fn toasts(f: &mut Frame, body: Rect, app: &App) {
    let theme = &app.theme;
    for (i, t) in app.toasts.iter().rev().enumerate() {
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
