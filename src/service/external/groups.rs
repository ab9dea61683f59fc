//! External groups and their members (R-X2, R-X3).

use std::collections::HashMap;

use super::cache::resolve_user;
use super::{ExternalGroupView, MemberRef, MirrorStatus, Target, member_view, not_found};
use crate::service::{Level, Local, Result, ServiceError};

use crate::connectors::microsoft365::external::ExternalConnections;
use crate::domain::GroupId;
use crate::domain::external::{ConnectionId, EntraGroup, ExternalGroup, ExternalGroupId, Member};
use crate::store::MirrorLink;

impl Local {
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

    /// R-X2: creates an external group (id checked before any request).
    pub async fn create_external_group(
        &self,
        connection: &str,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<ExternalGroup> {
        ConnectionId::parse(connection.trim())?;
        let group = ExternalGroup {
            id: ExternalGroupId::parse(id)?,
            display_name: name.and_then(given_text),
            description: description.and_then(given_text),
            members: Vec::new(),
        };
        let target = self.target(connection).await?;
        let client = self.graph_client(&target.instance).await?;
        client.create_group(target.id(), &group).await?;
        self.store_group(&target, &group, None).await?;
        Ok(group)
    }

    /// Changes a group's display name or description (`None` keeps it, an
    /// empty text clears it) at Graph, then here. Members are untouched.
    pub async fn update_external_group(
        &self,
        connection: &str,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<ExternalGroup> {
        ConnectionId::parse(connection.trim())?;
        let id = ExternalGroupId::parse(id)?;
        if name.is_none() && description.is_none() {
            return Err(ServiceError::Invalid(format!(
                "nothing to change for external group `{id}`; give --name or --description"
            )));
        }
        let target = self.target(connection).await?;
        let mut group = self.load_group(&target, &id).await?;
        if let Some(name) = name {
            group.display_name = given_text(name);
        }
        if let Some(description) = description {
            group.description = given_text(description);
        }
        let client = self.graph_client(&target.instance).await?;
        client.update_group(target.id(), &group).await?;
        self.store_group(&target, &group, None).await?;
        Ok(group)
    }

    pub(super) async fn store_group(
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
    pub(super) async fn load_group(
        &self,
        target: &Target,
        id: &ExternalGroupId,
    ) -> Result<ExternalGroup> {
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
        let gid = checked_member_ids(connection, group, &member)?;
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
            // Other connections of the instance may name the group too.
            self.forget_access(instance, None);
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
        let gid = checked_member_ids(connection, group, &member)?;
        let target = self.target(connection).await?;
        let mut stored = self.load_group(&target, &gid).await?;
        let member = match self.held_member(&target, &stored, &member).await? {
            Some(m) => m,
            None => self.resolve_member(&target, &member).await?.0,
        };
        let client = self.graph_client(&target.instance).await?;
        match client.remove_member(target.id(), &gid, &member).await {
            Ok(()) => {}
            // Gone at Graph already: casbah's copy follows.
            Err(e) if not_found(&e) && stored.members.contains(&member) => {
                self.notify(
                    Level::Info,
                    format!(
                        "member `{}` of external group `{gid}` was already gone at Graph",
                        member.id()
                    ),
                );
            }
            Err(e) => return Err(e.into()),
        }
        stored.members.retain(|m| m != &member);
        self.store_group(&target, &stored, None).await?;
        Ok(member)
    }

    /// The member of `group` that `wanted` names, if the group holds it.
    pub(super) async fn held_member(
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
    pub(super) async fn resolve_member(
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
}

/// A display name or description as typed: blank means none.
fn given_text(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// R-X1, R-X2: the ids a member change names, checked before any request.
fn checked_member_ids(
    connection: &str,
    group: &str,
    member: &MemberRef,
) -> Result<ExternalGroupId> {
    ConnectionId::parse(connection.trim())?;
    let gid = ExternalGroupId::parse(group)?;
    if let MemberRef::External(id) = member {
        ExternalGroupId::parse(id)?;
    }
    Ok(gid)
}
