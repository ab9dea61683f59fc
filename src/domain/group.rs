//! R-G1…R-G11: automatic and imported groups.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{AppKind, InstanceId, Micros, RemoteUser, UserStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupId(pub u64);

/// A group as the vendor lists it (picker rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteGroup {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    /// The group's e-mail where the app gives groups one (Google Workspace,
    /// where it, not the name, is unique).
    #[serde(default)]
    pub email: Option<String>,
    /// R-G10: a Microsoft 365 (Unified) group, as opposed to a security or
    /// distribution group; always false for other vendors.
    #[serde(default)]
    pub microsoft365: bool,
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

impl AutoGroup {
    /// The name shown in lists and used in filters (`group:External`).
    pub fn name(&self) -> String {
        match self {
            AutoGroup::External => "External".to_string(),
            AutoGroup::DropboxAdministrator => "Dropbox administrator".to_string(),
            AutoGroup::Microsoft365Administrator => "Microsoft 365 administrator".to_string(),
            AutoGroup::GoogleWorkspaceAdministrator => "Google Workspace administrator".to_string(),
            AutoGroup::BoxAdministrator => "Box administrator".to_string(),
            AutoGroup::SalesforceProfile(profile) => format!("Salesforce {profile}"),
        }
    }

    /// R-G1: the administrators group of an app, for the apps that have one.
    pub fn administrators_of(app: AppKind) -> Option<AutoGroup> {
        match app {
            AppKind::Dropbox => Some(AutoGroup::DropboxAdministrator),
            AppKind::Microsoft365 => Some(AutoGroup::Microsoft365Administrator),
            AppKind::GoogleWorkspace => Some(AutoGroup::GoogleWorkspaceAdministrator),
            AppKind::Box => Some(AutoGroup::BoxAdministrator),
            _ => None,
        }
    }
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

/// The reason given for members whose records could not be read.
pub const UNREADABLE: &str = "unreadable";

/// R-G4: why members were left out of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipCounts {
    pub suspended: u32,
    pub disabled: u32,
    pub deleted: u32,
    /// The vendors' other reasons (`UserStatus::Inactive`), by their words.
    pub other: BTreeMap<String, u32>,
}

impl SkipCounts {
    pub fn total(&self) -> u64 {
        let other: u64 = self.other.values().map(|&n| u64::from(n)).sum();
        u64::from(self.suspended) + u64::from(self.disabled) + u64::from(self.deleted) + other
    }

    fn count(&mut self, status: &UserStatus) {
        let slot = match status {
            UserStatus::Active => return,
            UserStatus::Suspended => &mut self.suspended,
            UserStatus::Disabled => &mut self.disabled,
            UserStatus::Deleted => &mut self.deleted,
            UserStatus::Inactive(reason) => self.other.entry(reason.clone()).or_default(),
        };
        *slot = slot.saturating_add(1);
    }

    /// Issue 10: members the vendor sent that could not be read (a mistyped
    /// field, no id), under their own reason.
    pub fn add_unreadable(&mut self, n: usize) {
        if n > 0 {
            let slot = self.other.entry(UNREADABLE.to_owned()).or_default();
            *slot = slot.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        }
    }

    /// Every reason with its count, the common ones first: ("suspended", 7), ….
    pub fn reasons(&self) -> impl Iterator<Item = (&str, u32)> {
        [
            ("suspended", self.suspended),
            ("disabled", self.disabled),
            ("deleted", self.deleted),
        ]
        .into_iter()
        .chain(self.other.iter().map(|(k, &n)| (k.as_str(), n)))
        .filter(|(_, n)| *n > 0)
    }
}

/// R-G4: keeps the active members once each and counts why the others were
/// left out. The same person reached through two nested groups counts once,
/// under the status of the first occurrence.
pub fn split_active(members: Vec<RemoteUser>) -> (Vec<RemoteUser>, SkipCounts) {
    let mut seen = HashSet::new();
    let mut active = Vec::new();
    let mut skipped = SkipCounts::default();
    for user in members {
        // A vendor may omit the e-mail; the vendor id then tells people apart
        // instead of merging everyone without one.
        let key = match user.key() {
            k if k.is_empty() => format!("id:{}", user.id),
            k => k,
        };
        if !seen.insert(key) {
            continue;
        }
        skipped.count(&user.status);
        if user.status == UserStatus::Active {
            active.push(user);
        }
    }
    (active, skipped)
}

