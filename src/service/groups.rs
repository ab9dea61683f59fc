//! User groups: the import picker's list, imports and membership syncs
//! (R-G2…R-G8, R-G11).

use serde::Serialize;

use super::{Event, JobHandle, JobKind, Level, Local, Result, ServiceError, names};
use crate::connectors::ConnectorError;
use crate::domain::group::{import_summary, split_active};
use crate::domain::office::{apps_of, office_apps_of_remote};
use crate::domain::{
    Group, GroupApp, GroupId, GroupKind, GroupStatus, OfficeApp, RemoteGroup, now_micros,
};
use crate::store::{Member, MembershipChange, Person};

/// R-G2: how many groups the picker shows before any search.
pub const FIRST_GROUPS: usize = 50;
const SEARCH_LIMIT: usize = 200;

/// A row of the import picker.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AvailableGroup {
    #[serde(flatten)]
    pub group: RemoteGroup,
    /// Already imported (marked in the picker).
    pub imported: bool,
    /// R-G10: the Office apps of the instance this group would also be a
    /// group of, once imported ("also SharePoint, …").
    pub also_in: Vec<OfficeApp>,
}

/// A group with the apps it belongs to (R-G10).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListedGroup {
    pub group: Group,
    /// Its instance's app first, then the Office apps it also appears in;
    /// empty for the External group, which spans every app.
    pub apps: Vec<GroupApp>,
}

