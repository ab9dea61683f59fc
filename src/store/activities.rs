//! Ingestion: one page of records, their indexes, dedupe entries and the cursor
//! in one transaction (DESIGN §3 Durability).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::{Bound, Range};

use redb::{ReadableDatabase, ReadableMultimapTable, ReadableTable, WriteTransaction};

use super::groups::{self, MemberRow};
use super::postings::{self, WHOLE_HOUR};
use super::tables::{
    self, ACTIVITIES, ACTOR_ENTRY, APP_INSTANCES, BY_ACTOR, BY_COUNTRY, BY_GROUP, BY_INSTANCE,
    COUNT_COUNTRY, COUNT_INSTANCE, COUNTRY_ENTRY, COUNTS, CURSORS, GROUP_ENTRY, GROUPS,
    INSTANCE_ENTRY, INSTANCES, META, META_ACTIVITIES, META_MAX_TIME, META_MIN_TIME, META_NEXT_SEQ,
    NO_COUNTRY, USER_GROUPS,
};
use super::{IngestContext, IngestReport, Result, Store, StoreError};
use crate::domain::{Activity, AutoGroup, Group, GroupId, InstanceId, Micros, group};

/// What tagging reads, kept from one page to the next (R-G6). It is read and changed
/// only while a write transaction is held, and every write that changes groups or
/// memberships clears it before committing, so it never disagrees with the file.
#[derive(Debug, Default)]
pub(super) struct TagCache {
    groups: Option<HashMap<u64, Group>>,
    of_actor: HashMap<String, ActorTags>,
}

/// One actor's groups, and the tags of any activity from `from` on: once every group
/// was imported, the time no longer changes the tags (R-G6).
#[derive(Debug)]
struct ActorTags {
    ids: Vec<u64>,
    from: Micros,
    tags: Vec<GroupId>,
}

/// Bounds the cache for organisations with very many actors.
const MAX_CACHED_ACTORS: usize = 200_000;

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
        let mut cache = self.tag_cache();
        let result = (|| {
            if txn.open_table(INSTANCES)?.get(instance.0)?.is_none() {
                return Err(StoreError::NotFound(format!("instance {}", instance.0)));
            }
            let total = batch.len();
            let mut fresh = new_records(&txn, batch)?;
            let report = IngestReport {
                inserted: fresh.len(),
                duplicates: total - fresh.len(),
            };
            self.places.lock().expect("places lock").locate(&mut fresh);
            join_external(&txn, &fresh, ctx, &mut cache)?;
            tag(&txn, &mut fresh, &mut cache)?;
            write_records(&txn, &fresh)?;
            txn.open_table(CURSORS)?
                .insert((instance.0, stream), cursor)?;
            txn.commit()?;
            Ok(report)
        })();
        if result.is_err() {
            // It may hold memberships of the transaction that did not commit.
            *cache = TagCache::default();
        }
        result
    }

    pub(super) fn activity_count_impl(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        tables::meta_get(&txn.open_table(META)?, META_ACTIVITIES)
    }
}

/// Keeps the records not stored yet, dropping repeats within the batch too (R-A1).
fn new_records(txn: &WriteTransaction, batch: Vec<Activity>) -> Result<Vec<Activity>> {
    let mut first = vec![false; batch.len()];
    {
        let mut seen = HashSet::with_capacity(batch.len());
        for (i, a) in batch.iter().enumerate() {
            first[i] = seen.insert((a.instance, a.id.as_str()));
        }
    }
    // A repeat has the time of the original, so it is in the same (instance, hour) list.
    let mut lists: HashMap<(u64, i64), Vec<usize>> = HashMap::new();
    for (i, a) in batch.iter().enumerate().filter(|(i, _)| first[*i]) {
        lists
            .entry((a.instance.0, tables::bucket(a.time)))
            .or_default()
            .push(i);
    }
    let index = txn.open_table(BY_INSTANCE)?;
    let records = txn.open_table(ACTIVITIES)?;
    let mut stored = vec![false; batch.len()];
    for ((instance, hour), members) in lists {
        let chunks = postings::chunks(&index, instance, hour)?;
        if chunks.is_empty() {
            continue;
        }
        for i in members {
            let a = &batch[i];
            let id = tables::hash(&a.id).to_be_bytes();
            'chunks: for chunk in &chunks {
                let entries = postings::as_entries::<INSTANCE_ENTRY>(chunk.value())?;
                for e in postings::starting_with(entries, &id) {
                    // Same hash: the stored record says whether it is the same event.
                    if let Some(v) = records.get(postings::position(e, hour))? {
                        let old: Activity = tables::decode(v.value(), "activity")?;
                        if old.instance == a.instance && old.id == a.id {
                            stored[i] = true;
                            break 'chunks;
                        }
                    }
                }
            }
        }
    }
    Ok(batch
        .into_iter()
        .enumerate()
        .filter(|(i, _)| first[*i] && !stored[*i])
        .map(|(_, a)| a)
        .collect())
}

