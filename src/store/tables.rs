//! Table definitions, the meta counters and the value codec.
//!
//! Keys are redb tuples so that byte order is the order a query walks:
//! every activity index ends in (time, seq), so newest first is a reverse range.

use redb::{MultimapTableDefinition, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::postings::ListTable;
use super::{Result, StoreError};

/// Bumped whenever a table's key or value layout changes (2: posting-list indexes;
/// 3: a record's tags after its other fields, see `records`; 4: instances keep their
/// credential fields by name, accounts an administrator mark, see `migrate`; 5: secrets
/// sealed, see `vault`; 6: accounts their organisational unit; 7: hour counts; 8: hour
/// counts of kinds and of actors, groups' split in shards, see `hour_counts`; 9: accounts
/// whether they sync from on-premises AD).
pub const SCHEMA_VERSION: u32 = 9;

/// Name → counter or version. Its presence marks a casbah file.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("casbah.meta");
pub const META_SCHEMA: &str = "schema";
pub const META_NEXT_INSTANCE: &str = "next-instance";
pub const META_NEXT_GROUP: &str = "next-group";
pub const META_NEXT_SEQ: &str = "next-seq";
pub const META_NEXT_AUDIT: &str = "next-audit";
pub const META_NEXT_POLICY: &str = "next-policy";
pub const META_NEXT_ALERT: &str = "next-alert";
pub const META_NEXT_DELIVERY: &str = "next-delivery";
/// Advanced by every change to policies, so that a page matched against an older set
/// is matched again at its commit (see `alerting`).
pub const META_POLICIES_VERSION: &str = "policies-version";
pub const META_ACTIVITIES: &str = "activities";
/// The oldest and newest activity times (i64 bits), bounding the hours a query visits.
pub const META_MIN_TIME: &str = "min-time";
pub const META_MAX_TIME: &str = "max-time";
/// Advanced by every write that changes groups or memberships (see `tags`).
pub const META_TAGS_VERSION: &str = "tags-version";

/// Instance id → postcard `Instance`.
pub const INSTANCES: TableDefinition<u64, &[u8]> = TableDefinition::new("instances");
/// Instance id → secret in plain text: written by casbah before secrets were sealed, read
/// only to seal them (see `vault`).
pub const PLAIN_CREDENTIALS: TableDefinition<u64, &str> = TableDefinition::new("credentials");
/// Instance id → its secret sealed by the `vault`.
pub const SEALED_CREDENTIALS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("sealed-credentials");
/// `VAULT_KEY_STORE` → where the key that sealed the secrets is kept.
pub const VAULT: TableDefinition<&str, &str> = TableDefinition::new("vault");
pub const VAULT_KEY_STORE: &str = "key-store";
/// (instance, scan kind) → postcard `ScanState`.
pub const SCANS: TableDefinition<(u64, u8), &[u8]> = TableDefinition::new("scans");
/// (instance, activity stream) → postcard `ScanState`: each stream's own last success,
/// attempt, error and note.
pub const STREAM_SCANS: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("stream-scans");
/// (instance, stream) → the vendor's cursor.
pub const CURSORS: TableDefinition<(u64, &str), &str> = TableDefinition::new("sync-cursors");

/// (instance, vendor user id) → postcard `RemoteUser`.
pub const USERS: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("users");
/// User key → (instance, vendor user id): the accounts of a person (R-G8).
pub const USER_ACCOUNTS: MultimapTableDefinition<&str, (u64, &str)> =
    MultimapTableDefinition::new("user-accounts");

/// Group id → postcard `Group`.
pub const GROUPS: TableDefinition<u64, &[u8]> = TableDefinition::new("groups");
/// (instance, remote group id) → group id: refuses a second import.
pub const IMPORTED: TableDefinition<(u64, &str), u64> = TableDefinition::new("imported-groups");
/// postcard `AutoGroup` → group id.
pub const AUTO_GROUPS: TableDefinition<&[u8], u64> = TableDefinition::new("auto-groups");
/// (group, user key) → postcard `MemberRow`.
pub const MEMBERS: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("memberships");
/// User key → group ids: the reverse index used to tag activities (R-G6).
pub const USER_GROUPS: MultimapTableDefinition<&str, u64> =
    MultimapTableDefinition::new("user-groups");
/// (group, time, user key) → joined (true) or left (R-G7).
pub const HISTORY: TableDefinition<(u64, i64, &str), bool> =
    TableDefinition::new("membership-history");

/// (time, seq) → postcard `Activity`: the records are their own time index. Seq grows
/// with ingestion, so it breaks time ties stably.
pub const ACTIVITIES: TableDefinition<(i64, u64), &[u8]> = TableDefinition::new("activities");
/// (app, instance) pairs seen in activities, so an app filter can use the instance index
/// even for instances removed since.
pub const APP_INSTANCES: TableDefinition<(u8, u64), ()> = TableDefinition::new("app-instances");

// Activity indexes are posting lists (see `postings`): (list, hour, chunk) → sorted
// fixed-width entries that end in the activity's position. The instance, a few-valued key
// that the duplicate check reads per hour, is the list; the other keys lead the entries of
// one whole-hour list, so that a page rewrites the few chunks of the hours it covers, not
// a list per country, actor or group. Strings are hashed to fixed-width keys; a collision
// only adds candidates that `Query::matches` drops.

/// Instance → (hash of the vendor id, position). Also the duplicate check: a vendor
/// reports an event with the same time whenever it repeats it, so a repeat is in the same
/// hour's list, where a hit is confirmed against the stored record.
pub const BY_INSTANCE: ListTable = TableDefinition::new("list-instance");
/// `WHOLE_HOUR` → (country hash, position).
pub const BY_COUNTRY: ListTable = TableDefinition::new("list-country");
/// `WHOLE_HOUR` → (actor hash, position).
pub const BY_ACTOR: ListTable = TableDefinition::new("list-actor");
/// `WHOLE_HOUR` → (group, country hash or `NO_COUNTRY`, position): one entry per tag
/// serves both group and group+country queries.
pub const BY_GROUP: ListTable = TableDefinition::new("list-group-country");
pub const NO_COUNTRY: u64 = 0;

/// Entry widths: the u64 prefixes and a 12-byte position.
pub const INSTANCE_ENTRY: usize = 20;
pub const COUNTRY_ENTRY: usize = 20;
pub const ACTOR_ENTRY: usize = 20;
pub const GROUP_ENTRY: usize = 28;

/// (what, key) → number of activities: lets the planner choose between the instance
/// and country indexes. Few keys change per page, so keeping it costs little.
pub const COUNTS: TableDefinition<(u8, u64), u64> = TableDefinition::new("activity-counts");
pub const COUNT_INSTANCE: u8 = 0;
pub const COUNT_COUNTRY: u8 = 1;

/// (what, hour) → how many activities each key of `what` has in that hour: sorted (key,
/// count) pairs, each u64 big-endian. The timeline counts whole hours from it without
/// reading posting lists or records (issue 13); a page rewrites the values of the hours it
/// covers, as it does the posting lists. `what` is `COUNT_INSTANCE` (instance ids),
/// `COUNT_COUNTRY` (country hashes) or `HOUR_KIND` (kinds, see `KINDS`).
pub const HOUR_COUNTS: TableDefinition<(u8, i64), &[u8]> = TableDefinition::new("hour-counts");
pub const HOUR_KIND: u8 = 3;
/// (hour, shard) → pairs as in `HOUR_COUNTS`, for groups and actors, split in shards
/// (`hour_counts::group_shard`, `actor_shard`) so that one group or person reads a small
/// value per hour. Hour first: a page's hour rewrites its shards' few adjacent leaves,
/// where (shard, hour) would dirty a leaf per shard and double the bytes each activity
/// costs to write (measured).
pub const SHARD_COUNTS: TableDefinition<(i64, u8), &[u8]> =
    TableDefinition::new("hour-shard-counts");
/// `HOUR_GROUP + group id % GROUP_SHARDS`.
pub const HOUR_GROUP: u8 = 32;
pub const GROUP_SHARDS: u64 = 16;
/// `HOUR_ACTOR + the actor hash's top 6 bits`.
pub const HOUR_ACTOR: u8 = 64;
pub const ACTOR_SHARD_BITS: u32 = 6;

/// Kind key → postcard `Kind` (see `kinds`): what an activity's app, instance, type,
/// action and source are, once for all the activities that share them.
pub const KINDS: TableDefinition<u64, &[u8]> = TableDefinition::new("activity-kinds");

/// The width of the hours that split every posting list.
pub const BUCKET: i64 = 3_600_000_000;

pub fn bucket(time: i64) -> i64 {
    time.div_euclid(BUCKET)
}

/// FNV-1a: stable across builds and platforms, as keys on disk must be.
pub fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// FNV-1a as a `Hasher`, for in-memory maps on the ingest path: keyed by short strings
/// or by `hash` values, where SipHash's cost shows and flooding is not a concern (the
/// keys come from the organisation's own vendors).
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Issue 11: the audit trail. Attempt number → postcard `AuditAttempt`, and → postcard
/// (time, `AuditOutcome`) once answered; neither is ever rewritten (see `audit`).
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit-attempts");
pub const AUDIT_OUTCOMES: TableDefinition<u64, &[u8]> = TableDefinition::new("audit-outcomes");

/// Issue 11: (instance, grant id) → postcard `Grant`, as the last user scan read them.
pub const GRANTS: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("app-grants");

/// Issue 12: policy id → postcard `Policy`.
pub const POLICIES: TableDefinition<u64, &[u8]> = TableDefinition::new("policies");
/// Issue 12: alert id → postcard `Alert`.
pub const ALERTS: TableDefinition<u64, &[u8]> = TableDefinition::new("alerts");
/// Issue 12: delivery id → postcard `Delivery`: notices waiting to leave, or sent.
pub const DELIVERIES: TableDefinition<u64, &[u8]> = TableDefinition::new("deliveries");

/// Saved filter name → filter text (R-A3).
pub const SAVED_QUERIES: TableDefinition<&str, &str> = TableDefinition::new("saved-queries");
pub const SETTINGS: TableDefinition<&str, &str> = TableDefinition::new("settings");

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(value).map_err(|e| StoreError::Internal(format!("cannot encode: {e}")))
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    postcard::from_bytes(bytes)
        .map_err(|e| StoreError::Corrupt(format!("a {what} record does not decode: {e}")))
}

