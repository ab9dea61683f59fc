//! `?`: the keys that work here first (the focused pane's or dialog's, then
//! the everyday ones), then every `:` command, then the other panes' keys;
//! `:help filter`: the filter language's fields with an example each. All
//! of it is built from the keymap, the actions and `filter::fields()`, so it
//! cannot fall behind them.

use std::cell::Cell;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{centered, pane_block};
use crate::domain::filter::{Syntax, fields};
use crate::service::Level;
use crate::service::recent::LogLine;
use crate::tui::action::Action;
use crate::tui::format::{safe, timestamp};
use crate::tui::keymap::{Context, Keymap};
use crate::tui::theme::Theme;

/// The widest the help box gets.
const WIDTH: u16 = 100;
/// The key column.
const KEYS: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub enum Topic {
    /// The keys, the contexts in effect where `?` was pressed first.
    Keys(Vec<Context>),
    /// The filter language's fields.
    Filter,
    /// casbah's own recent warnings and errors (`:log`).
    Log(Vec<LogLine>),
}

/// The open help: what it shows and how far it is scrolled.
#[derive(Debug, Clone, PartialEq)]
pub struct Help {
    pub topic: Topic,
    pub scroll: usize,
    /// The furthest scroll that still fills the box, as last drawn: the
    /// keys stop there rather than scroll the text away.
    pub max_scroll: Cell<usize>,
}

impl Help {
    /// The log opens at its newest line, the rest at the top.
    pub fn new(topic: Topic) -> Help {
        let scroll = if matches!(topic, Topic::Log(_)) {
            usize::MAX
        } else {
            0
        };
        Help {
            topic,
            scroll,
            max_scroll: Cell::new(usize::MAX),
        }
    }

    /// Moves by `delta` lines, within the text.
    pub fn scroll_by(&mut self, delta: isize) {
        let max = self.max_scroll.get();
        self.scroll = self.scroll.min(max).saturating_add_signed(delta).min(max);
    }

    pub fn scroll_to_end(&mut self) {
        self.scroll = self.max_scroll.get();
    }
}

/// `text` cut at spaces into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("never empty");
        let len = last.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(word.to_owned());
        } else {
            if len > 0 {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// A key column and its description, the description wrapped under itself;
/// keys too long for their column have the description on the next line.
fn entry(keys: String, desc: &str, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let keys = format!("  {keys}");
    let indent = " ".repeat(KEYS);
    let mut lines = Vec::new();
    let mut first = Some(keys);
    if first.as_ref().is_some_and(|k| k.chars().count() >= KEYS) {
        lines.push(Line::from(Span::styled(
            first.take().unwrap_or_default(),
            theme.key(),
        )));
    }
    for text in wrap(desc, width.saturating_sub(KEYS)) {
        let head = match first.take() {
            Some(k) => Span::styled(format!("{k:<KEYS$}"), theme.key()),
            None => Span::raw(indent.clone()),
        };
        lines.push(Line::from(vec![head, Span::raw(text)]));
    }
    lines
}

fn context_lines(ctx: Context, keymap: &Keymap, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled(ctx.title(), theme.header()))];
    for b in keymap.bindings(ctx) {
        let keys: Vec<String> = b.keys.iter().map(ToString::to_string).collect();
        lines.extend(entry(keys.join(" "), &b.desc, width, theme));
    }
    lines
}

fn command_lines(width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled(
        "Commands (:, Tab completes)",
        theme.header(),
    ))];
    for a in Action::ALL.into_iter().filter(|a| a.is_command()) {
        lines.extend(entry(a.command_usage(), a.description(), width, theme));
    }
    lines.extend(entry(
        ":help filter".into(),
        "the filter language: every field, with an example",
        width,
        theme,
    ));
    lines
}

/// The keys: `first` (the contexts in effect), the commands, then the rest.
pub fn key_lines(
    first: &[Context],
    keymap: &Keymap,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut order: Vec<Context> = first.to_vec();
    if !order.contains(&Context::Global) {
        order.push(Context::Global);
    }
    let mut lines = Vec::new();
    for ctx in &order {
        lines.extend(context_lines(*ctx, keymap, width, theme));
    }
    lines.extend(command_lines(width, theme));
    for ctx in Context::ALL.into_iter().filter(|c| !order.contains(c)) {
        lines.extend(context_lines(ctx, keymap, width, theme));
    }
    lines
}

