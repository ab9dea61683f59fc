//! The one redb file: tables, indexes, schema version, queries.
//!
//! Every method is synchronous and short; the service layer calls them from
//! `spawn_blocking`, never from an async thread.
//!
//! - `open`: permissions, the lock, refusing files that are not casbah's or are damaged
//!   (`scratch` repairs a crashed file in memory to check it without writing to it).
//! - `check`: redb's integrity check, a damaged read turned into one error, `db check`
//!   and `db backup`.
//! - `tables`: every table, its key layout, the value codec (postcard).
//! - `instances`, `users`, `groups`, `settings`: the small tables.
//! - `prepare`: the part of ingestion that needs no write transaction (encoding, index
//!   entries, placing records by IP); `activities`: the commit of a prepared page, with
//!   the repeat check, tagging (R-G6) and External (R-G1); `pipeline`: commits that
//!   overlap the next page's preparation.
//! - `records`: the stored form of an activity.
//! - `postings`: the activity indexes' posting lists, packed per list and hour.
//! - `query`: choosing an index and walking it newest first.
//! - `histogram`, `hour_counts`, `kinds`: the timeline, counted per hour at ingest.

mod activities;
mod activity_log;
mod alerting;
mod audit;
mod check;
mod external;
mod grants;
mod groups;
mod histogram;
mod hour_counts;
mod instances;
mod kinds;
mod migrate;
mod open;
mod policies;

pub use activity_log::{ActivityLog, Appender, NewPage};
pub use alerting::{AlertTally, PolicySet, Watch, Watching};
pub use check::Checked;
pub use external::{ConnectionData, ItemRecord, MirrorLink};
pub use histogram::Histogram;
pub use instances::NoticeSecret;
pub use open::panics_are_expected;
pub use pipeline::{Committed, IngestPipeline};
pub use prepare::PreparedPage;
mod pipeline;
mod postings;
mod prepare;
mod query;
mod records;
mod scratch;
mod settings;
mod tables;
mod tags;
mod users;
mod vault;
pub use vault::KeyStore;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::external::{
    Connection, ConnectionId, EntraGroup, ExternalGroup, ExternalGroupId, ItemId,
};
use crate::domain::filter::Query;
use crate::domain::{
    Activity, AppKind, AutoGroup, Component, Group, GroupId, GroupStatus, Instance, InstanceId,
    Micros, RemoteGroup, RemoteUser, Secret, SkipCounts, UserKey,
};

/// R-G3.
pub const IMPORT_LIMIT: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is in use by another casbah process; close it or use --db")]
    InUse,
    #[error(
        "{path} is not a casbah database or is damaged ({detail}); it was left untouched: move it aside or use --db"
    )]
    NotCasbah { path: String, detail: String },
    #[error("{}", schema_message(path, *found, *expected))]
    Schema {
        path: String,
        found: u32,
        expected: u32,
    },
    /// A casbah (or redb) file that fails redb's integrity check, or whose pages made a
    /// read fail. Nothing is written to it.
    #[error(
        "the database at {path} is damaged ({detail}); restore a backup or run `casbah db check`"
    )]
    Damaged { path: String, detail: String },
    /// What a read found that only damage explains: redb's `Corrupted`, a record that does
    /// not decode. `Store::guard` confirms it with the integrity check, then reports
    /// `Damaged` (or, when the file passes, a casbah bug).
    #[error("a damaged page or record was read ({0})")]
    Corrupt(String),
    #[error("cannot use {path}: {detail}")]
    Io { path: String, detail: String },
    #[error("an instance of {app} named {name:?} already exists; choose another name")]
    DuplicateInstance { app: &'static str, name: String },
    #[error("{app} allows one instance only, and {existing:?} is connected; remove it first")]
    SingleInstance { app: &'static str, existing: String },
    #[error(
        "the limit of {IMPORT_LIMIT} imported groups is reached; remove a group before importing another"
    )]
    ImportLimit,
    #[error("group {name:?} is already imported")]
    AlreadyImported { name: String },
    #[error("{0} not found")]
    NotFound(String),
    /// A change the data's own rules refuse (a second policy of one name, an alert that
    /// cannot go back to open), said in one line.
    #[error("{0}")]
    Refused(String),
    #[error(
        "a record of instance {record} came in a page of instance {page}; nothing was stored (a casbah bug: please report it)"
    )]
    WrongInstance { page: u64, record: u64 },
    #[error("{0}")]
    Secrets(#[from] vault::VaultError),
    #[error("database error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

fn schema_message(path: &str, found: u32, expected: u32) -> String {
    if found < expected {
        format!(
            "{path} was written by an older casbah (schema {found}; this one reads schema \
             {expected}): open it with that casbah, or move it aside or use --db to start a new \
             database, which fetches activities again from what the vendors still keep"
        )
    } else {
        format!(
            "{path} was written by a newer casbah (schema {found}; this one reads schema \
             {expected}): open it with that casbah or a newer one, or use --db for another database"
        )
    }
}

/// An instance before the store has given it an id.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewInstance {
    pub app: AppKind,
    pub name: String,
    /// The non-secret credential fields, by the catalog's names.
    pub fields: BTreeMap<String, String>,
    pub endpoint: Option<String>,
    pub components: Vec<Component>,
}

