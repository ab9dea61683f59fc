//! Members pane and the person view it opens (R-G8).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row};

use ratatui::crossterm::event::KeyEvent;

use crate::domain::{GroupId, InstanceId};
use crate::service::Event;
use crate::store::{Member, Person};
use crate::tui::action::Action;
use crate::tui::format::{ago, instance_cell, instance_column, safe};
use crate::tui::fuzzy::Hit;
use crate::tui::govern::{GovernCmd, GovernDone};
use crate::tui::input::Input;
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done, Outcome};
use crate::tui::pane::{
    Component, Effect, Env, Handled, MembersSnapshot, Out, Pane, PaneId, Snapshot, Target,
    list_contexts,
};
use crate::tui::ranking::Ranking;
use crate::tui::views::act::ActTargets;
use crate::tui::views::activities::activities_of;
pub use crate::tui::views::person::PersonView;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::sort::{ListSort, caseless};
use crate::tui::widgets::{filter_line, highlighted, keep, masked_table, pane_block};

#[derive(Debug, Default)]
pub struct MembersPane {
    pub group: Option<(GroupId, String)>,
    pub rows: Vec<Member>,
    /// "name  e-mail", safe, for matching and display.
    texts: Vec<String>,
    /// The rows matching the filter, best first; ranked off the UI thread when
    /// there are many.
    ranking: Ranking,
    pub filter: Input,
    pub editing: bool,
    pub cursor: Cursor,
    pub loading: bool,
    pub error: Option<String>,
    pub person: Option<PersonView>,
    pub sort: ListSort,
    /// The ranking's hits in the sort's order, while a column sorts the list.
    sorted: Option<Vec<Hit>>,
    /// Issue 11: the members Space marked, by key, for `!` to act on together.
    pub marked: std::collections::BTreeSet<String>,
}

/// The columns, in the table's order.
const COLUMNS: [&str; 5] = ["Name", "E-mail", "Instance", "Status", "Last activity"];

impl MembersPane {
    pub fn open_group(&mut self, id: GroupId, name: String) {
        if self.group.as_ref().is_some_and(|(g, _)| *g == id) {
            return;
        }
        *self = MembersPane {
            group: Some((id, name)),
            loading: true,
            ..MembersPane::default()
        };
    }

    pub fn loaded(&mut self, result: Outcome<Vec<Member>>, out: &mut Out) {
        self.loading = false;
        match result {
            Ok(rows) => {
                self.texts = rows
                    .iter()
                    .map(|m| safe(&format!("{}  {}", m.name, m.email)).into_owned())
                    .collect();
                self.marked.retain(|key| rows.iter().any(|m| m.key == *key));
                self.rows = rows;
                self.error = None;
                out.run_all(
                    self.ranking
                        .set_texts(self.texts.iter().map(String::as_str)),
                );
                self.resort();
            }
            Err(e) => self.error = Some(e.message),
        }
    }

    /// Ranks for the filter (see `Ranking`: typing on narrows the last hits,
    /// backspace gives back the ranking kept for the shorter filter).
    pub fn refilter(&mut self, out: &mut Out) {
        out.run_all(self.ranking.query(self.filter.text()));
        self.resort();
    }

    /// The rows shown: best first, or in the sort's order.
    pub fn visible(&self) -> &[Hit] {
        self.sorted.as_deref().unwrap_or(self.ranking.hits())
    }

    /// The ranking's hits in the sort's order, kept while a column sorts the
    /// list (the ranking stays best first, for typing on and backspace).
    fn resort(&mut self) {
        self.sorted = self.sort.column.map(|_| {
            let rows = &self.rows;
            let mut hits = self.ranking.hits().to_vec();
            self.sort.apply(&mut hits, |a, b, column| {
                let (a, b) = (&rows[a], &rows[b]);
                match column {
                    0 => caseless(&a.name, &b.name),
                    1 => caseless(&a.email, &b.email),
                    // Grouped by instance, in the order they were connected.
                    2 => a.instance.map(|i| i.0).cmp(&b.instance.map(|i| i.0)),
                    // Everyone listed is active (R-G4).
                    3 => std::cmp::Ordering::Equal,
                    _ => a.last_activity.cmp(&b.last_activity),
                }
            });
            hits
        });
        self.cursor.clamp(self.visible().len());
    }

