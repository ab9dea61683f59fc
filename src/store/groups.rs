//! Automatic and imported groups, memberships and their history (R-G1…R-G7).

use std::collections::BTreeMap;

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::tables::{
    self, AUTO_GROUPS, GROUPS, HISTORY, IMPORTED, INSTANCES, MEMBERS, META, META_NEXT_GROUP,
    USER_GROUPS,
};
use super::{
    IMPORT_LIMIT, Member, MembershipChange, MembershipDiff, Result, Store, StoreError, query,
};
use crate::domain::{
    AutoGroup, Group, GroupId, GroupKind, GroupStatus, InstanceId, Micros, RemoteGroup, RemoteUser,
    SkipCounts, UserKey,
};

/// What the store keeps about one member of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct MemberRow {
    pub name: String,
    pub email: String,
    pub instance: Option<InstanceId>,
    pub joined_at: Micros,
}

fn not_found(id: GroupId) -> StoreError {
    StoreError::NotFound(format!("group {}", id.0))
}

pub(super) fn get(table: &impl ReadableTable<u64, &'static [u8]>, id: GroupId) -> Result<Group> {
    match table.get(id.0)? {
        Some(v) => tables::decode(v.value(), "group"),
        None => Err(not_found(id)),
    }
}

fn put(txn: &WriteTransaction, group: &Group) -> Result<()> {
    txn.open_table(GROUPS)?
        .insert(group.id.0, tables::encode(group)?.as_slice())?;
    Ok(())
}

fn new_id(txn: &WriteTransaction) -> Result<GroupId> {
    Ok(GroupId(tables::next_id(
        &mut txn.open_table(META)?,
        META_NEXT_GROUP,
    )?))
}

/// Creates the automatic group on first use, inside the caller's transaction.
pub(super) fn ensure_auto_in(
    txn: &WriteTransaction,
    auto: &AutoGroup,
    name: &str,
    now: Micros,
) -> Result<Group> {
    let key = tables::encode(auto)?;
    let existing = txn
        .open_table(AUTO_GROUPS)?
        .get(key.as_slice())?
        .map(|v| v.value());
    if let Some(id) = existing {
        return get(&txn.open_table(GROUPS)?, GroupId(id));
    }
    let group = Group {
        id: new_id(txn)?,
        kind: GroupKind::Automatic(auto.clone()),
        name: name.to_string(),
        // Automatic groups need no first sync (R-G1): usable at once.
        status: GroupStatus::Ready,
        member_count: 0,
        skipped: SkipCounts::default(),
        imported_at: now,
        last_sync: None,
        notify: false,
        microsoft365: false,
    };
    txn.open_table(AUTO_GROUPS)?
        .insert(key.as_slice(), group.id.0)?;
    put(txn, &group)?;
    Ok(group)
}

/// Adds one member and records the join (R-G7); false when already a member.
pub(super) fn add_member_in(
    txn: &WriteTransaction,
    group: GroupId,
    key: &str,
    row: &MemberRow,
) -> Result<bool> {
    let mut members = txn.open_table(MEMBERS)?;
    if members.get((group.0, key))?.is_some() {
        return Ok(false);
    }
    members.insert((group.0, key), tables::encode(row)?.as_slice())?;
    txn.open_multimap_table(USER_GROUPS)?.insert(key, group.0)?;
    txn.open_table(HISTORY)?
        .insert((group.0, row.joined_at, key), true)?;
    let mut g = get(&txn.open_table(GROUPS)?, group)?;
    g.member_count = g.member_count.saturating_add(1);
    put(txn, &g)?;
    Ok(true)
}