impl NewInstance {
    /// An instance of `app` named `name`, with no fields, endpoint or components yet.
    pub fn new(app: AppKind, name: &str) -> NewInstance {
        NewInstance {
            app,
            name: name.to_string(),
            fields: BTreeMap::new(),
            endpoint: None,
            components: Vec::new(),
        }
    }

    pub fn with_field(mut self, name: &str, value: &str) -> NewInstance {
        self.fields.insert(name.to_string(), value.to_string());
        self
    }

    pub fn into_instance(self, id: InstanceId, created_at: Micros) -> Instance {
        Instance {
            id,
            app: self.app,
            name: self.name,
            fields: self.fields,
            endpoint: self.endpoint,
            components: self.components,
            created_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanKind {
    Users,
    Groups,
    Activities,
}

/// R-C4: when a scan last succeeded, and why the last attempt failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanState {
    pub last_success: Option<Micros>,
    pub last_attempt: Option<Micros>,
    pub last_error: Option<String>,
    /// What the last successful scan found worth saying that is not an error
    /// (a GitHub organisation without an audit log).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub key: UserKey,
    pub name: String,
    pub email: String,
    pub instance: Option<InstanceId>,
    pub joined_at: Micros,
    pub last_activity: Option<Micros>,
}

/// R-G7: one join or leave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipChange {
    pub user: UserKey,
    pub joined: bool,
    pub at: Micros,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipDiff {
    pub joined: Vec<UserKey>,
    pub left: Vec<UserKey>,
}

/// What ingestion needs besides the records.
#[derive(Debug, Clone, Default)]
pub struct IngestContext {
    /// R-G1: the organisation's own domains, lower case. Actors outside them join
    /// the automatic External group. Empty means "unknown": nobody is tagged External.
    pub org_domains: Vec<String>,
    /// R-A1: where an address is, for records that carry one but not its country or
    /// network operator; none where no GeoIP database is configured.
    pub locator: Option<std::sync::Arc<dyn Locate>>,
    /// Issue 12: the policies pages are evaluated against as they commit; none where
    /// nothing watches (a test's store, a bench).
    pub watching: Option<Watching>,
}

/// R-A1: where an address is, as a GeoIP database says.
pub trait Locate: Send + Sync + std::fmt::Debug {
    fn locate(&self, ip: std::net::IpAddr) -> Place;
}

/// An address's country (ISO 3166-1 alpha-2) and network operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub country: Option<String>,
    pub isp: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestReport {
    pub inserted: usize,
    pub duplicates: usize,
    /// Issue 12: alerts raised or joined by the page's records.
    pub alerts: AlertTally,
}

/// Position after the last activity of a page (newest-first order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityCursor {
    pub time: Micros,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActivityPage {
    pub items: Vec<Activity>,
    pub next: Option<ActivityCursor>,
}

/// R-G8: a person across apps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub key: UserKey,
    pub accounts: Vec<(InstanceId, RemoteUser)>,
    pub groups: Vec<GroupId>,
    pub apps: Vec<AppKind>,
    /// (activity type as `Activity::label` names it, count), most frequent first.
    pub by_type: Vec<(String, u64)>,
    pub by_app: Vec<(AppKind, u64)>,
    /// Counts per day for the last 30 days, oldest first.
    pub daily: Vec<u64>,
    pub last_activity: Option<Micros>,
}

/// R-G8: what one actor did, as the activity log counts it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorSummary {
    /// (activity type, count), most frequent first.
    pub by_type: Vec<(String, u64)>,
    pub by_app: Vec<(AppKind, u64)>,
    /// Counts per day for the last 30 days, oldest first.
    pub daily: Vec<u64>,
    pub last_activity: Option<Micros>,
}