    /// `o` and `O`: the list in a new order, the same member selected. Back to
    /// no column, the ranking's order comes back.
    fn sort_by(&mut self, sort: ListSort) {
        let selected = self.selected().map(|m| m.key.clone());
        self.sort = sort;
        self.resort();
        if let Some(at) = selected.and_then(|key| {
            self.visible()
                .iter()
                .position(|h| self.rows[h.index()].key == key)
        }) {
            self.cursor.selected = at;
        }
    }

    pub fn selected(&self) -> Option<&Member> {
        self.visible()
            .get(self.cursor.selected)
            .map(|h| &self.rows[h.index()])
    }

    /// Space: marks or unmarks the selected member, and moves on to the next.
    fn mark(&mut self) {
        let Some(key) = self.selected().map(|m| m.key.clone()) else {
            return;
        };
        if !self.marked.remove(&key) {
            self.marked.insert(key);
        }
        self.cursor.navigate(Action::Down, self.visible().len());
    }

    /// `!`: the marked members, else the selected one, each in their instance.
    fn act_targets(&self) -> Option<ActTargets> {
        let chosen: Vec<&Member> = if self.marked.is_empty() {
            self.selected().into_iter().collect()
        } else {
            self.rows
                .iter()
                .filter(|m| self.marked.contains(&m.key))
                .collect()
        };
        let mut per_instance: Vec<(InstanceId, Vec<String>)> = Vec::new();
        for m in &chosen {
            let Some(id) = m.instance else { continue };
            match per_instance.iter_mut().find(|(i, _)| *i == id) {
                Some((_, keys)) => keys.push(m.key.clone()),
                None => per_instance.push((id, vec![m.key.clone()])),
            }
        }
        let label = match chosen.as_slice() {
            [one] => one.key.clone(),
            many => {
                let group = self.group.as_ref().map_or("", |(_, name)| name.as_str());
                format!("{} marked members of {group}", many.len())
            }
        };
        (!chosen.is_empty()).then_some(ActTargets {
            per_instance,
            label,
            grants: false,
        })
    }

    pub fn open_person(&mut self, key: &str) {
        self.person = Some(PersonView::new(key, false));
    }

    pub fn person_loaded(&mut self, key: &str, result: Outcome<Person>) {
        if let Some(view) = self.person.as_mut().filter(|v| v.key == key) {
            match result {
                Ok(p) => view.person = Some(p),
                Err(e) => view.error = Some(e.message),
            }
        }
    }
}

impl MembersPane {
    fn clear_filter(&mut self, out: &mut Out) {
        self.filter.set("");
        self.refilter(out);
    }

    /// The person view has the keys; Esc closes it, or goes back along the
    /// pivot that opened it.
    fn person_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        let Some(p) = &mut self.person else {
            return Handled::NotConsumed;
        };
        match action {
            Action::Back if p.pivoted => Handled::NotConsumed,
            Action::Back => {
                self.person = None;
                Handled::Consumed
            }
            other => p.action(other, env, out),
        }
    }
}

impl Component for MembersPane {
    fn contexts(&self) -> Vec<Context> {
        if self.person.is_some() {
            return vec![Context::Person, Context::Global];
        }
        list_contexts(Context::Members, self.typing())
    }

