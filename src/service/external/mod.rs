//! Graph connections of Microsoft 365 instances: external groups, their
//! members, item ACLs, mirrors of casbah groups, and "who can see this item,
//! and why" (R-X1…R-X6).
//!
//! Ids are checked before anything else, so a refused id never costs a
//! request. The store is written only after Graph accepted a change: a 409
//! or any other error leaves it as it was.

mod access;
mod cache;
mod connections;
mod entra;
mod groups;
mod items;
mod mirror;

use cache::AccessCache;
pub(super) use cache::AccessCaches;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;

use super::{Event, Local, Result, ServiceError, names};
use crate::connectors::ConnectorError;
use crate::connectors::microsoft365::Microsoft365;
use crate::connectors::microsoft365::external::ExternalApiError;
use crate::domain::external::{
    Access, AclEntry, Connection, ConnectionId, Cycle, Decision, DirectoryUser, ExternalGroup,
    ExternalGroupId, ItemId, Member, Principal, UnmatchedUser,
};
use crate::domain::{AppKind, GroupId, Instance, InstanceId, Micros};
use crate::store::{ConnectionData, ItemRecord};

/// A connection with what the Connections list shows.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ConnectionSummary {
    /// The Microsoft 365 instance's name.
    pub instance: String,
    pub connection: Connection,
    pub groups: usize,
    pub items: usize,
    /// R-X4: external groups named by ACLs or nested members but not created.
    pub pending: usize,
}

/// A member of an external group, with who it is.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct MemberView {
    pub member: Member,
    /// UPN of a user, name of an Entra group, label of an external group.
    pub label: String,
    /// A nested external group that the connection does not have (yet).
    pub pending: bool,
}

/// R-X6: where a mirrored group comes from and how its last sync went.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct MirrorStatus {
    pub source: GroupId,
    pub source_name: String,
    /// Entra users published to the external group.
    pub published: usize,
    /// Source users that match no Entra user: listed, never dropped silently.
    pub unmatched: Vec<UnmatchedUser>,
    pub last_sync: Option<Micros>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ExternalGroupView {
    pub group: ExternalGroup,
    pub members: Vec<MemberView>,
    pub mirror: Option<MirrorStatus>,
}

/// An external item's ACL, with who each entry names.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ItemView {
    pub id: ItemId,
    pub title: Option<String>,
    pub acl: Vec<AclEntry>,
    /// One per ACL entry, in order: who it names, resolved.
    pub labels: Vec<String>,
    /// R-X4: external groups the ACL names that do not exist yet.
    pub pending: Vec<ExternalGroupId>,
}

/// Who to add to or remove from an external group (R-X3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MemberRef {
    /// UPN, e-mail or Entra object id of a synced user.
    User(String),
    /// Entra group name or object id.
    EntraGroup(String),
    /// Id of an external group of the same connection.
    External(String),
}

/// R-X5: one user's access to one item, and why.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AccessAnswer {
    pub user: DirectoryUser,
    pub item: ItemId,
    pub decision: Decision,
}

/// R-X5: an item a user can see, and why.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct VisibleItem {
    pub item: ItemId,
    pub title: Option<String>,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AudienceEntry {
    pub user_id: String,
    pub name: String,
    pub decision: Access,
    /// The deciding ACL entry, 1-based.
    pub entry: usize,
}

/// R-X5: who can see an item (granted) and who is denied.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AudienceView {
    pub rows: Vec<AudienceEntry>,
    pub granted: usize,
    pub denied: usize,
    pub pending: Vec<ExternalGroupId>,
    pub cycles: Vec<Cycle>,
    pub notes: Vec<String>,
}

/// A connection as found in the store, with its instance.
#[derive(Debug, Clone)]
pub(super) struct Target {
    instance: Instance,
    connection: Connection,
}

impl Target {
    pub(super) fn id(&self) -> &ConnectionId {
        &self.connection.id
    }
}

/// External groups named (by ACLs or as nested members) that the
/// connection does not have.
fn pending_groups(data: &ConnectionData) -> BTreeSet<ExternalGroupId> {
    let exists: BTreeSet<&ExternalGroupId> = data.groups.iter().map(|g| &g.id).collect();
    let named_by_acl = data.items.iter().flat_map(|r| {
        r.item.acl.iter().filter_map(|e| match &e.principal {
            Principal::ExternalGroup(id) => Some(id),
            _ => None,
        })
    });
    let nested = data.groups.iter().flat_map(|g| {
        g.members.iter().filter_map(|m| match m {
            Member::ExternalGroup(id) => Some(id),
            _ => None,
        })
    });
    named_by_acl
        .chain(nested)
        .filter(|id| !exists.contains(id))
        .cloned()
        .collect()
}

fn group_label(data: &ConnectionData, id: &ExternalGroupId) -> Option<String> {
    data.groups.iter().find(|g| &g.id == id).map(|g| g.label())
}

