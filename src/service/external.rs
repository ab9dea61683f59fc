//! Graph connections of Microsoft 365 instances: external groups, their
//! members, item ACLs, mirrors of casbah groups, and "who can see this item,
//! and why" (R-X1…R-X6).
//!
//! Ids are checked before anything else, so a refused id never costs a
//! request. The store is written only after Graph accepted a change: a 409
//! or any other error leaves it as it was.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use super::{Event, JobHandle, JobKind, Level, Result, Service, ServiceError, names};
use crate::connectors::ConnectorError;
use crate::connectors::microsoft365::Microsoft365;
use crate::connectors::microsoft365::external::{
    ExternalApiError, ExternalConnections, ItemContent, ItemUpload, apply_mirror,
};
use crate::domain::external::{
    Access, AccessIndex, AccessSnapshot, AclEntry, Connection, ConnectionId, Cycle, Decision,
    DirectoryUser, EntraAccount, EntraGroup, ExternalGroup, ExternalGroupId, Item, ItemDocument,
    ItemId, Member, Principal, UnmatchedUser, plan_mirror,
};
use crate::domain::{
    AppKind, GroupId, GroupStatus, Instance, InstanceId, Micros, RemoteUser, UserStatus, UserType,
    now_micros,
};
use crate::store::{ConnectionData, ItemRecord, MirrorLink, ScanKind};

/// How many groups the Entra group search asks for when resolving a name.
const ENTRA_SEARCH_LIMIT: usize = 50;

/// A connection with what the Connections list shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberView {
    pub member: Member,
    /// UPN of a user, name of an Entra group, label of an external group.
    pub label: String,
    /// A nested external group that the connection does not have (yet).
    pub pending: bool,
}

/// R-X6: where a mirrored group comes from and how its last sync went.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExternalGroupView {
    pub group: ExternalGroup,
    pub members: Vec<MemberView>,
    pub mirror: Option<MirrorStatus>,
}

/// An external item's ACL, with who each entry names.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberRef {
    /// UPN, e-mail or Entra object id of a synced user.
    User(String),
    /// Entra group name or object id.
    EntraGroup(String),
    /// Id of an external group of the same connection.
    External(String),
}

/// R-X5: one user's access to one item, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessAnswer {
    pub user: DirectoryUser,
    pub item: ItemId,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudienceEntry {
    pub user_id: String,
    pub name: String,
    pub decision: Access,
    /// The deciding ACL entry, 1-based.
    pub entry: usize,
}

/// R-X5: who can see an item (granted) and who is denied.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
struct Target {
    instance: Instance,
    connection: Connection,
}

impl Target {
    fn id(&self) -> &ConnectionId {
        &self.connection.id
    }
}

/// What access questions about one connection read, built once and kept
/// until something it was built from changes.
pub(super) struct AccessCache {
    /// The user scan it was built after; a newer scan makes it stale.
    users_scanned: Option<Micros>,
    index: AccessIndex,
    users: Vec<DirectoryUser>,
    /// Lower-cased object id and e-mail/UPN → position in `users`.
    /// Deleted users are not in `users`: they can see nothing.
    by_key: HashMap<String, usize>,
    /// Lower-cased Entra group id → name.
    entra_names: HashMap<String, String>,
}

impl AccessCache {
    fn build(snapshot: AccessSnapshot, users_scanned: Option<Micros>) -> AccessCache {
        let index = AccessIndex::build(&snapshot);
        let mut by_key = HashMap::with_capacity(snapshot.users.len() * 2);
        for (i, u) in snapshot.users.iter().enumerate() {
            by_key.entry(u.id.to_lowercase()).or_insert(i);
            by_key.entry(u.name.to_lowercase()).or_insert(i);
        }
        let entra_names = snapshot
            .entra_groups
            .iter()
            .map(|g| (g.id.to_lowercase(), g.name.clone()))
            .collect();
        AccessCache {
            users_scanned,
            index,
            users: snapshot.users,
            by_key,
            entra_names,
        }
    }

    fn user(&self, key: &str) -> Option<&DirectoryUser> {
        self.by_key
            .get(&key.trim().to_lowercase())
            .map(|&i| &self.users[i])
    }

    fn user_label(&self, id: &str) -> String {
        match self.user(id) {
            Some(u) => u.name.clone(),
            None => format!("{id} (not in the synced directory)"),
        }
    }