impl Person {
    /// The person with what they did; the apps they used count among their apps.
    pub fn with_activity(mut self, summary: ActorSummary) -> Person {
        let used = summary.by_app.iter().map(|(app, _)| *app);
        let apps: std::collections::BTreeSet<AppKind> = self.apps.drain(..).chain(used).collect();
        Person {
            apps: apps.into_iter().collect(),
            by_type: summary.by_type,
            by_app: summary.by_app,
            daily: summary.daily,
            last_activity: summary.last_activity,
            ..self
        }
    }
}

pub struct Store {
    /// Reads go here: `writer` when the file was opened for writing, else a read-only
    /// handle, which never writes to the file.
    db: std::sync::Arc<dyn redb::ReadableDatabase + Send + Sync>,
    writer: Option<std::sync::Arc<redb::Database>>,
    path: std::path::PathBuf,
    /// Set once damage is confirmed (see `check`): from then on nothing is written.
    damage: std::sync::OnceLock<String>,
    tags: std::sync::Mutex<tags::TagCache>,
    /// Issue 12: the policies' windows (see `alerting`).
    windows: std::sync::Mutex<alerting::Windows>,
    /// Lower-cased sign-in names that differ from the account's e-mail (an
    /// Entra guest's UPN) → that e-mail's person key. Built from the users
    /// on first need and dropped when they change.
    aliases: std::sync::Mutex<Option<std::sync::Arc<users::Aliases>>>,
    /// Where the key that seals secrets is looked for, and the key once read.
    keys: KeyStore,
    vault: std::sync::Mutex<Option<std::sync::Arc<vault::Vault>>>,
}

/// Commits use redb's default one-phase commit with checksums (Durability::Immediate):
/// one flush per commit. Quick repair would add a flush and the allocator state to every
/// commit, about a tenth of the ingest rate, to shorten the repair after a crash, which is
/// rare; `open` does that repair (first on a scratch copy, see `scratch`).
fn begin_write(db: &redb::Database) -> Result<redb::WriteTransaction> {
    Ok(db.begin_write()?)
}

