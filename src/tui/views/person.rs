//! The person view (R-G8), open over the Members pane: who the person is,
//! and the ways on from there (issue 13): their activities, each of their
//! groups, their account in each app. ↑↓ move a highlight over the lines,
//! so every line is reachable on a small screen; Enter follows a link.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use crate::domain::UserStatus;
use crate::domain::filter::{Field, Filter, Term};
use crate::domain::grants::Grant;
use crate::store::Person;
use crate::tui::action::Action;
use crate::tui::format::{ago, instance_label, safe};
use crate::tui::pane::{Effect, Env, Handled, Out, Target};
use crate::tui::views::act::ActTargets;
use crate::tui::views::activities::activities_of;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::pane_block;

#[derive(Debug, Clone, PartialEq)]
pub struct PersonView {
    pub key: String,
    pub person: Option<Person>,
    pub error: Option<String>,
    pub cursor: Cursor,
    /// Opened by a pivot from elsewhere: Esc goes back there, not to the list.
    pub pivoted: bool,
    /// Issue 11: the app grants they gave, by instance name, once read.
    pub grants: Option<Vec<(String, Grant)>>,
}

impl PersonView {
    pub fn new(key: &str, pivoted: bool) -> PersonView {
        PersonView {
            key: key.to_owned(),
            person: None,
            error: None,
            cursor: Cursor::default(),
            pivoted,
            grants: None,
        }
    }

