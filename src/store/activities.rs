//! Committing a prepared page: the check against stored records, External, tags, the
//! records, their indexes and the cursor in one durable transaction (DESIGN §3
//! Durability). What needs no transaction was done by `prepare`.

use std::collections::BTreeMap;
use std::ops::{Bound, Range};

use redb::{ReadableTable, WriteTransaction};

use super::alerting::{self, AlertTally};
use super::groups;
use super::hour_counts::{self, Tallies};
use super::kinds;
use super::postings;
use super::prepare::{Lists, PreparedPage};
use super::records;
use super::tables::{
    self, ACTIVITIES, APP_INSTANCES, BY_ACTOR, BY_COUNTRY, BY_GROUP, BY_INSTANCE, COUNT_COUNTRY,
    COUNT_INSTANCE, COUNTS, CURSORS, GROUPS, INSTANCE_ENTRY, INSTANCES, META, META_ACTIVITIES,
    META_MAX_TIME, META_MIN_TIME, META_NEXT_SEQ, META_TAGS_VERSION, USER_GROUPS,
};
use super::tags;
use super::{IngestReport, Result, Store, StoreError};
use crate::domain::{AutoGroup, GroupId, now_micros};

impl Store {
    /// Commits `page`, leaving it to the caller to drop: that takes a while for a page of
    /// records, which the pipeline does while the next page commits.
    pub(super) fn commit_prepared_impl(&self, page: &mut PreparedPage) -> Result<IngestReport> {
        let txn = self.write()?;
        let mut cache_touched = false;
        let mut windows_touched = false;
        let result = (|| {
            if txn.open_table(INSTANCES)?.get(page.instance.0)?.is_none() {
                return Err(StoreError::NotFound(format!(
                    "instance {}",
                    page.instance.0
                )));
            }
            let stored = stored_repeats(&txn, page)?;
            let inserted = stored.iter().filter(|s| !**s).count();
            let mut report = IngestReport {
                inserted,
                duplicates: page.received - inserted,
                alerts: AlertTally::default(),
            };
            if inserted > 0 {
                let before = tables::meta_get(&txn.open_table(META)?, META_TAGS_VERSION)?;
                let mut version = before;
                // Members known at the page's version still are, if nothing changed since.
                let unchanged = before == page.tags.version;
                if let Some((external, joined)) = join_external(&txn, page, unchanged)? {
                    version = tags::advance_version(&txn)?;
                    cache_touched = true;
                    self.tag_cache()
                        .joined(before, version, external.0, &joined);
                }
                if version != page.tags.version {
                    // Groups or memberships changed since the page was prepared.
                    cache_touched = true;
                    let mut cache = self.tag_cache();
                    cache.at_version(version);
                    cache.fill(
                        &txn.open_table(GROUPS)?,
                        &txn.open_multimap_table(USER_GROUPS)?,
                        &page.actors,
                    )?;
                    page.tags = cache.tag(&page.rows, &page.actors)?;
                }
                let first_seq = write_records(&txn, page, &stored)?;
                if let Some(watching) = page.watching.clone() {
                    if let Some(set) = alerting::stale(page, &watching) {
                        page.matched = alerting::rematch(page, &set)?;
                    }
                    windows_touched = true;
                    report.alerts = alerting::evaluate(
                        &txn,
                        page,
                        (&stored, first_seq),
                        &mut self.windows(),
                        now_micros(),
                    )?;
                }
            }
            txn.open_table(CURSORS)?.insert(
                (page.instance.0, page.stream.as_str()),
                page.cursor.as_str(),
            )?;
            txn.commit()?;
            Ok(report)
        })();
        if result.is_err() && cache_touched {
            // It may hold memberships of the transaction that did not commit.
            *self.tag_cache() = Default::default();
        }
        if result.is_err() && windows_touched {
            // They may hold matches of the transaction that did not commit: count again.
            *self.windows() = Default::default();
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

/// R-G1: external actors join the automatic External group, from their first activity;
/// those known to be members already are skipped when `trust_known`. Returns the group
/// and who joined, when anyone did.
fn join_external<'p>(
    txn: &WriteTransaction,
    page: &'p PreparedPage,
    trust_known: bool,
) -> Result<Option<(GroupId, Vec<&'p str>)>> {
    let candidates: Vec<_> = page
        .joins
        .iter()
        .filter(|j| !(trust_known && j.known))
        .collect();
    let Some(first_time) = candidates.iter().map(|j| j.member.joined_at).min() else {
        return Ok(None);
    };
    let external = groups::ensure_auto_in(
        txn,
        &AutoGroup::External,
        &AutoGroup::External.name(),
        first_time,
    )?;
    let mut joined = Vec::new();
    for j in candidates {
        let key = page.actors[j.actor as usize].as_str();
        if groups::add_member_in(txn, external.id, key, &j.member)? {
            joined.push(key);
        }
    }
    Ok((!joined.is_empty()).then_some((external.id, joined)))
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

/// Appends the new rows' entries to their lists; `count` sees each (list, hour)'s.
fn add_to_lists<const W: usize>(
    txn: &WriteTransaction,
    def: postings::ListTable,
    lists: Lists<W>,
    first_seq: u64,
    stored: &[bool],
    mut count: impl FnMut(u64, i64, &[[u8; W]]),
) -> Result<()> {
    let mut table = txn.open_table(def)?;
    for ((list, hour), mut entries) in lists {
        rebase(&mut entries, first_seq, stored);
        if !entries.is_empty() {
            count(list, hour, &entries);
            postings::append(&mut table, list, hour, &entries)?;
        }
    }
    Ok(())
}

/// Writes the rows not stored yet: records with their tags, index entries, counters.
/// Returns the seq of the page's first row.
fn write_records(txn: &WriteTransaction, page: &mut PreparedPage, stored: &[bool]) -> Result<u64> {
    let mut meta = txn.open_table(META)?;
    let first_seq = tables::meta_get(&meta, META_NEXT_SEQ)?.max(1);
    // (key, where its encoding is in `encoded`), in key order.
    let mut records = Vec::with_capacity(page.rows.len());
    let mut encoded = Vec::with_capacity(page.heads.len() + page.tags.bytes.len());
    for &row in &page.by_key {
        let row = row as usize;
        if stored[row] {
            continue;
        }
        let r = &page.rows[row];
        let start = encoded.len();
        encoded.extend_from_slice(&page.heads[r.head.clone()]);
        encoded.extend_from_slice(&page.tags.bytes[page.tags.of_row[row].clone()]);
        records.push(((r.time, first_seq + row as u64), start..encoded.len()));
    }
    insert_records(txn, &records, &encoded)?;
    drop(encoded);
    let mut tallies = Tallies::new();
    add_to_lists(
        txn,
        BY_INSTANCE,
        std::mem::take(&mut page.by_instance),
        first_seq,
        stored,
        |list, hour, entries| {
            hour_counts::tally(
                &mut tallies,
                COUNT_INSTANCE,
                hour,
                list,
                entries.len() as u64,
            )
        },
    )?;
    add_to_lists(
        txn,
        BY_COUNTRY,
        std::mem::take(&mut page.by_country),
        first_seq,
        stored,
        |_, hour, entries| {
            hour_counts::tally_runs(&mut tallies, hour_counts::country, hour, entries)
        },
    )?;
    add_to_lists(
        txn,
        BY_ACTOR,
        std::mem::take(&mut page.by_actor),
        first_seq,
        stored,
        |_, hour, entries| {
            hour_counts::tally_runs(&mut tallies, hour_counts::actor_shard, hour, entries)
        },
    )?;
    let by_group = std::mem::take(&mut page.tags.by_group);
    add_to_lists(
        txn,
        BY_GROUP,
        by_group,
        first_seq,
        stored,
        // R-G6: the tags as of this commit, the ones the records carry.
        |_, hour, entries| {
            hour_counts::tally_runs(&mut tallies, hour_counts::group_shard, hour, entries)
        },
    )?;
    let kind_keys = kinds::keys_in(txn, &page.kinds)?;
    let new_rows = page.by_key.iter().map(|&row| row as usize);
    let new_rows = new_rows
        .filter(|&row| !stored[row])
        .map(|row| &page.rows[row]);
    hour_counts::tally_kinds(&mut tallies, new_rows.map(|r| (r.time, r.kind)), &kind_keys);
    hour_counts::write(txn, tallies)?;
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
    Ok(first_seq)
}
