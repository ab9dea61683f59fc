//! Activities per hour for each instance, country, group, actor and kind (`HOUR_COUNTS`),
//! kept with the posting lists and records they count, in the page's transaction, so that
//! a timeline over weeks reads a few hundred small values instead of every posting list
//! or record of every hour (issue 13).
//!
//! Groups and actors are split in shards (`group_shard`, `actor_shard`, in
//! `SHARD_COUNTS`): a page's hour rewrites the shards it touches, adjacent in the table,
//! which costs about what one value would, and reading one group or person reads its
//! shard's small value of each hour.

use std::collections::{BTreeMap, HashMap};

use redb::{ReadableTable, WriteTransaction};

use super::kinds::{self, Kind};
use super::postings;
use super::records;
use super::tables::{
    self, ACTIVITIES, ACTOR_ENTRY, ACTOR_SHARD_BITS, BY_ACTOR, BY_COUNTRY, BY_GROUP, BY_INSTANCE,
    COUNT_COUNTRY, COUNT_INSTANCE, COUNTRY_ENTRY, GROUP_ENTRY, GROUP_SHARDS, HOUR_ACTOR,
    HOUR_COUNTS, HOUR_GROUP, HOUR_KIND, INSTANCE_ENTRY, SHARD_COUNTS,
};
use super::{Result, StoreError};

/// (what, hour) → key → count, gathered before they are written.
pub(super) type Tallies = BTreeMap<(u8, i64), BTreeMap<u64, u64>>;

const PAIR: usize = 16;

/// Adds `n` activities of `key` in `hour`.
pub(super) fn tally(tallies: &mut Tallies, what: u8, hour: i64, key: u64, n: u64) {
    if n > 0 {
        *tallies
            .entry((what, hour))
            .or_default()
            .entry(key)
            .or_default() += n;
    }
}

/// Adds the entries of one sorted chunk of a list keyed by value: one count per run of
/// equal leading u64s, under `what` of that value.
pub(super) fn tally_runs<const W: usize>(
    tallies: &mut Tallies,
    what: impl Fn(u64) -> u8,
    hour: i64,
    entries: &[[u8; W]],
) {
    let mut rest = entries;
    while let Some(first) = rest.first() {
        let run = postings::starting_with(rest, &first[..8]).len();
        let key = lead(first);
        tally(tallies, what(key), hour, key, run as u64);
        rest = &rest[run..];
    }
}

pub(super) fn country(_: u64) -> u8 {
    COUNT_COUNTRY
}

/// Where a group's counts are: 16 shards of about 30 groups when 500 are imported.
pub(super) fn group_shard(group: u64) -> u8 {
    HOUR_GROUP + (group % GROUP_SHARDS) as u8
}

/// Where an actor's counts are, by the hash of their key: 64 shards, so that a shard's
/// hour holds a few hundred people even when tens of thousands act in it.
pub(super) fn actor_shard(actor: u64) -> u8 {
    HOUR_ACTOR + (actor >> (64 - ACTOR_SHARD_BITS)) as u8
}

fn lead(entry: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    key.copy_from_slice(&entry[..8]);
    u64::from_be_bytes(key)
}

/// Whether `what`'s counts are in `SHARD_COUNTS` rather than `HOUR_COUNTS`.
pub(super) fn is_shard(what: u8) -> bool {
    what >= HOUR_GROUP
}

/// Adds `tallies` to the stored counts.
pub(super) fn write(txn: &WriteTransaction, tallies: Tallies) -> Result<()> {
    let mut table = txn.open_table(HOUR_COUNTS)?;
    let mut shards = txn.open_table(SHARD_COUNTS)?;
    for ((what, hour), counts) in tallies {
        if is_shard(what) {
            add(&mut shards, (hour, what), counts)?;
        } else {
            add(&mut table, (what, hour), counts)?;
        }
    }
    Ok(())
}

/// Adds `counts` to the pairs stored under `key`, merging the two sorted lists.
fn add<K: redb::Key + 'static>(
    table: &mut redb::Table<K, &'static [u8]>,
    key: K::SelfType<'_>,
    counts: BTreeMap<u64, u64>,
) -> Result<()>
where
    for<'a> K::SelfType<'a>: Copy,
{
    let value = match table.get(key)? {
        Some(old) => merged(stored(old.value())?, counts),
        None => merged(&[], counts),
    };
    table.insert(key, value.as_slice())?;
    Ok(())
}

fn merged(old: &[[u8; PAIR]], counts: BTreeMap<u64, u64>) -> Vec<u8> {
    let mut value = Vec::with_capacity((old.len() + counts.len()) * PAIR);
    let mut push = |k: u64, n: u64| {
        value.extend_from_slice(&k.to_be_bytes());
        value.extend_from_slice(&n.to_be_bytes());
    };
    let mut new = counts.into_iter().peekable();
    for pair in old {
        let (k, mut n) = (lead(pair), lead(&pair[8..]));
        while let Some((nk, nn)) = new.next_if(|(nk, _)| *nk <= k) {
            if nk == k {
                n += nn;
            } else {
                push(nk, nn);
            }
        }
        push(k, n);
    }
    for (k, n) in new {
        push(k, n);
    }
    value
}

