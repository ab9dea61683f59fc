//! What every pane of the dashboard is (gitui's component pattern): it owns
//! its state, takes the keys it understands and says whether it did
//! (`Handled`), asks for work and navigation through `Out` instead of doing
//! them, draws itself, and names its keys as keymap contexts, which fill the
//! hint bar. `App` only routes, so panes never see each other: what several
//! of them read (instances, groups, jobs, the clock) is in `Env`.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::action::Action;
use super::format::{instance_cell, instance_label};
use super::fuzzy::Fuzzy;
use super::keymap::{Context, Keymap};
use super::msg::{Cmd, Done};
use super::theme::Theme;
use super::views::activities::Scope;
use super::views::members::PersonView;
use super::widgets::list::Cursor;
use crate::domain::{Activity, AppKind, Group, GroupId, GroupKind, Instance, InstanceId, Micros};
use crate::service::{Event, InstanceSummary, JobId, JobKind, Level};
use crate::store::ActivityCursor;

/// Whether a pane took an action or key; what it does not take, `App` may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Consumed,
    NotConsumed,
}

/// The panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaneId {
    Connectors,
    Groups,
    Members,
    Activities,
    External,
    /// Issue 11: every account action attempted.
    Audit,
    /// Issue 11: the OAuth apps granted access.
    Apps,
    /// Issue 12: what policies raised, and the policies.
    Alerts,
}

impl PaneId {
    pub const ALL: [PaneId; 8] = [
        PaneId::Connectors,
        PaneId::Groups,
        PaneId::Members,
        PaneId::Activities,
        PaneId::External,
        PaneId::Audit,
        PaneId::Apps,
        PaneId::Alerts,
    ];

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Connectors => "Connectors",
            PaneId::Groups => "Groups",
            PaneId::Members => "Members",
            PaneId::Activities => "Activities",
            PaneId::External => "External groups",
            PaneId::Audit => "Audit",
            PaneId::Apps => "Apps",
            PaneId::Alerts => "Alerts",
        }
    }

    /// Its name on the tab bar, short enough for every tab to fit 80 columns.
    pub fn tab(self) -> &'static str {
        match self {
            PaneId::External => "External",
            other => other.title(),
        }
    }

    /// The pane Esc leads up to when no pivot led here: members belong to a group.
    pub fn parent(self) -> Option<PaneId> {
        (self == PaneId::Members).then_some(PaneId::Groups)
    }

    pub fn next(self, step: isize) -> PaneId {
        let n = PaneId::ALL.len() as isize;
        let at = PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0) as isize;
        PaneId::ALL[(at + step).rem_euclid(n) as usize]
    }
}

/// Where a pivot goes: a pane, and what it is to show there.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The groups imported from one instance.
    GroupsOf(InstanceId),
    /// The members of one group.
    Members { group: GroupId, name: String },
    /// The activity log filtered on `filter`; `crumb` names the pivot in the
    /// breadcrumbs ("203.0.113.9", "activities").
    Activities { filter: String, crumb: String },
    /// One person (R-G8), by the key the person view takes (an e-mail).
    Person { key: String },
    /// Issue 11: who granted an app what, in one instance (by reference).
    AppGrants {
        instance: String,
        app: String,
        name: String,
    },
}

impl Target {
    pub fn pane(&self) -> PaneId {
        match self {
            Target::GroupsOf(_) => PaneId::Groups,
            Target::Members { .. } | Target::Person { .. } => PaneId::Members,
            Target::Activities { .. } => PaneId::Activities,
            Target::AppGrants { .. } => PaneId::Apps,
        }
    }

    /// What the breadcrumbs add for this pivot. Drilling down from an
    /// instance to its groups and members has the panes' own path instead.
    pub fn crumb(&self) -> Option<String> {
        match self {
            Target::GroupsOf(_) | Target::Members { .. } => None,
            Target::Activities { crumb, .. } => Some(crumb.clone()),
            Target::Person { key } => Some(key.clone()),
            Target::AppGrants { name, .. } => Some(name.clone()),
        }
    }
}

