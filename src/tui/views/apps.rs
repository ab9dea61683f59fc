//! App permissions (issue 11, `:apps`): every OAuth app granted access, riskiest
//! first, with how many people granted it; Enter shows who granted what and when.
//! `!` revokes: on an app, every grant it holds; on its grants, the marked ones
//! (Space) or the selected one — through the act dialog, on the record.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::act::ActTargets;
use super::external::Load;
use crate::domain::grants::{Grant, is_risky};
use crate::service::{AppDetail, AppSummary, Event};
use crate::tui::action::Action;
use crate::tui::format::{ago, safe};
use crate::tui::govern::{GovernCmd, GovernDone};
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done};
use crate::tui::pane::{Component, Effect, Env, Handled, Out, Pane, PaneId, Target};
use crate::tui::theme::Theme;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{keep, masked_table, pane_block};

/// One app's grants, open over the list.
#[derive(Debug)]
pub struct GrantsView {
    pub instance: String,
    pub app_id: String,
    pub name: String,
    pub detail: Load<AppDetail>,
    pub cursor: Cursor,
    /// Grants marked with Space, by id.
    pub marked: std::collections::BTreeSet<String>,
    /// `!` on the list: act on all of them once they are read.
    act_when_read: bool,
    /// Opened by a pivot (from a person): Esc goes back there.
    pivoted: bool,
}

#[derive(Debug, Default)]
pub struct AppsPane {
    pub rows: Load<Vec<AppSummary>>,
    pub cursor: Cursor,
    pub open: Option<GrantsView>,
}

fn load(out: &mut Out) {
    out.run(Cmd::Govern(GovernCmd::LoadApps));
}

/// Scopes on one line, the risky ones marked `!`; Google's without the prefix
/// every one of them shares.
fn scopes_text(scopes: &[String]) -> String {
    let marked: Vec<String> = scopes
        .iter()
        .map(|s| {
            let shown = safe(s.trim_start_matches("https://www.googleapis.com/auth/"));
            if is_risky(s) {
                format!("{shown}!")
            } else {
                shown.into_owned()
            }
        })
        .collect();
    marked.join(" ")
}

/// When it was granted, where the app says (Google does not).
fn granted(env: &Env, at: Option<crate::domain::Micros>) -> String {
    at.map_or_else(|| "—".to_owned(), |t| ago(env.now, Some(t)))
}

fn reach(a: &AppSummary) -> String {
    match (a.all_users, a.application, a.users) {
        (true, _, _) => "all users".into(),
        (_, true, 0) => "the app itself".into(),
        (_, _, n) => n.to_string(),
    }
}

impl GrantsView {
    fn grants(&self) -> &[Grant] {
        self.detail.ready().map_or(&[], |d| d.grants.as_slice())
    }

    fn targets(&self, ids: Vec<String>, env: &Env) -> Option<ActTargets> {
        let instance = env
            .instances
            .iter()
            .map(|s| &s.instance)
            .find(|i| i.reference() == self.instance)?;
        let label = match ids.len() {
            1 => format!("a grant of {}", self.name),
            n => format!("{n} grants of {}", self.name),
        };
        Some(ActTargets {
            per_instance: vec![(instance.id, ids)],
            label,
            grants: true,
        })
    }

    /// `!`: the marked grants, else the selected one.
    fn act(&self, env: &Env, out: &mut Out) {
        let ids: Vec<String> = if self.marked.is_empty() {
            self.grants()
                .get(self.cursor.selected)
                .map(|g| g.id.clone())
                .into_iter()
                .collect()
        } else {
            self.marked.iter().cloned().collect()
        };
        if let Some(t) = self
            .targets(ids, env)
            .filter(|t| !t.per_instance[0].1.is_empty())
        {
            out.push(Effect::Act(t));
        }
    }
}

impl AppsPane {
    fn apps(&self) -> &[AppSummary] {
        self.rows.ready().map_or(&[], Vec::as_slice)
    }

    fn open_selected(&mut self, act: bool, env: &Env, out: &mut Out) {
        let Some(app) = self.apps().get(self.cursor.selected) else {
            return;
        };
        // The instance as commands name it: by app and name, never ambiguous.
        let instance = env
            .instances
            .iter()
            .map(|s| &s.instance)
            .find(|i| i.name == app.instance && i.app == app.vendor)
            .map_or_else(|| app.instance.clone(), |i| i.reference());
        let (id, name) = (app.app_id.clone(), app.name.clone());
        self.open_app(instance, (id, name), act, false, out);
    }

