//! Bringing a file of an older schema up to this one, in one transaction: a crash
//! mid-way leaves the old file as it was, to be migrated again at the next open.
//!
//! 3 → 4: an instance keeps its credential fields by the catalog's names instead of a
//! tenant and a client id, an account says whether it is an app administrator, a scan
//! state carries a note, and a group's skip counts the vendors' other reasons.
//!
//! 5 → 6: an account has an organisational unit (none until the next user scan).
//!
//! 6 → 7: activities are counted per hour for each instance, country and group
//! (`HOUR_COUNTS`), from the posting lists.
//!
//! 7 → 8: and for each actor and kind, the groups' counts in shards: all counted afresh.
//!
//! 8 → 9: an account says whether it syncs from on-premises AD (not until the next user
//! scan).

use std::collections::BTreeMap;

use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::Deserialize;

use super::tables::{self, GROUPS, INSTANCES, META, META_SCHEMA, SCANS, SCHEMA_VERSION, USERS};
use super::{Result, ScanState, StoreError};
use crate::domain::{
    AppKind, Component, Group, GroupId, GroupKind, GroupStatus, Instance, InstanceId, Micros,
    RemoteUser, SkipCounts, UserStatus, UserType,
};

/// The oldest schema this casbah can bring up to date.
pub const OLDEST: u32 = 3;

#[derive(Deserialize)]
struct InstanceV3 {
    id: InstanceId,
    app: AppKind,
    name: String,
    tenant: String,
    client_id: String,
    endpoint: Option<String>,
    components: Vec<Component>,
    created_at: Micros,
}

impl From<InstanceV3> for Instance {
    fn from(old: InstanceV3) -> Instance {
        // Schema 3 connected Microsoft 365 only.
        let fields = BTreeMap::from([
            ("tenant-id".to_string(), old.tenant),
            ("client-id".to_string(), old.client_id),
        ]);
        Instance {
            id: old.id,
            app: old.app,
            name: old.name,
            fields,
            endpoint: old.endpoint,
            components: old.components,
            created_at: old.created_at,
        }
    }
}

#[derive(Deserialize)]
struct RemoteUserV3 {
    id: String,
    display_name: String,
    email: String,
    status: UserStatus,
    user_type: UserType,
    principal_name: Option<String>,
}

impl From<RemoteUserV3> for RemoteUser {
    fn from(old: RemoteUserV3) -> RemoteUser {
        RemoteUserV5 {
            id: old.id,
            display_name: old.display_name,
            email: old.email,
            status: old.status,
            user_type: old.user_type,
            principal_name: old.principal_name,
            admin: false,
        }
        .into()
    }
}

/// An account of schemas 4 and 5, before its organisational unit.
#[derive(Deserialize)]
struct RemoteUserV5 {
    id: String,
    display_name: String,
    email: String,
    status: UserStatus,
    user_type: UserType,
    principal_name: Option<String>,
    admin: bool,
}

impl From<RemoteUserV5> for RemoteUser {
    fn from(old: RemoteUserV5) -> RemoteUser {
        RemoteUser {
            id: old.id,
            display_name: old.display_name,
            email: old.email,
            status: old.status,
            user_type: old.user_type,
            principal_name: old.principal_name,
            admin: old.admin,
            // Learnt at the next user scan.
            org_unit: None,
            on_premises_sync: false,
        }
    }
}

/// An account of schemas 6 to 8, before its on-premises sync.
#[derive(Deserialize)]
struct RemoteUserV8 {
    id: String,
    display_name: String,
    email: String,
    status: UserStatus,
    user_type: UserType,
    principal_name: Option<String>,
    admin: bool,
    org_unit: Option<String>,
}

impl From<RemoteUserV8> for RemoteUser {
    fn from(old: RemoteUserV8) -> RemoteUser {
        RemoteUser {
            id: old.id,
            display_name: old.display_name,
            email: old.email,
            status: old.status,
            user_type: old.user_type,
            principal_name: old.principal_name,
            admin: old.admin,
            org_unit: old.org_unit,
            // Learnt at the next user scan.
            on_premises_sync: false,
        }
    }
}