/// Adds the kinds of rows given in time order, as (time, index into `keys`), by hour.
pub(super) fn tally_kinds(
    tallies: &mut Tallies,
    rows: impl Iterator<Item = (i64, u32)>,
    keys: &[u64],
) {
    let mut counts = vec![0u64; keys.len()];
    let mut flush = |hour: i64, counts: &mut [u64]| {
        for (key, n) in keys.iter().zip(counts.iter_mut()) {
            tally(tallies, HOUR_KIND, hour, *key, std::mem::take(n));
        }
    };
    let mut current = None;
    for (time, kind) in rows {
        let hour = tables::bucket(time);
        if let Some(h) = current.filter(|h| *h != hour) {
            flush(h, &mut counts);
        }
        current = Some(hour);
        counts[kind as usize] += 1;
    }
    if let Some(h) = current {
        flush(h, &mut counts);
    }
}

/// A stored value as its (key, count) pairs, in key order.
fn stored(value: &[u8]) -> Result<&[[u8; PAIR]]> {
    let (pairs, rest) = value.as_chunks::<PAIR>();
    if !rest.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "an hour's counts of {} bytes are not whole pairs",
            value.len()
        )));
    }
    Ok(pairs)
}

fn pairs(value: &[u8]) -> Result<impl Iterator<Item = (u64, u64)> + '_> {
    Ok(stored(value)?.iter().map(|p| (lead(p), lead(&p[8..]))))
}

/// The count of each of `keys` (sorted) in a stored value, summed; every key's when `None`.
pub(super) fn sum(value: &[u8], keys: Option<&[u64]>) -> Result<u64> {
    let Some(keys) = keys else {
        return Ok(pairs(value)?.map(|(_, n)| n).sum());
    };
    let stored = stored(value)?;
    Ok(keys
        .iter()
        .filter_map(|k| stored.binary_search_by_key(k, |p| lead(p)).ok())
        .map(|i| lead(&stored[i][8..]))
        .sum())
}

/// Counts every activity already stored, in the migration's transaction: a file of an
/// older schema gets its hours' counts afresh, from its posting lists and, for kinds, its
/// records.
pub(super) fn backfill(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(HOUR_COUNTS)?.retain(|_, _| false)?;
    txn.open_table(SHARD_COUNTS)?.retain(|_, _| false)?;
    let mut tallies = Tallies::new();
    for row in txn.open_table(BY_INSTANCE)?.iter()? {
        let (key, chunk) = row?;
        let (instance, hour, _) = key.value();
        let n = postings::as_entries::<INSTANCE_ENTRY>(chunk.value())?.len();
        tally(&mut tallies, COUNT_INSTANCE, hour, instance, n as u64);
    }
    runs::<COUNTRY_ENTRY>(txn, BY_COUNTRY, &mut tallies, country)?;
    runs::<GROUP_ENTRY>(txn, BY_GROUP, &mut tallies, group_shard)?;
    runs::<ACTOR_ENTRY>(txn, BY_ACTOR, &mut tallies, actor_shard)?;
    let mut kinds: HashMap<Kind, u64> = HashMap::new();
    let mut by_kind: BTreeMap<(i64, u64), u64> = BTreeMap::new();
    {
        let records = txn.open_table(ACTIVITIES)?;
        for row in records.iter()? {
            let (_, bytes) = row?;
            let a = records::decode(bytes.value())?;
            let kind = Kind::of(&a);
            let key = match kinds.get(&kind) {
                Some(key) => *key,
                None => {
                    let key = kinds::keys_in(txn, std::slice::from_ref(&kind))?[0];
                    kinds.insert(kind, key);
                    key
                }
            };
            *by_kind.entry((tables::bucket(a.time), key)).or_default() += 1;
        }
    }
    for ((hour, key), n) in by_kind {
        tally(&mut tallies, HOUR_KIND, hour, key, n);
    }
    write(txn, tallies)
}

/// Tallies the runs of every whole-hour chunk of a list keyed by value, writing them an
/// hour at a time: a person's counts of a large log would not fit in memory at once.
fn runs<const W: usize>(
    txn: &WriteTransaction,
    def: postings::ListTable,
    tallies: &mut Tallies,
    what: fn(u64) -> u8,
) -> Result<()> {
    let table = txn.open_table(def)?;
    let mut last = None;
    for row in table.iter()? {
        let (key, chunk) = row?;
        let hour = key.value().1;
        if last.is_some_and(|h| h != hour) {
            write(txn, std::mem::take(tallies))?;
        }
        last = Some(hour);
        tally_runs(
            tallies,
            what,
            hour,
            postings::as_entries::<W>(chunk.value())?,
        );
    }
    Ok(())
}