    fn on_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        if self.typing() {
            match action {
                Action::Submit => self.editing = false,
                Action::Back => {
                    self.editing = false;
                    self.clear_filter(out);
                }
                Action::Quit => return Handled::NotConsumed,
                _ => {}
            }
            return Handled::Consumed;
        }
        if self.person.is_some() {
            return self.person_action(action, env, out);
        }
        match action {
            Action::Open => {
                if let Some(m) = self.selected() {
                    let key = m.key.clone();
                    self.open_person(&key);
                    load_person(&key, out);
                }
            }
            Action::ActivitiesOf => {
                if let Some(m) = self.selected() {
                    out.push(Effect::Pivot(activities_of(&m.key)));
                }
            }
            Action::Filter => self.editing = true,
            Action::Mark => self.mark(),
            Action::Act => {
                if let Some(targets) = self.act_targets() {
                    out.push(Effect::Act(targets));
                }
            }
            Action::Sort => self.sort_by(self.sort.next(COLUMNS.len())),
            Action::SortReverse => self.sort_by(self.sort.reversed()),
            Action::Back if !self.filter.text().is_empty() => self.clear_filter(out),
            Action::Back if !self.marked.is_empty() => self.marked.clear(),
            _ => return self.cursor.navigate(action, self.visible().len()),
        }
        Handled::Consumed
    }

    fn on_key(&mut self, key: KeyEvent, _env: &Env, out: &mut Out) -> Handled {
        if !self.typing() {
            return Handled::NotConsumed;
        }
        if self.filter.edit(key) {
            self.cursor.top();
            self.refilter(out);
        }
        Handled::Consumed
    }

    fn click(&mut self, y: u16, _env: &Env, _out: &mut Out) -> Handled {
        match self.person {
            Some(_) => Handled::NotConsumed,
            None => self.cursor.click(y, self.visible().len()),
        }
    }

    fn typing(&self) -> bool {
        self.editing && self.person.is_none()
    }

    fn done(&mut self, done: Done, _env: &Env, out: &mut Out) -> Option<Done> {
        match done {
            Done::Members { group, result } => {
                if self.group.as_ref().is_some_and(|(id, _)| *id == group) {
                    self.loaded(result, out);
                }
            }
            Done::Person { key, result } => self.person_loaded(&key, result),
            Done::Govern(GovernDone::PersonGrants { key, result }) => {
                if let Some(view) = self.person.as_mut().filter(|v| v.key == key) {
                    view.grants = result.ok();
                }
            }
            ranked @ Done::Ranked(_) => {
                let other = self.ranking.take(ranked, &mut self.cursor);
                self.resort();
                return other;
            }
            other => return Some(other),
        }
        None
    }

    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        draw(self, f, area, env, focused)
    }
}

impl Pane for MembersPane {
    fn event(&mut self, event: &Event, _env: &Env, out: &mut Out) {
        if let (Event::GroupsChanged, Some((id, _))) = (event, &self.group) {
            out.run(Cmd::LoadMembers(*id));
        }
    }

    fn breadcrumbs(&self, _env: &Env) -> Vec<String> {
        let mut path = match &self.group {
            Some((_, name)) => vec!["Groups".into(), name.clone(), "Members".into()],
            None => vec![PaneId::Members.title().to_owned()],
        };
        if let Some(p) = &self.person {
            path.push(p.key.clone());
        }
        path
    }

    fn show(&mut self, target: &Target, _env: &Env, out: &mut Out) {
        match target {
            Target::Members { group, name } => {
                self.open_group(*group, name.clone());
                self.person = None;
                out.run(Cmd::LoadMembers(*group));
            }
            Target::Person { key } => {
                self.editing = false;
                self.person = Some(PersonView::new(key, true));
                load_person(key, out);
            }
            _ => {}
        }
    }

    fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot::Members(Box::new(MembersSnapshot {
            group: self.group.clone(),
            filter: self.filter.text().to_owned(),
            cursor: self.cursor.clone(),
            person: self.person.clone(),
        })))
    }

    /// The person view comes back as it was. The list under it is put back
    /// only when a pivot from the person changed it: drilling down from
    /// Groups leaves the members in view when Esc goes back to Groups.
    fn restore(&mut self, snapshot: Snapshot, _env: &Env, out: &mut Out) {
        let Snapshot::Members(saved) = snapshot else {
            return;
        };
        let MembersSnapshot {
            group,
            filter,
            cursor,
            person,
        } = *saved;
        if person.is_some() {
            if let Some((id, name)) = group.filter(|g| Some(g) != self.group.as_ref()) {
                self.open_group(id, name);
                out.run(Cmd::LoadMembers(id));
            }
            self.filter.set(&filter);
            self.refilter(out);
            self.cursor = cursor;
        }
        if let Some(view) = person
            .as_ref()
            .filter(|v| v.person.is_none() && v.error.is_none())
        {
            load_person(&view.key, out);
        }
        self.person = person;
    }
}

/// A person's record and the app grants they gave (issue 11).
fn load_person(key: &str, out: &mut Out) {
    out.run(Cmd::LoadPerson(key.to_owned()));
    out.run(Cmd::Govern(GovernCmd::PersonGrants(key.to_owned())));
}

