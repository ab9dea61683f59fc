//! The dashboard's state and its one update function. Nothing here touches
//! a terminal or the service: keys and results come in as `Msg`s, and work
//! goes out as `Cmd`s, so all of it is tested without either.
//!
//! `App` routes: a key goes to the dialog or pane that has the keyboard,
//! and what that does not take is the App's own (switching panes, opening
//! dialogs, `:` commands, Esc back along the pivots). Results go to whoever
//! claims them; what a pane asks for comes back as `Effect`s.

mod clipboard;
mod commands;
mod draw;
mod mouse;
mod nav;
mod overlay;

pub use nav::{BackStack, Visit};
pub use overlay::Overlay;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::govern::{GovernCmd, GovernDone};
use super::input::one_line;
use super::keymap::{Context, Keymap};
use super::msg::{Cmd, Done, Msg};
use super::pane::{Component, Effect, Env, Handled, Job, Out, Pane, PaneId};
use super::theme::Theme;
use super::views::act::ActDialog;
use super::views::activities::ActivitiesPane;
use super::views::alerts::AlertsPane;
use super::views::apps::AppsPane;
use super::views::audit::AuditPane;
use super::views::connect::Wizard;
use super::views::connectors::ConnectorsPane;
use super::views::external::ExternalPane;
use super::views::groups::GroupsPane;
use super::views::members::MembersPane;
use super::views::picker::Picker;
use super::watch::{WatchCmd, WatchDone};
use super::widgets::chrome::Toast;
use super::widgets::help::{Help, Topic};
use crate::domain::Micros;
use crate::service::{Event, JobId, Level};

/// How long a toast stays.
const TOAST_MICROS: Micros = 6_000_000;
const TOASTS_KEPT: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Hangup,
    Panicked,
    /// The `casbah serve` the dashboard was attached to stopped (issue 9).
    ServerStopped,
}

#[derive(Debug, Default)]
pub struct Panes {
    pub connectors: ConnectorsPane,
    pub groups: GroupsPane,
    pub members: MembersPane,
    pub activities: ActivitiesPane,
    pub external: ExternalPane,
    pub audit: AuditPane,
    pub apps: AppsPane,
    pub alerts: AlertsPane,
}

impl Panes {
    pub fn get(&self, id: PaneId) -> &dyn Pane {
        match id {
            PaneId::Connectors => &self.connectors,
            PaneId::Groups => &self.groups,
            PaneId::Members => &self.members,
            PaneId::Activities => &self.activities,
            PaneId::External => &self.external,
            PaneId::Audit => &self.audit,
            PaneId::Apps => &self.apps,
            PaneId::Alerts => &self.alerts,
        }
    }

    pub fn get_mut(&mut self, id: PaneId) -> &mut dyn Pane {
        match id {
            PaneId::Connectors => &mut self.connectors,
            PaneId::Groups => &mut self.groups,
            PaneId::Members => &mut self.members,
            PaneId::Activities => &mut self.activities,
            PaneId::External => &mut self.external,
            PaneId::Audit => &mut self.audit,
            PaneId::Apps => &mut self.apps,
            PaneId::Alerts => &mut self.alerts,
        }
    }

    /// In tab order.
    fn all_mut(&mut self) -> [&mut dyn Pane; 8] {
        [
            &mut self.connectors,
            &mut self.groups,
            &mut self.members,
            &mut self.activities,
            &mut self.external,
            &mut self.audit,
            &mut self.apps,
            &mut self.alerts,
        ]
    }
}

pub struct App {
    pub env: Env,
    pub focus: PaneId,
    pub panes: Panes,
    /// Dialogs do not stack: at most one of these is open.
    pub picker: Option<Picker>,
    pub wizard: Option<Wizard>,
    /// Issue 11: acting on accounts.
    pub act: Option<ActDialog>,
    /// Issue 11: `--read-only` was given: actions stay off whatever the service says.
    pub no_actions: bool,
    pub overlay: Overlay,
    /// Where Esc goes back to from a pivot.
    pub back: BackStack,
    pub toasts: Vec<Toast>,
    /// Set when the screen must be cleared and fully redrawn (Ctrl-L).
    pub clear: bool,
    /// `z`: the focused pane has the whole screen.
    pub zoomed: bool,
    /// Text to put on the clipboard (OSC 52) with the next frame.
    pub clipboard: Option<String>,
    /// Whether the terminal takes OSC 52; when not, a copy shows the text to select.
    pub osc52: bool,
    /// Where each pane was drawn in the last frame, for the mouse.
    drawn: std::cell::RefCell<Vec<(PaneId, ratatui::layout::Rect)>>,
    pub exit: Option<Exit>,
    cmds: Vec<Cmd>,
    dirty: bool,
    /// Jobs that ended before the list of jobs running at start came: that
    /// list may still name them (`None` once it came).
    ended_early: Option<Vec<JobId>>,
}

