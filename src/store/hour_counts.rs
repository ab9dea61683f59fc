//! Activities per hour for each instance, country and group (`HOUR_COUNTS`), kept with
//! the posting lists they count, so that a timeline over weeks reads a few hundred small
//! values instead of every posting list of every hour (issue 13).

use std::collections::BTreeMap;

use redb::{ReadableTable, WriteTransaction};

use super::postings;
use super::tables::{
    BY_COUNTRY, BY_GROUP, BY_INSTANCE, COUNT_COUNTRY, COUNT_GROUP, COUNT_INSTANCE, COUNTRY_ENTRY,
    GROUP_ENTRY, HOUR_COUNTS, INSTANCE_ENTRY,
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
/// equal leading u64s.
pub(super) fn tally_runs<const W: usize>(
    tallies: &mut Tallies,
    what: u8,
    hour: i64,
    entries: &[[u8; W]],
) {
    let mut rest = entries;
    while let Some(first) = rest.first() {
        let run = postings::starting_with(rest, &first[..8]).len();
        tally(tallies, what, hour, lead(first), run as u64);
        rest = &rest[run..];
    }
}

fn lead(entry: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    key.copy_from_slice(&entry[..8]);
    u64::from_be_bytes(key)
}

/// Adds `tallies` to the stored counts.
pub(super) fn write(txn: &WriteTransaction, tallies: Tallies) -> Result<()> {
    let mut table = txn.open_table(HOUR_COUNTS)?;
    for (key, mut counts) in tallies {
        if let Some(old) = table.get(key)? {
            for (k, n) in pairs(old.value())? {
                *counts.entry(k).or_default() += n;
            }
        }
        let mut value = Vec::with_capacity(counts.len() * PAIR);
        for (k, n) in counts {
            value.extend_from_slice(&k.to_be_bytes());
            value.extend_from_slice(&n.to_be_bytes());
        }
        table.insert(key, value.as_slice())?;
    }
    Ok(())
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

/// Counts every activity already indexed: a file of an older schema gets its hours'
/// counts from its posting lists, in the migration's transaction.
pub(super) fn backfill(txn: &WriteTransaction) -> Result<()> {
    let mut tallies = Tallies::new();
    for row in txn.open_table(BY_INSTANCE)?.iter()? {
        let (key, chunk) = row?;
        let (instance, hour, _) = key.value();
        let n = postings::as_entries::<INSTANCE_ENTRY>(chunk.value())?.len();
        tally(&mut tallies, COUNT_INSTANCE, hour, instance, n as u64);
    }
    for row in txn.open_table(BY_COUNTRY)?.iter()? {
        let (key, chunk) = row?;
        let entries = postings::as_entries::<COUNTRY_ENTRY>(chunk.value())?;
        tally_runs(&mut tallies, COUNT_COUNTRY, key.value().1, entries);
    }
    for row in txn.open_table(BY_GROUP)?.iter()? {
        let (key, chunk) = row?;
        let entries = postings::as_entries::<GROUP_ENTRY>(chunk.value())?;
        tally_runs(&mut tallies, COUNT_GROUP, key.value().1, entries);
    }
    write(txn, tallies)
}
