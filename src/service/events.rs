//! What the service tells its callers: job progress, data changes and notices.

use serde::{Deserialize, Serialize};

use crate::domain::external::{ConnectionId, ExternalGroupId};
use crate::domain::{GroupId, InstanceId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(pub u64);

/// What a background job does; also the key that stops the same work from
/// running twice at once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum JobKind {
    /// R-C4: users, admins and domains of an instance.
    ScanUsers { instance: InstanceId },
    /// R-C4: activities of every stream of an instance.
    ScanActivities { instance: InstanceId },
    /// R-G5, R-G7: first import or a later membership sync of one group.
    SyncGroup { group: GroupId },
    /// R-X6: sends a mirrored group's changes to its external group.
    SyncMirror {
        instance: InstanceId,
        connection: ConnectionId,
        group: ExternalGroupId,
    },
    /// R-X5: reads again the Entra groups a connection's ACLs and members name.
    SyncEntraGroups {
        instance: InstanceId,
        connection: ConnectionId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    JobStarted {
        id: JobId,
        job: JobKind,
        label: String,
    },
    JobProgress {
        id: JobId,
        done: u64,
        total: Option<u64>,
        label: String,
    },
    JobFinished {
        id: JobId,
        summary: String,
    },
    JobFailed {
        id: JobId,
        error: String,
    },
    /// R-G11 and anything else the user should see.
    Notification {
        level: Level,
        text: String,
    },
    /// New activities are in the store.
    ActivitiesIngested {
        instance: InstanceId,
        count: usize,
    },
    InstancesChanged,
    GroupsChanged,
    /// Issue 11: the audit trail has new entries.
    Audited,
    /// Issue 11: a user scan read an instance's app grants again.
    GrantsChanged,
    /// Issue 12: alerts were raised, joined or changed state, policies changed, or a
    /// notice was sent or failed.
    AlertsChanged,
    /// A Graph connection's groups, members, items or mirrors changed.
    ExternalChanged {
        connection: ConnectionId,
    },
    /// Events were dropped on the way to this client (it fell behind the server's):
    /// reload everything shown.
    Reload,
    /// The `casbah serve` this client was attached to stopped.
    ServerStopped,
}