impl Local {
    /// R-G2: the first 50 groups of an instance, or the app's own search
    /// results for `search`.
    pub async fn available_groups(
        &self,
        instance: &str,
        search: Option<&str>,
    ) -> Result<Vec<AvailableGroup>> {
        let instance = self.find_instance(instance).await?;
        let connector = self.connector(&instance).await?;
        let remote = match search.map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => connector.search_groups(text, SEARCH_LIMIT).await?,
            None => connector.first_groups(FIRST_GROUPS).await?,
        };
        let imported = self.imported_ids(instance.id).await?;
        Ok(remote
            .into_iter()
            .map(|group| AvailableGroup {
                imported: imported.contains(&group.id),
                also_in: office_apps_of_remote(group.microsoft365, &instance),
                group,
            })
            .collect())
    }

    async fn imported_ids(&self, instance: crate::domain::InstanceId) -> Result<Vec<String>> {
        let groups = self.db(|s| s.groups()).await?;
        Ok(groups
            .into_iter()
            .filter_map(|g| match g.kind {
                GroupKind::Imported {
                    instance: i,
                    remote_id,
                } if i == instance => Some(remote_id),
                _ => None,
            })
            .collect())
    }

    /// R-G2…R-G5: records the import (refusing the 501st, R-G3) and starts
    /// its first sync in the background. `group` is the group's exact name,
    /// or what identifies it in the app (`Connector::group`: its id, a Google
    /// group's e-mail, a GitHub team's slug); a name several groups share is
    /// refused with what tells them apart.
    pub async fn import_group(
        &self,
        instance: &str,
        group: &str,
        notify: bool,
    ) -> Result<(Group, JobHandle)> {
        let instance = self.find_instance(instance).await?;
        let connector = self.connector(&instance).await?;
        let wanted = group.trim();
        let found = connector.search_groups(wanted, SEARCH_LIMIT).await?;
        let exact: Vec<&RemoteGroup> = found
            .iter()
            .filter(|g| g.display_name.eq_ignore_ascii_case(wanted))
            .collect();
        let remote = match exact.as_slice() {
            [one] => (*one).clone(),
            [_, _, ..] => {
                return Err(ServiceError::Ambiguous {
                    what: "group name",
                    name: wanted.to_owned(),
                    candidates: exact
                        .iter()
                        .map(|g| {
                            format!(
                                "{} ({})",
                                g.email.as_deref().unwrap_or(&g.id),
                                g.display_name
                            )
                        })
                        .collect(),
                });
            }
            // Not a name: perhaps the app's own id, e-mail or slug.
            [] => match connector.group(wanted).await {
                Ok(by_id) => by_id,
                Err(
                    ConnectorError::NotFound { .. }
                    | ConnectorError::Vendor {
                        status: 400..=404, ..
                    },
                ) => {
                    let suggestions =
                        names::closest(wanted, found.iter().map(|g| g.display_name.as_str()));
                    return Err(ServiceError::Unknown {
                        what: "group",
                        name: wanted.to_owned(),
                        suggestions,
                    });
                }
                Err(e) => return Err(e.into()),
            },
        };
        let id = instance.id;
        let created = self
            .db(move |s| s.create_imported_group(id, &remote, notify, now_micros()))
            .await?;
        self.emit(Event::GroupsChanged);
        let job = self.start_group_sync(created.id, &created.name);
        Ok((created, job))
    }

    /// R-G7: syncs the group's members now, or answers with the sync already running.
    pub async fn sync_group(&self, group: GroupId, name: &str) -> Result<JobHandle> {
        Ok(self.start_group_sync(group, name))
    }

    /// R-G5, R-G7: reads the group's members now (flattened, active only)
    /// and records who joined and left.
    pub(super) fn start_group_sync(&self, group: GroupId, name: &str) -> JobHandle {
        let label = format!("sync group {name}");
        self.spawn_job(
            JobKind::SyncGroup { group },
            label,
            move |svc, _job| async move {
                let outcome = svc.run_group_sync(group).await;
                if let Err(e) = &outcome {
                    let message = e.to_string();
                    let status = GroupStatus::SyncFailed {
                        message: message.clone(),
                    };
                    // The group stays, marked failed; the next sync tries again.
                    let _ = svc.db(move |s| s.set_group_status(group, status)).await;
                    svc.emit(Event::GroupsChanged);
                    svc.notify(Level::Error, format!("sync of group failed: {message}"));
                }
                outcome
            },
        )
    }

    async fn run_group_sync(&self, id: GroupId) -> Result<String> {
        let group = self.db(move |s| s.group(id)).await?;
        let GroupKind::Imported {
            instance,
            remote_id,
        } = &group.kind
        else {
            return Err(ServiceError::Invalid(format!(
                "{} is an automatic group: casbah keeps it current itself",
                group.name
            )));
        };
        let instance = *instance;
        let instance = self.db(move |s| s.instance(instance)).await?;
        let connector = self.connector(&instance).await?;
        let members = connector.group_members(remote_id).await?;
        let (active, mut skipped) = split_active(members.items);
        skipped.add_unreadable(members.skipped);
        let first = group.status == GroupStatus::Importing;
        let count = active.len();
        let summary = import_summary(count, &skipped);
        let diff = self
            .db(move |s| s.sync_membership(id, &active, skipped, now_micros()))
            .await?;
        self.emit(Event::GroupsChanged);
        if first {
            // R-G11: always told in the app; by e-mail too when asked for.
            self.notify(Level::Info, format!("{}: {summary}", group.name));
            if group.notify {
                self.queue_import_notice(&group.name, &summary).await?;
            }
            Ok(summary)
        } else {
            Ok(format!(
                "{} members, {} joined, {} left",
                count,
                diff.joined.len(),
                diff.left.len()
            ))
        }
    }

    /// Imported and automatic groups, sorted by name.
    pub async fn groups(&self) -> Result<Vec<Group>> {
        let mut groups = self.db(|s| s.groups()).await?;
        groups.sort_by_key(|g| g.name.to_lowercase());
        Ok(groups)
    }

    /// Groups with the apps they belong to, sorted by name; only the groups
    /// of `app` (a catalog app or an Office app, by any of its names) when
    /// given. R-G10: the Office apps come from the instance's components as
    /// they are now, so switching a component takes effect without an import.
    pub async fn listed_groups(&self, app: Option<&str>) -> Result<Vec<ListedGroup>> {
        let wanted = match app.map(str::trim).filter(|a| !a.is_empty()) {
            None => None,
            Some(name) => Some(
                GroupApp::from_name(name).ok_or_else(|| ServiceError::Unknown {
                    what: "app",
                    name: name.to_owned(),
                    suggestions: names::closest(name, GroupApp::all_slugs()),
                })?,
            ),
        };
        let groups = self.groups().await?;
        let instances = self.db(|s| s.instances()).await?;
        Ok(groups
            .into_iter()
            .map(|group| {
                let instance = match &group.kind {
                    GroupKind::Imported { instance, .. } => {
                        instances.iter().find(|i| i.id == *instance)
                    }
                    GroupKind::Automatic(_) => None,
                };
                let apps = apps_of(&group, instance);
                ListedGroup { group, apps }
            })
            .filter(|g| wanted.is_none_or(|w| g.apps.contains(&w)))
            .collect())
    }

    /// Finds a group by name (case-insensitive) or its casbah id.
    pub async fn find_group(&self, name: &str) -> Result<Group> {
        let groups = self.groups().await?;
        let wanted = name.trim();
        if let Some(g) = groups.iter().find(|g| g.name.eq_ignore_ascii_case(wanted)) {
            return Ok(g.clone());
        }
        if let Some(g) = wanted
            .parse::<u64>()
            .ok()
            .and_then(|n| groups.iter().find(|g| g.id.0 == n))
        {
            return Ok(g.clone());
        }
        let suggestions = names::closest(wanted, groups.iter().map(|g| g.name.as_str()));
        Err(ServiceError::Unknown {
            what: "group",
            name: wanted.to_owned(),
            suggestions,
        })
    }

    pub async fn remove_group(&self, name: &str) -> Result<Group> {
        let group = self.find_group(name).await?;
        if matches!(group.kind, GroupKind::Automatic(_)) {
            return Err(ServiceError::Invalid(format!(
                "{} is an automatic group and cannot be removed",
                group.name
            )));
        }
        let id = group.id;
        self.db(move |s| s.remove_group(id)).await?;
        self.emit(Event::GroupsChanged);
        Ok(group)
    }

    /// R-G8: a group's members.
    pub async fn members(&self, group: GroupId) -> Result<Vec<Member>> {
        self.db(move |s| s.members(group)).await
    }

    /// R-G7: who joined and left, oldest first.
    pub async fn membership_history(&self, group: GroupId) -> Result<Vec<MembershipChange>> {
        self.db(move |s| s.membership_history(group)).await
    }

    /// R-G8: a person across apps.
    pub async fn person(&self, key: &str) -> Result<Person> {
        let key = key.trim().to_lowercase();
        let person = self.db(move |s| s.person_directory(&key)).await?;
        let actor = person.key.clone();
        let summary = self
            .log(move |l| l.actor_summary(&actor, now_micros()))
            .await?;
        Ok(person.with_activity(summary))
    }
}