    fn entra_label(&self, id: &str) -> String {
        match self.entra_names.get(&id.to_lowercase()) {
            Some(name) => name.clone(),
            None => format!("{id} (not synced)"),
        }
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

/// A source member as the mirror plan reads it: a casbah member keeps its
/// e-mail, which is all matching needs.
fn source_user(m: crate::store::Member) -> RemoteUser {
    RemoteUser {
        id: m.key,
        display_name: m.name,
        email: m.email,
        status: UserStatus::Active,
        user_type: UserType::Member,
    }
}

fn not_found(e: &ExternalApiError) -> bool {
    matches!(
        e,
        ExternalApiError::Connector(ConnectorError::NotFound { .. })
    )
}

impl Service {
    /// The Graph connectors client of an instance, built once for its
    /// token cache.
    async fn graph_client(&self, instance: &Instance) -> Result<Arc<Microsoft365>> {
        if instance.app != AppKind::Microsoft365 {
            return Err(ServiceError::Invalid(format!(
                "{} is not a Microsoft 365 instance; Graph connections belong to Microsoft 365 (R-X1)",
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

    /// Finds a stored connection by id (any case). The id is checked first
    /// (R-X1): a refused one never reaches the store or Graph.
    async fn target(&self, connection: &str) -> Result<Target> {
        let wanted = ConnectionId::parse(connection.trim())?;
        let all = self.db(|s| s.external_connections(None)).await?;
        let found: Vec<&(InstanceId, Connection)> = all
            .iter()
            .filter(|(_, c)| c.id.as_str().eq_ignore_ascii_case(wanted.as_str()))
            .collect();
        let (instance, connection) = match found.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(ServiceError::Unknown {
                    what: "connection",
                    name: wanted.to_string(),
                    suggestions: names::closest(
                        wanted.as_str(),
                        all.iter().map(|(_, c)| c.id.as_str()),
                    ),
                });
            }
            _ => {
                return Err(ServiceError::Invalid(format!(
                    "connection `{wanted}` exists in more than one Microsoft 365 instance; remove one of them from casbah"
                )));
            }
        };
        let instance = self.db(move |s| s.instance(instance)).await?;
        Ok(Target {
            instance,
            connection,
        })
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
        let mut cache = self.inner.access.lock().expect("access lock");
        match connection {
            Some(c) => {
                cache.remove(&(instance, c.as_str().to_ascii_lowercase()));
            }
            None => cache.retain(|(i, _), _| *i != instance),
        }
    }

    /// The connection's access index, built on first use after a change.
    async fn access_cache(&self, target: &Target) -> Result<Arc<AccessCache>> {
        let instance = target.instance.id;
        let key = (instance, target.id().as_str().to_ascii_lowercase());
        let scans = self.db(move |s| s.scans(instance)).await?;
        let users_scanned = scans
            .iter()
            .find(|(k, _)| *k == ScanKind::Users)
            .and_then(|(_, s)| s.last_success);
        if let Some(c) = self.inner.access.lock().expect("access lock").get(&key)
            && c.users_scanned == users_scanned
        {
            return Ok(Arc::clone(c));
        }
        let tenant_id = target.instance.tenant.clone();
        let connection = target.id().clone();
        let cache = self
            .db(move |s| {
                let snapshot = AccessSnapshot {
                    tenant_id,
                    users: s
                        .instance_users(instance)?
                        .iter()
                        .filter(|u| u.status != UserStatus::Deleted)
                        .map(DirectoryUser::from)
                        .collect(),
                    entra_groups: s.entra_groups(instance)?,
                    external_groups: s.connection_data(instance, &connection)?.groups,
                };
                Ok(AccessCache::build(snapshot, users_scanned))
            })
            .await?;
        let cache = Arc::new(cache);
        self.inner
            .access
            .lock()
            .expect("access lock")
            .insert(key, Arc::clone(&cache));
        Ok(cache)
    }

    async fn connection_data(&self, target: &Target) -> Result<ConnectionData> {
        let (instance, connection) = (target.instance.id, target.id().clone());
        self.db(move |s| s.connection_data(instance, &connection))
            .await
    }

    /// Stored connections with their counts, of one instance or all.
    pub async fn external_connections(
        &self,
        instance: Option<&str>,
    ) -> Result<Vec<ConnectionSummary>> {
        let only = match instance {
            Some(name) => Some(self.find_instance(name).await?.id),
            None => None,
        };
        self.db(move |s| {
            let names: HashMap<InstanceId, String> =
                s.instances()?.into_iter().map(|i| (i.id, i.name)).collect();
            s.external_connections(only)?
                .into_iter()
                .map(|(instance, connection)| {
                    let data = s.connection_data(instance, &connection.id)?;
                    Ok(ConnectionSummary {
                        instance: names.get(&instance).cloned().unwrap_or_default(),
                        groups: data.groups.len(),
                        items: data.items.len(),
                        pending: pending_groups(&data).len(),
                        connection,
                    })
                })
                .collect()
        })
        .await
    }

    /// Reads the instance's connections from Graph and stores them;
    /// connections Graph no longer has are forgotten with their data.
    pub async fn refresh_connections(&self, instance: &str) -> Result<Vec<ConnectionSummary>> {
        let found = self.find_instance(instance).await?;
        let client = self.graph_client(&found).await?;
        let connections = client.connections().await?;
        let id = found.id;
        let stored = connections.clone();
        self.db(move |s| s.replace_external_connections(id, &stored))
            .await?;
        self.forget_access(id, None);
        for c in &connections {
            self.emit(Event::ExternalChanged {
                connection: c.id.clone(),
            });
        }
        self.external_connections(Some(&found.name)).await
    }

    /// Creates a Graph connection in the instance's tenant.
    pub async fn add_connection(
        &self,
        instance: &str,
        id: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<Connection> {
        let id = ConnectionId::parse(id.trim())?;
        let description = description
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        let connection = Connection::new(id, name.trim(), description)?;
        let found = self.find_instance(instance).await?;
        let client = self.graph_client(&found).await?;
        client.create_connection(&connection).await?;
        let (instance_id, stored) = (found.id, connection.clone());
        self.db(move |s| s.put_external_connection(instance_id, &stored))
            .await?;
        self.external_changed(found.id, &connection.id);
        Ok(connection)
    }

    /// The connection's external groups with their members resolved, nested
    /// groups that do not exist marked pending, and mirror status.
    pub async fn external_groups(&self, connection: &str) -> Result<Vec<ExternalGroupView>> {
        let target = self.target(connection).await?;
        let data = self.connection_data(&target).await?;
        let cache = self.access_cache(&target).await?;
        let sources: Vec<GroupId> = data.mirrors.iter().map(|m| m.source).collect();
        let source_names: HashMap<GroupId, String> = self
            .db(move |s| {
                let mut out = HashMap::new();
                for id in sources {
                    match s.group(id) {
                        Ok(g) => {
                            out.insert(id, g.name);
                        }
                        Err(crate::store::StoreError::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(out)
            })
            .await?;
        Ok(data
            .groups
            .iter()
            .map(|g| ExternalGroupView {
                group: g.clone(),
                members: g
                    .members
                    .iter()
                    .map(|m| member_view(m, &data, &cache))
                    .collect(),
                mirror: data
                    .mirrors
                    .iter()
                    .find(|l| l.group == g.id)
                    .map(|l| MirrorStatus {
                        source: l.source,
                        source_name: source_names
                            .get(&l.source)
                            .cloned()
                            .unwrap_or_else(|| format!("group {} (removed)", l.source.0)),
                        published: l.published.len(),
                        unmatched: l.unmatched.clone(),
                        last_sync: l.last_sync,
                        error: l.last_error.clone(),
                    }),
            })
            .collect())
    }

    /// The connection's items as casbah last put them, ACL entries resolved.
    pub async fn external_items(&self, connection: &str) -> Result<Vec<ItemView>> {
        let target = self.target(connection).await?;
        let data = self.connection_data(&target).await?;
        let cache = self.access_cache(&target).await?;
        Ok(data
            .items
            .iter()
            .map(|r| item_view(r, &data, &cache))
            .collect())
    }

    /// R-X2: creates an external group (id checked before any request).
    pub async fn create_external_group(
        &self,
        connection: &str,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<ExternalGroup> {
        ConnectionId::parse(connection.trim())?;
        let id = ExternalGroupId::parse(id)?;
        let text = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let group = ExternalGroup {
            id,
            display_name: text(name),
            description: text(description),
            members: Vec::new(),
        };
        let target = self.target(connection).await?;
        let client = self.graph_client(&target.instance).await?;
        client.create_group(target.id(), &group).await?;
        self.store_group(&target, &group, None).await?;
        Ok(group)
    }

    async fn store_group(
        &self,
        target: &Target,
        group: &ExternalGroup,
        link: Option<MirrorLink>,
    ) -> Result<()> {
        let (instance, connection, stored) =
            (target.instance.id, target.id().clone(), group.clone());
        self.db(move |s| s.put_external_group(instance, &connection, &stored, link.as_ref()))
            .await?;
        self.external_changed(target.instance.id, target.id());
        Ok(())
    }

    /// Deletes an external group at Graph, then here (with its mirror
    /// link). One Graph no longer has is forgotten here too.
    pub async fn delete_external_group(&self, connection: &str, id: &str) -> Result<()> {
        ConnectionId::parse(connection.trim())?;
        let id = ExternalGroupId::parse(id)?;
        let target = self.target(connection).await?;
        let client = self.graph_client(&target.instance).await?;
        match client.delete_group(target.id(), &id).await {
            Ok(()) => {}
            Err(e) if not_found(&e) => {
                self.notify(
                    Level::Info,
                    format!("external group `{id}` was already gone at Graph"),
                );
            }
            Err(e) => return Err(e.into()),
        }
        let (instance, cid) = (target.instance.id, target.id().clone());
        self.db(move |s| s.remove_external_group(instance, &cid, &id))
            .await?;
        self.external_changed(target.instance.id, target.id());
        Ok(())
    }

    /// The group as stored, or as Graph has it when casbah has not seen it
    /// (its members then unknown).
    async fn load_group(&self, target: &Target, id: &ExternalGroupId) -> Result<ExternalGroup> {
        let (instance, cid, gid) = (target.instance.id, target.id().clone(), id.clone());
        if let Some(g) = self
            .db(move |s| s.external_group(instance, &cid, &gid))
            .await?
        {
            return Ok(g);
        }
        let client = self.graph_client(&target.instance).await?;
        Ok(client.group(target.id(), id).await?)
    }

    /// R-X3: adds a user, an Entra group or a nested external group. A
    /// member that makes a group contain itself is sent as is: Graph
    /// decides, and evaluation copes with cycles (R-X5).
    pub async fn add_external_member(
        &self,
        connection: &str,
        group: &str,
        member: MemberRef,
    ) -> Result<Member> {
        ConnectionId::parse(connection.trim())?;
        let gid = ExternalGroupId::parse(group)?;
        if let MemberRef::External(id) = &member {
            ExternalGroupId::parse(id)?;
        }
        let target = self.target(connection).await?;
        let (member, synced) = self.resolve_member(&target, &member).await?;
        let mut stored = self.load_group(&target, &gid).await?;
        let client = self.graph_client(&target.instance).await?;
        client.add_member(target.id(), &gid, &member).await?;
        if !stored.members.contains(&member) {
            stored.members.push(member.clone());
        }
        if let Some(g) = synced {
            let instance = target.instance.id;
            self.db(move |s| s.put_entra_groups(instance, &[g])).await?;
        }
        self.store_group(&target, &stored, None).await?;
        Ok(member)
    }

    /// R-X3: removes a member. A user or Entra group may be named as when
    /// it was added, or by the object id the group holds.
    pub async fn remove_external_member(
        &self,
        connection: &str,
        group: &str,
        member: MemberRef,
    ) -> Result<Member> {
        ConnectionId::parse(connection.trim())?;
        let gid = ExternalGroupId::parse(group)?;
        if let MemberRef::External(id) = &member {
            ExternalGroupId::parse(id)?;
        }
        let target = self.target(connection).await?;
        let mut stored = self.load_group(&target, &gid).await?;
        let member = match self.held_member(&target, &stored, &member).await? {
            Some(m) => m,
            None => self.resolve_member(&target, &member).await?.0,
        };
        let client = self.graph_client(&target.instance).await?;
        client.remove_member(target.id(), &gid, &member).await?;
        stored.members.retain(|m| m != &member);
        self.store_group(&target, &stored, None).await?;
        Ok(member)
    }

    /// The member of `group` that `wanted` names, if the group holds it.
    async fn held_member(
        &self,
        target: &Target,
        group: &ExternalGroup,
        wanted: &MemberRef,
    ) -> Result<Option<Member>> {
        let cache = self.access_cache(target).await?;
        let found = group.members.iter().find(|m| match (wanted, m) {
            (MemberRef::User(s), Member::User(id)) => {
                id.eq_ignore_ascii_case(s.trim())
                    || cache.user(s).is_some_and(|u| u.id.eq_ignore_ascii_case(id))
            }
            (MemberRef::EntraGroup(s), Member::EntraGroup(id)) => {
                id.eq_ignore_ascii_case(s.trim())
                    || cache
                        .entra_names
                        .get(&id.to_lowercase())
                        .is_some_and(|n| n == s.trim())
            }
            (MemberRef::External(s), Member::ExternalGroup(id)) => id.as_str() == s,
            _ => false,
        });
        Ok(found.cloned())
    }

    /// The member a reference names; for an Entra group, also the group
    /// with its users, to store once Graph accepted the change.
    async fn resolve_member(
        &self,
        target: &Target,
        wanted: &MemberRef,
    ) -> Result<(Member, Option<EntraGroup>)> {
        match wanted {
            MemberRef::User(s) => {
                let cache = self.access_cache(target).await?;
                let user = resolve_user(&cache, s)?;
                Ok((Member::user(&user.id)?, None))
            }
            MemberRef::EntraGroup(s) => {
                let group = self.fetch_entra_group(&target.instance, s).await?;
                Ok((Member::entra_group(&group.id)?, Some(group)))
            }
            MemberRef::External(s) => Ok((Member::ExternalGroup(ExternalGroupId::parse(s)?), None)),
        }
    }

    /// An Entra group by object id or exact display name, with its users
    /// (transitive), read from the instance now.
    async fn fetch_entra_group(&self, instance: &Instance, wanted: &str) -> Result<EntraGroup> {
        let wanted = wanted.trim();
        if wanted.is_empty() {
            return Err(ServiceError::Invalid(
                "an Entra group needs a name or object id (R-X3)".into(),
            ));
        }
        let connector = self.connector(instance).await?;
        let remote = if uuid::Uuid::parse_str(wanted).is_ok() {
            match connector.group(wanted).await {
                Ok(g) => g,
                Err(ConnectorError::NotFound { .. }) => {
                    return Err(ServiceError::Unknown {
                        what: "Entra group",
                        name: wanted.to_owned(),
                        suggestions: Vec::new(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            let found = connector.search_groups(wanted, ENTRA_SEARCH_LIMIT).await?;
            let exact: Vec<_> = found.iter().filter(|g| g.display_name == wanted).collect();
            match exact.as_slice() {
                [one] => (*one).clone(),
                [] => {
                    return Err(ServiceError::Unknown {
                        what: "Entra group",
                        name: wanted.to_owned(),
                        suggestions: names::closest(
                            wanted,
                            found.iter().map(|g| g.display_name.as_str()),
                        ),
                    });
                }
                // Two groups share the name: only an object id says which.
                many => {
                    return Err(ServiceError::Unknown {
                        what: "single Entra group (several share the name; give an object id)",
                        name: wanted.to_owned(),
                        suggestions: many.iter().map(|g| g.id.clone()).collect(),
                    });
                }
            }
        };
        let users = connector.group_members(&remote.id).await?;
        Ok(EntraGroup {
            id: remote.id,
            name: remote.display_name,
            users: users.into_iter().map(|u| u.id).collect(),
            groups: Vec::new(),
        })
    }

    /// R-X4: puts the item with this ACL at Graph, then stores it. A file
    /// with only the ACL keeps the properties and content sent last time.
    pub async fn set_item_acl(
        &self,
        connection: &str,
        item: &str,
        document: ItemDocument,
    ) -> Result<ItemView> {
        ConnectionId::parse(connection.trim())?;
        let id = ItemId::parse(item)?;
        let target = self.target(connection).await?;
        let (instance, cid, iid) = (target.instance.id, target.id().clone(), id.clone());
        let previous = self
            .db(move |s| s.external_item(instance, &cid, &iid))
            .await?;
        let mut properties = document.properties;
        let mut content = document.content;
        if properties.is_empty()
            && let Some(p) = &previous
        {
            properties = serde_json::from_str(&p.properties).unwrap_or_default();
            if content.is_none() {
                content = p
                    .content
                    .as_deref()
                    .and_then(|c| serde_json::from_str(c).ok());
            }
        }
        let content_typed: Option<ItemContent> = content
            .clone()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| {
                ServiceError::Invalid(format!(
                    "the item's content must be {{\"type\": \"text\" or \"html\", \"value\": …}} ({e})"
                ))
            })?;
        let upload = ItemUpload {
            item: Item {
                id: id.clone(),
                acl: document.acl,
            },
            properties,
            content: content_typed,
        };
        let client = self.graph_client(&target.instance).await?;
        client.put_item(target.id(), &upload).await?;
        let record = ItemRecord {
            title: upload
                .properties
                .get("title")
                .and_then(|t| t.as_str())
                .map(crate::domain::text::sanitize),
            properties: serde_json::Value::Object(upload.properties.clone()).to_string(),
            content: content.map(|c| c.to_string()),
            item: upload.item,
        };
        let (instance, cid, stored) = (target.instance.id, target.id().clone(), record.clone());
        self.db(move |s| s.put_external_item(instance, &cid, &stored))
            .await?;
        self.external_changed(target.instance.id, target.id());
        // The ACL may name Entra groups casbah has not read yet: read them
        // now so access questions can follow them. Not reading them leaves
        // the ACL set, with a warning.
        if let Err(e) = self.sync_missing_entra_groups(&target).await {
            self.notify(
                Level::Warning,
                format!("cannot read the Entra groups the ACL names: {e}"),
            );
        }
        let data = self.connection_data(&target).await?;
        let cache = self.access_cache(&target).await?;
        Ok(item_view(&record, &data, &cache))
    }

    /// Deletes the item at Graph, then here. One Graph no longer has is
    /// forgotten here too.
    pub async fn delete_item(&self, connection: &str, item: &str) -> Result<()> {
        ConnectionId::parse(connection.trim())?;
        let id = ItemId::parse(item)?;
        let target = self.target(connection).await?;
        let client = self.graph_client(&target.instance).await?;
        match client.delete_item(target.id(), &id).await {
            Ok(()) => {}
            Err(e) if not_found(&e) => {
                self.notify(
                    Level::Info,
                    format!("item `{id}` was already gone at Graph"),
                );
            }
            Err(e) => return Err(e.into()),
        }
        let (instance, cid) = (target.instance.id, target.id().clone());
        self.db(move |s| s.remove_external_item(instance, &cid, &id))
            .await?;
        self.external_changed(target.instance.id, target.id());
        Ok(())
    }

    /// Entra groups the connection's ACLs and members name: every one when
    /// `all`, else only those casbah has never read.
    async fn entra_group_ids(&self, target: &Target, all: bool) -> Result<Vec<String>> {
        let data = self.connection_data(target).await?;
        let instance = target.instance.id;
        let known: BTreeSet<String> = if all {
            BTreeSet::new()
        } else {
            self.db(move |s| s.entra_groups(instance))
                .await?
                .into_iter()
                .map(|g| g.id.to_lowercase())
                .collect()
        };
        let mut wanted = BTreeSet::new();
        for r in &data.items {
            for e in &r.item.acl {
                if let Principal::EntraGroup(id) = &e.principal {
                    wanted.insert(id.clone());
                }
            }
        }
        for g in &data.groups {
            for m in &g.members {
                if let Member::EntraGroup(id) = m {
                    wanted.insert(id.clone());
                }
            }
        }
        Ok(wanted
            .into_iter()
            .filter(|id| !known.contains(&id.to_lowercase()))
            .collect())
    }

    async fn sync_missing_entra_groups(&self, target: &Target) -> Result<usize> {
        let ids = self.entra_group_ids(target, false).await?;
        self.read_entra_groups(target, ids).await
    }

    async fn read_entra_groups(&self, target: &Target, ids: Vec<String>) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut groups = Vec::with_capacity(ids.len());
        for id in ids {
            match self.fetch_entra_group(&target.instance, &id).await {
                Ok(g) => groups.push(g),
                // A group deleted in Entra is left out: the ACL then names
                // a group that matches nobody, which access answers say.
                Err(ServiceError::Unknown { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let count = groups.len();
        let instance = target.instance.id;
        self.db(move |s| s.put_entra_groups(instance, &groups))
            .await?;
        self.forget_access(instance, None);
        self.emit(Event::ExternalChanged {
            connection: target.id().clone(),
        });
        Ok(count)
    }

    /// Reads again every Entra group the connection's ACLs and members
    /// name, with their users (transitive). Returns how many were read.
    pub async fn sync_entra_groups(&self, connection: &str) -> Result<usize> {
        let target = self.target(connection).await?;
        let ids = self.entra_group_ids(&target, true).await?;
        self.read_entra_groups(&target, ids).await
    }

    /// R-X6: publishes a casbah group as an external group (created when
    /// missing), links them, and runs the first sync as a job.
    pub async fn mirror_group(
        &self,
        connection: &str,
        group: &str,
        from: &str,
    ) -> Result<JobHandle> {
        ConnectionId::parse(connection.trim())?;
        let gid = ExternalGroupId::parse(group)?;
        let target = self.target(connection).await?;
        let source = self.find_group(from).await?;
        let (instance, cid, g) = (target.instance.id, target.id().clone(), gid.clone());
        let existing = self
            .db(move |s| s.external_group(instance, &cid, &g))
            .await?;
        let external = match existing {
            Some(g) => g,
            None => {
                let client = self.graph_client(&target.instance).await?;
                let wanted = ExternalGroup {
                    id: gid.clone(),
                    display_name: Some(source.name.clone()),
                    description: Some(format!("Mirrored by casbah from {}", source.name)),
                    members: Vec::new(),
                };
                match client.create_group(target.id(), &wanted).await {
                    Ok(()) => wanted,
                    // Made outside casbah: adopt it; the first sync
                    // sends what it lacks.
                    Err(ExternalApiError::Conflict { .. }) => {
                        client.group(target.id(), &gid).await?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let data = self.connection_data(&target).await?;
        let published = match data.mirrors.iter().find(|l| l.group == gid) {
            Some(l) => l.published.clone(),
            // What casbah knows the group holds: users casbah did not
            // publish are left alone only if the source has them too.
            None => external
                .members
                .iter()
                .filter_map(|m| match m {
                    Member::User(id) => Some(id.clone()),
                    _ => None,
                })
                .collect(),
        };
        let link = MirrorLink {
            group: gid.clone(),
            source: source.id,
            published,
            unmatched: Vec::new(),
            last_sync: None,
            last_error: None,
        };
        self.store_group(&target, &external, Some(link)).await?;
        Ok(self.sync_mirror(target.instance.id, target.id().clone(), gid))
    }

    /// R-X6: sends one mirror's difference as a job.
    pub fn sync_mirror(
        &self,
        instance: InstanceId,
        connection: ConnectionId,
        group: ExternalGroupId,
    ) -> JobHandle {
        let label = format!("mirror to external group {group} of {connection}");
        self.spawn_job(
            JobKind::SyncMirror {
                instance,
                connection: connection.clone(),
                group: group.clone(),
            },
            label,
            move |svc, _job| async move { svc.run_mirror_sync(instance, connection, group).await },
        )
    }

    /// What the scheduler keeps current, with when each last succeeded:
    /// every mirror, and the Entra groups of every connection.
    pub(super) async fn external_work(&self) -> Result<Vec<(JobKind, Option<Micros>)>> {
        let (links, connections) = self
            .db(|s| Ok((s.mirror_links()?, s.external_connections(None)?)))
            .await?;
        let mut work = Vec::new();
        for (instance, connection, link) in links {
            if let Ok(connection) = ConnectionId::parse(&connection) {
                work.push((
                    JobKind::SyncMirror {
                        instance,
                        connection,
                        group: link.group,
                    },
                    link.last_sync,
                ));
            }
        }
        for (instance, c) in connections {
            work.push((
                JobKind::SyncEntraGroups {
                    instance,
                    connection: c.id,
                },
                None,
            ));
        }
        Ok(work)
    }

    /// Starts one piece of `external_work`; None for any other kind.
    pub(super) fn start_external(&self, kind: JobKind) -> Option<JobHandle> {
        match kind {
            JobKind::SyncMirror {
                instance,
                connection,
                group,
            } => Some(self.sync_mirror(instance, connection, group)),
            JobKind::SyncEntraGroups {
                instance,
                connection,
            } => Some(self.entra_groups_job(instance, connection)),
            _ => None,
        }
    }

    /// `sync_entra_groups` as a background job.
    fn entra_groups_job(&self, instance: InstanceId, connection: ConnectionId) -> JobHandle {
        let label = format!("read the Entra groups named in {connection}");
        self.spawn_job(
            JobKind::SyncEntraGroups {
                instance,
                connection: connection.clone(),
            },
            label,
            move |svc, _job| async move {
                let n = svc.sync_entra_groups(connection.as_str()).await?;
                Ok(format!("{n} Entra groups read"))
            },
        )
    }

    /// R-X6: every mirror, each sending only its difference.
    pub async fn sync_mirrors(&self) -> Result<Vec<JobHandle>> {
        self.sync_mirrors_where(|_| true).await
    }

    /// R-X6: the mirrors fed by one casbah group (after its membership sync).
    pub async fn sync_mirrors_of(&self, source: GroupId) -> Result<Vec<JobHandle>> {
        self.sync_mirrors_where(|l| l.source == source).await
    }

    async fn sync_mirrors_where(
        &self,
        wanted: impl Fn(&MirrorLink) -> bool,
    ) -> Result<Vec<JobHandle>> {
        let links = self.db(|s| s.mirror_links()).await?;
        let mut started = Vec::new();
        for (instance, connection, link) in links.into_iter().filter(|(_, _, l)| wanted(l)) {
            match ConnectionId::parse(&connection) {
                Ok(cid) => started.push(self.sync_mirror(instance, cid, link.group)),
                Err(e) => tracing::warn!("mirror of a stored connection left out: {e}"),
            }
        }
        Ok(started)
    }

    async fn run_mirror_sync(
        &self,
        instance: InstanceId,
        connection: ConnectionId,
        group: ExternalGroupId,
    ) -> Result<String> {
        let (cid, gid) = (connection.clone(), group.clone());
        let (instance, stored, data) = self
            .db(move |s| {
                let instance = s.instance(instance)?;
                let stored = s.external_connections(Some(instance.id))?;
                let data = s.connection_data(instance.id, &cid)?;
                Ok((instance, stored, data))
            })
            .await?;
        let connection = stored
            .into_iter()
            .map(|(_, c)| c)
            .find(|c| c.id.as_str().eq_ignore_ascii_case(connection.as_str()))
            .ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "connection `{connection}` is no longer in casbah; nothing to mirror"
                ))
            })?;
        let target = Target {
            instance,
            connection,
        };
        let (Some(mut link), Some(mut external)) = (
            data.mirrors.into_iter().find(|l| l.group == gid),
            data.groups.into_iter().find(|g| g.id == gid),
        ) else {
            return Err(ServiceError::Invalid(format!(
                "external group `{gid}` no longer mirrors a group"
            )));
        };
        let source_id = link.source;
        let instance_id = target.instance.id;
        let (source, members, accounts) = self
            .db(move |s| {
                let source = s.group(source_id)?;
                let members = s.members(source_id)?;
                // A deleted Entra user can hold no membership: not a match.
                let accounts: Vec<EntraAccount> = s
                    .instance_users(instance_id)?
                    .into_iter()
                    .filter(|u| u.status != UserStatus::Deleted)
                    .map(|u| EntraAccount {
                        id: u.id,
                        user_principal_name: u.email,
                        mail: None,
                    })
                    .collect();
                Ok((source, members, accounts))
            })
            .await?;
        if source.status == GroupStatus::Importing {
            return Err(ServiceError::Invalid(format!(
                "{} has not finished its first sync; the mirror waits for it",
                source.name
            )));
        }
        let source_users: Vec<RemoteUser> = members.into_iter().map(source_user).collect();
        let plan = plan_mirror(&source_users, &accounts, &link.published);
        let client = self.graph_client(&target.instance).await?;
        let applied =
            apply_mirror(client.as_ref(), target.id(), &gid, &link.published, &plan).await;
        // The external group holds what Graph accepted, and nothing a
        // failed sync did not send.
        let before = &link.published;
        external.members.retain(|m| match m {
            Member::User(id) => !before.contains(id) || applied.published.contains(id),
            _ => true,
        });
        for id in &applied.published {
            let m = Member::User(id.clone());
            if !external.members.contains(&m) {
                external.members.push(m);
            }
        }
        link.published = applied.published;
        link.unmatched = plan.unmatched;
        let error = applied.error.map(ServiceError::from);
        match &error {
            None => {
                link.last_sync = Some(now_micros());
                link.last_error = None;
            }
            Some(e) => link.last_error = Some(e.to_string()),
        }
        let unmatched = link.unmatched.clone();
        self.store_group(&target, &external, Some(link)).await?;
        if !unmatched.is_empty() {
            let shown: Vec<String> = unmatched.iter().take(3).map(ToString::to_string).collect();
            let more = unmatched.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            self.notify(
                Level::Warning,
                format!(
                    "{} users of {} were not published to external group `{gid}`: {}{more}",
                    unmatched.len(),
                    source.name,
                    shown.join("; ")
                ),
            );
        }
        match error {
            Some(e) => Err(e),
            None => Ok(format!(
                "{} added, {} removed, {} unmatched",
                applied.added,
                applied.removed,
                unmatched.len()
            )),
        }
    }

    /// The synced users of the connection's instance (the access checker's
    /// user picker).
    pub async fn directory_users(&self, connection: &str) -> Result<Vec<DirectoryUser>> {
        let target = self.target(connection).await?;
        Ok(self.access_cache(&target).await?.users.clone())
    }

    async fn item_record(&self, target: &Target, item: &ItemId) -> Result<ItemRecord> {
        let (instance, cid, iid) = (target.instance.id, target.id().clone(), item.clone());
        if let Some(r) = self
            .db(move |s| s.external_item(instance, &cid, &iid))
            .await?
        {
            return Ok(r);
        }
        let data = self.connection_data(target).await?;
        Err(ServiceError::Unknown {
            what: "item",
            name: item.to_string(),
            suggestions: names::closest(
                item.as_str(),
                data.items.iter().map(|r| r.item.id.as_str()),
            ),
        })
    }

    /// R-X5: grant, deny or none for one user and item, with the path.
    pub async fn access_check(
        &self,
        connection: &str,
        item: &str,
        user: &str,
    ) -> Result<AccessAnswer> {
        ConnectionId::parse(connection.trim())?;
        let item = ItemId::parse(item)?;
        let target = self.target(connection).await?;
        let record = self.item_record(&target, &item).await?;
        let cache = self.access_cache(&target).await?;
        let user = resolve_user(&cache, user)?.clone();
        let decision = cache
            .index
            .check(&record.item.acl, &user.id)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        Ok(AccessAnswer {
            user,
            item,
            decision,
        })
    }

    /// R-X5: who is granted and who is denied an item.
    pub async fn access_who(&self, connection: &str, item: &str) -> Result<AudienceView> {
        ConnectionId::parse(connection.trim())?;
        let item = ItemId::parse(item)?;
        let target = self.target(connection).await?;
        let record = self.item_record(&target, &item).await?;
        let cache = self.access_cache(&target).await?;
        let audience = cache.index.who_can_see(&record.item.acl);
        Ok(AudienceView {
            rows: audience
                .rows
                .iter()
                .map(|r| AudienceEntry {
                    user_id: r.user_id.to_string(),
                    name: r.name.to_string(),
                    decision: r.decision,
                    entry: r.entry,
                })
                .collect(),
            granted: audience.granted,
            denied: audience.denied,
            pending: audience.pending,
            cycles: audience.cycles,
            notes: audience.notes,
        })
    }
}

/// A synced user by object id, UPN or e-mail (any case).
fn resolve_user<'c>(cache: &'c AccessCache, wanted: &str) -> Result<&'c DirectoryUser> {
    cache.user(wanted).ok_or_else(|| ServiceError::Unknown {
        what: "user in the synced directory",
        name: wanted.trim().to_owned(),
        suggestions: names::closest(wanted.trim(), cache.users.iter().map(|u| u.name.as_str())),
    })
}
