//! Drawing the connect dialog: the catalog, the form, or the wait for a
//! sign-in at the vendor, with the dialog's keys as the keymap binds them.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{Row, SignInCode, Stage, Wizard, short_label};
use crate::domain::{AppKind, Micros};
use crate::tui::action::Action;
use crate::tui::format::safe;
use crate::tui::keymap::Context;
use crate::tui::pane::Env;
use crate::tui::widgets::{centered, input_line, pane_block};

pub(super) fn draw(w: &Wizard, f: &mut Frame, area: Rect, env: &Env) {
    let theme = &env.theme;
    let area = centered(
        area,
        area.width.saturating_sub(4).max(60),
        area.height.saturating_sub(2).max(14),
    );
    f.render_widget(Clear, area);
    let title = match w.app {
        Some(kind) => format!("Connect {}", kind.display_name()),
        None => "Connect an app: choose from the catalog".to_owned(),
    };
    let block = pane_block(&title, true, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let vendor = w.app.map_or("the app", AppKind::display_name);
    let line = match (&w.error, &w.stage) {
        (Some(e), _) => Some(Span::styled(format!("✗ {e}"), theme.error())),
        (None, Stage::Asking) => Some(Span::styled(
            format!("asking {vendor} for a sign-in code…"),
            theme.dim(),
        )),
        (None, Stage::Checking) => Some(Span::styled("checking the credentials…", theme.dim())),
        _ => None,
    };
    // One line of text; a long one (a path, an OS error) may wrap once.
    let long = line
        .as_ref()
        .is_some_and(|l| l.width() > usize::from(inner.width));
    let [body, status, hints] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(if long { 2 } else { 1 }),
        Constraint::Length(1),
    ])
    .areas(inner);
    if let Some(line) = line {
        f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), status);
    }
    f.render_widget(Paragraph::new(hint_line(env, w)), hints);
    match (&w.stage, w.app) {
        (_, None) => draw_catalog(f, body, env, w),
        (Stage::Waiting { code, until }, Some(_)) => {
            draw_sign_in(f, body, env, code, *until, vendor)
        }
        _ => draw_form(f, body, env, w),
    }
}

/// The dialog's keys, named as the keymap binds them.
fn hint_line(env: &Env, w: &Wizard) -> Line<'static> {
    let key = |action| {
        env.keymap
            .key_for(&[Context::Wizard], action)
            .map_or_else(String::new, |k| k.to_string())
    };
    let mut hints: Vec<(String, &str)> = Vec::new();
    match (&w.stage, w.app) {
        (Stage::Editing, None) => {
            hints.push((key(Action::Submit), "choose"));
            hints.push((key(Action::Back), "close"));
        }
        (Stage::Editing, Some(_)) => {
            if w.row(w.focus) == Some(Row::Method) {
                hints.push(("←→".into(), "sign-in method"));
            }
            hints.push((key(Action::Up) + &key(Action::Down), "move"));
            let submit = if w.chosen().is_some_and(|m| m.interactive) {
                "sign in"
            } else {
                "connect"
            };
            hints.push((key(Action::Submit), submit));
            hints.push((key(Action::Back), "back"));
        }
        (Stage::Asking | Stage::Waiting { .. }, _) => hints.push((key(Action::Back), "cancel")),
        (Stage::Checking, _) => hints.push((key(Action::Back), "close")),
    }
    let text: Vec<String> = hints.iter().map(|(k, d)| format!("{k} {d}")).collect();
    Line::from(Span::styled(text.join(" · "), env.theme.dim()))
}

fn draw_catalog(f: &mut Frame, body: Rect, env: &Env, w: &Wizard) {
    let theme = &env.theme;
    let range = w.cursor.window(AppKind::ALL.len(), body.height as usize);
    let lines: Vec<Line> = AppKind::by_display_name()[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let info = kind.info();
            let note = if info.connector {
                ""
            } else {
                "  (no connector yet)"
            };
            let line = Line::from(vec![
                Span::raw(format!("{:<26}", info.name)),
                Span::styled(note, theme.dim()),
            ]);
            if range.start + i == w.cursor.selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), body);
}

