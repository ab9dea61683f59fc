//! Mirrors: casbah groups published as external groups, each sync sending
//! only the difference (R-X6).

use super::Target;
use crate::service::{JobHandle, JobKind, Level, Local, Result, ServiceError};

use crate::connectors::microsoft365::external::{
    ExternalApiError, ExternalConnections, apply_mirror,
};
use crate::domain::external::{
    ConnectionId, EntraAccount, ExternalGroup, ExternalGroupId, Member, plan_mirror,
};
use crate::domain::{
    GroupId, GroupStatus, InstanceId, Micros, RemoteUser, UserStatus, UserType, now_micros,
};
use crate::store::{MirrorLink, StoreError};

/// A source member as the mirror plan reads it: a casbah member keeps its
/// e-mail, which is all matching needs.
fn source_user(m: crate::store::Member) -> RemoteUser {
    RemoteUser {
        id: m.key,
        display_name: m.name,
        email: m.email,
        status: UserStatus::Active,
        user_type: UserType::Member,
        principal_name: None,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    }
}

impl Local {
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
        let link = match data.mirrors.into_iter().find(|l| l.group == gid) {
            // Mirrored already: the source may change, what was published
            // stays, so the next sync sends only the difference.
            Some(l) => MirrorLink {
                source: source.id,
                ..l
            },
            // Not mirrored before: the users the group holds count as
            // published, so the first sync removes those the source lacks.
            None => MirrorLink {
                group: gid.clone(),
                source: source.id,
                published: external
                    .members
                    .iter()
                    .filter_map(|m| match m {
                        Member::User(id) => Some(id.clone()),
                        _ => None,
                    })
                    .collect(),
                unmatched: Vec::new(),
                last_sync: None,
                last_error: None,
            },
        };
        self.store_group(&target, &external, Some(link)).await?;
        Ok(self.start_mirror_sync(target.instance.id, target.id().clone(), gid))
    }

    /// R-X6: sends one mirror's difference as a job.
    pub(crate) fn start_mirror_sync(
        &self,
        instance: InstanceId,
        connection: ConnectionId,
        group: ExternalGroupId,
    ) -> JobHandle {
        self.spawn_mirror(instance, connection, group, None)
    }

    /// R-X6: the mirrors fed by `source`, each syncing once `source_job`
    /// (the source group's membership sync) has ended.
    pub(in crate::service) async fn mirrors_after(
        &self,
        source_job: &JobHandle,
        source: GroupId,
    ) -> Result<Vec<JobHandle>> {
        let links = self.db(|s| s.mirror_links()).await?;
        let mut started = Vec::new();
        for (instance, connection, link) in links.into_iter().filter(|(_, _, l)| l.source == source)
        {
            match ConnectionId::parse(&connection) {
                Ok(cid) => started.push(self.spawn_mirror(
                    instance,
                    cid,
                    link.group,
                    Some(source_job.clone()),
                )),
                Err(e) => tracing::warn!("mirror of a stored connection left out: {e}"),
            }
        }
        Ok(started)
    }

    fn spawn_mirror(
        &self,
        instance: InstanceId,
        connection: ConnectionId,
        group: ExternalGroupId,
        after: Option<JobHandle>,
    ) -> JobHandle {
        let label = format!("mirror to external group {group} of {connection}");
        self.spawn_job(
            JobKind::SyncMirror {
                instance,
                connection: connection.clone(),
                group: group.clone(),
            },
            label,
            move |svc, _job| async move {
                // A failed source sync leaves the last membership, whose
                // difference is still worth sending.
                if let Some(job) = after {
                    let _ = job.wait().await;
                }
                svc.run_mirror_sync(instance, connection, group).await
            },
        )
    }

    /// What the scheduler keeps current, with when each last succeeded:
    /// every mirror, and the Entra groups of every connection.
    pub(in crate::service) async fn external_work(&self) -> Result<Vec<(JobKind, Option<Micros>)>> {
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
    pub(in crate::service) fn start_external(&self, kind: JobKind) -> Option<JobHandle> {
        match kind {
            JobKind::SyncMirror {
                instance,
                connection,
                group,
            } => Some(self.start_mirror_sync(instance, connection, group)),
            JobKind::SyncEntraGroups {
                instance,
                connection,
            } => Some(self.entra_groups_job(instance, connection)),
            _ => None,
        }
    }

    /// R-X6: every mirror, each sending only its difference.
    pub async fn sync_mirrors(&self) -> Result<Vec<JobHandle>> {
        let links = self.db(|s| s.mirror_links()).await?;
        let mut started = Vec::new();
        for (instance, connection, link) in links {
            match ConnectionId::parse(&connection) {
                Ok(cid) => started.push(self.start_mirror_sync(instance, cid, link.group)),
                Err(e) => tracing::warn!("mirror of a stored connection left out: {e}"),
            }
        }
        Ok(started)
    }

    pub(super) async fn run_mirror_sync(
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
        let found = self
            .db(move |s| {
                let source = match s.group(source_id) {
                    Ok(g) => g,
                    Err(StoreError::NotFound(_)) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let members = s.members(source_id)?;
                // A deleted Entra user can hold no membership: not a match.
                let accounts: Vec<EntraAccount> = s
                    .instance_users(instance_id)?
                    .into_iter()
                    .filter(|u| u.status != UserStatus::Deleted)
                    .map(|u| EntraAccount {
                        id: u.id,
                        user_principal_name: u.principal_name.unwrap_or_else(|| u.email.clone()),
                        mail: Some(u.email),
                    })
                    .collect();
                Ok(Some((source, members, accounts)))
            })
            .await?;
        let Some((source, members, accounts)) = found else {
            return Err(ServiceError::Invalid(format!(
                "external group `{gid}` mirrors a group that was removed from casbah; mirror another group into it or delete it"
            )));
        };
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
        // Told once per change of the list, not at every hourly sync.
        let unmatched_changed = link.unmatched != plan.unmatched;
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
        if unmatched_changed && !unmatched.is_empty() {
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
}