    /// Its keys; Esc is the pane's to decide.
    pub fn action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        match action {
            Action::ActivitiesOf => out.push(Effect::Pivot(activities_of(&self.key))),
            // Issue 11: each account, by its id in its app.
            Action::Act => {
                if let Some(p) = &self.person {
                    out.push(Effect::Act(ActTargets {
                        per_instance: p
                            .accounts
                            .iter()
                            .map(|(id, u)| (*id, vec![u.id.clone()]))
                            .collect(),
                        label: self.key.clone(),
                        grants: false,
                    }));
                }
            }
            Action::Open => {
                let rows = self.rows(env);
                if let Some((_, Some(target))) = rows.into_iter().nth(self.cursor.selected) {
                    out.push(Effect::Pivot(target));
                }
            }
            other => return self.cursor.navigate(other, self.rows(env).len()),
        }
        Handled::Consumed
    }

    /// The lines of the view, each with where Enter on it leads.
    fn rows(&self, env: &Env) -> Vec<(Line<'static>, Option<Target>)> {
        let Some(p) = &self.person else {
            return Vec::new();
        };
        let theme = &env.theme;
        let field = |name: &str, value: String| {
            Line::from(vec![
                Span::styled(format!("{name:<9}"), theme.header()),
                Span::raw(value),
            ])
        };
        let link =
            |text: String| Line::from(vec![Span::raw(text), Span::styled(" ›", theme.key())]);
        // One person usually has the same name in every app: each name once, in account order.
        let mut names: Vec<String> = Vec::new();
        for (_, u) in &p.accounts {
            let name = safe(&u.display_name).into_owned();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let apps: Vec<&str> = p.apps.iter().map(|a| a.display_name()).collect();
        let mut rows = vec![
            (field("Name", names.join(", ")), None),
            (field("Apps", apps.join(", ")), None),
            (field("Last", ago(env.now, p.last_activity)), None),
            (
                link("Activities".into()).style(theme.header()),
                Some(activities_of(&self.key)),
            ),
            (
                Line::styled(format!("Groups {}", p.groups.len()), theme.header()),
                None,
            ),
        ];
        rows.extend(p.groups.iter().map(|id| match env.group(*id) {
            Some(g) => (
                link(format!("  {}", safe(&g.name))),
                Some(Target::Members {
                    group: g.id,
                    name: g.name.clone(),
                }),
            ),
            None => (Line::from(format!("  #{}", id.0)), None),
        }));
        rows.push((Line::styled("Accounts", theme.header()), None));
        rows.extend(p.accounts.iter().map(|(id, u)| {
            let instance = env.instance(*id);
            let place =
                instance.map_or_else(|| format!("#{}", id.0), |i| instance_label(i.app, &i.name));
            let target = instance.map(|i| {
                let terms = vec![
                    Term::equals(Field::User, u.email.clone()),
                    Term::equals(Field::Instance, i.name.clone()),
                ];
                Target::Activities {
                    filter: Filter { terms }.to_string(),
                    crumb: place.clone(),
                }
            });
            let status = match &u.status {
                UserStatus::Active => String::new(),
                other => format!("  ({})", other.reason()),
            };
            (
                link(format!("  {place}  {}{status}", safe(&u.email))),
                target,
            )
        }));
        if let Some(grants) = self.grants.as_ref().filter(|g| !g.is_empty()) {
            rows.push((
                Line::styled(format!("App grants {}", grants.len()), theme.header()),
                None,
            ));
            rows.extend(grants.iter().map(|(instance, g)| {
                let risky = g.risky_scopes();
                let scopes = if risky.is_empty() {
                    Span::styled(safe(&g.scopes.join(" ")).into_owned(), theme.dim())
                } else {
                    Span::styled(
                        format!("risky: {}", safe(&risky.join(" "))),
                        theme.warning(),
                    )
                };
                let line = Line::from(vec![
                    Span::raw(format!("  {} in {}  ", safe(&g.app_name), safe(instance))),
                    scopes,
                ]);
                let target = env
                    .instances
                    .iter()
                    .find(|s| s.instance.name == *instance)
                    .map(|s| Target::AppGrants {
                        instance: s.instance.reference(),
                        app: g.app_id.clone(),
                        name: g.app_name.clone(),
                    });
                (line, target)
            }));
        }
        rows.push((Line::styled("Activities by type", theme.header()), None));
        rows.extend(
            p.by_type
                .iter()
                .map(|(t, n)| (Line::from(format!("  {n:>6}  {}", safe(t))), None)),
        );
        rows.push((Line::styled("Activities by app", theme.header()), None));
        rows.extend(
            p.by_app
                .iter()
                .map(|(a, n)| (Line::from(format!("  {n:>6}  {}", a.display_name())), None)),
        );
        rows
    }

    pub fn draw(&self, f: &mut Frame, area: Rect, env: &Env, focused: bool) {
        let theme = &env.theme;
        let rows = self.rows(env);
        let mut title = format!("Person {}", safe(&self.key));
        if !rows.is_empty() {
            title.push_str(&format!(" · {}/{}", self.cursor.selected + 1, rows.len()));
        }
        let block = pane_block(&title, focused, theme);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let Some(p) = &self.person else {
            let text = match &self.error {
                Some(e) => Span::styled(e.clone(), theme.error()),
                None => Span::styled("loading…", theme.dim()),
            };
            f.render_widget(Paragraph::new(text), inner);
            return;
        };
        // The chart gives way to the lines on a short pane.
        let chart = if inner.height >= 12 { 4 } else { 0 };
        let [text_area, chart_area] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(chart)]).areas(inner);
        let range = self
            .cursor
            .window(rows.len(), usize::from(text_area.height));
        let lines: Vec<Line> = rows
            .into_iter()
            .enumerate()
            .skip(range.start)
            .take(range.len())
            .map(|(i, (line, _))| {
                if focused && i == self.cursor.selected {
                    line.style(theme.selected())
                } else {
                    line
                }
            })
            .collect();
        f.render_widget(Paragraph::new(lines), text_area);
        if chart == 0 {
            return;
        }
        let [chart_title, spark] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(chart_area);
        let total: u64 = p.daily.iter().sum();
        f.render_widget(
            Paragraph::new(Span::styled(
                format!("Last 30 days: {total} activities"),
                theme.header(),
            )),
            chart_title,
        );
        f.render_widget(
            Sparkline::default().data(&p.daily).style(theme.key()),
            spark,
        );
    }
}