/// Creates every table, so that read transactions never meet a missing one.
fn create_tables(txn: &redb::WriteTransaction) -> Result<()> {
    use tables::*;
    txn.open_table(INSTANCES)?;
    txn.open_table(PLAIN_CREDENTIALS)?;
    txn.open_table(SEALED_CREDENTIALS)?;
    txn.open_table(VAULT)?;
    txn.open_table(SCANS)?;
    txn.open_table(CURSORS)?;
    txn.open_table(STREAM_SCANS)?;
    txn.open_table(USERS)?;
    txn.open_multimap_table(USER_ACCOUNTS)?;
    txn.open_table(GROUPS)?;
    txn.open_table(IMPORTED)?;
    txn.open_table(AUTO_GROUPS)?;
    txn.open_table(MEMBERS)?;
    txn.open_multimap_table(USER_GROUPS)?;
    txn.open_table(HISTORY)?;
    txn.open_table(ACTIVITIES)?;
    txn.open_table(APP_INSTANCES)?;
    txn.open_table(COUNTS)?;
    txn.open_table(HOUR_COUNTS)?;
    txn.open_table(KINDS)?;
    txn.open_table(SHARD_COUNTS)?;
    txn.open_table(BY_GROUP)?;
    txn.open_table(BY_ACTOR)?;
    txn.open_table(BY_INSTANCE)?;
    txn.open_table(BY_COUNTRY)?;
    txn.open_table(SAVED_QUERIES)?;
    txn.open_table(SETTINGS)?;
    txn.open_table(AUDIT)?;
    txn.open_table(GRANTS)?;
    txn.open_table(AUDIT_OUTCOMES)?;
    Ok(())
}

impl Store {
    /// Every write transaction starts here: none on a damaged file, none on a file
    /// opened read-only.
    fn write(&self) -> Result<redb::WriteTransaction> {
        if let Some(detail) = self.damage.get() {
            return Err(self.damaged(detail));
        }
        match &self.writer {
            Some(db) => begin_write(db),
            None => Err(StoreError::Internal(
                "a write on a database opened read-only (a casbah bug: please report it)"
                    .to_string(),
            )),
        }
    }

