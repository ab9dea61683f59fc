//! An activity's kind: the few fields that a filter by type, action, source, app, instance
//! or flag reads (`Query::decided_by_kind`). A log holds few kinds however long it grows,
//! so counting activities per hour and kind (`HOUR_COUNTS`, `HOUR_KIND`) lets the timeline
//! of such a filter test each kind once instead of each record (issue 13).

use std::hash::Hasher;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::Result;
use super::tables::{self, Fnv, KINDS};
use crate::domain::filter::Query;
use crate::domain::{Activity, AppKind, InstanceId, Micros, OfficeApp};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(super) struct Kind {
    app: AppKind,
    instance: InstanceId,
    office_app: Option<OfficeApp>,
    activity_type: String,
    action_type: String,
    source: String,
    admin: bool,
    impersonated: bool,
    succeeded: bool,
}

/// A kind borrowed from its record, to find a page's kinds without copying each record's.
pub(super) type KindKey<'a> = (
    AppKind,
    InstanceId,
    Option<OfficeApp>,
    &'a str,
    &'a str,
    &'a str,
    [bool; 3],
);

impl Kind {
    pub(super) fn key_of(a: &Activity) -> KindKey<'_> {
        (
            a.app,
            a.instance,
            a.office_app,
            &a.activity_type,
            &a.action_type,
            &a.source,
            [a.admin, a.impersonated, a.succeeded],
        )
    }

    pub(super) fn of(a: &Activity) -> Kind {
        Kind {
            app: a.app,
            instance: a.instance,
            office_app: a.office_app,
            activity_type: a.activity_type.clone(),
            action_type: a.action_type.clone(),
            source: a.source.clone(),
            admin: a.admin,
            impersonated: a.impersonated,
            succeeded: a.succeeded,
        }
    }

    /// A record of this kind at `time` with nothing else: what a filter decided by kind
    /// says of it, it says of every record of the kind at that time.
    fn example(&self, time: Micros) -> Activity {
        Activity {
            id: String::new(),
            app: self.app,
            instance: self.instance,
            time,
            actor: String::new(),
            actor_name: String::new(),
            activity_type: self.activity_type.clone(),
            action_type: self.action_type.clone(),
            objects: Vec::new(),
            admin: self.admin,
            impersonated: self.impersonated,
            succeeded: self.succeeded,
            ip: None,
            address_text: None,
            country: None,
            isp: None,
            device_type: None,
            user_agent: None,
            source: self.source.clone(),
            groups: Vec::new(),
            office_app: self.office_app,
        }
    }
}

/// The keys of `kinds` in `KINDS`, adding those not there yet. A key is the hash of the
/// kind's encoding, or, should another kind hold that already, the next free one: two
/// kinds never share counts.
pub(super) fn keys_in(txn: &WriteTransaction, kinds: &[Kind]) -> Result<Vec<u64>> {
    let mut table = txn.open_table(KINDS)?;
    let mut keys = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let encoded = tables::encode(kind)?;
        let mut hasher = Fnv::default();
        hasher.write(&encoded);
        let mut key = hasher.finish();
        loop {
            let same = table.get(key)?.map(|v| v.value() == encoded.as_slice());
            match same {
                Some(true) => break,
                None => {
                    table.insert(key, encoded.as_slice())?;
                    break;
                }
                Some(false) => key = key.wrapping_add(1),
            }
        }
        keys.push(key);
    }
    Ok(keys)
}

/// The keys, sorted, of the kinds whose records at `time` `query` (decided by kind) selects.
pub(super) fn matching(txn: &ReadTransaction, query: &Query, time: Micros) -> Result<Vec<u64>> {
    let mut keys = Vec::new();
    for row in txn.open_table(KINDS)?.iter()? {
        let (key, kind) = row?;
        let kind: Kind = tables::decode(kind.value(), "kind")?;
        if query.matches(&kind.example(time)) {
            keys.push(key.value());
        }
    }
    // The table's order is the keys'.
    Ok(keys)
}