/// Removes a group, its memberships and history. Activities keep their tags: they are history.
pub(super) fn remove_in(txn: &WriteTransaction, id: u64) -> Result<()> {
    let group = match txn.open_table(GROUPS)?.remove(id)? {
        Some(v) => tables::decode::<Group>(v.value(), "group")?,
        None => return Err(not_found(GroupId(id))),
    };
    match &group.kind {
        GroupKind::Imported {
            instance,
            remote_id,
        } => {
            txn.open_table(IMPORTED)?
                .remove((instance.0, remote_id.as_str()))?;
        }
        GroupKind::Automatic(auto) => {
            txn.open_table(AUTO_GROUPS)?
                .remove(tables::encode(auto)?.as_slice())?;
        }
    }
    let mut keys = Vec::new();
    for row in txn
        .open_table(MEMBERS)?
        .extract_from_if((id, "")..(id + 1, ""), |_, _| true)?
    {
        keys.push(row?.0.value().1.to_string());
    }
    let mut reverse = txn.open_multimap_table(USER_GROUPS)?;
    for key in &keys {
        reverse.remove(key.as_str(), id)?;
    }
    txn.open_table(HISTORY)?
        .retain_in((id, i64::MIN, "")..(id + 1, i64::MIN, ""), |_, _| false)?;
    Ok(())
}

impl Store {
    pub(super) fn create_imported_group_impl(
        &self,
        instance: InstanceId,
        remote: &RemoteGroup,
        notify: bool,
        now: Micros,
    ) -> Result<Group> {
        let txn = self.write()?;
        let group = {
            if txn.open_table(INSTANCES)?.get(instance.0)?.is_none() {
                return Err(StoreError::NotFound(format!("instance {}", instance.0)));
            }
            let mut imported = txn.open_table(IMPORTED)?;
            if imported.get((instance.0, remote.id.as_str()))?.is_some() {
                return Err(StoreError::AlreadyImported {
                    name: remote.display_name.clone(),
                });
            }
            // R-G3: counted inside the write transaction, so two imports cannot both be the 500th.
            if imported.len()? >= IMPORT_LIMIT as u64 {
                return Err(StoreError::ImportLimit);
            }
            let group = Group {
                id: new_id(&txn)?,
                kind: GroupKind::Imported {
                    instance,
                    remote_id: remote.id.clone(),
                },
                name: remote.display_name.clone(),
                status: GroupStatus::Importing,
                member_count: 0,
                skipped: SkipCounts::default(),
                imported_at: now,
                last_sync: None,
                notify,
                microsoft365: remote.microsoft365,
            };
            imported.insert((instance.0, remote.id.as_str()), group.id.0)?;
            put(&txn, &group)?;
            group
        };
        self.forget_tags(&txn)?;
        txn.commit()?;
        Ok(group)
    }

    pub(super) fn ensure_auto_group_impl(
        &self,
        auto: &AutoGroup,
        name: &str,
        now: Micros,
    ) -> Result<Group> {
        let txn = self.write()?;
        let group = ensure_auto_in(&txn, auto, name, now)?;
        self.forget_tags(&txn)?;
        txn.commit()?;
        Ok(group)
    }

