//! Issue 13, pivots from an activity: to its actor's person view, and "more
//! like this": the log filtered on one field of the record, that term added
//! to the filter (`m`) or replacing it (`M`), chosen from a small menu. The
//! same menu copies a field's value (`y`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::ActivitiesPane;
use crate::domain::Activity;
use crate::domain::filter::{self, Field, Filter, Term};
use crate::service::Level;
use crate::tui::action::Action;
use crate::tui::format::safe;
use crate::tui::pane::Handled;
use crate::tui::pane::{Effect, Env, Out, Target};
use crate::tui::widgets::list::Cursor;

/// What choosing a field does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `m`: its term narrows the filter.
    More,
    /// `M`: its term replaces the filter.
    Only,
    /// `y`: its value goes to the clipboard.
    Copy,
}

/// The menu of a record's fields, open over the log or the details.
#[derive(Debug, Clone, PartialEq)]
pub struct LikeMenu {
    pub purpose: Purpose,
    pub choices: Vec<Choice>,
    pub cursor: Cursor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Typed to choose it at once.
    pub letter: char,
    pub label: &'static str,
    pub field: Field,
    pub value: String,
}

impl LikeMenu {
    /// The fields of `a` it has a value for.
    pub fn new(a: &Activity, purpose: Purpose) -> LikeMenu {
        let mut choices = Vec::new();
        let mut add = |letter, label, field, value: Option<&str>| {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                choices.push(Choice {
                    letter,
                    label,
                    field,
                    value: v.to_owned(),
                });
            }
        };
        add('u', "actor", Field::User, Some(&a.actor));
        add('i', "IP", Field::Ip, a.ip.as_deref());
        add('c', "country", Field::Country, a.country.as_deref());
        add('a', "app", Field::App, Some(a.app.slug()));
        add('t', "type", Field::Type, Some(&a.activity_type));
        add(
            'o',
            "object",
            Field::Object,
            a.objects.first().map(|o| o.name.as_str()),
        );
        if purpose == Purpose::Copy {
            add('d', "id", Field::Id, Some(&a.id));
        }
        LikeMenu {
            purpose,
            choices,
            cursor: Cursor::default(),
        }
    }

    pub fn chosen(&self) -> Option<&Choice> {
        self.choices.get(self.cursor.selected)
    }

    pub fn by_letter(&self, letter: char) -> Option<&Choice> {
        self.choices.iter().find(|c| c.letter == letter)
    }
}

/// The filter after a pivot on `term`: `current` and the term, or the term
/// alone. Written in canonical form, so values with spaces, quotes or
/// backslashes come out quoted and escaped and parse back to themselves.
pub fn refine(current: &str, term: Term, replace: bool) -> String {
    let mut f = match filter::parse(current) {
        Ok(f) if !replace => f,
        _ => Filter::default(),
    };
    if !f.terms.contains(&term) {
        f.terms.push(term);
    }
    f.to_string()
}

impl ActivitiesPane {
    pub(super) fn like_action(&mut self, action: Action, out: &mut Out) -> Handled {
        let Some(menu) = &mut self.like else {
            return Handled::NotConsumed;
        };
        match action {
            Action::Submit | Action::Open => {
                if let Some(choice) = menu.chosen() {
                    choose(choice, &self.filter, menu.purpose, out);
                }
                self.like = None;
            }
            Action::Back => self.like = None,
            Action::Quit => return Handled::NotConsumed,
            other => {
                menu.cursor.navigate(other, menu.choices.len());
            }
        }
        Handled::Consumed
    }

    pub(super) fn open_like(&mut self, purpose: Purpose) {
        self.like = self.current().map(|a| LikeMenu::new(a, purpose));
    }

    /// `Y`: the record as JSON, its strings escaped as every JSON casbah writes.
    pub(super) fn copy_row(&self, out: &mut Out) {
        if let Some(a) = self.current() {
            match crate::service::export::safe_json(a, false) {
                Ok(json) => out.push(Effect::Copy(json)),
                Err(e) => out.toast(Level::Error, format!("cannot write the row as JSON: {e}")),
            }
        }
    }
}

/// Does what the menu is for with `choice`: a pivot to the activities
/// "like" it, or a copy of its value.
pub fn choose(choice: &Choice, current: &str, purpose: Purpose, out: &mut Out) {
    let replace = match purpose {
        Purpose::Copy => return out.push(Effect::Copy(choice.value.clone())),
        Purpose::More => false,
        Purpose::Only => true,
    };
    let term = Term::equals(choice.field, choice.value.clone());
    out.push(Effect::Pivot(Target::Activities {
        filter: refine(current, term, replace),
        crumb: choice.value.clone(),
    }));
}

/// The activities of a person, from the person view or a member row.
pub fn activities_of(key: &str) -> Target {
    Target::Activities {
        filter: Term::equals(Field::User, key).to_string(),
        crumb: "activities".into(),
    }
}

/// A group's members' activities (R-G9).
pub fn activities_of_group(name: &str) -> Target {
    Target::Activities {
        filter: Term::equals(Field::Group, name).to_string(),
        crumb: format!("activities of {name}"),
    }
}

/// The menu, in a box at the bottom of `area`.
pub fn draw_menu(menu: &LikeMenu, f: &mut Frame, area: Rect, env: &Env) {
    let theme = &env.theme;
    let height = (menu.choices.len() as u16 + 2).min(area.height);
    let box_area = Rect {
        y: area.y + area.height - height,
        height,
        ..area
    };
    let title = match menu.purpose {
        Purpose::More => " More like this: add to the filter ",
        Purpose::Only => " Only like this: filter on ",
        Purpose::Copy => " Copy to the clipboard ",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.key())
        .title(Span::styled(title, theme.header()));
    let inner = block.inner(box_area);
    f.render_widget(Clear, box_area);
    f.render_widget(block, box_area);
    let lines: Vec<Line> = menu
        .choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let line = Line::from(vec![
                Span::styled(format!(" {} ", c.letter), theme.key()),
                Span::styled(format!("{:<8}", c.label), theme.dim()),
                Span::raw(safe(&c.value).into_owned()),
            ]);
            if i == menu.cursor.selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 13, R-A4: a pivot's value survives the filter language whatever it holds.
    #[test]
    fn pivot_values_round_trip_through_the_filter_language() {
        for value in [
            "203.0.113.9",
            "Q3 budget \"final\".xlsx",
            r"C:\share\a b",
            "^caret",
            "type:looks-like-a-field",
            "(a,b)",
        ] {
            let text = refine("country:DE", Term::equals(Field::Object, value), false);
            let parsed = filter::parse(&text).expect("the pivot's filter parses");
            assert_eq!(parsed.terms.len(), 2, "{text}");
            assert_eq!(
                parsed.terms[1],
                Term::equals(Field::Object, value),
                "{text}"
            );
            let only = refine("country:DE", Term::equals(Field::Object, value), true);
            assert_eq!(filter::parse(&only).expect("parses").terms.len(), 1);
        }
        assert_eq!(
            refine("ip:1.2.3.4", Term::equals(Field::Ip, "1.2.3.4"), false),
            "ip:1.2.3.4",
            "a term already there is not added twice"
        );
    }
}
