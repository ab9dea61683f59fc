//! `?`: every key of every context, from the keymap with its description.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{centered, pane_block};
use crate::tui::keymap::{Context, Keymap};
use crate::tui::theme::Theme;

pub fn lines(keymap: &Keymap, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for ctx in Context::ALL {
        lines.push(Line::from(Span::styled(ctx.title(), theme.header())));
        for b in keymap.bindings(ctx) {
            let keys: Vec<String> = b.keys.iter().map(ToString::to_string).collect();
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<18}", keys.join(" ")), theme.key()),
                Span::raw(b.desc.clone()),
            ]));
        }
    }
    lines.push(Line::from(Span::styled("Commands (:)", theme.header())));
    lines.push(Line::from("  connectors · groups · members GROUP · activities FILTER · import · sync [INSTANCE] · queries · external [CONNECTION] · access-check · quit"));
    lines
}

pub fn draw(f: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme, scroll: usize) {
    let area = centered(area, 76, area.height.saturating_sub(2));
    f.render_widget(Clear, area);
    let block = pane_block("Keys — any key closes, ↑↓ scroll", true, theme);
    let scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
    f.render_widget(
        Paragraph::new(lines(keymap, theme))
            .block(block)
            .scroll((scroll, 0)),
        area,
    );
}
