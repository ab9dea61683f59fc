//! What flows down the dashboard's one channel (`Msg`), and the work the
//! update asks the runtime to start (`Cmd`). Every service call is a `Cmd`
//! whose result comes back as `Msg::Done`; the update never waits.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyEvent, MouseEvent};

use super::govern::{GovernCmd, GovernDone};
use super::ranking::{RankJob, Ranked};
use super::views::connect::{ConnectForm, SecretSource, SignInCode};
use super::views::external::{Answer, AudienceNode, ConnNode, GroupNode, ItemNode, VisibleNode};
use super::watch::{WatchCmd, WatchDone};
use crate::domain::external::DirectoryUser;
use crate::domain::{Group, GroupId, Micros, Secret};
use crate::service::recent::LogLine;
use crate::service::{
    AvailableGroup, Event, InstanceSummary, JobId, RunningJob, ServiceError, Timeline,
};
use crate::store::{ActivityCursor, ActivityPage, Member, MembershipChange, Person};

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// Text pasted into the terminal (bracketed paste), newlines and all.
    Paste(String),
    /// A click or a turn of the wheel (issue 13).
    Mouse(MouseEvent),
    Resize,
    /// Once a second: the clock and toasts.
    Tick,
    Service(Event),
    /// The event stream dropped events: everything shown is reloaded.
    Lagged,
    Done(Done),
    /// The picker's pause after typing has passed (carries the keystroke it belongs to).
    SearchDue(u64),
    /// SIGTERM or SIGINT: quit and restore the terminal.
    Terminate,
    /// SIGHUP or the terminal is gone: leave at once.
    Hangup,
    /// A panic handed the terminal back (see `screen`): leave without drawing.
    Panicked,
}

/// A failed call, one line, and where in the filter text it points if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub column: Option<usize>,
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Failure {
        let column = match &e {
            ServiceError::Filter(f) => Some(f.column),
            _ => None,
        };
        let message = match &e {
            ServiceError::Filter(f) => f.message.clone(),
            other => other.to_string(),
        };
        // Errors can quote vendor text; they are shown, so they are made safe here.
        Failure {
            message: crate::domain::text::sanitize(&message),
            column,
        }
    }
}

pub type Outcome<T> = Result<T, Failure>;

