//! Ingestion: one page of records, their indexes, dedupe entries and the cursor
//! in one transaction (DESIGN §3 Durability).

use std::collections::{BTreeSet, HashMap, HashSet};

use redb::{ReadableDatabase, ReadableMultimapTable, ReadableTable, WriteTransaction};

use super::groups::{self, MemberRow};
use super::tables::{
    self, ACTIVITIES, APP_INSTANCES, BY_ACTOR, BY_COUNTRY, BY_GROUP, BY_INSTANCE, CURSORS, DEDUPE,
    GROUPS, INSTANCES, META, META_ACTIVITIES, META_MAX_TIME, META_MIN_TIME, META_NEXT_SEQ,
    NO_COUNTRY, USER_GROUPS,
};
use super::{IngestContext, IngestReport, Result, Store, StoreError};
use crate::domain::{
    Activity, AutoGroup, Group, GroupId, GroupKind, GroupStatus, InstanceId, Micros,
};

/// The name the automatic External group gets when ingestion creates it (R-G1).
pub const EXTERNAL_GROUP_NAME: &str = "External";

/// R-G6: the groups an activity at `time` is tagged with, given its actor's groups.
/// Automatic groups always; imported ones once usable and only for activities
/// that happened after the import.
fn tags_for(time: Micros, groups: &[&Group]) -> Vec<GroupId> {
    let mut tags: Vec<GroupId> = groups
        .iter()
        .filter(|g| match g.kind {
            GroupKind::Automatic(_) => true,
            GroupKind::Imported { .. } => {
                matches!(
                    g.status,
                    GroupStatus::Ready | GroupStatus::SyncFailed { .. }
                ) && g.imported_at <= time
            }
        })
        .map(|g| g.id)
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// R-G1: an actor is external when the organisation's domains are known and
/// the actor's e-mail domain is not one of them.
fn is_external(actor: &str, ctx: &IngestContext) -> bool {
    if ctx.org_domains.is_empty() {
        return false;
    }
    match actor.rsplit_once('@') {
        Some((_, domain)) if !domain.is_empty() => {
            let domain = domain.to_lowercase();
            !ctx.org_domains.contains(&domain)
        }
        _ => false,
    }
}

impl Store {
    pub(super) fn ingest_impl(
        &self,
        instance: InstanceId,
        stream: &str,
        batch: Vec<Activity>,
        cursor: &str,
        ctx: &IngestContext,
    ) -> Result<IngestReport> {
        let txn = self.write()?;
        if txn.open_table(INSTANCES)?.get(instance.0)?.is_none() {
            return Err(StoreError::NotFound(format!("instance {}", instance.0)));
        }
        let total = batch.len();
        let mut fresh = new_records(&txn, batch)?;
        let report = IngestReport {
            inserted: fresh.len(),
            duplicates: total - fresh.len(),
        };
        join_external(&txn, &fresh, ctx)?;
        tag(&txn, &mut fresh)?;
        write_records(&txn, &fresh)?;
        txn.open_table(CURSORS)?
            .insert((instance.0, stream), cursor)?;
        txn.commit()?;
        Ok(report)
    }

    pub(super) fn activity_count_impl(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        tables::meta_get(&txn.open_table(META)?, META_ACTIVITIES)
    }
}

/// Keeps the records not stored yet, dropping repeats within the batch too.
fn new_records(txn: &WriteTransaction, batch: Vec<Activity>) -> Result<Vec<Activity>> {
    let dedupe = txn.open_table(DEDUPE)?;
    let mut seen = HashSet::new();
    let mut fresh = Vec::with_capacity(batch.len());
    for a in batch {
        if !seen.insert((a.instance, a.id.clone())) {
            continue;
        }
        if dedupe
            .get((tables::bucket(a.time), a.instance.0, a.id.as_str()))?
            .is_none()
        {
            fresh.push(a);
        }
    }
    Ok(fresh)
}

/// R-G1: external actors join the automatic External group, from their first activity.
fn join_external(txn: &WriteTransaction, fresh: &[Activity], ctx: &IngestContext) -> Result<()> {
    let mut first: HashMap<&str, &Activity> = HashMap::new();
    for a in fresh.iter().filter(|a| is_external(&a.actor, ctx)) {
        first
            .entry(a.actor.as_str())
            .and_modify(|f| {
                if a.time < f.time {
                    *f = a;
                }
            })
            .or_insert(a);
    }
    if first.is_empty() {
        return Ok(());
    }
    let external = groups::ensure_auto_in(
        txn,
        &AutoGroup::External,
        EXTERNAL_GROUP_NAME,
        first_time(&first),
    )?;
    let mut actors: Vec<(&str, &Activity)> = first.into_iter().collect();
    actors.sort_by_key(|(k, _)| *k);
    for (key, a) in actors {
        let row = MemberRow {
            name: a.actor_name.clone(),
            email: a.actor.clone(),
            instance: Some(a.instance),
            joined_at: a.time,
        };
        groups::add_member_in(txn, external.id, key, &row)?;
    }
    Ok(())
}

fn first_time(first: &HashMap<&str, &Activity>) -> Micros {
    first.values().map(|a| a.time).min().unwrap_or_default()
}

/// R-G6: tags each record with the groups its actor belongs to now.
fn tag(txn: &WriteTransaction, fresh: &mut [Activity]) -> Result<()> {
    let mut all: HashMap<u64, Group> = HashMap::new();
    for row in txn.open_table(GROUPS)?.iter()? {
        let (k, v) = row?;
        all.insert(k.value(), tables::decode(v.value(), "group")?);
    }
    let reverse = txn.open_multimap_table(USER_GROUPS)?;
    let mut of_actor: HashMap<String, Vec<u64>> = HashMap::new();
    for a in fresh.iter_mut() {
        if !of_actor.contains_key(&a.actor) {
            let mut ids = Vec::new();
            for id in reverse.get(a.actor.as_str())? {
                ids.push(id?.value());
            }
            of_actor.insert(a.actor.clone(), ids);
        }
        let ids = of_actor
            .get(&a.actor)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let member_of: Vec<&Group> = ids.iter().filter_map(|id| all.get(id)).collect();
        a.groups = tags_for(a.time, &member_of);
    }
    Ok(())
}

fn write_records(txn: &WriteTransaction, fresh: &[Activity]) -> Result<()> {
    if fresh.is_empty() {
        return Ok(());
    }
    let mut meta = txn.open_table(META)?;
    let first_seq = tables::meta_get(&meta, META_NEXT_SEQ)?.max(1);
    let mut records = txn.open_table(ACTIVITIES)?;
    let mut dedupe = txn.open_table(DEDUPE)?;
    let mut by_actor = txn.open_table(BY_ACTOR)?;
    let mut by_instance = txn.open_table(BY_INSTANCE)?;
    let mut by_country = txn.open_table(BY_COUNTRY)?;
    let mut by_group = txn.open_table(BY_GROUP)?;
    let mut pairs = BTreeSet::new();
    let mut buf = Vec::new();
    let (mut min, mut max) = tables::time_span(&meta)?.unwrap_or((i64::MAX, i64::MIN));
    for (seq, a) in (first_seq..).zip(fresh) {
        buf.clear();
        let bytes = postcard::to_extend(a, std::mem::take(&mut buf))
            .map_err(|e| StoreError::Internal(format!("cannot encode: {e}")))?;
        records.insert((a.time, seq), bytes.as_slice())?;
        buf = bytes;
        let (t, hour) = (a.time, tables::bucket(a.time));
        min = min.min(t);
        max = max.max(t);
        dedupe.insert((hour, a.instance.0, a.id.as_str()), seq)?;
        by_actor.insert((hour, tables::hash(&a.actor), t, seq), ())?;
        by_instance.insert((a.instance.0, t, seq), ())?;
        let country = a.country.as_deref().map(tables::hash);
        if let Some(c) = country {
            by_country.insert((c, t, seq), ())?;
        }
        for g in &a.groups {
            by_group.insert((hour, g.0, country.unwrap_or(NO_COUNTRY), t, seq), ())?;
        }
        pairs.insert((tables::app_code(a.app), a.instance.0));
    }
    let mut app_instances = txn.open_table(APP_INSTANCES)?;
    for pair in pairs {
        app_instances.insert(pair, ())?;
    }
    let count = tables::meta_get(&meta, META_ACTIVITIES)?;
    meta.insert(META_NEXT_SEQ, first_seq + fresh.len() as u64)?;
    meta.insert(META_ACTIVITIES, count + fresh.len() as u64)?;
    // i64 bits: meta holds u64.
    meta.insert(META_MIN_TIME, min as u64)?;
    meta.insert(META_MAX_TIME, max as u64)?;
    Ok(())
}