impl App {
    pub fn new(keymap: Keymap, theme: Theme, database: String, now: Micros) -> App {
        App {
            env: Env::new(keymap, theme, database, now),
            focus: PaneId::Groups,
            panes: Panes::default(),
            picker: None,
            wizard: None,
            act: None,
            no_actions: false,
            overlay: Overlay::None,
            back: BackStack::default(),
            toasts: Vec::new(),
            clear: false,
            zoomed: false,
            clipboard: None,
            osc52: true,
            drawn: Default::default(),
            exit: None,
            cmds: Vec::new(),
            dirty: true,
            ended_early: Some(Vec::new()),
        }
    }

    /// The loads that fill the screen at start.
    pub fn start(&mut self) -> Vec<Cmd> {
        self.cmds.extend([
            Cmd::LoadJobs,
            Cmd::LoadInstances,
            Cmd::LoadGroups,
            Cmd::LoadSavedQueries,
            Cmd::LoadExternalConnections,
            Cmd::Govern(GovernCmd::ReadOnly),
            Cmd::Govern(GovernCmd::LoadAudit),
            Cmd::Govern(GovernCmd::LoadApps),
            Cmd::Watch(WatchCmd::LoadCounts),
            Cmd::Watch(WatchCmd::LoadAlerts),
        ]);
        let mut out = Out::default();
        self.panes.activities.reload(&self.env, &mut out);
        self.apply(out);
        std::mem::take(&mut self.cmds)
    }

