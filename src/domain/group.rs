//! R-G1…R-G11: automatic and imported groups.

use serde::{Deserialize, Serialize};

use super::{InstanceId, Micros};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupId(pub u64);

/// A group as the vendor lists it (picker rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteGroup {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
}

/// R-G1: groups that exist without any import.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AutoGroup {
    External,
    DropboxAdministrator,
    Microsoft365Administrator,
    GoogleWorkspaceAdministrator,
    BoxAdministrator,
    SalesforceProfile(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKind {
    Automatic(AutoGroup),
    Imported {
        instance: InstanceId,
        remote_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupStatus {
    /// R-G5: the first sync has not finished; not yet usable in filters.
    Importing,
    Ready,
    SyncFailed {
        message: String,
    },
}

/// R-G4: why members were left out of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipCounts {
    pub suspended: u32,
    pub disabled: u32,
    pub deleted: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub kind: GroupKind,
    pub name: String,
    pub status: GroupStatus,
    pub member_count: u32,
    pub skipped: SkipCounts,
    /// R-G6: activities before this moment are never tagged with this group.
    pub imported_at: Micros,
    pub last_sync: Option<Micros>,
    /// R-G11: tell the user when the first sync finishes.
    pub notify: bool,
}