/// R-A2: the country last seen with each IP address, learnt from records that
/// carry both (sign-ins) to place records that carry only the address (Office
/// 365 file activities), so that a country filter finds them too. Kept in
/// memory: a persisted table costs a random insert per address at ingestion,
/// and addresses recur soon enough to be learnt again after a restart.
#[derive(Debug, Default)]
pub(super) struct Places {
    countries: HashMap<String, String>,
}

/// Bounds the memory of `Places`; when full it starts over.
const MAX_PLACES: usize = 200_000;

impl Places {
    fn locate(&mut self, fresh: &mut [Activity]) {
        for a in fresh.iter() {
            if let (Some(ip), Some(country)) = (&a.ip, &a.country) {
                if self.countries.len() >= MAX_PLACES {
                    self.countries.clear();
                }
                if self.countries.get(ip) != Some(country) {
                    self.countries.insert(ip.clone(), country.clone());
                }
            }
        }
        for a in fresh.iter_mut().filter(|a| a.country.is_none()) {
            if let Some(ip) = &a.ip {
                a.country = self.countries.get(ip).cloned();
            }
        }
    }
}

/// R-G1: external actors join the automatic External group, from their first activity.
fn join_external(
    txn: &WriteTransaction,
    fresh: &[Activity],
    ctx: &IngestContext,
    cache: &mut TagCache,
) -> Result<()> {
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
        &AutoGroup::External.name(),
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
        if groups::add_member_in(txn, external.id, key, &row)? {
            cache.of_actor.remove(key);
        }
    }
    if cache
        .groups
        .as_ref()
        .is_some_and(|g| !g.contains_key(&external.id.0))
    {
        // Created by this page.
        cache.groups = None;
    }
    Ok(())
}

fn first_time(first: &HashMap<&str, &Activity>) -> Micros {
    first.values().map(|a| a.time).min().unwrap_or_default()
}

/// R-G6: tags each record with the groups its actor belongs to now.
fn tag(txn: &WriteTransaction, fresh: &mut [Activity], cache: &mut TagCache) -> Result<()> {
    if cache.groups.is_none() {
        let mut all = HashMap::new();
        for row in txn.open_table(GROUPS)?.iter()? {
            let (k, v) = row?;
            all.insert(k.value(), tables::decode::<Group>(v.value(), "group")?);
        }
        cache.groups = Some(all);
    }
    if cache.of_actor.len() > MAX_CACHED_ACTORS {
        cache.of_actor.clear();
    }
    let TagCache { groups, of_actor } = cache;
    let groups = groups.get_or_insert_default();
    let reverse = txn.open_multimap_table(USER_GROUPS)?;
    for a in fresh.iter_mut() {
        if !of_actor.contains_key(&a.actor) {
            let mut ids = Vec::new();
            for id in reverse.get(a.actor.as_str())? {
                ids.push(id?.value());
            }
            let member_of = || ids.iter().filter_map(|id| groups.get(id));
            let after_all_imports = ActorTags {
                from: member_of()
                    .map(|g| g.imported_at)
                    .max()
                    .unwrap_or(Micros::MIN),
                tags: group::tags_for(Micros::MAX, member_of()),
                ids,
            };
            of_actor.insert(a.actor.clone(), after_all_imports);
        }
        let Some(actor) = of_actor.get(&a.actor) else {
            continue;
        };
        a.groups = if a.time >= actor.from {
            actor.tags.clone()
        } else {
            group::tags_for(a.time, actor.ids.iter().filter_map(|id| groups.get(id)))
        };
    }
    Ok(())
}