fn draw_form(f: &mut Frame, body: Rect, env: &Env, w: &Wizard) {
    let theme = &env.theme;
    let label_style = |row: usize| {
        if row == w.focus {
            theme.selected()
        } else {
            theme.header()
        }
    };
    let mut lines: Vec<Line> = Vec::new();
    if w.method_row() == 1 {
        const LABEL: &str = "Sign in with";
        let mut spans = vec![Span::styled(LABEL, label_style(0))];
        for (i, m) in w.methods().iter().enumerate() {
            let name = short_label(&m.label);
            spans.push(Span::raw("  "));
            spans.push(if i == w.method {
                let style = if w.focus == 0 {
                    theme.selected()
                } else {
                    theme.header()
                };
                Span::styled(format!("‹ {name} ›"), style)
            } else {
                Span::styled(name, theme.dim())
            });
        }
        lines.push(Line::from(spans));
        // The short name on the row, the whole label of the chosen one under it.
        if let Some(m) = w.chosen().filter(|m| short_label(&m.label) != m.label) {
            let indent = " ".repeat(LABEL.len() + 2);
            lines.push(Line::from(Span::styled(
                format!("{indent}{}", m.label),
                theme.dim(),
            )));
        }
    }
    let widest = w.fields.iter().map(|f| f.label.chars().count()).max();
    let label_width = (widest.unwrap_or(0) + 1).min(usize::from(body.width) * 3 / 5);
    let value_width = body.width.saturating_sub(label_width as u16);
    for (i, field) in w.fields.iter().enumerate() {
        let row = w.method_row() + i;
        let label = Span::styled(
            format!("{:<label_width$.label_width$}", field.label),
            label_style(row),
        );
        let (shown, note) = field.shown();
        let mut line = if row == w.focus && w.stage == Stage::Editing {
            input_line("", &shown, value_width, theme).0
        } else {
            Line::from(safe(shown.text()).into_owned())
        };
        line.spans.insert(0, label);
        if let Some(note) = note {
            line.spans.push(Span::styled(note, theme.dim()));
        }
        lines.push(line);
    }
    if !w.components.is_empty() {
        lines.push(Line::from(Span::styled(
            "Components (space toggles)",
            theme.header(),
        )));
        for (j, (c, on)) in w.components.iter().enumerate() {
            let line = Line::from(format!("{} {}", if *on { "[x]" } else { "[ ]" }, c.label()));
            lines.push(if w.method_row() + w.fields.len() + j == w.focus {
                line.style(theme.selected())
            } else {
                line
            });
        }
    }
    f.render_widget(Paragraph::new(lines), body);
}

/// The device flow's waiting screen: where to go and what to type, plainly,
/// so both can be read off or copied; the time left; a sign of life.
fn draw_sign_in(
    f: &mut Frame,
    body: Rect,
    env: &Env,
    code: &SignInCode,
    until: Micros,
    vendor: &str,
) {
    let theme = &env.theme;
    const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    // The once-a-second tick redraws; the clock picks the frame.
    let frame = SPINNER[(env.now / 1_000_000).rem_euclid(SPINNER.len() as i64) as usize];
    let left = (until - env.now).max(0) / 1_000_000;
    let lines = vec![
        Line::from(format!("Sign in to {vendor} to let casbah read it:")),
        Line::default(),
        Line::from(vec![
            Span::raw("Open "),
            Span::styled(safe(&code.verification_uri).into_owned(), theme.key()),
            Span::raw(" and enter "),
            Span::styled(safe(&code.user_code).into_owned(), theme.key()),
        ]),
        Line::default(),
        Line::from(format!("{frame} waiting for {vendor}…")),
        Line::from(Span::styled(
            format!("the code is good for {}:{:02} more", left / 60, left % 60),
            theme.dim(),
        )),
    ];
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}