    fn open_app(
        &mut self,
        instance: String,
        (app_id, name): (String, String),
        act: bool,
        pivoted: bool,
        out: &mut Out,
    ) {
        out.run(Cmd::Govern(GovernCmd::LoadAppGrants {
            instance: instance.clone(),
            app: app_id.clone(),
        }));
        self.open = Some(GrantsView {
            instance,
            app_id,
            name,
            detail: Load::Loading,
            cursor: Cursor::default(),
            marked: Default::default(),
            act_when_read: act,
            pivoted,
        });
    }

    fn grants_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        let Some(view) = &mut self.open else {
            return Handled::NotConsumed;
        };
        match action {
            Action::Back if view.pivoted => return Handled::NotConsumed,
            Action::Back => self.open = None,
            Action::Mark => {
                if let Some(id) = view
                    .grants()
                    .get(view.cursor.selected)
                    .map(|g| g.id.clone())
                {
                    if !view.marked.remove(&id) {
                        view.marked.insert(id);
                    }
                    let len = view.grants().len();
                    view.cursor.navigate(Action::Down, len);
                }
            }
            Action::Act => view.act(env, out),
            other => return view.cursor.navigate(other, view.grants().len()),
        }
        Handled::Consumed
    }
}

impl Component for AppsPane {
    fn contexts(&self) -> Vec<Context> {
        vec![Context::Apps, Context::Global]
    }

    fn on_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        if self.open.is_some() {
            return self.grants_action(action, env, out);
        }
        match action {
            Action::Open => self.open_selected(false, env, out),
            // On an app: every grant it holds, once they are read.
            Action::Act => self.open_selected(true, env, out),
            other => return self.cursor.navigate(other, self.apps().len()),
        }
        Handled::Consumed
    }

    fn click(&mut self, y: u16, _env: &Env, _out: &mut Out) -> Handled {
        match &mut self.open {
            Some(view) => {
                let len = view.grants().len();
                view.cursor.click(y, len)
            }
            None => self.cursor.click(y, self.apps().len()),
        }
    }

    fn done(&mut self, done: Done, env: &Env, out: &mut Out) -> Option<Done> {
        match done {
            Done::Govern(GovernDone::Apps(result)) => {
                self.rows = match result {
                    Ok(rows) => {
                        self.cursor.clamp(rows.len());
                        Load::Ready(rows)
                    }
                    Err(e) => Load::Failed(e.message),
                };
                None
            }
            Done::Govern(GovernDone::AppGrants {
                instance,
                app,
                result,
            }) => {
                // An answer for an app no longer open is dropped.
                if let Some(view) = self
                    .open
                    .as_mut()
                    .filter(|v| v.instance == instance && v.app_id == app)
                {
                    view.detail = match result {
                        Ok(detail) => Load::Ready(detail),
                        Err(e) => Load::Failed(e.message),
                    };
                    view.cursor.clamp(view.grants().len());
                    if std::mem::take(&mut view.act_when_read) {
                        let all = view.grants().iter().map(|g| g.id.clone()).collect();
                        if let Some(t) = view.targets(all, env) {
                            out.push(Effect::Act(t));
                        }
                    }
                }
                None
            }
            other => Some(other),
        }
    }

    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        match &self.open {
            Some(view) => draw_grants(view, f, area, focused, env),
            None => draw_apps(self, f, area, focused, env),
        }
    }
}

impl Pane for AppsPane {
    fn event(&mut self, event: &Event, _env: &Env, out: &mut Out) {
        // A scan's new grants, or a revoke's, show at once; other scans change nothing here.
        if matches!(event, Event::Audited | Event::GrantsChanged) {
            load(out);
            if let Some(v) = &self.open {
                out.run(Cmd::Govern(GovernCmd::LoadAppGrants {
                    instance: v.instance.clone(),
                    app: v.app_id.clone(),
                }));
            }
        }
    }

    fn reload(&mut self, _env: &Env, out: &mut Out) {
        load(out);
    }

    fn show(&mut self, target: &Target, _env: &Env, out: &mut Out) {
        if let Target::AppGrants {
            instance,
            app,
            name,
        } = target
        {
            self.open_app(
                instance.clone(),
                (app.clone(), name.clone()),
                false,
                true,
                out,
            );
        }
    }

