//! The dashboard's state and its one update function. Nothing here touches
//! a terminal or the service: keys and results come in as `Msg`s, and work
//! goes out as `Cmd`s, so all of it is tested without either.

use std::collections::BTreeMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::action::Action;
use super::fuzzy::Fuzzy;
use super::input::{Input, one_line};
use super::keymap::{Context, Keymap};
use super::msg::{Cmd, Done, ExportFormat, Msg};
use super::theme::Theme;
use super::views::activities::ActivitiesPane;
use super::views::connect::{Step, Wizard};
use super::views::connectors::ConnectorsPane;
use super::views::external::ExternalPane;
use super::views::groups::GroupsPane;
use super::views::members::MembersPane;
use super::views::picker::Picker;
use crate::domain::{AppKind, GroupKind, Micros};
use crate::service::{Event, JobId, JobKind, Level};
use crate::store::IMPORT_LIMIT;

/// How long a toast stays.
const TOAST_MICROS: Micros = 6_000_000;
const TOASTS_KEPT: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Connectors,
    Groups,
    Members,
    Activities,
    External,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::Connectors,
        Pane::Groups,
        Pane::Members,
        Pane::Activities,
        Pane::External,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Connectors => "Connectors",
            Pane::Groups => "Groups",
            Pane::Members => "Members",
            Pane::Activities => "Activities",
            Pane::External => "External groups",
        }
    }

    pub fn context(self) -> Context {
        match self {
            Pane::Connectors => Context::Connectors,
            Pane::Groups => Context::Groups,
            Pane::Members => Context::Members,
            Pane::Activities => Context::Activities,
            Pane::External => Context::External,
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub level: Level,
    pub text: String,
    pub until: Micros,
}

/// What covers the panes, if anything.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Help {
        scroll: usize,
    },
    Command {
        input: Input,
        completions: Vec<String>,
        chosen: Option<usize>,
    },
    /// The name for saving the current activity filter.
    SaveQuery {
        input: Input,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Hangup,
    Panicked,
    /// The `casbah serve` the dashboard was attached to stopped (issue 9).
    ServerStopped,
}

pub struct App {
    pub keymap: Keymap,
    pub theme: Theme,
    pub fuzzy: Fuzzy,
    /// The database shown in the header.
    pub database: String,
    /// Wall clock, set by the runtime before each batch of messages.
    pub now: Micros,
    pub focus: Pane,
    pub connectors: ConnectorsPane,
    pub groups: GroupsPane,
    pub members: MembersPane,
    pub activities: ActivitiesPane,
    pub external: ExternalPane,
    pub picker: Option<Picker>,
    pub wizard: Option<Wizard>,
    pub overlay: Overlay,
    pub toasts: Vec<Toast>,
    /// Background jobs running now, by id: what they do and their latest label.
    pub jobs: BTreeMap<JobId, (JobKind, String)>,
    /// Set when the screen must be cleared and fully redrawn (Ctrl-L).
    pub clear: bool,
    pub exit: Option<Exit>,
    /// Each picker keystroke's number; only the latest one's pause searches.
    search_seq: u64,
    cmds: Vec<Cmd>,
    dirty: bool,
}

impl App {
    pub fn new(keymap: Keymap, theme: Theme, database: String, now: Micros) -> App {
        App {
            keymap,
            theme,
            fuzzy: Fuzzy::default(),
            database,
            now,
            focus: Pane::Groups,
            connectors: ConnectorsPane::default(),
            groups: GroupsPane::default(),
            members: MembersPane::default(),
            activities: ActivitiesPane::default(),
            external: ExternalPane::default(),
            picker: None,
            wizard: None,
            overlay: Overlay::None,
            toasts: Vec::new(),
            jobs: BTreeMap::new(),
            clear: false,
            exit: None,
            search_seq: 0,
            cmds: Vec::new(),
            dirty: true,
        }
    }

    /// The loads that fill the screen at start.
    pub fn start(&mut self) -> Vec<Cmd> {
        self.cmds.extend([
            Cmd::LoadInstances,
            Cmd::LoadGroups,
            Cmd::LoadSavedQueries,
            Cmd::LoadExternalConnections,
        ]);
        self.activities.loading = true;
        self.cmds.push(self.activities.reload_cmd());
        std::mem::take(&mut self.cmds)
    }