fn draw(pane: &MembersPane, f: &mut Frame, area: Rect, env: &Env, focused: bool) {
    if let Some(view) = &pane.person {
        return view.draw(f, area, env, focused);
    }
    let theme = &env.theme;
    let mut title = match &pane.group {
        Some((_, name)) => format!(
            "Members of {} {}/{}",
            safe(name),
            pane.visible().len(),
            pane.rows.len()
        ),
        None => "Members".to_owned(),
    };
    if !pane.marked.is_empty() {
        title.push_str(&format!(" · {} marked", pane.marked.len()));
    }
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let list_area = filter_line(f, inner, &pane.filter, pane.editing, theme);
    let empty = if let Some(e) = &pane.error {
        Some(Span::styled(e.clone(), theme.error()))
    } else if pane.group.is_none() {
        Some(Span::styled(
            "Choose a group in Groups (2) and press Enter",
            theme.dim(),
        ))
    } else if pane.loading {
        Some(Span::styled("loading…", theme.dim()))
    } else if pane.visible().is_empty() {
        Some(Span::styled(
            if pane.rows.is_empty() {
                "No members (yet: an import may still be running)"
            } else {
                "No member matches"
            },
            theme.dim(),
        ))
    } else {
        None
    };
    if let Some(span) = empty {
        f.render_widget(Paragraph::new(span), list_area);
        return;
    }
    let w = list_area.width;
    // Everyone listed is active (R-G4), so that column goes first.
    let mask = [true, w >= 50, true, w >= 90, true];
    let height = list_area.height.saturating_sub(1) as usize;
    let range = pane.cursor.window(pane.visible().len(), height);
    let wide = w >= 76;
    let places: Vec<String> = pane.visible()[range.clone()]
        .iter()
        .map(|hit| {
            pane.rows[hit.index()]
                .instance
                .and_then(|id| env.instance(id))
                .map_or_else(String::new, |i| instance_cell(i.app, &i.name, wide))
        })
        .collect();
    let (place_title, place_width) = instance_column(&places, wide);
    let rows: Vec<Row> = pane.visible()[range.clone()]
        .iter()
        .zip(places)
        .enumerate()
        .map(|(i, (hit, place))| {
            let m = &pane.rows[hit.index()];
            let selected = focused && range.start + i == pane.cursor.selected;
            let base = if selected {
                theme.selected()
            } else {
                ratatui::style::Style::new()
            };
            let text = &pane.texts[hit.index()];
            let marks = env.fuzzy.highlights(text, pane.filter.text());
            let (name, email) = split_cells(text, safe(&m.name).chars().count(), &marks);
            let mut name = highlighted(&name.0, &name.1, base, theme.matched());
            if pane.marked.contains(&m.key) {
                name.spans
                    .insert(0, Span::styled("◆ ", base.patch(theme.key())));
            }
            let row = Row::new(keep(
                vec![
                    Cell::from(name),
                    Cell::from(highlighted(&email.0, &email.1, base, theme.matched())),
                    Cell::from(place),
                    Cell::from("active"),
                    Cell::from(ago(env.now, m.last_activity)),
                ],
                &mask,
            ));
            if selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    pane.cursor.place(list_area.y + 1);
    let mut titles = COLUMNS;
    titles[2] = place_title;
    let titles = pane.sort.titles(titles);
    let mut fixed = [None, None, Some(place_width), Some(6), Some(13)];
    pane.sort.fit(&titles, &mut fixed);
    let fills = [2, 3, 0, 0, 0];
    masked_table(
        f,
        list_area,
        rows,
        titles.each_ref().map(String::as_str),
        std::array::from_fn(|i| fixed[i].map_or(Constraint::Fill(fills[i]), Constraint::Length)),
        &mask,
        theme,
    );
}

/// A member's filter text ("name  e-mail", matched as one) cut back into its
/// two columns, each with the matched characters that fall in it.
fn split_cells(
    text: &str,
    name_len: usize,
    marks: &[usize],
) -> ((String, Vec<usize>), (String, Vec<usize>)) {
    let email_at = name_len + 2;
    let name: String = text.chars().take(name_len).collect();
    let email: String = text.chars().skip(email_at).collect();
    let in_name = marks.iter().copied().filter(|i| *i < name_len).collect();
    let in_email = marks
        .iter()
        .filter_map(|i| i.checked_sub(email_at))
        .collect();
    ((name, in_name), (email, in_email))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str) -> Member {
        let email = format!("{}@contoso.com", name.to_lowercase().replace(' ', "."));
        Member {
            key: email.clone(),
            name: name.into(),
            email,
            instance: None,
            joined_at: 0,
            last_activity: None,
        }
    }

    // issue 13: name and e-mail are columns of their own, each keeping its
    // matched characters, so a match in the e-mail marks the e-mail.
    #[test]
    fn name_and_email_split_with_their_matches() {
        let text = "Ines Garcia  ines@contoso.com";
        let (name, email) = split_cells(text, 11, &[0, 1, 13, 14]);
        assert_eq!(name, ("Ines Garcia".to_owned(), vec![0, 1]));
        assert_eq!(email, ("ines@contoso.com".to_owned(), vec![0, 1]));
    }

    fn names(pane: &MembersPane) -> Vec<&str> {
        pane.visible()
            .iter()
            .map(|h| pane.rows[h.index()].name.as_str())
            .collect()
    }

    // R-G8: typing narrows, deleting gives back exactly what the shorter filter showed.
    #[test]
    fn backspace_restores_the_ranking_of_the_shorter_filter() {
        let mut out = Out::default();
        let mut pane = MembersPane::default();
        let rows = ["Ines Garcia", "Inez Gray", "Oscar Chen", "Laura Ines"]
            .map(member)
            .to_vec();
        pane.loaded(Ok(rows), &mut out);
        let mut shown = Vec::new();
        for q in ["i", "in", "ine", "ines g"] {
            pane.filter.set(q);
            pane.refilter(&mut out);
            shown.push(
                names(&pane)
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(shown[3][0], "Ines Garcia");
        assert!(shown[3].len() < shown[0].len(), "typing narrows");
        for (q, expected) in ["ine", "in", "i"].iter().zip(shown.iter().rev().skip(1)) {
            pane.filter.set(q);
            pane.refilter(&mut out);
            assert_eq!(&names(&pane), expected, "after deleting back to {q:?}");
        }
        pane.filter.set("");
        pane.refilter(&mut out);
        assert_eq!(pane.visible().len(), 4);
    }

    // Issue 13: o sorts by the next column and keeps the selected member
    // selected; typing narrows within the sort; after the last column the
    // ranking comes back.
    #[test]
    fn sorted_by_any_column_with_the_selection_kept() {
        let mut out = Out::default();
        let mut pane = MembersPane::default();
        let mut rows = ["Oscar Chen", "Ines Garcia", "Laura Ines", "Inez Gray"]
            .map(member)
            .to_vec();
        for (i, m) in rows.iter_mut().enumerate() {
            m.last_activity = Some(10 - i as i64);
        }
        pane.loaded(Ok(rows), &mut out);
        pane.cursor.selected = 1;
        pane.sort_by(pane.sort.next(COLUMNS.len()));
        assert_eq!(
            names(&pane),
            ["Ines Garcia", "Inez Gray", "Laura Ines", "Oscar Chen"]
        );
        assert_eq!(
            pane.selected().map(|m| m.name.as_str()),
            Some("Ines Garcia")
        );
        pane.filter.set("in");
        pane.refilter(&mut out);
        assert_eq!(names(&pane), ["Ines Garcia", "Inez Gray", "Laura Ines"]);
        pane.sort_by(pane.sort.reversed());
        assert_eq!(names(&pane), ["Laura Ines", "Inez Gray", "Ines Garcia"]);
        let mut sort = pane.sort;
        for _ in 0..COLUMNS.len() - 1 {
            sort = sort.next(COLUMNS.len());
        }
        pane.sort_by(sort);
        assert_eq!(
            names(&pane),
            ["Inez Gray", "Laura Ines", "Ines Garcia"],
            "last activity, oldest first"
        );
        pane.sort_by(pane.sort.next(COLUMNS.len()));
        assert_eq!(pane.sort, ListSort::default());
        let mut ranked = MembersPane::default();
        ranked.loaded(Ok(pane.rows.clone()), &mut out);
        ranked.filter.set("in");
        ranked.refilter(&mut out);
        assert_eq!(names(&pane), names(&ranked), "ranked again");
    }
}