    fn breadcrumbs(&self, _env: &Env) -> Vec<String> {
        let mut path = vec![PaneId::Apps.title().to_owned()];
        if let Some(v) = &self.open {
            path.push(safe(&v.name).into_owned());
        }
        path
    }
}

fn selected_style(row: Row<'static>, selected: bool, theme: &Theme) -> Row<'static> {
    if selected {
        row.style(theme.selected())
    } else {
        row
    }
}

fn draw_apps(pane: &AppsPane, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
    let theme = &env.theme;
    let title = match &pane.rows {
        Load::Ready(rows) => format!("Apps granted access · {}", rows.len()),
        _ => "Apps granted access".to_owned(),
    };
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let empty = "No app grants read yet: they are read with each instance's users, for apps \
                 whose API lists them (Microsoft 365 with the Azure AD apps component)";
    let Some(apps) = pane.rows.rows_or_note(f, inner, empty, theme) else {
        return;
    };
    let w = inner.width;
    let mask = [true, w >= 90, true, true, w >= 60, w >= 110];
    let height = inner.height.saturating_sub(1) as usize;
    let range = pane.cursor.window(apps.len(), height);
    let rows: Vec<Row> = apps[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let risky = Span::styled(
                a.risky.len().to_string(),
                if a.risky.is_empty() {
                    theme.dim()
                } else {
                    theme.warning()
                },
            );
            let row = Row::new(keep(
                [
                    Cell::from(safe(&a.name).into_owned()),
                    Cell::from(safe(&a.instance).into_owned()),
                    Cell::from(reach(a)),
                    Cell::from(risky),
                    Cell::from(scopes_text(&a.risky)),
                    Cell::from(granted(env, a.last_granted)),
                ],
                &mask,
            ));
            selected_style(
                row,
                focused && range.start + i == pane.cursor.selected,
                theme,
            )
        })
        .collect();
    pane.cursor.place(inner.y + 1);
    masked_table(
        f,
        inner,
        rows,
        [
            "App",
            "Instance",
            "Users",
            "Risky",
            "Riskiest scopes",
            "Last granted",
        ],
        [
            Constraint::Fill(2),
            Constraint::Length(14),
            Constraint::Length(14),
            Constraint::Length(5),
            Constraint::Fill(3),
            Constraint::Length(13),
        ],
        &mask,
        theme,
    );
}

fn draw_grants(view: &GrantsView, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
    let theme = &env.theme;
    let mut title = format!("{} — who granted what", safe(&view.name));
    if !view.marked.is_empty() {
        title.push_str(&format!(" · {} marked", view.marked.len()));
    }
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let grants: &[Grant] = match &view.detail {
        Load::Ready(d) if !d.grants.is_empty() => &d.grants,
        other => {
            let note: Load<Vec<Grant>> = match other {
                Load::Failed(e) => Load::Failed(e.clone()),
                Load::Ready(_) => Load::Ready(Vec::new()),
                _ => Load::Loading,
            };
            note.rows_or_note(f, inner, "No grant left: every one was revoked", theme);
            return;
        }
    };
    let height = inner.height.saturating_sub(1) as usize;
    let range = view.cursor.window(grants.len(), height);
    let mask = [true, true, inner.width >= 70];
    let rows: Vec<Row> = grants[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let who = g.user.clone().unwrap_or_else(|| g.kind.label().to_owned());
            let mark = if view.marked.contains(&g.id) {
                "◆ "
            } else {
                ""
            };
            let who = Line::from(vec![
                Span::styled(mark, theme.key()),
                Span::raw(safe(&who).into_owned()),
            ]);
            let row = Row::new(keep(
                [
                    Cell::from(who),
                    Cell::from(scopes_text(&g.scopes)),
                    Cell::from(granted(env, g.granted_at)),
                ],
                &mask,
            ));
            selected_style(
                row,
                focused && range.start + i == view.cursor.selected,
                theme,
            )
        })
        .collect();
    view.cursor.place(inner.y + 1);
    masked_table(
        f,
        inner,
        rows,
        ["Granted by", "Scopes (! risky)", "When"],
        [
            Constraint::Fill(2),
            Constraint::Fill(3),
            Constraint::Length(13),
        ],
        &mask,
        theme,
    );
}