    /// True once after anything visible changed.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::replace(&mut self.dirty, false)
    }

    pub fn take_cmds(&mut self) -> Vec<Cmd> {
        std::mem::take(&mut self.cmds)
    }

    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        self.toasts.push(Toast {
            level,
            text: text.into(),
            until: self.env.now + TOAST_MICROS,
        });
        if self.toasts.len() > TOASTS_KEPT {
            self.toasts.remove(0);
        }
        self.dirty = true;
    }

    pub fn update(&mut self, msg: Msg) {
        match msg {
            Msg::Key(key) => {
                self.dirty = true;
                self.key(key);
            }
            Msg::Resize => self.dirty = true,
            Msg::Mouse(m) => {
                self.dirty = true;
                self.mouse(m);
            }
            Msg::Paste(text) => {
                self.dirty = true;
                self.paste(&text);
            }
            Msg::Tick => {
                let now = self.env.now;
                self.toasts.retain(|t| t.until > now);
                if let Some(cmd) = self.wizard.as_mut().and_then(|w| w.tick(now)) {
                    self.cmds.push(cmd);
                }
                // A frame a second keeps the clock and ages current; it is cheap
                // because only changed cells are written, and its write is what
                // notices a terminal that has gone away.
                self.dirty = true;
            }
            Msg::Service(event) => self.service_event(event),
            Msg::Lagged => {
                self.dirty = true;
                self.cmds.extend([Cmd::LoadInstances, Cmd::LoadGroups]);
                let mut out = Out::default();
                for pane in self.panes.all_mut() {
                    pane.reload(&self.env, &mut out);
                }
                self.apply(out);
            }
            Msg::Done(done) => {
                self.dirty = true;
                self.done(done);
            }
            Msg::SearchDue(seq) => {
                if let Some(cmd) = self.picker.as_mut().and_then(|p| p.search_due(seq)) {
                    self.cmds.push(cmd);
                    self.dirty = true;
                }
            }
            Msg::Terminate => self.exit = Some(Exit::Quit),
            Msg::Hangup => self.exit = Some(Exit::Hangup),
            Msg::Panicked => self.exit = Some(Exit::Panicked),
        }
    }

    /// Jobs and notices are the App's; the panes each act on what concerns them.
    fn service_event(&mut self, event: Event) {
        let jobs = &mut self.env.jobs;
        match &event {
            Event::JobStarted { id, job, label } => {
                jobs.insert(
                    *id,
                    Job {
                        kind: job.clone(),
                        label: label.clone(),
                        done: 0,
                        total: None,
                    },
                );
                self.dirty = true;
            }
            Event::JobProgress {
                id,
                label,
                done,
                total,
            } => {
                if let Some(job) = jobs.get_mut(id) {
                    job.label.clone_from(label);
                    // A wait says nothing of how far the work has come.
                    if total.is_some() {
                        (job.done, job.total) = (*done, *total);
                    }
                }
                self.dirty = true;
            }
            Event::JobFinished { id, .. } => {
                jobs.remove(id);
                self.ended_early.iter_mut().for_each(|e| e.push(*id));
                self.dirty = true;
            }
            Event::JobFailed { id, error } => {
                jobs.remove(id);
                self.ended_early.iter_mut().for_each(|e| e.push(*id));
                self.toast(Level::Error, error.clone());
            }
            Event::Notification { level, text } => self.toast(*level, text.clone()),
            Event::InstancesChanged => self.cmds.push(Cmd::LoadInstances),
            Event::GroupsChanged => self.cmds.push(Cmd::LoadGroups),
            Event::Audited | Event::GrantsChanged => {}
            Event::AlertsChanged => self.cmds.push(Cmd::Watch(WatchCmd::LoadCounts)),
            Event::Reload => return self.update(Msg::Lagged),
            Event::ServerStopped => return self.exit = Some(Exit::ServerStopped),
            Event::ActivitiesIngested { .. } | Event::ExternalChanged { .. } => {}
        }
        let mut out = Out::default();
        for pane in self.panes.all_mut() {
            pane.event(&event, &self.env, &mut out);
        }
        self.apply(out);
    }

    fn done(&mut self, done: Done) {
        // Instances and groups are everyone's: they live in `Env`.
        let done = match done {
            // What ran before this dashboard started, as its events would have said.
            Done::Jobs(Ok(running)) => {
                let ended = self.ended_early.take().unwrap_or_default();
                for job in running.into_iter().filter(|j| !ended.contains(&j.id)) {
                    self.env.jobs.entry(job.id).or_insert(Job {
                        kind: job.job,
                        label: job.label,
                        done: 0,
                        total: None,
                    });
                }
                self.dirty = true;
                return;
            }
            Done::Jobs(Err(e)) => {
                self.ended_early = None;
                return self.toast(Level::Warning, e.message);
            }
            Done::Instances(result) => {
                // issue 13: an empty database starts where it can be filled.
                let first = !self.panes.connectors.loaded;
                if first && result.as_ref().is_ok_and(Vec::is_empty) && self.focus == PaneId::Groups
                {
                    self.focus = PaneId::Connectors;
                }
                let result = result.map(|rows| self.env.instances = rows);
                self.panes.connectors.loaded(result, &self.env);
                self.panes.groups.refilter(&self.env);
                return;
            }
            Done::Groups(Ok(groups)) => {
                let selected = self.panes.groups.selected(&self.env).map(|g| g.id);
                self.env.groups = groups;
                self.panes.groups.loaded(selected, &self.env);
                if let Some(p) = &mut self.picker {
                    p.imported_total = self.env.imported_count();
                }
                return;
            }
            Done::Groups(Err(e)) => return self.panes.groups.failed(e.message),
            Done::Watch(WatchDone::Counts(result)) => {
                match result {
                    Ok(counts) => self.env.alerts = counts,
                    Err(e) => tracing::warn!("alert counts: {}", e.message),
                }
                self.dirty = true;
                return;
            }
            Done::Govern(GovernDone::ReadOnly(refused)) => {
                self.env.read_only = refused || self.no_actions;
                self.dirty = true;
                return;
            }
            other => other,
        };
        let mut out = Out::default();
        let mut left = Some(done);
        let dialogs = [
            self.picker.as_mut().map(|p| p as &mut dyn Component),
            self.wizard.as_mut().map(|w| w as &mut dyn Component),
            self.act.as_mut().map(|a| a as &mut dyn Component),
        ];
        let panes = self.panes.all_mut().map(|p| Some(p as &mut dyn Component));
        for c in dialogs.into_iter().chain(panes).flatten() {
            if let Some(done) = left.take() {
                left = c.done(done, &self.env, &mut out);
            }
        }
        self.apply(out);
        if let Some(done) = left {
            self.unclaimed(done);
        }
    }

    /// Results no pane or dialog took: outcomes to tell, and those of a
    /// dialog closed since, dropped.
    fn unclaimed(&mut self, done: Done) {
        match done {
            Done::Imported { name, result } => match result {
                Ok(()) => self.toast(Level::Info, format!("importing {name}…")),
                Err(e) => self.toast(Level::Error, e.message),
            },
            Done::Synced(Ok(n)) => self.toast(Level::Info, format!("{n} scans started")),
            Done::Synced(Err(e)) => self.toast(Level::Error, e.message),
            // The service's notice says it, to every dashboard attached.
            Done::Cancelled(Ok(_)) => {}
            Done::Cancelled(Err(e)) => self.toast(Level::Warning, e.message),
            Done::QuerySaved { name, result } => match result {
                Ok(()) => {
                    self.toast(Level::Info, format!("saved query {name}"));
                    self.cmds.push(Cmd::LoadSavedQueries);
                }
                Err(e) => self.toast(Level::Error, e.message),
            },
            Done::Connected(Ok(_)) => {
                // The service's own notice says it connected.
                self.wizard = None;
                self.cmds.push(Cmd::LoadInstances);
            }
            Done::Connected(Err(e)) => self.toast(Level::Error, e.message),
            Done::Log(lines) => self.overlay = Overlay::Help(Help::new(Topic::Log(lines))),
            _ => {}
        }
    }

    /// Carries out what a pane or dialog asked for.
    fn apply(&mut self, out: Out) {
        for effect in out.into_effects() {
            match effect {
                Effect::Run(cmd) => self.cmds.push(cmd),
                Effect::RunOnce(cmd) => {
                    if !self.cmds.contains(&cmd) {
                        self.cmds.push(cmd);
                    }
                }
                Effect::Toast(level, text) => self.toast(level, text),
                Effect::Pivot(target) => self.pivot(target),
                Effect::Focus(pane) => self.focus = pane,
                Effect::Copy(text) => self.copy(text),
                Effect::Close => {
                    self.picker = None;
                    self.wizard = None;
                    self.act = None;
                }
                Effect::Act(targets) => self.open_act(targets),
            }
        }
    }

    /// The keymap contexts for the current state, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        if let Some(p) = &self.picker {
            return p.contexts();
        }
        if let Some(w) = &self.wizard {
            return w.contexts();
        }
        if let Some(a) = &self.act {
            return a.contexts();
        }
        if self.prompting() {
            return vec![Context::Input];
        }
        let mut contexts = self.panes.get(self.focus).contexts();
        // Issue 11: where accounts are shown, the keys that act on them, unless read-only.
        let accounts =
            |c: &Context| matches!(c, Context::Members | Context::Person | Context::Apps);
        if let Some(at) = contexts
            .iter()
            .position(accounts)
            .filter(|_| !self.env.read_only)
        {
            contexts.insert(at + 1, Context::Act);
        }
        contexts
    }

    /// A paste types into the field that has the keyboard: in the wizard as
    /// it says, elsewhere on one line. With no field to take it, it is
    /// dropped rather than read as keys.
    fn paste(&mut self, text: &str) {
        if let Some(w) = &mut self.wizard {
            return w.paste(text);
        }
        let typing = self.picker.is_some()
            || self.act.as_ref().is_some_and(|a| a.typing())
            || self.prompting()
            || self.panes.get(self.focus).typing();
        if typing {
            for c in one_line(text).chars() {
                self.key(KeyEvent::from(KeyCode::Char(c)));
            }
        }
    }

    fn key(&mut self, key: KeyEvent) {
        if let Overlay::Help(_) = self.overlay {
            return self.help_key(key);
        }
        let action = self.env.keymap.action(&self.contexts(), key);
        if self.prompting() {
            return match action {
                Some(a) => self.prompt_action(a),
                None => self.prompt_edit(key),
            };
        }
        let mut out = Out::default();
        let App {
            env,
            focus,
            panes,
            picker,
            wizard,
            act,
            ..
        } = self;
        let keyboard: &mut dyn Component = match (picker, wizard, act) {
            (Some(p), _, _) => p,
            (None, Some(w), _) => w,
            (None, None, Some(a)) => a,
            (None, None, None) => panes.get_mut(*focus),
        };
        let handled = match action {
            Some(a) => keyboard.on_action(a, env, &mut out),
            None => keyboard.on_key(key, env, &mut out),
        };
        self.apply(out);
        if let (Handled::NotConsumed, Some(a)) = (handled, action) {
            self.perform(a, None);
        }
    }
}

#[cfg(test)]
mod tests;