    /// The tagging cache (see `tags`).
    fn windows(&self) -> std::sync::MutexGuard<'_, alerting::Windows> {
        // A panic while it was held leaves it possibly half-counted: count again.
        self.windows.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            *guard = Default::default();
            guard
        })
    }

    fn tag_cache(&self) -> std::sync::MutexGuard<'_, tags::TagCache> {
        // A panic while it was held leaves it possibly stale: start afresh.
        self.tags.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            *guard = Default::default();
            guard
        })
    }

    /// Called by every write that changes groups or memberships, in its transaction.
    fn forget_tags(&self, txn: &redb::WriteTransaction) -> Result<()> {
        tags::advance_version(txn)?;
        *self.tag_cache() = Default::default();
        Ok(())
    }

    /// Opens or creates the database for reading and writing; creates the file 0600 in a
    /// 0700 folder. An existing file passes redb's integrity check first. A file that is
    /// not a casbah database, or is damaged, is left untouched. Secrets are sealed with a
    /// key kept where `KeyStore::System` finds it.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with_keys(path, KeyStore::System)
    }

    /// `open`, with the key that seals secrets looked for in `keys`. Secrets that an
    /// earlier casbah kept in plain text are sealed now, where the key can be had.
    pub fn open_with_keys(path: &Path, keys: KeyStore) -> Result<Store> {
        let store = Self::with(path, open::open(path, open::Mode::Write)?, keys);
        store.seal_plain_credentials()?;
        Ok(store)
    }

    /// Opens the database for reading only: nothing is ever written to the file (unless
    /// it must be repaired after a crash or migrated, which an integrity check precedes),
    /// and reads that meet damage say so (see `guard`).
    pub fn open_read_only(path: &Path) -> Result<Store> {
        Ok(Self::with(
            path,
            open::open(path, open::Mode::Read)?,
            KeyStore::System,
        ))
    }

    fn with(path: &Path, opened: open::Opened, keys: KeyStore) -> Store {
        let (db, writer): (std::sync::Arc<dyn redb::ReadableDatabase + Send + Sync>, _) =
            match opened {
                open::Opened::Write(db) => {
                    let db = std::sync::Arc::new(db);
                    (db.clone(), Some(db))
                }
                open::Opened::Read(db) => (std::sync::Arc::new(db), None),
            };
        Store {
            db,
            writer,
            path: path.to_owned(),
            damage: Default::default(),
            tags: Default::default(),
            windows: Default::default(),
            aliases: Default::default(),
            keys,
            vault: Default::default(),
        }
    }

    // Instances and credentials (R-C2).
    pub fn add_instance(&self, new: NewInstance, secret: &Secret, now: Micros) -> Result<Instance> {
        self.add_instance_impl(new, secret, now)
    }
    pub fn instances(&self) -> Result<Vec<Instance>> {
        self.instances_impl()
    }
    pub fn instance(&self, id: InstanceId) -> Result<Instance> {
        self.instance_impl(id)
    }
    pub fn secret(&self, id: InstanceId) -> Result<Secret> {
        self.secret_impl(id)
    }
    /// Replaces an instance's secret (sealed like every secret, see `vault`).
    pub fn set_secret(&self, id: InstanceId, secret: &Secret) -> Result<()> {
        self.set_secret_impl(id, secret)
    }
    /// Points an instance elsewhere: `moved`'s fields and endpoint, and `secret`.
    pub fn reconnect_instance(&self, moved: &Instance, secret: &Secret) -> Result<()> {
        self.reconnect_instance_impl(moved, secret)
    }
    /// Removes the instance, its secret, cursors, users, imported groups and
    /// its Graph connections' data.
    pub fn remove_instance(&self, id: InstanceId) -> Result<()> {
        self.remove_instance_impl(id)
    }
    pub fn record_scan(
        &self,
        id: InstanceId,
        kind: ScanKind,
        at: Micros,
        outcome: std::result::Result<Option<String>, String>,
    ) -> Result<()> {
        self.record_scan_impl(id, kind, at, outcome)
    }
    pub fn scans(&self, id: InstanceId) -> Result<Vec<(ScanKind, ScanState)>> {
        self.scans_impl(id)
    }
    /// One activity stream's outcome within a scan, kept apart from the others'.
    pub fn record_stream(
        &self,
        id: InstanceId,
        stream: &str,
        at: Micros,
        outcome: std::result::Result<Option<String>, String>,
    ) -> Result<()> {
        self.record_stream_impl(id, stream, at, outcome)
    }
    /// Each activity stream's state, by stream name.
    pub fn streams(&self, id: InstanceId) -> Result<Vec<(String, ScanState)>> {
        self.streams_impl(id)
    }

    // Users.
    pub fn upsert_users(&self, instance: InstanceId, users: &[RemoteUser]) -> Result<()> {
        self.upsert_users_impl(instance, users)
    }
    /// After a complete user scan: accounts the vendor no longer lists are
    /// marked deleted (kept, so their history still has a name). Returns
    /// how many were newly marked.
    pub fn retire_missing_users(
        &self,
        instance: InstanceId,
        seen: &std::collections::HashSet<String>,
    ) -> Result<usize> {
        self.retire_missing_users_impl(instance, seen)
    }
    pub fn user_count(&self, instance: InstanceId) -> Result<u64> {
        self.user_count_impl(instance)
    }
    /// R-G8: a person's accounts, groups and what they did.
    pub fn person(&self, key: &str, now: Micros) -> Result<Person> {
        let person = self.person_directory(key)?;
        let summary = self.actor_summary_impl(&person.key, now)?;
        Ok(person.with_activity(summary))
    }
    /// A person's accounts and groups, with no activity summary: resolves a sign-in
    /// name to the person's key.
    pub fn person_directory(&self, key: &str) -> Result<Person> {
        self.person_directory_impl(key)
    }

    // Groups (R-G1…R-G7).
    /// Refuses the 501st import (R-G3) and a second import of the same group.
    pub fn create_imported_group(
        &self,
        instance: InstanceId,
        remote: &RemoteGroup,
        notify: bool,
        now: Micros,
    ) -> Result<Group> {
        self.create_imported_group_impl(instance, remote, notify, now)
    }
    /// Creates the automatic group on first use; returns the existing one after.
    pub fn ensure_auto_group(&self, auto: &AutoGroup, name: &str, now: Micros) -> Result<Group> {
        self.ensure_auto_group_impl(auto, name, now)
    }
    pub fn groups(&self) -> Result<Vec<Group>> {
        self.groups_impl()
    }
    pub fn group(&self, id: GroupId) -> Result<Group> {
        self.group_impl(id)
    }
    pub fn remove_group(&self, id: GroupId) -> Result<()> {
        self.remove_group_impl(id)
    }
    pub fn set_group_status(&self, id: GroupId, status: GroupStatus) -> Result<()> {
        self.set_group_status_impl(id, status)
    }
    /// Replaces the membership with `active` (R-G4: active users only),
    /// records who joined and left (R-G7), sets the group Ready, its counts and last sync.
    pub fn sync_membership(
        &self,
        id: GroupId,
        active: &[RemoteUser],
        skipped: SkipCounts,
        now: Micros,
    ) -> Result<MembershipDiff> {
        self.sync_membership_impl(id, active, skipped, now)
    }
    pub fn members(&self, id: GroupId) -> Result<Vec<Member>> {
        self.members_impl(id)
    }
    /// R-A2: the group's members now, by key and by the sign-in names activities use.
    pub fn member_keys(&self, id: GroupId) -> Result<Vec<UserKey>> {
        self.member_keys_impl(id)
    }
    /// R-A2: every account in an organisational unit, as (unit, key or sign-in name).
    pub fn org_unit_accounts(&self) -> Result<Vec<(String, UserKey)>> {
        self.org_unit_accounts_impl()
    }
    pub fn membership_history(&self, id: GroupId) -> Result<Vec<MembershipChange>> {
        self.membership_history_impl(id)
    }

    // Graph connections, external groups, items, mirrors (R-X1…R-X6). The
    // service writes only what Graph accepted.
    /// Connections of one instance, or of all, with their instance.
    pub fn external_connections(
        &self,
        instance: Option<InstanceId>,
    ) -> Result<Vec<(InstanceId, Connection)>> {
        self.external_connections_impl(instance)
    }
    pub fn put_external_connection(
        &self,
        instance: InstanceId,
        connection: &Connection,
    ) -> Result<()> {
        self.put_external_connection_impl(instance, connection)
    }
    /// Replaces the instance's connections with Graph's list; connections
    /// Graph no longer has are removed with their groups, items and mirrors.
    pub fn replace_external_connections(
        &self,
        instance: InstanceId,
        connections: &[Connection],
    ) -> Result<()> {
        self.replace_external_connections_impl(instance, connections)
    }
    pub fn remove_external_connection(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
    ) -> Result<()> {
        self.remove_external_connection_impl(instance, connection)
    }
    /// The connection's groups (by id), items (by id) and mirror links.
    pub fn connection_data(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
    ) -> Result<ConnectionData> {
        self.connection_data_impl(instance, connection)
    }
    pub fn external_group(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        group: &ExternalGroupId,
    ) -> Result<Option<ExternalGroup>> {
        self.external_group_impl(instance, connection, group)
    }
    /// Writes the group and, in the same transaction, its mirror link.
    pub fn put_external_group(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        group: &ExternalGroup,
        mirror: Option<&MirrorLink>,
    ) -> Result<()> {
        self.put_external_group_impl(instance, connection, group, mirror)
    }
    /// Removes the group and its mirror link.
    pub fn remove_external_group(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        group: &ExternalGroupId,
    ) -> Result<()> {
        self.remove_external_group_impl(instance, connection, group)
    }
    pub fn external_item(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        item: &ItemId,
    ) -> Result<Option<ItemRecord>> {
        self.external_item_impl(instance, connection, item)
    }
    pub fn put_external_item(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        record: &ItemRecord,
    ) -> Result<()> {
        self.put_external_item_impl(instance, connection, record)
    }
    pub fn remove_external_item(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        item: &ItemId,
    ) -> Result<()> {
        self.remove_external_item_impl(instance, connection, item)
    }
    /// Every mirror link: (instance, lower-cased connection id, link).
    pub fn mirror_links(&self) -> Result<Vec<(InstanceId, String, MirrorLink)>> {
        self.mirror_links_impl()
    }
    /// Adds or replaces synced Entra groups (users flattened).
    pub fn put_entra_groups(&self, instance: InstanceId, groups: &[EntraGroup]) -> Result<()> {
        self.put_entra_groups_impl(instance, groups)
    }
    /// Forgets Entra groups that no longer exist.
    pub fn remove_entra_groups(&self, instance: InstanceId, ids: &[String]) -> Result<()> {
        self.remove_entra_groups_impl(instance, ids)
    }
    pub fn entra_groups(&self, instance: InstanceId) -> Result<Vec<EntraGroup>> {
        self.entra_groups_impl(instance)
    }
    /// Every user of the instance as its last user scan stored them.
    pub fn instance_users(&self, instance: InstanceId) -> Result<Vec<RemoteUser>> {
        self.instance_users_impl(instance)
    }

    // Activities.
    /// One transaction: drops records already stored (same instance and id),
    /// tags the rest with the groups of their actor (R-G6), writes records and
    /// indexes, and saves `cursor` for (instance, stream).
    pub fn ingest(
        &self,
        instance: InstanceId,
        stream: &str,
        batch: Vec<Activity>,
        cursor: &str,
        ctx: &IngestContext,
    ) -> Result<IngestReport> {
        let page = self.prepare(instance, stream, batch, cursor, ctx)?;
        self.commit_prepared(page)
    }
    /// The first half of `ingest`, which needs no write transaction: it may run while
    /// another page commits (see `IngestPipeline`). Records are placed by the context's
    /// GeoIP databases (R-A1), so the order of pages does not change what is stored.
    pub fn prepare(
        &self,
        instance: InstanceId,
        stream: &str,
        batch: Vec<Activity>,
        cursor: &str,
        ctx: &IngestContext,
    ) -> Result<PreparedPage> {
        let mut batch = batch;
        self.settle(&mut batch, ctx)?;
        self.prepare_impl(instance, stream, batch, cursor, ctx)
    }
    /// Readies records for any activity log (`ActivityLog`): actors named by their
    /// person's key, addresses placed by the context's GeoIP databases (R-A1).
    pub fn settle(&self, records: &mut [Activity], ctx: &IngestContext) -> Result<()> {
        self.settle_impl(records, ctx)
    }
    /// The second half of `ingest`: one durable transaction.
    pub fn commit_prepared(&self, mut page: PreparedPage) -> Result<IngestReport> {
        self.commit_prepared_impl(&mut page)
    }
    pub fn cursor(&self, instance: InstanceId, stream: &str) -> Result<Option<String>> {
        self.cursor_impl(instance, stream)
    }
    /// Newest first, starting after `after` when given. `next` is set when the page is
    /// full: the following page starts there (it may turn out empty).
    pub fn query_activities(
        &self,
        query: &Query,
        limit: usize,
        after: Option<ActivityCursor>,
    ) -> Result<ActivityPage> {
        self.query_activities_impl(query, limit, after)
    }
    pub fn activity_count(&self) -> Result<u64> {
        self.activity_count_impl()
    }

    // Saved queries (R-A3) and settings.
    pub fn save_query(&self, name: &str, filter: &str) -> Result<()> {
        self.save_query_impl(name, filter)
    }
    pub fn saved_queries(&self) -> Result<Vec<(String, String)>> {
        self.saved_queries_impl()
    }
    pub fn delete_query(&self, name: &str) -> Result<()> {
        self.delete_query_impl(name)
    }
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.setting_impl(key)
    }
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.set_setting_impl(key, value)
    }
}