/// What a pivot changed in the pane it went to, kept so that Esc can put
/// it back: the scope, the filter and where the selection and scroll were.
#[derive(Debug, Clone, PartialEq)]
pub enum Snapshot {
    Groups {
        instance: Option<InstanceId>,
        filter: String,
        cursor: Cursor,
    },
    Activities(Box<ActivitiesSnapshot>),
    Members(Box<MembersSnapshot>),
}

/// The Activities pane as the user saw it: what it showed and where.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivitiesSnapshot {
    pub filter: String,
    pub rows: Vec<Activity>,
    pub next: Option<ActivityCursor>,
    pub cursor: Cursor,
    pub detail: Option<Box<Activity>>,
    pub anchor: Option<Micros>,
    pub scope: Scope,
}

/// The Members pane: its group, filter and selection, and the person open over it.
#[derive(Debug, Clone, PartialEq)]
pub struct MembersSnapshot {
    pub group: Option<(GroupId, String)>,
    pub filter: String,
    pub cursor: Cursor,
    pub person: Option<PersonView>,
}

/// What a pane asks `App` to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Run(Cmd),
    /// Run, unless the same work is already asked for in this batch.
    RunOnce(Cmd),
    Toast(Level, String),
    /// Go to another pane; Esc comes back here.
    Pivot(Target),
    Focus(PaneId),
    /// Put this text on the terminal's clipboard.
    Copy(String),
    /// The dialog that asked closes.
    Close,
    /// Issue 11: open the dialog that acts on these accounts.
    Act(crate::tui::views::act::ActTargets),
}

/// The effects a pane asked for while handling one message.
#[derive(Debug, Default)]
pub struct Out {
    effects: Vec<Effect>,
}

impl Out {
    pub fn push(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    pub fn run(&mut self, cmd: Cmd) {
        self.push(Effect::Run(cmd));
    }

    pub fn run_all(&mut self, cmds: impl IntoIterator<Item = Cmd>) {
        self.effects.extend(cmds.into_iter().map(Effect::Run));
    }

    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        self.push(Effect::Toast(level, text.into()));
    }

    pub fn into_effects(self) -> Vec<Effect> {
        self.effects
    }
}

/// What every pane may read: the look, the keys, the clock, and what the
/// service said about instances, groups and running jobs.
pub struct Env {
    pub keymap: Keymap,
    pub theme: Theme,
    pub fuzzy: Fuzzy,
    /// The database shown in the header.
    pub database: String,
    /// Wall clock, set by the runtime before each batch of messages.
    pub now: Micros,
    pub instances: Vec<InstanceSummary>,
    pub groups: Vec<Group>,
    /// Background jobs running now, by id.
    pub jobs: BTreeMap<JobId, Job>,
    /// Issue 11: account actions are refused, so no key offers them. True until
    /// the service says otherwise.
    pub read_only: bool,
    /// Issue 12: the header's count of alerts waiting for someone.
    pub alerts: crate::service::AlertCounts,
}

/// A background job as its events describe it: what it does, what it says it
/// is doing now, and how far it has come where it can tell.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub kind: JobKind,
    pub label: String,
    pub done: u64,
    pub total: Option<u64>,
}

impl Job {
    /// The part done, where the job can tell.
    pub fn ratio(&self) -> Option<f64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| (self.done as f64 / t as f64).clamp(0.0, 1.0))
    }

    /// Whether the job works on `instance`: its scans, and the syncs of its groups.
    pub fn of_instance(&self, instance: InstanceId, groups: &[Group]) -> bool {
        match &self.kind {
            JobKind::ScanUsers { instance: i } | JobKind::ScanActivities { instance: i } => {
                *i == instance
            }
            JobKind::SyncGroup { group } => groups.iter().any(|g| {
                g.id == *group
                    && matches!(g.kind, GroupKind::Imported { instance: i, .. } if i == instance)
            }),
            JobKind::SyncMirror { instance: i, .. }
            | JobKind::SyncEntraGroups { instance: i, .. } => *i == instance,
        }
    }
}

impl Env {
    pub fn new(keymap: Keymap, theme: Theme, database: String, now: Micros) -> Env {
        Env {
            keymap,
            theme,
            fuzzy: Fuzzy::default(),
            database,
            now,
            instances: Vec::new(),
            groups: Vec::new(),
            jobs: BTreeMap::new(),
            read_only: true,
            alerts: Default::default(),
        }
    }