/// R-G4: "412 imported, 9 skipped: 7 suspended, 2 disabled".
pub fn import_summary(imported: usize, skipped: &SkipCounts) -> String {
    let total = skipped.total();
    if total == 0 {
        return format!("{imported} imported");
    }
    let reasons: Vec<String> = skipped
        .reasons()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    format!(
        "{imported} imported, {total} skipped: {}",
        reasons.join(", ")
    )
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
    /// R-G10: imported from a Microsoft 365 (Unified) group. Kept because
    /// only the vendor knows it; the Office apps the group also appears in
    /// are derived when read (`office::apps_of`), never stored.
    #[serde(default)]
    pub microsoft365: bool,
}

impl Group {
    /// R-G5: an imported group is usable in filters once its first sync has
    /// finished, even if a later sync failed; automatic groups always are.
    pub fn usable_in_filters(&self) -> bool {
        match (&self.kind, &self.status) {
            (GroupKind::Automatic(_), _) => true,
            (GroupKind::Imported { .. }, GroupStatus::Ready) => true,
            (GroupKind::Imported { .. }, GroupStatus::SyncFailed { .. }) => {
                self.last_sync.is_some()
            }
            (GroupKind::Imported { .. }, GroupStatus::Importing) => false,
        }
    }
}

/// R-G6: the group tags of an activity, given the groups its actor belongs
/// to at ingestion. Imported groups tag only activities from their import on,
/// and only once usable (R-G5); automatic groups always tag. Sorted, no repeats.
pub fn tags_for<'a>(
    activity_time: Micros,
    candidates: impl Iterator<Item = &'a Group>,
) -> Vec<GroupId> {
    let mut tags: Vec<GroupId> = candidates
        .filter(|g| match g.kind {
            GroupKind::Automatic(_) => true,
            GroupKind::Imported { .. } => g.usable_in_filters() && g.imported_at <= activity_time,
        })
        .map(|g| g.id)
        .collect();
    tags.sort_unstable();
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserType;

    fn user(email: &str, status: UserStatus) -> RemoteUser {
        RemoteUser {
            id: format!("id-{email}"),
            display_name: email.to_string(),
            email: email.to_string(),
            status,
            user_type: UserType::Member,
            principal_name: None,
            admin: false,
            org_unit: None,
            on_premises_sync: false,
        }
    }

    fn imported(
        id: u64,
        status: GroupStatus,
        imported_at: Micros,
        last_sync: Option<Micros>,
    ) -> Group {
        Group {
            id: GroupId(id),
            kind: GroupKind::Imported {
                instance: InstanceId(1),
                remote_id: format!("g{id}"),
            },
            name: format!("Group {id}"),
            status,
            member_count: 0,
            skipped: SkipCounts::default(),
            imported_at,
            last_sync,
            notify: false,
            microsoft365: false,
        }
    }

    fn automatic(id: u64, auto: AutoGroup) -> Group {
        Group {
            id: GroupId(id),
            name: auto.name(),
            kind: GroupKind::Automatic(auto),
            status: GroupStatus::Ready,
            member_count: 0,
            skipped: SkipCounts::default(),
            imported_at: 1_000,
            last_sync: None,
            notify: false,
            microsoft365: false,
        }
    }

    // R-G4: only active users are kept; the others are counted by reason.
    #[test]
    fn split_active_counts_skipped() {
        let members = vec![
            user("a@x.com", UserStatus::Active),
            user("b@x.com", UserStatus::Suspended),
            user("c@x.com", UserStatus::Disabled),
            user("d@x.com", UserStatus::Deleted),
            user("e@x.com", UserStatus::Active),
            user("f@x.com", UserStatus::Suspended),
            user("g@x.com", UserStatus::Inactive("locked out".into())),
            user("h@x.com", UserStatus::Inactive("staged".into())),
            user("i@x.com", UserStatus::Inactive("locked out".into())),
        ];
        let (active, skipped) = split_active(members);
        let keys: Vec<_> = active.iter().map(RemoteUser::key).collect();
        assert_eq!(keys, ["a@x.com", "e@x.com"]);
        assert_eq!(
            skipped,
            SkipCounts {
                suspended: 2,
                disabled: 1,
                deleted: 1,
                other: [("locked out".to_string(), 2), ("staged".to_string(), 1)].into(),
            }
        );
        assert_eq!(skipped.total(), 7);
    }

    // R-G4: a user reached through two nested groups counts once, whatever the case.
    #[test]
    fn nested_duplicates_count_once() {
        let members = vec![
            user("Alice@X.com", UserStatus::Active),
            user("alice@x.com", UserStatus::Active),
            user("bob@x.com", UserStatus::Suspended),
            user("BOB@x.com", UserStatus::Suspended),
        ];
        let (active, skipped) = split_active(members);
        assert_eq!(active.len(), 1);
        assert_eq!(skipped.suspended, 1);
        assert_eq!(skipped.total(), 1);
    }

    // R-G4: users without an e-mail are told apart by their vendor id.
    #[test]
    fn users_without_email_are_not_merged() {
        let mut a = user("", UserStatus::Active);
        a.id = "1".into();
        let mut b = user("", UserStatus::Active);
        b.id = "2".into();
        let (active, _) = split_active(vec![a.clone(), b, a]);
        assert_eq!(active.len(), 2);
    }

    // R-G4: the summary line, exactly as specified.
    #[test]
    fn import_summary_wording() {
        let skipped = SkipCounts {
            suspended: 7,
            disabled: 2,
            ..SkipCounts::default()
        };
        assert_eq!(
            import_summary(412, &skipped),
            "412 imported, 9 skipped: 7 suspended, 2 disabled"
        );
        // R-G4: a vendor's own reasons are counted by their words, after the common ones.
        let okta = SkipCounts {
            suspended: 3,
            other: [
                ("locked out".to_string(), 1),
                ("deprovisioned".to_string(), 2),
            ]
            .into(),
            ..SkipCounts::default()
        };
        assert_eq!(
            import_summary(40, &okta),
            "40 imported, 6 skipped: 3 suspended, 2 deprovisioned, 1 locked out"
        );
        assert_eq!(import_summary(412, &SkipCounts::default()), "412 imported");
        let deleted = SkipCounts {
            deleted: 1,
            ..SkipCounts::default()
        };
        assert_eq!(
            import_summary(0, &deleted),
            "0 imported, 1 skipped: 1 deleted"
        );
    }

    // R-G1: automatic group names.
    #[test]
    fn automatic_group_names() {
        assert_eq!(AutoGroup::External.name(), "External");
        assert_eq!(
            AutoGroup::Microsoft365Administrator.name(),
            "Microsoft 365 administrator"
        );
        assert_eq!(
            AutoGroup::SalesforceProfile("System Administrator".into()).name(),
            "Salesforce System Administrator"
        );
        assert_eq!(
            AutoGroup::administrators_of(AppKind::Box),
            Some(AutoGroup::BoxAdministrator)
        );
        assert_eq!(AutoGroup::administrators_of(AppKind::Workday), None);
    }

    // R-G5: usable in filters once the first sync has finished.
    #[test]
    fn usable_after_first_sync() {
        assert!(!imported(1, GroupStatus::Importing, 0, None).usable_in_filters());
        assert!(imported(1, GroupStatus::Ready, 0, Some(5)).usable_in_filters());
        let failed = GroupStatus::SyncFailed {
            message: "timeout".into(),
        };
        assert!(imported(1, failed.clone(), 0, Some(5)).usable_in_filters());
        assert!(!imported(1, failed, 0, None).usable_in_filters());
        assert!(automatic(9, AutoGroup::External).usable_in_filters());
    }

    // R-G6: no retroactive tags; importing groups do not tag; automatic groups always do.
    #[test]
    fn tags_respect_import_time_and_status() {
        let groups = [
            imported(3, GroupStatus::Ready, 100, Some(150)),
            imported(2, GroupStatus::Ready, 300, Some(350)),
            imported(4, GroupStatus::Importing, 50, None),
            imported(
                5,
                GroupStatus::SyncFailed {
                    message: "x".into(),
                },
                100,
                Some(120),
            ),
            automatic(1, AutoGroup::External),
            imported(3, GroupStatus::Ready, 100, Some(150)),
        ];
        assert_eq!(
            tags_for(200, groups.iter()),
            [GroupId(1), GroupId(3), GroupId(5)]
        );
        assert_eq!(
            tags_for(100, groups.iter()),
            [GroupId(1), GroupId(3), GroupId(5)]
        );
        assert_eq!(tags_for(99, groups.iter()), [GroupId(1)]);
        assert_eq!(
            tags_for(400, groups.iter()),
            [GroupId(1), GroupId(2), GroupId(3), GroupId(5)]
        );
    }
}