#[derive(Debug)]
pub enum Done {
    Instances(Outcome<Vec<InstanceSummary>>),
    Groups(Outcome<Vec<Group>>),
    Members {
        group: GroupId,
        result: Outcome<Vec<Member>>,
    },
    Person {
        key: String,
        result: Outcome<Person>,
    },
    /// casbah's own recent warnings and errors, oldest first.
    Log(Vec<LogLine>),
    /// R-G7: who joined and left a group, oldest first.
    History {
        group: GroupId,
        result: Outcome<Vec<MembershipChange>>,
    },
    Activities {
        filter: String,
        more: bool,
        result: Outcome<ActivityPage>,
    },
    Available {
        instance: String,
        search: Option<String>,
        result: Outcome<Vec<AvailableGroup>>,
    },
    /// The timeline asked for as number `seq`.
    Timeline {
        seq: u64,
        result: Outcome<Timeline>,
    },
    Imported {
        name: String,
        result: Outcome<()>,
    },
    Synced(Outcome<usize>),
    /// A job was cancelled: its label.
    Cancelled(Outcome<String>),
    Jobs(Outcome<Vec<RunningJob>>),
    SavedQueries(Outcome<Vec<(String, String)>>),
    QuerySaved {
        name: String,
        result: Outcome<()>,
    },
    /// A saved query renamed or deleted; `what` says which, for the notice.
    QueryChanged {
        what: String,
        result: Outcome<()>,
    },
    ExportProgress {
        rows: u64,
    },
    Exported(Outcome<(PathBuf, u64)>),
    /// The instance's name once connected.
    Connected(Outcome<String>),
    /// The vendor's code for the sign-in numbered `seq`.
    SignInCode {
        seq: u64,
        result: Outcome<SignInCode>,
    },
    /// The token the sign-in numbered `seq` ended with.
    SignedIn {
        seq: u64,
        result: Outcome<Secret>,
    },
    ExternalConnections(Outcome<Vec<ConnNode>>),
    ExternalGroups {
        connection: String,
        result: Outcome<Vec<GroupNode>>,
    },
    ExternalItems {
        connection: String,
        result: Outcome<Vec<ItemNode>>,
    },
    DirectoryUsers {
        connection: String,
        result: Outcome<Vec<DirectoryUser>>,
    },
    /// The answer to the access check numbered `seq`.
    AccessChecked {
        seq: u64,
        result: Outcome<Answer>,
    },
    /// The items a user can see, for the check numbered `seq`.
    VisibleItems {
        seq: u64,
        result: Outcome<Vec<VisibleNode>>,
    },
    Audience {
        connection: String,
        item: String,
        result: Outcome<AudienceNode>,
    },
    /// Connections read again from Graph for an instance.
    ConnectionsRefreshed(Outcome<String>),
    /// Issue 13: a list's ranking, partial or whole.
    Ranked(Ranked),
    /// Issue 11: acting on accounts, and the audit trail.
    Govern(GovernDone),
    /// Issue 12: alerts and policies.
    Watch(WatchDone),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    LoadInstances,
    LoadGroups,
    LoadMembers(GroupId),
    LoadPerson(String),
    LoadHistory(GroupId),
    LoadLog,
    /// The newest `limit` activities, or the page after `after`.
    LoadActivities {
        filter: String,
        limit: usize,
        after: Option<ActivityCursor>,
    },
    /// Issue 13: the histogram of `filter` over `span` up to `end` (now
    /// when `None`), in about `buckets` buckets; latest wins.
    LoadTimeline {
        filter: String,
        end: Option<Micros>,
        span: Micros,
        buckets: usize,
        seq: u64,
    },
    /// The first groups of an instance, or its own search (latest wins).
    LoadAvailable {
        instance: String,
        search: Option<String>,
    },
    /// Sends `Msg::SearchDue(seq)` after the typing pause.
    SearchAfterPause(u64),
    Import {
        instance: String,
        group_id: String,
        name: String,
        notify: bool,
    },
    Sync(Option<String>),
    /// Stops a running job (issue 13: long work can be cancelled).
    CancelJob(JobId),
    /// The jobs already running when the dashboard starts.
    LoadJobs,
    /// Stops the running export, which removes its partial file.
    CancelExport,
    LoadSavedQueries,
    SaveQuery {
        name: String,
        text: String,
    },
    DeleteQuery {
        name: String,
    },
    /// Saved under the new name, then the old one deleted.
    RenameQuery {
        from: String,
        to: String,
        text: String,
    },
    Export {
        filter: String,
        format: ExportFormat,
    },
    /// R-C3: check the credentials, then save the instance.
    Connect {
        form: Box<ConnectForm>,
        secret: SecretSource,
    },
    /// An interactive sign-in (GitHub's device flow): the vendor's code,
    /// then the wait for the person, then the token.
    SignIn {
        form: Box<ConnectForm>,
        seq: u64,
    },
    /// Stops the running sign-in: nothing polls the vendor after this.
    CancelSignIn,
    LoadExternalConnections,
    LoadExternalGroups(String),
    LoadExternalItems(String),
    LoadDirectoryUsers(String),
    /// R-X5: one user and one item; a newer check replaces a running one (latest wins).
    CheckAccess {
        connection: String,
        item: String,
        user: String,
        seq: u64,
    },
    /// R-X5: the items a user can see; latest wins with `CheckAccess`.
    VisibleItems {
        connection: String,
        user: String,
        seq: u64,
    },
    /// R-X5: who can see an item.
    LoadAudience {
        connection: String,
        item: String,
    },
    /// Reads an instance's connections from Graph again.
    RefreshConnections(String),
    /// Issue 13: ranks a long list off the UI thread; a newer query stops it.
    Rank(RankJob),
    /// Issue 11: plans, actions and the audit trail.
    Govern(GovernCmd),
    /// Issue 12: alerts and policies.
    Watch(WatchCmd),
}
