//! Entra groups that ACLs and members name, read with their users so that
//! access evaluation can follow them (R-X3, R-X5).

use std::collections::BTreeSet;

use super::Target;
use crate::service::{Event, JobHandle, JobKind, Local, Result, ServiceError, names};

use crate::connectors::{Connector, ConnectorError};
use crate::domain::external::{ConnectionId, EntraGroup, Member, Principal};
use crate::domain::{Instance, InstanceId, RemoteGroup};

/// How many groups the Entra group search asks for when resolving a name.
const ENTRA_SEARCH_LIMIT: usize = 50;

impl Local {
    /// An Entra group by object id or exact display name, with its users
    /// (transitive), read from the instance now.
    pub(super) async fn fetch_entra_group(
        &self,
        instance: &Instance,
        wanted: &str,
    ) -> Result<EntraGroup> {
        let wanted = wanted.trim();
        if wanted.is_empty() {
            return Err(ServiceError::Invalid(
                "an Entra group needs a name or object id".into(),
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
        with_users(connector.as_ref(), remote).await
    }

    /// An Entra group by object id with its users; None when Entra no
    /// longer has it.
    async fn entra_group_by_id(&self, instance: &Instance, id: &str) -> Result<Option<EntraGroup>> {
        let connector = self.connector(instance).await?;
        match connector.group(id).await {
            Ok(remote) => Ok(Some(with_users(connector.as_ref(), remote).await?)),
            Err(
                ConnectorError::NotFound { .. }
                | ConnectorError::Vendor {
                    status: 400 | 404, ..
                },
            ) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Entra groups the connection's ACLs and members name: every one when
    /// `all`, else only those casbah has never read.
    pub(super) async fn entra_group_ids(&self, target: &Target, all: bool) -> Result<Vec<String>> {
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

    pub(super) async fn sync_missing_entra_groups(&self, target: &Target) -> Result<usize> {
        let ids = self.entra_group_ids(target, false).await?;
        self.read_entra_groups(target, ids).await
    }

    pub(super) async fn read_entra_groups(
        &self,
        target: &Target,
        ids: Vec<String>,
    ) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut groups = Vec::with_capacity(ids.len());
        let mut gone = Vec::new();
        for id in ids {
            match self.entra_group_by_id(&target.instance, &id).await? {
                Some(g) => groups.push(g),
                // A group deleted in Entra is forgotten: the ACL then names
                // a group that matches nobody, which access answers say.
                None => gone.push(id),
            }
        }
        let count = groups.len();
        let instance = target.instance.id;
        self.db(move |s| {
            s.put_entra_groups(instance, &groups)?;
            s.remove_entra_groups(instance, &gone)
        })
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

    /// `sync_entra_groups` as a background job.
    pub(super) fn entra_groups_job(
        &self,
        instance: InstanceId,
        connection: ConnectionId,
    ) -> JobHandle {
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
}

/// The group with its users, nested groups flattened (R-G4).
async fn with_users(connector: &dyn Connector, remote: RemoteGroup) -> Result<EntraGroup> {
    let users = connector.group_members(&remote.id).await?;
    Ok(EntraGroup {
        id: remote.id,
        name: remote.display_name,
        users: users.items.into_iter().map(|u| u.id).collect(),
        groups: Vec::new(),
    })
}
