//! Vendor accounts and the person view across apps (R-G8).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use redb::{ReadableTable, WriteTransaction};

use super::tables::{self, ACTIVITIES, INSTANCES, USER_ACCOUNTS, USER_GROUPS, USERS};
use super::{ActorSummary, Person, Result, Store, StoreError, instances, query, records};
use crate::domain::{AppKind, GroupId, InstanceId, Micros, RemoteUser, UserKey, UserStatus};

const DAY: Micros = 86_400_000_000;
/// R-G8: the daily activity chart covers this many days, today included.
const DAYS: usize = 30;

/// Lower-cased sign-in name → person key (see `Store::aliases`).
pub(super) type Aliases = HashMap<String, UserKey>;

impl Store {
    /// Activities name people by the name they sign in with; memberships
    /// and accounts by e-mail. Where the two differ (an Entra guest signs in
    /// as `ann_fabrikam.com#EXT#@…`, with mail `ann@fabrikam.com`), this maps
    /// the first to the second, so that the person's activities carry their
    /// groups (R-G6) and join their accounts (R-G8).
    pub(super) fn aliases(&self) -> Result<Arc<Aliases>> {
        let mut slot = self
            .aliases
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(map) = slot.as_ref() {
            return Ok(Arc::clone(map));
        }
        let txn = self.db.begin_read()?;
        let mut map = Aliases::new();
        for row in txn.open_table(USERS)?.iter()? {
            let (_, v) = row?;
            let user: RemoteUser = tables::decode(v.value(), "user")?;
            if let Some(name) = &user.principal_name {
                map.insert(name.to_lowercase(), user.key());
            }
        }
        let map = Arc::new(map);
        *slot = Some(Arc::clone(&map));
        Ok(map)
    }

    /// Adds a page of users to the aliases already built, rather than
    /// rebuilding them from every user at the next page of activities.
    fn learn_aliases(&self, users: &[RemoteUser]) {
        let mut slot = self
            .aliases
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(map) = slot.as_mut() else {
            return;
        };
        let mut named = users
            .iter()
            .filter_map(|u| Some((u.principal_name.as_ref()?.to_lowercase(), u.key())))
            .peekable();
        if named.peek().is_some() {
            Arc::make_mut(map).extend(named);
        }
    }

    pub(super) fn forget_aliases(&self) {
        *self
            .aliases
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    pub(super) fn upsert_users_impl(
        &self,
        instance: InstanceId,
        users: &[RemoteUser],
    ) -> Result<()> {
        let txn = self.write()?;
        {
            if txn.open_table(INSTANCES)?.get(instance.0)?.is_none() {
                return Err(StoreError::NotFound(format!("instance {}", instance.0)));
            }
            let mut table = txn.open_table(USERS)?;
            let mut accounts = txn.open_multimap_table(USER_ACCOUNTS)?;
            for user in users {
                let key = (instance.0, user.id.as_str());
                let old = match table.get(key)? {
                    Some(v) => Some(tables::decode::<RemoteUser>(v.value(), "user")?),
                    None => None,
                };
                // The e-mail may change at the vendor: the person index follows it.
                if let Some(old) = old.filter(|o| o.key() != user.key()) {
                    accounts.remove(old.key().as_str(), key)?;
                }
                table.insert(key, tables::encode(user)?.as_slice())?;
                accounts.insert(user.key().as_str(), key)?;
            }
        }
        txn.commit()?;
        self.learn_aliases(users);
        Ok(())
    }

    pub(super) fn retire_missing_users_impl(
        &self,
        instance: InstanceId,
        seen: &HashSet<String>,
    ) -> Result<usize> {
        let txn = self.write()?;
        let mut retired = 0;
        {
            let mut table = txn.open_table(USERS)?;
            let mut gone = Vec::new();
            for row in table.range((instance.0, "")..(instance.0 + 1, ""))? {
                let (k, v) = row?;
                let id = k.value().1;
                if seen.contains(id) {
                    continue;
                }
                let user: RemoteUser = tables::decode(v.value(), "user")?;
                if user.status != UserStatus::Deleted {
                    gone.push(user);
                }
            }
            for mut user in gone {
                user.status = UserStatus::Deleted;
                table.insert(
                    (instance.0, user.id.as_str()),
                    tables::encode(&user)?.as_slice(),
                )?;
                retired += 1;
            }
        }
        txn.commit()?;
        Ok(retired)
    }

    pub(super) fn org_unit_accounts_impl(&self) -> Result<Vec<(String, UserKey)>> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for row in txn.open_table(USERS)?.iter()? {
            let (_, v) = row?;
            let user: RemoteUser = tables::decode(v.value(), "user")?;
            let Some(unit) = user.org_unit.clone() else {
                continue;
            };
            if let Some(name) = &user.principal_name {
                out.push((unit.clone(), name.to_lowercase()));
            }
            out.push((unit, user.key()));
        }
        Ok(out)
    }

