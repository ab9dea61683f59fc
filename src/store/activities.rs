//! Committing a prepared page: the check against stored records, External, tags, the
//! records, their indexes and the cursor in one durable transaction (DESIGN §3
//! Durability). What needs no transaction was done by `prepare`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;
use std::ops::{Bound, Range};

use redb::{ReadableDatabase, ReadableMultimapTable, ReadableTable, WriteTransaction};

use super::groups;
use super::postings::{self, WHOLE_HOUR};
use super::prepare::{Lists, PreparedPage};
use super::records;
use super::tables::{
    self, ACTIVITIES, APP_INSTANCES, BY_ACTOR, BY_COUNTRY, BY_GROUP, BY_INSTANCE, COUNT_COUNTRY,
    COUNT_INSTANCE, COUNTS, CURSORS, Fnv, GROUP_ENTRY, GROUPS, INSTANCE_ENTRY, INSTANCES, META,
    META_ACTIVITIES, META_MAX_TIME, META_MIN_TIME, META_NEXT_SEQ, NO_COUNTRY, USER_GROUPS,
};
use super::{IngestReport, Result, Store, StoreError};
use crate::domain::{AutoGroup, Group, GroupId, Micros, group};

/// What tagging reads, kept from one page to the next (R-G6). It is read and changed
/// only while a write transaction is held, and every write that changes groups or
/// memberships clears it before committing, so it never disagrees with the file.
#[derive(Debug, Default)]
pub(super) struct TagCache {
    groups: Option<HashMap<u64, Group>>,
    of_actor: HashMap<String, ActorTags, BuildHasherDefault<Fnv>>,
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

impl Store {
    pub(super) fn commit_prepared_impl(&self, mut page: PreparedPage) -> Result<IngestReport> {
        let txn = self.write()?;
        let mut cache = self.tag_cache();
        let result = (|| {
            if txn.open_table(INSTANCES)?.get(page.instance.0)?.is_none() {
                return Err(StoreError::NotFound(format!(
                    "instance {}",
                    page.instance.0
                )));
            }
            let stored = stored_repeats(&txn, &page)?;
            let inserted = stored.iter().filter(|s| !**s).count();
            let report = IngestReport {
                inserted,
                duplicates: page.received - inserted,
            };
            if inserted > 0 {
                join_external(&txn, &page, &mut cache)?;
                fill_tags(&txn, &page, &mut cache)?;
                write_records(&txn, &mut page, &stored, &cache)?;
            }
            txn.open_table(CURSORS)?.insert(
                (page.instance.0, page.stream.as_str()),
                page.cursor.as_str(),
            )?;
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

/// R-A1: which rows are stored already (same instance and id). A repeat has the time of
/// the original, so it is in the same (instance, hour) list; a hash hit is confirmed
/// against the stored record.
fn stored_repeats(txn: &WriteTransaction, page: &PreparedPage) -> Result<Vec<bool>> {
    let mut stored = vec![false; page.rows.len()];
    let index = txn.open_table(BY_INSTANCE)?;
    let records = txn.open_table(ACTIVITIES)?;
    for ((instance, hour), entries) in &page.by_instance {
        let chunks = postings::chunks(&index, *instance, *hour)?;
        if chunks.is_empty() {
            continue;
        }
        for e in entries {
            // Before the commit an entry's seq is its row.
            let row = postings::position(e, *hour).1 as usize;
            let new = &page.rows[row];
            'chunks: for chunk in &chunks {
                let olds = postings::as_entries::<INSTANCE_ENTRY>(chunk.value())?;
                for old in postings::starting_with(olds, &e[..8]) {
                    if let Some(v) = records.get(postings::position(old, *hour))? {
                        let old = records::decode(v.value())?;
                        if old.instance.0 == new.instance && old.id == new.id {
                            stored[row] = true;
                            break 'chunks;
                        }
                    }
                }
            }
        }
    }
    Ok(stored)
}

/// R-G1: external actors join the automatic External group, from their first activity.
fn join_external(txn: &WriteTransaction, page: &PreparedPage, cache: &mut TagCache) -> Result<()> {
    let Some(first_time) = page.joins.iter().map(|(_, m)| m.joined_at).min() else {
        return Ok(());
    };
    let external = groups::ensure_auto_in(
        txn,
        &AutoGroup::External,
        &AutoGroup::External.name(),
        first_time,
    )?;
    for (actor, member) in &page.joins {
        let key = page.actors[*actor as usize].as_str();
        // Known members need no lookup: the cache holds what the file says.
        if cache
            .of_actor
            .get(key)
            .is_some_and(|t| t.ids.contains(&external.id.0))
        {
            continue;
        }
        if groups::add_member_in(txn, external.id, key, member)? {
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

/// R-G6: makes sure the cache knows the groups of every actor of the page, as they are now.
fn fill_tags(txn: &WriteTransaction, page: &PreparedPage, cache: &mut TagCache) -> Result<()> {
    if cache.groups.is_none() {
        let mut all = HashMap::new();
        for row in txn.open_table(GROUPS)?.iter()? {
            let (k, v) = row?;
            all.insert(k.value(), tables::decode::<Group>(v.value(), "group")?);
        }
        cache.groups = Some(all);
    }
    if cache.of_actor.len() + page.actors.len() > MAX_CACHED_ACTORS {
        cache.of_actor.clear();
    }
    let TagCache { groups, of_actor } = cache;
    let groups = groups.get_or_insert_default();
    let reverse = txn.open_multimap_table(USER_GROUPS)?;
    for actor in &page.actors {
        if of_actor.contains_key(actor.as_str()) {
            continue;
        }
        let mut ids = Vec::new();
        for id in reverse.get(actor.as_str())? {
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
        of_actor.insert(actor.clone(), after_all_imports);
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

/// Turns the rows in `entries` into the records' seqs, dropping stored rows' entries.
fn rebase<const W: usize>(entries: &mut Vec<[u8; W]>, first_seq: u64, stored: &[bool]) {
    entries.retain_mut(|e| {
        let mut row = [0u8; 8];
        row.copy_from_slice(&e[W - 8..]);
        let row = u64::from_be_bytes(row);
        let keep = !stored.get(row as usize).copied().unwrap_or(true);
        e[W - 8..].copy_from_slice(&(first_seq + row).to_be_bytes());
        keep
    });
}

fn add_to_lists<const W: usize>(
    txn: &WriteTransaction,
    def: postings::ListTable,
    lists: Lists<W>,
    first_seq: u64,
    stored: &[bool],
) -> Result<()> {
    let mut table = txn.open_table(def)?;
    for ((list, hour), mut entries) in lists {
        rebase(&mut entries, first_seq, stored);
        if !entries.is_empty() {
            postings::append(&mut table, list, hour, &entries)?;
        }
    }
    Ok(())
}

/// Writes the rows not stored yet: records with their tags, index entries, counters.
fn write_records(
    txn: &WriteTransaction,
    page: &mut PreparedPage,
    stored: &[bool],
    cache: &TagCache,
) -> Result<()> {
    let groups = cache.groups.as_ref();
    let mut actors = Vec::with_capacity(page.actors.len());
    for key in &page.actors {
        let tags = cache
            .of_actor
            .get(key.as_str())
            .ok_or_else(|| StoreError::Internal(format!("the tags of {key} were not looked up")))?;
        actors.push(tags);
    }
    let mut meta = txn.open_table(META)?;
    let first_seq = tables::meta_get(&meta, META_NEXT_SEQ)?.max(1);
    // (key, where its encoding is in `encoded`), in key order.
    let mut records = Vec::with_capacity(page.rows.len());
    let mut encoded = Vec::with_capacity(page.heads.len() + page.rows.len() * 16);
    let mut by_group: BTreeMap<(u64, i64), Vec<[u8; GROUP_ENTRY]>> = BTreeMap::new();
    for &row in &page.by_key {
        let row = row as usize;
        if stored[row] {
            continue;
        }
        let r = &page.rows[row];
        let actor = actors[r.actor as usize];
        let tags: Cow<'_, [GroupId]> = if r.time >= actor.from {
            Cow::Borrowed(&actor.tags)
        } else {
            let member_of = actor.ids.iter().filter_map(|id| groups?.get(id));
            Cow::Owned(group::tags_for(r.time, member_of))
        };
        let seq = first_seq + row as u64;
        let start = encoded.len();
        encoded.extend_from_slice(&page.heads[r.head.clone()]);
        encoded = records::encode_tags(&tags, encoded)?;
        records.push(((r.time, seq), start..encoded.len()));
        if !tags.is_empty() {
            let hour = tables::bucket(r.time);
            let list = by_group.entry((WHOLE_HOUR, hour)).or_default();
            let c = r.country.unwrap_or(NO_COUNTRY);
            for g in tags.iter() {
                list.push(postings::entry(&[g.0, c], hour, r.time, seq));
            }
        }
    }
    insert_records(txn, &records, &encoded)?;
    drop(encoded);
    add_to_lists(
        txn,
        BY_INSTANCE,
        std::mem::take(&mut page.by_instance),
        first_seq,
        stored,
    )?;
    add_to_lists(
        txn,
        BY_COUNTRY,
        std::mem::take(&mut page.by_country),
        first_seq,
        stored,
    )?;
    add_to_lists(
        txn,
        BY_ACTOR,
        std::mem::take(&mut page.by_actor),
        first_seq,
        stored,
    )?;
    let mut table = txn.open_table(BY_GROUP)?;
    for ((list, hour), mut entries) in by_group {
        entries.sort_unstable();
        postings::append(&mut table, list, hour, &entries)?;
    }
    let mut counts: BTreeMap<(u8, u64), u64> = page.counts.iter().copied().collect();
    for (r, _) in page.rows.iter().zip(stored).filter(|(_, s)| **s) {
        let mut less = |key| {
            if let Some(n) = counts.get_mut(&key) {
                *n -= 1;
            }
        };
        less((COUNT_INSTANCE, r.instance));
        if let Some(c) = r.country {
            less((COUNT_COUNTRY, c));
        }
    }
    let mut table = txn.open_table(COUNTS)?;
    for (key, n) in counts.into_iter().filter(|(_, n)| *n > 0) {
        let old = table.get(key)?.map_or(0, |v| v.value());
        table.insert(key, old + n)?;
    }
    let mut app_instances = txn.open_table(APP_INSTANCES)?;
    for pair in &page.app_instances {
        app_instances.insert(pair, ())?;
    }
    if let Some((lo, hi)) = page.span {
        let (min, max) = tables::time_span(&meta)?.unwrap_or((i64::MAX, i64::MIN));
        // i64 bits: meta holds u64.
        meta.insert(META_MIN_TIME, min.min(lo) as u64)?;
        meta.insert(META_MAX_TIME, max.max(hi) as u64)?;
    }
    let count = tables::meta_get(&meta, META_ACTIVITIES)?;
    // Seqs of stored rows are skipped, not reused: seqs only need to grow.
    meta.insert(META_NEXT_SEQ, first_seq + page.rows.len() as u64)?;
    meta.insert(META_ACTIVITIES, count + records.len() as u64)?;
    Ok(())
}