/// Every field of the filter language, with its aliases and an example.
pub fn filter_lines(width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled(
        "Filter fields (/ in Activities, :activities FILTER)",
        theme.header(),
    ))];
    for intro in [
        "field:value, field!=value or -field:value, field:(a,b) for any of, \"quotes\" for spaces.",
        "Terms side by side must all match. Tab completes fields and known values.",
    ] {
        let wrapped = wrap(intro, width.saturating_sub(2));
        lines.extend(wrapped.into_iter().map(|l| Line::from(format!("  {l}"))));
    }
    for f in fields() {
        let mut name = f.name.to_owned();
        if !f.aliases.is_empty() {
            name.push_str(&format!(" ({})", f.aliases.join(", ")));
        }
        let kind = match f.syntax {
            Syntax::Flag(_) => " (a flag, no value)",
            Syntax::Time(_) => "",
            Syntax::Values { .. } => "",
        };
        lines.extend(entry(
            name,
            &format!("{}{kind}; e.g. {}", f.description, f.example),
            width,
            theme,
        ));
    }
    lines
}

/// The log, newest last; each event's time, level and where it came from,
/// then its text wrapped under it.
pub fn log_lines(log: &[LogLine], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    if log.is_empty() {
        return vec![Line::from(Span::styled(
            "No warning or error since casbah started",
            theme.dim(),
        ))];
    }
    let mut lines = Vec::new();
    for l in log {
        let (level, style) = match l.level {
            Level::Error => ("ERROR", theme.error()),
            Level::Warning => ("WARN ", theme.warning()),
            Level::Info => ("INFO ", theme.dim()),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} UTC ", timestamp(l.at)), theme.dim()),
            Span::styled(level, style),
            Span::styled(format!(" {}", safe(&l.target)), theme.dim()),
        ]));
        for text in wrap(&safe(&l.text), width.saturating_sub(2)) {
            lines.push(Line::from(format!("  {text}")));
        }
    }
    lines
}

pub fn draw(f: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme, help: &Help) {
    let area = centered(area, WIDTH, area.height.saturating_sub(2));
    f.render_widget(Clear, area);
    let title = match help.topic {
        Topic::Keys(_) => "Keys — ↑↓ PgUp PgDn scroll, any other key closes",
        Topic::Filter => "Filter fields — ↑↓ PgUp PgDn scroll, any other key closes",
        Topic::Log(_) => "Recent warnings and errors — ↑↓ PgUp PgDn scroll, any other key closes",
    };
    let block = pane_block(title, true, theme);
    let inner = block.inner(area);
    let width = usize::from(inner.width);
    let lines = match &help.topic {
        Topic::Keys(first) => key_lines(first, keymap, width, theme),
        Topic::Filter => filter_lines(width, theme),
        Topic::Log(log) => log_lines(log, width, theme),
    };
    let max = lines.len().saturating_sub(usize::from(inner.height));
    help.max_scroll.set(max);
    let scroll = u16::try_from(help.scroll.min(max)).unwrap_or(u16::MAX);
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    // issue 13: the keys of where you are come first, then the everyday
    // ones, then every command, each named with its short forms.
    #[test]
    fn focused_keys_come_first_and_commands_are_complete() {
        let keymap = Keymap::defaults();
        let theme = Theme::plain();
        let text = plain(&key_lines(
            &[Context::Groups, Context::Global],
            &keymap,
            80,
            &theme,
        ));
        assert_eq!(text[0], "Groups");
        let global = text.iter().position(|l| l == "Everywhere").expect("global");
        let connectors = text.iter().position(|l| l == "Connectors").expect("others");
        assert!(
            global < connectors,
            "the focused pane, then everywhere, then the rest"
        );
        for a in Action::ALL.into_iter().filter(|a| a.is_command()) {
            let name = format!(":{}", a.name());
            assert!(text.iter().any(|l| l.contains(&name)), "{name} is listed");
        }
        assert!(
            text.iter()
                .any(|l| l.contains(":activities FILTER, :a, :act"))
        );
        assert!(
            text.iter().all(|l| l.chars().count() <= 80),
            "wrapped to the width"
        );
    }

    // issue 13, R-A2: the reference lists every field with its example.
    #[test]
    fn filter_reference_lists_every_field() {
        let lines = plain(&filter_lines(60, &Theme::plain()));
        assert!(lines.iter().all(|l| l.chars().count() <= 60), "wrapped");
        let text = lines.join("\n");
        for f in fields() {
            assert!(text.contains(f.name), "{}", f.name);
        }
        for name in ["targetgroup", "persongroup", "targetou", "personou"] {
            assert!(text.contains(name), "{name}");
        }
    }

    #[test]
    fn scrolling_stops_at_the_end() {
        let mut help = Help::new(Topic::Filter);
        help.max_scroll.set(3);
        for _ in 0..10 {
            help.scroll_by(1);
        }
        assert_eq!(help.scroll, 3);
        help.scroll_by(-10);
        assert_eq!(help.scroll, 0);
    }
}