    pub fn instance(&self, id: InstanceId) -> Option<&Instance> {
        self.instances
            .iter()
            .map(|s| &s.instance)
            .find(|i| i.id == id)
    }

    /// "okta · acme" (see `format::instance_label`).
    pub fn instance_label(&self, id: InstanceId) -> Option<String> {
        self.instance(id).map(|i| instance_label(i.app, &i.name))
    }

    /// An instance in a list's column (see `format::instance_cell`); one not
    /// loaded yet, or gone since, by its app and number rather than a bare
    /// app that looks like a name cut short (issue 13).
    pub fn instance_cell(&self, app: AppKind, id: InstanceId, wide: bool) -> String {
        match self.instance(id) {
            Some(i) => instance_cell(i.app, &i.name, wide),
            None if wide => format!("{} · instance #{}", app.slug(), id.0),
            None => format!("{} #{}", app.slug(), id.0),
        }
    }

    pub fn group(&self, id: GroupId) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub fn imported_count(&self) -> usize {
        self.groups
            .iter()
            .filter(|g| matches!(g.kind, GroupKind::Imported { .. }))
            .count()
    }

    /// R-G7: a membership sync of this group is running.
    pub fn syncing(&self, group: GroupId) -> bool {
        self.jobs
            .values()
            .any(|j| j.kind == JobKind::SyncGroup { group })
    }
}

/// `x`: cancels the jobs `of` picks, or says there is none to cancel.
pub fn cancel_jobs(env: &Env, out: &mut Out, what: &str, of: impl Fn(&Job) -> bool) {
    let running: Vec<JobId> = env
        .jobs
        .iter()
        .filter(|(_, j)| of(j))
        .map(|(id, _)| *id)
        .collect();
    if running.is_empty() {
        out.toast(Level::Info, format!("nothing is running for {what}"));
    }
    for id in running {
        out.run(Cmd::CancelJob(id));
    }
}

/// A list pane's contexts: its own keys and the everyday ones, or only
/// those of text input while its filter has the keyboard.
pub fn list_contexts(own: Context, typing: bool) -> Vec<Context> {
    if typing {
        vec![Context::Input]
    } else {
        vec![own, Context::Global]
    }
}

/// Anything that takes the keyboard: a pane, or a dialog over the panes.
pub trait Component {
    /// Its keys, as the keymap contexts that say what a key means here,
    /// most specific first; the hint bar lists them.
    fn contexts(&self) -> Vec<Context>;

    /// A key the keymap names.
    fn on_action(&mut self, action: Action, env: &Env, out: &mut Out) -> Handled;

    /// A key the keymap does not name: text, when a field has the keyboard.
    fn on_key(&mut self, _key: KeyEvent, _env: &Env, _out: &mut Out) -> Handled {
        Handled::NotConsumed
    }

    /// A click on screen line `y`, inside this pane: selects the row there.
    fn click(&mut self, _y: u16, _env: &Env, _out: &mut Out) -> Handled {
        Handled::NotConsumed
    }

    /// A field has the keyboard, so typed keys and pastes are text.
    fn typing(&self) -> bool {
        false
    }

    /// The result of work; handed back when it is not this one's.
    fn done(&mut self, done: Done, _env: &Env, _out: &mut Out) -> Option<Done> {
        Some(done)
    }

    /// Draws in `area`: a pane fills it, a dialog centres itself in it.
    fn draw(&self, f: &mut Frame, area: Rect, focused: bool, env: &Env);
}

/// One of the tabs.
pub trait Pane: Component {
    /// A service event; several panes may act on one.
    fn event(&mut self, _event: &Event, _env: &Env, _out: &mut Out) {}

    /// Events were lost: what is shown is read again.
    fn reload(&mut self, _env: &Env, _out: &mut Out) {}

    /// The drill-down path, for the breadcrumbs.
    fn breadcrumbs(&self, env: &Env) -> Vec<String>;

    /// A pivot arrived: show what it asks for.
    fn show(&mut self, _target: &Target, _env: &Env, _out: &mut Out) {}

    /// What a pivot would change here, for Esc to put back.
    fn snapshot(&self) -> Option<Snapshot> {
        None
    }

    fn restore(&mut self, _snapshot: Snapshot, _env: &Env, _out: &mut Out) {}
}