/// Reads a counter, 0 when never set.
pub fn meta_get(table: &impl ReadableTable<&'static str, u64>, name: &str) -> Result<u64> {
    Ok(table.get(name)?.map(|v| v.value()).unwrap_or(0))
}

/// The oldest and newest activity times, when there is any activity.
pub fn time_span(table: &impl ReadableTable<&'static str, u64>) -> Result<Option<(i64, i64)>> {
    if meta_get(table, META_ACTIVITIES)? == 0 {
        return Ok(None);
    }
    // Stored as the bits of an i64.
    let min = meta_get(table, META_MIN_TIME)? as i64;
    let max = meta_get(table, META_MAX_TIME)? as i64;
    Ok(Some((min, max)))
}

/// Returns the next id of a counter that starts at 1, and advances it.
pub fn next_id(table: &mut redb::Table<&'static str, u64>, name: &str) -> Result<u64> {
    let id = meta_get(table, name)?.max(1);
    table.insert(name, id + 1)?;
    Ok(id)
}

/// redb's errors: `Corrupted`, and a read past the end of a truncated file, say that the
/// file is damaged (see `StoreError::Corrupt`); the others are failures of their own.
macro_rules! internal_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> StoreError {
                let text = e.to_string();
                match redb::Error::from(e) {
                    redb::Error::Corrupted(_) => StoreError::Corrupt(text),
                    redb::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                        StoreError::Corrupt(text)
                    }
                    _ => StoreError::Internal(text),
                }
            }
        }
    )*};
}

internal_from!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::CursorError
);

/// A stable one-byte code for an app, used in keys.
pub fn app_code(app: crate::domain::AppKind) -> u8 {
    crate::domain::AppKind::ALL
        .iter()
        .position(|a| *a == app)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}