    pub(super) fn user_count_impl(&self, instance: InstanceId) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(USERS)?;
        let mut n = 0;
        for row in table.range((instance.0, "")..(instance.0 + 1, ""))? {
            row?;
            n += 1;
        }
        Ok(n)
    }

    /// The person's accounts and groups: what redb's configuration says, without the
    /// activity summary (`ActivityLog::actor_summary`).
    pub(super) fn person_directory_impl(&self, key: &str) -> Result<Person> {
        let aliases = self.aliases()?;
        let key = aliases.get(key).map_or(key, String::as_str);
        let txn = self.db.begin_read()?;
        let users = txn.open_table(USERS)?;
        let instance_table = txn.open_table(INSTANCES)?;
        let mut apps = BTreeSet::new();
        let mut accounts = Vec::new();
        for row in txn.open_multimap_table(USER_ACCOUNTS)?.get(key)? {
            let row = row?;
            let (instance, id) = row.value();
            if let Some(v) = users.get((instance, id))? {
                accounts.push((
                    InstanceId(instance),
                    tables::decode::<RemoteUser>(v.value(), "user")?,
                ));
            }
            if let Ok(i) = instances::get(&instance_table, InstanceId(instance)) {
                apps.insert(i.app);
            }
        }
        let mut groups = Vec::new();
        for row in txn.open_multimap_table(USER_GROUPS)?.get(key)? {
            groups.push(GroupId(row?.value()));
        }
        Ok(Person {
            key: key.to_string(),
            accounts,
            groups,
            apps: apps.into_iter().collect(),
            by_type: Vec::new(),
            by_app: Vec::new(),
            daily: vec![0; DAYS],
            last_activity: None,
        })
    }

    /// R-G8: what `actor` did, from the actor index.
    pub(super) fn actor_summary_impl(&self, actor: &str, now: Micros) -> Result<ActorSummary> {
        let txn = self.db.begin_read()?;
        let today = now.div_euclid(DAY);
        let first_day = today - (DAYS as i64 - 1);
        let mut daily = vec![0u64; DAYS];
        let mut by_type: HashMap<String, u64> = HashMap::new();
        let mut by_app: BTreeMap<AppKind, u64> = BTreeMap::new();
        let mut last_activity = None;
        let records = txn.open_table(ACTIVITIES)?;
        let mut walk = query::actor_walk(&txn, actor)?;
        while let Some((time, seq)) = walk.next()? {
            let Some(v) = records.get((time, seq))? else {
                continue;
            };
            let a = records::decode(v.value())?;
            // The actor index is keyed by a hash: another person may share it.
            if a.actor != actor {
                continue;
            }
            last_activity.get_or_insert(time);
            let day = time.div_euclid(DAY);
            if (first_day..=today).contains(&day) {
                daily[(day - first_day) as usize] += 1;
            }
            // One vocabulary: Okta's and Google's sign-ins count as one kind.
            *by_type.entry(a.label().into_owned()).or_default() += 1;
            *by_app.entry(a.app).or_default() += 1;
        }
        let mut by_type: Vec<(String, u64)> = by_type.into_iter().collect();
        by_type.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut by_app: Vec<(AppKind, u64)> = by_app.into_iter().collect();
        by_app.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(ActorSummary {
            by_type,
            by_app,
            daily,
            last_activity,
        })
    }
}

/// Drops an instance's accounts and their entries in the person index.
pub(super) fn remove_instance_users(txn: &WriteTransaction, instance: InstanceId) -> Result<()> {
    let mut table = txn.open_table(USERS)?;
    let mut accounts = txn.open_multimap_table(USER_ACCOUNTS)?;
    let mut gone = Vec::new();
    for row in table.extract_from_if((instance.0, "")..(instance.0 + 1, ""), |_, _| true)? {
        let (k, v) = row?;
        let id = k.value().1.to_string();
        let user: RemoteUser = tables::decode(v.value(), "user")?;
        gone.push((user.key(), id));
    }
    for (key, id) in gone {
        accounts.remove(key.as_str(), (instance.0, id.as_str()))?;
    }
    Ok(())
}