    /// True once after anything visible changed.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::replace(&mut self.dirty, false)
    }

    pub fn take_cmds(&mut self) -> Vec<Cmd> {
        std::mem::take(&mut self.cmds)
    }

    /// R-G7: a membership sync of this group is running.
    pub fn syncing(&self, group: crate::domain::GroupId) -> bool {
        self.jobs
            .values()
            .any(|(kind, _)| *kind == JobKind::SyncGroup { group })
    }

    pub fn imported_count(&self) -> usize {
        self.groups
            .all
            .iter()
            .filter(|g| matches!(g.kind, GroupKind::Imported { .. }))
            .count()
    }

    pub fn instance(&self, id: crate::domain::InstanceId) -> Option<&crate::domain::Instance> {
        self.connectors
            .rows
            .iter()
            .map(|s| &s.instance)
            .find(|i| i.id == id)
    }

    /// "okta · acme" (see `format::instance_label`).
    pub fn instance_label(&self, id: crate::domain::InstanceId) -> Option<String> {
        self.instance(id)
            .map(|i| super::format::instance_label(i.app, &i.name))
    }

    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        self.toasts.push(Toast {
            level,
            text: text.into(),
            until: self.now + TOAST_MICROS,
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
            Msg::Paste(text) => {
                self.dirty = true;
                self.paste(&text);
            }
            Msg::Tick => {
                let now = self.now;
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
                self.reload_activities();
                let cmds = self.external.reload_all();
                self.cmds.extend(cmds);
            }
            Msg::Done(done) => {
                self.dirty = true;
                self.done(done);
            }
            Msg::SearchDue(seq) => {
                if seq == self.search_seq
                    && let Some(p) = &mut self.picker
                    && let Some(cmd) = p.search_cmd()
                {
                    self.cmds.push(cmd);
                    self.dirty = true;
                }
            }
            Msg::Terminate => self.exit = Some(Exit::Quit),
            Msg::Hangup => self.exit = Some(Exit::Hangup),
            Msg::Panicked => self.exit = Some(Exit::Panicked),
        }
    }

    fn service_event(&mut self, event: Event) {
        match event {
            Event::JobStarted { id, job, label } => {
                self.jobs.insert(id, (job, label));
                self.dirty = true;
            }
            Event::JobProgress { id, label, .. } => {
                if let Some((_, l)) = self.jobs.get_mut(&id) {
                    *l = label;
                }
                self.dirty = true;
            }
            Event::JobFinished { id, .. } => {
                self.jobs.remove(&id);
                self.dirty = true;
            }
            Event::JobFailed { id, error } => {
                self.jobs.remove(&id);
                self.toast(Level::Error, error);
            }
            Event::Notification { level, text } => self.toast(level, text),
            Event::ActivitiesIngested { .. } => self.reload_activities(),
            Event::InstancesChanged => self.cmds.push(Cmd::LoadInstances),
            Event::GroupsChanged => {
                self.cmds.push(Cmd::LoadGroups);
                if let Some((id, _)) = &self.members.group {
                    self.cmds.push(Cmd::LoadMembers(*id));
                }
            }
            Event::Reload => self.update(Msg::Lagged),
            Event::ServerStopped => self.exit = Some(Exit::ServerStopped),
            Event::ExternalChanged { connection } => {
                // A refresh announces every connection at once: one load each.
                for cmd in self.external.changed(connection.as_str()) {
                    if !self.cmds.contains(&cmd) {
                        self.cmds.push(cmd);
                    }
                }
            }
        }
    }

    /// New activities: reload what is shown, once at a time.
    fn reload_activities(&mut self) {
        if self.activities.loading {
            self.activities.stale = true;
        } else {
            self.activities.loading = true;
            self.cmds.push(self.activities.reload_cmd());
        }
    }

    fn done(&mut self, done: Done) {
        match done {
            Done::Instances(Ok(rows)) => {
                self.connectors.rows = rows;
                self.connectors.loaded = true;
                self.connectors.error = None;
                self.connectors.cursor.clamp(self.connectors.rows.len());
                self.groups.refilter(&self.fuzzy);
            }
            Done::Instances(Err(e)) => self.connectors.error = Some(e.message),
            Done::Groups(result) => {
                match result {
                    Ok(groups) => self.groups.set(groups, &self.fuzzy),
                    Err(e) => self.groups.error = Some(e.message),
                }
                if let Some(p) = &mut self.picker {
                    p.imported_total = self
                        .groups
                        .all
                        .iter()
                        .filter(|g| matches!(g.kind, GroupKind::Imported { .. }))
                        .count();
                }
            }
            Done::Members { group, result } => {
                if self
                    .members
                    .group
                    .as_ref()
                    .is_some_and(|(id, _)| *id == group)
                {
                    self.members.loaded(result, &self.fuzzy);
                }
            }
            Done::Person { key, result } => self.members.person_loaded(&key, result),
            Done::Activities {
                filter,
                more,
                result,
            } => {
                let stale = std::mem::replace(&mut self.activities.stale, false);
                self.activities.loading = false;
                if filter == self.activities.filter {
                    self.activities.loaded(more, result);
                }
                if stale || filter != self.activities.filter {
                    self.reload_activities();
                }
            }
            Done::Available {
                instance,
                search,
                result,
            } => {
                if let Some(p) = &mut self.picker {
                    p.loaded(&instance, search.as_deref(), result, &self.fuzzy);
                }
            }
            Done::Imported { name, result } => match result {
                Ok(()) => self.toast(Level::Info, format!("importing {name}…")),
                Err(e) => self.toast(Level::Error, e.message),
            },
            Done::Synced(Ok(n)) => self.toast(Level::Info, format!("{n} scans started")),
            Done::Synced(Err(e)) => self.toast(Level::Error, e.message),
            Done::SavedQueries(Ok(list)) => self.activities.saved = list,
            Done::SavedQueries(Err(e)) => self.toast(Level::Error, e.message),
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
            Done::Connected(Err(e)) => match &mut self.wizard {
                Some(w) => w.failed(e.message),
                None => self.toast(Level::Error, e.message),
            },
            Done::SignInCode { seq, result } => {
                if let Some(w) = &mut self.wizard {
                    w.code_arrived(seq, result, self.now);
                }
            }
            Done::SignedIn { seq, result } => {
                if let Some(cmd) = self.wizard.as_mut().and_then(|w| w.signed_in(seq, result)) {
                    self.cmds.push(cmd);
                }
            }
            Done::ExternalConnections(result) => {
                let cmds = self.external.connections_loaded(result, &self.fuzzy);
                self.cmds.extend(cmds);
            }
            Done::ExternalGroups { connection, result } => {
                self.external
                    .groups_loaded(&connection, result, &self.fuzzy)
            }
            Done::ExternalItems { connection, result } => {
                self.external.items_loaded(&connection, result, &self.fuzzy)
            }
            Done::DirectoryUsers { connection, result } => {
                let cmd = self.external.users_loaded(&connection, result, &self.fuzzy);
                self.cmds.extend(cmd);
            }
            Done::AccessChecked { seq, result } => {
                if let Some(c) = &mut self.external.checker {
                    c.answered(seq, result);
                }
            }
            Done::VisibleItems { seq, result } => {
                if let Some(c) = &mut self.external.checker {
                    c.items_answered(seq, result);
                }
            }
            Done::Audience {
                connection,
                item,
                result,
            } => self
                .external
                .audience_loaded(&connection, &item, result, &self.fuzzy),
            Done::ConnectionsRefreshed(result) => match result {
                Ok(summary) => {
                    self.toast(Level::Info, summary);
                    self.cmds.push(Cmd::LoadExternalConnections);
                }
                Err(e) => self.toast(Level::Error, e.message),
            },
            Done::ExportProgress { rows } => self.activities.export = Some(rows),
            Done::Exported(result) => {
                self.activities.export = None;
                match result {
                    Ok((path, rows)) => self.toast(
                        Level::Info,
                        format!("exported {rows} activities to {}", path.display()),
                    ),
                    Err(e) => self.toast(Level::Error, e.message),
                }
            }
        }
    }

    /// The keymap contexts for the current state, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        if self.picker.is_some() {
            return vec![Context::Picker];
        }
        if self.wizard.is_some() {
            return vec![Context::Wizard];
        }
        if self.focus == Pane::External && self.external.checker.is_some() {
            return vec![Context::Checker];
        }
        if self.editing() {
            return vec![Context::Input];
        }
        vec![self.focus.context(), Context::Global]
    }

    /// A text field has the keyboard.
    pub fn editing(&self) -> bool {
        matches!(
            self.overlay,
            Overlay::Command { .. } | Overlay::SaveQuery { .. }
        ) || match self.focus {
            Pane::Groups => self.groups.editing,
            Pane::Members => self.members.editing && self.members.person.is_none(),
            Pane::Activities => self.activities.editor.is_some(),
            Pane::External => self.external.editing && self.external.checker.is_none(),
            Pane::Connectors => false,
        }
    }

    /// A paste types into the field that has the keyboard: in the wizard as
    /// it says, elsewhere on one line. With no field to take it, it is
    /// dropped rather than read as keys.
    fn paste(&mut self, text: &str) {
        if let Some(w) = &mut self.wizard {
            return w.paste(text);
        }
        let typing = self.picker.is_some()
            || self.editing()
            || (self.focus == Pane::External && self.external.checker.is_some());
        if typing {
            for c in one_line(text).chars() {
                self.key(KeyEvent::from(KeyCode::Char(c)));
            }
        }
    }

    fn key(&mut self, key: KeyEvent) {
        if let Overlay::Help { scroll } = &mut self.overlay {
            match self.keymap.action(&[Context::Global], key) {
                Some(Action::Down) => *scroll += 1,
                Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                Some(Action::Quit) if key.code != KeyCode::Char('q') => {
                    self.exit = Some(Exit::Quit)
                }
                _ => self.overlay = Overlay::None,
            }
            return;
        }
        let contexts = self.contexts();
        let action = self.keymap.action(&contexts, key);
        if self.picker.is_some() {
            match action {
                Some(a) => self.picker_action(a),
                None => self.picker_edit(key),
            }
            return;
        }
        if let Some(w) = &mut self.wizard {
            match w.key(action, key) {
                Step::Stay => {}
                Step::Close => self.wizard = None,
                Step::Quit => self.exit = Some(Exit::Quit),
                Step::Run(cmd) => self.cmds.push(cmd),
            }
            return;
        }
        if self.focus == Pane::External && self.external.checker.is_some() {
            match action {
                Some(a) => self.checker_action(a),
                None => self.checker_edit(key),
            }
            return;
        }
        if self.editing() {
            match action {
                Some(a) => self.input_action(a),
                None => self.input_edit(key),
            }
            return;
        }
        if let Some(a) = action {
            self.perform(a, None);
        }
    }

    /// Carries out an action from a key or a `:` command (with its argument).
    pub fn perform(&mut self, action: Action, arg: Option<String>) {
        match action {
            Action::Quit => self.exit = Some(Exit::Quit),
            Action::Help => self.overlay = Overlay::Help { scroll: 0 },
            Action::Redraw => self.clear = true,
            Action::CommandLine => {
                self.overlay = Overlay::Command {
                    input: Input::default(),
                    completions: Vec::new(),
                    chosen: None,
                }
            }
            Action::NextPane => self.focus = Pane::ALL[(self.focus.index() + 1) % Pane::ALL.len()],
            Action::PrevPane => {
                self.focus = Pane::ALL[(self.focus.index() + Pane::ALL.len() - 1) % Pane::ALL.len()]
            }
            Action::Connectors => self.focus = Pane::Connectors,
            Action::Groups => {
                self.focus = Pane::Groups;
                if let Some(text) = arg {
                    self.groups.filter.set(&text);
                    self.groups.refilter(&self.fuzzy);
                }
            }
            Action::Members => match arg {
                Some(name) => self.open_group_named(&name),
                None => self.focus = Pane::Members,
            },
            Action::Activities => {
                self.focus = Pane::Activities;
                if let Some(text) = arg {
                    self.apply_filter(text);
                }
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.navigate(action),
            Action::Open => self.open(),
            Action::Back => self.back(),
            Action::Filter => match self.focus {
                Pane::Groups => self.groups.editing = true,
                Pane::Members if self.members.person.is_none() => self.members.editing = true,
                Pane::Activities => self.activities.edit(),
                Pane::External if self.external.can_filter() => self.external.editing = true,
                _ => {}
            },
            Action::Import => self.open_picker(),
            Action::Sync => {
                let name =
                    arg.or_else(|| self.connectors.selected().map(|s| s.instance.reference()));
                self.cmds.push(Cmd::Sync(name));
            }
            Action::Connect => {
                let connected = self
                    .connectors
                    .rows
                    .iter()
                    .map(|s| s.instance.app)
                    .collect();
                self.focus = Pane::Connectors;
                self.wizard = Some(Wizard::new(connected));
            }
            Action::ExportCsv => self.export(ExportFormat::Csv),
            Action::ExportJson => self.export(ExportFormat::Json),
            Action::Queries => {
                self.focus = Pane::Activities;
                self.activities.open_queries();
            }
            Action::SaveQuery => {
                if self.activities.filter.trim().is_empty() {
                    self.toast(
                        Level::Warning,
                        "the filter is empty: press / to write one first",
                    );
                } else {
                    self.overlay = Overlay::SaveQuery {
                        input: Input::default(),
                    };
                }
            }
            Action::External => {
                self.focus = Pane::External;
                if let Some(name) = arg {
                    match self.external.show_connection(&name, &self.fuzzy) {
                        Ok(cmds) => self.cmds.extend(cmds),
                        Err(message) => self.toast(Level::Error, message),
                    }
                }
            }
            Action::Expand if self.focus == Pane::External => {
                let cmds = self.external.expand(&self.fuzzy);
                self.cmds.extend(cmds);
            }
            Action::Collapse if self.focus == Pane::External => self.external.collapse(&self.fuzzy),
            Action::AccessCheck => self.open_checker(),
            Action::WhoCanSee => {
                self.focus = Pane::External;
                match self.external.open_who() {
                    Ok(cmd) => self.cmds.push(cmd),
                    Err(message) => self.toast(Level::Warning, message),
                }
            }
            Action::Refresh => self.refresh_connections(),
            Action::Expand
            | Action::Collapse
            | Action::ToggleNotify
            | Action::Submit
            | Action::Complete => {}
        }
    }

    /// `a` or `:access-check`: the checker on the item in view, else on the
    /// connection in view, else on the first connection.
    fn open_checker(&mut self) {
        self.focus = Pane::External;
        let (conn, item) = match self.external.current_item() {
            Some((conn, item)) => (Some(conn), Some(item)),
            None => (
                self.external
                    .current_conn()
                    .or_else(|| self.external.tree.conns.first())
                    .map(|d| d.conn.id.clone()),
                None,
            ),
        };
        match conn {
            Some(conn) => {
                let cmds = self.external.open_checker(conn, item, &self.fuzzy);
                self.cmds.extend(cmds);
            }
            None => self.toast(
                Level::Warning,
                "no Graph connection: add one with `casbah external connections add` first",
            ),
        }
    }

    /// `r`: the connections of the instance in view are read from Graph again.
    fn refresh_connections(&mut self) {
        let instance = self
            .external
            .current_conn()
            .map(|d| d.conn.instance.clone())
            .or_else(|| {
                self.connectors
                    .rows
                    .iter()
                    .find(|s| s.instance.app == AppKind::Microsoft365)
                    .map(|s| s.instance.name.clone())
            });
        match instance {
            Some(name) => self.cmds.push(Cmd::RefreshConnections(name)),
            None => self.toast(
                Level::Warning,
                "no Microsoft 365 instance connected: Graph connections live in one",
            ),
        }
    }

    fn checker_action(&mut self, action: Action) {
        let Some(c) = &mut self.external.checker else {
            return;
        };
        let cmd = match action {
            Action::Back => {
                self.external.checker = None;
                None
            }
            Action::Quit => {
                self.exit = Some(Exit::Quit);
                None
            }
            Action::Up => c.up(),
            Action::Down => c.down(),
            Action::Complete => {
                c.switch();
                None
            }
            Action::Submit | Action::Open => c.submit(),
            _ => None,
        };
        self.cmds.extend(cmd);
    }

    fn checker_edit(&mut self, key: KeyEvent) {
        if let Some(c) = &mut self.external.checker {
            let cmd = c.edit(key, &self.fuzzy);
            self.cmds.extend(cmd);
        }
    }

    fn export(&mut self, format: ExportFormat) {
        if self.activities.export.is_some() {
            self.toast(Level::Warning, "an export is already running");
            return;
        }
        self.activities.export = Some(0);
        self.cmds.push(Cmd::Export {
            filter: self.activities.filter.clone(),
            format,
        });
    }

    fn navigate(&mut self, action: Action) {
        macro_rules! nav {
            ($cursor:expr, $len:expr) => {{
                let len = $len;
                let c = $cursor;
                match action {
                    Action::Up => c.up(),
                    Action::Down => c.down(len),
                    Action::PageUp => c.page_up(),
                    Action::PageDown => c.page_down(len),
                    Action::Top => c.top(),
                    _ => c.bottom(len),
                }
            }};
        }
        match self.focus {
            Pane::Connectors => nav!(&mut self.connectors.cursor, self.connectors.rows.len()),
            Pane::External => self.external.navigate(action),
            Pane::Groups => nav!(&mut self.groups.cursor, self.groups.visible.len()),
            Pane::Members => {
                if let Some(p) = &mut self.members.person {
                    match action {
                        Action::Up => p.scroll = p.scroll.saturating_sub(1),
                        Action::Down => p.scroll += 1,
                        _ => {}
                    }
                } else {
                    nav!(&mut self.members.cursor, self.members.visible.len())
                }
            }
            Pane::Activities => {
                if let Some(q) = &mut self.activities.queries {
                    let len = q.len();
                    nav!(&mut self.activities.queries_cursor, len);
                    return;
                }
                if self.activities.detail.is_some() {
                    return;
                }
                nav!(&mut self.activities.cursor, self.activities.rows.len());
                if self.activities.cursor.selected == 0 {
                    self.activities.new_count = 0;
                }
                if let Some(cmd) = self.activities.more_cmd() {
                    self.activities.loading = true;
                    self.cmds.push(cmd);
                }
            }
        }
    }

    fn open(&mut self) {
        match self.focus {
            Pane::Connectors => {
                if let Some(s) = self.connectors.selected() {
                    self.groups.instance = Some(s.instance.id);
                    self.groups.cursor.top();
                    self.groups.refilter(&self.fuzzy);
                    self.focus = Pane::Groups;
                }
            }
            Pane::Groups => {
                if let Some(g) = self.groups.selected() {
                    let (id, name) = (g.id, g.name.clone());
                    self.open_group(id, name);
                }
            }
            Pane::Members => {
                if self.members.person.is_none()
                    && let Some(m) = self.members.selected()
                {
                    let key = m.key.clone();
                    self.members.open_person(&key);
                    self.cmds.push(Cmd::LoadPerson(key));
                }
            }
            Pane::External => {
                let cmds = self.external.open(&self.fuzzy);
                self.cmds.extend(cmds);
            }
            Pane::Activities => {
                if self.activities.queries.is_some() {
                    if let Some(text) = self.activities.chosen_query() {
                        self.activities.queries = None;
                        self.apply_filter(text);
                    }
                } else {
                    self.activities.open_detail();
                }
            }
        }
    }

    fn open_group(&mut self, id: crate::domain::GroupId, name: String) {
        self.members.open_group(id, name);
        self.cmds.push(Cmd::LoadMembers(id));
        self.focus = Pane::Members;
    }

    fn open_group_named(&mut self, name: &str) {
        let found = self
            .groups
            .all
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name.trim()))
            .map(|g| (g.id, g.name.clone()));
        match found {
            Some((id, name)) => self.open_group(id, name),
            None => self.toast(
                Level::Error,
                format!("no group named {:?}; see :groups", name.trim()),
            ),
        }
    }

    /// Esc: closes the innermost thing open, then walks back up the drill-down.
    fn back(&mut self) {
        match self.focus {
            Pane::Activities if self.activities.queries.is_some() => self.activities.queries = None,
            Pane::Activities if self.activities.detail.is_some() => self.activities.detail = None,
            Pane::Members if self.members.person.is_some() => self.members.person = None,
            Pane::Members if !self.members.filter.text().is_empty() => {
                self.members.filter.set("");
                self.members.refilter(&self.fuzzy);
            }
            Pane::Members => self.focus = Pane::Groups,
            Pane::Groups if !self.groups.filter.text().is_empty() => {
                self.groups.filter.set("");
                self.groups.refilter(&self.fuzzy);
            }
            Pane::External => self.external.back(&self.fuzzy),
            Pane::Groups if self.groups.instance.is_some() => {
                self.groups.instance = None;
                self.groups.refilter(&self.fuzzy);
                self.focus = Pane::Connectors;
            }
            _ => {}
        }
    }

    /// The drill-down path for the breadcrumbs.
    pub fn breadcrumbs(&self) -> Vec<String> {
        let mut path = vec![self.focus.title().to_owned()];
        match self.focus {
            Pane::Groups => {
                if let Some(label) = self.groups.instance.and_then(|id| self.instance_label(id)) {
                    path.insert(0, label);
                }
            }
            Pane::Members => {
                if let Some((_, name)) = &self.members.group {
                    path = vec!["Groups".into(), name.clone(), "Members".into()];
                }
                if let Some(p) = &self.members.person {
                    path.push(p.key.clone());
                }
            }
            Pane::Activities => {
                if self.activities.queries.is_some() {
                    path.push("Queries".into());
                }
                if let Some(a) = &self.activities.detail {
                    path.push(a.id.clone());
                }
            }
            Pane::External => path.extend(self.external.trail()),
            Pane::Connectors => {}
        }
        path.into_iter()
            .map(|p| super::format::safe(&p).into_owned())
            .collect()
    }

    fn apply_filter(&mut self, text: String) {
        self.activities.set_filter(text);
        self.reload_activities();
    }

    fn open_picker(&mut self) {
        let connected: Vec<(AppKind, String)> = self
            .connectors
            .rows
            .iter()
            .map(|s| (s.instance.app, s.instance.name.clone()))
            .collect();
        if connected.is_empty() {
            self.toast(
                Level::Warning,
                "no instance connected: connect one with `casbah connectors add` first",
            );
            return;
        }
        let mut picker = Picker::new(connected, self.imported_count());
        if let Some(cmd) = picker.auto_choose() {
            self.cmds.push(cmd);
        }
        self.picker = Some(picker);
    }

    fn picker_action(&mut self, action: Action) {
        let Some(p) = &mut self.picker else { return };
        match action {
            Action::Back if !p.back() => self.picker = None,
            Action::Up => p.cursor.up(),
            Action::Down => p.down(),
            Action::PageUp => p.cursor.page_up(),
            Action::PageDown => {
                let len = p.rows_len();
                p.cursor.page_down(len);
            }
            Action::ToggleNotify => p.notify = !p.notify,
            Action::Quit => self.exit = Some(Exit::Quit),
            Action::Submit | Action::Open => match p.submit(IMPORT_LIMIT) {
                Ok(Some(cmd)) => {
                    let import = matches!(cmd, Cmd::Import { .. });
                    self.cmds.push(cmd);
                    if import {
                        self.picker = None;
                        self.focus = Pane::Groups;
                    }
                }
                Ok(None) => {}
                Err(message) => self.toast(Level::Error, message),
            },
            _ => {}
        }
    }

    fn picker_edit(&mut self, key: KeyEvent) {
        let Some(p) = &mut self.picker else { return };
        if p.edit(key, &self.fuzzy) {
            self.search_seq += 1;
            self.cmds.push(Cmd::SearchAfterPause(self.search_seq));
        }
    }

    fn input_action(&mut self, action: Action) {
        match std::mem::replace(&mut self.overlay, Overlay::None) {
            Overlay::Command {
                mut input,
                mut completions,
                mut chosen,
            } => {
                match action {
                    Action::Submit => {
                        let line = input.text().to_owned();
                        return self.run_command(&line);
                    }
                    Action::Back => return,
                    Action::Quit => self.exit = Some(Exit::Quit),
                    Action::Complete | Action::Down | Action::Up => {
                        if completions.is_empty() {
                            completions = self.command_completions(input.text());
                            chosen = None;
                        }
                        if !completions.is_empty() {
                            let n = completions.len();
                            let next = match (chosen, action) {
                                (None, Action::Up) => n - 1,
                                (None, _) => 0,
                                (Some(i), Action::Up) => (i + n - 1) % n,
                                (Some(i), _) => (i + 1) % n,
                            };
                            chosen = Some(next);
                            input.set(&completions[next]);
                        }
                    }
                    _ => {}
                }
                self.overlay = Overlay::Command {
                    input,
                    completions,
                    chosen,
                };
                return;
            }
            Overlay::SaveQuery { input } => {
                match action {
                    Action::Submit => {
                        let name = input.text().trim().to_owned();
                        if !name.is_empty() {
                            self.cmds.push(Cmd::SaveQuery {
                                name,
                                text: self.activities.filter.clone(),
                            });
                        }
                    }
                    Action::Quit => self.exit = Some(Exit::Quit),
                    Action::Back => {}
                    _ => self.overlay = Overlay::SaveQuery { input },
                }
                return;
            }
            other => self.overlay = other,
        }
        match (self.focus, action) {
            (_, Action::Quit) => self.exit = Some(Exit::Quit),
            (Pane::Groups, Action::Submit) => self.groups.editing = false,
            (Pane::Groups, Action::Back) => {
                self.groups.editing = false;
                self.groups.filter.set("");
                self.groups.refilter(&self.fuzzy);
            }
            (Pane::Members, Action::Submit) => self.members.editing = false,
            (Pane::Members, Action::Back) => {
                self.members.editing = false;
                self.members.filter.set("");
                self.members.refilter(&self.fuzzy);
            }
            (Pane::Activities, Action::Submit) => {
                if let Some(text) = self.activities.submit() {
                    self.apply_filter(text);
                }
            }
            (Pane::Activities, Action::Back) => self.activities.editor = None,
            (Pane::External, Action::Submit) => self.external.editing = false,
            (Pane::External, Action::Back) => {
                self.external.editing = false;
                self.external.filter_input().set("");
                self.external.refilter(&self.fuzzy);
            }
            (Pane::Activities, Action::Complete | Action::Down) => {
                let values = self.known_values();
                self.activities.complete(&values, true);
            }
            (Pane::Activities, Action::Up) => {
                let values = self.known_values();
                self.activities.complete(&values, false);
            }
            _ => {}
        }
    }

    fn input_edit(&mut self, key: KeyEvent) {
        match &mut self.overlay {
            Overlay::Command {
                input,
                completions,
                chosen,
            } => {
                if input.edit(key) {
                    completions.clear();
                    *chosen = None;
                }
                return;
            }
            Overlay::SaveQuery { input } => {
                input.edit(key);
                return;
            }
            _ => {}
        }
        match self.focus {
            Pane::Groups => {
                if self.groups.filter.edit(key) {
                    self.groups.cursor.top();
                    self.groups.refilter(&self.fuzzy);
                }
            }
            Pane::Members => {
                if self.members.filter.edit(key) {
                    self.members.cursor.top();
                    self.members.refilter(&self.fuzzy);
                }
            }
            Pane::Activities => self.activities.edit_key(key),
            Pane::External => {
                if self.external.filter_input().edit(key) {
                    self.external.refilter(&self.fuzzy);
                }
            }
            Pane::Connectors => {}
        }
    }

    /// Known values for filter completion (R-A4): groups usable in filters,
    /// instances, and what the loaded activities show.
    pub fn known_values(&self) -> super::views::activities::KnownValues {
        super::views::activities::KnownValues {
            groups: self
                .groups
                .all
                .iter()
                .filter(|g| g.usable_in_filters())
                .map(|g| g.name.clone())
                .collect(),
            instances: self
                .connectors
                .rows
                .iter()
                .map(|s| s.instance.name.clone())
                .collect(),
            countries: self.activities.seen(|a| a.country.clone()),
            types: self.activities.seen(|a| Some(a.activity_type.clone())),
            sources: self.activities.seen(|a| Some(a.source.clone())),
        }
    }

    fn command_completions(&self, text: &str) -> Vec<String> {
        let (word, rest) = match text.split_once(' ') {
            Some((w, r)) => (w, Some(r)),
            None => (text, None),
        };
        match rest {
            None => Action::ALL
                .into_iter()
                .filter(|a| a.is_command() && a.name().starts_with(word))
                .map(|a| a.name().to_owned())
                .collect(),
            Some(rest) if word == Action::Members.name() => {
                let rest = rest.to_lowercase();
                self.groups
                    .all
                    .iter()
                    .filter(|g| g.name.to_lowercase().starts_with(&rest))
                    .map(|g| format!("members {}", g.name))
                    .collect()
            }
            Some(rest) if word == Action::External.name() => {
                let rest = rest.to_lowercase();
                self.external
                    .tree
                    .conns
                    .iter()
                    .filter(|d| d.conn.id.to_lowercase().starts_with(&rest))
                    .map(|d| format!("external {}", d.conn.id))
                    .collect()
            }
            Some(rest) if word == Action::Sync.name() => {
                let rest = rest.to_lowercase();
                self.connectors
                    .rows
                    .iter()
                    .filter(|s| s.instance.name.to_lowercase().starts_with(&rest))
                    .map(|s| format!("sync {}", s.instance.name))
                    .collect()
            }
            Some(_) => Vec::new(),
        }
    }

    fn run_command(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        match Action::parse_command(line) {
            Some((action, arg)) => self.perform(action, arg),
            None => {
                let names: Vec<&str> = Action::ALL
                    .iter()
                    .filter(|a| a.is_command())
                    .map(|a| a.name())
                    .collect();
                self.toast(
                    Level::Error,
                    format!(
                        "unknown command {:?}; commands: {}",
                        line.trim(),
                        names.join(", ")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