fn item_view(record: &ItemRecord, data: &ConnectionData, cache: &AccessCache) -> ItemView {
    let labels = record
        .item
        .acl
        .iter()
        .map(|e| match &e.principal {
            Principal::User(id) => format!("user {}", cache.user_label(id)),
            Principal::EntraGroup(id) => format!("Entra group {}", cache.entra_label(id)),
            Principal::Everyone(_) => "everyone in the tenant".to_string(),
            Principal::EveryoneExceptGuests(_) => "everyone except guests".to_string(),
            Principal::ExternalGroup(id) => match group_label(data, id) {
                Some(label) => format!("external group {label}"),
                None => format!("external group {id} (pending)"),
            },
        })
        .collect();
    let mut pending: Vec<ExternalGroupId> = Vec::new();
    for id in record
        .item
        .pending_groups(|id| data.groups.iter().any(|g| &g.id == id))
    {
        if !pending.contains(id) {
            pending.push(id.clone());
        }
    }
    ItemView {
        id: record.item.id.clone(),
        title: record.title.clone(),
        acl: record.item.acl.clone(),
        labels,
        pending,
    }
}

fn member_view(member: &Member, data: &ConnectionData, cache: &AccessCache) -> MemberView {
    let (label, pending) = match member {
        Member::User(id) => (cache.user_label(id), false),
        Member::EntraGroup(id) => (cache.entra_label(id), false),
        Member::ExternalGroup(id) => match group_label(data, id) {
            Some(label) => (label, false),
            None => (id.to_string(), true),
        },
    };
    MemberView {
        member: member.clone(),
        label,
        pending,
    }
}

fn not_found(e: &ExternalApiError) -> bool {
    matches!(
        e,
        ExternalApiError::Connector(ConnectorError::NotFound { .. })
    )
}

impl Local {
    /// The Graph connectors client of an instance, built once for its
    /// token cache.
    async fn graph_client(&self, instance: &Instance) -> Result<Arc<Microsoft365>> {
        if instance.app != AppKind::Microsoft365 {
            return Err(ServiceError::Invalid(format!(
                "{} is not a Microsoft 365 instance; Graph connections belong to Microsoft 365",
                instance.name
            )));
        }
        if let Some(c) = self
            .inner
            .graph
            .lock()
            .expect("graph lock")
            .get(&instance.id)
        {
            return Ok(Arc::clone(c));
        }
        let id = instance.id;
        let secret = self.db(move |s| s.secret(id)).await?;
        let client = Arc::new(Microsoft365::new(instance, secret)?);
        let mut cache = self.inner.graph.lock().expect("graph lock");
        Ok(Arc::clone(cache.entry(id).or_insert(client)))
    }

    /// Finds a connection by id (any case), in the store or else in Graph's
    /// lists. The id is checked first (R-X1): a refused one never reaches
    /// the store or Graph.
    async fn target(&self, connection: &str) -> Result<Target> {
        let wanted = ConnectionId::parse(connection.trim())?;
        if let Some(t) = self.stored_target(&wanted).await? {
            return Ok(t);
        }
        // Perhaps made outside casbah (the admin center, a script): read
        // the lists from Graph once before saying it does not exist.
        for instance in self.db(|s| s.instances()).await? {
            if instance.app == AppKind::Microsoft365
                && let Err(e) = self.refresh_connections(&instance.name).await
            {
                tracing::warn!("cannot read the connections of {}: {e}", instance.name);
            }
        }
        if let Some(t) = self.stored_target(&wanted).await? {
            return Ok(t);
        }
        let all = self.db(|s| s.external_connections(None)).await?;
        Err(ServiceError::Unknown {
            what: "connection",
            name: wanted.to_string(),
            suggestions: names::closest(wanted.as_str(), all.iter().map(|(_, c)| c.id.as_str())),
        })
    }

    /// The stored connection with this id (any case). Connections live in
    /// Microsoft 365 instances, of which casbah allows one: an id names at
    /// most one connection.
    async fn stored_target(&self, wanted: &ConnectionId) -> Result<Option<Target>> {
        let wanted = wanted.clone();
        self.db(move |s| {
            let found = s
                .external_connections(None)?
                .into_iter()
                .find(|(_, c)| c.id.as_str().eq_ignore_ascii_case(wanted.as_str()));
            match found {
                Some((instance, connection)) => Ok(Some(Target {
                    instance: s.instance(instance)?,
                    connection,
                })),
                None => Ok(None),
            }
        })
        .await
    }

    /// After a change to a connection: its access answers are rebuilt and
    /// the dashboard is told.
    fn external_changed(&self, instance: InstanceId, connection: &ConnectionId) {
        self.forget_access(instance, Some(connection));
        self.emit(Event::ExternalChanged {
            connection: connection.clone(),
        });
    }

    /// Drops cached access indexes of one connection, or of every
    /// connection of the instance.
    fn forget_access(&self, instance: InstanceId, connection: Option<&ConnectionId>) {
        let mut caches = self.inner.access.lock().expect("access lock");
        caches.forget(instance, connection);
    }

    async fn connection_data(&self, target: &Target) -> Result<ConnectionData> {
        let (instance, connection) = (target.instance.id, target.id().clone());
        self.db(move |s| s.connection_data(instance, &connection))
            .await
    }
}