#[derive(Deserialize)]
struct ScanStateV3 {
    last_success: Option<Micros>,
    last_attempt: Option<Micros>,
    last_error: Option<String>,
}

impl From<ScanStateV3> for ScanState {
    fn from(old: ScanStateV3) -> ScanState {
        ScanState {
            last_success: old.last_success,
            last_attempt: old.last_attempt,
            last_error: old.last_error,
            note: None,
        }
    }
}

#[derive(Deserialize)]
struct SkipCountsV3 {
    suspended: u32,
    disabled: u32,
    deleted: u32,
}

#[derive(Deserialize)]
struct GroupV3 {
    id: GroupId,
    kind: GroupKind,
    name: String,
    status: GroupStatus,
    member_count: u32,
    skipped: SkipCountsV3,
    imported_at: Micros,
    last_sync: Option<Micros>,
    notify: bool,
    microsoft365: bool,
}

impl From<GroupV3> for Group {
    fn from(old: GroupV3) -> Group {
        Group {
            id: old.id,
            kind: old.kind,
            name: old.name,
            status: old.status,
            member_count: old.member_count,
            skipped: SkipCounts {
                suspended: old.skipped.suspended,
                disabled: old.skipped.disabled,
                deleted: old.skipped.deleted,
                other: BTreeMap::new(),
            },
            imported_at: old.imported_at,
            last_sync: old.last_sync,
            notify: old.notify,
            microsoft365: old.microsoft365,
        }
    }
}

/// Migrates `txn`'s file from schema `found` to `SCHEMA_VERSION`; the caller commits.
pub fn migrate(txn: &WriteTransaction, found: u32) -> Result<()> {
    if !(OLDEST..SCHEMA_VERSION).contains(&found) {
        return Err(StoreError::Internal(format!(
            "no migration from schema {found} to {SCHEMA_VERSION}"
        )));
    }
    if found < 4 {
        rewrite(txn, INSTANCES, reencode::<InstanceV3, Instance>)?;
        rewrite(txn, USERS, reencode::<RemoteUserV3, RemoteUser>)?;
        rewrite(txn, SCANS, reencode::<ScanStateV3, ScanState>)?;
        rewrite(txn, GROUPS, reencode::<GroupV3, Group>)?;
    } else if found < 6 {
        rewrite(txn, USERS, reencode::<RemoteUserV5, RemoteUser>)?;
    } else if found < 9 {
        rewrite(txn, USERS, reencode::<RemoteUserV8, RemoteUser>)?;
    }
    if found < 8 {
        super::hour_counts::backfill(txn)?;
    }
    // 4 → 5 adds the sealed secrets' tables (made by the caller); the secrets are sealed
    // once the store can reach their key (`Store::seal_plain_credentials`).
    txn.open_table(META)?
        .insert(META_SCHEMA, u64::from(SCHEMA_VERSION))?;
    Ok(())
}

/// Replaces every value of `table` by `recode` of it.
fn rewrite<K: redb::Key + 'static>(
    txn: &WriteTransaction,
    table: TableDefinition<K, &'static [u8]>,
    recode: impl Fn(&[u8]) -> Result<Vec<u8>>,
) -> Result<()> {
    let mut table = txn.open_table(table)?;
    let mut rows = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        rows.push((
            K::as_bytes(&k.value()).as_ref().to_vec(),
            recode(v.value())?,
        ));
    }
    for (k, v) in &rows {
        table.insert(K::from_bytes(k), v.as_slice())?;
    }
    Ok(())
}

fn reencode<Old, New>(bytes: &[u8]) -> Result<Vec<u8>>
where
    Old: serde::de::DeserializeOwned,
    New: From<Old> + serde::Serialize,
{
    tables::encode(&New::from(tables::decode::<Old>(bytes, "record")?))
}