/// Inserts new records, sorted by key, through a cursor: one seek per run of keys with no
/// stored key between them. Ingestion mostly appends after every stored record, so a page
/// is usually one run, which redb packs into leaves at once.
fn insert_records(
    txn: &WriteTransaction,
    records: &[((i64, u64), Range<usize>)],
    encoded: &[u8],
) -> Result<()> {
    let mut table = txn.open_table(ACTIVITIES)?;
    let mut rest = records;
    while let Some(((first, bytes), _)) = rest.split_first() {
        let mut cursor = table.lower_bound_mut(Bound::Included(*first))?;
        let next = cursor.peek_next()?.map(|(k, _)| k.value());
        let run = next.map_or(rest.len(), |n| rest.partition_point(|(k, _)| *k < n));
        if run == 0 {
            // The key is stored already; seqs are never reused, so only a damaged
            // counter leads here: replace, as an insert would.
            cursor.close()?;
            table.insert(first, &encoded[bytes.clone()])?;
            rest = &rest[1..];
            continue;
        }
        for (key, bytes) in &rest[..run] {
            cursor.insert_before(key, &encoded[bytes.clone()])?;
        }
        cursor.close()?;
        rest = &rest[run..];
    }
    Ok(())
}

/// One index's new entries, by (list, hour).
type Additions<const W: usize> = BTreeMap<(u64, i64), Vec<[u8; W]>>;

fn add_to_lists<const W: usize>(
    txn: &WriteTransaction,
    def: postings::ListTable,
    additions: Additions<W>,
) -> Result<()> {
    let mut table = txn.open_table(def)?;
    for ((list, hour), mut entries) in additions {
        entries.sort_unstable();
        postings::append(&mut table, list, hour, &entries)?;
    }
    Ok(())
}

fn write_records(txn: &WriteTransaction, fresh: &[Activity]) -> Result<()> {
    if fresh.is_empty() {
        return Ok(());
    }
    let mut meta = txn.open_table(META)?;
    let first_seq = tables::meta_get(&meta, META_NEXT_SEQ)?.max(1);
    let mut pairs = BTreeSet::new();
    let (mut min, mut max) = tables::time_span(&meta)?.unwrap_or((i64::MAX, i64::MIN));
    // (key, where its encoding is in `encoded`).
    let mut records = Vec::with_capacity(fresh.len());
    let mut encoded = Vec::with_capacity(fresh.len() * 256);
    let mut by_instance: Additions<INSTANCE_ENTRY> = BTreeMap::new();
    let mut by_country: Additions<COUNTRY_ENTRY> = BTreeMap::new();
    let mut by_actor: Additions<ACTOR_ENTRY> = BTreeMap::new();
    let mut by_group: Additions<GROUP_ENTRY> = BTreeMap::new();
    let mut counts: HashMap<(u8, u64), u64> = HashMap::new();
    for (seq, a) in (first_seq..).zip(fresh) {
        let start = encoded.len();
        encoded = tables::encode_into(a, encoded)?;
        let (t, hour) = (a.time, tables::bucket(a.time));
        min = min.min(t);
        max = max.max(t);
        records.push(((t, seq), start..encoded.len()));
        let instance = a.instance.0;
        by_instance
            .entry((instance, hour))
            .or_default()
            .push(postings::entry(&[tables::hash(&a.id)], hour, t, seq));
        by_actor
            .entry((WHOLE_HOUR, hour))
            .or_default()
            .push(postings::entry(&[tables::hash(&a.actor)], hour, t, seq));
        *counts.entry((COUNT_INSTANCE, instance)).or_default() += 1;
        let country = a.country.as_deref().map(tables::hash);
        if let Some(c) = country {
            by_country
                .entry((WHOLE_HOUR, hour))
                .or_default()
                .push(postings::entry(&[c], hour, t, seq));
            *counts.entry((COUNT_COUNTRY, c)).or_default() += 1;
        }
        if !a.groups.is_empty() {
            let list = by_group.entry((WHOLE_HOUR, hour)).or_default();
            for g in &a.groups {
                let c = country.unwrap_or(NO_COUNTRY);
                list.push(postings::entry(&[g.0, c], hour, t, seq));
            }
        }
        pairs.insert((tables::app_code(a.app), instance));
    }
    records.sort_unstable_by_key(|r| r.0);
    insert_records(txn, &records, &encoded)?;
    add_to_lists(txn, BY_INSTANCE, by_instance)?;
    add_to_lists(txn, BY_COUNTRY, by_country)?;
    add_to_lists(txn, BY_ACTOR, by_actor)?;
    add_to_lists(txn, BY_GROUP, by_group)?;
    let mut table = txn.open_table(COUNTS)?;
    for (key, n) in counts {
        let old = table.get(key)?.map_or(0, |v| v.value());
        table.insert(key, old + n)?;
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
