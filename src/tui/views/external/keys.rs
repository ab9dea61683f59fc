//! What the External groups pane does with keys, results and events. The
//! access checker, when open, has the keyboard: letters type into it.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::ExternalPane;
use crate::domain::AppKind;
use crate::service::{Event, Level};
use crate::tui::action::Action;
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done};
use crate::tui::pane::{Component, Effect, Env, Handled, Out, Pane, PaneId, list_contexts};

impl ExternalPane {
    fn checker_action(&mut self, action: Action, out: &mut Out) -> Handled {
        let Some(c) = &mut self.checker else {
            return Handled::NotConsumed;
        };
        let cmd = match action {
            Action::Back => {
                self.checker = None;
                None
            }
            Action::Quit => return Handled::NotConsumed,
            Action::Up => c.up(),
            Action::Down => c.down(),
            Action::Complete => {
                c.switch();
                None
            }
            Action::Submit | Action::Open => c.submit(),
            _ => None,
        };
        out.run_all(cmd);
        Handled::Consumed
    }

    fn filter_action(&mut self, action: Action, out: &mut Out) -> Handled {
        match action {
            Action::Submit => self.editing = false,
            Action::Back => {
                self.editing = false;
                self.filter_input().set("");
                out.run_all(self.refilter());
            }
            Action::Quit => return Handled::NotConsumed,
            _ => {}
        }
        Handled::Consumed
    }

    /// `a` or `:access-check`: the checker on the item in view, else on the
    /// connection in view, else on the first connection.
    fn open_checker_in_view(&mut self, out: &mut Out) {
        let (conn, item) = match self.current_item() {
            Some((conn, item)) => (Some(conn), Some(item)),
            None => (
                self.current_conn()
                    .or_else(|| self.tree.conns.first())
                    .map(|d| d.conn.id.clone()),
                None,
            ),
        };
        match conn {
            Some(conn) => out.run_all(self.open_checker(conn, item)),
            None => out.toast(
                Level::Warning,
                "no Graph connection: add one with `casbah external connections add` first",
            ),
        }
    }

    /// `r`: the connections of the instance in view are read from Graph again.
    fn refresh_connections(&self, env: &Env, out: &mut Out) {
        let instance = self
            .current_conn()
            .map(|d| d.conn.instance.clone())
            .or_else(|| {
                env.instances
                    .iter()
                    .find(|s| s.instance.app == AppKind::Microsoft365)
                    .map(|s| s.instance.name.clone())
            });
        match instance {
            Some(name) => out.run(Cmd::RefreshConnections(name)),
            None => out.toast(
                Level::Warning,
                "no Microsoft 365 instance connected: Graph connections live in one",
            ),
        }
    }

    /// `:external NAME`: opens and selects that connection.
    pub fn show_named(&mut self, name: &str, out: &mut Out) {
        match self.show_connection(name) {
            Ok(cmds) => out.run_all(cmds),
            Err(message) => out.toast(Level::Error, message),
        }
    }
}

impl Component for ExternalPane {
    fn contexts(&self) -> Vec<Context> {
        if self.checker.is_some() {
            vec![Context::Checker]
        } else {
            list_contexts(Context::External, self.editing)
        }
    }

    fn on_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled {
        if self.checker.is_some() {
            return self.checker_action(action, out);
        }
        if self.editing {
            return self.filter_action(action, out);
        }
        match action {
            Action::Open => out.run_all(self.open()),
            Action::Back if !self.back() => return Handled::NotConsumed,
            Action::Back => {}
            Action::Filter if self.can_filter() => self.editing = true,
            Action::Expand => out.run_all(self.expand()),
            Action::Collapse => self.collapse(),
            Action::AccessCheck => self.open_checker_in_view(out),
            Action::WhoCanSee => match self.open_who() {
                Ok(cmd) => out.run(cmd),
                Err(message) => out.toast(Level::Warning, message),
            },
            Action::Refresh => self.refresh_connections(env, out),
            _ => return self.navigate(action),
        }
        Handled::Consumed
    }

    fn on_key(&mut self, key: KeyEvent, _env: &Env, out: &mut Out) -> Handled {
        if let Some(c) = &mut self.checker {
            out.run_all(c.edit(key));
        } else if self.editing {
            if self.filter_input().edit(key) {
                out.run_all(self.refilter());
            }
        } else {
            return Handled::NotConsumed;
        }
        Handled::Consumed
    }

    fn typing(&self) -> bool {
        self.checker.is_some() || self.editing
    }

    fn done(&mut self, done: Done, _env: &Env, out: &mut Out) -> Option<Done> {
        match done {
            Done::ExternalConnections(result) => {
                out.run_all(self.connections_loaded(result));
            }
            Done::ExternalGroups { connection, result } => self.groups_loaded(&connection, result),
            Done::ExternalItems { connection, result } => {
                out.run_all(self.items_loaded(&connection, result));
            }
            Done::DirectoryUsers { connection, result } => {
                out.run_all(self.users_loaded(&connection, result));
            }
            Done::Ranked(ranked) => match self.ranked(ranked) {
                Ok(check) => out.run_all(check),
                Err(other) => return Some(Done::Ranked(other)),
            },
            Done::AccessChecked { seq, result } => {
                if let Some(c) = &mut self.checker {
                    c.answered(seq, result);
                }
            }
            Done::VisibleItems { seq, result } => {
                if let Some(c) = &mut self.checker {
                    c.items_answered(seq, result);
                }
            }
            Done::Audience {
                connection,
                item,
                result,
            } => out.run_all(self.audience_loaded(&connection, &item, result)),
            Done::ConnectionsRefreshed(Ok(summary)) => {
                out.toast(Level::Info, summary);
                out.run(Cmd::LoadExternalConnections);
            }
            Done::ConnectionsRefreshed(Err(e)) => out.toast(Level::Error, e.message),
            other => return Some(other),
        }
        None
    }

    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env) {
        super::draw::draw(self, f, area, env, focused)
    }
}

impl Pane for ExternalPane {
    fn event(&mut self, event: &Event, _env: &Env, out: &mut Out) {
        if let Event::ExternalChanged { connection } = event {
            // A refresh announces every connection at once: one load each.
            for cmd in self.changed(connection.as_str()) {
                out.push(Effect::RunOnce(cmd));
            }
        }
    }

    fn reload(&mut self, _env: &Env, out: &mut Out) {
        out.run_all(self.reload_all());
    }

    fn breadcrumbs(&self, _env: &Env) -> Vec<String> {
        let mut path = vec![PaneId::External.title().to_owned()];
        path.extend(self.trail());
        path
    }
}