    pub(super) fn groups_impl(&self) -> Result<Vec<Group>> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for row in txn.open_table(GROUPS)?.iter()? {
            out.push(tables::decode(row?.1.value(), "group")?);
        }
        Ok(out)
    }

    pub(super) fn group_impl(&self, id: GroupId) -> Result<Group> {
        let txn = self.db.begin_read()?;
        get(&txn.open_table(GROUPS)?, id)
    }

    pub(super) fn remove_group_impl(&self, id: GroupId) -> Result<()> {
        let txn = self.write()?;
        remove_in(&txn, id.0)?;
        self.forget_tags(&txn)?;
        txn.commit()?;
        Ok(())
    }

    pub(super) fn set_group_status_impl(&self, id: GroupId, status: GroupStatus) -> Result<()> {
        let txn = self.write()?;
        let mut group = get(&txn.open_table(GROUPS)?, id)?;
        group.status = status;
        put(&txn, &group)?;
        self.forget_tags(&txn)?;
        txn.commit()?;
        Ok(())
    }

    pub(super) fn sync_membership_impl(
        &self,
        id: GroupId,
        active: &[RemoteUser],
        skipped: SkipCounts,
        now: Micros,
    ) -> Result<MembershipDiff> {
        let txn = self.write()?;
        let mut group = get(&txn.open_table(GROUPS)?, id)?;
        let instance = match &group.kind {
            GroupKind::Imported { instance, .. } => Some(*instance),
            GroupKind::Automatic(_) => None,
        };
        // A person listed twice (two accounts, one e-mail) is one member.
        let wanted: BTreeMap<UserKey, &RemoteUser> = active.iter().map(|u| (u.key(), u)).collect();
        let mut diff = MembershipDiff::default();
        {
            let mut members = txn.open_table(MEMBERS)?;
            let mut reverse = txn.open_multimap_table(USER_GROUPS)?;
            let mut history = txn.open_table(HISTORY)?;
            let mut current: BTreeMap<UserKey, MemberRow> = BTreeMap::new();
            for row in members.range((id.0, "")..(id.0 + 1, ""))? {
                let (k, v) = row?;
                current.insert(
                    k.value().1.to_string(),
                    tables::decode(v.value(), "member")?,
                );
            }
            for key in current.keys() {
                if !wanted.contains_key(key) {
                    members.remove((id.0, key.as_str()))?;
                    reverse.remove(key.as_str(), id.0)?;
                    history.insert((id.0, now, key.as_str()), false)?;
                    diff.left.push(key.clone());
                }
            }
            for (key, user) in &wanted {
                let old = current.get(key);
                let row = MemberRow {
                    name: user.display_name.clone(),
                    email: user.email.clone(),
                    instance,
                    joined_at: old.map_or(now, |o| o.joined_at),
                };
                if old.is_none() {
                    reverse.insert(key.as_str(), id.0)?;
                    history.insert((id.0, now, key.as_str()), true)?;
                    diff.joined.push(key.clone());
                }
                if old != Some(&row) {
                    members.insert((id.0, key.as_str()), tables::encode(&row)?.as_slice())?;
                }
            }
        }
        group.status = GroupStatus::Ready;
        group.member_count = u32::try_from(wanted.len()).unwrap_or(u32::MAX);
        group.skipped = skipped;
        group.last_sync = Some(now);
        put(&txn, &group)?;
        self.forget_tags(&txn)?;
        txn.commit()?;
        Ok(diff)
    }

    pub(super) fn members_impl(&self, id: GroupId) -> Result<Vec<Member>> {
        let txn = self.db.begin_read()?;
        get(&txn.open_table(GROUPS)?, id)?;
        let mut rows = Vec::new();
        for row in txn.open_table(MEMBERS)?.range((id.0, "")..(id.0 + 1, ""))? {
            let (k, v) = row?;
            let m: MemberRow = tables::decode(v.value(), "member")?;
            rows.push((k.value().1.to_string(), m));
        }
        let keys: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
        let last = query::last_activities(&txn, &keys)?;
        let mut out: Vec<Member> = rows
            .into_iter()
            .zip(last)
            .map(|((key, m), last_activity)| Member {
                key,
                name: m.name,
                email: m.email,
                instance: m.instance,
                joined_at: m.joined_at,
                last_activity,
            })
            .collect();
        out.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.key.cmp(&b.key))
        });
        Ok(out)
    }

    pub(super) fn member_keys_impl(&self, id: GroupId) -> Result<Vec<UserKey>> {
        let txn = self.db.begin_read()?;
        let mut keys = Vec::new();
        for row in txn.open_table(MEMBERS)?.range((id.0, "")..(id.0 + 1, ""))? {
            keys.push(row?.0.value().1.to_string());
        }
        // Activities name the people they act on by the name they sign in with, too.
        let aliases = self.aliases()?;
        keys.extend(
            aliases
                .iter()
                .filter(|(_, key)| keys.binary_search(key).is_ok())
                .map(|(alias, _)| alias.clone())
                .collect::<Vec<_>>(),
        );
        Ok(keys)
    }

    pub(super) fn membership_history_impl(&self, id: GroupId) -> Result<Vec<MembershipChange>> {
        let txn = self.db.begin_read()?;
        get(&txn.open_table(GROUPS)?, id)?;
        let mut out = Vec::new();
        for row in txn
            .open_table(HISTORY)?
            .range((id.0, i64::MIN, "")..(id.0 + 1, i64::MIN, ""))?
        {
            let (k, v) = row?;
            let (_, at, user) = k.value();
            out.push(MembershipChange {
                user: user.to_string(),
                joined: v.value(),
                at,
            });
        }
        Ok(out)
    }
}
