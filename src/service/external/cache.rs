//! The access index of one connection, built once and kept until what it
//! was built from changes (R-X5).

use std::collections::HashMap;
use std::sync::Arc;

use super::Target;
use crate::service::{Local, Result, ServiceError, names};

use crate::domain::external::{AccessIndex, AccessSnapshot, ConnectionId, DirectoryUser};
use crate::domain::{InstanceId, Micros, RemoteUser, UserStatus};
use crate::store::ScanKind;

/// The access indexes of every connection asked about, by (instance,
/// lower-cased connection id).
#[derive(Default)]
pub(in crate::service) struct AccessCaches {
    by_connection: HashMap<(InstanceId, String), Arc<AccessCache>>,
    /// Bumped by every `forget`: an index built from what the store held
    /// before a change must not be kept after it.
    epoch: u64,
}

impl AccessCaches {
    pub(super) fn forget(&mut self, instance: InstanceId, connection: Option<&ConnectionId>) {
        self.epoch += 1;
        match connection {
            Some(c) => {
                self.by_connection
                    .remove(&(instance, c.as_str().to_ascii_lowercase()));
            }
            None => self.by_connection.retain(|(i, _), _| *i != instance),
        }
    }
}

/// What access questions about one connection read, built once and kept
/// until something it was built from changes.
pub(super) struct AccessCache {
    /// The user scan it was built after; a newer scan makes it stale.
    pub(super) users_scanned: Option<Micros>,
    pub(super) index: AccessIndex,
    pub(super) users: Vec<DirectoryUser>,
    /// Lower-cased object id, e-mail and UPN → position in `users`.
    /// Deleted users are not in `users`: they can see nothing.
    pub(super) by_key: HashMap<String, usize>,
    /// Lower-cased Entra group id → name.
    pub(super) entra_names: HashMap<String, String>,
}

impl AccessCache {
    /// `principal_names` holds (object id, UPN) for users whose UPN is not
    /// the name they are shown by.
    pub(super) fn build(
        snapshot: AccessSnapshot,
        principal_names: &[(String, String)],
        users_scanned: Option<Micros>,
    ) -> AccessCache {
        let index = AccessIndex::build(&snapshot);
        let mut by_key = HashMap::with_capacity(snapshot.users.len() * 2);
        for (i, u) in snapshot.users.iter().enumerate() {
            by_key.entry(u.id.to_lowercase()).or_insert(i);
            by_key.entry(u.name.to_lowercase()).or_insert(i);
        }
        for (id, upn) in principal_names {
            if let Some(&i) = by_key.get(&id.to_lowercase()) {
                by_key.entry(upn.to_lowercase()).or_insert(i);
            }
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

    pub(super) fn user(&self, key: &str) -> Option<&DirectoryUser> {
        self.by_key
            .get(&key.trim().to_lowercase())
            .map(|&i| &self.users[i])
    }

    /// Who an ACL entry or a membership naming `id` is, read as Graph and
    /// the access index read it: by object id only.
    pub(super) fn user_label(&self, id: &str) -> String {
        match self.user(id) {
            Some(u) if u.id.eq_ignore_ascii_case(id.trim()) => u.name.clone(),
            // Stored before UPNs were resolved: Graph matches no one by it.
            Some(u) => format!("{id} (not an object id, so no one; {} is {})", u.name, u.id),
            None => format!("{id} (not in the synced directory)"),
        }
    }

    pub(super) fn entra_label(&self, id: &str) -> String {
        match self.entra_names.get(&id.to_lowercase()) {
            Some(name) => name.clone(),
            None => format!("{id} (not synced)"),
        }
    }
}

impl Local {
    /// The connection's access index, built on first use after a change.
    pub(super) async fn access_cache(&self, target: &Target) -> Result<Arc<AccessCache>> {
        let instance = target.instance.id;
        let key = (instance, target.id().as_str().to_ascii_lowercase());
        let scans = self.db(move |s| s.scans(instance)).await?;
        let users_scanned = scans
            .iter()
            .find(|(k, _)| *k == ScanKind::Users)
            .and_then(|(_, s)| s.last_success);
        let epoch = {
            let caches = self.inner.access.lock().expect("access lock");
            if let Some(c) = caches.by_connection.get(&key)
                && c.users_scanned == users_scanned
            {
                return Ok(Arc::clone(c));
            }
            caches.epoch
        };
        let tenant_id = target.instance.field("tenant-id").to_owned();
        let connection = target.id().clone();
        let cache = self
            .db(move |s| {
                let live: Vec<RemoteUser> = s
                    .instance_users(instance)?
                    .into_iter()
                    .filter(|u| u.status != UserStatus::Deleted)
                    .collect();
                let principal_names: Vec<(String, String)> = live
                    .iter()
                    .filter_map(|u| Some((u.id.clone(), u.principal_name.clone()?)))
                    .collect();
                let snapshot = AccessSnapshot {
                    tenant_id,
                    users: live.iter().map(DirectoryUser::from).collect(),
                    entra_groups: s.entra_groups(instance)?,
                    external_groups: s.connection_data(instance, &connection)?.groups,
                };
                Ok(AccessCache::build(
                    snapshot,
                    &principal_names,
                    users_scanned,
                ))
            })
            .await?;
        let cache = Arc::new(cache);
        let mut caches = self.inner.access.lock().expect("access lock");
        // Changed while it was built: answer with it, keep it not.
        if caches.epoch == epoch {
            caches.by_connection.insert(key, Arc::clone(&cache));
        }
        Ok(cache)
    }
}

/// A synced user by object id, UPN or e-mail (any case).
pub(super) fn resolve_user<'c>(cache: &'c AccessCache, wanted: &str) -> Result<&'c DirectoryUser> {
    cache.user(wanted).ok_or_else(|| ServiceError::Unknown {
        what: "user in the synced directory",
        name: wanted.trim().to_owned(),
        suggestions: names::closest(wanted.trim(), cache.users.iter().map(|u| u.name.as_str())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::external::{AclEntry, Principal};

    // issue 10, R-X4: an entry is labelled as the access index reads it, by
    // object id only: a UPN stored in an ACL names no one, and says so.
    #[test]
    fn labels_read_users_by_object_id_as_access_does() {
        let id = "1f0e98f5-3161-4c6b-9b50-d488572f2bb7";
        let cache = AccessCache::build(
            AccessSnapshot {
                tenant_id: "t".into(),
                users: vec![DirectoryUser {
                    id: id.into(),
                    name: "ann@contoso.com".into(),
                    guest: false,
                }],
                entra_groups: Vec::new(),
                external_groups: Vec::new(),
            },
            &[(id.into(), "ann.lee@contoso.com".into())],
            None,
        );
        assert_eq!(cache.user_label(&id.to_uppercase()), "ann@contoso.com");
        let by_upn = cache.user_label("ann.lee@contoso.com");
        assert!(by_upn.contains("not an object id, so no one"), "{by_upn}");
        let acl = [AclEntry::grant(Principal::User(
            "ann.lee@contoso.com".into(),
        ))];
        let decision = cache.index.check(&acl, id).expect("a synced user");
        assert_eq!(decision.decision, crate::domain::external::Access::None);
        assert_eq!(
            cache.user_label("nobody@contoso.com"),
            "nobody@contoso.com (not in the synced directory)"
        );
    }
}
